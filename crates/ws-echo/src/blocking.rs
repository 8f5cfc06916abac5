//! The same echo on blocking tungstenite: one thread per connection, plain `Read + Write`.
//!
//! The async server in [`crate::server`] multiplexes many connections on a few threads; this one
//! spends a thread (and its stack) on each. For a classroom both are fine, and seeing them side
//! by side is the point: the WebSocket logic is identical, only the I/O model differs. The echo
//! itself, with its timeouts and its lingering close, is `serve::blocking`, which the servers on
//! tiny_http (the book server, one-port) run too.

use std::net::TcpListener;

use guard::WhenFull;

use crate::Limits;

/// Serves the echo on `listener`, a thread per connection, until the listener fails. At most
/// `limits.max_connections` at once; the next client is told `503`.
pub fn serve(listener: TcpListener, limits: Limits) -> std::io::Result<()> {
    let slots = guard::Slots::new(limits.max_connections);
    serve_with(listener, limits, slots)
}

/// [`serve`], counting connections in `slots` (whose maximum applies).
pub fn serve_with(listener: TcpListener, limits: Limits, slots: guard::Slots) -> std::io::Result<()> {
    guard::accept::serve_blocking(listener, slots, WhenFull::Http503, "ws echo", move |stream, _peer| {
        serve::blocking::handle(stream, &limits);
    })
}
