//! The opening handshake, computed by hand (RFC 6455 §1.3, §4.1, §4.2).
//!
//! A WebSocket starts life as an ordinary HTTP/1.1 `GET` that asks to switch protocols. The server
//! proves it understood the request by hashing the client's `Sec-WebSocket-Key` with a fixed GUID
//! and sending the result back as `Sec-WebSocket-Accept`. Nothing here touches a socket: the
//! functions take header values and return strings and bytes, so the book, the tests and every
//! server in the workspace share one implementation of the rules.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use sha1::{Digest, Sha1};

/// RFC 6455 §1.3: the GUID every server appends to the client's key before hashing.
///
/// It is a constant of the protocol, chosen so that no server that does not speak WebSocket
/// could produce the right answer by accident.
pub const GUID: &str = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

/// The only protocol version in use (RFC 6455 §4.1, §11.6).
pub const VERSION: &str = "13";

/// RFC 6455 §1.3: `Sec-WebSocket-Accept = base64(SHA-1(key + GUID))`.
///
/// The key is used exactly as the client sent it (leading and trailing spaces trimmed): the server
/// does not decode it first.
///
/// ```
/// assert_eq!(
///     wire::handshake::accept_key("dGhlIHNhbXBsZSBub25jZQ=="),
///     "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=",
/// );
/// ```
// ANCHOR: accept_key
pub fn accept_key(key: &str) -> String {
    let mut sha1 = Sha1::new();
    sha1.update(key.trim().as_bytes());
    sha1.update(GUID.as_bytes());
    BASE64.encode(sha1.finalize())
}
// ANCHOR_END: accept_key

/// RFC 6455 §4.1: the key is a random 16-byte value, base64-encoded (24 characters).
pub fn is_valid_key(key: &str) -> bool {
    matches!(BASE64.decode(key.trim()), Ok(bytes) if bytes.len() == 16)
}

/// What the server learned from an acceptable upgrade request.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Accepted {
    /// The client's `Sec-WebSocket-Key`, as sent.
    pub key: String,
    /// The `Sec-WebSocket-Accept` value the server must answer with.
    pub accept: String,
    /// The `Origin` header, if the client (a browser) sent one (RFC 6455 §10.2).
    pub origin: Option<String>,
    /// The subprotocols the client offered in `Sec-WebSocket-Protocol`, in its order of
    /// preference (RFC 6455 §4.1); empty if it offered none. See [`offered_protocols`].
    pub offered: Vec<String>,
    /// The subprotocol the server agreed to, one of [`Accepted::offered`]: the `101` names it in
    /// `Sec-WebSocket-Protocol` (§4.2.2). `None` until a server picks one with
    /// [`Accepted::with_protocol`] (or if it picks none), and then the `101` has no such header.
    pub protocol: Option<String>,
}

impl Accepted {
    /// The `101 Switching Protocols` response head (RFC 6455 §4.2.2), ready for the wire.
    pub fn response(&self) -> String {
        self.response_with_extensions(None)
    }

    /// The `101` response head with the extensions the server accepted, if any: a
    /// `Sec-WebSocket-Extensions` header naming them (RFC 6455 §9.1; for permessage-deflate,
    /// `wire::deflate::Negotiation::response_header`). Without it, no extension is in use. The
    /// agreed subprotocol, if any, is named too (`Sec-WebSocket-Protocol`, RFC 6455 §4.2.2).
    pub fn response_with_extensions(&self, extensions: Option<&str>) -> String {
        let protocol = match &self.protocol {
            Some(protocol) => format!("Sec-WebSocket-Protocol: {protocol}\r\n"),
            None => String::new(),
        };
        let extensions = match extensions {
            Some(value) => format!("Sec-WebSocket-Extensions: {value}\r\n"),
            None => String::new(),
        };
        format!(
            "HTTP/1.1 101 Switching Protocols\r\n\
             Upgrade: websocket\r\n\
             Connection: Upgrade\r\n\
             Sec-WebSocket-Accept: {}\r\n\
             {protocol}{extensions}\r\n",
            self.accept
        )
    }

    /// The same acceptance, answering with `protocol` (which the caller took from
    /// [`Accepted::offered`]; see [`choose_protocol`]).
    pub fn with_protocol(mut self, protocol: Option<&str>) -> Accepted {
        self.protocol = protocol.map(str::to_owned);
        self
    }
}

// ANCHOR: offered_protocols
/// The subprotocols a client offers, in its order of preference: every `Sec-WebSocket-Protocol`
/// field's comma-separated values (RFC 6455 §4.1; §11.3.4: several fields in a request mean the
/// same as one field with all their values), trimmed, empty ones left out.
pub fn offered_protocols<'a>(values: impl IntoIterator<Item = &'a str>) -> Vec<String> {
    values
        .into_iter()
        .flat_map(|value| value.split(','))
        .map(str::trim)
        .filter(|protocol| !protocol.is_empty())
        .map(str::to_owned)
        .collect()
}

/// The server's pick (RFC 6455 §4.2.2 /subprotocol/): the first protocol of the client's list
/// that the server speaks. The RFC lets the server choose any of the client's; taking the
/// client's order honours the preference the client stated (§4.1: "ordered by preference"), as
/// Node's `ws` does by default. `None` when the two have none in common. Names are compared
/// exactly: `chat.v1` is not `Chat.V1`.
pub fn choose_protocol<'a>(offered: &'a [String], spoken: &[String]) -> Option<&'a str> {
    offered.iter().find(|protocol| spoken.contains(protocol)).map(String::as_str)
}
// ANCHOR_END: offered_protocols

// ANCHOR: check_answer
/// The client's check of the server's answer (RFC 6455 §4.1, the client's item 6, and the
/// WebSockets Standard): a `101` may name only a protocol the client offered, and, when the
/// client offered any, it must name one. Browsers and tungstenite fail the connection otherwise
/// (the RFC itself allows an answer without one; the WebSockets Standard does not).
pub fn check_answered_protocol(offered: &[String], answered: Option<&str>) -> Result<(), String> {
    match answered {
        Some(protocol) if !offered.iter().any(|p| p == protocol) => Err(format!(
            "the server answered with subprotocol {protocol:?}, which the client did not offer \
             (RFC 6455 §4.1): the client must fail the connection"
        )),
        None if !offered.is_empty() => Err(format!(
            "the client offered {} and the server answered with none: browsers fail the \
             connection (WebSockets Standard)",
            offered.join(", ")
        )),
        _ => Ok(()),
    }
}
// ANCHOR_END: check_answer

/// Why an upgrade request was refused, as the HTTP error the server must send (RFC 6455 §4.2.2:
/// an invalid handshake gets an HTTP error response, not a silent close).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rejection {
    /// The HTTP status code: 400, 405 or 426.
    pub status: u16,
    /// One line for the person at the other end: what was wrong and what to send instead.
    pub message: String,
    /// Extra response headers, such as `Upgrade: websocket` on a 426.
    pub headers: Vec<(&'static str, String)>,
}

impl Rejection {
    fn new(status: u16, message: impl Into<String>) -> Self {
        Rejection { status, message: message.into(), headers: Vec::new() }
    }

    fn with_header(mut self, name: &'static str, value: &str) -> Self {
        self.headers.push((name, value.to_owned()));
        self
    }

    /// The reason phrase that goes with [`Rejection::status`].
    pub fn reason(&self) -> &'static str {
        status_reason(self.status)
    }

    /// The whole HTTP response, ready for the wire, for a server that closes the connection
    /// after it (as the echo servers do: a client whose handshake failed has nothing more to
    /// say on it).
    pub fn response(&self) -> Vec<u8> {
        self.response_then(true)
    }

    /// The whole HTTP response; `close` says whether the server will close the connection after
    /// it. A server that keeps it open (HTTP/1.1's default, RFC 9112 §9.3) must not say `close`,
    /// and one that says it must close (§9.6).
    pub fn response_then(&self, close: bool) -> Vec<u8> {
        let body = format!("{}\n", self.message);
        let mut head = format!("HTTP/1.1 {} {}\r\n", self.status, self.reason());
        for (name, value) in &self.headers {
            head.push_str(&format!("{name}: {value}\r\n"));
        }
        head.push_str("Content-Type: text/plain; charset=utf-8\r\n");
        head.push_str(&format!("Content-Length: {}\r\n", body.len()));
        // RFC 9110 §7.8: whoever sends `Upgrade` must also list `upgrade` in `Connection`, so
        // that a proxy does not pass the offer on as if it were meant for the next hop.
        let offers_upgrade = self.headers.iter().any(|(name, _)| name.eq_ignore_ascii_case("Upgrade"));
        match (offers_upgrade, close) {
            (true, true) => head.push_str("Connection: Upgrade, close\r\n"),
            (true, false) => head.push_str("Connection: Upgrade\r\n"),
            (false, true) => head.push_str("Connection: close\r\n"),
            (false, false) => {}
        }
        head.push_str("\r\n");
        let mut bytes = head.into_bytes();
        bytes.extend_from_slice(body.as_bytes());
        bytes
    }
}

/// The reason phrase for the status codes Duplex's servers send.
pub fn status_reason(status: u16) -> &'static str {
    match status {
        101 => "Switching Protocols",
        200 => "OK",
        204 => "No Content",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        408 => "Request Timeout",
        413 => "Content Too Large",
        426 => "Upgrade Required",
        429 => "Too Many Requests",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        503 => "Service Unavailable",
        _ => "Unknown",
    }
}

/// Checks an HTTP request against RFC 6455 §4.2.1, the server's side of the handshake.
///
/// `headers` are the request's header fields in order; names match case-insensitively and
/// `Connection` / `Upgrade` are token lists (Firefox sends `Connection: keep-alive, Upgrade`), so
/// the check looks for the token, not the whole string.
///
/// The answers, in the order the checks run:
/// - not `GET` → 405; older than HTTP/1.1 → 400 (§4.1: "HTTP/1.1 or higher GET");
/// - no `Upgrade: websocket` → 426 with `Upgrade: websocket` (the plain GET a browser tab sends);
/// - no `Connection: Upgrade` token, no `Host`, a missing or malformed key → 400;
/// - `Sec-WebSocket-Version` other than 13 → 426 with `Sec-WebSocket-Version: 13` (§4.2.2).
pub fn check_upgrade<'a, I>(method: &str, http_minor: u8, headers: I) -> Result<Accepted, Rejection>
where
    I: IntoIterator<Item = (&'a str, &'a [u8])>,
{
    let headers: Vec<(&str, String)> = headers
        .into_iter()
        .map(|(name, value)| (name, String::from_utf8_lossy(value).into_owned()))
        .collect();
    let get = |name: &str| -> Option<&str> {
        headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.trim())
    };
    let has_token = |name: &str, token: &str| -> bool {
        headers
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case(name))
            .flat_map(|(_, v)| v.split(','))
            .any(|t| t.trim().eq_ignore_ascii_case(token))
    };

    if method != "GET" {
        return Err(Rejection::new(
            405,
            format!("a WebSocket handshake is a GET request, not {method} (RFC 6455 §4.1)"),
        )
        .with_header("Allow", "GET"));
    }
    if http_minor < 1 {
        return Err(Rejection::new(400, "a WebSocket handshake needs HTTP/1.1 (RFC 6455 §4.1)"));
    }
    if !has_token("Upgrade", "websocket") {
        return Err(Rejection::new(
            426,
            "this is a WebSocket endpoint: send `Upgrade: websocket` and `Connection: Upgrade` \
             (RFC 6455 §4.1), for example with `new WebSocket(url)` in a browser",
        )
        .with_header("Upgrade", "websocket")
        .with_header("Sec-WebSocket-Version", VERSION));
    }
    if !has_token("Connection", "Upgrade") {
        return Err(Rejection::new(
            400,
            "`Connection` must contain the token `Upgrade` (RFC 6455 §4.2.1 item 4)",
        ));
    }
    if get("Host").is_none() {
        return Err(Rejection::new(400, "the request has no `Host` header (RFC 6455 §4.2.1 item 2)"));
    }
    let key = match get("Sec-WebSocket-Key") {
        None => {
            return Err(Rejection::new(
                400,
                "the request has no `Sec-WebSocket-Key` (RFC 6455 §4.2.1 item 5)",
            ));
        }
        Some(key) if !is_valid_key(key) => {
            return Err(Rejection::new(
                400,
                format!(
                    "`Sec-WebSocket-Key: {key}` is not 16 random bytes in base64 \
                     (RFC 6455 §4.2.1 item 5)"
                ),
            ));
        }
        Some(key) => key.to_owned(),
    };
    match get("Sec-WebSocket-Version") {
        Some(VERSION) => {}
        other => {
            let got = other.map_or("no version".to_owned(), |v| format!("version {v}"));
            return Err(Rejection::new(
                426,
                format!(
                    "this server speaks WebSocket version 13, the request asked for {got} (RFC 6455 §4.2.2)"
                ),
            )
            .with_header("Sec-WebSocket-Version", VERSION));
        }
    }
    let offered = offered_protocols(
        headers
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case("Sec-WebSocket-Protocol"))
            .map(|(_, v)| v.as_str()),
    );
    Ok(Accepted {
        accept: accept_key(&key),
        key,
        origin: get("Origin").map(str::to_owned),
        offered,
        protocol: None,
    })
}

/// The client's upgrade request head (RFC 6455 §4.1), as tungstenite writes it, with a key the
/// caller chooses: tests use a fixed key so transcripts are reproducible.
pub fn client_request(host: &str, path: &str, key: &str) -> String {
    format!(
        "GET {path} HTTP/1.1\r\n\
         Host: {host}\r\n\
         Connection: Upgrade\r\n\
         Upgrade: websocket\r\n\
         Sec-WebSocket-Version: 13\r\n\
         Sec-WebSocket-Key: {key}\r\n\r\n"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const RFC_KEY: &str = "dGhlIHNhbXBsZSBub25jZQ==";

    fn request(extra: &[(&'static str, &'static str)]) -> Vec<(&'static str, &'static [u8])> {
        let mut headers: Vec<(&str, &[u8])> = vec![
            ("Host", b"example.com"),
            ("Upgrade", b"websocket"),
            ("Connection", b"Upgrade"),
            ("Sec-WebSocket-Key", RFC_KEY.as_bytes()),
            ("Sec-WebSocket-Version", b"13"),
        ];
        for (name, value) in extra {
            headers.retain(|(n, _)| !n.eq_ignore_ascii_case(name));
            if !value.is_empty() {
                headers.push((name, value.as_bytes()));
            }
        }
        headers
    }

    #[test]
    fn accept_key_matches_rfc_6455_section_1_3() {
        assert_eq!(accept_key(RFC_KEY), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
    }

    #[test]
    fn keys_must_be_sixteen_bytes_of_base64() {
        assert!(is_valid_key(RFC_KEY));
        assert!(!is_valid_key("aGVsbG8="), "5 bytes is too short");
        assert!(!is_valid_key("not base64 at all!!!!!!!"));
    }

    #[test]
    fn a_valid_request_is_accepted_with_the_computed_key() {
        let ok = check_upgrade("GET", 1, request(&[])).unwrap();
        assert_eq!(ok.accept, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
        assert!(ok.response().starts_with("HTTP/1.1 101 Switching Protocols\r\n"));
        assert!(ok.response().ends_with("Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n"));
    }

    #[test]
    fn connection_is_a_token_list_as_firefox_sends_it() {
        let ok = check_upgrade("GET", 1, request(&[("Connection", "keep-alive, Upgrade")]));
        assert!(ok.is_ok(), "`keep-alive, Upgrade` contains the Upgrade token: {ok:?}");
    }

    #[test]
    fn a_plain_get_gets_426_with_upgrade_websocket() {
        let plain: Vec<(&str, &[u8])> = vec![("Host", b"example.com")];
        let err = check_upgrade("GET", 1, plain).unwrap_err();
        assert_eq!(err.status, 426);
        assert!(err.headers.contains(&("Upgrade", "websocket".to_owned())));
        let response = String::from_utf8(err.response()).unwrap();
        assert!(response.starts_with("HTTP/1.1 426 Upgrade Required\r\n"), "{response}");
        assert!(response.contains("\r\nConnection: Upgrade, close\r\n"), "RFC 9110 §7.8: {response}");
    }

    #[test]
    fn a_wrong_version_gets_426_naming_version_13() {
        let err = check_upgrade("GET", 1, request(&[("Sec-WebSocket-Version", "8")])).unwrap_err();
        assert_eq!(err.status, 426);
        assert!(err.headers.contains(&("Sec-WebSocket-Version", "13".to_owned())));
    }

    #[test]
    fn missing_or_bad_keys_and_headers_get_400() {
        for (name, value) in [
            ("Sec-WebSocket-Key", ""),
            ("Sec-WebSocket-Key", "aGVsbG8="),
            ("Connection", "keep-alive"),
            ("Host", ""),
        ] {
            let err = check_upgrade("GET", 1, request(&[(name, value)])).unwrap_err();
            assert_eq!(err.status, 400, "{name}: {value:?} should be refused with 400");
        }
    }

    #[test]
    fn offered_protocols_come_from_every_field_in_order() {
        let ok = check_upgrade(
            "GET",
            1,
            request(&[("Sec-WebSocket-Protocol", "chat.v2, chat.v1 ,,")])
                .into_iter()
                .chain([("sec-websocket-protocol", &b"chat.v0"[..])]),
        )
        .unwrap();
        assert_eq!(ok.offered, ["chat.v2", "chat.v1", "chat.v0"], "RFC 6455 §11.3.4: fields add up");
        assert!(!ok.response().contains("Sec-WebSocket-Protocol"), "no pick yet, no header");
        let picked = ok.with_protocol(Some("chat.v1"));
        assert!(
            picked.response().ends_with("Sec-WebSocket-Protocol: chat.v1\r\n\r\n"),
            "{}",
            picked.response()
        );
    }

    #[test]
    fn the_server_picks_the_clients_first_protocol_that_it_speaks() {
        let offered = vec!["chat.v2".to_owned(), "chat.v1".to_owned()];
        let spoken = |list: &[&str]| list.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
        assert_eq!(choose_protocol(&offered, &spoken(&["chat.v1", "chat.v2"])), Some("chat.v2"));
        assert_eq!(choose_protocol(&offered, &spoken(&["chat.v1"])), Some("chat.v1"));
        assert_eq!(choose_protocol(&offered, &spoken(&["chat.v3"])), None);
        assert_eq!(choose_protocol(&offered, &spoken(&["Chat.V2"])), None, "names compare exactly");
        assert_eq!(choose_protocol(&[], &spoken(&["chat.v1"])), None);
    }

    #[test]
    fn a_client_fails_an_answer_it_did_not_offer_or_a_missing_one() {
        let offered = vec!["chat.v2".to_owned(), "chat.v1".to_owned()];
        assert!(check_answered_protocol(&offered, Some("chat.v1")).is_ok());
        assert!(check_answered_protocol(&offered, Some("chat.v9")).is_err(), "not offered");
        assert!(check_answered_protocol(&offered, None).is_err(), "offered some, got none");
        assert!(check_answered_protocol(&[], Some("chat.v1")).is_err(), "offered none, got one");
        assert!(check_answered_protocol(&[], None).is_ok());
    }

    #[test]
    fn post_and_http_1_0_are_refused() {
        assert_eq!(check_upgrade("POST", 1, request(&[])).unwrap_err().status, 405);
        assert_eq!(check_upgrade("GET", 0, request(&[])).unwrap_err().status, 400);
    }
}
