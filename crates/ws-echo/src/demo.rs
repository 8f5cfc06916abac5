//! The chapter's exchange, recorded: echo server, Tap and client in one process.
//!
//! `just ws-echo` prints this live; `tests/ws_echo.rs` snapshots the same transcript; the book
//! includes that snapshot. All three run [`run`].

use serve::client::{Recording, through_tap};
use tap::demo::{Demo, DemoFuture, Flags, LEGEND, live};
use tap::{Observer, outln};
use tokio::net::TcpListener;

use crate::{Error, Limits};

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

/// The chapter's demos, for `ws-echo-demo` and `duplex demo`.
pub const DEMOS: &[Demo] = &[Demo {
    name: "ws-echo",
    chapter: "The WebSocket echo",
    about: "handshake, a text, a binary message, a ping and the close handshake, every byte shown",
    flags: &[],
    run: echo_demo,
}];

fn echo_demo(_flags: Flags) -> DemoFuture {
    Box::pin(async {
        outln!("{LEGEND}");
        let recording = run(Some(live())).await?;
        outln!();
        outln!("What the client saw, step by step:");
        for step in recording.steps {
            outln!("  sent {:<32} got back {}", step.sent, step.received);
        }
        Ok(())
    })
}
