//! Pieces several subcommands share: model loading, calibration lookup,
//! progress bars.
use anyhow::{bail, Context};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use sqsim::dfsq::{calib, Calibration};
use sqsim::eval::load_lr_images;
use sqsim::image::{list_images, resolve_dataset};
use sqsim::model::{load_builtin, Model};
use sqsim::select::{Method, SelectConfig};
use sqsim::sq::UniversalSet;
use sqsim::quant::uniform::Range;
use sqsim::uniform::{QMethod, RangeCalibration};
use std::path::{Path, PathBuf};

/// `--model NAME [--weights PATH] [--scale S] [--rgb-range R]`, shared by
/// every command that runs or costs a model.
#[derive(clap::Args)]
pub struct ModelArgs {
    /// Built in: edsr_x2 (the default), edsr_x4, rdn_x2, rdn_x4 (the ISR
    /// RDNs). With --weights: `auto` (the default then: family, scale and
    /// configuration read from the checkpoint), a family — `edsr`, `rdn`
    /// (EDSR-PyTorch rdn.py, the paper's RDN), `isr_rdn` — checked against
    /// it, or a built-in name (the checkpoint must have its architecture
    /// and scale, and takes its name).
    #[arg(long)]
    pub model: Option<String>,
    /// A checkpoint: .pt/.pth/.safetensors (EDSR-PyTorch EDSR or RDN, also
    /// nested under params_ema/params/state_dict/model) or a TF.js model.json.
    #[arg(long)]
    pub weights: Option<PathBuf>,
    /// With --weights: the scale the checkpoint must have (its upsampler
    /// decides; a different one is refused).
    #[arg(long, requires = "weights")]
    pub scale: Option<usize>,
    /// With --weights: the pixel range the network was trained on, 1 or 255.
    /// Default: read from an EDSR's MeanShift, else 255 (EDSR-PyTorch's
    /// default; the ISR RDN is always 1). Range-1 models get the rdn_isr preset.
    #[arg(long, requires = "weights")]
    pub rgb_range: Option<f32>,
    /// Which convs are quantized: `body` (the residual blocks, as the paper
    /// does) or `all` (head, body-final conv, upsampler and tail too, as an
    /// integer accelerator runs every layer; EDSR and EDSR-PyTorch RDN — the
    /// ISR RDN's 5×5 upsampler conv does not map —; the model is then named NAME+all).
    #[arg(long, default_value = "body")]
    pub quantize: String,
}

/// Families `--model` names with `--weights`.
const FAMILIES: [&str; 3] = ["edsr", "rdn", "isr_rdn"];

impl ModelArgs {
    /// Loads the model; with --weights, says on stderr (unless `quiet`) what
    /// was inferred and which checkpoint tensors were left out.
    pub fn load(&self, quiet: bool) -> anyhow::Result<Model> {
        let mut m = load_model_spec(self.model.as_deref(), self.weights.as_deref(), self.scale, self.rgb_range)?;
        apply_quantize(&mut m, &self.quantize)?;
        if let (Some(w), false) = (&self.weights, quiet) {
            eprintln!("note: {} from {}", m.describe(), w.display());
            let ig = m.ignored_keys();
            if !ig.is_empty() {
                let shown: Vec<&str> = ig.iter().take(6).map(String::as_str).collect();
                let more = if ig.len() > shown.len() { format!(" and {} more", ig.len() - shown.len()) } else { String::new() };
                eprintln!("note: left out {} checkpoint tensor(s) not part of the network: {}{more}", ig.len(), shown.join(", "));
            }
        }
        Ok(m)
    }

    /// Whether the weights are the user's (no shipped calibration applies).
    pub fn user_weights(&self) -> bool {
        self.weights.is_some()
    }
}

/// `--model` and `--weights` together: a built-in name alone loads it; with
/// a checkpoint, `auto` infers everything, a family or built-in name is
/// checked against what the checkpoint is.
pub fn load_model_spec(model: Option<&str>, weights: Option<&Path>, scale: Option<usize>, rgb_range: Option<f32>) -> anyhow::Result<Model> {
    let name = model.unwrap_or(if weights.is_some() { "auto" } else { "edsr_x2" });
    let Some(w) = weights else {
        if name == "auto" || FAMILIES.contains(&name) {
            bail!("--model {name} needs --weights PATH (built in without one: {})", sqsim::model::builtin_names().join(", "));
        }
        return Ok(load_builtin(name)?);
    };
    let mut m = sqsim::model::load_path_with(w, rgb_range)?;
    if let Some(s) = scale {
        if s != m.scale {
            bail!("--scale {s}: {} is a x{} network (its upsampler says so)", w.display(), m.scale);
        }
    }
    match name {
        "auto" => {}
        f if FAMILIES.contains(&f) => {
            if m.arch_name() != f {
                bail!("--model {f}: {} is an {} checkpoint ({}); --model auto reads it as such", w.display(), m.arch_name(), m.describe());
            }
        }
        builtin => {
            let b = load_builtin(builtin).with_context(|| "--model with --weights: auto, edsr, rdn, isr_rdn or a built-in name")?;
            if m.arch_name() != b.arch_name() || m.scale != b.scale {
                bail!(
                    "--weights {}: a {} x{} checkpoint, but --model {builtin} is {} x{} (use --model auto or --model {})",
                    w.display(),
                    m.arch_name(),
                    m.scale,
                    b.arch_name(),
                    b.scale,
                    m.arch_name()
                );
            }
            m.name = builtin.to_string();
        }
    }
    Ok(m)
}

/// `--quantize body|all`.
pub fn apply_quantize(m: &mut Model, q: &str) -> anyhow::Result<()> {
    match q {
        "body" => Ok(()),
        "all" => Ok(m.quantize_all()?),
        other => bail!("invalid --quantize `{other}`: body or all"),
    }
}

/// `--hw FILE`, shared by the commands that run the datapath.
#[derive(clap::Args)]
pub struct HwArgs {
    /// Hardware preset (TOML); default hw/configs/default.toml (models on a
    /// [0, 1] pixel range — the ISR RDNs, `--rgb-range 1` — rdn_isr.toml;
    /// EDSR-PyTorch RDNs rdn.toml).
    #[arg(long)]
    pub hw: Option<PathBuf>,
}

impl HwArgs {
    pub fn load(&self, model: &Model) -> anyhow::Result<sqsim::config::HwConfig> {
        load_hw(self.hw.as_deref(), model)
    }
}

pub fn shipped_calib_path(model: &str, abits: u32, method: Method, lambda: f64) -> PathBuf {
    sqsim::paths::models_dir().join("calib").join(format!("{model}_a{abits}_{}.json", method.label(lambda)))
}

pub fn progress(n: usize, msg: &str, quiet: bool) -> ProgressBar {
    let pb = ProgressBar::with_draw_target(Some(n as u64), if quiet { ProgressDrawTarget::hidden() } else { ProgressDrawTarget::stderr() });
    if let Ok(style) = ProgressStyle::with_template("{msg:>12} [{bar:30}] {pos}/{len} {elapsed_precise}") {
        pb.set_style(style.progress_chars("=> "));
    }
    pb.set_message(msg.to_string());
    pb
}

/// Calibration images (LR at the model's scale), from a dataset name or dir.
/// A count flag (`--limit`, `--max-images`, …) must be at least 1: 0 is
/// refused, not read as 1.
pub fn positive(flag: &str, n: usize) -> anyhow::Result<usize> {
    if n == 0 {
        bail!("invalid {flag} 0: must be at least 1");
    }
    Ok(n)
}

pub fn calib_images(model: &Model, images: &str, max: Option<usize>) -> anyhow::Result<Vec<(String, sqsim::Feature)>> {
    let (_, dir) = resolve_dataset(images)?;
    let mut paths = list_images(&dir)?;
    if let Some(m) = max {
        paths.truncate(positive("--max-images", m)?);
    }
    Ok(load_lr_images(&paths, model.scale)?)
}

/// Where a command's calibration comes from, and where a fresh one goes.
#[derive(Clone, Copy, Default)]
pub struct CalibFrom<'a> {
    /// `--calib FILE`.
    pub file: Option<&'a Path>,
    /// The weights are the user's: no shipped calibration applies.
    pub user_weights: bool,
    /// The directory of the command's outputs: a fresh calibration is saved
    /// there (`MODEL_aBITS_METHOD.calib.json`) for `--calib` next time.
    pub save_dir: Option<&'a Path>,
    /// `--calib-dir DIR`: calibrations saved under those names are looked
    /// up there first (each checked against the model, weights, method, bits).
    pub dir: Option<&'a Path>,
}

impl<'a> CalibFrom<'a> {
    pub fn new(file: Option<&'a Path>, user_weights: bool) -> Self {
        CalibFrom { file, user_weights, save_dir: None, dir: None }
    }
    /// Saves a fresh calibration beside `out` (a file; its directory).
    pub fn beside(mut self, out: Option<&'a Path>) -> Self {
        self.save_dir = out.map(|o| o.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new(".")));
        self
    }
    /// Looks saved calibrations up in `dir` (and saves fresh ones there).
    pub fn from_dir(mut self, dir: Option<&'a Path>) -> Self {
        if dir.is_some() {
            self.dir = dir;
            self.save_dir = dir;
        }
        self
    }

    /// Saves a fresh calibration in `dir`.
    pub fn into_dir(mut self, dir: Option<&'a Path>) -> Self {
        self.save_dir = dir;
        self
    }
}

/// The calibration a command uses: `--calib FILE`, else the shipped file for
/// this model and bit-width, else a fresh calibration on calib32 (slow; says
/// so, and saves it beside the outputs when the command has any).
pub fn resolve_calibration(
    model: &Model,
    from: CalibFrom,
    abits: u32,
    method: Method,
    lambda: f64,
    u: &UniversalSet,
    quiet: bool,
) -> anyhow::Result<Calibration> {
    sqsim::select::check_lambda(method, lambda)?;
    if let Some(p) = from.file {
        let c = Calibration::load(p)?;
        c.check_for(model, method, lambda, abits, &format!("--calib {}", p.display()))?;
        return Ok(c);
    }
    let saved_name = format!("{}_a{abits}_{}.calib.json", model.name, method.label(lambda));
    if let Some(p) = from.dir.map(|d| d.join(&saved_name)).filter(|p| p.exists()) {
        let c = Calibration::load(&p)?;
        c.check_for(model, method, lambda, abits, &format!("--calib-dir {}", p.display()))?;
        return Ok(c);
    }
    let shipped = shipped_calib_path(&model.name, abits, method, lambda);
    if !from.user_weights && shipped.exists() {
        let c = Calibration::load(&shipped).with_context(|| "loading the shipped calibration".to_string())?;
        c.check_for(model, method, lambda, abits, &format!("shipped calibration {}", shipped.display()))?;
        return Ok(c);
    }
    if !quiet {
        eprintln!("note: no calibration for {} at {abits} bits ({}); calibrating on calib32", model.name, method.label(lambda));
    }
    let imgs = calib_images(model, "calib32", None)?;
    let pb = progress(imgs.len(), "calibrating", quiet);
    let stats = calib::collect(model, &imgs, u, &|i| pb.set_position(i as u64))?;
    pb.finish_and_clear();
    let cfg = SelectConfig { bits: abits, method, lambda, ..Default::default() };
    let c = calib::select_all(&stats, &model.name, u, &cfg)?;
    match from.save_dir {
        Some(dir) => {
            let p = dir.join(&saved_name);
            c.save(&p)?;
            if !quiet {
                eprintln!("note: wrote the calibration to {} (reuse it with --calib)", p.display());
            }
        }
        None if !quiet => eprintln!("note: this calibration is not saved (the command writes no files); `sqsim calibrate` writes one for --calib"),
        None => {}
    }
    Ok(c)
}

/// Fails fast, before long work, when an output file could not be written:
/// its directory must exist and accept a new file.
pub fn check_writable(out: &Path) -> anyhow::Result<()> {
    sqsim::io_util::refuse_input(out)?;
    let dir = match out.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let probe = dir.join(format!(".sqsim-write-probe-{}", std::process::id()));
    std::fs::File::create(&probe).map_err(|e| anyhow::anyhow!("cannot write {}: {e}", out.display()))?;
    let _ = std::fs::remove_file(&probe);
    Ok(())
}

pub fn shipped_ranges_path(model: &str, method: &QMethod) -> PathBuf {
    sqsim::paths::models_dir().join("calib").join(format!("{model}_{}.json", method.label()))
}

/// Static ranges of a uniform design: `--calib FILE` (checked against the
/// model and method), else the shipped file, else measured on calib32 (two
/// full-precision passes; says so).
pub fn resolve_ranges(model: &Model, user_weights: bool, calib: Option<&Path>, method: &QMethod, quiet: bool) -> anyhow::Result<Vec<Range>> {
    let pct = method.percentile();
    let fam = method.family();
    if let Some(p) = calib {
        return Ok(RangeCalibration::load(p)?.ranges(model, fam, pct).with_context(|| format!("--calib {}", p.display()))?);
    }
    let shipped = shipped_ranges_path(&model.name, method);
    if !user_weights && shipped.exists() {
        return Ok(RangeCalibration::load(&shipped)?.ranges(model, fam, pct)?);
    }
    if !quiet {
        eprintln!("note: no {} ranges for {}; measuring them on calib32", method.label(), model.name);
    }
    let st = measure_ranges(model, &calib_images(model, "calib32", None)?, quiet)?;
    Ok(st.calibration(model, pct).ranges(model, fam, pct)?)
}

/// The two full-precision passes of a range calibration, with a progress bar.
pub fn measure_ranges(model: &Model, imgs: &[(String, sqsim::Feature)], quiet: bool) -> anyhow::Result<sqsim::uniform::RangeStats> {
    let pb = progress(2 * imgs.len(), "ranges", quiet);
    let st = sqsim::uniform::collect_ranges(model, imgs, &|i| pb.set_position(i as u64))?;
    pb.finish_and_clear();
    Ok(st)
}

/// Removes a stale output this run would otherwise leave beside its own.
pub fn remove_if_present(p: &Path) -> anyhow::Result<()> {
    match std::fs::remove_file(p) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(anyhow::anyhow!("removing stale {}: {e}", p.display())),
        _ => Ok(()),
    }
}

/// Decodes and size-checks every image of every set (at the model's scale)
/// before the long work: a bad tenth image fails before the first is run.
pub fn check_sets(sets: &[(String, Vec<PathBuf>)], scale: usize) -> anyhow::Result<()> {
    for (_, paths) in sets {
        sqsim::image::check_images(paths, scale)?;
    }
    Ok(())
}

/// `--dataset D... [--limit N]`: each dataset's name and image paths,
/// resolved before any long work; `--limit 0` is refused.
pub fn resolve_sets(datasets: &[String], limit: Option<usize>) -> anyhow::Result<Vec<(String, Vec<PathBuf>)>> {
    if let Some(n) = limit {
        positive("--limit", n)?;
    }
    datasets
        .iter()
        .map(|d| {
            let (name, dir) = resolve_dataset(d)?;
            let mut paths = list_images(&dir)?;
            if let Some(n) = limit {
                paths.truncate(n);
            }
            Ok((name, paths))
        })
        .collect()
}

/// `--hw FILE`, else the model's preset: by pixel range (activations of a
/// [0, 1] network are 255× smaller and keep 16 fractional bits:
/// rdn_isr.toml), then family (EDSR-PyTorch RDN: rdn.toml, a weight buffer
/// for its dense blocks' wide inputs), else default.toml.
pub fn load_hw(path: Option<&std::path::Path>, model: &sqsim::model::Model) -> anyhow::Result<sqsim::config::HwConfig> {
    match path {
        Some(p) => Ok(sqsim::config::HwConfig::load(p)?),
        None => {
            let preset = match (model.rgb_range() == 1.0, model.arch_name()) {
                (true, _) => "rdn_isr.toml",
                (false, "rdn") => "rdn.toml",
                _ => "default.toml",
            };
            let p = sqsim::paths::home().join("hw/configs").join(preset);
            if p.exists() {
                Ok(sqsim::config::HwConfig::load(&p)?)
            } else {
                Ok(sqsim::config::HwConfig::default())
            }
        }
    }
}
