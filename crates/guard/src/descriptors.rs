//! File descriptors: how many this process may hold, raised as far as it may go at start, and
//! the connection limit that leaves room for the rest.
//!
//! A process has two limits on descriptors (`ulimit -n`): the *soft* one, which is enforced, and
//! the *hard* one, up to which a process may raise its soft limit itself. Shells often start
//! programs at a soft limit of 1,024 and a much higher hard one, for the sake of old programs
//! that `select()` on descriptors below 1,024. A server that never calls `select` can raise its
//! own soft limit to the hard one at start; Go's runtime does it for every Go program. Every
//! Duplex server binary calls [`raise_limit`] first, then derives its default
//! `--max-connections` from what it got ([`default_max_connections`]), so the connection limit
//! answers clients with `503` before the descriptor table runs out (and what happens when it
//! runs out anyway is in [`crate::accept`]).

use crate::limits::MAX_CONNECTIONS;

// ANCHOR: reserve
/// Descriptors kept for things other than connections: the listener, the log, files the book
/// server sends, the Tap's second socket in a demo, a thread's own. With the default limit of
/// 1,024 connections and a soft limit of 1,024 descriptors, the default becomes 960.
pub const RESERVED_DESCRIPTORS: u64 = 64;
// ANCHOR_END: reserve

/// The soft limit on descriptors now, if the system has one.
pub fn limit() -> Option<u64> {
    #[cfg(unix)]
    {
        rustix::process::getrlimit(rustix::process::Resource::Nofile).current
    }
    #[cfg(not(unix))]
    {
        None
    }
}

/// Raises the soft limit on descriptors to the hard limit, and returns the soft limit after
/// (`None`: no limit, or a system without one). A failure leaves the limit as it was.
pub fn raise_limit() -> Option<u64> {
    #[cfg(unix)]
    {
        use rustix::process::{Resource, Rlimit, getrlimit, setrlimit};
        let now = getrlimit(Resource::Nofile);
        if now.current != now.maximum {
            let raised = Rlimit { current: now.maximum, maximum: now.maximum };
            if let Err(e) = setrlimit(Resource::Nofile, raised) {
                tracing::debug!("could not raise the descriptor limit: {e}");
            }
        }
    }
    limit()
}

/// The default connection limit for a process allowed `soft_limit` descriptors: at most
/// [`MAX_CONNECTIONS`], and [`RESERVED_DESCRIPTORS`] fewer than the descriptors (at least 1).
pub fn default_max_connections(soft_limit: Option<u64>) -> usize {
    match soft_limit {
        None => MAX_CONNECTIONS,
        Some(limit) => {
            let room = limit.saturating_sub(RESERVED_DESCRIPTORS).max(1);
            usize::try_from(room).unwrap_or(usize::MAX).min(MAX_CONNECTIONS)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_connection_limit_leaves_room_for_everything_else() {
        assert_eq!(default_max_connections(None), 1024);
        assert_eq!(default_max_connections(Some(1024)), 960);
        assert_eq!(default_max_connections(Some(1_048_576)), 1024);
        assert_eq!(default_max_connections(Some(64)), 1, "never 0: one connection at least");
        assert_eq!(default_max_connections(Some(100)), 36);
    }
}
