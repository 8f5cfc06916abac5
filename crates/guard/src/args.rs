//! The same flags for the same limits on every server binary: `#[command(flatten)]` a
//! [`LimitArgs`] into a binary's own arguments, then call [`LimitArgs::limits`].
//!
//! A server that speaks no HTTP (the TCP echoes) flattens [`ConnectionArgs`] instead: only the
//! limits that apply to any connection, so its `--help` offers no flag it would ignore (a raw TCP
//! echo reads no request head and has no close handshake to wait for). A WebSocket server
//! without sign-in flattens [`OriginArgs`] too, for `--allow-origin`.

use std::time::Duration;

use crate::admission::Origins;
use crate::descriptors;
use crate::limits::{self, Limits};
use crate::upgrade::Subprotocols;

/// The heading the limits get in `--help`, for a binary's own limit flags to join them.
pub const HEADING: &str = "Limits (what one client may take; see the chapter \"When clients misbehave\")";

/// The limits of any connection, HTTP or not, as command-line flags (see `guard::limits` for the
/// reason behind each default).
#[derive(Clone, Debug, clap::Args)]
#[command(next_help_heading = HEADING)]
pub struct ConnectionArgs {
    /// Largest message (and frame) accepted, in bytes; a larger one is answered with close code
    /// 1009 (message too big), or an error message on the TCP echoes.
    #[arg(long, value_name = "BYTES", default_value_t = limits::MAX_MESSAGE)]
    pub max_message: usize,
    /// Seconds an open connection may go without a message from its client before it is closed
    /// (WebSocket: close 1000 "idle"); 0 never closes an idle connection.
    #[arg(long, value_name = "SECONDS", default_value_t = limits::IDLE_TIMEOUT.as_secs_f64(), value_parser = seconds)]
    pub idle_timeout: f64,
    /// Seconds one write to a client may make no progress: a client that stopped reading is
    /// then closed (WebSocket: close 1013 "try again later"), instead of growing a queue.
    #[arg(long, value_name = "SECONDS", default_value_t = limits::SEND_TIMEOUT.as_secs_f64(), value_parser = seconds)]
    pub send_timeout: f64,
    /// Most connections served at once; the next client gets `503 Service Unavailable` before any
    /// upgrade (raw TCP: is closed at once). Each connection needs a file descriptor: the server
    /// raises its soft limit (`ulimit -n`) to the hard one at start, and the default is 1,024 or
    /// 64 fewer than the descriptors it may hold, whichever is smaller.
    #[arg(long, value_name = "N")]
    pub max_connections: Option<usize>,
    /// Bytes one read takes from a socket, and each connection's read buffer (tungstenite's own
    /// default is 131072).
    #[arg(long, value_name = "BYTES", default_value_t = limits::READ_BUFFER)]
    pub read_buffer: usize,
}

/// Every server's limits, as command-line flags: those of any connection, and those of HTTP
/// request heads, bodies and the WebSocket close.
#[derive(Clone, Debug, clap::Args)]
#[command(next_help_heading = HEADING)]
pub struct LimitArgs {
    /// The limits of any connection.
    #[command(flatten)]
    pub connection: ConnectionArgs,
    /// Largest HTTP request head, in bytes; a larger one gets `431 Request Header Fields Too
    /// Large`.
    #[arg(long, value_name = "BYTES", default_value_t = limits::MAX_HEAD)]
    pub max_head: usize,
    /// Largest HTTP request body, in bytes; a larger one gets `413 Content Too Large`.
    #[arg(long, value_name = "BYTES", default_value_t = limits::MAX_BODY)]
    pub max_body: usize,
    /// Seconds a client may take to send its whole request head (an upgrade or any request);
    /// then `408 Request Timeout` and the connection is closed. Stops a "slowloris".
    #[arg(long, value_name = "SECONDS", default_value_t = limits::HANDSHAKE_TIMEOUT.as_secs_f64(), value_parser = seconds)]
    pub handshake_timeout: f64,
    /// Seconds to wait for the client's answer to our close frame before closing TCP anyway.
    #[arg(long, value_name = "SECONDS", default_value_t = limits::CLOSE_TIMEOUT.as_secs_f64(), value_parser = seconds)]
    pub close_timeout: f64,
}

impl Default for ConnectionArgs {
    fn default() -> Self {
        ConnectionArgs::from(&Limits::default())
    }
}

impl Default for LimitArgs {
    fn default() -> Self {
        LimitArgs::from(&Limits::default())
    }
}

impl From<&Limits> for ConnectionArgs {
    fn from(limits: &Limits) -> Self {
        ConnectionArgs {
            max_message: limits.max_message,
            idle_timeout: limits.idle_timeout.unwrap_or_default().as_secs_f64(),
            send_timeout: limits.send_timeout.as_secs_f64(),
            max_connections: Some(limits.max_connections),
            read_buffer: limits.read_buffer,
        }
    }
}

impl From<&Limits> for LimitArgs {
    fn from(limits: &Limits) -> Self {
        LimitArgs {
            connection: ConnectionArgs::from(limits),
            max_head: limits.max_head,
            max_body: limits.max_body,
            handshake_timeout: limits.handshake_timeout.as_secs_f64(),
            close_timeout: limits.close_timeout.as_secs_f64(),
        }
    }
}

/// Seconds as a duration. (The values were checked when the flags were parsed.)
fn duration(seconds: f64) -> Duration {
    Duration::try_from_secs_f64(seconds).unwrap_or(Duration::MAX)
}

impl ConnectionArgs {
    /// The limits these flags describe; the ones they have no flag for keep their defaults.
    ///
    /// Without `--max-connections`, this raises the process's soft limit on file descriptors to
    /// the hard one (once) and derives the connection limit from it
    /// ([`crate::descriptors::default_max_connections`]).
    pub fn limits(&self) -> Limits {
        let idle = duration(self.idle_timeout);
        let max_connections = self.max_connections.unwrap_or_else(|| {
            static RAISED: std::sync::OnceLock<Option<u64>> = std::sync::OnceLock::new();
            descriptors::default_max_connections(*RAISED.get_or_init(descriptors::raise_limit))
        });
        Limits {
            max_message: self.max_message,
            idle_timeout: (!idle.is_zero()).then_some(idle),
            send_timeout: duration(self.send_timeout),
            max_connections: max_connections.max(1),
            read_buffer: self.read_buffer.max(1),
            ..Limits::default()
        }
    }
}

impl LimitArgs {
    /// The limits these flags describe.
    pub fn limits(&self) -> Limits {
        Limits {
            max_head: self.max_head,
            max_body: self.max_body,
            handshake_timeout: duration(self.handshake_timeout),
            close_timeout: duration(self.close_timeout),
            ..self.connection.limits()
        }
    }
}

/// Which pages may open a WebSocket, as command-line flags: `--allow-origin`, repeatable.
#[derive(Clone, Debug, Default, clap::Args)]
#[command(next_help_heading = "Who may connect (Cross-Site WebSocket Hijacking, RFC 6455 §10.2)")]
pub struct OriginArgs {
    /// Also let pages from ORIGIN open a WebSocket, as a browser sends it: scheme://host[:port],
    /// e.g. http://127.0.0.1:3000. Without it, programs (which send no Origin) and pages of this
    /// very server (Origin naming the Host they connect to) are let in, and a page of any other
    /// origin gets `403 Forbidden` before any upgrade. Repeat for more.
    #[arg(long, value_name = "ORIGIN", value_parser = origin)]
    pub allow_origin: Vec<String>,
}

impl OriginArgs {
    /// The server's own pages, and the origins these flags allow.
    pub fn origins(&self) -> Origins {
        self.allow_origin.iter().fold(Origins::same_host(), |origins, origin| origins.allow(origin))
    }
}

/// Which subprotocols a WebSocket server speaks, as command-line flags: `--protocol`, repeatable.
#[derive(Clone, Debug, Default, clap::Args)]
#[command(next_help_heading = "Subprotocols (Sec-WebSocket-Protocol, RFC 6455 §1.9)")]
pub struct ProtocolArgs {
    /// Speak subprotocol NAME (e.g. chat.v1): a client that offers it in `Sec-WebSocket-Protocol`
    /// gets it named in the 101. Of several in common, the client's first wins. A client that
    /// offers protocols of which none is spoken here gets `400 Bad Request`; one that offers
    /// none is answered without. Repeat for more.
    #[arg(long = "protocol", value_name = "NAME", value_parser = token)]
    pub protocols: Vec<String>,
}

impl ProtocolArgs {
    /// The subprotocols these flags name.
    pub fn protocols(&self) -> Subprotocols {
        Subprotocols::speak(&self.protocols)
    }
}

/// A subprotocol name: an HTTP token (RFC 6455 §4.1, RFC 9110 §5.6.2), so no spaces or commas.
fn token(text: &str) -> Result<String, String> {
    let valid =
        !text.is_empty() && text.chars().all(|c| c.is_ascii_alphanumeric() || "!#$%&'*+-.^_`|~".contains(c));
    if valid {
        Ok(text.to_owned())
    } else {
        Err(format!("{text:?} is not a subprotocol name: use letters, digits and !#$%&'*+-.^_`|~"))
    }
}

/// An origin as a browser sends it (RFC 6454 §6.2): `scheme://host` or `scheme://host:port`, no
/// path. A mistyped one would silently allow nothing, so it is refused when parsing.
fn origin(text: &str) -> Result<String, String> {
    let origin = text.trim().trim_end_matches('/');
    let valid = origin.split_once("://").is_some_and(|(scheme, authority)| {
        !scheme.is_empty()
            && scheme.chars().all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c))
            && !authority.is_empty()
            && !authority.contains(['/', '?', '#', '@', ' '])
    });
    if valid {
        Ok(origin.to_owned())
    } else {
        Err(format!(
            "{text:?} is not an origin: write it as a browser sends it in `Origin`, \
             scheme://host[:port] with no path, e.g. http://127.0.0.1:3000"
        ))
    }
}

/// A number of seconds: finite, not negative.
fn seconds(text: &str) -> Result<f64, String> {
    let value: f64 = text.trim().parse().map_err(|e| format!("{text:?} is not a number of seconds: {e}"))?;
    Duration::try_from_secs_f64(value).map_err(|e| format!("{text} seconds: {e}"))?;
    Ok(value)
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        limits: LimitArgs,
    }

    #[derive(Parser)]
    struct NoHttp {
        #[command(flatten)]
        limits: ConnectionArgs,
    }

    #[test]
    fn a_server_without_http_takes_no_flags_for_heads_bodies_or_the_close() {
        let cli = NoHttp::try_parse_from(["tcp", "--max-message", "10", "--read-buffer", "512"]).unwrap();
        assert_eq!(cli.limits.limits(), Limits { max_message: 10, read_buffer: 512, ..Limits::default() });
        for flag in ["--max-head", "--max-body", "--handshake-timeout", "--close-timeout"] {
            assert!(NoHttp::try_parse_from(["tcp", flag, "1"]).is_err(), "{flag} means nothing without HTTP");
        }
    }

    #[derive(Parser)]
    struct WithOrigins {
        #[command(flatten)]
        origins: OriginArgs,
    }

    #[test]
    fn allow_origin_adds_to_the_servers_own_pages_and_a_mistyped_origin_is_refused() {
        let cli = WithOrigins::try_parse_from([
            "server",
            "--allow-origin",
            "http://127.0.0.1:3000/",
            "--allow-origin",
            "https://example.org",
        ])
        .unwrap();
        let expected = Origins::same_host().allow("http://127.0.0.1:3000").allow("https://example.org");
        assert_eq!(cli.origins.origins(), expected);
        assert_eq!(WithOrigins::try_parse_from(["server"]).unwrap().origins.origins(), Origins::default());
        for wrong in ["127.0.0.1:3000", "http://", "http://127.0.0.1:3000/page", "://x"] {
            assert!(WithOrigins::try_parse_from(["server", "--allow-origin", wrong]).is_err(), "{wrong:?}");
        }
    }

    #[derive(Parser)]
    struct WithProtocols {
        #[command(flatten)]
        protocols: ProtocolArgs,
    }

    #[test]
    fn protocol_names_the_subprotocols_spoken_and_refuses_what_is_not_a_token() {
        let cli = WithProtocols::try_parse_from(["server", "--protocol", "chat.v1", "--protocol", "chat.v2"])
            .unwrap();
        assert_eq!(cli.protocols.protocols(), Subprotocols::speak(["chat.v1", "chat.v2"]));
        assert_eq!(
            WithProtocols::try_parse_from(["server"]).unwrap().protocols.protocols(),
            Subprotocols::none()
        );
        for wrong in ["chat v1", "a,b", ""] {
            assert!(WithProtocols::try_parse_from(["server", "--protocol", wrong]).is_err(), "{wrong:?}");
        }
    }

    #[test]
    fn no_flags_give_the_default_limits() {
        let cli = Cli::try_parse_from(["server"]).unwrap();
        assert_eq!(cli.limits.limits(), Limits::default());
    }

    #[test]
    fn flags_set_the_limits_and_zero_idle_means_never() {
        let cli = Cli::try_parse_from([
            "server",
            "--max-message",
            "10",
            "--idle-timeout",
            "0",
            "--send-timeout",
            "0.5",
        ])
        .unwrap();
        let limits = cli.limits.limits();
        assert_eq!(limits.max_message, 10);
        assert_eq!(limits.idle_timeout, None);
        assert_eq!(limits.send_timeout, Duration::from_millis(500));
    }

    #[test]
    fn a_negative_or_absurd_duration_is_refused_when_parsing() {
        assert!(Cli::try_parse_from(["server", "--handshake-timeout", "-1"]).is_err());
        assert!(Cli::try_parse_from(["server", "--close-timeout", "soon"]).is_err());
        assert!(Cli::try_parse_from(["server", "--send-timeout", "1e300"]).is_err());
    }
}
