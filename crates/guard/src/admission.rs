//! Who may open a WebSocket: the credential check and the `Origin` check, in one place.
//!
//! An upgrade request never passes through the HTTP middleware (see the one-port chapter), so
//! whatever the middleware guarantees for pages, the upgrade path must check again itself,
//! before it answers `101`. [`Admission`] is that check, written once so that every server a
//! browser can reach uses the same rules:
//!
//! 1. **`Origin`** (RFC 6455 §10.2, RFC 6454): a browser always says which page opened the
//!    WebSocket. A page from another origin is refused with `403 Forbidden` whatever credentials
//!    came with it: this is the defence against Cross-Site WebSocket Hijacking, where a page on
//!    another site opens a WebSocket to yours and the browser adds *your* cookie to the request.
//!    A request without `Origin` comes from a program, not a browser page; a program cannot
//!    borrow a visitor's cookie, so it is let through to the credential check.
//! 2. **Credentials**: a session cookie (what a browser sends by itself: the WebSocket API cannot
//!    set headers) or `Authorization: Bearer` (what programs send). None, or an unknown one,
//!    is refused with `401 Unauthorized` and a `WWW-Authenticate` challenge (RFC 9110 §11.6.1).
//!
//! The `Origin` check alone is [`Origins`]: every WebSocket server a browser can reach applies
//! it before its `101`, through `Limits::origins` (see `crate::upgrade::judge_origin`). Only
//! a server with sign-in (one-port) has credentials to check, so only it uses a whole
//! [`Admission`]; the echoes, the by-hand server and the heartbeat have no accounts, and a
//! hijacked connection to them borrows nothing but the visitor's network position.
//!
//! A page's WebSocket cannot send `Authorization` (the browser API sets no headers,
//! whatwg/html#3062), so besides the cookie a server may accept a one-time [`Tickets`] ticket in
//! the URL, fetched over HTTP with the session first, or a token in the first message (the
//! one-port server does both; see the book's page "Authentication").
//!
//! The checks read a `wire::http::Head` and return a `wire::handshake::Rejection`, so they know
//! nothing of tiny_http, tokio or sockets: any server in the workspace can call them.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, SystemTime};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};
use wire::handshake::Rejection;
use wire::http::Head;

/// The cookie that carries a session token.
pub const SESSION_COOKIE: &str = "session";

/// How many random bytes make a session token. 16 bytes (128 bits) cannot be guessed; OWASP
/// asks for at least 64 bits of entropy in a session identifier.
pub const TOKEN_BYTES: usize = 16;

/// The realm named in `WWW-Authenticate` challenges.
pub const REALM: &str = "one-port";

/// Signed-in sessions: token → user name. Cloning shares the same table.
#[derive(Clone, Debug, Default)]
pub struct Sessions(Arc<Mutex<HashMap<String, String>>>);

impl Sessions {
    /// An empty table.
    pub fn new() -> Sessions {
        Sessions::default()
    }

    /// Signs `user` in with a fresh random token, and returns the token.
    pub fn create(&self, user: &str) -> String {
        let mut bytes = [0u8; TOKEN_BYTES];
        // The operating system's generator does not fail on any platform Rust supports for
        // servers; if it ever did, a server without random tokens must not hand out sessions.
        getrandom::fill(&mut bytes).unwrap_or_else(|e| panic!("no randomness for a session token: {e}"));
        let token = URL_SAFE_NO_PAD.encode(bytes);
        self.insert(&token, user);
        token
    }

    /// Signs `user` in with a token chosen by the caller: tests and demos use fixed tokens so
    /// that their transcripts are the same on every run.
    pub fn insert(&self, token: &str, user: &str) {
        self.0.lock().unwrap_or_else(PoisonError::into_inner).insert(token.to_owned(), user.to_owned());
    }

    /// The user a token belongs to.
    pub fn user(&self, token: &str) -> Option<String> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner).get(token).cloned()
    }

    /// Signs a token out.
    pub fn remove(&self, token: &str) {
        self.0.lock().unwrap_or_else(PoisonError::into_inner).remove(token);
    }
}

// ANCHOR: tickets
/// How many random bytes make a ticket: 32 (256 bits), 43 characters of base64url.
pub const TICKET_BYTES: usize = 32;

/// How long a ticket stays valid: long enough for a page to open its WebSocket right after
/// fetching the ticket, short enough that a ticket read later from a log is worth nothing.
pub const TICKET_TTL: Duration = Duration::from_secs(10);

/// One-time tickets for a page's WebSocket: issued over HTTP to a signed-in user, presented once
/// in the WebSocket's URL (`/ws/ticket?ticket=…`), then gone.
///
/// A ticket in a URL is written wherever URLs are written: access logs of the server and of every
/// proxy on the way, error reports, the browser's developer tools. So a ticket is random, used
/// once, and short-lived, and the store keeps only its SHA-256 hash: a dump of the store, or a
/// debug print of it, holds nothing that opens a WebSocket. Cloning shares the same store.
#[derive(Clone)]
pub struct Tickets {
    by_hash: Arc<Mutex<HashMap<TicketHash, (String, SystemTime)>>>,
    ttl: Duration,
}

/// A ticket's SHA-256: the key the store keeps it under.
type TicketHash = [u8; 32];

impl Tickets {
    /// A store whose tickets expire `ttl` after they are issued.
    pub fn new(ttl: Duration) -> Tickets {
        Tickets { by_hash: Arc::default(), ttl }
    }

    /// How long a ticket stays valid.
    pub fn ttl(&self) -> Duration {
        self.ttl
    }

    /// A fresh ticket for `user`, valid from `now` for the store's time to live. Expired tickets
    /// are forgotten on the way, so the store holds only live ones.
    pub fn issue(&self, user: &str, now: SystemTime) -> String {
        let mut bytes = [0u8; TICKET_BYTES];
        // As for session tokens: without randomness, no tickets.
        getrandom::fill(&mut bytes).unwrap_or_else(|e| panic!("no randomness for a ticket: {e}"));
        let ticket = URL_SAFE_NO_PAD.encode(bytes);
        let mut by_hash = self.by_hash.lock().unwrap_or_else(PoisonError::into_inner);
        by_hash.retain(|_, (_, expires)| *expires > now);
        by_hash.insert(hash(&ticket), (user.to_owned(), now + self.ttl));
        ticket
    }

    /// The user a ticket was issued to, once: the ticket is taken out whatever happens, and an
    /// unknown, used or expired one gives `None`.
    pub fn redeem(&self, ticket: &str, now: SystemTime) -> Option<String> {
        let entry = self.by_hash.lock().unwrap_or_else(PoisonError::into_inner).remove(&hash(ticket));
        entry.filter(|(_, expires)| *expires > now).map(|(user, _)| user)
    }
}

/// A ticket's SHA-256: what the store keeps instead of the ticket.
fn hash(ticket: &str) -> TicketHash {
    Sha256::digest(ticket.as_bytes()).into()
}
// ANCHOR_END: tickets

/// Shows how many tickets are held, never the hashes, let alone the tickets.
impl std::fmt::Debug for Tickets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let held = self.by_hash.lock().unwrap_or_else(PoisonError::into_inner).len();
        f.debug_struct("Tickets").field("held", &held).field("ttl", &self.ttl).finish()
    }
}

impl Default for Tickets {
    fn default() -> Self {
        Tickets::new(TICKET_TTL)
    }
}

/// How a request proved who it is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Credential {
    /// The `session` cookie.
    Cookie,
    /// `Authorization: Bearer …`.
    Bearer,
}

/// A request that passed the checks.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Visitor {
    /// The signed-in user.
    pub user: String,
    /// How the request proved it.
    pub credential: Credential,
    /// The page that opened the connection, for a browser.
    pub origin: Option<String>,
}

/// The token a request carries: `Authorization: Bearer` first, then the session cookie.
pub fn token_of(head: &Head) -> Option<(String, Credential)> {
    if let Some(value) = head.header("Authorization") {
        let mut parts = value.trim().splitn(2, ' ');
        // RFC 9110 §11.1: the scheme name is case-insensitive.
        if parts.next().is_some_and(|scheme| scheme.eq_ignore_ascii_case("Bearer")) {
            let token = parts.next().unwrap_or_default().trim();
            if !token.is_empty() {
                return Some((token.to_owned(), Credential::Bearer));
            }
        }
    }
    cookie(head, SESSION_COOKIE).map(|token| (token, Credential::Cookie))
}

/// The value of cookie `name` (RFC 6265 §5.4: `Cookie: a=1; b=2`, possibly in several fields).
pub fn cookie(head: &Head, name: &str) -> Option<String> {
    head.headers
        .iter()
        .filter(|(n, _)| n.eq_ignore_ascii_case("Cookie"))
        .flat_map(|(_, v)| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(n, _)| *n == name)
        .map(|(_, v)| v.trim().to_owned())
}

/// Which pages may open a WebSocket: the `Origin` check on its own (RFC 6455 §10.2).
///
/// A request without `Origin` is not from a browser page and passes. A page passes if its origin
/// is on the allow-list, or, with [`Origins::same_host`], if it is this very server's. Any other
/// page is refused with `403 Forbidden` and a one-line reason, before any `101` (§4.2.2).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Origins {
    allowed: Vec<String>,
    same_host: bool,
}

/// The servers' default: programs, and pages of the server itself ([`Origins::same_host`]).
impl Default for Origins {
    fn default() -> Self {
        Origins::same_host()
    }
}

impl Origins {
    /// No page at all, only programs (requests without `Origin`), until [`Origins::allow`].
    pub fn none() -> Origins {
        Origins { allowed: Vec::new(), same_host: false }
    }

    /// Pages whose origin is this very server, as the request's `Host` names it: `Origin: http://H`
    /// with `Host: H`. A server that serves its own pages (the book server, reached as
    /// `127.0.0.1:3000` or as a classroom address) allows itself this way without knowing every
    /// name it is reached by. Only the host and port are compared, so a page of the same host on
    /// another port is still another origin (RFC 6454 §4).
    pub fn same_host() -> Origins {
        Origins { allowed: Vec::new(), same_host: true }
    }

    /// Also allows pages from `origin` (`scheme://host:port`, as browsers send it).
    pub fn allow(mut self, origin: &str) -> Origins {
        self.allowed.push(origin.trim_end_matches('/').to_owned());
        self
    }

    /// Also allows the origins a browser shows for a server on loopback port `port`: `127.0.0.1`,
    /// `localhost` and `[::1]`, with `scheme` (`http` or `https`).
    pub fn allow_loopback(mut self, scheme: &str, port: u16) -> Origins {
        for host in ["127.0.0.1", "localhost", "[::1]"] {
            self.allowed.push(format!("{scheme}://{host}:{port}"));
        }
        self
    }

    /// The origins on the allow-list (the server's own, with [`Origins::same_host`], come on top).
    pub fn allowed(&self) -> &[String] {
        &self.allowed
    }

    /// `403` unless `Origin` is absent (not a browser page), this server's own (with
    /// [`Origins::same_host`]) or on the allow-list. `"null"`, which browsers send for sandboxed
    /// frames and `file://` pages, is on no list.
    pub fn check(&self, head: &Head) -> Result<Option<String>, Rejection> {
        let Some(origin) = head.header("Origin").map(str::trim) else {
            return Ok(None);
        };
        // RFC 6454 §6.2: scheme and host are ASCII and case-insensitive.
        if self.allowed.iter().any(|allowed| allowed.eq_ignore_ascii_case(origin)) {
            return Ok(Some(origin.to_owned()));
        }
        let authority = origin.split_once("://").map(|(_, rest)| rest);
        let host = head.header("Host").map(str::trim);
        if self.same_host && authority.is_some_and(|a| host.is_some_and(|h| a.eq_ignore_ascii_case(h))) {
            return Ok(Some(origin.to_owned()));
        }
        Err(Rejection {
            status: 403,
            message: format!(
                "a page from {origin} may not open a WebSocket here: its origin is not on this \
                 server's allow-list (Cross-Site WebSocket Hijacking, RFC 6455 §10.2)"
            ),
            headers: Vec::new(),
        })
    }
}

/// The credential and `Origin` checks. See the module docs.
#[derive(Clone, Debug)]
pub struct Admission {
    sessions: Sessions,
    origins: Origins,
    tickets: Tickets,
}

impl Admission {
    /// Checks credentials against `sessions`; no origin is allowed until [`Admission::allow_origin`].
    pub fn new(sessions: Sessions) -> Admission {
        Admission { sessions, origins: Origins::none(), tickets: Tickets::default() }
    }

    /// Allows pages from `origin` (`scheme://host:port`, as browsers send it) to connect.
    pub fn allow_origin(mut self, origin: &str) -> Admission {
        self.origins = self.origins.allow(origin);
        self
    }

    /// Allows the origins a browser shows for a server on loopback port `port`: `127.0.0.1`,
    /// `localhost` and `[::1]`, with `scheme` (`http` or `https`).
    pub fn allow_loopback(mut self, scheme: &str, port: u16) -> Admission {
        self.origins = self.origins.allow_loopback(scheme, port);
        self
    }

    /// Also allows a page whose origin is this very server, as the request's `Host` names it
    /// (see [`Origins::same_host`]).
    pub fn allow_same_host(mut self) -> Admission {
        self.origins.same_host = true;
        self
    }

    /// The origins allowed so far.
    pub fn origins(&self) -> &[String] {
        self.origins.allowed()
    }

    /// The sessions credentials are checked against.
    pub fn sessions(&self) -> &Sessions {
        &self.sessions
    }

    /// The one-time tickets issued to signed-in users, for a WebSocket URL.
    pub fn tickets(&self) -> &Tickets {
        &self.tickets
    }

    /// Issues tickets from `tickets` (with its own time to live) instead of the default store.
    pub fn with_tickets(mut self, tickets: Tickets) -> Admission {
        self.tickets = tickets;
        self
    }

    /// Both checks, `Origin` first: a page from another origin learns nothing about whether the
    /// credentials the browser attached were any good.
    // ANCHOR: admit
    pub fn admit(&self, head: &Head) -> Result<Visitor, Rejection> {
        let origin = self.check_origin(head)?;
        let (user, credential) = self.authenticate(head)?;
        Ok(Visitor { user, credential, origin })
    }
    // ANCHOR_END: admit

    /// `403` unless `Origin` is absent (not a browser page) or allowed: [`Origins::check`].
    pub fn check_origin(&self, head: &Head) -> Result<Option<String>, Rejection> {
        self.origins.check(head)
    }

    /// The signed-in user, or `401` with a challenge.
    pub fn authenticate(&self, head: &Head) -> Result<(String, Credential), Rejection> {
        let unauthorized = |message: String| Rejection {
            status: 401,
            message,
            headers: vec![("WWW-Authenticate", format!("Bearer realm=\"{REALM}\""))],
        };
        let Some((token, credential)) = token_of(head) else {
            return Err(unauthorized(format!(
                "sign in first: send the `{SESSION_COOKIE}` cookie (a browser does, after POST /login) \
                 or `Authorization: Bearer <token>`"
            )));
        };
        match self.sessions.user(&token) {
            Some(user) => Ok((user, credential)),
            None => Err(unauthorized("that session token is unknown or signed out: sign in again".into())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn head(headers: &[(&str, &str)]) -> Head {
        let mut text = String::from("GET /ws/echo HTTP/1.1\r\nHost: 127.0.0.1:3001\r\n");
        for (name, value) in headers {
            text.push_str(&format!("{name}: {value}\r\n"));
        }
        text.push_str("\r\n");
        Head::parse_request(text.as_bytes()).unwrap().unwrap()
    }

    fn admission() -> Admission {
        let sessions = Sessions::new();
        sessions.insert("t0ken", "ada");
        Admission::new(sessions).allow_loopback("http", 3001)
    }

    #[test]
    fn a_page_from_an_allowed_origin_with_a_session_cookie_is_admitted() {
        let visitor = admission()
            .admit(&head(&[("Origin", "http://127.0.0.1:3001"), ("Cookie", "theme=dark; session=t0ken")]))
            .unwrap();
        assert_eq!(visitor.user, "ada");
        assert_eq!(visitor.credential, Credential::Cookie);
    }

    #[test]
    fn another_origin_gets_403_even_with_a_valid_cookie() {
        let err = admission()
            .admit(&head(&[("Origin", "http://127.0.0.1:4000"), ("Cookie", "session=t0ken")]))
            .unwrap_err();
        assert_eq!(err.status, 403, "the cookie rode along, but the page is not ours: {err:?}");
        let null = admission().admit(&head(&[("Origin", "null"), ("Cookie", "session=t0ken")]));
        assert_eq!(null.unwrap_err().status, 403, "a sandboxed or file:// page sends Origin: null");
    }

    #[test]
    fn no_credentials_or_an_unknown_token_get_401_with_a_challenge() {
        for headers in [&[][..], &[("Authorization", "Bearer nope")][..], &[("Cookie", "session=")][..]] {
            let err = admission().admit(&head(headers)).unwrap_err();
            assert_eq!(err.status, 401, "{headers:?}");
            assert_eq!(err.headers, vec![("WWW-Authenticate", "Bearer realm=\"one-port\"".to_owned())]);
        }
    }

    #[test]
    fn a_server_allows_pages_from_itself_by_host_and_no_other_port() {
        let admission = Admission::new(Sessions::new()).allow_same_host();
        let own = head(&[("Origin", "http://127.0.0.1:3001")]);
        assert!(admission.check_origin(&own).is_ok(), "the Host is 127.0.0.1:3001");
        let other = head(&[("Origin", "http://127.0.0.1:4000")]);
        assert_eq!(admission.check_origin(&other).unwrap_err().status, 403, "another port is another origin");
        let evil = head(&[("Origin", "http://evil.example")]);
        assert_eq!(admission.check_origin(&evil).unwrap_err().status, 403);
    }

    #[test]
    fn by_default_programs_and_the_servers_own_pages_are_let_in_and_other_pages_get_403() {
        let origins = Origins::default();
        assert_eq!(origins.check(&head(&[])), Ok(None), "no Origin: a program, not a page");
        let own = head(&[("Origin", "http://127.0.0.1:3001")]);
        assert!(origins.check(&own).is_ok(), "Origin names the Host, 127.0.0.1:3001");
        for other in
            ["http://evil.example", "http://127.0.0.1:3000", "https://127.0.0.1:3001.evil.example", "null"]
        {
            let refused = origins.check(&head(&[("Origin", other)])).unwrap_err();
            assert_eq!(refused.status, 403, "{other}");
            assert!(refused.message.contains(other), "the reason names the origin: {}", refused.message);
        }
        let allowed = Origins::default().allow("http://evil.example/");
        assert!(allowed.check(&head(&[("Origin", "http://evil.example")])).is_ok(), "on the allow-list");
        let none = Origins::none();
        assert_eq!(none.check(&own).unwrap_err().status, 403, "Origins::none lets no page in");
    }

    #[test]
    fn a_program_without_origin_is_admitted_by_its_bearer_token() {
        let visitor = admission().admit(&head(&[("Authorization", "bearer t0ken")])).unwrap();
        assert_eq!(
            (visitor.user.as_str(), visitor.credential, visitor.origin),
            ("ada", Credential::Bearer, None)
        );
    }

    #[test]
    fn a_ticket_opens_once_and_not_after_it_expires() {
        let tickets = Tickets::new(Duration::from_secs(10));
        let start = SystemTime::UNIX_EPOCH + Duration::from_secs(1_767_225_600);
        let ticket = tickets.issue("ada", start);
        assert_eq!(ticket.len(), 43, "32 bytes in unpadded base64url");
        assert_eq!(tickets.redeem(&ticket, start + Duration::from_secs(9)).as_deref(), Some("ada"));
        assert_eq!(tickets.redeem(&ticket, start + Duration::from_secs(9)), None, "used once, gone");
        let late = tickets.issue("ada", start);
        assert_eq!(tickets.redeem(&late, start + Duration::from_secs(10)), None, "expired at its TTL");
        assert_eq!(tickets.redeem("made-up", start), None);
    }

    #[test]
    fn the_store_keeps_hashes_and_shows_no_ticket() {
        let tickets = Tickets::default();
        let now = SystemTime::UNIX_EPOCH;
        let ticket = tickets.issue("ada", now);
        let shown = format!("{tickets:?}");
        assert!(!shown.contains(&ticket), "{shown}");
        let held = tickets.by_hash.lock().unwrap();
        assert!(held.contains_key(&hash(&ticket)), "kept by its hash");
        assert!(held.keys().all(|key| key.as_slice() != ticket.as_bytes()), "never as itself");
    }

    #[test]
    fn expired_tickets_are_forgotten_when_the_next_is_issued() {
        let tickets = Tickets::new(Duration::from_secs(1));
        let now = SystemTime::UNIX_EPOCH;
        let _ = tickets.issue("ada", now);
        let _ = tickets.issue("ada", now + Duration::from_secs(5));
        assert_eq!(tickets.by_hash.lock().unwrap().len(), 1, "the first had expired");
    }

    #[test]
    fn created_tokens_are_random_and_resolve_to_their_user() {
        let sessions = Sessions::new();
        let a = sessions.create("ada");
        let b = sessions.create("ada");
        assert_ne!(a, b);
        assert_eq!(a.len(), 22, "16 bytes in unpadded base64url");
        assert_eq!(sessions.user(&a).as_deref(), Some("ada"));
        sessions.remove(&a);
        assert_eq!(sessions.user(&a), None);
    }
}
