//! The by-hand WebSocket server's exchanges, and the check that it is indistinguishable on the
//! wire from the tungstenite echo. The book includes the snapshot files these tests check
//! (`tests/snapshots/ws_by_hand__*.snap`).

#![allow(clippy::unwrap_used, reason = "in a test, a panic is a failure with a line number")]

use std::fmt::Write as _;

use base64::Engine as _;
use tokio::net::TcpListener;
use wire::frame::{Frame, FrameHeader, OpCode};
use wire::handshake::{Accepted, GUID, accept_key, client_request};
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
    let recording = serve::client::through_tap(addr, None).await.unwrap();
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
    // Both positions must exist: `Option`'s order puts `None` before any `Some`, so comparing the
    // two options would pass for a server that never closed TCP at all.
    let closed = |dir| {
        transcript
            .events
            .iter()
            .position(|e| e.dir == Some(dir) && matches!(e.kind, wire::EventKind::Closed(_)))
    };
    let server_closed = closed(Direction::ServerToClient).expect("the server closes TCP (RFC 6455 §7.1.1)");
    let client_closed = closed(Direction::ClientToServer).expect("the client closes TCP too");
    assert!(server_closed < client_closed, "the server closes TCP first (RFC 6455 §7.1.1)");
    snapshot("unmasked_frame_gets_1002", transcript.render(&Render::snapshot()));
}

/// A head, line by line, with each line's bytes counted and its CRLF shown.
fn head_lines(head: &str, out: &mut String) {
    for line in head.split_inclusive("\r\n") {
        let shown = line.replace("\r\n", "␍␊");
        let _ = writeln!(out, "  {:>3}  {shown}", line.len());
    }
    let _ = writeln!(out, "  ───  {} bytes in all", head.len());
}

/// The opening handshake as bytes: the request, the accept key worked out, the answer.
#[test]
fn handshake_bytes() {
    let key = ws_by_hand::RFC_KEY;
    let request = client_request("127.0.0.1:9002", ws_by_hand::PATH, key);
    let accept = accept_key(key);
    let digest = base64::engine::general_purpose::STANDARD.decode(&accept).unwrap();
    let hex: Vec<String> = digest.iter().map(|b| format!("{b:02x}")).collect();
    let response = Accepted { key: key.into(), accept: accept.clone(), ..Accepted::default() }.response();
    let mut out = String::new();
    let _ = writeln!(out, "C→S the upgrade request (RFC 6455 §4.1), bytes per line:");
    head_lines(&request, &mut out);
    let _ = writeln!(out, "\nthe server works out the accept value (RFC 6455 §4.2.2):");
    let _ = writeln!(out, "  key + GUID  {key}{GUID}");
    let _ = writeln!(out, "  SHA-1       {}", hex.join(" "));
    let _ = writeln!(out, "  base64      {accept}");
    let _ = writeln!(out, "\nS→C the answer, bytes per line:");
    head_lines(&response, &mut out);
    assert_eq!(accept, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=", "RFC 6455 §1.3 works out this value for this key");
    snapshot("handshake_bytes", out);
}

/// A frame explained byte by byte, from the decoder's own reading of it.
fn explain(bytes: &[u8], out: &mut String) {
    let (header, header_len) = FrameHeader::parse(bytes).unwrap().unwrap();
    let hex: Vec<String> = bytes.iter().map(|b| format!("{b:02x}")).collect();
    let _ = writeln!(out, "{}   ({} bytes)", hex.join(" "), bytes.len());
    let b0 = bytes[0];
    let _ = writeln!(
        out,
        "  byte 0  {b0:02x} = {:04b} {:04b}  FIN={} RSV1={} RSV2={} RSV3={}  opcode=0x{:x} ({})",
        b0 >> 4,
        b0 & 0xf,
        u8::from(header.fin),
        u8::from(header.rsv1),
        u8::from(header.rsv2),
        u8::from(header.rsv3),
        header.opcode.bits(),
        header.opcode
    );
    let b1 = bytes[1];
    let _ = writeln!(
        out,
        "  byte 1  {b1:02x} = {:04b} {:04b}  MASK={}  length field={}",
        b1 >> 4,
        b1 & 0xf,
        b1 >> 7,
        b1 & 0x7f
    );
    let mut at = 2;
    let extended = match b1 & 0x7f {
        126 => 2,
        127 => 8,
        _ => 0,
    };
    if extended > 0 {
        let _ = writeln!(
            out,
            "  bytes {at}-{}  {}  the real length, big-endian: {}",
            at + extended - 1,
            hex[at..at + extended].join(" "),
            header.payload_len
        );
        at += extended;
    }
    if let Some(key) = header.mask {
        let _ = writeln!(
            out,
            "  bytes {at}-{}  {}  the masking key",
            at + 3,
            key.iter().map(|b| format!("{b:02x}")).collect::<Vec<_>>().join(" ")
        );
    }
    let payload = &bytes[header_len..];
    for (i, byte) in payload.iter().enumerate().take(8) {
        let at = header_len + i;
        match header.mask {
            Some(key) => {
                let plain = byte ^ key[i % 4];
                let _ = writeln!(
                    out,
                    "  byte {at:<2} {byte:02x} = {plain:02x} {:?} XOR key[{}] {:02x}",
                    char::from(plain),
                    i % 4,
                    key[i % 4]
                );
            }
            None => {
                let _ = writeln!(out, "  byte {at:<2} {byte:02x} = {:?}", char::from(*byte));
            }
        }
    }
}

/// The RFC's frames (RFC 6455 §5.7), explained byte by byte.
#[test]
fn frame_bytes() {
    let key = [0x37, 0xfa, 0x21, 0x3d];
    let mut out = String::new();
    let _ = writeln!(out, "a masked text frame \"Hello\", as a client sends it:");
    explain(&Frame::text("Hello").masked(key).encode(), &mut out);
    let _ = writeln!(out, "\nthe same, unmasked, as a server sends it:");
    explain(&Frame::text("Hello").encode(), &mut out);
    let _ = writeln!(out, "\n\"Hello\" in two fragments:");
    explain(&Frame::text("Hel").not_final().encode(), &mut out);
    explain(&Frame::new(OpCode::Continuation, "lo").encode(), &mut out);
    let _ = writeln!(out, "\nthe three length encodings (binary frames, headers only):");
    for len in [125usize, 126, 65535, 65536] {
        let bytes = Frame::binary(vec![0; len]).encode();
        let header_len = FrameHeader::parse(&bytes).unwrap().unwrap().1;
        let hex: Vec<String> = bytes[..header_len].iter().map(|b| format!("{b:02x}")).collect();
        let _ = writeln!(out, "  {len:>6} bytes  {:<29}  header of {header_len} bytes", hex.join(" "));
    }
    let masked = Frame::text("Hello").masked(key).encode();
    assert_eq!(masked, [0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58], "RFC 6455 §5.7");
    snapshot("frame_bytes", out);
}
