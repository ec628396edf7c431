//! Helpers shared by the command-line tests (`mod common;` in each).
#![allow(dead_code)]
use std::process::{Command, Output};

/// Runs the built `sqsim` binary.
pub fn sqsim(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_sqsim")).args(args).output().expect("binary runs")
}

/// Fails unless the command failed cleanly: non-zero exit, no panic, an
/// `error:` line containing `needle`.
pub fn fails_with(args: &[&str], needle: &str) {
    let o = sqsim(args);
    let e = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success(), "{args:?} succeeded");
    assert!(!e.contains("panicked"), "{args:?} panicked: {e}");
    assert!(e.contains("error:") && e.contains(needle), "{args:?}: expected `{needle}` in: {e}");
}
