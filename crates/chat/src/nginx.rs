//! nginx in front of the chat servers, started for a demo or a test: its own folder, a port the
//! kernel chose, stopped when dropped.
//!
//! The configuration is `conf/nginx.conf` with the port and the servers filled in: an `upstream`
//! of the chat servers, round-robin, and the two headers that let a WebSocket upgrade through.
//! Starting and stopping it is the shared layer's ([`serve::nginx`]), which explains the traps
//! (the port nginx inherits, the folder, the process group); the proxy chapter starts its nginx
//! the same way.

use std::net::SocketAddr;

use crate::processes::ProcessError;

/// The configuration, with `{port}` and `{upstreams}` to fill in.
pub const CONFIG: &str = include_str!("../conf/nginx.conf");

/// The configuration for nginx on `port` in front of `upstreams`.
pub fn config(port: u16, upstreams: &[SocketAddr]) -> String {
    let servers: Vec<String> =
        upstreams.iter().map(|addr| format!("        server {addr} max_fails=0;")).collect();
    CONFIG.replace("{port}", &port.to_string()).replace("{upstreams}", &servers.join("\n"))
}

/// A running nginx in front of the chat servers. Dropping it kills its process group.
#[derive(Debug)]
pub struct Nginx(serve::nginx::Nginx);

impl Nginx {
    /// Starts nginx on a free loopback port in front of `upstreams`, and waits until it accepts
    /// connections.
    pub async fn start(upstreams: &[SocketAddr]) -> Result<Nginx, ProcessError> {
        let upstreams = upstreams.to_vec();
        let nginx = tokio::task::spawn_blocking(move || {
            serve::nginx::Nginx::start(|addr| config(addr.port(), &upstreams))
        })
        .await
        .map_err(|e| ProcessError::NotReady {
            program: "nginx",
            why: format!("its starter failed: {e}"),
        })??;
        Ok(Nginx(nginx))
    }

    /// Where clients connect.
    pub fn addr(&self) -> SocketAddr {
        self.0.addr()
    }

    /// The end of its error log.
    pub fn log_tail(&self, lines: usize) -> String {
        self.0.log_tail(lines)
    }

    /// Stops it quickly (`SIGTERM`: open connections are cut) and waits until it is gone.
    pub async fn stop(self) {
        let _ = tokio::task::spawn_blocking(move || self.0.stop_now()).await;
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
