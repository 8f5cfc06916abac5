//! What `just heartbeat` shows: the pinging server, the Tap and a watching client over real TCP,
//! in real time, with a short interval so a class can watch the pings go by.
//!
//! - Healthy: a ping every second, each answered, until the client says goodbye.
//! - `--blackhole`: two and a half seconds in, the Tap stops passing bytes on. The server's
//!   pings go unanswered; it drops the connection [`Heartbeat::detection_time`] after the first
//!   lost one. The client hears nothing and gives up on its own.

use std::time::Duration;

use tap::demo::{Demo, DemoFuture, Flag, Flags, HEARTBEAT_LEGEND, LEGEND, live};
use tap::{Observer, Tap, outln};
use tokio::net::{TcpListener, TcpStream};
use wire::Render;

use crate::endings::{Recorded, exchange};
use crate::watchdog::Watchdog;
use crate::{Error, Heartbeat, Settings};

/// The demo's heartbeat: a ping a second, so the room sees one; two missed and the peer is gone.
pub const HEARTBEAT: Heartbeat = Heartbeat { interval: Duration::from_secs(1), max_missed: 2 };

/// Pings in the healthy demo before the client closes.
pub const PINGS: u32 = 5;

/// Runs the demo; `observer` sees each event as the Tap records it.
pub async fn run(blackhole: bool, observer: Option<Observer>) -> Result<Recorded, Error> {
    let heartbeat = HEARTBEAT;
    let interval = heartbeat.interval;
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let mut tap = Tap::bind("127.0.0.1:0", listener.local_addr()?).await?.clock(true);
    let goodbye_after = if blackhole {
        // The Tap throws its own switch, and notes the moment in the transcript.
        tap = tap.blackhole_after(interval * 5 / 2);
        None
    } else {
        Some(interval * PINGS + interval / 2)
    };
    if let Some(observer) = observer {
        tap = tap.observe(move |id, event| observer(id, event));
    }
    let client = TcpStream::connect(tap.local_addr()).await?;
    client.set_nodelay(true)?;
    let connection = tap.accept().await?;
    let (server, _) = listener.accept().await?;
    server.set_nodelay(true)?;
    let settings = Settings { heartbeat, limits: crate::config::no_idle() };
    let host = tap.local_addr().to_string();
    let watchdog = Watchdog::for_heartbeat(&heartbeat);
    let (client_saw, server_saw) = exchange(client, server, &host, settings, watchdog, goodbye_after).await?;
    let transcript = connection.transcript().await;
    Ok(Recorded { transcript, client: client_saw, server: server_saw })
}

/// The chapter's demos, for `heartbeat-demo` and `duplex demo`.
pub const DEMOS: &[Demo] = &[
    Demo {
        name: "heartbeat",
        chapter: "Heartbeat and every way a connection ends",
        about: "a ping every second, answered; with --blackhole, a dead peer found and dropped",
        flags: &[Flag {
            name: "blackhole",
            help: "For `heartbeat`: make the path a blackhole after 2.5 s, to watch a dead peer found",
        }],
        run: heartbeat_demo,
    },
    Demo {
        name: "endings",
        chapter: "Heartbeat and every way a connection ends",
        about: "every way a connection ends: 1000, 1001, 1002, 1009, 1006 and an idle timeout",
        flags: &[],
        run: endings_demo,
    },
];

fn heartbeat_demo(flags: Flags) -> DemoFuture {
    Box::pin(async move {
        let blackhole = flags.has("blackhole");
        outln!("{LEGEND}{HEARTBEAT_LEGEND}");
        let beat = HEARTBEAT;
        if blackhole {
            outln!(
                "The server pings every {} s and gives up after {} unanswered pings; the client gives up after {} s of silence.",
                beat.interval.as_secs_f64(),
                beat.max_missed,
                Watchdog::for_heartbeat(&beat).silence.as_secs_f64()
            );
            outln!("At 2.5 s the Tap turns into a blackhole. Watch who notices, and when.\n");
        } else {
            outln!(
                "The server pings every {} s; the client closes after {PINGS} pings. (Add --blackhole to kill the path.)\n",
                beat.interval.as_secs_f64(),
            );
        }
        let recorded = run(blackhole, Some(live())).await?;
        outln!("\nWhat each application saw:");
        for (who, lines) in [("client", &recorded.client), ("server", &recorded.server)] {
            for line in lines {
                outln!("  {who}: {line}");
            }
        }
        Ok(())
    })
}

fn endings_demo(_flags: Flags) -> DemoFuture {
    Box::pin(async {
        use crate::endings;
        outln!("{LEGEND}");
        let style = Render::live();
        let show = |title: &str, recorded: Recorded| {
            outln!("━━ {title} ━━");
            outln!("{}", recorded.render(&style));
        };
        show("The client closes: 1000", endings::client_closes().await?);
        show("The server shuts down: 1001", endings::server_shuts_down().await?);
        show("A protocol error (an unmasked client frame): 1002", endings::protocol_error().await?);
        show("A message over the limit: 1009", endings::message_too_big().await?);
        show(
            "The server's program dies: no close frame, 1006 for the client",
            endings::connection_drops().await?,
        );
        show("An idle timeout (2.5 s, in real time)", endings::idle_timeout().await?);
        Ok(())
    })
}
