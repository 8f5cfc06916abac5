//! Agreeing on permessage-deflate in the opening handshake (RFC 7692 §5, §7.1).
//!
//! The client offers, the server picks. A browser sends
//! `Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits`; the server answers with
//! the one offer it accepts and the parameters it settles on, or leaves the header out and no
//! extension is in use. The four parameters come in pairs, one for each direction:
//!
//! | parameter | in an offer (client → server) | in the response (server → client) |
//! |---|---|---|
//! | `server_no_context_takeover` | "server, forget between messages" | "I will" |
//! | `client_no_context_takeover` | "I will forget anyway" (a hint) | "client, you must forget" |
//! | `server_max_window_bits=N` | "server, use a window of at most 2^N" | "I use at most 2^N" |
//! | `client_max_window_bits[=N]` | "I can limit my window" (N: "I will use ≤ 2^N") | "client, use at most 2^N" |
//!
//! *Context takeover* means the compressor keeps its memory of earlier messages (its LZ77
//! *window*, the last 2^N bytes it saw) and may refer back to them, so a repeated message costs a
//! few bytes. Forgetting costs compression and saves the receiver nothing but the risk described
//! in RFC 7692 §8 (CRIME-like attacks).
//!
//! What this server can honour, and why:
//! - Any `server_max_window_bits` from 8 to 15. flate2's pure-Rust backend (miniz_oxide) always
//!   compresses with a 32 KiB window and cannot be told otherwise (`Compress::new_with_window_bits`
//!   exists only with a C zlib backend, and zlib itself turns a raw window of 8 into an error).
//!   [`Compressor`](super::Compressor) keeps every back-reference within 2^N bytes another way: it
//!   restarts its window (a *full flush*) every 2^N bytes of input. The receiver can then decode
//!   with a 2^N-byte window, which is all the parameter promises; the price is compression.
//! - Any `client_max_window_bits`: miniz_oxide inflates with a 32 KiB window whatever the client
//!   uses, so asking the client for less saves this server no memory. It is still configurable,
//!   to show the parameter.

use super::header::{self, Extension, SyntaxError};
use std::fmt;

/// The extension's registered name (RFC 7692 §7, §10.1).
pub const EXTENSION_NAME: &str = "permessage-deflate";

/// RFC 7692 §7.1.2: the smallest window, 2^8 = 256 bytes.
pub const MIN_WINDOW_BITS: u8 = 8;

/// RFC 7692 §7.1.2: the largest window, 2^15 = 32 KiB, DEFLATE's own limit (RFC 1951 §2).
pub const MAX_WINDOW_BITS: u8 = 15;

/// What the server is willing to do (RFC 7692 §7.1). The default accepts any valid offer with
/// context takeover and full windows in both directions, as browsers expect.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DeflateConfig {
    /// Reset the server's compressor after every message even if the client did not ask
    /// (§7.1.1.1): no memory of earlier messages, so no CRIME-like leak between them (§8).
    pub server_no_context_takeover: bool,
    /// Ask the client to reset its compressor after every message (§7.1.1.2). Any client that
    /// implements the extension must obey.
    pub client_no_context_takeover: bool,
    /// The largest window the server compresses with, 8 to 15 (§7.1.2.1). Below 15 the response
    /// says so; a client may ask for less, and gets it.
    pub server_max_window_bits: u8,
    /// The largest window the client may compress with, 8 to 15 (§7.1.2.2). Below 15 the server
    /// asks for it, which it may only do if the offer has `client_max_window_bits`; an offer
    /// without it is declined. Zlib-based clients cannot compress with a window of 8 (zlib turns
    /// it into an error or into 9), so 9 is the smallest value worth asking for.
    pub client_max_window_bits: u8,
}

impl Default for DeflateConfig {
    fn default() -> DeflateConfig {
        DeflateConfig {
            server_no_context_takeover: false,
            client_no_context_takeover: false,
            server_max_window_bits: MAX_WINDOW_BITS,
            client_max_window_bits: MAX_WINDOW_BITS,
        }
    }
}

/// `client_max_window_bits` in an offer: the only parameter that may come with or without a
/// value (RFC 7692 §7.1.2.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ClientWindowOffer {
    /// Absent: the client cannot limit its window, so the response must not ask it to.
    NotOffered,
    /// Present without a value: the client can limit its window if the server asks.
    Supported,
    /// Present with a value: the client will use at most 2^N bytes whatever the response says.
    AtMost(u8),
}

/// A client's `permessage-deflate` offer, checked against RFC 7692 §7.1.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DeflateOffer {
    /// `server_no_context_takeover`: the client asks the server to forget between messages.
    pub server_no_context_takeover: bool,
    /// `client_no_context_takeover`: the client says it will forget anyway (a hint).
    pub client_no_context_takeover: bool,
    /// `server_max_window_bits=N`: the largest window the client lets the server use.
    pub server_max_window_bits: Option<u8>,
    /// `client_max_window_bits`, with or without a value.
    pub client_max_window_bits: ClientWindowOffer,
}

impl Default for DeflateOffer {
    /// The offer with no parameters: `permessage-deflate`.
    fn default() -> DeflateOffer {
        DeflateOffer {
            server_no_context_takeover: false,
            client_no_context_takeover: false,
            server_max_window_bits: None,
            client_max_window_bits: ClientWindowOffer::NotOffered,
        }
    }
}

/// What both sides agreed: exactly the parameters of the server's response (RFC 7692 §7.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DeflateAgreement {
    /// The server forgets between messages; the client's inflater resets too.
    pub server_no_context_takeover: bool,
    /// The client must forget between messages; the server's inflater resets too.
    pub client_no_context_takeover: bool,
    /// The window the server compresses with, if the response states one (absent: 15).
    pub server_max_window_bits: Option<u8>,
    /// The window the client may compress with, if the response states one (absent: 15, or
    /// less if the client's offer promised less).
    pub client_max_window_bits: Option<u8>,
}

/// Why an offer was declined. The server then goes on to the client's next offer, and without
/// any acceptable one answers without the extension: declining is never an error (RFC 7692 §5).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Decline {
    /// Some other extension: this server knows only permessage-deflate.
    #[error("{0} is not an extension this server supports")]
    NotDeflate(String),
    /// The header holding the offer did not parse (RFC 6455 §9.1).
    #[error("{0}")]
    Malformed(SyntaxError),
    /// RFC 7692 §7.1: "an extension parameter not defined for use in an offer".
    #[error("unknown parameter {0} (RFC 7692 §7.1)")]
    UnknownParameter(String),
    /// RFC 7692 §7.1: "multiple extension parameters with the same name".
    #[error("parameter {0} given twice (RFC 7692 §7.1)")]
    DuplicateParameter(String),
    /// RFC 7692 §7.1: "an extension parameter with an invalid value"; §7.1.1: the
    /// `*_no_context_takeover` parameters have no value; §7.1.2: window bits are 8 to 15, written
    /// without leading zeros, and only `client_max_window_bits` in an offer may omit the value.
    #[error("invalid value {value:?} for {param} (RFC 7692 §7.1)")]
    InvalidValue {
        /// The parameter.
        param: String,
        /// Its value as received (`None`: no value where one is needed).
        value: Option<String>,
    },
    /// RFC 7692 §7.1.2.2: the server wants to limit the client's window, and an offer without
    /// `client_max_window_bits` says the client cannot.
    #[error("the server limits the client's window to {0} bits and this offer cannot (RFC 7692 §7.1.2.2)")]
    ClientWindowUnsupported(u8),
    /// Client side, RFC 7692 §7.1: a response that does not answer the offer (a window larger
    /// than the client allowed, a `client_max_window_bits` the client did not offer).
    #[error("the response does not fit the offer: {0} (RFC 7692 §7.1)")]
    ResponseDoesNotFitOffer(&'static str),
}

/// One declined offer, for logs and transcripts: the offer as the client wrote it, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Declined {
    /// The offer, as header text.
    pub offer: String,
    /// Why it was declined.
    pub reason: Decline,
}

/// The outcome of negotiation: the accepted offer if any, and every offer declined before it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Negotiation {
    /// The agreement, if an offer was accepted.
    pub accepted: Option<DeflateAgreement>,
    /// Offers looked at and declined, in the client's order. Offers after the accepted one are
    /// not looked at: the first acceptable offer wins (RFC 6455 §9.1: the order is the client's
    /// preference).
    pub declined: Vec<Declined>,
}

impl Negotiation {
    /// The response's `Sec-WebSocket-Extensions` value, or `None`: send no such header.
    pub fn response_header(&self) -> Option<String> {
        self.accepted.as_ref().map(DeflateAgreement::header_value)
    }
}

// ANCHOR: negotiate
/// The server's side of negotiation: every `Sec-WebSocket-Extensions` header of the request, in
/// order, against the server's configuration. The first acceptable permessage-deflate offer wins.
pub fn negotiate<'a>(config: &DeflateConfig, headers: impl IntoIterator<Item = &'a str>) -> Negotiation {
    let mut negotiation = Negotiation::default();
    for value in headers {
        let extensions = match header::parse(value) {
            Ok(extensions) => extensions,
            Err(error) => {
                // Offers cannot be told apart in a header that does not parse: decline it whole.
                negotiation
                    .declined
                    .push(Declined { offer: value.trim().into(), reason: Decline::Malformed(error) });
                continue;
            }
        };
        for extension in extensions {
            match accept(config, &extension) {
                Ok(agreement) => {
                    negotiation.accepted = Some(agreement);
                    return negotiation;
                }
                Err(reason) => negotiation.declined.push(Declined { offer: extension.to_string(), reason }),
            }
        }
    }
    negotiation
}

/// One offer against the configuration: the agreement, or why the offer is declined.
pub fn accept(config: &DeflateConfig, extension: &Extension) -> Result<DeflateAgreement, Decline> {
    if extension.name != EXTENSION_NAME {
        return Err(Decline::NotDeflate(extension.name.clone()));
    }
    let offer = DeflateOffer::from_extension(extension)?;
    let server_max = config.server_max_window_bits.clamp(MIN_WINDOW_BITS, MAX_WINDOW_BITS);
    let client_max = config.client_max_window_bits.clamp(MIN_WINDOW_BITS, MAX_WINDOW_BITS);
    let client_max_window_bits = match offer.client_max_window_bits {
        // §7.1.2.2: without the parameter in the offer, the response must not carry it.
        ClientWindowOffer::NotOffered if client_max < MAX_WINDOW_BITS => {
            return Err(Decline::ClientWindowUnsupported(client_max));
        }
        ClientWindowOffer::NotOffered => None,
        ClientWindowOffer::Supported => (client_max < MAX_WINDOW_BITS).then_some(client_max),
        // The client already promised `n`; ask for less only if the server wants less.
        ClientWindowOffer::AtMost(n) => (client_max < n).then_some(client_max),
    };
    Ok(DeflateAgreement {
        // §7.1.1.1: an accepted offer with this parameter must be honoured, and the server may
        // add it of its own accord.
        server_no_context_takeover: offer.server_no_context_takeover || config.server_no_context_takeover,
        // §7.1.1.2: the server may ask for it whatever the offer says; the offer's own
        // `client_no_context_takeover` is a hint that needs no answer.
        client_no_context_takeover: config.client_no_context_takeover,
        // §7.1.2.1: with the parameter in the offer, the response must carry a value no larger;
        // without it, the server may still state a smaller window of its own.
        server_max_window_bits: match offer.server_max_window_bits {
            Some(n) => Some(n.min(server_max)),
            None => (server_max < MAX_WINDOW_BITS).then_some(server_max),
        },
        client_max_window_bits,
    })
}
// ANCHOR_END: negotiate

/// RFC 7692 §7.1.2: a window size is "a decimal integer value without leading zeros between 8
/// and 15, inclusive".
fn window_bits(param: &str, value: Option<&str>) -> Result<u8, Decline> {
    let invalid = || Decline::InvalidValue { param: param.into(), value: value.map(str::to_string) };
    let text = value.ok_or_else(invalid)?;
    if text.starts_with('0') || !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(invalid());
    }
    match text.parse::<u8>() {
        Ok(bits) if (MIN_WINDOW_BITS..=MAX_WINDOW_BITS).contains(&bits) => Ok(bits),
        _ => Err(invalid()),
    }
}

/// The parameters of an offer or a response, each name at most once (RFC 7692 §7.1).
struct Params<'a> {
    seen: Vec<&'a str>,
}

impl<'a> Params<'a> {
    fn check_once(&mut self, name: &'a str) -> Result<(), Decline> {
        if self.seen.contains(&name) {
            return Err(Decline::DuplicateParameter(name.into()));
        }
        self.seen.push(name);
        Ok(())
    }
}

/// §7.1.1: `server_no_context_takeover` and `client_no_context_takeover` take no value.
fn no_value(param: &str, value: Option<&str>) -> Result<bool, Decline> {
    match value {
        None => Ok(true),
        Some(v) => Err(Decline::InvalidValue { param: param.into(), value: Some(v.into()) }),
    }
}

impl DeflateOffer {
    /// Reads a `permessage-deflate` offer's parameters (RFC 7692 §7.1). The extension's name is
    /// not checked here; [`accept`] does that.
    pub fn from_extension(extension: &Extension) -> Result<DeflateOffer, Decline> {
        let mut offer = DeflateOffer::default();
        let mut params = Params { seen: Vec::new() };
        for (name, value) in &extension.params {
            let value = value.as_deref();
            params.check_once(name)?;
            match name.as_str() {
                "server_no_context_takeover" => offer.server_no_context_takeover = no_value(name, value)?,
                "client_no_context_takeover" => offer.client_no_context_takeover = no_value(name, value)?,
                "server_max_window_bits" => offer.server_max_window_bits = Some(window_bits(name, value)?),
                "client_max_window_bits" => {
                    offer.client_max_window_bits = match value {
                        None => ClientWindowOffer::Supported,
                        Some(_) => ClientWindowOffer::AtMost(window_bits(name, value)?),
                    }
                }
                other => return Err(Decline::UnknownParameter(other.into())),
            }
        }
        Ok(offer)
    }

    /// The offer as an extension, for a client's request header.
    pub fn to_extension(&self) -> Extension {
        let mut params = Vec::new();
        if self.server_no_context_takeover {
            params.push(("server_no_context_takeover".to_string(), None));
        }
        if self.client_no_context_takeover {
            params.push(("client_no_context_takeover".to_string(), None));
        }
        if let Some(bits) = self.server_max_window_bits {
            params.push(("server_max_window_bits".to_string(), Some(bits.to_string())));
        }
        match self.client_max_window_bits {
            ClientWindowOffer::NotOffered => {}
            ClientWindowOffer::Supported => params.push(("client_max_window_bits".to_string(), None)),
            ClientWindowOffer::AtMost(bits) => {
                params.push(("client_max_window_bits".to_string(), Some(bits.to_string())));
            }
        }
        Extension { name: EXTENSION_NAME.into(), params }
    }
}

impl DeflateAgreement {
    /// The window the server compresses with, in bits (15 when the response states none).
    pub fn server_window_bits(&self) -> u8 {
        self.server_max_window_bits.unwrap_or(MAX_WINDOW_BITS)
    }

    /// The largest window the client may compress with, in bits (15 when the response states
    /// none; the client may have promised less in its offer).
    pub fn client_window_bits(&self) -> u8 {
        self.client_max_window_bits.unwrap_or(MAX_WINDOW_BITS)
    }

    /// The response as an extension, parameters in the RFC's order.
    pub fn to_extension(&self) -> Extension {
        let mut params = Vec::new();
        if self.server_no_context_takeover {
            params.push(("server_no_context_takeover".to_string(), None));
        }
        if self.client_no_context_takeover {
            params.push(("client_no_context_takeover".to_string(), None));
        }
        if let Some(bits) = self.server_max_window_bits {
            params.push(("server_max_window_bits".to_string(), Some(bits.to_string())));
        }
        if let Some(bits) = self.client_max_window_bits {
            params.push(("client_max_window_bits".to_string(), Some(bits.to_string())));
        }
        Extension { name: EXTENSION_NAME.into(), params }
    }

    /// The response's `Sec-WebSocket-Extensions` value, e.g.
    /// `permessage-deflate; server_no_context_takeover`.
    pub fn header_value(&self) -> String {
        self.to_extension().to_string()
    }

    /// The client's side (RFC 7692 §7.1): reads a server's response to `offer`. An error means
    /// the client must fail the connection (the server accepted something it may not).
    pub fn from_response(extension: &Extension, offer: &DeflateOffer) -> Result<DeflateAgreement, Decline> {
        if extension.name != EXTENSION_NAME {
            return Err(Decline::NotDeflate(extension.name.clone()));
        }
        let mut agreement = DeflateAgreement {
            server_no_context_takeover: false,
            client_no_context_takeover: false,
            server_max_window_bits: None,
            client_max_window_bits: None,
        };
        let mut params = Params { seen: Vec::new() };
        for (name, value) in &extension.params {
            let value = value.as_deref();
            params.check_once(name)?;
            match name.as_str() {
                "server_no_context_takeover" => agreement.server_no_context_takeover = no_value(name, value)?,
                "client_no_context_takeover" => agreement.client_no_context_takeover = no_value(name, value)?,
                "server_max_window_bits" => {
                    agreement.server_max_window_bits = Some(window_bits(name, value)?)
                }
                // §7.1.2.2: in a response the value is required.
                "client_max_window_bits" => {
                    agreement.client_max_window_bits = Some(window_bits(name, value)?)
                }
                other => return Err(Decline::UnknownParameter(other.into())),
            }
        }
        if offer.server_no_context_takeover && !agreement.server_no_context_takeover {
            return Err(Decline::ResponseDoesNotFitOffer(
                "server_no_context_takeover was asked for and not granted",
            ));
        }
        // §7.1.2.1: an offer with server_max_window_bits needs it in the response, no larger.
        if let Some(asked) = offer.server_max_window_bits
            && agreement.server_max_window_bits.is_none_or(|bits| bits > asked)
        {
            return Err(Decline::ResponseDoesNotFitOffer("a server window larger than the offer allows"));
        }
        if agreement.client_max_window_bits.is_some()
            && offer.client_max_window_bits == ClientWindowOffer::NotOffered
        {
            return Err(Decline::ResponseDoesNotFitOffer(
                "client_max_window_bits that the offer did not have",
            ));
        }
        Ok(agreement)
    }
}

impl fmt::Display for DeflateAgreement {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.header_value())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with(config: DeflateConfig, offers: &str) -> Negotiation {
        negotiate(&config, [offers])
    }

    fn answer(config: DeflateConfig, offers: &str) -> Option<String> {
        with(config, offers).response_header()
    }

    fn reason(offers: &str) -> Decline {
        let negotiation = with(DeflateConfig::default(), offers);
        assert_eq!(negotiation.accepted, None, "{offers:?} should be declined");
        negotiation.declined[0].reason.clone()
    }

    const DEFAULT: DeflateConfig = DeflateConfig {
        server_no_context_takeover: false,
        client_no_context_takeover: false,
        server_max_window_bits: 15,
        client_max_window_bits: 15,
    };

    #[test]
    fn chromiums_offer_is_accepted_with_no_parameters() {
        assert_eq!(
            answer(DEFAULT, "permessage-deflate; client_max_window_bits").as_deref(),
            Some("permessage-deflate")
        );
    }

    #[test]
    fn no_header_and_other_extensions_mean_no_extension() {
        assert_eq!(negotiate(&DEFAULT, []), Negotiation::default());
        assert_eq!(reason("x-webkit-deflate-frame"), Decline::NotDeflate("x-webkit-deflate-frame".into()));
    }

    #[test]
    fn server_no_context_takeover_asked_is_granted_and_the_server_may_add_it() {
        assert_eq!(
            answer(DEFAULT, "permessage-deflate; server_no_context_takeover").as_deref(),
            Some("permessage-deflate; server_no_context_takeover")
        );
        let config = DeflateConfig { server_no_context_takeover: true, ..DEFAULT };
        assert_eq!(
            answer(config, "permessage-deflate").as_deref(),
            Some("permessage-deflate; server_no_context_takeover")
        );
    }

    #[test]
    fn client_no_context_takeover_is_a_hint_in_an_offer_and_an_order_in_a_response() {
        assert_eq!(
            answer(DEFAULT, "permessage-deflate; client_no_context_takeover").as_deref(),
            Some("permessage-deflate")
        );
        let config = DeflateConfig { client_no_context_takeover: true, ..DEFAULT };
        assert_eq!(
            answer(config, "permessage-deflate").as_deref(),
            Some("permessage-deflate; client_no_context_takeover")
        );
    }

    #[test]
    fn server_max_window_bits_asked_is_granted_or_lowered_never_raised() {
        assert_eq!(
            answer(DEFAULT, "permessage-deflate; server_max_window_bits=10").as_deref(),
            Some("permessage-deflate; server_max_window_bits=10")
        );
        assert_eq!(
            answer(DEFAULT, "permessage-deflate; server_max_window_bits=15").as_deref(),
            Some("permessage-deflate; server_max_window_bits=15")
        );
        assert_eq!(
            answer(DEFAULT, "permessage-deflate; server_max_window_bits=8").as_deref(),
            Some("permessage-deflate; server_max_window_bits=8")
        );
        let small = DeflateConfig { server_max_window_bits: 9, ..DEFAULT };
        assert_eq!(
            answer(small, "permessage-deflate; server_max_window_bits=12").as_deref(),
            Some("permessage-deflate; server_max_window_bits=9")
        );
        assert_eq!(
            answer(small, "permessage-deflate").as_deref(),
            Some("permessage-deflate; server_max_window_bits=9")
        );
    }

    #[test]
    fn client_max_window_bits_is_asked_for_only_when_offered() {
        let small = DeflateConfig { client_max_window_bits: 10, ..DEFAULT };
        assert_eq!(
            answer(small, "permessage-deflate; client_max_window_bits").as_deref(),
            Some("permessage-deflate; client_max_window_bits=10")
        );
        assert_eq!(
            answer(small, "permessage-deflate; client_max_window_bits=12").as_deref(),
            Some("permessage-deflate; client_max_window_bits=10")
        );
        // The client promised 9 already: nothing to ask.
        assert_eq!(
            answer(small, "permessage-deflate; client_max_window_bits=9").as_deref(),
            Some("permessage-deflate")
        );
        let declined = with(small, "permessage-deflate");
        assert_eq!(declined.accepted, None);
        assert_eq!(declined.declined[0].reason, Decline::ClientWindowUnsupported(10));
    }

    #[test]
    fn the_first_acceptable_offer_wins_and_declines_before_it_are_listed() {
        let negotiation = negotiate(
            &DEFAULT,
            [
                "x-webkit-deflate-frame, permessage-deflate; server_max_window_bits=7",
                "permessage-deflate; server_max_window_bits=10, permessage-deflate",
            ],
        );
        assert_eq!(
            negotiation.response_header().as_deref(),
            Some("permessage-deflate; server_max_window_bits=10")
        );
        let reasons: Vec<_> = negotiation.declined.iter().map(|d| d.reason.clone()).collect();
        assert_eq!(
            reasons,
            [
                Decline::NotDeflate("x-webkit-deflate-frame".into()),
                Decline::InvalidValue { param: "server_max_window_bits".into(), value: Some("7".into()) },
            ]
        );
    }

    #[test]
    fn the_client_falls_back_to_its_next_offer() {
        let offers = "permessage-deflate; server_max_window_bits=9; client_max_window_bits=7, \
                      permessage-deflate; client_max_window_bits";
        let negotiation = with(DEFAULT, offers);
        assert_eq!(negotiation.response_header().as_deref(), Some("permessage-deflate"));
        assert_eq!(
            negotiation.declined[0].reason,
            Decline::InvalidValue { param: "client_max_window_bits".into(), value: Some("7".into()) }
        );
    }

    #[test]
    fn autobahns_three_offers_of_case_13_7_get_the_first() {
        // The header kosoku sends in Autobahn's cases 13.7.*, most demanding offer first.
        let offers = "permessage-deflate; client_no_context_takeover; client_max_window_bits; \
                      server_no_context_takeover; server_max_window_bits=9, permessage-deflate; \
                      client_no_context_takeover; client_max_window_bits; server_no_context_takeover, \
                      permessage-deflate; client_no_context_takeover; client_max_window_bits";
        assert_eq!(
            answer(DEFAULT, offers).as_deref(),
            Some("permessage-deflate; server_no_context_takeover; server_max_window_bits=9")
        );
    }

    #[test]
    fn unknown_parameters_are_declined() {
        assert_eq!(reason("permessage-deflate; mem_level=8"), Decline::UnknownParameter("mem_level".into()));
    }

    #[test]
    fn duplicate_parameters_are_declined() {
        assert_eq!(
            reason("permessage-deflate; server_no_context_takeover; server_no_context_takeover"),
            Decline::DuplicateParameter("server_no_context_takeover".into())
        );
        assert_eq!(
            reason("permessage-deflate; client_max_window_bits; client_max_window_bits=10"),
            Decline::DuplicateParameter("client_max_window_bits".into())
        );
    }

    #[test]
    fn invalid_values_are_declined() {
        let invalid = |param: &str, value: Option<&str>| Decline::InvalidValue {
            param: param.into(),
            value: value.map(str::to_string),
        };
        assert_eq!(
            reason("permessage-deflate; server_no_context_takeover=true"),
            invalid("server_no_context_takeover", Some("true"))
        );
        assert_eq!(
            reason("permessage-deflate; client_no_context_takeover=1"),
            invalid("client_no_context_takeover", Some("1"))
        );
        assert_eq!(
            reason("permessage-deflate; server_max_window_bits"),
            invalid("server_max_window_bits", None)
        );
        for bad in ["7", "16", "010", "+9", "9.0", "", "abc", "255", "256"] {
            let offer = format!("permessage-deflate; server_max_window_bits=\"{bad}\"");
            assert_eq!(reason(&offer), invalid("server_max_window_bits", Some(bad)), "{offer}");
            let offer = format!("permessage-deflate; client_max_window_bits=\"{bad}\"");
            assert_eq!(reason(&offer), invalid("client_max_window_bits", Some(bad)), "{offer}");
        }
    }

    #[test]
    fn a_quoted_value_counts_as_the_bare_one() {
        assert_eq!(
            answer(DEFAULT, r#"permessage-deflate; server_max_window_bits="12""#).as_deref(),
            Some("permessage-deflate; server_max_window_bits=12")
        );
    }

    #[test]
    fn a_malformed_header_is_declined_whole_and_the_next_header_still_counts() {
        let negotiation =
            negotiate(&DEFAULT, ["permessage-deflate; server_max_window_bits=\"10", "permessage-deflate"]);
        assert_eq!(negotiation.response_header().as_deref(), Some("permessage-deflate"));
        assert!(matches!(negotiation.declined[0].reason, Decline::Malformed(_)));
    }

    #[test]
    fn a_client_checks_the_response_against_its_offer() {
        let offer = DeflateOffer {
            server_max_window_bits: Some(10),
            client_max_window_bits: ClientWindowOffer::NotOffered,
            ..DeflateOffer::default()
        };
        let response = |text: &str| {
            let extension = header::parse(text).unwrap().remove(0);
            DeflateAgreement::from_response(&extension, &offer)
        };
        assert!(response("permessage-deflate; server_max_window_bits=9").is_ok());
        assert!(matches!(response("permessage-deflate"), Err(Decline::ResponseDoesNotFitOffer(_))));
        assert!(matches!(
            response("permessage-deflate; server_max_window_bits=11"),
            Err(Decline::ResponseDoesNotFitOffer(_))
        ));
        assert!(matches!(
            response("permessage-deflate; server_max_window_bits=10; client_max_window_bits=10"),
            Err(Decline::ResponseDoesNotFitOffer(_))
        ));
        // §7.1.2.2: a response's client_max_window_bits must have a value.
        let supported =
            DeflateOffer { client_max_window_bits: ClientWindowOffer::Supported, ..DeflateOffer::default() };
        let extension = header::parse("permessage-deflate; client_max_window_bits").unwrap().remove(0);
        assert!(matches!(
            DeflateAgreement::from_response(&extension, &supported),
            Err(Decline::InvalidValue { .. })
        ));
    }
}

#[cfg(test)]
mod properties {
    use super::*;
    use proptest::prelude::*;

    fn bits() -> impl Strategy<Value = u8> {
        MIN_WINDOW_BITS..=MAX_WINDOW_BITS
    }

    fn offers() -> impl Strategy<Value = DeflateOffer> {
        (
            any::<bool>(),
            any::<bool>(),
            prop::option::of(bits()),
            prop_oneof![
                Just(ClientWindowOffer::NotOffered),
                Just(ClientWindowOffer::Supported),
                bits().prop_map(ClientWindowOffer::AtMost),
            ],
        )
            .prop_map(|(s, c, sb, cb)| DeflateOffer {
                server_no_context_takeover: s,
                client_no_context_takeover: c,
                server_max_window_bits: sb,
                client_max_window_bits: cb,
            })
    }

    fn configs() -> impl Strategy<Value = DeflateConfig> {
        (any::<bool>(), any::<bool>(), bits(), bits()).prop_map(|(s, c, sb, cb)| DeflateConfig {
            server_no_context_takeover: s,
            client_no_context_takeover: c,
            server_max_window_bits: sb,
            client_max_window_bits: cb,
        })
    }

    proptest! {
        /// Whatever the server answers, a client following RFC 7692 §7.1 accepts it, and both
        /// read the same agreement from it.
        #[test]
        fn every_response_is_one_the_offering_client_accepts(config in configs(), offer in offers()) {
            let text = offer.to_extension().to_string();
            prop_assert_eq!(DeflateOffer::from_extension(&header::parse(&text).unwrap()[0]), Ok(offer));
            let negotiation = negotiate(&config, [text.as_str()]);
            match negotiation.accepted {
                Some(agreement) => {
                    let response = header::parse(&agreement.header_value()).unwrap();
                    prop_assert_eq!(DeflateAgreement::from_response(&response[0], &offer), Ok(agreement));
                    prop_assert!(agreement.server_window_bits() <= config.server_max_window_bits);
                    prop_assert!(agreement.client_window_bits() <= config.client_max_window_bits
                        || matches!(offer.client_max_window_bits, ClientWindowOffer::AtMost(n) if n <= config.client_max_window_bits));
                    prop_assert!(agreement.server_no_context_takeover || !config.server_no_context_takeover);
                }
                None => prop_assert_eq!(
                    &negotiation.declined[0].reason,
                    &Decline::ClientWindowUnsupported(config.client_max_window_bits)
                ),
            }
        }
    }
}
