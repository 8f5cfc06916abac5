//! The by-hand server's timeouts, in virtual time: an in-memory pipe stands in for TCP and the
//! clock is paused, so a 5-second timeout takes no time at all and cannot flake.

#![allow(clippy::unwrap_used, reason = "in a test, a panic is a failure with a line number")]

use tokio::io::{AsyncReadExt, duplex};
use wire::CloseCode;
use wire::frame::{Frame, OpCode};
use ws_by_hand::client::Client;
use ws_by_hand::server::{Outcome, run};
use ws_by_hand::session::Ending;
use ws_by_hand::{Limits, PATH, RFC_KEY, limits};

#[tokio::test(start_paused = true)]
async fn a_client_that_never_answers_our_close_is_dropped_after_the_close_timeout() {
    let (client_end, server_end) = duplex(64 * 1024);
    let server = tokio::spawn(async move { run(server_end, &Limits::default()).await });
    let mut client = Client::handshake(client_end, "test", PATH, RFC_KEY).await.unwrap();
    client.send(&Frame::text("unmasked")).await.unwrap();
    let close = client.next_frame().await.unwrap().unwrap();
    assert_eq!(close.opcode, OpCode::Close);
    let sent_close = tokio::time::Instant::now();
    // We never answer. The server must close its end anyway, once the close timeout is over.
    let rest = client.read_to_end().await.unwrap();
    assert!(rest.is_empty(), "{rest:?}");
    assert!(
        sent_close.elapsed() >= limits::CLOSE_TIMEOUT,
        "the server waits CLOSE_TIMEOUT for the answer before giving up (virtual time)"
    );
    let outcome = server.await.unwrap().unwrap();
    assert!(
        matches!(outcome, Outcome::CloseTimedOut(Ending::WeClosed(CloseCode::PROTOCOL, _))),
        "{outcome:?}"
    );
}

#[tokio::test(start_paused = true)]
async fn a_client_that_sends_no_request_gets_408_after_the_handshake_timeout() {
    let (mut client_end, server_end) = duplex(64 * 1024);
    let server = tokio::spawn(async move { run(server_end, &Limits::default()).await });
    let mut answer = Vec::new();
    client_end.read_to_end(&mut answer).await.unwrap();
    let answer = String::from_utf8(answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 408 Request Timeout\r\n"), "{answer}");
    assert!(server.await.unwrap().is_err(), "the handshake failed");
}
