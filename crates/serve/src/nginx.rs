//! A real nginx, started for one demo or one test and gone after it: the chapters "Behind a
//! reverse proxy" (`proxy`) and "More than one server" (`chat`) both put one in front of their
//! servers, and both start it this way.
//!
//! Each [`Nginx`] is the Debian package's program run from a folder of its own (a temporary
//! folder, `-p DIR`), with a configuration the caller writes for the address nginx will listen
//! on. The configuration must say `daemon off;`, `pid nginx.pid;` ([`PID_FILE`]) and
//! `error_log error.log LEVEL;` ([`ERROR_LOG`]): relative paths, so that nginx's pid file, logs
//! and temporary files are in that folder, nothing in `/etc`, `/var` or `/run`, and no root is
//! needed. The traps of running nginx this way, each found by trying (and each handled here):
//!
//! - **The port.** nginx cannot listen on port 0 and say which port it got. Binding a free port,
//!   closing it and letting nginx bind it again is a race with every other program on the
//!   machine. So we bind the listening socket ourselves and nginx *inherits* it: the socket is
//!   left open across `exec` (close-on-exec cleared), and the environment variable `NGINX="fd;"`
//!   (the one nginx's own binary upgrade uses) tells it which descriptor to use. nginx then never
//!   calls `bind()`; its log says `using inherited sockets from "3;"`.
//! - **Other children.** While close-on-exec is cleared, any program this process starts would
//!   inherit the socket too and keep the port open. Spawns go one at a time ([`SPAWN`]: a
//!   program that starts other children, such as the chat chapter's Redis, takes it too), and
//!   our copy of the socket is closed before the next.
//! - **Where it is.** Debian installs nginx in `/usr/sbin`, which is not on an ordinary user's
//!   `PATH`: [`locate`] looks there too.
//! - **Root.** Started as root, nginx's worker process switches to the user `nobody`, which
//!   cannot enter a temporary folder made with mode 0700: responses that nginx buffers to disk
//!   then come out cut short. The folder is made 0755.
//! - **Ready.** nginx writes its pid file after its listening sockets are set up, so "the pid
//!   file exists and is not empty" means connections will be accepted.
//! - **Stopping.** nginx runs as a master and a worker. Killing the master alone leaves the worker
//!   running, reparented, still serving the port. So nginx runs in a process group of its own and
//!   is asked to stop either gracefully ([`Nginx::stop`], `SIGQUIT`: it waits for open
//!   connections, bounded by `worker_shutdown_timeout` if the configuration sets it) or at once
//!   ([`Nginx::stop_now`], `SIGTERM`: open connections are cut); as a last resort, or when an
//!   [`Nginx`] is dropped, the whole group is killed.

use std::fs::File;
use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

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

/// How long a stop may take before the process group is killed: longer than any configuration's
/// `worker_shutdown_timeout` here (the proxy chapter's is 1 s).
pub const STOP_PATIENCE: Duration = Duration::from_secs(5);

/// nginx's pid file, in its folder: the configuration must say `pid nginx.pid;`. nginx writes it
/// once it listens.
pub const PID_FILE: &str = "nginx.pid";

/// nginx's error log, in its folder: the configuration must say `error_log error.log LEVEL;`.
pub const ERROR_LOG: &str = "error.log";

/// What can go wrong starting nginx.
#[derive(Debug, thiserror::Error)]
pub enum NginxError {
    /// nginx is not installed.
    #[error(
        "nginx is not installed (looked on PATH and in /usr/sbin). This chapter runs the real \
         nginx: install the Debian or Ubuntu package with `{INSTALL}`, then run this again"
    )]
    Missing,
    /// nginx did not start.
    #[error("nginx did not start: {why}\n{log}")]
    Failed {
        /// What went wrong.
        why: String,
        /// What nginx said on its way out.
        log: String,
    },
    /// Running nginx needs a Unix system (a socket inherited across `exec`, process groups).
    #[error("running nginx from a demo needs Linux or another Unix system")]
    Unsupported,
    /// A file or socket failed.
    #[error("I/O error: {0}")]
    Io(#[from] std::io::Error),
}

/// How often the pid file and the process are looked at while waiting.
const POLL: Duration = Duration::from_millis(5);

/// One nginx process at a time is spawned: see the module docs ("Other children").
pub static SPAWN: Mutex<()> = Mutex::new(());

/// Finds the nginx program: on `PATH`, then in the `sbin` folders ([`SBIN`]).
pub fn locate() -> Result<PathBuf, NginxError> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain(SBIN.iter().map(PathBuf::from))
        .map(|dir| dir.join("nginx"))
        .find(|candidate| candidate.is_file())
        .ok_or(NginxError::Missing)
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
    /// address (`listen` must name it; see the module docs for what else it must say). Returns
    /// once nginx accepts connections. It blocks for as long as nginx takes to start (tens of
    /// milliseconds): from async code, call it through `spawn_blocking`.
    pub fn start(conf: impl FnOnce(SocketAddr) -> String) -> Result<Nginx, NginxError> {
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

    /// nginx's error log so far ([`ERROR_LOG`]).
    pub fn error_log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join(ERROR_LOG)).unwrap_or_default()
    }

    /// The last `lines` lines of its error log, for a message.
    pub fn log_tail(&self, lines: usize) -> String {
        let log = self.error_log();
        let all: Vec<&str> = log.lines().collect();
        all[all.len().saturating_sub(lines)..].join("\n")
    }

    /// Stops nginx gracefully (`SIGQUIT`: open connections are finished first), waiting at most
    /// [`STOP_PATIENCE`], then kills what is left of its process group.
    pub fn stop(self) {
        self.stop_with(Stop::Graceful);
    }

    /// Stops nginx at once (`SIGTERM`: open connections are cut, as a crash or a hurried
    /// deploy would), waiting at most [`STOP_PATIENCE`], then kills what is left of its group.
    pub fn stop_now(self) {
        self.stop_with(Stop::Fast);
    }

    fn stop_with(mut self, stop: Stop) {
        if let Some(child) = self.child.as_ref() {
            signal(child, stop);
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

    fn wait_until_ready(&mut self) -> Result<(), NginxError> {
        let pid_file = self.dir.path().join(PID_FILE);
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
                return Err(NginxError::Failed { why, log });
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
fn spawn(program: &Path, dir: &Path, listener: TcpListener, stderr: File) -> Result<Child, NginxError> {
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
fn spawn(_program: &Path, _dir: &Path, _listener: TcpListener, _stderr: File) -> Result<Child, NginxError> {
    Err(NginxError::Unsupported)
}

#[derive(Clone, Copy)]
enum Stop {
    /// `SIGQUIT` to the master: finish open connections, then exit.
    Graceful,
    /// `SIGTERM` to the master: exit now, cutting open connections.
    Fast,
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
        Stop::Fast => kill_process(pid, Signal::TERM),
        // The group's id is the master's pid: it was spawned with `process_group(0)`.
        Stop::Kill => kill_process_group(pid, Signal::KILL),
    };
}

#[cfg(not(unix))]
fn signal(_child: &Child, _stop: Stop) {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_nginx_says_which_package_to_install() {
        let message = NginxError::Missing.to_string();
        assert!(message.contains(INSTALL) && message.contains("/usr/sbin"), "{message}");
    }

    #[test]
    #[ignore = "needs nginx (Debian package nginx); .ci/run installs it"]
    fn nginx_starts_on_an_inherited_socket_and_both_stops_end_its_process_group() {
        let conf = |addr: SocketAddr| {
            format!(
                "daemon off;\npid {PID_FILE};\nerror_log {ERROR_LOG} info;\nevents {{}}\n\
                 http {{ access_log off; client_body_temp_path body; proxy_temp_path proxy; \
                 fastcgi_temp_path fastcgi; uwsgi_temp_path uwsgi; scgi_temp_path scgi; \
                 server {{ listen {addr}; location / {{ return 204; }} }} }}\n"
            )
        };
        for graceful in [true, false] {
            let nginx = Nginx::start(conf).expect("nginx starts");
            let mut stream = std::net::TcpStream::connect(nginx.addr()).expect("it listens");
            use std::io::{Read, Write};
            stream.write_all(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").unwrap();
            let mut answer = String::new();
            stream.read_to_string(&mut answer).unwrap();
            assert!(answer.starts_with("HTTP/1.1 204"), "{answer}");
            // nginx says so before it opens its own log: on its standard error.
            let said =
                std::fs::read_to_string(nginx.dir().join(STDERR)).unwrap_or_default() + &nginx.error_log();
            assert!(said.contains("using inherited sockets"), "{said}");
            let addr = nginx.addr();
            if graceful {
                nginx.stop()
            } else {
                nginx.stop_now()
            }
            assert!(std::net::TcpStream::connect(addr).is_err(), "nothing listens once it stopped");
        }
    }
}
