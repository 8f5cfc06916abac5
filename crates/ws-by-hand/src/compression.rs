//! The server's permessage-deflate settings as command-line flags (`--deflate` and the four
//! parameters of RFC 7692 §7.1), turned into a [`DeflateConfig`].

use wire::deflate::DeflateConfig;
use wire::deflate::negotiate::{MAX_WINDOW_BITS, MIN_WINDOW_BITS};

/// The help heading the flags are listed under.
const HEADING: &str = "Compression (permessage-deflate, RFC 7692)";

/// `--deflate` and its parameters. Without `--deflate` the server declines every extension, as
/// tungstenite does, and the other flags are refused.
#[derive(Clone, Debug, Default, clap::Args)]
#[command(next_help_heading = HEADING)]
pub struct DeflateArgs {
    /// Accept permessage-deflate when a client offers it (every browser does): messages are then
    /// compressed both ways, RSV1 set on their first frame. Costs memory per connection (a
    /// compressor and an inflater) and CPU per message; saves bytes on repetitive text such as
    /// JSON.
    #[arg(long)]
    pub deflate: bool,
    /// Forget earlier messages after each one the server sends (`server_no_context_takeover`):
    /// each message is compressed alone. Larger messages, but a secret in one message can no
    /// longer be guessed from the size of the next (RFC 7692 §8, CRIME).
    #[arg(long, requires = "deflate")]
    pub deflate_no_context_takeover: bool,
    /// Tell clients to forget earlier messages after each one they send
    /// (`client_no_context_takeover`).
    #[arg(long, requires = "deflate")]
    pub deflate_client_no_context_takeover: bool,
    /// The largest LZ77 window the server compresses with, 2^N bytes, N from 8 to 15
    /// (`server_max_window_bits`; 15 is DEFLATE's 32 KiB and is not sent).
    #[arg(long, value_name = "N", default_value_t = MAX_WINDOW_BITS, requires = "deflate",
          value_parser = clap::value_parser!(u8).range(i64::from(MIN_WINDOW_BITS)..=i64::from(MAX_WINDOW_BITS)))]
    pub deflate_window_bits: u8,
    /// The largest window clients may compress with (`client_max_window_bits`), 8 to 15; below
    /// 15, an offer that cannot limit its window is declined. Zlib cannot compress with 8.
    #[arg(long, value_name = "N", default_value_t = MAX_WINDOW_BITS, requires = "deflate",
          value_parser = clap::value_parser!(u8).range(i64::from(MIN_WINDOW_BITS)..=i64::from(MAX_WINDOW_BITS)))]
    pub deflate_client_window_bits: u8,
}

impl DeflateArgs {
    /// What the flags ask for: `None` without `--deflate`.
    pub fn config(&self) -> Option<DeflateConfig> {
        self.deflate.then_some(DeflateConfig {
            server_no_context_takeover: self.deflate_no_context_takeover,
            client_no_context_takeover: self.deflate_client_no_context_takeover,
            server_max_window_bits: self.deflate_window_bits,
            client_max_window_bits: self.deflate_client_window_bits,
        })
    }
}
