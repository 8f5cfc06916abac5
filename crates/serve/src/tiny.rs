//! Serving on tiny_http (the vendored, patched one: `vendor/tiny_http/PATCHES.md`), once for the
//! three servers built on it: the book server, the request–response chapter's feed and one-port.
//!
//! - [`bind`]: the listener, with an error that says what to do when the port is taken.
//! - [`Http::start`]: tiny_http on a bound listener, with every server's limits
//!   ([`tiny_http_limits`]), and worker threads that hand each request a thread of its own
//!   ([`dispatch`]).
//! - [`head_of`]: a request as `wire` sees heads, so the same checks run here as everywhere.
//! - [`refuse`]: a refusal in the same bytes as every Duplex server, written raw: tiny_http's own
//!   `Response` silently drops `Upgrade` and `Connection` headers, and a `426` must carry
//!   `Upgrade` (RFC 9110 §15.5.22).
//! - [`upgrade`]: the hand-off: `101` through tiny_http, then the raw connection, as a tungstenite
//!   WebSocket, on a thread of its own.

use std::io::Write;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use tiny_http::{Header, ReadWrite, Request, Response};
use tungstenite::protocol::{Role, WebSocket, WebSocketConfig};
use wire::handshake::{Accepted, Rejection};
use wire::http::{Head, StartLine};

use crate::Limits;
use crate::blocking::Upgraded;

/// The shared limits as the patched tiny_http's own (`vendor/tiny_http/PATCHES.md`): the head's
/// size and time, a body read's and a write's wait, the connection cap. tiny_http drains at most
/// `max_body` bytes of a body the handler did not read; past that it closes the connection. Its
/// accepting thread paces itself as every other accept loop does (`guard::accept::Pacer`): out of
/// file descriptors, it pauses from 10 ms up to 1 s and says so once per episode (patch 15).
pub fn tiny_http_limits(limits: &Limits) -> tiny_http::Limits {
    let pacer = Arc::new(guard::accept::Pacer::new());
    let accept_pacing = tiny_http::AcceptPacing::new(move |outcome| match outcome {
        Ok(()) => {
            pacer.accepted();
            Duration::ZERO
        }
        // tiny_http's loop has no way to end on a broken listener: it waits the longest pause.
        Err(error) => pacer.failed(error).unwrap_or(guard::accept::BACKOFF_MAX),
    });
    tiny_http::Limits {
        max_head: limits.max_head,
        head_timeout: limits.handshake_timeout,
        read_timeout: Some(limits.handshake_timeout),
        write_timeout: Some(limits.send_timeout),
        max_connections: limits.max_connections,
        max_drain: limits.max_body,
        accept_pacing,
    }
}

// ANCHOR: dispatch
/// Takes requests off `http`'s queue until it is unblocked, and answers each on a thread of its
/// own.
///
/// A fixed pool of threads that answer requests themselves is at the mercy of its slowest
/// clients: a write to a client that stopped reading waits (up to the send timeout), and a few
/// such clients hold every thread of the pool while everybody else waits. A thread per request
/// costs a little more per request, and one slow client then holds only its own thread. The
/// number of such threads is bounded: the patched tiny_http reads a connection's next request
/// only after answering the last (`vendor/tiny_http/PATCHES.md`, patch 9), so there are never
/// more requests in hand than connections, and never more connections than the cap.
pub fn dispatch<F>(http: &tiny_http::Server, handle: F)
where
    F: Fn(tiny_http::Request) + Clone + Send + 'static,
{
    // `recv` fails only when the server is unblocked to stop.
    while let Ok(request) = http.recv() {
        let handle = handle.clone();
        let spawned = std::thread::Builder::new().name("request".into()).spawn(move || handle(request));
        if let Err(e) = spawned {
            // The request is dropped with the closure: tiny_http answers it with 500.
            tracing::warn!("no thread for a request: {e}");
        }
    }
}
// ANCHOR_END: dispatch

/// Why a server on tiny_http could not start.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// Another program already listens on the port.
    #[error(
        "port {port} on {host} is already in use: stop the other program, or choose another port with --port"
    )]
    PortInUse {
        /// The host asked for.
        host: String,
        /// The port asked for.
        port: u16,
    },
    /// Any other reason the address could not be bound.
    #[error("cannot listen on {host}:{port}: {source}")]
    Bind {
        /// The host asked for.
        host: String,
        /// The port asked for.
        port: u16,
        /// What the operating system said.
        source: std::io::Error,
    },
    /// tiny_http could not start on the bound listener.
    #[error("the HTTP server could not start: {0}")]
    Http(#[from] std::io::Error),
}

/// Binds `host:port` (port 0: any free port), with an error that says what to do when the port
/// is taken.
pub fn bind(host: &str, port: u16) -> Result<TcpListener, ServeError> {
    TcpListener::bind((host, port)).map_err(|source| {
        if source.kind() == std::io::ErrorKind::AddrInUse {
            ServeError::PortInUse { host: host.to_owned(), port }
        } else {
            ServeError::Bind { host: host.to_owned(), port, source }
        }
    })
}

/// A tiny_http server at work: its address, and the threads that hand out its requests.
/// Dropping it does not stop it; call [`Http::stop`].
pub struct Http {
    server: Arc<tiny_http::Server>,
    addr: SocketAddr,
    workers: Vec<JoinHandle<()>>,
}

impl std::fmt::Debug for Http {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Http").field("addr", &self.addr).field("workers", &self.workers.len()).finish()
    }
}

impl Http {
    /// Serves `listener` with `limits` ([`tiny_http_limits`]): `workers` threads take requests
    /// off tiny_http's queue and [`dispatch`] each to `handle` on a thread of its own.
    pub fn start<F>(
        listener: TcpListener,
        limits: &Limits,
        workers: usize,
        handle: F,
    ) -> std::io::Result<Http>
    where
        F: Fn(Request) + Clone + Send + 'static,
    {
        let addr = listener.local_addr()?;
        let server = tiny_http::Server::from_listener_with_limits(listener, None, tiny_http_limits(limits))
            .map_err(std::io::Error::other)?;
        let server = Arc::new(server);
        let workers = (0..workers.max(1))
            .map(|_| {
                let (server, handle) = (server.clone(), handle.clone());
                std::thread::spawn(move || dispatch(&server, handle))
            })
            .collect();
        Ok(Http { server, addr, workers })
    }

    /// The address it listens on (with the real port when port 0 was asked for).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Waits until the server stops (it runs until the process ends or [`Http::stop`]).
    pub fn wait(self) {
        for worker in self.workers {
            let _ = worker.join();
        }
    }

    /// Stops taking requests and waits for the workers. Requests in hand and upgraded
    /// connections run on to their end.
    pub fn stop(self) {
        for _ in 0..self.workers.len() {
            self.server.unblock();
        }
        self.wait();
    }
}

/// The request as `wire` sees heads, so the same handshake checks run here as in every server.
pub fn head_of(request: &Request) -> Head {
    Head {
        start: StartLine::Request {
            method: request.method().as_str().to_owned(),
            target: request.url().to_owned(),
            minor: request.http_version().1,
        },
        headers: request
            .headers()
            .iter()
            .map(|h| (h.field.as_str().as_str().to_owned(), h.value.as_str().to_owned()))
            .collect(),
        len: 0,
    }
}

/// The request's path, without its query.
pub fn path_of(request: &Request) -> &str {
    request.url().split('?').next().unwrap_or_default()
}

/// Whether tiny_http closes the connection after answering the request with this head: when the
/// request asked for it (`Connection: close`, or HTTP/1.0 without keep-alive) or offered an
/// upgrade (`Connection: Upgrade`: tiny_http reads nothing more from such a connection).
pub fn closes_after(head: &Head) -> bool {
    head.closes_connection() || head.has_token("Connection", "upgrade")
}

// ANCHOR: refuse
/// Answers `request` with `rejection`, in the same bytes as every Duplex server, written raw
/// (tiny_http's `Response` drops `Upgrade` and `Connection`). The response says
/// `Connection: close` exactly when tiny_http then closes the connection ([`closes_after`]):
/// always for a refused upgrade (RFC 9112 §9.6: whoever says it must do it, and the other way
/// round).
pub fn refuse(request: Request, rejection: Rejection) {
    let close = closes_after(&head_of(&request));
    let mut writer = request.into_writer();
    let written = writer.write_all(&rejection.response_then(close)).and_then(|()| writer.flush());
    if let Err(e) = written {
        tracing::debug!("the client left before the refusal was written: {e}");
    }
}
// ANCHOR_END: refuse

/// Sends `response` through tiny_http, with `Cache-Control: no-cache` (a page of the book or a
/// demo must not be kept stale by the browser while a class edits it).
pub fn respond<R: std::io::Read>(request: Request, response: Response<R>) {
    let response = response.with_header(header("Cache-Control", "no-cache"));
    if let Err(e) = request.respond(response) {
        tracing::debug!("the client left before the response was sent: {e}");
    }
}

/// A header from a constant name and an ASCII value (tokens, base64, paths, what tiny_http
/// checked already), which tiny_http always accepts.
pub fn header(name: &str, value: &str) -> Header {
    Header::from_bytes(name.as_bytes(), value.as_bytes())
        .unwrap_or_else(|()| panic!("bad header {name}: {value}"))
}

/// The WebSocket a server gets from [`upgrade`]: tungstenite over tiny_http's raw connection,
/// with a handle on the socket for timeouts.
pub type TinyWebSocket = WebSocket<Upgraded<Box<dyn ReadWrite + Send>>>;

// ANCHOR: upgrade
/// Hands an accepted upgrade over to a WebSocket: tiny_http writes `101 Switching Protocols`
/// (adding `Upgrade` and `Connection` itself) with our `Sec-WebSocket-Accept`, and gives up the
/// connection; tungstenite takes it, with `config`, and `session` runs on a thread named `name`,
/// holding `hold` (a connection slot) until it returns. After the `101` the connection is no
/// longer HTTP: tiny_http never reads from it again.
pub fn upgrade<H, F>(
    request: Request,
    accepted: &Accepted,
    config: WebSocketConfig,
    name: String,
    hold: H,
    session: F,
) where
    H: Send + 'static,
    F: FnOnce(&mut TinyWebSocket) + Send + 'static,
{
    let mut response = Response::empty(101).with_header(header("Sec-WebSocket-Accept", &accepted.accept));
    if let Some(protocol) = &accepted.protocol {
        response.add_header(header("Sec-WebSocket-Protocol", protocol));
    }
    // The socket's handle, for the session's timeouts (tiny_http's stream hides it).
    let socket: Option<Arc<TcpStream>> = request.socket();
    let stream = request.upgrade("websocket", response);
    let spawned = std::thread::Builder::new().name(name).spawn(move || {
        let _hold = hold;
        let mut ws = WebSocket::from_raw_socket(Upgraded { stream, socket }, Role::Server, Some(config));
        session(&mut ws);
    });
    if let Err(e) = spawned {
        // The connection is dropped with the closure: the client sees it close after the 101.
        tracing::warn!("no thread for a WebSocket: {e}");
    }
}
// ANCHOR_END: upgrade
