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
//! Two things about tiny_http that shape the code:
//! - a `Response` silently drops `Upgrade` and `Connection` headers, so refusals that must carry
//!   `Upgrade` (a `426`) are written as raw bytes through `Request::into_writer`;
//! - `Request::upgrade` writes the `101` with `Upgrade` and `Connection` itself; the raw stream it
//!   returns goes to `tungstenite::WebSocket::from_raw_socket`. After a request with
//!   `Connection: Upgrade` tiny_http reads no further requests on that connection.

use std::io::Read;
use std::net::{SocketAddr, TcpListener};
use std::sync::Arc;

use serve::tiny::{Http, head_of, header};
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
        let routes = Routes { sessions: config.admission.sessions().clone(), clock: config.clock.clone() };
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
        let accepted = match serve::accept::judge(head, ECHO_PATH) {
            Ok(accepted) => accepted,
            Err(rejection) => return refuse(request, rejection),
        };
        // The middleware did not run: check here what it would have checked, and Origin.
        let user = match self.config.guard {
            Guard::Checked => match self.config.admission.admit(head) {
                Ok(visitor) => Some(visitor.user),
                Err(rejection) => return refuse(request, rejection),
            },
            Guard::Unchecked => self.config.admission.authenticate(head).ok().map(|(user, _)| user),
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
        let who = user.as_deref().unwrap_or("a visitor without a session");
        journal.line("upgrade", format!("{method} {path} → 101 for {who}; no middleware saw this request"));
        let journal = journal.clone();
        let config = limits.websocket_config();
        serve::tiny::upgrade(request, &accepted, config, "websocket".into(), slot, move |ws| {
            let greeting = format!("hello, {}", user.as_deref().unwrap_or("whoever you are"));
            let ending = match ws.send(Message::text(greeting)) {
                Ok(()) => serve::blocking::echo(ws, &limits),
                Err(e) => serve::Ending::Dropped(e.to_string()),
            };
            journal.record(Entry::Closed { user, ending });
        });
    }
    // ANCHOR_END: upgrade
}

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
