//! The chapter "Compression": permessage-deflate (RFC 7692) on the wire, recorded through the
//! Tap. The by-hand server with `--deflate` accepting a browser's offer, with and without context
//! takeover; the tungstenite echo declining the same offer silently; one compressed frame taken
//! apart byte by byte. The book includes the snapshots (`tests/snapshots/compression__*.snap`).

#![allow(clippy::unwrap_used, reason = "in a test, a panic is a failure with a line number")]

use std::fmt::Write as _;

use tap::Tap;
use tokio::net::{TcpListener, TcpStream};
use wire::deflate::{Compressor, TAIL};
use wire::frame::{Frame, OpCode};
use wire::{Render, Transcript};
use ws_by_hand::client::{Client, fresh_mask};
use ws_by_hand::demo::{BROWSER_OFFER, DEFLATE_MESSAGES, deflate_session};

fn snapshot(name: &str, text: String) {
    insta::with_settings!({ omit_expression => true }, {
        insta::assert_snapshot!(name, text);
    });
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect::<Vec<_>>().join(" ")
}

/// The compressed sizes of the frames the server sent, in order (close frames left out).
fn server_payload_sizes(transcript: &Transcript) -> Vec<u64> {
    transcript
        .frames()
        .filter(|(dir, f)| *dir == wire::Direction::ServerToClient && f.header.opcode == OpCode::Text)
        .map(|(_, f)| f.header.payload_len)
        .collect()
}

#[tokio::test]
async fn the_by_hand_server_accepts_the_browsers_offer_and_compresses_every_echo() {
    let recording = deflate_session(None, false).await.unwrap();
    let texts: Vec<String> =
        recording.received.iter().take(4).map(|f| String::from_utf8_lossy(&f.payload).into_owned()).collect();
    assert_eq!(texts, DEFLATE_MESSAGES, "every echo inflates to the message sent");
    let transcript = &recording.transcript;
    let (_, response) = transcript.heads().nth(1).unwrap();
    assert_eq!(response.header("Sec-WebSocket-Extensions"), Some("permessage-deflate"));
    assert!(
        transcript.frames().filter(|(_, f)| f.header.opcode == OpCode::Text).all(|(_, f)| f.header.rsv1),
        "RFC 7692 §6: every compressed message has RSV1 on its (first and only) frame"
    );
    // RFC 7692 §7.2.3.2: with context takeover the second "Hello" is 5 bytes ("H" and a reference back), and
    // the second feed message costs a third of the first.
    assert_eq!(server_payload_sizes(transcript), [7, 5, 29, 10]);
    snapshot("deflate_session", transcript.render(&Render::snapshot()));
}

#[tokio::test]
async fn without_context_takeover_each_echo_is_compressed_alone() {
    let recording = deflate_session(None, true).await.unwrap();
    let transcript = &recording.transcript;
    let (_, response) = transcript.heads().nth(1).unwrap();
    assert_eq!(
        response.header("Sec-WebSocket-Extensions"),
        Some("permessage-deflate; server_no_context_takeover")
    );
    // The same message costs the same every time: no memory of the one before.
    assert_eq!(server_payload_sizes(transcript), [7, 7, 29, 29]);
    snapshot("deflate_session_no_context_takeover", transcript.render(&Render::snapshot()));
}

// ANCHOR: tungstenite_declines
/// The tungstenite echo gets the browser's offer and answers without `Sec-WebSocket-Extensions`:
/// no error, no log line, no compression. RFC 7692 §5 allows exactly this; it is also why nobody
/// notices that tungstenite has no permessage-deflate.
#[tokio::test]
async fn tungstenite_declines_the_offer_silently() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let server_addr = listener.local_addr().unwrap();
    let server = tokio::spawn(ws_echo::server::serve(listener, ws_echo::Limits::default()));
    let tap = Tap::bind("127.0.0.1:0", server_addr).await.unwrap();
    let stream = TcpStream::connect(tap.local_addr()).await.unwrap();
    let connection = tap.accept().await.unwrap();
    let host = tap.local_addr().to_string();
    let mut client =
        Client::handshake_offering(stream, &host, ws_echo::PATH, ws_by_hand::RFC_KEY, Some(BROWSER_OFFER))
            .await
            .unwrap();
    assert_eq!(client.extensions(), None, "tungstenite accepts no extension");
    // So the client sends its messages uncompressed, and they come back the same.
    client.send(&Frame::text(DEFLATE_MESSAGES[0]).masked(fresh_mask())).await.unwrap();
    let echo = client.next_frame().await.unwrap().unwrap();
    assert_eq!(echo, Frame::text(DEFLATE_MESSAGES[0]));
    let close = wire::close::ClosePayload { code: wire::CloseCode::NORMAL, reason: "done".into() };
    client.send(&Frame::close(Some(&close)).masked(fresh_mask())).await.unwrap();
    client.read_to_end().await.unwrap();
    client.shutdown().await.unwrap();
    let transcript = connection.transcript().await;
    server.abort();
    snapshot("tungstenite_declines", transcript.render(&Render::snapshot()));
}
// ANCHOR_END: tungstenite_declines

/// "Hello" compressed, as the server sends it, byte by byte: the frame header with RSV1, the
/// DEFLATE data, and the four bytes that are not there.
#[test]
fn a_compressed_frame_byte_by_byte() {
    let mut compressor = Compressor::new(15, false);
    let payload = compressor.compress(b"Hello");
    let frame = Frame::new(OpCode::Text, payload.clone()).compressed().encode();
    let mut out = String::new();
    let _ = writeln!(out, "\"Hello\" as a compressed text frame, as a server sends it:");
    let _ =
        writeln!(out, "{}   ({} bytes; uncompressed, 81 05 48 65 6c 6c 6f is 7)", hex(&frame), frame.len());
    let b0 = frame[0];
    let _ = writeln!(
        out,
        "  byte 0  {b0:02x} = {:04b} {:04b}  FIN=1 RSV1=1 RSV2=0 RSV3=0  opcode=0x1 (text)   RSV1: compressed (RFC 7692 §6)",
        b0 >> 4,
        b0 & 0xf
    );
    let b1 = frame[1];
    let _ = writeln!(
        out,
        "  byte 1  {b1:02x} = {:04b} {:04b}  MASK=0  length field={}",
        b1 >> 4,
        b1 & 0xf,
        b1 & 0x7f
    );
    let _ =
        writeln!(out, "  bytes 2-{}  {}  DEFLATE data (RFC 1951), not text", frame.len() - 1, hex(&payload));
    let _ = writeln!(
        out,
        "  (missing)  {}  the end of the sync flush, cut by the sender (RFC 7692 §7.2.1)",
        hex(&TAIL)
    );
    let _ = writeln!(
        out,
        "\nthe receiver appends {} and inflates {} → \"Hello\"",
        hex(&TAIL),
        hex(&[payload.as_slice(), &TAIL].concat())
    );
    let again = compressor.compress(b"Hello");
    let second = Frame::new(OpCode::Text, again.clone()).compressed().encode();
    let _ = writeln!(out, "\nthe same message again, with context takeover (RFC 7692 §7.2.3.2):");
    let _ = writeln!(
        out,
        "{}   ({} bytes): \"H\", then \"copy 4 bytes from 5 back\" (ello)",
        hex(&second),
        second.len()
    );
    assert_eq!(hex(&frame), "c1 07 f2 48 cd c9 c9 07 00", "RFC 7692 §7.2.3.1");
    assert_eq!(hex(&second), "c1 05 f2 00 11 00 00", "RFC 7692 §7.2.3.2");
    snapshot("compressed_frame_bytes", out);
}

// ANCHOR: crime
/// RFC 7692 §8 in numbers: a secret and text an attacker chooses, compressed on one connection.
/// With context takeover the attacker's guess that repeats the secret compresses a byte smaller,
/// so the sizes alone (which TLS does not hide) give the key away, one character per round.
/// Without context takeover every guess costs the same.
#[test]
fn with_context_takeover_the_sizes_give_a_secret_away() {
    const SECRET: &str = r#"{"id":7,"avatar":"/img/7.png?key=q7Rz4w&size=64"}"#;
    const ALPHABET: &str = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
    // What the attacker's chat message compresses to, the secret sent before it.
    let size = |guess: &str, no_context_takeover: bool| {
        let mut compressor = Compressor::new(15, no_context_takeover);
        compressor.compress(SECRET.as_bytes());
        compressor.compress(format!(r#"{{"chat":"?key={guess} please"}}"#).as_bytes()).len()
    };
    let mut out = String::new();
    let _ = writeln!(out, "the server sent the victim, earlier on the connection:\n  {SECRET}");
    let _ = writeln!(out, "the attacker has a chat message sent on the same connection, 62 guesses a round:");
    let _ = writeln!(out, "  {{\"chat\":\"?key=GUESS please\"}}");
    let _ =
        writeln!(out, "and sees only each compressed message's size (TLS hides the bytes, not the sizes)\n");
    let _ =
        writeln!(out, "known so far  smallest guess  sizes, context takeover  sizes, no context takeover");
    let mut known = String::new();
    for _round in 0..6 {
        let sizes: Vec<(char, usize, usize)> = ALPHABET
            .chars()
            .map(|c| (c, size(&format!("{known}{c}"), false), size(&format!("{known}{c}"), true)))
            .collect();
        let least = sizes.iter().map(|s| s.1).min().unwrap();
        let most = sizes.iter().map(|s| s.1).max().unwrap();
        let winners: Vec<char> = sizes.iter().filter(|s| s.1 == least).map(|s| s.0).collect();
        let flat: Vec<usize> = sizes.iter().map(|s| s.2).collect();
        assert_eq!(winners.len(), 1, "one guess stands out: {winners:?}");
        assert!(flat.iter().all(|&s| s == flat[0]), "without context takeover every guess costs the same");
        let shown = if known.is_empty() { "(nothing)".to_owned() } else { known.clone() };
        let sizes = format!("{least} or {most} bytes");
        let _ = writeln!(out, "{shown:<13} {:<15} {sizes:<24} {} bytes, every guess", winners[0], flat[0]);
        known.push(winners[0]);
    }
    assert_eq!(known, "q7Rz4w", "the key, from sizes alone");
    let _ = writeln!(out, "\nafter 6 rounds: key={known}, the secret, read from sizes alone");
    snapshot("crime_guesses", out);
}
// ANCHOR_END: crime
