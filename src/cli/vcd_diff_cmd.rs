use anyhow::{bail, Context};
use std::path::PathBuf;

#[derive(clap::Args)]
pub struct Args {
    /// The set's model.vcd (`sqsim vectors --vcd`).
    model: PathBuf,
    /// The testbench's dump of the same vectors (`hw/run_rtl.sh --vcd DIR`, or `+vcd=FILE`).
    rtl: PathBuf,
}

pub fn run(a: Args) -> anyhow::Result<()> {
    let read = |p: &PathBuf| std::fs::read(p).with_context(|| format!("reading {}", p.display()));
    let c = sqsim::vectors::vcd::compare(&read(&a.model)?, &read(&a.rtl)?)?;
    match c.first {
        None => {
            println!("identical: {} signals over {} cycles", c.signals, c.samples);
            Ok(())
        }
        Some((n, diffs)) => {
            println!("first difference at cycle {n} ({} of {} samples differ in all):", c.differing, c.signals * c.samples);
            for d in diffs.iter().take(20) {
                println!("  {}  model {}  rtl {}", d.signal, d.model, d.rtl);
            }
            if diffs.len() > 20 {
                println!("  … {} more signals differ at cycle {n}", diffs.len() - 20);
            }
            bail!("the RTL dump differs from the model from cycle {n} on")
        }
    }
}
