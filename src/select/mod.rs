//! Point selection: which 2^b values of the universal set a channel uses.
//! Three methods share one exact error measure (`SampleHist`):
//! DFSQ k-means (the paper's), the exact optimum (dynamic programming), and
//! exhaustive search (the paper's exponential baseline, small U only).
pub mod exhaustive;
pub mod hist;
pub mod kmeans;
pub mod optimal;

use crate::rng::SplitMix64;
use crate::sq::UniversalSet;
use crate::{Error, Result};
use hist::SampleHist;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

pub const MIN_BITS: u32 = 2;
pub const MAX_BITS: u32 = 8;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Method {
    KMeans,
    Optimal,
    /// The exact DP with each point also charged λ × its SQ code's active
    /// words per sample landing on it (`SelectConfig::lambda`).
    #[serde(rename = "optimal-energy")]
    OptimalEnergy,
    Exhaustive,
}

impl std::str::FromStr for Method {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s.to_ascii_lowercase().as_str() {
            "kmeans" | "k-means" => Ok(Method::KMeans),
            "optimal" | "dp" => Ok(Method::Optimal),
            "optimal-energy" | "energy" => Ok(Method::OptimalEnergy),
            "exhaustive" => Ok(Method::Exhaustive),
            _ => Err(Error::Unknown {
                kind: "selection method".into(),
                name: s.into(),
                known: "kmeans, optimal, optimal-energy, exhaustive".into(),
            }),
        }
    }
}

impl Method {
    pub fn name(self) -> &'static str {
        match self {
            Method::KMeans => "kmeans",
            Method::Optimal => "optimal",
            Method::OptimalEnergy => "optimal-energy",
            Method::Exhaustive => "exhaustive",
        }
    }

    /// The name with its λ where it has one (`optimal-energy-l0.001`):
    /// file names and design names.
    pub fn label(self, lambda: f64) -> String {
        match self {
            Method::OptimalEnergy => format!("optimal-energy-l{lambda}"),
            m => m.name().to_string(),
        }
    }
}

/// λ must be a finite number ≥ 0, and only optimal-energy takes one.
pub fn check_lambda(method: Method, lambda: f64) -> Result<()> {
    if !(lambda.is_finite() && lambda >= 0.0) {
        return Err(Error::arg("lambda", format!("{lambda} must be a finite number ≥ 0")));
    }
    if lambda != 0.0 && method != Method::OptimalEnergy {
        return Err(Error::arg("lambda", format!("{lambda} given for {}; only optimal-energy takes a λ", method.name())));
    }
    Ok(())
}

#[derive(Clone, Debug)]
pub struct SelectConfig {
    pub bits: u32,
    pub method: Method,
    pub seed: u64,
    /// k-means restarts (DATAPATH.md §1: 5).
    pub restarts: usize,
    pub max_iter: usize,
    /// optimal-energy: weight of one active word per sample against the
    /// squared error (normalized units); 0 for every other method.
    pub lambda: f64,
}

impl Default for SelectConfig {
    fn default() -> Self {
        SelectConfig { bits: 4, method: Method::KMeans, seed: 0, restarts: 5, max_iter: 100, lambda: 0.0 }
    }
}

impl SelectConfig {
    pub fn validate(&self) -> Result<()> {
        if !(MIN_BITS..=MAX_BITS).contains(&self.bits) {
            return Err(Error::arg("bits", format!("{} not in {MIN_BITS}..={MAX_BITS}", self.bits)));
        }
        if self.restarts == 0 || self.max_iter == 0 {
            return Err(Error::arg("k-means", "restarts and max_iter must be ≥ 1"));
        }
        check_lambda(self.method, self.lambda)
    }
}

/// A channel's quantization points: sorted, distinct integers at `frac_bits`
/// (value = int / 2^frac_bits). May hold fewer than 2^b points when k-means
/// snapped two centres to one value.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PointSet {
    pub frac_bits: u32,
    pub ints: Vec<i64>,
}

impl PointSet {
    /// Builds from float values that must all lie in U.
    pub fn from_values(values: &[f64], u: &UniversalSet) -> Result<Self> {
        let scale = (1u64 << u.frac_bits) as f64;
        let mut ints = Vec::with_capacity(values.len());
        for &v in values {
            let i = (v * scale).round();
            if !v.is_finite() || (i / scale) != v || u.index_of_int(i as i64).is_none() {
                return Err(Error::arg("point set", format!("{v} is not a value of the universal set")));
            }
            ints.push(i as i64);
        }
        ints.sort_unstable();
        ints.dedup();
        if ints.is_empty() {
            return Err(Error::arg("point set", "empty"));
        }
        Ok(PointSet { frac_bits: u.frac_bits, ints })
    }
    pub fn values(&self) -> Vec<f64> {
        let s = (1u64 << self.frac_bits) as f64;
        self.ints.iter().map(|&i| i as f64 / s).collect()
    }
    pub fn values_f32(&self) -> Vec<f32> {
        self.values().into_iter().map(|v| v as f32).collect()
    }
    pub fn len(&self) -> usize {
        self.ints.len()
    }
    pub fn is_empty(&self) -> bool {
        self.ints.is_empty()
    }
}

#[derive(Clone, Debug)]
pub struct Selection {
    pub points: PointSet,
    pub sse: f64,
    pub n: usize,
}

impl Selection {
    pub fn mse(&self) -> f64 {
        self.sse / self.n as f64
    }
}

/// Selects points for one channel. `stream` picks the channel's independent
/// random stream so results do not depend on scheduling.
pub fn select(samples: &[f32], u: &UniversalSet, cfg: &SelectConfig, stream: u64) -> Result<Selection> {
    cfg.validate()?;
    if cfg.method != Method::Exhaustive {
        return select_hist(&SampleHist::new(samples, u.frac_bits)?, u, cfg, stream);
    }
    let (idx, sse) = exhaustive::exhaustive(samples, &u.values(), 1usize << cfg.bits)?;
    let ints = idx.iter().map(|&i| u.ints()[i]).collect();
    Ok(Selection { points: PointSet { frac_bits: u.frac_bits, ints }, sse, n: samples.len() })
}

/// Selects from accumulated statistics (k-means or optimal; exhaustive needs
/// the raw samples).
pub fn select_hist(hist: &SampleHist, u: &UniversalSet, cfg: &SelectConfig, stream: u64) -> Result<Selection> {
    cfg.validate()?;
    if hist.frac_bits != u.frac_bits {
        return Err(Error::arg("histogram", format!("built at {} fractional bits, U needs {}", hist.frac_bits, u.frac_bits)));
    }
    let k = 1usize << cfg.bits;
    let (idx, sse) = match cfg.method {
        Method::KMeans => {
            let p = kmeans::KMeansParams { k, restarts: cfg.restarts, max_iter: cfg.max_iter };
            kmeans::kmeans(hist, u.ints(), &p, &mut SplitMix64::stream(cfg.seed, stream))
        }
        Method::Optimal => optimal::optimal(hist, u.ints(), k),
        Method::OptimalEnergy => {
            let words: Vec<f64> = u.codes().iter().map(|c| c.active_words(&u.words) as f64).collect();
            let (idx, _) = optimal::optimal_energy(hist, u.ints(), k, &words, cfg.lambda);
            let pts: Vec<i64> = idx.iter().map(|&i| u.ints()[i]).collect();
            let sse = hist.sse(&pts);
            (idx, sse)
        }
        Method::Exhaustive => {
            return Err(Error::arg("method", "exhaustive search needs raw samples; use kmeans or optimal"))
        }
    };
    let ints = idx.iter().map(|&i| u.ints()[i]).collect();
    Ok(Selection { points: PointSet { frac_bits: u.frac_bits, ints }, sse, n: hist.n })
}

/// Selects every channel in parallel; channel c uses random stream c, so the
/// result is identical on any thread count.
pub fn select_channels(channels: &[Vec<f32>], u: &UniversalSet, cfg: &SelectConfig) -> Result<Vec<Selection>> {
    cfg.validate()?;
    channels
        .par_iter()
        .enumerate()
        .map(|(c, s)| {
            select(s, u, cfg, c as u64).map_err(|e| match e {
                Error::InvalidArg { field, reason } => {
                    Error::InvalidArg { field, reason: format!("channel {c}: {reason}") }
                }
                other => other,
            })
        })
        .collect()
}
