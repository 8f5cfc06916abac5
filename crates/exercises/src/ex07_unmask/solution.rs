//! # Exercise 7: unmasking a payload
//!
//! Chapter: *The handshake and frames*. About 10 minutes.
//!
//! Every frame a client sends is masked (RFC 6455 §5.3): each payload byte is XORed with one of
//! the four bytes of the masking key, in turn. XOR undoes itself, so the same function masks and
//! unmasks.

/// XORs byte `i` of `payload` with `key[i % 4]`, in place.
pub fn unmask(payload: &mut [u8], key: [u8; 4]) {
    // exercise 7: one loop over the payload with its index
    for (i, byte) in payload.iter_mut().enumerate() {
        *byte ^= key[i % 4];
    }
}
