//! Exercise 7: unmasking a payload. Run with `just exercise 7`.

#![allow(clippy::unwrap_used, reason = "in a test, a panic is a failure with a line number")]

use exercises::ex07_unmask::unmask;

const KEY: [u8; 4] = [0x37, 0xfa, 0x21, 0x3d];

#[test]
#[ignore = "an exercise: run `just exercise 7`"]
fn the_rfc_example_unmasks_to_hello() {
    let mut payload = [0x7f, 0x9f, 0x4d, 0x51, 0x58];
    unmask(&mut payload, KEY);
    assert_eq!(&payload, b"Hello", "RFC 6455 §5.7: masked \"Hello\" with key 37 fa 21 3d");
}

#[test]
#[ignore = "an exercise: run `just exercise 7`"]
fn the_key_repeats_every_four_bytes() {
    let mut payload = [0u8; 9];
    unmask(&mut payload, KEY);
    assert_eq!(
        payload,
        [0x37, 0xfa, 0x21, 0x3d, 0x37, 0xfa, 0x21, 0x3d, 0x37],
        "XOR with 0 shows the key itself"
    );
}

#[test]
#[ignore = "an exercise: run `just exercise 7`"]
fn masking_twice_gives_the_original_back() {
    let original: Vec<u8> = (0..=255).collect();
    let mut payload = original.clone();
    unmask(&mut payload, KEY);
    assert_ne!(payload, original, "masking changes the bytes");
    unmask(&mut payload, KEY);
    assert_eq!(payload, original, "XOR undoes itself");
}
