//! Vector generator for the activation line buffer and window generator
//! (`sq_linebuf`): one channel's SQ codes stream in raster order, one per
//! step; after each step the outputs hold the K×K window of the pixel
//! `latency` steps back, zero outside the image (`hw::border::inside`, the
//! rule every kernel uses). Expected windows are read from the streamed
//! plane itself, not from a model of the line memories.
use super::pack::{Field, Kind, Row, VectorSet};
use super::source::LayerData;
use super::units::{finish, Window};
use crate::hw::border::inside;
use crate::rng::SplitMix64;
use crate::Result;
use std::collections::BTreeMap;

/// Steps between a pixel's arrival and its window: K/2 rows and K/2 pixels.
pub fn latency(k: usize, w: usize) -> usize {
    k / 2 * (w + 1)
}

/// The line buffer's contract, stepped: the plane streamed so far and the
/// outputs after the last step (`valid, pix, op, code(K²−1) … code0`).
struct Contract {
    k: usize,
    h: usize,
    w: usize,
    plane: Vec<u32>,
    n: usize,
    out: Vec<i128>,
}

impl Contract {
    fn new(k: usize, h: usize, w: usize) -> Self {
        Contract { k, h, w, plane: Vec::new(), n: 0, out: vec![0; 3 + k * k] }
    }
    fn steps_per_plane(&self) -> usize {
        self.h * self.w + latency(self.k, self.w)
    }
    /// One cycle; `code` is ignored when `step` is low and on flush steps.
    fn cycle(&mut self, kind: Kind, src: String, start: bool, step: bool, code: u32) -> Row {
        if step {
            if start {
                self.n = 0;
                self.plane.clear();
            }
            let (hw, lat) = (self.h * self.w, latency(self.k, self.w));
            if self.n < hw {
                self.plane.push(code);
            }
            self.out = if self.n >= lat && self.n < hw + lat { self.window(self.n - lat) } else { vec![0; 3 + self.k * self.k] };
            self.n += 1;
        }
        Row { kind, src, inputs: vec![start as i128, step as i128, code as i128], outputs: self.out.clone() }
    }
    fn window(&self, p: usize) -> Vec<i128> {
        let (k, y, x) = (self.k, p / self.w, p % self.w);
        let mut op = 0i128;
        let mut codes = vec![0i128; k * k];
        for ky in 0..k {
            for kx in 0..k {
                if inside(y, ky, self.h, k) && inside(x, kx, self.w, k) {
                    op |= 1 << (ky * k + kx);
                    codes[ky * k + kx] = self.plane[(y + ky - k / 2) * self.w + x + kx - k / 2] as i128;
                }
            }
        }
        let mut out = vec![1, p as i128, op];
        out.extend(codes.into_iter().rev());
        out
    }
}

/// Line-buffer vectors: `count` cycles streaming the window's code planes of
/// random input channels (with idle cycles, random codes on flush steps),
/// then a plane of distinct codes (a tap read from the wrong line or column
/// cannot match), a plane restarted half-way, and steps past a plane's end.
pub fn linebuf_set(ld: &LayerData, win: &Window, count: usize, seed: u64) -> Result<VectorSet> {
    win.check(ld.h, ld.w)?;
    let l = &ld.layer;
    let (k, cw) = (l.k, ld.u.words.code_bits());
    let kk = k * k;
    let inputs = vec![Field::u("start", 1), Field::u("step", 1), Field::u("code", cw)];
    let mut outputs = vec![Field::u("valid", 1).at("dut.out_valid"), Field::u("pix", 32).at("dut.out_pix"), Field::u("op", kk as u32).at("dut.out_op")];
    for t in (0..kk as u32).rev() {
        outputs.push(Field::u(format!("code{t}"), cw).at(format!("dut.out_code[{}:{}]", (t + 1) * cw - 1, t * cw)));
    }
    let mut m = Contract::new(k, win.h, win.w);
    let mut rng = SplitMix64::stream(seed, 9);
    let code_max = (1u64 << cw) - 1;
    let mut rows = Vec::new();
    while rows.len() < count {
        let c = rng.below(l.in_c as u64) as usize;
        for n in 0..m.steps_per_plane() {
            if rows.len() == count {
                break;
            }
            if n > 0 && rng.below(8) == 0 && rows.len() + 1 < count {
                rows.push(m.cycle(Kind::Real, format!("c{c} idle"), false, false, rng.below(code_max + 1) as u32));
            }
            let code = if n < win.h * win.w {
                let (y, x) = (win.y + n / win.w, win.x + n % win.w);
                l.quant[c].codes[ld.idx[(c * ld.h + y) * ld.w + x] as usize]
            } else {
                rng.below(code_max + 1) as u32
            };
            rows.push(m.cycle(Kind::Real, format!("c{c} step {n}"), n == 0, true, code));
        }
    }
    let hw = win.h * win.w;
    let distinct = |n: usize| ((n * 37 + 5) as u64 & code_max) as u32;
    for n in 0..m.steps_per_plane() + 2 {
        rows.push(m.cycle(Kind::Corner, format!("distinct step {n}"), n == 0, true, distinct(n)));
    }
    for n in 0..hw / 2 {
        rows.push(m.cycle(Kind::Corner, format!("abandoned step {n}"), n == 0, true, distinct(n + 1)));
    }
    for n in 0..m.steps_per_plane() {
        rows.push(m.cycle(Kind::Corner, format!("restart, max codes step {n}"), n == 0, true, code_max as u32));
    }
    let params = BTreeMap::from([("CW".to_string(), cw as i64), ("K".into(), k as i64), ("H".into(), win.h as i64), ("WI".into(), win.w as i64)]);
    Ok(finish("linebuf", inputs, outputs, rows, params))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_contract_windows_a_plane_with_its_border() {
        // 2x3 plane of codes 1..6, 3x3 kernel: latency 4
        let mut m = Contract::new(3, 2, 3);
        let rows: Vec<Row> = (0..m.steps_per_plane()).map(|n| m.cycle(Kind::Real, String::new(), n == 0, true, n as u32 + 1)).collect();
        assert!(rows[..3].iter().all(|r| r.outputs.iter().all(|&v| v == 0)));
        // pixel 0 (y 0, x 0): taps (1,1)=1 (1,2)=2 (2,1)=4 (2,2)=5 inside
        let o = &rows[4].outputs;
        assert_eq!(&o[..3], &[1, 0, 0b110_110_000]);
        let codes: Vec<i128> = o[3..].iter().rev().copied().collect();
        assert_eq!(codes, vec![0, 0, 0, 0, 1, 2, 0, 4, 5]);
        // pixel 5 (y 1, x 2), after the flush: taps (0,0)=2 (0,1)=3 (1,0)=5 (1,1)=6
        let o = &rows[9].outputs;
        assert_eq!(&o[..3], &[1, 5, 0b000_011_011]);
        assert_eq!(o[3..].iter().rev().copied().collect::<Vec<_>>(), vec![2, 3, 0, 5, 6, 0, 0, 0, 0]);
        // an idle cycle holds; a step past the plane is not valid
        assert_eq!(m.cycle(Kind::Real, String::new(), false, false, 9).outputs, rows[9].outputs);
        assert_eq!(m.cycle(Kind::Real, String::new(), false, true, 9).outputs, vec![0; 12]);
    }
}
