//! Whatever bytes a client sends as its request head, the head reader and the handshake's judge
//! answer (a head, or 400 / 408 / 431 / 4xx), never panic, and never keep more than the limit.

#![allow(clippy::unwrap_used, reason = "in a test, a panic is a failure with a line number")]

use guard::head::{HeadError, read_head};
use proptest::prelude::*;
use tokio::io::AsyncWriteExt;

fn chunks() -> impl Strategy<Value = Vec<Vec<u8>>> {
    prop::collection::vec(prop::collection::vec(any::<u8>(), 0..200), 0..12)
}

/// Bytes that start like a request, so the property reaches the header lines.
fn requestish() -> impl Strategy<Value = Vec<u8>> {
    (prop::collection::vec(any::<u8>(), 0..300), prop::bool::ANY).prop_map(|(tail, end)| {
        let mut bytes = b"GET /ws/echo HTTP/1.1\r\nHost: x\r\n".to_vec();
        bytes.extend(tail);
        if end {
            bytes.extend_from_slice(b"\r\n\r\n");
        }
        bytes
    })
}

fn read(bytes: Vec<Vec<u8>>, max: usize) -> Result<(wire::http::Head, Vec<u8>), HeadError> {
    let runtime = tokio::runtime::Builder::new_current_thread().build().unwrap();
    runtime.block_on(async move {
        let (mut client, mut server) = tokio::io::duplex(64 * 1024);
        for chunk in bytes {
            client.write_all(&chunk).await.unwrap();
        }
        drop(client);
        read_head(&mut server, max).await
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn arbitrary_bytes_are_a_head_or_a_clear_refusal(bytes in chunks(), max in 16usize..1024) {
        match read(bytes, max) {
            Ok((head, _)) => prop_assert!(head.len <= max, "a head of {} bytes over a limit of {max}", head.len),
            Err(HeadError::Vanished) => {}
            Err(e) => {
                let status = e.rejection().map(|r| r.status);
                prop_assert!(matches!(status, Some(400 | 431)), "{e} answered {status:?}");
            }
        }
    }

    #[test]
    fn a_parsed_request_is_judged_with_an_answer_never_a_panic(bytes in requestish()) {
        if let Ok((head, _)) = read(vec![bytes], 8 * 1024) {
            match guard::upgrade::judge(&head, "/ws/echo") {
                Ok(accepted) => prop_assert_eq!(accepted.accept.len(), 28),
                Err(rejection) => prop_assert!((400..500).contains(&rejection.status)),
            }
        }
    }

    #[test]
    fn any_header_values_get_an_answer_from_the_upgrade_check(
        values in prop::collection::vec(prop::collection::vec(any::<u8>(), 0..40), 5),
        method in "[A-Z]{1,7}",
        minor in 0u8..3,
    ) {
        let names = ["Host", "Upgrade", "Connection", "Sec-WebSocket-Key", "Sec-WebSocket-Version"];
        let headers = names.iter().zip(&values).map(|(n, v)| (*n, v.as_slice()));
        if let Err(rejection) = wire::handshake::check_upgrade(&method, minor, headers) {
            prop_assert!(matches!(rejection.status, 400 | 405 | 426), "{rejection:?}");
        }
    }

    #[test]
    fn any_close_payload_is_parsed_or_refused_with_1002_or_1007(payload in prop::collection::vec(any::<u8>(), 0..130)) {
        if let Err(e) = wire::close::ClosePayload::parse(&payload) {
            prop_assert!(matches!(e.answer().0, 1002 | 1007), "{e}");
        }
    }
}
