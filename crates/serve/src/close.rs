//! How a server ends a WebSocket connection, on tokio-tungstenite: the same few endings for the
//! echo, the heartbeat and the feed.
//!
//! - [`close`]: the close handshake of RFC 6455 §7.1: our close frame, then we read until the
//!   peer's answering close frame and the end of the stream, for at most the close timeout.
//!   Returning drops the stream, so the server closes TCP first (§7.1.1).
//! - [`fail`]: the answer to a broken rule or limit, *failing the connection* (§7.1.7): the close
//!   frame with the code the error deserves (1002, 1007, 1009), and no more processing of what
//!   the peer sends, not even its answering close frame. The bytes are still read and dropped
//!   until the peer closes its half (a *lingering close*, [`close_lingering`]), because closing a
//!   socket with unread bytes in it sends a reset (RST), which can destroy our close frame before
//!   the peer reads it.
//! - [`cast_off`]: giving up on a client that stopped reading: close 1013, then the connection is
//!   dropped.

use std::time::Duration;

use futures_util::StreamExt;
use guard::limits::SLOW_READER_CODE;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio_tungstenite::WebSocketStream;
use tungstenite::protocol::CloseFrame;
use tungstenite::protocol::frame::coding::CloseCode as TCloseCode;
use wire::CloseCode;

use crate::Limits;
use crate::limits::{close_code_for, short_reason};

/// How a connection ended, for the log and for tests.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Ending {
    /// The peer sent a close frame with this code (`None`: an empty close frame, reported as 1005).
    PeerClosed(Option<CloseCode>),
    /// We closed with this code because the peer broke a rule or a limit, or for the reason given.
    WeClosed(CloseCode, String),
    /// The TCP connection ended without a close handshake (the application's 1006).
    Dropped(String),
}

/// A close frame with `code` and `reason`, as tungstenite wants it.
pub fn frame(code: CloseCode, reason: &str) -> CloseFrame {
    CloseFrame { code: TCloseCode::from(code.0), reason: reason.into() }
}

// ANCHOR: close
/// Sends a close frame, then keeps reading until the peer's answering close frame and the end
/// of the stream, for at most the close timeout. Returning drops the stream: the server closes
/// TCP first, as RFC 6455 §7.1.1 asks.
pub async fn close<S>(mut ws: WebSocketStream<S>, code: CloseCode, reason: String, limits: &Limits) -> Ending
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let handshake = async {
        let _ = ws.close(Some(frame(code, &reason))).await;
        while let Some(Ok(_)) = ws.next().await {}
    };
    let _ = tokio::time::timeout(limits.close_timeout, handshake).await;
    Ending::WeClosed(code, reason)
}
// ANCHOR_END: close

// ANCHOR: fail
/// Fails the connection for `error` (RFC 6455 §7.1.7): the close frame with the code the error
/// deserves, then a lingering close. When there is nobody left to tell (the peer is gone), the
/// ending is [`Ending::Dropped`].
pub async fn fail<S>(ws: WebSocketStream<S>, error: &tungstenite::Error, limits: &Limits) -> Ending
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let Some(code) = close_code_for(error) else {
        return Ending::Dropped(error.to_string());
    };
    let reason = short_reason(error);
    close_lingering(ws, frame(code, &reason), limits.close_timeout).await;
    Ending::WeClosed(code, reason)
}

/// The close frame, our half of TCP closed, then the peer's bytes read and dropped until it
/// closes its half, for at most `close_timeout`. After an error tokio-tungstenite reads no more
/// frames (its stream has ended), so nothing the peer sends is processed: the bytes are only
/// taken out of the socket so that closing it sends no reset.
pub async fn close_lingering<S>(mut ws: WebSocketStream<S>, frame: CloseFrame, close_timeout: Duration)
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let linger = async {
        let _ = ws.close(Some(frame)).await;
        let stream = ws.get_mut();
        let _ = stream.shutdown().await;
        let mut discard = [0u8; 1024];
        while let Ok(1..) = stream.read(&mut discard).await {}
    };
    let _ = tokio::time::timeout(close_timeout, linger).await;
}
// ANCHOR_END: fail

/// Gives up on a client that stopped reading: close 1013 "try again later" if the frame still
/// goes out within the close timeout, then the connection is dropped. Nothing more is queued for
/// it, so it costs no more memory than it already did.
pub async fn cast_off<S>(mut ws: WebSocketStream<S>, limits: &Limits) -> Ending
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let reason = limits.slow_reader_reason();
    let _ =
        tokio::time::timeout(limits.close_timeout, ws.close(Some(frame(SLOW_READER_CODE, &reason)))).await;
    Ending::WeClosed(SLOW_READER_CODE, reason)
}
