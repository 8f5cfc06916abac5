//! The server `cargo run` starts: the book's pages and the WebSocket echo on one port, and a
//! clear answer for every request it cannot serve.

#![allow(clippy::unwrap_used, reason = "in a test, a panic is a failure with a line number")]

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use duplex::server::{self, Config, Running, ServeError};
use duplex_tests::rendered_book;
use futures_util::{SinkExt, StreamExt};
use tungstenite::Message;
use tungstenite::protocol::CloseFrame;
use tungstenite::protocol::frame::coding::CloseCode;

fn start() -> Running {
    duplex_tests::book_server()
}

/// Sends raw bytes and reads the whole answer (the server closes after it, or the timeout ends
/// the read: a test never hangs).
fn exchange(addr: SocketAddr, request: &str) -> String {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    stream.write_all(request.as_bytes()).unwrap();
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer);
    String::from_utf8_lossy(&answer).into_owned()
}

fn get(addr: SocketAddr, path: &str) -> String {
    exchange(addr, &format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"))
}

#[test]
fn the_home_page_is_the_rendered_book() {
    let server = start();
    let answer = get(server.addr(), "/");
    assert!(answer.starts_with("HTTP/1.1 200 OK\r\n"), "{answer:.200}");
    assert!(answer.contains("Content-Type: text/html; charset=utf-8\r\n"), "{answer:.400}");
    assert!(answer.contains("<title>Introduction"), "the home page is the book's introduction");
    server.stop();
}

#[test]
fn an_unknown_path_gets_404_and_a_path_outside_the_book_is_not_served() {
    let server = start();
    for path in ["/no-such-page.html", "/../Cargo.toml", "/%2e%2e/%2e%2e/Cargo.toml"] {
        let answer = get(server.addr(), path);
        assert!(answer.starts_with("HTTP/1.1 404 Not Found\r\n"), "{path}: {answer:.200}");
        assert!(!answer.contains("[workspace]"), "{path} must not reach files outside the book");
    }
    server.stop();
}

#[test]
fn a_chapter_folder_named_without_its_slash_is_redirected_to_the_form_with_one() {
    let server = start();
    // From `/echo` the page's relative links (`code.html`) would point to `/code.html`.
    for (target, location) in [("/echo", "/echo/"), ("/echo?from=toc", "/echo/?from=toc")] {
        let answer = get(server.addr(), target);
        assert!(answer.starts_with("HTTP/1.1 308 Permanent Redirect\r\n"), "{target}: {answer:.300}");
        assert!(answer.contains(&format!("\r\nLocation: {location}\r\n")), "{target}: {answer:.300}");
    }
    let page = get(server.addr(), "/echo/");
    assert!(page.starts_with("HTTP/1.1 200 OK\r\n"), "{page:.200}");
    assert!(page.contains("href=\"code.html\""), "the folder's page links relatively: {page:.200}");
    server.stop();
}

#[test]
fn writing_to_the_book_gets_405_with_the_methods_it_allows() {
    let server = start();
    let answer = exchange(
        server.addr(),
        "POST /index.html HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nConnection: close\r\n\r\nhi",
    );
    assert!(answer.starts_with("HTTP/1.1 405 Method Not Allowed\r\n"), "{answer:.200}");
    assert!(answer.contains("Allow: GET, HEAD\r\n"), "{answer}");
    server.stop();
}

#[test]
fn malformed_http_gets_400() {
    let server = start();
    let answer = exchange(server.addr(), "this is not HTTP\r\n\r\n");
    assert!(answer.starts_with("HTTP/1.1 400 Bad Request\r\n"), "{answer:.200}");
    // The server is still serving.
    assert!(get(server.addr(), "/").starts_with("HTTP/1.1 200 OK\r\n"));
    server.stop();
}

#[test]
fn an_offer_to_upgrade_to_another_protocol_is_ignored_and_the_request_answered_at_once() {
    let server = start();
    let addr = server.addr();
    // `curl --http2` offers h2c (RFC 9110 §7.8: the server may ignore the offer). Unpatched,
    // tiny_http took everything after such a head for its body: the feed's publish, which reads
    // the body, waited for the read timeout and answered 400.
    let offer =
        "Connection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAAQCAAAAAAIAAAAA\r\n";
    let page = exchange(addr, &format!("GET / HTTP/1.1\r\nHost: {addr}\r\n{offer}\r\n"));
    assert!(page.starts_with("HTTP/1.1 200 OK\r\n"), "{page:.200}");
    let publish = format!(
        "POST {}/messages HTTP/1.1\r\nHost: {addr}\r\n{offer}Content-Length: 5\r\n\r\nhello",
        http_polling::BOOK_PREFIX
    );
    let published = exchange(addr, &publish);
    assert!(published.starts_with("HTTP/1.1 200 OK\r\n"), "{published:.300}");
    assert!(published.contains("\"text\":\"hello\""), "the body was read by its Content-Length: {published}");
    server.stop();
}

#[tokio::test(flavor = "multi_thread")]
async fn the_echo_answers_on_the_same_port_as_the_pages() {
    let server = start();
    let url = format!("ws://{}{}", server.addr(), ws_echo::PATH);
    let (mut ws, response) = tokio_tungstenite::connect_async(&url).await.expect("the upgrade succeeds");
    assert_eq!(response.status(), 101);
    ws.send(Message::text("hello")).await.unwrap();
    assert_eq!(ws.next().await.unwrap().unwrap(), Message::text("hello"));
    ws.send(Message::binary(vec![1, 2, 3])).await.unwrap();
    assert_eq!(ws.next().await.unwrap().unwrap(), Message::binary(vec![1, 2, 3]));
    ws.close(Some(CloseFrame { code: CloseCode::Normal, reason: "done".into() })).await.unwrap();
    match ws.next().await {
        Some(Ok(Message::Close(Some(frame)))) => assert_eq!(frame.code, CloseCode::Normal),
        other => panic!("the server should answer the close with 1000, got {other:?}"),
    }
    // The page server is unaffected by the WebSocket that just ran on the same port.
    let addr = server.addr();
    let page = tokio::task::spawn_blocking(move || get(addr, "/echo/live.html")).await.unwrap();
    assert!(page.starts_with("HTTP/1.1 200 OK\r\n"));
    server.stop();
}

#[test]
fn a_port_in_use_is_refused_with_a_line_that_names_the_flag() {
    let first = start();
    let config = Config { site: rendered_book().to_path_buf(), limits: ws_echo::Limits::default() };
    let Err(err) = server::start("127.0.0.1", first.addr().port(), config) else {
        panic!("a second server on the same port must not start");
    };
    assert!(matches!(err, ServeError::PortInUse { .. }), "{err:?}");
    let message = err.to_string();
    assert!(message.contains("--port") && !message.contains('\n'), "one line that names --port: {message}");
    first.stop();
}

#[tokio::test(flavor = "multi_thread")]
async fn the_feed_is_mounted_under_feed_with_every_mode_on_the_same_port() {
    use http_polling::client::{self, Connection, EventStream, Request};
    let server = start();
    let addr = server.addr();
    let published = tokio::task::spawn_blocking(move || {
        let mut connection = Connection::open(addr).unwrap();
        let message = client::publish(&mut connection, http_polling::BOOK_PREFIX, "hello").unwrap();
        let polled = client::short_poll(&mut connection, http_polling::BOOK_PREFIX, 0).unwrap();
        let request = EventStream::request(&addr.to_string(), http_polling::BOOK_PREFIX, Some(0));
        let mut stream = EventStream::open(Connection::open(addr).unwrap(), &request).unwrap();
        let retry = stream.next_event().unwrap().unwrap();
        let event = stream.next_event().unwrap().unwrap();
        let missing =
            Connection::open(addr).unwrap().exchange(&Request::get(&addr.to_string(), "/feed/nope")).unwrap();
        (message, polled, retry, event, missing.status())
    })
    .await
    .unwrap();
    let (message, polled, retry, event, missing) = published;
    assert_eq!(message.text, "hello");
    assert_eq!(polled, std::slice::from_ref(&message), "a short poll sees what was published");
    assert_eq!(retry.retry, Some(2000), "an event stream starts with its retry delay");
    assert_eq!((event.id.as_deref(), event.data.as_str()), (Some("1"), "hello"));
    assert_eq!(missing, 404);
    let url = format!("ws://{addr}/feed/ws?since=0");
    let (mut ws, _) = tokio_tungstenite::connect_async(&url).await.expect("the feed's WebSocket upgrades");
    assert_eq!(ws.next().await.unwrap().unwrap(), Message::text(r#"{"id":1,"text":"hello"}"#));
    let page = tokio::task::spawn_blocking(move || get(addr, "/request-response/live.html")).await.unwrap();
    assert!(page.starts_with("HTTP/1.1 200 OK\r\n") && page.contains("class=\"duplex-feed\""), "{page:.300}");
    // Stopping ends the open event stream and the WebSocket feed instead of waiting for them.
    server.stop();
}

/// Every line the servers in this test binary log, for the tests that wait for one: the book
/// server reports how each WebSocket ended only in its log.
struct Log {
    lines: std::sync::Mutex<Vec<String>>,
    grew: std::sync::Condvar,
}

impl Log {
    /// The log, installed as this test binary's subscriber the first time it is asked for.
    fn get() -> &'static Log {
        static LOG: std::sync::OnceLock<&'static Log> = std::sync::OnceLock::new();
        LOG.get_or_init(|| {
            let log: &'static Log =
                Box::leak(Box::new(Log { lines: Default::default(), grew: Default::default() }));
            let _ = tracing_subscriber::fmt()
                .with_max_level(tracing::Level::INFO)
                .with_ansi(false)
                .with_writer(move || LogLine(log, Vec::new()))
                .try_init();
            log
        })
    }

    /// Waits until a line matches `want` and returns it, or gives up after `patience`.
    fn wait_for(&self, want: impl Fn(&str) -> bool, patience: Duration) -> Option<String> {
        let deadline = std::time::Instant::now() + patience;
        let mut lines = self.lines.lock().unwrap();
        loop {
            if let Some(line) = lines.iter().find(|l| want(l)) {
                return Some(line.clone());
            }
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            if left.is_zero() {
                return None;
            }
            lines = self.grew.wait_timeout(lines, left).unwrap().0;
        }
    }
}

/// One event's text, added to the [`Log`] when tracing is done writing it.
struct LogLine(&'static Log, Vec<u8>);

impl Write for LogLine {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.1.extend_from_slice(bytes);
        Ok(bytes.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Drop for LogLine {
    fn drop(&mut self) {
        let text = String::from_utf8_lossy(&self.1);
        self.0.lines.lock().unwrap().extend(text.lines().map(str::to_owned));
        self.0.grew.notify_all();
    }
}

#[test]
fn an_echo_client_that_stops_reading_is_closed_with_1013_and_the_log_says_so() {
    let log = Log::get();
    // Short send and close timeouts: the server runs in real time, so the test waits for the
    // log line, not for a clock.
    let limits = ws_echo::Limits {
        send_timeout: Duration::from_millis(200),
        close_timeout: Duration::from_millis(200),
        ..ws_echo::Limits::default()
    };
    let config = Config { site: rendered_book().to_path_buf(), limits };
    let server = server::start("127.0.0.1", 0, config).unwrap();
    let stream = TcpStream::connect(server.addr()).unwrap();
    let me = stream.local_addr().unwrap();
    stream.set_write_timeout(Some(Duration::from_secs(30))).unwrap();
    let url = format!("ws://{}{}", server.addr(), ws_echo::PATH);
    let (mut ws, _) = tungstenite::client(url, stream).unwrap();
    // Never reads: the echoes pile up until the server's writes wait.
    let pusher = std::thread::spawn(move || {
        let message = Message::binary(vec![7u8; 60_000]);
        while ws.send(message.clone()).is_ok() {}
    });
    let closed = |line: &str| line.contains("WebSocket closed") && line.contains(&format!("peer={me}"));
    let line = log
        .wait_for(closed, Duration::from_secs(30))
        .unwrap_or_else(|| panic!("no \"WebSocket closed\" line for {me} within 30 s"));
    assert!(line.contains("WeClosed(CloseCode(1013)"), "the ending is logged with its code: {line}");
    pusher.join().unwrap();
    server.stop();
}

#[test]
fn an_echo_message_over_the_limit_gets_1009_and_the_log_says_how_it_ended() {
    let log = Log::get();
    let server = start();
    let stream = TcpStream::connect(server.addr()).unwrap();
    let me = stream.local_addr().unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    let url = format!("ws://{}{}", server.addr(), ws_echo::PATH);
    let (mut ws, _) = tungstenite::client(url, stream).unwrap();
    ws.send(Message::text("x".repeat(guard::limits::MAX_MESSAGE + 1))).unwrap();
    match ws.read().unwrap() {
        Message::Close(Some(frame)) => assert_eq!(frame.code, CloseCode::Size, "RFC 6455 §7.4.1: 1009"),
        other => panic!("expected a close frame with 1009, got {other:?}"),
    }
    // The close handshake completes and the server closes TCP.
    assert!(matches!(ws.read(), Err(tungstenite::Error::ConnectionClosed)));
    drop(ws);
    // Its thread lived to tell: a panic there (as tungstenite's debug assertion once caused)
    // would leave no line.
    let closed = |line: &str| line.contains("WebSocket closed") && line.contains(&format!("peer={me}"));
    let line = log
        .wait_for(closed, Duration::from_secs(30))
        .unwrap_or_else(|| panic!("no \"WebSocket closed\" line for {me} within 30 s"));
    assert!(line.contains("WeClosed(CloseCode(1009)"), "{line}");
    server.stop();
}

/// The value of the first `attribute="…"` in `html` after `after`.
fn attribute<'a>(html: &'a str, after: &str, attribute: &str) -> &'a str {
    let rest = html.split(after).nth(1).unwrap_or_else(|| panic!("no {after} in the page"));
    rest.split(&format!("{attribute}=\"")).nth(1).and_then(|r| r.split('"').next()).unwrap_or_default()
}

/// `href` resolved against the URL path of the page it is on, as a browser does.
fn resolve(page: &str, href: &str) -> String {
    if href.starts_with('/') {
        return href.to_owned();
    }
    let mut parts: Vec<&str> = page.split('/').collect();
    parts.pop();
    for part in href.split('/') {
        match part {
            ".." => {
                parts.pop();
            }
            "." => {}
            part => parts.push(part),
        }
    }
    parts.join("/")
}

#[test]
fn the_chinese_edition_is_served_at_zh_beside_the_english() {
    let server = start();
    let page = get(server.addr(), "/zh/");
    assert!(page.starts_with("HTTP/1.1 200 OK\r\n"), "{page:.200}");
    assert!(page.contains("<html lang=\"zh-CN\""), "the Chinese edition's pages say their language");
    assert!(page.contains("<title>引言"), "/zh/ is the Chinese introduction: {page:.600}");
    let english = get(server.addr(), "/");
    assert!(english.contains("<html lang=\"en\"") && english.contains("<title>Introduction"));
    // `/zh` is the folder `/zh/`, so that the page's relative links resolve.
    let answer = get(server.addr(), "/zh");
    assert!(
        answer.starts_with("HTTP/1.1 308 Permanent Redirect\r\n")
            && answer.contains("\r\nLocation: /zh/\r\n")
    );
    // A missing Chinese page gets the Chinese edition's 404 page.
    let missing = get(server.addr(), "/zh/no-such-page.html");
    assert!(
        missing.starts_with("HTTP/1.1 404 Not Found\r\n") && missing.contains("<html lang=\"zh-CN\""),
        "{missing:.300}"
    );
    server.stop();
}

#[test]
fn a_pages_switch_leads_to_the_same_page_in_the_other_edition_and_back() {
    let server = start();
    for page in ["/echo/live.html", "/heartbeat/endings.html", "/index.html", "/glossary.html"] {
        let html = get(server.addr(), page);
        let chinese = resolve(page, attribute(&html, "class=\"duplex-language\"", "href"));
        assert_eq!(chinese, format!("/zh{page}"), "{page}'s switch");
        let twin = get(server.addr(), &chinese);
        assert!(
            twin.starts_with("HTTP/1.1 200 OK\r\n") && twin.contains("<html lang=\"zh-CN\""),
            "{chinese}"
        );
        let back = resolve(&chinese, attribute(&twin, "class=\"duplex-language\"", "href"));
        assert_eq!(back, page, "{chinese}'s switch leads back");
    }
    server.stop();
}

#[tokio::test(flavor = "multi_thread")]
async fn the_live_demos_answer_from_the_chinese_pages() {
    let server = start();
    let addr = server.addr();
    // The echo page: its script and its WebSocket, each resolved from the Chinese page's URL.
    let page = "/zh/echo/live.html";
    let html = tokio::task::spawn_blocking(move || get(addr, page)).await.unwrap();
    assert!(html.contains("class=\"duplex-echo\""), "{html:.300}");
    let script = html
        .split("src=\"")
        .filter_map(|r| r.split('"').next())
        .find(|s| s.contains("live/live") && s.ends_with(".js"))
        .expect("live.js is loaded")
        .to_owned();
    let script = resolve(page, &script);
    assert!(script.starts_with("/zh/live/"), "{script}");
    let js = tokio::task::spawn_blocking(move || get(addr, &script)).await.unwrap();
    assert!(
        js.starts_with("HTTP/1.1 200 OK\r\n") && js.contains("连接"),
        "the script with its Chinese labels"
    );
    let path = resolve(page, attribute(&html, "class=\"duplex-echo\"", "data-path"));
    let (mut ws, _) =
        tokio_tungstenite::connect_async(format!("ws://{addr}{path}")).await.expect("the echo upgrades");
    ws.send(Message::text("你好")).await.unwrap();
    assert_eq!(ws.next().await.unwrap().unwrap(), Message::text("你好"));
    ws.close(None).await.unwrap();
    // The feed's page: its prefix answers a short poll.
    let page = "/zh/request-response/live.html";
    let html = tokio::task::spawn_blocking(move || get(addr, page)).await.unwrap();
    let prefix = resolve(page, attribute(&html, "class=\"duplex-feed\"", "data-prefix"));
    let poll =
        tokio::task::spawn_blocking(move || get(addr, &format!("{prefix}/messages?since=0"))).await.unwrap();
    assert!(poll.starts_with("HTTP/1.1 200 OK\r\n"), "{poll:.300}");
    server.stop();
}
