//! Rendering the book with the mdbook library (`mdbook-driver`), so `cargo run` needs no
//! `mdbook` binary.
//!
//! The book's source is `book/` at the workspace root; the rendered HTML goes to `target/book`
//! (or `$CARGO_TARGET_DIR/book`), next to everything else cargo builds, so a fresh clone stays
//! clean. The same function renders the book for the book checks in `tests/book.rs`.
//!
//! A page includes a transcript as a whole snapshot file, `{{#include …/name.snap}}`, never by
//! line numbers. insta writes a small header above each snapshot (`---`, `source: …`, `---`),
//! so [`render`] expands those includes itself, without the header, before mdbook's own
//! `{{#include}}` runs ([`include_snapshots`]).

use std::path::{Path, PathBuf};

use mdbook_driver::MDBook;
use mdbook_driver::config::Config;

/// Why the book could not be rendered.
#[derive(Debug, thiserror::Error)]
pub enum BookError {
    /// There is no `book.toml` where the book should be.
    #[error("no book at {0} (expected a book.toml there; pass --book DIR)")]
    NotFound(PathBuf),
    /// mdbook refused the book: a bad `book.toml`, a `SUMMARY.md` entry without its file, …
    #[error("mdbook could not render the book in {dir}: {message}")]
    Mdbook {
        /// The book's folder.
        dir: PathBuf,
        /// mdbook's error and its causes, on one line.
        message: String,
    },
}

/// The workspace root, as this crate was built from it.
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// `book/` at the workspace root.
pub fn default_book_dir() -> PathBuf {
    workspace_root().join("book")
}

/// Where the rendered book goes: `$CARGO_TARGET_DIR/book`, or `target/book` in the workspace.
pub fn default_out_dir() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace_root().join("target"));
    target.join("book")
}

/// Renders the book in `book_dir` to HTML in `out_dir` and returns `out_dir`.
///
/// mdbook reads `book.toml` (and `MDBOOK_*` environment variables); only the output folder is
/// changed here.
pub fn render(book_dir: &Path, out_dir: &Path) -> Result<PathBuf, BookError> {
    let toml = book_dir.join("book.toml");
    if !toml.is_file() {
        return Err(BookError::NotFound(book_dir.to_path_buf()));
    }
    let mdbook_error =
        |e: anyhow::Error| BookError::Mdbook { dir: book_dir.to_path_buf(), message: format!("{e:#}") };
    let mut config = Config::from_disk(&toml).map_err(mdbook_error)?;
    config.update_from_env().map_err(mdbook_error)?;
    config.build.build_dir = out_dir.to_path_buf();
    let mut book = MDBook::load_with_config(book_dir, config).map_err(mdbook_error)?;
    let src = book.root.join(&book.config.book.src);
    book.book.for_each_chapter_mut(|chapter| {
        if let Some(page) = &chapter.path {
            let dir = src.join(page).parent().map(Path::to_path_buf).unwrap_or_else(|| src.clone());
            chapter.content = include_snapshots(&chapter.content, &dir);
        }
    });
    book.build().map_err(mdbook_error)?;
    Ok(out_dir.to_path_buf())
}

/// The text of a snapshot file without insta's header: what a page shows of it.
///
/// A snapshot starts with `---`, insta's metadata (`source: …`) and `---`; a file that does not
/// is returned whole. Like mdbook's own whole-file include, the last line keeps no newline.
pub fn snapshot_text(file: &str) -> String {
    let body = file
        .strip_prefix("---\n")
        .and_then(|rest| rest.split_once("\n---\n"))
        .map_or(file, |(_metadata, body)| body);
    body.lines().collect::<Vec<_>>().join("\n")
}

/// `page` with every `{{#include PATH.snap}}` replaced by that snapshot's text (see
/// [`snapshot_text`]); `dir` is the page's folder, which `PATH` is relative to.
///
/// An include whose file cannot be read is left as it is: mdbook's own include then reports it,
/// as it reports any other missing file.
pub fn include_snapshots(page: &str, dir: &Path) -> String {
    const OPEN: &str = "{{#include ";
    let mut out = String::with_capacity(page.len());
    let mut rest = page;
    while let Some(start) = rest.find(OPEN) {
        let Some(end) = rest[start..].find("}}") else { break };
        let (before, directive) = rest.split_at(start);
        out.push_str(before);
        let path = directive[OPEN.len()..end].trim();
        let text = path.ends_with(".snap").then(|| std::fs::read_to_string(dir.join(path)).ok()).flatten();
        match text {
            Some(file) => out.push_str(&snapshot_text(&file)),
            None => out.push_str(&directive[..end + 2]),
        }
        rest = &directive[end + 2..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_snapshot_is_shown_without_insta_header() {
        let file = "---\nsource: tests/ws_echo.rs\n---\nC→S GET / HTTP/1.1\nS→C HTTP/1.1 101\n";
        assert_eq!(snapshot_text(file), "C→S GET / HTTP/1.1\nS→C HTTP/1.1 101");
    }

    #[test]
    fn a_snapshot_include_is_expanded_and_other_includes_are_left_to_mdbook() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("a temporary folder: {e}"));
        std::fs::write(dir.path().join("a.snap"), "---\nsource: t.rs\n---\nline\n")
            .unwrap_or_else(|e| panic!("write a.snap: {e}"));
        let page = "```text\n{{#include a.snap}}\n```\n{{#include code.rs:anchor}}\n{{#include gone.snap}}";
        assert_eq!(
            include_snapshots(page, dir.path()),
            "```text\nline\n```\n{{#include code.rs:anchor}}\n{{#include gone.snap}}"
        );
    }
}
