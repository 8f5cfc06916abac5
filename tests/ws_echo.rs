//! The WebSocket echo chapter's exchange, as the Tap records it. The book includes the snapshot
//! file this test checks (`tests/snapshots/ws_echo__handshake_and_close.snap`).

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
