use super::common::load_model;
use super::run_cmd::load_hw;
use anyhow::{bail, Context};
use sqsim::select::{MAX_BITS, MIN_BITS};
use sqsim::vectors::{capture, write_unit, SourceSpec, Unit, Window};
use std::path::PathBuf;

#[derive(clap::Args)]
pub struct Args {
    #[arg(long, default_value = "edsr_x2")]
    model: String,
    /// Weight and activation bits (the quantizer has 2^bits levels).
    #[arg(long, default_value_t = 4)]
    bits: u32,
    /// pe, quantizer, denorm, or all (one subdirectory per unit).
    #[arg(long)]
    unit: String,
    /// A quantized conv of the model, e.g. body.0.body.0.
    #[arg(long)]
    layer: String,
    /// Window of the layer's output the real rows come from: Y,X,H,W (default: all of it).
    #[arg(long, value_delimiter = ',', num_args = 4)]
    tile: Option<Vec<usize>>,
    /// Real rows before the corner cases.
    #[arg(long, default_value_t = 256)]
    count: usize,
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Hardware preset (TOML); default hw/configs/default.toml.
    #[arg(long)]
    hw: Option<PathBuf>,
    /// HR image whose LR crop feeds the model (default data/Set5/baby.png).
    #[arg(long)]
    image: Option<PathBuf>,
    /// LR crop X,Y,W,H.
    #[arg(long, value_delimiter = ',', num_args = 4, default_values_t = [112, 112, 24, 24])]
    crop: Vec<usize>,
    /// Calibration JSON (default: models/calib/<model>_a<bits>_kmeans.json, else calibrate on the crop).
    #[arg(long)]
    calib: Option<PathBuf>,
    #[arg(long)]
    out: PathBuf,
    #[arg(long)]
    quiet: bool,
}

/// A path as the manifest records it: relative to the sqsim home when inside it.
fn label(p: &std::path::Path) -> String {
    let home = sqsim::paths::home();
    p.strip_prefix(&home).unwrap_or(p).display().to_string()
}

pub fn run(a: Args) -> anyhow::Result<()> {
    if !(MIN_BITS..=MAX_BITS).contains(&a.bits) {
        bail!("invalid bits: {} not in {MIN_BITS}..={MAX_BITS}", a.bits);
    }
    let units: Vec<Unit> = if a.unit == "all" {
        Unit::ALL.to_vec()
    } else if a.unit == "array" {
        bail!("--unit array: the array-tile vectors are not implemented yet (needs the cycle model in src/cycle)");
    } else {
        vec![a.unit.parse()?]
    };
    let hw_origin = match &a.hw {
        Some(p) => label(p),
        None if sqsim::paths::home().join("hw/configs/default.toml").exists() => "hw/configs/default.toml".into(),
        None => "built-in default".into(),
    };
    let cfg = load_hw(a.hw.as_deref())?;
    let model = load_model(&a.model, None)?;
    let image = a.image.clone().unwrap_or_else(|| sqsim::paths::data_dir().join("Set5").join("baby.png"));
    let crop = [a.crop[0], a.crop[1], a.crop[2], a.crop[3]];
    let spec = SourceSpec { model: a.model.clone(), bits: a.bits, layer: a.layer.clone(), image: image.clone(), crop };
    let ld = capture(&model, &spec, &cfg, a.calib.as_deref()).with_context(|| format!("capturing {} of {}", a.layer, a.model))?;
    let win = match &a.tile {
        Some(t) => Window { y: t[0], x: t[1], h: t[2], w: t[3] },
        None => Window { y: 0, x: 0, h: ld.h, w: ld.w },
    };
    for u in units {
        let dir = if a.unit == "all" { a.out.join(u.name()) } else { a.out.clone() };
        let set = write_unit(&ld, &spec, &label(&image), u, &win, a.count, a.seed, &hw_origin, &dir)?;
        if !a.quiet {
            println!(
                "wrote {}: {} vectors ({} stimulus bits, {} expected bits), signature {:08x}",
                dir.display(),
                set.rows.len(),
                set.stim_bits(),
                set.expect_bits(),
                set.signature()
            );
        }
    }
    Ok(())
}
