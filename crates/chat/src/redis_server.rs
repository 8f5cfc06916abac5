//! A redis-server of our own, for a demo or a test: a free loopback port, its files in a
//! temporary folder, stopped when dropped.
//!
//! ```text
//! redis-server --port P --bind 127.0.0.1 --save '' --appendonly no --dir TMP --logfile TMP/redis.log
//! ```
//!
//! Redis cannot listen on port 0 and say which port it got, nor take a socket that is already
//! listening (nginx can, see `nginx`). So a port is chosen by binding port 0 and closing it, and
//! if Redis then finds the port taken it exits at once ("Address already in use") and another
//! is tried. A restart reuses the same port, because the servers reconnect to the address they
//! know.
//!
//! With [`Persistence::AppendOnly`] every write is appended to a file and flushed to disk
//! (`fsync`) before Redis answers it (`--appendonly yes --appendfsync always`): a stream's entries
//! survive a restart, even a `kill -9`. Without it (the default, for pub/sub) a restart starts
//! empty.

use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::processes::{PATIENCE, ProcessError, spawn, tail, wait_exit};

/// Whether the broker keeps its data across a restart.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Persistence {
    /// Nothing on disk: a restart starts empty (pub/sub needs nothing more).
    None,
    /// An append-only file, flushed before each answer: Streams survive a restart.
    AppendOnly,
}

/// A running redis-server. Dropping it kills the process.
#[derive(Debug)]
pub struct RedisServer {
    child: Option<Child>,
    port: u16,
    persistence: Persistence,
    dir: tempfile::TempDir,
}

/// How many ports to try before giving up, if each is taken in the moment between choosing it
/// and Redis binding it.
const PORT_TRIES: usize = 10;

impl RedisServer {
    /// Starts a redis-server on a free loopback port and waits until it answers `PING`.
    pub async fn start(persistence: Persistence) -> Result<RedisServer, ProcessError> {
        let dir = tempfile::Builder::new().prefix("duplex-redis-").tempdir()?;
        let mut last = String::new();
        for _ in 0..PORT_TRIES {
            let port = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
            match launch(dir.path(), port, persistence).await {
                Ok(child) => return Ok(RedisServer { child: Some(child), port, persistence, dir }),
                Err(ProcessError::NotReady { why, .. }) if why.contains("already in use") => last = why,
                Err(e) => return Err(e),
            }
        }
        Err(ProcessError::NotReady { program: "redis-server", why: format!("no free port: {last}") })
    }

    /// Its address.
    pub fn addr(&self) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], self.port))
    }

    /// Its process id while it runs (to read its CPU time, or pin it to a core).
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// Its URL, for the `redis` crate.
    pub fn url(&self) -> String {
        format!("redis://{}/", self.addr())
    }

    /// Kills it at once (`SIGKILL`: no goodbye to its clients, who read the end of their
    /// connections) and waits until it is gone.
    pub async fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            wait_exit(&mut child, PATIENCE).await;
        }
    }

    fn kill_now(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts it again on the same port, with the same folder (and so, with
    /// [`Persistence::AppendOnly`], the same data). Kills the running one first, if any.
    pub async fn restart(&mut self) -> Result<(), ProcessError> {
        self.kill().await;
        // The port was ours a moment ago; if another program grabbed it meanwhile, wait a little
        // for it to let go rather than fail at once.
        let mut tries = 0;
        loop {
            match launch(self.dir.path(), self.port, self.persistence).await {
                Ok(child) => {
                    self.child = Some(child);
                    return Ok(());
                }
                Err(ProcessError::NotReady { why, .. }) if why.contains("already in use") && tries < 20 => {
                    tries += 1;
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
                Err(e) => return Err(e),
            }
        }
    }

    /// The end of its log, for an error message.
    pub fn log_tail(&self, lines: usize) -> String {
        tail(&self.dir.path().join("redis.log"), lines)
    }
}

/// Starts redis-server on `port` with its files in `dir`, and waits until it answers `PING`.
async fn launch(dir: &Path, port: u16, persistence: Persistence) -> Result<Child, ProcessError> {
    let log = dir.join("redis.log");
    let mut command = Command::new("redis-server");
    command
        .args(["--port", &port.to_string(), "--bind", "127.0.0.1", "--save", ""])
        .arg("--dir")
        .arg(dir)
        .arg("--logfile")
        .arg(&log)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    match persistence {
        Persistence::None => command.args(["--appendonly", "no"]),
        Persistence::AppendOnly => command.args(["--appendonly", "yes", "--appendfsync", "always"]),
    };
    let mut child = spawn(&mut command, "redis-server", "redis-server")?;
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let deadline = tokio::time::Instant::now() + PATIENCE;
    loop {
        if let Ok(Some(status)) = child.try_wait() {
            let why = format!("it exited ({status}); its log ends:\n{}", tail(&log, 5));
            return Err(ProcessError::NotReady { program: "redis-server", why });
        }
        if ping(addr).await {
            return Ok(child);
        }
        if tokio::time::Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            let why = format!("no PONG within {PATIENCE:?}; its log ends:\n{}", tail(&log, 5));
            return Err(ProcessError::NotReady { program: "redis-server", why });
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.kill_now();
    }
}

/// Whether a Redis at `addr` answers `PING` with `PONG` now (while it loads its file, it answers
/// `-LOADING` instead).
async fn ping(addr: SocketAddr) -> bool {
    let attempt = async {
        let mut stream = TcpStream::connect(addr).await.ok()?;
        stream.write_all(b"*1\r\n$4\r\nPING\r\n").await.ok()?;
        let mut answer = [0u8; 7];
        stream.read_exact(&mut answer).await.ok()?;
        Some(&answer == b"+PONG\r\n")
    };
    tokio::time::timeout(Duration::from_secs(1), attempt).await.ok().flatten().unwrap_or(false)
}
