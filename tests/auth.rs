//! Authenticating a browser's WebSocket in Rust, the three ways a page can (it cannot send
//! `Authorization`: whatwg/html#3062), on the one-port server: the session cookie with the
//! `Origin` check (`/ws/echo`, in `tests/one_port.rs`), a one-time ticket in the URL
//! (`/ws/ticket`), and a token in the first message (`/ws/first-message`). The transcripts are
//! snapshots the book's page "Authentication" shows beside the Node server's
//! (`tests/node.rs`); where the protocol fixes the bytes, a test checks that the two agree.

#![allow(clippy::unwrap_used, reason = "in a test, a panic is a failure with a line number")]

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, UNIX_EPOCH};

use duplex_tests::snapshot_body;
use futures_util::{SinkExt, StreamExt};
use one_port::admission::{Admission, Sessions};
use one_port::client;
use one_port::demo::{DEMO_TIME, DEMO_TOKEN, DEMO_USER};
use one_port::server::{self, Config, FIRST_MESSAGE_PATH, Running, TICKET_PATH};
use serve::client::RFC_KEY;
use tap::Tap;
use tokio::net::TcpStream;
use tungstenite::Message;
use wire::{Render, Transcript};

fn snapshot(name: &str, text: &str) {
    insta::with_settings!({ omit_expression => true }, {
        insta::assert_snapshot!(name, text);
    });
}

/// The one-port server with the demo's session, its own loopback origins allowed, a clock the
/// test moves (seconds since the epoch, starting at [`DEMO_TIME`]) and `wait` for first messages.
fn start(wait: Duration) -> (Running, Arc<AtomicU64>) {
    let listener = server::bind("127.0.0.1", 0).unwrap();
    let port = listener.local_addr().unwrap().port();
    let sessions = Sessions::new();
    sessions.insert(DEMO_TOKEN, DEMO_USER);
    let seconds = Arc::new(AtomicU64::new(DEMO_TIME));
    let clock = {
        let seconds = seconds.clone();
        Arc::new(move || UNIX_EPOCH + Duration::from_secs(seconds.load(Ordering::SeqCst)))
    };
    let admission = Admission::new(sessions).allow_loopback("http", port);
    let config = Config { clock, first_message_timeout: wait, ..Config::new(admission) };
    (server::start(listener, config).unwrap(), seconds)
}

fn own_origin(server: SocketAddr) -> String {
    format!("http://127.0.0.1:{}", server.port())
}

/// `POST /api/ticket` with the demo's session cookie, through a Tap: the transcript and the ticket.
async fn fetch_ticket(server: SocketAddr) -> (Transcript, String) {
    let (origin, cookie) = (own_origin(server), format!("session={DEMO_TOKEN}"));
    let headers = [("Origin", origin.as_str()), ("Cookie", cookie.as_str()), ("Content-Length", "0")];
    let (transcript, head) = one_port::demo::one_request(
        server,
        |host| client::request("POST", "/api/ticket", host, &headers),
        None,
    )
    .await
    .unwrap();
    assert_eq!(head.status(), Some(200));
    assert_eq!(head.header("Cache-Control"), Some("no-store"), "no cache may keep a ticket");
    let body = transcript
        .events
        .iter()
        .find_map(|e| match &e.kind {
            wire::EventKind::Body { data, .. } => Some(data.clone()),
            _ => None,
        })
        .expect("the answer has a body");
    let json: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(json["expires_in_ms"], 10_000, "the ticket says how long it lives");
    let ticket = json["ticket"].as_str().unwrap().to_owned();
    assert_eq!(ticket.len(), 43, "32 random bytes in base64url: {ticket}");
    (transcript, ticket)
}

/// A program's upgrade request to `path`, without `Origin` or credentials.
fn bare_upgrade(path: &str) -> impl FnOnce(&str) -> String + '_ {
    move |host| {
        client::request(
            "GET",
            path,
            host,
            &[
                ("Connection", "Upgrade"),
                ("Upgrade", "websocket"),
                ("Sec-WebSocket-Version", "13"),
                ("Sec-WebSocket-Key", RFC_KEY),
            ],
        )
    }
}

/// An upgrade from the server's own page to `path`, through a Tap, then `script` on the socket.
async fn page_websocket<F, Fut>(server: SocketAddr, path: &str, script: F) -> (Transcript, Vec<String>)
where
    F: FnOnce(tokio_tungstenite::WebSocketStream<TcpStream>) -> Fut,
    Fut: std::future::Future<Output = Vec<String>>,
{
    let tap = Tap::bind("127.0.0.1:0", server).await.unwrap();
    let stream = TcpStream::connect(tap.local_addr()).await.unwrap();
    stream.set_nodelay(true).unwrap();
    let connection = tap.accept().await.unwrap();
    let origin = own_origin(server);
    let ws = client::upgrade(stream, &tap.local_addr().to_string(), path, RFC_KEY, &[("Origin", &origin)])
        .await
        .unwrap();
    let received = script(ws).await;
    (connection.transcript().await, received)
}

/// Every message until the server has closed the connection, in words.
async fn read_to_end(mut ws: tokio_tungstenite::WebSocketStream<TcpStream>) -> Vec<String> {
    let mut received = Vec::new();
    while let Some(message) = ws.next().await {
        match message {
            Ok(message) => received.push(serve::client::describe(&message)),
            Err(tungstenite::Error::ConnectionClosed) => break,
            Err(e) => panic!("{e}"),
        }
    }
    received
}

/// The part of a snapshot text from the line `title` to the next empty line.
fn section(text: &str, title: &str) -> String {
    let start = text.find(title).unwrap_or_else(|| panic!("no {title} in:\n{text}"));
    let rest = &text[start..];
    rest[..rest.find("\n\n").map_or(rest.len(), |end| end + 1)].to_owned()
}

/// Every frame the server sent, as its two lines of the transcript: where RFC 6455 fixes the
/// bytes, the Rust and the Node servers must agree.
fn server_frames(text: &str) -> Vec<String> {
    let lines: Vec<&str> = text.lines().collect();
    lines
        .windows(2)
        .filter(|pair| pair[0].starts_with("S→C frame"))
        .map(|pair| format!("{}\n{}", pair[0], pair[1]))
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_one_time_ticket_fetched_over_http_opens_one_websocket_once() {
    let (server, _) = start(server::FIRST_MESSAGE_TIMEOUT);
    let (fetched, ticket) = fetch_ticket(server.addr()).await;
    let path = format!("{TICKET_PATH}?ticket={ticket}");
    let (opened, received) = page_websocket(server.addr(), &path, |ws| async move {
        client::session(ws, vec![Message::text("Hello, ticket!")]).await.unwrap()
    })
    .await;
    assert_eq!(received[0], "text \"hello, ada\"", "the ticket said who the socket is");
    let (reused, head) = one_port::demo::one_request(server.addr(), bare_upgrade(&path), None).await.unwrap();
    assert_eq!(head.status(), Some(401), "a ticket opens one WebSocket, once");
    let log = server.journal().lines();
    assert!(log.iter().all(|l| !l.contains(&ticket)), "the server never logs a ticket: {log:#?}");

    let style = Render::snapshot();
    let mut text = String::from("[POST /api/ticket, with the session cookie]\n");
    text.push_str(&fetched.render(&style));
    text.push_str("\n[the WebSocket, with the ticket in its URL]\n");
    text.push_str(&opened.render(&style));
    text.push_str("\n[the same URL again]\n");
    text.push_str(&reused.render(&style));
    text.push_str("\nWhat the server logged:\n");
    for line in &log {
        text.push_str(&format!("  {line}\n"));
    }
    let text = text.replace(&ticket, "‹ticket›");
    let node = snapshot_body("node__auth_ticket");
    assert_eq!(
        section(&text, "[the same URL again]"),
        section(&node, "[the same URL again]"),
        "the refusal of a used ticket is the Node server's, byte for byte"
    );
    assert_eq!(server_frames(&text), server_frames(&node), "and so are the server's frames");
    snapshot("ticket", &text);
    server.stop();
}

#[tokio::test(flavor = "multi_thread")]
async fn a_ticket_past_its_time_to_live_opens_nothing() {
    let (server, clock) = start(server::FIRST_MESSAGE_TIMEOUT);
    let (_, ticket) = fetch_ticket(server.addr()).await;
    // Ten seconds later, to the second: expired (the clock is the test's, not the wall's).
    clock.fetch_add(10, Ordering::SeqCst);
    let path = format!("{TICKET_PATH}?ticket={ticket}");
    let (_, head) = one_port::demo::one_request(server.addr(), bare_upgrade(&path), None).await.unwrap();
    assert_eq!(head.status(), Some(401), "an expired ticket is refused like a used one");
    server.stop();
}

#[tokio::test(flavor = "multi_thread")]
async fn a_ticket_from_another_sites_page_gets_403_before_it_is_looked_at() {
    let (server, _) = start(server::FIRST_MESSAGE_TIMEOUT);
    let (_, ticket) = fetch_ticket(server.addr()).await;
    let path = format!("{TICKET_PATH}?ticket={ticket}");
    let evil = |host: &str| {
        let mut request = bare_upgrade(&path)(host);
        request.insert_str(request.len() - 2, &format!("Origin: {}\r\n", one_port::demo::EVIL_ORIGIN));
        request
    };
    let (_, head) = one_port::demo::one_request(server.addr(), evil, None).await.unwrap();
    assert_eq!(head.status(), Some(403), "the Origin check comes first");
    // Not looked at, so not used up: the server's own page may still use it.
    let (_, head) = one_port::demo::one_request(server.addr(), bare_upgrade(&path), None).await.unwrap();
    assert_eq!(head.status(), Some(101));
    server.stop();
}

#[tokio::test(flavor = "multi_thread")]
async fn a_token_in_the_first_message_authenticates_and_a_wrong_one_gets_1008() {
    let (server, _) = start(server::FIRST_MESSAGE_TIMEOUT);
    let token = format!("{{\"token\":\"{DEMO_TOKEN}\"}}");
    let (good, received) = page_websocket(server.addr(), FIRST_MESSAGE_PATH, |mut ws| async move {
        ws.send(Message::text(token)).await.unwrap();
        let mut rest = vec![serve::client::describe(&ws.next().await.unwrap().unwrap())];
        ws.send(Message::text("Hello, token!")).await.unwrap();
        rest.push(serve::client::describe(&ws.next().await.unwrap().unwrap()));
        let done = tungstenite::protocol::CloseFrame {
            code: tungstenite::protocol::frame::coding::CloseCode::Normal,
            reason: "done".into(),
        };
        ws.close(Some(done)).await.unwrap();
        rest.extend(read_to_end(ws).await);
        rest
    })
    .await;
    assert_eq!(received[0], "text \"hello, ada\"");
    let (bad, refused) = page_websocket(server.addr(), FIRST_MESSAGE_PATH, |mut ws| async move {
        ws.send(Message::text("{\"token\":\"not-a-session\"}")).await.unwrap();
        read_to_end(ws).await
    })
    .await;
    assert_eq!(refused, [format!("close 1008 policy violation {:?}", server::BAD_TOKEN)]);
    let style = Render::snapshot();
    let mut text = String::from("[a valid token first]\n");
    text.push_str(&good.render(&style));
    text.push_str("\n[a token that is no session's]\n");
    text.push_str(&bad.render(&style));
    text.push_str("\nWhat the server logged:\n");
    for line in server.journal().lines() {
        text.push_str(&format!("  {line}\n"));
    }
    assert_eq!(
        server_frames(&text),
        server_frames(&snapshot_body("node__auth_first_message")),
        "the greeting, the echo, and the 1008 with its reason are the Node server's, byte for byte"
    );
    snapshot("first_message", &text);
    server.stop();
}

#[tokio::test(flavor = "multi_thread")]
async fn a_socket_that_sends_no_token_in_time_is_closed_with_1008() {
    // A tenth of a second: the test waits for the close, not for the clock.
    let (server, _) = start(Duration::from_millis(100));
    let (_, refused) = page_websocket(server.addr(), FIRST_MESSAGE_PATH, read_to_end).await;
    assert_eq!(refused, ["close 1008 policy violation \"no token within 100 ms\""]);
    let log = server.journal().lines();
    assert!(log.iter().any(|l| l == "websocket closing with 1008: no token within 100 ms"), "{log:#?}");
    server.stop();
}
