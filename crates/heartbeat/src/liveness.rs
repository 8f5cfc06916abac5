//! "Is it alive?": the heartbeat's bookkeeping, with no sockets and no clock (sans-I/O).
//!
//! This is the pattern Node's `ws` documents for finding broken connections, generalised from
//! one missed pong to `max_missed`: at every tick, if the last ping is still unanswered, count a
//! miss; at `max_missed` misses give up; otherwise send the next ping. Any pong resets the count:
//! a pong proves the peer read our bytes and wrote back, whichever ping it answers (RFC 6455
//! §5.5.3 lets a peer answer only the most recent of several pings).

/// What to do at a tick.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Beat {
    /// Send ping number `n` (the payload is the number in ASCII, so a transcript shows it).
    Ping(u64),
    /// `missed` pings in a row went unanswered: drop the connection.
    GiveUp {
        /// How many pings went unanswered.
        missed: u32,
    },
}

/// The counter for one connection.
// ANCHOR: liveness
#[derive(Clone, Debug)]
pub struct Liveness {
    max_missed: u32,
    missed: u32,
    awaiting_pong: bool,
    pings_sent: u64,
}

impl Liveness {
    /// A counter that gives up after `max_missed` unanswered pings (at least 1).
    pub fn new(max_missed: u32) -> Liveness {
        Liveness { max_missed: max_missed.max(1), missed: 0, awaiting_pong: false, pings_sent: 0 }
    }

    /// The interval has passed.
    pub fn tick(&mut self) -> Beat {
        if self.awaiting_pong {
            self.missed += 1;
        }
        if self.missed >= self.max_missed {
            return Beat::GiveUp { missed: self.missed };
        }
        self.pings_sent += 1;
        self.awaiting_pong = true;
        Beat::Ping(self.pings_sent)
    }

    /// A pong arrived: the peer is alive.
    pub fn pong(&mut self) {
        self.awaiting_pong = false;
        self.missed = 0;
    }
}
// ANCHOR_END: liveness

impl Liveness {
    /// Unanswered pings so far.
    pub fn missed(&self) -> u32 {
        self.missed
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_peer_that_answers_is_pinged_forever() {
        let mut live = Liveness::new(2);
        for n in 1..=100 {
            assert_eq!(live.tick(), Beat::Ping(n));
            live.pong();
        }
    }

    #[test]
    fn a_silent_peer_is_given_up_after_max_missed_ticks_past_the_first_unanswered_ping() {
        let mut live = Liveness::new(3);
        assert_eq!(live.tick(), Beat::Ping(1), "the first ping");
        assert_eq!(live.tick(), Beat::Ping(2), "one miss is tolerated");
        assert_eq!(live.tick(), Beat::Ping(3), "two misses are tolerated");
        assert_eq!(live.tick(), Beat::GiveUp { missed: 3 }, "three misses end it: 3 intervals after ping 1");
    }

    #[test]
    fn one_pong_forgives_every_miss_before_it() {
        let mut live = Liveness::new(2);
        live.tick();
        live.tick();
        assert_eq!(live.missed(), 1);
        live.pong();
        assert_eq!(live.missed(), 0);
        assert_eq!(live.tick(), Beat::Ping(3));
        assert_eq!(live.tick(), Beat::Ping(4));
        assert_eq!(live.tick(), Beat::GiveUp { missed: 2 });
    }
}
