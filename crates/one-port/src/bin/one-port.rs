//! `one-port`: the chapter's server, HTTP pages and a WebSocket on one port (and wss:// with --tls).

use std::path::PathBuf;

use clap::{Parser, Subcommand};
use one_port::admission::{Admission, Sessions};
use one_port::server::{self, Config, Guard};
use one_port::{DEFAULT_PORT, DEFAULT_TLS_PORT, cswsh, tls};

/// HTTP routes and a WebSocket on one port, as koa and `ws` share one http.Server.
///
/// Serves http://127.0.0.1:3004/ (sign in, then the browser client at /client) and the
/// WebSocket echo at ws://127.0.0.1:3004/ws/echo. The server's log shows which requests went
/// through the middleware (logger, session check) and which upgrades skipped it.
#[derive(Parser)]
#[command(version)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    /// Address to listen on. With 0.0.0.0, add the address others type as --allow-origin.
    #[arg(long, default_value = "127.0.0.1")]
    host: String,
    /// Port for http:// and ws://; 0 picks a free one.
    #[arg(long, default_value_t = DEFAULT_PORT)]
    port: u16,
    /// Also serve https:// and wss://, through a TLS front with a certificate for `localhost`
    /// generated now.
    #[arg(long)]
    tls: bool,
    /// Port for https:// and wss:// (with --tls).
    #[arg(long, default_value_t = DEFAULT_TLS_PORT)]
    tls_port: u16,
    /// Where to write the generated certificate (PEM), so that a client can trust exactly it,
    /// e.g. `curl --cacert FILE https://localhost:3443/`.
    #[arg(long, value_name = "FILE", default_value = "target/one-port/localhost.pem")]
    cert_out: PathBuf,
    /// Let pages from this origin open WebSockets too (the server's own origins always may),
    /// e.g. http://192.168.1.20:3004. Repeat for more.
    #[arg(long, value_name = "ORIGIN")]
    allow_origin: Vec<String>,
    /// For the lesson only: answer every valid upgrade with 101, checking neither Origin nor the
    /// session, as a koa + ws server does unless you add the checks yourself. Then try
    /// `one-port attacker`.
    #[arg(long)]
    unchecked: bool,
    #[command(flatten)]
    limits: guard::LimitArgs,
}

#[derive(Subcommand)]
enum Command {
    /// Serve a page on another origin (another port) that opens a WebSocket to the server with
    /// your cookie: Cross-Site WebSocket Hijacking. Refused with 403 unless the server runs with
    /// --unchecked.
    Attacker {
        /// The WebSocket the page tries to open.
        #[arg(long, default_value = "ws://127.0.0.1:3004/ws/echo")]
        target: String,
        /// Port for the attacker's page.
        #[arg(long, default_value_t = 4001)]
        port: u16,
    },
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    guard::logging::init("info");
    if let Some(Command::Attacker { target, port }) = &cli.command {
        let attacker = cswsh::start(server::bind(&cli.host, *port)?, target)?;
        println!(
            "The attacker's page is at http://127.0.0.1:{}/ and aims at {target}.",
            attacker.addr().port()
        );
        println!("Sign in on the real server first, then open it. Press Ctrl-C to stop.");
        attacker.wait();
        return Ok(());
    }
    serve(&cli)
}

fn serve(cli: &Cli) -> anyhow::Result<()> {
    let listener = server::bind(&cli.host, cli.port)?;
    let port = listener.local_addr()?.port();
    let sessions = Sessions::new();
    let cli_token = sessions.create("cli");
    let mut admission = Admission::new(sessions).allow_loopback("http", port);
    if cli.tls {
        admission = admission.allow_loopback("https", cli.tls_port);
    }
    for origin in &cli.allow_origin {
        admission = admission.allow_origin(origin);
    }
    let mut config = Config::new(admission);
    config.limits = cli.limits.limits();
    if cli.unchecked {
        config.guard = Guard::Unchecked;
    }
    let running = server::start(listener, config)?;
    let addr = running.addr();
    println!("http://127.0.0.1:{port}/        pages, sign-in, /api/time and the browser client at /client");
    println!("ws://127.0.0.1:{port}{}   the WebSocket, on the same port", serve::ECHO_PATH);
    println!(
        "ws://127.0.0.1:{port}{}?ticket=…  and  ws://127.0.0.1:{port}{}   with a ticket (POST /api/ticket) or a token first",
        server::TICKET_PATH,
        server::FIRST_MESSAGE_PATH
    );
    println!("Programs can sign in with the header  Authorization: Bearer {cli_token}");
    if cli.unchecked {
        println!("UNCHECKED: upgrades are accepted without Origin or session checks (for the lesson only).");
    }

    // The TLS front runs on tokio; the HTTP server keeps its own threads.
    let runtime = tokio::runtime::Runtime::new()?;
    if cli.tls {
        let cert = tls::LocalCert::generate()?;
        if let Some(dir) = cli.cert_out.parent() {
            std::fs::create_dir_all(dir)?;
        }
        std::fs::write(&cli.cert_out, cert.pem())?;
        let front = runtime.block_on(tokio::net::TcpListener::bind((cli.host.as_str(), cli.tls_port)))?;
        let tls_port = front.local_addr()?.port();
        runtime.spawn(tls::terminate(front, cert.server_config()?, addr));
        println!(
            "https://localhost:{tls_port}/      the same server through TLS; wss://localhost:{tls_port}{}",
            serve::ECHO_PATH
        );
        println!(
            "The certificate is in {} (trust it with `curl --cacert {}`; a browser will warn, as it should for \
             a certificate no authority signed)",
            cli.cert_out.display(),
            cli.cert_out.display()
        );
    }
    println!("Press Ctrl-C to stop.");
    running.wait();
    drop(runtime);
    Ok(())
}
