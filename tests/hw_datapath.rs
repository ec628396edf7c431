//! The bit-accurate datapath: fast kernel == naive reference bit for bit
//! (random layers, every format and overflow policy, narrow registers),
//! overflow is reported, and the stats/requant primitives on hand examples.
use sqsim::config::{DenormFormat, HwConfig, OverflowPolicy};
use sqsim::dfsq::QuantLayer;
use sqsim::hw::fixed::{div_round, round_shift};
use sqsim::hw::fast::{Kernel, Taps};
use sqsim::hw::{channel_norm, HwLayer, Reg};
use sqsim::model::Conv2d;
use sqsim::quant::{quantize_weights, Granularity};
use sqsim::rng::SplitMix64;
use sqsim::select::{select, Method, SelectConfig};
use sqsim::sq::UniversalSet;

struct Problem {
    layer: QuantLayer,
    x: Vec<i64>,
    h: usize,
    w: usize,
    post_relu: bool,
}

fn problem(seed: u64, in_c: usize, out_c: usize, k: usize, h: usize, w: usize, wbits: u32, abits: u32) -> Problem {
    let mut r = SplitMix64::new(seed);
    let u = UniversalSet::default();
    let n = out_c * in_c * k * k;
    let weight: Vec<f32> = (0..n).map(|_| (r.next_f64() as f32 - 0.45) * 0.2).collect();
    let bias: Vec<f32> = (0..out_c).map(|_| (r.next_f64() as f32 - 0.5) * 4.0).collect();
    let conv = Conv2d::new("test.conv", in_c, out_c, k, weight, bias).unwrap();
    let qw = quantize_weights("test.conv", &conv.weight, out_c, in_c, k, wbits, Granularity::PerOutputChannel).unwrap();
    let post_relu = seed % 3 == 0;
    let x: Vec<i64> = (0..in_c * h * w)
        .map(|i| {
            let c = (i / (h * w)) as f64;
            let v = (r.next_f64() - 0.5) * 4000.0 * (1.0 + c) + 300.0 * c;
            let v = v as i64;
            if post_relu { v.max(0) } else { v }
        })
        .collect();
    // points from the normalized samples of each channel
    let points = (0..in_c)
        .map(|c| {
            let s: Vec<f32> = (0..400).map(|_| ((r.next_f64() * 2.0 - 1.0).powi(3)) as f32).collect();
            let cfg = SelectConfig { bits: abits, method: if c % 2 == 0 { Method::KMeans } else { Method::Optimal }, ..Default::default() };
            select(&s, &u, &cfg, c as u64).unwrap().points
        })
        .collect();
    let deq_conv = Conv2d { weight: qw.dequantize(), ..conv };
    Problem { layer: QuantLayer { qweights: qw, deq_conv, points }, x, h, w, post_relu }
}

impl Problem {
    fn check(&self, cfg: &HwConfig) -> (u64, Vec<i64>) {
        let (ovf, out, _) = self.check_kernel(cfg);
        (ovf, out)
    }

    /// Also returns the kernel `run_fast` chose.
    fn check_kernel(&self, cfg: &HwConfig) -> (u64, Vec<i64>, Kernel) {
        let u = UniversalSet::default();
        let l = HwLayer::prepare(&self.layer, &u, cfg).unwrap();
        let a = l.run_reference(&self.x, self.h, self.w, self.post_relu).unwrap();
        let b = l.run_fast(&self.x, self.h, self.w, self.post_relu).unwrap();
        assert_eq!(a.norms, b.norms);
        let kernel = l.bounds(&a.norms, &l.mu_table(&a.norms, self.h, self.w)).kernel;
        assert!(a.out == b.out, "fast ({kernel:?}) != reference for {:?}", cfg.datapath);
        assert_eq!(a.overflow, b.overflow, "{kernel:?}");
        (a.overflow.total(), a.out, kernel)
    }
}

fn cfg_with(f: impl Fn(&mut HwConfig)) -> HwConfig {
    let mut c = HwConfig::default();
    f(&mut c);
    c.validate().unwrap();
    c
}

#[test]
fn fast_equals_reference_on_random_layers_default_config() {
    for (seed, (ic, oc, k, h, w)) in [(4, 5, 3, 7, 9), (3, 2, 1, 5, 4), (2, 3, 3, 1, 1), (3, 4, 3, 1, 6), (6, 3, 3, 6, 1), (1, 1, 5, 8, 8)]
        .into_iter()
        .enumerate()
    {
        for (wb, ab) in [(4, 4), (8, 8), (3, 3), (6, 2)] {
            let p = problem(seed as u64, ic, oc, k, h, w, wb, ab);
            let (ovf, _) = p.check(&HwConfig::default());
            assert_eq!(ovf, 0, "default config must not overflow on a benign layer");
        }
    }
}

#[test]
fn fast_equals_reference_for_every_format_width_and_policy() {
    let p = problem(11, 4, 4, 3, 6, 7, 4, 4);
    let mut kernels = std::collections::BTreeSet::new();
    for fmt in [DenormFormat::Full, DenormFormat::Mantissa, DenormFormat::Pow2] {
        for pol in [OverflowPolicy::Saturate, OverflowPolicy::Wrap] {
            for (tap, acc, act) in [(24, 48, 24), (12, 48, 24), (24, 20, 24), (24, 48, 12), (10, 16, 10)] {
                for fb in [10, 12, 7, 3] {
                    for mant in [3, 8] {
                        let c = cfg_with(|c| {
                            c.denorm.format = fmt;
                            c.denorm.max_mant_bits = mant;
                            c.denorm.mean_mant_bits = mant + 1;
                            c.datapath.overflow = pol;
                            c.datapath.tap_sum_bits = tap;
                            c.datapath.denorm_acc_bits = acc;
                            c.datapath.act_bits = act;
                            c.datapath.pe_frac_bits = fb;
                        });
                        kernels.insert(format!("{:?}", p.check_kernel(&c).2));
                    }
                }
            }
        }
    }
    // wide registers and many fraction bits: tap sums past i32, accumulators past 2^53
    let mut p8 = problem(11, 4, 4, 3, 6, 7, 8, 4);
    // (inputs scaled by 2^scale: accumulator bounds past 2^53 rule the GEMM out)
    for (scale, tap, fb) in [(6, 48, 24), (14, 48, 20), (10, 31, 20), (22, 31, 16)] {
        let c = cfg_with(|c| {
            c.datapath.tap_sum_bits = tap;
            c.datapath.denorm_acc_bits = 62;
            c.datapath.pe_frac_bits = fb;
        });
        let x0 = p8.x.clone();
        p8.x.iter_mut().for_each(|v| *v <<= scale);
        let k = p8.check_kernel(&c).2;
        p8.x = x0;
        kernels.insert(format!("{k:?}"));
    }
    // every kernel run_fast can choose was compared with the reference
    for k in [
        Kernel::Gemm,
        Kernel::Rows { taps: Taps::I32, acc_safe: true },
        Kernel::Rows { taps: Taps::I32, acc_safe: false },
        Kernel::Rows { taps: Taps::I64, acc_safe: true },
        Kernel::Rows { taps: Taps::Checked { exact: true }, acc_safe: false },
        Kernel::Rows { taps: Taps::Checked { exact: false }, acc_safe: false },
    ] {
        assert!(kernels.contains(&format!("{k:?}")), "{k:?} never exercised: {kernels:?}");
    }
}

#[test]
fn narrow_accumulators_report_overflow() {
    let p = problem(5, 4, 3, 3, 6, 6, 8, 4);
    let (clean, _) = p.check(&HwConfig::default());
    assert_eq!(clean, 0);
    for (field, tap, acc, act) in [("tap", 8, 48, 24), ("acc", 24, 14, 24), ("act", 24, 48, 6)] {
        for pol in [OverflowPolicy::Saturate, OverflowPolicy::Wrap] {
            let c = cfg_with(|c| {
                c.datapath.tap_sum_bits = tap;
                c.datapath.denorm_acc_bits = acc;
                c.datapath.act_bits = act;
                c.datapath.act_frac_bits = 4.min(act - 1);
                c.datapath.overflow = pol;
            });
            let (n, _) = p.check(&c);
            assert!(n > 0, "{field} narrowed to overflow but nothing was counted");
        }
    }
}

#[test]
fn registers_saturate_and_wrap_as_specified() {
    let mut n = 0u64;
    let s = Reg::new(8, OverflowPolicy::Saturate);
    assert_eq!((s.fit(127, &mut n), s.fit(128, &mut n), s.fit(-129, &mut n), s.fit(-128, &mut n)), (127, 127, -128, -128));
    assert_eq!(n, 2);
    let w = Reg::new(8, OverflowPolicy::Wrap);
    assert_eq!((w.fit(128, &mut n), w.fit(-129, &mut n), w.fit(300, &mut n)), (-128, 127, 44));
    assert_eq!(n, 5);
    // rounding: half away from -inf on the shift, away from zero on the mean
    assert_eq!((round_shift(5, 1), round_shift(-5, 1), round_shift(-6, 2), round_shift(3, -2)), (3, -2, -1, 12));
    assert_eq!((div_round(5, 2), div_round(-5, 2), div_round(7, 3), div_round(-7, 3)), (3, -3, 2, -2));
}

#[test]
fn stats_unit_hand_examples() {
    use sqsim::config::DenormConfig;
    let full = DenormConfig { format: DenormFormat::Full, ..Default::default() };
    // mean of [10, 20, 33] = 21; spread = max(33-21, 21-10) = 12
    let n = channel_norm(&[10, 20, 33], false, &full);
    assert_eq!((n.mu_hat(), n.m_hat()), (21, 12));
    // mantissa 3 bits: M' = 1000 for mu = 0 (post-ReLU) -> e = 7: round(7.81) = 8 > 7 -> e = 8: round(3.91) = 4
    let m3 = DenormConfig { format: DenormFormat::Mantissa, max_mant_bits: 3, mean_mant_bits: 4 };
    let n = channel_norm(&[0, 1000, 500], true, &m3);
    assert_eq!((n.m_mant, n.exp, n.mu_mant), (4, 8, 0));
    assert!(n.m_hat() >= 1000);
    // pow2: M' = 1000 -> 1024
    let p2 = DenormConfig { format: DenormFormat::Pow2, max_mant_bits: 8, mean_mant_bits: 8 };
    assert_eq!(channel_norm(&[0, 1000], true, &p2).m_hat(), 1024);
    // a mean too big for its mantissa raises the shared exponent: mu = 5000 with a
    // 4-bit signed mantissa needs e = 10 (round(4.88) = 5); mu_hat = 5120, so
    // M' = max(5010 - 5120, 5120 - 4990) = 130 -> round(130/1024) = 0 -> kept at 1
    let n = channel_norm(&[4990, 5010], false, &m3);
    assert_eq!((n.m_mant, n.mu_mant, n.exp), (1, 5, 10));
}

mod quantizer_plane {
    use quickcheck::{quickcheck, TestResult};
    use sqsim::config::{DenormConfig, DenormFormat};
    use sqsim::hw::quantizer::ChannelQuantizer;
    use sqsim::hw::{channel_norm, ChannelNorm};
    use sqsim::select::PointSet;
    use sqsim::sq::UniversalSet;

    quickcheck! {
        /// The whole-plane quantizer (one vectorized pass per threshold) gives
        /// every activation the index the per-element quantizer gives, and
        /// that index is the spec's: the number of midpoints t_j with
        /// t_j·M̂ < x − μ̂ (ties to the lower point), for 2..=256 points.
        fn index_plane_equals_index_and_the_spec(seed: u64, npts: u16, xs: Vec<i32>, relu: bool) -> TestResult {
            let u = UniversalSet::default();
            let mut r = sqsim::rng::SplitMix64::new(seed);
            let n = 2 + npts as usize % 255;
            let mut pick: Vec<i64> = u.ints().to_vec();
            // n distinct points of U, sorted
            for i in 0..n {
                let j = i + (r.next_f64() * (pick.len() - i) as f64) as usize % (pick.len() - i);
                pick.swap(i, j);
            }
            let mut ints = pick[..n].to_vec();
            ints.sort_unstable();
            let q = ChannelQuantizer::new(&PointSet { frac_bits: u.frac_bits, ints }, &u).unwrap();
            // a stats-unit norm, or a hand-built one whose M̂ is a multiple of
            // 2^(F+1), so activations exactly on a threshold (ties) exist
            let mut x: Vec<i64> = xs.iter().map(|&v| (v >> 8) as i64).collect();
            if relu {
                x.iter_mut().for_each(|v| *v = (*v).max(0));
            }
            let norm = if seed % 2 == 0 {
                if x.is_empty() {
                    return TestResult::discard();
                }
                channel_norm(&x, relu, &DenormConfig { format: DenormFormat::Mantissa, ..Default::default() })
            } else {
                let exp = u.frac_bits + 1 + (seed >> 8) as u32 % 4;
                let norm = ChannelNorm { m_mant: 1 + (seed >> 16) as i64 % 255, mu_mant: (seed >> 32) as i64 % 64, exp };
                let k = norm.m_hat() >> (u.frac_bits + 1);
                for &t in &q.t_int {
                    for d in -1..=1 {
                        x.push(norm.mu_hat() + t * k + d);
                    }
                }
                norm
            };
            let th = q.scaled_thresholds(&norm);
            let mut plane = vec![0xffu8; x.len()];
            q.index_plane(&th, &norm, &x, &mut plane);
            for (i, &v) in x.iter().enumerate() {
                let lhs = (v - norm.mu_hat()) as i128 * (2i128 << u.frac_bits);
                let spec = q.t_int.iter().filter(|&&t| (t as i128) * (norm.m_hat() as i128) < lhs).count();
                if plane[i] as usize != spec || q.index(&th, &norm, v) != spec {
                    return TestResult::error(format!("x={v}: plane {} index {} spec {spec}", plane[i], q.index(&th, &norm, v)));
                }
            }
            TestResult::passed()
        }
    }
}

quickcheck::quickcheck! {
    /// Host float → fixed rounds half to even at frac_bits, then fits the
    /// register (saturating here), for any f32 — ties, NaN and ±∞ included.
    fn to_fixed_rounds_half_to_even_then_fits(bits: u32, frac: u32, x: f32, tie: i32) -> bool {
        let reg = Reg::new(4 + bits % 22, OverflowPolicy::Saturate);
        let frac = frac % (reg.bits - 1);
        let scale = (1u64 << frac) as f64;
        // also exact ties: an odd multiple of half an LSB
        let xs = [x, ((tie as f64 + 0.5) / scale) as f32, f32::NAN, f32::INFINITY, f32::NEG_INFINITY];
        xs.iter().all(|&x| {
            let mut n = 0u64;
            let got = sqsim::hw::fixed::to_fixed(x, frac, &reg, &mut n);
            let v = x as f64 * scale;
            let want = if v.is_nan() { 0 } else { v.round_ties_even().clamp(reg.min as f64, reg.max as f64) as i64 };
            let over = v.is_nan() || v.round_ties_even() < reg.min as f64 || v.round_ties_even() > reg.max as f64;
            got == want && (n == 1) == over
        })
    }
}

/// `delta_fixed`, `requantize` and `mu_term` on hand-computed values.
#[test]
fn delta_requantize_and_mu_term_hand_examples() {
    use sqsim::hw::layer::delta_fixed;
    // Δ = mult / 2^shift, mult in [2^(m−1), 2^m)
    assert_eq!(delta_fixed(0.75, 4), (12, 4)); // 0.75·2^4 = 12
    assert_eq!(delta_fixed(1.0, 8), (128, 7));
    assert_eq!(delta_fixed(0.99999, 4), (8, 3)); // 15.9998 rounds to 16 = 2^4: one shift less
    assert_eq!(delta_fixed(3.0e-3, 16), (50332, 24)); // 0.003·2^24 = 50331.65 → 50332
    assert_eq!(delta_fixed(0.0, 16), (0, 0));
    let p = problem(1, 1, 1, 3, 4, 4, 4, 4);
    let mut l = HwLayer::prepare(&p.layer, &UniversalSet::default(), &HwConfig::default()).unwrap();
    // y = fit(round(acc·mult / 2^(shift + f)) + bias), f = 10, ties toward +∞
    (l.delta_mult[0], l.delta_shift[0], l.bias_fix[0]) = (3, 2, 5);
    let act = Reg::new(8, OverflowPolicy::Saturate);
    let mut n = 0;
    assert_eq!(l.requantize(0, 7 << 12, &act, &mut n), 21 + 5); // 7·4096·3/4096
    assert_eq!(l.requantize(0, 2048, &act, &mut n), 2 + 5); // 1.5 → 2
    assert_eq!(l.requantize(0, -2048, &act, &mut n), -1 + 5); // −1.5 → −1
    assert_eq!(n, 0);
    assert_eq!(l.requantize(0, 1 << 30, &act, &mut n), 127); // 786432 + 5 saturates
    assert_eq!(n, 1);
    // μ term: Σ_c μ̂_c · Σ_{taps inside} w · 2^f
    l.w = (1..=9).collect();
    let norms = [sqsim::hw::ChannelNorm { m_mant: 1, mu_mant: 3, exp: 2 }]; // μ̂ = 12
    assert_eq!(l.mu_term(0, &norms, &|_, _| true), 12 * 45 * 1024);
    // top-left corner: row 0 and column 0 of the kernel fall outside
    assert_eq!(l.mu_term(0, &norms, &|ky, kx| ky > 0 && kx > 0), 12 * (5 + 6 + 8 + 9) * 1024);
    assert_eq!(l.mu_term(0, &norms, &|_, _| false), 0);
}
