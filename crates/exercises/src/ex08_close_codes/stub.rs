//! # Exercise 8: judging a close frame
//!
//! Chapter: *Heartbeat and every way a connection ends*. About 20 minutes.
//!
//! A close frame's payload is empty, or a 2-byte big-endian status code followed by a UTF-8
//! reason (RFC 6455 §5.5.1). Some codes may never be sent. Decide what a received close payload
//! means, and how to answer one that breaks the rules.

// This is the file you edit: replace each `todo!(…)` with your code, then run
// `just exercise 8`. The tests are in crates/exercises/tests/ex08_close_codes.rs.
#![allow(
    unused_imports,
    unused_variables,
    unused_mut,
    dead_code,
    reason = "names the stub leaves for your code"
)]

/// What a received close payload means.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// A valid code and its reason (possibly empty).
    Close {
        /// The status code.
        code: u16,
        /// The reason, decoded.
        reason: String,
    },
    /// An empty payload: no code was given. The application reports this as 1005, a code that
    /// never travels on the wire.
    NoStatus,
    /// The payload breaks the rules: fail the connection, closing with this code. 1002
    /// (protocol error) for a 1-byte payload or a code that may not be sent; 1007 (invalid
    /// data) for a reason that is not UTF-8.
    Fail(u16),
}

/// Judges a close frame's (unmasked) payload.
///
/// Codes that may be sent: 1000–1003, 1007–1011 and 3000–4999 (RFC 6455 §7.4), and 1012
/// (service restart), 1013 (try again later) and 1014 (bad gateway), added after the RFC to
/// IANA's "WebSocket Close Code Number Registry" (the registry §11.7 created). This book's
/// servers send 1013 to a client that stops reading, so a client must accept it. Codes that
/// only *report* what happened and must never be sent: 1004 (reserved), 1005 (no status), 1006
/// (abnormal closure), 1015 (TLS failure). Below 1000, 1016–2999 and from 5000 up, nothing is
/// defined. Receiving a code that may not be sent is a protocol error.
pub fn judge_close(payload: &[u8]) -> Verdict {
    todo!("exercise 8: match on the payload's length, then the code, then the reason")
}
