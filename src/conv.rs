//! One convolution layer's parameters, in PyTorch layout. Every loader
//! (PyTorch, safetensors, TF.js) converts into this, so the rest of sqsim
//! sees one weight layout.
use crate::{Error, Result};

#[derive(Clone, Debug, PartialEq)]
pub struct Conv2d {
    /// Checkpoint module path (`body.0.body.0`) or Keras layer name (`F_1_1`).
    pub name: String,
    pub in_c: usize,
    pub out_c: usize,
    /// Square kernel side; odd, so 'same' zero padding is k/2 on every side.
    pub k: usize,
    /// `[out_c][in_c][k][k]`
    pub weight: Vec<f32>,
    /// `[out_c]`
    pub bias: Vec<f32>,
}

impl Conv2d {
    /// Builds and validates a layer (see [`Conv2d::validate`]).
    pub fn new(
        name: impl Into<String>,
        in_c: usize,
        out_c: usize,
        k: usize,
        weight: Vec<f32>,
        bias: Vec<f32>,
    ) -> Result<Self> {
        let c = Conv2d { name: name.into(), in_c, out_c, k, weight, bias };
        c.validate()?;
        Ok(c)
    }

    /// Shapes agree with the fields, the kernel is odd (stride-1 'same'
    /// padding is only symmetric for odd k), and every value is finite: a NaN
    /// weight would silently poison every output pixel downstream.
    pub fn validate(&self) -> Result<()> {
        if self.in_c == 0 || self.out_c == 0 {
            return Err(Error::shape(
                format!("{} channels (in, out)", self.name),
                "both > 0",
                format!("({}, {})", self.in_c, self.out_c),
            ));
        }
        if self.k.is_multiple_of(2) {
            return Err(Error::shape(format!("{} kernel size", self.name), "odd", self.k));
        }
        let wn = self.out_c * self.in_c * self.k * self.k;
        if self.weight.len() != wn {
            return Err(Error::shape(format!("{}.weight", self.name), wn, self.weight.len()));
        }
        if self.bias.len() != self.out_c {
            return Err(Error::shape(format!("{}.bias", self.name), self.out_c, self.bias.len()));
        }
        if self.weight.iter().any(|v| !v.is_finite()) {
            return Err(Error::NonFinite { what: format!("{}.weight", self.name) });
        }
        if self.bias.iter().any(|v| !v.is_finite()) {
            return Err(Error::NonFinite { what: format!("{}.bias", self.name) });
        }
        Ok(())
    }

    pub fn w(&self, o: usize, c: usize, ky: usize, kx: usize) -> f32 {
        self.weight[((o * self.in_c + c) * self.k + ky) * self.k + kx]
    }

    /// The `in_c*k*k` weights of output channel `o`.
    pub fn filter(&self, o: usize) -> &[f32] {
        let n = self.in_c * self.k * self.k;
        &self.weight[o * n..(o + 1) * n]
    }

    pub fn param_count(&self) -> usize {
        self.weight.len() + self.bias.len()
    }

    /// Multiply-accumulates per output pixel.
    pub fn macs_per_pixel(&self) -> usize {
        self.out_c * self.in_c * self.k * self.k
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_bad_layers() {
        let ok = Conv2d::new("l", 2, 1, 1, vec![0.5, 0.25], vec![0.0]);
        assert!(ok.is_ok());
        let nan = Conv2d::new("blk", 2, 1, 1, vec![0.5, f32::NAN], vec![0.0]).unwrap_err();
        assert!(matches!(&nan, Error::NonFinite { what } if what == "blk.weight"), "{nan}");
        let inf = Conv2d::new("blk", 2, 1, 1, vec![0.5, 0.1], vec![f32::INFINITY]).unwrap_err();
        assert!(matches!(&inf, Error::NonFinite { what } if what == "blk.bias"), "{inf}");
        let short = Conv2d::new("s", 2, 1, 3, vec![0.0; 17], vec![0.0]).unwrap_err();
        assert!(matches!(short, Error::Shape { .. }));
        let even = Conv2d::new("e", 1, 1, 2, vec![0.0; 4], vec![0.0]).unwrap_err();
        assert!(matches!(even, Error::Shape { .. }));
    }
}
