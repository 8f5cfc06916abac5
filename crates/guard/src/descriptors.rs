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
///
/// macOS reports an unlimited hard limit and then refuses it as a soft limit: its `setrlimit(2)`
/// asks for at most `OPEN_MAX` ([`OPEN_MAX_MACOS`]). So when the hard limit is refused, the
/// smaller of it and `OPEN_MAX` is tried ([`soft_limits_to_try`]).
pub fn raise_limit() -> Option<u64> {
    #[cfg(unix)]
    {
        use rustix::process::{Resource, Rlimit, getrlimit, setrlimit};
        let now = getrlimit(Resource::Nofile);
        if now.current != now.maximum {
            for soft in soft_limits_to_try(now.maximum) {
                match setrlimit(Resource::Nofile, Rlimit { current: soft, maximum: now.maximum }) {
                    Ok(()) => break,
                    Err(e) => tracing::debug!("could not raise the descriptor limit to {soft:?}: {e}"),
                }
            }
        }
    }
    limit()
}

/// `OPEN_MAX` on macOS: the most descriptors its `setrlimit` accepts as a soft limit, whatever
/// the hard limit says.
pub const OPEN_MAX_MACOS: u64 = 10_240;

/// The soft limits [`raise_limit`] tries, in order, for a hard limit of `maximum` (`None`:
/// unlimited): the hard limit itself, then, if that is more, `OPEN_MAX` on macOS.
pub fn soft_limits_to_try(maximum: Option<u64>) -> Vec<Option<u64>> {
    let capped = maximum.map_or(OPEN_MAX_MACOS, |max| max.min(OPEN_MAX_MACOS));
    let mut tries = vec![maximum];
    if maximum != Some(capped) {
        tries.push(Some(capped));
    }
    tries
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

    #[test]
    fn a_refused_hard_limit_is_followed_by_macos_open_max() {
        // macOS: hard limit "unlimited", which its setrlimit refuses as a soft limit.
        assert_eq!(soft_limits_to_try(None), [None, Some(10_240)]);
        assert_eq!(soft_limits_to_try(Some(1_048_576)), [Some(1_048_576), Some(10_240)]);
        // Below OPEN_MAX there is nothing smaller worth trying.
        assert_eq!(soft_limits_to_try(Some(4096)), [Some(4096)]);
        assert_eq!(soft_limits_to_try(Some(10_240)), [Some(10_240)]);
    }
}
