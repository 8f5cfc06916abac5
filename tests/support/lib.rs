//! Shared helpers for Duplex's end-to-end tests: where things are, and how transcripts are
//! snapshotted so the book can include them.

use std::path::{Path, PathBuf};

/// The workspace root.
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The book's root folder (where `book.toml` is).
pub fn book_dir() -> PathBuf {
    root().join("book")
}

/// Lines of header insta writes above a snapshot taken with `omit_expression => true`:
/// `---`, `source: …`, `---`. The book includes snapshots from the line after (`.snap:4:`).
pub const SNAPSHOT_HEADER_LINES: usize = 3;
