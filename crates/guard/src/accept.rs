//! Accepting connections, for every server in the workspace: one loop, async and blocking, that
//! backs off when the process runs out of file descriptors instead of spinning.
//!
//! Every TCP connection a server holds is a *file descriptor*, a small number the kernel hands
//! out, and a process may hold only so many (`ulimit -n`, often 1,024). When the table is full,
//! `accept` fails with `EMFILE` (`ENFILE` when the whole machine is full; `ENOBUFS` or `ENOMEM`
//! when the kernel is short of memory). The trap: a failed `accept` leaves the client's connection
//! waiting in the listen queue, so the next `accept` fails again at once. A loop that logs the
//! error and tries again is a busy loop that floods its log: measured before this module, five
//! of the workspace's servers spent a whole core and wrote up to 840,000 log lines in three
//! seconds, met by 100 clients under `ulimit -n 64`.
//!
//! So after a failed `accept` the loop pauses, starting at [`BACKOFF_START`] and doubling up to
//! [`BACKOFF_MAX`], and starts again from the beginning after the next success. It says so once
//! per episode ("out of file descriptors (EMFILE); pausing accepts") and once when it recovers
//! (how long it paused, how many accepts failed); more often than every [`LOG_EVERY`] it says
//! nothing new and counts instead. Clients that arrive meanwhile wait in the listen queue and
//! are served as soon as descriptors are free again. nginx does much the same (it stops
//! accepting for 500 ms on `EMFILE`), and so does tokio's mini-redis (exponential backoff).
//!
//! The loop also takes each connection's [`Slot`](crate::Slot): past
//! [`Limits::max_connections`](crate::Limits) a client is refused at once ([`WhenFull`]),
//! before it can take anything else.
//!
//! # Layout
//! - [`Backoff`]: the pause after each failure, and the log lines, as a plain state machine.
//! - [`Pacer`]: the backoff and its log lines for any accept loop (tiny_http's too).
//! - [`Acceptor`] / [`BlockingAcceptor`]: a listener whose `accept` waits out resource errors.
//! - [`serve`], [`serve_until`]: the async accept loop, a task per connection.
//! - [`serve_blocking`]: the blocking accept loop, a thread per connection.

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use tokio::net::{TcpListener, TcpStream};
use wire::handshake::Rejection;

use crate::slots::{Slot, Slots};

// ANCHOR: constants
/// The first pause after a failed `accept`: short, because most episodes are a burst of
/// connections that ends within milliseconds.
pub const BACKOFF_START: Duration = Duration::from_millis(10);

/// The longest pause between two tries. A second is short enough that a client waiting in the
/// listen queue is served soon after descriptors are free again, and long enough that a server
/// stuck at its limit costs nothing: about ten tries in ten seconds.
pub const BACKOFF_MAX: Duration = Duration::from_secs(1);

/// At most one log line about accepting per this much time; in between, failures and recoveries
/// are counted and said on the next line.
pub const LOG_EVERY: Duration = Duration::from_secs(1);
// ANCHOR_END: constants

/// What a failed `accept` means, for the log line.
fn what_ran_out(error: &io::Error) -> &'static str {
    match resource(error) {
        Some(Resource::Descriptors) => "out of file descriptors (EMFILE)",
        Some(Resource::SystemDescriptors) => "the whole system is out of file descriptors (ENFILE)",
        Some(Resource::Memory) => "the kernel is out of memory for sockets (ENOBUFS/ENOMEM)",
        None => "accept failed",
    }
}

/// The resources whose exhaustion makes `accept` fail while the connection stays queued.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Resource {
    /// This process's descriptor table is full (`EMFILE`).
    Descriptors,
    /// The system's descriptor table is full (`ENFILE`).
    SystemDescriptors,
    /// The kernel has no memory for another socket (`ENOBUFS`, `ENOMEM`).
    Memory,
}

/// Which resource ran out, if `error` is an exhausted resource.
pub fn resource(error: &io::Error) -> Option<Resource> {
    if error.kind() == io::ErrorKind::OutOfMemory {
        return Some(Resource::Memory);
    }
    let code = error.raw_os_error()?;
    #[cfg(unix)]
    {
        use rustix::io::Errno;
        if code == Errno::MFILE.raw_os_error() {
            return Some(Resource::Descriptors);
        }
        if code == Errno::NFILE.raw_os_error() {
            return Some(Resource::SystemDescriptors);
        }
        if code == Errno::NOBUFS.raw_os_error() || code == Errno::NOMEM.raw_os_error() {
            return Some(Resource::Memory);
        }
    }
    #[cfg(windows)]
    {
        // WSAEMFILE and WSAENOBUFS.
        match code {
            10024 => return Some(Resource::Descriptors),
            10055 => return Some(Resource::Memory),
            _ => {}
        }
    }
    let _ = code;
    None
}

/// The pause after each failed `accept` and what to log, as a state machine with no I/O, so the
/// tests can drive it with made-up instants.
#[derive(Debug)]
pub struct Backoff {
    /// The next pause, or `None` while accepts succeed.
    pause: Option<Duration>,
    /// When the first failure not yet reported as recovered happened.
    since: Option<Instant>,
    /// Failures not yet reported.
    failed: u64,
    /// Whether the current trouble has been announced.
    announced: bool,
    /// When the last line was logged.
    last_line: Option<Instant>,
}

/// A line [`Backoff`] wants logged.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Line {
    /// The first failure of an episode: what ran out, and that accepts pause.
    Pausing(String),
    /// Accepts work again: how long the trouble lasted and how many accepts failed meanwhile.
    Recovered {
        /// From the first failure to the success.
        lasted: Duration,
        /// Failed accepts in that time.
        failed: u64,
    },
}

impl std::fmt::Display for Line {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Line::Pausing(what) => write!(
                f,
                "{what}; pausing accepts ({} ms, doubling up to {} s, until one succeeds)",
                BACKOFF_START.as_millis(),
                BACKOFF_MAX.as_secs()
            ),
            Line::Recovered { lasted, failed } => write!(
                f,
                "accepting again after {:.1} s; {failed} accept{} failed meanwhile (those clients waited in the listen queue)",
                lasted.as_secs_f64(),
                if *failed == 1 { "" } else { "s" }
            ),
        }
    }
}

impl Default for Backoff {
    fn default() -> Self {
        Backoff::new()
    }
}

impl Backoff {
    /// No trouble yet.
    pub fn new() -> Backoff {
        Backoff { pause: None, since: None, failed: 0, announced: false, last_line: None }
    }

    fn may_log(&self, now: Instant) -> bool {
        self.last_line.is_none_or(|last| now.saturating_duration_since(last) >= LOG_EVERY)
    }

    /// An `accept` failed at `now`: how long to pause before the next, and a line to log, if
    /// one is due.
    pub fn failed(&mut self, now: Instant, error: &io::Error) -> (Duration, Option<Line>) {
        let pause = match self.pause {
            None => BACKOFF_START,
            Some(last) => (last * 2).min(BACKOFF_MAX),
        };
        self.pause = Some(pause);
        self.since.get_or_insert(now);
        self.failed += 1;
        let line = if !self.announced && self.may_log(now) {
            self.announced = true;
            self.last_line = Some(now);
            Some(Line::Pausing(what_ran_out(error).to_owned()))
        } else {
            None
        };
        (pause, line)
    }

    /// An `accept` succeeded at `now`: the pause starts again from the beginning next time, and
    /// the recovery is reported if a line is due (otherwise it is said with the next line).
    pub fn succeeded(&mut self, now: Instant) -> Option<Line> {
        self.pause = None;
        let since = self.since?;
        if !self.may_log(now) {
            return None;
        }
        let line = Line::Recovered { lasted: now.saturating_duration_since(since), failed: self.failed };
        self.since = None;
        self.failed = 0;
        self.announced = false;
        self.last_line = Some(now);
        Some(line)
    }

    /// Whether accepts are failing now (the last one failed).
    pub fn troubled(&self) -> bool {
        self.pause.is_some()
    }
}

fn log(line: Option<Line>) {
    match line {
        Some(line @ Line::Pausing(_)) => tracing::warn!("{line}"),
        Some(line @ Line::Recovered { .. }) => tracing::info!("{line}"),
        None => {}
    }
}

/// Whether the loop waits out a failed `accept` rather than ending: every error but a listener
/// that is not listening. Besides exhausted resources, `accept` reports errors of one queued
/// connection (reset before it was accepted, `EPROTO`, …) and interruptions by signals; pausing
/// after those costs at most [`BACKOFF_START`] and makes sure that no error, known or not, can
/// turn the loop into a busy loop.
fn passing(error: &io::Error) -> bool {
    !matches!(error.kind(), io::ErrorKind::InvalidInput | io::ErrorKind::NotConnected)
}

/// The pacing of one accept loop, for a loop written elsewhere (tiny_http's accepting thread,
/// `serve::tiny`): tell it each `accept`'s outcome, and it logs once per episode and says how long
/// to pause. [`Acceptor`] and [`BlockingAcceptor`] are a listener and a `Pacer`.
#[derive(Debug, Default)]
pub struct Pacer(Mutex<Backoff>);

impl Pacer {
    /// No trouble yet.
    pub fn new() -> Pacer {
        Pacer(Mutex::new(Backoff::new()))
    }

    /// An `accept` succeeded: any trouble is over (and reported, when a line is due).
    pub fn accepted(&self) {
        let line = self.0.lock().unwrap_or_else(PoisonError::into_inner).succeeded(Instant::now());
        log(line);
    }

    /// An `accept` failed: the pause before the next try, after logging the episode's first line;
    /// or `None` when the error means the listener is broken and the loop must end.
    pub fn failed(&self, error: &io::Error) -> Option<Duration> {
        if !passing(error) {
            return None;
        }
        let (pause, line) =
            self.0.lock().unwrap_or_else(PoisonError::into_inner).failed(Instant::now(), error);
        log(line);
        tracing::debug!("accept failed: {error}; next try in {pause:?}");
        Some(pause)
    }

    /// What a loop does with `accept`'s result: the connection, or the pause before the next
    /// try, or the error that ends the loop.
    fn judge<T>(&self, result: io::Result<T>) -> io::Result<Result<T, Duration>> {
        match result {
            Ok(accepted) => {
                self.accepted();
                Ok(Ok(accepted))
            }
            Err(error) => match self.failed(&error) {
                Some(pause) => Ok(Err(pause)),
                None => Err(error),
            },
        }
    }
}

/// A tokio listener whose [`accept`](Acceptor::accept) waits out resource errors.
#[derive(Debug)]
pub struct Acceptor {
    listener: TcpListener,
    pacer: Pacer,
}

impl Acceptor {
    /// Accepts from `listener`.
    pub fn new(listener: TcpListener) -> Acceptor {
        Acceptor { listener, pacer: Pacer::new() }
    }

    /// The address it listens on.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// The next connection. A failure for want of a resource pauses (see the module doc) and
    /// tries again; only a broken listener is an error. Cancel-safe: dropped during a pause, it
    /// loses nothing.
    pub async fn accept(&self) -> io::Result<(TcpStream, SocketAddr)> {
        loop {
            let result = self.listener.accept().await;
            match self.pacer.judge(result)? {
                Ok(accepted) => return Ok(accepted),
                Err(pause) => tokio::time::sleep(pause).await,
            }
        }
    }
}

/// A blocking listener whose [`accept`](BlockingAcceptor::accept) waits out resource errors.
#[derive(Debug)]
pub struct BlockingAcceptor {
    listener: std::net::TcpListener,
    pacer: Pacer,
}

impl BlockingAcceptor {
    /// Accepts from `listener`.
    pub fn new(listener: std::net::TcpListener) -> BlockingAcceptor {
        BlockingAcceptor { listener, pacer: Pacer::new() }
    }

    /// The next connection, as [`Acceptor::accept`], blocking the thread.
    pub fn accept(&self) -> io::Result<(std::net::TcpStream, SocketAddr)> {
        loop {
            match self.pacer.judge(self.listener.accept())? {
                Ok(accepted) => return Ok(accepted),
                Err(pause) => std::thread::sleep(pause),
            }
        }
    }
}

/// What a server tells a client it has no [`Slot`] for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WhenFull {
    /// An HTTP server: `503 Service Unavailable` with `Retry-After` ([`Slots::busy`]).
    Http503,
    /// Raw TCP has no way to say "busy": the connection is closed at once.
    Close,
}

/// Refuses a connection that found every slot taken, on a task of its own so that a client
/// that does not read cannot hold up the accept loop.
fn refuse(stream: TcpStream, peer: SocketAddr, slots: &Slots, full: WhenFull) {
    tracing::debug!(%peer, "refused: the server is at its limit of {} connections", slots.max());
    if full == WhenFull::Http503 {
        let busy: Rejection = slots.busy();
        tokio::spawn(async move {
            let mut stream = stream;
            let _: Result<(), _> = crate::refuse::send_rejection(&mut stream, busy).await;
        });
    }
}

// ANCHOR: serve
/// Accepts connections on `listener` until it breaks, and runs `handle` on a task of its own for
/// each, while it holds one of `slots`; past the limit a client gets `full`. Resource errors
/// pause the loop (see the module doc).
pub async fn serve<H, F>(listener: TcpListener, slots: Slots, full: WhenFull, handle: H) -> io::Result<()>
where
    H: Fn(TcpStream, SocketAddr) -> F,
    F: Future<Output = ()> + Send + 'static,
{
    serve_until(listener, slots, full, std::future::pending(), handle).await
}
// ANCHOR_END: serve

/// [`serve`] until `stop` completes; then it closes the listener and returns once every
/// connection's task has ended (each is expected to see the same signal and close). Closing the
/// listener at once, rather than when the last connection is done, matters behind a proxy: a
/// listener that is open but no longer accepting lets new connections in (the kernel completes
/// their handshake into its queue) and leaves them hanging, while a closed one refuses them, and
/// the proxy tries another server.
pub async fn serve_until<H, F>(
    listener: TcpListener,
    slots: Slots,
    full: WhenFull,
    stop: impl Future<Output = ()>,
    handle: H,
) -> io::Result<()>
where
    H: Fn(TcpStream, SocketAddr) -> F,
    F: Future<Output = ()> + Send + 'static,
{
    let acceptor = Acceptor::new(listener);
    let mut connections = tokio::task::JoinSet::new();
    let mut stop = std::pin::pin!(stop);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = acceptor.accept() => accepted?,
            // Forget connections that are over, so the set does not grow for ever.
            Some(_) = connections.join_next(), if !connections.is_empty() => continue,
            () = &mut stop => {
                drop(acceptor);
                while connections.join_next().await.is_some() {}
                return Ok(());
            }
        };
        let _ = stream.set_nodelay(true);
        let Some(slot) = slots.take() else {
            refuse(stream, peer, &slots, full);
            continue;
        };
        let work = handle(stream, peer);
        connections.spawn(async move {
            let _slot: Slot = slot;
            work.await;
        });
    }
}

/// Accepts connections on `listener` until it breaks, and runs `handle` on a thread of its own
/// (named `name`) for each, while it holds one of `slots`; past the limit a client gets `full`,
/// written on the accepting thread (a short write into an empty send buffer).
pub fn serve_blocking<H>(
    listener: std::net::TcpListener,
    slots: Slots,
    full: WhenFull,
    name: &str,
    handle: H,
) -> io::Result<()>
where
    H: Fn(std::net::TcpStream, SocketAddr) + Clone + Send + 'static,
{
    let acceptor = BlockingAcceptor::new(listener);
    loop {
        let (mut stream, peer) = acceptor.accept()?;
        let _ = stream.set_nodelay(true);
        let Some(slot) = slots.take() else {
            tracing::debug!(%peer, "refused: the server is at its limit of {} connections", slots.max());
            if full == WhenFull::Http503 {
                let _ = stream.set_write_timeout(Some(Duration::from_secs(1)));
                let _: Result<(), _> = crate::refuse::send_rejection_blocking(&mut stream, slots.busy());
            }
            continue;
        };
        let handle = handle.clone();
        let spawned = std::thread::Builder::new().name(name.to_owned()).spawn(move || {
            let _slot: Slot = slot;
            handle(stream, peer);
        });
        if let Err(e) = spawned {
            // Out of threads is another exhausted resource: the connection is dropped (closed),
            // and the loop pauses as it would for descriptors.
            tracing::warn!("no thread for a connection: {e}");
            std::thread::sleep(BACKOFF_START);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn emfile() -> io::Error {
        #[cfg(unix)]
        return io::Error::from_raw_os_error(rustix::io::Errno::MFILE.raw_os_error());
        #[cfg(not(unix))]
        return io::Error::from_raw_os_error(10024);
    }

    #[tokio::test]
    async fn once_stopped_the_loop_refuses_new_connections_while_old_ones_finish() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let (finish, finished) = tokio::sync::watch::channel(false);
        let (started, mut serving_one) = tokio::sync::mpsc::unbounded_channel();
        let serving = tokio::spawn(serve_until(
            listener,
            Slots::new(4),
            WhenFull::Close,
            async {
                let _ = stopped.await;
            },
            move |_stream, _peer| {
                let mut finished = finished.clone();
                let _ = started.send(());
                async move {
                    let _ = finished.wait_for(|f| *f).await;
                }
            },
        ));
        let _open = TcpStream::connect(addr).await.unwrap();
        serving_one.recv().await.unwrap();
        let _ = stop.send(());
        // The loop is draining its one connection; a newcomer must be refused, not queued.
        let mut refused = false;
        for _ in 0..200 {
            let attempt = tokio::time::timeout(Duration::from_secs(1), TcpStream::connect(addr)).await;
            if let Ok(Err(e)) = attempt
                && e.kind() == io::ErrorKind::ConnectionRefused
            {
                refused = true;
                break;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        assert!(refused, "a stopped loop must close its listener at once, not after the last connection");
        assert!(!serving.is_finished(), "the old connection is still being served");
        finish.send_replace(true);
        serving.await.unwrap().unwrap();
    }

    #[test]
    fn the_pause_doubles_from_10_ms_to_1_s_and_starts_again_after_a_success() {
        let mut backoff = Backoff::new();
        let start = Instant::now();
        let pauses: Vec<u128> = (0..10)
            .map(|i| backoff.failed(start + Duration::from_millis(i), &emfile()).0.as_millis())
            .collect();
        assert_eq!(pauses, [10, 20, 40, 80, 160, 320, 640, 1000, 1000, 1000]);
        assert!(backoff.troubled());
        backoff.succeeded(start + Duration::from_secs(5));
        assert!(!backoff.troubled());
        assert_eq!(backoff.failed(start + Duration::from_secs(6), &emfile()).0, BACKOFF_START);
    }

    #[test]
    fn an_episode_is_one_line_when_it_starts_and_one_when_it_ends() {
        let mut backoff = Backoff::new();
        let t = Instant::now();
        let mut lines = Vec::new();
        for i in 0..50 {
            lines.extend(backoff.failed(t + Duration::from_millis(i * 100), &emfile()).1);
        }
        lines.extend(backoff.succeeded(t + Duration::from_secs(6)));
        assert_eq!(lines.len(), 2, "{lines:?}");
        assert_eq!(
            lines[0].to_string(),
            "out of file descriptors (EMFILE); pausing accepts (10 ms, doubling up to 1 s, until one succeeds)"
        );
        assert_eq!(
            lines[1],
            Line::Recovered { lasted: Duration::from_secs(6), failed: 50 },
            "the recovery says how long and how many"
        );
    }

    #[test]
    fn a_server_that_flaps_at_its_limit_logs_at_most_once_a_second() {
        // Each connection that ends frees a descriptor: one accept succeeds, the next fails.
        let mut backoff = Backoff::new();
        let t = Instant::now();
        let mut lines = 0;
        for ms in 0..3000u64 {
            let now = t + Duration::from_millis(ms);
            lines += usize::from(backoff.failed(now, &emfile()).1.is_some());
            lines += usize::from(backoff.succeeded(now).is_some());
        }
        assert!(lines <= 4, "{lines} lines in 3 s of flapping");
    }

    #[test]
    fn only_exhausted_resources_count_as_such() {
        assert_eq!(resource(&emfile()), Some(Resource::Descriptors));
        assert_eq!(resource(&io::Error::from(io::ErrorKind::ConnectionAborted)), None);
        assert!(passing(&io::Error::from(io::ErrorKind::ConnectionAborted)));
        assert!(!passing(&io::Error::from(io::ErrorKind::InvalidInput)), "a broken listener ends the loop");
    }
}
