//! # wire: the teaching core of Duplex
//!
//! Everything the book shows about bytes on the wire comes from this crate: the WebSocket
//! handshake and frames computed by hand, HTTP heads parsed for display, and the [`Tap`], which
//! sits between any client and any server and writes down what they say to each other.
//! It serves every chapter; the WebSocket chapters ("Socket versus WebSocket", "The echo") show
//! its codec line by line.
//!
//! The codec knows nothing of sockets (it is *sans-I/O*): it turns bytes into frames and frames
//! into bytes, so tests, the Tap and the by-hand server share it, and property tests hold it to
//! tungstenite's behaviour.
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
//! - [`out`]: printing that ends quietly when stdout is closed (`just ws-echo | head`).
//! - [`tls`]: TLS records seen from outside: which are in the clear, which encrypted
//!   (RFC 8446 §5).
//! - [`transcript`]: events, transcripts and how they are rendered for people and snapshots.
//! - [`tap`]: the recording proxy (tokio), over TCP or over in-memory pipes, with switches to
//!   blackhole or cut a connection.

pub mod close;
pub mod decode;
pub mod deflate;
pub mod frame;
pub mod handshake;
pub mod http;
pub mod out;
pub mod tap;
pub mod tls;
pub mod transcript;

pub use close::{CloseCode, ClosePayload};
pub use decode::{ConnectionDecoder, Mode};
pub use frame::{Extensions, Frame, FrameDecoder, FrameHeader, OpCode};
pub use tap::{MemoryTap, PipeEnd, Tap, TapConnection, TapControl};
pub use transcript::{Closure, Direction, Event, EventKind, Render, TlsContent, TlsRecord, Transcript};
