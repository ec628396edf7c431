//! Renders `ReportData`: SVG figures (plotters, SVG backend only, text as
//! <text> elements so no font files), CSV tables, JSON, and one HTML page
//! with every figure and crop inlined (no external resources).
use super::stats::{base64, BoxStats};
use super::{ActDist, ReportData};
use crate::{Error, Result};
use plotters::coord::Shift;
use plotters::prelude::*;
use std::fmt::Write as _;
use std::path::Path;

/// Series colours: FP, the method's float reference, hardware, paper; then per bit-width.
const C_FP: RGBColor = RGBColor(40, 40, 40);
const C_DFSQ: RGBColor = RGBColor(31, 119, 180);
const C_HW: RGBColor = RGBColor(214, 39, 40);
const C_PAPER: RGBColor = RGBColor(44, 160, 44);
const PALETTE: [RGBColor; 6] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
];

fn plot_err<E: std::fmt::Debug>(e: E) -> Error {
    Error::arg("plot", format!("{e:?}"))
}

type Area<'a> = DrawingArea<SVGBackend<'a>, Shift>;

/// Draws into a fresh SVG string of `size` pixels.
fn svg(size: (u32, u32), draw: impl FnOnce(&Area) -> Result<()>) -> Result<String> {
    let mut s = String::new();
    {
        let root = SVGBackend::with_string(&mut s, size).into_drawing_area();
        root.fill(&WHITE).map_err(plot_err)?;
        draw(&root)?;
        root.present().map_err(plot_err)?;
    }
    Ok(s)
}

/// (lo, hi) padded by 8 % (or ±0.5 when flat), over finite values.
fn range(vals: impl IntoIterator<Item = f64>) -> (f64, f64) {
    let (lo, hi) = vals.into_iter().filter(|v| v.is_finite()).fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), v| (l.min(v), h.max(v)));
    if !lo.is_finite() {
        return (0.0, 1.0);
    }
    let pad = if hi > lo { 0.08 * (hi - lo) } else { 0.5 };
    (lo - pad, hi + pad)
}

/// PSNR and SSIM against bit-width for one dataset.
pub fn accuracy_svg(d: &ReportData, dataset: &str) -> Result<String> {
    let rows: Vec<_> = d.accuracy.iter().filter(|r| r.dataset == dataset).collect();
    // integer x axis: one label per bit-width
    let b0 = rows.iter().map(|r| r.bits as i32).min().unwrap_or(2) - 1;
    let b1 = rows.iter().map(|r| r.bits as i32).max().unwrap_or(8) + 1;
    svg((1000, 380), |root| {
        let panels = root.split_evenly((1, 2));
        for (pi, area) in panels.iter().enumerate() {
            let psnr = pi == 0;
            let get = |r: &super::AccRow| if psnr { [r.fp_psnr, r.dfsq_psnr, r.hw_psnr] } else { [r.fp_ssim, r.dfsq_ssim, r.hw_ssim] };
            let paper: Vec<(i32, f64)> =
                if psnr { rows.iter().filter_map(|r| r.paper_drop_db.map(|p| (r.bits as i32, r.fp_psnr - p))).collect() } else { vec![] };
            let (y0, y1) = range(rows.iter().flat_map(|r| get(r)).chain(paper.iter().map(|p| p.1)));
            let mut ch = ChartBuilder::on(area)
                .caption(format!("{dataset}: {} vs bit-width", if psnr { "PSNR (dB)" } else { "SSIM" }), ("sans-serif", 18))
                .margin(12)
                .x_label_area_size(36)
                .y_label_area_size(64)
                .build_cartesian_2d(b0..b1, y0..y1)
                .map_err(plot_err)?;
            ch.configure_mesh()
                .x_desc("weight = activation bits")
                .y_desc(if psnr { "PSNR dB" } else { "SSIM" })
                .y_label_formatter(&|y| if psnr { format!("{y:.2}") } else { format!("{y:.4}") })
                .draw()
                .map_err(plot_err)?;
            let float_name = format!("{} float", d.method);
            for (k, (name, col)) in [("FP", C_FP), (float_name.as_str(), C_DFSQ), ("hardware", C_HW)].into_iter().enumerate() {
                let pts: Vec<(i32, f64)> = rows.iter().map(|r| (r.bits as i32, get(r)[k])).collect();
                // hardware drawn dashed-looking (thinner, crosses) so it stays visible on top of the float reference
                ch.draw_series(LineSeries::new(pts.clone(), col.stroke_width(if k == 2 { 1 } else { 2 })))
                    .map_err(plot_err)?
                    .label(name)
                    .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], col.stroke_width(2)));
                if k == 2 {
                    ch.draw_series(pts.iter().map(|&p| Cross::new(p, 5, col.stroke_width(2)))).map_err(plot_err)?;
                } else {
                    ch.draw_series(pts.iter().map(|&p| Circle::new(p, 3, col.filled()))).map_err(plot_err)?;
                }
            }
            if !paper.is_empty() {
                ch.draw_series(paper.iter().map(|&p| TriangleMarker::new(p, 6, C_PAPER.filled())))
                    .map_err(plot_err)?
                    .label(format!("FP − paper {} drop", d.method))
                    .legend(|(x, y)| TriangleMarker::new((x + 10, y), 6, C_PAPER.filled()));
            }
            ch.configure_series_labels()
                .position(SeriesLabelPosition::LowerRight)
                .background_style(WHITE.mix(0.85))
                .border_style(BLACK)
                .draw()
                .map_err(plot_err)?;
        }
        Ok(())
    })
}

/// Per-layer relative error energy and max |error| of the hardware vs the
/// float reference, one series per bit-width.
pub fn layer_error_svg(d: &ReportData) -> Result<String> {
    let mut bits: Vec<u32> = d.layer_error.iter().map(|r| r.bits).collect();
    bits.sort_unstable();
    bits.dedup();
    let n = d.layer_error.iter().map(|r| r.index + 1).max().unwrap_or(1);
    const FLOOR: f64 = 1e-16;
    svg((1000, 420), |root| {
        let panels = root.split_evenly((1, 2));
        for (pi, area) in panels.iter().enumerate() {
            let val = |r: &super::LayerErrRow| if pi == 0 { r.rel_err_energy } else { r.max_abs_err }.max(FLOOR);
            let hi = d.layer_error.iter().map(val).fold(FLOOR * 10.0, f64::max) * 3.0;
            let lo = d.layer_error.iter().map(val).filter(|&v| v > FLOOR).fold(hi, f64::min) / 3.0;
            let mut ch = ChartBuilder::on(area)
                .caption(
                    if pi == 0 { "relative error energy Σ(hw−ref)²/Σref²" } else { "max |hw − ref| (activation units)" },
                    ("sans-serif", 16),
                )
                .margin(12)
                .x_label_area_size(36)
                .y_label_area_size(64)
                .build_cartesian_2d(-0.5f64..n as f64 - 0.5, (lo.max(FLOOR)..hi).log_scale())
                .map_err(plot_err)?;
            ch.configure_mesh()
                .x_desc("quantized layer (forward order)")
                .x_label_formatter(&|x| format!("{x:.0}"))
                .y_labels(6)
                .y_label_formatter(&|y| format!("{y:.0e}"))
                .draw()
                .map_err(plot_err)?;
            for (k, b) in bits.iter().enumerate() {
                let col = PALETTE[k % PALETTE.len()];
                let pts: Vec<(f64, f64)> = d.layer_error.iter().filter(|r| r.bits == *b).map(|r| (r.index as f64, val(r))).collect();
                ch.draw_series(LineSeries::new(pts.clone(), col.stroke_width(1)))
                    .map_err(plot_err)?
                    .label(format!("W{b}A{b}"))
                    .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], col.stroke_width(2)));
                ch.draw_series(pts.iter().map(|&p| Circle::new(p, 3, col.filled()))).map_err(plot_err)?;
            }
            ch.configure_series_labels().background_style(WHITE.mix(0.85)).border_style(BLACK).draw().map_err(plot_err)?;
        }
        Ok(())
    })
}

/// One box (Q1..Q3 with median) and min/max whiskers at x.
fn draw_box(
    ch: &mut ChartContext<SVGBackend, Cartesian2d<plotters::coord::types::RangedCoordf64, plotters::coord::types::RangedCoordf64>>,
    x: f64,
    b: &BoxStats,
    col: RGBColor,
) -> Result<()> {
    let w = 0.3;
    let (q1, q3) = (b.q1, b.q3.max(b.q1));
    ch.draw_series([
        Rectangle::new([(x - w, q1), (x + w, q3)], col.mix(0.35).filled()),
        Rectangle::new([(x - w, q1), (x + w, q3)], col.stroke_width(1)),
    ])
    .map_err(plot_err)?;
    let lines = [
        vec![(x - w, b.median), (x + w, b.median)],
        vec![(x, b.min), (x, q1)],
        vec![(x, q3), (x, b.max)],
        vec![(x - w / 2.0, b.min), (x + w / 2.0, b.min)],
        vec![(x - w / 2.0, b.max), (x + w / 2.0, b.max)],
    ];
    ch.draw_series(lines.into_iter().map(|l| PathElement::new(l, col.stroke_width(2)))).map_err(plot_err)?;
    Ok(())
}

/// Box plots before (left) and after (right) normalization; `points` are
/// drawn as horizontal lines on panel `points_panel` (0 raw, 1 normalized).
fn boxes_svg(
    title: &str,
    labels: &[String],
    raw: &[BoxStats],
    norm: &[BoxStats],
    points: &[f64],
    points_label: &str,
    points_panel: usize,
) -> Result<String> {
    let n = labels.len().max(1) as f64;
    svg((1000, 400), |root| {
        let panels = root.split_evenly((1, 2));
        for (pi, area) in panels.iter().enumerate() {
            let bs = if pi == 0 { raw } else { norm };
            let (y0, y1) = range(bs.iter().flat_map(|b| [b.min, b.max]).chain(if pi == points_panel { points.to_vec() } else { vec![] }));
            let mut ch = ChartBuilder::on(area)
                .caption(format!("{title} — {}", if pi == 0 { "raw" } else { "normalized (x−μ)/M" }), ("sans-serif", 16))
                .margin(12)
                .x_label_area_size(44)
                .y_label_area_size(56)
                .build_cartesian_2d(-0.5f64..n - 0.5, y0..y1)
                .map_err(plot_err)?;
            ch.configure_mesh()
                .disable_x_mesh()
                .x_labels(labels.len() + 1)
                .x_label_formatter(&|x| {
                    let i = x.round();
                    if (x - i).abs() < 1e-6 && i >= 0.0 {
                        labels.get(i as usize).cloned().unwrap_or_default()
                    } else {
                        String::new()
                    }
                })
                .y_label_formatter(&|y| format!("{y:.2}"))
                .draw()
                .map_err(plot_err)?;
            if pi == points_panel && !points.is_empty() {
                ch.draw_series(points.iter().map(|&p| PathElement::new(vec![(-0.5, p), (n - 0.5, p)], C_PAPER.mix(0.8).stroke_width(1))))
                    .map_err(plot_err)?
                    .label(points_label)
                    .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], C_PAPER.stroke_width(2)));
            }
            for (i, b) in bs.iter().enumerate() {
                draw_box(&mut ch, i as f64, b, if pi == 0 { C_DFSQ } else { C_HW })?;
            }
            if pi == points_panel && !points.is_empty() {
                ch.configure_series_labels().background_style(WHITE.mix(0.85)).border_style(BLACK).draw().map_err(plot_err)?;
            }
        }
        Ok(())
    })
}

pub fn act_channels_svg(a: &ActDist) -> Result<String> {
    let labels: Vec<String> = a.channels.iter().map(|c| format!("ch {}", c.channel)).collect();
    let raw: Vec<BoxStats> = a.channels.iter().map(|c| c.raw).collect();
    let norm: Vec<BoxStats> = a.channels.iter().map(|c| c.norm).collect();
    boxes_svg(&format!("{} input per channel ({})", a.layer, a.image), &labels, &raw, &norm, &[], "", 1)
}

pub fn act_images_svg(a: &ActDist) -> Result<String> {
    let labels: Vec<String> = a.per_image.iter().map(|c| c.image.clone()).collect();
    let raw: Vec<BoxStats> = a.per_image.iter().map(|c| c.raw).collect();
    let norm: Vec<BoxStats> = a.per_image.iter().map(|c| c.norm).collect();
    let pl = if a.points_raw {
        format!("{}-bit per-tensor grid", a.points_bits)
    } else {
        format!("{}-bit points of ch {}", a.points_bits, a.channel)
    };
    boxes_svg(&format!("{} ch {} per image", a.layer, a.channel), &labels, &raw, &norm, &a.points, &pl, usize::from(!a.points_raw))
}

/// Per-layer cycles, and energy of the shift-add array vs the multiplier
/// baseline, at one bit-width.
pub fn cost_svg(d: &ReportData, bits: u32) -> Result<String> {
    let rows: Vec<_> = d.cost.iter().filter(|r| r.bits == bits).collect();
    let n = rows.len().max(1) as f64;
    svg((1000, 720), |root| {
        let (top, bottom) = root.split_vertically(360);
        let upper = top.split_evenly((1, 2));
        let cmax = rows.iter().map(|r| r.cycles as f64).fold(1.0, f64::max) * 1.1;
        let mut ch = layer_bars(&upper[0], &format!("cycles per layer (W{bits}A{bits})"), n, cmax, &|y| format!("{y:.2e}"))?;
        ch.draw_series(
            rows.iter()
                .enumerate()
                .map(|(i, r)| Rectangle::new([(i as f64 - 0.35, 0.0), (i as f64 + 0.35, r.cycles as f64)], C_DFSQ.filled())),
        )
        .map_err(plot_err)?;
        type Get = fn(&super::CostRow) -> (f64, Option<f64>);
        let panels: [(&Area, &str, Get); 2] = [
            (&upper[1], "total energy per layer (µJ)", |r| (r.energy_uj, r.baseline_energy_uj)),
            (&bottom, "arithmetic energy per layer: PEs + de-normalization + output (µJ)", |r| {
                (r.arith_energy_uj, r.baseline_arith_energy_uj)
            }),
        ];
        for (area, title, get) in panels {
            let emax = rows
                .iter()
                .flat_map(|r| {
                    let (a, b) = get(r);
                    [a, b.unwrap_or(0.0)]
                })
                .fold(1e-9, f64::max)
                * 1.15;
            let mut ch = layer_bars(area, title, n, emax, &|y| format!("{y:.1}"))?;
            // a uniform design has no baseline: its array already multiplies
            let with_baseline = rows.iter().any(|r| get(r).1.is_some());
            let series: &[(&str, RGBColor)] =
                if with_baseline { &[("shift-add", C_DFSQ), ("int-mult baseline", C_HW)] } else { &[("uniform-integer array", C_DFSQ)] };
            for (k, &(name, col)) in series.iter().enumerate() {
                let (off, wd) = if !with_baseline { (-0.35, 0.7) } else if k == 0 { (-0.38, 0.38) } else { (0.0, 0.38) };
                ch.draw_series(rows.iter().enumerate().map(|(i, r)| {
                    let (a, b) = get(r);
                    Rectangle::new([(i as f64 + off, 0.0), (i as f64 + off + wd, if k == 0 { a } else { b.unwrap_or(0.0) })], col.filled())
                }))
                .map_err(plot_err)?
                .label(name)
                .legend(move |(x, y)| Rectangle::new([(x, y - 5), (x + 14, y + 5)], col.filled()));
            }
            ch.configure_series_labels()
                .position(SeriesLabelPosition::LowerRight)
                .background_style(WHITE.mix(0.9))
                .border_style(BLACK)
                .draw()
                .map_err(plot_err)?;
        }
        Ok(())
    })
}

type Chart<'a, 'b> = ChartContext<'a, SVGBackend<'b>, Cartesian2d<plotters::coord::types::RangedCoordf64, plotters::coord::types::RangedCoordf64>>;

/// Axes of a per-layer bar chart: quantized layer 0..n on x, 0..y_max on y.
fn layer_bars<'a, 'b>(area: &'a Area<'b>, caption: &str, n: f64, y_max: f64, y_fmt: &dyn Fn(&f64) -> String) -> Result<Chart<'a, 'b>> {
    let mut ch = ChartBuilder::on(area)
        .caption(caption, ("sans-serif", 16))
        .margin(12)
        .x_label_area_size(36)
        .y_label_area_size(70)
        .build_cartesian_2d(-0.5f64..n - 0.5, 0f64..y_max)
        .map_err(plot_err)?;
    ch.configure_mesh()
        .x_desc("quantized layer")
        .x_label_formatter(&|x| format!("{x:.0}"))
        .y_label_formatter(y_fmt)
        .draw()
        .map_err(plot_err)?;
    Ok(ch)
}

fn to_csv<T: serde::Serialize>(rows: &[T]) -> Result<Vec<u8>> {
    let mut w = csv::Writer::from_writer(Vec::new());
    for r in rows {
        w.serialize(r).map_err(|e| Error::arg("csv", e.to_string()))?;
    }
    w.into_inner().map_err(|e| Error::arg("csv", e.to_string()))
}

/// Flat CSV rows for the box plots.
#[derive(serde::Serialize)]
struct BoxRow<'a> {
    layer: &'a str,
    group: String,
    domain: &'static str,
    min: f64,
    q1: f64,
    median: f64,
    q3: f64,
    max: f64,
}

fn box_rows<'a>(layer: &'a str, items: impl Iterator<Item = (String, BoxStats, BoxStats)>) -> Vec<BoxRow<'a>> {
    let mut out = Vec::new();
    for (g, r, n) in items {
        for (domain, b) in [("raw", r), ("normalized", n)] {
            out.push(BoxRow { layer, group: g.clone(), domain, min: b.min, q1: b.q1, median: b.median, q3: b.q3, max: b.max });
        }
    }
    out
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// The SVG element alone (drops any XML prolog) for inlining.
fn inline_svg(s: &str) -> &str {
    s.find("<svg").map_or(s, |i| &s[i..])
}

/// Every output file as (name, bytes); `report.html` is last so a reader
/// that sees it knows the rest is complete.
pub fn render(d: &ReportData) -> Result<Vec<(String, Vec<u8>)>> {
    let mut files: Vec<(String, Vec<u8>)> = Vec::new();
    let mut datasets: Vec<&str> = Vec::new();
    for r in &d.accuracy {
        if !datasets.contains(&r.dataset.as_str()) {
            datasets.push(&r.dataset);
        }
    }
    let mut figs: Vec<(String, String, String)> = Vec::new(); // (file, title, svg)
    for ds in &datasets {
        figs.push((format!("accuracy_{}.svg", file_safe(ds)), format!("Accuracy vs bit-width — {ds}"), accuracy_svg(d, ds)?));
    }
    figs.push(("layer_error.svg".into(), "Per-layer error of the hardware vs the float reference".into(), layer_error_svg(d)?));
    figs.push(("act_channels.svg".into(), "Activation distribution per channel".into(), act_channels_svg(&d.activations)?));
    figs.push(("act_images.svg".into(), "Activation distribution per image".into(), act_images_svg(&d.activations)?));
    let cost_bits = d.cost.iter().map(|r| r.bits).min().unwrap_or(4);
    figs.push(("cost.svg".into(), format!("Cost per layer (W{cost_bits}A{cost_bits})"), cost_svg(d, cost_bits)?));
    if let Some(c) = &d.compare {
        figs.push(("front.svg".into(), format!("Accuracy–cost Pareto fronts ({})", c.model), front_svg(&c.designs, c.fp.psnr)?));
    }
    for (f, _, s) in &figs {
        files.push((f.clone(), s.as_bytes().to_vec()));
    }
    let a = &d.activations;
    files.push(("accuracy.csv".into(), to_csv(&d.accuracy)?));
    files.push(("layer_error.csv".into(), to_csv(&d.layer_error)?));
    files.push((
        "act_channels.csv".into(),
        to_csv(&box_rows(&a.layer, a.channels.iter().map(|c| (format!("ch{}", c.channel), c.raw, c.norm))))?,
    ));
    files.push(("act_images.csv".into(), to_csv(&box_rows(&a.layer, a.per_image.iter().map(|c| (c.image.clone(), c.raw, c.norm))))?));
    files.push(("cost.csv".into(), to_csv(&d.cost)?));
    files.push(("report.json".into(), serde_json::to_vec_pretty(d).map_err(|e| Error::arg("json", e.to_string()))?));
    files.push(("report.html".into(), html(d, &figs).into_bytes()));
    Ok(files)
}

fn file_safe(s: &str) -> String {
    s.chars().map(|c| if c.is_ascii_alphanumeric() || c == '-' || c == '_' { c } else { '_' }).collect()
}

fn html(d: &ReportData, figs: &[(String, String, String)]) -> String {
    let mut h = String::new();
    let title = format!("sqsim sign-off report — {} x{}, {} on `{}`", d.model, d.scale, d.method, d.hw_config);
    let m = esc(&d.method);
    let _ = write!(
        h,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"/><title>{}</title><style>\
body{{font-family:sans-serif;margin:24px;max-width:1060px}}table{{border-collapse:collapse;margin:8px 0}}\
td,th{{border:1px solid #bbb;padding:3px 8px;text-align:right}}th{{background:#eee}}\
.crops img{{width:192px;height:192px;image-rendering:pixelated;border:1px solid #888}}\
.crops td{{text-align:center}}figure{{margin:12px 0}}figcaption{{color:#444;font-size:90%}}</style></head><body>\n<h1>{}</h1>\n",
        esc(&title),
        esc(&title)
    );
    let _ = writeln!(h, "<h2>Accuracy</h2>\n<table><tr><th>dataset</th><th>images</th><th>bits</th><th>FP PSNR/SSIM</th><th>{m} float PSNR/SSIM</th><th>hardware PSNR/SSIM</th><th>drop dB</th><th>paper drop dB</th><th>hw − float dB</th><th>overflows</th></tr>");
    for r in &d.accuracy {
        let _ = writeln!(
            h,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{:.3}/{:.4}</td><td>{:.3}/{:.4}</td><td>{:.3}/{:.4}</td><td>{:.3}</td><td>{}</td><td>{:+.4}</td><td>{}</td></tr>",
            esc(&r.dataset),
            r.images,
            r.bits,
            r.fp_psnr,
            r.fp_ssim,
            r.dfsq_psnr,
            r.dfsq_ssim,
            r.hw_psnr,
            r.hw_ssim,
            r.fp_psnr - r.dfsq_psnr,
            r.paper_drop_db.map_or("–".into(), |p| format!("{p:.3}")),
            r.hw_psnr - r.dfsq_psnr,
            r.hw_overflows
        );
    }
    h.push_str("</table>\n");
    let a = &d.activations;
    for (file, t, s) in figs {
        let note = match file.as_str() {
            f if f.starts_with("accuracy") => format!("Lines: FP, the {m} float reference, bit-accurate hardware (crosses). Triangles: FP − the paper's drop for this method, where tabulated (compare drops, not absolute PSNR: the weights differ)."),
            "layer_error.svg" => "Each quantized layer run on the hardware datapath and on the float reference with the same input (log scale).".into(),
            "act_channels.svg" => format!("Input of {} ({}) on image {}: min/Q1/median/Q3/max per channel, before and after per-channel normalization.", esc(&a.layer), if a.post_relu { "post-ReLU, μ = 0" } else { "signed" }, esc(&a.image)),
            "front.svg" => "Every design of `sqsim compare`, bit-accurate hardware PSNR against energy per image and area; filled: on the front (numbers: bits). Table below.".into(),
            "act_images.svg" if a.points_raw => format!("Channel {} of {} across images; green lines: the layer's {} static levels at {} bits (one per-tensor grid, raw units).", a.channel, esc(&a.layer), a.points.len(), a.points_bits),
            "act_images.svg" => format!("Channel {} of {} across images; green lines: the {} selected points of that channel at {} bits.", a.channel, esc(&a.layer), a.points.len(), a.points_bits),
            _ if d.cost.iter().all(|r| r.baseline_energy_uj.is_none()) => "Cycles from the closed-form timing model; energy (total, and arithmetic only: multipliers, accumulation, requantization) of the uniform-integer array.".into(),
            _ => "Cycles from the closed-form timing model; energy (total, and arithmetic only) of the shift-add array vs an integer-multiplier array of the same size; SRAM/DRAM are the same for both.".into(),
        };
        let _ = writeln!(
            h,
            "<h2>{}</h2>\n<figure>{}<figcaption>{} (<code>{}</code>)</figcaption></figure>",
            esc(t),
            inline_svg(s),
            note,
            esc(file)
        );
        if file == "front.svg" {
            if let Some(c) = &d.compare {
                h.push_str(&compare_table(c));
            }
        }
    }
    h.push_str(
        &format!("<h2>SR crops</h2>\n<table class=\"crops\"><tr><th>bits</th><th>HR</th><th>FP</th><th>{m} float</th><th>hardware</th></tr>\n"),
    );
    for c in &d.crops {
        let img = |png: &[u8], cap: String| {
            format!("<td><img alt=\"{}\" src=\"data:image/png;base64,{}\"/><br/>{}</td>", esc(&cap), base64(png), esc(&cap))
        };
        let _ = writeln!(
            h,
            "<tr><td>W{b}A{b}</td>{}{}{}{}</tr>",
            img(&c.png.hr, format!("{} HR", c.image)),
            img(&c.png.fp, format!("FP {:.2} dB", c.fp_psnr)),
            img(&c.png.dfsq, format!("{} {:.2} dB", d.method, c.dfsq_psnr)),
            img(&c.png.hw, format!("hw {:.2} dB", c.hw_psnr)),
            b = c.bits
        );
    }
    if let Some(c) = d.crops.first() {
        let _ = writeln!(
            h,
            "</table>\n<p>{}×{} crop at ({}, {}) of {}; PSNR (Y, whole image) under each.</p>",
            c.side,
            c.side,
            c.x,
            c.y,
            esc(&c.image)
        );
    } else {
        h.push_str("</table>\n");
    }
    h.push_str("<p>Data: accuracy.csv, layer_error.csv, act_channels.csv, act_images.csv, cost.csv, report.json.</p>\n</body></html>\n");
    h
}

/// Writes every file into `dir` (created if needed), each atomically,
/// `report.html` last.
pub fn write_all(dir: &Path, files: &[(String, Vec<u8>)]) -> Result<()> {
    let mut out = crate::io_util::OwnedDir::begin(dir)?;
    // an older report.html would vouch for a half-replaced set of files
    let html = dir.join("report.html");
    match std::fs::remove_file(&html) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(Error::io(&html, e)),
        _ => {}
    }
    // report.html last: present only when every figure it links is
    let (page, rest): (Vec<_>, Vec<_>) = files.iter().partition(|(n, _)| n == "report.html");
    for (name, bytes) in rest.into_iter().chain(page) {
        out.write(name, bytes)?;
    }
    // the older report's own files this one does not have (stale figures) go
    out.finish()
}

/// The accuracy–cost Pareto fronts of `sqsim compare`: hardware PSNR
/// against energy per image and against area, one colour per method family,
/// the front joined by a line, FP as a dashed horizontal line.
pub fn front_svg(rows: &[crate::compare::DesignRow], fp_psnr: f64) -> Result<String> {
    // DFSQ with architecture levers (`+gate`, `+idx`, `+pstats`) is its own series
    let fams = ["dfsq", "dfsq + levers", "minmax", "percentile", "dfsq-uniform"];
    let series = |r: &crate::compare::DesignRow| if r.name.contains('+') { "dfsq + levers".to_string() } else { r.method.clone() };
    svg((1000, 420), |root| {
        let panels = root.split_evenly((1, 2));
        type Get = fn(&crate::compare::DesignRow) -> (f64, bool);
        let axes: [(&str, Get); 2] = [
            ("energy per image (mJ)", |r| (r.energy_mj, r.pareto)),
            ("area (mm²)", |r| (r.area_mm2, r.pareto_area)),
        ];
        for (area, (xlabel, get)) in panels.iter().zip(axes) {
            let (x0, x1) = range(rows.iter().map(|r| get(r).0));
            let (y0, y1) = range(rows.iter().map(|r| r.hw.psnr).chain([fp_psnr]));
            let mut ch = ChartBuilder::on(area)
                .caption(format!("hardware PSNR vs {xlabel}"), ("sans-serif", 16))
                .margin(10)
                .x_label_area_size(36)
                .y_label_area_size(52)
                .build_cartesian_2d(x0..x1, y0..y1)
                .map_err(plot_err)?;
            ch.configure_mesh().x_desc(xlabel).y_desc("PSNR (dB)").draw().map_err(plot_err)?;
            ch.draw_series(LineSeries::new([(x0, fp_psnr), (x1, fp_psnr)], C_FP.stroke_width(1)))
                .map_err(plot_err)?
                .label("FP")
                .legend(|(x, y)| PathElement::new([(x, y), (x + 14, y)], C_FP));
            let mut front: Vec<(f64, f64)> = rows.iter().filter(|r| get(r).1).map(|r| (get(r).0, r.hw.psnr)).collect();
            front.sort_by(|a, b| a.0.total_cmp(&b.0));
            ch.draw_series(LineSeries::new(front, BLACK.mix(0.5).stroke_width(1))).map_err(plot_err)?;
            for (k, fam) in fams.iter().enumerate() {
                let col = PALETTE[k];
                let pts: Vec<&crate::compare::DesignRow> = rows.iter().filter(|r| series(r) == *fam).collect();
                if pts.is_empty() {
                    continue;
                }
                ch.draw_series(pts.iter().map(|r| {
                    let (x, on) = get(r);
                    EmptyElement::at((x, r.hw.psnr))
                        + Circle::new((0, 0), if on { 5 } else { 3 }, if on { col.filled() } else { col.stroke_width(1) })
                        + Text::new(format!("{}", r.bits), (6, -6), ("sans-serif", 11))
                }))
                .map_err(plot_err)?
                .label(*fam)
                .legend(move |(x, y)| Circle::new((x + 7, y), 4, col.filled()));
            }
            ch.configure_series_labels()
                .position(SeriesLabelPosition::LowerRight)
                .background_style(WHITE.mix(0.9))
                .border_style(BLACK)
                .draw()
                .map_err(plot_err)?;
        }
        Ok(())
    })
}

/// The designs of a comparison as an HTML table (energy split by component).
fn compare_table(c: &crate::compare::CompareSummary) -> String {
    let mut h = String::from("<table><tr><th>design</th><th>bits</th><th>hw PSNR/SSIM</th><th>drop dB</th><th>energy mJ</th><th>PE</th><th>de-norm / acc</th><th>psum</th><th>act buf</th><th>DRAM</th><th>stats</th><th>area mm²</th><th>Mcycles</th><th>front</th></tr>\n");
    for r in &c.designs {
        let b = &r.energy_breakdown_mj;
        let _ = writeln!(
            h,
            "<tr><td>{}</td><td>{}</td><td>{:.3}/{:.4}</td><td>{:.3}</td><td>{:.1}</td><td>{:.1}</td><td>{:.1}</td><td>{:.1}</td><td>{:.1}</td><td>{:.1}</td><td>{:.2}</td><td>{:.3}</td><td>{:.1}</td><td>{}</td></tr>",
            esc(&r.name),
            r.bits,
            r.hw.psnr,
            r.hw.ssim,
            c.fp.psnr - r.hw.psnr,
            r.energy_mj,
            b.pe,
            b.denorm,
            b.psum_buf,
            b.act_buf,
            b.dram,
            b.stats,
            r.area_mm2,
            r.cycles / 1e6,
            if r.pareto { "energy" } else if r.pareto_area { "area" } else { "" }
        );
    }
    h.push_str("</table>\n");
    h
}
