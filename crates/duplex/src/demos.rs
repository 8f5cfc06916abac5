//! The chapter exchanges that `duplex demo NAME` runs in the terminal, through the Tap.
//!
//! Each demo starts its server on a free port, puts the Tap in front, runs the chapter's client
//! and prints every event as the Tap decodes it: the same transcript the book shows, live, with
//! the hex and mask keys that the book's deterministic copy leaves out.

use std::sync::Arc;

use tcp_socket::echo::Framing;
use wire::Render;
use wire::tap::Observer;
use wire::{out, outln};

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
        about: "an event stream, a dropped connection, and the resume with Last-Event-ID",
    },
    Demo {
        name: "ws-feed",
        chapter: "Request and response",
        about: "the same feed over a WebSocket: one handshake, then a small frame per message",
    },
    Demo {
        name: "tcp-echo",
        chapter: "Socket versus WebSocket",
        about: "a raw TCP echo through the Tap; three writes read at once, one write read in pieces",
    },
    Demo {
        name: "tcp-framing",
        chapter: "Socket versus WebSocket",
        about: "newline and length-prefix framing: decoders fed awkward reads, and the bytes on the wire",
    },
    Demo {
        name: "ws-by-hand",
        chapter: "Socket versus WebSocket",
        about: "a WebSocket server built from a TCP stream and the codec; a client that forgets to mask",
    },
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
    Demo {
        name: "heartbeat",
        chapter: "Heartbeat and every way a connection ends",
        about: "a ping every second, answered; with --blackhole, a dead peer found and dropped",
    },
    Demo {
        name: "endings",
        chapter: "Heartbeat and every way a connection ends",
        about: "every way a connection ends: 1000, 1001, 1002, 1009, 1006 and an idle timeout",
    },
];

/// Options some demos take.
#[derive(Clone, Copy, Debug, Default)]
pub struct Options {
    /// `heartbeat`: blackhole the connection after two and a half intervals.
    pub blackhole: bool,
}

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
    /// A one-port demo failed.
    #[error(transparent)]
    OnePort(#[from] one_port::demo::DemoError),
    /// A heartbeat demo failed.
    #[error(transparent)]
    Heartbeat(#[from] heartbeat::Error),
    /// An option was given to a demo that does not take it.
    #[error("{0}")]
    Option(String),
    /// A TCP demo failed.
    #[error(transparent)]
    Tcp(#[from] tcp_socket::Error),
    /// The by-hand WebSocket demo failed.
    #[error(transparent)]
    ByHand(#[from] ws_by_hand::client::ClientError),
    /// A socket could not be set up.
    #[error("I/O error: {0}")]
    Io(#[from] std::io::Error),
}

/// The key to an HTTP transcript's notation, printed above the request–response demos.
pub const HTTP_LEGEND: &str = "\
How to read this: each line is one thing the Tap saw on the wire, in order.
  C→S  the client sent it to the server      S→C  the server sent it to the client
  ───  about the connection as a whole, or what the demo did meanwhile (a publish happens
       inside the server: the Tap cannot see it, so the demo says when)
  TCP connection opened: client … → server …   the real client and server: the client dialled
       the Tap, which dialled the server, so the request's Host: names the Tap's port
  GET /messages?since=0 HTTP/1.1 + header lines   an HTTP request head; · N bytes of head
  body, N bytes / chunk of N bytes   what follows a head: a body of known length, or one chunk
       of a chunked body (an event stream sends one chunk per event)
  closed its side (FIN)   that side will send nothing more on this TCP connection
";

/// The key to the heartbeat demos' extra notation.
pub const HEARTBEAT_LEGEND: &str = "\
  ─── ⏱ 2.000 s   the time since the connection opened, noted whenever it has moved on
  frame FIN ping len=1 \"3\"   the server's third ping; its payload is the number, so the pong
        that echoes it (RFC 6455 §5.5.3) says which ping it answers
  ⚫ blackhole     the Tap swallowed these bytes: the other side never sees them, and nobody
                  is told (a pulled cable, a NAT that forgot the connection)
";

/// The key to a call log, printed above one: the program's view, not the wire's.
pub const CALLS_LEGEND: &str = "\
How to read a call log: each line is one call the program made on its socket, in order.
  client write(\"one\")  → 3 bytes taken      the kernel took the bytes; the peer has not read them
  server read(buffer of 1024)  → 11 bytes   what one read returned: whatever had arrived, up to
                                             the buffer's size, with no message boundaries
  line decoder → message \"one\"             a framing decoder found a whole message in the bytes
";

/// The key to a Tap transcript of a protocol the Tap does not decode (raw TCP and its framings).
pub const RAW_LEGEND: &str = "\
How to read this: each line is one thing the Tap saw on the wire, in order.
  C→S  the client sent it to the server      S→C  the server sent it to the client
  ───  about the connection as a whole (opened, closed, over)
  C→S 5 bytes: \"hello\"   bytes as the Tap read them, then in hex: TCP itself adds nothing
                          that says where a message ends
";

/// Prints each event of the Tap live.
fn live_observer() -> Observer {
    Arc::new(|_id, event| out!("{}", event.render(&Render::live())))
}

/// Prints a heading over a part of a demo.
fn heading(text: &str) {
    outln!();
    outln!("━━ {text}");
    outln!();
}

/// The key to the transcript's notation, printed above a live transcript.
pub const LEGEND: &str = "\
How to read this: each line is one thing the Tap saw on the wire, in order.
  C→S  the client sent it to the server      S→C  the server sent it to the client
  ───  about the connection as a whole (opened, switched protocols, over)
  TCP connection opened: client … → server …   the real client and server: the client dialled
        the Tap, which dialled the server, so the request's Host: names the Tap's port
  frame FIN text masked len=5   one WebSocket frame (RFC 6455 §5.2): FIN = last frame of its
        message; the opcode (text, binary, ping, pong, close); masked = XORed with a 4-byte key,
        which every client frame must be (§5.3); len = payload bytes
  81 85 | mask 37 fa 21 3d | 7f 9f …   the frame's bytes in hex: header | mask key | payload
";

/// Runs the demo called `name`, printing the live transcript to standard output.
pub async fn run(name: &str, options: Options) -> Result<(), DemoError> {
    if options.blackhole && name != "heartbeat" {
        return Err(DemoError::Option(format!("--blackhole is for the heartbeat demo, not {name:?}")));
    }
    match name {
        "ws-echo" => {
            outln!("{LEGEND}");
            let recording = ws_echo::demo::run(Some(live_observer())).await?;
            outln!();
            outln!("What the client saw, step by step:");
            for step in recording.steps {
                outln!("  sent {:<32} got back {}", step.sent, step.received);
            }
            Ok(())
        }
        "tcp-echo" => {
            outln!("{RAW_LEGEND}");
            heading("The three messages through a raw TCP echo, as the Tap saw them");
            let recording = tcp_socket::demo::record(Framing::Raw, Some(live_observer())).await?;
            outln!("The client got back: {:?}", recording.echoes);
            outln!("{CALLS_LEGEND}");
            heading("Three writes, one read (tcp_socket::stream::coalesced_writes)");
            out!("{}", tcp_socket::stream::coalesced_writes().await?.render());
            heading("One write, several reads with a 4-byte buffer (tcp_socket::stream::split_reads)");
            out!("{}", tcp_socket::stream::split_reads().await?.render());
            Ok(())
        }
        "tcp-framing" => {
            outln!("{RAW_LEGEND}");
            outln!("{CALLS_LEGEND}");
            heading("Newline-delimited: the line decoder fed two awkward reads");
            out!("{}", tcp_socket::framing::lines_demo().await?.render());
            heading("Length-prefixed: the length decoder fed two awkward reads");
            out!("{}", tcp_socket::framing::length_prefixed_demo().await?.render());
            for framing in [Framing::Lines, Framing::LengthPrefixed] {
                heading(&format!("The three messages through a {framing} echo, as the Tap saw them"));
                let recording = tcp_socket::demo::record(framing, Some(live_observer())).await?;
                outln!("The client got back: {:?}", recording.echoes);
            }
            Ok(())
        }
        "ws-by-hand" => {
            outln!("{LEGEND}");
            heading("The echo chapter's client (tungstenite) against the server built by hand");
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
            let addr = listener.local_addr()?;
            let server = tokio::spawn(ws_by_hand::server::serve(listener, ws_by_hand::Limits::default()));
            let recording = ws_echo::demo::through_tap(addr, Some(live_observer())).await;
            server.abort();
            outln!();
            outln!("What the client saw, step by step:");
            for step in recording?.steps {
                outln!("  sent {:<32} got back {}", step.sent, step.received);
            }
            heading("A client that forgets to mask its frame (RFC 6455 §5.1)");
            ws_by_hand::demo::unmasked_frame(Some(live_observer())).await?;
            Ok(())
        }
        "heartbeat" => {
            outln!("{LEGEND}{HEARTBEAT_LEGEND}");
            let beat = heartbeat::demo::HEARTBEAT;
            if options.blackhole {
                outln!(
                    "The server pings every {} s and gives up after {} unanswered pings; the client gives up after {} s of silence.",
                    beat.interval.as_secs_f64(),
                    beat.max_missed,
                    heartbeat::watchdog::Watchdog::for_heartbeat(&beat).silence.as_secs_f64()
                );
                outln!("At 2.5 s the Tap turns into a blackhole. Watch who notices, and when.\n");
            } else {
                outln!(
                    "The server pings every {} s; the client closes after {} pings. (Add --blackhole to kill the path.)\n",
                    beat.interval.as_secs_f64(),
                    heartbeat::demo::PINGS
                );
            }
            let observer: Observer = Arc::new(|_id, event| out!("{}", event.render(&Render::live())));
            let recorded = heartbeat::demo::run(options.blackhole, Some(observer)).await?;
            outln!("\nWhat each application saw:");
            for (who, lines) in [("client", &recorded.client), ("server", &recorded.server)] {
                for line in lines {
                    outln!("  {who}: {line}");
                }
            }
            Ok(())
        }
        "endings" => {
            outln!("{LEGEND}");
            use heartbeat::endings;
            let style = Render::live();
            let show = |title: &str, recorded: endings::Recorded| {
                outln!("━━ {title} ━━");
                outln!("{}", recorded.render(&style));
            };
            show("The client closes: 1000", endings::client_closes().await?);
            show("The server shuts down: 1001", endings::server_shuts_down().await?);
            show("A protocol error (an unmasked client frame): 1002", endings::protocol_error().await?);
            show("A message over the limit: 1009", endings::message_too_big().await?);
            show(
                "The server's program dies: no close frame, 1006 for the client",
                endings::connection_drops().await?,
            );
            show("An idle timeout (2.5 s, in real time)", endings::idle_timeout().await?);
            Ok(())
        }
        "http-poll" | "long-poll" | "sse" | "ws-feed" => {
            outln!("{HTTP_LEGEND}");
            // Connections are numbered when a demo opens more than one.
            let observer: Observer = Arc::new(|id, event| {
                let text = event.render(&Render::live());
                out!("{}", text.lines().map(|l| format!("#{id} {l}\n")).collect::<String>());
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
            outln!();
            outln!("What the client saw, step by step:");
            for step in recordings.iter().flat_map(|r| &r.steps) {
                outln!("  {step}");
            }
            Ok(())
        }
        "one-port" => {
            use one_port::server::Guard;
            outln!("{LEGEND}");
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
                outln!("{title}\n");
                let recording = one_port::demo::same_port(guard, signed_in, Some(live())).await?;
                outln!("\nThe server's log (which layers saw each request):");
                for line in recording.log {
                    outln!("  {line}");
                }
                outln!();
            }
            Ok(())
        }
        "wss" => {
            outln!("{LEGEND}");
            outln!("Two Taps watch one wss:// connection: `outside` between the client and the TLS front,");
            outln!("`inside` between the TLS front and the HTTP server.\n");
            let outside: Observer =
                Arc::new(|_id, event| print_prefixed("outside │ ", &event.render(&Render::live())));
            let inside: Observer =
                Arc::new(|_id, event| print_prefixed("inside  │ ", &event.render(&Render::live())));
            let recording = one_port::demo::wss(Some(outside), Some(inside)).await?;
            outln!("\nThe client trusted exactly the certificate generated at start, and received:");
            for message in recording.received {
                outln!("  {message}");
            }
            Ok(())
        }
        other => Err(DemoError::Unknown(other.to_owned())),
    }
}

fn live() -> Observer {
    Arc::new(|_id, event| out!("{}", event.render(&Render::live())))
}

fn print_prefixed(prefix: &str, text: &str) {
    let mut out = String::new();
    for line in text.lines() {
        out.push_str(prefix);
        out.push_str(line);
        out.push('\n');
    }
    out!("{out}");
}
