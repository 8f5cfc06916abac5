//! tungstenite's client, which knows nothing of this crate, talks to the by-hand server.

#![allow(clippy::unwrap_used, reason = "in a test, a panic is a failure with a line number")]

use futures_util::{SinkExt, StreamExt};
use tokio::net::{TcpListener, TcpStream};
use tungstenite::Message;
use ws_by_hand::{Limits, PATH};

async fn start_server() -> std::net::SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(ws_by_hand::server::serve(listener, Limits::default()));
    addr
}

#[tokio::test]
async fn tungstenites_client_runs_the_echo_chapters_session_against_the_by_hand_server() {
    let addr = start_server().await;
    let stream = TcpStream::connect(addr).await.unwrap();
    // A random key this time: tungstenite checks the accept value against it.
    let ws = serve::client::connect_over(stream, &addr.to_string(), PATH, None).await.unwrap();
    let steps = serve::client::scripted_session(ws).await.unwrap();
    let received: Vec<&str> = steps.iter().map(|s| s.received.as_str()).collect();
    assert_eq!(
        received,
        [
            "text \"Hello, WebSocket!\"",
            "binary [de, ad, be, ef]",
            "pong \"are you there?\"",
            "close 1000 normal closure \"done\"",
        ],
        "the by-hand server should answer tungstenite's client exactly as the tungstenite echo does"
    );
}

#[tokio::test]
async fn tungstenites_client_gets_a_large_message_back_whole() {
    let addr = start_server().await;
    let (mut ws, _) = tokio_tungstenite::connect_async(format!("ws://{addr}{PATH}")).await.unwrap();
    let big = "x".repeat(60_000);
    ws.send(Message::text(big.clone())).await.unwrap();
    let echo = ws.next().await.unwrap().unwrap();
    assert_eq!(echo, Message::text(big), "a 60 kB message fits the 64 KiB limit and comes back whole");
    ws.close(None).await.unwrap();
    while let Some(Ok(_)) = ws.next().await {}
}

#[tokio::test]
async fn tungstenite_reports_our_1009_for_a_message_over_the_limit() {
    let addr = start_server().await;
    let (mut ws, _) = tokio_tungstenite::connect_async(format!("ws://{addr}{PATH}")).await.unwrap();
    ws.send(Message::binary(vec![0u8; ws_by_hand::limits::MAX_MESSAGE + 1])).await.unwrap();
    match ws.next().await.unwrap().unwrap() {
        Message::Close(Some(frame)) => assert_eq!(u16::from(frame.code), 1009, "{frame:?}"),
        other => panic!("expected close 1009 for a message over the limit, got {other:?}"),
    }
}
