//! `sqsim cost`: per-layer cycles, stalls, traffic, energy and area of a
//! model on the MAC array (timing mode), beside a conventional
//! integer-multiplier array of the same size.
use super::common::{HwArgs, ModelArgs};
use super::fmt::{self, Format};
use super::uset_cmd::word_sets;
use anyhow::{bail, Context};
use serde::Serialize;
use sqsim::cycle::cost::CostTable;
use sqsim::cycle::exec::{network_cost, network_shapes, NetworkCost};
use sqsim::image::make_pair;
use sqsim::select::{MAX_BITS, MIN_BITS};
use sqsim::sq::UniversalSet;
use std::path::PathBuf;

#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    net: ModelArgs,
    /// Weight and activation bits (the weight register is sized to w = q + zp).
    #[arg(long, default_value_t = 4)]
    bits: u32,
    #[command(flatten)]
    hwp: HwArgs,
    /// HR image whose LR (modcrop, ÷ scale) sets the layer size; default Set5 baby.
    #[arg(long, conflicts_with = "size")]
    image: Option<PathBuf>,
    /// LR input size WxH instead of an image.
    #[arg(long)]
    size: Option<String>,
    #[arg(long, default_value = "dfsq")]
    word_sets: String,
    #[arg(long, value_enum, default_value = "table")]
    format: Format,
}

#[derive(Serialize)]
struct Report<'a> {
    model: String,
    bits: u32,
    lr_width: usize,
    lr_height: usize,
    table: CostTable,
    #[serde(flatten)]
    cost: &'a NetworkCost,
}

fn parse_size(s: &str) -> anyhow::Result<(usize, usize)> {
    let (w, h) = s.split_once(['x', 'X']).with_context(|| format!("--size {s}: expected WxH, e.g. 128x96"))?;
    let (w, h): (usize, usize) = (
        w.trim().parse().with_context(|| format!("--size {s}: bad width"))?,
        h.trim().parse().with_context(|| format!("--size {s}: bad height"))?,
    );
    if w == 0 || h == 0 || w > 16384 || h > 16384 {
        bail!("--size {s}: each side must be in 1..=16384");
    }
    sqsim::limits::check_lr_pixels(&format!("--size {s}"), w, h)?;
    Ok((w, h))
}

pub fn run(a: Args) -> anyhow::Result<()> {
    if !(MIN_BITS..=MAX_BITS).contains(&a.bits) {
        bail!("invalid bits: {} not in {MIN_BITS}..={MAX_BITS}", a.bits);
    }
    let u = UniversalSet::new(word_sets(&a.word_sets)?)?;
    let model = a.net.load(false)?;
    let cfg = a.hwp.load(&model)?;
    let (w, h) = match (&a.size, &a.image) {
        (Some(s), _) => parse_size(s)?,
        (None, img) => {
            let p = img.clone().unwrap_or_else(|| sqsim::paths::data_dir().join("Set5").join("baby.png"));
            let pair = make_pair(&p, model.scale)?;
            (pair.lr.width, pair.lr.height)
        }
    };
    let shapes = network_shapes(&model, a.bits, a.bits, &u.words, &cfg, h, w)?;
    let table = CostTable::default();
    let cost = network_cost(&shapes, &u.words, &cfg, &table)?;
    match a.format {
        Format::Json => {
            let r = Report { model: model.name.clone(), bits: a.bits, lr_width: w, lr_height: h, table, cost: &cost };
            println!("{}", serde_json::to_string_pretty(&r)?);
        }
        Format::Csv => print!("{}", fmt::csv(&HEADER, &rows(&cost))?),
        Format::Table => print_table(&model.name, a.bits, w, h, &cost),
    }
    Ok(())
}

const HEADER: [&str; 14] = [
    "layer",
    "k",
    "in_c",
    "out_c",
    "h",
    "w",
    "cycles",
    "util",
    "stall_cycles",
    "macs",
    "denorm_mults",
    "dram_kb",
    "energy_uj",
    "baseline_uj",
];

/// The counter columns shared by every layer row and the total row.
fn counter_cells(n: &sqsim::cycle::Counters, utilization: f64, energy_pj: f64, baseline_pj: f64) -> Vec<String> {
    vec![
        n.cycles.to_string(),
        format!("{utilization:.3}"),
        n.stalls.total().to_string(),
        n.macs.to_string(),
        n.denorm_mults.to_string(),
        format!("{:.1}", (n.dram_read_bits + n.dram_write_bits) as f64 / 8192.0),
        format!("{:.3}", energy_pj / 1e6),
        format!("{:.3}", baseline_pj / 1e6),
    ]
}

fn rows(c: &NetworkCost) -> Vec<Vec<String>> {
    let mut out: Vec<Vec<String>> = c
        .layers
        .iter()
        .map(|l| {
            let mut r = vec![
                l.name.clone(),
                l.k.to_string(),
                l.in_c.to_string(),
                l.out_c.to_string(),
                l.h.to_string(),
                l.w.to_string(),
            ];
            r.extend(counter_cells(&l.counters, l.utilization, l.energy_pj.total, l.baseline_energy_pj.total));
            r
        })
        .collect();
    let mut total = vec!["TOTAL".to_string()];
    total.extend(std::iter::repeat_n(String::new(), 5));
    total.extend(counter_cells(&c.total, c.utilization, c.energy_pj.total, c.baseline_energy_pj.total));
    out.push(total);
    out
}

fn print_table(model: &str, bits: u32, w: usize, h: usize, c: &NetworkCost) {
    println!(
        "{model} W{bits}A{bits} on a {w}x{h} LR input; array `{}` {}x{} @ {} MHz ({} weight bits, {}-bit codes)",
        c.hw_config, c.rows, c.cols, c.clock_mhz, c.widths.weight_bits, c.widths.code_bits
    );
    print!("{}", fmt::table(&HEADER, &rows(c)));
    let t = &c.total;
    let s = &t.stalls;
    println!(
        "\ncycles {} ({:.1} µs at {} MHz), PE utilization {:.1} %",
        t.cycles,
        c.time_us,
        c.clock_mhz,
        100.0 * c.utilization
    );
    println!(
        "stalls: stats {} | dram_read {} | weight_load {} | buffer_bw {} | denorm_bound {} | drain {} | dram_write {}",
        s.stats, s.dram_read, s.weight_load, s.buffer_bw, s.denorm_bound, s.drain, s.dram_write
    );
    println!(
        "ops: {} shift-add MACs ({} shifts, {} adds), {} de-norm multiplies, {} outputs, {} comparisons",
        t.macs,
        t.macs * c.widths.n_words as u64,
        t.macs * c.widths.n_words as u64,
        t.denorm_mults,
        t.outputs,
        t.comparisons
    );
    let (e, b) = (&c.energy_pj, &c.baseline_energy_pj);
    let eh = ["energy µJ", "PE", "denorm", "output", "quant+stats", "SRAM", "DRAM", "total"];
    let er = |name: &str, e: &sqsim::cycle::cost::Energy| {
        vec![
            name.to_string(),
            format!("{:.2}", e.pe / 1e6),
            format!("{:.2}", e.denorm / 1e6),
            format!("{:.2}", e.output / 1e6),
            format!("{:.2}", (e.quantizer + e.stats) / 1e6),
            format!("{:.2}", (e.weight_buf + e.act_buf + e.psum_buf) / 1e6),
            format!("{:.2}", e.dram / 1e6),
            format!("{:.2}", e.total / 1e6),
        ]
    };
    println!();
    print!("{}", fmt::table(&eh, &[er("shift-add", e), er("int-mult baseline", b)]));
    let (a, ab) = (&c.area_um2, &c.baseline_area_um2);
    let ah = ["area mm²", "PE array", "denorm units", "quant+stats", "tables", "SRAM", "total"];
    let ar = |name: &str, a: &sqsim::cycle::cost::Area| {
        vec![
            name.to_string(),
            format!("{:.4}", a.pe_array / 1e6),
            format!("{:.4}", a.denorm_units / 1e6),
            format!("{:.4}", a.quantizer_stats / 1e6),
            format!("{:.4}", a.tables / 1e6),
            format!("{:.4}", a.sram / 1e6),
            format!("{:.4}", a.total / 1e6),
        ]
    };
    println!();
    print!("{}", fmt::table(&ah, &[ar("shift-add", a), ar("int-mult baseline", ab)]));
    let arith = e.pe + e.denorm + e.output;
    println!(
        "\nde-normalization: {} multiplies = {:.3} per MAC; {:.2} µJ = {:.1} % of arithmetic, {:.1} % of total energy; {:.1} % of logic area",
        t.denorm_mults,
        t.denorm_mults as f64 / t.macs.max(1) as f64,
        e.denorm / 1e6,
        100.0 * e.denorm / arith.max(1e-30),
        100.0 * e.denorm / e.total.max(1e-30),
        100.0 * a.denorm_units / (a.total - a.sram).max(1e-30)
    );
    println!(
        "  + per-channel accumulators in the psum buffer ({}-bit read-modify-write per (o, c, pixel)): {:.2} µJ = {:.1} % of total energy",
        c.design.acc_bits,
        e.psum_buf / 1e6,
        100.0 * e.psum_buf / e.total.max(1e-30)
    );
    let ones: Vec<_> = c.layers.iter().filter(|l| l.k == 1).collect();
    if !ones.is_empty() {
        let cyc: u64 = ones.iter().map(|l| l.counters.cycles).sum();
        println!(
            "1x1 convs ({} layers): one de-normalization multiply per MAC; with one de-normalization unit per column they use \
             1 of {} rows (WS) or stall for it (OS): {:.1} % of all cycles",
            ones.len(),
            c.rows,
            100.0 * cyc as f64 / t.cycles.max(1) as f64
        );
    }
}
