//! Reading a request's query and writing a response, both by hand and both strict.
//!
//! The query: every endpoint names the keys it takes; an unknown key, a repeated key or a value
//! that is not a whole number is refused with `400` and one line that says which and why. A
//! typo such as `?snice=3` would otherwise be ignored and the client would silently get the
//! whole history.
//!
//! The response is written as bytes rather than with tiny_http's `Response`, for two reasons
//! that the chapter is about: tiny_http silently drops a `Connection` header from a `Response`,
//! and a server that is going to close the connection should say so (RFC 9112 §9.6); and the
//! bytes on the wire are then exactly the ones in this file, in this order.

use std::io::Write;
use std::time::SystemTime;

use wire::handshake::status_reason;

/// Why a query was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct QueryError(pub String);

/// The query of a request target (`/messages?since=3` → `since=3`), checked against the keys
/// the endpoint takes. Returns the values in the order of `keys`.
pub fn query<'a>(target: &'a str, keys: &[&str]) -> Result<Vec<Option<&'a str>>, QueryError> {
    let mut values = vec![None; keys.len()];
    let Some((_, query)) = target.split_once('?') else { return Ok(values) };
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        let Some(index) = keys.iter().position(|k| *k == key) else {
            let known = keys.join(" and ");
            return Err(QueryError(format!("unknown query parameter {key:?}: this endpoint takes {known}")));
        };
        if values[index].replace(value).is_some() {
            return Err(QueryError(format!("{key} is given twice")));
        }
    }
    Ok(values)
}

/// A whole number from a query value, or a `400` reason that names the key.
pub fn number(key: &str, value: Option<&str>, default: u64) -> Result<u64, QueryError> {
    match value {
        None => Ok(default),
        // `parse` would accept a leading `+`; a query value is digits only.
        Some(v) if !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit()) => {
            v.parse().map_err(|_| QueryError(format!("{key}={v} is too large")))
        }
        Some(v) => Err(QueryError(format!("{key} must be a whole number of 0 or more, not {v:?}"))),
    }
}

/// A response, written by hand. See the module docs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reply {
    /// The status code.
    pub status: u16,
    /// Header fields after `Date`, in order (`Content-Length` and `Connection` are added).
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: Vec<u8>,
}

impl Reply {
    /// A JSON body.
    pub fn json(status: u16, value: &serde_json::Value) -> Reply {
        Reply {
            status,
            headers: vec![("Content-Type".into(), "application/json".into())],
            body: value.to_string().into_bytes(),
        }
    }

    /// A one-line plain-text body: what every error says.
    pub fn text(status: u16, line: &str) -> Reply {
        Reply {
            status,
            headers: vec![("Content-Type".into(), "text/plain; charset=utf-8".into())],
            body: format!("{line}\n").into_bytes(),
        }
    }

    /// No body at all (`204 No Content`).
    pub fn empty(status: u16) -> Reply {
        Reply { status, headers: Vec::new(), body: Vec::new() }
    }

    /// The same reply with one more header.
    pub fn with(mut self, name: &str, value: impl Into<String>) -> Reply {
        self.headers.push((name.to_owned(), value.into()));
        self
    }

    // ANCHOR: to_bytes
    /// The response as bytes. `close`: the connection ends after it, and the response says so
    /// (RFC 9112 §9.6). `head_only`: the answer to a `HEAD` request, the same head without body.
    pub fn to_bytes(&self, close: bool, head_only: bool) -> Vec<u8> {
        let mut head = format!("HTTP/1.1 {} {}\r\n", self.status, status_reason(self.status));
        head.push_str(&format!("Date: {}\r\n", httpdate::fmt_http_date(SystemTime::now())));
        for (name, value) in &self.headers {
            head.push_str(&format!("{name}: {value}\r\n"));
        }
        // A 204 has no body and must not announce one (RFC 9110 §8.6).
        if self.status != 204 {
            head.push_str(&format!("Content-Length: {}\r\n", self.body.len()));
        }
        if close {
            head.push_str("Connection: close\r\n");
        }
        head.push_str("\r\n");
        let mut bytes = head.into_bytes();
        if !head_only {
            bytes.extend_from_slice(&self.body);
        }
        bytes
    }
    // ANCHOR_END: to_bytes

    /// Sends the reply as the answer to `request`.
    ///
    /// tiny_http keeps reading requests from a connection unless the request said
    /// `Connection: close` or was HTTP/1.0; exactly then the reply says `Connection: close`, and
    /// tiny_http closes the connection once the reply is written. The two always agree.
    pub fn send(self, request: tiny_http::Request) {
        let head = wire_head(&request);
        let close = head.closes_connection();
        let head_only = request.method() == &tiny_http::Method::Head;
        let mut writer = request.into_writer();
        let written = writer.write_all(&self.to_bytes(close, head_only)).and_then(|()| writer.flush());
        if let Err(e) = written {
            tracing::debug!("the client left before the answer was written: {e}");
        }
    }
}

/// The request as `wire` sees heads, so the same rules (keep-alive, tokens) apply everywhere.
pub use serve::tiny::head_of as wire_head;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_query_is_read_against_the_keys_an_endpoint_takes() {
        let got = query("/messages/wait?since=3&timeout=10", &["since", "timeout"]).unwrap();
        assert_eq!(got, [Some("3"), Some("10")]);
        assert_eq!(query("/messages", &["since"]).unwrap(), [None]);
        let err = query("/messages?snice=3", &["since"]).unwrap_err();
        assert!(err.0.contains("unknown query parameter \"snice\""), "{err}");
        assert!(query("/messages?since=1&since=2", &["since"]).is_err());
    }

    #[test]
    fn numbers_are_digits_only() {
        assert_eq!(number("since", Some("42"), 0), Ok(42));
        assert_eq!(number("since", None, 7), Ok(7));
        for bad in ["", "-1", "+1", "abc", "1.5", "99999999999999999999999"] {
            assert!(number("since", Some(bad), 0).is_err(), "{bad:?} must be refused");
        }
    }

    #[test]
    fn a_204_has_no_length_and_a_closing_reply_says_so() {
        let bytes = String::from_utf8(Reply::empty(204).to_bytes(true, false)).unwrap();
        assert!(bytes.starts_with("HTTP/1.1 204 No Content\r\nDate: "), "{bytes}");
        assert!(!bytes.contains("Content-Length"), "{bytes}");
        assert!(bytes.ends_with("Connection: close\r\n\r\n"), "{bytes}");
        let head = String::from_utf8(Reply::text(400, "no").to_bytes(false, true)).unwrap();
        assert!(head.contains("Content-Length: 3\r\n") && head.ends_with("\r\n\r\n"), "{head}");
    }
}
