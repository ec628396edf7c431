//! Argument parsing and output formatting for every subcommand.
mod accuracy_cmd;
mod calibrate_cmd;
mod common;
mod compare_cmd;
mod cost_cmd;
mod fmt;
mod merge_cmd;
mod report_cmd;
mod run_args;
mod run_cmd;
mod run_uniform;
mod select_cmd;
mod sweep_cmd;
mod uset_cmd;
mod vectors_cmd;
mod vcd_diff_cmd;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(name = "sqsim", version, about = "Bit-accurate, cycle-level simulator of the DFSQ shift-add SR datapath")]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// List the universal set: value, exact integer, SQ code and shift amounts.
    Uset(uset_cmd::Args),
    /// Select quantization points for samples read from a file; compare methods.
    Select(select_cmd::Args),
    /// Calibrate per-layer, per-channel point sets on calibration images.
    Calibrate(calibrate_cmd::Args),
    /// Super-resolve datasets with FP, DFSQ-float (and hardware) and score them.
    Run(run_args::Args),
    /// FP and DFSQ-float accuracy over several bit-widths and methods (paper-style table).
    Accuracy(accuracy_cmd::Args),
    /// Cycles, stalls, traffic, energy and area of a model on the MAC array vs an int-multiplier array.
    Cost(cost_cmd::Args),
    /// Sweep datapath number formats: PSNR gap vs the float reference and cost.
    Sweep(sweep_cmd::Args),
    /// DFSQ vs uniform-integer designs: bit-accurate accuracy, energy, area, Pareto front, budget.
    Compare(compare_cmd::Args),
    /// Merge sharded sweep CSVs into the single-run result.
    Merge(merge_cmd::Args),
    /// Write RTL test vectors ($readmemh hex + CSV + manifest) from a real layer.
    Vectors(vectors_cmd::Args),
    /// Compare a set's model.vcd with the testbench's RTL dump: first differing cycle and signals.
    VcdDiff(vcd_diff_cmd::Args),
    /// Self-contained HTML sign-off report: accuracy vs bits, per-layer error, activations, cost, crops.
    Report(report_cmd::Args),
}

pub fn main() -> anyhow::Result<()> {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            // --help / --version print and exit 0; usage errors exit 2 (clap's convention)
            e.exit();
        }
    };
    match cli.cmd {
        Cmd::Uset(a) => uset_cmd::run(a),
        Cmd::Select(a) => select_cmd::run(a),
        Cmd::Calibrate(a) => calibrate_cmd::run(a),
        Cmd::Run(a) => {
            let (qm, wbits, abits) = run_args::validate(&a)?;
            if qm.is_static() {
                run_uniform::run(a, qm, wbits, abits)
            } else {
                run_cmd::run(a, qm, wbits, abits)
            }
        }
        Cmd::Accuracy(a) => accuracy_cmd::run(a),
        Cmd::Cost(a) => cost_cmd::run(a),
        Cmd::Sweep(a) => sweep_cmd::run(a),
        Cmd::Compare(a) => compare_cmd::run(a),
        Cmd::Merge(a) => merge_cmd::run(a),
        Cmd::Vectors(a) => vectors_cmd::run(a),
        Cmd::VcdDiff(a) => vcd_diff_cmd::run(a),
        Cmd::Report(a) => report_cmd::run(a),
    }
}
