//! Rendering the book with the mdbook library (`mdbook-driver`), so `cargo run` needs no
//! `mdbook` binary.
//!
//! The book's source is `book/` at the workspace root; the rendered HTML goes to `target/book`
//! (or `$CARGO_TARGET_DIR/book`), next to everything else cargo builds, so a fresh clone stays
//! clean. The same function renders the book for the book checks in `tests/book.rs`.

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
    let book = MDBook::load_with_config(book_dir, config).map_err(mdbook_error)?;
    book.build().map_err(mdbook_error)?;
    Ok(out_dir.to_path_buf())
}
