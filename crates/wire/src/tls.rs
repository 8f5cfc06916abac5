//! TLS records as the Tap sees them from outside, without keys (sans-I/O).
//!
//! Every TLS record starts with a 5-byte header in the clear: content type, legacy version, length
//! (RFC 8446 §5.1). What it carries is readable only until the two sides have agreed on keys:
//!
//! - The ClientHello and the ServerHello always travel in the clear, as `handshake` records
//!   (content type 22; RFC 8446 §4.1.2, §4.1.3). The ServerHello says which version the server
//!   chose.
//! - In TLS 1.3, everything after the ServerHello is encrypted, and every encrypted record says
//!   `application_data` (23) on the outside, whatever it carries: the rest of the handshake, an
//!   alert, or the application's bytes (RFC 8446 §5.2). The `change_cipher_spec` (20) a TLS 1.3
//!   peer sends is a one-byte no-op kept for old middleboxes (RFC 8446 §5, Appendix D.4).
//! - In TLS 1.2, the handshake goes on in the clear (certificate, key exchange) until a side sends
//!   `change_cipher_spec`; from then on that side encrypts, starting with its Finished message
//!   (RFC 5246 §7.1, §7.4.9).
//!
//! [`TlsReader`] follows this for one connection: it names the handshake messages it can read,
//! notes the version the server chose, and marks everything else encrypted.

use crate::transcript::{Direction, Event, EventKind, TlsContent, TlsRecord};

/// The largest record payload TLS allows: 2^14 bytes of plaintext plus 2048 of expansion
/// (RFC 5246 §6.2.3; TLS 1.3 allows less, 2^14 + 256, RFC 8446 §5.2).
pub const MAX_RECORD: usize = (1 << 14) + 2048;

/// `legacy_version` / `supported_versions` values (RFC 8446 §4.1.2, §4.2.1).
pub const TLS_1_2: u16 = 0x0303;
/// TLS 1.3, as `supported_versions` names it.
pub const TLS_1_3: u16 = 0x0304;

/// The `random` of a ServerHello that is really a HelloRetryRequest: SHA-256 of
/// "HelloRetryRequest" (RFC 8446 §4.1.3).
const HELLO_RETRY_REQUEST: [u8; 32] = [
    0xcf, 0x21, 0xad, 0x74, 0xe5, 0x9a, 0x61, 0x11, 0xbe, 0x1d, 0x8c, 0x02, 0x1e, 0x65, 0xb8, 0x91, 0xc2,
    0xa2, 0x11, 0x16, 0x7a, 0xbb, 0x8c, 0x5e, 0x07, 0x9e, 0x09, 0xe2, 0xc8, 0xa8, 0x33, 0x9c,
];

/// How large a ServerHello the reader keeps to look for the version; real ones are about 100
/// bytes, and a few hundred with every extension.
const MAX_SERVER_HELLO: usize = 4096;

/// What a record's header said, before its payload is looked at.
#[derive(Debug, PartialEq, Eq)]
pub enum Header {
    /// A whole record is buffered.
    Record {
        /// Its content type (RFC 8446 §5.1).
        content_type: u8,
        /// Its payload length, the 5-byte header not counted.
        len: usize,
    },
    /// Not enough bytes yet.
    Incomplete,
    /// These bytes are not a TLS record header.
    Invalid(String),
}

/// Reads the 5-byte record header at the start of `buf` (RFC 8446 §5.1).
pub fn header(buf: &[u8]) -> Header {
    let Some(&[content_type, major, _minor, hi, lo]) = buf.get(..5) else {
        return Header::Incomplete;
    };
    let len = usize::from(u16::from_be_bytes([hi, lo]));
    if major != 3 {
        return Header::Invalid(format!(
            "its second byte is {major:#04x}, where a TLS record has 0x03, the major version (RFC 8446 §5.1)"
        ));
    }
    if len > MAX_RECORD {
        return Header::Invalid(format!(
            "a TLS record of {len} bytes, longer than TLS allows ({MAX_RECORD}, RFC 5246 §6.2.3)"
        ));
    }
    if buf.len() < 5 + len { Header::Incomplete } else { Header::Record { content_type, len } }
}

/// One direction's stream of handshake messages, which records may split anywhere.
#[derive(Debug, Default)]
struct HandshakeStream {
    /// The bytes of a message header (4 bytes) read so far.
    header: Vec<u8>,
    /// The message being read, and how many of its bytes are still to come.
    current: Option<(u8, usize)>,
    /// A ServerHello's body, kept to read the version from.
    server_hello: Vec<u8>,
}

/// Follows the TLS records of one connection. See the module docs.
#[derive(Debug, Default)]
pub struct TlsReader {
    /// The version the server chose, once its ServerHello has been read.
    version: Option<u16>,
    /// Whether the client, then the server, has sent change_cipher_spec.
    ccs: [bool; 2],
    streams: [HandshakeStream; 2],
    /// Whether the version note has been given.
    announced: bool,
    /// Whether the client, then the server, has sent a whole record.
    spoke: [bool; 2],
}

fn index(dir: Direction) -> usize {
    match dir {
        Direction::ClientToServer => 0,
        Direction::ServerToClient => 1,
    }
}

impl TlsReader {
    /// A reader for a connection that has sent nothing yet.
    pub fn new() -> TlsReader {
        TlsReader::default()
    }

    /// Whether `dir`'s sender has sent a whole record yet.
    pub fn spoke(&self, dir: Direction) -> bool {
        self.spoke[index(dir)]
    }

    /// One whole record that `dir`'s sender sent: its type and payload. Returns the record's
    /// event, and a note when the record tells something about the rest of the connection.
    pub fn record(&mut self, dir: Direction, content_type: u8, payload: &[u8]) -> Vec<Event> {
        let i = index(dir);
        self.spoke[i] = true;
        // In TLS 1.2 (or before the version is known), a side encrypts after its
        // change_cipher_spec; in TLS 1.3 a record typed handshake or alert is always in the clear.
        let encrypted = self.ccs[i] && self.version != Some(TLS_1_3);
        let mut notes = Vec::new();
        let content = match content_type {
            20 => {
                self.ccs[i] = true;
                TlsContent::ChangeCipherSpec { tls13: self.version.map(|v| v == TLS_1_3) }
            }
            21 if !encrypted => match payload {
                [level, description, ..] => TlsContent::Alert { level: *level, description: *description },
                _ => TlsContent::Unknown,
            },
            22 if !encrypted => TlsContent::Handshake(self.handshake(i, payload, &mut notes)),
            21..=23 => TlsContent::Encrypted,
            _ => TlsContent::Unknown,
        };
        let len = u16::try_from(payload.len()).unwrap_or(u16::MAX);
        let mut events = vec![
            Event::new(Some(dir), EventKind::TlsRecord(TlsRecord { content_type, len, content }))
                .with_wire_len(5 + payload.len()),
        ];
        events.extend(notes);
        events
    }

    /// Names the handshake messages that start in this record (RFC 8446 §4: a 1-byte type and a
    /// 3-byte length before each); a record that continues one begins with "the rest of …".
    fn handshake(&mut self, i: usize, payload: &[u8], notes: &mut Vec<Event>) -> Vec<String> {
        let mut names = Vec::new();
        let stream = &mut self.streams[i];
        if let Some((kind, _)) = stream.current {
            names.push(format!("the rest of {}", message_name(kind)));
        }
        // A message whose 4-byte header the last record cut is named once its header is whole.
        let mut header_started_before = !stream.header.is_empty();
        let mut rest = payload;
        while !rest.is_empty() {
            let stream = &mut self.streams[i];
            if let Some((kind, remaining)) = stream.current {
                let take = remaining.min(rest.len());
                if kind == 2 && stream.server_hello.len() + take <= MAX_SERVER_HELLO {
                    stream.server_hello.extend_from_slice(&rest[..take]);
                }
                rest = &rest[take..];
                if take == remaining {
                    stream.current = None;
                    self.message_done(i, kind, notes, &mut names);
                } else {
                    stream.current = Some((kind, remaining - take));
                }
                continue;
            }
            let take = (4 - stream.header.len()).min(rest.len());
            stream.header.extend_from_slice(&rest[..take]);
            rest = &rest[take..];
            if let &[kind, a, b, c] = stream.header.as_slice() {
                stream.header.clear();
                let len = u32::from_be_bytes([0, a, b, c]) as usize;
                stream.server_hello.clear();
                if std::mem::take(&mut header_started_before) {
                    names.push(format!("the rest of {}", message_name(kind)));
                } else {
                    names.push(message_name(kind));
                }
                if len == 0 {
                    self.message_done(i, kind, notes, &mut names);
                } else {
                    self.streams[i].current = Some((kind, len));
                }
            }
        }
        names
    }

    /// A whole handshake message has been read: a ServerHello tells the version.
    fn message_done(&mut self, i: usize, kind: u8, notes: &mut Vec<Event>, names: &mut [String]) {
        if kind != 2 {
            return;
        }
        let body = std::mem::take(&mut self.streams[i].server_hello);
        let Some((version, retry)) = server_hello(&body) else {
            return;
        };
        self.version = Some(version);
        if retry {
            // Same structure as a ServerHello, but it asks the client to try again (§4.1.4).
            if let Some(last) = names.last_mut() {
                *last = "HelloRetryRequest".to_owned();
            }
            return;
        }
        if !std::mem::replace(&mut self.announced, true) {
            notes.push(Event::note(version_note(version)));
        }
    }
}

/// What the server's choice of version means for the rest of the connection.
fn version_note(version: u16) -> String {
    match version {
        TLS_1_3 => "the server chose TLS 1.3: from here on everything but change_cipher_spec is \
                    encrypted, and every encrypted record says application_data on the outside, whatever \
                    it carries: the rest of the handshake, an alert or the application's bytes \
                    (RFC 8446 §5.2)"
            .to_owned(),
        _ => format!(
            "the server chose {}: the handshake goes on in the clear until each side's \
             change_cipher_spec, and what a side sends after its own is encrypted (RFC 5246 §7.1)",
            version_name(version)
        ),
    }
}

/// `TLS 1.2` for 0x0303, and so on.
pub fn version_name(version: u16) -> String {
    match version {
        0x0300 => "SSL 3.0".to_owned(),
        0x0301..=0x0304 => format!("TLS 1.{}", version - 0x0301),
        other => format!("version {other:#06x}"),
    }
}

/// The version a ServerHello's body chose, and whether it is a HelloRetryRequest. TLS 1.3 names
/// itself in the `supported_versions` extension (43) and leaves `legacy_version` at 1.2
/// (RFC 8446 §4.1.3, §4.2.1).
fn server_hello(body: &[u8]) -> Option<(u16, bool)> {
    let legacy = u16::from_be_bytes([*body.first()?, *body.get(1)?]);
    let retry = body.get(2..34)? == HELLO_RETRY_REQUEST;
    let session_id = usize::from(*body.get(34)?);
    // session id, cipher suite (2), compression method (1)
    let mut at = 35 + session_id + 3;
    let Some(ext_len) = body.get(at..at + 2) else {
        return Some((legacy, retry));
    };
    let end = (at + 2 + usize::from(u16::from_be_bytes([ext_len[0], ext_len[1]]))).min(body.len());
    at += 2;
    while at + 4 <= end {
        let kind = u16::from_be_bytes([body[at], body[at + 1]]);
        let len = usize::from(u16::from_be_bytes([body[at + 2], body[at + 3]]));
        if kind == 43 && len == 2 {
            return Some((u16::from_be_bytes([*body.get(at + 4)?, *body.get(at + 5)?]), retry));
        }
        at += 4 + len;
    }
    Some((legacy, retry))
}

/// A handshake message's name, as RFC 8446 §4 and RFC 5246 §7.4 spell it.
pub fn message_name(kind: u8) -> String {
    let name = match kind {
        0 => "HelloRequest",
        1 => "ClientHello",
        2 => "ServerHello",
        4 => "NewSessionTicket",
        5 => "EndOfEarlyData",
        8 => "EncryptedExtensions",
        11 => "Certificate",
        12 => "ServerKeyExchange",
        13 => "CertificateRequest",
        14 => "ServerHelloDone",
        15 => "CertificateVerify",
        16 => "ClientKeyExchange",
        20 => "Finished",
        22 => "CertificateStatus",
        24 => "KeyUpdate",
        other => return format!("handshake message of type {other}"),
    };
    name.to_owned()
}

/// An alert's description, as RFC 8446 §6 spells it.
pub fn alert_name(description: u8) -> String {
    let name = match description {
        0 => "close_notify",
        10 => "unexpected_message",
        20 => "bad_record_mac",
        22 => "record_overflow",
        40 => "handshake_failure",
        42 => "bad_certificate",
        43 => "unsupported_certificate",
        44 => "certificate_revoked",
        45 => "certificate_expired",
        46 => "certificate_unknown",
        47 => "illegal_parameter",
        48 => "unknown_ca",
        49 => "access_denied",
        50 => "decode_error",
        51 => "decrypt_error",
        70 => "protocol_version",
        71 => "insufficient_security",
        80 => "internal_error",
        86 => "inappropriate_fallback",
        90 => "user_canceled",
        109 => "missing_extension",
        110 => "unsupported_extension",
        112 => "unrecognized_name",
        113 => "bad_certificate_status_response",
        115 => "unknown_psk_identity",
        116 => "certificate_required",
        120 => "no_application_protocol",
        other => return format!("alert {other}"),
    };
    name.to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::transcript::Render;

    const C: Direction = Direction::ClientToServer;
    const S: Direction = Direction::ServerToClient;

    /// A handshake message: type, 3-byte length, body.
    fn message(kind: u8, body: &[u8]) -> Vec<u8> {
        let len = (body.len() as u32).to_be_bytes();
        let mut out = vec![kind, len[1], len[2], len[3]];
        out.extend_from_slice(body);
        out
    }

    /// A ServerHello body: legacy version 1.2, `random`, an empty session id, a cipher suite, no
    /// compression, and `supported_versions` if `version` is given.
    fn server_hello_body(random: [u8; 32], version: Option<u16>) -> Vec<u8> {
        let mut body = vec![0x03, 0x03];
        body.extend_from_slice(&random);
        body.extend_from_slice(&[0, 0x13, 0x01, 0]);
        if let Some(v) = version {
            let v = v.to_be_bytes();
            body.extend_from_slice(&[0, 6, 0, 43, 0, 2, v[0], v[1]]);
        }
        body
    }

    fn render(events: &[Event]) -> String {
        events.iter().map(|e| e.render(&Render::snapshot())).collect()
    }

    #[test]
    fn a_tls13_handshake_shows_the_hellos_in_the_clear_and_the_rest_encrypted() {
        let mut tls = TlsReader::new();
        let mut events = tls.record(C, 22, &message(1, &[0; 40]));
        events.extend(tls.record(S, 22, &message(2, &server_hello_body([7; 32], Some(TLS_1_3)))));
        events.extend(tls.record(S, 20, &[1]));
        events.extend(tls.record(S, 23, &[0xab; 30]));
        events.extend(tls.record(C, 20, &[1]));
        events.extend(tls.record(C, 23, &[0xcd; 20]));
        let text = render(&events);
        assert_eq!(
            text,
            "C→S TLS record: handshake, 44 bytes, in the clear: ClientHello\n\
             S→C TLS record: handshake, 50 bytes, in the clear: ServerHello\n\
             ─── the server chose TLS 1.3: from here on everything but change_cipher_spec is encrypted, \
             and every encrypted record says application_data on the outside, whatever it carries: the \
             rest of the handshake, an alert or the application's bytes (RFC 8446 §5.2)\n\
             S→C TLS record: change_cipher_spec, 1 byte, in the clear: a no-op in TLS 1.3, kept for old \
             middleboxes (RFC 8446 §D.4)\n\
             S→C TLS record: application_data, 30 bytes, encrypted: opaque to the Tap\n\
             C→S TLS record: change_cipher_spec, 1 byte, in the clear: a no-op in TLS 1.3, kept for old \
             middleboxes (RFC 8446 §D.4)\n\
             C→S TLS record: application_data, 20 bytes, encrypted: opaque to the Tap\n"
        );
    }

    #[test]
    fn in_tls12_the_handshake_is_clear_until_change_cipher_spec_and_messages_may_span_records() {
        let mut tls = TlsReader::new();
        let mut flight = message(2, &server_hello_body([7; 32], None));
        flight.extend(message(11, &[0; 100]));
        flight.extend(message(14, &[]));
        // The certificate is cut across two records, inside its header for good measure.
        let (first, second) = flight.split_at(42 + 2);
        let mut events = tls.record(S, 22, first);
        events.extend(tls.record(S, 22, second));
        events.extend(tls.record(S, 20, &[1]));
        events.extend(tls.record(S, 22, &[0x5a; 40]));
        events.extend(tls.record(S, 21, &[0x5a; 26]));
        let text = render(&events);
        assert!(text.contains("S→C TLS record: handshake, 44 bytes, in the clear: ServerHello\n"), "{text}");
        assert!(text.contains("─── the server chose TLS 1.2: the handshake goes on in the clear"), "{text}");
        assert!(
            text.contains("handshake, 106 bytes, in the clear: the rest of Certificate, ServerHelloDone\n"),
            "the second record finishes the certificate cut in its header, then the flight: {text}"
        );
        assert!(
            text.contains("change_cipher_spec, 1 byte, in the clear: from here on its sender encrypts"),
            "{text}"
        );
        assert!(
            text.contains("S→C TLS record: handshake, 40 bytes, encrypted"),
            "TLS 1.2's Finished: {text}"
        );
        assert!(text.contains("S→C TLS record: alert, 26 bytes, encrypted"), "{text}");
    }

    #[test]
    fn a_plaintext_alert_is_named() {
        let mut tls = TlsReader::new();
        let text = render(&tls.record(S, 21, &[2, 40]));
        assert_eq!(text, "S→C TLS record: alert, 2 bytes, in the clear: fatal handshake_failure (40)\n");
    }

    #[test]
    fn a_hello_retry_request_is_named_and_keeps_later_hellos_in_the_clear() {
        let mut tls = TlsReader::new();
        let mut events =
            tls.record(S, 22, &message(2, &server_hello_body(HELLO_RETRY_REQUEST, Some(TLS_1_3))));
        // RFC 8446 §D.4: the client may send its change_cipher_spec right before its second hello.
        events.extend(tls.record(C, 20, &[1]));
        events.extend(tls.record(C, 22, &message(1, &[0; 10])));
        let text = render(&events);
        assert!(text.contains("in the clear: HelloRetryRequest\n"), "{text}");
        assert!(text.contains("C→S TLS record: handshake, 14 bytes, in the clear: ClientHello\n"), "{text}");
        assert!(
            !text.contains("the server chose"),
            "the version note waits for the real ServerHello: {text}"
        );
    }

    #[test]
    fn record_headers_that_are_not_tls_are_refused() {
        assert_eq!(header(&[22, 3, 1, 0]), Header::Incomplete);
        assert_eq!(header(&[22, 3, 1, 0, 2, 0xaa, 0xbb]), Header::Record { content_type: 22, len: 2 });
        assert!(matches!(header(b"\x16GET / HTTP/1.1"), Header::Invalid(_)));
        assert!(matches!(header(&[23, 3, 3, 0xff, 0xff]), Header::Invalid(_)));
    }

    #[test]
    fn a_truncated_server_hello_is_not_a_panic() {
        let mut tls = TlsReader::new();
        for cut in 0..60 {
            let body = server_hello_body([1; 32], Some(TLS_1_3));
            let _ = server_hello(&body[..cut.min(body.len())]);
        }
        let text = render(&tls.record(S, 22, &message(2, &[3, 3, 9])));
        assert!(text.contains("in the clear: ServerHello"), "{text}");
    }
}
