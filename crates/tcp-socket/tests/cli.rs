//! `tcp-echo-server` as a user runs it: its `--help` offers the limits that mean something on a
//! bare TCP connection, and only those.

#![allow(clippy::unwrap_used, reason = "in a test, a panic is a failure with a line number")]

use std::process::Command;

fn server() -> Command {
    Command::new(env!("CARGO_BIN_EXE_tcp-echo-server"))
}

#[test]
fn the_tcp_echo_offers_only_the_limits_that_apply_to_tcp_and_its_line_limit() {
    let out = server().arg("--help").output().unwrap();
    assert!(out.status.success());
    let help = String::from_utf8(out.stdout).unwrap();
    for flag in [
        "--max-line",
        "--max-message",
        "--idle-timeout",
        "--send-timeout",
        "--max-connections",
        "--read-buffer",
    ] {
        assert!(help.contains(flag), "--help should offer {flag}:\n{help}");
    }
    assert!(help.contains("[default: 8192]"), "--max-line's default is MAX_LINE, 8 KiB:\n{help}");
    // No request head, no body, no close handshake on raw TCP: the flags for them would do nothing.
    for flag in ["--max-head", "--max-body", "--handshake-timeout", "--close-timeout"] {
        assert!(!help.contains(&format!("{flag} ")), "--help should not offer {flag}:\n{help}");
        let refused = server().args([flag, "1"]).output().unwrap();
        assert!(!refused.status.success(), "{flag} must be refused, not silently ignored");
    }
}
