use super::fmt::Format;
use super::sweep_cmd::{print_rows, rows_csv};
use anyhow::{bail, Context};
use sqsim::sweep::SweepRow;
use std::path::PathBuf;

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

/// Concatenates shards, orders rows by candidate index and refuses gaps or
/// duplicates, so the merge equals the unsharded run's CSV byte for byte.
pub fn run(a: Args) -> anyhow::Result<()> {
    let mut rows: Vec<SweepRow> = Vec::new();
    for p in &a.inputs {
        let mut r = csv::Reader::from_path(p).with_context(|| format!("reading {}", p.display()))?;
        sqsim::io_util::note_input(p);
        let before = rows.len();
        for (i, row) in r.deserialize().enumerate() {
            rows.push(row.with_context(|| format!("{}: row {} is not a sweep row", p.display(), i + 1))?);
        }
        // an empty or header-only file is a failed or foreign shard, not an empty sweep
        if rows.len() == before {
            bail!("{}: no sweep rows (empty or header-only CSV)", p.display());
        }
    }
    rows.sort_by_key(|r| r.index);
    for (i, r) in rows.iter().enumerate() {
        if r.index != i {
            bail!("shards do not cover the sweep: expected candidate {i}, found {} (missing or duplicated shard?)", r.index);
        }
    }
    sqsim::io_util::atomic_write(&a.out, rows_csv(&rows)?.as_bytes())?;
    print_rows(&rows, a.format, a.budget_db)
}
