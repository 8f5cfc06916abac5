//! The heartbeat server's limits, as every WebSocket server in the workspace has them: a client
//! that stops reading is cast off with 1013 after the send timeout, and a message over the limit
//! gets 1009 with a lingering close (the rest of the refused message read and dropped until the
//! client has closed too, `serve::close::close_lingering`). In virtual time over an in-memory
//! pipe, so the ten-second timeout costs no real time.

#![allow(clippy::unwrap_used, reason = "in a test, a panic is a failure with a line number")]

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use heartbeat::Settings;
use heartbeat::server::{Ending, Shutdown, handle};
use tokio::io::DuplexStream;
use tokio::task::JoinHandle;
use tokio_tungstenite::WebSocketStream;
use tungstenite::Message;

/// A client connected to the heartbeat server over a pipe of `capacity` bytes, and the server's
/// task, which reports how the connection ended.
async fn open(capacity: usize) -> (WebSocketStream<DuplexStream>, JoinHandle<Option<Ending>>, Shutdown) {
    let (client_end, server_end) = tokio::io::duplex(capacity);
    let peer = "127.0.0.1:9".parse().unwrap();
    let shutdown = Shutdown::new();
    let watcher = shutdown.watcher();
    let server = tokio::spawn(async move { handle(server_end, peer, &Settings::default(), watcher).await });
    let client = serve::client::connect_over(client_end, "test", heartbeat::PATH, None).await.unwrap();
    (client, server, shutdown)
}

#[tokio::test(start_paused = true)]
async fn a_client_that_stops_reading_is_closed_with_1013_after_the_send_timeout() {
    // A small pipe: the client's unread echoes fill it at once.
    let (mut client, server, _shutdown) = open(4 * 1024).await;
    // Send until a send waits (a virtual second): the server is stuck writing echoes that the
    // client never reads, so it has stopped reading too.
    let message = Message::binary(vec![7u8; 1000]);
    while tokio::time::timeout(Duration::from_secs(1), client.send(message.clone())).await.is_ok() {}
    // Far past the send timeout (10 s) and the close timeout (5 s), in virtual time.
    let ending = tokio::time::timeout(Duration::from_secs(60), server)
        .await
        .expect("the server should have given up on the client within a minute")
        .unwrap();
    assert!(
        matches!(ending, Some(Ending::WeClosed(code, _)) if code == guard::limits::SLOW_READER_CODE),
        "expected the server to give up with 1013 (try again later), got {ending:?}"
    );
}

#[tokio::test(start_paused = true)]
async fn a_message_over_the_limit_gets_1009_and_the_server_reads_on_until_the_client_closes() {
    // A pipe smaller than the message: the client's send completes only if the server goes on
    // reading (and throwing away) what it refused. Dropping the connection with the rest
    // unread would, on TCP, be a reset that can destroy the close frame.
    let (mut client, server, _shutdown) = open(16 * 1024).await;
    client.send(Message::text("x".repeat(guard::limits::MAX_MESSAGE + 1))).await.unwrap();
    let close = loop {
        match client.next().await.unwrap().unwrap() {
            // The server may ping before it reads the message.
            Message::Ping(_) | Message::Pong(_) => continue,
            other => break other,
        }
    };
    let Message::Close(Some(frame)) = close else { panic!("expected a close frame, got {close:?}") };
    assert_eq!(u16::from(frame.code), 1009);
    // tungstenite answers the close; the server then ends its half and the stream ends cleanly.
    while let Some(next) = client.next().await {
        next.unwrap();
    }
    drop(client);
    let ending = server.await.unwrap();
    assert!(matches!(ending, Some(Ending::WeClosed(wire::CloseCode::TOO_BIG, _))), "{ending:?}");
}
