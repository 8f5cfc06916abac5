//! What `just proxy` shows: every exchange of the chapter through a real nginx, both of its
//! connections printed live as the two Taps record them. `just proxy-upgrade`,
//! `just proxy-timeout`, `just proxy-headers` and `just proxy-sse` run one part each.

use tap::demo::{Demo, DemoError, DemoFuture, Flags, LEGEND, heading};
use tap::outln;

use crate::Error;
use crate::config::Site;
use crate::stage::Recording;

/// The key to the two Taps' transcripts, printed above them.
pub const PROXY_LEGEND: &str = "\
The path: client ──▶ Tap 1 ──▶ nginx ──▶ Tap 2 ──▶ server
  Tap 1 records the client and nginx: there C is the client and S is nginx.
  Tap 2 records nginx and the server: there C is nginx and S is the server.
  client⇄nginx │ …   a line Tap 1 recorded      nginx⇄server │ …   a line Tap 2 recorded
  ─── ⏱ 2.003 s later   time passed on that connection since its line before
  ‹tap1› ‹nginx› ‹tap2› ‹server›   in the book's copies, the ports of the path by name
";

/// The chapter's demos, for `proxy-demo` and `duplex demo`.
pub const DEMOS: &[Demo] = &[
    Demo {
        name: "proxy",
        chapter: "Behind a reverse proxy",
        about: "everything below, one after the other, through a real nginx (needs the nginx package)",
        flags: &[],
        run: all_demo,
    },
    Demo {
        name: "proxy-upgrade",
        chapter: "Behind a reverse proxy",
        about: "the upgrade through nginx: its defaults (400), HTTP/1.1 alone (426), forwarded (101)",
        flags: &[],
        run: upgrade_demo,
    },
    Demo {
        name: "proxy-timeout",
        chapter: "Behind a reverse proxy",
        about: "proxy_read_timeout 2s cuts an idle WebSocket (1006); pings from either side keep it open",
        flags: &[],
        run: timeout_demo,
    },
    Demo {
        name: "proxy-headers",
        chapter: "Behind a reverse proxy",
        about: "X-Forwarded-For appended and forged; the Origin check against the Host nginx sends",
        flags: &[],
        run: headers_demo,
    },
    Demo {
        name: "proxy-sse",
        chapter: "Behind a reverse proxy",
        about: "Server-Sent Events through nginx: held by buffering, or passed on event by event",
        flags: &[],
        run: sse_demo,
    },
];

/// Checks that nginx is there before anything is printed, so a reader without it gets one clear
/// line: which package to install.
fn preflight() -> Result<(), Error> {
    serve::nginx::locate().map(|_| ()).map_err(Error::from)
}

/// Prints a part's heading, the configuration it runs, then runs it live and prints what each
/// side saw.
async fn part<F>(title: &str, site: &Site, run: F) -> Result<(), Error>
where
    F: std::future::Future<Output = Result<Recording, Error>>,
{
    heading(title);
    outln!("nginx's site:\n");
    let site_text = site.render("127.0.0.1:‹nginx›", "127.0.0.1:‹tap2›");
    for line in site_text.lines() {
        if line.is_empty() {
            outln!();
        } else {
            outln!("    {line}");
        }
    }
    outln!();
    let recording = run.await?;
    outln!("\nWhat each side saw:");
    for (who, lines) in [
        ("client", &recording.client),
        ("server", &recording.server),
        ("nginx's error log", &recording.nginx),
    ] {
        for line in lines {
            outln!("  {who}: {line}");
        }
    }
    Ok(())
}

async fn upgrade() -> Result<(), Error> {
    for case in crate::upgrade::cases() {
        part(case.title, &case.site, crate::upgrade::run(&case.site, true)).await?;
    }
    Ok(())
}

async fn timeout() -> Result<(), Error> {
    let site = crate::timeout::site();
    part(
        "Nobody sends anything: proxy_read_timeout (2 s) cuts the connection",
        &site,
        crate::timeout::idle(true),
    )
    .await?;
    part("The server pings every second: the connection stays open", &site, crate::timeout::heartbeat(true))
        .await?;
    part(
        "The client pings every second, the server never answers: open all the same",
        &site,
        crate::timeout::client_pings(true),
    )
    .await
}

async fn headers() -> Result<(), Error> {
    use crate::headers;
    part(
        "X-Forwarded-For appended by nginx: the server takes the last address",
        &Site::websocket().forwarded_for(),
        headers::forwarded_for(true, true),
    )
    .await?;
    part(
        "No X-Forwarded-For in nginx's site: the client's own claim arrives unchanged",
        &Site::websocket(),
        headers::forwarded_for(false, true),
    )
    .await?;
    for (host, _, title) in headers::origin_cases() {
        part(title, &Site::websocket().host(host), headers::origin(host, true)).await?;
    }
    Ok(())
}

async fn sse() -> Result<(), Error> {
    for case in crate::sse::cases() {
        part(case.title, &case.site, crate::sse::run(&case, true)).await?;
    }
    Ok(())
}

/// Runs `work` until it ends or the reader presses Ctrl-C. nginx runs in a process group of its
/// own, so the terminal's Ctrl-C does not reach it; stopping here drops the stage, which stops
/// nginx, rather than leaving it running after the demo has gone.
async fn interruptible(work: impl std::future::Future<Output = Result<(), Error>>) -> Result<(), DemoError> {
    tokio::select! {
        result = work => Ok(result?),
        _ = tokio::signal::ctrl_c() => Err("interrupted (Ctrl-C); nginx was stopped".into()),
    }
}

fn start(what: &str) -> Result<(), Error> {
    preflight()?;
    outln!("{LEGEND}{PROXY_LEGEND}");
    outln!("{what}");
    Ok(())
}

fn all_demo(_flags: Flags) -> DemoFuture {
    Box::pin(async {
        start("Every part of the chapter, one after the other.")?;
        interruptible(async {
            upgrade().await?;
            timeout().await?;
            headers().await?;
            sse().await
        })
        .await
    })
}

fn upgrade_demo(_flags: Flags) -> DemoFuture {
    Box::pin(async {
        start("The same upgrade request, through three configurations of nginx.")?;
        interruptible(upgrade()).await
    })
}

fn timeout_demo(_flags: Flags) -> DemoFuture {
    Box::pin(async {
        start("An upgraded connection through nginx with proxy_read_timeout 2s (the default is 60s).")?;
        interruptible(timeout()).await
    })
}

fn headers_demo(_flags: Flags) -> DemoFuture {
    Box::pin(async {
        start("What the server learns about the client, and the Host it checks Origin against.")?;
        interruptible(headers()).await
    })
}

fn sse_demo(_flags: Flags) -> DemoFuture {
    Box::pin(async {
        start("An event stream of a head, three events a second apart, and an end, through nginx.")?;
        interruptible(sse()).await
    })
}
