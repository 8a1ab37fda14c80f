//! An endpoint that accepts connections and never answers (a hung emulator or proxy)
//! fails the run after the read timeout, with a hint naming the timeout options, instead
//! of minutes of silence.

use std::net::TcpListener;

use crate::support::{expect_code, plan_against, stderr};

/// Accepts every connection and keeps it open, silent; returns its URL.
fn silent_endpoint() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind loopback");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for stream in listener.incoming().flatten() {
            held.push(stream);
        }
    });
    url
}

#[test]
fn a_silent_endpoint_fails_after_the_read_timeout_with_a_hint() {
    let dir = tempfile::tempdir().expect("tempdir");
    let output = plan_against(
        dir.path(),
        "version: 1\nstack: hung\nregion: us-east-1\nkms: { keys: { data: {} } }\n",
        &silent_endpoint(),
        &["--read-timeout", "1s", "--max-attempts", "2"],
    );
    expect_code(&output, 1);
    let err = stderr(&output);
    assert!(err.contains("HTTP read timeout occurred after 1s"), "{err}");
    assert!(err.contains("did not answer in time"), "{err}");
    assert!(err.contains("--read-timeout"), "{err}");
}
