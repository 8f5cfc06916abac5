//! `http-poll-server`: the chapter's feed server, standalone.

use std::sync::Arc;
use std::time::Duration;

use clap::Parser;
use http_polling::{Feed, Limits, Service, server};

/// A message feed offered four ways: short polling, long polling, Server-Sent Events and
/// WebSocket, all on one tiny_http server.
///
///   curl 'http://127.0.0.1:3002/messages?since=0'                 short poll: answers at once
///   curl 'http://127.0.0.1:3002/messages/wait?since=3&timeout=20'  long poll: waits for news
///   curl -N http://127.0.0.1:3002/events                            the event stream
///   curl -d 'hello' http://127.0.0.1:3002/messages                  publish
///
/// Put the Tap in front (`just tap 127.0.0.1:3003 127.0.0.1:3002`) and point curl at 3003 to
/// see every byte.
#[derive(Parser)]
#[command(version)]
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
    #[arg(long, default_value_t = http_polling::limits::MAX_WAITERS)]
    max_waiters: usize,
    #[command(flatten)]
    limits: guard::LimitArgs,
}

fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let args = Args::parse();
    let connections = args.limits.limits();
    let limits =
        Limits { max_waiters: args.max_waiters, max_body: connections.max_body, ..Limits::default() };
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
