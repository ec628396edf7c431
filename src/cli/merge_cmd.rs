use super::fmt::Format;
use super::sweep_cmd::{print_rows, sweep_csv};
use anyhow::{bail, Context};
use sqsim::provenance::{read_csv, Provenance};
use sqsim::sweep::SweepRow;
use std::path::{Path, PathBuf};

#[derive(clap::Args)]
pub struct Args {
    /// Shard CSVs written by `sqsim sweep --shard I/N --out FILE`.
    #[arg(required = true)]
    inputs: Vec<PathBuf>,
    #[arg(long)]
    out: PathBuf,
    #[arg(long, default_value_t = 0.02)]
    budget_db: f64,
    #[arg(long, value_enum, default_value = "table")]
    format: Format,
}

/// One shard: its provenance without the shard, its split and its rows.
struct Shard {
    prov: Provenance,
    index: usize,
    count: usize,
    rows: Vec<SweepRow>,
}

fn read_shard(p: &Path) -> anyhow::Result<Shard> {
    let (prov, body) = read_csv(p)?;
    let split = prov.get("shard").map(str::to_string);
    let (index, count) = match &split {
        Some(s) => super::sweep_cmd::parse_shard(s).with_context(|| format!("{}: its provenance's shard `{s}`", p.display()))?,
        None => (0, 1),
    };
    if prov.get("command") != Some("sweep") {
        bail!("{}: not a `sqsim sweep` CSV (its provenance names command {:?})", p.display(), prov.get("command"));
    }
    let mut r = csv::Reader::from_reader(body.as_bytes());
    let mut rows = Vec::new();
    for (i, row) in r.deserialize::<SweepRow>().enumerate() {
        let row = row.with_context(|| format!("{}: row {} is not a sweep row", p.display(), i + 1))?;
        if ![row.hw_psnr, row.float_psnr, row.gap_db, row.denorm_area_um2].iter().all(|v| v.is_finite()) {
            bail!("{}: row {} (candidate {}) has a non-finite score or area; a result cannot be merged from it", p.display(), i + 1, row.index);
        }
        if row.index % count != index {
            bail!("{}: row {} is candidate {}, which belongs to another shard than {index}/{count}", p.display(), i + 1, row.index);
        }
        rows.push(row);
    }
    // an empty or header-only file is a failed or foreign shard, not an empty sweep
    if rows.is_empty() {
        bail!("{}: no sweep rows (empty or header-only CSV)", p.display());
    }
    Ok(Shard { prov: prov.without("shard"), index, count, rows })
}

/// Combines the shards of one sweep (same provenance field for field, one
/// split, every shard exactly once, every candidate exactly once), so the
/// merge equals the unsharded run's CSV byte for byte.
pub fn run(a: Args) -> anyhow::Result<()> {
    super::common::check_writable(&a.out)?;
    let shards = a.inputs.iter().map(|p| read_shard(p)).collect::<anyhow::Result<Vec<_>>>()?;
    let first = &shards[0];
    let mut seen = vec![false; first.count];
    for (p, s) in a.inputs.iter().zip(&shards) {
        let what = format!("{}", p.display());
        s.prov.require_same(&first.prov, &what, &format!("the sweep of {}", a.inputs[0].display()))?;
        if s.count != first.count {
            bail!("{what}: shard {}/{} is of another split than {} ({} shards)", s.index, s.count, a.inputs[0].display(), first.count);
        }
        if std::mem::replace(&mut seen[s.index], true) {
            bail!("{what}: shard {}/{} is given twice", s.index, s.count);
        }
    }
    if let Some(i) = seen.iter().position(|s| !s) {
        bail!("shards do not cover the sweep: shard {i}/{} is missing", first.count);
    }
    let mut rows: Vec<SweepRow> = shards.iter().flat_map(|s| s.rows.iter().cloned()).collect();
    rows.sort_by_key(|r| r.index);
    let candidates: usize = first.prov.get("candidates").and_then(|c| c.parse().ok()).context("the shards' provenance has no candidate count")?;
    for (i, r) in rows.iter().enumerate() {
        if r.index != i {
            bail!("shards do not cover the sweep: expected candidate {i}, found {} (a truncated or duplicated shard?)", r.index);
        }
    }
    if rows.len() != candidates {
        bail!("shards do not cover the sweep: {} of {candidates} candidates (a truncated shard?)", rows.len());
    }
    sqsim::io_util::atomic_write(&a.out, sweep_csv(&first.prov, &rows)?.as_bytes())?;
    print_rows(&rows, a.format, a.budget_db)
}
