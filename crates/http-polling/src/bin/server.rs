//! `http-poll-server`: the chapter's feed server, standalone.

use std::sync::Arc;
use std::time::Duration;

use clap::Parser;
use http_polling::{Feed, Limits, Service, server};

/// Examples, shown after the options by `--help`. Kept out of the doc comment because clap joins
/// the lines of a doc comment into one paragraph.
const EXAMPLES: &str = "\
Try it:
  curl 'http://127.0.0.1:3002/messages?since=0'                  short poll: answers at once
  curl 'http://127.0.0.1:3002/messages/wait?since=3&timeout=20'  long poll: waits for news
  curl -N http://127.0.0.1:3002/events                           the event stream
  curl -d 'hello' http://127.0.0.1:3002/messages                 publish
  curl -i 'http://127.0.0.1:3002/messages?since=0'               the head too: Feed-Instance

Put the Tap in front (just tap 127.0.0.1:3003 127.0.0.1:3002) and point curl at 3003 to see
every byte.";

/// A message feed offered four ways: short polling, long polling, Server-Sent Events and
/// WebSocket, all on one tiny_http server.
#[derive(Parser)]
#[command(version, after_help = EXAMPLES)]
struct Args {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1")]
    host: String,
    /// Port to listen on.
    #[arg(long, default_value_t = 3002)]
    port: u16,
    /// Publish "tick N" every this many seconds (0: never), so there is always something new.
    #[arg(long, default_value_t = 0)]
    tick: u64,
    /// Most requests that may wait at once (long polls, streams); one more gets 503.
    #[arg(long, value_name = "N", default_value_t = http_polling::limits::MAX_WAITERS)]
    max_waiters: usize,
    /// Most requests that may wait at once from one client address; one more from it gets 503.
    /// Clients behind one NAT share an address: raise it for them. (Clients on this machine,
    /// such as the Tap, are not counted per address.)
    #[arg(long, value_name = "N", default_value_t = http_polling::limits::MAX_WAITERS_PER_CLIENT)]
    max_waiters_per_client: usize,
    #[command(flatten)]
    limits: guard::LimitArgs,
}

fn main() -> anyhow::Result<()> {
    guard::logging::init("info");
    let args = Args::parse();
    let connections = args.limits.limits();
    let limits = Limits {
        max_waiters: args.max_waiters,
        max_waiters_per_client: args.max_waiters_per_client,
        max_body: connections.max_body,
        ..Limits::default()
    };
    let feed = Arc::new(Feed::new(limits.history));
    let address = format!("{}:{}", args.host, args.port);
    let listener = std::net::TcpListener::bind(&address)
        .map_err(|e| anyhow::anyhow!("cannot listen on {address}: {e} (choose another with --port)"))?;
    let running = server::start_with(listener, Service::new(feed.clone(), limits), &connections)?;
    println!("feed server at http://{}/ (try: curl -N http://{}/events)", running.addr(), running.addr());
    if args.tick > 0 {
        std::thread::spawn(move || {
            for n in 1.. {
                std::thread::sleep(Duration::from_secs(args.tick));
                feed.publish(format!("tick {n}"));
            }
        });
    }
    running.wait();
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_help_shows_each_curl_example_on_a_line_of_its_own() {
        Args::command().debug_assert();
        let help = Args::command().render_long_help().to_string();
        for example in
            ["curl 'http://127.0.0.1:3002/messages?since=0'", "curl -N http://127.0.0.1:3002/events"]
        {
            let line = help.lines().find(|l| l.contains(example)).unwrap_or_default();
            assert!(line.trim_start().starts_with(example), "{example:?} should start a line:\n{help}");
        }
    }
}
