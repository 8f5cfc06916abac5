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
    // Silent until the idle timeout: the server starts the close handshake (1000 "idle").
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
    assert!(matches!(outcome, Outcome::CloseTimedOut(Ending::WeClosed(CloseCode::NORMAL, _))), "{outcome:?}");
}

#[tokio::test(start_paused = true)]
async fn after_failing_the_connection_the_server_closes_its_side_at_once_and_processes_nothing_more() {
    let (client_end, server_end) = duplex(64 * 1024);
    let server = tokio::spawn(async move { run(server_end, &Limits::default()).await });
    let mut client = Client::handshake(client_end, "test", PATH, RFC_KEY).await.unwrap();
    client.send(&Frame::text("unmasked")).await.unwrap();
    let close = client.next_frame().await.unwrap().unwrap();
    assert_eq!(close.opcode, OpCode::Close);
    let sent_close = tokio::time::Instant::now();
    // RFC 6455 §7.1.7: having failed the connection, the server waits for no close frame. Its FIN
    // follows its close frame at once, before we answer anything.
    let rest = client.read_to_end().await.unwrap();
    assert!(rest.is_empty(), "nothing may follow a close frame: {rest:?}");
    assert!(
        sent_close.elapsed() < limits::CLOSE_TIMEOUT,
        "after failing the connection the server closes its side at once, not after the close \
         timeout (it waited {:?} of virtual time for an answer it must not process)",
        sent_close.elapsed()
    );
    // What we send now is read and dropped (a lingering close), our close frame too; then we close.
    client.send(&Frame::text("still talking").masked([1, 2, 3, 4])).await.unwrap();
    client.send(&Frame::new(OpCode::Close, close.payload.clone()).masked([1, 2, 3, 4])).await.unwrap();
    client.shutdown().await.unwrap();
    let outcome = server.await.unwrap().unwrap();
    assert!(matches!(outcome, Outcome::Closed(Ending::WeClosed(CloseCode::PROTOCOL, _))), "{outcome:?}");
}

#[tokio::test(start_paused = true)]
async fn after_failing_the_connection_the_server_drains_at_most_the_close_timeout() {
    let (client_end, server_end) = duplex(64 * 1024);
    let server = tokio::spawn(async move { run(server_end, &Limits::default()).await });
    let mut client = Client::handshake(client_end, "test", PATH, RFC_KEY).await.unwrap();
    client.send(&Frame::text("unmasked")).await.unwrap();
    assert!(client.read_to_end().await.unwrap().iter().any(|frame| frame.opcode == OpCode::Close));
    // We keep our side open and never close it: the server stops reading after the close timeout.
    let started = tokio::time::Instant::now();
    let outcome = server.await.unwrap().unwrap();
    assert!(started.elapsed() >= limits::CLOSE_TIMEOUT, "virtual time");
    assert!(
        matches!(outcome, Outcome::CloseTimedOut(Ending::WeClosed(CloseCode::PROTOCOL, _))),
        "{outcome:?}"
    );
    drop(client);
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

#[tokio::test(start_paused = true)]
async fn a_client_that_sends_nothing_is_closed_with_1000_idle_after_the_idle_timeout() {
    let (client_end, server_end) = duplex(64 * 1024);
    let server = tokio::spawn(async move { run(server_end, &Limits::default()).await });
    let mut client = Client::handshake(client_end, "test", PATH, RFC_KEY).await.unwrap();
    let opened = tokio::time::Instant::now();
    let close = client.next_frame().await.unwrap().unwrap();
    assert_eq!(close.opcode, OpCode::Close);
    assert_eq!(u16::from_be_bytes([close.payload[0], close.payload[1]]), 1000, "idle is a normal closure");
    assert!(opened.elapsed() >= limits::IDLE_TIMEOUT, "not before the idle timeout (virtual time)");
    client.send(&Frame::new(OpCode::Close, close.payload.clone()).masked([1, 2, 3, 4])).await.unwrap();
    let outcome = server.await.unwrap().unwrap();
    assert!(matches!(outcome, Outcome::Closed(Ending::WeClosed(CloseCode::NORMAL, _))), "{outcome:?}");
}

#[tokio::test(start_paused = true)]
async fn a_client_that_stops_reading_is_cast_off_with_1013_after_the_send_timeout() {
    // A small pipe: the server's echoes fill it quickly, and nobody reads them.
    let (client_end, server_end) = duplex(4 * 1024);
    let server = tokio::spawn(async move { run(server_end, &Limits::default()).await });
    let mut client = Client::handshake(client_end, "test", PATH, RFC_KEY).await.unwrap();
    let message = "x".repeat(1000);
    // Send until the server stops reading us (it is stuck writing echoes we never read).
    loop {
        let send = client.send_text(&message);
        if tokio::time::timeout(std::time::Duration::from_secs(1), send).await.is_err() {
            break;
        }
    }
    let outcome = server.await.unwrap().unwrap();
    assert_eq!(outcome, Outcome::CastOff, "a client that does not read is closed, not queued for");
}
