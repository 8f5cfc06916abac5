//! Exercise 8: judging a close frame. Run with `just exercise 8`.

#![allow(clippy::unwrap_used, reason = "in a test, a panic is a failure with a line number")]

use exercises::ex08_close_codes::{Verdict, judge_close};

fn payload(code: u16, reason: &[u8]) -> Vec<u8> {
    let mut bytes = code.to_be_bytes().to_vec();
    bytes.extend_from_slice(reason);
    bytes
}

#[test]
#[ignore = "an exercise: run `just exercise 8`"]
fn a_normal_close_has_its_code_and_reason() {
    assert_eq!(judge_close(&payload(1000, b"done")), Verdict::Close { code: 1000, reason: "done".into() });
    assert_eq!(
        judge_close(&[0x03, 0xe9]),
        Verdict::Close { code: 1001, reason: String::new() },
        "03 e9 = 1001"
    );
}

#[test]
#[ignore = "an exercise: run `just exercise 8`"]
fn an_empty_payload_means_no_status() {
    assert_eq!(
        judge_close(&[]),
        Verdict::NoStatus,
        "no code at all is allowed; the application reports 1005"
    );
}

#[test]
#[ignore = "an exercise: run `just exercise 8`"]
fn a_single_byte_is_a_protocol_error() {
    assert_eq!(judge_close(&[0x03]), Verdict::Fail(1002), "a code is two bytes; one byte cannot be right");
}

#[test]
#[ignore = "an exercise: run `just exercise 8`"]
fn codes_that_only_report_or_are_undefined_are_protocol_errors() {
    for code in [0, 999, 1004, 1005, 1006, 1015, 1016, 2999, 5000, 65_535] {
        assert_eq!(
            judge_close(&payload(code, b"")),
            Verdict::Fail(1002),
            "{code} must never be sent: answer 1002"
        );
    }
    for code in [1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 3000, 4000, 4999] {
        assert_eq!(
            judge_close(&payload(code, b"")),
            Verdict::Close { code, reason: String::new() },
            "{code} may be sent"
        );
    }
}

#[test]
#[ignore = "an exercise: run `just exercise 8`"]
fn codes_registered_after_the_rfc_may_be_received() {
    for (code, name) in [(1012, "service restart"), (1013, "try again later"), (1014, "bad gateway")] {
        assert_eq!(
            judge_close(&payload(code, b"")),
            Verdict::Close { code, reason: String::new() },
            "{code} ({name}) is in IANA's close code registry, so it may be sent; this book's \
             servers send 1013 to a client that stops reading"
        );
    }
}

#[test]
#[ignore = "an exercise: run `just exercise 8`"]
fn a_reason_that_is_not_utf8_is_invalid_data() {
    assert_eq!(
        judge_close(&payload(1000, &[0xff, 0xfe])),
        Verdict::Fail(1007),
        "the reason must be UTF-8: answer 1007"
    );
}
