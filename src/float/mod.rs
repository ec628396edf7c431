//! Float reference kernels: the convolution (fast + naive reference) and the
//! element-wise / reshaping ops the SR networks need.
pub mod conv;
pub mod ops;

pub use conv::{conv2d, conv2d_naive};
