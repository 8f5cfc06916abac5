//! The chapter's exchange, recorded: echo server, Tap and client in one process.
//!
//! `just ws-echo` prints this live; `tests/ws_echo.rs` snapshots the same transcript; the book
//! includes that snapshot. All three run this function.

use std::net::SocketAddr;

use tokio::net::{TcpListener, TcpStream};
use wire::tap::Observer;
use wire::{Tap, Transcript};

use crate::client::{RFC_KEY, Step, connect_over, scripted_session};
use crate::{Error, Limits, PATH};

/// What the demo produced: the Tap's transcript and the client's own view.
#[derive(Clone, Debug)]
pub struct Recording {
    /// Every byte both ways, decoded.
    pub transcript: Transcript,
    /// What the client sent and got back, step by step.
    pub steps: Vec<Step>,
}

/// Starts the echo server on a free port, puts a Tap in front, runs the scripted session through
/// it with the RFC's example key, and returns what was recorded. `observer` sees each event as it
/// happens.
pub async fn run(observer: Option<Observer>) -> Result<Recording, Error> {
    let server = TcpListener::bind("127.0.0.1:0").await?;
    let server_addr = server.local_addr()?;
    let server_task = tokio::spawn(crate::server::serve(server, Limits::default()));
    let result = through_tap(server_addr, observer).await;
    server_task.abort();
    result
}

/// Runs the scripted session through a new Tap in front of an echo server at `server`.
pub async fn through_tap(server: SocketAddr, observer: Option<Observer>) -> Result<Recording, Error> {
    let mut tap = Tap::bind("127.0.0.1:0", server).await?;
    if let Some(observer) = observer {
        tap = tap.observe(move |id, event| observer(id, event));
    }
    let stream = TcpStream::connect(tap.local_addr()).await?;
    stream.set_nodelay(true)?;
    let connection = tap.accept().await?;
    let host = tap.local_addr().to_string();
    let ws = connect_over(stream, &host, PATH, Some(RFC_KEY)).await?;
    let steps = scripted_session(ws).await?;
    let transcript = connection.transcript().await;
    Ok(Recording { transcript, steps })
}
