//! Whatever bytes arrive, the connection decoder (the Tap's brain) answers with events, never a
//! panic: the Tap must survive any client.

#![allow(clippy::unwrap_used, reason = "in a test, a panic is a failure with a line number")]

use proptest::prelude::*;
use wire::{Closure, ConnectionDecoder, Direction, Mode, Render, Transcript};

fn chunks() -> impl Strategy<Value = Vec<(bool, Vec<u8>)>> {
    prop::collection::vec((any::<bool>(), prop::collection::vec(any::<u8>(), 0..64)), 0..16)
}

/// Arbitrary bytes, after a real HTTP start, so the fuzzing reaches the body and frame states.
fn prefixed(prefix: &'static [u8]) -> impl Strategy<Value = Vec<(bool, Vec<u8>)>> {
    chunks().prop_map(move |mut chunks| {
        chunks.insert(0, (true, prefix.to_vec()));
        chunks
    })
}

/// TLS records with real headers and arbitrary payloads, some of them handshake messages with a
/// real header, so the fuzzing reaches the reader of hellos and alerts.
fn tls_records() -> impl Strategy<Value = Vec<(bool, Vec<u8>)>> {
    let record =
        (any::<bool>(), 19u8..=24, any::<bool>(), 0u8..=24, prop::collection::vec(any::<u8>(), 0..64));
    prop::collection::vec(record, 0..16).prop_map(|records| {
        let mut chunks = vec![(true, vec![0x16, 0x03, 0x01, 0x00, 0x00])];
        for (from_client, content_type, as_message, kind, body) in records {
            let mut payload = Vec::new();
            if as_message {
                payload.extend_from_slice(&[kind, 0, 0, body.len() as u8]);
            }
            payload.extend_from_slice(&body);
            let mut bytes = vec![content_type, 0x03, 0x03, 0, payload.len() as u8];
            bytes.extend_from_slice(&payload);
            chunks.push((from_client, bytes));
        }
        chunks
    })
}

/// HTTP/2 frames with real headers and arbitrary payloads, after the preface and an extended
/// CONNECT on stream 1, so the fuzzing reaches HPACK, CONTINUATION and WebSocket-in-DATA.
fn http2_frames() -> impl Strategy<Value = Vec<(bool, Vec<u8>)>> {
    let frame = (any::<bool>(), 0u8..=10, any::<u8>(), 0u32..=3, prop::collection::vec(any::<u8>(), 0..64));
    prop::collection::vec(frame, 0..16).prop_map(|frames| {
        let mut first = wire::http2::PREFACE.to_vec();
        // HEADERS on stream 1, END_HEADERS: :method CONNECT and :protocol websocket as literals.
        let mut block = Vec::new();
        for (name, value) in [(":method", "CONNECT"), (":protocol", "websocket")] {
            block.extend_from_slice(&[0x00, name.len() as u8]);
            block.extend_from_slice(name.as_bytes());
            block.push(value.len() as u8);
            block.extend_from_slice(value.as_bytes());
        }
        let header = wire::http2::FrameHeader { len: block.len() as u32, kind: 1, flags: 4, stream: 1 };
        first.extend_from_slice(&header.encode());
        first.extend_from_slice(&block);
        let mut chunks = vec![(true, first)];
        for (from_client, kind, flags, stream, payload) in frames {
            let header = wire::http2::FrameHeader { len: payload.len() as u32, kind, flags, stream };
            let mut bytes = header.encode().to_vec();
            bytes.extend_from_slice(&payload);
            chunks.push((from_client, bytes));
        }
        chunks
    })
}

fn run(mode: Mode, chunks: &[(bool, Vec<u8>)]) -> String {
    let mut decoder = ConnectionDecoder::new(mode);
    let mut transcript = Transcript::new();
    for (from_client, bytes) in chunks {
        let dir = if *from_client { Direction::ClientToServer } else { Direction::ServerToClient };
        transcript.events.extend(decoder.feed(dir, bytes));
    }
    transcript.events.extend(decoder.finish(Direction::ClientToServer, Closure::Reset));
    transcript.events.extend(decoder.finish(Direction::ServerToClient, Closure::Fin));
    transcript.render(&Render::live())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn arbitrary_bytes_never_panic_in_any_mode(chunks in chunks()) {
        for mode in [Mode::Auto, Mode::WebSocket, Mode::Raw] {
            run(mode, &chunks);
        }
    }

    #[test]
    fn arbitrary_tls_records_never_panic(chunks in tls_records()) {
        let text = run(Mode::Auto, &chunks);
        prop_assert!(!text.contains("could not decode"), "every record here has a valid header:\n{text}");
    }

    #[test]
    fn arbitrary_http2_frames_never_panic(chunks in http2_frames()) {
        run(Mode::Auto, &chunks);
    }

    #[test]
    fn arbitrary_bytes_after_a_request_never_panic(chunks in prefixed(b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n")) {
        run(Mode::Auto, &chunks);
    }

    #[test]
    fn arbitrary_bytes_after_an_upgrade_never_panic(
        chunks in prefixed(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"),
    ) {
        let mut chunks = chunks;
        chunks.insert(1, (false, b"HTTP/1.1 101 Switching Protocols\r\n\r\n".to_vec()));
        run(Mode::Auto, &chunks);
    }
}
