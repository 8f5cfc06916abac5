//! The Tap's pictures: when a connection ends, what passed through it drawn as a sequence
//! diagram (`duplex tap LISTEN UPSTREAM --svg FILE`), so a class can draw its own exchanges in
//! the style of the book's figures.
//!
//! Each connection gets its own file: connection 2 of `--svg echo.svg` is drawn in
//! `echo-2.svg`. The drawing is [`wire::figure::sequence`]: one arrow per HTTP head, frame,
//! chunk, FIN or reset, labelled in the transcript's words, the Tap's blackhole and cut drawn
//! as bands and crosses, and with `--clock` the time in the margin.

use std::path::{Path, PathBuf};

use wire::Transcript;
use wire::figure::{self, Figure, SequenceOptions};

/// Where connection `id`'s picture goes: `base` with `-ID` before its extension
/// (`echo.svg` → `echo-3.svg`), or after its name if it has none (`echo` → `echo-3`).
pub fn path_for(base: &Path, id: usize) -> PathBuf {
    numbered(base, &id.to_string())
}

/// The pattern of [`path_for`]'s names, for a person: `echo-N.svg`.
pub fn pattern(base: &Path) -> PathBuf {
    numbered(base, "N")
}

fn numbered(base: &Path, number: &str) -> PathBuf {
    let stem = base.file_stem().map_or_else(|| "connection".into(), |s| s.to_string_lossy().into_owned());
    let name = match base.extension() {
        Some(ext) => format!("{stem}-{number}.{}", ext.to_string_lossy()),
        None => format!("{stem}-{number}"),
    };
    base.with_file_name(name)
}

/// Connection `id`'s transcript as a sequence diagram: the client on the left, the server on
/// the right, time running down. Ports are hidden as in the book's transcripts.
pub fn figure(transcript: &Transcript, id: usize) -> Figure {
    let options = SequenceOptions::new()
        .titled(format!("What passed through the Tap on connection {id}"))
        .with_heading(format!("Connection {id}, as the Tap saw it"));
    figure::sequence_figure(transcript, &options)
}

/// Draws connection `id` and writes it to [`path_for`]`(base, id)`; returns that path.
pub async fn write(base: &Path, id: usize, transcript: &Transcript) -> std::io::Result<PathBuf> {
    let path = path_for(base, id);
    tokio::fs::write(&path, figure(transcript, id).svg()).await?;
    Ok(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_connection_gets_its_number_before_the_extension() {
        assert_eq!(path_for(Path::new("echo.svg"), 1), Path::new("echo-1.svg"));
        assert_eq!(path_for(Path::new("out/dead-peer.svg"), 12), Path::new("out/dead-peer-12.svg"));
        assert_eq!(path_for(Path::new("pictures/echo"), 2), Path::new("pictures/echo-2"));
        assert_eq!(pattern(Path::new("echo.svg")), Path::new("echo-N.svg"));
    }
}
