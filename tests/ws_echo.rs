//! The WebSocket echo chapter's exchanges, as the Tap records them. The book includes the
//! snapshot files these tests check (`tests/snapshots/ws_echo__*.snap`).

#![allow(clippy::unwrap_used, reason = "in a test, a panic is a failure with a line number")]

use duplex_tests::{book_server, one_response};
use tap::Tap;
use wire::{Direction, Render};

#[tokio::test]
async fn handshake_and_close() {
    let recording = ws_echo::demo::run(None).await.expect("the echo demo runs");
    let transcript = recording.transcript;

    // The client saw every message come back unchanged, and the server's close answer.
    let received: Vec<&str> = recording.steps.iter().map(|s| s.received.as_str()).collect();
    assert_eq!(
        received,
        [
            "text \"Hello, WebSocket!\"",
            "binary [de, ad, be, ef]",
            "pong \"are you there?\"",
            "close 1000 normal closure \"done\"",
        ],
        "every message should come back as sent, the ping as a pong with the same payload"
    );

    // RFC 6455 §5.1: every client frame is masked and no server frame is.
    for (dir, frame) in transcript.frames() {
        let masked = frame.header.mask.is_some();
        assert_eq!(
            masked,
            dir == Direction::ClientToServer,
            "{dir:?} frame {:?} masking",
            frame.header.opcode
        );
    }

    insta::with_settings!({ omit_expression => true }, {
        insta::assert_snapshot!("handshake_and_close", transcript.render(&Render::snapshot()));
    });
}

#[tokio::test(flavor = "multi_thread")]
async fn a_plain_get_to_the_echo_gets_426_with_upgrade_websocket() {
    let server = book_server();
    let tap = Tap::bind("127.0.0.1:0", server.addr()).await.unwrap();
    let tap_addr = tap.local_addr();
    // What `curl -i http://127.0.0.1:3000/ws/echo` sends.
    let request = format!(
        "GET {} HTTP/1.1\r\nHost: {tap_addr}\r\nUser-Agent: curl/8.5.0\r\nAccept: */*\r\n\r\n",
        ws_echo::PATH
    );
    let client = tokio::task::spawn_blocking(move || one_response(tap_addr, &request));
    let connection = tap.accept().await.unwrap();
    let answer = client.await.unwrap();
    assert!(answer.starts_with("HTTP/1.1 426 Upgrade Required\r\n"), "{answer}");
    assert!(
        answer.contains("\r\nUpgrade: websocket\r\n"),
        "RFC 9110 §15.5.22: a 426 names the protocol to upgrade to"
    );
    assert!(answer.contains("\r\nConnection: Upgrade\r\n"), "RFC 9110 §7.8: Upgrade is listed in Connection");
    let transcript = connection.transcript().await;
    insta::with_settings!({ omit_expression => true }, {
        insta::assert_snapshot!("plain_get_gets_426", transcript.render(&Render::snapshot()));
    });
    server.stop();
}
