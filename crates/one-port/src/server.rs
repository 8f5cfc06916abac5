//! The shared-port server: ordinary HTTP routes behind a middleware chain, and WebSocket upgrades
//! on the same tiny_http listener.
//!
//! Every request is parsed by tiny_http. Then one question splits them:
//!
//! ```text
//!                      ┌─ no Upgrade ──────▶ Logger ▶ RequireSession ▶ routes   (HTTP)
//!  client ──▶ tiny_http┤
//!                      └─ Upgrade: websocket ▶ handshake check ▶ Origin + auth ▶ 101 ▶ tungstenite
//! ```
//!
//! The upgrade branch never enters the chain. That is not a quirk of this server: it is how
//! Node's `ws` shares a port with koa or express (the `http.Server`'s `'upgrade'` event fires
//! instead of `'request'`, so no middleware runs), and how most frameworks do it. Whatever the
//! middleware guarantees (a session, a log line, a rate limit), the upgrade branch has to do
//! itself. [`Guard::Unchecked`] shows what happens when it does not; [`Guard::Checked`] is the
//! right way, with [`crate::admission::Admission`] deciding before the `101`.
//!
//! A browser page cannot add headers to its WebSocket (whatwg/html#3062), so the upgrade branch
//! knows three ways to say who is asking, one per path:
//!
//! | path | who it is |
//! | --- | --- |
//! | `/ws/echo` | the session cookie (or `Authorization: Bearer`), with the `Origin` check |
//! | `/ws/ticket?ticket=…` | a one-time ticket from `POST /api/ticket`, with the `Origin` check |
//! | `/ws/first-message` | the first message, `{"token": "…"}`, within [`Config::first_message_timeout`] |
//!
//! Two things about tiny_http that shape the code:
//! - a `Response` silently drops `Upgrade` and `Connection` headers, so refusals that must carry
//!   `Upgrade` (a `426`) are written as raw bytes through `Request::into_writer`;
//! - `Request::upgrade` writes the `101` with `Upgrade` and `Connection` itself; the raw stream it
//!   returns goes to `tungstenite::WebSocket::from_raw_socket`. After a request with
//!   `Connection: Upgrade` tiny_http reads no further requests on that connection.

use std::io::Read;
use std::net::{SocketAddr, TcpListener};
use std::sync::Arc;
use std::time::Duration;

use serve::blocking::Timeouts as _;
use serve::tiny::{Http, TinyWebSocket, head_of, header};
use serve::{ECHO_PATH, Limits, TungsteniteConfig};
use tiny_http::{Request, Response};
use tungstenite::Message;
use wire::handshake::Rejection;
use wire::http::{Head, StartLine};

pub use serve::tiny::{ServeError, bind};

use crate::admission::Admission;
use crate::journal::{Entry, Journal};
use crate::middleware::{Chain, HttpRequest, Logger, Reply, RequireSession};
use crate::routes::{Clock, Routes};

/// Threads that take requests off tiny_http's queue; a browser loads a page and its script in
/// parallel, and a test may hold a few connections open at once.
pub const WORKERS: usize = 4;

/// Largest request body read (a sign-in form is a few bytes); bigger ones get `413`.
pub const MAX_BODY: usize = 1024;

/// Where a page presents a one-time ticket: `/ws/ticket?ticket=…`.
pub const TICKET_PATH: &str = "/ws/ticket";

/// Where a socket opens without credentials and proves who it is in its first message.
pub const FIRST_MESSAGE_PATH: &str = "/ws/first-message";

/// How long `/ws/first-message` waits for its token, as Node's auth server does. A stranger gets
/// a `101` and holds a socket at most this long.
pub const FIRST_MESSAGE_TIMEOUT: Duration = Duration::from_secs(5);

/// What the upgrade branch checks before it answers `101`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Guard {
    /// Origin and credentials, with `403` / `401` (the right way).
    Checked,
    /// Nothing: every valid handshake gets `101`, as with koa + `ws` when the `'upgrade'`
    /// handler only calls `handleUpgrade`. The socket still looks at the session cookie to greet
    /// the user by name, which is what makes Cross-Site WebSocket Hijacking possible. For the
    /// lesson only.
    Unchecked,
}

/// What the server needs to know.
#[derive(Clone)]
pub struct Config {
    /// Credentials and allowed origins, shared by the middleware and the upgrade branch.
    pub admission: Admission,
    /// What the upgrade branch checks.
    pub guard: Guard,
    /// Limits for the WebSockets.
    pub limits: Limits,
    /// The clock `/api/time` reads.
    pub clock: Clock,
    /// Where the server writes down what it did.
    pub journal: Journal,
    /// How long a socket at [`FIRST_MESSAGE_PATH`] may take to send its token.
    pub first_message_timeout: Duration,
}

impl Config {
    /// The right way, with the system clock and default limits.
    pub fn new(admission: Admission) -> Config {
        Config {
            admission,
            guard: Guard::Checked,
            limits: Limits::default(),
            clock: crate::routes::system_clock(),
            journal: Journal::new(),
            first_message_timeout: FIRST_MESSAGE_TIMEOUT,
        }
    }
}

/// A running server. Dropping it does not stop it; call [`Running::stop`].
pub struct Running {
    http: Http,
    journal: Journal,
}

impl Running {
    /// The address it listens on.
    pub fn addr(&self) -> SocketAddr {
        self.http.addr()
    }

    /// What the server has done so far.
    pub fn journal(&self) -> &Journal {
        &self.journal
    }

    /// Waits until the server stops (it runs until the process ends or [`Running::stop`]).
    pub fn wait(self) {
        self.http.wait();
    }

    /// Stops taking requests and waits for the workers. Open WebSockets run on until their peers
    /// close them.
    pub fn stop(self) {
        self.http.stop();
    }
}

/// Starts serving on `listener` in the background: tiny_http, patched
/// (`vendor/tiny_http/PATCHES.md`), with every server's limits, a thread per request (a slow
/// client holds only its own, see `serve::tiny::dispatch`).
pub fn start(listener: TcpListener, config: Config) -> Result<Running, ServeError> {
    let journal = config.journal.clone();
    let limits = config.limits.clone();
    let shared = Arc::new(Shared::new(config));
    let http = Http::start(listener, &limits, WORKERS, move |request| shared.handle(request))?;
    Ok(Running { http, journal })
}

struct Shared {
    config: Config,
    chain: Chain,
    websockets: guard::Slots,
}

impl Shared {
    fn new(config: Config) -> Shared {
        let routes = Routes {
            sessions: config.admission.sessions().clone(),
            clock: config.clock.clone(),
            tickets: config.admission.tickets().clone(),
        };
        // ANCHOR: chain
        let chain = Chain::new(move |request: &mut HttpRequest| routes.handle(request))
            .with(Logger(config.journal.clone()))
            .with(RequireSession {
                admission: config.admission.clone(),
                prefix: "/api/",
                journal: config.journal.clone(),
            });
        // ANCHOR_END: chain
        let websockets = guard::Slots::new(config.limits.max_connections);
        Shared { config, chain, websockets }
    }

    // ANCHOR: dispatch
    fn handle(&self, request: Request) {
        let head = head_of(&request);
        if head.has_token("Upgrade", "websocket") {
            // Taken out before the chain: no middleware sees this request.
            self.upgrade(request, &head);
        } else {
            self.http(request, head);
        }
    }
    // ANCHOR_END: dispatch

    /// The HTTP side: read the body, run the chain, send the reply.
    fn http(&self, mut request: Request, head: Head) {
        let mut body = Vec::new();
        let read = request.as_reader().take(MAX_BODY as u64 + 1).read_to_end(&mut body);
        let (method, path) = method_and_path(&head);
        let reply = if read.is_err() {
            Reply::text(400, "the request body could not be read")
        } else if body.len() > MAX_BODY {
            Reply::text(413, format!("request bodies are limited to {MAX_BODY} bytes here"))
        } else {
            let remote = request.remote_addr().copied();
            let mut http = HttpRequest { method, path, head: head.clone(), body, remote, user: None };
            self.chain.run(&mut http)
        };
        send(request, reply);
    }

    // ANCHOR: upgrade
    /// The upgrade branch: the handshake's own checks, then Origin and credentials, then `101`.
    fn upgrade(&self, request: Request, head: &Head) {
        let (method, path) = method_and_path(head);
        let journal = &self.config.journal;
        let refuse = |request: Request, rejection: Rejection| {
            let (status, reason) = (rejection.status, rejection.reason());
            journal.line("upgrade", format!("{method} {path} → {status} {reason}: {}", rejection.message));
            send(request, Reply::Refusal(rejection));
        };
        // RFC 6455 §4.2.1: is this a WebSocket handshake, for a path that has one?
        let scheme = match path.as_str() {
            TICKET_PATH => Scheme::Ticket,
            FIRST_MESSAGE_PATH => Scheme::FirstMessage,
            _ => Scheme::Session,
        };
        let accepted = match serve::accept::judge(head, scheme.path()) {
            Ok(accepted) => accepted,
            Err(rejection) => return refuse(request, rejection),
        };
        // The middleware did not run: check here what it would have checked, and Origin.
        let user = match self.who(scheme, head) {
            Ok(user) => user,
            Err(rejection) => return refuse(request, rejection),
        };
        // RFC 6455 §4.2.2: of the subprotocols the client offered, the first this server speaks.
        let accepted = match self.config.limits.protocols.agree(accepted) {
            Ok(accepted) => accepted,
            Err(rejection) => return refuse(request, rejection),
        };
        let limits = self.config.limits.clone();
        let Some(slot) = self.websockets.take() else {
            return refuse(request, self.websockets.busy());
        };
        let who = match (scheme, &user) {
            (Scheme::FirstMessage, _) => ", who it is comes next".to_owned(),
            (_, Some(user)) => format!(" for {user}"),
            (_, None) => " for a visitor without a session".to_owned(),
        };
        journal.line("upgrade", format!("{method} {path} → 101{who}; no middleware saw this request"));
        let journal = journal.clone();
        let config = limits.websocket_config();
        let (sessions, wait) = (self.config.admission.sessions().clone(), self.config.first_message_timeout);
        serve::tiny::upgrade(request, &accepted, config, "websocket".into(), slot, move |ws| {
            let user = match scheme {
                Scheme::FirstMessage => match first_message(ws, &sessions, wait, &limits, &journal) {
                    Ok(user) => Some(user),
                    Err(ending) => return journal.record(Entry::Closed { user: None, ending }),
                },
                _ => user,
            };
            let greeting = format!("hello, {}", user.as_deref().unwrap_or("whoever you are"));
            let ending = match ws.send(Message::text(greeting)) {
                Ok(()) => serve::blocking::echo(ws, &limits),
                Err(e) => serve::Ending::Dropped(e.to_string()),
            };
            journal.record(Entry::Closed { user, ending });
        });
    }
    // ANCHOR_END: upgrade

    // ANCHOR: who
    /// Who is asking, by the path's scheme: the user, or `None` for a socket that will say so in
    /// its first message (or, unchecked, for a visitor). Every scheme checks `Origin` first: any
    /// page on any site may *try* to open a WebSocket here.
    fn who(&self, scheme: Scheme, head: &Head) -> Result<Option<String>, Rejection> {
        let admission = &self.config.admission;
        match (scheme, self.config.guard) {
            (Scheme::Session, Guard::Checked) => admission.admit(head).map(|visitor| Some(visitor.user)),
            (Scheme::Session, Guard::Unchecked) => {
                Ok(admission.authenticate(head).ok().map(|(user, _)| user))
            }
            (Scheme::Ticket, _) => {
                admission.check_origin(head)?;
                let ticket = query_value(head, "ticket").unwrap_or_default();
                match admission.tickets().redeem(&ticket, (self.config.clock)()) {
                    Some(user) => Ok(Some(user)),
                    None => Err(Rejection {
                        status: 401,
                        message: "that ticket is unknown, used or expired: POST /api/ticket for a new one"
                            .into(),
                        headers: vec![(
                            "WWW-Authenticate",
                            format!("Bearer realm=\"{}\"", crate::admission::REALM),
                        )],
                    }),
                }
            }
            (Scheme::FirstMessage, _) => admission.check_origin(head).map(|_| None),
        }
    }
    // ANCHOR_END: who
}

/// How an upgrade says who is asking: one scheme per path (see the module docs).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Scheme {
    /// The session cookie or a bearer token, at [`ECHO_PATH`].
    Session,
    /// A one-time ticket in the URL, at [`TICKET_PATH`].
    Ticket,
    /// A token in the first message, at [`FIRST_MESSAGE_PATH`].
    FirstMessage,
}

impl Scheme {
    fn path(self) -> &'static str {
        match self {
            Scheme::Session => ECHO_PATH,
            Scheme::Ticket => TICKET_PATH,
            Scheme::FirstMessage => FIRST_MESSAGE_PATH,
        }
    }
}

/// The value of `name` in the request target's query (`/ws/ticket?ticket=…`). A ticket is
/// base64url, so it needs no percent-decoding.
fn query_value(head: &Head, name: &str) -> Option<String> {
    let StartLine::Request { target, .. } = &head.start else { return None };
    let (_, query) = target.split_once('?')?;
    query
        .split('&')
        .filter_map(|pair| pair.split_once('='))
        .find(|(n, _)| *n == name)
        .map(|(_, v)| v.to_owned())
}

// ANCHOR: first_message
/// The reason a wrong first message gets, the same words as the Node server's.
pub const BAD_TOKEN: &str = "the first message must be {\"token\": \"…\"} with a valid token";

/// Waits for the socket's first message, `{"token": "…"}`, at most `wait`. A valid token is the
/// user; anything else (another message, an unknown token, nothing in time) closes the socket
/// with 1008 (policy violation), which a reconnecting client does not retry.
fn first_message(
    ws: &mut TinyWebSocket,
    sessions: &crate::admission::Sessions,
    wait: Duration,
    limits: &Limits,
    journal: &Journal,
) -> Result<String, serve::Ending> {
    let deadline = std::time::Instant::now() + wait;
    let message = loop {
        // The socket's read timeout is what is left of the wait (pings do not extend it).
        let left =
            deadline.saturating_duration_since(std::time::Instant::now()).max(Duration::from_millis(1));
        ws.get_mut().set_timeouts(Some(left), Some(limits.send_timeout));
        match ws.read() {
            Ok(Message::Ping(_) | Message::Pong(_) | Message::Frame(_)) => continue,
            Ok(message) => break Ok(message),
            Err(e) if serve::blocking::timed_out(&e) => break Err(None),
            Err(e) => break Err(Some(e)),
        }
    };
    let reason = match message {
        Ok(Message::Text(text)) => match token(&text).and_then(|token| sessions.user(&token)) {
            Some(user) => {
                journal.line("websocket", format!("the first message proved the socket is {user}'s"));
                return Ok(user);
            }
            None => BAD_TOKEN.to_owned(),
        },
        Ok(_) => BAD_TOKEN.to_owned(),
        Err(None) => format!("no token within {} ms", wait.as_millis()),
        Err(Some(e)) => return Err(serve::Ending::Dropped(e.to_string())),
    };
    journal.line("websocket", format!("closing with 1008: {reason}"));
    Err(serve::blocking::close(ws, wire::CloseCode::POLICY, reason, limits))
}

/// The token of a first message `{"token": "…"}`, if it is one.
fn token(text: &str) -> Option<String> {
    let value: serde_json::Value = serde_json::from_str(text).ok()?;
    value.get("token")?.as_str().map(str::to_owned)
}
// ANCHOR_END: first_message

fn method_and_path(head: &Head) -> (String, String) {
    match &head.start {
        StartLine::Request { method, target, .. } => {
            (method.clone(), target.split('?').next().unwrap_or_default().to_owned())
        }
        StartLine::Response { .. } => (String::new(), String::new()),
    }
}

/// Sends a reply: an ordinary response through tiny_http, a refusal as raw bytes.
fn send(request: Request, reply: Reply) {
    match reply {
        Reply::Response { status, headers, body } => {
            let mut response = Response::from_data(body).with_status_code(status);
            for (name, value) in &headers {
                response.add_header(header(name, value));
            }
            if let Err(e) = request.respond(response) {
                tracing::debug!("the client left before the response was sent: {e}");
            }
        }
        Reply::Refusal(rejection) => serve::tiny::refuse(request, rejection),
    }
}
