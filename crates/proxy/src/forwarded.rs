//! Who the client is, for a server behind a proxy (sans-I/O).
//!
//! Behind nginx, every connection a server accepts comes from nginx: the TCP peer address is the
//! proxy's, whoever the client is. nginx can say who it was talking to in a header,
//! `X-Forwarded-For` (a de facto standard; RFC 7239 defines `Forwarded` for the same purpose).
//! With `proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;` nginx *appends* the address
//! it saw to whatever the request already carried, so the header is a list, oldest first:
//!
//! ```text
//! X-Forwarded-For: 203.0.113.7, 127.0.0.1
//!                  ╰─ the client wrote this itself   ╰─ nginx added this: the address it saw
//! ```
//!
//! Anyone can send any header. So a server believes `X-Forwarded-For` only when the request
//! comes from its own proxy (the TCP peer is one of `proxies`), and then only the *last* entry,
//! the one that proxy added. Any entry before it was written by someone the server does not know.

use std::net::IpAddr;

// ANCHOR: client_address
/// The client's address, for a server whose one proxy layer is `proxies`.
///
/// - A connection from anywhere else is a direct client: its TCP address is the answer, and its
///   `X-Forwarded-For`, if any, is its own claim, ignored.
/// - A connection from a proxy: the last address in `X-Forwarded-For`, the one the proxy added.
///   If the proxy added none (it is not configured to), the proxy's own address is all we know.
pub fn client_address(peer: IpAddr, forwarded_for: Option<&str>, proxies: &[IpAddr]) -> IpAddr {
    if !proxies.contains(&peer) {
        return peer;
    }
    let last = forwarded_for.and_then(|list| list.rsplit(',').next());
    last.and_then(|entry| entry.trim().parse().ok()).unwrap_or(peer)
}
// ANCHOR_END: client_address

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap_or_else(|e| panic!("{text}: {e}"))
    }

    const PROXY: &str = "10.0.0.2";

    #[test]
    fn behind_the_proxy_the_last_entry_is_the_client() {
        let proxies = [ip(PROXY)];
        assert_eq!(client_address(ip(PROXY), Some("198.51.100.4"), &proxies), ip("198.51.100.4"));
        assert_eq!(
            client_address(ip(PROXY), Some("203.0.113.7, 198.51.100.4"), &proxies),
            ip("198.51.100.4"),
            "the first entry was written by the client itself: only the proxy's entry counts"
        );
    }

    #[test]
    fn a_direct_client_is_its_tcp_address_whatever_it_claims() {
        let proxies = [ip(PROXY)];
        assert_eq!(client_address(ip("198.51.100.9"), Some("203.0.113.7"), &proxies), ip("198.51.100.9"));
    }

    #[test]
    fn a_proxy_that_adds_nothing_leaves_only_its_own_address() {
        let proxies = [ip(PROXY)];
        assert_eq!(client_address(ip(PROXY), None, &proxies), ip(PROXY));
        assert_eq!(client_address(ip(PROXY), Some("not an address"), &proxies), ip(PROXY));
    }
}
