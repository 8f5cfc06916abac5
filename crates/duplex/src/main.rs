//! `duplex`: `cargo run` builds the book and serves it, with its live demos, on one port.

use clap::{Parser, Subcommand};
use duplex::{DEFAULT_HOST, DEFAULT_PORT, book, demos, server};
use tap::Tap;
use wire::Render;

/// Duplex: HTTP and WebSocket, every byte shown.
///
/// With no command, renders the book (from book/, into target/book) and serves it at
/// http://127.0.0.1:3000 together with its live demos: the WebSocket echo answers at
/// ws://127.0.0.1:3000/ws/echo on the same port, because one server can speak both. The
/// Simplified Chinese edition is at http://127.0.0.1:3000/zh/ (book/po/TRANSLATING.md).
#[derive(Parser)]
#[command(version, propagate_version = true)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    #[command(flatten)]
    serve: ServeArgs,
    #[command(flatten)]
    limits: guard::LimitArgs,
}

#[derive(clap::Args)]
struct ServeArgs {
    /// Address to listen on. 0.0.0.0 lets others in the room open the book from your machine
    /// (your firewall may ask first).
    #[arg(long, global = true, default_value = DEFAULT_HOST)]
    host: String,
    /// Port to listen on; 0 picks a free one.
    #[arg(long, global = true, default_value_t = DEFAULT_PORT)]
    port: u16,
    /// The book's source folder (where book.toml is) [default: book/ in the workspace].
    // No `default_value` here: it would print this machine's absolute path in `--help`.
    #[arg(long, global = true, value_name = "DIR")]
    book: Option<std::path::PathBuf>,
    /// Where to render the book [default: target/book in the workspace, or in $CARGO_TARGET_DIR].
    #[arg(long, global = true, value_name = "DIR")]
    out: Option<std::path::PathBuf>,
}

impl ServeArgs {
    fn book_dir(&self) -> std::path::PathBuf {
        self.book.clone().unwrap_or_else(book::default_book_dir)
    }

    fn out_dir(&self) -> std::path::PathBuf {
        self.out.clone().unwrap_or_else(book::default_out_dir)
    }
}

#[derive(Subcommand)]
enum Command {
    /// Render the book and serve it with the live demos (what `cargo run` does).
    Serve,
    /// Render the book, both editions (English, and Chinese in zh/), to --out and exit.
    Build,
    /// The Chinese edition's catalogs (book/po/): keep them in step with the English, see what is
    /// left to translate, cut them into parts for several translators and put them back.
    /// book/po/TRANSLATING.md explains the workflow.
    I18n {
        #[command(subcommand)]
        command: I18nCommand,
    },
    /// Run a chapter's exchange in the terminal and print every byte through the Tap (the
    /// chapter recipes, such as `just ws-echo`, run the same demos from each chapter's crate).
    Demo {
        /// Which demo, and its flags (`duplex demo --list` shows them).
        #[arg(trailing_var_arg = true, allow_hyphen_values = true, value_name = "NAME [FLAGS]")]
        args: Vec<String>,
    },
    /// Put the Tap in front of any server: connect a client to LISTEN and see what it says to
    /// UPSTREAM and back. Example: `duplex tap 127.0.0.1:3001 127.0.0.1:3000`, then open
    /// http://127.0.0.1:3001/echo/live.html in a browser and watch the echo's bytes.
    Tap {
        /// Where the Tap listens, host:port.
        listen: String,
        /// The server it forwards to, host:port.
        upstream: String,
        /// Make each connection a blackhole this many seconds after it opened: the Tap still
        /// shows what each side sends, but passes nothing on and closes nothing, like a pulled
        /// cable. Try it in front of `heartbeat-server` to watch who notices a dead peer.
        #[arg(long, value_name = "SECONDS", value_parser = seconds)]
        blackhole_after: Option<std::time::Duration>,
        /// When each connection ends, draw what passed through it as a sequence diagram, in the
        /// style of the book's figures: connection N is written to FILE with -N before its
        /// extension (`--svg echo.svg` writes echo-1.svg, echo-2.svg, …), one file per
        /// connection, and the Tap says where. Open the file in a browser.
        #[arg(long, value_name = "FILE")]
        svg: Option<std::path::PathBuf>,
        /// Note the time since each connection opened whenever it has moved on (to the
        /// millisecond), as the heartbeat chapter's transcripts do; with --svg, the picture shows
        /// the times in its margin.
        #[arg(long)]
        clock: bool,
    },
}

#[derive(Subcommand)]
enum I18nCommand {
    /// Extract book/po/messages.pot from the English text and merge it into book/po/zh-CN.po
    /// (gettext's msgmerge): new paragraphs arrive untranslated, changed ones fuzzy, with the
    /// previous English beside them.
    Update,
    /// How much of the current English text the translation gives, page by page.
    Status,
    /// Cut book/po/zh-CN.po into one file per chapter, book/po/zh-CN/<chapter>.po, so that
    /// several translators can work at once, each in their own file.
    Split,
    /// Put the parts in book/po/zh-CN/ back together into book/po/zh-CN.po.
    Join,
}

/// `2.5` → 2.5 s, for `--blackhole-after`.
fn seconds(text: &str) -> Result<std::time::Duration, String> {
    let secs: f64 = text.parse().map_err(|_| format!("{text:?} is not a number of seconds"))?;
    std::time::Duration::try_from_secs_f64(secs)
        .map_err(|_| format!("{text:?}: the seconds must be zero or more, and not endless"))
}

/// What is logged unless `RUST_LOG` says otherwise: requests and WebSockets, but not mdbook's
/// progress lines.
const LOG_DEFAULT: &str = "info,mdbook_driver=warn,mdbook_html=warn,mdbook_core=warn,mdbook_preprocessor=warn,\
                           mdbook_renderer=warn,mdbook_summary=warn,mdbook_markdown=warn,handlebars=warn";

fn main() -> std::process::ExitCode {
    let Cli { command, serve: serve_args, limits } = Cli::parse();
    match command.unwrap_or(Command::Serve) {
        Command::Demo { args } => {
            // The chapter binaries' own command line, over every chapter's table.
            let demos = demos::all();
            let matches =
                tap::demo::command("duplex demo", &demos).no_binary_name(true).get_matches_from(args);
            tap::demo::run_matches(&demos, &matches)
        }
        command => {
            guard::logging::init(LOG_DEFAULT);
            tap::out::exit_code(run(command, &serve_args, &limits))
        }
    }
}

fn run(command: Command, args: &ServeArgs, limits: &guard::LimitArgs) -> anyhow::Result<()> {
    match command {
        Command::Serve => serve(args, limits.limits()),
        Command::Build => {
            let out = book::render(&args.book_dir(), &args.out_dir())?;
            println!("rendered the book into {}", out.display());
            println!("  and its Chinese edition into {}", duplex::edition::CHINESE.root(&out).display());
            Ok(())
        }
        Command::I18n { command } => i18n(command, &args.book_dir()),
        // Run by `main` before the log is set up: a demo's output is its transcript alone.
        Command::Demo { .. } => Ok(()),
        Command::Tap { listen, upstream, blackhole_after, svg, clock } => {
            let options = TapOptions { blackhole_after, svg, clock };
            tokio::runtime::Runtime::new()?.block_on(tap(&listen, &upstream, options))
        }
    }
}

fn i18n(command: I18nCommand, book_dir: &std::path::Path) -> anyhow::Result<()> {
    use duplex::i18n::{self, catalog, tools};
    // Paths in messages without the `crates/duplex/../..` of the default.
    let book_dir = &std::fs::canonicalize(book_dir).unwrap_or_else(|_| book_dir.to_path_buf());
    match command {
        I18nCommand::Update => {
            let updated = tools::update(book_dir)?;
            let template = i18n::template_path(book_dir);
            println!(
                "{} {} messages from the English text",
                if updated.template_changed { "wrote" } else { "unchanged:" },
                updated.messages
            );
            println!("  {}", template.display());
            let translation =
                if updated.split { i18n::parts_dir(book_dir) } else { i18n::translation_path(book_dir) };
            let verb = if updated.created { "created" } else { "merged into" };
            println!("{verb} {}", translation.display());
            print!("{}", catalog::coverage(book_dir)?.report());
        }
        I18nCommand::Status => print!("{}", catalog::coverage(book_dir)?.report()),
        I18nCommand::Split => {
            for (part, messages) in tools::split(book_dir)? {
                println!("{:>5} messages  {}", messages, part.display());
            }
            println!("Each translator takes one file; `just i18n-join` puts them back into zh-CN.po.");
        }
        I18nCommand::Join => {
            let po = tools::join(book_dir)?;
            println!("joined the parts into {}", po.display());
        }
    }
    Ok(())
}

fn serve(args: &ServeArgs, limits: guard::Limits) -> anyhow::Result<()> {
    // The port first: if another server has it, say so before rendering over the files it serves.
    let listener = server::bind(&args.host, args.port)?;
    let site = book::render(&args.book_dir(), &args.out_dir())?;
    let config = server::Config { site, limits };
    let running = server::start_on(listener, config)?;
    let addr = running.addr();
    let shown =
        if addr.ip().is_unspecified() { format!("127.0.0.1:{}", addr.port()) } else { addr.to_string() };
    println!("The book is at http://{shown}/  (the WebSocket echo: ws://{shown}{})", serve::ECHO_PATH);
    println!("中文版: http://{shown}{}", duplex::edition::CHINESE.url_root());
    if addr.ip().is_unspecified() {
        match lan_address() {
            Some(ip) => {
                println!("Others on your network: http://{ip}:{}/  (a firewall may ask first)", addr.port())
            }
            None => println!(
                "Others on your network: http://YOUR-ADDRESS:{}/  (find it with `ip addr` or `ipconfig`)",
                addr.port()
            ),
        }
    }
    println!("Press Ctrl-C to stop.");
    running.wait();
    Ok(())
}

/// This machine's address on its network, best guess: the local address the OS would use to
/// reach a public address. Connecting a UDP socket sends nothing; it only picks a route.
fn lan_address() -> Option<std::net::IpAddr> {
    let socket = std::net::UdpSocket::bind("0.0.0.0:0").ok()?;
    socket.connect("192.0.2.1:9").ok()?;
    let ip = socket.local_addr().ok()?.ip();
    (!ip.is_loopback() && !ip.is_unspecified()).then_some(ip)
}

/// What `duplex tap` does besides relaying and printing.
struct TapOptions {
    blackhole_after: Option<std::time::Duration>,
    svg: Option<std::path::PathBuf>,
    clock: bool,
}

async fn tap(listen: &str, upstream: &str, options: TapOptions) -> anyhow::Result<()> {
    let TapOptions { blackhole_after, svg, clock } = options;
    let upstream_addr = tokio::net::lookup_host(upstream)
        .await?
        .next()
        .ok_or_else(|| anyhow::anyhow!("{upstream} does not resolve to an address"))?;
    let tap = Tap::bind(listen, upstream_addr)
        .await
        .map_err(|e| anyhow::anyhow!("the Tap cannot listen on {listen}: {e}"))?
        .print_live(Render::live(), true)
        .clock(clock);
    tap::outln!("{}", demos::LEGEND);
    println!(
        "The Tap listens on {} and forwards to {upstream}; each line starts with its connection's number.",
        tap.local_addr()
    );
    let tap = match blackhole_after {
        Some(after) => {
            println!(
                "Each connection becomes a blackhole {} s after it opens: nothing more passes, nothing closes.",
                after.as_secs_f64()
            );
            tap.blackhole_after(after)
        }
        None => tap,
    };
    let tap = match svg {
        Some(base) => {
            println!(
                "When a connection ends, its picture is written to {} (N: the connection's number).",
                tap::picture::pattern(&base).display()
            );
            tap.draw_to(base)
        }
        None => tap,
    };
    tap.run().await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn parse(args: &[&str]) -> Result<Cli, clap::Error> {
        Cli::try_parse_from(std::iter::once("duplex").chain(args.iter().copied()))
    }

    #[test]
    fn tap_takes_blackhole_after_in_seconds_a_picture_file_and_a_clock() {
        let cli = parse(&["tap", "127.0.0.1:9005", "127.0.0.1:9004", "--blackhole-after", "2.5"]).unwrap();
        let Some(Command::Tap { blackhole_after, .. }) = cli.command else { panic!("not the tap command") };
        assert_eq!(blackhole_after, Some(Duration::from_millis(2500)));
        let cli = parse(&["tap", "127.0.0.1:9005", "127.0.0.1:9004"]).unwrap();
        assert!(matches!(cli.command, Some(Command::Tap { blackhole_after: None, .. })), "off unless asked");
        let cli = parse(&["tap", "a:1", "b:2", "--svg", "echo.svg", "--clock"]).unwrap();
        let Some(Command::Tap { svg, clock, .. }) = cli.command else { panic!("not the tap command") };
        assert_eq!(svg.as_deref(), Some(std::path::Path::new("echo.svg")));
        assert!(clock, "--clock turns the Tap's clock on");
        for bad in ["-1", "soon", "inf"] {
            let err = parse(&["tap", "a:1", "b:2", "--blackhole-after", bad]).err().expect(bad).to_string();
            assert!(err.contains(bad), "the error should quote {bad:?}: {err}");
        }
    }
}
