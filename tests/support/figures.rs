//! Figures checked like snapshots: a test draws a figure again and compares it with the SVG
//! committed under `book/src/<chapter>/figures/`.
//!
//! ```ignore
//! let svg = wire::figure::sequence(&transcript, &SequenceOptions::new());
//! figures::check_or_update(&book_dir().join("echo/figures/echo.svg"), &svg).unwrap_or_else(|e| panic!("{e}"));
//! ```
//!
//! When the drawing changes on purpose, `DUPLEX_UPDATE_FIGURES=1` (or `INSTA_UPDATE=always`,
//! which updates the transcripts' snapshots too) writes the new figure over the old; look at it
//! and commit it with the change. Only std is used, so this file can be included on its own
//! (`#[path = ...] mod figures;`) by a crate that does not depend on this one.

use std::fmt;
use std::path::{Path, PathBuf};

/// The environment variable that makes [`check_or_update`] write figures instead of failing.
pub const UPDATE_VAR: &str = "DUPLEX_UPDATE_FIGURES";

/// A committed figure that is not what the code draws now.
#[derive(Debug)]
pub struct Mismatch {
    /// The committed file.
    pub path: PathBuf,
    /// What differs: the file is missing, unreadable, or its first differing line.
    pub reason: String,
}

impl fmt::Display for Mismatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "the figure {} is not what the code draws now: {}.\n\
             If the change is intended, update it with\n    {}\n\
             then look at the new figure and commit it.",
            self.path.display(),
            self.reason,
            update_command()
        )
    }
}

impl std::error::Error for Mismatch {}

/// The command that re-runs this test binary with updating on: `cargo test -p PACKAGE --test
/// NAME` when cargo says which package runs (it sets `CARGO_PKG_NAME` for tests it runs).
pub fn update_command() -> String {
    let package = std::env::var("CARGO_PKG_NAME").ok();
    // The test binary is `target/…/deps/NAME-HASH`.
    let binary = std::env::args().next().and_then(|a| {
        let stem = Path::new(&a).file_stem()?.to_str()?.to_owned();
        Some(stem.rsplit_once('-').map_or(stem.clone(), |(name, _)| name.to_owned()))
    });
    match (package, binary) {
        (Some(p), Some(b)) if b == p.replace('-', "_") => format!("{UPDATE_VAR}=1 cargo test -p {p} --lib"),
        (Some(p), Some(b)) => format!("{UPDATE_VAR}=1 cargo test -p {p} --test {b}"),
        _ => format!("{UPDATE_VAR}=1 cargo test (the command you ran)"),
    }
}

/// Whether this run should write figures rather than compare them.
pub fn updating() -> bool {
    let set = |name: &str| std::env::var(name).ok();
    matches!(set(UPDATE_VAR).as_deref(), Some(v) if !v.is_empty() && v != "0")
        || set("INSTA_UPDATE").as_deref() == Some("always")
}

/// Compares `svg` with the file at `path`. When updating ([`updating`]), writes `svg` there
/// (creating its folder) if it differs and returns `Ok`; otherwise returns a [`Mismatch`]
/// naming the file and the command that updates it.
pub fn check_or_update(path: &Path, svg: &str) -> Result<(), Mismatch> {
    let mismatch = |reason: String| Mismatch { path: path.to_path_buf(), reason };
    let committed = std::fs::read_to_string(path);
    if committed.as_deref().ok() == Some(svg) {
        return Ok(());
    }
    if updating() {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| mismatch(format!("cannot create its folder: {e}")))?;
        }
        return std::fs::write(path, svg).map_err(|e| mismatch(format!("cannot write it: {e}")));
    }
    Err(mismatch(match committed {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => "it does not exist yet".to_owned(),
        Err(e) => format!("it cannot be read: {e}"),
        Ok(old) => first_difference(&old, svg),
    }))
}

/// `line 12 differs: committed "…", drawn "…"`.
fn first_difference(old: &str, new: &str) -> String {
    let (mut a, mut b) = (old.lines(), new.lines());
    let mut n = 0;
    loop {
        n += 1;
        match (a.next(), b.next()) {
            (Some(x), Some(y)) if x == y => continue,
            (Some(x), Some(y)) => return format!("line {n} differs: committed {x:?}, drawn {y:?}"),
            (Some(_), None) => return format!("the committed file is longer (the drawing ends at line {n})"),
            (None, Some(_)) => return format!("the drawing is longer (the committed file ends at line {n})"),
            (None, None) => return "only the line endings differ".to_owned(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("duplex-figures-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        dir.join("figures").join("f.svg")
    }

    #[test]
    fn a_matching_figure_passes_and_a_changed_one_names_the_file_and_the_command() {
        if updating() {
            return; // This test checks the comparing mode.
        }
        let path = scratch("compare");
        let missing = check_or_update(&path, "<svg/>\n").unwrap_err();
        assert!(missing.to_string().contains("does not exist yet"), "{missing}");
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, "<svg>\n<a/>\n</svg>\n").unwrap();
        assert!(check_or_update(&path, "<svg>\n<a/>\n</svg>\n").is_ok());
        let changed = check_or_update(&path, "<svg>\n<b/>\n</svg>\n").unwrap_err().to_string();
        assert!(changed.contains("f.svg") && changed.contains("line 2 differs"), "{changed}");
        assert!(changed.contains("DUPLEX_UPDATE_FIGURES=1 cargo test"), "{changed}");
        assert!(changed.contains(&update_command()), "{changed}");
        let _ = std::fs::remove_dir_all(path.parent().unwrap().parent().unwrap());
    }
}
