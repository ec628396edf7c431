//! The SQ code: sign + one selector per word. Default layout (9 bits):
//! `[8] sign | [7:6] sel1 | [5:4] sel2 | [3:2] sel3 | [1:0] sel4`.
//! Code streams are packed MSB-first with `bitvec`, as a hardware buffer
//! would hold them back to back.
use super::wordset::{WordSets, MAX_WORDS};
use crate::{Error, Result};
use bitvec::prelude::*;

/// A code split into fields. `sel[i]` indexes `words[i].choices`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SqCode {
    pub sign: bool,
    pub sel: [u8; MAX_WORDS],
}

/// A decoded code: the shift each word applies (None = off) and the exact
/// integer value at the word sets' exact fractional bits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Decoded {
    pub negative: bool,
    pub shifts: [Option<u32>; MAX_WORDS],
    pub n_words: usize,
    /// value · 2^exact_frac_bits, signed; zero for "negative zero".
    pub int_value: i64,
}

impl SqCode {
    /// Packs the fields into the raw code word.
    pub fn to_raw(&self, ws: &WordSets) -> u32 {
        let sb = ws.sel_bits();
        let mut raw = self.sign as u32;
        for i in 0..ws.words.len() {
            raw = (raw << sb) | self.sel[i] as u32;
        }
        raw
    }

    pub fn from_raw(raw: u32, ws: &WordSets) -> Result<SqCode> {
        let bits = ws.code_bits();
        if bits < 32 && raw >> bits != 0 {
            return Err(Error::arg("SQ code", format!("0x{raw:x} wider than {bits} bits")));
        }
        let sb = ws.sel_bits();
        let n = ws.words.len();
        let mut sel = [0u8; MAX_WORDS];
        for i in 0..n {
            let shift = sb * (n - 1 - i) as u32;
            sel[i] = ((raw >> shift) & ((1 << sb) - 1)) as u8;
        }
        Ok(SqCode { sign: (raw >> (sb * n as u32)) & 1 == 1, sel })
    }

    /// Decodes to shift amounts; a selector beyond a word's choices is an error.
    pub fn decode(&self, ws: &WordSets) -> Result<Decoded> {
        let f = ws.exact_frac_bits();
        let mut shifts = [None; MAX_WORDS];
        let mut mag: i64 = 0;
        for (i, w) in ws.words.iter().enumerate() {
            let c = w.choices.get(self.sel[i] as usize).ok_or_else(|| {
                Error::arg("SQ code", format!("selector {} of word {} has no choice", self.sel[i], i + 1))
            })?;
            shifts[i] = *c;
            if let Some(s) = c {
                mag += 1i64 << (f - s);
            }
        }
        Ok(Decoded {
            negative: self.sign,
            shifts,
            n_words: ws.words.len(),
            int_value: if self.sign { -mag } else { mag },
        })
    }

    /// Number of words that contribute (adder inputs that toggle).
    pub fn active_words(&self, ws: &WordSets) -> usize {
        (0..ws.words.len())
            .filter(|&i| matches!(ws.words[i].choices.get(self.sel[i] as usize), Some(Some(_))))
            .count()
    }
}

/// Packs raw codes of `bits` width MSB-first into bytes (last byte zero-padded).
pub fn pack_codes(codes: &[u32], bits: u32) -> Vec<u8> {
    let mut bv: BitVec<u8, Msb0> = BitVec::with_capacity(codes.len() * bits as usize);
    for &c in codes {
        for b in (0..bits).rev() {
            bv.push((c >> b) & 1 == 1);
        }
    }
    bv.into_vec()
}

/// Inverse of [`pack_codes`]; errors when `bytes` holds fewer than `count` codes.
pub fn unpack_codes(bytes: &[u8], bits: u32, count: usize) -> Result<Vec<u32>> {
    let bv = bytes.view_bits::<Msb0>();
    let need = count * bits as usize;
    if bv.len() < need {
        return Err(Error::shape("packed code stream (bits)", need, bv.len()));
    }
    Ok(bv[..need]
        .chunks(bits as usize)
        .map(|ch| ch.iter().fold(0u32, |acc, b| (acc << 1) | *b as u32))
        .collect())
}
