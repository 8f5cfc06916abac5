//! HTTP/1.1 message heads, parsed for display and for the handshake (RFC 9112).
//!
//! An HTTP/1.1 message is a start line, header fields, an empty line, then perhaps a body. How
//! long the body is comes from the head (RFC 9112 §6.3): that is what lets several requests share
//! one keep-alive connection, and what [`Head::body`] works out. Parsing uses `httparse`.

use std::fmt;

/// Most header fields a head may have before Duplex gives up on it.
pub const MAX_HEADERS: usize = 64;

/// The first line of a head.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StartLine {
    /// `GET /path HTTP/1.1`
    Request {
        /// The method, such as `GET` or `POST`.
        method: String,
        /// The request target, usually a path and query.
        target: String,
        /// The minor version: 1 for HTTP/1.1, 0 for HTTP/1.0.
        minor: u8,
    },
    /// `HTTP/1.1 200 OK`
    Response {
        /// The minor version: 1 for HTTP/1.1, 0 for HTTP/1.0.
        minor: u8,
        /// The status code.
        status: u16,
        /// The reason phrase, free text.
        reason: String,
    },
}

impl fmt::Display for StartLine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StartLine::Request { method, target, minor } => {
                write!(f, "{method} {target} HTTP/1.{minor}")
            }
            StartLine::Response { minor, status, reason } => {
                write!(f, "HTTP/1.{minor} {status} {reason}")
            }
        }
    }
}

/// A parsed head: start line and header fields, in the order they were sent.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Head {
    /// The request line or status line.
    pub start: StartLine,
    /// Header fields as sent; values decoded lossily as UTF-8 for display.
    pub headers: Vec<(String, String)>,
    /// The head's size on the wire, including the empty line that ends it.
    pub len: usize,
}

/// Why bytes are not an HTTP/1.x head.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("not an HTTP/1.x head: {0}")]
pub struct HttpError(pub String);

/// How the body after a head is delimited (RFC 9112 §6.3).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BodyKind {
    /// No body: a request without `Content-Length`, a 1xx/204/304 response, a response to HEAD.
    None,
    /// Exactly this many bytes (`Content-Length`).
    Length(u64),
    /// `Transfer-Encoding: chunked`: a series of sized chunks, ending with a zero-size one.
    Chunked,
    /// A response without length: the body runs until the server closes the connection.
    UntilClose,
    /// `101 Switching Protocols`: the connection now speaks another protocol.
    SwitchProtocols,
}

impl Head {
    /// Parses a request head from the start of `buf`. `Ok(None)` means more bytes are needed.
    pub fn parse_request(buf: &[u8]) -> Result<Option<Head>, HttpError> {
        let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
        let mut request = httparse::Request::new(&mut headers);
        match request.parse(buf).map_err(|e| HttpError(e.to_string()))? {
            httparse::Status::Partial => Ok(None),
            httparse::Status::Complete(len) => Ok(Some(Head {
                start: StartLine::Request {
                    method: request.method.unwrap_or_default().to_owned(),
                    target: request.path.unwrap_or_default().to_owned(),
                    minor: request.version.unwrap_or_default(),
                },
                headers: owned_headers(request.headers),
                len,
            })),
        }
    }

    /// Parses a response head from the start of `buf`. `Ok(None)` means more bytes are needed.
    pub fn parse_response(buf: &[u8]) -> Result<Option<Head>, HttpError> {
        let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
        let mut response = httparse::Response::new(&mut headers);
        match response.parse(buf).map_err(|e| HttpError(e.to_string()))? {
            httparse::Status::Partial => Ok(None),
            httparse::Status::Complete(len) => Ok(Some(Head {
                start: StartLine::Response {
                    minor: response.version.unwrap_or_default(),
                    status: response.code.unwrap_or_default(),
                    reason: response.reason.unwrap_or_default().to_owned(),
                },
                headers: owned_headers(response.headers),
                len,
            })),
        }
    }

    /// The first value of a header, matched case-insensitively.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    /// Whether a comma-separated header (such as `Connection`) contains `token`.
    pub fn has_token(&self, name: &str, token: &str) -> bool {
        self.headers
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case(name))
            .flat_map(|(_, v)| v.split(','))
            .any(|t| t.trim().eq_ignore_ascii_case(token))
    }

    /// The status code, for a response.
    pub fn status(&self) -> Option<u16> {
        match self.start {
            StartLine::Response { status, .. } => Some(status),
            StartLine::Request { .. } => None,
        }
    }

    /// The method, for a request.
    pub fn method(&self) -> Option<&str> {
        match &self.start {
            StartLine::Request { method, .. } => Some(method),
            StartLine::Response { .. } => None,
        }
    }

    /// How the body that follows is delimited (RFC 9112 §6.3). For a response, pass the method
    /// of the request it answers: a response to `HEAD` has no body whatever its headers say.
    pub fn body(&self, request_method: Option<&str>) -> BodyKind {
        let chunked = self.header("Transfer-Encoding").is_some_and(|te| {
            te.rsplit(',').next().is_some_and(|last| last.trim().eq_ignore_ascii_case("chunked"))
        });
        let length = self.header("Content-Length").and_then(|v| v.trim().parse::<u64>().ok());
        match &self.start {
            StartLine::Request { .. } => match (chunked, length) {
                (true, _) => BodyKind::Chunked,
                (false, Some(n)) => BodyKind::Length(n),
                (false, None) => BodyKind::None,
            },
            StartLine::Response { status, .. } => {
                if *status == 101 {
                    BodyKind::SwitchProtocols
                } else if (100..200).contains(status)
                    || *status == 204
                    || *status == 304
                    || request_method == Some("HEAD")
                {
                    BodyKind::None
                } else if chunked {
                    BodyKind::Chunked
                } else if let Some(n) = length {
                    BodyKind::Length(n)
                } else {
                    BodyKind::UntilClose
                }
            }
        }
    }

    /// Whether the sender said this is the last message on the connection: `Connection: close`,
    /// or HTTP/1.0 without `Connection: keep-alive`. HTTP/1.1 keeps connections open by default
    /// (RFC 9112 §9.3).
    pub fn closes_connection(&self) -> bool {
        let minor = match self.start {
            StartLine::Request { minor, .. } | StartLine::Response { minor, .. } => minor,
        };
        self.has_token("Connection", "close") || (minor == 0 && !self.has_token("Connection", "keep-alive"))
    }
}

fn owned_headers(headers: &[httparse::Header<'_>]) -> Vec<(String, String)> {
    headers.iter().map(|h| (h.name.to_owned(), String::from_utf8_lossy(h.value).into_owned())).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_request_head_parses_and_says_where_it_ends() {
        let bytes = b"GET /messages?since=3 HTTP/1.1\r\nHost: example.com\r\n\r\nleftover";
        let head = Head::parse_request(bytes).unwrap().unwrap();
        assert_eq!(head.start.to_string(), "GET /messages?since=3 HTTP/1.1");
        assert_eq!(head.header("host"), Some("example.com"));
        assert_eq!(&bytes[head.len..], b"leftover");
        assert_eq!(head.body(None), BodyKind::None);
        assert!(!head.closes_connection(), "HTTP/1.1 is persistent by default (RFC 9112 §9.3)");
    }

    #[test]
    fn a_partial_head_asks_for_more() {
        assert_eq!(Head::parse_request(b"GET / HTTP/1.1\r\nHost: a").unwrap(), None);
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        assert!(Head::parse_request(b"\x16\x03\x01\x02\x00\x01").is_err());
    }

    #[test]
    fn response_bodies_follow_rfc_9112_section_6_3() {
        let parse = |s: &str| Head::parse_response(s.as_bytes()).unwrap().unwrap();
        assert_eq!(parse("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n").body(None), BodyKind::Length(5));
        assert_eq!(parse("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n").body(Some("HEAD")), BodyKind::None);
        assert_eq!(
            parse("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n").body(None),
            BodyKind::Chunked
        );
        assert_eq!(parse("HTTP/1.1 204 No Content\r\n\r\n").body(None), BodyKind::None);
        assert_eq!(parse("HTTP/1.0 200 OK\r\n\r\n").body(None), BodyKind::UntilClose);
        assert_eq!(
            parse("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n").body(None),
            BodyKind::SwitchProtocols
        );
    }

    #[test]
    fn http_1_0_closes_unless_it_asks_for_keep_alive() {
        let parse = |s: &str| Head::parse_request(s.as_bytes()).unwrap().unwrap();
        assert!(parse("GET / HTTP/1.0\r\n\r\n").closes_connection());
        assert!(!parse("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n").closes_connection());
        assert!(parse("GET / HTTP/1.1\r\nConnection: close\r\n\r\n").closes_connection());
    }
}
