//! A message over the limit: the heartbeat server closes with 1009 and lingers, reading and
//! dropping the rest of the refused message until the client has closed too, as the echo does
//! (`ws_echo::server::close_lingering`). In virtual time over an in-memory pipe.

#![allow(clippy::unwrap_used, reason = "in a test, a panic is a failure with a line number")]

use futures_util::{SinkExt, StreamExt};
use heartbeat::Settings;
use heartbeat::server::{Ending, Shutdown, handle};
use tungstenite::Message;

#[tokio::test(start_paused = true)]
async fn a_message_over_the_limit_gets_1009_and_the_server_reads_on_until_the_client_closes() {
    // A pipe smaller than the message: the client's send completes only if the server goes on
    // reading (and throwing away) what it refused. Dropping the connection with the rest
    // unread would, on TCP, be a reset that can destroy the close frame.
    let (client_end, server_end) = tokio::io::duplex(16 * 1024);
    let peer = "127.0.0.1:9".parse().unwrap();
    let shutdown = Shutdown::new();
    let watcher = shutdown.watcher();
    let server = tokio::spawn(async move { handle(server_end, peer, &Settings::default(), watcher).await });
    let mut client = ws_echo::client::connect_over(client_end, "test", heartbeat::PATH, None).await.unwrap();
    client.send(Message::text("x".repeat(ws_echo::limits::MAX_MESSAGE + 1))).await.unwrap();
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
