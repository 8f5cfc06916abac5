//! The protocol after the handshake, as a state machine with no I/O (RFC 6455 §5, §7).
//!
//! [`Session::receive`] is given the bytes that arrived and answers with [`Action`]s: a whole
//! message for the application, frames to write (a pong, a close), and when the connection is
//! over. It never touches a socket, so the tests and the fuzzer drive it with plain bytes, and
//! the server around it (`crate::server`) is a short loop of reads and writes.
//!
//! The rules a frame's header alone can break are one function, [`Session::check`], each with the
//! section it comes from; it runs as soon as a header has arrived, before any of the payload.

use wire::CloseCode;
use wire::close::ClosePayload;
use wire::frame::{Frame, FrameDecoder, FrameError, FrameHeader, MAX_CONTROL_PAYLOAD, OpCode};

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
}

impl Session {
    /// A session that accepts messages of up to `max_message` bytes.
    pub fn new(max_message: usize) -> Session {
        Session {
            decoder: FrameDecoder::new(max_message as u64),
            max_message,
            message: None,
            state: State::Open,
        }
    }

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
            Ok(Some((header, _len))) => Session::check(&header)?,
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
                self.message = Some(Partial { text, data: Vec::new(), checked: 0 });
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
    pub fn check(header: &FrameHeader) -> Result<(), Violation> {
        // RFC 6455 §5.1: "The server MUST close the connection upon receiving a frame that is not
        // masked" (status 1002, §7.4.1).
        if header.mask.is_none() {
            return Err(protocol("a client frame must be masked (RFC 6455 §5.1)"));
        }
        // §5.2: RSV1-3 "MUST be 0 unless an extension is negotiated"; this server negotiates none.
        if header.rsv1 || header.rsv2 || header.rsv3 {
            return Err(protocol("RSV bits set, but no extension was negotiated (RFC 6455 §5.2)"));
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

    /// Adds a fragment to the open message; delivers it if `fin`.
    fn append(&mut self, payload: Vec<u8>, fin: bool, actions: &mut Vec<Action>) -> Result<(), Violation> {
        let max = self.max_message;
        let Some(message) = self.message.as_mut() else { return Ok(()) };
        // RFC 6455 §10.4: an endpoint limits what it will buffer; 1009 says "too big" (§7.4.1).
        if message.data.len() + payload.len() > max {
            return Err(Violation {
                code: CloseCode::TOO_BIG,
                reason: format!("a message over the limit of {max} bytes"),
            });
        }
        message.data.extend_from_slice(&payload);
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
