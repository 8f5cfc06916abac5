//! # wire: the teaching core of Duplex
//!
//! Everything the book shows about bytes on the wire is decoded and rendered here: the WebSocket
//! handshake and frames computed by hand, HTTP heads parsed for display, and transcripts of what
//! a client and a server said to each other. It serves every chapter; the WebSocket chapters
//! ("Socket versus WebSocket", "The handshake and frames") show its codec line by line.
//!
//! The crate knows nothing of sockets, files or clocks (it is *sans-I/O*): it turns bytes into
//! frames and events, and events into text, so tests, the Tap (the `tap` crate, which does the
//! I/O) and the by-hand server share it, and property tests hold it to tungstenite's behaviour.
//! It does not depend on tokio; a test over `cargo metadata` keeps it that way.
//!
//! # Layout
//! - [`handshake`]: `Sec-WebSocket-Accept` from `Sec-WebSocket-Key`, and the server's checks of an
//!   upgrade request, with the HTTP error for each failure (RFC 6455 §4).
//! - [`frame`]: the frame codec: FIN, RSV, opcode, mask, 7/16/64-bit lengths, incremental
//!   decoding, and which RSV bits the negotiated extensions allow (RFC 6455 §5).
//! - [`deflate`]: permessage-deflate (RFC 7692): the extension header, negotiation, and per-message
//!   compression with a limit on the inflated size.
//! - [`close`]: close codes and the close payload (RFC 6455 §5.5.1, §7.4).
//! - [`http`]: HTTP/1.1 heads and how their bodies are delimited (RFC 9112).
//! - [`decode`]: both directions of a connection into events, following HTTP → WebSocket.
//! - [`http2`]: HTTP/2 frames, HPACK header blocks, and WebSocket over HTTP/2 (RFC 9113,
//!   RFC 7541, RFC 8441).
//! - [`tls`]: TLS records seen from outside: which are in the clear, which encrypted
//!   (RFC 8446 §5).
//! - [`transcript`]: events, transcripts and how they are rendered for people and snapshots.
//! - [`marks`]: the Tap's notes that figures draw (the clock, a blackhole, a cut), written and
//!   read by the same functions.
//! - [`figure`]: transcripts drawn as SVG sequence diagrams, a frame's bits as the RFC 6455 §5.2
//!   layout, the browser's `readyState` machine; pure functions returning `String`.

pub mod close;
pub mod decode;
pub mod deflate;
pub mod figure;
pub mod frame;
pub mod handshake;
pub mod http;
pub mod http2;
pub mod marks;
pub mod tls;
pub mod transcript;

pub use close::{CloseCode, ClosePayload};
pub use decode::{ConnectionDecoder, Mode};
pub use frame::{Extensions, Frame, FrameDecoder, FrameHeader, OpCode};
pub use transcript::{Closure, Direction, Event, EventKind, Render, TlsContent, TlsRecord, Transcript};
