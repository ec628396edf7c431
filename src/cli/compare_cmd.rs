//! `sqsim compare`: DFSQ against the uniform-integer designs, bit-accurate
//! accuracy and cycle-model cost of each, the Pareto fronts and a budget.
use super::common::{progress, resolve_calibration, CalibFrom, resolve_ranges, HwArgs, ModelArgs};
use super::fmt::{self, Format};
use anyhow::{bail, Context};
use sqsim::provenance::Provenance;
use serde::{Deserialize, Serialize};
use sqsim::compare::{budget, default_designs, mark_pareto, Budget, CalibInput, DesignRow, DesignSpec, Prepared};
use sqsim::cycle::cost::CostTable;
use sqsim::eval::{score, super_resolve, Scores};
use sqsim::image::make_pair;
use sqsim::model::FloatExec;
use sqsim::sq::UniversalSet;
use sqsim::select::Method;
use sqsim::uniform::{QMethod, WeightScheme, DEFAULT_PERCENTILE};
use std::path::PathBuf;

#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    net: ModelArgs,
    /// Set5, Set14, BSD100 or a directory of PNGs; repeatable (scores are
    /// means over all images).
    #[arg(long, default_value = "Set5")]
    dataset: Vec<String>,
    /// Evaluate only the first N images of each dataset.
    #[arg(long)]
    limit: Option<usize>,
    /// Designs as METHOD-BITS[+LEVER…] (kmeans-4, minmax-8, percentile-6,
    /// dfsq-uniform-4, optimal-energy:0.001-4, w8a8), comma-separated;
    /// DFSQ levers: +gate (term gating), +idx (b-bit indices in the act
    /// buffer), +pstats (stats at the producer), +all. Default: the full list.
    #[arg(long, value_delimiter = ',')]
    designs: Vec<String>,
    /// Clipping percentile of the percentile designs, in (0, 100].
    #[arg(long, default_value_t = DEFAULT_PERCENTILE)]
    percentile: f64,
    /// Report the cheapest design (energy) within this many dB of FP.
    #[arg(long)]
    budget_db: Option<f64>,
    #[command(flatten)]
    hwp: HwArgs,
    /// Calibrations saved as MODEL_aBITS_METHOD.calib.json (by an earlier
    /// run with user weights, or `sqsim calibrate --out`) are taken from
    /// here, each checked against the model, weights, method and bits; the
    /// missing ones are made on calib32 and saved here.
    #[arg(long)]
    calib_dir: Option<PathBuf>,
    #[arg(long, value_enum, default_value = "table")]
    format: Format,
    /// Also write the JSON here (atomically).
    #[arg(long)]
    out: Option<PathBuf>,
    /// Write the Pareto-front figure (SVG) here.
    #[arg(long)]
    figure: Option<PathBuf>,
    /// Evaluate only designs with index ≡ I (mod N), for a cluster job
    /// array; `--merge` then combines the shards (fronts and budget there).
    #[arg(long, conflicts_with_all = ["merge", "budget_db"])]
    shard: Option<String>,
    /// Merge shard JSONs written by `--shard I/N --out F` into the single-run result.
    #[arg(long, num_args = 1..)]
    merge: Vec<PathBuf>,
    #[arg(long)]
    quiet: bool,
}

#[derive(Serialize, Deserialize, PartialEq, Clone)]
struct DatasetInfo {
    name: String,
    images: usize,
}

#[derive(Serialize, Deserialize, PartialEq, Clone)]
struct ShardInfo {
    index: usize,
    count: usize,
    /// Position of each of this shard's designs in `designs_requested`.
    design_indices: Vec<usize>,
}

#[derive(Serialize, Deserialize)]
struct Report {
    model: String,
    hw_config: String,
    datasets: Vec<DatasetInfo>,
    fp: Scores,
    /// Every design of the request (all shards), in order.
    #[serde(default)]
    designs_requested: Vec<String>,
    designs: Vec<DesignRow>,
    #[serde(skip_serializing_if = "Option::is_none")]
    budget: Option<Budget>,
    #[serde(skip_serializing_if = "Option::is_none")]
    shard: Option<ShardInfo>,
    /// What it was made from (tool, weights, config, images, percentile);
    /// `--merge` refuses shards whose provenance differs.
    #[serde(default)]
    provenance: Provenance,
}

/// `METHOD-BITS[+LEVER…]`: kmeans-4, minmax-8, optimal-energy:0.001-4,
/// kmeans-4+gate+idx+pstats (or +all), w8a8.
fn parse_design(s: &str, pct: f64) -> anyhow::Result<DesignSpec> {
    let t = s.trim().to_ascii_lowercase();
    let mut parts = t.split('+');
    let base = parts.next().unwrap_or_default();
    let mut levers = sqsim::config::LeverConfig::default();
    for tag in parts {
        levers.set_tag(tag).map_err(|e| anyhow::anyhow!("invalid design `{s}`: {e}"))?;
    }
    if base == "w8a8" || base == "w8a8-int" {
        return Ok(DesignSpec::new(QMethod::MinMax, 8, WeightScheme::Symmetric).with_levers(levers));
    }
    let Some((m, b)) = base.rsplit_once('-') else {
        bail!("invalid design `{s}`: expected METHOD-BITS[+LEVER] (e.g. kmeans-4, minmax-8, optimal-energy:0.001-4, kmeans-4+gate) or w8a8")
    };
    let bits: u32 = b.parse().map_err(|_| anyhow::anyhow!("invalid design `{s}`: `{b}` is not a bit-width"))?;
    if !(2..=8).contains(&bits) {
        bail!("invalid design `{s}`: bits {bits} not in 2..=8");
    }
    let (m, lambda) = match m.split_once(':') {
        Some((m, l)) => (m, l.parse::<f64>().map_err(|_| anyhow::anyhow!("invalid design `{s}`: λ `{l}` is not a number"))?),
        None => (m, 0.0),
    };
    let m = if m == "dfsq" { "kmeans" } else { m };
    let method = QMethod::parse(m, pct)?;
    match method {
        QMethod::Dfsq(Method::Exhaustive) => bail!("invalid design `{s}`: exhaustive selection is exponential in |U|; use kmeans or optimal"),
        QMethod::Dfsq(sel) => sqsim::select::check_lambda(sel, lambda).map_err(|e| anyhow::anyhow!("invalid design `{s}`: {e}"))?,
        _ if lambda != 0.0 => bail!("invalid design `{s}`: only optimal-energy takes a λ"),
        _ => {}
    }
    if method == QMethod::Dfsq(Method::OptimalEnergy) && !base.contains(':') {
        bail!("invalid design `{s}`: optimal-energy needs its λ, e.g. optimal-energy:0.001-{bits}");
    }
    let d = DesignSpec::new(method, bits, WeightScheme::Asymmetric).with_lambda(lambda).with_levers(levers);
    d.check_levers().map_err(|e| anyhow::anyhow!("invalid design `{s}`: {e}"))?;
    Ok(d)
}

pub fn run(a: Args) -> anyhow::Result<()> {
    if !(a.percentile > 0.0 && a.percentile <= 100.0) {
        bail!("invalid --percentile: {} not in (0, 100]", a.percentile);
    }
    if let Some(b) = a.budget_db {
        if !(b.is_finite() && b >= 0.0) {
            bail!("invalid --budget-db: {b} must be a finite number ≥ 0");
        }
    }
    if !a.merge.is_empty() {
        return merge(&a);
    }
    let shard = a.shard.as_deref().map(super::sweep_cmd::parse_shard).transpose()?;
    let specs: Vec<DesignSpec> = if a.designs.is_empty() {
        default_designs(a.percentile)
    } else {
        a.designs.iter().map(|d| parse_design(d, a.percentile)).collect::<anyhow::Result<_>>()?
    };
    for o in a.out.iter().chain(&a.figure) {
        super::common::check_writable(o)?;
    }
    if let Some(d) = &a.calib_dir {
        // fresh calibrations are saved there: it must exist and take files
        std::fs::create_dir_all(d).with_context(|| format!("--calib-dir {}: cannot create the directory", d.display()))?;
        if !d.is_dir() {
            bail!("--calib-dir {}: not a directory", d.display());
        }
    }
    let sets = super::common::resolve_sets(&a.dataset, a.limit)?;
    let requested: Vec<String> = specs.iter().map(|s| s.name.clone()).collect();
    for (i, n) in requested.iter().enumerate() {
        if requested[..i].contains(n) {
            bail!("invalid --designs: `{n}` is listed twice");
        }
    }
    let picked: Vec<usize> = (0..specs.len()).filter(|i| shard.is_none_or(|(s, n)| i % n == s)).collect();
    let specs: Vec<DesignSpec> = specs.into_iter().enumerate().filter(|(i, _)| picked.contains(i)).map(|(_, s)| s).collect();
    let model = a.net.load(a.quiet)?;
    super::common::check_sets(&sets, model.scale)?;
    let cfg = a.hwp.load(&model)?;
    let u = UniversalSet::default();
    let user = a.net.weights.is_some();
    // designs that differ only in levers share one prepared run
    let mut prepared: Vec<Prepared> = Vec::new();
    let mut slot: Vec<(usize, usize)> = Vec::new(); // design → (prepared, variant)
    for s in specs {
        let name = s.name.clone();
        if let Some(i) = prepared.iter().position(|p| p.spec.same_numbers(&s)) {
            prepared[i].add_variant(s, &cfg).with_context(|| format!("design {name}"))?;
            slot.push((i, prepared[i].variants.len() - 1));
            continue;
        }
        let calib = match s.method {
            QMethod::Dfsq(m) => {
                let c = resolve_calibration(&model, CalibFrom::new(None, user).beside(a.out.as_deref()).from_dir(a.calib_dir.as_deref()), s.bits, m, s.lambda, &u, a.quiet)?;
                CalibInput::Points(c.point_sets(&model, &u)?)
            }
            QMethod::DfsqUniform => CalibInput::None,
            m => CalibInput::Ranges(resolve_ranges(&model, user, None, &m, a.quiet)?),
        };
        prepared.push(Prepared::new(&model, s, calib, &u, &cfg).with_context(|| format!("design {name}"))?);
        slot.push((prepared.len() - 1, 0));
    }
    let mut images = Vec::new();
    for (_, paths) in &sets {
        images.extend(paths.iter().cloned());
    }
    let provenance = Provenance::new()
        .with("command", "compare")
        .with("model", &model.name)
        .with("weights_sha256", model.weights_sha256())
        .with("hw_config_sha256", sqsim::provenance::json_sha256(&cfg))
        .with("images_sha256", sqsim::provenance::files_sha256(&images)?)
        .with("percentile", a.percentile);
    let table = CostTable::default();
    let n_img: usize = sets.iter().map(|s| s.1.len()).sum();
    let pb = progress(n_img, "comparing", a.quiet);
    let mut fp = Vec::new();
    // evals[prepared][variant][image]
    let mut evals: Vec<Vec<Vec<_>>> = prepared.iter().map(|p| vec![Vec::new(); p.variants.len()]).collect();
    for (_, paths) in &sets {
        for p in paths {
            let pair = make_pair(p, model.scale)?;
            let (_, sr) = super_resolve(&model, &pair.lr, &FloatExec)?;
            fp.push(score(&sr, &pair.hr, model.scale)?);
            for (d, e) in prepared.iter().zip(evals.iter_mut()) {
                let per = d.eval(&model, &pair, &table).with_context(|| format!("design {} on {}", d.spec.name, pair.name))?;
                for (v, x) in e.iter_mut().zip(per) {
                    v.push(x);
                }
            }
            pb.inc(1);
        }
    }
    pb.finish_and_clear();
    let fp = Scores::mean(&fp);
    let mut rows: Vec<DesignRow> = slot
        .iter()
        .map(|&(i, v)| {
            let (spec, c) = &prepared[i].variants[v];
            DesignRow::from_evals(spec, c, &evals[i][v])
        })
        .collect();
    if shard.is_none() {
        mark_pareto(&mut rows);
    }
    let report = Report {
        model: model.name.clone(),
        hw_config: cfg.name.clone(),
        datasets: sets.iter().map(|(n, p)| DatasetInfo { name: n.clone(), images: p.len() }).collect(),
        fp,
        designs_requested: requested,
        budget: a.budget_db.map(|db| budget(&rows, fp.psnr, db)),
        designs: rows,
        shard: shard.map(|(index, count)| ShardInfo { index, count, design_indices: picked }),
        provenance,
    };
    finish(&a, report)
}

/// Writes and prints a finished comparison; an unmet budget is an error
/// after the (complete) results are out.
fn finish(a: &Args, report: Report) -> anyhow::Result<()> {
    let fp = report.fp;
    let json = serde_json::to_string_pretty(&report)?;
    if let Some(o) = &a.out {
        sqsim::io_util::atomic_write(o, format!("{json}\n").as_bytes())?;
    }
    if let Some(f) = &a.figure {
        sqsim::io_util::atomic_write(f, sqsim::report::render::front_svg(&report.designs, fp.psnr)?.as_bytes())?;
    }
    match a.format {
        Format::Json => println!("{json}"),
        f => print_table(&report, f)?,
    }
    if report.shard.is_some() && !a.quiet {
        eprintln!("note: a shard; Pareto fronts and --budget-db come from `sqsim compare --merge`");
    }
    if let Some(b) = &report.budget {
        if b.design.is_none() {
            bail!("{}", b.message);
        }
    }
    Ok(())
}

/// Combines shard JSONs: every shard of one request exactly once, the same
/// model, preset, images and FP scores; designs back in request order, then
/// the fronts and the budget over all of them.
fn merge(a: &Args) -> anyhow::Result<()> {
    for o in a.out.iter().chain(&a.figure) {
        super::common::check_writable(o)?;
    }
    // each shard with its shard information taken out
    let mut parts: Vec<(Report, ShardInfo)> = Vec::new();
    for p in &a.merge {
        let b = sqsim::io_util::read_input(p).with_context(|| format!("reading {}", p.display()))?;
        let mut r: Report = serde_json::from_slice(&b).map_err(|e| anyhow::anyhow!("{}: not a `sqsim compare --shard` JSON: {e}", p.display()))?;
        let Some(s) = r.shard.take() else { bail!("{}: not a shard (written without --shard)", p.display()) };
        parts.push((r, s));
    }
    let (first, count) = (&parts[0].0, parts[0].1.count);
    let mut seen = vec![false; count];
    for (p, (r, s)) in a.merge.iter().zip(&parts) {
        if r.provenance.get("command") != Some("compare") {
            bail!("{}: records no provenance (written by an older sqsim); rerun that shard", p.display());
        }
        r.provenance.require_same(&first.provenance, &p.display().to_string(), &a.merge[0].display().to_string())?;
        let same = r.model == first.model
            && r.hw_config == first.hw_config
            && r.datasets == first.datasets
            && r.fp == first.fp
            && r.designs_requested == first.designs_requested;
        if !same {
            bail!("{}: from another comparison (model, preset, datasets, FP scores or design list differ from {})", p.display(), a.merge[0].display());
        }
        if s.count != count || s.index >= count || std::mem::replace(&mut seen[s.index], true) {
            bail!("{}: shard {}/{} repeats a shard or belongs to another split ({count} shards)", p.display(), s.index, s.count);
        }
        if s.design_indices.len() != r.designs.len() || s.design_indices.iter().zip(&r.designs).any(|(&i, d)| r.designs_requested.get(i) != Some(&d.name)) {
            bail!("{}: its designs do not match its shard's design list", p.display());
        }
        if let Some(d) = r.designs.iter().find(|d| !(d.hw.psnr.is_finite() && d.energy_mj.is_finite())) {
            bail!("{}: design {} has a non-finite result", p.display(), d.name);
        }
    }
    if let Some(i) = seen.iter().position(|s| !s) {
        bail!("shard {i}/{count} is missing");
    }
    let mut rows: Vec<(usize, DesignRow)> =
        parts.iter().flat_map(|(r, s)| s.design_indices.iter().copied().zip(r.designs.iter().cloned())).collect();
    rows.sort_by_key(|(i, _)| *i);
    let mut designs: Vec<DesignRow> = rows.into_iter().map(|(_, d)| d).collect();
    mark_pareto(&mut designs);
    let fp = first.fp;
    let report = Report {
        model: first.model.clone(),
        hw_config: first.hw_config.clone(),
        datasets: first.datasets.clone(),
        fp,
        designs_requested: first.designs_requested.clone(),
        budget: a.budget_db.map(|db| budget(&designs, fp.psnr, db)),
        designs,
        shard: None,
        provenance: first.provenance.clone(),
    };
    finish(a, report)
}

fn print_table(r: &Report, f: Format) -> anyhow::Result<()> {
    let header = [
        "design", "method", "bits", "hw_psnr", "hw_ssim", "float_psnr", "drop_db", "ovf", "energy_mj", "pe", "denorm", "psum",
        "act_buf", "dram", "other", "area_mm2", "Mcycles", "front",
    ];
    let rows: Vec<Vec<String>> = r
        .designs
        .iter()
        .map(|d| {
            let b = &d.energy_breakdown_mj;
            vec![
                d.name.clone(),
                d.method.clone(),
                d.bits.to_string(),
                format!("{:.3}", d.hw.psnr),
                format!("{:.4}", d.hw.ssim),
                format!("{:.3}", d.float.psnr),
                format!("{:.3}", r.fp.psnr - d.hw.psnr),
                d.overflows.to_string(),
                format!("{:.1}", d.energy_mj),
                format!("{:.1}", b.pe),
                format!("{:.1}", b.denorm),
                format!("{:.1}", b.psum_buf),
                format!("{:.1}", b.act_buf),
                format!("{:.1}", b.dram),
                format!("{:.2}", b.output + b.quantizer + b.stats + b.weight_buf),
                format!("{:.3}", d.area_mm2),
                format!("{:.1}", d.cycles / 1e6),
                match (d.pareto, d.pareto_area) {
                    (true, true) => "E,A",
                    (true, false) => "E",
                    (false, true) => "A",
                    _ => "",
                }
                .into(),
            ]
        })
        .collect();
    if f == Format::Csv {
        print!("{}", fmt::csv(&header, &rows)?);
        return Ok(());
    }
    let ds: Vec<String> = r.datasets.iter().map(|d| format!("{} ({})", d.name, d.images)).collect();
    println!("{} on {}, hw preset {}; FP {:.3} dB / {:.4}", r.model, ds.join(", "), r.hw_config, r.fp.psnr, r.fp.ssim);
    println!("energy mJ per image (timing-mode cycle model, hw/COST.md); front: on the PSNR-vs-energy (E) / -area (A) Pareto front");
    print!("{}", fmt::table(&header, &rows));
    if let Some(b) = &r.budget {
        println!("\nbudget: {}", b.message);
    }
    Ok(())
}
