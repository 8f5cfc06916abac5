//! The reverse-proxy chapter's exchanges, through a real nginx with a Tap on each side of it. The
//! book includes the snapshot files these tests check (`tests/snapshots/proxy__*.snap`).
//!
//! nginx is a program, not a library: the tests that run it are ignored in a plain `cargo test`
//! and run by `.ci/run`, which installs the Debian package `nginx` when it is missing
//! (`cargo test -p duplex-tests --test proxy -- --ignored` runs them by hand). The configurations
//! are checked without nginx, in every run.
//!
//! nginx's timing is real time, so the transcripts are made deterministic by the exchanges
//! themselves (`proxy::stage`): ports by name, pauses rounded to the second, and every step
//! waiting for what it needs rather than sleeping. The timeout tests wait for nginx's own
//! timeout, two seconds: that wait is the lesson.

#![allow(clippy::unwrap_used, reason = "in a test, a panic is a failure with a line number")]

use std::time::Duration;

use futures_util::StreamExt;
use proxy::config::{BOOK_LISTEN, BOOK_UPSTREAM, Host, Site};
use proxy::stage::{Connection, Recording, Side, Stage};
use proxy::{headers, sse, timeout, upgrade};
use wire::http::StartLine;
use wire::{Direction, EventKind, Render};

fn snapshot(name: &str, text: &str) {
    insta::with_settings!({ omit_expression => true }, {
        insta::assert_snapshot!(name, text);
    });
}

fn recorded(name: &str, recording: &Recording) {
    snapshot(name, &recording.render(&Render::snapshot()));
}

/// The request head nginx sent to the server (Tap 2's first C→S head).
fn request_to_server(recording: &Recording) -> wire::http::Head {
    let back = recording.side(Side::Back).next().expect("nginx connected to the server");
    back.entries
        .iter()
        .find_map(|e| match (&e.event.kind, e.event.dir) {
            (EventKind::Head(head), Some(Direction::ClientToServer)) => Some(head.clone()),
            _ => None,
        })
        .expect("nginx passed a request on")
}

fn lines(lines: &[String]) -> String {
    lines.join("\n")
}

// ─── The configurations (no nginx needed) ───────────────────────────────────────────────────

#[test]
fn the_configurations_the_book_shows_are_the_ones_the_demos_run() {
    snapshot("config_websocket", &Site::websocket().render(BOOK_LISTEN, BOOK_UPSTREAM));
    snapshot("config_recommended", &Site::recommended().render(BOOK_LISTEN, BOOK_UPSTREAM));
    snapshot("config_timeout", &timeout::site().render(BOOK_LISTEN, BOOK_UPSTREAM));
    snapshot("config_sse", &Site::plain().buffering(false).render(BOOK_LISTEN, BOOK_UPSTREAM));
    let listen = BOOK_LISTEN.parse().unwrap();
    let upstream = BOOK_UPSTREAM.parse().unwrap();
    snapshot("config_throwaway", &Site::websocket().nginx_conf(listen, upstream));
}

#[test]
fn a_missing_nginx_says_which_package_to_install() {
    let message = proxy::Error::from(serve::nginx::NginxError::Missing).to_string();
    assert!(message.contains("sudo apt-get install nginx"), "{message}");
}

// ─── The upgrade ─────────────────────────────────────────────────────────────────────────────

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs nginx (Debian package nginx): run by .ci/run, or cargo test -p duplex-tests --test proxy -- --ignored"]
async fn nginx_defaults_send_http_1_0_without_upgrade_and_the_server_answers_400() {
    let case = &upgrade::cases()[0];
    let recording = upgrade::run(&case.site, false).await.unwrap();
    let request = request_to_server(&recording);
    assert!(matches!(request.start, StartLine::Request { minor: 0, .. }), "HTTP/1.0: {}", request.start);
    assert_eq!(request.header("Connection"), Some("close"));
    assert_eq!(request.header("Upgrade"), None, "Upgrade is hop-by-hop (RFC 9110 §7.6.1): dropped");
    assert!(lines(&recording.client).contains("400 Bad Request"), "{:?}", recording.client);
    recorded(case.name, &recording);
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs nginx (Debian package nginx): run by .ci/run, or cargo test -p duplex-tests --test proxy -- --ignored"]
async fn proxy_http_version_alone_still_drops_the_upgrade_and_the_server_answers_426() {
    let case = &upgrade::cases()[1];
    let recording = upgrade::run(&case.site, false).await.unwrap();
    let request = request_to_server(&recording);
    assert!(matches!(request.start, StartLine::Request { minor: 1, .. }), "HTTP/1.1: {}", request.start);
    assert_eq!(request.header("Upgrade"), None);
    assert!(lines(&recording.client).contains("426 Upgrade Required"), "{:?}", recording.client);
    recorded(case.name, &recording);
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs nginx (Debian package nginx): run by .ci/run, or cargo test -p duplex-tests --test proxy -- --ignored"]
async fn the_three_directives_forward_the_upgrade_and_the_frames_pass_byte_for_byte() {
    let case = &upgrade::cases()[2];
    let recording = upgrade::run(&case.site, false).await.unwrap();
    let request = request_to_server(&recording);
    assert_eq!(request.header("Upgrade"), Some("websocket"));
    assert_eq!(request.header("Connection"), Some("upgrade"), "the map's value, in lower case");
    let frames = |side| {
        let connection: &Connection = recording.side(side).next().unwrap();
        connection
            .entries
            .iter()
            .filter_map(|e| match &e.event.kind {
                EventKind::Frame(frame) => Some((e.event.dir, frame.clone(), e.event.wire_len)),
                _ => None,
            })
            .collect::<Vec<_>>()
    };
    assert_eq!(frames(Side::Front), frames(Side::Back), "after the 101, nginx passes frames on unchanged");
    assert!(lines(&recording.client).contains("got text \"Hello through nginx\""), "{:?}", recording.client);
    recorded(case.name, &recording);
}

// ─── proxy_read_timeout ──────────────────────────────────────────────────────────────────────

/// The pause before the first FIN on `side`: how long the connection was silent before nginx
/// closed it.
fn silence_before_the_cut(recording: &Recording, side: Side) -> Duration {
    let connection = recording.side(side).next().unwrap();
    let cut = connection.entries.iter().position(|e| matches!(e.event.kind, EventKind::Closed(_))).unwrap();
    let before = connection.entries[..cut].iter().rev().find(|e| e.event.dir.is_some()).unwrap();
    connection.entries[cut].at.duration_since(before.at)
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs nginx (Debian package nginx): run by .ci/run, or cargo test -p duplex-tests --test proxy -- --ignored"]
async fn an_idle_websocket_is_cut_after_proxy_read_timeout_with_no_close_frame() {
    let recording = timeout::idle(false).await.unwrap();
    for side in [Side::Front, Side::Back] {
        let silence = silence_before_the_cut(&recording, side);
        assert!(
            silence >= timeout::TIMEOUT - Duration::from_millis(100) && silence < timeout::TIMEOUT * 3 / 2,
            "nginx cuts {side:?} after proxy_read_timeout ({:?}) of silence, not after {silence:?}",
            timeout::TIMEOUT
        );
    }
    assert!(lines(&recording.client).contains("1006"), "no close frame: {:?}", recording.client);
    assert!(lines(&recording.server).contains("1006"), "{:?}", recording.server);
    assert_eq!(
        recording.nginx,
        ["[info] upstream timed out (110: Connection timed out) while proxying upgraded connection"]
    );
    recorded("timeout_idle", &recording);
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs nginx (Debian package nginx): run by .ci/run, or cargo test -p duplex-tests --test proxy -- --ignored"]
async fn a_server_heartbeat_keeps_the_proxied_connection_open() {
    let recording = timeout::heartbeat(false).await.unwrap();
    assert!(recording.nginx.is_empty(), "no timeout: {:?}", recording.nginx);
    assert!(lines(&recording.client).contains("got close 1000"), "a clean close: {:?}", recording.client);
    recorded("timeout_heartbeat", &recording);
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs nginx (Debian package nginx): run by .ci/run, or cargo test -p duplex-tests --test proxy -- --ignored"]
async fn pings_from_the_client_alone_keep_it_open_even_when_nobody_answers() {
    let recording = timeout::client_pings(false).await.unwrap();
    assert!(recording.nginx.is_empty(), "no timeout: {:?}", recording.nginx);
    assert!(lines(&recording.server).contains("answered none"), "{:?}", recording.server);
    assert!(lines(&recording.client).contains("got close 1000"), "a clean close: {:?}", recording.client);
    recorded("timeout_client_pings", &recording);
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs nginx (Debian package nginx): run by .ci/run, or cargo test -p duplex-tests --test proxy -- --ignored"]
async fn the_heartbeat_chapters_own_server_keeps_a_proxied_connection_open() {
    // The heartbeat chapter's server, unchanged, at one ping a second, behind the timeout demo's
    // nginx: the chapter's advice (ping more often than the shortest idle timeout) holds.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let server = listener.local_addr().unwrap();
    let settings = heartbeat::Settings {
        heartbeat: heartbeat::Heartbeat::new(timeout::INTERVAL, 2),
        limits: heartbeat::config::no_idle(),
    };
    let shutdown = heartbeat::server::Shutdown::new();
    tokio::spawn(heartbeat::server::serve(listener, settings, shutdown.clone()));
    let stage = Stage::start(&timeout::site(), server, false).await.unwrap();
    let stream = stage.connect().await.unwrap();
    let host = stage.addr().to_string();
    let mut ws = serve::client::connect_over(stream, &host, heartbeat::PATH, None).await.unwrap();
    let mut pings = 0;
    while pings < timeout::PINGS {
        match tokio::time::timeout(Duration::from_secs(10), ws.next()).await.unwrap() {
            Some(Ok(tungstenite::Message::Ping(_))) => pings += 1,
            Some(Ok(_)) => {}
            other => panic!("the connection ended after {pings} pings: {other:?}"),
        }
    }
    shutdown.trigger();
    let mut last = None;
    while let Some(message) = ws.next().await {
        last = Some(message);
    }
    drop(ws);
    assert!(
        matches!(&last, Some(Ok(tungstenite::Message::Close(Some(frame)))) if u16::from(frame.code) == 1001),
        "alive after {} pings, twice nginx's timeout, then closed by the server's shutdown (1001): {last:?}",
        timeout::PINGS
    );
    let recording = stage.finish_with(Vec::new(), Vec::new()).await.unwrap();
    assert!(recording.nginx.is_empty(), "nginx never timed out: {:?}", recording.nginx);
}

// ─── The client's address and the Origin check ───────────────────────────────────────────────

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs nginx (Debian package nginx): run by .ci/run, or cargo test -p duplex-tests --test proxy -- --ignored"]
async fn nginx_appends_the_address_it_saw_to_x_forwarded_for() {
    let recording = headers::forwarded_for(true, false).await.unwrap();
    let request = request_to_server(&recording);
    assert_eq!(request.header("X-Forwarded-For"), Some("203.0.113.7, 127.0.0.1"));
    assert!(lines(&recording.client).contains("\"you are 127.0.0.1\""), "{:?}", recording.client);
    recorded("forwarded_for_appended", &recording);
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs nginx (Debian package nginx): run by .ci/run, or cargo test -p duplex-tests --test proxy -- --ignored"]
async fn without_the_directive_a_forged_x_forwarded_for_arrives_unchanged() {
    let recording = headers::forwarded_for(false, false).await.unwrap();
    let request = request_to_server(&recording);
    assert_eq!(request.header("X-Forwarded-For"), Some(headers::FORGED));
    assert!(lines(&recording.client).contains("\"you are 203.0.113.7\""), "{:?}", recording.client);
    recorded("forwarded_for_forged", &recording);
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs nginx (Debian package nginx): run by .ci/run, or cargo test -p duplex-tests --test proxy -- --ignored"]
async fn the_origin_check_fails_behind_nginx_unless_host_keeps_its_port() {
    for (host, name, _) in headers::origin_cases() {
        let recording = headers::origin(host, false).await.unwrap();
        let client = lines(&recording.client);
        match host {
            Host::ProxyHost | Host::Host => assert!(client.contains("403 Forbidden"), "{host:?}: {client}"),
            Host::HttpHost => assert!(client.contains("the upgrade worked"), "{host:?}: {client}"),
        }
        recorded(name, &recording);
    }
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs nginx (Debian package nginx): run by .ci/run, or cargo test -p duplex-tests --test proxy -- --ignored"]
async fn the_recommended_configuration_passes_the_upgrade_the_origin_and_the_clients_address() {
    let server = proxy::upstream::Upstream::whoami(vec![std::net::Ipv4Addr::LOCALHOST.into()]).await.unwrap();
    let stage = Stage::start(&Site::recommended(), server.addr(), false).await.unwrap();
    let stream = stage.connect().await.unwrap();
    let host = stage.addr().to_string();
    let page = format!("http://{host}");
    let headers = [("Origin", page.as_str()), ("X-Forwarded-For", headers::FORGED)];
    let mut ws = serve::client::connect_over_with(stream, &host, proxy::upstream::PATH, None, &headers)
        .await
        .expect("the Origin check passes: Host arrives as the client sent it");
    let told = ws.next().await.unwrap().unwrap();
    assert_eq!(told.to_text().unwrap(), "you are 127.0.0.1", "the proxy's entry, not the forged one");
    while ws.next().await.is_some() {}
    drop(ws);
    let recording = stage.finish(Vec::new(), &server).await.unwrap();
    assert!(recording.nginx.is_empty(), "{:?}", recording.nginx);
}

// ─── Server-Sent Events ──────────────────────────────────────────────────────────────────────

async fn sse_case(name: &str) -> Recording {
    let case = sse::cases().into_iter().find(|c| c.name == name).unwrap();
    let recording = sse::run(&case, false).await.unwrap();
    recorded(name, &recording);
    recording
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs nginx (Debian package nginx): run by .ci/run, or cargo test -p duplex-tests --test proxy -- --ignored"]
async fn with_nginx_defaults_an_event_stream_arrives_only_when_it_ends() {
    let recording = sse_case("sse_buffered").await;
    for line in &recording.client[..4] {
        assert!(line.ends_with("only when the stream ended"), "{:?}", recording.client);
    }
    assert!(lines(&recording.server).contains("HTTP/1.0"), "{:?}", recording.server);
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs nginx (Debian package nginx): run by .ci/run, or cargo test -p duplex-tests --test proxy -- --ignored"]
async fn with_proxy_buffering_off_each_event_arrives_when_it_is_sent() {
    let recording = sse_case("sse_buffering_off").await;
    for line in &recording.client[..4] {
        assert!(line.ends_with("as soon as the server sent it"), "{:?}", recording.client);
    }
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs nginx (Debian package nginx): run by .ci/run, or cargo test -p duplex-tests --test proxy -- --ignored"]
async fn x_accel_buffering_no_from_the_server_turns_buffering_off_and_is_not_passed_on() {
    let recording = sse_case("sse_accel_no").await;
    for line in &recording.client[..4] {
        assert!(line.ends_with("as soon as the server sent it"), "{:?}", recording.client);
    }
    let front = recording.side_text(Side::Front, &Render::snapshot());
    assert!(!front.contains("X-Accel-Buffering"), "nginx keeps the header to itself:\n{front}");
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs nginx (Debian package nginx): run by .ci/run, or cargo test -p duplex-tests --test proxy -- --ignored"]
async fn with_http_1_1_to_the_server_a_chunked_stream_passes_event_by_event_even_buffered() {
    let recording = sse_case("sse_http11").await;
    assert_eq!(recording.client[0], "got its response head only with event 1", "{:?}", recording.client);
    for line in &recording.client[1..4] {
        assert!(line.ends_with("as soon as the server sent it"), "{:?}", recording.client);
    }
}
