use super::common::{calib_images, progress};
use super::uset_cmd::word_sets;
use anyhow::bail;
use sqsim::dfsq::calib;
use sqsim::select::{Method, SelectConfig, MAX_BITS, MIN_BITS};
use sqsim::sq::UniversalSet;
use sqsim::uniform::QMethod;
use std::path::PathBuf;

#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    net: super::common::ModelArgs,
    /// Activation bit-width(s), e.g. 4 or 8,6,4,3 (one statistics pass serves all).
    #[arg(long, value_delimiter = ',', required = true)]
    bits: Vec<u32>,
    /// Calibration images: a dataset name or a directory of PNGs.
    #[arg(long, default_value = "calib32")]
    images: String,
    #[arg(long)]
    max_images: Option<usize>,
    /// kmeans (DFSQ) or optimal point selection, or minmax / percentile
    /// static ranges of the uniform baselines (one file per method, for
    /// every bit-width); comma-separated for several.
    #[arg(long, value_delimiter = ',', default_value = "kmeans")]
    method: Vec<String>,
    /// Clipping percentile of `percentile`, in (0, 100].
    #[arg(long, default_value_t = sqsim::uniform::DEFAULT_PERCENTILE)]
    percentile: f64,
    /// λ of `--method optimal-energy`: weight of one active word per sample
    /// against the squared error (normalized units), ≥ 0; comma-separated for several (one file each, `{method}` in --out).
    #[arg(long, value_delimiter = ',', default_value = "0", allow_negative_numbers = true)]
    lambda: Vec<f64>,
    #[arg(long, default_value_t = 0)]
    seed: u64,
    #[arg(long, default_value = "dfsq")]
    word_sets: String,
    /// Output JSON. With several bits/methods, use {bits} and {method} in the name.
    #[arg(long)]
    out: PathBuf,
    #[arg(long)]
    quiet: bool,
}

pub fn run(a: Args) -> anyhow::Result<()> {
    for &b in &a.bits {
        if !(MIN_BITS..=MAX_BITS).contains(&b) {
            bail!("invalid bits: {b} not in {MIN_BITS}..={MAX_BITS}");
        }
    }
    let all: Vec<QMethod> = a.method.iter().map(|m| QMethod::parse(m, a.percentile)).collect::<Result<_, _>>()?;
    let methods: Vec<Method> = all.iter().filter_map(|m| if let QMethod::Dfsq(s) = m { Some(*s) } else { None }).collect();
    let ranged: Vec<QMethod> = all.iter().copied().filter(|m| m.is_static()).collect();
    if all.contains(&QMethod::DfsqUniform) {
        bail!("invalid method: dfsq-uniform needs no calibration (its points are the whole uniform grid)");
    }
    if methods.contains(&Method::Exhaustive) {
        bail!("invalid method: exhaustive search is exponential in |U|; use kmeans or optimal");
    }
    // each selection method once, optimal-energy once per λ
    let energy = methods.contains(&Method::OptimalEnergy);
    if !energy && a.lambda.iter().any(|&l| l != 0.0) {
        bail!("invalid --lambda: only --method optimal-energy takes a λ");
    }
    let mut runs: Vec<(Method, f64)> = Vec::new();
    for &m in &methods {
        if m == Method::OptimalEnergy {
            for &l in &a.lambda {
                sqsim::select::check_lambda(m, l)?;
                runs.push((m, l));
            }
        } else {
            runs.push((m, 0.0));
        }
    }
    let template = a.out.to_string_lossy().to_string();
    let many = a.bits.len() * runs.len() > 1;
    if many && !(template.contains("{bits}") || a.bits.len() == 1) {
        bail!("--out needs {{bits}} in its name when several bit-widths are given");
    }
    // one file per selection method and one per range method
    if runs.len() + ranged.len() > 1 && !template.contains("{method}") {
        bail!("--out needs {{method}} in its name when several methods are given");
    }
    let range_out = |m: &QMethod| PathBuf::from(template.replace("{method}", &m.label()).replace("{bits}", "all"));
    let sel_out = |m: Method, lambda: f64, b: u32| PathBuf::from(template.replace("{bits}", &b.to_string()).replace("{method}", &m.label(lambda)));
    // every output checked (writable, not an input, not twice) before the long work
    let mut outs: Vec<PathBuf> = ranged.iter().map(range_out).collect();
    outs.extend(runs.iter().flat_map(|&(m, l)| a.bits.iter().map(move |&b| (m, l, b))).map(|(m, l, b)| sel_out(m, l, b)));
    for (i, o) in outs.iter().enumerate() {
        if outs[..i].iter().any(|p| sqsim::io_util::same_file(p, o) || p == o) {
            bail!("--out {}: two results would be written to one file; use {{bits}} and {{method}} in --out", o.display());
        }
        super::common::check_writable(o)?;
    }
    let u = UniversalSet::new(word_sets(&a.word_sets)?)?;
    let model = a.net.load(a.quiet)?;
    let imgs = calib_images(&model, &a.images, a.max_images)?;
    if !ranged.is_empty() {
        let st = super::common::measure_ranges(&model, &imgs, a.quiet)?;
        for m in &ranged {
            let c = st.calibration(&model, m.percentile());
            let out = range_out(m);
            c.save(&out)?;
            if !a.quiet {
                println!("wrote {} ({} layers, {} images, {})", out.display(), c.layers.len(), imgs.len(), m.label());
            }
        }
    }
    if methods.is_empty() {
        return Ok(());
    }
    let pb = progress(imgs.len(), "calibrating", a.quiet);
    let t0 = std::time::Instant::now();
    let stats = calib::collect(&model, &imgs, &u, &|i| pb.set_position(i as u64))?;
    pb.finish_and_clear();
    if !a.quiet {
        eprintln!("time: statistics pass {:.2} s ({} images)", t0.elapsed().as_secs_f64(), imgs.len());
    }
    for &(m, lambda) in &runs {
        for &b in &a.bits {
            let cfg = SelectConfig { bits: b, method: m, seed: a.seed, lambda, ..Default::default() };
            let t = std::time::Instant::now();
            let c = calib::select_all(&stats, &model.name, &u, &cfg)?;
            let select_s = t.elapsed().as_secs_f64();
            let label = m.label(lambda);
            let out = sel_out(m, lambda, b);
            c.save(&out)?;
            if !a.quiet {
                println!("wrote {} ({} layers, {} images, {} bits, {label}; selection {select_s:.2} s)", out.display(), c.layers.len(), imgs.len(), b);
            }
        }
    }
    Ok(())
}
