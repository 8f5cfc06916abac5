//! The one-port chapter's exchanges, as the Tap records them, and the server's own log of them.
//! The book includes the snapshot files these tests check (`tests/snapshots/one_port__*.snap`).

#![allow(clippy::unwrap_used, reason = "in a test, a panic is a failure with a line number")]

use one_port::demo::{self, DEMO_USER, EVIL_ORIGIN};
use one_port::server::Guard;
use wire::{Direction, EventKind, Render};

fn snapshot(name: &str, text: &str) {
    insta::with_settings!({ omit_expression => true }, {
        insta::assert_snapshot!(name, text);
    });
}

fn lines(log: &[String]) -> String {
    log.iter().map(|l| format!("{l}\n")).collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn an_http_request_and_an_upgrade_share_one_port_and_one_connection() {
    let recording = demo::same_port(Guard::Checked, true, None).await.unwrap();
    assert_eq!(
        recording.received,
        [
            format!("{{\"user\":\"{DEMO_USER}\",\"unix_seconds\":{}}}", demo::DEMO_TIME),
            "text \"hello, ada\"".to_owned(),
            "text \"Hello, one port!\"".to_owned(),
            "close 1000 normal closure \"done\"".to_owned(),
        ],
        "the API answers, then the same connection greets the signed-in user and echoes"
    );
    let opened =
        recording.transcript.events.iter().filter(|e| matches!(e.kind, EventKind::Opened { .. })).count();
    assert_eq!(opened, 1, "both requests travel on one TCP connection");
    snapshot("http_then_upgrade", &recording.transcript.render(&Render::snapshot()));
    snapshot("http_then_upgrade_log", &lines(&recording.log));
}

#[tokio::test(flavor = "multi_thread")]
async fn the_upgrade_request_skips_the_middleware() {
    let recording = demo::same_port(Guard::Unchecked, false, None).await.unwrap();
    assert!(recording.received[0].starts_with("sign in first"), "the API refuses: {:?}", recording.received);
    assert_eq!(
        recording.received[1], "text \"hello, whoever you are\"",
        "the unchecked upgrade branch lets the same client in without a session"
    );
    assert!(
        !recording.log.iter().any(|l| l.starts_with("logger") && l.contains(ws_echo::PATH)),
        "the logger must not have seen the upgrade request: {:#?}",
        recording.log
    );
    snapshot("middleware_skipped", &recording.transcript.render(&Render::snapshot()));
    snapshot("middleware_skipped_log", &lines(&recording.log));
}

#[tokio::test(flavor = "multi_thread")]
async fn an_upgrade_from_another_origin_gets_403_even_with_a_valid_cookie() {
    let server = demo::start_server(Guard::Checked).unwrap();
    let (transcript, head) =
        demo::one_request(server.addr(), |host| demo::browser_upgrade(host, EVIL_ORIGIN), None)
            .await
            .unwrap();
    assert_eq!(head.status(), Some(403), "RFC 6455 §10.2: the server decides by Origin");
    server.stop();
    snapshot("wrong_origin_gets_403", &transcript.render(&Render::snapshot()));
}

#[tokio::test(flavor = "multi_thread")]
async fn an_upgrade_without_credentials_gets_401_with_a_challenge() {
    let server = demo::start_server(Guard::Checked).unwrap();
    let (transcript, head) = demo::one_request(server.addr(), demo::anonymous_upgrade, None).await.unwrap();
    assert_eq!(head.status(), Some(401));
    assert_eq!(
        head.header("WWW-Authenticate"),
        Some("Bearer realm=\"one-port\""),
        "RFC 9110 §15.5.2: a 401 carries a challenge"
    );
    server.stop();
    snapshot("no_auth_gets_401", &transcript.render(&Render::snapshot()));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_page_from_the_servers_own_origin_with_its_cookie_gets_101() {
    let server = demo::start_server(Guard::Checked).unwrap();
    let origin = format!("http://127.0.0.1:{}", server.addr().port());
    let (_, head) =
        demo::one_request(server.addr(), |host| demo::browser_upgrade(host, &origin), None).await.unwrap();
    assert_eq!(head.status(), Some(101), "the allow-list holds the server's own origins");
    server.stop();
}

#[tokio::test(flavor = "multi_thread")]
async fn a_plain_get_to_the_websocket_path_gets_426_through_the_middleware() {
    let server = demo::start_server(Guard::Checked).unwrap();
    let (transcript, head) = demo::one_request(server.addr(), demo::plain_get, None).await.unwrap();
    assert_eq!(head.status(), Some(426));
    assert_eq!(head.header("Upgrade"), Some("websocket"), "RFC 9110 §15.5.22: a 426 names the protocol");
    assert!(head.has_token("Connection", "Upgrade"), "RFC 9110 §7.8: Upgrade is listed in Connection");
    assert_eq!(
        server.journal().lines(),
        ["logger    GET /ws/echo → 426"],
        "without `Upgrade: websocket` it is an ordinary request, and the logger sees it"
    );
    server.stop();
    snapshot("plain_get_gets_426", &transcript.render(&Render::snapshot()));
}

#[tokio::test(flavor = "multi_thread")]
async fn wss_shows_opaque_records_outside_tls_and_the_same_websocket_inside() {
    let recording = demo::wss(None, None).await.unwrap();
    assert_eq!(
        recording.received,
        ["text \"hello, ada\"", "text \"Hello, wss!\"", "close 1000 normal closure \"done\""],
        "the client verified the certificate, upgraded and was echoed"
    );
    let outside = demo::tls_view(&recording.outside);
    assert_eq!(recording.outside.heads().count(), 0, "outside TLS there is no HTTP to see:\n{outside}");
    assert_eq!(recording.outside.frames().count(), 0, "and no WebSocket frame:\n{outside}");
    assert!(
        outside.contains("C→S TLS record: handshake, in the clear: ClientHello\n")
            && outside.contains("S→C TLS record: handshake, in the clear: ServerHello\n"),
        "the hellos are in the clear (RFC 8446 §4.1.2, §4.1.3):\n{outside}"
    );
    assert!(outside.contains("the server chose TLS 1.3"), "{outside}");
    // RFC 6455 §7.1.1: the server closes TCP first; the client closes after it has seen that, and
    // says TLS's goodbye (close_notify, encrypted) before its own FIN (RFC 8446 §6.1).
    assert!(
        outside.ends_with(
            "S→C the server closed its side of the TCP connection (FIN)\n\
             C→S TLS record: application_data, encrypted: opaque to the Tap\n\
             C→S the client closed its side of the TCP connection (FIN)\n\
             ─── the connection is over\n"
        ),
        "the ending, in the order RFC 6455 §7.1.1 asks for:\n{outside}"
    );
    let inside = recording.inside.render(&Render::snapshot());
    assert_eq!(recording.inside.heads().count(), 2, "inside: the upgrade request and the 101:\n{inside}");
    assert!(
        recording
            .inside
            .frames()
            .any(|(dir, f)| dir == Direction::ServerToClient && f.payload == b"Hello, wss!"),
        "inside: the echo, in plain bytes:\n{inside}"
    );
    // Every byte inside travels outside too, plus TLS's own: each record adds at least a 5-byte
    // header and, once encrypted, a 16-byte tag (RFC 8446 §5.2).
    for dir in [Direction::ClientToServer, Direction::ServerToClient] {
        assert!(recording.outside.wire_bytes(dir) > recording.inside.wire_bytes(dir) + 21, "{dir:?}");
    }
    snapshot("wss_outside_tls", &outside);
    snapshot("wss_inside_tls", &inside);
}

#[test]
fn an_offer_to_upgrade_to_another_protocol_is_ignored_and_the_request_answered_at_once() {
    use std::io::{Read, Write};
    let server = demo::start_server(Guard::Checked).unwrap();
    let addr = server.addr();
    // What `curl --http2 http://…/` and `curl --http2 -d name=ada http://…/login` send: an offer
    // of h2c (RFC 9110 §7.8 lets a server ignore it). Unpatched, tiny_http took everything after
    // such a head for its body, and reading the body waited for the read timeout: 400 after 10 s.
    let offer =
        "Connection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAAQCAAAAAAIAAAAA\r\n";
    for (request, status) in [
        (format!("GET / HTTP/1.1\r\nHost: {addr}\r\n{offer}\r\n"), "HTTP/1.1 200 OK\r\n"),
        (
            format!("POST /login HTTP/1.1\r\nHost: {addr}\r\n{offer}Content-Length: 8\r\n\r\nname=ada"),
            "HTTP/1.1 303 See Other\r\n",
        ),
    ] {
        let mut stream = std::net::TcpStream::connect(addr).unwrap();
        stream.set_read_timeout(Some(std::time::Duration::from_secs(30))).unwrap();
        stream.write_all(request.as_bytes()).unwrap();
        // tiny_http reads no further request after `Connection: Upgrade`, so it closes after this.
        let mut answer = Vec::new();
        let _ = stream.read_to_end(&mut answer);
        let answer = String::from_utf8_lossy(&answer);
        assert!(answer.starts_with(status), "{request:?} should get {status:?} as plain HTTP/1.1: {answer}");
    }
    server.stop();
}

#[tokio::test(flavor = "multi_thread")]
async fn a_websocket_client_that_stops_reading_is_closed_with_1013_and_the_journal_says_so() {
    use one_port::admission::{Admission, Sessions};
    use one_port::journal::Entry;
    use std::time::Duration;
    use tungstenite::client::IntoClientRequest;
    let listener = one_port::server::bind("127.0.0.1", 0).unwrap();
    let addr = listener.local_addr().unwrap();
    let sessions = Sessions::new();
    sessions.insert(demo::DEMO_TOKEN, DEMO_USER);
    let admission = Admission::new(sessions).allow_loopback("http", addr.port());
    // Short send and close timeouts: this is a blocking server in real time, so the test waits
    // for the journal's entry, not for a clock.
    let limits = ws_echo::Limits {
        send_timeout: Duration::from_millis(200),
        close_timeout: Duration::from_millis(200),
        ..ws_echo::Limits::default()
    };
    let config = one_port::server::Config { limits, ..one_port::server::Config::new(admission) };
    let server = one_port::server::start(listener, config).unwrap();
    let pusher = std::thread::spawn(move || {
        let mut request = format!("ws://{addr}{}", ws_echo::PATH).into_client_request().unwrap();
        let bearer = format!("Bearer {}", demo::DEMO_TOKEN);
        request.headers_mut().insert("Authorization", bearer.parse().unwrap());
        let stream = std::net::TcpStream::connect(addr).unwrap();
        stream.set_write_timeout(Some(Duration::from_secs(30))).unwrap();
        let (mut ws, _) = tungstenite::client(request, stream).unwrap();
        // Never reads: the greeting and the echoes pile up until the server's writes wait.
        let message = tungstenite::Message::binary(vec![7u8; 60_000]);
        while ws.send(message.clone()).is_ok() {}
    });
    let slow_reader = |entry: &Entry| {
        matches!(entry, Entry::Closed { ending: serve::Ending::WeClosed(code, _), .. }
            if *code == guard::limits::SLOW_READER_CODE)
    };
    let entry = tokio::time::timeout(Duration::from_secs(30), server.journal().wait_for(slow_reader))
        .await
        .unwrap_or_else(|_| panic!("no 1013 in the journal within 30 s: {:#?}", server.journal().lines()));
    assert!(entry.render().contains("1013"), "{}", entry.render());
    tokio::task::spawn_blocking(move || pusher.join().unwrap()).await.unwrap();
    server.stop();
}

#[tokio::test(flavor = "multi_thread")]
async fn a_websocket_message_over_the_limit_gets_1009_and_the_journal_records_the_ending() {
    use one_port::journal::Entry;
    use std::time::Duration;
    use tungstenite::client::IntoClientRequest;
    let server = demo::start_server(Guard::Checked).unwrap();
    let addr = server.addr();
    let client = tokio::task::spawn_blocking(move || {
        let mut request = format!("ws://{addr}{}", ws_echo::PATH).into_client_request().unwrap();
        let bearer = format!("Bearer {}", demo::DEMO_TOKEN);
        request.headers_mut().insert("Authorization", bearer.parse().unwrap());
        let stream = std::net::TcpStream::connect(addr).unwrap();
        stream.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
        let (mut ws, _) = tungstenite::client(request, stream).unwrap();
        let greeting = ws.read().unwrap();
        ws.send(tungstenite::Message::text("x".repeat(guard::limits::MAX_MESSAGE + 1))).unwrap();
        let close = ws.read().unwrap();
        // The close handshake completes and the server closes TCP.
        let end = ws.read();
        (greeting, close, end)
    });
    let (greeting, close, end) = client.await.unwrap();
    assert_eq!(greeting, tungstenite::Message::text(format!("hello, {DEMO_USER}")));
    let tungstenite::Message::Close(Some(frame)) = close else {
        panic!("expected a close frame, got {close:?}")
    };
    assert_eq!(u16::from(frame.code), 1009, "RFC 6455 §7.4.1: a message too big to process");
    assert!(matches!(end, Err(tungstenite::Error::ConnectionClosed)), "{end:?}");
    // The connection's thread lived to record how it ended (a panic there would leave nothing).
    let too_big = |entry: &Entry| {
        matches!(entry, Entry::Closed { ending: serve::Ending::WeClosed(code, _), .. }
            if *code == wire::CloseCode::TOO_BIG)
    };
    tokio::time::timeout(Duration::from_secs(30), server.journal().wait_for(too_big)).await.unwrap_or_else(
        |_| panic!("no 1009 ending in the journal within 30 s: {:#?}", server.journal().lines()),
    );
    server.stop();
}
