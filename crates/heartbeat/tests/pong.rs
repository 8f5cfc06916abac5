//! tungstenite answers pings by itself, but its pong waits in a queue until the application next
//! reads, writes or flushes. These tests show both halves of that sentence on the bytes.
//!
//! The "client" here is raw bytes on an in-memory pipe, so the test sees exactly what the server
//! wrote and when; the clock is paused, so "nothing arrives within a minute" costs no real time.

#![allow(clippy::unwrap_used, reason = "in a test, a panic is a failure with a line number")]

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use tokio::io::{AsyncReadExt, AsyncWriteExt, DuplexStream};
use tokio_tungstenite::WebSocketStream;
use tungstenite::Message;
use tungstenite::protocol::Role;
use wire::Frame;

/// A server-side WebSocket on one end of a pipe, and the raw other end.
async fn server_and_raw_client() -> (WebSocketStream<DuplexStream>, DuplexStream) {
    let (raw, server_end) = tokio::io::duplex(4096);
    let ws = WebSocketStream::from_raw_socket(server_end, Role::Server, None).await;
    (ws, raw)
}

/// Whether the raw client can read anything within a (virtual) minute.
async fn nothing_arrives(raw: &mut DuplexStream) -> bool {
    let mut buf = [0u8; 64];
    tokio::time::timeout(Duration::from_secs(60), raw.read(&mut buf)).await.is_err()
}

// ANCHOR: pong_waits
#[tokio::test(start_paused = true)]
async fn the_pong_is_queued_when_the_ping_is_read_and_written_at_the_next_flush() {
    let (mut ws, mut raw) = server_and_raw_client().await;
    raw.write_all(&Frame::ping("are you there?").masked([1, 2, 3, 4]).encode()).await.unwrap();

    // The application reads, and tungstenite hands it the ping: the answer is not its job...
    let message = ws.next().await.unwrap().unwrap();
    assert_eq!(message, Message::Ping("are you there?".into()));
    // ...but nothing has been written yet: the pong waits in tungstenite's queue.
    assert!(nothing_arrives(&mut raw).await, "no pong until the application reads, writes or flushes");

    // Any flush, write or read writes it.
    ws.flush().await.unwrap();
    let mut pong = [0u8; 16];
    raw.read_exact(&mut pong).await.unwrap();
    assert_eq!(pong.to_vec(), Frame::pong("are you there?").encode(), "8a 0e, then the ping's payload");
}
// ANCHOR_END: pong_waits

#[tokio::test(start_paused = true)]
async fn the_next_read_writes_the_queued_pong_before_it_waits_for_data() {
    let (mut ws, mut raw) = server_and_raw_client().await;
    raw.write_all(&Frame::ping("1").masked([1, 2, 3, 4]).encode()).await.unwrap();
    assert_eq!(ws.next().await.unwrap().unwrap(), Message::Ping("1".into()));
    // A loop that goes straight back to `next()` answers at once, though no message comes.
    let mut pong = [0u8; 3];
    tokio::select! {
        _ = ws.next() => panic!("the client sent nothing more, so the read should still be waiting"),
        read = raw.read_exact(&mut pong) => read.unwrap(),
    };
    assert_eq!(pong.to_vec(), Frame::pong("1").encode());
}

#[tokio::test(start_paused = true)]
async fn a_busy_application_that_does_not_read_leaves_pings_unanswered() {
    let (mut ws, mut raw) = server_and_raw_client().await;
    // The application is busy elsewhere (a long computation, a slow database) and does not read.
    raw.write_all(&Frame::ping("1").masked([1, 2, 3, 4]).encode()).await.unwrap();
    assert!(nothing_arrives(&mut raw).await, "nobody reads the ping, so nobody answers it");
    // When it reads again, the pong goes out, a minute late: the peer's heartbeat may have
    // given up by then.
    assert_eq!(ws.next().await.unwrap().unwrap(), Message::Ping("1".into()));
    ws.flush().await.unwrap();
    let mut pong = [0u8; 3];
    raw.read_exact(&mut pong).await.unwrap();
    assert_eq!(pong.to_vec(), Frame::pong("1").encode());
}
