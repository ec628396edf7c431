//! Energy-aware point selection (`optimal-energy`): the DP minimizes
//! squared error + λ·(active words of each sample's code) exactly; λ = 0 is
//! the plain optimum; more λ never buys more active words.
use quickcheck::{quickcheck, TestResult};
use sqsim::rng::SplitMix64;
use sqsim::select::hist::SampleHist;
use sqsim::select::*;
use sqsim::sq::{UniversalSet, WordSets};

fn samples(seed: u64, n: usize) -> Vec<f32> {
    let mut r = SplitMix64::new(seed);
    (0..n).map(|_| ((r.next_f64() * 2.0 - 1.0).powi(3)) as f32).collect()
}

fn energy_cfg(bits: u32, lambda: f64) -> SelectConfig {
    SelectConfig { bits, method: Method::OptimalEnergy, lambda, ..Default::default() }
}

/// Mean active words per sample of nearest-point quantization onto `pts`
/// (ties to the lower point), computed sample by sample.
fn words_per_sample(s: &[f32], pts: &PointSet, u: &UniversalSet) -> f64 {
    let v = pts.values();
    let mut total = 0usize;
    for &x in s {
        let mut j = 0;
        while j + 1 < v.len() && (x as f64) > (v[j] + v[j + 1]) / 2.0 {
            j += 1;
        }
        let i = u.index_of_int(pts.ints[j]).unwrap();
        total += u.codes()[i].active_words(&u.words);
    }
    total as f64 / s.len() as f64
}

#[test]
fn lambda_zero_is_the_plain_optimum() {
    let u = UniversalSet::default();
    for seed in 0..4 {
        let s = samples(seed, 3000);
        let o = select(&s, &u, &SelectConfig { bits: 4, method: Method::Optimal, ..Default::default() }, 0).unwrap();
        let e = select(&s, &u, &energy_cfg(4, 0.0), 0).unwrap();
        assert_eq!(o.points, e.points);
        assert_eq!(o.sse, e.sse);
    }
}

#[test]
fn dp_equals_brute_force_on_small_instances() {
    // |U| = 29 for two word sets: every 4-point subset enumerated
    let u = UniversalSet::new(WordSets::preset("ws2").unwrap()).unwrap();
    let words: Vec<f64> = u.codes().iter().map(|c| c.active_words(&u.words) as f64).collect();
    let m = u.len();
    for (seed, lambda) in [(1u64, 0.001), (2, 0.01), (3, 0.05)] {
        let s = samples(200 + seed, 500);
        let h = SampleHist::new(&s, u.frac_bits).unwrap();
        let cost = |pts: &[usize]| {
            let ints: Vec<i64> = pts.iter().map(|&i| u.ints()[i]).collect();
            let mut c = h.sse(&ints);
            for (j, &p) in ints.iter().enumerate() {
                let lo = if j == 0 { None } else { Some(ints[j - 1] + p) };
                let hi = ints.get(j + 1).map(|&q| p + q);
                c += lambda * words[pts[j]] * h.seg_count(lo, hi);
            }
            c
        };
        let mut best = f64::INFINITY;
        for a in 0..m {
            for b in a..m {
                for c in b..m {
                    for d in c..m {
                        let mut v = vec![a, b, c, d];
                        v.dedup();
                        best = best.min(cost(&v));
                    }
                }
            }
        }
        let (idx, got) = optimal::optimal_energy(&h, u.ints(), 4, &words, lambda);
        assert!((got - best).abs() <= 1e-9 * best, "λ {lambda}: DP {got} brute force {best}");
        assert!((cost(&idx) - got).abs() <= 1e-9 * got);
    }
}

#[test]
fn reported_sse_is_the_squared_error_alone() {
    let u = UniversalSet::default();
    let s = samples(9, 4000);
    let e = select(&s, &u, &energy_cfg(4, 0.01), 0).unwrap();
    let h = SampleHist::new(&s, u.frac_bits).unwrap();
    assert!((e.sse - h.sse(&e.points.ints)).abs() <= 1e-12 * e.sse);
}

quickcheck! {
    /// Exact optimization of SSE + λ·W: raising λ never raises W nor lowers SSE.
    fn more_lambda_fewer_words(seed: u64, a: u8, b: u8) -> TestResult {
        let (l1, l2) = (a as f64 * 1e-4, b as f64 * 1e-4);
        if l1 >= l2 {
            return TestResult::discard();
        }
        let u = UniversalSet::default();
        let s = samples(seed, 600);
        let p1 = select(&s, &u, &energy_cfg(3, l1), 0).unwrap();
        let p2 = select(&s, &u, &energy_cfg(3, l2), 0).unwrap();
        let (w1, w2) = (words_per_sample(&s, &p1.points, &u), words_per_sample(&s, &p2.points, &u));
        TestResult::from_bool(w2 <= w1 + 1e-12 && p2.sse >= p1.sse - 1e-9 * p1.sse.max(1e-12))
    }
}

#[test]
fn bad_lambda_is_refused() {
    let u = UniversalSet::default();
    let s = samples(1, 100);
    for l in [-0.1, f64::NAN, f64::INFINITY] {
        let e = select(&s, &u, &energy_cfg(4, l), 0).unwrap_err().to_string();
        assert!(e.contains("lambda"), "{e}");
    }
    // a λ for a method that takes none is refused, not ignored
    let e = select(&s, &u, &SelectConfig { bits: 4, method: Method::KMeans, lambda: 0.5, ..Default::default() }, 0).unwrap_err();
    assert!(e.to_string().contains("only optimal-energy"), "{e}");
}
