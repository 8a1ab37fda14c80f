//! An endpoint that lacks services (an emulator edition) gets one clear error naming the
//! services and the blueprint sections that need them, never one error per resource; a
//! service the blueprint does not use is skipped with a note.
//!
//! The endpoint is a small HTTP server on loopback: STS answers GetCallerIdentity, and
//! every other call gets the error LocalStack's community edition gives for services it
//! does not include, in the protocol's own format.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;

use crate::support::{expect_code, plan_against, stderr};

const UNAVAILABLE: &str = "API for service is not yet implemented or pro feature - not included in your current license plan";

/// Starts the fake endpoint; returns its URL. The thread ends with the test process.
fn fake_endpoint() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind loopback");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            std::thread::spawn(move || {
                let mut reader = BufReader::new(&stream);
                let mut length = 0usize;
                let mut content_type = String::new();
                loop {
                    let mut line = String::new();
                    if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                        break;
                    }
                    let lower = line.to_ascii_lowercase();
                    if let Some(v) = lower.strip_prefix("content-length:") {
                        length = v.trim().parse().unwrap_or(0);
                    }
                    if let Some(v) = lower.strip_prefix("content-type:") {
                        content_type = v.trim().to_string();
                    }
                }
                let mut body = vec![0u8; length];
                let _ = reader.read_exact(&mut body);
                let body = String::from_utf8_lossy(&body);
                let (status, kind, payload) = if body.contains("Action=GetCallerIdentity") {
                    (
                        "200 OK",
                        "text/xml",
                        "<GetCallerIdentityResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><GetCallerIdentityResult><Arn>arn:aws:iam::123456789012:user/test</Arn><UserId>AIDATEST</UserId><Account>123456789012</Account></GetCallerIdentityResult><ResponseMetadata><RequestId>1</RequestId></ResponseMetadata></GetCallerIdentityResponse>".to_string(),
                    )
                } else if content_type.contains("json") {
                    (
                        "501 Not Implemented",
                        "application/x-amz-json-1.1",
                        format!("{{\"__type\":\"InternalFailure\",\"message\":\"{UNAVAILABLE}\"}}"),
                    )
                } else if body.contains("Version=2016-11-15") {
                    (
                        "501 Not Implemented",
                        "text/xml",
                        format!(
                            "<Response><Errors><Error><Code>InternalFailure</Code><Message>{UNAVAILABLE}</Message></Error></Errors><RequestID>1</RequestID></Response>"
                        ),
                    )
                } else {
                    (
                        "501 Not Implemented",
                        "text/xml",
                        format!(
                            "<ErrorResponse><Error><Type>Sender</Type><Code>InternalFailure</Code><Message>{UNAVAILABLE}</Message></Error><RequestId>1</RequestId></ErrorResponse>"
                        ),
                    )
                };
                let mut stream = &stream;
                let _ = write!(
                    stream,
                    "HTTP/1.1 {status}\r\nContent-Type: {kind}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{payload}",
                    payload.len()
                );
            });
        }
    });
    url
}

#[test]
fn missing_services_are_named_once_with_the_sections_that_need_them() {
    let dir = tempfile::tempdir().expect("tempdir");
    let output = plan_against(
        dir.path(),
        "version: 1\nstack: edition\nregion: us-east-1\nsecrets:\n  api: { rotation: manual }\n",
        &fake_endpoint(),
        &[],
    );
    expect_code(&output, 1);
    let err = stderr(&output);
    assert_eq!(
        err.matches("error:").count(),
        1,
        "one error, not one per call or resource:\n{err}"
    );
    assert!(
        err.contains("this endpoint does not provide secretsmanager"),
        "{err}"
    );
    assert!(
        err.contains("the blueprint's `secrets` section needs it"),
        "{err}"
    );
    assert!(
        err.contains("not included in your current license plan"),
        "{err}"
    );
    // Services the blueprint does not use are skipped, each with one line.
    for skipped in ["ec2", "logs", "iam", "kms"] {
        let line = format!("{skipped} skipped: this endpoint does not provide it");
        assert_eq!(err.matches(&line).count(), 1, "{skipped}:\n{err}");
    }
}
