use super::common::{progress, resolve_calibration, CalibFrom, HwArgs, ModelArgs};
use super::fmt::{self, Format};
use super::uset_cmd::word_sets;
use anyhow::{bail, Context};
use serde::Serialize;
use sqsim::dfsq::{quantize_model, FakeQuantExec, QuantConfig};
use sqsim::eval::{score, super_resolve, Scores};
use sqsim::image::{make_pair, save_png};
use sqsim::config::HwConfig;
use sqsim::hw::{HwExec, LayerReport};
use sqsim::cycle::exec::{CycleCheckExec, RunCost};
use sqsim::model::FloatExec;
use sqsim::quant::Granularity;
use sqsim::select::{MAX_BITS, MIN_BITS};
use sqsim::sq::UniversalSet;
use sqsim::uniform::{grid_points, QMethod};
use std::path::PathBuf;

#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub(crate) net: ModelArgs,
    /// Weight and activation bits (2..8); --wbits/--abits override one side.
    #[arg(long, default_value_t = 4)]
    bits: u32,
    #[arg(long)]
    wbits: Option<u32>,
    #[arg(long)]
    abits: Option<u32>,
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
    word_sets: String,
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

#[derive(Serialize)]
struct ImageRow {
    name: String,
    fp: Scores,
    dfsq_float: Scores,
    #[serde(skip_serializing_if = "Option::is_none")]
    hw: Option<HwScores>,
}

#[derive(Serialize)]
struct DatasetRow {
    name: String,
    images: usize,
    fp: Scores,
    dfsq_float: Scores,
    #[serde(skip_serializing_if = "Option::is_none")]
    hw: Option<HwScores>,
    per_image: Vec<ImageRow>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    layers: Vec<LayerReport>,
    // --- cycle model (src/cycle): stepped-vs-functional mismatches and cost ---
    #[serde(skip_serializing_if = "Option::is_none")]
    cycle_mismatches: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    cost: Option<RunCost>,
}

#[derive(Serialize)]
struct Report {
    model: String,
    bits: u32,
    wbits: u32,
    abits: u32,
    method: String,
    scale: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    hw_config: Option<String>,
    datasets: Vec<DatasetRow>,
}

/// `--hw FILE`, else the model's preset: by pixel range (activations of a
/// [0, 1] network are 255× smaller and keep 16 fractional bits:
/// rdn_isr.toml), then family (EDSR-PyTorch RDN: rdn.toml, a weight buffer
/// for its dense blocks' wide inputs), else default.toml.
pub fn load_hw(path: Option<&std::path::Path>, model: &sqsim::model::Model) -> anyhow::Result<HwConfig> {
    match path {
        Some(p) => Ok(HwConfig::load(p)?),
        None => {
            let preset = match (model.rgb_range() == 1.0, model.arch_name()) {
                (true, _) => "rdn_isr.toml",
                (false, "rdn") => "rdn.toml",
                _ => "default.toml",
            };
            let p = sqsim::paths::home().join("hw/configs").join(preset);
            if p.exists() {
                Ok(HwConfig::load(&p)?)
            } else {
                Ok(HwConfig::default())
            }
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

pub fn run(a: Args) -> anyhow::Result<()> {
    let wbits = check_bits("wbits", a.wbits.unwrap_or(a.bits))?;
    let abits = check_bits("abits", a.abits.unwrap_or(a.bits))?;
    check_bits("bits", a.bits)?;
    sqsim::limits::check("--steps", a.steps as u128, sqsim::limits::MAX_STEPS as u128, "tiles per layer")?;
    let qm = QMethod::parse(&a.method, a.percentile)?;
    if a.lambda != 0.0 && qm != QMethod::Dfsq(sqsim::select::Method::OptimalEnergy) {
        bail!("invalid --lambda: only optimal-energy takes a λ ({} given for --method {})", a.lambda, a.method);
    }
    if qm.is_static() {
        return super::run_uniform::run(a, qm, wbits, abits);
    }
    if qm == QMethod::DfsqUniform {
        if wbits != abits || a.word_sets != "dfsq" {
            bail!("--method dfsq-uniform: W = A bits and the binary grid of its own (no --word-sets)");
        }
        if a.calib.is_some() {
            bail!("--method dfsq-uniform takes no --calib: its point set is the whole uniform grid");
        }
    }
    let words = word_sets(&a.word_sets)?;
    // resolve every dataset before the long work starts
    let sets = super::common::resolve_sets(&a.dataset, a.limit)?;
    if let Some(dir) = &a.save_images {
        std::fs::create_dir_all(dir).with_context(|| format!("creating --save-images {}", dir.display()))?;
    }
    let model = a.net.load(a.quiet)?;
    super::common::check_sets(&sets, model.scale)?;
    let (u, points) = match qm {
        QMethod::Dfsq(method) => {
            let u = UniversalSet::new(words)?;
            let calib = resolve_calibration(&model, CalibFrom::new(a.calib.as_deref(), a.net.user_weights()).into_dir(a.save_images.as_deref()), abits, method, a.lambda, &u, a.quiet)?;
            let points = calib.point_sets(&model, &u)?;
            (u, points)
        }
        _ => grid_points(&model, abits)?,
    };
    let granularity = match a.granularity {
        GranArg::PerOutputChannel => Granularity::PerOutputChannel,
        GranArg::PerKernel => Granularity::PerKernel,
    };
    let qcfg = QuantConfig { wbits, abits, granularity };
    let fq = FakeQuantExec { layers: quantize_model(&model, points, &qcfg)? };
    let hw_cfg = if a.no_hw { None } else { Some(a.hwp.load(&model)?) };

    let mut datasets = Vec::new();
    for (name, paths) in &sets {
        let pb = progress(paths.len(), name, a.quiet);
        let mut rows = Vec::new();
        // one executor per dataset so its per-layer report covers that dataset
        let hw = match &hw_cfg {
            Some(c) => Some(HwExec::new(&fq.layers, &u, c, Some(&fq))?),
            None => None,
        };
        // cycle model: wraps the datapath, steps tiles, compares (src/cycle)
        let check = hw.as_ref().map(|h| CycleCheckExec::new(h, u.words.clone(), abits, a.steps));
        for p in paths {
            let pair = make_pair(p, model.scale)?;
            let (_, sr_fp) = super_resolve(&model, &pair.lr, &FloatExec)?;
            let (y_q, sr_q) = super_resolve(&model, &pair.lr, &fq)?;
            let mut hw_row = None;
            let mut sr_hw_img = None;
            if let (Some(h), Some(chk)) = (&hw, &check) {
                let before = h.total_overflow().total();
                let (y_hw, sr_hw) = super_resolve(&model, &pair.lr, chk)?;
                let s = score(&sr_hw, &pair.hr, model.scale)?;
                hw_row = Some(HwScores {
                    psnr: s.psnr,
                    ssim: s.ssim,
                    max_abs_err_vs_float: max_pixel_diff(&y_hw, &y_q),
                    overflows: h.total_overflow().total() - before,
                });
                sr_hw_img = Some(sr_hw);
            }
            if let Some(dir) = &a.save_images {
                let d = dir.join(name);
                std::fs::create_dir_all(&d).with_context(|| format!("creating {}", d.display()))?;
                save_png(&d.join(format!("{}_fp.png", pair.name)), &sr_fp)?;
                save_png(&d.join(format!("{}_dfsq_float.png", pair.name)), &sr_q)?;
                let hw_png = d.join(format!("{}_hw.png", pair.name));
                match &sr_hw_img {
                    Some(img) => save_png(&hw_png, img)?,
                    // an older run's hardware image would sit beside these as if from this run
                    None => super::common::remove_if_present(&hw_png)?,
                }
            }
            rows.push(ImageRow {
                name: pair.name.clone(),
                fp: score(&sr_fp, &pair.hr, model.scale)?,
                dfsq_float: score(&sr_q, &pair.hr, model.scale)?,
                hw: hw_row,
            });
            pb.inc(1);
        }
        pb.finish_and_clear();
        let hw_mean = hw.as_ref().map(|_| HwScores::mean(&rows.iter().filter_map(|r| r.hw).collect::<Vec<_>>()));
        let cycle = match (&check, &hw_cfg) {
            (Some(c), Some(cfg)) => Some(c.summary(cfg)),
            _ => None,
        };
        drop(check);
        datasets.push(DatasetRow {
            name: name.clone(),
            images: rows.len(),
            fp: Scores::mean(&rows.iter().map(|r| r.fp).collect::<Vec<_>>()),
            dfsq_float: Scores::mean(&rows.iter().map(|r| r.dfsq_float).collect::<Vec<_>>()),
            hw: hw_mean,
            per_image: rows,
            layers: hw.map(|h| h.reports()).unwrap_or_default(),
            cycle_mismatches: cycle.as_ref().map(|c| c.0),
            cost: cycle.map(|c| c.1),
        });
    }
    let report = Report {
        model: model.name.clone(),
        bits: a.bits,
        wbits,
        abits,
        method: match qm {
            QMethod::Dfsq(m) => format!("dfsq-{}", m.label(a.lambda)),
            _ => qm.label(),
        },
        scale: model.scale,
        hw_config: hw_cfg.as_ref().map(|c| c.name.clone()),
        datasets,
    };
    match a.format {
        Format::Json => println!("{}", serde_json::to_string_pretty(&report)?),
        Format::Table | Format::Csv => {
            let mut header = vec!["dataset", "images", "fp_psnr", "fp_ssim", "dfsq_psnr", "dfsq_ssim", "drop_db"];
            if hw_cfg.is_some() {
                header.extend(["hw_psnr", "hw_ssim", "hw_vs_float_db", "hw_max_err", "overflows"]);
            }
            let rows: Vec<Vec<String>> = report
                .datasets
                .iter()
                .map(|d| {
                    let mut r = vec![
                        d.name.clone(),
                        d.images.to_string(),
                        format!("{:.3}", d.fp.psnr),
                        format!("{:.4}", d.fp.ssim),
                        format!("{:.3}", d.dfsq_float.psnr),
                        format!("{:.4}", d.dfsq_float.ssim),
                        format!("{:.3}", d.fp.psnr - d.dfsq_float.psnr),
                    ];
                    if let Some(h) = d.hw {
                        r.extend([
                            format!("{:.3}", h.psnr),
                            format!("{:.4}", h.ssim),
                            format!("{:+.4}", h.psnr - d.dfsq_float.psnr),
                            format!("{:.3}", h.max_abs_err_vs_float),
                            h.overflows.to_string(),
                        ]);
                    }
                    r
                })
                .collect();
            if a.format == Format::Csv {
                print!("{}", fmt::csv(&header, &rows)?);
            } else {
                println!("{} x{}  W{wbits}A{abits}  ({} selection)", report.model, report.scale, report.method);
                print!("{}", fmt::table(&header, &rows));
                for d in &report.datasets {
                    if d.layers.is_empty() {
                        continue;
                    }
                    if let (Some(m), Some(c)) = (d.cycle_mismatches, &d.cost) {
                        println!(
                            "\ncycle model ({}): {} stepped outputs, {m} mismatches; {} cycles, {:.1} µJ (int-mult baseline {:.1} µJ)",
                            d.name, c.stepped_outputs, c.cycles, c.energy_pj / 1e6, c.baseline_energy_pj / 1e6
                        );
                    }
                    println!("\nper-layer error of the datapath vs the float reference ({}, same inputs):", d.name);
                    let lh = ["layer", "w_bits", "max_abs_err", "rel_err_energy", "overflows"];
                    let lr: Vec<Vec<String>> = d
                        .layers
                        .iter()
                        .map(|l| {
                            vec![
                                l.name.clone(),
                                l.weight_bits.to_string(),
                                format!("{:.4}", l.max_abs_err),
                                format!("{:.3e}", l.err_energy / l.ref_energy.max(1e-30)),
                                l.overflow.total().to_string(),
                            ]
                        })
                        .collect();
                    print!("{}", fmt::table(&lh, &lr));
                }
            }
        }
    }
    Ok(())
}
