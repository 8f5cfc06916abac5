//! The feed over HTTP, on tiny_http: the four endpoints and the WebSocket feed.
//!
//! | request | answer |
//! | --- | --- |
//! | `GET /messages?since=N` | short poll: `200` and a JSON list of what is newer than N, at once (maybe `[]`) |
//! | `GET /messages/wait?since=N&timeout=S` | long poll: `200` as soon as there is something newer, or `204` after S seconds (at most [`MAX_WAIT`](crate::limits::MAX_WAIT)) |
//! | `GET /events` | Server-Sent Events: one `text/event-stream` response that never ends, resuming after `Last-Event-ID` |
//! | `POST /messages` | publish the body (plain text, or JSON `{"text": …}`); `413` over [`MAX_BODY`](crate::limits::MAX_BODY) |
//! | `GET /ws` + `Upgrade: websocket` | the same feed as WebSocket text frames |
//!
//! [`Service::handle`] answers one `tiny_http::Request` for a path relative to where the feed is
//! mounted, so the book server can put the same handlers under `/feed`. It returns quickly: a
//! request that waits (a long poll, an event stream, a WebSocket) gets a thread of its own, at
//! most [`Limits::max_waiters`] of them and [`Limits::max_waiters_per_client`] from one client
//! address, so that page loads are never stuck behind waiting requests. One more waiting request
//! gets `503` with `Retry-After`. A waiting long poll or event stream looks at its socket every
//! [`Limits::wait_check`] and ends when its client has gone ([`crate::presence`]).
//!
//! Every answer about the feed's messages carries `Feed-Instance` ([`INSTANCE_HEADER`]): which
//! life of the feed the ids belong to (see [`crate::feed`]).

use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::{IpAddr, Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::time::{Duration, Instant};

use tiny_http::{Method, Request};

use crate::feed::{Feed, Message, Wait};
use crate::limits::Limits;
use crate::presence;
use crate::reply::{QueryError, Reply, number, query, wire_head};
use crate::sse::{self, Framing};

/// The header that names the feed's instance on every answer about its messages: ids are
/// positions in one instance, and a client that sees it change starts again from 0.
pub const INSTANCE_HEADER: &str = "Feed-Instance";

/// Threads that take requests off tiny_http's queue and hand each to a thread of its own (see
/// [`dispatch`]).
pub const WORKERS: usize = 2;

/// Answers each request on a thread of its own: see [`serve::tiny::dispatch`].
pub use serve::tiny::dispatch;

/// The paths of the feed, relative to where it is mounted.
pub mod paths {
    /// Short polling (`GET`) and publishing (`POST`).
    pub const MESSAGES: &str = "/messages";
    /// Long polling.
    pub const WAIT: &str = "/messages/wait";
    /// Server-Sent Events.
    pub const EVENTS: &str = "/events";
    /// The WebSocket feed.
    pub const WS: &str = "/ws";
}

/// The feed's HTTP side: cheap to clone, shared by every worker.
#[derive(Clone)]
pub struct Service {
    inner: Arc<Inner>,
}

struct Inner {
    feed: Arc<Feed>,
    limits: Limits,
    /// Requests waiting right now (long polls, streams, WebSockets), and a signal when it changes.
    waits: Mutex<Waits>,
    waits_changed: Condvar,
}

#[derive(Default)]
struct Waits {
    total: usize,
    /// Per client address; an address with none is removed, so the map holds only live ones.
    by_client: HashMap<IpAddr, usize>,
}

/// A place for one waiting request, given back when dropped.
pub(crate) struct Slot(Arc<Inner>, Option<IpAddr>);

impl Drop for Slot {
    fn drop(&mut self) {
        let mut waits = self.0.waits.lock().unwrap_or_else(PoisonError::into_inner);
        waits.total -= 1;
        if let Some(client) = self.1
            && let Some(n) = waits.by_client.get_mut(&client)
        {
            *n -= 1;
            if *n == 0 {
                waits.by_client.remove(&client);
            }
        }
        drop(waits);
        self.0.waits_changed.notify_all();
    }
}

/// Why a waiting request was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Busy {
    /// [`Limits::max_waiters`] are waiting.
    Full,
    /// [`Limits::max_waiters_per_client`] are waiting from this address.
    Client(IpAddr),
}

impl Service {
    /// A service for `feed` with these limits.
    pub fn new(feed: Arc<Feed>, limits: Limits) -> Service {
        Service {
            inner: Arc::new(Inner { feed, limits, waits: Mutex::default(), waits_changed: Condvar::new() }),
        }
    }

    /// The feed it serves.
    pub fn feed(&self) -> &Arc<Feed> {
        &self.inner.feed
    }

    /// Its limits.
    pub fn limits(&self) -> &Limits {
        &self.inner.limits
    }

    /// How many requests are waiting right now.
    pub fn open_waits(&self) -> usize {
        self.inner.waits.lock().unwrap_or_else(PoisonError::into_inner).total
    }

    /// Blocks until exactly `n` requests are waiting, or `limit` has passed (then `false`).
    pub fn wait_for_open_waits(&self, n: usize, limit: Duration) -> bool {
        let deadline = Instant::now() + limit;
        let mut waits = self.inner.waits.lock().unwrap_or_else(PoisonError::into_inner);
        while waits.total != n {
            let Some(left) = deadline.checked_duration_since(Instant::now()) else { return false };
            waits =
                self.inner.waits_changed.wait_timeout(waits, left).unwrap_or_else(PoisonError::into_inner).0;
        }
        true
    }

    // ANCHOR: slot
    /// A slot for a request from `client` that will wait, or why there is none:
    /// [`Limits::max_waiters`] are taken, or [`Limits::max_waiters_per_client`] by this address.
    pub(crate) fn take_slot(&self, client: Option<IpAddr>) -> Result<Slot, Busy> {
        let limits = &self.inner.limits;
        // This machine's own clients (you, the Tap, a proxy in front) are not counted per
        // address: everything they relay would share one address.
        let client = client.filter(|ip| !ip.to_canonical().is_loopback());
        let mut waits = self.inner.waits.lock().unwrap_or_else(PoisonError::into_inner);
        if waits.total >= limits.max_waiters {
            return Err(Busy::Full);
        }
        if let Some(client) = client {
            let mine = waits.by_client.entry(client).or_default();
            if *mine >= limits.max_waiters_per_client {
                return Err(Busy::Client(client));
            }
            *mine += 1;
        }
        waits.total += 1;
        drop(waits);
        self.inner.waits_changed.notify_all();
        Ok(Slot(self.inner.clone(), client))
    }

    pub(crate) fn busy_reply(&self, busy: Busy) -> Reply {
        let limits = &self.inner.limits;
        let retry = limits.retry_after.as_secs();
        let line = match busy {
            Busy::Full => format!(
                "{} requests are already waiting, the most this server holds at once; try again in {retry} s",
                limits.max_waiters
            ),
            Busy::Client(client) => format!(
                "{} requests from {client} are already waiting, the most one client may have; try again in {retry} s",
                limits.max_waiters_per_client
            ),
        };
        Reply::text(503, &line).with("Retry-After", retry.to_string())
    }
    // ANCHOR_END: slot

    /// `reply` with the feed's instance ([`INSTANCE_HEADER`]).
    fn stating_instance(&self, reply: Reply) -> Reply {
        reply.with(INSTANCE_HEADER, self.feed().instance().to_string())
    }

    /// Answers one request for `path`, the request's path relative to where the feed is
    /// mounted (`/messages`, not `/feed/messages`). Any path that is not the feed's gets `404`.
    pub fn handle(&self, request: Request, path: &str) {
        let method = request.method().clone();
        match (path, &method) {
            (paths::MESSAGES, Method::Get | Method::Head) => self.short_poll(request),
            (paths::MESSAGES, Method::Post) => self.publish(request),
            (paths::MESSAGES, _) => not_allowed(request, "GET, HEAD, POST"),
            (paths::WAIT, Method::Get) => self.long_poll(request),
            (paths::EVENTS, Method::Get) => self.events(request),
            (paths::WS, Method::Get) => crate::ws_feed::upgrade(self, request),
            (paths::WAIT | paths::EVENTS | paths::WS, _) => not_allowed(request, "GET"),
            _ => {
                let url = request.url().split('?').next().unwrap_or_default().to_owned();
                let line =
                    format!("nothing at {url}; the feed answers at messages, messages/wait, events and ws");
                Reply::text(404, &line).send(request);
            }
        }
    }

    // ANCHOR: short_poll
    /// `GET /messages?since=N`: whatever is newer than N, at once.
    fn short_poll(&self, request: Request) {
        let since = match query(request.url(), &["since"]).and_then(|q| number("since", q[0], 0)) {
            Ok(since) => since,
            Err(e) => return bad_request(request, &e),
        };
        let messages = self.feed().since(since, self.limits().batch);
        self.stating_instance(Reply::json(200, &list(&messages))).send(request);
    }
    // ANCHOR_END: short_poll

    // ANCHOR: long_poll
    /// `GET /messages/wait?since=N&timeout=S`: answers when there is something newer than N, or
    /// with `204 No Content` after S seconds.
    fn long_poll(&self, request: Request) {
        let limits = self.limits().clone();
        let params = query(request.url(), &["since", "timeout"]).and_then(|q| {
            let since = number("since", q[0], 0)?;
            let timeout = number("timeout", q[1], limits.max_wait.as_secs())?;
            // The server's cap: a client cannot ask to be held longer than MAX_WAIT.
            Ok((since, Duration::from_secs(timeout).min(limits.max_wait)))
        });
        let (since, timeout) = match params {
            Ok(params) => params,
            Err(e) => return bad_request(request, &e),
        };
        let slot = match self.take_slot(client_ip(&request)) {
            Ok(slot) => slot,
            Err(busy) => return self.busy_reply(busy).send(request),
        };
        let service = self.clone();
        spawn_waiter("long poll", move || {
            let _slot = slot;
            // A handle on the connection's socket (the patched tiny_http's `Request::socket`), to
            // look, every `wait_check`, whether the client is still there.
            let socket = request.socket();
            let feed = service.feed();
            let wait = feed.wait_since_while(
                since,
                limits.batch,
                timeout,
                feed.epoch(),
                Some(limits.wait_check),
                &mut || presence::still_there(socket.as_deref()),
            );
            let reply = match wait {
                Wait::Messages(messages) => Reply::json(200, &list(&messages)),
                Wait::TimedOut | Wait::Ended => Reply::empty(204),
                Wait::Abandoned => return hang_up(request, socket.as_deref()),
            };
            service.stating_instance(reply).send(request);
        });
    }
    // ANCHOR_END: long_poll

    // ANCHOR: events
    /// `GET /events`: an event stream from the message after `Last-Event-ID` (or `?since=N`).
    fn events(&self, request: Request) {
        let head = wire_head(&request);
        // On a reconnection the browser sends the last id it saw; the URL stays the same, so the
        // header wins over the query.
        let since = query(request.url(), &["since"]).and_then(|q| {
            let since = number("since", q[0], 0)?;
            number("Last-Event-ID", head.header("Last-Event-ID").map(str::trim), since)
        });
        let since = match since {
            Ok(since) => since,
            Err(e) => return bad_request(request, &e),
        };
        let framing = match request.http_version().1 {
            1.. => Framing::Chunked,
            // HTTP/1.0 has no chunks: the body ends when the connection does, so the connection
            // must be one that closes after this response.
            0 if head.closes_connection() => Framing::UntilClose,
            0 => {
                let line = "an event stream over HTTP/1.0 ends only when the connection closes: do not ask for keep-alive";
                return Reply::text(400, line).send(request);
            }
        };
        let slot = match self.take_slot(client_ip(&request)) {
            Ok(slot) => slot,
            Err(busy) => return self.busy_reply(busy).send(request),
        };
        let (feed, limits) = (self.feed().clone(), self.limits().clone());
        spawn_waiter("event stream", move || {
            let _slot = slot;
            let socket = request.socket();
            // Written by hand: tiny_http's own chunked encoder buffers, and every event must
            // reach the client the moment it is written.
            let mut out = request.into_writer();
            if out.write_all(sse::head(framing, feed.instance()).as_bytes()).is_err() {
                return;
            }
            let mut still_there = || presence::still_there(socket.as_deref());
            let ending = sse::stream(&mut out, &feed, since, framing, &limits, &mut still_there);
            if matches!(ending, sse::Ending::ClientGone(_)) {
                shut(socket.as_deref());
            }
            tracing::debug!(?ending, "event stream over");
        });
    }
    // ANCHOR_END: events

    // ANCHOR: publish
    /// `POST /messages`: publishes the body, plain text or JSON `{"text": "…"}`.
    fn publish(&self, mut request: Request) {
        let max = self.limits().max_body;
        // A trap of tiny_http 0.12.0: the part of a body the handler did not read was thrown
        // away when the request was dropped, into a buffer as large as the client said, and a
        // huge `Content-Length` aborted the process. The vendored tiny_http drains a little and
        // closes the connection on more (vendor/tiny_http/PATCHES.md, patch 1), so refusing
        // without reading is safe.
        if request.body_length().is_some_and(|n| n > max) {
            return Reply::text(413, &format!("the body is larger than {max} bytes")).send(request);
        }
        let mut body = Vec::new();
        // One byte more than allowed tells a too-long body without a length from one that fits.
        let take = u64::try_from(max).unwrap_or(u64::MAX).saturating_add(1);
        if let Err(e) = request.as_reader().take(take).read_to_end(&mut body) {
            return Reply::text(400, &format!("the body could not be read: {e}")).send(request);
        }
        if body.len() > max {
            return Reply::text(413, &format!("the body is larger than {max} bytes")).send(request);
        }
        let json = wire_head(&request)
            .header("Content-Type")
            .is_some_and(|t| t.trim().to_ascii_lowercase().starts_with("application/json"));
        match message_text(&body, json) {
            Ok(text) => {
                let message = self.feed().publish(text);
                self.stating_instance(Reply::json(200, &message.json())).send(request);
            }
            Err(line) => Reply::text(400, &line).send(request),
        }
    }
    // ANCHOR_END: publish
}

/// The text of a published message: the body as UTF-8, or the `text` of a JSON object.
fn message_text(body: &[u8], json: bool) -> Result<String, String> {
    let text = if json {
        let value: serde_json::Value =
            serde_json::from_slice(body).map_err(|e| format!("the body is not JSON: {e}"))?;
        value
            .get("text")
            .and_then(serde_json::Value::as_str)
            .map(str::to_owned)
            .ok_or_else(|| "a JSON body must be an object with a string \"text\"".to_owned())?
    } else {
        String::from_utf8(body.to_vec()).map_err(|_| "the body is not UTF-8 text".to_owned())?
    };
    if text.is_empty() {
        return Err("an empty message: send some text".to_owned());
    }
    Ok(text)
}

/// Messages as the JSON list every poll answers with.
pub fn list(messages: &[Message]) -> serde_json::Value {
    serde_json::Value::Array(messages.iter().map(Message::json).collect())
}

fn bad_request(request: Request, error: &QueryError) {
    Reply::text(400, &error.0).send(request);
}

fn not_allowed(request: Request, allow: &str) {
    let line = format!("{} is not allowed here; use {allow}", request.method());
    Reply::text(405, &line).with("Allow", allow).send(request);
}

/// The address a request came from, for [`Limits::max_waiters_per_client`].
pub(crate) fn client_ip(request: &Request) -> Option<IpAddr> {
    request.remote_addr().map(SocketAddr::ip)
}

// ANCHOR: hang_up
/// Ends a request whose client has gone, without an answer: nobody would read it.
///
/// The connection is shut down first. tiny_http would otherwise read on after this request: if
/// the client had sent another request before it closed its side (pipelining), that one would be
/// answered in this one's place, and a client that half-closed on purpose would get the answer
/// to the wrong question.
fn hang_up(request: Request, socket: Option<&TcpStream>) {
    shut(socket);
    // Taking the writer and dropping it writes nothing; dropping the request itself would make
    // tiny_http try a `500`.
    drop(request.into_writer());
}

fn shut(socket: Option<&TcpStream>) {
    if let Some(socket) = socket {
        let _ = socket.shutdown(Shutdown::Both);
    }
}
// ANCHOR_END: hang_up

/// Runs `work` on a thread of its own; a request that waits must not hold a worker.
pub(crate) fn spawn_waiter(what: &str, work: impl FnOnce() + Send + 'static) {
    if let Err(e) = std::thread::Builder::new().name(what.to_owned()).spawn(work) {
        // The closure (and the request and slot in it) is dropped: tiny_http answers 500.
        tracing::warn!("no thread for a {what}: {e}");
    }
}

/// A running feed server. Dropping it does not stop it; call [`Running::stop`].
pub struct Running {
    http: serve::tiny::Http,
    service: Service,
}

impl Running {
    /// The address it listens on.
    pub fn addr(&self) -> SocketAddr {
        self.http.addr()
    }

    /// The service, with its feed.
    pub fn service(&self) -> &Service {
        &self.service
    }

    /// Waits until the server stops.
    pub fn wait(self) {
        self.http.wait();
    }

    /// Ends open streams and long polls, stops taking requests, and waits for the workers.
    pub fn stop(self) {
        self.service.feed().end_streams();
        self.http.stop();
        // The waiting threads answer at once after `end_streams`; give them a moment to finish.
        let _ = self.service.wait_for_open_waits(0, Duration::from_secs(5));
    }
}

/// Serves `service` at the root of `listener` until stopped, with every server's default limits
/// on connections (`guard`), and the service's body limit.
pub fn start(listener: TcpListener, service: Service) -> std::io::Result<Running> {
    let connections = guard::Limits { max_body: service.limits().max_body, ..guard::Limits::default() };
    start_with(listener, service, &connections)
}

/// [`start`] with chosen limits on connections: the head's size and time, the waits of reads and
/// writes, the connection cap (tiny_http, patched: `vendor/tiny_http/PATCHES.md`).
pub fn start_with(
    listener: TcpListener,
    service: Service,
    connections: &guard::Limits,
) -> std::io::Result<Running> {
    let handler = service.clone();
    let http = serve::tiny::Http::start(listener, connections, WORKERS, move |request| {
        let path = serve::tiny::path_of(&request).to_owned();
        handler.handle(request, &path);
    })?;
    Ok(Running { http, service })
}

/// A feed, a service and a server on `127.0.0.1:0`: what tests and demos start with. The feed's
/// instance is [`FIXED_INSTANCE`](crate::feed::FIXED_INSTANCE), so transcripts do not change.
pub fn start_local(limits: Limits) -> std::io::Result<Running> {
    let feed = Arc::new(Feed::with_instance(limits.history, crate::feed::FIXED_INSTANCE));
    start(TcpListener::bind("127.0.0.1:0")?, Service::new(feed, limits))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_client_address_holds_at_most_its_share_of_the_slots_and_loopback_is_not_counted() {
        let limits = Limits { max_waiters: 4, max_waiters_per_client: 2, ..Limits::default() };
        let service = Service::new(Arc::new(Feed::new(10)), limits);
        let (one, other): (IpAddr, IpAddr) = ("192.0.2.1".parse().unwrap(), "192.0.2.2".parse().unwrap());
        let held = [service.take_slot(Some(one)).unwrap(), service.take_slot(Some(one)).unwrap()];
        let refused = service.take_slot(Some(one)).err().unwrap();
        assert_eq!(refused, Busy::Client(one));
        let reply = String::from_utf8(service.busy_reply(refused).to_bytes(false, false)).unwrap();
        assert!(reply.starts_with("HTTP/1.1 503 "), "{reply}");
        assert!(reply.contains("Retry-After: 5\r\n"), "{reply}");
        assert!(reply.contains("2 requests from 192.0.2.1 are already waiting"), "{reply}");
        let theirs = service.take_slot(Some(other)).unwrap();
        let local = service.take_slot(Some("127.0.0.1".parse().unwrap())).unwrap();
        assert_eq!(service.open_waits(), 4);
        assert_eq!(
            service.take_slot(Some("::1".parse().unwrap())).err(),
            Some(Busy::Full),
            "the total still counts"
        );
        drop(held);
        assert!(service.take_slot(Some(one)).is_ok(), "a freed slot is the address's again");
        drop((theirs, local));
    }

    #[test]
    fn a_published_body_is_text_or_the_text_of_a_json_object() {
        assert_eq!(message_text(b"hello", false), Ok("hello".into()));
        assert_eq!(message_text(br#"{"text":"hi"}"#, true), Ok("hi".into()));
        assert!(message_text(br#"{"txt":"hi"}"#, true).is_err());
        assert!(message_text(b"\xff", false).is_err());
        assert!(message_text(b"", false).is_err());
    }
}
