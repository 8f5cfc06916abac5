//! Shared helpers for Duplex's end-to-end tests: where things are, the book rendered once per
//! test binary, how transcripts are snapshotted so the book can include them, how figures are
//! compared with the committed SVGs ([`figures`]), and the Node programs of `js/`, installed once
//! and started on free ports ([`node`]).

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

pub mod figures;
pub mod node;

/// The workspace root.
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The book's root folder (where `book.toml` is).
pub fn book_dir() -> PathBuf {
    root().join("book")
}

/// Lines of header insta writes above a snapshot taken with `omit_expression => true`:
/// `---`, `source: …`, `---`. The book includes a snapshot whole, and `duplex::book` leaves
/// these lines out.
pub const SNAPSHOT_HEADER_LINES: usize = 3;

/// The book, rendered once into a temporary folder that lives as long as the test binary.
pub fn rendered_book() -> &'static Path {
    static BOOK: OnceLock<tempfile::TempDir> = OnceLock::new();
    BOOK.get_or_init(|| {
        let out = tempfile::tempdir().expect("a temporary folder for the rendered book");
        duplex::book::render(&book_dir(), out.path()).expect("the book renders");
        out
    })
    .path()
}

/// A snapshot file's content without insta's header: exactly what the book includes.
pub fn snapshot_body(name: &str) -> String {
    let path = root().join("tests/snapshots").join(format!("{name}.snap"));
    let text =
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    text.split_inclusive('\n').skip(SNAPSHOT_HEADER_LINES).collect()
}

/// Text as it appears in a code block of mdbook's HTML: `&`, `<` and `>` escaped.
pub fn html_escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

/// Sends `request`, which keeps the connection open (HTTP/1.1's default), reads one response by
/// its `Content-Length`, then closes the connection the way curl does and reads to the end.
pub fn one_response(addr: std::net::SocketAddr, request: &str) -> String {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(addr).expect("connect");
    stream.set_read_timeout(Some(std::time::Duration::from_secs(10))).expect("a read timeout");
    stream.write_all(request.as_bytes()).expect("send the request");
    let mut answer = Vec::new();
    let mut chunk = [0u8; 1024];
    loop {
        let n = stream.read(&mut chunk).expect("the server answers within 10 s");
        assert!(n > 0, "the server closed before its response was complete: {answer:?}");
        answer.extend_from_slice(&chunk[..n]);
        let text = String::from_utf8_lossy(&answer);
        if let Some((head, body)) = text.split_once("\r\n\r\n") {
            let length = head
                .lines()
                .find_map(|l| l.strip_prefix("Content-Length: "))
                .and_then(|n| n.parse::<usize>().ok())
                .expect("the response has a Content-Length");
            if body.len() >= length {
                break;
            }
        }
    }
    stream.shutdown(std::net::Shutdown::Write).expect("close our side");
    let _ = stream.read_to_end(&mut answer);
    String::from_utf8_lossy(&answer).into_owned()
}

/// The book server on a free port, serving the rendered book.
pub fn book_server() -> duplex::server::Running {
    let config =
        duplex::server::Config { site: rendered_book().to_path_buf(), limits: ws_echo::Limits::default() };
    duplex::server::start("127.0.0.1", 0, config).expect("the book server starts on a free port")
}
