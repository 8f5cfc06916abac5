//! `ws-echo-client` when the server says no: the refusal's status and its reason, as the user
//! reads them in the terminal (`serve::client::refusal` makes the line).

#![allow(clippy::unwrap_used, reason = "in a test, a panic is a failure with a line number")]

use std::process::Command;

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
