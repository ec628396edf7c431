//! Atomic output: write to a temporary sibling, fsync, rename. A killed run
//! leaves either the old file or the new one, never half of one.
use crate::{Error, Result};
use std::io::Write;
use std::path::Path;

pub fn atomic_write(path: &Path, bytes: &[u8]) -> Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => std::path::PathBuf::from("."),
    };
    let name = path
        .file_name()
        .ok_or_else(|| Error::arg("output path", format!("{} has no file name", path.display())))?;
    let tmp = dir.join(format!(".{}.tmp{}", name.to_string_lossy(), std::process::id()));
    let write = || -> std::io::Result<()> {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    };
    write().map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        Error::io(path, e)
    })?;
    remove_stale_tmps(&dir, &name.to_string_lossy());
    Ok(())
}

/// A writer killed between create and rename (SIGKILL, power loss) leaves
/// `.NAME.tmpPID`; the final name is never partial. The next successful write
/// of NAME removes such leftovers whose PID is no longer running (Linux:
/// no `/proc/PID`; elsewhere nothing is removed). Best effort, never fails.
fn remove_stale_tmps(dir: &Path, name: &str) {
    if !Path::new("/proc/self").exists() {
        return;
    }
    let prefix = format!(".{name}.tmp");
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for e in entries.flatten() {
        let f = e.file_name();
        let Some(pid) = f.to_str().and_then(|f| f.strip_prefix(&prefix)) else { continue };
        let dead = pid.parse::<u32>().is_ok_and(|p| p != std::process::id() && !Path::new(&format!("/proc/{p}")).exists());
        if dead {
            let _ = std::fs::remove_file(e.path());
        }
    }
}
