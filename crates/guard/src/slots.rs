//! Connection slots: at most [`Limits::max_connections`](crate::Limits) connections at once,
//! for async and blocking servers alike.
//!
//! A connection takes a [`Slot`] when it is accepted and gives it back when the slot is dropped,
//! however the connection ends. When none is free, the server answers `503` before reading
//! anything (or, for raw TCP, closes): refusing at once costs less than serving badly.

use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::time::{Duration, Instant};

use wire::handshake::Rejection;

/// How many connections may be open, and how many are. Cheap to clone; clones share the count.
#[derive(Clone, Debug)]
pub struct Slots {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    max: usize,
    open: Mutex<usize>,
    changed: Condvar,
}

/// One open connection's place, given back when dropped.
#[derive(Debug)]
pub struct Slot {
    inner: Arc<Inner>,
}

impl Slots {
    /// Room for `max` connections at once.
    pub fn new(max: usize) -> Slots {
        Slots { inner: Arc::new(Inner { max, open: Mutex::new(0), changed: Condvar::new() }) }
    }

    /// The most connections at once.
    pub fn max(&self) -> usize {
        self.inner.max
    }

    // ANCHOR: take
    /// A slot, or `None` when all are taken.
    pub fn take(&self) -> Option<Slot> {
        let mut open = self.inner.open.lock().unwrap_or_else(PoisonError::into_inner);
        if *open >= self.inner.max {
            return None;
        }
        *open += 1;
        drop(open);
        self.inner.changed.notify_all();
        Some(Slot { inner: self.inner.clone() })
    }
    // ANCHOR_END: take

    /// How many connections are open now.
    pub fn open(&self) -> usize {
        *self.inner.open.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Blocks until exactly `n` connections are open or `limit` has passed (then `false`). For
    /// tests and for a graceful stop: it waits on a condition, never for a guessed time.
    pub fn wait_for_open(&self, n: usize, limit: Duration) -> bool {
        let deadline = Instant::now() + limit;
        let mut open = self.inner.open.lock().unwrap_or_else(PoisonError::into_inner);
        while *open != n {
            let Some(left) = deadline.checked_duration_since(Instant::now()) else { return false };
            open = self.inner.changed.wait_timeout(open, left).unwrap_or_else(PoisonError::into_inner).0;
        }
        true
    }

    /// The `503` a client gets when every slot is taken, with `Retry-After`.
    pub fn busy(&self) -> Rejection {
        let message = format!("the server is at its limit of {} connections; try again soon", self.inner.max);
        Rejection { status: 503, message, headers: vec![("Retry-After", RETRY_AFTER_SECONDS.to_string())] }
    }
}

/// What a `503` tells the client to wait before trying again, in seconds: long enough for some
/// connections to end, short enough that a person does not give up.
pub const RETRY_AFTER_SECONDS: u64 = 5;

impl Drop for Slot {
    fn drop(&mut self) {
        *self.inner.open.lock().unwrap_or_else(PoisonError::into_inner) -= 1;
        self.inner.changed.notify_all();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_run_out_at_the_limit_and_come_back_when_dropped() {
        let slots = Slots::new(2);
        let a = slots.take().unwrap();
        let _b = slots.take().unwrap();
        assert!(slots.take().is_none(), "a third connection over a limit of two gets no slot");
        assert_eq!(slots.busy().status, 503);
        drop(a);
        assert_eq!(slots.open(), 1);
        assert!(slots.take().is_some(), "a slot given back can be taken again");
    }

    #[test]
    fn waiting_for_a_count_returns_when_it_is_reached() {
        let slots = Slots::new(4);
        let slot = slots.take().unwrap();
        let other = slots.clone();
        let waiter = std::thread::spawn(move || other.wait_for_open(0, Duration::from_secs(30)));
        drop(slot);
        assert!(waiter.join().unwrap());
    }
}
