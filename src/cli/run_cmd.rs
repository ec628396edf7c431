use super::common::{progress, resolve_calibration, CalibFrom};
use super::run_args::{max_pixel_diff, timed, Args, GranArg, HwScores, Timing};
use super::fmt::{self, Format};
use super::uset_cmd::word_sets;
use anyhow::{bail, Context};
use serde::Serialize;
use sqsim::dfsq::{quantize_model, FakeQuantExec, QuantConfig};
use sqsim::eval::{score, super_resolve, Scores};
use sqsim::image::{make_pair, save_png};
use sqsim::hw::{HwExec, LayerReport};
use sqsim::cycle::exec::{CycleCheckExec, RunCost};
use sqsim::model::FloatExec;
use sqsim::quant::Granularity;
use sqsim::sq::UniversalSet;
use sqsim::uniform::{grid_points, QMethod};


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
    /// Wall seconds per phase (whole command).
    timing_s: Timing,
}



pub fn run(a: Args, qm: QMethod, wbits: u32, abits: u32) -> anyhow::Result<()> {
    if qm == QMethod::DfsqUniform {
        if wbits != abits || a.word_sets != "dfsq" {
            bail!("--method dfsq-uniform: W = A bits and the binary grid of its own (no --word-sets)");
        }
        if a.calib.is_some() {
            bail!("--method dfsq-uniform takes no --calib: its point set is the whole uniform grid");
        }
    }
    let start = std::time::Instant::now();
    let mut t = Timing::default();
    let words = word_sets(&a.word_sets)?;
    // resolve every dataset before the long work starts
    let sets = super::common::resolve_sets(&a.dataset, a.limit)?;
    if let Some(dir) = &a.save_images {
        std::fs::create_dir_all(dir).with_context(|| format!("creating --save-images {}", dir.display()))?;
    }
    let model = timed(&mut t.load, || a.net.load(a.quiet))?;
    super::common::check_sets(&sets, model.scale)?;
    let t_cal = std::time::Instant::now();
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
    t.calibration = t_cal.elapsed().as_secs_f64();
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
            let (_, sr_fp) = timed(&mut t.fp, || super_resolve(&model, &pair.lr, &FloatExec))?;
            let (y_q, sr_q) = timed(&mut t.float_reference, || super_resolve(&model, &pair.lr, &fq))?;
            let mut hw_row = None;
            let mut sr_hw_img = None;
            if let (Some(h), Some(chk)) = (&hw, &check) {
                let before = h.total_overflow().total();
                let (y_hw, sr_hw) = timed(&mut t.hardware, || super_resolve(&model, &pair.lr, chk))?;
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
        if let Some(h) = &hw {
            t.take_layer_compare(h.reference_time.seconds());
        }
        let hw_mean = hw.as_ref().map(|_| HwScores::mean(&rows.iter().filter_map(|r| r.hw).collect::<Vec<_>>()));
        let cycle = match (&check, &hw_cfg) {
            (Some(c), Some(cfg)) => {
                let r = c.report()?;
                // the cycle model ran inside the hardware pass: its share moves to its phases
                t.hardware -= r.stepped_wait_s + r.cost_s;
                t.stepped_check += r.stepped_s;
                t.cost += r.cost_s;
                Some(timed(&mut t.cost, || c.summary(cfg))?)
            }
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
        timing_s: Timing { total: start.elapsed().as_secs_f64(), ..t },
    };
    if !a.quiet {
        eprintln!("{}", report.timing_s.line());
    }
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
