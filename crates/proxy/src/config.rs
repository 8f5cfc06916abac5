//! The nginx configurations of the chapter, written by code: the demos run them, the tests check
//! them, and the book shows them, so the configuration on a page is the one that ran.
//!
//! A [`Site`] is the part a reader copies into a real nginx: the `server` block with one
//! `location` that passes everything on to one server (the *upstream*, in nginx's words), and
//! the `map` the WebSocket upgrade needs. [`Site::nginx_conf`] puts it inside the few lines a
//! throwaway nginx needs to run from a folder of its own (see [`crate::nginx`]).
//!
//! Each directive is written with a comment that says what it does, and each choice is one field
//! of [`Site`], so a demo says exactly what it changes: `Site::websocket().host(Host::HttpHost)`.

use std::net::SocketAddr;
use std::time::Duration;

/// nginx's pid file and error log, in its folder: the names the shared launcher
/// (`serve::nginx`) reads.
pub use serve::nginx::{ERROR_LOG, PID_FILE};

/// How long a graceful stop waits for open connections (`worker_shutdown_timeout`). Without it,
/// nginx waits for every upgraded connection to end, which can be for ever.
pub const SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(1);

/// The address a configuration shown in the book listens on (a test renders it with these, and
/// the demos with real, free ports).
pub const BOOK_LISTEN: &str = "127.0.0.1:8080";

/// The server a configuration shown in the book passes requests on to.
pub const BOOK_UPSTREAM: &str = "127.0.0.1:3000";

/// What nginx does with a WebSocket upgrade request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Upgrade {
    /// nginx's defaults: it speaks HTTP/1.0 to the server and drops `Upgrade` and `Connection`,
    /// which are hop-by-hop headers (RFC 9110 §7.6.1).
    Dropped,
    /// `proxy_http_version 1.1` alone: HTTP/1.1 to the server, but still no `Upgrade`.
    Http11Only,
    /// The three directives of nginx's documentation: the upgrade is passed on.
    Forwarded,
}

/// The `Host` header nginx sends to the server.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Host {
    /// nginx's default, `$proxy_host`: the address in `proxy_pass`, not the one the client asked for.
    ProxyHost,
    /// `$host`: the host name the client asked for, in lower case, without its port.
    Host,
    /// `$http_host`: the client's `Host` header exactly, port included.
    HttpHost,
}

/// One site: what a reader would put in a real nginx. See the module docs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Site {
    /// What happens to an upgrade.
    pub upgrade: Upgrade,
    /// The `Host` sent on.
    pub host: Host,
    /// Whether nginx adds the client's address to `X-Forwarded-For`.
    pub forwarded_for: bool,
    /// `proxy_read_timeout`, if not nginx's default of 60 s.
    pub read_timeout: Option<Duration>,
    /// `proxy_buffering`, if set (nginx's default is on).
    pub buffering: Option<bool>,
}

impl Site {
    /// nginx's defaults: `proxy_pass` and nothing else.
    pub fn plain() -> Site {
        Site {
            upgrade: Upgrade::Dropped,
            host: Host::ProxyHost,
            forwarded_for: false,
            read_timeout: None,
            buffering: None,
        }
    }

    /// The WebSocket recipe of nginx's documentation: the upgrade forwarded, nothing else changed.
    pub fn websocket() -> Site {
        Site { upgrade: Upgrade::Forwarded, ..Site::plain() }
    }

    /// What the chapter recommends copying: the upgrade forwarded, the client's `Host` and
    /// address passed on.
    pub fn recommended() -> Site {
        Site::websocket().host(Host::HttpHost).forwarded_for()
    }

    /// The same site, with `upgrade`.
    pub fn upgrade(mut self, upgrade: Upgrade) -> Site {
        self.upgrade = upgrade;
        self
    }

    /// The same site, sending `host` as `Host`.
    pub fn host(mut self, host: Host) -> Site {
        self.host = host;
        self
    }

    /// The same site, adding the client's address to `X-Forwarded-For`.
    pub fn forwarded_for(mut self) -> Site {
        self.forwarded_for = true;
        self
    }

    /// The same site, with `proxy_read_timeout`.
    pub fn read_timeout(mut self, timeout: Duration) -> Site {
        self.read_timeout = Some(timeout);
        self
    }

    /// The same site, with `proxy_buffering` on or off.
    pub fn buffering(mut self, on: bool) -> Site {
        self.buffering = Some(on);
        self
    }

    /// The site's directives, with a comment each: `(directive, comment)`, in order.
    fn directives(&self, upstream: &str) -> Vec<(String, &'static str)> {
        let mut lines = vec![(format!("proxy_pass http://{upstream};"), "")];
        if self.upgrade != Upgrade::Dropped {
            lines.push(("proxy_http_version 1.1;".into(), "HTTP/1.1 to the server (nginx's default is 1.0)"));
        }
        if self.upgrade == Upgrade::Forwarded {
            lines.push(("proxy_set_header Upgrade $http_upgrade;".into(), "pass the client's Upgrade on"));
            lines.push((
                "proxy_set_header Connection $connection_upgrade;".into(),
                "and Connection: upgrade with it (the map above)",
            ));
        }
        match self.host {
            Host::ProxyHost => {}
            Host::Host => lines.push((
                "proxy_set_header Host $host;".into(),
                "the host name the client asked for, without its port",
            )),
            Host::HttpHost => lines.push((
                "proxy_set_header Host $http_host;".into(),
                "the Host the client sent, port included",
            )),
        }
        if self.forwarded_for {
            lines.push((
                "proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;".into(),
                "append the client's address",
            ));
        }
        if let Some(timeout) = self.read_timeout {
            lines.push((
                format!("proxy_read_timeout {};", nginx_time(timeout)),
                "close a connection silent this long both ways (default 60s)",
            ));
        }
        match self.buffering {
            None => {}
            Some(true) => {
                lines.push(("proxy_buffering on;".into(), "collect the response before passing it on"))
            }
            Some(false) => {
                lines.push(("proxy_buffering off;".into(), "pass each piece of the response on at once"))
            }
        }
        lines
    }

    /// The site as a reader would copy it: the `map` (when the upgrade is forwarded) and the
    /// `server` block, listening on `listen` and passing everything to `upstream`.
    pub fn render(&self, listen: &str, upstream: &str) -> String {
        let mut out = String::new();
        if self.upgrade == Upgrade::Forwarded {
            out.push_str(
                "# $connection_upgrade is \"upgrade\" when the client sent Upgrade, \"close\" when not.\n\
                 map $http_upgrade $connection_upgrade {\n    default upgrade;\n    ''      close;\n}\n\n",
            );
        }
        out.push_str(&format!("server {{\n    listen {listen};\n\n    location / {{\n"));
        let directives = self.directives(upstream);
        let column = directives.iter().map(|(d, _)| d.len()).max().unwrap_or_default() + 2;
        for (directive, comment) in directives {
            if comment.is_empty() {
                out.push_str(&format!("        {directive}\n"));
            } else {
                out.push_str(&format!("        {directive:<column$}# {comment}\n"));
            }
        }
        out.push_str("    }\n}\n");
        out
    }

    /// The whole `nginx.conf` of a throwaway nginx serving this site on `listen`, passing
    /// everything to `upstream`.
    pub fn nginx_conf(&self, listen: SocketAddr, upstream: SocketAddr) -> String {
        let site = self.render(&listen.to_string(), &upstream.to_string());
        let site: String =
            site.lines().map(|l| if l.is_empty() { "\n".to_owned() } else { format!("    {l}\n") }).collect();
        format!("{}\nhttp {{\n{HTTP_PRELUDE}\n{site}}}\n", main_prelude())
    }
}

/// The main context of a throwaway nginx: every file in the folder given with `-p`.
fn main_prelude() -> String {
    format!(
        "# A throwaway nginx: every file in the folder given with -p, nothing in /etc, /var or /run.\n\
         daemon off;                    # stay in the foreground, a child of whoever started it\n\
         worker_processes 1;\n\
         worker_shutdown_timeout {};   # a graceful stop (SIGQUIT) waits at most this long\n\
         pid {PID_FILE};                 # written once nginx listens: the sign that it is ready\n\
         error_log {ERROR_LOG} info;      # info, for lines such as \"upstream timed out\"\n\
         \n\
         events {{\n    worker_connections 64;\n}}\n",
        nginx_time(SHUTDOWN_TIMEOUT)
    )
}

/// The `http` context's lines before the site.
const HTTP_PRELUDE: &str = "    server_tokens off;                  # \"Server: nginx\", without the version
    access_log off;
    client_body_temp_path temp_body;    # one folder level each: nginx creates the folder, not its parents
    proxy_temp_path temp_proxy;
    fastcgi_temp_path temp_fastcgi;
    uwsgi_temp_path temp_uwsgi;
    scgi_temp_path temp_scgi;
";

/// A duration as nginx writes it: `2s`, `500ms`.
pub fn nginx_time(d: Duration) -> String {
    let ms = d.as_millis();
    if ms.is_multiple_of(1000) { format!("{}s", ms / 1000) } else { format!("{ms}ms") }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nginx_defaults_are_proxy_pass_alone() {
        let text = Site::plain().render(BOOK_LISTEN, BOOK_UPSTREAM);
        assert_eq!(
            text,
            "server {\n    listen 127.0.0.1:8080;\n\n    location / {\n        proxy_pass http://127.0.0.1:3000;\n    }\n}\n"
        );
    }

    #[test]
    fn the_websocket_recipe_has_the_map_and_three_directives() {
        let text = Site::websocket().render(BOOK_LISTEN, BOOK_UPSTREAM);
        assert!(text.starts_with("# $connection_upgrade"), "{text}");
        assert!(text.contains(
            "map $http_upgrade $connection_upgrade {\n    default upgrade;\n    ''      close;\n}"
        ));
        for directive in [
            "proxy_http_version 1.1;",
            "proxy_set_header Upgrade $http_upgrade;",
            "proxy_set_header Connection $connection_upgrade;",
        ] {
            assert!(text.contains(directive), "{directive} missing from:\n{text}");
        }
    }

    #[test]
    fn every_choice_is_one_directive() {
        let site = Site::recommended().read_timeout(Duration::from_millis(2500)).buffering(false);
        let text = site.render(BOOK_LISTEN, BOOK_UPSTREAM);
        assert!(text.contains("proxy_set_header Host $http_host;"), "{text}");
        assert!(text.contains("proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;"), "{text}");
        assert!(text.contains("proxy_read_timeout 2500ms;"), "{text}");
        assert!(text.contains("proxy_buffering off;"), "{text}");
        let http11 = Site::plain().upgrade(Upgrade::Http11Only).render(BOOK_LISTEN, BOOK_UPSTREAM);
        assert!(http11.contains("proxy_http_version 1.1;") && !http11.contains("Upgrade"), "{http11}");
    }

    #[test]
    fn the_whole_conf_keeps_every_file_in_nginxs_folder() {
        let listen: SocketAddr = "127.0.0.1:8080".parse().unwrap_or_else(|e| panic!("{e}"));
        let upstream: SocketAddr = "127.0.0.1:3000".parse().unwrap_or_else(|e| panic!("{e}"));
        let conf = Site::websocket().nginx_conf(listen, upstream);
        // Every directive that names a file names one inside the folder: a relative path, one level.
        let files = ["pid", "error_log", "access_log", "include"];
        for line in conf.lines() {
            let mut words = line.split('#').next().unwrap_or_default().split_whitespace();
            let Some(name) = words.next() else { continue };
            if files.contains(&name) || name.ends_with("_temp_path") {
                let value = words.next().unwrap_or_default();
                assert!(!value.contains('/'), "a path outside the folder: {line}");
            }
        }
        assert!(conf.contains("pid nginx.pid;") && conf.contains("daemon off;"), "{conf}");
        assert!(
            conf.contains("    server {\n        listen 127.0.0.1:8080;"),
            "the site is inside http: {conf}"
        );
    }
}
