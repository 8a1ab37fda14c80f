//! The API conformance gate checks itself: a request breaking AWS's model, sent by the
//! official SDK, is caught and named (operation, member, constraint, never the value);
//! and the limits `validate` applies to blueprint values agree with the same models.
//! The records of the whole suite are checked by `scripts/test.sh` after it runs.

use std::process::Command;

use aws_sdk_kms::types::KeyUsageType;

use super::endpoint;
use crate::fault_proxy::FaultProxy;

/// The venv Python that carries the pinned models (`scripts/test.sh` sets it).
fn python() -> String {
    std::env::var("SECINFRA_CONFORMANCE_PYTHON").unwrap_or_else(|_| {
        panic!(
            "SECINFRA_CONFORMANCE_PYTHON is not set: run the emulator tests through \
             scripts/test.sh, or point it at the emulator venv's python"
        )
    })
}

fn checker(args: &[&str]) -> std::process::Output {
    Command::new(python())
        .arg(crate::support::root().join("scripts/conformance.py"))
        .args(args)
        .output()
        .expect("run scripts/conformance.py")
}

#[tokio::test(flavor = "multi_thread")]
async fn a_planted_bad_value_is_caught_by_the_gate() {
    let records = tempfile::tempdir().expect("tempdir");
    let proxy = FaultProxy::recording_to(&endpoint(), records.path());
    let config = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .endpoint_url(&proxy.url)
        .region(aws_config::Region::new("us-east-1"))
        .credentials_provider(aws_sdk_kms::config::Credentials::new(
            "testing", "testing", None, None, "test",
        ))
        .load()
        .await;
    let kms = aws_sdk_kms::Client::new(&config);
    // A key usage AWS does not have, and a description one character over the model's
    // maximum, whose text must not be printed.
    let secret_text = "planted-value-".repeat(600);
    let description = &secret_text[..8193];
    let _ = kms
        .create_key()
        .key_usage(KeyUsageType::from("ENCRYPT_EVERYTHING"))
        .description(description)
        .send()
        .await;
    // And a request that conforms.
    let _ = kms.list_aliases().send().await;

    let output = checker(&["check", &records.path().display().to_string()]);
    let err = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{err}");
    assert!(
        err.contains("kms:CreateKey: KeyUsage: not one of the"),
        "the enum violation is named: {err}"
    );
    assert!(
        err.contains("kms:CreateKey: Description: 8193 characters, above the maximum 8192"),
        "the length violation is named: {err}"
    );
    assert!(err.contains("2 violations"), "{err}");
    assert!(!err.contains("planted-value"), "no value is printed: {err}");
    assert!(
        !err.contains("ENCRYPT_EVERYTHING"),
        "no value is printed: {err}"
    );
}

#[test]
fn blueprint_limits_agree_with_the_api_models() {
    let file = tempfile::NamedTempFile::new().expect("temp file");
    std::fs::write(file.path(), secinfra::limits::to_json().to_string()).expect("write limits");
    let output = checker(&["limits", &file.path().display().to_string()]);
    let err = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "{err}");
    assert!(err.contains(" 0 differ"), "{err}");
}
