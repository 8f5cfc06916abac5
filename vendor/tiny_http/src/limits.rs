//! DUPLEX PATCH (see PATCHES.md): limits on what one client may take from the server.
//!
//! tiny_http 0.12.0 has none: no socket timeouts, no limit on a request head, no cap on
//! connections, and an unread body is drained into a buffer as large as the client's
//! `Content-Length` says. These are the knobs the patches add, with safe defaults, so that
//! `Server::from_listener(listener, None)` is already protected.

use std::net::{Shutdown, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Limits a [`Server`](crate::Server) applies to every connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// Largest request head (request line and headers), in bytes: beyond it, `431` and close.
    pub max_head: usize,
    /// How long a client may take to send a whole request head, counted from when the server
    /// starts waiting for it (on a kept-alive connection, from the end of the previous request):
    /// beyond it, `408` and close (or a silent close if nothing of the request arrived yet).
    pub head_timeout: Duration,
    /// How long one read of a request body may wait (`None`: for ever).
    pub read_timeout: Option<Duration>,
    /// How long one write to the client may wait (`None`: for ever).
    pub write_timeout: Option<Duration>,
    /// Most connections at once; beyond it, a new connection gets `503` and is closed.
    pub max_connections: usize,
    /// Most bytes of an unread body thrown away to keep the connection for the next request;
    /// a larger unread body closes the connection instead of being read.
    pub max_drain: usize,
    /// DUPLEX PATCH (PATCHES.md, 15): how the accepting thread paces itself after `accept`.
    pub accept_pacing: AcceptPacing,
}

/// DUPLEX PATCH (PATCHES.md, 15): what the accepting thread does after each `accept`: it reports
/// the outcome (`Ok(())` for a connection, the error otherwise) and waits as long as it is told
/// before the next try. A failed `accept` for want of file descriptors (`EMFILE`) leaves the
/// connection queued, so the next `accept` fails at once: a loop that does not wait spins. The
/// application decides how long to wait and what to log (Duplex: `guard::accept::Pacer`, the
/// same backoff as every other server); the default waits 20 ms after each error and logs it.
#[derive(Clone)]
pub struct AcceptPacing(Arc<Pace>);

/// Told an `accept`'s outcome, returns how long to wait before the next.
type Pace = dyn Fn(Result<(), &std::io::Error>) -> Duration + Send + Sync;

impl AcceptPacing {
    /// Pacing by `pace`: told each outcome, it returns how long to wait before the next `accept`.
    pub fn new(pace: impl Fn(Result<(), &std::io::Error>) -> Duration + Send + Sync + 'static) -> Self {
        AcceptPacing(Arc::new(pace))
    }

    /// How long to wait after this outcome.
    pub fn after(&self, outcome: Result<(), &std::io::Error>) -> Duration {
        (self.0)(outcome)
    }
}

impl Default for AcceptPacing {
    fn default() -> Self {
        AcceptPacing::new(|outcome| match outcome {
            Ok(()) => Duration::ZERO,
            Err(e) => {
                log::error!("Error accepting new client: {}", e);
                Duration::from_millis(20)
            }
        })
    }
}

impl std::fmt::Debug for AcceptPacing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AcceptPacing(..)")
    }
}

impl PartialEq for AcceptPacing {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

impl Eq for AcceptPacing {}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_head: 8 * 1024,
            head_timeout: Duration::from_secs(10),
            read_timeout: Some(Duration::from_secs(10)),
            write_timeout: Some(Duration::from_secs(10)),
            max_connections: 1024,
            max_drain: 64 * 1024,
            accept_pacing: AcceptPacing::default(),
        }
    }
}

/// What the reads of one connection currently wait for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// A request head, due by this instant.
    Head(Instant),
    /// A body: each read may wait `read_timeout`.
    Body,
    /// The connection was upgraded: the application sets its own timeouts.
    Off,
}

/// One connection's socket options, shared by its reader, its requests and its upgrade.
#[derive(Debug)]
pub(crate) struct Timing {
    socket: Option<Arc<TcpStream>>,
    limits: Limits,
    mode: Mutex<(Mode, Option<Mode>)>,
}

impl Timing {
    pub(crate) fn new(socket: Option<Arc<TcpStream>>, limits: Limits) -> Arc<Timing> {
        if let Some(socket) = &socket {
            let _ = socket.set_write_timeout(limits.write_timeout);
        }
        Arc::new(Timing { socket, limits, mode: Mutex::new((Mode::Body, None)) })
    }

    pub(crate) fn limits(&self) -> &Limits {
        &self.limits
    }

    /// The next reads are a request head, due within `head_timeout` from now.
    pub(crate) fn start_head(&self) {
        self.set(Mode::Head(Instant::now() + self.limits.head_timeout));
    }

    /// The next reads are a body.
    pub(crate) fn start_body(&self) {
        self.set(Mode::Body);
    }

    /// The connection was upgraded: no read timeout of ours from now on.
    pub(crate) fn upgraded(&self) {
        self.set(Mode::Off);
        if let Some(socket) = &self.socket {
            let _ = socket.set_read_timeout(None);
        }
    }

    fn set(&self, mode: Mode) {
        let mut guard = self.mode.lock().unwrap_or_else(|e| e.into_inner());
        if guard.0 != Mode::Off {
            guard.0 = mode;
        }
    }

    /// Called before each read from the socket: applies the read timeout the mode asks for.
    /// Fails with `TimedOut` if a head is already overdue.
    pub(crate) fn before_read(&self) -> std::io::Result<()> {
        let Some(socket) = &self.socket else { return Ok(()) };
        let mut guard = self.mode.lock().unwrap_or_else(|e| e.into_inner());
        let (mode, applied) = *guard;
        match mode {
            Mode::Head(deadline) => {
                let left = deadline.saturating_duration_since(Instant::now());
                if left.is_zero() {
                    return Err(timed_out());
                }
                socket.set_read_timeout(Some(left))?;
                guard.1 = Some(mode);
            }
            Mode::Body if applied != Some(Mode::Body) => {
                socket.set_read_timeout(self.limits.read_timeout)?;
                guard.1 = Some(Mode::Body);
            }
            Mode::Body | Mode::Off => {}
        }
        Ok(())
    }

    /// A read error as the caller should see it: a socket timeout is `TimedOut` (Linux reports it
    /// as `WouldBlock`), unless the application owns the timeouts.
    pub(crate) fn after_error(&self, error: std::io::Error) -> std::io::Error {
        let mode = self.mode.lock().unwrap_or_else(|e| e.into_inner()).0;
        if mode != Mode::Off && error.kind() == std::io::ErrorKind::WouldBlock {
            return timed_out();
        }
        error
    }

    /// A write error as the caller should see it: a socket timeout is `TimedOut`, and it closes
    /// the connection (a half-written response cannot be followed by another).
    pub(crate) fn after_write_error(&self, error: std::io::Error) -> std::io::Error {
        let mode = self.mode.lock().unwrap_or_else(|e| e.into_inner()).0;
        if mode != Mode::Off && matches!(error.kind(), std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut) {
            self.abandon();
            return timed_out();
        }
        error
    }

    /// Stops reading the connection (an unread body too large to drain): the response being
    /// written still goes out, then the connection ends instead of reading the body as a head.
    pub(crate) fn stop_reading(&self) {
        if let Some(socket) = &self.socket {
            let _ = socket.shutdown(Shutdown::Read);
        }
    }

    /// Closes both directions of the connection: what is already written still goes out.
    pub(crate) fn abandon(&self) {
        if let Some(socket) = &self.socket {
            let _ = socket.shutdown(Shutdown::Both);
        }
    }

    /// A handle on the connection's socket, for the application (DUPLEX PATCH 14: shared, not
    /// a duplicate).
    pub(crate) fn socket(&self) -> Option<Arc<TcpStream>> {
        self.socket.clone()
    }
}

fn timed_out() -> std::io::Error {
    std::io::Error::new(std::io::ErrorKind::TimedOut, "the client was too slow")
}
