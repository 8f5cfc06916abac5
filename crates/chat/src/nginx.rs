//! nginx in front of the chat servers, started for a demo or a test: its own folder, a port the
//! kernel chose, stopped when dropped.
//!
//! The configuration is `conf/nginx.conf` with the port and the servers filled in: an `upstream`
//! of the chat servers, round-robin, and the two headers that let a WebSocket upgrade through.
//!
//! Three traps, each handled here (measured with nginx 1.22):
//! - **The port.** nginx cannot listen on port 0 and say which port it got. So this module binds
//!   `127.0.0.1:0` itself and hands the listening socket to nginx the way nginx's own binary
//!   upgrade does: the socket stays open across `exec` (its close-on-exec flag cleared) and the
//!   environment says `NGINX="<fd>;"`. nginx then uses it without a `bind()` of its own, so no
//!   other program can take the port in between.
//! - **The folder.** Started as root, nginx's worker runs as `nobody`, which must be able to
//!   enter the folder (else big responses come out truncated): the folder is made `0755`.
//! - **The workers.** nginx is a master and a worker. Killing only the master leaves the worker
//!   serving the port; so nginx runs in a process group of its own, and the whole group is
//!   signalled.

use std::net::{SocketAddr, TcpListener};
use std::os::fd::AsRawFd;
use std::os::unix::process::CommandExt;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use rustix::process::{Pid, Signal};

use crate::processes::{PATIENCE, ProcessError, SPAWN, tail, wait_exit};

/// The configuration, with `{port}` and `{upstreams}` to fill in.
pub const CONFIG: &str = include_str!("../conf/nginx.conf");

/// The configuration for nginx on `port` in front of `upstreams`.
pub fn config(port: u16, upstreams: &[SocketAddr]) -> String {
    let servers: Vec<String> =
        upstreams.iter().map(|addr| format!("        server {addr} max_fails=0;")).collect();
    CONFIG.replace("{port}", &port.to_string()).replace("{upstreams}", &servers.join("\n"))
}

/// A running nginx. Dropping it kills its process group.
#[derive(Debug)]
pub struct Nginx {
    child: Option<Child>,
    addr: SocketAddr,
    dir: tempfile::TempDir,
}

impl Nginx {
    /// Starts nginx on a free loopback port in front of `upstreams`, and waits until it accepts
    /// connections.
    pub async fn start(upstreams: &[SocketAddr]) -> Result<Nginx, ProcessError> {
        let dir = tempfile::Builder::new().prefix("duplex-nginx-").tempdir()?;
        // The worker (user `nobody` when started as root) must be able to enter the folder.
        std::fs::set_permissions(dir.path(), std::os::unix::fs::PermissionsExt::from_mode(0o755))?;
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let addr = listener.local_addr()?;
        std::fs::write(dir.path().join("nginx.conf"), config(addr.port(), upstreams))?;
        let mut command = Command::new("nginx");
        command
            .arg("-p")
            .arg(format!("{}/", dir.path().display()))
            .args(["-c", "nginx.conf", "-e", "error.log", "-g", "daemon off;"])
            .env("NGINX", format!("{};", listener.as_raw_fd()))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            // Its own process group, so that the worker can be signalled with the master.
            .process_group(0);
        let child = {
            let _guard = SPAWN.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            // std opens every socket close-on-exec; nginx must inherit this one. The flag stays
            // clear only while SPAWN is held: no other child can inherit the socket.
            rustix::io::fcntl_setfd(&listener, rustix::io::FdFlags::empty()).map_err(std::io::Error::from)?;
            let spawned = command.spawn();
            drop(listener);
            spawned.map_err(|e| match e.kind() {
                std::io::ErrorKind::NotFound => ProcessError::Missing { program: "nginx", package: "nginx" },
                _ => ProcessError::Io(e),
            })?
        };
        let mut nginx = Nginx { child: Some(child), addr, dir };
        nginx.wait_ready().await?;
        Ok(nginx)
    }

    /// Ready: nginx writes its pid file after it has set up its listening sockets.
    async fn wait_ready(&mut self) -> Result<(), ProcessError> {
        let pid_file = self.dir.path().join("nginx.pid");
        let deadline = tokio::time::Instant::now() + PATIENCE;
        loop {
            if std::fs::read_to_string(&pid_file).is_ok_and(|pid| !pid.trim().is_empty()) {
                return Ok(());
            }
            let exited = self.child.as_mut().and_then(|c| c.try_wait().ok().flatten());
            if let Some(status) = exited {
                let why = format!("it exited ({status}); its log ends:\n{}", self.log_tail(5));
                return Err(ProcessError::NotReady { program: "nginx", why });
            }
            if tokio::time::Instant::now() > deadline {
                let why = format!("no pid file within {PATIENCE:?}; its log ends:\n{}", self.log_tail(5));
                return Err(ProcessError::NotReady { program: "nginx", why });
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }

    /// Where clients connect.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The end of its error log.
    pub fn log_tail(&self, lines: usize) -> String {
        tail(&self.dir.path().join("error.log"), lines)
    }

    /// Stops it quickly (`SIGTERM`: open connections are cut) and waits until it is gone.
    pub async fn stop(mut self) {
        if let Some(child) = self.child.as_mut() {
            signal_group(child, Signal::TERM);
            if !wait_exit(child, PATIENCE).await {
                signal_group(child, Signal::KILL);
            }
        }
        self.kill_now();
    }

    fn kill_now(&mut self) {
        if let Some(mut child) = self.child.take() {
            signal_group(&child, Signal::KILL);
            let _ = child.wait();
        }
    }
}

/// Signals the process group led by `child` (nginx's master and its worker).
fn signal_group(child: &Child, signal: Signal) {
    if let Some(pid) = Pid::from_raw(i32::try_from(child.id()).unwrap_or(0)) {
        let _ = rustix::process::kill_process_group(pid, signal);
    }
}

impl Drop for Nginx {
    fn drop(&mut self) {
        self.kill_now();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_configuration_names_the_port_and_every_server_with_max_fails_0() {
        let a: SocketAddr = "127.0.0.1:7001".parse().unwrap();
        let b: SocketAddr = "127.0.0.1:7002".parse().unwrap();
        let text = config(8080, &[a, b]);
        assert!(text.contains("listen 127.0.0.1:8080;"), "{text}");
        assert!(
            text.contains("server 127.0.0.1:7001 max_fails=0;\n        server 127.0.0.1:7002 max_fails=0;")
        );
        assert!(!text.contains("{port}") && !text.contains("{upstreams}"));
    }
}
