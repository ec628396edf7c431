//! Point selection: optimal ≤ k-means, optimal == exhaustive on small
//! instances, the histogram's exact error == direct error, determinism.
use quickcheck::{quickcheck, TestResult};
use sqsim::rng::SplitMix64;
use sqsim::select::exhaustive::direct_sse;
use sqsim::select::hist::SampleHist;
use sqsim::select::*;
use sqsim::sq::{UniversalSet, WordSets};

fn samples(seed: u64, n: usize, heavy: bool) -> Vec<f32> {
    let mut r = SplitMix64::new(seed);
    (0..n)
        .map(|_| {
            // Box-Muller normal, optionally cubed for heavy tails, clipped to [-1, 1]
            let (a, b) = (r.next_f64().max(1e-12), r.next_f64());
            let g = (-2.0 * a.ln()).sqrt() * (2.0 * std::f64::consts::PI * b).cos() * 0.25;
            let v = if heavy { g * g * g * 8.0 } else { g };
            v.clamp(-1.0, 1.0) as f32
        })
        .collect()
}

fn cfg(bits: u32, method: Method) -> SelectConfig {
    SelectConfig { bits, method, ..Default::default() }
}

#[test]
fn hist_sse_equals_direct_sse_including_ties() {
    let u = UniversalSet::default();
    let pts = PointSet::from_values(&[-0.5, 0.0, 0.25, 0.5], &u).unwrap();
    // 0.125 and 0.375 are exact midpoints: both go to the lower point
    let s: Vec<f32> = vec![0.125, 0.375, -0.25, -1.0, 1.0, 0.3, -0.7, 0.0];
    let h = SampleHist::new(&s, u.frac_bits).unwrap();
    let direct = direct_sse(&s, &pts.values());
    assert!((h.sse(&pts.ints) - direct).abs() < 1e-12, "{} vs {direct}", h.sse(&pts.ints));
    for seed in 0..5 {
        let s = samples(seed, 5000, seed % 2 == 0);
        let h = SampleHist::new(&s, u.frac_bits).unwrap();
        let d = direct_sse(&s, &pts.values());
        assert!((h.sse(&pts.ints) - d).abs() <= 1e-9 * d.max(1.0));
    }
}

#[test]
fn optimal_equals_exhaustive_on_small_instances() {
    // two word sets: |U| = 29, C(29, 4) = 23751 subsets
    let u = UniversalSet::new(WordSets::preset("ws2").unwrap()).unwrap();
    for seed in 0..6 {
        let s = samples(100 + seed, 400, seed % 2 == 1);
        for bits in [2u32] {
            let o = select(&s, &u, &cfg(bits, Method::Optimal), 0).unwrap();
            let e = select(&s, &u, &cfg(bits, Method::Exhaustive), 0).unwrap();
            assert!((o.sse - e.sse).abs() <= 1e-9 * e.sse.max(1e-9), "seed {seed}: optimal {} exhaustive {}", o.sse, e.sse);
        }
    }
}

#[test]
fn kmeans_is_deterministic_and_reasonable() {
    let u = UniversalSet::default();
    let s = samples(7, 20000, true);
    let a = select(&s, &u, &cfg(4, Method::KMeans), 3).unwrap();
    let b = select(&s, &u, &cfg(4, Method::KMeans), 3).unwrap();
    assert_eq!(a.points, b.points);
    assert!(a.points.len() <= 16 && a.points.ints.contains(&0) || a.points.len() <= 16);
    let o = select(&s, &u, &cfg(4, Method::Optimal), 3).unwrap();
    assert!(o.sse <= a.sse * (1.0 + 1e-12));
    // k-means should be near the optimum on a smooth distribution (< 2x)
    assert!(a.sse < 2.0 * o.sse, "kmeans {} optimal {}", a.sse, o.sse);
}

#[test]
fn channels_in_parallel_match_serial() {
    let u = UniversalSet::default();
    let chans: Vec<Vec<f32>> = (0..6).map(|c| samples(c, 3000, c % 3 == 0)).collect();
    let par = select_channels(&chans, &u, &cfg(3, Method::KMeans)).unwrap();
    for (c, s) in chans.iter().enumerate() {
        let one = select(s, &u, &cfg(3, Method::KMeans), c as u64).unwrap();
        assert_eq!(par[c].points, one.points);
    }
}

#[test]
fn bad_input_errors() {
    let u = UniversalSet::default();
    assert!(select(&[], &u, &cfg(4, Method::KMeans), 0).unwrap_err().to_string().contains("empty"));
    let e = select(&[0.1, f32::NAN], &u, &cfg(4, Method::Optimal), 0).unwrap_err();
    assert!(e.to_string().contains("NaN"), "{e}");
    for b in [0, 1, 9, 40] {
        assert!(select(&[0.1], &u, &cfg(b, Method::Optimal), 0).unwrap_err().to_string().contains("bits"));
    }
    // exhaustive on the full 377-value set is refused, not attempted
    let e = select(&[0.1], &u, &cfg(4, Method::Exhaustive), 0).unwrap_err();
    assert!(e.to_string().contains("optimal"), "{e}");
}

quickcheck! {
    fn optimal_never_worse_than_kmeans(seed: u64, bits: u8, heavy: bool) -> TestResult {
        let u = UniversalSet::default();
        let bits = 2 + (bits % 4) as u32;
        let s = samples(seed, 2000, heavy);
        let k = select(&s, &u, &cfg(bits, Method::KMeans), 0).unwrap();
        let o = select(&s, &u, &cfg(bits, Method::Optimal), 0).unwrap();
        // the optimal SSE also equals the direct error of its points
        let d = direct_sse(&s, &o.points.values());
        TestResult::from_bool(o.sse <= k.sse * (1.0 + 1e-12) + 1e-12 && (d - o.sse).abs() <= 1e-9 * d.max(1.0)
            && o.points.len() <= 1 << bits)
    }

    fn optimal_equals_exhaustive_random(seed: u64, n: u8) -> TestResult {
        let u = UniversalSet::new(WordSets::parse("1,2,off; 2,3,off").unwrap()).unwrap();
        let s = samples(seed, 1 + n as usize, seed % 2 == 0);
        let o = select(&s, &u, &cfg(2, Method::Optimal), 0).unwrap();
        let e = select(&s, &u, &cfg(2, Method::Exhaustive), 0).unwrap();
        TestResult::from_bool((o.sse - e.sse).abs() <= 1e-9 * e.sse.max(1e-9))
    }
}

/// Samples shaped like the layers' normalized inputs: two-sided (a residual
/// stream), one-sided (after a ReLU, mean-normalized so some sit below 0),
/// few distinct values (ties), and a handful of samples.
fn shaped(seed: u64, kind: u8) -> Vec<f32> {
    let s = samples(seed, 3000, seed % 2 == 0);
    match kind % 4 {
        0 => s,
        1 => s.iter().map(|&v| (v.max(0.0) * 1.6 - 0.1).clamp(-1.0, 1.0)).collect(),
        2 => s.iter().map(|&v| (v * 8.0).round() / 8.0).collect(),
        _ => s[..1 + (seed % 7) as usize].to_vec(),
    }
}

#[test]
fn fast_optimal_equals_the_full_dp() {
    let u = UniversalSet::default();
    for seed in 0..24u64 {
        let h = SampleHist::new(&shaped(seed, seed as u8), u.frac_bits).unwrap();
        for bits in [2u32, 3, 4, 6, 8] {
            let (fast, fe) = optimal::optimal(&h, u.ints(), 1 << bits);
            let (full, re) = optimal::optimal_reference(&h, u.ints(), 1 << bits);
            assert!((fe - re).abs() <= 1e-12 * re.max(1e-12), "seed {seed} b{bits}: {fe} vs {re}");
            assert_eq!(fast, full, "seed {seed} b{bits}");
            let pts: Vec<i64> = fast.iter().map(|&i| u.ints()[i]).collect();
            assert!((h.sse(&pts) - fe).abs() <= 1e-9 * fe.max(1e-9));
        }
    }
}

quickcheck! {
    fn fast_optimal_equals_the_full_dp_random(seed: u64, kind: u8, bits: u8) -> TestResult {
        let u = UniversalSet::new(WordSets::preset("ws3").unwrap()).unwrap();
        let h = SampleHist::new(&shaped(seed, kind), u.frac_bits).unwrap();
        let k = 1usize << (2 + bits % 7);
        let (fast, fe) = optimal::optimal(&h, u.ints(), k);
        let (full, re) = optimal::optimal_reference(&h, u.ints(), k);
        TestResult::from_bool(fast == full && (fe - re).abs() <= 1e-12 * re.max(1e-12))
    }
}
