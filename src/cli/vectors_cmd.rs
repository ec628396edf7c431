use super::common::load_hw;
use anyhow::{bail, Context};
use sqsim::select::{MAX_BITS, MIN_BITS};
use sqsim::vectors::{capture, write_unit, Request, SourceSpec, Unit, Window};
use std::path::PathBuf;

#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    net: super::common::ModelArgs,
    /// Weight and activation bits (the quantizer has 2^bits levels).
    #[arg(long, default_value_t = 4)]
    bits: u32,
    /// pe, quantizer, denorm, stats, norm, thresh, mu, requant, array, linebuf (the line
    /// buffer and window generator), layer
    /// (a whole layer for the engine sq_layer), layer_int (the same engine
    /// with integer-multiplier PEs, the baseline), or all (every unit but the
    /// two whole-layer ones, one subdirectory each).
    #[arg(long)]
    unit: String,
    /// A quantized conv of the model, e.g. body.0.body.0.
    #[arg(long)]
    layer: String,
    /// Window of the layer's output the real rows come from: Y,X,H,W (default: all
    /// of it; for the array tile, the tile's own image, default 0,0,5,6).
    #[arg(long, value_delimiter = ',')]
    tile: Option<Vec<usize>>,
    /// Cut the layer to its first CIN input and COUT output channels: CIN,COUT
    /// (a smaller conv with the layer's own data, e.g. for a whole-layer set a
    /// simulator replays in seconds; the manifest's layer_shape records it).
    #[arg(long, value_delimiter = ',')]
    channels: Option<Vec<usize>>,
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
    #[arg(long, value_delimiter = ',', default_value = "112,112,24,24")]
    crop: Vec<usize>,
    /// Calibration JSON (default: models/calib/<model>_a<bits>_kmeans.json, else calibrate on the crop).
    #[arg(long)]
    calib: Option<PathBuf>,
    #[arg(long)]
    out: PathBuf,
    /// Also write model.vcd into each set: the expected values under the RTL's
    /// signal names (for the array, the stepped cycle model's PE registers),
    /// to open beside the testbench's dump (`hw/run_rtl.sh --vcd DIR`) or
    /// compare with `sqsim vcd-diff`.
    #[arg(long)]
    vcd: bool,
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
    if a.crop.len() != 4 || a.tile.as_ref().is_some_and(|t| t.len() != 4) {
        bail!("--crop and --tile take four comma-separated numbers (X,Y,W,H and Y,X,H,W)");
    }
    sqsim::limits::check("--count", a.count as u128, sqsim::limits::MAX_VECTORS as u128, "vectors per unit")?;
    // `all`: every unit with a per-cycle set; a layer set is a whole layer
    // (thousands of loads and cycles), asked for by name
    let units: Vec<Unit> = if a.unit == "all" { Unit::ALL.into_iter().filter(|u| !u.is_whole_layer()).collect() } else { vec![a.unit.parse()?] };
    let hw_origin = match &a.hw {
        Some(p) => label(p),
        None if sqsim::paths::home().join("hw/configs/default.toml").exists() => "hw/configs/default.toml".into(),
        None => "built-in default".into(),
    };
    let model = a.net.load(a.quiet)?;
    let cfg = load_hw(a.hw.as_deref(), &model)?;
    let image = a.image.clone().unwrap_or_else(|| sqsim::paths::data_dir().join("Set5").join("baby.png"));
    let crop = [a.crop[0], a.crop[1], a.crop[2], a.crop[3]];
    let spec = SourceSpec { model: model.name.clone(), bits: a.bits, layer: a.layer.clone(), image: image.clone(), crop };
    let ld = capture(&model, &spec, &cfg, a.calib.as_deref()).with_context(|| format!("capturing {} of {}", a.layer, model.name))?;
    let ld = match a.channels.as_deref() {
        None => ld,
        Some(&[ci, co]) => ld.first_channels(ci, co)?,
        Some(_) => bail!("--channels takes two comma-separated numbers (CIN,COUT)"),
    };
    let given = a.tile.as_ref().map(|t| Window { y: t[0], x: t[1], h: t[2], w: t[3] });
    for u in units {
        let win = match (given, u) {
            (Some(w), _) => w,
            (None, Unit::Array) => Window { y: 0, x: 0, h: 5.min(ld.h), w: 6.min(ld.w) },
            // a few whole planes in a few hundred cycles
            (None, Unit::LineBuf) => Window { y: 0, x: 0, h: 6.min(ld.h), w: 8.min(ld.w) },
            (None, _) => Window { y: 0, x: 0, h: ld.h, w: ld.w },
        };
        let dir = if a.unit == "all" { a.out.join(u.name()) } else { a.out.clone() };
        let image_label = label(&image);
        let req = Request { unit: u, window: win, count: a.count, seed: a.seed, image_label: &image_label, hw_origin: &hw_origin };
        let set = write_unit(&ld, &spec, &req, &dir)?;
        if a.vcd && u.is_whole_layer() {
            if !a.quiet {
                println!("{}: no model.vcd (the layer set's rows are loads and outputs, not cycles)", dir.display());
            }
        } else if a.vcd {
            let p = sqsim::vectors::vcd::write_model_vcd(&set, u.testbench(), &dir)?;
            if !a.quiet {
                println!("wrote {}", p.display());
            }
        }
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
