//! Reading an HTTP request head with a size limit and a time limit, async or blocking.
//!
//! Every server that reads a head itself (the echoes, the by-hand server, the heartbeat) reads it
//! here, so they all stop at the same size ([`Limits::max_head`], then 431), give up at the same
//! time ([`Limits::handshake_timeout`], then 408) and answer garbage the same way (400). The time
//! limit is for the *whole* head: a client that sends one byte every few seconds gets no more
//! time than one that sends nothing.

use std::io::Read;
use std::net::TcpStream;
use std::time::{Duration, Instant};

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite};
use wire::handshake::Rejection;
use wire::http::Head;

use crate::Limits;
use crate::refuse::{HandshakeError, send_rejection, send_rejection_blocking};

/// Bytes read from the socket at a time while the head arrives: a head is small, and a smaller
/// read never takes more than the head and a little after it.
const CHUNK: usize = 1024;

/// Why no request head was read.
#[derive(Debug, thiserror::Error)]
pub enum HeadError {
    /// The whole head did not arrive in time.
    #[error("the request head did not arrive within {} s", .0.as_secs_f64())]
    TimedOut(Duration),
    /// The head grew past the limit before it ended.
    #[error("the request head is larger than {0} bytes")]
    TooLarge(usize),
    /// The bytes are not an HTTP/1.x request.
    #[error("malformed HTTP request: {0}")]
    Malformed(String),
    /// The client closed the connection before its head was complete.
    #[error("the client went away before its request was complete")]
    Vanished,
    /// A socket error.
    #[error("I/O error while reading the request head: {0}")]
    Io(#[from] std::io::Error),
}

impl HeadError {
    /// The HTTP error that answers it: 408, 431 or 400; `None` when nobody is left to answer.
    pub fn rejection(&self) -> Option<Rejection> {
        let status = match self {
            HeadError::TimedOut(_) => 408,
            HeadError::TooLarge(_) => 431,
            HeadError::Malformed(_) => 400,
            HeadError::Vanished | HeadError::Io(_) => return None,
        };
        Some(Rejection { status, message: self.to_string(), headers: Vec::new() })
    }
}

/// What [`Gather::push`] found in the bytes so far.
enum Progress {
    Done(Head, Vec<u8>),
    More,
}

/// The bytes of a head as they arrive, and the checks after each read: shared by the async and
/// the blocking reader, so they cannot disagree.
struct Gather {
    buf: Vec<u8>,
    max: usize,
}

impl Gather {
    fn new(max: usize) -> Gather {
        Gather { buf: Vec::with_capacity(CHUNK), max }
    }

    fn push(&mut self, bytes: &[u8]) -> Result<Progress, HeadError> {
        if bytes.is_empty() {
            return Err(HeadError::Vanished);
        }
        self.buf.extend_from_slice(bytes);
        match Head::parse_request(&self.buf) {
            Ok(Some(head)) if head.len > self.max => Err(HeadError::TooLarge(self.max)),
            Ok(Some(head)) => {
                // TCP does not stop at the end of the head: the first frames may share a read.
                let leftover = self.buf.split_off(head.len);
                Ok(Progress::Done(head, leftover))
            }
            Ok(None) if self.buf.len() > self.max => Err(HeadError::TooLarge(self.max)),
            Ok(None) => Ok(Progress::More),
            // More header fields than a head may have is a head too large, not a malformed one.
            Err(e) if e.0.contains("too many headers") => Err(HeadError::TooLarge(self.max)),
            Err(e) => Err(HeadError::Malformed(e.0)),
        }
    }
}

/// Reads until a whole request head of at most `max` bytes has arrived, with no time limit of
/// its own. Returns the head and any bytes that came after it.
pub async fn read_head<S>(stream: &mut S, max: usize) -> Result<(Head, Vec<u8>), HeadError>
where
    S: AsyncRead + Unpin,
{
    let mut gather = Gather::new(max);
    let mut chunk = [0u8; CHUNK];
    loop {
        let n = stream.read(&mut chunk).await?;
        if let Progress::Done(head, leftover) = gather.push(&chunk[..n])? {
            return Ok((head, leftover));
        }
    }
}

// ANCHOR: read_request
/// Reads a request head within `limits` (size and time). On a bad head, the HTTP error that
/// answers it (400, 408, 431) has been written and the connection shut down.
pub async fn read_request<S>(stream: &mut S, limits: &Limits) -> Result<(Head, Vec<u8>), HandshakeError>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let read = tokio::time::timeout(limits.handshake_timeout, read_head(stream, limits.max_head)).await;
    let error = match read {
        Ok(Ok(read)) => return Ok(read),
        Ok(Err(error)) => error,
        Err(_elapsed) => HeadError::TimedOut(limits.handshake_timeout),
    };
    match error.rejection() {
        Some(rejection) => send_rejection(stream, rejection).await,
        None => Err(error.into()),
    }
}
// ANCHOR_END: read_request

/// The blocking twin of [`read_request`], for a thread per connection. The deadline is for the
/// whole head: before each read, the socket's read timeout is set to the time that is left.
/// The read timeout is cleared again before returning.
pub fn read_request_blocking(
    stream: &mut TcpStream,
    limits: &Limits,
) -> Result<(Head, Vec<u8>), HandshakeError> {
    let result = read_head_blocking(stream, limits);
    let _ = stream.set_read_timeout(None);
    let error = match result {
        Ok(read) => return Ok(read),
        Err(error) => error,
    };
    match error.rejection() {
        Some(rejection) => send_rejection_blocking(stream, rejection),
        None => Err(error.into()),
    }
}

fn read_head_blocking(stream: &mut TcpStream, limits: &Limits) -> Result<(Head, Vec<u8>), HeadError> {
    let deadline = Instant::now() + limits.handshake_timeout;
    let mut gather = Gather::new(limits.max_head);
    let mut chunk = [0u8; CHUNK];
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        // A zero timeout means "block for ever" to the socket, so time up is handled here.
        if left.is_zero() {
            return Err(HeadError::TimedOut(limits.handshake_timeout));
        }
        stream.set_read_timeout(Some(left))?;
        let n = match stream.read(&mut chunk) {
            Ok(n) => n,
            // Linux reports a read timeout as `WouldBlock`, Windows as `TimedOut`.
            Err(e) if matches!(e.kind(), std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut) => {
                return Err(HeadError::TimedOut(limits.handshake_timeout));
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e.into()),
        };
        if let Progress::Done(head, leftover) = gather.push(&chunk[..n])? {
            return Ok((head, leftover));
        }
    }
}

#[cfg(test)]
mod tests {
    use tokio::io::{AsyncWriteExt, duplex};

    use super::*;

    const GET: &[u8] = b"GET / HTTP/1.1\r\nHost: x\r\n\r\n";

    #[tokio::test]
    async fn a_head_and_what_followed_it_come_back_apart() {
        let (mut client, mut server) = duplex(1024);
        client.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n\x81\x80").await.unwrap();
        let (head, leftover) = read_head(&mut server, 1024).await.unwrap();
        assert_eq!(head.len, GET.len());
        assert_eq!(leftover, b"\x81\x80");
    }

    #[tokio::test]
    async fn a_head_that_ends_past_the_limit_is_too_large_even_in_one_read() {
        let (mut client, mut server) = duplex(1024);
        client.write_all(GET).await.unwrap();
        let error = read_head(&mut server, GET.len() - 1).await.unwrap_err();
        assert!(matches!(error, HeadError::TooLarge(_)), "{error}");
        assert_eq!(error.rejection().unwrap().status, 431);
    }

    #[tokio::test(start_paused = true)]
    async fn a_dribbled_head_gets_408_after_the_timeout_whatever_it_sends() {
        let (mut client, mut server) = duplex(1024);
        let limits = Limits::default();
        let reader = tokio::spawn(async move { read_request(&mut server, &Limits::default()).await });
        // One byte a second: every single read is quick, the whole head is not.
        for byte in GET {
            // After the timeout the server has shut the pipe: that is the answer, not a failure.
            if client.write_all(&[*byte]).await.is_err() {
                break;
            }
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
        let mut answer = Vec::new();
        tokio::io::AsyncReadExt::read_to_end(&mut client, &mut answer).await.unwrap();
        let answer = String::from_utf8(answer).unwrap();
        assert!(answer.starts_with("HTTP/1.1 408 Request Timeout\r\n"), "{answer}");
        let result = reader.await.unwrap();
        assert!(
            matches!(result, Err(HandshakeError::Refused { status: 408, .. })),
            "after {:?}: {result:?}",
            limits.handshake_timeout
        );
    }

    #[test]
    fn the_blocking_reader_answers_a_timeout_with_408() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let mut client = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        let (mut server, _) = listener.accept().unwrap();
        std::io::Write::write_all(&mut client, b"GET / HT").unwrap();
        let limits = Limits { handshake_timeout: Duration::from_millis(50), ..Limits::default() };
        let result = read_request_blocking(&mut server, &limits);
        assert!(matches!(result, Err(HandshakeError::Refused { status: 408, .. })), "{result:?}");
        let mut answer = String::new();
        client.read_to_string(&mut answer).unwrap();
        assert!(answer.starts_with("HTTP/1.1 408 Request Timeout\r\n"), "{answer}");
    }
}
