//! The one-port server: the rendered book and the live demos behind one listener.
//!
//! tiny_http parses every request. Most are for pages of the book and get a file. A request for
//! [`serve::ECHO_PATH`] is different: if it asks to upgrade (RFC 6455 §4.1), the HTTP side answers
//! `101 Switching Protocols` and hands the raw connection to tungstenite, and from then on the
//! connection is a WebSocket that tiny_http never looks at again. Anything that is not a valid
//! upgrade gets an HTTP error that says what was wrong (RFC 6455 §4.2.2), never a silent close.
//!
//! ```text
//!             ┌─ GET /echo/index.html ─────────────▶ file from target/book
//!  client ──▶ tiny_http
//!             └─ GET /ws/echo + Upgrade: websocket ─▶ 101, then tungstenite echoes frames
//! ```
//!
//! The site holds both editions of the book ([`crate::edition`]): English at `/`, Chinese at
//! `/zh/`. A Chinese page's live demos use the same endpoints as an English page's.
//!
//! The request–response chapter's feed is mounted under [`http_polling::BOOK_PREFIX`]
//! (`/feed/messages`, `/feed/events`, `/feed/ws`, …): its handlers answer those requests.
//!
//! Each request is answered on a thread of its own ([`WORKERS`] threads hand them out), so a
//! slow client never holds up anybody else's page load; a WebSocket keeps its thread, and at most `limits.max_connections` at once,
//! and further upgrades get `503`. tiny_http is the vendored, patched one
//! (`vendor/tiny_http/PATCHES.md`): every connection gets the shared limits on its head (size,
//! time), its reads and writes, and the number of connections (`guard`). The plumbing (the
//! workers, refusals, the hand-off of an upgrade) is `serve::tiny`'s, shared with the feed and
//! one-port, so the three answer the same request with the same bytes.

use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serve::tiny::{Http, head_of, header, refuse, respond};
use serve::{ECHO_PATH, Limits, TungsteniteConfig};
use tiny_http::{Header, Request, Response};
use wire::handshake::Rejection;
use wire::http::Head;

pub use serve::tiny::{ServeError, bind};

use crate::site;

/// Threads that take requests off tiny_http's queue and give each a thread of its own
/// (`serve::tiny::dispatch` says why).
pub const WORKERS: usize = 2;

/// What the server needs to know.
#[derive(Clone, Debug)]
pub struct Config {
    /// The rendered book's folder.
    pub site: PathBuf,
    /// Limits for the WebSocket echo.
    pub limits: Limits,
}

/// A running server. Dropping it does not stop it; call [`Running::stop`].
pub struct Running {
    http: Http,
    feed: http_polling::Service,
}

impl Running {
    /// The request–response chapter's feed, served under [`http_polling::BOOK_PREFIX`].
    pub fn feed(&self) -> &http_polling::Service {
        &self.feed
    }

    /// The address the server listens on (with the real port when port 0 was asked for).
    pub fn addr(&self) -> SocketAddr {
        self.http.addr()
    }

    /// Waits until the server stops (it runs until the process ends or [`Running::stop`]).
    pub fn wait(self) {
        self.http.wait();
    }

    /// Ends the feed's streams, stops taking requests and waits for the workers. Open echo
    /// WebSockets run on until their peers close them.
    pub fn stop(self) {
        // Event streams and long polls on the feed end now rather than at their timeouts.
        self.feed.feed().end_streams();
        self.http.stop();
    }
}

/// Binds `host:port` (port 0: any free port) and starts serving in the background. (`cargo run`
/// binds before it renders the book, so a second `cargo run` stops at once, before it writes a
/// single file under the one that is serving.)
pub fn start(host: &str, port: u16, config: Config) -> Result<Running, ServeError> {
    start_on(bind(host, port)?, config)
}

/// Starts serving on `listener` in the background.
pub fn start_on(listener: TcpListener, config: Config) -> Result<Running, ServeError> {
    let limits = http_polling::Limits { max_body: config.limits.max_body, ..Default::default() };
    let feed = http_polling::Service::new(Arc::new(http_polling::Feed::new(limits.history)), limits);
    let websockets = guard::Slots::new(config.limits.max_connections);
    let admission = guard::admission::Admission::new(guard::admission::Sessions::new()).allow_same_host();
    let connection_limits = config.limits.clone();
    let shared = Arc::new(Shared { config, websockets, admission, feed: feed.clone() });
    let http = Http::start(listener, &connection_limits, WORKERS, move |request| shared.handle(request))?;
    Ok(Running { http, feed })
}

struct Shared {
    config: Config,
    /// WebSockets open right now (tiny_http counts connections only until they are upgraded).
    websockets: guard::Slots,
    /// Who may open a WebSocket: pages of this server only (`Origin` matches `Host`).
    admission: guard::admission::Admission,
    /// The request–response chapter's feed.
    feed: http_polling::Service,
}

impl Shared {
    fn handle(&self, request: Request) {
        let head = head_of(&request);
        let path = request.url().split('?').next().unwrap_or_default().to_owned();
        let wants_upgrade = head.has_token("Upgrade", "websocket");
        if let Some(rest) = path.strip_prefix(http_polling::BOOK_PREFIX).filter(|r| r.starts_with('/')) {
            self.feed.handle(request, rest);
        } else if path == ECHO_PATH {
            self.echo(request, &head);
        } else if wants_upgrade {
            let message = format!("there is no WebSocket at {path}; the echo is at {ECHO_PATH}");
            refuse(request, Rejection { status: 404, message, headers: Vec::new() });
        } else {
            self.file(request, &path);
        }
    }

    /// A page of the book, or 404.
    fn file(&self, request: Request, path: &str) {
        let method = request.method().as_str().to_owned();
        if method != "GET" && method != "HEAD" {
            let response =
                Response::from_string(format!("{method} is not allowed here: the book is read with GET\n"))
                    .with_status_code(405)
                    .with_header(header("Allow", "GET, HEAD"));
            respond(request, response);
            return;
        }
        // `/echo` is the folder `/echo/`: its page's relative links (`code.html`) only work from
        // the form with the slash, so send the browser there (RFC 9110 §15.4.9: 308 keeps the
        // method). The location is the client's own target plus a slash, which tiny_http
        // already checked is a clean ASCII line.
        if let Some(location) = site::with_slash(&self.config.site, request.url())
            && let Ok(location) = Header::from_bytes(&b"Location"[..], location.as_bytes())
        {
            let response = Response::from_string(format!("the page is at {}\n", location.value))
                .with_status_code(308)
                .with_header(location);
            respond(request, response);
            return;
        }
        match site::resolve(&self.config.site, request.url()).and_then(|file| open(&file)) {
            Some(response) => respond(request, response),
            None => {
                tracing::info!(%path, "404");
                // mdbook renders a 404 page with the book's navigation, one per edition; use the
                // one of the edition the path is in, when it is there.
                let edition = crate::edition::Edition::of_url(path);
                match open(&edition.root(&self.config.site).join("404.html")) {
                    Some(page) => respond(request, page.with_status_code(404)),
                    None => respond(
                        request,
                        Response::from_string(format!("nothing at {path}\n")).with_status_code(404),
                    ),
                }
            }
        }
    }

    /// The echo: `101` and a WebSocket, or the HTTP error that says why not.
    fn echo(&self, request: Request, head: &Head) {
        // The handshake's own checks (RFC 6455 §4.2.1), then `Origin`: a page of another site
        // may not use a visitor's browser to talk to this server (Cross-Site WebSocket
        // Hijacking, RFC 6455 §10.2). The book server has no accounts, so there is no credential
        // to check; the one-port chapter's server checks both with the same `Admission`.
        let checked = serve::accept::judge(head, ECHO_PATH)
            .and_then(|accepted| self.admission.check_origin(head).map(|_| accepted))
            .and_then(|accepted| self.config.limits.protocols.agree(accepted));
        let accepted = match checked {
            Ok(accepted) => accepted,
            Err(rejection) => {
                tracing::info!(status = rejection.status, "upgrade refused: {}", rejection.message);
                refuse(request, rejection);
                return;
            }
        };
        let limits = self.config.limits.clone();
        let Some(slot) = self.websockets.take() else {
            refuse(request, self.websockets.busy());
            return;
        };
        let peer = request.remote_addr().map_or_else(|| "?".to_owned(), ToString::to_string);
        let config = limits.websocket_config();
        serve::tiny::upgrade(request, &accepted, config, format!("ws {peer}"), slot, move |ws| {
            tracing::info!(%peer, "WebSocket open at {ECHO_PATH}");
            let ending = serve::blocking::echo(ws, &limits);
            tracing::info!(%peer, ?ending, "WebSocket closed");
        });
    }
}

fn open(file: &Path) -> Option<Response<std::fs::File>> {
    let opened = std::fs::File::open(file).ok()?;
    Some(Response::from_file(opened).with_header(header("Content-Type", site::content_type(file))))
}
