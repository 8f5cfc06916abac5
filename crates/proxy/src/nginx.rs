//! A real nginx, started for one demo or one test and gone after it.
//!
//! Each [`Nginx`] is the Debian package's program run from a folder of its own (a temporary
//! folder, `-p DIR`), with a configuration this crate writes ([`crate::config`]): its pid file,
//! logs and temporary files are in that folder, nothing in `/etc`, `/var` or `/run`, and no root
//! is needed. The traps of running nginx this way, each found by trying (and each handled here):
//!
//! - **The port.** nginx cannot listen on port 0 and say which port it got. Binding a free port,
//!   closing it and letting nginx bind it again is a race with every other program on the
//!   machine. So we bind the listening socket ourselves and nginx *inherits* it: the socket is
//!   left open across `exec` (close-on-exec cleared), and the environment variable `NGINX="fd;"`
//!   (the one nginx's own binary upgrade uses) tells it which descriptor to use. nginx then never
//!   calls `bind()`; its log says `using inherited sockets from "3;"`.
//! - **Other children.** While close-on-exec is cleared, any program this process starts would
//!   inherit the socket too and keep the port open. Spawns go one at a time ([`SPAWN`]), and our
//!   copy of the socket is closed before the next.
//! - **Root.** Started as root, nginx's worker process switches to the user `nobody`, which
//!   cannot enter a temporary folder made with mode 0700: responses that nginx buffers to disk
//!   then come out cut short. The folder is made 0755.
//! - **Ready.** nginx writes its pid file after its listening sockets are set up, so "the pid
//!   file exists and is not empty" means connections will be accepted.
//! - **Stopping.** nginx runs as a master and a worker. Killing the master alone leaves the worker
//!   running, reparented, still serving the port. So nginx runs in a process group of its own,
//!   is asked to stop with `SIGQUIT` (a graceful stop, which waits for open connections, bounded
//!   by `worker_shutdown_timeout` in the configuration), and as a last resort, or when an
//!   [`Nginx`] is dropped without [`Nginx::stop`], the whole group is killed.

use std::fs::File;
use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use crate::Error;

/// The Debian (and Ubuntu) package that provides nginx.
pub const PACKAGE: &str = "nginx";

/// The command that installs it, for the message a reader sees when it is missing.
pub const INSTALL: &str = "sudo apt-get install nginx";

/// Folders where nginx lives besides `PATH`: Debian installs it in `/usr/sbin`, which is not on
/// an ordinary user's `PATH`.
pub const SBIN: &[&str] = &["/usr/sbin", "/usr/local/sbin", "/sbin", "/usr/local/nginx/sbin"];

/// How long nginx may take to write its pid file before we give up. It takes tens of
/// milliseconds; this only turns a hang into an error.
pub const START_PATIENCE: Duration = Duration::from_secs(10);

/// How long a graceful stop may take before the process group is killed: a little more than
/// the `worker_shutdown_timeout` the configuration sets ([`crate::config::SHUTDOWN_TIMEOUT`]).
pub const STOP_PATIENCE: Duration = Duration::from_secs(5);

/// How often the pid file and the process are looked at while waiting.
const POLL: Duration = Duration::from_millis(5);

/// One nginx process at a time is spawned: see the module docs ("Other children").
pub static SPAWN: Mutex<()> = Mutex::new(());

/// Finds the nginx program: on `PATH`, then in the `sbin` folders ([`SBIN`]).
pub fn locate() -> Result<PathBuf, Error> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain(SBIN.iter().map(PathBuf::from))
        .map(|dir| dir.join("nginx"))
        .find(|candidate| candidate.is_file())
        .ok_or(Error::NginxMissing)
}

/// A running nginx. See the module docs.
#[derive(Debug)]
pub struct Nginx {
    child: Option<Child>,
    dir: tempfile::TempDir,
    addr: SocketAddr,
}

impl Nginx {
    /// Starts nginx on a free loopback port, with the configuration `conf` writes for that
    /// address (`listen` must name it). Returns once nginx accepts connections.
    pub fn start(conf: impl FnOnce(SocketAddr) -> String) -> Result<Nginx, Error> {
        let program = locate()?;
        let dir = tempfile::Builder::new().prefix("duplex-nginx-").tempdir()?;
        open_to_workers(dir.path())?;
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let addr = listener.local_addr()?;
        std::fs::write(dir.path().join(CONF), conf(addr))?;
        let stderr = File::create(dir.path().join(STDERR))?;
        let child = spawn(&program, dir.path(), listener, stderr)?;
        let mut nginx = Nginx { child: Some(child), dir, addr };
        nginx.wait_until_ready()?;
        Ok(nginx)
    }

    /// Where nginx listens.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The folder nginx runs in (its configuration, pid file and logs).
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// The configuration nginx was started with.
    pub fn conf(&self) -> String {
        std::fs::read_to_string(self.dir.path().join(CONF)).unwrap_or_default()
    }

    /// nginx's error log so far (`error_log error.log info` in the configuration).
    pub fn error_log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join(crate::config::ERROR_LOG)).unwrap_or_default()
    }

    /// Stops nginx gracefully (`SIGQUIT`), waiting at most [`STOP_PATIENCE`], then kills what is
    /// left of its process group.
    pub fn stop(mut self) {
        if let Some(child) = self.child.as_ref() {
            signal(child, Stop::Graceful);
            let deadline = Instant::now() + STOP_PATIENCE;
            while Instant::now() < deadline && self.exited().is_none() {
                std::thread::sleep(POLL);
            }
        }
        self.kill();
    }

    /// Whether nginx's master has exited; if so it is reaped, and never signalled again (its
    /// process id may then be given to another program).
    fn exited(&mut self) -> Option<String> {
        let child = self.child.as_mut()?;
        let status = match child.try_wait() {
            Ok(None) => return None,
            Ok(Some(status)) => status.to_string(),
            Err(e) => format!("could not be watched: {e}"),
        };
        self.child = None;
        Some(status)
    }

    fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            // Not reaped yet, so the group is still nginx's: the master, and any worker it left.
            signal(&child, Stop::Kill);
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    fn wait_until_ready(&mut self) -> Result<(), Error> {
        let pid_file = self.dir.path().join(crate::config::PID_FILE);
        let deadline = Instant::now() + START_PATIENCE;
        loop {
            if std::fs::read_to_string(&pid_file).is_ok_and(|pid| !pid.trim().is_empty()) {
                return Ok(());
            }
            let exited = match self.exited() {
                Some(status) => Some(format!("nginx exited: {status}")),
                None if Instant::now() > deadline => {
                    Some(format!("nginx wrote no pid file within {} s", START_PATIENCE.as_secs()))
                }
                None => None,
            };
            if let Some(why) = exited {
                let log = format!(
                    "{}{}",
                    std::fs::read_to_string(self.dir.path().join(STDERR)).unwrap_or_default(),
                    self.error_log()
                );
                return Err(Error::NginxFailed { why, log });
            }
            std::thread::sleep(POLL);
        }
    }
}

impl Drop for Nginx {
    fn drop(&mut self) {
        self.kill();
    }
}

/// The configuration's file name in nginx's folder.
const CONF: &str = "nginx.conf";

/// Where nginx's standard error goes: what it says before it has read its configuration.
const STDERR: &str = "stderr.log";

/// Makes `dir` enterable by nginx's worker, which runs as `nobody` when nginx starts as root.
fn open_to_workers(dir: &Path) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o755))?;
    }
    let _ = dir;
    Ok(())
}

/// Spawns nginx in `dir`, in its own process group, handing it `listener`.
#[cfg(unix)]
fn spawn(program: &Path, dir: &Path, listener: TcpListener, stderr: File) -> Result<Child, Error> {
    use std::os::fd::AsRawFd;
    use std::os::unix::process::CommandExt;

    let _one_at_a_time = SPAWN.lock().unwrap_or_else(PoisonError::into_inner);
    // std opens every socket close-on-exec; this one must survive the exec.
    rustix::io::fcntl_setfd(&listener, rustix::io::FdFlags::empty()).map_err(std::io::Error::from)?;
    let child = Command::new(program)
        .arg("-p")
        .arg(dir)
        .args(["-c", CONF, "-e", "stderr"])
        .env("NGINX", format!("{};", listener.as_raw_fd()))
        .process_group(0)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(stderr)
        .spawn();
    // nginx holds its own copy now; ours is closed before anybody else spawns.
    drop(listener);
    Ok(child?)
}

#[cfg(not(unix))]
fn spawn(_program: &Path, _dir: &Path, _listener: TcpListener, _stderr: File) -> Result<Child, Error> {
    Err(Error::Unsupported)
}

#[derive(Clone, Copy)]
enum Stop {
    /// `SIGQUIT` to the master: finish open connections, then exit.
    Graceful,
    /// `SIGKILL` to the whole process group.
    Kill,
}

#[cfg(unix)]
fn signal(child: &Child, stop: Stop) {
    use rustix::process::{Pid, Signal, kill_process, kill_process_group};
    let pid = Pid::from_child(child);
    // The process (group) may be gone already; there is nothing more to do then.
    let _ = match stop {
        Stop::Graceful => kill_process(pid, Signal::QUIT),
        // The group's id is the master's pid: it was spawned with `process_group(0)`.
        Stop::Kill => kill_process_group(pid, Signal::KILL),
    };
}

#[cfg(not(unix))]
fn signal(_child: &Child, _stop: Stop) {}
