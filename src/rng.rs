//! SplitMix64: a tiny, seedable, platform-independent PRNG. Calibration and
//! vectors must be reproducible from a seed on any machine and thread count,
//! so every random stream is derived from (seed, stream id) explicitly.
#[derive(Clone, Debug)]
pub struct SplitMix64(u64);

impl SplitMix64 {
    pub fn new(seed: u64) -> Self {
        SplitMix64(seed)
    }
    /// An independent stream for item `id` of a seeded job.
    pub fn stream(seed: u64, id: u64) -> Self {
        let mut s = SplitMix64(seed ^ id.wrapping_mul(0xD1B5_4A32_D192_ED03));
        s.next_u64();
        s
    }
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// Uniform in [0, 1).
    pub fn next_f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
    /// Uniform integer in [0, n).
    pub fn below(&mut self, n: u64) -> u64 {
        if n == 0 {
            0
        } else {
            self.next_u64() % n
        }
    }
}
