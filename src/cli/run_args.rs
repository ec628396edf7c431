//! `sqsim run`'s arguments and what its two flows share: the DFSQ flow
//! (run_cmd.rs) and the uniform-integer flow (run_uniform.rs); cli/mod.rs
//! validates and dispatches.
use super::common::{HwArgs, ModelArgs};
use super::fmt::Format;
use anyhow::bail;
use serde::Serialize;
use sqsim::select::{MAX_BITS, MIN_BITS};
use sqsim::uniform::QMethod;
use std::path::PathBuf;

#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub(crate) net: ModelArgs,
    /// Weight and activation bits (2..8); --wbits/--abits override one side.
    #[arg(long, default_value_t = 4)]
    pub(crate) bits: u32,
    #[arg(long)]
    pub(crate) wbits: Option<u32>,
    #[arg(long)]
    pub(crate) abits: Option<u32>,
    /// kmeans or optimal (DFSQ point selection), or a uniform baseline:
    /// minmax, percentile (static per-tensor ranges, integer datapath) or
    /// dfsq-uniform (DFSQ normalization, uniform grid, DFSQ datapath).
    #[arg(long, default_value = "kmeans")]
    pub(crate) method: String,
    /// Clipping percentile of `--method percentile`, in (0, 100].
    #[arg(long, default_value_t = sqsim::uniform::DEFAULT_PERCENTILE)]
    pub(crate) percentile: f64,
    /// λ of `--method optimal-energy`: weight of one active word per sample
    /// against the squared error (normalized units), ≥ 0.
    #[arg(long, default_value_t = 0.0, allow_negative_numbers = true)]
    pub(crate) lambda: f64,
    /// Calibration JSON (default: the shipped one for this model and bit-width).
    #[arg(long)]
    pub(crate) calib: Option<PathBuf>,
    /// Set5, Set14, BSD100 or a directory of PNGs; repeatable.
    #[arg(long, default_value = "Set5")]
    pub(crate) dataset: Vec<String>,
    /// Evaluate only the first N images of each dataset.
    #[arg(long)]
    pub(crate) limit: Option<usize>,
    #[arg(long, value_enum, default_value = "per-output-channel")]
    pub(crate) granularity: GranArg,
    #[arg(long, default_value = "dfsq")]
    pub(crate) word_sets: String,
    #[command(flatten)]
    pub(crate) hwp: HwArgs,
    /// Skip the bit-accurate hardware run (float rows only).
    #[arg(long, conflicts_with = "hw")]
    pub(crate) no_hw: bool,
    /// Write FP, DFSQ-float and hardware SR images (PNG) under this directory.
    #[arg(long)]
    pub(crate) save_images: Option<PathBuf>,
    #[arg(long, value_enum, default_value = "table")]
    pub(crate) format: Format,
    /// No progress bar or notes on stderr.
    #[arg(long)]
    pub(crate) quiet: bool,
    /// Cycle model: step the first N tiles of every quantized layer and
    /// compare with the functional datapath (0 = off; cost is reported either way).
    #[arg(long, default_value_t = 1)]
    pub(crate) steps: usize,
}

#[derive(Clone, Copy, clap::ValueEnum)]
pub(crate) enum GranArg {
    PerOutputChannel,
    PerKernel,
}

#[derive(Serialize, Clone, Copy)]
pub(crate) struct HwScores {
    pub(crate) psnr: f64,
    pub(crate) ssim: f64,
    /// Max |hardware − the float reference| over output pixels (0..255, before rounding).
    pub(crate) max_abs_err_vs_float: f64,
    pub(crate) overflows: u64,
}

impl HwScores {
    /// Means of PSNR and SSIM, the largest error, the summed overflows.
    pub(crate) fn mean(hs: &[HwScores]) -> HwScores {
        let n = hs.len().max(1) as f64;
        HwScores {
            psnr: hs.iter().map(|h| h.psnr).sum::<f64>() / n,
            ssim: hs.iter().map(|h| h.ssim).sum::<f64>() / n,
            max_abs_err_vs_float: hs.iter().map(|h| h.max_abs_err_vs_float).fold(0.0, f64::max),
            overflows: hs.iter().map(|h| h.overflows).sum(),
        }
    }
}

/// Largest |a − b| over two SR outputs, each clamped to the pixel range.
pub(crate) fn max_pixel_diff(a: &sqsim::Feature, b: &sqsim::Feature) -> f64 {
    a.data
        .iter()
        .zip(&b.data)
        .map(|(&x, &y)| (x.clamp(0.0, 255.0) as f64 - y.clamp(0.0, 255.0) as f64).abs())
        .fold(0.0, f64::max)
}

fn check_bits(name: &str, b: u32) -> anyhow::Result<u32> {
    if !(MIN_BITS..=MAX_BITS).contains(&b) {
        bail!("invalid {name}: {b} not in {MIN_BITS}..={MAX_BITS}");
    }
    Ok(b)
}

/// Checks the flags every `run` flow shares; the method and W/A bits.
pub fn validate(a: &Args) -> anyhow::Result<(QMethod, u32, u32)> {
    let wbits = check_bits("wbits", a.wbits.unwrap_or(a.bits))?;
    let abits = check_bits("abits", a.abits.unwrap_or(a.bits))?;
    check_bits("bits", a.bits)?;
    sqsim::limits::check("--steps", a.steps as u128, sqsim::limits::MAX_STEPS as u128, "tiles per layer")?;
    let qm = QMethod::parse(&a.method, a.percentile)?;
    if a.lambda != 0.0 && qm != QMethod::Dfsq(sqsim::select::Method::OptimalEnergy) {
        bail!("invalid --lambda: only optimal-energy takes a λ ({} given for --method {})", a.lambda, a.method);
    }
    Ok((qm, wbits, abits))
}

/// Wall seconds per phase of `run` (JSON `timing_s`), so users see where
/// time goes. `hardware` excludes the cycle model's share of the hardware
/// pass (`cost`, and the waits for the stepping); `stepped_check` is the
/// stepping's busy time, on its own thread beside the hardware pass, so
/// the phases can add up to more than `total` (wall).
#[derive(Serialize, Default, Clone, Copy)]
pub(crate) struct Timing {
    pub(crate) load: f64,
    pub(crate) calibration: f64,
    pub(crate) fp: f64,
    pub(crate) float_reference: f64,
    pub(crate) hardware: f64,
    /// The DFSQ float reference of each layer on the hardware's own input
    /// (the per-layer comparison), taken out of `hardware`.
    pub(crate) layer_compare: f64,
    pub(crate) stepped_check: f64,
    pub(crate) cost: f64,
    pub(crate) total: f64,
}

/// Runs `f`, adding its wall seconds to `acc`.
pub(crate) fn timed<T>(acc: &mut f64, f: impl FnOnce() -> T) -> T {
    let t = std::time::Instant::now();
    let v = f();
    *acc += t.elapsed().as_secs_f64();
    v
}

impl Timing {
    /// The per-layer comparison ran inside the hardware pass: its share moves out.
    pub(crate) fn take_layer_compare(&mut self, s: f64) {
        self.hardware -= s;
        self.layer_compare += s;
    }

    /// One line for stderr.
    pub(crate) fn line(&self) -> String {
        format!(
            "time: {:.1} s (load {:.1}, calibration {:.1}, FP {:.1}, float reference {:.1}, hardware {:.1}, per-layer compare {:.1}, stepped check {:.1}, cost {:.1})",
            self.total,
            self.load,
            self.calibration,
            self.fp,
            self.float_reference,
            self.hardware,
            self.layer_compare,
            self.stepped_check,
            self.cost
        )
    }
}
