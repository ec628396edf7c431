//! RDN (yulunzhang/RDN as ported in EDSR-PyTorch `rdn.py`), configured from
//! state-dict keys: `SFENet1/2`, `RDBs.{i}.convs.{j}.conv.0`, `RDBs.{i}.LFF`,
//! `GFF.0` (1x1), `GFF.1`, `UPNet.*`.
use super::load::{count_indexed, dim, KeyCheck, StateDict};
use super::{mean_shift_offsets, run_quant, Conv2d, ConvExec, QuantSite};
use crate::float::{conv2d, ops};
use crate::{Error, Feature, Result};

#[derive(Clone, Debug)]
pub(crate) struct Rdb {
    pub convs: Vec<Conv2d>,
    pub lff: Conv2d,
}

#[derive(Clone, Debug)]
pub(crate) struct Rdn {
    pub d: usize,
    pub c: usize,
    pub g: usize,
    pub g0: usize,
    pub scale: usize,
    /// MeanShift offsets, only when the checkpoint carries `sub_mean`/`add_mean`:
    /// EDSR-PyTorch's `rdn.py` has no MeanShift, variants that add it save it.
    pub mean: Option<([f32; 3], [f32; 3])>,
    pub sfe1: Conv2d,
    pub sfe2: Conv2d,
    pub rdbs: Vec<Rdb>,
    pub gff: [Conv2d; 2],
    /// Upsampler convs each followed by PixelShuffle(r), then the output conv.
    pub up: Vec<(Conv2d, usize)>,
    pub out: Conv2d,
    /// Pixel range the network was trained on (EDSR-PyTorch `--rgb_range`).
    pub rgb_range: f32,
    /// Quantize every conv (`--quantize all`): the shallow-feature convs,
    /// upsampler and output conv too, not only the RDBs and GFF.
    pub quant_all: bool,
    /// Checkpoint tensors that are not part of the network (left out).
    pub ignored: Vec<String>,
}

impl Rdn {
    pub fn from_state_dict(sd: &StateDict, rgb_range: Option<f32>) -> Result<Self> {
        let range = super::rgb_range(sd, rgb_range)?;
        let missing = |keys: &str| Error::MissingKey { path: sd.path.clone(), keys: format!("{keys} (for RDN)") };
        let g0 = dim(sd, "SFENet1.weight", 0).ok_or_else(|| missing("SFENet1.weight"))?;
        let k = dim(sd, "SFENet1.weight", 2).ok_or_else(|| missing("SFENet1.weight"))?;
        let d = count_indexed(sd, "RDBs.", ".")?;
        let c = count_indexed(sd, "RDBs.0.convs.", ".")?;
        let g = dim(sd, "RDBs.0.convs.0.conv.0.weight", 0).ok_or_else(|| missing("RDBs.0.convs.0.conv.0.weight"))?;
        // x2/x3: conv G0->G*r*r, PS(r), conv G->3; x4: two (conv, PS(2)) then conv.
        let (ups, out_key): (Vec<(String, usize, usize, usize)>, &str) = if sd.contains("UPNet.4.weight") {
            (vec![("UPNet.0".into(), g0, 4 * g, 2), ("UPNet.2".into(), g, 4 * g, 2)], "UPNet.4")
        } else {
            let first = dim(sd, "UPNet.0.weight", 0).ok_or_else(|| missing("UPNet.0.weight"))?;
            let r = if first == 9 * g { 3 } else { 2 };
            (vec![("UPNet.0".into(), g0, r * r * g, r)], "UPNet.2")
        };
        let scale: usize = ups.iter().map(|u| u.3).product();

        let mut check = KeyCheck::new(sd);
        check.conv("SFENet1", 3, g0, k);
        check.conv("SFENet2", g0, g0, k);
        for i in 0..d {
            for j in 0..c {
                check.conv(&format!("RDBs.{i}.convs.{j}.conv.0"), g0 + j * g, g, k);
            }
            check.conv(&format!("RDBs.{i}.LFF"), g0 + c * g, g0, 1);
        }
        check.conv("GFF.0", d * g0, g0, 1);
        check.conv("GFF.1", g0, g0, k);
        for (name, i, o, _) in &ups {
            check.conv(name, *i, *o, k);
        }
        check.conv(out_key, g, 3, k);
        let ignored = check.finish("RDN", &["sub_mean.weight", "sub_mean.bias", "add_mean.weight", "add_mean.bias"], &["sub_mean", "add_mean", "SFENet1", "SFENet2", "RDBs", "GFF", "UPNet"])?;

        let mean = if sd.contains("sub_mean.weight") || sd.contains("add_mean.weight") {
            Some((mean_shift_offsets(sd, "sub_mean", -1.0, range)?, mean_shift_offsets(sd, "add_mean", 1.0, range)?))
        } else {
            None
        };
        let rdbs = (0..d)
            .map(|i| {
                let convs = (0..c)
                    .map(|j| check.take_conv(&format!("RDBs.{i}.convs.{j}.conv.0")))
                    .collect::<Result<Vec<_>>>()?;
                Ok(Rdb { convs, lff: check.take_conv(&format!("RDBs.{i}.LFF"))? })
            })
            .collect::<Result<Vec<_>>>()?;
        let up = ups.iter().map(|(name, _, _, r)| Ok((check.take_conv(name)?, *r))).collect::<Result<Vec<_>>>()?;
        Ok(Rdn {
            d,
            c,
            g,
            g0,
            scale,
            mean,
            sfe1: check.take_conv("SFENet1")?,
            sfe2: check.take_conv("SFENet2")?,
            rdbs,
            gff: [check.take_conv("GFF.0")?, check.take_conv("GFF.1")?],
            up,
            out: check.take_conv(out_key)?,
            rgb_range: range,
            quant_all: false,
            ignored,
        })
    }

    pub fn forward(&self, lr: &Feature, exec: &dyn ConvExec) -> Result<Feature> {
        let mut sites = self.sites().into_iter();
        // a conv on the datapath when it has a site, else in float
        let mut conv = |c: &Conv2d, x: &Feature| match sites.next().flatten() {
            Some(s) => run_quant(exec, c, s, x),
            None => conv2d(x, c),
        };
        let mut x = lr.clone();
        if let Some((sub, _)) = &self.mean {
            ops::add_channel_const(&mut x, sub)?;
        }
        let f1 = conv(&self.sfe1, &x)?;
        let mut x = conv(&self.sfe2, &f1)?;
        let mut rdb_outs = Vec::with_capacity(self.d);
        for rdb in &self.rdbs {
            // Dense block: in CHW, concatenating channels is appending data.
            let mut cat = x.clone();
            for c in &rdb.convs {
                let mut t = conv(c, &cat)?;
                ops::relu(&mut t);
                cat.data.extend_from_slice(&t.data);
                cat.c += t.c;
            }
            let mut y = conv(&rdb.lff, &cat)?;
            ops::add(&mut y, &x)?;
            rdb_outs.push(y.clone());
            x = y;
        }
        let refs: Vec<&Feature> = rdb_outs.iter().collect();
        let g = conv(&self.gff[0], &ops::concat(&refs)?)?;
        drop(rdb_outs);
        let mut g = conv(&self.gff[1], &g)?;
        ops::add(&mut g, &f1)?;
        let mut y = g;
        for (c, r) in &self.up {
            y = ops::pixel_shuffle(&conv(c, &y)?, *r)?;
        }
        let mut y = conv(&self.out, &y)?;
        if let Some((_, add)) = &self.mean {
            ops::add_channel_const(&mut y, add)?;
        }
        Ok(y)
    }

    /// The quantization site of every conv in forward order (the order of
    /// `layers`; one rule for both): the RDB convs, LFFs and GFF always;
    /// with `quant_all` also SFENet1/2, the upsampler convs and the output
    /// conv. No conv input here is a ReLU output (the dense convs read the
    /// concatenation with the block input).
    fn sites(&self) -> Vec<Option<QuantSite>> {
        let mut idx = 0;
        let mut next = |quantized: bool| {
            quantized.then(|| {
                idx += 1;
                QuantSite { index: idx - 1, post_relu: false }
            })
        };
        let all = self.quant_all;
        let mut v = vec![next(all), next(all)];
        for rdb in &self.rdbs {
            v.extend((0..=rdb.convs.len()).map(|_| next(true)));
        }
        v.extend([next(true), next(true)]);
        v.extend(self.up.iter().map(|_| next(all)));
        v.push(next(all));
        v
    }

    pub fn layers(&self) -> Vec<(&Conv2d, Option<QuantSite>)> {
        let mut convs: Vec<&Conv2d> = vec![&self.sfe1, &self.sfe2];
        for rdb in &self.rdbs {
            convs.extend(rdb.convs.iter());
            convs.push(&rdb.lff);
        }
        convs.extend(self.gff.iter());
        convs.extend(self.up.iter().map(|(c, _)| c));
        convs.push(&self.out);
        convs.into_iter().zip(self.sites()).collect()
    }
}
