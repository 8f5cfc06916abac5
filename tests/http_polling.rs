//! The request–response chapter's exchanges, as the Tap records them. The book includes the
//! snapshot files these tests check (`tests/snapshots/http_polling__*.snap`).

#![allow(clippy::unwrap_used, reason = "in a test, a panic is a failure with a line number")]

use http_polling::demo;
use wire::{Direction, Render};

fn snapshot(name: &str, recording: &demo::Recording) {
    insta::with_settings!({ omit_expression => true }, {
        insta::assert_snapshot!(name, recording.render(&Render::snapshot()));
    });
}

#[tokio::test(flavor = "multi_thread")]
async fn short_poll_keep_alive() {
    let recording = demo::short_poll(None).await.unwrap();
    assert_eq!(recording.steps, ["since=0 → #1 \"hello\"", "since=1 → nothing new"]);
    assert_eq!(recording.transcripts.len(), 1, "both polls share one TCP connection (RFC 9112 §9.3)");
    let heads: Vec<_> = recording.transcripts[0].heads().map(|(d, _)| d).collect();
    assert_eq!(heads.len(), 4, "two requests and two responses on the one connection");
    snapshot("keep_alive", &recording);
}

#[tokio::test(flavor = "multi_thread")]
async fn short_poll_one_request_per_connection_when_the_client_asks() {
    let recording = demo::short_poll_closing(None).await.unwrap();
    assert_eq!(recording.transcripts.len(), 2);
    for transcript in &recording.transcripts {
        let (_, response) = transcript.heads().find(|(d, _)| *d == Direction::ServerToClient).unwrap();
        assert!(
            response.has_token("Connection", "close"),
            "a server that will close says so (RFC 9112 §9.6): {:?}",
            response.headers
        );
        let text = transcript.render(&Render::snapshot());
        let server_fin = text.find("the server closed its side").expect("the server closes");
        let client_fin = text.find("the client closed its side").expect("then the client");
        assert!(server_fin < client_fin, "the server closes first:\n{text}");
    }
    snapshot("connection_close", &recording);
}

#[tokio::test(flavor = "multi_thread")]
async fn long_poll_answered_when_a_message_is_published() {
    let recording = demo::long_poll(None).await.unwrap();
    assert_eq!(recording.steps, ["since=1 → #2 \"news\""]);
    snapshot("long_poll", &recording);
}

#[tokio::test(flavor = "multi_thread")]
async fn long_poll_times_out_with_204() {
    let recording = demo::long_poll_timeout(None).await.unwrap();
    assert_eq!(recording.steps, ["since=1&timeout=1 → 204 No Content"]);
    snapshot("long_poll_timeout", &recording);
}

#[tokio::test(flavor = "multi_thread")]
async fn sse_stream_drop_and_resume_with_last_event_id() {
    let recording = demo::sse(None).await.unwrap();
    let data: Vec<&str> = recording
        .steps
        .iter()
        .filter_map(|s| s.split("data=\"").nth(1))
        .filter_map(|s| s.split('"').next())
        .filter(|d| !d.is_empty())
        .collect();
    assert_eq!(data, ["one", "two", "three", "four", "five"], "every message once, in order, none lost");
    assert!(
        recording.steps.iter().any(|s| s.starts_with("the stream broke off")),
        "the first stream breaks off, without its last chunk: {:?}",
        recording.steps
    );
    let first = recording.transcripts[0].render(&Render::snapshot());
    assert!(first.contains("the Tap cut the connection"), "{first}");
    assert!(!first.contains("last chunk: size 0"), "a drop, not an end: {first}");
    let second = recording.transcripts[1].render(&Render::snapshot());
    assert!(second.contains("Last-Event-ID: 3") && second.contains("last chunk: size 0"), "{second}");
    snapshot("sse_resume", &recording);
}

#[tokio::test(flavor = "multi_thread")]
async fn websocket_feed_for_contrast() {
    let recording = demo::websocket(None).await.unwrap();
    assert_eq!(
        recording.steps[..3],
        [
            "text \"{\\\"id\\\":1,\\\"text\\\":\\\"one\\\"}\"",
            "text \"{\\\"id\\\":2,\\\"text\\\":\\\"two\\\"}\"",
            "text \"{\\\"id\\\":3,\\\"text\\\":\\\"three\\\"}\""
        ]
    );
    snapshot("websocket", &recording);
}

#[tokio::test(flavor = "multi_thread")]
async fn the_same_three_messages_four_ways() {
    let four = demo::transports(None).await.unwrap();
    assert_eq!(
        four.short_polling.steps,
        [
            "since=0 → nothing new",
            "since=0 → #1 \"one\"",
            "since=1 → nothing new",
            "since=1 → #2 \"two\", #3 \"three\""
        ],
        "short polling: two empty polls, and two messages that waited for the next poll"
    );
    assert_eq!(
        four.long_polling.steps,
        ["since=0 → #1 \"one\"", "since=1 → #2 \"two\"", "since=2 → #3 \"three\", at once"],
        "long polling: each held request is answered by a publish"
    );
    let data: Vec<&str> = four.sse.steps.iter().filter_map(|s| s.split("data=\"").nth(1)).collect();
    assert_eq!(data, ["one\"", "two\"", "three\""], "one event per message");
    assert_eq!(four.websocket.steps.len(), 4, "three frames and the close: {:?}", four.websocket.steps);
    for (name, recording) in [
        ("three_short_polling", &four.short_polling),
        ("three_long_polling", &four.long_polling),
        ("three_sse", &four.sse),
    ] {
        assert_eq!(recording.transcripts.len(), 1, "{name}: one connection");
        snapshot(name, recording);
    }
}
