//! Five-number summaries for box plots and a base64 encoder for inlining
//! PNGs in the HTML report.
use crate::{Error, Result};
use serde::Serialize;

/// min / Q1 / median / Q3 / max, quartiles interpolated linearly between
/// order statistics (numpy's default `percentile` method).
#[derive(Serialize, Clone, Copy, Debug, PartialEq)]
pub struct BoxStats {
    pub min: f64,
    pub q1: f64,
    pub median: f64,
    pub q3: f64,
    pub max: f64,
}

impl BoxStats {
    pub fn of(v: &[f32]) -> Result<BoxStats> {
        if v.is_empty() {
            return Err(Error::arg("box plot", "no samples"));
        }
        if v.iter().any(|x| !x.is_finite()) {
            return Err(Error::NonFinite { what: "activation sample".into() });
        }
        let mut s: Vec<f64> = v.iter().map(|&x| x as f64).collect();
        s.sort_by(f64::total_cmp);
        Ok(BoxStats { min: s[0], q1: quantile(&s, 0.25), median: quantile(&s, 0.5), q3: quantile(&s, 0.75), max: s[s.len() - 1] })
    }
}

/// `q`-quantile of sorted samples: position q·(n−1), linear between neighbours.
fn quantile(sorted: &[f64], q: f64) -> f64 {
    let pos = q * (sorted.len() - 1) as f64;
    let (i, f) = (pos.floor() as usize, pos - pos.floor());
    match sorted.get(i + 1) {
        Some(&next) => sorted[i] + f * (next - sorted[i]),
        None => sorted[i],
    }
}

const B64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// Standard base64 (RFC 4648, with `=` padding).
pub fn base64(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [chunk[0], *chunk.get(1).unwrap_or(&0), *chunk.get(2).unwrap_or(&0)];
        let n = (b[0] as u32) << 16 | (b[1] as u32) << 8 | b[2] as u32;
        for k in 0..4 {
            if k <= chunk.len() {
                out.push(B64[(n >> (18 - 6 * k) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_rfc4648_vectors() {
        // RFC 4648 §10 test vectors
        for (i, o) in
            [("", ""), ("f", "Zg=="), ("fo", "Zm8="), ("foo", "Zm9v"), ("foob", "Zm9vYg=="), ("fooba", "Zm9vYmE="), ("foobar", "Zm9vYmFy")]
        {
            assert_eq!(base64(i.as_bytes()), o);
        }
        assert_eq!(base64(&[0xff, 0xfe, 0x00]), "//4A");
    }

    #[test]
    fn box_stats_hand_computed() {
        // numpy.percentile([1,2,3,4,5], [25,50,75]) = 2, 3, 4
        let b = BoxStats::of(&[5.0, 1.0, 4.0, 2.0, 3.0]).unwrap();
        assert_eq!(b, BoxStats { min: 1.0, q1: 2.0, median: 3.0, q3: 4.0, max: 5.0 });
        // numpy.percentile([0,10,20,30], [25,50,75]) = 7.5, 15, 22.5
        let b = BoxStats::of(&[30.0, 0.0, 20.0, 10.0]).unwrap();
        assert_eq!((b.q1, b.median, b.q3), (7.5, 15.0, 22.5));
        assert_eq!(BoxStats::of(&[2.5]).unwrap().q3, 2.5);
        assert!(BoxStats::of(&[]).is_err());
        assert!(BoxStats::of(&[1.0, f32::NAN]).is_err());
    }
}
