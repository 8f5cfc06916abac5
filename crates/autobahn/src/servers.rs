//! The servers under test. Each is a binary of the workspace, built in release mode beside this
//! one, started with `--port 0` as a process of its own; its `ws://` URL is read from what it
//! prints.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

/// The message limit every server gets: Autobahn's case 9.1.6 sends a 16 MiB text message, and a
/// server's default limit (64 KiB) would answer it, rightly, with 1009.
pub const MAX_MESSAGE: usize = 16 * 1024 * 1024;

/// How long a server may take to print its URL (the book server renders the book first).
const START_TIMEOUT: Duration = Duration::from_secs(120);

/// One server, as the table lists it.
#[derive(Clone, Copy, Debug)]
pub struct Server {
    /// Short name, for `--servers` and the report folders.
    pub key: &'static str,
    /// What the book calls it.
    pub label: &'static str,
    /// The binary.
    pub bin: &'static str,
    /// Its arguments, before `--port 0 --max-message N`.
    pub args: &'static [&'static str],
    /// It speaks permessage-deflate, so every compression case (12.* and 13.*) must pass; the
    /// others decline compression and get UNIMPLEMENTED for those, as tungstenite's own results
    /// show.
    pub compression: bool,
}

/// Every WebSocket server of the workspace that echoes without a session, in the table's order.
///
/// The one-port chapter's server is not here: it lets a WebSocket in only with a session (a
/// cookie or a bearer token, which kosoku cannot send), and it greets each client before
/// echoing, which Autobahn would count as a wrong echo. Its WebSocket code is tungstenite's, as
/// the blocking echo's and the book server's are.
pub const SERVERS: &[Server] = &[
    Server {
        key: "async",
        label: "async echo (tokio-tungstenite)",
        bin: "ws-echo-server",
        args: &[],
        compression: false,
    },
    Server {
        key: "blocking",
        label: "blocking echo (tungstenite, a thread per connection)",
        bin: "ws-echo-server",
        args: &["--blocking"],
        compression: false,
    },
    Server {
        key: "by-hand",
        label: "by-hand echo (the wire codec)",
        bin: "ws-by-hand-server",
        args: &[],
        compression: false,
    },
    Server {
        key: "by-hand-deflate",
        label: "by-hand echo, `--deflate` (permessage-deflate)",
        bin: "ws-by-hand-server",
        args: &["--deflate"],
        compression: true,
    },
    Server {
        key: "heartbeat",
        label: "heartbeat echo (a ping every 20 s)",
        bin: "heartbeat-server",
        args: &[],
        compression: false,
    },
    Server {
        key: "book",
        label: "the book server (`cargo run`: tiny_http + tungstenite)",
        bin: "duplex",
        // `start` adds `--out`: the book is rendered into a folder of its own, so that a run does
        // not disturb a `cargo run` at work.
        args: &[],
        compression: false,
    },
];

/// A server process; killed when dropped.
#[derive(Debug)]
pub struct Running {
    child: Child,
    /// The URL Autobahn connects to.
    pub url: String,
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts `server` from `bin_dir`, in `root` (the workspace), and waits for its URL. The book
/// server renders the book into `scratch`.
pub fn start(server: &Server, bin_dir: &Path, root: &Path, scratch: &Path) -> anyhow::Result<Running> {
    let path = bin_dir.join(server.bin);
    anyhow::ensure!(
        path.exists(),
        "{} is not built: `just autobahn` builds the servers first (cargo build --release -p …)",
        path.display()
    );
    let mut command = Command::new(&path);
    if server.bin == "duplex" {
        command.arg("--out").arg(scratch.join("book-site"));
    }
    let mut child = command
        .args(server.args)
        .args(["--port", "0", "--max-message", &MAX_MESSAGE.to_string()])
        .current_dir(root)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| anyhow::anyhow!("cannot start {}: {e}", path.display()))?;
    let stdout = child.stdout.take().ok_or_else(|| anyhow::anyhow!("no stdout from {}", server.bin))?;
    // Read its lines on a thread, so that a server that prints nothing cannot block us forever.
    let (found, url) = mpsc::channel();
    std::thread::spawn(move || {
        let mut lines = BufReader::new(stdout).lines();
        for line in lines.by_ref() {
            let Ok(line) = line else { break };
            if let Some(url) = ws_url(&line) {
                let _ = found.send(url);
                break;
            }
        }
        // Keep reading, so that the server never blocks on a full pipe.
        for _ in lines {}
    });
    let mut running = Running { child, url: String::new() };
    match url.recv_timeout(START_TIMEOUT) {
        Ok(url) => {
            running.url = url;
            Ok(running)
        }
        // `running` is dropped: the server is stopped.
        Err(_) => anyhow::bail!("{} printed no ws:// URL within {START_TIMEOUT:?}", server.bin),
    }
}

/// The first `ws://…` word in a line, without the punctuation after it: every server prints one
/// (`by-hand WebSocket echo at ws://127.0.0.1:40905/ws/echo`, the heartbeat's
/// `heartbeat server at ws://127.0.0.1:9004/ws/heartbeat: a ping every…`, the book server's
/// `(the WebSocket echo: ws://127.0.0.1:3000/ws/echo)`).
pub fn ws_url(line: &str) -> Option<String> {
    let start = line.find("ws://")?;
    let word = line[start..].split_whitespace().next()?;
    Some(word.trim_end_matches([')', ',', '.', ':']).to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_url_is_found_in_what_each_server_prints() {
        assert_eq!(
            ws_url("by-hand WebSocket echo at ws://127.0.0.1:40905/ws/echo").as_deref(),
            Some("ws://127.0.0.1:40905/ws/echo")
        );
        assert_eq!(
            ws_url(
                "The book is at http://127.0.0.1:3000/  (the WebSocket echo: ws://127.0.0.1:3000/ws/echo)"
            )
            .as_deref(),
            Some("ws://127.0.0.1:3000/ws/echo")
        );
        assert_eq!(
            ws_url("heartbeat server at ws://127.0.0.1:9004/ws/heartbeat: a ping every 20 s").as_deref(),
            Some("ws://127.0.0.1:9004/ws/heartbeat")
        );
        assert_eq!(ws_url("rendered the book"), None);
    }
}
