use super::fmt::{self, Format};
use super::uset_cmd::word_sets;
use anyhow::Context;
use sqsim::quant::act::{channel_stats, normalize};
use sqsim::select::{exhaustive, select, Method, SelectConfig};
use sqsim::sq::UniversalSet;
use std::path::PathBuf;

#[derive(clap::Args)]
pub struct Args {
    /// Text file of samples: numbers separated by whitespace, commas or newlines ('#' starts a comment).
    #[arg(long)]
    samples: PathBuf,
    #[arg(long, default_value_t = 4)]
    bits: u32,
    /// kmeans, optimal, exhaustive, or all (exhaustive only where feasible).
    #[arg(long, default_value = "all")]
    method: String,
    #[arg(long, default_value_t = 0)]
    seed: u64,
    #[arg(long, default_value = "dfsq")]
    word_sets: String,
    /// Apply DFSQ normalization (x − mean)/(max|x − mean| + 1e-8) first.
    #[arg(long)]
    normalize: bool,
    /// With --normalize: the samples are post-ReLU (mean fixed at 0).
    #[arg(long, requires = "normalize")]
    post_relu: bool,
    #[arg(long, value_enum, default_value = "table")]
    format: Format,
}

pub fn read_samples(path: &PathBuf) -> anyhow::Result<Vec<f32>> {
    use std::io::Read;
    use sqsim::limits::{MAX_SAMPLES, MAX_SAMPLE_FILE_BYTES};
    // read at most one byte past the cap: a device or endless pipe is refused, not drained
    let f = std::fs::File::open(path).with_context(|| format!("reading samples {}", path.display()))?;
    let mut bytes = Vec::new();
    f.take(MAX_SAMPLE_FILE_BYTES + 1).read_to_end(&mut bytes).with_context(|| format!("reading samples {}", path.display()))?;
    if bytes.len() as u64 > MAX_SAMPLE_FILE_BYTES {
        return Err(sqsim::Error::Limit {
            what: format!("--samples {}", path.display()),
            value: format!("more than {MAX_SAMPLE_FILE_BYTES} bytes"),
            limit: format!("{MAX_SAMPLE_FILE_BYTES} bytes"),
        }
        .into());
    }
    let text = String::from_utf8(bytes).map_err(|_| anyhow::anyhow!("{}: not UTF-8 text", path.display()))?;
    sqsim::io_util::note_input(path);
    let mut out = Vec::new();
    for (ln, line) in text.lines().enumerate() {
        let line = line.split('#').next().unwrap_or("");
        for tok in line.split(|c: char| c.is_whitespace() || c == ',').filter(|t| !t.is_empty()) {
            let v: f64 = tok
                .parse()
                .map_err(|_| anyhow::anyhow!("{}:{}: `{tok}` is not a number", path.display(), ln + 1))?;
            if !v.is_finite() {
                anyhow::bail!("{}:{}: non-finite sample `{tok}`", path.display(), ln + 1);
            }
            out.push(v as f32);
        }
        sqsim::limits::check(&format!("--samples {}", path.display()), out.len() as u128, MAX_SAMPLES as u128, "samples")?;
    }
    if out.is_empty() {
        anyhow::bail!("{}: no samples", path.display());
    }
    Ok(out)
}

pub fn run(a: Args) -> anyhow::Result<()> {
    let u = UniversalSet::new(word_sets(&a.word_sets)?)?;
    let mut s = read_samples(&a.samples)?;
    if a.normalize {
        let st = channel_stats(&s, a.post_relu);
        s = normalize(&s, st);
    } else if let Some((i, v)) = s.iter().enumerate().find(|(_, v)| v.abs() > 1.0) {
        // U spans [−1, 1]: a sample outside would be clipped without a word
        anyhow::bail!(
            "--samples {}: sample {} is {v}, outside [-1, 1] where the universal set lies; pass --normalize (DFSQ's per-channel normalization) or rescale the samples",
            a.samples.display(),
            i + 1
        );
    }
    let methods: Vec<Method> = if a.method.eq_ignore_ascii_case("all") {
        let mut m = vec![Method::KMeans, Method::Optimal];
        if exhaustive::n_subsets(u.len(), 1 << a.bits.min(16)) <= exhaustive::MAX_SUBSETS {
            m.push(Method::Exhaustive);
        }
        m
    } else {
        vec![a.method.parse()?]
    };
    let mut rows = Vec::new();
    let mut json = Vec::new();
    for m in methods {
        let cfg = SelectConfig { bits: a.bits, method: m, seed: a.seed, ..Default::default() };
        let t = std::time::Instant::now();
        let sel = select(&s, &u, &cfg, 0)?;
        let ms = t.elapsed().as_secs_f64() * 1e3;
        let pts = sel.points.values();
        rows.push(vec![
            m.name().to_string(),
            pts.len().to_string(),
            format!("{:.6e}", sel.sse),
            format!("{:.6e}", sel.mse()),
            format!("{ms:.2}"),
            pts.iter().map(|p| p.to_string()).collect::<Vec<_>>().join(" "),
        ]);
        json.push(serde_json::json!({
            "method": m.name(), "points": pts, "sse": sel.sse, "mse": sel.mse(), "time_ms": ms
        }));
    }
    let header = ["method", "n_points", "sse", "mse", "time_ms", "points"];
    match a.format {
        Format::Table => {
            println!("{} samples, b = {}, |U| = {}", s.len(), a.bits, u.len());
            print!("{}", fmt::table(&header, &rows));
        }
        Format::Csv => print!("{}", fmt::csv(&header, &rows)?),
        Format::Json => println!(
            "{}",
            serde_json::to_string_pretty(&serde_json::json!({
                "samples": s.len(), "bits": a.bits, "universal_set_size": u.len(), "methods": json
            }))?
        ),
    }
    Ok(())
}
