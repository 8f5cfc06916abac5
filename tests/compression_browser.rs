//! The chapter "Compression" in a real browser: headless Chromium opens a WebSocket through the
//! Tap, once to the tungstenite echo (which declines the browser's `permessage-deflate` offer
//! without a word) and once to the by-hand server started with `--deflate` (which accepts it).
//! The page sends the chapter's four messages, waits for their echoes and closes; the snapshots
//! (`tests/snapshots/compression_browser__*.snap`) hold the handshake and every frame.
//!
//! Needs the Debian packages `chromium` and `chromium-driver`, so a plain `cargo test` ignores
//! it; `.ci/run` runs it (`cargo test -p duplex-tests --test compression_browser -- --ignored`).

#![allow(clippy::unwrap_used, reason = "in a test, a panic is a failure with a line number")]
#![cfg(unix)]

#[path = "support/chromium.rs"]
mod chromium;

use chromium::{Browser, PATIENCE};
use tap::Tap;
use tokio::io::AsyncWriteExt;
use tokio::net::TcpListener;
use wire::http::Head;
use wire::{EventKind, Render, Transcript};
use ws_by_hand::demo::DEFLATE_MESSAGES;

/// The page: it opens a WebSocket to the URL after `#`, logs which extensions the server chose
/// (`WebSocket.extensions`, WHATWG WebSockets §3), sends the four messages one at a time, each
/// after the echo of the one before (so the transcript's order is the same on every run), and
/// closes once every echo is back.
fn page() -> String {
    let messages = serde_json::to_string(&DEFLATE_MESSAGES).unwrap();
    format!(
        r#"<!doctype html>
<meta charset="utf-8">
<title>Compression in the browser</title>
<ol id="log"></ol>
<script>
const log = (kind, text) => {{
  const li = document.createElement("li");
  li.dataset.kind = kind;
  li.textContent = text;
  document.getElementById("log").append(li);
}};
const messages = {messages};
const socket = new WebSocket(decodeURIComponent(location.hash.slice(1)));
let sent = 0;
socket.onopen = () => {{
  log("open", `extensions: "${{socket.extensions}}"`);
  socket.send(messages[sent++]);
}};
socket.onmessage = (event) => {{
  log("in", event.data);
  if (sent < messages.length) socket.send(messages[sent++]);
  else socket.close(1000, "done");
}};
socket.onclose = (event) => log("close", `close ${{event.code}} clean=${{event.wasClean}}`);
</script>
"#
    )
}

/// Serves the page at `/` (404 for anything else, such as the favicon) until the test ends.
async fn serve_page(listener: TcpListener) {
    let page = page();
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

/// The request headers the snapshot keeps: the ones about the upgrade. The others (User-Agent,
/// Accept-Language, Cache-Control…) depend on the browser's version and the machine.
const KEPT: [&str; 6] =
    ["Host", "Connection", "Upgrade", "Origin", "Sec-WebSocket-Version", "Sec-WebSocket-Extensions"];

/// The WebSocket's handshake and frames, as the snapshot shows them: the request with only the
/// upgrade's headers, the response, the notes, and every frame (not the TCP openings and
/// closings, whose order against the last frames varies from run to run).
fn for_snapshot(transcript: &Transcript) -> String {
    let mut kept = Transcript { events: Vec::new() };
    for event in &transcript.events {
        match &event.kind {
            EventKind::Head(head) if head.method().is_some() => {
                let mut head: Head = head.clone();
                head.headers.retain(|(name, _)| KEPT.iter().any(|k| k.eq_ignore_ascii_case(name)));
                let mut event = event.clone();
                event.kind = EventKind::Head(head);
                kept.events.push(event);
            }
            // The last note counts the bytes each side sent, which depend on the headers left out.
            EventKind::Note(note) if note.starts_with("the connection is over") => {}
            EventKind::Head(_) | EventKind::Note(_) | EventKind::Frame(_) => kept.events.push(event.clone()),
            _ => {}
        }
    }
    let text = kept.render(&Render::snapshot().redacting("Sec-WebSocket-Accept"));
    // The request's size depends on the headers left out: say so instead of a number.
    let mut first = true;
    text.lines()
        .map(|line| {
            if first && line.starts_with("    · ") && line.ends_with("bytes of head") {
                first = false;
                "    · (and Chromium's other headers, left out here)".to_owned()
            } else {
                line.to_owned()
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
        + "\n"
}

/// Chromium loads the page from `pages` and opens its WebSocket, through the Tap, to the server
/// at `server` (whose WebSocket is at `path`): what the page logged, and the WebSocket
/// connection's transcript.
async fn chromium_against(
    pages: TcpListener,
    server: std::net::SocketAddr,
    path: &str,
) -> (String, Transcript) {
    let page_origin = origin(&pages);
    let page_server = tokio::spawn(serve_page(pages));
    let tap = Tap::bind("127.0.0.1:0", server).await.unwrap();
    let ws_url = format!("ws://{}{path}", tap.local_addr());
    let (connections, mut accepted) = tokio::sync::mpsc::unbounded_channel();
    let acceptor = tokio::spawn(async move {
        while let Ok(connection) = tap.accept().await {
            if connections.send(connection).is_err() {
                break;
            }
        }
    });
    let browser = Browser::start(false).await;
    browser.goto(&format!("{page_origin}/#{}", ws_url.replace(':', "%3A").replace('/', "%2F"))).await;
    browser.entry("close").await;
    let log = browser.log().await;
    browser.close().await;
    acceptor.abort();
    page_server.abort();
    let connection = tokio::time::timeout(PATIENCE, accepted.recv())
        .await
        .unwrap()
        .expect("the WebSocket went through the Tap");
    let transcript =
        tokio::time::timeout(PATIENCE, connection.transcript()).await.expect("the connection ends");
    (log, transcript)
}

/// The origin of the pages `pages` serves.
fn origin(pages: &TcpListener) -> String {
    format!("http://127.0.0.1:{}", pages.local_addr().unwrap().port())
}

/// Limits that let in the page: it comes from another port, an origin the server allows as
/// `--allow-origin` would.
fn limits_for(pages: &TcpListener) -> guard::Limits {
    guard::Limits {
        origins: guard::admission::Origins::default().allow(&origin(pages)),
        ..guard::Limits::default()
    }
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs chromium and chromedriver: run by .ci/run, or cargo test -p duplex-tests --test compression_browser -- --ignored"]
async fn chromium_offers_deflate_and_tungstenite_declines_without_a_word() {
    let pages = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server = tokio::spawn(ws_echo::server::serve(listener, limits_for(&pages)));
    let (log, transcript) = chromium_against(pages, addr, ws_echo::PATH).await;
    server.abort();
    assert!(log.contains(r#"open: extensions: """#), "the page sees no extension: {log}");
    let (_, request) = transcript.heads().next().unwrap();
    assert_eq!(
        request.header("Sec-WebSocket-Extensions"),
        Some("permessage-deflate; client_max_window_bits"),
        "what Chromium offers in every handshake"
    );
    let (_, response) = transcript.heads().nth(1).unwrap();
    assert_eq!(response.header("Sec-WebSocket-Extensions"), None, "tungstenite answers without the header");
    assert!(transcript.frames().all(|(_, f)| !f.header.rsv1), "so nothing is compressed either way");
    insta::with_settings!({ omit_expression => true }, {
        insta::assert_snapshot!("tungstenite_declines", for_snapshot(&transcript));
    });
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs chromium and chromedriver: run by .ci/run, or cargo test -p duplex-tests --test compression_browser -- --ignored"]
async fn chromium_and_the_by_hand_server_compress_both_ways() {
    let pages = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let config = ws_by_hand::server::Config {
        limits: limits_for(&pages),
        deflate: Some(wire::deflate::DeflateConfig::default()),
    };
    let server = tokio::spawn(ws_by_hand::server::serve(listener, config));
    let (log, transcript) = chromium_against(pages, addr, ws_by_hand::PATH).await;
    server.abort();
    assert!(log.contains(r#"open: extensions: "permessage-deflate""#), "the page sees the agreement: {log}");
    for message in DEFLATE_MESSAGES {
        assert!(log.contains(&format!("in: {message}")), "{message} came back: {log}");
    }
    let data: Vec<_> = transcript.frames().filter(|(_, f)| !f.header.opcode.is_control()).collect();
    assert_eq!(data.len(), 8, "four messages each way");
    assert!(
        data.iter().all(|(_, f)| f.compressed && f.inflated.is_some()),
        "every message compressed, both ways"
    );
    insta::with_settings!({ omit_expression => true }, {
        insta::assert_snapshot!("by_hand_accepts", for_snapshot(&transcript));
    });
}
