//! # Exercise 5: the accept key
//!
//! Chapter: *The handshake and frames*. About 10 minutes.
//!
//! A server proves it understood a WebSocket handshake by answering the client's
//! `Sec-WebSocket-Key` with `Sec-WebSocket-Accept`. Compute it, with the `sha1` and `base64`
//! crates (both are dependencies of this crate).

/// The GUID every server appends to the key (RFC 6455 §1.3).
pub const GUID: &str = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

/// `Sec-WebSocket-Accept` for a `Sec-WebSocket-Key`: the key (as sent, a string) followed by
/// [`GUID`], hashed with SHA-1, and the 20 bytes of hash encoded in base64 (RFC 6455 §4.2.2).
///
/// Useful calls: `sha1::Sha1::new()`, `.update(bytes)`, `.finalize()` (with
/// `use sha1::Digest;`), and `base64::engine::general_purpose::STANDARD.encode(bytes)` (with
/// `use base64::Engine;`).
pub fn accept_key(key: &str) -> String {
    // exercise 5: SHA-1 of key + GUID, then base64
    use base64::Engine as _;
    use sha1::Digest as _;
    let mut sha1 = sha1::Sha1::new();
    sha1.update(key.as_bytes());
    sha1.update(GUID.as_bytes());
    base64::engine::general_purpose::STANDARD.encode(sha1.finalize())
}
