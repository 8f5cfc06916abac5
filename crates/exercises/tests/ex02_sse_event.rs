//! Exercise 2: a Server-Sent Event, byte by byte. Run with `just exercise 2`.

#![allow(clippy::unwrap_used, reason = "in a test, a panic is a failure with a line number")]

use exercises::ex02_sse_event::format_event;

#[test]
#[ignore = "an exercise: run `just exercise 2`"]
fn an_event_is_its_lines_and_an_empty_line() {
    assert_eq!(
        format_event(Some(3), None, "hi"),
        "id: 3\ndata: hi\n\n",
        "id first, then data, then the empty line that makes the browser dispatch the event"
    );
}

#[test]
#[ignore = "an exercise: run `just exercise 2`"]
fn without_an_id_there_is_no_id_line() {
    assert_eq!(format_event(None, None, "hi"), "data: hi\n\n");
}

#[test]
#[ignore = "an exercise: run `just exercise 2`"]
fn a_named_event_says_its_name_after_the_id() {
    assert_eq!(format_event(Some(7), Some("price"), "42"), "id: 7\nevent: price\ndata: 42\n\n");
}

#[test]
#[ignore = "an exercise: run `just exercise 2`"]
fn each_line_of_data_gets_its_own_data_field() {
    assert_eq!(
        format_event(Some(1), None, "first\nsecond"),
        "id: 1\ndata: first\ndata: second\n\n",
        "a newline inside a data: line would end the field; the browser joins data lines with \\n again"
    );
}
