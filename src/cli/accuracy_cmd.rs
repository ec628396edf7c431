use super::common::{check_writable, progress, resolve_calibration, CalibFrom, resolve_ranges};
use super::fmt::{self, Format};
use anyhow::{bail, Context};
use serde::{Deserialize, Serialize};
use sqsim::dfsq::{quantize_model, FakeQuantExec, QuantConfig};
use sqsim::eval::{score, super_resolve, Scores};
use sqsim::image::make_pair;
use sqsim::model::{ConvExec, FloatExec};
use sqsim::uniform::{grid_points, quantize_uniform_model, QMethod, UniformFakeQuantExec, WeightScheme};
use sqsim::provenance::Provenance;
use sqsim::paper::{paper_drop_db, paper_minmax_drop_db};
use sqsim::select::{MAX_BITS, MIN_BITS};
use sqsim::sq::UniversalSet;
use std::path::{Path, PathBuf};

/// FP and DFSQ-float accuracy over several bit-widths and selection methods
/// at once: the FP pass runs once per image, each quantized configuration
/// once, so a whole table costs 1 + (bits × methods) forward passes.
#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    net: super::common::ModelArgs,
    #[arg(long, value_delimiter = ',', default_value = "8,6,4,3")]
    bits: Vec<u32>,
    /// kmeans, optimal (DFSQ), minmax, percentile, dfsq-uniform; comma-separated.
    #[arg(long, value_delimiter = ',', default_value = "kmeans,optimal")]
    method: Vec<String>,
    /// Clipping percentile of `percentile`, in (0, 100].
    #[arg(long, default_value_t = sqsim::uniform::DEFAULT_PERCENTILE)]
    percentile: f64,
    /// λ of `--method optimal-energy`: weight of one active word per sample
    /// against the squared error (normalized units), ≥ 0.
    #[arg(long, default_value_t = 0.0, allow_negative_numbers = true)]
    lambda: f64,
    #[arg(long, default_value = "Set5")]
    dataset: Vec<String>,
    #[arg(long)]
    limit: Option<usize>,
    /// CSV output (written atomically).
    #[arg(long)]
    out: Option<PathBuf>,
    /// Per-image scores as CSV, rewritten atomically after every image so a
    /// long run that is killed keeps the images it finished.
    #[arg(long)]
    per_image: Option<PathBuf>,
    /// Reuse the scores already in `--per-image FILE` (same model, dataset,
    /// image, bits and method) instead of recomputing them.
    #[arg(long, requires = "per_image")]
    resume: bool,
    #[arg(long, value_enum, default_value = "table")]
    format: Format,
    #[arg(long)]
    quiet: bool,
}

#[derive(Serialize)]
struct Row {
    model: String,
    dataset: String,
    images: usize,
    bits: u32,
    method: String,
    fp_psnr: f64,
    fp_ssim: f64,
    dfsq_psnr: f64,
    dfsq_ssim: f64,
    drop_db: f64,
    paper_drop_db: Option<f64>,
}

/// One image under one quantized configuration (the `--per-image` CSV).
#[derive(Serialize, Deserialize, Clone)]
struct ImageRow {
    model: String,
    dataset: String,
    image: String,
    bits: u32,
    method: String,
    fp_psnr: f64,
    fp_ssim: f64,
    dfsq_psnr: f64,
    dfsq_ssim: f64,
    /// SHA-256 (16 hex) of the calibration or ranges the method used.
    calibration: String,
    /// SHA-256 (16 hex) of the image file.
    image_sha256: String,
}

impl ImageRow {
    /// A stored row is reused only for the same image contents under the same calibration.
    fn key(&self) -> (&str, &str, u32, &str, &str, &str) {
        (&self.dataset, &self.image, self.bits, &self.method, &self.calibration, &self.image_sha256)
    }

    /// The slot a new score replaces (a stale score of another calibration included).
    fn slot(&self) -> (&str, &str, u32, &str) {
        (&self.dataset, &self.image, self.bits, &self.method)
    }
}

/// The per-image file's provenance: rows of one network only, from this sqsim.
fn per_image_provenance(model: &sqsim::model::Model) -> Provenance {
    Provenance::new().with("command", "accuracy").with("model", &model.name).with("weights_sha256", model.weights_sha256())
}

fn read_per_image(path: &Path, want: &Provenance) -> anyhow::Result<Vec<ImageRow>> {
    if !path.exists() {
        return Ok(Vec::new());
    }
    // read, not recorded as an input: this file is updated in place
    let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let (prov, body) = sqsim::provenance::split_csv(path, &text)?;
    prov.require_same(want, &format!("--per-image {}", path.display()), "this run (use another --per-image file)")?;
    let mut r = csv::Reader::from_reader(body.as_bytes());
    let mut rows = Vec::new();
    for (i, row) in r.deserialize::<ImageRow>().enumerate() {
        let row: ImageRow = row.with_context(|| format!("{}: row {} is not a per-image accuracy row", path.display(), i + 1))?;
        if ![row.fp_psnr, row.fp_ssim, row.dfsq_psnr, row.dfsq_ssim].iter().all(|v| v.is_finite()) {
            bail!("{}: row {} ({} {} bits {}) has a non-finite score; remove it (or the file) and rerun", path.display(), i + 1, row.image, row.bits, row.method);
        }
        rows.push(row);
    }
    Ok(rows)
}

fn write_per_image(path: &Path, prov: &Provenance, rows: &[ImageRow]) -> anyhow::Result<()> {
    let mut w = csv::Writer::from_writer(Vec::new());
    for r in rows {
        w.serialize(r)?;
    }
    let body = String::from_utf8(w.into_inner()?)?;
    sqsim::io_util::atomic_write(path, sqsim::provenance::csv_with(prov, &body)?.as_bytes())?;
    Ok(())
}

pub fn run(a: Args) -> anyhow::Result<()> {
    for &b in &a.bits {
        if !(MIN_BITS..=MAX_BITS).contains(&b) {
            bail!("invalid bits: {b} not in {MIN_BITS}..={MAX_BITS}");
        }
    }
    let methods: Vec<QMethod> = a.method.iter().map(|m| QMethod::parse(m, a.percentile)).collect::<Result<_, _>>()?;
    if a.lambda != 0.0 && !methods.contains(&QMethod::Dfsq(sqsim::select::Method::OptimalEnergy)) {
        bail!("invalid --lambda: only optimal-energy takes a λ");
    }
    if let (Some(o), Some(p)) = (&a.out, &a.per_image) {
        if sqsim::io_util::same_file(o, p) {
            bail!("--out {} is the --per-image file; they must differ", o.display());
        }
    }
    for out in a.out.iter().chain(&a.per_image) {
        check_writable(out)?;
    }
    let u = UniversalSet::default();
    let model = a.net.load(a.quiet)?;
    let user = a.net.user_weights();
    // every dataset resolved and every image checked before the long work
    let sets = super::common::resolve_sets(&a.dataset, a.limit)?;
    super::common::check_sets(&sets, model.scale)?;
    // (bits, method label, calibration hash, the method's float reference)
    let mut configs: Vec<(u32, String, String, Box<dyn ConvExec>)> = Vec::new();
    for &m in &methods {
        for &b in &a.bits {
            let q = QuantConfig { wbits: b, abits: b, ..Default::default() };
            let lambda = if m == QMethod::Dfsq(sqsim::select::Method::OptimalEnergy) { a.lambda } else { 0.0 };
            let (hash, ex): (String, Box<dyn ConvExec>) = match m {
                QMethod::Dfsq(sel) => {
                    let cal = resolve_calibration(&model, CalibFrom::new(None, user).beside(a.out.as_deref().or(a.per_image.as_deref())), b, sel, lambda, &u, a.quiet)?;
                    (cal.sha256(), Box::new(FakeQuantExec { layers: quantize_model(&model, cal.point_sets(&model, &u)?, &q)? }))
                }
                QMethod::DfsqUniform => {
                    let pts = grid_points(&model, b)?.1;
                    (format!("uniform-grid-{b}"), Box::new(FakeQuantExec { layers: quantize_model(&model, pts, &q)? }))
                }
                m => {
                    let r = resolve_ranges(&model, user, None, &m, a.quiet)?;
                    (sqsim::provenance::json_sha256(&r), Box::new(UniformFakeQuantExec { layers: quantize_uniform_model(&model, &r, b, b, WeightScheme::Asymmetric)? }))
                }
            };
            let label = if let QMethod::Dfsq(sel) = m { sel.label(lambda) } else { m.label() };
            configs.push((b, label, hash[..16.min(hash.len())].to_string(), ex));
        }
    }
    // earlier rows are kept in the rewritten file, resumed or not: nothing is lost
    let prov = per_image_provenance(&model);
    let mut store = match &a.per_image {
        Some(p) => read_per_image(p, &prov)?,
        None => Vec::new(),
    };
    let mut rows = Vec::new();
    for (name, paths) in &sets {
        let pb = progress(paths.len(), &name, a.quiet);
        let mut fp = Vec::new();
        let mut q: Vec<Vec<Scores>> = vec![Vec::new(); configs.len()];
        for p in paths {
            let image = p.file_name().map_or_else(String::new, |n| n.to_string_lossy().into_owned());
            let image_sha = sqsim::provenance::files_sha256(std::slice::from_ref(p))?[..16].to_string();
            let cached: Option<Vec<&ImageRow>> = if a.resume {
                configs
                    .iter()
                    .map(|(b, m, h, _)| store.iter().rev().find(|r| r.key() == (&name, &image, *b, m.as_str(), h.as_str(), image_sha.as_str())))
                    .collect()
            } else {
                None
            };
            if let Some(c) = cached.filter(|c| !c.is_empty()) {
                fp.push(Scores { psnr: c[0].fp_psnr, ssim: c[0].fp_ssim });
                for (i, r) in c.iter().enumerate() {
                    q[i].push(Scores { psnr: r.dfsq_psnr, ssim: r.dfsq_ssim });
                }
                pb.inc(1);
                continue;
            }
            let pair = make_pair(p, model.scale)?;
            let f = score(&super_resolve(&model, &pair.lr, &FloatExec)?.1, &pair.hr, model.scale)?;
            fp.push(f);
            for (i, (b, m, h, ex)) in configs.iter().enumerate() {
                let s = score(&super_resolve(&model, &pair.lr, ex.as_ref())?.1, &pair.hr, model.scale)?;
                q[i].push(s);
                let row = ImageRow {
                    model: model.name.clone(),
                    dataset: name.clone(),
                    image: image.clone(),
                    bits: *b,
                    method: m.clone(),
                    fp_psnr: f.psnr,
                    fp_ssim: f.ssim,
                    dfsq_psnr: s.psnr,
                    dfsq_ssim: s.ssim,
                    calibration: h.clone(),
                    image_sha256: image_sha.clone(),
                };
                store.retain(|r| r.slot() != row.slot());
                store.push(row);
            }
            if let Some(pi) = &a.per_image {
                write_per_image(pi, &prov, &store)?;
            }
            pb.inc(1);
        }
        pb.finish_and_clear();
        let f = Scores::mean(&fp);
        for (i, (b, m, _, _)) in configs.iter().enumerate() {
            let s = Scores::mean(&q[i]);
            rows.push(Row {
                model: model.name.clone(),
                dataset: name.clone(),
                images: paths.len(),
                bits: *b,
                method: m.clone(),
                fp_psnr: f.psnr,
                fp_ssim: f.ssim,
                dfsq_psnr: s.psnr,
                dfsq_ssim: s.ssim,
                drop_db: f.psnr - s.psnr,
                paper_drop_db: match m.as_str() {
                    "kmeans" | "optimal" => paper_drop_db(&model.name, &name, *b),
                    "minmax" => paper_minmax_drop_db(&model.name, &name, *b),
                    _ => None,
                },
            });
        }
    }
    let mut w = csv::Writer::from_writer(Vec::new());
    for r in &rows {
        w.serialize(r)?;
    }
    let csv_text = String::from_utf8(w.into_inner()?)?;
    if let Some(out) = &a.out {
        sqsim::io_util::atomic_write(out, csv_text.as_bytes())?;
    }
    match a.format {
        Format::Csv => print!("{csv_text}"),
        Format::Json => println!("{}", serde_json::to_string_pretty(&rows)?),
        Format::Table => {
            let h = ["dataset", "images", "bits", "method", "FP PSNR/SSIM", "quantized PSNR/SSIM", "drop dB", "paper drop dB"];
            let t: Vec<Vec<String>> = rows
                .iter()
                .map(|r| {
                    vec![
                        r.dataset.clone(),
                        r.images.to_string(),
                        r.bits.to_string(),
                        r.method.clone(),
                        format!("{:.3}/{:.4}", r.fp_psnr, r.fp_ssim),
                        format!("{:.3}/{:.4}", r.dfsq_psnr, r.dfsq_ssim),
                        format!("{:.3}", r.drop_db),
                        r.paper_drop_db.map_or("-".into(), |d| format!("{d:.3}")),
                    ]
                })
                .collect();
            print!("{}", fmt::table(&h, &t));
        }
    }
    Ok(())
}
