//! `http-poll-client`: receive the feed by any mode, from the terminal.

use std::net::ToSocketAddrs;
use std::time::Duration;

use clap::{Parser, ValueEnum};
use http_polling::client::{self, Connection, EventStream};

/// Receives the feed from a feed server and prints each message as it arrives.
///
/// Try the same server with each mode and watch how differently they ask: put the Tap in front
/// (`just tap 127.0.0.1:3003 127.0.0.1:3002`) and connect to 3003.
#[derive(Parser)]
#[command(version)]
struct Args {
    /// How to receive (not needed with --publish).
    #[arg(value_enum, required_unless_present = "publish")]
    mode: Option<ModeArg>,
    /// The server, host:port.
    #[arg(long, default_value = "127.0.0.1:3002")]
    server: String,
    /// Path prefix of the feed (`/feed` on the book server at port 3000).
    #[arg(long, default_value = "")]
    prefix: String,
    /// Start after this message id.
    #[arg(long, default_value_t = 0)]
    since: u64,
    /// Short polling: milliseconds between polls.
    #[arg(long, default_value_t = 1000)]
    interval: u64,
    /// Publish this text instead of receiving, and exit (a mode is then ignored).
    #[arg(long, value_name = "TEXT")]
    publish: Option<String>,
}

#[derive(Clone, Copy, ValueEnum)]
enum ModeArg {
    /// Ask every --interval milliseconds.
    Short,
    /// Ask and wait for the answer, again and again.
    Long,
    /// One Server-Sent Events stream.
    Sse,
}

fn main() -> std::process::ExitCode {
    let args = Args::parse();
    guard::logging::init("warn");
    tap::out::exit_code(run(args))
}

fn run(args: Args) -> anyhow::Result<()> {
    let addr = args
        .server
        .to_socket_addrs()?
        .next()
        .ok_or_else(|| anyhow::anyhow!("{} does not resolve to an address", args.server))?;
    if let Some(text) = &args.publish {
        let message = client::publish(&mut Connection::open(addr)?, &args.prefix, text)?;
        tap::outln!("published #{} {:?}", message.id, message.text);
        return Ok(());
    }
    let Some(mode) = args.mode else {
        anyhow::bail!("say how to receive: short, long or sse (or --publish TEXT)");
    };
    let mut last = args.since;
    match mode {
        ModeArg::Short => {
            let mut connection = Connection::open(addr)?;
            loop {
                // Nobody reads any more (`just feed-client sse | head`): stop quietly.
                tap::out::check()?;
                let messages = client::short_poll(&mut connection, &args.prefix, last)?;
                tap::outln!("poll since={last}: {} new", messages.len());
                for m in messages {
                    tap::outln!("  #{} {}", m.id, m.text);
                    last = m.id;
                }
                std::thread::sleep(Duration::from_millis(args.interval));
            }
        }
        ModeArg::Long => {
            let mut connection = Connection::open(addr)?;
            loop {
                // Nobody reads any more (`just feed-client sse | head`): stop quietly.
                tap::out::check()?;
                match client::long_poll(&mut connection, &args.prefix, last, 25)? {
                    None => tap::outln!("long poll since={last}: 204, nothing new; asking again"),
                    Some(messages) => {
                        for m in messages {
                            tap::outln!("  #{} {}", m.id, m.text);
                            last = m.id;
                        }
                    }
                }
            }
        }
        ModeArg::Sse => {
            // The feed's instance, from each stream's first event: when it changes, the server
            // has restarted and `last` is an id of the feed it had before.
            let mut instance: Option<String> = None;
            loop {
                // Nobody reads any more (`just feed-client sse | head`): stop quietly.
                tap::out::check()?;
                let resume = Some(last).filter(|id| *id > 0);
                let request = EventStream::request(&addr.to_string(), &args.prefix, resume);
                let mut stream = EventStream::open(Connection::open(addr)?, &request)?;
                // Why the stream is over, and whether to wait `retry` before asking again (as a
                // browser does), or not (a new instance: the server is there).
                let (why, pause) = loop {
                    tap::out::check()?;
                    let event = match stream.next_event() {
                        Ok(Some(event)) => event,
                        Ok(None) => break ("the server ended the stream".to_owned(), true),
                        Err(e @ client::Error::Closed(_)) => {
                            break (format!("the stream broke off ({e})"), true);
                        }
                        Err(e) => return Err(e.into()),
                    };
                    if event.event.as_deref() == Some("instance") {
                        let retry = event.retry.map_or("-".into(), |ms| ms.to_string());
                        tap::outln!("stream open (retry: {retry} ms, feed instance {})", event.data);
                        let restarted = instance.as_ref().is_some_and(|seen| *seen != event.data);
                        instance = Some(event.data);
                        if restarted {
                            last = 0;
                            break ("the feed restarted: its ids count from 1 again".to_owned(), false);
                        }
                    } else if let Some(id) = event.id {
                        tap::outln!("  #{id} {}", event.data);
                        last = id.parse().unwrap_or(last);
                    }
                };
                tap::outln!("{why}; reconnecting after message {last}");
                if pause {
                    std::thread::sleep(http_polling::limits::RETRY);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn publishing_needs_no_mode_and_receiving_needs_one() {
        Args::command().debug_assert();
        let publish = Args::try_parse_from(["http-poll-client", "--publish", "hi"]).unwrap();
        assert_eq!((publish.publish.as_deref(), publish.mode.is_none()), (Some("hi"), true));
        assert!(Args::try_parse_from(["http-poll-client", "sse"]).unwrap().mode.is_some());
        assert!(Args::try_parse_from(["http-poll-client"]).is_err(), "without --publish, a mode is required");
    }
}
