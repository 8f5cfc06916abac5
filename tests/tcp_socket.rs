//! The "Socket versus WebSocket" chapter's exchanges over plain TCP. The book includes the
//! snapshot files these tests check (`tests/snapshots/tcp_socket__*.snap`).
//!
//! Two kinds of record: a *call log* is what the program's `write` and `read` calls returned
//! (the point of the byte-stream demonstrations); a *transcript* is what the Tap saw on the wire.

#![allow(clippy::unwrap_used, reason = "in a test, a panic is a failure with a line number")]

use std::fmt::Write as _;

use tcp_socket::calls::Side;
use tcp_socket::echo::Framing;
use wire::{Direction, Render, Transcript};

fn snapshot(name: &str, text: String) {
    insta::with_settings!({ omit_expression => true }, {
        insta::assert_snapshot!(name, text);
    });
}

#[tokio::test]
async fn coalesced_writes() {
    let log = tcp_socket::stream::coalesced_writes().await.unwrap();
    assert_eq!(
        log.reads(Side::Server),
        [b"onetwothree"],
        "three writes made before the server reads must come out of one read, boundaries gone"
    );
    snapshot("coalesced_writes", log.render());
}

#[tokio::test]
async fn split_reads() {
    let log = tcp_socket::stream::split_reads().await.unwrap();
    assert_eq!(
        log.reads(Side::Server),
        [&b"hell"[..], b"o, w", b"orld"],
        "one 12-byte write read with a 4-byte buffer takes three reads"
    );
    snapshot("split_reads", log.render());
}

#[tokio::test]
async fn lines_framing() {
    let log = tcp_socket::framing::lines_demo().await.unwrap();
    assert_eq!(log.messages(), [&b"one"[..], b"two", b"three"], "the line decoder restores the messages");
    snapshot("lines_framing", log.render());
}

#[tokio::test]
async fn length_prefixed_framing() {
    let log = tcp_socket::framing::length_prefixed_demo().await.unwrap();
    assert_eq!(log.messages(), [&b"one"[..], b"two", b"three"], "the length decoder restores the messages");
    snapshot("length_prefixed_framing", log.render());
}

async fn three_messages(framing: Framing) -> Transcript {
    let recording = tcp_socket::demo::record(framing, None).await.unwrap();
    assert_eq!(recording.echoes, tcp_socket::THREE_MESSAGES, "{framing}: every message comes back");
    recording.transcript
}

#[tokio::test]
async fn three_messages_raw() {
    let transcript = three_messages(Framing::Raw).await;
    snapshot("three_messages_raw", transcript.render(&Render::snapshot()));
}

#[tokio::test]
async fn three_messages_lines() {
    let transcript = three_messages(Framing::Lines).await;
    snapshot("three_messages_lines", transcript.render(&Render::snapshot()));
}

#[tokio::test]
async fn three_messages_length_prefixed() {
    let transcript = three_messages(Framing::LengthPrefixed).await;
    snapshot("three_messages_length_prefixed", transcript.render(&Render::snapshot()));
}

#[test]
fn the_three_messages_are_the_same_on_every_transport() {
    assert_eq!(tcp_socket::THREE_MESSAGES, ws_by_hand::THREE_MESSAGES);
}

/// The bytes each transport put on the wire for the same three messages, as a table.
#[tokio::test]
async fn bytes_side_by_side() {
    let websocket = ws_by_hand::demo::three_messages(None).await.unwrap().transcript;
    let rows = [
        ("raw TCP", three_messages(Framing::Raw).await),
        ("newline-delimited TCP", three_messages(Framing::Lines).await),
        ("length-prefixed TCP", three_messages(Framing::LengthPrefixed).await),
        ("WebSocket", websocket),
    ];
    let payload: usize = tcp_socket::THREE_MESSAGES.iter().map(|m| m.len()).sum();
    let mut table = format!("the same three messages, {payload} bytes of text, sent and echoed\n\n");
    let _ = writeln!(
        table,
        "{:<22} {:>14} {:>14} {:>7} {:>19}",
        "transport", "client→server", "server→client", "total", "of which handshake"
    );
    for (name, transcript) in &rows {
        let up = transcript.wire_bytes(Direction::ClientToServer);
        let down = transcript.wire_bytes(Direction::ServerToClient);
        let handshake: usize = transcript.heads().map(|(_, head)| head.len).sum();
        let _ = writeln!(table, "{name:<22} {up:>14} {down:>14} {:>7} {handshake:>19}", up + down);
    }
    let raw = rows[0].1.wire_bytes(Direction::ClientToServer);
    assert_eq!(raw, payload, "raw TCP adds nothing to the bytes the program wrote");
    let prefixed = rows[2].1.wire_bytes(Direction::ClientToServer);
    assert_eq!(prefixed, payload + 3 * 4, "a 4-byte length in front of each of the 3 messages");
    snapshot("bytes_side_by_side", table);
}
