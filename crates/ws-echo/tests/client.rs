//! `ws-echo-client` when the server says no: the refusal's status and its reason, as the user
//! reads them in the terminal.

#![allow(clippy::unwrap_used, reason = "in a test, a panic is a failure with a line number")]

use std::process::Command;

use ws_echo::client::{MAX_REFUSAL_REASON, refusal};

/// A refused handshake as tungstenite reports it: the response, with the body bytes it read.
fn refused(status: u16, body: Option<&[u8]>) -> ws_echo::Error {
    let response = http::Response::builder().status(status).body(body.map(<[u8]>::to_vec)).unwrap();
    ws_echo::Error::WebSocket(tungstenite::Error::Http(Box::new(response)))
}

#[test]
fn a_refusal_is_its_status_and_the_first_line_of_its_body() {
    let line = refusal(&refused(403, Some(b"this origin may not connect\nmore detail\n"))).unwrap();
    assert_eq!(line, "the server refused the upgrade: 403 Forbidden: this origin may not connect");
    assert_eq!(
        refusal(&refused(503, None)).unwrap(),
        "the server refused the upgrade: 503 Service Unavailable"
    );
    let long = refusal(&refused(400, Some("é".repeat(500).as_bytes()))).unwrap();
    assert!(long.len() <= "the server refused the upgrade: 400 Bad Request: ".len() + MAX_REFUSAL_REASON);
    assert!(refusal(&ws_echo::Error::Unexpected("x".into())).is_none(), "only refusals are refusals");
}

#[test]
fn the_client_prints_why_the_server_refused_the_handshake() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    // The blocking echo serves on its threads until the test process ends.
    std::thread::spawn(move || ws_echo::blocking::serve(listener, ws_echo::Limits::default()));
    let out = Command::new(env!("CARGO_BIN_EXE_ws-echo-client"))
        .args(["--key", "short", &format!("ws://{addr}{}", ws_echo::PATH), "hello"])
        .env("RUST_BACKTRACE", "0")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("400 Bad Request: `Sec-WebSocket-Key: short` is not 16 random bytes"),
        "the status and the server's reason, on one line: {err}"
    );
}
