//! Whatever bytes arrive, the feed's decoders answer without a panic: the SSE parser the clients
//! use, and the query parser every endpoint uses (which answers 400 with a reason).

#![allow(clippy::unwrap_used, reason = "in a test, a panic is a failure with a line number")]

use http_polling::reply::{number, query};
use http_polling::sse::Parser;
use proptest::prelude::*;

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn the_event_stream_parser_never_panics(chunks in prop::collection::vec(prop::collection::vec(any::<u8>(), 0..200), 0..12)) {
        let mut parser = Parser::new();
        for chunk in &chunks {
            let _ = parser.feed(chunk);
        }
    }

    #[test]
    fn any_request_target_is_a_query_or_a_reason(target in "\\PC{0,80}") {
        match query(&target, &["since", "timeout"]) {
            Ok(values) => {
                let _ = number("since", values[0], 0);
            }
            Err(e) => prop_assert!(!e.0.is_empty(), "a 400 says why"),
        }
    }
}
