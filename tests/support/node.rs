//! Node.js programs for the tests: the packages in `js/` installed once, and a program started on
//! a free port whose output a test can wait on.
//!
//! The tests that use this are ignored in a plain `cargo test` (a fresh machine may lack Node);
//! `.ci/run` runs them. Nothing here sleeps to wait for something: a program says
//! `listening on HOST:PORT` as its first line, and a test waits for the lines it needs.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::Stdio;
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncReadExt, BufReader};
use tokio::process::{Child, Command};
use tokio::sync::mpsc;

/// Longest wait for anything a working Node program does in well under a second: its first line,
/// a log line, its exit. Only a broken run waits this long, and it then fails with what the
/// program wrote.
pub const PATIENCE: Duration = Duration::from_secs(30);

/// The Node project: `js/` at the root of the repository.
pub fn js_dir() -> PathBuf {
    crate::root().join("js")
}

/// The `node` to run: `$NODE`, or the one on the `PATH`.
pub fn node() -> PathBuf {
    std::env::var_os("NODE").map_or_else(|| PathBuf::from("node"), PathBuf::from)
}

/// Where `npm ci` leaves a copy of the lockfile it installed, to tell later runs that
/// `node_modules` is up to date (`npm ci` deletes `node_modules` first, and this file with it).
const STAMP: &str = "node_modules/.duplex-installed-lock.json";

/// Installs `js/`'s packages, exactly as `js/package-lock.json` pins them, with `npm ci`: once
/// per test process, and not at all if `node_modules` already holds what the lockfile says.
///
/// A lock file (`js/.npm-ci.lock`) keeps two test processes that start at once from installing
/// into the same folder together.
pub fn npm_ci() {
    static INSTALLED: OnceLock<()> = OnceLock::new();
    // `get_or_init` runs the closure once; other threads of this process wait for it.
    INSTALLED.get_or_init(|| {
        let dir = js_dir();
        let lockfile = std::fs::read(dir.join("package-lock.json"))
            .unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.join("package-lock.json").display()));
        let guard = std::fs::File::create(dir.join(".npm-ci.lock"))
            .unwrap_or_else(|e| panic!("cannot create the install lock in {}: {e}", dir.display()));
        // Blocks while another process installs; released when `guard` is closed. (Elsewhere than
        // Unix, two test processes that start at once may both install: slower, not wrong.)
        #[cfg(unix)]
        rustix::fs::flock(&guard, rustix::fs::FlockOperation::LockExclusive)
            .unwrap_or_else(|e| panic!("cannot take the install lock: {e}"));
        if std::fs::read(dir.join(STAMP)).is_ok_and(|installed| installed == lockfile) {
            return;
        }
        eprintln!("installing js/'s packages: npm ci --prefix {}", dir.display());
        let status = std::process::Command::new("npm")
            .args(["ci", "--no-audit", "--no-fund", "--prefix"])
            .arg(&dir)
            .stdout(Stdio::null())
            .status()
            .unwrap_or_else(|e| {
                panic!("cannot run npm ({e}): install Node.js 20 or later, which brings npm")
            });
        assert!(status.success(), "npm ci --prefix {} failed ({status})", dir.display());
        std::fs::write(dir.join(STAMP), &lockfile)
            .unwrap_or_else(|e| panic!("cannot write {}: {e}", dir.join(STAMP).display()));
        drop(guard);
    });
}

/// A Node program started by a test. Dropping it kills the process.
pub struct Program {
    name: String,
    child: Child,
    /// The address it said it listens on.
    addr: SocketAddr,
    lines: mpsc::UnboundedReceiver<String>,
    seen: Vec<String>,
    stderr: Arc<Mutex<String>>,
}

impl Program {
    /// Starts `node js/SCRIPT --port 0 ARGS…` and waits for its `listening on HOST:PORT` line.
    pub async fn start(script: &str, args: &[&str]) -> Program {
        npm_ci();
        let mut command = Command::new(node());
        command
            .arg(js_dir().join(script))
            .args(["--port", "0"])
            .args(args)
            .current_dir(js_dir())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        let mut child = command
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start node ({e}): install Node.js 20 or later, or set NODE"));
        let (lines, stderr) = pipe_output(&mut child);
        let mut program = Program {
            name: script.to_owned(),
            child,
            addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            lines,
            seen: Vec::new(),
            stderr,
        };
        let first = program.next_line().await;
        let addr = first
            .strip_prefix("listening on ")
            .and_then(|a| a.parse().ok())
            .unwrap_or_else(|| panic!("{script} should first say `listening on HOST:PORT`, said {first:?}"));
        program.addr = addr;
        program.seen.clear();
        program
    }

    /// The address the program listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Every line the program has printed since `listening on`, that a wait has read.
    pub fn seen(&self) -> &[String] {
        &self.seen
    }

    /// Takes every line printed so far without waiting, and returns all lines seen.
    pub fn drain(&mut self) -> &[String] {
        while let Ok(line) = self.lines.try_recv() {
            self.seen.push(line);
        }
        &self.seen
    }

    /// Waits for the next line of output.
    pub async fn next_line(&mut self) -> String {
        match tokio::time::timeout(PATIENCE, self.lines.recv()).await {
            Ok(Some(line)) => {
                self.seen.push(line.clone());
                line
            }
            Ok(None) => {
                panic!("{} ended; what it said so far: {:#?}\n{}", self.name, self.seen, self.errors())
            }
            Err(_) => {
                panic!("{} said nothing for {PATIENCE:?}: {:#?}\n{}", self.name, self.seen, self.errors())
            }
        }
    }

    /// Waits until a line of output satisfies `wanted`, and returns it.
    pub async fn line(&mut self, wanted: impl Fn(&str) -> bool) -> String {
        if let Some(line) = self.seen.iter().find(|l| wanted(l)) {
            return line.clone();
        }
        loop {
            let line = self.next_line().await;
            if wanted(&line) {
                return line;
            }
        }
    }

    /// What the program wrote to stderr so far.
    pub fn errors(&self) -> String {
        let text = self.stderr.lock().unwrap_or_else(PoisonError::into_inner);
        if text.is_empty() { String::new() } else { format!("its stderr:\n{text}") }
    }

    /// Stops the program (SIGKILL) and waits for it to go.
    pub async fn stop(mut self) {
        let _ = self.child.kill().await;
    }
}

/// Runs `node js/SCRIPT ARGS…` to its end and returns its output lines; panics if it fails or
/// takes longer than [`PATIENCE`].
pub async fn run(script: &str, args: &[&str]) -> Vec<String> {
    npm_ci();
    let mut command = Command::new(node());
    command
        .arg(js_dir().join(script))
        .args(args)
        .current_dir(js_dir())
        .stdin(Stdio::null())
        .kill_on_drop(true);
    let output = tokio::time::timeout(PATIENCE, command.output())
        .await
        .unwrap_or_else(|_| panic!("{script} did not finish within {PATIENCE:?}"))
        .unwrap_or_else(|e| panic!("cannot start node ({e}): install Node.js 20 or later, or set NODE"));
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        output.status.success(),
        "{script} failed ({}):\n{stdout}\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    stdout.lines().map(str::to_owned).collect()
}

/// Reads the child's stdout line by line into a channel, and its stderr into a string.
fn pipe_output(child: &mut Child) -> (mpsc::UnboundedReceiver<String>, Arc<Mutex<String>>) {
    let (sender, receiver) = mpsc::unbounded_channel();
    if let Some(stdout) = child.stdout.take() {
        tokio::spawn(async move {
            let mut lines = BufReader::new(stdout).lines();
            while let Ok(Some(line)) = lines.next_line().await {
                if sender.send(line).is_err() {
                    break;
                }
            }
        });
    }
    let stderr = Arc::new(Mutex::new(String::new()));
    if let Some(mut pipe) = child.stderr.take() {
        let stderr = stderr.clone();
        tokio::spawn(async move {
            let mut chunk = [0u8; 4096];
            while let Ok(n) = pipe.read(&mut chunk).await {
                if n == 0 {
                    break;
                }
                stderr
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .push_str(&String::from_utf8_lossy(&chunk[..n]));
            }
        });
    }
    (receiver, stderr)
}
