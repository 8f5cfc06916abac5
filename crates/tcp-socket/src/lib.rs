//! # tcp-socket: the program's handle on a TCP connection
//!
//! The book's chapter "Socket versus WebSocket" runs this crate. A *socket* is what a program holds
//! to use a TCP connection: it can `write` bytes into it and `read` bytes out of it, and that is
//! all. TCP delivers the bytes in order, but it does not keep the *boundaries* between writes: three
//! writes may arrive in one read, and one write may take several reads. Every protocol on top of
//! TCP, from HTTP to WebSocket, has to mark where its messages end. This crate shows the problem
//! deterministically and the two fixes a programmer writes first: a newline after each message,
//! and a length in front of each.
//!
//! # Layout
//! - [`calls`]: a log of the socket calls a program made (`write`, `read`, what a decoder found),
//!   the program's view of a connection, next to the Tap's view of the wire.
//! - [`stream`]: the byte stream shown: three writes read at once, one write read in pieces.
//! - [`framing`]: the two fixes, with tokio-util's `LinesCodec` and `LengthDelimitedCodec`, fed
//!   the same awkward reads.
//! - [`echo`]: echo servers and clients for raw, line-delimited and length-prefixed TCP.
//! - [`demo`]: the three messages of the chapter sent through the Tap over each framing.

pub mod calls;
pub mod demo;
pub mod echo;
pub mod framing;
pub mod stream;

/// The three messages the chapter sends over every transport, so they can be compared side by side.
pub const THREE_MESSAGES: [&str; 3] = ["hello", "how are you?", "bye"];

/// What can go wrong in this crate.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A socket failed.
    #[error("I/O error: {0}")]
    Io(#[from] std::io::Error),
    /// A line was longer than the codec accepts, or not UTF-8.
    #[error("line framing: {0}")]
    Lines(#[from] tokio_util::codec::LinesCodecError),
    /// The peer was silent, or did not take what we sent, for this long (an idle or a slow client).
    #[error("no progress for {0:?}")]
    TimedOut(std::time::Duration),
    /// The peer closed the connection before the exchange was over.
    #[error("the peer closed the connection after {after}")]
    Closed {
        /// What had happened by then.
        after: String,
    },
}
