//! `sqsim report`: one self-contained HTML sign-off page (plus its figures
//! as SVG and data as CSV/JSON) for a model over several bit-widths.
use super::common::{progress, resolve_calibration, resolve_ranges, CalibFrom};
use super::common::load_hw;
use anyhow::{bail, Context};
use sqsim::dfsq::{quantize_model, FakeQuantExec, QuantConfig};
use sqsim::report::{collect, render, resolve_layer, ReportConfig, ReportDesign};
use sqsim::select::{MAX_BITS, MIN_BITS};
use sqsim::sq::UniversalSet;
use sqsim::uniform::{grid_points, quantize_uniform_model, QMethod, UniformFakeQuantExec, WeightScheme};
use std::path::PathBuf;

#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    net: super::common::ModelArgs,
    /// Bit-widths (W = A), comma-separated.
    #[arg(long, value_delimiter = ',', default_value = "8,6,4,3")]
    bits: Vec<u32>,
    /// kmeans or optimal (DFSQ point selection, shipped calibrations), or a
    /// uniform baseline: minmax, percentile (static per-tensor ranges, the
    /// uniform-integer datapath and array) or dfsq-uniform (DFSQ
    /// normalization, uniform grid, DFSQ datapath).
    #[arg(long, default_value = "kmeans")]
    method: String,
    /// Clipping percentile of `--method percentile`, in (0, 100].
    #[arg(long, default_value_t = sqsim::uniform::DEFAULT_PERCENTILE)]
    percentile: f64,
    /// Hardware preset (TOML); default hw/configs/default.toml.
    #[arg(long)]
    hw: Option<PathBuf>,
    /// Set5, Set14, BSD100 or a directory of PNGs; repeatable.
    #[arg(long, default_value = "Set5")]
    dataset: Vec<String>,
    /// Only the first N images of each dataset.
    #[arg(long)]
    limit: Option<usize>,
    /// Quantized layer whose input distribution is plotted (default: the middle one).
    #[arg(long)]
    layer: Option<String>,
    /// Include the accuracy–cost comparison written by `sqsim compare --out FILE`
    /// (its Pareto-front figure and design table); it must be of the same model.
    #[arg(long)]
    compare: Option<PathBuf>,
    /// Output directory (created if needed).
    #[arg(long)]
    out: PathBuf,
    #[arg(long)]
    quiet: bool,
}

pub fn run(a: Args) -> anyhow::Result<()> {
    let mut bits = a.bits.clone();
    bits.sort_unstable_by(|x, y| y.cmp(x));
    bits.dedup();
    for &b in &bits {
        if !(MIN_BITS..=MAX_BITS).contains(&b) {
            bail!("invalid bits: {b} not in {MIN_BITS}..={MAX_BITS}");
        }
    }
    let qm = QMethod::parse(&a.method, a.percentile)?;
    if a.out.exists() && !a.out.is_dir() {
        bail!("--out {}: exists and is not a directory", a.out.display());
    }
    // cheap checks first: datasets, layer name, hardware config, out dir
    let datasets = super::common::resolve_sets(&a.dataset, a.limit)?;
    let model = a.net.load(a.quiet)?;
    super::common::check_sets(&datasets, model.scale)?;
    let compare = match &a.compare {
        Some(p) => {
            let c = sqsim::compare::CompareSummary::load(p)?;
            if c.model != model.name {
                bail!("--compare {}: a comparison of {}, not {}", p.display(), c.model, model.name);
            }
            Some(c)
        }
        None => None,
    };
    let layer_index = resolve_layer(&model, a.layer.as_deref())?;
    let hw = load_hw(a.hw.as_deref(), &model)?;
    std::fs::create_dir_all(&a.out).with_context(|| format!("creating --out {}", a.out.display()))?;
    probe_writable(&a.out)?;
    let configs = designs(&a, &model, qm, &bits)?;
    let n: usize = datasets.iter().map(|(_, p)| p.len()).sum();
    let pb = progress(n, "report", a.quiet);
    let cfg = ReportConfig { model: &model, hw: &hw, method: qm, configs, datasets, layer_index };
    let mut data = collect(&cfg, &|i| pb.set_position(i as u64))?;
    data.compare = compare;
    pb.finish_and_clear();
    let files = render::render(&data)?;
    render::write_all(&a.out, &files)?;
    if !a.quiet {
        eprintln!("wrote {} files to {} (open report.html)", files.len(), a.out.display());
    }
    Ok(())
}

/// One design per bit-width: DFSQ from its calibration (shipped, or made
/// and saved in --out for user weights), dfsq-uniform from the grid, the
/// static methods from their ranges (one file serves every bit-width).
fn designs(a: &Args, model: &sqsim::model::Model, qm: QMethod, bits: &[u32]) -> anyhow::Result<Vec<(u32, ReportDesign)>> {
    let ranges = if qm.is_static() { Some(resolve_ranges(model, a.net.user_weights(), None, &qm, a.quiet)?) } else { None };
    let mut out = Vec::new();
    for &b in bits {
        let q = QuantConfig { wbits: b, abits: b, ..Default::default() };
        let d = match (qm, &ranges) {
            (QMethod::Dfsq(m), _) => {
                let u = UniversalSet::default();
                let from = CalibFrom::new(None, a.net.user_weights()).into_dir(Some(&a.out));
                let cal = resolve_calibration(model, from, b, m, 0.0, &u, a.quiet)?;
                ReportDesign::Dfsq { fq: FakeQuantExec { layers: quantize_model(model, cal.point_sets(model, &u)?, &q)? }, u }
            }
            (QMethod::DfsqUniform, _) => {
                let (u, points) = grid_points(model, b)?;
                ReportDesign::Dfsq { fq: FakeQuantExec { layers: quantize_model(model, points, &q)? }, u }
            }
            (_, Some(r)) => {
                ReportDesign::Uniform(UniformFakeQuantExec { layers: quantize_uniform_model(model, r, b, b, WeightScheme::Asymmetric)? })
            }
            (m, None) => bail!("--method {}: no ranges", m.label()),
        };
        out.push((b, d));
    }
    Ok(out)
}

/// Fails early (before the long run) if files cannot be created in `dir`.
fn probe_writable(dir: &std::path::Path) -> anyhow::Result<()> {
    let p = dir.join(".sqsim-report-probe");
    std::fs::write(&p, b"").with_context(|| format!("--out {}: not writable", dir.display()))?;
    let _ = std::fs::remove_file(&p);
    Ok(())
}
