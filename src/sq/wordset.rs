//! Word sets: the building blocks of the universal set. Each word contributes
//! one of a few powers of two (or nothing); the DFSQ value is the sum of one
//! choice per word. The paper averages four words (÷4); the hardware folds
//! that ÷4 into every word, so each choice is just a shift amount.
use crate::{Error, Result};
use serde::{Deserialize, Serialize};

/// Largest shift any word may use: keeps every value a multiple of 2^-24 so
/// exact integers fit comfortably in i64 products.
pub const MAX_SHIFT: u32 = 24;
pub const MAX_WORDS: usize = 8;
pub const MAX_CHOICES: usize = 16;

/// One word: its choices, each `Some(shift)` (value 2^-shift) or `None` (off).
/// The choice index is the selector the SQ code stores.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Word {
    pub choices: Vec<Option<u32>>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WordSets {
    pub words: Vec<Word>,
}

impl Default for WordSets {
    /// The DFSQ code's four word sets: word i ∈ {1, 2^-i, 2^-(i+4), 0} / 4,
    /// i.e. shifts {2, i+2, i+6, off}; selector 0,1,2 = those shifts, 3 = off.
    fn default() -> Self {
        WordSets::dfsq(4).expect("the default preset is valid")
    }
}

impl WordSets {
    /// The paper's ablation family: `n` word sets of four elements
    /// {1, 2^-i, 2^-(i+4), 0}, averaged. The average must stay a shift, so
    /// the divisor is 2^⌈log2 n⌉ (equal to n for n = 2 and 4, the settings a
    /// shift-add datapath can build; for n = 3, 5 the set is the paper's
    /// scaled by n / 2^⌈log2 n⌉, documented in hw/SPEC.md).
    pub fn dfsq(n: usize) -> Result<Self> {
        if !(1..=MAX_WORDS).contains(&n) {
            return Err(Error::arg("word sets", format!("count {n} not in 1..={MAX_WORDS}")));
        }
        let fold = usize::BITS - (n - 1).leading_zeros(); // ⌈log2 n⌉
        let words = (1..=n as u32)
            .map(|i| Word {
                choices: vec![Some(fold), Some(i + fold), Some(i + 4 + fold), None],
            })
            .collect();
        let ws = WordSets { words };
        ws.validate()?;
        Ok(ws)
    }

    /// The uniform grid on the DFSQ datapath (`dfsq-uniform`): `bits − 1`
    /// binary words, word j ∈ {2^-j, off}, so U is exactly the sign-magnitude
    /// grid k/2^(bits−1), |k| ≤ 2^(bits−1) − 1 (2^bits − 1 levels, 0 included)
    /// and the PE's shift-add is a (bits − 1)-row array multiplier.
    pub fn binary(bits: u32) -> Result<Self> {
        if !(2..=MAX_WORDS as u32 + 1).contains(&bits) {
            return Err(Error::arg("uniform grid bits", format!("{bits} not in 2..={}", MAX_WORDS + 1)));
        }
        let words = (1..bits).map(|j| Word { choices: vec![Some(j), None] }).collect();
        let ws = WordSets { words };
        ws.validate()?;
        Ok(ws)
    }

    /// Named presets: `dfsq` (default, 4 word sets) and `ws2`..`ws5`.
    pub fn preset(name: &str) -> Result<Self> {
        match name.to_ascii_lowercase().as_str() {
            "dfsq" | "default" | "ws4" => WordSets::dfsq(4),
            "ws2" => WordSets::dfsq(2),
            "ws3" => WordSets::dfsq(3),
            "ws5" => WordSets::dfsq(5),
            _ => Err(Error::Unknown {
                kind: "word-set preset".into(),
                name: name.into(),
                known: "dfsq, ws2, ws3, ws4, ws5".into(),
            }),
        }
    }

    /// Parses `"2,3,7,off; 2,4,8,off"`: words separated by `;`, choices by `,`,
    /// each a shift amount or `off`.
    pub fn parse(spec: &str) -> Result<Self> {
        let mut words = Vec::new();
        for (wi, w) in spec.split(';').enumerate() {
            let mut choices = Vec::new();
            for c in w.split(',') {
                let c = c.trim();
                if c.eq_ignore_ascii_case("off") {
                    choices.push(None);
                } else {
                    let s: u32 = c.parse().map_err(|_| {
                        Error::arg("word sets", format!("word {wi}: `{c}` is neither a shift amount nor `off`"))
                    })?;
                    choices.push(Some(s));
                }
            }
            words.push(Word { choices });
        }
        let ws = WordSets { words };
        ws.validate()?;
        Ok(ws)
    }

    pub fn validate(&self) -> Result<()> {
        if self.words.is_empty() || self.words.len() > MAX_WORDS {
            return Err(Error::arg("word sets", format!("{} words, need 1..={MAX_WORDS}", self.words.len())));
        }
        for (i, w) in self.words.iter().enumerate() {
            if w.choices.is_empty() || w.choices.len() > MAX_CHOICES {
                return Err(Error::arg(
                    "word sets",
                    format!("word {i} has {} choices, need 1..={MAX_CHOICES}", w.choices.len()),
                ));
            }
            for (j, c) in w.choices.iter().enumerate() {
                if w.choices[..j].contains(c) {
                    return Err(Error::arg("word sets", format!("word {i} lists {c:?} twice")));
                }
                if let Some(s) = c {
                    if *s > MAX_SHIFT {
                        return Err(Error::arg("word sets", format!("word {i}: shift {s} > {MAX_SHIFT}")));
                    }
                }
            }
        }
        Ok(())
    }

    /// Bits of one selector field (all words use the widest word's width so
    /// the code layout is uniform).
    pub fn sel_bits(&self) -> u32 {
        let n = self.words.iter().map(|w| w.choices.len()).max().unwrap_or(1);
        (usize::BITS - (n - 1).leading_zeros()).max(1)
    }

    /// Fractional bits at which every value is an exact integer.
    pub fn exact_frac_bits(&self) -> u32 {
        self.words.iter().flat_map(|w| w.choices.iter().flatten()).copied().max().unwrap_or(0)
    }

    /// Total code width: sign + one selector per word.
    pub fn code_bits(&self) -> u32 {
        1 + self.sel_bits() * self.words.len() as u32
    }
}
