//! Is the client still there? A look at a waiting request's socket that reads nothing.
//!
//! A long poll or an event stream waits for news on a thread that does not read from its
//! connection: the request has been read, the answer is not written yet. If the client goes away
//! meanwhile (a tab closed, a `curl` stopped with Ctrl-C), the only sign is on the socket: the
//! client's FIN makes it readable with nothing to read (the end of the stream), a reset makes it
//! fail. Nothing writes to tell, so without looking, the server finds out at its next write: the
//! long poll's answer after up to [`MAX_WAIT`](crate::limits::MAX_WAIT), the stream's heartbeat.
//!
//! [`peek`] looks without waiting and without taking anything: `recv` with `MSG_PEEK` (leave the
//! bytes where they are) and `MSG_DONTWAIT` (do not block, for this one call only, so the socket
//! stays as tiny_http set it up), on the handle the patched tiny_http gives out
//! (`Request::socket`; `vendor/tiny_http/PATCHES.md`, patches 7 and 12: without 12, tiny_http
//! shut the socket down for reading after a `Connection: close` request, and every look said
//! "end of stream"). The waiting request does it every
//! [`WAIT_CHECK`](crate::limits::WAIT_CHECK) (see [`Feed::wait_since_while`](crate::Feed::wait_since_while)).
//!
//! Bytes waiting to be read are **not** a sign that the client left: an HTTP/1.1 client may send
//! its next request before the answer to this one (pipelining, RFC 9112 §9.3.2), and it will be
//! read and answered in its turn. Only the end of the stream or an error counts. A client that
//! closes its sending side on purpose and still waits for answers (a "half-close") looks exactly
//! like one that left, and is treated so: TCP cannot tell the two apart without a write.

use std::net::TcpStream;

/// What a look at the socket found.
#[derive(Debug)]
pub enum Peek {
    /// Nothing to read, the connection open: the client is waiting.
    Quiet,
    /// Bytes to read: the client sent more (its next request, pipelined). It is still there.
    Data,
    /// The end of the stream: the client closed its side (FIN).
    Closed,
    /// The socket failed, usually a reset (RST): the client is gone.
    Failed(std::io::Error),
}

impl Peek {
    /// Whether the client has gone: the end of the stream, or an error.
    pub fn gone(&self) -> bool {
        matches!(self, Peek::Closed | Peek::Failed(_))
    }
}

// ANCHOR: peek
/// Looks at `socket` without reading from it and without waiting.
#[cfg(unix)]
pub fn peek(socket: &TcpStream) -> Peek {
    use rustix::io::Errno;
    use rustix::net::{RecvFlags, recv};
    let mut byte = [0u8; 1];
    match recv(socket, &mut byte, RecvFlags::PEEK | RecvFlags::DONTWAIT) {
        // A read of 0 bytes into a buffer of 1 is the end of the stream.
        Ok((0, _)) => Peek::Closed,
        Ok(_) => Peek::Data,
        // "It would block": nothing has arrived, and the connection is open.
        Err(Errno::WOULDBLOCK | Errno::INTR) => Peek::Quiet,
        Err(e) => Peek::Failed(e.into()),
    }
}
// ANCHOR_END: peek

/// Elsewhere the look is not made (`MSG_DONTWAIT` is not portable): the client always seems to
/// be there, and a vanished client is found at the next write, as before.
#[cfg(not(unix))]
pub fn peek(_socket: &TcpStream) -> Peek {
    Peek::Quiet
}

/// `true` while the client behind `socket` seems to be there (`None`: no socket to look at, as
/// for a request that did not come over TCP, so assume it is).
pub fn still_there(socket: Option<&TcpStream>) -> bool {
    socket.is_none_or(|socket| !peek(socket).gone())
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use std::io::Write;
    use std::net::{Shutdown, TcpListener};

    fn pair() -> (TcpStream, TcpStream) {
        let listener = TcpListener::bind("127.0.0.1:0").expect("a loopback port");
        let client = TcpStream::connect(listener.local_addr().expect("its address")).expect("a connection");
        let (server, _) = listener.accept().expect("the server's end");
        (client, server)
    }

    /// Peeks until the answer is not `Quiet` (what the client did takes a moment to arrive), or
    /// gives up after a generous while.
    fn settled(server: &TcpStream) -> Peek {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        loop {
            let peek = peek(server);
            if !matches!(peek, Peek::Quiet) || std::time::Instant::now() > deadline {
                return peek;
            }
            std::thread::yield_now();
        }
    }

    #[test]
    fn an_open_quiet_connection_is_quiet_and_a_pipelined_request_is_not_a_departure() {
        let (mut client, server) = pair();
        assert!(matches!(peek(&server), Peek::Quiet));
        client.write_all(b"GET /next HTTP/1.1\r\n\r\n").unwrap();
        let peek = settled(&server);
        assert!(matches!(peek, Peek::Data), "{peek:?}");
        assert!(!peek.gone(), "a client that sent more is still there");
        // The peek took nothing: the bytes are still there to be read.
        assert!(matches!(super::peek(&server), Peek::Data));
    }

    #[test]
    fn a_client_that_closes_or_resets_is_gone() {
        let (client, server) = pair();
        client.shutdown(Shutdown::Write).unwrap();
        assert!(matches!(settled(&server), Peek::Closed));
        assert!(!still_there(Some(&server)));
        let (client, server) = pair();
        // A linger of zero makes close() send a reset instead of a FIN.
        socket_linger_zero(&client);
        drop(client);
        let peek = settled(&server);
        assert!(peek.gone(), "{peek:?}");
        assert!(still_there(None), "without a socket, assume the client is there");
    }

    fn socket_linger_zero(stream: &TcpStream) {
        rustix::net::sockopt::set_socket_linger(stream, Some(std::time::Duration::ZERO)).expect("SO_LINGER");
    }
}
