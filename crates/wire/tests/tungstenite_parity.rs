//! The hand-written codec against tungstenite's: every frame encodes to the same bytes and
//! decodes to the same header and payload, in one piece or split at any point.
//!
//! Two deliberate differences, each with its own test below: tungstenite's header parser refuses
//! reserved opcodes outright, while ours decodes them so the Tap can show them (the endpoint then
//! fails the connection); and ours refuses a 64-bit length with its top bit set (RFC 6455 §5.2).

#![allow(clippy::unwrap_used, reason = "in a test, a panic is a failure with a line number")]

use std::io::Cursor;

use proptest::prelude::*;
use tungstenite::protocol::frame::{Frame as TFrame, FrameHeader as TFrameHeader, coding::OpCode as TOpCode};
use wire::frame::{Frame, FrameDecoder, OpCode, decode};

/// Payload lengths that reach all three length encodings and their boundaries.
fn payload_len() -> impl Strategy<Value = usize> {
    prop_oneof![
        8 => 0usize..=130,
        1 => Just(125usize),
        1 => Just(126usize),
        1 => 65_530usize..=65_540,
    ]
}

/// Frames with any defined opcode, any flags, masked or not.
fn frame() -> impl Strategy<Value = Frame> {
    let opcode = prop::sample::select(vec![0x0u8, 0x1, 0x2, 0x8, 0x9, 0xa]);
    (any::<[bool; 4]>(), opcode, any::<Option<[u8; 4]>>(), payload_len(), any::<u8>()).prop_map(
        |(flags, opcode, mask, len, seed)| Frame {
            fin: flags[0],
            rsv1: flags[1],
            rsv2: flags[2],
            rsv3: flags[3],
            opcode: OpCode::from_bits(opcode),
            mask,
            payload: (0..len).map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed)).collect(),
        },
    )
}

fn tungstenite_encode(frame: &Frame) -> Vec<u8> {
    let header = TFrameHeader {
        is_final: frame.fin,
        rsv1: frame.rsv1,
        rsv2: frame.rsv2,
        rsv3: frame.rsv3,
        opcode: TOpCode::from(frame.opcode.bits()),
        mask: frame.mask,
    };
    let mut out = Vec::new();
    TFrame::from_payload(header, frame.payload.clone().into()).format(&mut out).unwrap();
    out
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn both_codecs_encode_every_frame_to_the_same_bytes(frame in frame()) {
        prop_assert_eq!(frame.encode(), tungstenite_encode(&frame));
    }

    #[test]
    fn ours_decodes_what_tungstenite_encodes(frame in frame()) {
        let bytes = tungstenite_encode(&frame);
        let (decoded, used) = decode(&bytes, u64::MAX).unwrap().expect("a whole frame");
        prop_assert_eq!(used, bytes.len());
        prop_assert_eq!(decoded, frame);
    }

    #[test]
    fn tungstenite_decodes_what_ours_encodes(frame in frame()) {
        let bytes = frame.encode();
        let mut cursor = Cursor::new(&bytes);
        let (header, len) = TFrameHeader::parse(&mut cursor).unwrap().expect("a whole header");
        prop_assert_eq!(header.is_final, frame.fin);
        prop_assert_eq!([header.rsv1, header.rsv2, header.rsv3], [frame.rsv1, frame.rsv2, frame.rsv3]);
        prop_assert_eq!(u8::from(header.opcode), frame.opcode.bits());
        prop_assert_eq!(header.mask, frame.mask);
        prop_assert_eq!(len, frame.payload.len() as u64);
        // What follows the header is the payload, masked with the same key.
        let mut payload = bytes[cursor.position() as usize..].to_vec();
        if let Some(key) = frame.mask {
            wire::frame::apply_mask(&mut payload, key);
        }
        prop_assert_eq!(payload, frame.payload);
    }

    #[test]
    fn splitting_the_bytes_anywhere_gives_the_same_frames(
        first in frame(),
        second in frame(),
        cuts in prop::collection::vec(any::<prop::sample::Index>(), 0..6),
    ) {
        let mut bytes = tungstenite_encode(&first);
        bytes.extend(tungstenite_encode(&second));
        let mut cuts: Vec<usize> = cuts.iter().map(|i| i.index(bytes.len() + 1)).collect();
        cuts.push(bytes.len());
        cuts.sort_unstable();
        let mut decoder = FrameDecoder::new(u64::MAX);
        let mut frames = Vec::new();
        let mut start = 0;
        for cut in cuts {
            decoder.push(&bytes[start..cut]);
            start = cut;
            while let Some((frame, _raw)) = decoder.next_frame().unwrap() {
                frames.push(frame);
            }
        }
        prop_assert_eq!(frames, vec![first, second]);
    }

    #[test]
    fn no_input_makes_the_decoder_panic(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        let mut decoder = FrameDecoder::new(1 << 20);
        decoder.push(&bytes);
        while let Ok(Some(_)) = decoder.next_frame() {}
    }
}

#[test]
fn reserved_opcodes_decode_for_display_where_tungstenite_refuses_them() {
    for bits in [0x3u8, 0x7, 0xb, 0xf] {
        let bytes = [0x80 | bits, 0x00];
        let (frame, _) = decode(&bytes, 125).unwrap().unwrap();
        assert_eq!(frame.opcode, OpCode::Reserved(bits));
        assert!(frame.opcode.is_reserved(), "the endpoint, not the codec, fails the connection");
        assert!(TFrameHeader::parse(&mut Cursor::new(&bytes)).is_err());
    }
}

#[test]
fn a_64_bit_length_with_its_top_bit_set_is_refused() {
    let bytes = [0x82, 0x7f, 0x80, 0, 0, 0, 0, 0, 0, 0];
    assert!(decode(&bytes, u64::MAX).is_err(), "RFC 6455 §5.2: the most significant bit MUST be 0");
}
