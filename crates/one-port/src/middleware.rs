//! A small middleware chain for the HTTP side, in the style of koa: each layer gets the request
//! and a `next` to call, and can act before and after the layers inside it.
//!
//! ```text
//!  request ──▶ Logger ──▶ RequireSession ──▶ routes
//!  reply   ◀── Logger ◀── RequireSession ◀──┘
//! ```
//!
//! tiny_http has no middleware of its own; these forty lines are all it takes. The point of the
//! chapter is what the chain does *not* see: an upgrade request is taken out before the chain
//! runs (see [`crate::server`]), exactly as Node's `ws` takes it out of koa.

use std::net::SocketAddr;

use wire::handshake::Rejection;
use wire::http::Head;

use crate::admission::Admission;
use crate::journal::Journal;

/// A request as the middleware sees it: the head, the body (read in full, it is small), and
/// what layers have learned about it.
#[derive(Clone, Debug)]
pub struct HttpRequest {
    /// The method, such as `GET`.
    pub method: String,
    /// The path, without the query.
    pub path: String,
    /// The whole head, for the headers.
    pub head: Head,
    /// The body.
    pub body: Vec<u8>,
    /// The client's address, as tiny_http saw it.
    pub remote: Option<SocketAddr>,
    /// The signed-in user, once [`RequireSession`] (or a route) has found one.
    pub user: Option<String>,
}

/// A reply: an ordinary response, which tiny_http writes (adding `Date`, `Server` and the
/// framing), or a refusal that must carry headers tiny_http would drop (`Upgrade`), which is
/// written as raw bytes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Reply {
    /// An ordinary response.
    Response {
        /// The status code.
        status: u16,
        /// Headers besides the ones tiny_http adds.
        headers: Vec<(String, String)>,
        /// The body.
        body: Vec<u8>,
    },
    /// An HTTP error in `wire`'s words, written byte for byte.
    Refusal(Rejection),
}

impl Reply {
    /// A response with a body of type `content_type`.
    pub fn new(status: u16, content_type: &str, body: impl Into<Vec<u8>>) -> Reply {
        Reply::Response {
            status,
            headers: vec![("Content-Type".to_owned(), content_type.to_owned())],
            body: body.into(),
        }
    }

    /// A plain-text response (a line for the person reading it).
    pub fn text(status: u16, text: impl Into<String>) -> Reply {
        Reply::new(status, "text/plain; charset=utf-8", format!("{}\n", text.into()))
    }

    /// The same reply with one more header (ignored on a refusal).
    pub fn with_header(mut self, name: &str, value: &str) -> Reply {
        if let Reply::Response { headers, .. } = &mut self {
            headers.push((name.to_owned(), value.to_owned()));
        }
        self
    }

    /// The status code.
    pub fn status(&self) -> u16 {
        match self {
            Reply::Response { status, .. } => *status,
            Reply::Refusal(rejection) => rejection.status,
        }
    }
}

/// One layer of the chain.
pub trait Middleware: Send + Sync {
    /// Handles `request`, usually by calling `next.run(request)` and perhaps changing the reply.
    fn handle(&self, request: &mut HttpRequest, next: Next<'_>) -> Reply;
}

/// The endpoint at the end of the chain: the routes.
pub type Endpoint = dyn Fn(&mut HttpRequest) -> Reply + Send + Sync;

/// The rest of the chain, handed to each layer.
pub struct Next<'a> {
    rest: &'a [Box<dyn Middleware>],
    endpoint: &'a Endpoint,
}

// ANCHOR: next
impl Next<'_> {
    /// Runs the next layer, or the endpoint after the last one.
    pub fn run(self, request: &mut HttpRequest) -> Reply {
        match self.rest.split_first() {
            Some((layer, rest)) => layer.handle(request, Next { rest, endpoint: self.endpoint }),
            None => (self.endpoint)(request),
        }
    }
}
// ANCHOR_END: next

/// Layers around an endpoint.
pub struct Chain {
    layers: Vec<Box<dyn Middleware>>,
    endpoint: Box<Endpoint>,
}

impl Chain {
    /// A chain with no layers yet.
    pub fn new(endpoint: impl Fn(&mut HttpRequest) -> Reply + Send + Sync + 'static) -> Chain {
        Chain { layers: Vec::new(), endpoint: Box::new(endpoint) }
    }

    /// Adds a layer inside the ones added before (the first added runs first).
    pub fn with(mut self, layer: impl Middleware + 'static) -> Chain {
        self.layers.push(Box::new(layer));
        self
    }

    /// Runs `request` through every layer to the endpoint.
    pub fn run(&self, request: &mut HttpRequest) -> Reply {
        Next { rest: &self.layers, endpoint: &*self.endpoint }.run(request)
    }
}

// ANCHOR: logger
/// Writes one journal line per request, after the layers inside it have answered.
pub struct Logger(pub Journal);

impl Middleware for Logger {
    fn handle(&self, request: &mut HttpRequest, next: Next<'_>) -> Reply {
        let reply = next.run(request);
        self.0.line("logger", format!("{} {} → {}", request.method, request.path, reply.status()));
        reply
    }
}
// ANCHOR_END: logger

// ANCHOR: require_session
/// Lets requests under [`RequireSession::prefix`] through only with valid credentials (`401`
/// otherwise), and tells the routes who is signed in.
pub struct RequireSession {
    /// The credential check, shared with the upgrade path.
    pub admission: Admission,
    /// The paths that need a session, such as `/api/`.
    pub prefix: &'static str,
    /// Where refusals are noted.
    pub journal: Journal,
}

impl Middleware for RequireSession {
    fn handle(&self, request: &mut HttpRequest, next: Next<'_>) -> Reply {
        match self.admission.authenticate(&request.head) {
            Ok((user, _)) => request.user = Some(user),
            Err(rejection) if request.path.starts_with(self.prefix) => {
                self.journal
                    .line("auth", format!("{} {} → 401, no valid session", request.method, request.path));
                return Reply::text(401, rejection.message).with_header(
                    "WWW-Authenticate",
                    &format!("Bearer realm=\"{}\"", crate::admission::REALM),
                );
            }
            Err(_) => {}
        }
        next.run(request)
    }
}
// ANCHOR_END: require_session

#[cfg(test)]
mod tests {
    use super::*;
    use crate::admission::Sessions;

    fn request(path: &str, headers: &str) -> HttpRequest {
        let text = format!("GET {path} HTTP/1.1\r\nHost: x\r\n{headers}\r\n");
        HttpRequest {
            method: "GET".into(),
            path: path.into(),
            head: Head::parse_request(text.as_bytes()).unwrap().unwrap(),
            body: Vec::new(),
            remote: None,
            user: None,
        }
    }

    fn chain(journal: &Journal) -> Chain {
        let sessions = Sessions::new();
        sessions.insert("t", "ada");
        Chain::new(|request: &mut HttpRequest| Reply::text(200, format!("hello {:?}", request.user)))
            .with(Logger(journal.clone()))
            .with(RequireSession {
                admission: Admission::new(sessions),
                prefix: "/api/",
                journal: journal.clone(),
            })
    }

    #[test]
    fn layers_run_outside_in_and_log_on_the_way_out() {
        let journal = Journal::new();
        let chain = chain(&journal);
        assert_eq!(chain.run(&mut request("/api/time", "")).status(), 401);
        assert_eq!(chain.run(&mut request("/api/time", "Authorization: Bearer t\r\n")).status(), 200);
        assert_eq!(chain.run(&mut request("/", "")).status(), 200, "only /api/ needs a session");
        assert_eq!(
            journal.lines(),
            [
                "auth      GET /api/time → 401, no valid session",
                "logger    GET /api/time → 401",
                "logger    GET /api/time → 200",
                "logger    GET / → 200",
            ]
        );
    }
}
