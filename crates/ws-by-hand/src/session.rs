//! The protocol after the handshake, as a state machine with no I/O (RFC 6455 §5, §7).
//!
//! [`Session::receive`] is given the bytes that arrived and answers with [`Action`]s: a whole
//! message for the application, frames to write (a pong, a close), and when the connection is
//! over. It never touches a socket, so the tests and the fuzzer drive it with plain bytes, and
//! the server around it (`crate::server`) is a short loop of reads and writes.
//!
//! The rules a frame's header alone can break are one function, [`Session::check`], each with the
//! section it comes from; it runs as soon as a header has arrived, before any of the payload.
//!
//! With permessage-deflate agreed in the handshake ([`Session::with_deflate`], RFC 7692), a
//! message whose first frame has RSV1 set is inflated fragment by fragment as it arrives, the
//! limit applying to the *inflated* size, and [`Session::frame_for`] compresses what the server
//! sends. Control frames are never compressed.

use wire::CloseCode;
use wire::close::ClosePayload;
use wire::deflate::{DeflateAgreement, InflateError, PerMessageDeflate};
use wire::frame::{Extensions, Frame, FrameDecoder, FrameError, FrameHeader, MAX_CONTROL_PAYLOAD, OpCode};

/// A whole message, reassembled from its fragments and unmasked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Message {
    /// A text message: valid UTF-8, checked (RFC 6455 §5.6).
    Text(String),
    /// A binary message.
    Binary(Vec<u8>),
}

/// How the connection ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Ending {
    /// The peer started the close handshake with this code (`None`: no code, reported as 1005);
    /// we answered it.
    PeerClosed(Option<CloseCode>),
    /// We closed with this code and reason: we failed the connection (a broken rule), or started
    /// the close handshake ourselves (idle). Whether the peer then answered or closed TCP in
    /// time, the server decides.
    WeClosed(CloseCode, String),
}

/// What the server must do next.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Action {
    /// Give this message to the application.
    Deliver(Message),
    /// Write this frame to the peer.
    Send(Frame),
    /// The close handshake is complete: close the TCP connection (RFC 6455 §7.1.1: the server
    /// closes first).
    CloseTcp(Ending),
    /// We failed the connection, and the close frame that says why was the action before this
    /// one. RFC 6455 §7.1.7: from now on the server "MUST NOT continue to attempt to process data
    /// (including a responding Close frame)". It closes its sending side of TCP and reads and
    /// drops whatever still arrives, until the peer closes or the close timeout ends: a
    /// lingering close, so that unread bytes do not make the kernel reset the connection and
    /// destroy the close frame on its way.
    Linger(Ending),
}

/// A broken rule: the close code it is answered with and a reason for the close frame.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Violation {
    /// 1002, 1007 or 1009.
    pub code: CloseCode,
    /// The rule and its section, short enough for a close frame (≤ 123 bytes).
    pub reason: String,
}

fn protocol(reason: impl Into<String>) -> Violation {
    Violation { code: CloseCode::PROTOCOL, reason: reason.into() }
}

/// Where the connection is in its life.
#[derive(Clone, Debug, PartialEq, Eq)]
enum State {
    /// Messages flow both ways.
    Open,
    /// We started the close handshake (RFC 6455 §7.1.2) and wait for the peer's close frame;
    /// everything else is read and dropped.
    Closing { code: CloseCode, reason: String },
    /// We failed the connection (RFC 6455 §7.1.7): nothing more is processed, not even the peer's
    /// close frame.
    Failed,
    /// The close handshake is done; nothing more is read.
    Closed,
}

/// A message whose first fragment has arrived but not its last (RFC 6455 §5.4).
#[derive(Debug)]
struct Partial {
    text: bool,
    /// RSV1 was set on its first frame: every fragment's payload is DEFLATE data (RFC 7692 §6).
    compressed: bool,
    /// The message so far, inflated if it is compressed.
    data: Vec<u8>,
    /// For text: how many bytes at the start are known to be valid UTF-8.
    checked: usize,
}

/// The server's side of one WebSocket connection. See the module docs.
#[derive(Debug)]
pub struct Session {
    decoder: FrameDecoder,
    max_message: usize,
    message: Option<Partial>,
    state: State,
    /// permessage-deflate, if the handshake agreed on it.
    deflate: Option<PerMessageDeflate>,
}

impl Session {
    /// A session that accepts messages of up to `max_message` bytes, with no extension.
    pub fn new(max_message: usize) -> Session {
        Session {
            decoder: FrameDecoder::new(max_message as u64),
            max_message,
            message: None,
            state: State::Open,
            deflate: None,
        }
    }

    /// A session with permessage-deflate as the handshake agreed it (RFC 7692): it inflates
    /// compressed messages (at most `max_message` bytes once inflated) and compresses with
    /// [`Session::frame_for`].
    pub fn with_deflate(max_message: usize, agreement: &DeflateAgreement) -> Session {
        Session {
            // A compressed frame's payload may be a little larger than the message it holds:
            // DEFLATE adds 5 bytes per stored block of incompressible data (RFC 1951 §3.2.4).
            decoder: FrameDecoder::new(max_message as u64 + max_message as u64 / 1024 + 64),
            deflate: Some(PerMessageDeflate::server(agreement)),
            ..Session::new(max_message)
        }
    }

    /// Which RSV bits a frame may carry on this connection.
    pub fn extensions(&self) -> Extensions {
        if self.deflate.is_some() { Extensions::DEFLATE } else { Extensions::NONE }
    }

    /// The compressor and inflater, if permessage-deflate is in use (their byte counts are
    /// what the tests and the measurements read).
    pub fn deflate(&self) -> Option<&PerMessageDeflate> {
        self.deflate.as_ref()
    }

    // ANCHOR: frame_for
    /// The frame that sends `message` to the peer: compressed with RSV1 set if permessage-deflate
    /// is in use (RFC 7692 §6, the `00 00 ff ff` tail cut off, §7.2.1), as it is otherwise.
    /// One frame per message, so RSV1 is always on the first frame; control frames never come
    /// here, and are never compressed.
    pub fn frame_for(&mut self, message: &Message) -> Frame {
        let (opcode, data) = match message {
            Message::Text(text) => (OpCode::Text, text.as_bytes()),
            Message::Binary(data) => (OpCode::Binary, data.as_slice()),
        };
        match &mut self.deflate {
            Some(deflate) => deflate.compressor.compress_frame(opcode, data),
            None => Frame::new(opcode, data),
        }
    }
    // ANCHOR_END: frame_for

    /// Whether we have sent a close frame and are waiting for the peer's answer: the server reads
    /// only for a limited time in this state.
    pub fn is_closing(&self) -> bool {
        matches!(self.state, State::Closing { .. })
    }

    /// The close we started, if we are waiting for the peer's answer to it.
    pub fn our_close(&self) -> Option<Ending> {
        match &self.state {
            State::Closing { code, reason } => Some(Ending::WeClosed(*code, reason.clone())),
            _ => None,
        }
    }

    /// Starts the close handshake ourselves, for a reason of the server's (idle, shutting down):
    /// the close frame to send. Then the session waits for the peer's close frame (RFC 6455
    /// §7.1.2). Nothing, if a close is already under way.
    pub fn close(&mut self, code: CloseCode, reason: String) -> Vec<Action> {
        let mut actions = Vec::new();
        if self.state == State::Open {
            let payload = ClosePayload { code, reason: reason.clone() };
            actions.push(Action::Send(Frame::close(Some(&payload))));
            self.state = State::Closing { code, reason };
        }
        actions
    }

    /// Whether the connection is over for the session: the close handshake is done, or we failed
    /// the connection. Nothing more that arrives is processed.
    pub fn is_closed(&self) -> bool {
        matches!(self.state, State::Closed | State::Failed)
    }

    // ANCHOR: receive
    /// Bytes arrived from the peer. Returns what to do, in order.
    pub fn receive(&mut self, bytes: &[u8]) -> Vec<Action> {
        let mut actions = Vec::new();
        if self.is_closed() {
            return actions;
        }
        self.decoder.push(bytes);
        loop {
            let frame = match self.next_frame() {
                Ok(Some(frame)) => frame,
                Ok(None) => break,
                Err(violation) => {
                    self.fail(violation, &mut actions);
                    break;
                }
            };
            if let Err(violation) = self.on_frame(frame, &mut actions) {
                self.fail(violation, &mut actions);
            }
            if self.is_closed() {
                break;
            }
        }
        actions
    }
    // ANCHOR_END: receive

    // ANCHOR: next_frame
    /// The next whole frame, if the bytes received hold one. Its header is checked against the
    /// rules the moment it has arrived: a header that breaks one is answered at once, without
    /// waiting for (and buffering) a payload that will be refused anyway: a ping that announces
    /// 3,000 bytes is answered with 1002 as soon as its 8-byte header is in.
    fn next_frame(&mut self) -> Result<Option<Frame>, Violation> {
        match FrameHeader::parse(self.decoder.buffered()) {
            Ok(Some((header, _len))) => Session::check(&header, self.extensions())?,
            Ok(None) => return Ok(None),
            Err(e) => return Err(decoding_violation(&e)),
        }
        match self.decoder.next_frame() {
            Ok(frame) => Ok(frame.map(|(frame, _raw)| frame)),
            Err(e) => Err(decoding_violation(&e)),
        }
    }
    // ANCHOR_END: next_frame

    /// Fails the connection (RFC 6455 §7.1.7): a close frame with the violation's code, then
    /// [`Action::Linger`]. If we had already sent a close frame, the peer gets no second one
    /// (§5.5.1): the connection fails with the code we sent.
    fn fail(&mut self, violation: Violation, actions: &mut Vec<Action>) {
        match std::mem::replace(&mut self.state, State::Failed) {
            State::Open => {
                let payload = ClosePayload { code: violation.code, reason: violation.reason.clone() };
                actions.push(Action::Send(Frame::close(Some(&payload))));
                actions.push(Action::Linger(Ending::WeClosed(violation.code, violation.reason)));
            }
            State::Closing { code, reason } => actions.push(Action::Linger(Ending::WeClosed(code, reason))),
            State::Failed => {}
            State::Closed => self.state = State::Closed,
        }
        // Whatever is still buffered is garbage after a broken rule, and is never processed.
        let _ = self.decoder.take_buffered();
    }

    /// A whole frame whose header passed [`Session::check`].
    fn on_frame(&mut self, frame: Frame, actions: &mut Vec<Action>) -> Result<(), Violation> {
        if let State::Closing { code, reason } = &self.state {
            // RFC 6455 §7.1.1: after our close frame, wait for the peer's; ignore anything else.
            if frame.opcode == OpCode::Close {
                actions.push(Action::CloseTcp(Ending::WeClosed(*code, reason.clone())));
                self.state = State::Closed;
            }
            return Ok(());
        }
        match frame.opcode {
            OpCode::Ping | OpCode::Pong | OpCode::Close => self.on_control(frame, actions)?,
            OpCode::Text | OpCode::Binary => {
                if self.message.is_some() {
                    return Err(protocol(
                        "a new message began before the last one's final fragment (RFC 6455 §5.4)",
                    ));
                }
                let text = frame.opcode == OpCode::Text;
                // `check` let RSV1 through only if deflate was agreed: it marks a compressed message.
                let compressed = frame.rsv1;
                self.message = Some(Partial { text, compressed, data: Vec::new(), checked: 0 });
                self.append(frame.payload, frame.fin, actions)?;
            }
            OpCode::Continuation => {
                if self.message.is_none() {
                    return Err(protocol("a continuation frame with no message to continue (RFC 6455 §5.4)"));
                }
                self.append(frame.payload, frame.fin, actions)?;
            }
            // `check` refused these already.
            OpCode::Reserved(_) => {}
        }
        Ok(())
    }

    // ANCHOR: control
    /// Control frames (RFC 6455 §5.5): the protocol talking to itself, answered at once.
    fn on_control(&mut self, frame: Frame, actions: &mut Vec<Action>) -> Result<(), Violation> {
        match frame.opcode {
            // §5.5.2: a ping is answered with a pong carrying the same payload.
            OpCode::Ping => actions.push(Action::Send(Frame::pong(frame.payload))),
            // §5.5.1: a close is answered with a close (we send back the peer's code and reason,
            // as tungstenite does), then the server closes TCP. A bad payload fails the connection.
            OpCode::Close => {
                let payload = ClosePayload::parse(&frame.payload)
                    .map_err(|e| Violation { code: e.answer(), reason: e.to_string() })?;
                actions.push(Action::Send(Frame::close(payload.as_ref())));
                actions.push(Action::CloseTcp(Ending::PeerClosed(payload.map(|p| p.code))));
                self.state = State::Closed;
            }
            // §5.5.3: a pong may come unasked, as a heartbeat; nothing to answer.
            _ => {}
        }
        Ok(())
    }
    // ANCHOR_END: control

    // ANCHOR: rules
    /// The rules every frame from a client must follow, whatever its place in the conversation.
    /// All of them are about the header, so they are checked before the payload arrives.
    /// `extensions`: what the handshake agreed, which decides the RSV bits a frame may carry.
    pub fn check(header: &FrameHeader, extensions: Extensions) -> Result<(), Violation> {
        // RFC 6455 §5.1: "The server MUST close the connection upon receiving a frame that is not
        // masked" (status 1002, §7.4.1).
        if header.mask.is_none() {
            return Err(protocol("a client frame must be masked (RFC 6455 §5.1)"));
        }
        // §5.2: RSV1-3 "MUST be 0 unless an extension is negotiated". With permessage-deflate,
        // RSV1 marks a compressed message, on its first frame only (RFC 7692 §6).
        if let Err(e) = extensions.check_rsv(header) {
            return Err(protocol(e.to_string()));
        }
        // §5.2: opcodes 0x3-0x7 and 0xB-0xF are reserved for future use.
        if let OpCode::Reserved(bits) = header.opcode {
            return Err(protocol(format!("reserved opcode 0x{bits:x} (RFC 6455 §5.2)")));
        }
        if header.opcode.is_control() {
            // §5.5: control frames carry at most 125 bytes and are never fragmented. The length
            // is in the header: no need to wait for the payload to refuse it.
            if header.payload_len > MAX_CONTROL_PAYLOAD as u64 {
                return Err(protocol(format!(
                    "a {}-byte {} frame; control frames carry at most 125 (RFC 6455 §5.5)",
                    header.payload_len, header.opcode
                )));
            }
            if !header.fin {
                return Err(protocol(format!("a fragmented {} frame (RFC 6455 §5.5)", header.opcode)));
            }
        }
        Ok(())
    }
    // ANCHOR_END: rules

    // ANCHOR: append
    /// Adds a fragment to the open message; delivers it if `fin`.
    fn append(&mut self, payload: Vec<u8>, fin: bool, actions: &mut Vec<Action>) -> Result<(), Violation> {
        let max = self.max_message;
        let Some(message) = self.message.as_mut() else { return Ok(()) };
        if message.compressed
            && let Some(deflate) = self.deflate.as_mut()
        {
            // RFC 7692 §7.2.2: inflate as the fragments arrive (the last one gets the `00 00 ff ff`
            // tail back). The limit is on the inflated message: inflating stops the moment it
            // would pass `max`, so a small frame that would inflate to gigabytes costs no more.
            deflate
                .decompressor
                .decompress_fragment(&payload, fin, &mut message.data, max)
                .map_err(|e| inflate_violation(&e))?;
        } else {
            // RFC 6455 §10.4: an endpoint limits what it will buffer; 1009 says "too big" (§7.4.1).
            if message.data.len() + payload.len() > max {
                return Err(Violation {
                    code: CloseCode::TOO_BIG,
                    reason: format!("a message over the limit of {max} bytes"),
                });
            }
            message.data.extend_from_slice(&payload);
        }
        if message.text {
            check_utf8(message, fin)?;
        }
        if fin && let Some(message) = self.message.take() {
            let delivered = if message.text {
                // `check_utf8` has just validated all of it.
                Message::Text(String::from_utf8_lossy(&message.data).into_owned())
            } else {
                Message::Binary(message.data)
            };
            actions.push(Action::Deliver(delivered));
        }
        Ok(())
    }
    // ANCHOR_END: append
}

/// A compressed message that could not be inflated: too big once inflated (1009), or not
/// DEFLATE data at all (1007).
fn inflate_violation(error: &InflateError) -> Violation {
    let reason = match error {
        InflateError::TooBig { max } => format!("a message that inflates past the limit of {max} bytes"),
        InflateError::Corrupt(_) => {
            "a compressed message that is not valid DEFLATE data (RFC 7692 §7.2.2)".into()
        }
    };
    Violation { code: error.close_code(), reason }
}

// ANCHOR: utf8
/// RFC 6455 §8.1: a text message must be valid UTF-8, and an endpoint that finds it is not fails
/// the connection with 1007 at once, even mid-message. A character may be cut between two
/// fragments, so a fragment may *end* in the middle of one; only the final fragment must not.
fn check_utf8(message: &mut Partial, fin: bool) -> Result<(), Violation> {
    let invalid = || Violation {
        code: CloseCode::INVALID_DATA,
        reason: "a text message that is not valid UTF-8 (RFC 6455 §8.1)".into(),
    };
    match std::str::from_utf8(&message.data[message.checked..]) {
        Ok(_) => message.checked = message.data.len(),
        // `error_len() == None`: the bytes end in the middle of a character, which may continue.
        Err(e) if e.error_len().is_none() && !fin => message.checked += e.valid_up_to(),
        Err(_) => return Err(invalid()),
    }
    Ok(())
}
// ANCHOR_END: utf8

/// A frame the codec could not even decode.
fn decoding_violation(error: &FrameError) -> Violation {
    match error {
        FrameError::TooLarge { len, max } => Violation {
            code: CloseCode::TOO_BIG,
            reason: format!("a frame of {len} bytes, over the limit of {max}"),
        },
        FrameError::LengthTopBit(_) => protocol("a 64-bit length with its top bit set (RFC 6455 §5.2)"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MASK: [u8; 4] = [0x37, 0xfa, 0x21, 0x3d];

    fn feed(session: &mut Session, frames: &[Frame]) -> Vec<Action> {
        let bytes: Vec<u8> = frames.iter().flat_map(Frame::encode).collect();
        session.receive(&bytes)
    }

    fn close_code(actions: &[Action]) -> Option<u16> {
        actions.iter().find_map(|a| match a {
            Action::Send(frame) if frame.opcode == OpCode::Close => {
                Some(u16::from_be_bytes([frame.payload[0], frame.payload[1]]))
            }
            _ => None,
        })
    }

    #[test]
    fn the_rfc_masked_hello_is_delivered_as_text() {
        let mut session = Session::new(1024);
        let actions = session.receive(&[0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58]);
        assert_eq!(actions, [Action::Deliver(Message::Text("Hello".into()))]);
    }

    #[test]
    fn a_ping_between_fragments_is_answered_and_the_message_still_arrives() {
        let mut session = Session::new(1024);
        let actions = feed(
            &mut session,
            &[
                Frame::text("Hel").not_final().masked(MASK),
                Frame::ping("?").masked(MASK),
                Frame::new(OpCode::Continuation, "lo").masked(MASK),
            ],
        );
        assert_eq!(actions, [Action::Send(Frame::pong("?")), Action::Deliver(Message::Text("Hello".into()))]);
    }

    #[test]
    fn a_character_cut_between_fragments_is_valid_text() {
        let euro = "€".as_bytes();
        let mut session = Session::new(1024);
        let actions = feed(
            &mut session,
            &[
                Frame::new(OpCode::Text, &euro[..1]).not_final().masked(MASK),
                Frame::new(OpCode::Continuation, &euro[1..]).masked(MASK),
            ],
        );
        assert_eq!(actions, [Action::Deliver(Message::Text("€".into()))]);
    }

    #[test]
    fn after_failing_the_session_processes_nothing_more_not_even_a_close_frame() {
        let mut session = Session::new(1024);
        let first = feed(&mut session, &[Frame::text("no mask")]);
        assert_eq!(close_code(&first), Some(1002));
        assert!(
            matches!(first.last(), Some(Action::Linger(Ending::WeClosed(CloseCode::PROTOCOL, _)))),
            "after its close frame the server lingers and closes TCP (RFC 6455 §7.1.7): {first:?}"
        );
        assert!(session.is_closed() && !session.is_closing(), "a failed connection waits for nothing");
        let ignored =
            feed(&mut session, &[Frame::text("still talking").masked(MASK), Frame::close(None).masked(MASK)]);
        assert!(
            ignored.is_empty(),
            "RFC 6455 §7.1.7: not even a responding close frame is processed: {ignored:?}"
        );
    }

    #[test]
    fn after_its_own_close_the_session_waits_for_the_peers_close_then_closes_tcp() {
        let mut session = Session::new(1024);
        let first = session.close(CloseCode::NORMAL, "idle".into());
        assert_eq!(close_code(&first), Some(1000));
        assert!(session.is_closing());
        let ignored = feed(&mut session, &[Frame::text("still talking").masked(MASK)]);
        assert!(ignored.is_empty(), "data after our close frame is dropped: {ignored:?}");
        let done = feed(&mut session, &[Frame::close(None).masked(MASK)]);
        assert!(matches!(done.as_slice(), [Action::CloseTcp(Ending::WeClosed(CloseCode::NORMAL, _))]));
        assert!(session.is_closed());
    }

    #[test]
    fn a_control_header_announcing_over_125_bytes_fails_before_its_payload() {
        for opcode in [OpCode::Ping, OpCode::Pong, OpCode::Close] {
            let mut session = Session::new(1024);
            let frame = Frame::new(opcode, vec![0; 3000]).masked(MASK).encode();
            // The 8-byte header only (2 bytes, a 16-bit length, the mask): not one payload byte.
            let actions = session.receive(&frame[..8]);
            assert_eq!(close_code(&actions), Some(1002), "a {opcode} header of 3,000 bytes (RFC 6455 §5.5)");
        }
    }

    /// The agreement a browser's offer gets from the default configuration: context takeover
    /// both ways, 32 KiB windows.
    fn deflate_session(max: usize) -> Session {
        let agreement = wire::deflate::negotiate(
            &wire::deflate::DeflateConfig::default(),
            ["permessage-deflate; client_max_window_bits"],
        )
        .accepted
        .unwrap();
        Session::with_deflate(max, &agreement)
    }

    fn unhex(text: &str) -> Vec<u8> {
        text.split_whitespace().map(|b| u8::from_str_radix(b, 16).unwrap()).collect()
    }

    /// An RFC 7692 §7.2.3 example (a server's unmasked frames) as a client sends it: masked.
    fn masked(frames: &str) -> Vec<u8> {
        let mut decoder = FrameDecoder::new(1024);
        decoder.push(&unhex(frames));
        let mut bytes = Vec::new();
        while let Some((frame, _)) = decoder.next_frame().unwrap() {
            bytes.extend(frame.masked(MASK).encode());
        }
        bytes
    }

    #[test]
    fn rfc_7692_examples_arrive_as_hello() {
        let examples = [
            ("§7.2.3.1", "c1 07 f2 48 cd c9 c9 07 00"),
            ("§7.2.3.1 fragmented", "41 03 f2 48 cd 80 04 c9 c9 07 00"),
            ("§7.2.3.3 stored block", "c1 0b 00 05 00 fa ff 48 65 6c 6c 6f 00"),
            ("§7.2.3.4 BFINAL", "c1 08 f3 48 cd c9 c9 07 00 00"),
            ("§7.2.3.5 two blocks", "c1 0d f2 48 05 00 00 00 ff ff ca c9 c9 07 00"),
        ];
        for (section, frames) in examples {
            let mut session = deflate_session(1024);
            let actions = session.receive(&masked(frames));
            assert_eq!(actions, [Action::Deliver(Message::Text("Hello".into()))], "RFC 7692 {section}");
        }
    }

    #[test]
    fn with_context_takeover_the_second_hello_refers_back_to_the_first() {
        // RFC 7692 §7.2.3.2: the second message is "H" and a reference back into the first.
        let mut session = deflate_session(1024);
        let actions = session.receive(&masked("c1 07 f2 48 cd c9 c9 07 00 c1 05 f2 00 11 00 00"));
        let hello = Action::Deliver(Message::Text("Hello".into()));
        assert_eq!(actions, [hello.clone(), hello]);
        // The server's own echoes, compressed the same way.
        let message = Message::Text("Hello".into());
        assert_eq!(session.frame_for(&message).encode(), unhex("c1 07 f2 48 cd c9 c9 07 00"));
        assert_eq!(session.frame_for(&message).encode(), unhex("c1 05 f2 00 11 00 00"));
    }

    #[test]
    fn an_empty_compressed_message_is_one_byte() {
        // RFC 7692 §7.2.3.6.
        let mut session = deflate_session(1024);
        assert_eq!(session.receive(&masked("c1 01 00")), [Action::Deliver(Message::Text(String::new()))]);
        assert_eq!(session.frame_for(&Message::Binary(Vec::new())).encode(), unhex("c2 01 00"));
    }

    #[test]
    fn an_uncompressed_message_still_arrives_when_deflate_is_agreed() {
        // RFC 7692 §6: a sender may leave any message uncompressed (RSV1 clear).
        let mut session = deflate_session(1024);
        let actions = feed(&mut session, &[Frame::binary(vec![1, 2, 3]).masked(MASK)]);
        assert_eq!(actions, [Action::Deliver(Message::Binary(vec![1, 2, 3]))]);
    }

    #[test]
    fn rsv1_without_deflate_fails_with_1002() {
        let mut session = Session::new(1024);
        let actions = session.receive(&masked("c1 07 f2 48 cd c9 c9 07 00"));
        assert_eq!(close_code(&actions), Some(1002), "RFC 6455 §5.2: no extension was agreed");
    }

    #[test]
    fn rsv1_on_a_continuation_or_a_control_frame_fails_with_1002() {
        // RFC 7692 §6: only a data message's first frame may carry RSV1.
        for frames in [
            "41 03 f2 48 cd c0 04 c9 c9 07 00", // RSV1 on the continuation too
            "c9 01 00",                         // a compressed ping
        ] {
            let mut session = deflate_session(1024);
            let actions = session.receive(&masked(frames));
            assert_eq!(close_code(&actions), Some(1002), "{frames}: {actions:?}");
        }
    }

    #[test]
    fn a_compressed_message_that_is_not_deflate_data_fails_with_1007() {
        let mut session = deflate_session(1024);
        // BTYPE 11 is reserved (RFC 1951 §3.2.3).
        let actions = feed(&mut session, &[Frame::binary(vec![0xff, 0xff, 0xff]).compressed().masked(MASK)]);
        assert_eq!(close_code(&actions), Some(1007));
    }

    // ANCHOR: zip_bomb
    #[test]
    fn a_small_frame_that_inflates_past_the_limit_fails_with_1009_without_inflating_it_all() {
        const LIMIT: usize = 64 * 1024;
        // 16 MiB of zeros compress to about 16 KB: a frame well inside the limit...
        let bomb = wire::deflate::Compressor::new(15, false).compress(&vec![0; 16 << 20]);
        assert!(bomb.len() < LIMIT / 2, "the bomb is {} bytes", bomb.len());
        let mut session = deflate_session(LIMIT);
        let actions = feed(&mut session, &[Frame::binary(bomb).compressed().masked(MASK)]);
        // ...that would inflate to 256 times the limit. The server answers 1009 ("too big")...
        assert_eq!(close_code(&actions), Some(1009), "{actions:?}");
        // ...having inflated no more than the limit and one chunk of 8 KiB.
        let inflated = session.deflate().map(|d| d.decompressor.total_out()).unwrap_or_default();
        assert!(inflated <= (LIMIT + 8 * 1024) as u64, "inflated {inflated} bytes before stopping");
    }
    // ANCHOR_END: zip_bomb

    #[test]
    fn control_frames_are_never_compressed() {
        let mut session = deflate_session(1024);
        let actions = feed(&mut session, &[Frame::ping("?").masked(MASK), Frame::close(None).masked(MASK)]);
        assert!(
            actions.iter().all(|a| !matches!(a, Action::Send(frame) if frame.rsv1)),
            "RFC 7692 §6: a pong or close never has RSV1: {actions:?}"
        );
    }

    #[test]
    fn a_message_over_the_limit_in_fragments_fails_with_1009() {
        let mut session = Session::new(8);
        let actions = feed(
            &mut session,
            &[
                Frame::binary(vec![1; 5]).not_final().masked(MASK),
                Frame::new(OpCode::Continuation, vec![2; 5]).masked(MASK),
            ],
        );
        assert_eq!(close_code(&actions), Some(1009));
    }
}
