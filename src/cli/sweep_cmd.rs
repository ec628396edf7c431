use super::common::{check_writable, progress, resolve_calibration, CalibFrom, HwArgs, ModelArgs};
use super::fmt::{self, Format};
use anyhow::{bail, Context};
use sqsim::config::DenormFormat;
use sqsim::dfsq::{quantize_model, FakeQuantExec, QuantConfig};
use sqsim::provenance::Provenance;
use sqsim::image::make_pair;
use sqsim::select::Method;
use sqsim::sq::UniversalSet;
use sqsim::sweep::{cheapest, evaluate, grid, Axes, EvalSet, SweepRow};
use std::path::PathBuf;

#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    net: ModelArgs,
    #[arg(long, default_value_t = 4)]
    bits: u32,
    #[arg(long, default_value = "kmeans")]
    method: String,
    #[arg(long)]
    calib: Option<PathBuf>,
    #[arg(long, default_value = "Set5")]
    dataset: String,
    #[arg(long)]
    limit: Option<usize>,
    /// (--hw: the base hardware preset the sweep varies.)
    #[command(flatten)]
    hwp: HwArgs,
    #[arg(long, value_delimiter = ',', default_value = "full,mantissa,pow2")]
    formats: Vec<String>,
    /// M̂/μ̂ mantissa widths (mantissa and pow2 formats).
    #[arg(long, value_delimiter = ',', default_value = "4,6,8,10")]
    mant_bits: Vec<u32>,
    #[arg(long, value_delimiter = ',', default_value = "28,32,40,48")]
    acc_bits: Vec<u32>,
    #[arg(long, value_delimiter = ',', default_value = "16,20,24")]
    act_bits: Vec<u32>,
    #[arg(long, value_delimiter = ',', default_value = "8")]
    act_frac_bits: Vec<u32>,
    /// Full product of the axes instead of one factor at a time.
    #[arg(long)]
    full_grid: bool,
    /// PSNR loss against the float reference a configuration may have.
    #[arg(long, default_value_t = 0.02)]
    budget_db: f64,
    /// Run only candidates with index ≡ I (mod N): `--shard I/N`.
    #[arg(long)]
    shard: Option<String>,
    /// CSV output (written atomically).
    #[arg(long)]
    out: Option<PathBuf>,
    #[arg(long, value_enum, default_value = "table")]
    format: Format,
    #[arg(long)]
    quiet: bool,
}

pub fn parse_shard(s: &str) -> anyhow::Result<(usize, usize)> {
    let (i, n) = s.split_once('/').with_context(|| format!("--shard `{s}`: expected I/N"))?;
    let num = |t: &str, what: &str| -> anyhow::Result<usize> {
        t.trim().parse().map_err(|_| anyhow::anyhow!("--shard `{s}`: {what} `{t}` is not a whole number (expected I/N, e.g. 0/4)"))
    };
    let (i, n) = (num(i, "shard index")?, num(n, "shard count")?);
    if n == 0 || i >= n {
        bail!("--shard {s}: need 0 <= I < N");
    }
    Ok((i, n))
}

/// The CSV a sweep writes: its provenance line, then the rows.
pub fn sweep_csv(prov: &Provenance, rows: &[SweepRow]) -> anyhow::Result<String> {
    Ok(sqsim::provenance::csv_with(prov, &rows_csv(rows)?)?)
}

pub fn rows_csv(rows: &[SweepRow]) -> anyhow::Result<String> {
    let mut w = csv::Writer::from_writer(Vec::new());
    for r in rows {
        w.serialize(r)?;
    }
    Ok(String::from_utf8(w.into_inner()?)?)
}

pub fn run(a: Args) -> anyhow::Result<()> {
    let formats = a
        .formats
        .iter()
        .map(|f| match f.to_ascii_lowercase().as_str() {
            "full" => Ok(DenormFormat::Full),
            "mantissa" => Ok(DenormFormat::Mantissa),
            "pow2" => Ok(DenormFormat::Pow2),
            _ => bail!("unknown de-normalization format `{f}` (known: full, mantissa, pow2)"),
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    if !(a.budget_db.is_finite() && a.budget_db >= 0.0) {
        bail!("invalid --budget-db {}: must be a non-negative number", a.budget_db);
    }
    let shard = a.shard.as_deref().map(parse_shard).transpose()?;
    if let Some(out) = &a.out {
        check_writable(out)?;
    }
    let method: Method = a.method.parse()?;
    let model = a.net.load(a.quiet)?;
    let base = a.hwp.load(&model)?;
    let axes = Axes {
        formats,
        mant_bits: a.mant_bits.clone(),
        acc_bits: a.acc_bits.clone(),
        act_bits: a.act_bits.clone(),
        act_frac_bits: a.act_frac_bits.clone(),
    };
    axes.validate(&base)?;
    let points = grid(&base, &axes, a.full_grid);
    if points.is_empty() {
        bail!("the sweep axes give no valid configuration");
    }
    sqsim::limits::check("the sweep's axes", points.len() as u128, sqsim::limits::MAX_SWEEP_CANDIDATES as u128, "configurations")?;
    let sets = super::common::resolve_sets(std::slice::from_ref(&a.dataset), a.limit)?;
    super::common::check_sets(&sets, model.scale)?;
    let (dataset, paths) = sets.into_iter().next().context("one dataset")?;
    let u = UniversalSet::default();
    let calib = resolve_calibration(&model, CalibFrom::new(a.calib.as_deref(), a.net.user_weights()).beside(a.out.as_deref()), a.bits, method, 0.0, &u, a.quiet)?;
    let q = QuantConfig { wbits: a.bits, abits: a.bits, ..Default::default() };
    let fq = FakeQuantExec { layers: quantize_model(&model, calib.point_sets(&model, &u)?, &q)? };
    let pairs = paths
        .iter()
        .map(|p| make_pair(p, model.scale).map(|s| (s.lr, s.hr)))
        .collect::<sqsim::Result<Vec<_>>>()?;
    let set = EvalSet::new(&model, &fq, pairs)?;
    // what `merge` checks: every shard of one sweep, made from the same pieces
    let prov = Provenance::new()
        .with("command", "sweep")
        .with("model", &model.name)
        .with("weights_sha256", model.weights_sha256())
        .with("method", method.name())
        .with("bits", a.bits)
        .with("calibration_sha256", calib.sha256())
        .with("dataset", &dataset)
        .with("images", paths.len())
        .with("images_sha256", sqsim::provenance::files_sha256(&paths)?)
        .with("hw_config_sha256", sqsim::provenance::json_sha256(&base))
        .with("axes", format!("{axes:?}"))
        .with("full_grid", a.full_grid)
        .with("candidates", points.len());
    let file_prov = match shard {
        Some((i, n)) => prov.with("shard", format!("{i}/{n}")),
        None => prov,
    };
    let mine: Vec<(usize, &sqsim::sweep::SweepPoint)> =
        points.iter().enumerate().filter(|(i, _)| shard.is_none_or(|(s, n)| i % n == s)).collect();
    let pb = progress(mine.len(), "sweeping", a.quiet);
    let mut rows = Vec::new();
    for (i, p) in mine {
        rows.push(evaluate(&model, &fq, &u, &set, i, p)?);
        pb.inc(1);
    }
    pb.finish_and_clear();
    if let Some(out) = &a.out {
        sqsim::io_util::atomic_write(out, sweep_csv(&file_prov, &rows)?.as_bytes())?;
    }
    print_rows(&rows, a.format, a.budget_db)
}

pub fn print_rows(rows: &[SweepRow], format: Format, budget_db: f64) -> anyhow::Result<()> {
    match format {
        Format::Csv => print!("{}", rows_csv(rows)?),
        Format::Json => println!(
            "{}",
            serde_json::to_string_pretty(&serde_json::json!({
                "rows": rows, "budget_db": budget_db, "cheapest": cheapest(rows, budget_db)
            }))?
        ),
        Format::Table => {
            let h = ["config", "hw_psnr", "gap_db", "overflows", "stats_bits", "denorm_mult", "denorm_area_um2"];
            let t: Vec<Vec<String>> = rows
                .iter()
                .map(|r| {
                    vec![
                        r.config.clone(),
                        format!("{:.4}", r.hw_psnr),
                        format!("{:+.4}", r.gap_db),
                        r.overflows.to_string(),
                        r.stats_bits_per_channel.to_string(),
                        r.denorm_mult_bits.clone(),
                        format!("{:.0}", r.denorm_area_um2),
                    ]
                })
                .collect();
            print!("{}", fmt::table(&h, &t));
            match cheapest(rows, budget_db) {
                Some(r) => println!("cheapest within {budget_db} dB and 0 overflows: {} ({:.0} µm², gap {:+.4} dB)", r.config, r.denorm_area_um2, r.gap_db),
                None => println!("no configuration within {budget_db} dB without overflow"),
            }
        }
    }
    Ok(())
}
