//! The by-hand WebSocket server's exchanges, and the check that it is indistinguishable on the
//! wire from the tungstenite echo. The book includes the snapshot files these tests check
//! (`tests/snapshots/ws_by_hand__*.snap`).

#![allow(clippy::unwrap_used, reason = "in a test, a panic is a failure with a line number")]

use tokio::net::TcpListener;
use wire::frame::OpCode;
use wire::{Direction, Render, Transcript};

fn snapshot(name: &str, text: String) {
    insta::with_settings!({ omit_expression => true }, {
        insta::assert_snapshot!(name, text);
    });
}

/// The echo chapter's client session (tungstenite, the RFC's key) through the Tap against a server.
async fn echo_session(by_hand: bool) -> Transcript {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server = if by_hand {
        tokio::spawn(ws_by_hand::server::serve(listener, ws_by_hand::Limits::default()))
    } else {
        tokio::spawn(ws_echo::server::serve(listener, ws_echo::Limits::default()))
    };
    let recording = ws_echo::demo::through_tap(addr, None).await.unwrap();
    server.abort();
    recording.transcript
}

#[tokio::test]
async fn the_same_session_gives_identical_transcripts_on_both_servers() {
    let by_hand = echo_session(true).await.render(&Render::snapshot());
    let tungstenite = echo_session(false).await.render(&Render::snapshot());
    assert_eq!(
        by_hand, tungstenite,
        "the by-hand server must put the same bytes on the wire as the tungstenite echo \
         (left: by hand, right: tungstenite)"
    );
    snapshot("echo_session", by_hand);
}

#[tokio::test]
async fn three_messages() {
    let recording = ws_by_hand::demo::three_messages(None).await.unwrap();
    let texts: Vec<String> = recording
        .received
        .iter()
        .filter(|f| f.opcode == OpCode::Text)
        .map(|f| String::from_utf8_lossy(&f.payload).into_owned())
        .collect();
    assert_eq!(texts, ws_by_hand::THREE_MESSAGES, "every message comes back");
    snapshot("three_messages", recording.transcript.render(&Render::snapshot()));
}

#[tokio::test]
async fn unmasked_frame_gets_1002() {
    let recording = ws_by_hand::demo::unmasked_frame(None).await.unwrap();
    let close = &recording.received[0];
    assert_eq!(close.opcode, OpCode::Close);
    assert_eq!(
        close.payload[..2],
        [0x03, 0xea],
        "RFC 6455 §5.1: an unmasked client frame is answered with 1002"
    );
    let transcript = recording.transcript;
    let server_closed_first = transcript.events.iter().position(|e| {
        e.dir == Some(Direction::ServerToClient) && matches!(e.kind, wire::EventKind::Closed(_))
    });
    let client_closed = transcript.events.iter().position(|e| {
        e.dir == Some(Direction::ClientToServer) && matches!(e.kind, wire::EventKind::Closed(_))
    });
    assert!(server_closed_first < client_closed, "the server closes TCP first (RFC 6455 §7.1.1)");
    snapshot("unmasked_frame_gets_1002", transcript.render(&Render::snapshot()));
}
