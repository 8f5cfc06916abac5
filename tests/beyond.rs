//! The chapter "After HTTP/1.1", as the Tap records it: a WebSocket over HTTP/2 (RFC 8441)
//! beside ordinary requests on one connection. The book includes the snapshot files these tests
//! check (`tests/snapshots/beyond__*.snap`).

#![allow(clippy::unwrap_used, reason = "in a test, a panic is a failure with a line number")]

use wire::http2::{Body, Http2Event, kind};
use wire::{Direction, EventKind, Render};

/// The HTTP/2 frames of a transcript: (direction, type, stream, flags).
fn frames(transcript: &wire::Transcript) -> Vec<(Direction, u8, u32, u8)> {
    transcript
        .events
        .iter()
        .filter_map(|e| match (&e.kind, e.dir) {
            (EventKind::Http2(Http2Event::Frame(f)), Some(dir)) => {
                Some((dir, f.header.kind, f.header.stream, f.header.flags))
            }
            _ => None,
        })
        .collect()
}

// A current-thread runtime over in-memory pipes: the same interleaving of both directions on
// every run, so the snapshot is exact.
#[tokio::test]
async fn a_websocket_over_http2_shares_the_connection_with_requests() {
    let recording = beyond::demo::run(None).await.expect("the HTTP/2 demo runs");
    let t = &recording.transcript;
    assert_eq!(
        recording.steps,
        [
            "GET / on stream 1: 200 OK, 1223 bytes of page",
            "the server allows extended CONNECT: true",
            "WebSocket open on stream 3",
            "sent \"hello\", got back \"hello\"",
            "GET /hello.txt on stream 5 while the WebSocket is open: 200 OK \"hello over HTTP/2\\n\"",
            "sent \"still here\", got back \"still here\"",
            "while closing: close 1000 \"bye\"",
            "close handshake done",
        ]
    );

    // RFC 8441 §3: the server's first SETTINGS says ENABLE_CONNECT_PROTOCOL = 1.
    let first_settings = t.events.iter().find_map(|e| match (&e.kind, e.dir) {
        (EventKind::Http2(Http2Event::Frame(f)), Some(Direction::ServerToClient)) => Some(f.body.clone()),
        _ => None,
    });
    assert_eq!(
        first_settings,
        Some(Body::Settings { params: vec![(wire::http2::SETTINGS_ENABLE_CONNECT_PROTOCOL, 1)] }),
        "the server's first frame must be SETTINGS (RFC 9113 §3.4), advertising extended CONNECT (RFC 8441 §3)"
    );

    // RFC 8441 §4, §5: CONNECT with :protocol, answered 200 (not 101), no key and no accept.
    let text = t.render(&Render::snapshot());
    assert!(text.contains("    :method: CONNECT"), "{text}");
    assert!(text.contains("    :protocol: websocket"), "{text}");
    assert!(text.contains("    sec-websocket-version: 13"), "{text}");
    assert!(!text.to_ascii_lowercase().contains("sec-websocket-key"), "no key over HTTP/2 (RFC 8441 §5)");
    assert!(
        !text.to_ascii_lowercase().contains("sec-websocket-accept"),
        "no accept over HTTP/2 (RFC 8441 §5)"
    );
    assert!(!text.contains("101"), "HTTP/2 has no 101 Switching Protocols (RFC 9113 §8.6)");

    // Three streams on one connection: the page (1), the WebSocket (3), another request (5).
    let streams: std::collections::BTreeSet<u32> =
        frames(t).iter().map(|f| f.2).filter(|s| *s != 0).collect();
    assert_eq!(streams, [1, 3, 5].into(), "{text}");
    // The request on stream 5 was opened and answered while stream 3's WebSocket was open.
    let ws_closes = frames(t).iter().position(|f| f.1 == kind::DATA && f.2 == 3 && f.3 & 1 == 1).unwrap();
    let hello = frames(t).iter().position(|f| f.1 == kind::HEADERS && f.2 == 5).unwrap();
    assert!(hello < ws_closes, "stream 5 interleaves with the open WebSocket:\n{text}");

    // The WebSocket frames inside the DATA frames follow RFC 6455: masked from the client only.
    assert_eq!(t.frames().count(), 6, "two messages, their echoes, and the two close frames:\n{text}");
    for (dir, frame) in t.frames() {
        assert_eq!(frame.header.mask.is_some(), dir == Direction::ClientToServer, "{dir:?} {frame:?}");
    }

    insta::with_settings!({ omit_expression => true }, {
        insta::assert_snapshot!("h2_websocket", text);
    });
}

// Virtual time: the lost segment is resent exactly `RETRANSMISSION` later, and nothing else
// takes any time at all, so the delays are exact.
#[tokio::test(start_paused = true)]
async fn a_lost_segment_of_a_picture_holds_up_the_websocket_on_its_connection_only() {
    use beyond::hol::{RETRANSMISSION, run};
    let shared = run(true, None).await.expect("the shared run");
    let apart = run(false, None).await.expect("the separate run");
    assert_eq!(
        shared.echo_after, RETRANSMISSION,
        "on one connection, the echo waits behind the picture's lost segment (head-of-line blocking)"
    );
    assert_eq!(apart.echo_after, std::time::Duration::ZERO, "on its own connection, nothing holds it up");
    assert_eq!(shared.picture_after, RETRANSMISSION, "the picture waits for its own lost segment");
    assert_eq!(apart.picture_after, RETRANSMISSION);
    insta::with_settings!({ omit_expression => true }, {
        insta::assert_snapshot!("h2_head_of_line", shared.transcript.render(&Render::snapshot().without_hex()));
    });
}
