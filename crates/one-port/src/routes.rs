//! The ordinary HTTP routes, at the end of the middleware chain.
//!
//! | route | what |
//! | --- | --- |
//! | `GET /` | the home page, with a sign-in form |
//! | `POST /login` | signs in (`name=…`), sets the session cookie, `303` to `/client` |
//! | `POST /logout` | signs out, `303` to `/` |
//! | `GET /client`, `GET /client.js` | the browser client |
//! | `GET /api/time` | the time as JSON; needs a session (the middleware checks) |
//! | `POST /api/ticket` | a one-time ticket for `/ws/ticket`, as JSON; needs a session too |
//! | `GET /ws/echo` without `Upgrade` | `426 Upgrade Required`: this path speaks WebSocket |
//!
//! The pages are compiled into the binary with `include_str!`, so the server runs from anywhere.

use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use crate::admission::{SESSION_COOKIE, Sessions, Tickets};
use crate::middleware::{HttpRequest, Reply};

/// The home page.
pub const INDEX_HTML: &str = include_str!("../static/index.html");
/// The browser client's page.
pub const CLIENT_HTML: &str = include_str!("../static/client.html");
/// The browser client's script.
pub const CLIENT_JS: &str = include_str!("../static/client.js");

/// Longest user name accepted at sign-in: enough for a name, short enough for a log line.
pub const MAX_NAME: usize = 32;

/// Where the server reads the time: the system clock, or a fixed one in tests so that
/// `/api/time` answers the same on every run.
pub type Clock = Arc<dyn Fn() -> SystemTime + Send + Sync>;

/// The system clock.
pub fn system_clock() -> Clock {
    Arc::new(SystemTime::now)
}

/// The routes' shared state.
#[derive(Clone)]
pub struct Routes {
    /// Signed-in sessions.
    pub sessions: Sessions,
    /// The clock `/api/time` reads, and tickets' expiry.
    pub clock: Clock,
    /// Where `POST /api/ticket` issues tickets (the upgrade branch redeems them).
    pub tickets: Tickets,
}

impl Routes {
    /// Answers one request that reached the end of the chain.
    pub fn handle(&self, request: &mut HttpRequest) -> Reply {
        let method = request.method.as_str();
        match (method, request.path.as_str()) {
            ("GET" | "HEAD", "/") => html(INDEX_HTML),
            ("GET" | "HEAD", "/client") => html(CLIENT_HTML),
            ("GET" | "HEAD", "/client.js") => Reply::new(200, "text/javascript; charset=utf-8", CLIENT_JS),
            ("POST", "/login") => self.login(request),
            ("POST", "/logout") => self.logout(request),
            ("GET", "/api/time") => self.time(request),
            ("POST", "/api/ticket") => self.ticket(request),
            (_, path) if path == serve::ECHO_PATH => {
                // Only a request *without* `Upgrade: websocket` gets here; the check answers it
                // with 426 and `Upgrade: websocket` (RFC 9110 §15.5.22), or 405 for a POST.
                match serve::accept::judge(&request.head, serve::ECHO_PATH) {
                    Err(rejection) => Reply::Refusal(rejection),
                    Ok(_) => Reply::text(500, "an upgrade request reached the HTTP routes"),
                }
            }
            (_, "/" | "/client" | "/client.js" | "/login" | "/logout" | "/api/time" | "/api/ticket") => {
                Reply::text(405, format!("{method} is not allowed on {}", request.path))
                    .with_header("Allow", allowed(&request.path))
            }
            (_, path) => Reply::text(404, format!("nothing at {path}")),
        }
    }

    fn login(&self, request: &HttpRequest) -> Reply {
        let body = String::from_utf8_lossy(&request.body);
        let name = body
            .split('&')
            .filter_map(|pair| pair.split_once('='))
            .find(|(k, _)| *k == "name")
            .map(|(_, v)| v.trim().to_owned())
            .unwrap_or_default();
        let valid = !name.is_empty()
            && name.len() <= MAX_NAME
            && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
        if !valid {
            return Reply::text(
                400,
                format!("sign in with a name of 1 to {MAX_NAME} letters, digits, - or _ (form field `name`)"),
            );
        }
        let token = self.sessions.create(&name);
        // HttpOnly: page scripts cannot read it. SameSite=Strict: other *sites* do not get it.
        // Another port on the same host is the same site, though, so it does get it: which is
        // why the upgrade path checks `Origin` too.
        Reply::text(303, format!("signed in as {name}")).with_header("Location", "/client").with_header(
            "Set-Cookie",
            &format!("{SESSION_COOKIE}={token}; Path=/; HttpOnly; SameSite=Strict"),
        )
    }

    fn logout(&self, request: &HttpRequest) -> Reply {
        if let Some((token, _)) = crate::admission::token_of(&request.head) {
            self.sessions.remove(&token);
        }
        Reply::text(303, "signed out").with_header("Location", "/").with_header(
            "Set-Cookie",
            &format!("{SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0"),
        )
    }

    fn time(&self, request: &HttpRequest) -> Reply {
        let seconds = (self.clock)().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
        let user = request.user.as_deref().unwrap_or_default();
        Reply::new(200, "application/json", format!("{{\"user\":\"{user}\",\"unix_seconds\":{seconds}}}\n"))
    }
}

impl Routes {
    // ANCHOR: ticket
    /// `POST /api/ticket`: a one-time ticket for the signed-in user (the middleware let only
    /// signed-in requests through), as JSON. A page on another site cannot read this answer (it
    /// carries no CORS headers), so it cannot get a ticket with the visitor's cookie; and no
    /// cache may keep it.
    fn ticket(&self, request: &HttpRequest) -> Reply {
        let user = request.user.as_deref().unwrap_or_default();
        let ticket = self.tickets.issue(user, (self.clock)());
        let ttl = self.tickets.ttl().as_millis();
        Reply::new(200, "application/json", format!("{{\"ticket\":\"{ticket}\",\"expires_in_ms\":{ttl}}}"))
            .with_header("Cache-Control", "no-store")
    }
    // ANCHOR_END: ticket
}

fn html(page: &'static str) -> Reply {
    Reply::new(200, "text/html; charset=utf-8", page)
}

fn allowed(path: &str) -> &'static str {
    match path {
        "/login" | "/logout" | "/api/ticket" => "POST",
        "/api/time" => "GET",
        _ => "GET, HEAD",
    }
}
