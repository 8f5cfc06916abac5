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

#[tokio::test(start_paused = true)]
async fn a_client_cut_off_mid_stream_resumes_where_it_left_off() {
    let text = heartbeat::resume::cut_and_resume().await.render(&Render::snapshot());
    assert!(text.contains("\"resume 3\""), "the second connection resumes after 3:\n{text}");
    insta::with_settings!({ omit_expression => true }, {
        insta::assert_snapshot!("resume", text);
    });
}

#[tokio::test(start_paused = true)]
async fn a_gap_older_than_the_buffer_gets_4410_and_what_is_still_kept() {
    let text = heartbeat::resume::gap_too_old().await.render(&Render::snapshot());
    assert!(text.contains("4410"), "{text}");
    insta::with_settings!({ omit_expression => true }, {
        insta::assert_snapshot!("gap_too_old", text);
    });
}
