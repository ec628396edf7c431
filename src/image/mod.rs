//! The image side: PNG I/O and RGB8 <-> `Feature`, MATLAB-compatible bicubic
//! resize, Y-channel PSNR/SSIM, and the benchmark datasets.
pub mod dataset;
pub mod io;
pub mod metrics;
pub mod resize;

pub use dataset::{check_images, list_images, make_pair, resolve_dataset, SrPair};
pub use io::{
    crop, encode_png, from_feature, load_rgb, load_rgb_bytes, save_png, to_feature, RgbImage,
};
pub use metrics::{psnr_y, ssim_y, y_plane};
pub use resize::{downscale_bicubic, modcrop, upscale_bicubic};
