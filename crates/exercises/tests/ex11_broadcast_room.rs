//! Exercise 11: a room where a slow client cannot stall the others. Run with `just exercise 11`.

#![allow(clippy::unwrap_used, reason = "in a test, a panic is a failure with a line number")]

use exercises::ex11_broadcast_room::Room;
use tokio::sync::mpsc::error::TryRecvError;

#[test]
#[ignore = "an exercise: run `just exercise 11`"]
fn every_member_gets_every_message_in_order() {
    let mut room = Room::new();
    let mut members: Vec<_> = (0..3).map(|_| room.join(4)).collect();
    assert_eq!(room.broadcast("hello"), 3, "three members got it");
    assert_eq!(room.broadcast("world"), 3);
    for member in &mut members {
        assert_eq!(member.try_recv().as_deref(), Ok("hello"));
        assert_eq!(member.try_recv().as_deref(), Ok("world"));
    }
}

#[test]
#[ignore = "an exercise: run `just exercise 11`"]
fn a_member_who_stops_reading_is_dropped_and_the_others_carry_on() {
    let mut room = Room::new();
    let mut fast = room.join(4);
    let mut slow = room.join(4);
    for i in 0..10 {
        let reached = room.broadcast(&format!("message {i}"));
        let expected = if i < 4 { 2 } else { 1 };
        assert_eq!(
            reached, expected,
            "message {i}: the slow member's queue holds 4, so the 5th does not fit and it is dropped"
        );
        assert_eq!(fast.try_recv(), Ok(format!("message {i}")), "the fast member gets every message at once");
    }
    assert_eq!(room.len(), 1, "only the fast member is left");
    for i in 0..4 {
        assert_eq!(
            slow.try_recv(),
            Ok(format!("message {i}")),
            "what was queued before the drop is still delivered"
        );
    }
    assert_eq!(
        slow.try_recv(),
        Err(TryRecvError::Disconnected),
        "then the slow member learns it was disconnected"
    );
}

#[test]
#[ignore = "an exercise: run `just exercise 11`"]
fn a_member_who_left_is_removed() {
    let mut room = Room::new();
    let _stays = room.join(4);
    drop(room.join(4));
    assert_eq!(room.broadcast("anyone?"), 1, "the member who dropped its receiver is gone");
    assert_eq!(room.len(), 1);
}
