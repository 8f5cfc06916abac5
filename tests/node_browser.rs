//! The browser side of the reader's own stack, in a real browser: the pages in `js/browser/`
//! (served by `js/browser/server.mjs`, a Node program) and the koa one-port page, driven in
//! headless Chromium. The pages log what the WebSocket API did (`<li data-kind=…>`), the server
//! logs what reached it, and the snapshots (`tests/snapshots/node_browser__*.snap`) hold both.
//!
//! These tests need Node 20 with npm and the Debian packages `chromium` and `chromium-driver`,
//! so a plain `cargo test` ignores them; `.ci/run` runs them (`cargo test -p duplex-tests --test
//! node_browser -- --ignored`). No test sleeps to wait: each waits for an entry in the page's log
//! or a line of the server's.

#![allow(clippy::unwrap_used, reason = "in a test, a panic is a failure with a line number")]
#![cfg(unix)]

#[path = "support/chromium.rs"]
mod chromium;

use chromium::Browser;
use duplex_tests::node::Program;

fn snapshot(name: &str, text: &str) {
    insta::with_settings!({ omit_expression => true }, {
        insta::assert_snapshot!(name, text);
    });
}

fn base(server: &Program) -> String {
    format!("http://127.0.0.1:{}", server.addr().port())
}

/// The page's log and the server's, for a snapshot.
fn both_logs(page: &str, server: &[String]) -> String {
    let mut text = String::from("What the page logged:\n");
    for line in page.lines() {
        text.push_str(&format!("  {line}\n"));
    }
    text.push_str("What the server logged:\n");
    for line in server {
        text.push_str(&format!("  {line}\n"));
    }
    text
}

/// `POST path` to the browser pages' server (its `/push` and `/ping`), from the test.
async fn post(server: &Program, path: &str) {
    let addr = server.addr();
    let request = format!("POST {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Length: 0\r\n\r\n");
    let answer =
        tokio::task::spawn_blocking(move || duplex_tests::one_response(addr, &request)).await.unwrap();
    assert!(answer.starts_with("HTTP/1.1 200 OK"), "{answer}");
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs Node 20, npm and chromium: run by .ci/run, or cargo test -p duplex-tests --test node_browser -- --ignored"]
async fn send_while_connecting_throws_and_send_after_close_is_counted_and_dropped() {
    let mut server = Program::start("browser/server.mjs", &[]).await;
    let browser = Browser::start(false).await;
    browser.goto(&format!("{}/connecting.html", base(&server))).await;
    let thrown = browser.entry("thrown").await;
    assert_eq!(
        thrown, "send() while CONNECTING threw InvalidStateError",
        "WebSockets Standard: send() throws InvalidStateError while CONNECTING"
    );
    let buffered = browser.entry("buffered").await;
    assert_eq!(
        buffered, "after send(\"hello\"): bufferedAmount 5",
        "right after send(), it counts the message"
    );
    let after = browser.entry("after-close").await;
    assert!(after.contains("did not throw: readyState 2"), "{after}");
    browser.entry("close").await;
    server.line(|l| l.contains("closed")).await;
    snapshot("connecting", &both_logs(&browser.log().await, server.drain()));
    browser.close().await;
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs Node 20, npm and chromium: run by .ci/run, or cargo test -p duplex-tests --test node_browser -- --ignored"]
async fn a_route_change_keeps_the_socket_and_a_real_navigation_closes_it_with_1001() {
    let mut server = Program::start("browser/server.mjs", &[]).await;
    // Without the back/forward cache, leaving a page unloads it: the case every browser has.
    let browser = Browser::start(false).await;
    browser.goto(&format!("{}/spa.html", base(&server))).await;
    browser.entry("open").await;
    browser.click("#route").await;
    let route = browser.entry("route").await;
    assert_eq!(route, "now at /spa/settings: readyState 1", "pushState does not unload the document");
    let echo = browser.entry("in").await;
    assert_eq!(echo, "echo: still here at /spa/settings", "and the socket still works");
    assert!(!server.drain().iter().any(|l| l.contains("closed")), "{:#?}", server.seen());
    let page = browser.log().await;
    browser.click("#leave").await;
    browser.wait_for("#other").await;
    let closed = server.line(|l| l.contains("closed")).await;
    assert_eq!(
        closed, "websocket 1 closed: 1001 going away \"\"",
        "the browser closes a socket of a page it unloads with 1001 (WebSockets Standard, RFC 6455 §7.4.1)"
    );
    snapshot("spa_route_then_navigation", &both_logs(&page, server.drain()));
    browser.close().await;
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs Node 20, npm and chromium: run by .ci/run, or cargo test -p duplex-tests --test node_browser -- --ignored"]
async fn a_page_that_closes_in_pagehide_is_cached_and_reconnects_in_pageshow() {
    let mut server = Program::start("browser/server.mjs", &[]).await;
    let browser = Browser::start(true).await;
    browser.goto(&format!("{}/bfcache.html", base(&server))).await;
    browser.wait_for("//ol[@id='log']/li[.='socket 1 open']").await;
    browser.click("#leave").await;
    browser.wait_for("#other").await;
    let closed = server.line(|l| l.contains("closed")).await;
    assert_eq!(closed, "websocket 1 closed: 1000 normal closure \"page hidden\"", "the page's own close");
    browser.client.back().await.unwrap();
    browser.wait_for("//ol[@id='log']/li[.='socket 2 open']").await;
    browser.entry("close").await;
    let log = browser.log().await;
    assert!(
        log.contains("pagehide: pagehide, persisted true\n")
            && log.contains("pageshow: pageshow, persisted true\n"),
        "the page went into the back/forward cache and came back from it:\n{log}"
    );
    server.line(|l| l.contains("2 open")).await;
    // The page's `close` event for socket 1 fires as soon as the server's answer arrives: before
    // the page is frozen, or only when it comes back, as the timing falls. It is checked here and
    // left out of the snapshot.
    assert!(log.contains("close: socket 1 closed: 1000 \"page hidden\"\n"), "{log}");
    let log: String = log.lines().filter(|l| !l.starts_with("close: ")).map(|l| format!("{l}\n")).collect();
    snapshot("bfcache_closed_in_pagehide", &both_logs(&log, server.drain()));
    browser.close().await;
    server.stop().await;
}

/// What this Chromium does with a page left with its socket open, when the back/forward cache is
/// on: it caches the page, keeps the connection open, answers the server's pings while the page
/// is frozen, and closes the socket (1001 to the server, 1006 to the page) only when the page is
/// shown again. If this test fails, Chromium changed: the book's page "The browser client" says
/// what it does, and must be brought up to date.
#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs Node 20, npm and chromium: run by .ci/run, or cargo test -p duplex-tests --test node_browser -- --ignored"]
async fn a_page_left_with_its_socket_open_is_cached_and_its_socket_still_answers_pings() {
    let mut server = Program::start("browser/server.mjs", &[]).await;
    let browser = Browser::start(true).await;
    browser.goto(&format!("{}/spa.html", base(&server))).await;
    browser.entry("open").await;
    browser.click("#leave").await;
    browser.wait_for("#other").await;
    post(&server, "/ping").await;
    server.line(|l| l.contains("pong")).await;
    assert!(
        !server.drain().iter().any(|l| l.contains("closed")),
        "the socket of the cached page is still open, and answers pings: {:#?}",
        server.seen()
    );
    browser.client.back().await.unwrap();
    let closed = browser.entry("close").await;
    assert_eq!(closed, "close 1006 \"\" wasClean false", "shown again, the page learns its socket is gone");
    let server_saw = server.line(|l| l.contains("closed")).await;
    assert_eq!(server_saw, "websocket 1 closed: 1001 going away \"\"");
    snapshot("bfcache_left_open", &both_logs(&browser.log().await, server.drain()));
    browser.close().await;
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs Node 20, npm and chromium: run by .ci/run, or cargo test -p duplex-tests --test node_browser -- --ignored"]
async fn send_paced_by_buffered_amount_never_queues_more_than_the_high_water_mark() {
    let mut server = Program::start("browser/server.mjs", &[]).await;
    let browser = Browser::start(false).await;
    browser.goto(&format!("{}/pacing.html", base(&server))).await;
    let result = browser.wait_for("#log li[data-kind='result']").await;
    let number = |name: &'static str| {
        let result = result.clone();
        async move { result.attr(name).await.unwrap().unwrap().parse::<u64>().unwrap() }
    };
    let (sent, most, waits) =
        (number("data-sent").await, number("data-most").await, number("data-waits").await);
    assert_eq!(sent, 16 * 1024 * 1024);
    assert!(most <= 1024 * 1024, "bufferedAmount stayed at or under the high-water mark: {most}");
    assert!(waits > 0, "the server read nothing for a second, so the page had to wait");
    let echo = browser.entry("in").await;
    assert_eq!(echo, format!("received {sent} bytes"), "and every byte arrived");
    server.line(|l| l.contains("received")).await;
    browser.close().await;
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs Node 20, npm and chromium: run by .ci/run, or cargo test -p duplex-tests --test node_browser -- --ignored"]
async fn the_reconnect_module_retries_by_close_code_and_resumes() {
    let mut server = Program::start("browser/server.mjs", &[]).await;
    let browser = Browser::start(false).await;
    let mut text = String::new();
    for (run, codes) in [("retries", "1012,1006,1013,1011,1001,4001"), ("normal", "1000"), ("policy", "1008")]
    {
        browser.goto(&format!("{}/reconnect.html?run={run}&codes={codes}", base(&server))).await;
        let gave_up = browser.entry("gave-up").await;
        let last = codes.rsplit(',').next().unwrap();
        assert_eq!(gave_up, format!("gave up: {last} is not worth retrying"));
        let log = browser.log().await;
        let opens = log.matches("open: ").count();
        assert_eq!(opens, codes.split(',').count(), "one connection per code:\n{log}");
        text.push_str(&format!("[?codes={codes}]\n{log}\n"));
    }
    let resumes = server.line(|l| l.contains("resume after hello 5")).await;
    assert!(resumes.contains("says \"resume after hello 5\""), "{resumes}");
    // The last connection's close reaches the server after the page's entry: wait for it.
    server.line(|l| l.contains("1008 policy violation")).await;
    // One connection's lines together: a connection's last line and the next one's first can
    // reach the server's log in either order when the retry comes within milliseconds.
    let mut lines = server.drain().to_vec();
    let connection = |line: &String| line.split_whitespace().nth(1).and_then(|n| n.parse::<u32>().ok());
    lines.sort_by_key(connection);
    text.push_str("What the server logged, connection by connection:\n");
    for line in lines {
        text.push_str(&format!("  {line}\n"));
    }
    snapshot("reconnect", &text);
    browser.close().await;
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs Node 20, npm and chromium: run by .ci/run, or cargo test -p duplex-tests --test node_browser -- --ignored"]
async fn the_koa_page_signs_in_and_the_upgrade_check_lets_its_socket_in() {
    let mut server = Program::start("one-port/upgrade-check.mjs", &[]).await;
    let browser = Browser::start(false).await;
    browser.goto(&format!("{}/", base(&server))).await;
    let name = browser.wait_for("#name").await;
    name.send_keys("grace").await.unwrap();
    browser.click("#sign-in").await;
    // The 303 lands on the home page again, now with the session cookie.
    server.line(|l| l.contains("POST /login → 303")).await;
    browser.wait_for("#connect").await;
    browser.click("#connect").await;
    assert_eq!(browser.entry("in").await, "hello, grace", "the cookie came with the upgrade request");
    browser.wait_for("//ol[@id='log']/li[.='Hello from the page']").await;
    let upgrade = server.line(|l| l.starts_with("upgrade")).await;
    assert_eq!(upgrade, "upgrade   GET /ws/echo → 101 for grace; no middleware saw this request");
    browser.close().await;
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs Node 20, npm and chromium: run by .ci/run, or cargo test -p duplex-tests --test node_browser -- --ignored"]
async fn chromium_shows_the_picked_subprotocol_and_fails_every_other_answer_with_1006() {
    let browser = Browser::start(false).await;
    let mut text = String::new();
    // (the server's flags, the page's offer, what the page must end with)
    let cases: [(&[&str], &str, &str); 4] = [
        (&[], "chat.v2,chat.v1", "close 1000 wasClean true"),
        (&[], "chat.v3", "close 1006 wasClean false"),
        (&["--proceed"], "chat.v3", "close 1006 wasClean false"),
        (&["--misbehave"], "chat.v2,chat.v1", "close 1006 wasClean false"),
    ];
    for (flags, offer, ending) in cases {
        let mut server = Program::start("subprotocols/server.mjs", flags).await;
        browser.goto(&format!("{}/?offer={offer}", base(&server))).await;
        let closed = browser.entry("close").await;
        assert_eq!(closed, ending, "server {flags:?}, offer {offer}");
        let page = browser.log().await;
        if ending.contains("1006") {
            assert!(page.contains("error: error\n"), "a failed handshake fires error, then close:\n{page}");
            assert!(!page.contains("open: "), "the socket never opened:\n{page}");
        } else {
            assert!(page.contains("open: ws.protocol is \"chat.v2\"\n"), "{page}");
        }
        // The server's last line for this case: the refusal, or how its socket ended.
        server.line(|l| l.contains("closed") || l.contains("→ 400")).await;
        let flags = if flags.is_empty() { "(no flags)".to_owned() } else { flags.join(" ") };
        text.push_str(&format!("[server {flags}, page ?offer={offer}]\n"));
        text.push_str(&both_logs(&page, server.drain()));
        text.push('\n');
        server.stop().await;
    }
    snapshot("subprotocols", &text);
    browser.close().await;
}
