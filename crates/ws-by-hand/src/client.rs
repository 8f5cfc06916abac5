//! A WebSocket client by hand, small enough to read in one sitting: the chapter's demo and the
//! tests use it to send exactly the bytes they choose, including frames that break the rules.
//!
//! It is not a general client: it does no fragmentation of its own and leaves every rule to the
//! caller. The masks it picks for [`Client::send_text`] and friends are fresh for every frame, as
//! RFC 6455 §5.3 asks, from the standard library's randomly seeded hasher.

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use wire::frame::{Frame, FrameDecoder, FrameError};
use wire::handshake::{accept_key, client_request};
use wire::http::{Head, StartLine};

/// The biggest frame the client accepts from a server.
pub const MAX_FRAME: u64 = 16 * 1024 * 1024;

/// What can go wrong on the client's side.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// A socket error.
    #[error("I/O error: {0}")]
    Io(#[from] std::io::Error),
    /// The server did not answer `101` with the right accept key.
    #[error("the server refused the upgrade: {0}")]
    Refused(String),
    /// The server sent bytes that are not a frame.
    #[error("the server sent an undecodable frame: {0}")]
    Frame(#[from] FrameError),
}

/// Four unpredictable bytes for a mask (RFC 6455 §5.3: "derived from a strong source of entropy";
/// the standard library seeds each `RandomState` randomly, which is enough for a teaching client).
pub fn fresh_mask() -> [u8; 4] {
    let mut hasher = RandomState::new().build_hasher();
    hasher.write_u8(0);
    let bits = hasher.finish();
    [bits as u8, (bits >> 8) as u8, (bits >> 16) as u8, (bits >> 24) as u8]
}

/// An open WebSocket, from the client's side.
#[derive(Debug)]
pub struct Client<S> {
    stream: S,
    decoder: FrameDecoder,
    /// The `Sec-WebSocket-Extensions` of the server's `101`, if it had one.
    extensions: Option<String>,
}

impl<S> Client<S>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    // ANCHOR: connect
    /// Sends the upgrade request with `key` and checks the answer: `101` and
    /// `Sec-WebSocket-Accept` = base64(SHA-1(key + GUID)) (RFC 6455 §4.1, §4.2.2).
    pub async fn handshake(stream: S, host: &str, path: &str, key: &str) -> Result<Client<S>, ClientError> {
        Client::handshake_offering(stream, host, path, key, None).await
    }
    // ANCHOR_END: connect

    /// [`Client::handshake`], offering `extensions` in `Sec-WebSocket-Extensions` (RFC 6455
    /// §9.1), e.g. a browser's `permessage-deflate; client_max_window_bits`. What the server
    /// accepted is [`Client::extensions`].
    pub async fn handshake_offering(
        mut stream: S,
        host: &str,
        path: &str,
        key: &str,
        extensions: Option<&str>,
    ) -> Result<Client<S>, ClientError> {
        let mut request = client_request(host, path, key);
        if let Some(offer) = extensions {
            // Before the empty line that ends the head.
            request.truncate(request.len() - 2);
            request.push_str(&format!("Sec-WebSocket-Extensions: {offer}\r\n\r\n"));
        }
        stream.write_all(request.as_bytes()).await?;
        let mut buf = Vec::new();
        let mut chunk = [0u8; 1024];
        let head = loop {
            let n = stream.read(&mut chunk).await?;
            if n == 0 {
                return Err(ClientError::Refused("the connection closed during the handshake".into()));
            }
            buf.extend_from_slice(&chunk[..n]);
            match Head::parse_response(&buf) {
                Ok(Some(head)) => break head,
                Ok(None) => {}
                Err(e) => return Err(ClientError::Refused(e.to_string())),
            }
        };
        let expected = accept_key(key);
        let accept = head.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case("Sec-WebSocket-Accept"));
        match (&head.start, accept) {
            (StartLine::Response { status: 101, .. }, Some((_, value))) if *value == expected => {}
            (start, _) => return Err(ClientError::Refused(format!("{start}"))),
        }
        let mut decoder = FrameDecoder::new(MAX_FRAME);
        decoder.push(&buf[head.len..]);
        let extensions = head.header("Sec-WebSocket-Extensions").map(str::to_owned);
        Ok(Client { stream, decoder, extensions })
    }

    /// The extensions the server accepted: its `101`'s `Sec-WebSocket-Extensions`, if any.
    pub fn extensions(&self) -> Option<&str> {
        self.extensions.as_deref()
    }

    /// Sends `frame` exactly as given: masked or not, any flags, any opcode.
    pub async fn send(&mut self, frame: &Frame) -> Result<(), ClientError> {
        self.send_raw(&frame.encode()).await
    }

    /// Sends bytes as they are.
    pub async fn send_raw(&mut self, bytes: &[u8]) -> Result<(), ClientError> {
        self.stream.write_all(bytes).await?;
        self.stream.flush().await?;
        Ok(())
    }

    /// Sends a text message in one masked frame.
    pub async fn send_text(&mut self, text: &str) -> Result<(), ClientError> {
        self.send(&Frame::text(text).masked(fresh_mask())).await
    }

    /// The next frame from the server, or `None` when the server has closed TCP.
    pub async fn next_frame(&mut self) -> Result<Option<Frame>, ClientError> {
        let mut chunk = [0u8; 4096];
        loop {
            if let Some((frame, _raw)) = self.decoder.next_frame()? {
                return Ok(Some(frame));
            }
            let n = self.stream.read(&mut chunk).await?;
            if n == 0 {
                return Ok(None);
            }
            self.decoder.push(&chunk[..n]);
        }
    }

    /// Reads until the server closes TCP, returning the frames that came first.
    pub async fn read_to_end(&mut self) -> Result<Vec<Frame>, ClientError> {
        let mut frames = Vec::new();
        while let Some(frame) = self.next_frame().await? {
            frames.push(frame);
        }
        Ok(frames)
    }

    /// Closes our sending side of TCP, after the close handshake.
    pub async fn shutdown(&mut self) -> Result<(), ClientError> {
        self.stream.shutdown().await?;
        Ok(())
    }

    /// The stream underneath.
    pub fn get_mut(&mut self) -> &mut S {
        &mut self.stream
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_differ_from_frame_to_frame() {
        let masks: std::collections::HashSet<[u8; 4]> = (0..16).map(|_| fresh_mask()).collect();
        assert!(masks.len() > 1, "16 masks in a row should not all be equal: {masks:?}");
    }
}
