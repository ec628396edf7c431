//! EDSR (EDSR-PyTorch `edsr.py`), configured entirely from state-dict keys.
use super::load::{count_indexed, dim, KeyCheck, StateDict};
use super::{mean_shift_offsets, run_quant, Conv2d, ConvExec, QuantSite};
use crate::float::{conv2d, ops};
use crate::{Error, Feature, Result};

#[derive(Clone, Debug)]
pub(crate) struct Edsr {
    pub n_resblocks: usize,
    pub n_feats: usize,
    pub res_scale: f32,
    pub scale: usize,
    /// Added at the input (−rgb_range·mean) and at the output (+rgb_range·mean).
    pub sub_offset: [f32; 3],
    pub add_offset: [f32; 3],
    pub head: Conv2d,
    pub blocks: Vec<[Conv2d; 2]>,
    pub body_final: Conv2d,
    /// Upsampler convs, each followed by PixelShuffle(r).
    pub up: Vec<(Conv2d, usize)>,
    pub tail: Conv2d,
    /// `--quantize all`: head, body-final conv, upsampler and tail are
    /// quantized convs too (sites: head 0, blocks 1.., then body-final,
    /// upsampler convs, tail).
    pub quant_all: bool,
    /// Pixel range the network was trained on (EDSR-PyTorch `--rgb_range`).
    pub rgb_range: f32,
    /// Checkpoint tensors that are not part of the network (left out).
    pub ignored: Vec<String>,
}

impl Edsr {
    pub fn from_state_dict(sd: &StateDict, rgb_range: Option<f32>) -> Result<Self> {
        let range = super::rgb_range(sd, rgb_range)?;
        let missing = |keys: &str| Error::MissingKey { path: sd.path.clone(), keys: format!("{keys} (for EDSR)") };
        let f = dim(sd, "head.0.weight", 0).ok_or_else(|| missing("head.0.weight"))?;
        let k = dim(sd, "head.0.weight", 2).ok_or_else(|| missing("head.0.weight"))?;
        let n = count_indexed(sd, "body.", ".body.")?;
        // Upsampler: log2(scale) x (conv F->4F + PS(2)), or one conv F->9F + PS(3).
        let n_up = count_indexed(sd, "tail.0.", ".")?.div_ceil(2);
        let first_up = dim(sd, "tail.0.0.weight", 0).ok_or_else(|| missing("tail.0.0.weight"))?;
        let (scale, r) = if n_up == 1 && first_up == 9 * f { (3, 3) } else { (1 << n_up, 2) };

        let mut check = KeyCheck::new(sd);
        check.conv("head.0", 3, f, k);
        for i in 0..n {
            check.conv(&format!("body.{i}.body.0"), f, f, k);
            check.conv(&format!("body.{i}.body.2"), f, f, k);
        }
        check.conv(&format!("body.{n}"), f, f, k);
        for j in 0..n_up {
            check.conv(&format!("tail.0.{}", 2 * j), f, r * r * f, k);
        }
        check.conv("tail.1", f, 3, k);
        let ignored = check.finish("EDSR", &["sub_mean.weight", "sub_mean.bias", "add_mean.weight", "add_mean.bias"], &["sub_mean", "add_mean", "head", "body", "tail"])?;

        let sub_offset = mean_shift_offsets(sd, "sub_mean", -1.0, range)?;
        let add_offset = mean_shift_offsets(sd, "add_mean", 1.0, range)?;
        let blocks = (0..n)
            .map(|i| {
                Ok([check.take_conv(&format!("body.{i}.body.0"))?, check.take_conv(&format!("body.{i}.body.2"))?])
            })
            .collect::<Result<Vec<_>>>()?;
        let up = (0..n_up)
            .map(|j| Ok((check.take_conv(&format!("tail.0.{}", 2 * j))?, r)))
            .collect::<Result<Vec<_>>>()?;
        Ok(Edsr {
            n_resblocks: n,
            n_feats: f,
            // Not stored in checkpoints: EDSR-PyTorch uses 0.1 only for the
            // large model (32 blocks, 256 feats), 1 for the baseline.
            res_scale: if n == 32 && f == 256 { 0.1 } else { 1.0 },
            scale,
            sub_offset,
            add_offset,
            head: check.take_conv("head.0")?,
            blocks,
            body_final: check.take_conv(&format!("body.{n}"))?,
            up,
            tail: check.take_conv("tail.1")?,
            quant_all: false,
            rgb_range: range,
            ignored,
        })
    }

    pub fn forward(&self, lr: &Feature, exec: &dyn ConvExec) -> Result<Feature> {
        let sites = self.sites();
        // a conv on the datapath when it has a site, else in float
        let conv = |c: &Conv2d, site: Option<QuantSite>, x: &Feature| match site {
            Some(s) => run_quant(exec, c, s, x),
            None => conv2d(x, c),
        };
        let mut x = lr.clone();
        ops::add_channel_const(&mut x, &self.sub_offset)?;
        let x = conv(&self.head, sites.head, &x)?;
        let mut res = x.clone();
        for (i, [c1, c2]) in self.blocks.iter().enumerate() {
            let mut t = conv(c1, Some(sites.block(i, 0)), &res)?;
            ops::relu(&mut t);
            let t = conv(c2, Some(sites.block(i, 1)), &t)?;
            ops::add_scaled(&mut res, &t, self.res_scale)?;
        }
        let mut res = conv(&self.body_final, sites.body_final, &res)?;
        ops::add(&mut res, &x)?;
        let mut y = res;
        for (j, (c, r)) in self.up.iter().enumerate() {
            y = match sites.up(j) {
                Some(s) => ops::pixel_shuffle(&run_quant(exec, c, s, &y)?, *r)?,
                None => ops::conv2d_pixel_shuffle(&y, c, *r)?,
            };
        }
        let mut y = conv(&self.tail, sites.tail, &y)?;
        ops::add_channel_const(&mut y, &self.add_offset)?;
        Ok(y)
    }

    fn sites(&self) -> Sites {
        Sites::new(self.quant_all, self.blocks.len(), self.up.len())
    }

    pub fn layers(&self) -> Vec<(&Conv2d, Option<QuantSite>)> {
        let s = self.sites();
        let mut v = vec![(&self.head, s.head)];
        for (i, [c1, c2]) in self.blocks.iter().enumerate() {
            v.push((c1, Some(s.block(i, 0))));
            v.push((c2, Some(s.block(i, 1))));
        }
        v.push((&self.body_final, s.body_final));
        v.extend(self.up.iter().enumerate().map(|(j, (c, _))| (c, s.up(j))));
        v.push((&self.tail, s.tail));
        v
    }
}

/// Quantization sites of EDSR's convs, in forward order (one rule for
/// `forward` and `layers`): the residual-block convs always; with
/// `quant_all` also the head (site 0), body-final conv, upsampler convs and
/// tail (none of their inputs is a ReLU output).
struct Sites {
    all: bool,
    head: Option<QuantSite>,
    body_final: Option<QuantSite>,
    tail: Option<QuantSite>,
    up0: usize,
}

impl Sites {
    fn new(all: bool, n: usize, n_up: usize) -> Self {
        let at = |index: usize| all.then_some(QuantSite { index, post_relu: false });
        Sites { all, head: at(0), body_final: at(1 + 2 * n), tail: at(2 + 2 * n + n_up), up0: 2 + 2 * n }
    }
    fn block(&self, i: usize, j: usize) -> QuantSite {
        QuantSite { index: usize::from(self.all) + 2 * i + j, post_relu: j == 1 }
    }
    fn up(&self, j: usize) -> Option<QuantSite> {
        self.all.then_some(QuantSite { index: self.up0 + j, post_relu: false })
    }
}
