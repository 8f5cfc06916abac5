//! The heartbeat chapter's exchanges, as the Tap records them: a healthy heartbeat, a dead peer
//! found, and every way a connection ends. The book includes the snapshot files these tests
//! check (`tests/snapshots/heartbeat__*.snap`).
//!
//! The timed ones run with tokio's clock paused, over in-memory pipes: every timer fires at an
//! exact virtual instant and the whole test takes milliseconds.

#![allow(clippy::unwrap_used, reason = "in a test, a panic is a failure with a line number")]

use std::time::Duration;

use heartbeat::Heartbeat;
use heartbeat::endings::{self, Recorded};
use wire::Render;

fn snapshot(name: &str, recorded: &Recorded) {
    insta::with_settings!({ omit_expression => true }, {
        insta::assert_snapshot!(name, recorded.render(&Render::snapshot()));
    });
}

/// One second between pings and two missed pongs tolerated: short enough to read.
fn heartbeat() -> Heartbeat {
    Heartbeat::new(Duration::from_secs(1), 2)
}

#[tokio::test(start_paused = true)]
async fn a_healthy_connection_answers_every_ping() {
    let recorded = endings::healthy(heartbeat(), 3, None).await.unwrap();
    snapshot("healthy", &recorded);
}

#[tokio::test(start_paused = true)]
async fn a_dead_peer_is_dropped_max_missed_intervals_after_the_first_lost_ping() {
    let recorded = endings::dead_peer(heartbeat(), None).await.unwrap();
    snapshot("dead_peer", &recorded);
}

#[tokio::test(start_paused = true)]
async fn an_idle_connection_is_closed_although_it_answers_pings() {
    let recorded = endings::idle_timeout().await.unwrap();
    snapshot("idle_timeout", &recorded);
}

#[tokio::test]
async fn the_client_closes_with_1000() {
    snapshot("client_closes", &endings::client_closes().await.unwrap());
}

#[tokio::test]
async fn the_server_shuts_down_with_1001() {
    snapshot("server_shuts_down", &endings::server_shuts_down().await.unwrap());
}

#[tokio::test]
async fn an_unmasked_client_frame_is_answered_with_1002() {
    snapshot("protocol_error", &endings::protocol_error().await.unwrap());
}

#[tokio::test]
async fn a_message_over_the_limit_is_answered_with_1009() {
    snapshot("message_too_big", &endings::message_too_big().await.unwrap());
}

#[tokio::test]
async fn a_dropped_connection_is_1006_which_never_travels() {
    snapshot("connection_drops", &endings::connection_drops().await.unwrap());
}

/// Follows a feed through a Tap per connection, the Tap's clock on, and returns every
/// connection's transcript (handshake condensed) and what the client received.
async fn follow_recorded(
    feed: std::sync::Arc<heartbeat::resume::Feed>,
    start_after: u64,
    until: u64,
    cut_at: Option<Duration>,
) -> String {
    use heartbeat::resume::{follow, handle};
    use rand::SeedableRng;
    use std::sync::{Arc, Mutex};

    let connections: Arc<Mutex<Vec<tap::TapConnection>>> = Arc::default();
    let started = tokio::time::Instant::now();
    let connect = {
        let connections = connections.clone();
        let feed = feed.clone();
        move || {
            // The clock each Tap shows counts from the start of the whole run.
            let tap = tap::MemoryTap::new().clock_from(started);
            let (client, server, connection) = tap.pipe();
            if let Some(at) = cut_at
                && connections.lock().unwrap().is_empty()
            {
                let control = connection.control();
                tokio::spawn(async move {
                    tokio::time::sleep_until(started + at).await;
                    control.cut();
                });
            }
            connections.lock().unwrap().push(connection);
            let feed = feed.clone();
            tokio::spawn(async move { handle(server, &feed, &ws_echo::Limits::default()).await });
            async move { Ok(client) }
        }
    };
    let mut rng = rand::rngs::Xoshiro256PlusPlus::seed_from_u64(6455);
    let mut received = Vec::new();
    let backoff = heartbeat::backoff::Backoff::default();
    let result = follow(connect, backoff, &mut rng, start_after, until, |m| {
        received.push(format!("{} {}", endings::clock(started.elapsed()), m.to_wire()));
    })
    .await;
    let mut out = String::new();
    let taps = std::mem::take(&mut *connections.lock().unwrap());
    for (n, connection) in taps.into_iter().enumerate() {
        out.push_str(&format!("Connection {}:\n", n + 1));
        out.push_str(&endings::condensed(&connection.transcript().await).render(&Render::snapshot()));
        out.push('\n');
    }
    out.push_str("What the client's application received:\n");
    for line in received {
        out.push_str(&format!("  {line}\n"));
    }
    match result {
        Ok(followed) => {
            let waits: Vec<String> = followed.waits.iter().map(|w| format!("{} ms", w.as_millis())).collect();
            out.push_str(&format!("  done; waited {} before reconnecting\n", waits.join(", ")));
        }
        Err(e) => out.push_str(&format!("  stopped: {e}\n")),
    }
    out
}

#[tokio::test(start_paused = true)]
async fn a_client_cut_off_mid_stream_resumes_where_it_left_off() {
    let feed = heartbeat::resume::Feed::new(16);
    // A message every 100 ms; the connection is cut at 250 ms, after message 3.
    let publisher = {
        let feed = feed.clone();
        tokio::spawn(async move {
            for n in 1..=6 {
                feed.publish(format!("message {n}"));
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        })
    };
    let text = follow_recorded(feed, 0, 6, Some(Duration::from_millis(250))).await;
    publisher.await.unwrap();
    assert!(text.contains("\"resume 3\""), "the second connection resumes after 3:\n{text}");
    insta::with_settings!({ omit_expression => true }, {
        insta::assert_snapshot!("resume", text);
    });
}

#[tokio::test(start_paused = true)]
async fn a_gap_older_than_the_buffer_gets_4410_and_what_is_still_kept() {
    let feed = heartbeat::resume::Feed::new(3);
    for n in 1..=10 {
        feed.publish(format!("message {n}"));
    }
    let text = follow_recorded(feed, 4, 10, None).await;
    assert!(text.contains("4410"), "{text}");
    insta::with_settings!({ omit_expression => true }, {
        insta::assert_snapshot!("gap_too_old", text);
    });
}
