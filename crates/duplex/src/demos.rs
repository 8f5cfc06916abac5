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
        name: "http-poll",
        chapter: "Request and response",
        about: "two short polls on one keep-alive connection, then one request per connection",
    },
    Demo {
        name: "long-poll",
        chapter: "Request and response",
        about: "a long poll answered by a publish, and one that times out with 204",
    },
    Demo {
        name: "sse",
        chapter: "Request and response",
        about: "an event stream, its end, and the resume with Last-Event-ID",
    },
    Demo {
        name: "ws-feed",
        chapter: "Request and response",
        about: "the same feed over a WebSocket: one handshake, then a small frame per message",
    },
    Demo {
        name: "ws-echo",
        chapter: "The WebSocket echo",
        about: "handshake, a text, a binary message, a ping and the close handshake, every byte shown",
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
    /// A request–response demo failed.
    #[error(transparent)]
    Polling(#[from] http_polling::demo::Error),
}

/// The key to an HTTP transcript's notation, printed above the request–response demos.
pub const HTTP_LEGEND: &str = "\
How to read this: each line is one thing the Tap saw on the wire, in order.
  C→S  the client sent it to the server      S→C  the server sent it to the client
  ───  about the connection as a whole, or what the demo did meanwhile (a publish happens
       inside the server: the Tap cannot see it, so the demo says when)
  GET /messages?since=0 HTTP/1.1 + header lines   an HTTP request head; · N bytes of head
  body, N bytes / chunk of N bytes   what follows a head: a body of known length, or one chunk
       of a chunked body (an event stream sends one chunk per event)
  closed its side (FIN)   that side will send nothing more on this TCP connection
";

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
        "http-poll" | "long-poll" | "sse" | "ws-feed" => {
            println!("{HTTP_LEGEND}");
            // Connections are numbered when a demo opens more than one.
            let observer: Observer = Arc::new(|id, event| {
                let text = event.render(&Render::live());
                print!("{}", text.lines().map(|l| format!("#{id} {l}\n")).collect::<String>());
            });
            let recordings = match name {
                "http-poll" => vec![
                    http_polling::demo::short_poll(Some(observer.clone())).await?,
                    http_polling::demo::short_poll_closing(Some(observer)).await?,
                ],
                "long-poll" => vec![
                    http_polling::demo::long_poll(Some(observer.clone())).await?,
                    http_polling::demo::long_poll_timeout(Some(observer)).await?,
                ],
                "sse" => vec![http_polling::demo::sse(Some(observer)).await?],
                _ => vec![http_polling::demo::websocket(Some(observer)).await?],
            };
            println!();
            println!("What the client saw, step by step:");
            for step in recordings.iter().flat_map(|r| &r.steps) {
                println!("  {step}");
            }
            Ok(())
        }
        other => Err(DemoError::Unknown(other.to_owned())),
    }
}
