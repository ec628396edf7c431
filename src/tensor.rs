//! The one activation container: a single image's feature map, CHW, f32.
//! sqsim processes one image at a time (the hardware does too), so there is
//! no batch axis.

#[derive(Clone, Debug, PartialEq)]
pub struct Feature {
    pub c: usize,
    pub h: usize,
    pub w: usize,
    /// `data[(ch * h + y) * w + x]`
    pub data: Vec<f32>,
}

impl Feature {
    pub fn zeros(c: usize, h: usize, w: usize) -> Self {
        Feature { c, h, w, data: vec![0.0; c * h * w] }
    }
    pub fn from_vec(c: usize, h: usize, w: usize, data: Vec<f32>) -> crate::Result<Self> {
        if data.len() != c * h * w {
            return Err(crate::Error::shape("feature data", c * h * w, data.len()));
        }
        Ok(Feature { c, h, w, data })
    }
    pub fn plane(&self, ch: usize) -> &[f32] {
        &self.data[ch * self.h * self.w..(ch + 1) * self.h * self.w]
    }
    pub fn plane_mut(&mut self, ch: usize) -> &mut [f32] {
        let n = self.h * self.w;
        &mut self.data[ch * n..(ch + 1) * n]
    }
    pub fn at(&self, ch: usize, y: usize, x: usize) -> f32 {
        self.data[(ch * self.h + y) * self.w + x]
    }
    pub fn hw(&self) -> usize {
        self.h * self.w
    }
}
