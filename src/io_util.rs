//! Atomic output: write to a temporary sibling, fsync, rename. A killed run
//! leaves either the old file or the new one, never half of one. And inputs
//! are never overwritten: every file a command reads goes through
//! [`read_input`] (or [`note_input`]), and [`atomic_write`] refuses to
//! replace any of them. Paths a file names are kept inside its directory
//! ([`contained`]).
use crate::{Error, Result};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// Canonical paths of every file this process has read as input.
static INPUTS: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

/// The path a (possibly not yet existing) file resolves to: symlinks and
/// `..` of its directory resolved.
pub fn resolved(path: &Path) -> Option<PathBuf> {
    if let Ok(c) = path.canonicalize() {
        return Some(c);
    }
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    Some(dir.canonicalize().ok()?.join(path.file_name()?))
}

/// Records `path` as an input of this command (it must not be overwritten).
pub fn note_input(path: &Path) {
    if let (Some(c), Ok(mut v)) = (path.canonicalize().ok(), INPUTS.lock()) {
        if !v.contains(&c) {
            v.push(c);
        }
    }
}

/// Reads an input file whole and records it.
pub fn read_input(path: &Path) -> Result<Vec<u8>> {
    let b = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    note_input(path);
    Ok(b)
}

/// Refuses an output path that is (or resolves to) an input already read.
pub fn refuse_input(path: &Path) -> Result<()> {
    let Some(r) = resolved(path) else { return Ok(()) };
    if INPUTS.lock().map(|v| v.contains(&r)).unwrap_or(false) {
        return Err(Error::arg(
            "output path",
            format!("{} is an input of this command; refusing to overwrite it", path.display()),
        ));
    }
    Ok(())
}

/// Whether two paths name the same file (after resolving links).
pub fn same_file(a: &Path, b: &Path) -> bool {
    matches!((resolved(a), resolved(b)), (Some(x), Some(y)) if x == y)
}

/// `rel`, a path named inside the file `named_by`, resolved against that
/// file's directory; refused if it is absolute or leads (through `..` or a
/// symlink) outside that directory.
pub fn contained(named_by: &Path, rel: &str) -> Result<PathBuf> {
    let dir = match named_by.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let outside = || Error::format(named_by, format!("path `{rel}` leads outside {}", dir.display()));
    if Path::new(rel).is_absolute() {
        return Err(outside());
    }
    let joined = dir.join(rel);
    let (Ok(root), Ok(real)) = (dir.canonicalize(), joined.canonicalize()) else {
        // a missing file: report it as such, with the path the file names
        return std::fs::metadata(&joined).map(|_| joined.clone()).map_err(|e| Error::io(&joined, e));
    };
    if !real.starts_with(&root) {
        return Err(outside());
    }
    Ok(real)
}

pub fn atomic_write(path: &Path, bytes: &[u8]) -> Result<()> {
    refuse_input(path)?;
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

/// An output directory whose files a command owns: the manifest
/// `.sqsim-owned` lists what the last run wrote, so a rerun removes its own
/// stale files (a figure of another layer, an image of another dataset) and
/// never touches files it did not write.
pub struct OwnedDir {
    dir: PathBuf,
    previous: Vec<String>,
    written: Vec<String>,
}

const OWNED_MANIFEST: &str = ".sqsim-owned";

impl OwnedDir {
    /// Creates `dir` if needed and reads what the previous run wrote there.
    pub fn begin(dir: &Path) -> Result<Self> {
        std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
        let previous = std::fs::read_to_string(dir.join(OWNED_MANIFEST))
            .map(|t| t.lines().filter(|l| !l.is_empty() && !l.contains('/') && !l.starts_with('.')).map(String::from).collect())
            .unwrap_or_default();
        Ok(OwnedDir { dir: dir.to_path_buf(), previous, written: Vec::new() })
    }

    /// Writes `name` (a plain file name) atomically.
    pub fn write(&mut self, name: &str, bytes: &[u8]) -> Result<()> {
        if name.contains('/') || name.starts_with('.') {
            return Err(Error::arg("output file", format!("`{name}` is not a plain file name")));
        }
        atomic_write(&self.dir.join(name), bytes)?;
        if !self.written.iter().any(|w| w == name) {
            self.written.push(name.to_string());
        }
        Ok(())
    }

    /// Removes the previous run's files this run did not write, then records this run's.
    pub fn finish(self) -> Result<()> {
        for old in self.previous.iter().filter(|p| !self.written.contains(p)) {
            match std::fs::remove_file(self.dir.join(old)) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(Error::io(self.dir.join(old), e)),
                _ => {}
            }
        }
        let mut list = self.written.join("\n");
        list.push('\n');
        atomic_write(&self.dir.join(OWNED_MANIFEST), list.as_bytes())
    }
}
