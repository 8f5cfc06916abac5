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
    /// How to receive.
    #[arg(value_enum)]
    mode: ModeArg,
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
    /// Publish this text instead of receiving (mode is then ignored).
    #[arg(long)]
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

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let addr = args
        .server
        .to_socket_addrs()?
        .next()
        .ok_or_else(|| anyhow::anyhow!("{} does not resolve to an address", args.server))?;
    if let Some(text) = &args.publish {
        let message = client::publish(&mut Connection::open(addr)?, &args.prefix, text)?;
        println!("published #{} {:?}", message.id, message.text);
        return Ok(());
    }
    let mut last = args.since;
    match args.mode {
        ModeArg::Short => {
            let mut connection = Connection::open(addr)?;
            loop {
                let messages = client::short_poll(&mut connection, &args.prefix, last)?;
                println!("poll since={last}: {} new", messages.len());
                for m in messages {
                    println!("  #{} {}", m.id, m.text);
                    last = m.id;
                }
                std::thread::sleep(Duration::from_millis(args.interval));
            }
        }
        ModeArg::Long => {
            let mut connection = Connection::open(addr)?;
            loop {
                match client::long_poll(&mut connection, &args.prefix, last, 25)? {
                    None => println!("long poll since={last}: 204, nothing new; asking again"),
                    Some(messages) => {
                        for m in messages {
                            println!("  #{} {}", m.id, m.text);
                            last = m.id;
                        }
                    }
                }
            }
        }
        ModeArg::Sse => loop {
            let request =
                EventStream::request(&addr.to_string(), &args.prefix, Some(last).filter(|id| *id > 0));
            let mut stream = EventStream::open(Connection::open(addr)?, &request)?;
            while let Some(event) = stream.next_event()? {
                match (event.id, event.retry) {
                    (Some(id), _) => {
                        println!("  #{id} {}", event.data);
                        last = id.parse().unwrap_or(last);
                    }
                    (None, Some(retry)) => println!("stream open (retry: {retry} ms)"),
                    (None, None) => {}
                }
            }
            println!("the server ended the stream; reconnecting with Last-Event-ID: {last}");
            std::thread::sleep(Duration::from_secs(2));
        },
    }
}
