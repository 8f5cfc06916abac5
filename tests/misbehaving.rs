//! The chapter "When clients misbehave": each refusal, as the Tap records it. The book includes
//! the snapshot files these tests check (`tests/snapshots/misbehaving__*.snap`).
//!
//! The servers run with small limits (a 256-byte head, a 300 ms handshake timeout, one
//! connection) so a refusal is short enough to read; the answers are the same at any size.
//! Transcripts carry no times, so a real 300 ms timeout gives the same transcript on every run.

#![allow(clippy::unwrap_used, reason = "in a test, a panic is a failure with a line number")]

use std::net::SocketAddr;
use std::time::Duration;

use tap::Tap;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use wire::Render;

/// The small limits of this chapter's demonstrations.
fn small() -> guard::Limits {
    guard::Limits {
        max_head: 256,
        handshake_timeout: Duration::from_millis(300),
        max_connections: 1,
        ..guard::Limits::default()
    }
}

/// The async echo with `limits`, and the slots it counts connections in.
async fn echo(limits: guard::Limits) -> (SocketAddr, guard::Slots) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let slots = guard::Slots::new(limits.max_connections);
    tokio::spawn(ws_echo::server::serve_with(listener, limits, slots.clone()));
    (addr, slots)
}

/// Sends `bytes` through a Tap in front of `server`, reads until the server closes, closes, and
/// returns what the client read and the transcript.
async fn through_tap(server: SocketAddr, bytes: &[u8]) -> (String, String) {
    let tap = Tap::bind("127.0.0.1:0", server).await.unwrap();
    let mut stream = TcpStream::connect(tap.local_addr()).await.unwrap();
    let connection = tap.accept().await.unwrap();
    stream.write_all(bytes).await.unwrap();
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).await.unwrap();
    stream.shutdown().await.unwrap();
    drop(stream);
    let transcript = connection.transcript().await.render(&Render::snapshot());
    (String::from_utf8_lossy(&answer).into_owned(), transcript)
}

fn snapshot(name: &str, transcript: &str) {
    insta::with_settings!({ omit_expression => true }, {
        insta::assert_snapshot!(name, transcript);
    });
}

#[tokio::test]
async fn a_head_larger_than_max_head_gets_431() {
    let (server, _) = echo(small()).await;
    let cookie = "c".repeat(200);
    let request = format!(
        "GET /ws/echo HTTP/1.1\r\nHost: example.com\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nCookie: {cookie}\r\n\r\n"
    );
    let (answer, transcript) = through_tap(server, request.as_bytes()).await;
    assert!(answer.starts_with("HTTP/1.1 431 Request Header Fields Too Large\r\n"), "{answer}");
    snapshot("head_too_large", &transcript);
}

#[tokio::test]
async fn a_head_that_does_not_arrive_in_time_gets_408() {
    let (server, _) = echo(small()).await;
    // A slowloris: the start of a request, then nothing.
    let (answer, transcript) = through_tap(server, b"GET /ws/echo HTTP/1.1\r\nHost: exam").await;
    assert!(answer.starts_with("HTTP/1.1 408 Request Timeout\r\n"), "{answer}");
    snapshot("slow_head_gets_408", &transcript);
}

#[tokio::test]
async fn bytes_that_are_not_http_get_400() {
    let (server, _) = echo(small()).await;
    // What a browser sends first when told `https://` for a plain `http://` port: a TLS hello.
    let (answer, transcript) = through_tap(server, b"\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03").await;
    assert!(answer.starts_with("HTTP/1.1 400 Bad Request\r\n"), "{answer}");
    snapshot("not_http_gets_400", &transcript);
}

#[tokio::test]
async fn past_max_connections_the_next_client_gets_503_before_any_upgrade() {
    let (server, slots) = echo(small()).await;
    // The one connection the server takes: a WebSocket that stays open.
    let first = TcpStream::connect(server).await.unwrap();
    let _first = serve::client::connect_over(first, &server.to_string(), ws_echo::PATH, None).await.unwrap();
    let waited = tokio::task::spawn_blocking(move || slots.wait_for_open(1, Duration::from_secs(30)));
    assert!(waited.await.unwrap(), "the first client holds the only slot");
    let request = wire::handshake::client_request("example.com", ws_echo::PATH, serve::client::RFC_KEY);
    let (answer, transcript) = through_tap(server, request.as_bytes()).await;
    assert!(answer.starts_with("HTTP/1.1 503 Service Unavailable\r\n"), "{answer}");
    assert!(answer.contains("\r\nRetry-After: 5\r\n"), "{answer}");
    snapshot("server_full_gets_503", &transcript);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_body_of_99999999999999_bytes_gets_413_and_nothing_is_allocated() {
    let running = http_polling::server::start_local(http_polling::Limits::default().quiet()).unwrap();
    let request = b"POST /messages HTTP/1.1\r\nHost: example.com\r\nContent-Type: text/plain\r\n\
                    Content-Length: 99999999999999\r\n\r\nhello";
    let (answer, transcript) = through_tap(running.addr(), request).await;
    assert!(answer.starts_with("HTTP/1.1 413 Content Too Large\r\n"), "{answer:?}");
    snapshot("huge_body_gets_413", &transcript);
    running.stop();
}

#[tokio::test(flavor = "multi_thread")]
async fn an_upgrade_from_another_origin_gets_403_from_the_book_server() {
    // Cross-Site WebSocket Hijacking: a page on another site opens a WebSocket to the book
    // server; the browser sends the page's origin. Only the server's own pages may.
    let server = duplex_tests::book_server();
    let mut request =
        wire::handshake::client_request("127.0.0.1:3000", ws_echo::PATH, serve::client::RFC_KEY);
    request.truncate(request.len() - 2);
    request.push_str("Origin: http://evil.example\r\n\r\n");
    let (answer, transcript) = through_tap(server.addr(), request.as_bytes()).await;
    assert!(answer.starts_with("HTTP/1.1 403 Forbidden\r\n"), "{answer}");
    snapshot("cross_site_gets_403", &transcript);
    server.stop();
}
