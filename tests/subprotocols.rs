//! Subprotocols (`Sec-WebSocket-Protocol`, RFC 6455 §1.9, §4.1, §4.2.2) on the Rust servers: the
//! tungstenite echo and the by-hand server, configured with the protocols they speak, answer a
//! client's offer byte for byte alike. A pick, an offer with nothing in common, and a server that
//! answers a protocol the client never offered, which the client must fail. The book includes the
//! snapshots (`tests/snapshots/subprotocols__*.snap`); the Node server's are in `tests/node.rs`,
//! Chromium's in `tests/node_browser.rs`.

#![allow(clippy::unwrap_used, reason = "in a test, a panic is a failure with a line number")]

use std::net::SocketAddr;

use guard::upgrade::Subprotocols;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use wire::{Render, Transcript};

fn snapshot(name: &str, text: &str) {
    insta::with_settings!({ omit_expression => true }, {
        insta::assert_snapshot!(name, text);
    });
}

/// What the servers of these tests speak: the two versions of a chat protocol, in either order,
/// since the pick follows the client's order.
const SPOKEN: [&str; 2] = ["chat.v1", "chat.v2"];

/// The client's offer in the page's words: `new WebSocket(url, ["chat.v2", "chat.v1"])`.
const OFFER: [&str; 2] = ["chat.v2", "chat.v1"];

/// Starts the tungstenite echo or the by-hand one, speaking [`SPOKEN`].
async fn server(by_hand: bool) -> (SocketAddr, tokio::task::JoinHandle<std::io::Result<()>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let limits = guard::Limits { protocols: Subprotocols::speak(SPOKEN), ..guard::Limits::default() };
    let task = if by_hand {
        tokio::spawn(ws_by_hand::server::serve(listener, limits))
    } else {
        tokio::spawn(ws_echo::server::serve(listener, limits))
    };
    (addr, task)
}

/// The transcript and what the client saw, as one text for a snapshot.
fn text(transcript: &Transcript, said: &[String]) -> String {
    let mut text = transcript.render(&Render::snapshot());
    text.push_str("\nWhat the client saw:\n");
    for line in said {
        text.push_str(&format!("  {line}\n"));
    }
    text
}

/// `offered` against both Rust servers: the two transcripts must be the same bytes.
async fn both_servers(offered: &[&str]) -> (String, Vec<String>) {
    let mut results = Vec::new();
    for by_hand in [false, true] {
        let (addr, task) = server(by_hand).await;
        let (transcript, said) =
            serve::client::offer_protocols(addr, serve::ECHO_PATH, offered).await.unwrap();
        task.abort();
        results.push((text(&transcript, &said), said));
    }
    let (by_hand, _) = results.pop().unwrap();
    let (tungstenite, said) = results.pop().unwrap();
    assert_eq!(
        tungstenite, by_hand,
        "the by-hand server answers an offer of subprotocols with the same bytes as the tungstenite \
         echo (left: tungstenite, right: by hand)"
    );
    (tungstenite, said)
}

#[tokio::test]
async fn the_server_picks_the_clients_first_protocol_that_it_speaks() {
    let (text, said) = both_servers(&OFFER).await;
    assert_eq!(said[1], "ws.protocol: \"chat.v2\"", "the client listed chat.v2 first");
    assert!(text.contains("    Sec-WebSocket-Protocol: chat.v2, chat.v1\n"), "{text}");
    assert!(text.contains("    Sec-WebSocket-Protocol: chat.v2\n"), "the 101 names one: {text}");
    snapshot("pick", &text);

    // The client's order decides, not the server's: offered the other way round, chat.v1 wins.
    let (_, said) = both_servers(&["chat.v1", "chat.v2"]).await;
    assert_eq!(said[1], "ws.protocol: \"chat.v1\"");
}

#[tokio::test]
async fn an_offer_with_nothing_in_common_is_refused_with_400_that_says_why() {
    let (text, said) = both_servers(&["chat.v3"]).await;
    assert_eq!(
        said[1],
        "the server refused the upgrade: 400 Bad Request: no subprotocol in common: the client \
         offered chat.v3, this server speaks chat.v1, chat.v2 (Sec-WebSocket-Protocol, RFC 6455 §4.2.2)"
    );
    snapshot("no_common_protocol", &text);
}

#[tokio::test]
async fn a_client_without_an_offer_gets_no_subprotocol_from_a_server_that_speaks_some() {
    let (text, said) = both_servers(&[]).await;
    assert_eq!(said[1], "ws.protocol: \"\" (no subprotocol)");
    assert!(!text.contains("Sec-WebSocket-Protocol"), "neither side names one: {text}");
}

/// A server that breaks RFC 6455 §4.2.2: it answers `101` naming `chat.v9`, whatever the client
/// offered, then waits for the client to hang up.
async fn misbehaving_server(listener: TcpListener) {
    let (mut stream, _) = listener.accept().await.unwrap();
    let (head, _) = guard::head::read_request(&mut stream, &guard::Limits::default()).await.unwrap();
    let accepted = guard::upgrade::judge(&head, serve::ECHO_PATH).unwrap().with_protocol(Some("chat.v9"));
    stream.write_all(accepted.response().as_bytes()).await.unwrap();
    let mut rest = Vec::new();
    let _ = stream.read_to_end(&mut rest).await;
}

#[tokio::test]
async fn the_client_fails_a_server_that_answers_a_protocol_it_did_not_offer() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server = tokio::spawn(misbehaving_server(listener));
    let (transcript, said) = serve::client::offer_protocols(addr, serve::ECHO_PATH, &OFFER).await.unwrap();
    server.await.unwrap();
    assert_eq!(
        said[1],
        "the client failed the connection: WebSocket error: WebSocket protocol error: SubProtocol \
         error: Server sent an invalid subprotocol",
        "RFC 6455 §4.1: a protocol the client did not offer fails the connection"
    );
    assert_eq!(transcript.frames().count(), 0, "not one frame: the connection never opened");
    let offered: Vec<String> = OFFER.iter().map(|p| (*p).to_owned()).collect();
    assert!(wire::handshake::check_answered_protocol(&offered, Some("chat.v9")).is_err());
    snapshot("unoffered_protocol", &text(&transcript, &said));
}
