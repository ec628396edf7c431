//! `sqsim report`: one self-contained HTML sign-off page (plus its figures
//! as SVG and data as CSV/JSON) for a model over several bit-widths.
use super::common::{progress, resolve_calibration, CalibFrom};
use super::run_cmd::load_hw;
use anyhow::{bail, Context};
use sqsim::dfsq::{quantize_model, FakeQuantExec, QuantConfig};
use sqsim::report::{collect, render, resolve_layer, ReportConfig};
use sqsim::select::{Method, MAX_BITS, MIN_BITS};
use sqsim::sq::UniversalSet;
use std::path::PathBuf;

#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    net: super::common::ModelArgs,
    /// Bit-widths (W = A), comma-separated.
    #[arg(long, value_delimiter = ',', default_value = "8,6,4,3")]
    bits: Vec<u32>,
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
    let u = UniversalSet::default();
    let mut configs = Vec::new();
    for &b in &bits {
        let cal = resolve_calibration(&model, CalibFrom::new(None, a.net.user_weights()).into_dir(Some(&a.out)), b, Method::KMeans, 0.0, &u, a.quiet)?;
        let q = QuantConfig { wbits: b, abits: b, ..Default::default() };
        configs.push((b, FakeQuantExec { layers: quantize_model(&model, cal.point_sets(&model, &u)?, &q)? }));
    }
    let n: usize = datasets.iter().map(|(_, p)| p.len()).sum();
    let pb = progress(n, "report", a.quiet);
    let cfg = ReportConfig { model: &model, u: &u, hw: &hw, configs, datasets, layer_index };
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

/// Fails early (before the long run) if files cannot be created in `dir`.
fn probe_writable(dir: &std::path::Path) -> anyhow::Result<()> {
    let p = dir.join(".sqsim-report-probe");
    std::fs::write(&p, b"").with_context(|| format!("--out {}: not writable", dir.display()))?;
    let _ = std::fs::remove_file(&p);
    Ok(())
}
