// Shared by the file-based targets: the loaders take paths (checkpoint
// containers and TF.js shards live in files), so each input is written to a
// per-process scratch directory in /dev/shm (tmpfs: no disk I/O per exec).
use std::path::PathBuf;

pub fn scratch() -> PathBuf {
    let base = if std::path::Path::new("/dev/shm").is_dir() { "/dev/shm" } else { "/tmp" };
    let d = PathBuf::from(base).join(format!("sqsim-fuzz-{}", std::process::id()));
    std::fs::create_dir_all(&d).expect("scratch dir");
    d
}
