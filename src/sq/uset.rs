//! The universal set U: every value the word sets can sum to, with its
//! canonical SQ code.
use super::code::SqCode;
use super::wordset::{WordSets, MAX_WORDS};
use crate::{Error, Result};
use std::collections::BTreeMap;

#[derive(Clone, Debug)]
pub struct UniversalSet {
    pub words: WordSets,
    /// Exact fractional bits F: every value is `ints[i] / 2^F`.
    pub frac_bits: u32,
    /// Sorted ascending, distinct.
    ints: Vec<i64>,
    codes: Vec<SqCode>,
}

impl Default for UniversalSet {
    fn default() -> Self {
        UniversalSet::new(WordSets::default()).expect("default word sets are valid")
    }
}

impl UniversalSet {
    /// Enumerates every selector combination. Canonical code of a value:
    /// fewest active words (fewest adder inputs toggling), then the
    /// lexicographically smallest selector tuple; zero and positives carry
    /// sign 0, negatives mirror their positive's selectors with sign 1.
    pub fn new(words: WordSets) -> Result<Self> {
        words.validate()?;
        let n = words.words.len();
        let mut best: BTreeMap<i64, (usize, SqCode)> = BTreeMap::new();
        let mut sel = [0u8; MAX_WORDS];
        loop {
            let code = SqCode { sign: false, sel };
            let d = code.decode(&words)?;
            let key = (code.active_words(&words), code);
            best.entry(d.int_value)
                .and_modify(|e| {
                    if key < *e {
                        *e = key
                    }
                })
                .or_insert(key);
            // odometer over selectors, last word fastest
            let mut i = n;
            loop {
                if i == 0 {
                    return Self::finish(words, best);
                }
                i -= 1;
                sel[i] += 1;
                if (sel[i] as usize) < words.words[i].choices.len() {
                    break;
                }
                sel[i] = 0;
            }
        }
    }

    fn finish(words: WordSets, best: BTreeMap<i64, (usize, SqCode)>) -> Result<Self> {
        let frac_bits = words.exact_frac_bits();
        let mut pairs: Vec<(i64, SqCode)> = Vec::new();
        for (&v, &(_, c)) in &best {
            pairs.push((v, c));
            if v != 0 {
                pairs.push((-v, SqCode { sign: true, ..c }));
            }
        }
        pairs.sort_by_key(|p| p.0);
        let (ints, codes) = pairs.into_iter().unzip();
        Ok(UniversalSet { words, frac_bits, ints, codes })
    }

    pub fn len(&self) -> usize {
        self.ints.len()
    }
    pub fn is_empty(&self) -> bool {
        self.ints.is_empty()
    }
    pub fn ints(&self) -> &[i64] {
        &self.ints
    }
    pub fn codes(&self) -> &[SqCode] {
        &self.codes
    }
    pub fn value(&self, i: usize) -> f64 {
        self.ints[i] as f64 / (1u64 << self.frac_bits) as f64
    }
    pub fn values(&self) -> Vec<f64> {
        (0..self.len()).map(|i| self.value(i)).collect()
    }
    pub fn non_negative_count(&self) -> usize {
        self.ints.iter().filter(|&&v| v >= 0).count()
    }
    /// Index of an exact value, if it is in U.
    pub fn index_of_int(&self, v: i64) -> Option<usize> {
        self.ints.binary_search(&v).ok()
    }
    /// Canonical code of an exact value.
    pub fn encode_int(&self, v: i64) -> Result<SqCode> {
        self.index_of_int(v).map(|i| self.codes[i]).ok_or_else(|| {
            Error::arg("SQ value", format!("{v}/2^{} is not in the universal set", self.frac_bits))
        })
    }
    /// Index of the nearest value (ties go to the lower value).
    pub fn nearest(&self, x: f64) -> usize {
        let scaled = x * (1u64 << self.frac_bits) as f64;
        let hi = self.ints.partition_point(|&v| (v as f64) < scaled);
        if hi == 0 {
            return 0;
        }
        if hi == self.ints.len() {
            return hi - 1;
        }
        let (a, b) = (self.ints[hi - 1] as f64, self.ints[hi] as f64);
        if scaled - a <= b - scaled {
            hi - 1
        } else {
            hi
        }
    }
}
