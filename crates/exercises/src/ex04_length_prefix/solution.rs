//! # Exercise 4: messages on a byte stream
//!
//! Chapter: *Socket versus WebSocket*. About 25 minutes.
//!
//! TCP delivers bytes, not messages: one `read` may return half a message, or two and a bit.
//! The classic fix is to send each message's length first. Write both sides: [`encode`] puts a
//! 4-byte big-endian length in front of a message, and [`Decoder`] takes bytes as they arrive and
//! gives back whole messages.

/// `message` with its length in front: 4 bytes, big-endian (most significant byte first),
/// then the message. `encode(b"hi")` is `[0, 0, 0, 2, b'h', b'i']`.
pub fn encode(message: &[u8]) -> Vec<u8> {
    // exercise 4, part 1: `u32::try_from(len)`, `to_be_bytes()`, then the message
    let len = u32::try_from(message.len()).unwrap_or(u32::MAX);
    let mut out = Vec::with_capacity(4 + message.len());
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(message);
    out
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
        // exercise 4, part 2: need 4 bytes of length, then that many more; then drain them
        let header: [u8; 4] = self.buffer.get(..4)?.try_into().ok()?;
        let len = u32::from_be_bytes(header) as usize;
        let message = self.buffer.get(4..4 + len)?.to_vec();
        self.buffer.drain(..4 + len);
        Some(message)
    }
}
