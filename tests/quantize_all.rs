//! `--quantize all`: every EDSR conv becomes a quantized site, in forward
//! order, without changing the full-precision network.
use sqsim::model::{load_builtin, ConvExec, Conv2d, FloatExec, QuantSite};
use sqsim::{Feature, Result};
use std::sync::Mutex;

/// Float convs, recording the order and sites they were called with.
struct Order(Mutex<Vec<(String, QuantSite)>>);
impl ConvExec for Order {
    fn quant_conv(&self, conv: &Conv2d, site: QuantSite, x: &Feature) -> Result<Feature> {
        self.0.lock().unwrap().push((conv.name.clone(), site));
        FloatExec.quant_conv(conv, site, x)
    }
}

#[test]
fn every_edsr_conv_is_a_site_in_forward_order_and_fp_is_unchanged() {
    let body = load_builtin("edsr_x2").unwrap();
    let mut all = body.clone();
    all.quantize_all().unwrap();
    assert_eq!(all.name, "edsr_x2+all");
    let (qb, qa) = (body.quant_layers(), all.quant_layers());
    assert_eq!(qb.len(), 32);
    assert_eq!(qa.len(), 36, "head, 32 block convs, body-final, one upsampler conv, tail");
    for (i, (_, s)) in qa.iter().enumerate() {
        assert_eq!(s.index, i);
    }
    let names: Vec<&str> = qa.iter().map(|(c, _)| c.name.as_str()).collect();
    assert_eq!([names[0], names[33], names[34], names[35]], ["head.0", "body.16", "tail.0.0", "tail.1"]);
    assert!(qa.iter().filter(|(_, s)| s.post_relu).count() == 16, "only the block's second convs read a ReLU output");
    // the forward calls the executor at exactly those sites, in that order
    let x = Feature::from_vec(3, 12, 10, (0..360).map(|i| (i * 7 % 255) as f32).collect()).unwrap();
    let rec = Order(Mutex::new(Vec::new()));
    let y_all = all.forward(&x, &rec).unwrap();
    let calls = rec.0.into_inner().unwrap();
    let want: Vec<(String, QuantSite)> = qa.iter().map(|(c, s)| (c.name.clone(), *s)).collect();
    assert_eq!(calls, want);
    // through float executors the network is the same, bit for bit
    let y_body = body.forward(&x, &FloatExec).unwrap();
    assert_eq!(y_all.data, y_body.data);
    // not yet for RDN: refused, not silently ignored
    let mut rdn = load_builtin("rdn_x2").unwrap();
    assert!(rdn.quantize_all().unwrap_err().to_string().contains("EDSR"));
}
