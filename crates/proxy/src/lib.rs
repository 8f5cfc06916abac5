//! # proxy: the chapter "Behind a reverse proxy"
//!
//! Real deployments put a reverse proxy in front of their servers, and the questions readers ask
//! once WebSocket leaves their laptop are about it: why does the upgrade fail behind the proxy,
//! why does the connection die after 60 seconds, why does the server see the proxy's address
//! instead of the client's, why do Server-Sent Events arrive all at once. This crate answers
//! them with a real nginx (the Debian package, started on a free port with its files in a
//! temporary folder) and a Tap on each side of it, so every transcript shows both connections:
//!
//! ```text
//!  client ──▶ Tap 1 ──▶ nginx ──▶ Tap 2 ──▶ server
//! ```
//!
//! nginx is not a library: the demos and the tests need the program (`sudo apt-get install
//! nginx`), and say so when it is missing ([`serve::nginx::NginxError::Missing`]). The shared
//! layer starts and stops it ([`serve::nginx`]); the chat chapter's nginx is started the same way.
//!
//! # Layout
//! - [`config`]: the configurations, written by code ([`config::Site`]): the one to copy, and
//!   each variation a demo shows.
//! - [`stage`]: the path above, running, and what both Taps record ([`stage::Recording`]).
//! - [`upstream`]: the servers behind nginx: the shared echo, a pinging echo, a silent server,
//!   one that says who the client is, and a scripted event stream.
//! - [`forwarded`]: who the client is behind a proxy: `X-Forwarded-For`, trusted only from the
//!   proxy (sans-I/O).
//! - [`upgrade`]: the upgrade through nginx, forwarded and not.
//! - [`timeout`]: `proxy_read_timeout` cutting an idle WebSocket; a heartbeat, and a client's
//!   pings alone, keeping it open.
//! - [`headers`]: the client's address (`X-Forwarded-For`) and the `Origin` check behind nginx.
//! - [`sse`]: Server-Sent Events through nginx, buffered and not.
//! - [`demo`]: `just proxy` and its parts, live.

pub mod config;
pub mod demo;
pub mod forwarded;
pub mod headers;
pub mod sse;
pub mod stage;
pub mod timeout;
pub mod upgrade;
pub mod upstream;

pub use config::Site;
pub use stage::{Recording, Side, Stage};

/// What can go wrong in this crate.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// nginx is missing or did not start (the message says which package to install).
    #[error(transparent)]
    Nginx(#[from] serve::nginx::NginxError),
    /// A socket failed.
    #[error("I/O error: {0}")]
    Io(#[from] std::io::Error),
    /// The WebSocket library reported an error.
    #[error("WebSocket error: {0}")]
    WebSocket(#[from] tungstenite::Error),
    /// The shared client failed.
    #[error(transparent)]
    Client(#[from] serve::Error),
    /// Something the exchange waits for did not happen within [`stage::PATIENCE`].
    #[error("gave up waiting for {0}")]
    Stuck(String),
}

/// A close frame's code as the client's program reports it, or 1006 for a connection that
/// ended without one: one line of "What each side saw".
pub(crate) fn ending_of(result: Option<Result<tungstenite::Message, tungstenite::Error>>) -> String {
    match result {
        Some(Ok(tungstenite::Message::Close(Some(frame)))) => {
            format!("got close {}", wire::CloseCode(u16::from(frame.code)))
        }
        Some(Ok(message)) => format!("got {}", serve::client::describe(&message)),
        None | Some(Err(tungstenite::Error::ConnectionClosed)) => "the connection ended".to_owned(),
        Some(Err(tungstenite::Error::Protocol(
            tungstenite::error::ProtocolError::ResetWithoutClosingHandshake,
        ))) => "the connection ended with no close frame: 1006 (abnormal closure)".to_owned(),
        Some(Err(e)) => format!("the connection failed: {e}"),
    }
}
