//! Every WebSocket server a browser can reach checks `Origin` before its `101` (RFC 6455 §10.2,
//! Cross-Site WebSocket Hijacking), with the one shared check, `guard::admission::Origins`: a
//! program (no `Origin`) and a page of the server itself are let in, a page of another origin
//! gets `403 Forbidden` with a one-line reason, and `--allow-origin` (`Origins::allow`) lets a
//! chosen one in. The book server, the feed and one-port are checked in their own tests
//! (`tests/misbehaving.rs`, `tests/one_port.rs`); these are the standalone servers.

#![allow(clippy::unwrap_used, reason = "in a test, a panic is a failure with a line number")]

use std::net::SocketAddr;
use std::time::Duration;

use guard::admission::Origins;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// A test that hangs has failed; this turns a hang into a message.
const PATIENCE: Duration = Duration::from_secs(30);

/// The servers, each as its binary runs it.
#[derive(Clone, Copy, Debug)]
enum Server {
    /// `ws-echo-server`.
    AsyncEcho,
    /// `ws-echo-server --blocking`.
    BlockingEcho,
    /// `heartbeat-server`.
    Heartbeat,
    /// `ws-by-hand-server`.
    ByHand,
}

const SERVERS: [Server; 4] = [Server::AsyncEcho, Server::BlockingEcho, Server::Heartbeat, Server::ByHand];

impl Server {
    fn path(self) -> &'static str {
        match self {
            Server::Heartbeat => heartbeat::PATH,
            Server::ByHand => ws_by_hand::PATH,
            Server::AsyncEcho | Server::BlockingEcho => ws_echo::PATH,
        }
    }

    /// Starts the server on a free port with `origins`, as `--allow-origin` sets them.
    async fn start(self, origins: Origins) -> SocketAddr {
        let limits = guard::Limits { origins, ..guard::Limits::default() };
        if let Server::BlockingEcho = self {
            let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            let addr = listener.local_addr().unwrap();
            std::thread::spawn(move || ws_echo::blocking::serve(listener, limits));
            return addr;
        }
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        match self {
            Server::AsyncEcho => drop(tokio::spawn(ws_echo::server::serve(listener, limits))),
            Server::Heartbeat => {
                let settings = heartbeat::Settings { limits, ..heartbeat::Settings::default() };
                let shutdown = heartbeat::server::Shutdown::new();
                drop(tokio::spawn(heartbeat::server::serve(listener, settings, shutdown)));
            }
            Server::ByHand => drop(tokio::spawn(ws_by_hand::server::serve(listener, limits))),
            Server::BlockingEcho => unreachable!("started above"),
        }
        addr
    }

    /// Sends an upgrade request, from a page of `origin` if there is one, and returns the answer:
    /// its head, and for a refusal its body (the server closes the connection after it).
    async fn upgrade(self, addr: SocketAddr, origin: Option<&str>) -> String {
        let mut request =
            wire::handshake::client_request(&addr.to_string(), self.path(), serve::client::RFC_KEY);
        if let Some(origin) = origin {
            request.truncate(request.len() - 2);
            request.push_str(&format!("Origin: {origin}\r\n\r\n"));
        }
        let mut stream = TcpStream::connect(addr).await.unwrap();
        stream.write_all(request.as_bytes()).await.unwrap();
        let read = async {
            let mut answer = Vec::new();
            let mut chunk = [0u8; 1024];
            loop {
                let n = stream.read(&mut chunk).await.unwrap();
                answer.extend_from_slice(&chunk[..n]);
                let text = String::from_utf8_lossy(&answer).into_owned();
                // A `101` keeps the connection open: its head is the whole answer. A refusal ends it.
                if n == 0 || (text.starts_with("HTTP/1.1 101 ") && text.contains("\r\n\r\n")) {
                    return text;
                }
            }
        };
        tokio::time::timeout(PATIENCE, read)
            .await
            .unwrap_or_else(|_| panic!("{self:?} answers within {PATIENCE:?}"))
    }
}

#[tokio::test]
async fn every_websocket_server_refuses_a_page_of_another_origin_with_403_before_any_101() {
    for server in SERVERS {
        let addr = server.start(Origins::default()).await;
        let answer = server.upgrade(addr, Some("http://evil.example")).await;
        assert!(answer.starts_with("HTTP/1.1 403 Forbidden\r\n"), "{server:?}: {answer}");
        assert!(!answer.contains("101"), "{server:?}: no upgrade after the refusal: {answer}");
        let (_, reason) = answer.split_once("\r\n\r\n").unwrap();
        assert!(
            reason.contains("http://evil.example") && reason.contains("RFC 6455 §10.2"),
            "{server:?}: the reason names the origin and the rule: {reason:?}"
        );
    }
}

#[tokio::test]
async fn every_websocket_server_lets_in_programs_and_pages_of_its_own_origin() {
    for server in SERVERS {
        let addr = server.start(Origins::default()).await;
        let program = server.upgrade(addr, None).await;
        assert!(program.starts_with("HTTP/1.1 101 "), "{server:?}, no Origin (not a page): {program}");
        let own = server.upgrade(addr, Some(&format!("http://{addr}"))).await;
        assert!(own.starts_with("HTTP/1.1 101 "), "{server:?}, Origin naming its Host: {own}");
        let other_port = format!("http://127.0.0.1:{}", addr.port() ^ 1);
        let refused = server.upgrade(addr, Some(&other_port)).await;
        assert!(
            refused.starts_with("HTTP/1.1 403 "),
            "{server:?}: another port is another origin: {refused}"
        );
    }
}

#[tokio::test]
async fn allow_origin_lets_a_page_of_the_chosen_origin_in_on_every_server() {
    // The book under `cargo run` is at 127.0.0.1:3000: `--allow-origin http://127.0.0.1:3000`.
    let book = "http://127.0.0.1:3000";
    for server in SERVERS {
        let addr = server.start(Origins::default().allow(book)).await;
        let allowed = server.upgrade(addr, Some(book)).await;
        assert!(allowed.starts_with("HTTP/1.1 101 "), "{server:?}, an allowed origin: {allowed}");
        let evil = server.upgrade(addr, Some("http://evil.example")).await;
        assert!(evil.starts_with("HTTP/1.1 403 "), "{server:?}: the others are still refused: {evil}");
    }
}
