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
pub const DEMOS: &[Demo] = &[
    Demo {
        name: "ws-echo",
        chapter: "The WebSocket echo",
        about: "handshake, a text, a binary message, a ping and the close handshake, every byte shown",
    },
    Demo {
        name: "one-port",
        chapter: "One port, the browser, and wss://",
        about: "an HTTP request and an upgrade on one connection; the upgrade skips the middleware",
    },
    Demo {
        name: "wss",
        chapter: "One port, the browser, and wss://",
        about: "the same WebSocket through TLS, seen by a Tap outside TLS and one inside",
    },
];

/// Why a demo could not run.
#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    /// No demo has that name.
    #[error("there is no demo called {0:?}; `duplex demo --list` shows them")]
    Unknown(String),
    /// The echo demo failed.
    #[error(transparent)]
    Echo(#[from] ws_echo::Error),
    /// A one-port demo failed.
    #[error(transparent)]
    OnePort(#[from] one_port::demo::DemoError),
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
        "one-port" => {
            use one_port::server::Guard;
            println!("{LEGEND}");
            for (title, guard, signed_in) in [
                (
                    "1. No credentials, and an upgrade branch that checks nothing (`one-port --unchecked`):",
                    Guard::Unchecked,
                    false,
                ),
                (
                    "2. The right way: a bearer token, checked by the middleware and by the upgrade branch:",
                    Guard::Checked,
                    true,
                ),
            ] {
                println!("{title}\n");
                let recording = one_port::demo::same_port(guard, signed_in, Some(live())).await?;
                println!("\nThe server's log (which layers saw each request):");
                for line in recording.log {
                    println!("  {line}");
                }
                println!();
            }
            Ok(())
        }
        "wss" => {
            println!("{LEGEND}");
            println!("Two Taps watch one wss:// connection: `outside` between the client and the TLS front,");
            println!("`inside` between the TLS front and the HTTP server.\n");
            let outside: Observer =
                Arc::new(|_id, event| print_prefixed("outside │ ", &event.render(&Render::live())));
            let inside: Observer =
                Arc::new(|_id, event| print_prefixed("inside  │ ", &event.render(&Render::live())));
            let recording = one_port::demo::wss(Some(outside), Some(inside)).await?;
            println!("\nThe client trusted exactly the certificate generated at start, and received:");
            for message in recording.received {
                println!("  {message}");
            }
            Ok(())
        }
        other => Err(DemoError::Unknown(other.to_owned())),
    }
}

fn live() -> Observer {
    Arc::new(|_id, event| print!("{}", event.render(&Render::live())))
}

fn print_prefixed(prefix: &str, text: &str) {
    let mut out = String::new();
    for line in text.lines() {
        out.push_str(prefix);
        out.push_str(line);
        out.push('\n');
    }
    print!("{out}");
}
