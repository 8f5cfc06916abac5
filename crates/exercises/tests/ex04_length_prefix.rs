//! Exercise 4: messages on a byte stream. Run with `just exercise 4`.

#![allow(clippy::unwrap_used, reason = "in a test, a panic is a failure with a line number")]

use exercises::ex04_length_prefix::{Decoder, encode};

#[test]
#[ignore = "an exercise: run `just exercise 4`"]
fn the_length_goes_first_in_four_big_endian_bytes() {
    assert_eq!(
        encode(b"hi"),
        [0, 0, 0, 2, b'h', b'i'],
        "4 bytes of length, most significant first, then the bytes"
    );
    assert_eq!(encode(b""), [0, 0, 0, 0], "an empty message is just its length");
    assert_eq!(&encode(&[7; 300])[..4], [0, 0, 1, 44], "300 = 0x012c");
}

#[test]
#[ignore = "an exercise: run `just exercise 4`"]
fn a_message_split_across_reads_comes_out_whole() {
    let bytes = encode(b"hello, stream");
    let mut decoder = Decoder::new();
    for (i, byte) in bytes.iter().enumerate() {
        assert_eq!(
            decoder.next_message(),
            None,
            "after {i} bytes the message is not complete yet: expect None"
        );
        decoder.push(&[*byte]);
    }
    assert_eq!(decoder.next_message().as_deref(), Some(&b"hello, stream"[..]));
    assert_eq!(decoder.next_message(), None, "and nothing after it");
}

#[test]
#[ignore = "an exercise: run `just exercise 4`"]
fn several_messages_in_one_read_come_out_one_by_one() {
    let mut bytes = encode(b"one");
    bytes.extend(encode(b""));
    bytes.extend(encode(b"three"));
    bytes.extend(&encode(b"four")[..3]);
    let mut decoder = Decoder::new();
    decoder.push(&bytes);
    let mut got = Vec::new();
    while let Some(message) = decoder.next_message() {
        got.push(String::from_utf8(message).unwrap());
    }
    assert_eq!(got, ["one", "", "three"], "TCP coalesced three messages and part of a fourth into one read");
    decoder.push(&encode(b"four")[3..]);
    assert_eq!(decoder.next_message().as_deref(), Some(&b"four"[..]), "the rest of the fourth arrived later");
}
