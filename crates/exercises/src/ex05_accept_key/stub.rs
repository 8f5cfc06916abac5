//! # Exercise 5: the accept key
//!
//! Chapter: *The handshake and frames*. About 10 minutes.
//!
//! A server proves it understood a WebSocket handshake by answering the client's
//! `Sec-WebSocket-Key` with `Sec-WebSocket-Accept`. Compute it, with the `sha1` and `base64`
//! crates (both are dependencies of this crate).

// This is the file you edit: replace each `todo!(…)` with your code, then run
// `just exercise 5`. The tests are in crates/exercises/tests/ex05_accept_key.rs.
#![allow(
    unused_imports,
    unused_variables,
    unused_mut,
    dead_code,
    reason = "names the stub leaves for your code"
)]

/// The GUID every server appends to the key (RFC 6455 §1.3).
pub const GUID: &str = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

/// `Sec-WebSocket-Accept` for a `Sec-WebSocket-Key`: the key (as sent, a string) followed by
/// [`GUID`], hashed with SHA-1, and the 20 bytes of hash encoded in base64 (RFC 6455 §4.2.2).
///
/// Useful calls: `sha1::Sha1::new()`, `.update(bytes)`, `.finalize()` (with
/// `use sha1::Digest;`), and `base64::engine::general_purpose::STANDARD.encode(bytes)` (with
/// `use base64::Engine;`).
pub fn accept_key(key: &str) -> String {
    todo!("exercise 5: SHA-1 of key + GUID, then base64")
}
