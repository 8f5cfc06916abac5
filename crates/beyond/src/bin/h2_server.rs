//! `h2-websocket-server`: the chapter's HTTP/2 server alone: a page at `/`, a WebSocket echo by
//! extended CONNECT at `/ws/echo` (RFC 8441).

use clap::Parser;
use tokio::net::TcpListener;

/// An HTTP/2 server whose WebSocket runs inside an HTTP/2 stream (RFC 8441).
///
/// Without --tls it speaks cleartext HTTP/2 with prior knowledge, for programs that start with
/// the HTTP/2 preface: `curl --http2-prior-knowledge http://127.0.0.1:9010/hello.txt`. Browsers
/// speak HTTP/2 only inside TLS: with --tls it makes a certificate for localhost at start, which
/// no browser trusts; a test browser can be told to accept it
/// (`chromium --ignore-certificate-errors https://localhost:9010/`, never for daily use).
#[derive(Parser)]
#[command(version)]
struct Args {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1")]
    host: String,
    /// Port to listen on.
    #[arg(long, default_value_t = 9010)]
    port: u16,
    /// Speak HTTP/2 inside TLS (ALPN h2), with a certificate made at start.
    #[arg(long)]
    tls: bool,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    guard::logging::init("info");
    let args = Args::parse();
    let address = format!("{}:{}", args.host, args.port);
    let listener = TcpListener::bind(&address)
        .await
        .map_err(|e| anyhow::anyhow!("cannot listen on {address}: {e} (choose another with --port)"))?;
    let tls = if args.tls { Some(beyond::tls::LocalCert::generate()?.server_config()?) } else { None };
    let scheme = if tls.is_some() { "https" } else { "http (HTTP/2 prior knowledge)" };
    println!(
        "HTTP/2 server at {scheme}://{}/, WebSocket at {}",
        listener.local_addr()?,
        beyond::server::ECHO_PATH
    );
    beyond::server::serve(listener, tls, beyond::server::Journal::new()).await?;
    Ok(())
}
