//! permessage-deflate against RFC 7692's own examples, a zip bomb, window limits checked by
//! reading the DEFLATE stream back, and round trips.

use super::codec::{Compressor, Decompressor, InflateError, PerMessageDeflate};
use super::negotiate::{DeflateConfig, negotiate};
use crate::close::CloseCode;
use crate::frame::{self, OpCode};
use proptest::prelude::*;

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect::<Vec<_>>().join(" ")
}

fn unhex(text: &str) -> Vec<u8> {
    text.split_whitespace().map(|b| u8::from_str_radix(b, 16).unwrap()).collect()
}

/// Decodes frames from `wire` and inflates the message they make, as a receiver does.
fn receive(decompressor: &mut Decompressor, wire: &[u8]) -> Vec<u8> {
    let mut rest = wire;
    let mut message = Vec::new();
    while let Some((frame, used)) = frame::decode(rest, 1 << 20).unwrap() {
        rest = &rest[used..];
        decompressor.decompress_fragment(&frame.payload, frame.fin, &mut message, 1 << 20).unwrap();
        if frame.fin {
            break;
        }
    }
    message
}

// RFC 7692 §7.2.3: the examples, each an unmasked text frame carrying "Hello".

#[test]
fn rfc_7692_7_2_3_1_hello_compresses_to_the_rfcs_bytes() {
    let mut compressor = Compressor::new(15, false);
    assert_eq!(hex(&compressor.compress(b"Hello")), "f2 48 cd c9 c9 07 00");
    let mut compressor = Compressor::new(15, false);
    assert_eq!(
        hex(&compressor.compress_frame(OpCode::Text, b"Hello").encode()),
        "c1 07 f2 48 cd c9 c9 07 00"
    );
}

#[test]
fn rfc_7692_7_2_3_1_the_compressed_hello_inflates_whole_or_fragmented() {
    let mut decompressor = Decompressor::new(false);
    assert_eq!(receive(&mut decompressor, &unhex("c1 07 f2 48 cd c9 c9 07 00")), b"Hello");
    // Fragmented: RSV1 on the first frame only; the compressed bytes are split anywhere.
    let mut decompressor = Decompressor::new(false);
    assert_eq!(receive(&mut decompressor, &unhex("41 03 f2 48 cd 80 04 c9 c9 07 00")), b"Hello");
}

#[test]
fn rfc_7692_7_2_3_2_with_context_takeover_the_second_hello_is_a_back_reference() {
    let mut compressor = Compressor::new(15, false);
    assert_eq!(hex(&compressor.compress(b"Hello")), "f2 48 cd c9 c9 07 00");
    assert_eq!(hex(&compressor.compress(b"Hello")), "f2 00 11 00 00");
    let mut decompressor = Decompressor::new(false);
    assert_eq!(receive(&mut decompressor, &unhex("c1 07 f2 48 cd c9 c9 07 00")), b"Hello");
    assert_eq!(receive(&mut decompressor, &unhex("c1 05 f2 00 11 00 00")), b"Hello");
}

#[test]
fn without_context_takeover_the_second_hello_costs_as_much_as_the_first() {
    let mut compressor = Compressor::new(15, true);
    assert_eq!(hex(&compressor.compress(b"Hello")), "f2 48 cd c9 c9 07 00");
    assert_eq!(hex(&compressor.compress(b"Hello")), "f2 48 cd c9 c9 07 00");
    // A receiver that resets reads them both.
    let mut decompressor = Decompressor::new(true);
    assert_eq!(receive(&mut decompressor, &unhex("c1 07 f2 48 cd c9 c9 07 00")), b"Hello");
    assert_eq!(receive(&mut decompressor, &unhex("c1 07 f2 48 cd c9 c9 07 00")), b"Hello");
    // The RFC's back-reference now points before the start of an empty window. zlib would fail
    // ("invalid distance too far back"); miniz_oxide reads its cleared window as zeros. Either
    // way the earlier message does not come back.
    let after_reset = decompressor.decompress(&unhex("f2 00 11 00 00"), 1024).unwrap();
    assert_eq!(after_reset, b"H\0\0\0\0");
}

#[test]
fn rfc_7692_7_2_3_3_a_block_with_no_compression_inflates() {
    let mut decompressor = Decompressor::new(false);
    assert_eq!(receive(&mut decompressor, &unhex("c1 0b 00 05 00 fa ff 48 65 6c 6c 6f 00")), b"Hello");
}

#[test]
fn rfc_7692_7_2_3_4_a_block_with_bfinal_set_inflates_and_the_next_message_starts_afresh() {
    let mut decompressor = Decompressor::new(false);
    assert_eq!(receive(&mut decompressor, &unhex("c1 08 f3 48 cd c9 c9 07 00 00")), b"Hello");
    // The sender's stream ended, so its next message is a new stream.
    assert_eq!(receive(&mut decompressor, &unhex("c1 07 f2 48 cd c9 c9 07 00")), b"Hello");
}

#[test]
fn rfc_7692_7_2_3_5_two_deflate_blocks_in_one_message_inflate() {
    let mut decompressor = Decompressor::new(false);
    assert_eq!(receive(&mut decompressor, &unhex("c1 0d f2 48 05 00 00 00 ff ff ca c9 c9 07 00")), b"Hello");
}

#[test]
fn rfc_7692_7_2_3_6_an_empty_message_is_the_single_byte_00() {
    let mut compressor = Compressor::new(15, false);
    assert_eq!(hex(&compressor.compress(b"")), "00");
    let mut decompressor = Decompressor::new(false);
    assert_eq!(receive(&mut decompressor, &unhex("c1 01 00")), b"");
    // A sender that flushed mid-message may end it with an empty fragment holding only 0x00.
    let mut decompressor = Decompressor::new(false);
    assert_eq!(
        receive(&mut decompressor, &unhex("41 0b f2 48 cd c9 c9 07 00 00 00 ff ff 80 01 00")),
        b"Hello"
    );
    // And the window still works afterwards.
    assert_eq!(receive(&mut decompressor, &unhex("c1 05 f2 00 11 00 00")), b"Hello");
}

#[test]
fn garbage_is_invalid_data_1007() {
    let mut decompressor = Decompressor::new(false);
    // BTYPE 11 is reserved (RFC 1951 §3.2.3).
    let error = decompressor.decompress(&[0xff, 0xff, 0xff], 1024).unwrap_err();
    assert!(matches!(error, InflateError::Corrupt(_)), "{error:?}");
    assert_eq!(error.close_code(), CloseCode::INVALID_DATA);
}

// ANCHOR: zip_bomb
#[test]
fn a_zip_bomb_fails_at_the_limit_without_being_inflated() {
    const INFLATED: usize = 64 << 20; // 64 MiB of zeros...
    const LIMIT: usize = 1 << 20; // ...against a limit of 1 MiB.
    let bomb = Compressor::new(15, false).compress(&vec![0; INFLATED]);
    assert!(bomb.len() < 128 << 10, "64 MiB of zeros compress to {} bytes", bomb.len());

    let mut decompressor = Decompressor::new(false);
    let mut message = Vec::new();
    let error = decompressor.decompress_fragment(&bomb, true, &mut message, LIMIT).unwrap_err();
    assert_eq!(error, InflateError::TooBig { max: LIMIT });
    assert_eq!(error.close_code(), CloseCode::TOO_BIG);
    // The evidence that it stopped early, not after inflating everything: the buffer never grew
    // past the limit, and most of the bomb was never read.
    assert!(message.len() <= LIMIT && message.capacity() <= LIMIT, "capacity {}", message.capacity());
    assert!(decompressor.total_out() <= (LIMIT + 8 * 1024) as u64, "inflated {}", decompressor.total_out());
    assert!(
        decompressor.total_in() < bomb.len() as u64 / 32,
        "read {} of {}",
        decompressor.total_in(),
        bomb.len()
    );
}
// ANCHOR_END: zip_bomb

#[test]
fn a_message_exactly_at_the_limit_is_delivered() {
    let message = b"abcabcabcabcabcabcabcabcabcabc".repeat(100);
    let payload = Compressor::new(15, false).compress(&message);
    let mut decompressor = Decompressor::new(false);
    assert_eq!(decompressor.decompress(&payload, message.len()).unwrap(), message);
    let mut decompressor = Decompressor::new(false);
    assert_eq!(
        decompressor.decompress(&payload, message.len() - 1),
        Err(InflateError::TooBig { max: message.len() - 1 })
    );
}

/// Bytes that barely compress, from a fixed seed.
fn noise(len: usize, seed: u64) -> Vec<u8> {
    let mut state = seed | 1;
    (0..len)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state as u8
        })
        .collect()
}

#[test]
fn a_block_that_ends_in_the_messages_last_bytes_does_not_cut_the_message() {
    // miniz_oxide ends a DEFLATE block after about 31 KiB of input. When that happens within the
    // last bytes of a message and the block does not fit the output, it needs one more call
    // than zlib would; stopping early cut the message's end off (Autobahn 12.2.9 found it).
    for len in 31_700..32_050 {
        let message = noise(len, len as u64);
        let payload = Compressor::new(15, true).compress(&message);
        let inflated = Decompressor::new(true).decompress(&payload, 1 << 20).unwrap();
        assert!(inflated == message, "a {len}-byte message came back as {} bytes", inflated.len());
    }
}

#[test]
fn large_messages_survive_whole_and_in_fragments() {
    // 64 and 128 KiB, as Autobahn's 12.* cases send them, with context takeover.
    for len in [65_536, 131_072] {
        let mut compressor = Compressor::new(15, false);
        let mut whole = Decompressor::new(false);
        let mut fragmented = Decompressor::new(false);
        for seed in 0..10 {
            let mut message = noise(len, seed);
            // Half noise, half repeats of the noise: blocks of both kinds, and back-references.
            let half = len / 2;
            message.copy_within(..half, half);
            let payload = compressor.compress(&message);
            assert_eq!(whole.decompress(&payload, 1 << 20).unwrap(), message, "{len} bytes, message {seed}");
            let mut inflated = Vec::new();
            let chunks: Vec<&[u8]> = payload.chunks(1000).collect();
            for (i, chunk) in chunks.iter().enumerate() {
                fragmented.decompress_fragment(chunk, i + 1 == chunks.len(), &mut inflated, 1 << 20).unwrap();
            }
            assert_eq!(inflated, message, "{len} bytes in fragments, message {seed}");
        }
    }
}

#[test]
fn the_negotiated_agreement_builds_matching_ends() {
    let negotiation = negotiate(
        &DeflateConfig { client_no_context_takeover: true, ..DeflateConfig::default() },
        ["permessage-deflate; server_max_window_bits=9; client_max_window_bits"],
    );
    let agreement = negotiation.accepted.unwrap();
    let mut server = PerMessageDeflate::server(&agreement);
    let mut client = PerMessageDeflate::client(&agreement);
    assert_eq!(server.compressor.window_bits(), 9);
    assert_eq!(client.compressor.window_bits(), 15);
    for text in ["hello", "hello again", "hello"] {
        let sent = client.compressor.compress_frame(OpCode::Text, text.as_bytes()).masked([1, 2, 3, 4]);
        assert!(sent.rsv1);
        assert_eq!(receive(&mut server.decompressor, &sent.encode()), text.as_bytes());
        let answer = server.compressor.compress_frame(OpCode::Text, text.as_bytes());
        assert_eq!(receive(&mut client.decompressor, &answer.encode()), text.as_bytes());
    }
    // client_no_context_takeover: the client's repeated "hello" costs what the first did.
    let mut fresh = PerMessageDeflate::client(&agreement);
    assert_eq!(fresh.compressor.compress(b"hello"), fresh.compressor.compress(b"hello"));
}

// Window limits, checked by reading the compressed stream back and measuring every
// back-reference. miniz_oxide cannot be told to use a small window, so this is the proof that the
// full-flush workaround in `Compressor::compress` keeps to it.

/// Data that tempts a compressor to reach far back: 20,000 random bytes, three times over.
fn far_repeats() -> Vec<u8> {
    let mut state = 0x2545_f491_4f6c_dd1d_u64;
    let block: Vec<u8> = (0..20_000)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state as u8
        })
        .collect();
    block.repeat(3)
}

#[test]
fn a_window_of_15_bits_reaches_as_far_as_deflate_allows() {
    let mut compressor = Compressor::new(15, false);
    let payload = compressor.compress(&far_repeats());
    assert_eq!(inspect::longest_distance(&[&payload[..], &super::TAIL].concat()), 20_000);
    assert!(payload.len() < 21_000, "the repeats cost almost nothing: {} bytes", payload.len());
}

#[test]
fn smaller_windows_keep_every_back_reference_within_their_size() {
    for bits in 8..=14u8 {
        let mut compressor = Compressor::new(bits, false);
        let mut stream = Vec::new();
        // A block repeated at once, just within the window, so the window is used to the full.
        let near = (1usize << bits) - 10;
        let near_repeats = far_repeats()[..near].repeat(2);
        // Several messages with context takeover: the limit holds across message boundaries too.
        for message in [&near_repeats[..], &far_repeats()[..], b"Hello", b"Hello", &far_repeats()[..777]] {
            stream.extend(compressor.compress(message));
            stream.extend(super::TAIL);
        }
        let longest = inspect::longest_distance(&stream);
        assert!(longest <= 1 << bits, "window {bits}: a back-reference of {longest} bytes");
        assert!(longest >= near, "window {bits}: the window is used ({longest})");
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn messages_survive_compression_in_order(
        messages in prop::collection::vec(
            prop_oneof![
                prop::collection::vec(any::<u8>(), 0..600),
                // Repetitive text, which compresses and makes back-references.
                "[ab ]{0,40}".prop_map(|s| s.repeat(20).into_bytes()),
            ],
            1..8,
        ),
        window_bits in 8u8..=15,
        no_context_takeover in any::<bool>(),
        fragment_at in 1usize..64,
    ) {
        let mut compressor = Compressor::new(window_bits, no_context_takeover);
        let mut decompressor = Decompressor::new(no_context_takeover);
        let mut stream = Vec::new();
        for message in &messages {
            let payload = compressor.compress(message);
            // Receive it in fragments of `fragment_at` bytes, as a fragmented message arrives.
            let mut inflated = Vec::new();
            let chunks: Vec<&[u8]> = payload.chunks(fragment_at).collect();
            for (i, chunk) in chunks.iter().enumerate() {
                decompressor
                    .decompress_fragment(chunk, i + 1 == chunks.len(), &mut inflated, 1 << 20)
                    .unwrap();
            }
            prop_assert_eq!(&inflated, message);
            stream.extend(&payload);
            stream.extend(super::TAIL);
            if no_context_takeover {
                prop_assert!(inspect::longest_distance(&stream) <= message.len().max(1));
                stream.clear();
            }
        }
        prop_assert!(inspect::longest_distance(&stream) <= 1 << window_bits);
    }
}

/// A DEFLATE reader (RFC 1951 §3.2) that decodes nothing but the structure, to measure how far
/// back each back-reference reaches. Test-only, after the decoder in zlib's `contrib/puff`.
mod inspect {
    struct Bits<'a> {
        data: &'a [u8],
        at: usize,
    }

    impl Bits<'_> {
        fn bit(&mut self) -> Option<u32> {
            let byte = self.data.get(self.at / 8)?;
            let bit = (byte >> (self.at % 8)) & 1;
            self.at += 1;
            Some(u32::from(bit))
        }

        fn bits(&mut self, n: u32) -> Option<u32> {
            (0..n).try_fold(0, |value, i| Some(value | self.bit()? << i))
        }
    }

    /// A canonical Huffman code: how many codes of each length, and the symbols in code order.
    struct Huffman {
        count: [u16; 16],
        symbols: Vec<u16>,
    }

    impl Huffman {
        fn new(lengths: &[u8]) -> Huffman {
            let mut count = [0u16; 16];
            for &len in lengths {
                count[usize::from(len)] += 1;
            }
            count[0] = 0;
            let mut symbols = Vec::new();
            for len in 1..16 {
                for (symbol, &l) in lengths.iter().enumerate() {
                    if usize::from(l) == len {
                        symbols.push(symbol as u16);
                    }
                }
            }
            Huffman { count, symbols }
        }

        fn decode(&self, bits: &mut Bits) -> Option<u16> {
            let (mut code, mut first, mut index) = (0i32, 0i32, 0i32);
            for len in 1..16 {
                code |= bits.bit()? as i32;
                let count = i32::from(self.count[len]);
                if code - first < count {
                    return self.symbols.get((index + code - first) as usize).copied();
                }
                index += count;
                first = (first + count) << 1;
                code <<= 1;
            }
            None
        }
    }

    const LENGTH_EXTRA: [u32; 29] =
        [0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0];
    const DIST_BASE: [u32; 30] = [
        1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537, 2049,
        3073, 4097, 6145, 8193, 12289, 16385, 24577,
    ];
    const DIST_EXTRA: [u32; 30] =
        [0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13];

    /// The longest back-reference distance in a raw DEFLATE stream (0 if none), reading until the
    /// input runs out at a block boundary.
    pub fn longest_distance(data: &[u8]) -> usize {
        let mut bits = Bits { data, at: 0 };
        let mut longest = 0;
        while bits.at + 3 <= data.len() * 8 {
            let Some(kind) = bits.bits(3).map(|header| header >> 1) else { break };
            match kind {
                0 => {
                    bits.at = bits.at.div_ceil(8) * 8;
                    // A payload whose tail was not put back ends here.
                    let (Some(len), Some(_nlen)) = (bits.bits(16), bits.bits(16)) else { break };
                    bits.at += 8 * len as usize;
                }
                1 | 2 => {
                    let (literals, distances) = if kind == 1 { fixed() } else { dynamic(&mut bits) };
                    loop {
                        let symbol = literals.decode(&mut bits).expect("a literal/length symbol");
                        match symbol {
                            0..=255 => {}
                            256 => break,
                            _ => {
                                let index = usize::from(symbol - 257);
                                bits.bits(LENGTH_EXTRA[index]).expect("length extra bits");
                                let code = usize::from(distances.decode(&mut bits).expect("a distance"));
                                let distance = DIST_BASE[code] + bits.bits(DIST_EXTRA[code]).expect("extra");
                                longest = longest.max(distance as usize);
                            }
                        }
                    }
                }
                _ => panic!("reserved block type"),
            }
        }
        longest
    }

    fn fixed() -> (Huffman, Huffman) {
        let mut lengths = vec![8u8; 144];
        lengths.extend([9; 112]);
        lengths.extend([7; 24]);
        lengths.extend([8; 8]);
        (Huffman::new(&lengths), Huffman::new(&[5; 30]))
    }

    fn dynamic(bits: &mut Bits) -> (Huffman, Huffman) {
        const ORDER: [usize; 19] = [16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15];
        let literal_count = bits.bits(5).expect("HLIT") as usize + 257;
        let distance_count = bits.bits(5).expect("HDIST") as usize + 1;
        let code_count = bits.bits(4).expect("HCLEN") as usize + 4;
        let mut code_lengths = [0u8; 19];
        for &i in &ORDER[..code_count] {
            code_lengths[i] = bits.bits(3).expect("a code length") as u8;
        }
        let lengths_code = Huffman::new(&code_lengths);
        let mut lengths = Vec::new();
        while lengths.len() < literal_count + distance_count {
            match lengths_code.decode(bits).expect("a length symbol") {
                symbol @ 0..=15 => lengths.push(symbol as u8),
                16 => {
                    let previous = *lengths.last().expect("a length to repeat");
                    let times = 3 + bits.bits(2).expect("repeat") as usize;
                    lengths.extend(std::iter::repeat_n(previous, times));
                }
                17 => lengths.extend(std::iter::repeat_n(0, 3 + bits.bits(3).expect("zeros") as usize)),
                _ => lengths.extend(std::iter::repeat_n(0, 11 + bits.bits(7).expect("zeros") as usize)),
            }
        }
        (Huffman::new(&lengths[..literal_count]), Huffman::new(&lengths[literal_count..]))
    }
}
