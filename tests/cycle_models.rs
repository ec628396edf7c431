//! The cycle model on the shipped networks: on real layer inputs of
//! edsr_x2 and rdn_x2 (a small LR crop of Set5 baby, calibrated on itself)
//! the stepped array reproduces the functional datapath bit for bit in every
//! layer, and the timing mode reproduces every stepped counter on every
//! layer shape of both models under every shipped preset.
mod cycle_util;
use cycle_util::check_layer;
use sqsim::config::HwConfig;
use sqsim::dfsq::{calib, quantize_model, FakeQuantExec, QuantConfig};
use sqsim::hw::HwExec;
use sqsim::image::{crop, load_rgb, to_feature};
use sqsim::model::{load_builtin, Conv2d, ConvExec, FloatExec, Model, QuantSite};
use sqsim::select::{Method, SelectConfig};
use sqsim::sq::UniversalSet;
use sqsim::{Feature, Result};
use std::sync::Mutex;

fn data(p: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("data").join(p)
}

/// Captures every quantized conv's input, then runs it in float.
struct Capture(Mutex<Vec<(Feature, bool)>>);
impl ConvExec for Capture {
    fn quant_conv(&self, conv: &Conv2d, site: QuantSite, x: &Feature) -> Result<Feature> {
        self.0.lock().unwrap().push((x.clone(), site.post_relu));
        FloatExec.quant_conv(conv, site, x)
    }
}

/// W4A4 layers calibrated on the crop, and every quantized conv's input.
fn real_layers(model: &Model, side: usize) -> (FakeQuantExec, Vec<(Feature, bool)>) {
    let img = crop(&load_rgb(&data("Set5/baby.png")).unwrap(), 210, 190, side, side).unwrap();
    let lr = to_feature(&img);
    let u = UniversalSet::default();
    let stats = calib::collect(model, &[("crop".into(), lr.clone())], &u, &|_| {}).unwrap();
    let cal = calib::select_all(
        &stats,
        &model.name,
        &u,
        &SelectConfig { bits: 4, method: Method::KMeans, ..Default::default() },
    )
    .unwrap();
    let fq = FakeQuantExec {
        layers: quantize_model(model, cal.point_sets(model, &u).unwrap(), &QuantConfig::default()).unwrap(),
    };
    let cap = Capture(Mutex::new(Vec::new()));
    model.forward(&lr, &cap).unwrap();
    (fq, cap.0.into_inner().unwrap())
}

fn presets() -> Vec<HwConfig> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("hw/configs");
    let mut v: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    v.sort();
    let mut cfgs: Vec<HwConfig> = Vec::new();
    for c in v.iter().map(|p| HwConfig::load(p).unwrap()) {
        if !cfgs.iter().any(|d| (&d.array, &d.datapath, &d.denorm) == (&c.array, &c.datapath, &c.denorm)) {
            cfgs.push(c);
        }
    }
    assert!(
        cfgs.iter().any(|c| c.array.dataflow == sqsim::config::Dataflow::OutputStationary),
        "an output-stationary preset ships"
    );
    cfgs
}

/// Every layer: stepped == functional (default preset, real inputs). Then
/// every distinct layer shape under every preset: stepped == timing.
fn check_model(name: &str, side: usize, timing_side: usize) {
    let model = load_builtin(name).unwrap();
    let (fq, inputs) = real_layers(&model, side);
    let u = UniversalSet::default();
    let hw = HwExec::new(&fq.layers, &u, &HwConfig::default(), None).unwrap();
    assert_eq!(inputs.len(), hw.layers.len());
    for (l, (x, post_relu)) in hw.layers.iter().zip(&inputs) {
        let mut n = 0;
        let xf = hw.to_fixed(x, &mut n);
        check_layer(l, &xf, x.h, x.w, *post_relu, 4);
    }
    let mut seen: Vec<(usize, usize, usize)> = Vec::new();
    for (i, l) in hw.layers.iter().enumerate() {
        if seen.contains(&(l.in_c, l.out_c, l.k)) {
            continue;
        }
        seen.push((l.in_c, l.out_c, l.k));
        let (x, post_relu) = &inputs[i];
        let mut n = 0;
        let xf = hw.to_fixed(x, &mut n);
        // a corner of the real input, odd-sized so edge blocks and borders differ
        let (h, w) = (timing_side, timing_side + 1);
        let sub: Vec<i64> = (0..l.in_c)
            .flat_map(|c| (0..h).flat_map(move |y| (0..w).map(move |xx| (c, y, xx))))
            .map(|(c, y, xx)| xf[(c * x.h + y) * x.w + xx])
            .collect();
        for cfg in presets() {
            let hl = HwExec::new(&fq.layers[i..=i], &u, &cfg, None).unwrap();
            check_layer(&hl.layers[0], &sub, h, w, *post_relu, 4);
        }
    }
    eprintln!("{name}: {} layers stepped on {side}x{side}; shapes {seen:?} timed under every preset", hw.layers.len());
}

#[test]
fn edsr_x2_stepped_equals_functional_and_timing() {
    check_model("edsr_x2", 12, 5);
}

#[test]
fn rdn_x2_stepped_equals_functional_and_timing() {
    check_model("rdn_x2", 8, 4);
}
