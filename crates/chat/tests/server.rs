//! The chat server alone, rooms in memory: no nginx, no Redis, so these run in every
//! `cargo test`. (The chapter's tests with both are in `tests/chat.rs` at the root.)

#![allow(clippy::unwrap_used, reason = "in a test, a panic is a failure with a line number")]

use chat::client::{self, Ended, Event, Member};
use chat::protocol::{Incoming, Join};
use chat::{Config, Mode, Server};
use tokio::net::{TcpListener, TcpStream};

async fn server(queue: usize) -> Server {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let mut config = Config::new("A", Mode::Memory, None);
    config.queue = queue;
    Server::start(listener, config).await.unwrap()
}

async fn join(server: &Server, room: &str) -> Member<TcpStream> {
    let stream = TcpStream::connect(server.addr()).await.unwrap();
    let join = Join { room: room.into(), after: None };
    client::join(stream, &server.addr().to_string(), &join, false).await.unwrap()
}

#[tokio::test]
async fn every_member_of_a_room_hears_every_message_the_sender_too_and_no_other_room_does() {
    let server = server(16).await;
    let mut alice = join(&server, "lobby").await;
    let mut bob = join(&server, "lobby").await;
    let mut carol = join(&server, "kitchen").await;
    assert_eq!(alice.server, "A");
    alice.say("hello").await.unwrap();
    assert_eq!(alice.hear().await.unwrap(), "hello");
    assert_eq!(bob.hear().await.unwrap(), "hello");
    carol.say("just me").await.unwrap();
    assert_eq!(carol.hear().await.unwrap(), "just me", "carol's room had only her message");
    alice.leave().await;
    bob.leave().await;
    carol.leave().await;
}

#[tokio::test]
async fn a_request_for_no_room_is_refused_with_404_before_any_upgrade() {
    let server = server(16).await;
    let stream = TcpStream::connect(server.addr()).await.unwrap();
    let join = Join { room: "lobby".into(), after: None };
    let mut target = join.target();
    target.push_str("/extra");
    let error = serve::client::connect_over(stream, "x", &target, None).await.unwrap_err();
    assert_eq!(
        serve::client::refusal(&error).unwrap(),
        "the server refused the upgrade: 404 Not Found: nothing at /ws/chat/lobby/extra; rooms are at /ws/chat/NAME"
    );
}

#[tokio::test]
async fn a_server_that_leaves_closes_every_member_with_1012_and_refuses_newcomers() {
    let server = server(16).await;
    let addr = server.addr();
    let mut alice = join(&server, "lobby").await;
    let (ending, ()) = tokio::join!(alice.next(), server.leave());
    assert_eq!(ending, Event::Ended(Ended::Closed(1012, chat::server::DEPLOY_REASON.into())));
    assert!(TcpStream::connect(addr).await.is_err(), "a server that left listens no more");
}

#[tokio::test]
async fn a_member_that_does_not_read_is_cut_with_1013_while_the_others_hear_everything() {
    let server = server(8).await;
    let mut sender = join(&server, "lobby").await;
    // A small receive window, so the kernel holds little for a member that does not read.
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.set_recv_buffer_size(4096).unwrap();
    let stream = socket.connect(server.addr()).await.unwrap();
    let join = Join { room: "lobby".into(), after: None };
    let mut deaf = client::join(stream, &server.addr().to_string(), &join, false).await.unwrap();
    let mut cuts = server.rooms().cuts();
    let big = "x".repeat(32 * 1024);
    let mut sent = 0;
    while *cuts.borrow_and_update() == 0 {
        assert!(sent < 5000, "the deaf member was never cut");
        let text = format!("{sent:05} {big}");
        sender.say(&text).await.unwrap();
        assert_eq!(sender.hear().await.unwrap(), text, "the sender is never held up");
        sent += 1;
    }
    assert_eq!(server.rooms().members("lobby"), 1, "only the sender is left in the room");
    // Reading at last: what was already on its way, then the close.
    let mut heard = 0;
    let ending = loop {
        match deaf.next().await {
            Event::Message(Incoming::Plain(_)) => heard += 1,
            Event::Message(other) => panic!("unexpected {other:?}"),
            Event::Ended(ending) => break ending,
        }
    };
    assert!(heard < sent, "it heard {heard} of {sent}");
    assert_eq!(ending, Ended::Closed(1013, chat::room::cut_reason(8)));
}
