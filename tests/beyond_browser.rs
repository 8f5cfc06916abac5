//! The chapter "After HTTP/1.1" in a real browser: does Chromium put a page's WebSocket inside
//! the page's HTTP/2 connection (RFC 8441)?
//!
//! These tests need the Debian packages `chromium` and `chromium-driver`, so a plain `cargo
//! test` ignores them; `.ci/run` runs them (`cargo test -p duplex-tests --test beyond_browser --
//! --ignored`). No test sleeps to wait: each waits for an entry in the page's log or a line of
//! the server's journal.

#![allow(clippy::unwrap_used, reason = "in a test, a panic is a failure with a line number")]
#![cfg(unix)]

#[path = "support/chromium.rs"]
mod chromium;

use std::sync::{Arc, Mutex};

use beyond::server::{Journal, serve_connection};
use beyond::tls::LocalCert;
use chromium::Browser;
use tap::MemoryTap;
use wire::http2::{Body, Http2Event, kind};
use wire::{Direction, Event, EventKind, Render};

/// The server of the chapter behind TLS, with a Tap *inside* TLS: each connection is
/// decrypted, recorded, and passed on to the HTTP/2 server through an in-memory pipe. Returns
/// every event the Tap saw, in order, for all connections.
fn serve_recorded(listener: tokio::net::TcpListener, journal: Journal) -> Arc<Mutex<Vec<Event>>> {
    let events = Arc::new(Mutex::new(Vec::new()));
    let seen = events.clone();
    let tap = MemoryTap::new().observe(move |id, event: &Event| {
        let mut event = event.clone();
        if let EventKind::Note(text) = &mut event.kind {
            *text = format!("#{id} {text}");
        }
        seen.lock().unwrap().push(event);
    });
    let acceptor = tokio_rustls::TlsAcceptor::from(LocalCert::generate().unwrap().server_config().unwrap());
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else { return };
            let (acceptor, tap, journal) = (acceptor.clone(), tap.clone(), journal.clone());
            tokio::spawn(async move {
                let tls = match acceptor.accept(stream).await {
                    Ok(tls) => tls,
                    Err(e) => return journal.add(format!("TLS handshake failed: {e}")),
                };
                let (tap_side, server_side) = tokio::io::duplex(64 * 1024);
                let _connection = tap.relay(tls, tap_side);
                let _ = serve_connection(server_side, journal).await;
            });
        }
    });
    events
}

// The certificate is made for this test and trusted by nobody: the switch tells this one
// headless Chromium to accept it. Never a setting for a browser people use.
const IGNORE_CERTIFICATE_ERRORS: &str = "--ignore-certificate-errors";

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs chromium and chromium-driver: run by .ci/run, or cargo test -p duplex-tests --test beyond_browser -- --ignored"]
async fn chromium_opens_the_pages_websocket_as_a_stream_of_its_http2_connection() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let journal = Journal::new();
    let events = serve_recorded(listener, journal.clone());

    let browser = Browser::start_with(false, &[IGNORE_CERTIFICATE_ERRORS]).await;
    browser.goto(&format!("https://localhost:{port}/")).await;
    let page = browser.entry("page").await;
    assert_eq!(page, "page loaded over h2", "ALPN chose HTTP/2 for the page");
    let close = browser.entry("close").await;
    let log = browser.log().await;
    // The server offers only `h2` in ALPN, so a WebSocket over a new HTTP/1.1 connection could
    // not even finish its TLS handshake: an echo means the WebSocket came as an extended CONNECT.
    let connect = journal.wait_for(|l| l.contains("extended CONNECT")).await;
    assert!(connect.ends_with("extended CONNECT :protocol websocket /ws/echo → 200"), "{connect}");
    assert!(log.contains("message: echo: hello over HTTP/2\n"), "{log}");
    assert_eq!(close, "close 1000 done", "{log}");
    journal.wait_for(|l| l.contains("WebSocket closed")).await;
    eprintln!("server journal:\n  {}", journal.lines().join("\n  "));

    // What the Tap inside TLS saw of Chromium's HTTP/2: the page and the WebSocket on one
    // connection, the CONNECT as RFC 8441 §4 has it.
    let events = events.lock().unwrap().clone();
    let mut transcript = wire::Transcript::new();
    transcript.events = events;
    eprintln!("{}", transcript.render(&Render::snapshot().without_hex()));
    let headers: Vec<(u32, Vec<(String, String)>)> = transcript
        .events
        .iter()
        .filter_map(|e| match (&e.kind, e.dir) {
            (EventKind::Http2(Http2Event::Frame(f)), Some(Direction::ClientToServer)) => match &f.body {
                Body::Headers { block, .. } => Some((
                    f.header.stream,
                    block.fields().iter().map(|f| (f.name.clone(), f.value.clone())).collect(),
                )),
                _ => None,
            },
            _ => None,
        })
        .collect();
    let field = |fields: &[(String, String)], name: &str| {
        fields.iter().find(|(n, _)| n == name).map(|(_, v)| v.clone()).unwrap_or_default()
    };
    let (connect_stream, connect) = headers
        .iter()
        .find(|(_, f)| field(f, ":method") == "CONNECT")
        .expect("Chromium sent an extended CONNECT");
    assert_eq!(field(connect, ":protocol"), "websocket", "RFC 8441 §4");
    assert_eq!(field(connect, ":scheme"), "https", "RFC 8441 §4: the scheme of the wss: URL's https");
    assert_eq!(field(connect, ":path"), "/ws/echo");
    assert_eq!(field(connect, "sec-websocket-version"), "13", "RFC 8441 §5");
    assert_eq!(field(connect, "sec-websocket-key"), "", "no key over HTTP/2 (RFC 8441 §5)");
    assert!(field(connect, "origin").starts_with("https://localhost:"), "{connect:?}");
    let (page_stream, _) = headers.iter().find(|(_, f)| field(f, ":path") == "/").expect("the page's GET");
    let page_connection =
        transcript.events.iter().filter(|e| matches!(&e.kind, EventKind::Http2(Http2Event::Preface))).count();
    assert_eq!(page_connection, 1, "one HTTP/2 connection carried the page and the WebSocket");
    assert!(page_stream < connect_stream, "the WebSocket is a later stream of the page's connection");
    let rst = transcript.events.iter().any(|e| {
        matches!(&e.kind, EventKind::Http2(Http2Event::Frame(f)) if f.header.kind == kind::RST_STREAM && f.header.stream == *connect_stream)
    });
    eprintln!("the WebSocket's stream {connect_stream} ended with RST_STREAM: {rst}");
    browser.close().await;
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs chromium and chromium-driver: run by .ci/run, or cargo test -p duplex-tests --test beyond_browser -- --ignored"]
async fn without_an_http2_connection_to_the_server_chromium_does_not_open_one_for_a_websocket() {
    // The HTTP/2 server, offering only `h2` in ALPN; the page comes from another server.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let h2_port = listener.local_addr().unwrap().port();
    let journal = Journal::new();
    let _events = serve_recorded(listener, journal.clone());
    let page = format!(
        r#"<!doctype html><meta charset="utf-8"><ol id="log"></ol><script>
        const log = (kind, text) => {{ const li = document.createElement("li"); li.dataset.kind = kind;
          li.textContent = text; document.getElementById("log").append(li); }};
        const socket = new WebSocket("wss://localhost:{h2_port}/ws/echo");
        socket.onopen = () => log("open", "open");
        socket.onclose = (event) => log("close", `close ${{event.code}}`);
        </script>"#
    );
    let pages = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let page_port = pages.local_addr().unwrap().port();
    let page_server = tokio::spawn(beyond::page::serve_page(pages, page));

    let browser = Browser::start_with(false, &[IGNORE_CERTIFICATE_ERRORS]).await;
    browser.goto(&format!("http://127.0.0.1:{page_port}/")).await;
    let close = browser.entry("close").await;
    let log = browser.log().await;
    assert_eq!(
        close, "close 1006",
        "the WebSocket fails: Chromium asked for HTTP/1.1, the server speaks only h2:\n{log}"
    );
    assert!(!log.contains("open"), "{log}");
    let refused = journal.wait_for(|l| l.starts_with("TLS handshake failed")).await;
    assert!(
        refused.ends_with("peer doesn't support any known protocol"),
        "Chromium's new connection for the WebSocket offered no `h2` in ALPN: {refused}"
    );
    assert!(
        !journal.lines().iter().any(|l| l.contains("CONNECT")),
        "no extended CONNECT without an HTTP/2 connection the page already had: {:?}",
        journal.lines()
    );
    browser.close().await;
    page_server.abort();
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs chromium and chromium-driver: run by .ci/run, or cargo test -p duplex-tests --test beyond_browser -- --ignored"]
async fn against_a_server_that_stops_reading_websocketstream_writes_wait_and_websocket_buffers() {
    use beyond::backpressure::{Control, bind, serve};
    let listener = bind("127.0.0.1:0".parse().unwrap()).unwrap();
    let port = listener.local_addr().unwrap().port();
    let (control, journal) = (Control::new(), Journal::new());
    let server = tokio::spawn(serve(listener, control.clone(), journal.clone()));
    let browser = Browser::start(false).await;
    browser.goto(&format!("http://127.0.0.1:{port}/")).await;

    // WHATWG WebSockets Standard: send() does not wait; what cannot be sent yet is counted in
    // bufferedAmount, which stops falling when the server does not read.
    let classic = browser.entry("classic").await;
    assert!(classic.starts_with("WebSocket: 32 send() calls returned at once; bufferedAmount"), "{classic}");
    let stuck = browser.entry("classic-stuck").await;
    assert!(
        !stuck.ends_with(" 0.00 MiB"),
        "8 MiB cannot all fit in the buffers of a connection nobody reads: {stuck}"
    );

    // Chromium's WebSocketStream: a write's promise waits while the data cannot be passed on.
    assert_eq!(browser.entry("stream-supported").await, "WebSocketStream: supported", "Chromium 124+ has it");
    let waiting = browser.entry("stream-waiting").await;
    let log = browser.log().await;
    assert!(
        !log.contains("stream-resumed"),
        "nothing resolves the waiting write before the server reads:\n{log}"
    );
    journal.wait_for(|l| l.contains("WebSocket open; not reading")).await;
    control.resume();
    let resumed = browser.entry("stream-resumed").await;
    assert!(resumed.ends_with("resolved once the server read"), "{resumed}");
    journal.wait_for(|l| l.contains("bytes read")).await;
    eprintln!("{}", browser.log().await);
    eprintln!("{waiting}");
    browser.close().await;
    server.abort();
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs chromium and chromium-driver: run by .ci/run, or cargo test -p duplex-tests --test beyond_browser -- --ignored"]
async fn a_webtransport_session_echoes_a_stream_and_a_datagram_in_chromium() {
    use beyond::page::serve_page;
    use beyond::webtransport::Echo;
    let echo = Echo::bind("127.0.0.1:0".parse().unwrap()).unwrap();
    let page = echo.page().unwrap();
    let journal = Journal::new();
    let server = tokio::spawn(echo.serve(journal.clone()));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let pages = tokio::spawn(serve_page(listener, page));

    let browser = Browser::start(false).await;
    browser.goto(&format!("http://127.0.0.1:{port}/")).await;
    let outcome = browser
        .wait_for("#log li[data-kind='closed'], #log li[data-kind='error'], #log li[data-kind='unsupported']")
        .await;
    let log = browser.log().await;
    eprintln!("{log}\nserver journal:\n  {}", journal.lines().join("\n  "));
    assert_eq!(outcome.text().await.unwrap(), "session closed", "{log}");
    assert!(log.contains("stream: stream echo: hello over a QUIC stream\n"), "{log}");
    assert!(log.contains("datagram: datagram echo: hello as a datagram\n"), "{log}");
    let request = journal.wait_for(|l| l.starts_with("session request")).await;
    assert!(request.ends_with("/echo"), "{request}");
    browser.close().await;
    server.abort();
    pages.abort();
}
