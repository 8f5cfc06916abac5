//! The chapter exchanges that `duplex demo NAME` runs in the terminal, through the Tap.
//!
//! Each demo starts its server on a free port, puts the Tap in front, runs the chapter's client
//! and prints every event as the Tap decodes it: the same transcript the book shows, live, with
//! the hex and mask keys that the book's deterministic copy leaves out.

use std::sync::Arc;

use wire::Render;
use wire::tap::Observer;

/// A demo that `duplex demo` can run.
#[derive(Clone, Copy, Debug)]
pub struct Demo {
    /// The name to pass to `duplex demo`.
    pub name: &'static str,
    /// The chapter it belongs to.
    pub chapter: &'static str,
    /// What it shows, in one line.
    pub about: &'static str,
}

/// Every demo, in the order of the book.
pub const DEMOS: &[Demo] = &[Demo {
    name: "ws-echo",
    chapter: "The WebSocket echo",
    about: "handshake, a text, a binary message, a ping and the close handshake, every byte shown",
}];

/// Why a demo could not run.
#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    /// No demo has that name.
    #[error("there is no demo called {0:?}; `duplex demo --list` shows them")]
    Unknown(String),
    /// The echo demo failed.
    #[error(transparent)]
    Echo(#[from] ws_echo::Error),
}

/// The key to the transcript's notation, printed above a live transcript.
pub const LEGEND: &str = "\
How to read this: each line is one thing the Tap saw on the wire, in order.
  C→S  the client sent it to the server      S→C  the server sent it to the client
  ───  about the connection as a whole (opened, switched protocols, over)
  frame FIN text masked len=5   one WebSocket frame (RFC 6455 §5.2): FIN = last frame of its
        message; the opcode (text, binary, ping, pong, close); masked = XORed with a 4-byte key,
        which every client frame must be (§5.3); len = payload bytes
  81 85 | mask 37 fa 21 3d | 7f 9f …   the frame's bytes in hex: header | mask key | payload
";

/// Runs the demo called `name`, printing the live transcript to standard output.
pub async fn run(name: &str) -> Result<(), DemoError> {
    match name {
        "ws-echo" => {
            println!("{LEGEND}");
            let observer: Observer = Arc::new(|_id, event| print!("{}", event.render(&Render::live())));
            let recording = ws_echo::demo::run(Some(observer)).await?;
            println!();
            println!("What the client saw, step by step:");
            for step in recording.steps {
                println!("  sent {:<32} got back {}", step.sent, step.received);
            }
            Ok(())
        }
        other => Err(DemoError::Unknown(other.to_owned())),
    }
}
