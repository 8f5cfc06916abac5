//! Echo servers and clients over raw TCP, line-delimited TCP and length-prefixed TCP.
//!
//! The raw echo sends back whatever each `read` returned, so it never needs to know where a
//! message ends, but its client does: it can only tell that an echo is complete because it knows
//! how many bytes it sent. The framed echoes send back *messages*, found by the codecs in
//! [`crate::framing`]; their clients wait for a message, whatever the reads look like.

use std::fmt;

use bytes::Bytes;
use futures_util::{SinkExt, StreamExt};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio_util::codec::Framed;

use crate::Error;
use crate::framing::{MAX_LINE, length_codec, length_codec_with, lines_codec, lines_codec_with};

/// The port the standalone echo server listens on by default (7 is the echo service of RFC 862,
/// which needs root; 7007 does not).
pub const DEFAULT_PORT: u16 = 7007;

/// How messages are delimited on the connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Framing {
    /// None: a byte stream, echoed read by read.
    Raw,
    /// Each message ends with `\n` (tokio-util's `LinesCodec`).
    Lines,
    /// Each message follows its length, 4 bytes big-endian (tokio-util's `LengthDelimitedCodec`).
    LengthPrefixed,
}

impl fmt::Display for Framing {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Framing::Raw => "raw",
            Framing::Lines => "lines",
            Framing::LengthPrefixed => "length-prefixed",
        })
    }
}

/// What bounds one connection of the echo: the shared limits that apply to raw TCP (`guard`'s
/// message size, idle and send timeouts, connection cap and read buffer), and the line limit.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EchoLimits {
    /// Every server's limits; those about HTTP heads and the WebSocket close do not apply here.
    pub shared: guard::Limits,
    /// The longest line the line echo accepts; see [`MAX_LINE`].
    pub max_line: usize,
}

impl Default for EchoLimits {
    fn default() -> Self {
        EchoLimits::from(guard::Limits::default())
    }
}

/// The shared limits alone: lines of up to [`MAX_LINE`].
impl From<guard::Limits> for EchoLimits {
    fn from(shared: guard::Limits) -> Self {
        EchoLimits { shared, max_line: MAX_LINE }
    }
}

/// Serves the echo with `framing` on `listener` until the listener fails, a task per connection,
/// with every server's default limits (`guard`).
pub async fn serve(listener: TcpListener, framing: Framing) -> std::io::Result<()> {
    let limits = guard::Limits::default();
    let slots = guard::Slots::new(limits.max_connections);
    serve_with(listener, framing, limits, slots).await
}

/// [`serve`] with chosen limits (`guard::Limits`, or [`EchoLimits`] for another line limit),
/// counting connections in `slots` (whose maximum applies). Raw TCP has no way to say "busy":
/// past the cap a connection is closed at once.
pub async fn serve_with(
    listener: TcpListener,
    framing: Framing,
    limits: impl Into<EchoLimits>,
    slots: guard::Slots,
) -> std::io::Result<()> {
    let limits = std::sync::Arc::new(limits.into());
    // The accept loop every server shares (`guard::accept`): a task and a slot per connection,
    // and a pause instead of a busy loop when file descriptors run out.
    guard::accept::serve(listener, slots, guard::WhenFull::Close, |stream, peer| {
        let limits = limits.clone();
        async move {
            match handle_with(stream, framing, &limits).await {
                Ok(()) => tracing::info!(%peer, "connection closed"),
                Err(e) => tracing::info!(%peer, "connection ended: {e}"),
            }
        }
    })
    .await
}

/// Echoes on one connection until the client closes its side.
pub async fn handle(stream: TcpStream, framing: Framing) -> Result<(), Error> {
    handle_with(stream, framing, &EchoLimits::default()).await
}

/// [`handle`] within `limits`: a client that sends nothing for the idle timeout, or does not take
/// what is sent back for the send timeout, is disconnected; a length-prefixed message may be at
/// most `limits.shared.max_message` bytes, a line at most `limits.max_line`.
pub async fn handle_with(stream: TcpStream, framing: Framing, limits: &EchoLimits) -> Result<(), Error> {
    let (max_line, limits) = (limits.max_line, &limits.shared);
    match framing {
        Framing::Raw => echo_raw(stream, limits).await,
        // A message the codec refuses (too long, or a line that is not UTF-8) gets one message
        // saying why, in the connection's own framing, and the connection is closed: after a
        // framing error, nobody knows where the next message starts.
        Framing::Lines => {
            let mut framed = Framed::with_capacity(stream, lines_codec_with(max_line), limits.read_buffer);
            while let Some(line) = within(limits.idle_timeout, framed.next()).await? {
                match line {
                    Ok(line) => within(Some(limits.send_timeout), framed.send(line)).await??,
                    Err(e) => {
                        let _ = within(Some(limits.send_timeout), framed.send(format!("error: {e}"))).await;
                        return Err(e.into());
                    }
                }
            }
            Ok(())
        }
        Framing::LengthPrefixed => {
            let codec = length_codec_with(limits.max_message);
            let mut framed = Framed::with_capacity(stream, codec, limits.read_buffer);
            while let Some(message) = within(limits.idle_timeout, framed.next()).await? {
                match message {
                    Ok(message) => within(Some(limits.send_timeout), framed.send(message.freeze())).await??,
                    Err(e) => {
                        let error = Bytes::from(format!("error: {e}"));
                        let _ = within(Some(limits.send_timeout), framed.send(error)).await;
                        return Err(e.into());
                    }
                }
            }
            Ok(())
        }
    }
}

/// `future`, given at most `limit` (`None`: all the time it needs); `Error::TimedOut` after.
async fn within<F: std::future::Future>(
    limit: Option<std::time::Duration>,
    future: F,
) -> Result<F::Output, Error> {
    match limit {
        Some(limit) => tokio::time::timeout(limit, future).await.map_err(|_| Error::TimedOut(limit)),
        None => Ok(future.await),
    }
}

// ANCHOR: echo_raw
/// The raw echo: whatever one `read` returned goes straight back. It never looks for messages,
/// so the size of its buffer (`--read-buffer`, 4 KiB by default) is not a message size.
async fn echo_raw(mut stream: TcpStream, limits: &guard::Limits) -> Result<(), Error> {
    let mut buf = vec![0u8; limits.read_buffer];
    loop {
        let n = within(limits.idle_timeout, stream.read(&mut buf)).await??;
        if n == 0 {
            // The client sent FIN: nothing more will come, so close our side too.
            stream.shutdown().await?;
            return Ok(());
        }
        within(Some(limits.send_timeout), stream.write_all(&buf[..n])).await??;
    }
}
// ANCHOR_END: echo_raw

/// Sends each message and waits for its echo, then closes. Returns the echoes.
///
/// One message at a time, so that what crosses the wire is in the same order on every run.
pub async fn exchange(stream: TcpStream, framing: Framing, messages: &[&str]) -> Result<Vec<String>, Error> {
    let mut echoes = Vec::new();
    match framing {
        Framing::Raw => {
            let mut stream = stream;
            for message in messages {
                stream.write_all(message.as_bytes()).await?;
                echoes.push(read_raw_echo(&mut stream, message).await?);
            }
            stream.shutdown().await?;
            expect_end(&mut stream).await?;
        }
        Framing::Lines => {
            let mut framed = Framed::new(stream, lines_codec());
            for message in messages {
                framed.send(*message).await?;
                let echo = framed.next().await.ok_or_else(|| closed(message))??;
                echoes.push(echo);
            }
            framed.get_mut().shutdown().await?;
            expect_end(framed.get_mut()).await?;
        }
        Framing::LengthPrefixed => {
            let mut framed = Framed::new(stream, length_codec());
            for message in messages {
                framed.send(Bytes::copy_from_slice(message.as_bytes())).await?;
                let echo = framed.next().await.ok_or_else(|| closed(message))??;
                echoes.push(String::from_utf8_lossy(&echo).into_owned());
            }
            framed.get_mut().shutdown().await?;
            expect_end(framed.get_mut()).await?;
        }
    }
    Ok(echoes)
}

// ANCHOR: raw_client_wait
/// Raw TCP says nothing about where the echo ends: the client waits for as many bytes as it sent
/// because it happens to know the count, not because the stream tells it.
async fn read_raw_echo(stream: &mut TcpStream, sent: &str) -> Result<String, Error> {
    let mut echo = vec![0u8; sent.len()];
    stream.read_exact(&mut echo).await?;
    Ok(String::from_utf8_lossy(&echo).into_owned())
}
// ANCHOR_END: raw_client_wait

fn closed(message: &str) -> Error {
    Error::Closed { after: format!("we sent {message:?}") }
}

/// Reads until the server closes its side, so the server closes first and the transcript ends
/// the same way every time.
async fn expect_end(stream: &mut TcpStream) -> Result<(), Error> {
    let mut rest = Vec::new();
    stream.read_to_end(&mut rest).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn round_trip(framing: Framing) -> Vec<String> {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let server = tokio::spawn(serve(listener, framing));
        let stream = TcpStream::connect(addr).await.unwrap();
        let echoes = exchange(stream, framing, &crate::THREE_MESSAGES).await.unwrap();
        server.abort();
        echoes
    }

    #[tokio::test]
    async fn a_line_over_the_limit_is_answered_with_an_error_line_and_the_connection_closes() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let server = tokio::spawn(serve(listener, Framing::Lines));
        let mut stream = TcpStream::connect(addr).await.unwrap();
        stream.write_all(&vec![b'x'; crate::framing::MAX_LINE + 1]).await.unwrap();
        let mut answer = String::new();
        stream.read_to_string(&mut answer).await.unwrap();
        server.abort();
        assert!(answer.starts_with("error: ") && answer.ends_with('\n'), "{answer:?}");
    }

    #[tokio::test]
    async fn the_line_limit_is_the_servers_to_choose() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let limits = EchoLimits { max_line: 16, ..EchoLimits::default() };
        let server = tokio::spawn(serve_with(listener, Framing::Lines, limits, guard::Slots::new(4)));
        let mut stream = TcpStream::connect(addr).await.unwrap();
        // 16 bytes and a newline: at the limit, echoed. Then 17 bytes: over it.
        stream.write_all(b"sixteen bytes ok\nseventeen bytes!!\n").await.unwrap();
        let mut answer = String::new();
        stream.read_to_string(&mut answer).await.unwrap();
        server.abort();
        let (echo, error) = answer.split_once('\n').unwrap();
        assert_eq!(echo, "sixteen bytes ok", "a line of max_line bytes is echoed");
        assert!(error.starts_with("error: ") && error.ends_with('\n'), "the next line is refused: {error:?}");
    }

    #[tokio::test]
    async fn every_framing_echoes_the_three_messages() {
        for framing in [Framing::Raw, Framing::Lines, Framing::LengthPrefixed] {
            assert_eq!(round_trip(framing).await, crate::THREE_MESSAGES, "{framing} echo");
        }
    }
}
