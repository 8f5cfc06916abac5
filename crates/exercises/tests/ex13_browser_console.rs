//! Exercise 13: readyState, bufferedAmount and close, in the browser. Run with
//! `just exercise 13`.
//!
//! Each test starts js/exercises/console-server.mjs with your file, opens its page in headless
//! Chromium, and runs one of the page's checks (`window.check` in js/exercises/console.html),
//! which calls your functions on real WebSockets and reports what happened.

#![allow(clippy::unwrap_used, reason = "in a test, a panic is a failure with a line number")]
#![cfg(unix)]

use std::path::PathBuf;

use exercises::catalog::find;
use serde_json::Value;

#[allow(dead_code, reason = "the support module has more than this exercise uses")]
#[path = "../../../tests/support/node.rs"]
mod node;

#[path = "../../../tests/support/chromium.rs"]
mod chromium;

/// The workspace root, for the support modules.
fn root() -> PathBuf {
    exercises::catalog::root()
}

/// Starts the server with your file, opens its page, runs `window.check.NAME(ARGS)`, and
/// returns what it reported.
async fn check(call: &str) -> Value {
    let exercise = find(13).unwrap().file_under_test().to_string_lossy().into_owned();
    let server = node::Program::start("exercises/console-server.mjs", &["--exercise", &exercise]).await;
    let browser = chromium::Browser::start(false).await;
    browser.goto(&format!("http://127.0.0.1:{}/", server.addr().port())).await;
    let ready = browser.wait_for("#ready").await;
    if let Some(error) = ready.attr("data-error").await.unwrap() {
        panic!("your file did not load in the browser: {error}");
    }
    let result = browser.client.execute(&format!("return window.check.{call};"), vec![]).await.unwrap();
    browser.close().await;
    server.stop().await;
    result
}

/// What a call threw, if it did.
fn thrown(result: &Value) -> Option<&str> {
    result.get("thrown").and_then(Value::as_str)
}

#[tokio::test]
#[ignore = "an exercise: run `just exercise 13`"]
async fn send_when_open_waits_for_open_on_a_connecting_socket() {
    let result = check("connecting()").await;
    assert_eq!(result["readyState"], 0, "a new WebSocket is CONNECTING: {result}");
    assert_eq!(thrown(&result), None, "sendWhenOpen must not throw while CONNECTING: {result}");
    assert_eq!(result["echo"], "early", "the message goes out once the socket opens: {result}");
}

#[tokio::test]
#[ignore = "an exercise: run `just exercise 13`"]
async fn send_when_open_sends_at_once_on_an_open_socket() {
    let result = check("open()").await;
    assert_eq!(thrown(&result), None, "{result}");
    assert_eq!(
        result["buffered"], 3,
        "right after your call, bufferedAmount counts the 3 bytes of \"now\": an OPEN socket sends at \
         once (its `open` event has fired already, and will not fire again): {result}"
    );
    assert_eq!(result["echo"], "now", "{result}");
}

#[tokio::test]
#[ignore = "an exercise: run `just exercise 13`"]
async fn send_when_open_throws_on_a_closing_or_closed_socket_and_says_its_ready_state() {
    let result = check("closed()").await;
    let closing = thrown(&result["closing"]).unwrap_or_else(|| panic!("CLOSING must throw: {result}"));
    assert!(closing.contains("readyState 2"), "the message names the readyState, 2: {closing}");
    let closed = thrown(&result["closed"]).unwrap_or_else(|| panic!("CLOSED must throw: {result}"));
    assert!(closed.contains("readyState 3"), "the message names the readyState, 3: {closed}");
}

#[tokio::test]
#[ignore = "an exercise: run `just exercise 13`"]
async fn drained_resolves_once_buffered_amount_is_at_or_below_the_limit() {
    let result = check("drained()").await;
    assert_eq!(thrown(&result), None, "{result}");
    assert_eq!(result.get("timedOut"), None, "drained did not resolve within 10 s: {result}");
    let (before, limit, after) = (
        result["before"].as_u64().unwrap(),
        result["limit"].as_u64().unwrap(),
        result["after"].as_u64().unwrap(),
    );
    assert!(before > limit, "2 MiB were queued to a server that reads nothing yet: {result}");
    assert!(after <= limit, "when drained resolved, bufferedAmount was at or below the limit: {result}");
}

#[tokio::test]
#[ignore = "an exercise: run `just exercise 13`"]
async fn leave_closes_with_4000_and_a_reason_cut_to_123_bytes_between_characters() {
    let result = check("leave(\"é\".repeat(100))").await;
    assert_eq!(thrown(&result), None, "close() throws a SyntaxError on a reason over 123 bytes: {result}");
    assert_eq!(result["code"], 4000, "the application's own code, echoed by the server: {result}");
    assert_eq!(
        result["reason"].as_str().unwrap_or_default(),
        "é".repeat(61),
        "61 two-byte characters are 122 bytes; a 62nd would make 124: {result}"
    );
    let short = check("leave(\"bye\")").await;
    assert_eq!((short["code"].clone(), short["reason"].clone()), (4000.into(), "bye".into()), "{short}");
}
