//! permessage-deflate, the compression extension every browser offers (RFC 7692), sans-I/O.
//!
//! Three parts, each usable alone:
//! - [`header`]: the `Sec-WebSocket-Extensions` header parsed into offers and written back
//!   (RFC 6455 §9.1).
//! - [`negotiate`](mod@negotiate): the server picks the first offer it can honour and writes its response
//!   (RFC 7692 §5, §7.1); every declined offer comes with the rule that declined it.
//! - [`codec`]: one message at a time: compress and cut the `00 00 ff ff` tail, or put it back
//!   and inflate with a limit on the *inflated* size (RFC 7692 §6, §7.2).
//!
//! The frame rule that goes with them, RSV1 on a compressed message's first frame only, is
//! [`Extensions::check_rsv`](crate::frame::Extensions::check_rsv) in the frame codec.
//!
//! DEFLATE itself is flate2 with its default pure-Rust backend, miniz_oxide. That backend always
//! uses a 32 KiB window for both compressing and inflating; [`negotiate`](mod@negotiate) explains how the server
//! still honours smaller windows, and what a smaller window does not save here.

pub mod codec;
pub mod header;
pub mod negotiate;

pub use codec::{Compressor, Decompressor, InflateError, PerMessageDeflate, TAIL};
pub use header::Extension;
pub use negotiate::{
    ClientWindowOffer, Decline, Declined, DeflateAgreement, DeflateConfig, DeflateOffer, Negotiation,
    negotiate,
};

#[cfg(test)]
mod tests;
