//! A real browser against the real servers: headless Chromium, driven through chromedriver
//! (WebDriver) by `fantoccini`.
//!
//! These tests need the Debian packages `chromium` and `chromium-driver`, so they are ignored in
//! a plain `cargo test`. `just test-browser` runs them (`cargo test -p duplex-tests --test
//! browser -- --ignored`), and `.ci/run` installs the two packages when they are missing and runs
//! them, so CI always does. `CHROMIUM` and `CHROMEDRIVER` name other binaries.
//!
//! No test sleeps to wait for something: each waits for an element on the page or for an entry
//! in the server's journal, with a generous upper bound that only a broken run reaches.

#![allow(clippy::unwrap_used, reason = "in a test, a panic is a failure with a line number")]
// Process groups and the Debian packages: the browser tests run on Linux (and other Unixes).
#![cfg(unix)]

#[path = "support/chromium.rs"]
mod chromium;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex, OnceLock};

use chromium::{Browser, PATIENCE};
use one_port::admission::{Admission, Sessions};
use one_port::journal::Entry;
use one_port::server::{self, Config, Guard, Running};
use serve::Ending;
use tokio::sync::watch;

/// The one-port server on a free port, allowing its own origin, with `sessions`.
fn one_port(guard: Guard, sessions: &Sessions) -> Running {
    let listener = server::bind("127.0.0.1", 0).unwrap();
    let port = listener.local_addr().unwrap().port();
    let admission = Admission::new(sessions.clone()).allow_loopback("http", port);
    server::start(listener, Config { guard, ..Config::new(admission) }).unwrap()
}

fn base(addr: SocketAddr) -> String {
    format!("http://127.0.0.1:{}", addr.port())
}

/// Signs in through the home page's form, as a person would; the browser keeps the cookie.
async fn sign_in(browser: &Browser, server: SocketAddr, name: &str) {
    browser.goto(&format!("{}/", base(server))).await;
    browser.type_into("#name", name).await;
    browser.click("#sign-in").await;
    // The 303 lands on the client page.
    browser.wait_for("#connect").await;
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs chromium and chromedriver: run `just test-browser`"]
async fn the_browser_client_echoes_and_the_server_sees_1001_when_the_page_is_left() {
    let sessions = Sessions::new();
    let server = one_port(Guard::Checked, &sessions);
    let browser = Browser::start(false).await;
    sign_in(&browser, server.addr(), "ada").await;

    browser.click("#connect").await;
    browser.wait_for("#state[data-ready-state='1']").await;
    browser.wait_for("//ol[@id='log']/li[@data-kind='in' and .='text hello, ada']").await;

    browser.type_into("#message", "Hello from Chromium").await;
    browser.click("#send-text").await;
    browser.wait_for("//ol[@id='log']/li[@data-kind='in' and .='text Hello from Chromium']").await;
    browser.type_into("#message", "Hi").await;
    browser.click("#send-binary").await;
    browser.wait_for("//ol[@id='log']/li[@data-kind='in' and .='binary 48 69']").await;
    let buffered = browser.wait_for("#buffered").await.attr("data-buffered").await.unwrap();
    assert!(buffered.is_some_and(|b| b.parse::<u64>().is_ok()), "bufferedAmount is shown as a number");

    // The events came in the order the API promises: open before any message.
    let log = browser.wait_for("#log").await.text().await.unwrap();
    let open = log.find("open:").expect("an open event");
    assert!(open < log.find("text hello, ada").unwrap(), "open comes before the first message:\n{log}");

    // The browser sends 1001 itself when the page goes away.
    browser.goto(&format!("{}/", base(server.addr()))).await;
    let closed = tokio::time::timeout(
        PATIENCE,
        server.journal().wait_for(|e| {
            matches!(e, Entry::Closed { user: Some(u), ending: Ending::PeerClosed(Some(_)) } if u == "ada")
        }),
    )
    .await
    .unwrap_or_else(|_| panic!("the server should see the socket close: {:#?}", server.journal().lines()));
    assert!(
        matches!(closed, Entry::Closed { ending: Ending::PeerClosed(Some(wire::CloseCode(1001))), .. }),
        "leaving the page closes with 1001 going away (RFC 6455 §7.4.1), got {closed:?}"
    );
    // A page cannot send 1001 itself (WebSocket API: only 1000 and 3000–4999).
    let thrown = browser
        .client
        .execute(
            "try { new WebSocket(arguments[0]).close(1001); return 'nothing'; } catch (e) { return e.name; }",
            // Nothing listens on port 9 here: the socket is never opened, only refused.
            vec![serde_json::json!("ws://127.0.0.1:9/")],
        )
        .await
        .unwrap();
    assert_eq!(thrown, "InvalidAccessError", "close(1001) from a page must throw");

    browser.close().await;
    server.stop();
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs chromium and chromedriver: run `just test-browser`"]
async fn a_page_on_another_origin_is_refused_by_the_checked_server_and_hijacks_the_unchecked_one() {
    // Two servers sharing one session table: one checks Origin, one (the koa + ws default) does
    // not. Cookies belong to a host, not a port, so signing in on one signs in on both.
    let sessions = Sessions::new();
    let checked = one_port(Guard::Checked, &sessions);
    let unchecked = one_port(Guard::Unchecked, &sessions);
    let browser = Browser::start(false).await;
    sign_in(&browser, checked.addr(), "ada").await;

    let target = format!("ws://127.0.0.1:{}/ws/echo", checked.addr().port());
    let attacker = one_port::cswsh::start(server::bind("127.0.0.1", 0).unwrap(), &target).unwrap();
    let evil = base(attacker.addr());
    browser.goto(&format!("{evil}/")).await;
    browser.wait_for("#outcome[data-outcome='refused']").await;
    let outcome = browser.wait_for("#outcome").await.text().await.unwrap();
    assert!(
        outcome.contains("close code 1006"),
        "a refused handshake reaches the page only as close code 1006, with no reason: {outcome}"
    );
    let refusal = tokio::time::timeout(
        PATIENCE,
        checked.journal().wait_for(|e| matches!(e, Entry::Line { text, .. } if text.contains("→ 403"))),
    )
    .await
    .unwrap();
    assert!(
        matches!(&refusal, Entry::Line { text, .. } if text.contains(&evil)),
        "the server refused the attacker's origin {evil} by name: {refusal:?}"
    );
    attacker.stop();

    let target = format!("ws://127.0.0.1:{}/ws/echo", unchecked.addr().port());
    let attacker = one_port::cswsh::start(server::bind("127.0.0.1", 0).unwrap(), &target).unwrap();
    browser.goto(&format!("{}/", base(attacker.addr()))).await;
    browser.wait_for("#outcome[data-outcome='open']").await;
    browser.wait_for("//ol[@id='received']/li[.='hello, ada']").await;
    attacker.stop();

    browser.close().await;
    checked.stop();
    unchecked.stop();
}

/// Log lines captured from every thread of this test binary (the book server logs how each
/// WebSocket ended with `tracing`).
fn captured_logs() -> watch::Receiver<Vec<String>> {
    static LOGS: OnceLock<watch::Sender<Vec<String>>> = OnceLock::new();
    LOGS.get_or_init(|| {
        use tracing_subscriber::layer::SubscriberExt;
        let sender = watch::Sender::new(Vec::new());
        let layer = Capture(Arc::new(Mutex::new(sender.clone())));
        let _ = tracing::subscriber::set_global_default(tracing_subscriber::registry().with(layer));
        sender
    })
    .subscribe()
}

struct Capture(Arc<Mutex<watch::Sender<Vec<String>>>>);

impl<S: tracing::Subscriber> tracing_subscriber::Layer<S> for Capture {
    fn on_event(&self, event: &tracing::Event<'_>, _ctx: tracing_subscriber::layer::Context<'_, S>) {
        struct Fields(String);
        impl tracing::field::Visit for Fields {
            fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn std::fmt::Debug) {
                self.0.push_str(&format!("{}={value:?} ", field.name()));
            }
        }
        let mut fields = Fields(String::new());
        event.record(&mut fields);
        self.0.lock().unwrap().send_modify(|lines| lines.push(fields.0));
    }
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs chromium and chromedriver: run `just test-browser`"]
async fn the_books_echo_widget_echoes_and_closes_with_1001_when_the_page_is_left() {
    let mut logs = captured_logs();
    let server = duplex_tests::book_server();
    let browser = Browser::start(false).await;
    browser.goto(&format!("{}/echo/live.html", base(server.addr()))).await;
    browser.click(".duplex-echo [data-action='connect']").await;
    browser.wait_for("//*[@data-role='state' and contains(., 'OPEN (1)')]").await;
    browser.type_into(".duplex-echo [data-role='message']", "Hello from the book").await;
    browser.click(".duplex-echo [data-action='send-text']").await;
    browser.wait_for("//li[@data-kind='in' and contains(., 'Hello from the book')]").await;

    browser.goto(&format!("{}/", base(server.addr()))).await;
    let closed = tokio::time::timeout(
        PATIENCE,
        logs.wait_for(|lines| lines.iter().any(|l| l.starts_with("message=WebSocket closed "))),
    )
    .await
    .expect("the book server logs the end of the WebSocket")
    .unwrap()
    .iter()
    .find(|l| l.starts_with("message=WebSocket closed "))
    .cloned()
    .unwrap();
    assert!(
        closed.contains("PeerClosed(Some(CloseCode(1001)))"),
        "leaving the page closes with 1001: {closed}"
    );
    browser.close().await;
    server.stop();
}

/// The heartbeat chapter's "a browser tab goes away": the Tap between Chromium and the book
/// server, and the frames of the echo widget's WebSocket from the `101` on. The browser's own
/// request headers (its version, its language) differ from machine to machine, so the snapshot
/// starts after the handshake; the frames and the close are the same everywhere.
#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs chromium and chromedriver: run `just test-browser`"]
async fn a_browser_tab_that_goes_away_closes_with_1001() {
    use tap::Tap;
    use wire::{EventKind, Render, Transcript};
    let server = duplex_tests::book_server();
    let tap = Tap::bind("127.0.0.1:0", server.addr()).await.unwrap();
    let tap_addr = tap.local_addr();
    // Every connection the page opens (its files, then the WebSocket) goes through the Tap.
    let (connections, mut accepted) = tokio::sync::mpsc::unbounded_channel();
    let acceptor = tokio::spawn(async move {
        while let Ok(connection) = tap.accept().await {
            if connections.send(connection).is_err() {
                break;
            }
        }
    });
    let browser = Browser::start(false).await;
    browser.goto(&format!("{}/echo/live.html", base(tap_addr))).await;
    browser.click(".duplex-echo [data-action='connect']").await;
    browser.wait_for("//*[@data-role='state' and contains(., 'OPEN (1)')]").await;
    browser.type_into(".duplex-echo [data-role='message']", "Hello from a tab").await;
    browser.click(".duplex-echo [data-action='send-text']").await;
    browser.wait_for("//li[@data-kind='in' and contains(., 'Hello from a tab')]").await;
    browser.goto("about:blank").await;
    browser.close().await;
    acceptor.abort();
    let mut transcripts = Vec::new();
    while let Ok(connection) = accepted.try_recv() {
        transcripts.push(
            tokio::time::timeout(PATIENCE, connection.transcript()).await.expect("every connection ends"),
        );
    }
    let websocket = transcripts
        .into_iter()
        .find(|t| t.frames().next().is_some())
        .expect("one of the page's connections carried the WebSocket");
    let from_101 = websocket
        .events
        .iter()
        .position(|e| matches!(&e.kind, EventKind::Note(n) if n.starts_with("101 Switching Protocols")))
        .expect("the Tap saw the switch to WebSocket");
    // Only the frames: when Chromium closes TCP relative to the server's answer, and how many
    // bytes its handshake took, differ between runs and versions.
    let after = &websocket.events[from_101..];
    let frames = Transcript {
        events: after[..1]
            .iter()
            .chain(after.iter().filter(|e| matches!(e.kind, EventKind::Frame(_))))
            .cloned()
            .collect(),
    };
    let closes: Vec<_> = frames.frames().filter(|(_, f)| f.header.opcode == wire::OpCode::Close).collect();
    assert_eq!(closes.len(), 2, "the browser's close frame and the server's answer");
    insta::with_settings!({ omit_expression => true }, {
        insta::assert_snapshot!("browser_tab_goes_away", frames.render(&Render::snapshot()));
    });
    server.stop();
}

/// The page of the by-hand test: it opens a WebSocket to `url`, sends a text and a binary
/// message as soon as it is open, and lists what happens, for the test to wait on.
fn by_hand_page(url: &str) -> String {
    format!(
        r#"<!doctype html>
<meta charset="utf-8">
<title>A browser against the by-hand server</title>
<ol id="log"></ol>
<script>
const log = (kind, text) => {{
  const li = document.createElement("li");
  li.dataset.kind = kind;
  li.textContent = text;
  document.getElementById("log").append(li);
}};
const hex = (data) => Array.from(new Uint8Array(data), (b) => b.toString(16).padStart(2, "0")).join(" ");
const socket = new WebSocket("{url}");
socket.binaryType = "arraybuffer";
socket.onopen = () => {{
  log("open", "open");
  socket.send("Hello from Chromium");
  socket.send(new Uint8Array([0x48, 0x69]));
}};
socket.onmessage = (event) =>
  log("in", typeof event.data === "string" ? `text ${{event.data}}` : `binary ${{hex(event.data)}}`);
socket.onclose = (event) => log("close", `close ${{event.code}} ${{event.reason}} clean=${{event.wasClean}}`);
window.bySocket = socket;
</script>
"#
    )
}

/// Serves `page` at `/` (and 404 for anything else, such as the favicon) until the test ends.
async fn serve_page(listener: tokio::net::TcpListener, page: String) {
    use tokio::io::AsyncWriteExt;
    let limits = guard::Limits::default();
    while let Ok((mut stream, _)) = listener.accept().await {
        let page = page.clone();
        let limits = limits.clone();
        tokio::spawn(async move {
            let Ok((head, _)) = guard::head::read_request(&mut stream, &limits).await else { return };
            let root = matches!(&head.start, wire::http::StartLine::Request { target, .. } if target == "/");
            let (status, body) =
                if root { ("200 OK", page) } else { ("404 Not Found", "not here\n".to_owned()) };
            let response = format!(
                "HTTP/1.1 {status}\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: {}\r\n\
                 Connection: close\r\n\r\n{body}",
                body.len()
            );
            let _ = stream.write_all(response.as_bytes()).await;
            let _ = stream.shutdown().await;
        });
    }
}

/// The socket chapter's promise, "a browser and tungstenite's client both work against it":
/// headless Chromium opens a WebSocket to the by-hand server from a page of another port (an
/// origin the server allows, as `--allow-origin` does), sends text and binary, reads both echoes
/// from the page, closes with 4000, and the by-hand server reports that close code as the
/// connection's outcome (the value its log line "WebSocket closed" prints).
#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs chromium and chromedriver: run `just test-browser`"]
async fn a_browser_talks_to_the_by_hand_server_and_its_close_code_reaches_the_server() {
    use ws_by_hand::server::Outcome;
    use ws_by_hand::session::Ending as ByHandEnding;

    let pages = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let page_origin = format!("http://127.0.0.1:{}", pages.local_addr().unwrap().port());
    let by_hand = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let ws_url = format!("ws://{}{}", by_hand.local_addr().unwrap(), ws_by_hand::PATH);
    let page_server = tokio::spawn(serve_page(pages, by_hand_page(&ws_url)));

    // The by-hand server's own handshake and echo (`server::run`, what `serve` runs for each
    // connection), allowing the page's origin; each connection's outcome comes back here.
    let origins = guard::admission::Origins::default().allow(&page_origin);
    let limits = ws_by_hand::Limits { origins, ..ws_by_hand::Limits::default() };
    let (outcomes, mut outcome) = tokio::sync::mpsc::unbounded_channel();
    let server = tokio::spawn(async move {
        while let Ok((stream, _)) = by_hand.accept().await {
            let (limits, outcomes) = (limits.clone(), outcomes.clone());
            tokio::spawn(async move {
                let _ =
                    outcomes.send(ws_by_hand::server::run(stream, &limits).await.map_err(|e| e.to_string()));
            });
        }
    });

    let browser = Browser::start(false).await;
    browser.goto(&format!("{page_origin}/")).await;
    browser.wait_for("//ol[@id='log']/li[@data-kind='open']").await;
    browser.wait_for("//ol[@id='log']/li[@data-kind='in' and .='text Hello from Chromium']").await;
    browser.wait_for("//ol[@id='log']/li[@data-kind='in' and .='binary 48 69']").await;

    // A page may close with 1000 or 3000–4999 (WebSocket API); 4000 is for applications.
    browser.client.execute("window.bySocket.close(4000, 'done by hand')", vec![]).await.unwrap();
    let closed = browser.wait_for("//ol[@id='log']/li[@data-kind='close']").await.text().await.unwrap();
    assert_eq!(
        closed, "close 4000 done by hand clean=true",
        "the server answers the close with the same code and reason (RFC 6455 §5.5.1), cleanly"
    );
    let seen = tokio::time::timeout(PATIENCE, outcome.recv())
        .await
        .expect("the by-hand server finishes the connection")
        .expect("one connection");
    assert_eq!(
        seen,
        Ok(Outcome::Closed(ByHandEnding::PeerClosed(Some(wire::CloseCode(4000))))),
        "the by-hand server saw the browser's close code"
    );

    browser.close().await;
    server.abort();
    page_server.abort();
}
