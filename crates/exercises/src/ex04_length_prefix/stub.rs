//! # Exercise 4: messages on a byte stream
//!
//! Chapter: *Socket versus WebSocket*. About 25 minutes.
//!
//! TCP delivers bytes, not messages: one `read` may return half a message, or two and a bit.
//! The classic fix is to send each message's length first. Write both sides: [`encode`] puts a
//! 4-byte big-endian length in front of a message, and [`Decoder`] takes bytes as they arrive and
//! gives back whole messages.

// This is the file you edit: replace each `todo!(…)` with your code, then run
// `just exercise 4`. The tests are in crates/exercises/tests/ex04_length_prefix.rs.
#![allow(
    unused_imports,
    unused_variables,
    unused_mut,
    dead_code,
    reason = "names the stub leaves for your code"
)]

/// `message` with its length in front: 4 bytes, big-endian (most significant byte first),
/// then the message. `encode(b"hi")` is `[0, 0, 0, 2, b'h', b'i']`.
pub fn encode(message: &[u8]) -> Vec<u8> {
    todo!("exercise 4, part 1: `u32::try_from(len)`, `to_be_bytes()`, then the message")
}

/// Collects bytes from the network and hands out whole messages.
#[derive(Debug, Default)]
pub struct Decoder {
    /// Bytes received and not yet handed out as part of a message.
    buffer: Vec<u8>,
}

impl Decoder {
    /// An empty decoder.
    pub fn new() -> Decoder {
        Decoder::default()
    }

    /// Adds bytes just read from the network (any number: part of a message, or several).
    pub fn push(&mut self, bytes: &[u8]) {
        self.buffer.extend_from_slice(bytes);
    }

    /// The next whole message, if the buffer holds one; `None` means "read more first". Call it
    /// again until it says `None`: one push can complete several messages.
    pub fn next_message(&mut self) -> Option<Vec<u8>> {
        todo!("exercise 4, part 2: need 4 bytes of length, then that many more; then drain them")
    }
}
