use super::fmt::{self, Format};
use sqsim::sq::{UniversalSet, WordSets};

#[derive(clap::Args)]
pub struct Args {
    /// Word sets: a preset (dfsq, ws2, ws3, ws4, ws5) or "2,3,7,off; 2,4,8,off".
    #[arg(long, default_value = "dfsq")]
    word_sets: String,
    #[arg(long, value_enum, default_value = "table")]
    format: Format,
}

pub fn word_sets(spec: &str) -> sqsim::Result<WordSets> {
    if spec.contains(',') {
        WordSets::parse(spec)
    } else {
        WordSets::preset(spec)
    }
}

pub fn run(a: Args) -> anyhow::Result<()> {
    let u = UniversalSet::new(word_sets(&a.word_sets)?)?;
    let ws = &u.words;
    let n = ws.words.len();
    let mut header = vec!["index", "value", "int", "code_bin", "code_hex", "sign"];
    let shift_names: Vec<String> = (1..=n).map(|i| format!("shift{i}")).collect();
    header.extend(shift_names.iter().map(|s| s.as_str()));
    let bits = ws.code_bits() as usize;
    let mut rows = Vec::new();
    for (i, c) in u.codes().iter().enumerate() {
        let d = c.decode(ws)?;
        let raw = c.to_raw(ws);
        let mut r = vec![
            i.to_string(),
            format!("{}", u.value(i)),
            u.ints()[i].to_string(),
            format!("{raw:0bits$b}"),
            format!("0x{raw:03x}"),
            (c.sign as u8).to_string(),
        ];
        r.extend(d.shifts[..n].iter().map(|s| s.map_or("off".to_string(), |v| v.to_string())));
        rows.push(r);
    }
    match a.format {
        Format::Table => {
            print!("{}", fmt::table(&header, &rows));
            println!(
                "{} values ({} non-negative), exact at {} fractional bits, {}-bit codes",
                u.len(),
                u.non_negative_count(),
                u.frac_bits,
                bits
            );
        }
        Format::Csv => print!("{}", fmt::csv(&header, &rows)?),
        Format::Json => {
            let items: Vec<serde_json::Value> = rows
                .iter()
                .map(|r| {
                    let mut m = serde_json::Map::new();
                    for (h, v) in header.iter().zip(r) {
                        let val = match *h {
                            "index" | "int" | "sign" => serde_json::json!(v.parse::<i64>()?),
                            "value" => serde_json::json!(v.parse::<f64>()?),
                            _ => serde_json::json!(v),
                        };
                        m.insert(h.to_string(), val);
                    }
                    Ok(serde_json::Value::Object(m))
                })
                .collect::<anyhow::Result<_>>()?;
            let doc = serde_json::json!({
                "frac_bits": u.frac_bits, "code_bits": bits, "values": items
            });
            println!("{}", serde_json::to_string_pretty(&doc)?);
        }
    }
    Ok(())
}
