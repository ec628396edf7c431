//! `sqsim run --method minmax|percentile`: FP, the method's float reference
//! and the bit-accurate uniform-integer datapath, with the uniform array's
//! cost, per dataset (the DFSQ flow is run_cmd.rs).
use super::common::{progress, resolve_ranges};
use super::fmt::{self, Format};
use super::run_args::{max_pixel_diff, timed, Args, GranArg, Timing};
use anyhow::{bail, Context};
use serde::Serialize;
use sqsim::cycle::cost::CostTable;
use sqsim::cycle::exec::{uniform_network_cost, uniform_network_shapes, UniformCycleCheckExec};
use sqsim::eval::{score, super_resolve, Scores};
use sqsim::hw::UniformHwExec;
use sqsim::image::{make_pair, save_png};
use sqsim::model::FloatExec;
use sqsim::uniform::{quantize_uniform_model, QMethod, UniformFakeQuantExec, WeightScheme};

use super::run_args::HwScores as Hw;

#[derive(Serialize)]
struct ImageRow {
    name: String,
    fp: Scores,
    float: Scores,
    #[serde(skip_serializing_if = "Option::is_none")]
    hw: Option<Hw>,
}

#[derive(Serialize, Default)]
struct Cost {
    cycles: u64,
    energy_pj: f64,
    area_um2: f64,
}

#[derive(Serialize)]
struct DatasetRow {
    name: String,
    images: usize,
    fp: Scores,
    /// The method's own float (fake-quant) reference.
    float: Scores,
    #[serde(skip_serializing_if = "Option::is_none")]
    hw: Option<Hw>,
    per_image: Vec<ImageRow>,
    #[serde(skip_serializing_if = "Option::is_none")]
    cost: Option<Cost>,
    /// Stepped outputs of the cycle model compared with the functional model, and mismatches.
    #[serde(skip_serializing_if = "Option::is_none")]
    stepped_outputs: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    cycle_mismatches: Option<u64>,
}

#[derive(Serialize)]
struct Report {
    model: String,
    wbits: u32,
    abits: u32,
    method: String,
    scale: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    hw_config: Option<String>,
    datasets: Vec<DatasetRow>,
    /// Wall seconds per phase (whole command).
    timing_s: Timing,
}

pub fn run(a: Args, qm: QMethod, wbits: u32, abits: u32) -> anyhow::Result<()> {
    if matches!(a.granularity, GranArg::PerKernel) {
        bail!("--method {}: the integer datapath requantizes per output channel; --granularity per-kernel is DFSQ float-reference only", qm.label());
    }
    let sets = super::common::resolve_sets(&a.dataset, a.limit)?;
    if let Some(dir) = &a.save_images {
        std::fs::create_dir_all(dir).with_context(|| format!("creating --save-images {}", dir.display()))?;
    }
    let start = std::time::Instant::now();
    let mut t = Timing::default();
    let model = timed(&mut t.load, || a.net.load(a.quiet))?;
    super::common::check_sets(&sets, model.scale)?;
    let t_cal = std::time::Instant::now();
    let ranges = resolve_ranges(&model, a.net.weights.is_some(), a.calib.as_deref(), &qm, a.quiet)?;
    let fq = UniformFakeQuantExec { layers: quantize_uniform_model(&model, &ranges, wbits, abits, WeightScheme::Asymmetric)? };
    t.calibration = t_cal.elapsed().as_secs_f64();
    let cfg = if a.no_hw { None } else { Some(a.hwp.load(&model)?) };
    let table = CostTable::default();
    let mut datasets = Vec::new();
    for (name, paths) in &sets {
        let pb = progress(paths.len(), name, a.quiet);
        let hw = cfg.as_ref().map(|c| UniformHwExec::new(&fq.layers, c)).transpose()?;
        let check = hw.as_ref().map(|h| UniformCycleCheckExec::new(h, a.steps));
        let mut rows = Vec::new();
        let mut cost = Cost::default();
        for p in paths {
            let pair = make_pair(p, model.scale)?;
            let (_, sr_fp) = timed(&mut t.fp, || super_resolve(&model, &pair.lr, &FloatExec))?;
            let (y_q, sr_q) = timed(&mut t.float_reference, || super_resolve(&model, &pair.lr, &fq))?;
            let (mut hw_row, mut sr_hw_img) = (None, None);
            if let (Some(h), Some(c), Some(chk)) = (&hw, &cfg, &check) {
                let before = h.total_overflow().total();
                let (y_h, sr_h) = timed(&mut t.hardware, || super_resolve(&model, &pair.lr, chk))?;
                let s = score(&sr_h, &pair.hr, model.scale)?;
                hw_row = Some(Hw { psnr: s.psnr, ssim: s.ssim, max_abs_err_vs_float: max_pixel_diff(&y_h, &y_q), overflows: h.total_overflow().total() - before });
                let nc = timed(&mut t.cost, || {
                    uniform_network_shapes(&model, &h.layers, abits, c, pair.lr.height, pair.lr.width)
                        .and_then(|shapes| uniform_network_cost(&shapes, abits, c, &table))
                })?;
                cost.cycles += nc.total.cycles;
                cost.energy_pj += nc.energy_pj.total;
                cost.area_um2 = nc.area_um2.total;
                sr_hw_img = Some(sr_h);
            }
            if let Some(dir) = &a.save_images {
                let d = dir.join(name);
                std::fs::create_dir_all(&d).with_context(|| format!("creating {}", d.display()))?;
                save_png(&d.join(format!("{}_fp.png", pair.name)), &sr_fp)?;
                save_png(&d.join(format!("{}_{}_float.png", pair.name, qm.label())), &sr_q)?;
                let hw_png = d.join(format!("{}_{}_hw.png", pair.name, qm.label()));
                match &sr_hw_img {
                    Some(img) => save_png(&hw_png, img)?,
                    // an older run's hardware image would sit beside these as if from this run
                    None => super::common::remove_if_present(&hw_png)?,
                }
            }
            rows.push(ImageRow { name: pair.name.clone(), fp: score(&sr_fp, &pair.hr, model.scale)?, float: score(&sr_q, &pair.hr, model.scale)?, hw: hw_row });
            pb.inc(1);
        }
        pb.finish_and_clear();
        if let Some(h) = &hw {
            t.take_layer_compare(h.reference_time.seconds());
        }
        if let Some(c) = &check {
            // the stepping ran inside the hardware pass
            t.hardware -= c.stepped_s();
            t.stepped_check += c.stepped_s();
        }
        datasets.push(DatasetRow {
            name: name.clone(),
            images: rows.len(),
            fp: Scores::mean(&rows.iter().map(|r| r.fp).collect::<Vec<_>>()),
            float: Scores::mean(&rows.iter().map(|r| r.float).collect::<Vec<_>>()),
            hw: hw.as_ref().map(|_| Hw::mean(&rows.iter().filter_map(|r| r.hw).collect::<Vec<_>>())),
            per_image: rows,
            cost: hw.as_ref().map(|_| cost),
            stepped_outputs: check.as_ref().map(|c| c.counts().0),
            cycle_mismatches: check.as_ref().map(|c| c.counts().1),
        });
    }
    let report = Report {
        model: model.name.clone(),
        wbits,
        abits,
        method: qm.label(),
        scale: model.scale,
        hw_config: cfg.as_ref().map(|c| c.name.clone()),
        datasets,
        timing_s: Timing { total: start.elapsed().as_secs_f64(), ..t },
    };
    if !a.quiet {
        eprintln!("{}", report.timing_s.line());
    }
    if a.format == Format::Json {
        println!("{}", serde_json::to_string_pretty(&report)?);
        return Ok(());
    }
    let mut header = vec!["dataset", "images", "fp_psnr", "fp_ssim", "float_psnr", "float_ssim", "drop_db"];
    if cfg.is_some() {
        header.extend(["hw_psnr", "hw_ssim", "hw_vs_float_db", "hw_max_err", "overflows", "energy_mj", "cycle_mismatches"]);
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
                format!("{:.3}", d.float.psnr),
                format!("{:.4}", d.float.ssim),
                format!("{:.3}", d.fp.psnr - d.float.psnr),
            ];
            if let (Some(h), Some(c)) = (d.hw, &d.cost) {
                r.extend([
                    format!("{:.3}", h.psnr),
                    format!("{:.4}", h.ssim),
                    format!("{:+.4}", h.psnr - d.float.psnr),
                    format!("{:.3}", h.max_abs_err_vs_float),
                    h.overflows.to_string(),
                    format!("{:.1}", c.energy_pj / 1e9 / d.images.max(1) as f64),
                    format!("{}/{}", d.cycle_mismatches.unwrap_or(0), d.stepped_outputs.unwrap_or(0)),
                ]);
            }
            r
        })
        .collect();
    if a.format == Format::Csv {
        print!("{}", fmt::csv(&header, &rows)?);
    } else {
        println!("{} x{}  W{wbits}A{abits}  ({}, uniform-integer datapath; energy per image)", report.model, report.scale, report.method);
        print!("{}", fmt::table(&header, &rows));
    }
    Ok(())
}
