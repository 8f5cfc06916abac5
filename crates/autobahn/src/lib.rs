//! # autobahn: every WebSocket server of Duplex against the Autobahn TestSuite
//!
//! The Autobahn TestSuite is the reference conformance test of WebSocket implementations: 517
//! cases of framing, fragmentation, UTF-8, close codes, limits and compression (RFC 6455 and
//! RFC 7692), each judged OK, NON-STRICT, INFORMATIONAL, UNIMPLEMENTED or FAILED. Its own runner
//! needs Python 2; `kosoku` (PyPI) runs the same case files under Python 3, and this crate runs
//! `kosoku` against each server of the workspace in turn, counts the verdicts from Autobahn's
//! `index.json`, and writes the table the book's chapter "Compression" shows
//! (`just autobahn`). With `--check` (CI) it compares the counts with the committed results
//! instead, and fails if any server got worse.
//!
//! # Layout
//! - [`servers`]: the servers under test, each a release binary started on port 0 as a process
//!   of its own, its URL read from what it prints.
//! - [`kosoku`]: the Python virtual environment with kosoku in it, and one run of the suite.
//! - [`results`]: the verdicts counted per server, kept as JSON, rendered as the book's table.

pub mod kosoku;
pub mod results;
pub mod servers;

use std::path::PathBuf;

/// The workspace's root folder (this crate is `crates/autobahn`).
pub fn workspace_root() -> PathBuf {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    root.canonicalize().unwrap_or(root)
}

/// Where the book keeps the results: `autobahn.json` (the data) and `autobahn.md.txt` (the table
/// the chapter includes).
pub fn book_dir() -> PathBuf {
    workspace_root().join("book/src/compression/results")
}
