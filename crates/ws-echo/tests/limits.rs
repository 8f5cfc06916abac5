//! The echo's idle and send timeouts, in virtual time over an in-memory pipe.

#![allow(clippy::unwrap_used, reason = "in a test, a panic is a failure with a line number")]

use futures_util::{SinkExt, StreamExt};
use tokio::io::duplex;
use tungstenite::Message;
use ws_echo::server::{Ending, echo};
use ws_echo::{Limits, PATH};

async fn open(
    capacity: usize,
) -> (tokio_tungstenite::WebSocketStream<tokio::io::DuplexStream>, tokio::task::JoinHandle<Ending>) {
    let (client_end, server_end) = duplex(capacity);
    let server = tokio::spawn(async move {
        let limits = Limits::default();
        let (ws, _) = serve::accept::accept(server_end, PATH, &limits).await.unwrap();
        echo(ws, &limits).await
    });
    let client = serve::client::connect_over(client_end, "test", PATH, None).await.unwrap();
    (client, server)
}

#[tokio::test(start_paused = true)]
async fn an_idle_client_is_closed_with_1000_after_the_idle_timeout() {
    let (mut client, server) = open(64 * 1024).await;
    let close = client.next().await.unwrap().unwrap();
    let Message::Close(Some(frame)) = close else { panic!("expected a close frame, got {close:?}") };
    assert_eq!(u16::from(frame.code), 1000);
    assert!(frame.reason.starts_with("idle for "), "{}", frame.reason);
    while client.next().await.is_some() {}
    assert!(matches!(server.await.unwrap(), Ending::WeClosed(wire::CloseCode::NORMAL, _)));
}

#[tokio::test(start_paused = true)]
async fn a_client_that_stops_reading_is_closed_with_1013_after_the_send_timeout() {
    let (mut client, server) = open(4 * 1024).await;
    let message = Message::binary(vec![7u8; 1000]);
    loop {
        let send = client.send(message.clone());
        if tokio::time::timeout(std::time::Duration::from_secs(1), send).await.is_err() {
            break;
        }
    }
    let ending = server.await.unwrap();
    assert!(
        matches!(ending, Ending::WeClosed(code, _) if code == guard::limits::SLOW_READER_CODE),
        "{ending:?}"
    );
}

#[tokio::test(start_paused = true)]
async fn a_message_over_the_limit_gets_1009_and_the_server_reads_on_until_the_client_closes() {
    // A pipe smaller than the message: the client's send only completes if the server goes on
    // reading (and throwing away) the message it refused, instead of dropping the connection
    // with the rest unread, which on TCP is a reset that can destroy the close frame.
    let (mut client, server) = open(16 * 1024).await;
    client.send(Message::text("x".repeat(guard::limits::MAX_MESSAGE + 1))).await.unwrap();
    let close = client.next().await.unwrap().unwrap();
    let Message::Close(Some(frame)) = close else { panic!("expected a close frame, got {close:?}") };
    assert_eq!(u16::from(frame.code), 1009);
    // tungstenite answers the close; the server then ends its half and the stream ends cleanly.
    while let Some(next) = client.next().await {
        next.unwrap();
    }
    drop(client);
    let ending = server.await.unwrap();
    assert!(matches!(ending, Ending::WeClosed(wire::CloseCode::TOO_BIG, _)), "{ending:?}");
}
