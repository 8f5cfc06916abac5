use super::*;
use crate::decode::{ConnectionDecoder, Mode};
use crate::frame::Frame as WsFrame;
use crate::transcript::{Closure, Render, Transcript};
use Direction::{ClientToServer as C, ServerToClient as S};

fn frame(kind: u8, flags: u8, stream: u32, payload: &[u8]) -> Vec<u8> {
    let header = FrameHeader { len: payload.len() as u32, kind, flags, stream };
    let mut bytes = header.encode().to_vec();
    bytes.extend_from_slice(payload);
    bytes
}

/// A literal field without indexing, name and value as plain strings (RFC 7541 §6.2.2).
fn literal(name: &str, value: &str) -> Vec<u8> {
    let mut out = vec![0x00, name.len() as u8];
    out.extend_from_slice(name.as_bytes());
    out.push(value.len() as u8);
    out.extend_from_slice(value.as_bytes());
    out
}

/// An extended CONNECT's header block: `:method CONNECT` with its name from the static table
/// and added to the dynamic table, the rest as literals.
fn connect_block() -> Vec<u8> {
    // 0x42: literal with incremental indexing, name index 2 (:method); value "CONNECT" Huffman.
    let connect = huffman::encode(b"CONNECT");
    let mut block = vec![0x42, 0x80 | connect.len() as u8];
    block.extend_from_slice(&connect);
    block.extend(literal(":protocol", "websocket"));
    block.push(0x86); // :scheme http (static 6)
    block.extend(literal(":path", "/ws/echo"));
    block.extend(literal(":authority", "127.0.0.1:8080"));
    block.extend(literal("sec-websocket-version", "13"));
    block
}

fn run(script: &[(Direction, Vec<u8>)]) -> Transcript {
    let mut decoder = ConnectionDecoder::new(Mode::Auto);
    let mut t = Transcript::new();
    for (dir, bytes) in script {
        t.events.extend(decoder.feed(*dir, bytes));
    }
    t.events.extend(decoder.finish(C, Closure::Fin));
    t.events.extend(decoder.finish(S, Closure::Fin));
    t
}

fn websocket_exchange() -> Vec<(Direction, Vec<u8>)> {
    let mut preface = PREFACE.to_vec();
    preface.extend(frame(kind::SETTINGS, 0, 0, &[0, 2, 0, 0, 0, 0]));
    let settings = frame(kind::SETTINGS, 0, 0, &[0, 8, 0, 0, 0, 1]);
    let hello = WsFrame::text("hello").masked([1, 2, 3, 4]).encode();
    let echo = WsFrame::text("hello").encode();
    vec![
        (S, settings),
        (C, preface),
        (C, frame(kind::SETTINGS, flag::ACK, 0, &[])),
        (C, frame(kind::HEADERS, flag::END_HEADERS, 1, &connect_block())),
        (S, frame(kind::HEADERS, flag::END_HEADERS, 1, &[0x88])),
        // The client's frame split over two DATA frames.
        (C, frame(kind::DATA, 0, 1, &hello[..4])),
        (C, frame(kind::DATA, 0, 1, &hello[4..])),
        (S, frame(kind::DATA, 0, 1, &echo)),
        (C, frame(kind::RST_STREAM, 0, 1, &[0, 0, 0, 8])),
        (S, frame(kind::GOAWAY, 0, 0, &[0, 0, 0, 1, 0, 0, 0, 0])),
    ]
}

#[test]
fn an_extended_connect_is_decoded_and_its_data_frames_carry_websocket_frames() {
    let t = run(&websocket_exchange());
    let text = t.render(&Render::snapshot());
    for expected in [
        "─── the client starts with the HTTP/2 connection preface",
        "C→S HTTP/2 connection preface \"PRI * HTTP/2.0\\r\\n\\r\\nSM\\r\\n\\r\\n\" (RFC 9113 §3.4)",
        "C→S SETTINGS stream 0: ENABLE_PUSH=0",
        "S→C SETTINGS stream 0: ENABLE_CONNECT_PROTOCOL=1",
        "C→S SETTINGS stream 0 ACK: received the peer's settings",
        "C→S HEADERS stream 1 END_HEADERS: 6 fields",
        "    :method: CONNECT                         [literal, name static 2, Huffman, added to the table]",
        "    :authority: 127.0.0.1:‹port›",
        "    :scheme: http                            [static 6]",
        "S→C HEADERS stream 1 END_HEADERS: 1 field",
        "─── 200 to an extended CONNECT: stream 1 is now a WebSocket",
        "C→S DATA stream 1, 4 bytes\n    00 00 04 | 00 | 00 | 00 00 00 01 | 4 bytes, below   (13 bytes)\n    ↳ 4 bytes of a WebSocket frame that continues",
        "    ↳ frame FIN text   masked len=5  \"hello\"\n        81 85 | mask (4 random bytes) | 5 masked bytes   (11 bytes)",
        "S→C DATA stream 1, 7 bytes\n    00 00 07 | 00 | 00 | 00 00 00 01 | 7 bytes, below   (16 bytes)\n    ↳ frame FIN text          len=5  \"hello\"",
        "C→S RST_STREAM stream 1: CANCEL (0x8)",
        "S→C GOAWAY stream 0: last stream 1, NO_ERROR (0x0)",
    ] {
        assert!(text.contains(expected), "expected {expected:?} in:\n{text}");
    }
    assert_eq!(t.frames().count(), 2, "both WebSocket frames, found inside DATA frames");
    let sent: usize = websocket_exchange().iter().filter(|(d, _)| *d == C).map(|(_, b)| b.len()).sum();
    assert_eq!(t.wire_bytes(C), sent, "every byte is accounted for once");
}

#[test]
fn bytes_arriving_one_at_a_time_decode_the_same() {
    let mut whole = websocket_exchange();
    // The server's SETTINGS after the preface: sent first, it waits for the preface, which one
    // byte at a time comes later.
    whole.swap(0, 1);
    let mut split = Vec::new();
    for (dir, bytes) in &whole {
        for b in bytes {
            split.push((*dir, vec![*b]));
        }
    }
    assert_eq!(run(&whole).render(&Render::snapshot()), run(&split).render(&Render::snapshot()));
}

#[test]
fn a_header_block_split_by_continuation_is_shown_on_the_last_frame() {
    let block = connect_block();
    let mut preface = PREFACE.to_vec();
    preface.extend(frame(kind::SETTINGS, 0, 0, &[]));
    let t = run(&[
        (C, preface),
        (C, frame(kind::HEADERS, 0, 3, &block[..10])),
        (C, frame(kind::CONTINUATION, flag::END_HEADERS, 3, &block[10..])),
    ]);
    let text = t.render(&Render::snapshot().without_hex());
    assert!(
        text.contains("C→S HEADERS stream 3: a header block that continues in a CONTINUATION frame"),
        "{text}"
    );
    assert!(text.contains("C→S CONTINUATION stream 3 END_HEADERS: 6 fields"), "{text}");
    assert!(text.contains("    :protocol: websocket"), "{text}");
}

#[test]
fn a_malformed_settings_frame_is_said_and_the_rest_shown_raw() {
    let mut preface = PREFACE.to_vec();
    preface.extend(frame(kind::SETTINGS, 0, 0, &[0, 1, 0]));
    preface.extend(b"more");
    let text = run(&[(C, preface)]).render(&Render::snapshot().without_hex());
    assert!(text.contains("⚠ malformed: a SETTINGS payload is 6-byte parameters, and 3 is not"), "{text}");
    assert!(text.contains("could not decode: after a malformed frame"), "{text}");
}

#[test]
fn an_http_1_1_request_starting_with_p_is_still_http_1_1() {
    let t = run(&[(C, b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n".to_vec())]);
    assert_eq!(t.heads().count(), 1, "{}", t.render(&Render::snapshot()));
}

#[test]
fn a_connection_cut_mid_frame_says_so() {
    let mut preface = PREFACE.to_vec();
    preface.extend(&frame(kind::SETTINGS, 0, 0, &[0, 2, 0, 0, 0, 0])[..5]);
    let text = run(&[(C, preface)]).render(&Render::snapshot());
    assert!(text.contains("C→S ⚠ the client stopped in the middle of an HTTP/2 frame"), "{text}");
}
