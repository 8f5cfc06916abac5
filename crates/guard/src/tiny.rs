//! The shared defences for the servers on tiny_http (the vendored, patched one:
//! `vendor/tiny_http/PATCHES.md`): the limits as tiny_http's own, and a thread per request.

use crate::Limits;

/// The shared limits as the patched tiny_http's own (`vendor/tiny_http/PATCHES.md`): the head's
/// size and time, a body read's and a write's wait, the connection cap. tiny_http drains at most
/// `max_body` bytes of a body the handler did not read; past that it closes the connection.
pub fn tiny_http_limits(limits: &Limits) -> tiny_http::Limits {
    tiny_http::Limits {
        max_head: limits.max_head,
        head_timeout: limits.handshake_timeout,
        read_timeout: Some(limits.handshake_timeout),
        write_timeout: Some(limits.send_timeout),
        max_connections: limits.max_connections,
        max_drain: limits.max_body,
    }
}

// ANCHOR: dispatch
/// Takes requests off `http`'s queue until it is unblocked, and answers each on a thread of its
/// own.
///
/// A fixed pool of threads that answer requests themselves is at the mercy of its slowest
/// clients: a write to a client that stopped reading waits (up to the send timeout), and a few
/// such clients hold every thread of the pool while everybody else waits. A thread per request
/// costs a little more per request, and one slow client then holds only its own thread. The
/// number of such threads is bounded: the patched tiny_http reads a connection's next request
/// only after answering the last (`vendor/tiny_http/PATCHES.md`, patch 9), so there are never
/// more requests in hand than connections, and never more connections than the cap.
pub fn dispatch<F>(http: &tiny_http::Server, handle: F)
where
    F: Fn(tiny_http::Request) + Clone + Send + 'static,
{
    // `recv` fails only when the server is unblocked to stop.
    while let Ok(request) = http.recv() {
        let handle = handle.clone();
        let spawned = std::thread::Builder::new().name("request".into()).spawn(move || handle(request));
        if let Err(e) = spawned {
            // The request is dropped with the closure: tiny_http answers it with 500.
            tracing::warn!("no thread for a request: {e}");
        }
    }
}
// ANCHOR_END: dispatch
