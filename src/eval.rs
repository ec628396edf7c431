//! Super-resolve and score: the glue between models, executors and metrics.
use crate::image::{from_feature, make_pair, psnr_y, ssim_y, to_feature, RgbImage};
use crate::model::{ConvExec, Model};
use crate::{Feature, Result};
use serde::{Deserialize, Serialize};
use std::path::PathBuf;

#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Scores {
    pub psnr: f64,
    pub ssim: f64,
}

impl Scores {
    pub fn mean(all: &[Scores]) -> Scores {
        let n = all.len().max(1) as f64;
        Scores {
            psnr: all.iter().map(|s| s.psnr).sum::<f64>() / n,
            ssim: all.iter().map(|s| s.ssim).sum::<f64>() / n,
        }
    }
}

/// Runs the model on an LR image; the output is clamped and rounded to u8
/// as EDSR-PyTorch's `quantize` does before scoring.
pub fn super_resolve(model: &Model, lr: &RgbImage, exec: &dyn ConvExec) -> Result<(Feature, RgbImage)> {
    let y = model.forward(&to_feature(lr), exec)?;
    let img = from_feature(&y)?;
    Ok((y, img))
}

/// Y-channel PSNR/SSIM with the paper's conventions (shave = scale).
pub fn score(sr: &RgbImage, hr: &RgbImage, scale: usize) -> Result<Scores> {
    Ok(Scores { psnr: psnr_y(sr, hr, scale)?, ssim: ssim_y(sr, hr, scale)? })
}

/// Loads calibration inputs: each image modcropped and bicubic-downscaled
/// by the model's scale, as the evaluation LR is made.
pub fn load_lr_images(paths: &[PathBuf], scale: usize) -> Result<Vec<(String, Feature)>> {
    paths
        .iter()
        .map(|p| {
            let pair = make_pair(p, scale)?;
            Ok((pair.name, to_feature(&pair.lr)))
        })
        .collect()
}
