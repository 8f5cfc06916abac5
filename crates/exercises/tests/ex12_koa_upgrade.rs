//! Exercise 12: the koa upgrade check. Run with `just exercise 12`.
//!
//! Each test starts a koa + ws server with the 'upgrade' handler from your file
//! (js/exercises/upgrade-server.mjs loads it), sends it one request the way a program or a
//! browser would, and checks the answer. The server has one signed-in session: the token
//! `t0ken-for-ada`, for the user `ada`.

#![allow(clippy::unwrap_used, reason = "in a test, a panic is a failure with a line number")]

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use exercises::catalog::find;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

#[allow(dead_code, reason = "the support module has more than this exercise uses")]
#[path = "../../../tests/support/node.rs"]
mod node;

/// The workspace root, for the support module.
fn root() -> PathBuf {
    exercises::catalog::root()
}

const TOKEN: &str = "t0ken-for-ada";

/// The server with your handler, on a free port.
async fn server() -> node::Program {
    let exercise = find(12).unwrap().file_under_test();
    let exercise = exercise.to_string_lossy().into_owned();
    let session = format!("{TOKEN}=ada");
    node::Program::start("exercises/upgrade-server.mjs", &["--exercise", &exercise, "--session", &session])
        .await
}

/// An upgrade request to `path` with `extra` header lines.
fn upgrade(addr: SocketAddr, path: &str, extra: &[(&str, &str)]) -> String {
    let mut request = format!(
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\
         Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
    );
    for (name, value) in extra {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request.push_str("\r\n");
    request
}

/// What the server answered: its response head, then either the first WebSocket message (after
/// a 101) or the body of a refusal, and whether the server then closed the connection.
#[derive(Debug)]
struct Answer {
    status: u16,
    head: String,
    /// After a 101: the server's first message (its greeting). After a refusal: the body.
    rest: String,
    /// A refusal: whether the server closed the connection after it.
    closed: bool,
}

async fn ask(addr: SocketAddr, request: String) -> Answer {
    tokio::time::timeout(node::PATIENCE, exchange(addr, request))
        .await
        .unwrap_or_else(|_| panic!("the server did not answer within {:?}", node::PATIENCE))
}

async fn exchange(addr: SocketAddr, request: String) -> Answer {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut bytes = Vec::new();
    let mut chunk = [0u8; 4096];
    let head_end = loop {
        if let Some(end) = bytes.windows(4).position(|w| w == b"\r\n\r\n") {
            break end + 4;
        }
        let n = stream.read(&mut chunk).await.unwrap_or(0);
        assert!(n > 0, "the server closed the connection without an HTTP response: {bytes:?}");
        bytes.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&bytes[..head_end]).into_owned();
    let status = head.split(' ').nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    let mut rest = bytes[head_end..].to_vec();
    if status == 101 {
        // The server's first frame: unmasked text, a short one (`81 LEN payload`).
        while rest.len() < 2 || rest.len() < 2 + usize::from(rest[1] & 0x7f) {
            let n = stream.read(&mut chunk).await.unwrap_or(0);
            assert!(n > 0, "the server closed the WebSocket before greeting");
            rest.extend_from_slice(&chunk[..n]);
        }
        let len = usize::from(rest[1] & 0x7f);
        let text = String::from_utf8_lossy(&rest[2..2 + len]).into_owned();
        return Answer { status, head, rest: text, closed: false };
    }
    // A refusal: read until the server closes, as a browser would.
    let closed = loop {
        match tokio::time::timeout(Duration::from_secs(5), stream.read(&mut chunk)).await {
            Ok(Ok(0)) => break true,
            Ok(Ok(n)) => rest.extend_from_slice(&chunk[..n]),
            Ok(Err(_)) => break true,
            Err(_) => break false,
        }
    };
    Answer { status, head, rest: String::from_utf8_lossy(&rest).into_owned(), closed }
}

fn own_origin(addr: SocketAddr) -> String {
    format!("http://127.0.0.1:{}", addr.port())
}

#[tokio::test]
#[ignore = "an exercise: run `just exercise 12`"]
async fn a_program_with_a_bearer_token_is_let_in_and_greeted_by_name() {
    let server = server().await;
    let bearer = format!("Bearer {TOKEN}");
    let answer = ask(server.addr(), upgrade(server.addr(), "/ws/echo", &[("Authorization", &bearer)])).await;
    assert_eq!(answer.status, 101, "a signed-in program gets its WebSocket: {answer:?}");
    assert_eq!(
        answer.rest, "hello, ada",
        "the server greets the user your handler passes on: wss.emit(\"connection\", ws, request, user)"
    );
}

#[tokio::test]
#[ignore = "an exercise: run `just exercise 12`"]
async fn a_page_of_this_server_with_its_session_cookie_is_let_in() {
    let server = server().await;
    let (origin, cookie) = (own_origin(server.addr()), format!("session={TOKEN}"));
    let answer =
        ask(server.addr(), upgrade(server.addr(), "/ws/echo", &[("Origin", &origin), ("Cookie", &cookie)]))
            .await;
    assert_eq!(answer.status, 101, "the server's own page, with the cookie the browser adds: {answer:?}");
    assert_eq!(answer.rest, "hello, ada", "and the cookie says who it is");
}

#[tokio::test]
#[ignore = "an exercise: run `just exercise 12`"]
async fn an_upgrade_without_a_session_gets_401_with_a_challenge() {
    let server = server().await;
    let answer = ask(server.addr(), upgrade(server.addr(), "/ws/echo", &[])).await;
    assert_eq!(answer.status, 401, "no cookie, no token: 401 Unauthorized, not a WebSocket: {answer:?}");
    assert!(
        answer.head.contains("\r\nWWW-Authenticate: Bearer realm=\"one-port\"\r\n"),
        "a 401 says how to authenticate (RFC 9110 §11.6.1): {}",
        answer.head
    );
    let wrong =
        ask(server.addr(), upgrade(server.addr(), "/ws/echo", &[("Cookie", "session=guessed")])).await;
    assert_eq!(wrong.status, 401, "an unknown session is no session: {wrong:?}");
}

#[tokio::test]
#[ignore = "an exercise: run `just exercise 12`"]
async fn a_page_from_another_origin_gets_403_even_with_a_valid_cookie() {
    let server = server().await;
    let cookie = format!("session={TOKEN}");
    let answer = ask(
        server.addr(),
        upgrade(server.addr(), "/ws/echo", &[("Origin", "https://evil.example"), ("Cookie", &cookie)]),
    )
    .await;
    assert_eq!(
        answer.status, 403,
        "the browser added the visitor's cookie, but the page is not this server's: 403 Forbidden \
         (Cross-Site WebSocket Hijacking): {answer:?}"
    );
}

#[tokio::test]
#[ignore = "an exercise: run `just exercise 12`"]
async fn another_path_gets_404() {
    let server = server().await;
    let bearer = format!("Bearer {TOKEN}");
    let answer = ask(server.addr(), upgrade(server.addr(), "/admin", &[("Authorization", &bearer)])).await;
    assert_eq!(answer.status, 404, "only /ws/echo has a WebSocket: {answer:?}");
}

#[tokio::test]
#[ignore = "an exercise: run `just exercise 12`"]
async fn a_refusal_is_a_whole_http_response_and_then_the_end_of_the_connection() {
    let server = server().await;
    let answer = ask(server.addr(), upgrade(server.addr(), "/ws/echo", &[])).await;
    assert!(answer.status >= 400, "a request without a session is refused: {answer:?}");
    assert!(
        answer.head.contains("\r\nContent-Length: ") && answer.head.contains("\r\nConnection: close\r\n"),
        "refuseUpgrade writes a status line, a Content-Length and `Connection: close`: {}",
        answer.head
    );
    assert!(answer.rest.starts_with("sign in first"), "and a body that says why: {:?}", answer.rest);
    assert!(answer.closed, "then the server closes the connection: nothing more will be said on it");
}
