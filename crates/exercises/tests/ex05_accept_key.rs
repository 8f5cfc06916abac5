//! Exercise 5: the accept key. Run with `just exercise 5`.

#![allow(clippy::unwrap_used, reason = "in a test, a panic is a failure with a line number")]

use exercises::ex05_accept_key::accept_key;

#[test]
#[ignore = "an exercise: run `just exercise 5`"]
fn the_rfc_example_gives_the_rfc_answer() {
    assert_eq!(
        accept_key("dGhlIHNhbXBsZSBub25jZQ=="),
        "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=",
        "RFC 6455 §1.3 works this example out: base64(SHA-1(key + GUID))"
    );
}

#[test]
#[ignore = "an exercise: run `just exercise 5`"]
fn any_key_gives_what_a_real_server_computes() {
    for key in ["x3JJHMbDL1EzLkh9GBhXDw==", "AAAAAAAAAAAAAAAAAAAAAA==", "////////////////////w=="] {
        assert_eq!(
            accept_key(key),
            wire::handshake::accept_key(key),
            "the key {key} is hashed as the string it is"
        );
    }
}
