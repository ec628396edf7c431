//! Benchmark sets: the bundled `data/` folders by name, or any directory of
//! PNGs, and the HR/LR pairs the SR evaluation runs on.
use super::io::{load_rgb, RgbImage};
use super::resize::{check_scale, downscale_bicubic, modcrop};
use crate::{paths, Error, Result};
use std::path::{Path, PathBuf};

/// Bundled sets under `paths::data_dir()`, in their canonical spelling.
pub const BUNDLED: [&str; 4] = ["Set5", "Set14", "BSD100", "calib32"];

/// Smallest LR side `make_pair` accepts (a network needs some context).
pub const MIN_LR_SIDE: usize = 8;

/// The `.png` files (extension case-insensitive) directly in `dir`, sorted
/// by file name. A directory without any is an error.
pub fn list_images(dir: &Path) -> Result<Vec<PathBuf>> {
    let entries = std::fs::read_dir(dir).map_err(|e| Error::io(dir, e))?;
    let mut out = Vec::new();
    for entry in entries {
        let path = entry.map_err(|e| Error::io(dir, e))?.path();
        let is_png = path
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("png"));
        if is_png && path.is_file() {
            out.push(path);
        }
    }
    if out.is_empty() {
        return Err(Error::format(dir, "directory contains no .png images"));
    }
    out.sort_by(|a, b| a.file_name().cmp(&b.file_name()));
    Ok(out)
}

/// `Set5|Set14|BSD100|calib32` (any case) → (canonical name, data dir);
/// otherwise an existing directory → (its name, it).
pub fn resolve_dataset(name_or_dir: &str) -> Result<(String, PathBuf)> {
    if let Some(name) = BUNDLED.iter().find(|n| n.eq_ignore_ascii_case(name_or_dir)) {
        let dir = paths::data_dir().join(name);
        if !dir.is_dir() {
            let e = std::io::Error::new(
                std::io::ErrorKind::NotFound,
                "bundled dataset folder is missing (set SQSIM_HOME?)",
            );
            return Err(Error::io(dir, e));
        }
        return Ok((name.to_string(), dir));
    }
    let dir = PathBuf::from(name_or_dir);
    if dir.is_dir() {
        let name = dir
            .canonicalize()
            .ok()
            .and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
            .unwrap_or_else(|| name_or_dir.to_string());
        return Ok((name, dir));
    }
    Err(Error::Unknown {
        kind: "dataset".into(),
        name: name_or_dir.into(),
        known: format!("{}, or a directory of PNG files", BUNDLED.join(", ")),
    })
}

/// One evaluation sample: modcropped HR and its MATLAB-bicubic LR.
#[derive(Clone, Debug)]
pub struct SrPair {
    /// File stem, e.g. `baby`.
    pub name: String,
    pub hr: RgbImage,
    pub lr: RgbImage,
}

/// Load `path`, modcrop by `scale`, bicubic-downscale. The LR must be at
/// least `MIN_LR_SIDE` on each side.
pub fn make_pair(path: &Path, scale: usize) -> Result<SrPair> {
    let img = load_checked(path, scale)?;
    let hr = modcrop(&img, scale);
    let lr = downscale_bicubic(&hr, scale)?;
    let name = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    Ok(SrPair { name, hr, lr })
}

/// Decodes and checks every image of a dataset before the long work (a
/// truncated or oversized tenth image fails the command before the first
/// is processed or any output is written).
pub fn check_images(paths: &[PathBuf], scale: usize) -> Result<()> {
    for p in paths {
        load_checked(p, scale)?;
    }
    Ok(())
}

/// The HR image at `path`, refused when its LR would be smaller than
/// [`MIN_LR_SIDE`] or larger than [`crate::limits::MAX_LR_PIXELS`].
fn load_checked(path: &Path, scale: usize) -> Result<RgbImage> {
    check_scale(scale)?;
    let img = load_rgb(path)?;
    let (lw, lh) = (img.width / scale, img.height / scale);
    if lw < MIN_LR_SIDE || lh < MIN_LR_SIDE {
        return Err(Error::ImageTooSmall {
            path: path.to_path_buf(),
            width: img.width,
            height: img.height,
            need: format!(
                "{0}x{0} for scale {scale} (LR would be {lw}x{lh}, at least {MIN_LR_SIDE}x{MIN_LR_SIDE})",
                MIN_LR_SIDE * scale
            ),
        });
    }
    crate::limits::check_lr_pixels(&path.display().to_string(), lw, lh)?;
    Ok(img)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::image::io::save_png;

    fn write(dir: &Path, name: &str, w: usize, h: usize) -> PathBuf {
        let p = dir.join(name);
        let data = (0..w * h * 3).map(|i| (i * 7 % 251) as u8).collect();
        save_png(&p, &RgbImage::new(w, h, data).unwrap()).unwrap();
        p
    }

    #[test]
    fn list_images_sorts_and_filters() {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), "b.png", 4, 4);
        write(dir.path(), "a.PNG", 4, 4);
        std::fs::write(dir.path().join("notes.txt"), "x").unwrap();
        std::fs::create_dir(dir.path().join("sub.png")).unwrap();
        let names: Vec<_> = list_images(dir.path())
            .unwrap()
            .iter()
            .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names, ["a.PNG", "b.png"]);
    }

    #[test]
    fn list_images_errors() {
        let dir = tempfile::tempdir().unwrap();
        assert!(matches!(list_images(dir.path()), Err(Error::Format { .. })));
        assert!(matches!(
            list_images(&dir.path().join("missing")),
            Err(Error::Io { .. })
        ));
    }

    #[test]
    fn resolve_bundled_and_dirs() {
        let (name, dir) = resolve_dataset("set5").unwrap();
        assert_eq!(name, "Set5");
        assert_eq!(dir, paths::data_dir().join("Set5"));
        assert_eq!(list_images(&dir).unwrap().len(), 5);
        assert_eq!(resolve_dataset("BSD100").unwrap().0, "BSD100");
        let tmp = tempfile::tempdir().unwrap();
        let mine = tmp.path().join("mine");
        std::fs::create_dir(&mine).unwrap();
        assert_eq!(
            resolve_dataset(mine.to_str().unwrap()).unwrap(),
            ("mine".to_string(), mine)
        );
        match resolve_dataset("Set6") {
            Err(Error::Unknown { kind, name, .. }) => {
                assert_eq!((kind.as_str(), name.as_str()), ("dataset", "Set6"))
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn make_pair_modcrops_and_names() {
        let dir = tempfile::tempdir().unwrap();
        let p = write(dir.path(), "odd.png", 38, 35);
        let pair = make_pair(&p, 4).unwrap();
        assert_eq!(pair.name, "odd");
        assert_eq!((pair.hr.width, pair.hr.height), (36, 32));
        assert_eq!((pair.lr.width, pair.lr.height), (9, 8));
    }

    #[test]
    fn make_pair_rejects_tiny_and_bad_scale() {
        let dir = tempfile::tempdir().unwrap();
        let p = write(dir.path(), "tiny.png", 40, 31);
        match make_pair(&p, 4) {
            Err(Error::ImageTooSmall {
                path,
                width: 40,
                height: 31,
                ..
            }) => assert_eq!(path, p),
            other => panic!("{other:?}"),
        }
        assert!(make_pair(&p, 2).is_ok());
        assert!(matches!(make_pair(&p, 0), Err(Error::InvalidArg { .. })));
        assert!(matches!(
            make_pair(&p, usize::MAX),
            Err(Error::InvalidArg { .. })
        ));
    }
}
