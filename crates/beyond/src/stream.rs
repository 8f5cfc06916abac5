//! One HTTP/2 stream as a byte stream: what lets the WebSocket code run unchanged inside it.
//!
//! After the `200` to an extended CONNECT, RFC 8441 §5 says the stream's DATA frames carry the
//! WebSocket's bytes, both ways, exactly as a TCP connection would after a `101`. So the
//! WebSocket library does not need to know about HTTP/2: give it something that reads and
//! writes bytes ([`H2Stream`]: `AsyncRead + AsyncWrite`) and it frames, masks and closes as
//! always. Reading takes DATA payloads; writing sends DATA frames as HTTP/2's flow control
//! allows; shutting down sends END_STREAM, the stream's FIN.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use bytes::{Buf, Bytes};
use h2::{RecvStream, SendStream};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// Both halves of an HTTP/2 stream, as one byte stream.
pub struct H2Stream {
    send: SendStream<Bytes>,
    recv: RecvStream,
    /// The rest of a DATA payload that did not fit in the reader's buffer.
    unread: Bytes,
    /// END_STREAM has been sent.
    ended: bool,
}

impl H2Stream {
    /// The stream whose halves these are.
    pub fn new(send: SendStream<Bytes>, recv: RecvStream) -> H2Stream {
        H2Stream { send, recv, unread: Bytes::new(), ended: false }
    }

    /// The stream's number (odd: opened by the client, RFC 9113 §5.1.1).
    pub fn id(&self) -> u32 {
        self.send.stream_id().as_u32()
    }
}

fn h2_error(e: h2::Error) -> io::Error {
    // An I/O error inside h2 stays one; a stream reset or a GOAWAY reads as a reset connection.
    let text = e.to_string();
    e.into_io().unwrap_or_else(|| io::Error::new(io::ErrorKind::ConnectionReset, text))
}

impl AsyncRead for H2Stream {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        if self.unread.is_empty() {
            match ready!(self.recv.poll_data(cx)) {
                Some(Ok(data)) => {
                    // Flow control (RFC 9113 §5.2): tell the peer it may send this much more. h2
                    // sends the WINDOW_UPDATE once enough has been released.
                    let _ = self.recv.flow_control().release_capacity(data.len());
                    self.unread = data;
                }
                Some(Err(e)) => return Poll::Ready(Err(h2_error(e))),
                // END_STREAM: the peer will send nothing more, as a TCP FIN says.
                None => return Poll::Ready(Ok(())),
            }
        }
        let n = self.unread.len().min(buf.remaining());
        buf.put_slice(&self.unread[..n]);
        self.unread.advance(n);
        Poll::Ready(Ok(()))
    }
}

impl AsyncWrite for H2Stream {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        if buf.is_empty() {
            return Poll::Ready(Ok(0));
        }
        // Ask for room in the flow-control windows (the stream's and the connection's), and
        // send as much as was granted.
        self.send.reserve_capacity(buf.len());
        match ready!(self.send.poll_capacity(cx)) {
            Some(Ok(granted)) => {
                let n = granted.min(buf.len());
                self.send.send_data(Bytes::copy_from_slice(&buf[..n]), false).map_err(h2_error)?;
                Poll::Ready(Ok(n))
            }
            Some(Err(e)) => Poll::Ready(Err(h2_error(e))),
            None => {
                Poll::Ready(Err(io::Error::new(io::ErrorKind::BrokenPipe, "the HTTP/2 stream is closed")))
            }
        }
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        // h2's connection task writes the frames out; there is nothing to flush here.
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        // An empty DATA frame with END_STREAM: this side is done sending (RFC 8441 §5 maps the
        // TCP FIN of RFC 6455 to END_STREAM).
        if self.ended {
            return Poll::Ready(Ok(()));
        }
        self.ended = true;
        match self.send.send_data(Bytes::new(), true) {
            Ok(()) => Poll::Ready(Ok(())),
            // Already ended or reset: nothing more to say.
            Err(e) if e.is_reset() || e.is_go_away() => Poll::Ready(Ok(())),
            Err(e) => Poll::Ready(Err(h2_error(e))),
        }
    }
}
