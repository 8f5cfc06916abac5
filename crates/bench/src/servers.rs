//! The servers under test, each started as a process of its own so that its CPU time and memory
//! can be read from `/proc` and belong to it alone.

use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// A WebSocket echo server the bench knows how to start.
#[derive(Clone, Copy, Debug)]
pub struct Server {
    /// Short name used in the results (`async`, `node-ws`, …).
    pub key: &'static str,
    /// What the book calls it.
    pub label: &'static str,
    /// How it is started.
    pub launch: Launch,
    /// A variant of another server with one setting changed, to show what that setting is worth:
    /// measured at 100 connections only (and for idle memory), to keep the run short.
    pub variant: bool,
}

/// How to start a server. Every one is given port 0 and prints its `ws://` URL on stdout.
#[derive(Clone, Copy, Debug)]
pub enum Launch {
    /// A binary of this workspace, built in release mode next to the bench's own binary.
    Rust {
        /// The binary's name.
        bin: &'static str,
        /// Arguments before `--port 0`.
        args: &'static [&'static str],
    },
    /// `node crates/bench/node/echo.js 0`, with `ws` from the local cache.
    Node,
}

/// Node's `ws`, the yardstick: every ratio in the results is against it.
pub const NODE_WS: &str = "node-ws";

/// The async echo, whose targets the book checks.
pub const ASYNC: &str = "async";

/// Every server, in the order the tables list them.
///
/// Adding a server is one entry here: a binary of the workspace that takes `--port 0` (and
/// `--max-connections N`, for the idle test past 1,000) and prints its `ws://…` URL on stdout,
/// plus its package in the `cargo build` line of the `bench` recipes in the justfile.
pub const SERVERS: &[Server] = &[
    Server {
        key: ASYNC,
        label: "async echo (tokio-tungstenite)",
        launch: Launch::Rust { bin: "ws-echo-server", args: &[] },
        variant: false,
    },
    Server {
        key: "blocking",
        label: "blocking echo (tungstenite, a thread per connection)",
        launch: Launch::Rust { bin: "ws-echo-server", args: &["--blocking"] },
        variant: false,
    },
    Server {
        key: "by-hand",
        label: "by-hand echo (the wire codec)",
        launch: Launch::Rust { bin: "ws-by-hand-server", args: &[] },
        variant: false,
    },
    Server {
        key: "one-port",
        // The book server is the project's one-port server with a plain echo: tiny_http answers
        // the upgrade and a thread per WebSocket echoes (the chapter's `one-port` binary greets
        // each client first, which the load client would take for a wrong echo).
        label: "one-port: the book server (tiny_http + upgrade)",
        launch: Launch::Rust { bin: "duplex", args: &[] },
        variant: false,
    },
    Server { key: NODE_WS, label: "Node.js `ws`", launch: Launch::Node, variant: false },
    Server {
        key: "async-2-threads",
        label: "async echo, `--threads 2` (multi-threaded runtime)",
        launch: Launch::Rust { bin: "ws-echo-server", args: &["--threads", "2"] },
        variant: true,
    },
    Server {
        key: "async-128k",
        label: "async echo, `--read-buffer 131072` (tungstenite's default)",
        launch: Launch::Rust { bin: "ws-echo-server", args: &["--read-buffer", "131072"] },
        variant: true,
    },
];

/// The connection count variants are measured at.
pub const VARIANT_CONNECTIONS: usize = 100;

/// The server called `key`.
pub fn by_key(key: &str) -> Option<&'static Server> {
    SERVERS.iter().find(|s| s.key == key)
}

/// Where things are and how to pin.
#[derive(Clone, Debug)]
pub struct Setup {
    /// The folder with the release binaries (the bench's own folder).
    pub bin_dir: PathBuf,
    /// The folder `npm` installed into (it has `node_modules/ws`).
    pub node_dir: PathBuf,
    /// The Node echo script.
    pub node_script: PathBuf,
    /// The core servers are pinned to with `taskset`, if pinning is possible.
    pub server_core: Option<usize>,
    /// Where server logs (stderr) go.
    pub log_dir: PathBuf,
    /// Count system calls with strace after the measurements.
    pub strace: bool,
}

/// Why a server could not be started.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The program could not be run.
    #[error("cannot start {what}: {source}")]
    Spawn {
        /// The command.
        what: String,
        /// What the OS said.
        source: std::io::Error,
    },
    /// It ran but never said where it listens.
    #[error("{0} did not print its ws:// address within {1:?} (see its log in .bench-cache/logs)")]
    NoAddress(String, Duration),
}

/// How long a server may take to print its address.
pub const START_TIMEOUT: Duration = Duration::from_secs(20);

/// A server process that is running.
pub struct Running {
    child: Child,
    /// Its `ws://…/ws/echo` URL.
    pub url: String,
}

impl Running {
    /// Starts `server`, pinned if `setup` says so, with `extra` arguments (such as a higher
    /// connection limit), and waits until it prints its address.
    pub fn start(server: &Server, setup: &Setup, extra: &[String]) -> Result<Running, StartError> {
        let (program, mut args, node_path) = match server.launch {
            Launch::Rust { bin, args } => {
                let mut all: Vec<String> = args.iter().map(|a| (*a).to_owned()).collect();
                all.extend(["--port".to_owned(), "0".to_owned()]);
                (setup.bin_dir.join(bin), all, None)
            }
            Launch::Node => (
                PathBuf::from("node"),
                vec![setup.node_script.display().to_string(), "0".to_owned()],
                Some(setup.node_dir.join("node_modules")),
            ),
        };
        args.extend(extra.iter().cloned());
        let mut command = match setup.server_core {
            Some(core) => {
                let mut c = Command::new("taskset");
                c.arg("-c").arg(core.to_string()).arg(&program).args(&args);
                c
            }
            None => {
                let mut c = Command::new(&program);
                c.args(&args);
                c
            }
        };
        if let Some(path) = node_path {
            command.env("NODE_PATH", path);
        }
        std::fs::create_dir_all(&setup.log_dir).ok();
        let log = std::fs::File::create(setup.log_dir.join(format!("{}.log", server.key)))
            .map_or_else(|_| Stdio::null(), Stdio::from);
        let what = format!("{} {}", program.display(), args.join(" "));
        let mut child = command
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(log)
            .spawn()
            .map_err(|source| StartError::Spawn { what: what.clone(), source })?;
        let stdout = child.stdout.take().ok_or_else(|| StartError::NoAddress(what.clone(), START_TIMEOUT))?;
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            // Read every line so the server never blocks on a full pipe; pass on the first URL.
            for line in std::io::BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Some(url) = url_in(&line) {
                    let _ = tx.send(url);
                }
            }
        });
        match rx.recv_timeout(START_TIMEOUT) {
            Ok(url) => Ok(Running { child, url }),
            Err(_) => {
                let _ = child.kill();
                let _ = child.wait();
                Err(StartError::NoAddress(what, START_TIMEOUT))
            }
        }
    }

    /// The server's process id (`taskset` execs the server, so the id is the server's).
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Ends the server (SIGKILL: nothing of its shutdown is being measured) and reaps it.
    pub fn stop(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The first `ws://…` word in a line of a server's output.
pub fn url_in(line: &str) -> Option<String> {
    let start = line.find("ws://")?;
    let url = line[start..].split_whitespace().next()?;
    Some(url.trim_end_matches([')', ',', '.']).to_owned())
}

/// Whether `taskset` can be run here.
pub fn taskset_available() -> bool {
    Command::new("taskset").arg("--version").output().is_ok_and(|o| o.status.success())
}

/// The Node echo script, in this crate's `node/` folder.
pub fn node_script(root: &Path) -> PathBuf {
    root.join("crates/bench/node/echo.js")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_server_announces_its_url_in_its_own_words() {
        assert_eq!(
            url_in("echo server at ws://127.0.0.1:40001/ws/echo").as_deref(),
            Some("ws://127.0.0.1:40001/ws/echo")
        );
        assert_eq!(
            url_in(
                "The book is at http://127.0.0.1:3000/  (the WebSocket echo: ws://127.0.0.1:3000/ws/echo)"
            )
            .as_deref(),
            Some("ws://127.0.0.1:3000/ws/echo")
        );
        assert_eq!(url_in("listening on 127.0.0.1:9001"), None);
    }

    #[test]
    fn server_keys_are_unique_and_node_is_among_them() {
        let mut keys: Vec<_> = SERVERS.iter().map(|s| s.key).collect();
        keys.sort_unstable();
        keys.dedup();
        assert_eq!(keys.len(), SERVERS.len(), "two servers share a key");
        assert!(by_key(NODE_WS).is_some() && by_key(ASYNC).is_some());
    }
}
