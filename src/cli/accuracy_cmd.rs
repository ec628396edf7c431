use super::common::{check_writable, load_model, progress, resolve_calibration};
use super::fmt::{self, Format};
use anyhow::bail;
use serde::Serialize;
use sqsim::dfsq::{quantize_model, FakeQuantExec, QuantConfig};
use sqsim::eval::{score, super_resolve, Scores};
use sqsim::image::{list_images, make_pair, resolve_dataset};
use sqsim::model::FloatExec;
use sqsim::paper::paper_drop_db;
use sqsim::select::{Method, MAX_BITS, MIN_BITS};
use sqsim::sq::UniversalSet;
use std::path::PathBuf;

/// FP and DFSQ-float accuracy over several bit-widths and selection methods
/// at once: the FP pass runs once per image, each quantized configuration
/// once, so a whole table costs 1 + (bits × methods) forward passes.
#[derive(clap::Args)]
pub struct Args {
    #[arg(long, default_value = "edsr_x2")]
    model: String,
    #[arg(long, value_delimiter = ',', default_value = "8,6,4,3")]
    bits: Vec<u32>,
    #[arg(long, value_delimiter = ',', default_value = "kmeans,optimal")]
    method: Vec<String>,
    #[arg(long, default_value = "Set5")]
    dataset: Vec<String>,
    #[arg(long)]
    limit: Option<usize>,
    /// CSV output (written atomically).
    #[arg(long)]
    out: Option<PathBuf>,
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

pub fn run(a: Args) -> anyhow::Result<()> {
    for &b in &a.bits {
        if !(MIN_BITS..=MAX_BITS).contains(&b) {
            bail!("invalid bits: {b} not in {MIN_BITS}..={MAX_BITS}");
        }
    }
    let methods: Vec<Method> = a.method.iter().map(|m| m.parse()).collect::<Result<_, _>>()?;
    if let Some(out) = &a.out {
        check_writable(out)?;
    }
    let u = UniversalSet::default();
    let model = load_model(&a.model, None)?;
    let mut configs = Vec::new();
    for &m in &methods {
        for &b in &a.bits {
            let cal = resolve_calibration(&model, false, None, b, m, &u, a.quiet)?;
            let q = QuantConfig { wbits: b, abits: b, ..Default::default() };
            configs.push((b, m, FakeQuantExec { layers: quantize_model(&model, cal.point_sets(&model, &u)?, &q)? }));
        }
    }
    let mut rows = Vec::new();
    for d in &a.dataset {
        let (name, dir) = resolve_dataset(d)?;
        let mut paths = list_images(&dir)?;
        if let Some(n) = a.limit {
            paths.truncate(n.max(1));
        }
        let pb = progress(paths.len(), &name, a.quiet);
        let mut fp = Vec::new();
        let mut q: Vec<Vec<Scores>> = vec![Vec::new(); configs.len()];
        for p in &paths {
            let pair = make_pair(p, model.scale)?;
            fp.push(score(&super_resolve(&model, &pair.lr, &FloatExec)?.1, &pair.hr, model.scale)?);
            for (i, (_, _, ex)) in configs.iter().enumerate() {
                q[i].push(score(&super_resolve(&model, &pair.lr, ex)?.1, &pair.hr, model.scale)?);
            }
            pb.inc(1);
        }
        pb.finish_and_clear();
        let f = Scores::mean(&fp);
        for (i, (b, m, _)) in configs.iter().enumerate() {
            let s = Scores::mean(&q[i]);
            rows.push(Row {
                model: model.name.clone(),
                dataset: name.clone(),
                images: paths.len(),
                bits: *b,
                method: m.name().into(),
                fp_psnr: f.psnr,
                fp_ssim: f.ssim,
                dfsq_psnr: s.psnr,
                dfsq_ssim: s.ssim,
                drop_db: f.psnr - s.psnr,
                paper_drop_db: paper_drop_db(&model.name, &name, *b),
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
            let h = ["dataset", "images", "bits", "method", "FP PSNR/SSIM", "DFSQ PSNR/SSIM", "drop dB", "paper drop dB"];
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
