//! Where the embedded defaults live. The repo ships `models/` and `data/`;
//! the binary finds them through `SQSIM_HOME` (an install elsewhere) or the
//! crate directory it was built from (the README's `cargo run` workflow).
use std::path::PathBuf;

pub fn home() -> PathBuf {
    match std::env::var_os("SQSIM_HOME") {
        Some(h) if !h.is_empty() => PathBuf::from(h),
        _ => PathBuf::from(env!("CARGO_MANIFEST_DIR")),
    }
}

pub fn data_dir() -> PathBuf {
    home().join("data")
}

pub fn models_dir() -> PathBuf {
    home().join("models")
}
