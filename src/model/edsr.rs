//! EDSR (EDSR-PyTorch `edsr.py`), configured entirely from state-dict keys.
use super::load::{count_consecutive, dim, KeyCheck, StateDict};
use super::{mean_shift_offsets, run_quant, Conv2d, ConvExec, QuantSite};
use crate::float::{conv2d, ops};
use crate::{Error, Feature, Result};

#[derive(Clone, Debug)]
pub(crate) struct Edsr {
    pub n_resblocks: usize,
    pub n_feats: usize,
    pub res_scale: f32,
    pub scale: usize,
    /// Added at the input (−255·mean) and at the output (+255·mean).
    pub sub_offset: [f32; 3],
    pub add_offset: [f32; 3],
    pub head: Conv2d,
    pub blocks: Vec<[Conv2d; 2]>,
    pub body_final: Conv2d,
    /// Upsampler convs, each followed by PixelShuffle(r).
    pub up: Vec<(Conv2d, usize)>,
    pub tail: Conv2d,
}

impl Edsr {
    pub fn from_state_dict(sd: &StateDict) -> Result<Self> {
        let missing = |keys: &str| Error::MissingKey { path: sd.path.clone(), keys: format!("{keys} (for EDSR)") };
        let f = dim(sd, "head.0.weight", 0).ok_or_else(|| missing("head.0.weight"))?;
        let k = dim(sd, "head.0.weight", 2).ok_or_else(|| missing("head.0.weight"))?;
        let n = count_consecutive(sd, |i| format!("body.{i}.body.0.weight"));
        // Upsampler: log2(scale) x (conv F->4F + PS(2)), or one conv F->9F + PS(3).
        let n_up = count_consecutive(sd, |j| format!("tail.0.{}.weight", 2 * j));
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
        check.finish("EDSR", &["sub_mean.weight", "sub_mean.bias", "add_mean.weight", "add_mean.bias"])?;

        let sub_offset = mean_shift_offsets(sd, "sub_mean", -1.0)?;
        let add_offset = mean_shift_offsets(sd, "add_mean", 1.0)?;
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
        })
    }

    pub fn forward(&self, lr: &Feature, exec: &dyn ConvExec) -> Result<Feature> {
        let mut x = lr.clone();
        ops::add_channel_const(&mut x, &self.sub_offset)?;
        let x = conv2d(&x, &self.head)?;
        let mut res = x.clone();
        for (i, [c1, c2]) in self.blocks.iter().enumerate() {
            let mut t = run_quant(exec, c1, QuantSite { index: 2 * i, post_relu: false }, &res)?;
            ops::relu(&mut t);
            let t = run_quant(exec, c2, QuantSite { index: 2 * i + 1, post_relu: true }, &t)?;
            ops::add_scaled(&mut res, &t, self.res_scale)?;
        }
        let mut res = conv2d(&res, &self.body_final)?;
        ops::add(&mut res, &x)?;
        let mut y = res;
        for (conv, r) in &self.up {
            y = ops::conv2d_pixel_shuffle(&y, conv, *r)?;
        }
        let mut y = conv2d(&y, &self.tail)?;
        ops::add_channel_const(&mut y, &self.add_offset)?;
        Ok(y)
    }

    pub fn layers(&self) -> Vec<(&Conv2d, Option<QuantSite>)> {
        let mut v = vec![(&self.head, None)];
        for (i, [c1, c2]) in self.blocks.iter().enumerate() {
            v.push((c1, Some(QuantSite { index: 2 * i, post_relu: false })));
            v.push((c2, Some(QuantSite { index: 2 * i + 1, post_relu: true })));
        }
        v.push((&self.body_final, None));
        v.extend(self.up.iter().map(|(c, _)| (c, None)));
        v.push((&self.tail, None));
        v
    }
}
