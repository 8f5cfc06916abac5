//! # Exercise 7: unmasking a payload
//!
//! Chapter: *The handshake and frames*. About 10 minutes.
//!
//! Every frame a client sends is masked (RFC 6455 §5.3): each payload byte is XORed with one of
//! the four bytes of the masking key, in turn. XOR undoes itself, so the same function masks and
//! unmasks.

// This is the file you edit: replace each `todo!(…)` with your code, then run
// `just exercise 7`. The tests are in crates/exercises/tests/ex07_unmask.rs.
#![allow(
    unused_imports,
    unused_variables,
    unused_mut,
    dead_code,
    reason = "names the stub leaves for your code"
)]

/// XORs byte `i` of `payload` with `key[i % 4]`, in place.
pub fn unmask(payload: &mut [u8], key: [u8; 4]) {
    todo!("exercise 7: one loop over the payload with its index")
}
