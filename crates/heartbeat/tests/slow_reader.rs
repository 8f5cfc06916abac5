//! A client that stops reading: the heartbeat server casts it off with 1013 after the send
//! timeout, as every WebSocket server in the workspace does. In virtual time over an in-memory
//! pipe, so the ten-second timeout costs no real time.

#![allow(clippy::unwrap_used, reason = "in a test, a panic is a failure with a line number")]

use std::time::Duration;

use futures_util::SinkExt;
use heartbeat::Settings;
use heartbeat::server::{Ending, Shutdown, handle};
use tungstenite::Message;

#[tokio::test(start_paused = true)]
async fn a_client_that_stops_reading_is_closed_with_1013_after_the_send_timeout() {
    // A small pipe: the client's unread echoes fill it at once.
    let (client_end, server_end) = tokio::io::duplex(4 * 1024);
    let peer = "127.0.0.1:9".parse().unwrap();
    let shutdown = Shutdown::new();
    let watcher = shutdown.watcher();
    let server = tokio::spawn(async move { handle(server_end, peer, &Settings::default(), watcher).await });
    let mut client = ws_echo::client::connect_over(client_end, "test", heartbeat::PATH, None).await.unwrap();
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
