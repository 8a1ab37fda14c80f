//! KMS keys and Secrets Manager secrets end to end, checked with the SDK, on every
//! emulator. Rotation through Lambda functions is in `rotation.rs` (moto only).

use std::path::Path;
use std::process::Output;

use super::TestStack;
use crate::support::{expect_code, stderr, stdout};

/// Whether some line reads `expected`, whatever the column padding.
fn has_line(out: &str, expected: &str) -> bool {
    let words = |s: &str| s.split_whitespace().collect::<Vec<_>>().join(" ");
    let expected = words(expected);
    out.lines().any(|l| words(l) == expected)
}

pub(super) fn apply_ok(stack: &TestStack, args: &[&str]) -> Output {
    let output = stack.run(&[&["apply", "blueprint.yaml", "--auto-approve"], args].concat());
    expect_code(&output, 0);
    assert!(stdout(&output).contains("Verified"), "{}", stdout(&output));
    output
}

/// A blueprint with one key and two secrets (no network).
fn small(stack: &TestStack, key: &str) -> String {
    format!(
        "version: 1\nstack: {name}\nregion: us-east-1\nkms:\n  keys:\n    data: {{ {key} }}\nsecrets:\n  token: {{ kms_key: kms_key.data, generate: {{ random: {{ bytes: 32 }} }}, recovery_window_days: 7 }}\n  notes: {{ kms_key: kms_key.data, rotation: manual }}\n",
        name = stack.name
    )
}

pub(super) async fn key_id(stack: &TestStack, name: &str) -> String {
    let alias = format!("alias/{}/{name}", stack.name);
    stack
        .kms()
        .describe_key()
        .key_id(&alias)
        .send()
        .await
        .unwrap_or_else(|e| panic!("describe {alias}: {e}"))
        .key_metadata()
        .map(|m| m.key_id().to_string())
        .expect("metadata")
}

pub(super) async fn secret_value(stack: &TestStack, name: &str) -> Option<String> {
    stack
        .secrets()
        .get_secret_value()
        .secret_id(format!("{}/{name}", stack.name))
        .send()
        .await
        .ok()
        .and_then(|v| v.secret_string().map(str::to_string))
}

#[tokio::test(flavor = "multi_thread")]
async fn a_key_pending_deletion_and_a_deleted_secret_are_brought_back() {
    let stack = TestStack::new("restore").await;
    stack.write("blueprint.yaml", &small(&stack, "rotation_days: 180"));
    apply_ok(&stack, &[]);
    let id = key_id(&stack, "data").await;
    stack
        .kms()
        .schedule_key_deletion()
        .key_id(&id)
        .pending_window_in_days(7)
        .send()
        .await
        .expect("schedule");
    let token = format!("{}/token", stack.name);
    stack
        .secrets()
        .delete_secret()
        .secret_id(&token)
        .recovery_window_in_days(7)
        .send()
        .await
        .expect("delete");

    let output = stack.run(&["plan", "blueprint.yaml"]);
    expect_code(&output, 0);
    let out = stdout(&output);
    assert!(has_line(&out, "state: PendingDeletion → Enabled"), "{out}");
    assert!(
        has_line(&out, "state: scheduled for deletion → active"),
        "{out}"
    );
    apply_ok(&stack, &[]);
    let metadata = stack
        .kms()
        .describe_key()
        .key_id(&id)
        .send()
        .await
        .expect("describe");
    assert_eq!(
        metadata
            .key_metadata()
            .and_then(|m| m.key_state())
            .map(|s| s.as_str()),
        Some("Enabled")
    );
    assert!(
        stack
            .kms()
            .get_key_rotation_status()
            .key_id(&id)
            .send()
            .await
            .expect("rotation")
            .key_rotation_enabled()
    );
    let secret = stack
        .secrets()
        .describe_secret()
        .secret_id(&token)
        .send()
        .await
        .expect("describe");
    assert!(secret.deleted_date().is_none(), "restored");
}

#[tokio::test(flavor = "multi_thread")]
async fn protected_keys_are_held_until_released() {
    let stack = TestStack::new("protect").await;
    let blueprint = format!(
        "version: 1\nstack: {}\nregion: us-east-1\nkms:\n  keys:\n    data: {{ rotation_days: 365 }}\n    old: {{ description: retired }}\n",
        stack.name
    );
    stack.write("blueprint.yaml", &blueprint);
    apply_ok(&stack, &[]);
    let old = key_id(&stack, "old").await;

    let without_old = blueprint.replace("    old: { description: retired }\n", "");
    stack.write("blueprint.yaml", &without_old);
    let output = stack.run(&["plan", "blueprint.yaml", "--detailed-exitcode"]);
    expect_code(&output, 2);
    let out = stdout(&output);
    assert!(
        out.contains("! kms_key.old — deletion held: kms_key.old is protected"),
        "{out}"
    );
    assert!(
        out.contains("Plan: 0 to add, 0 to change, 0 to replace, 0 to destroy, 1 held."),
        "{out}"
    );
    let held = stack.run(&["apply", "blueprint.yaml", "--auto-approve"]);
    expect_code(&held, 1);
    let state = stack
        .kms()
        .describe_key()
        .key_id(&old)
        .send()
        .await
        .expect("describe");
    assert_eq!(
        state
            .key_metadata()
            .and_then(|m| m.key_state())
            .map(|s| s.as_str()),
        Some("Enabled"),
        "held, not deleted"
    );

    // Released in the blueprint first (the flag lives on the key as a tag), then removed.
    stack.write(
        "blueprint.yaml",
        &blueprint.replace(
            "description: retired",
            "description: retired, protect: false",
        ),
    );
    apply_ok(&stack, &[]);
    stack.write("blueprint.yaml", &without_old);
    let output = stack.run(&["apply", "blueprint.yaml", "--auto-approve"]);
    expect_code(&output, 0);
    assert!(
        stdout(&output).contains("- kms_key.old"),
        "{}",
        stdout(&output)
    );
    let state = stack
        .kms()
        .describe_key()
        .key_id(&old)
        .send()
        .await
        .expect("describe");
    let metadata = state.key_metadata().expect("metadata");
    assert_eq!(
        metadata.key_state().map(|s| s.as_str()),
        Some("PendingDeletion")
    );
    assert!(
        stack
            .kms()
            .describe_key()
            .key_id(format!("alias/{}/old", stack.name))
            .send()
            .await
            .is_err(),
        "its alias is gone"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn destroy_schedules_key_deletion_and_keeps_secrets_recoverable() {
    let stack = TestStack::new("kmsdestroy").await;
    stack.write("blueprint.yaml", &small(&stack, "deletion_window_days: 7"));
    apply_ok(&stack, &[]);
    let id = key_id(&stack, "data").await;

    // Everything else goes; the protected key stays, and the run says so and fails
    // (not a "Destroy complete" and not an account that "does not match yet").
    let held = stack.run(&["destroy", "blueprint.yaml", "--auto-approve"]);
    expect_code(&held, 1);
    let out = stdout(&held);
    assert!(out.contains("Destroy incomplete (1 held)"), "{out}");
    assert!(!out.contains("Destroy complete"), "{out}");
    assert!(
        out.contains("1 change is held, so the account is not yet as asked:"),
        "{out}"
    );
    assert!(
        out.contains("kms_key.data — deletion held: kms_key.data is protected"),
        "{out}"
    );
    assert!(
        !stderr(&held).contains("does not match"),
        "{}",
        stderr(&held)
    );

    let output = stack.run(&[
        "destroy",
        "blueprint.yaml",
        "--auto-approve",
        "--allow-delete",
        "kms_key.data",
    ]);
    expect_code(&output, 0);
    let metadata = stack
        .kms()
        .describe_key()
        .key_id(&id)
        .send()
        .await
        .expect("describe");
    let metadata = metadata.key_metadata().expect("metadata");
    assert_eq!(
        metadata.key_state().map(|s| s.as_str()),
        Some("PendingDeletion")
    );
    // The emulator does not report PendingDeletionWindowInDays; the deletion date tells.
    let deletion = metadata.deletion_date().expect("deletion date").secs();
    let days = (deletion - aws_smithy_types::DateTime::from(std::time::SystemTime::now()).secs())
        as f64
        / 86400.0;
    assert!(
        (6.9..=7.1).contains(&days),
        "deleted after {days} days, not 7"
    );
    let token = stack
        .secrets()
        .describe_secret()
        .secret_id(format!("{}/token", stack.name))
        .send()
        .await
        .expect("still recoverable");
    assert!(token.deleted_date().is_some());
    expect_code(&stack.run(&["plan", "blueprint.yaml"]), 0);

    // Forced: no recovery window.
    let forced = TestStack::new("kmsforce").await;
    forced.write("blueprint.yaml", &small(&forced, "protect: false"));
    apply_ok(&forced, &[]);
    let output = forced.run(&[
        "destroy",
        "blueprint.yaml",
        "--auto-approve",
        "--no-recovery-window",
    ]);
    expect_code(&output, 0);
    let gone = forced
        .secrets()
        .describe_secret()
        .secret_id(format!("{}/token", forced.name))
        .send()
        .await;
    assert!(gone.is_err(), "deleted without recovery");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_resource_policy_is_compared_by_meaning_and_kept() {
    let stack = TestStack::new("policy").await;
    let blueprint = format!(
        "version: 1\nstack: {}\nregion: us-east-1\nsecrets:\n  api:\n    policy:\n      Version: \"2012-10-17\"\n      Statement:\n        - Effect: Deny\n          Principal: {{ AWS: \"*\" }}\n          Action: secretsmanager:DeleteSecret\n          Resource: \"*\"\n",
        stack.name
    );
    stack.write("blueprint.yaml", &blueprint);
    apply_ok(&stack, &[]);
    let name = format!("{}/api", stack.name);
    let policy = stack
        .secrets()
        .get_resource_policy()
        .secret_id(&name)
        .send()
        .await
        .expect("policy");
    let policy: serde_json::Value =
        serde_json::from_str(policy.resource_policy().expect("document")).expect("json");
    assert!(
        policy.to_string().contains("secretsmanager:DeleteSecret"),
        "{policy}"
    );
    expect_code(
        &stack.run(&["plan", "blueprint.yaml", "--detailed-exitcode"]),
        0,
    );
    // The same policy written differently is no change; another one is.
    stack.write(
        "blueprint.yaml",
        &blueprint.replace(
            "Action: secretsmanager:DeleteSecret",
            "Action: [secretsmanager:DeleteSecret]",
        ),
    );
    expect_code(
        &stack.run(&["plan", "blueprint.yaml", "--detailed-exitcode"]),
        0,
    );
    stack.write(
        "blueprint.yaml",
        &blueprint.replace(
            "Action: secretsmanager:DeleteSecret",
            "Action: secretsmanager:PutSecretValue",
        ),
    );
    let output = stack.run(&["plan", "blueprint.yaml", "--detailed-exitcode"]);
    expect_code(&output, 2);
    assert!(
        stdout(&output).contains("~ secret.api"),
        "{}",
        stdout(&output)
    );
    apply_ok(&stack, &[]);
}

#[tokio::test(flavor = "multi_thread")]
async fn an_alias_on_a_foreign_key_is_refused_then_adopted() {
    let stack = TestStack::new("kmsadopt").await;
    let foreign = stack
        .kms()
        .create_key()
        .description("made by hand")
        .send()
        .await
        .expect("key");
    let foreign_id = foreign
        .key_metadata()
        .map(|m| m.key_id().to_string())
        .expect("id");
    stack
        .kms()
        .create_alias()
        .alias_name(format!("alias/{}/data", stack.name))
        .target_key_id(&foreign_id)
        .send()
        .await
        .expect("alias");
    stack.write("blueprint.yaml", &format!("version: 1\nstack: {}\nregion: us-east-1\nkms:\n  keys:\n    data: {{ rotation_days: 365 }}\n", stack.name));
    let refused = stack.run(&["plan", "blueprint.yaml"]);
    expect_code(&refused, 1);
    let err = stderr(&refused);
    assert!(
        err.contains("kms_key.data") && err.contains(&foreign_id) && err.contains("--adopt"),
        "{err}"
    );
    let adopted = stack.run(&["apply", "blueprint.yaml", "--auto-approve", "--adopt"]);
    expect_code(&adopted, 0);
    let tags = stack
        .kms()
        .list_resource_tags()
        .key_id(&foreign_id)
        .send()
        .await
        .expect("tags");
    assert!(
        tags.tags()
            .iter()
            .any(|t| t.tag_key() == "secinfra:stack" && t.tag_value() == stack.name)
    );
}

/// Every byte secinfra writes — stdout, stderr (with -v and the SDK's -vv logs), plan files —
/// is searched for every generated secret value.
#[tokio::test(flavor = "multi_thread")]
async fn secret_values_never_leak() {
    // Rotation is switched off (it needs Lambda functions); every value is still generated.
    let stack = TestStack::new("leak").await;
    stack.write("blueprint.yaml", &stack.seed_without_rotation());
    let mut outputs: Vec<Output> = Vec::new();
    let mut run = |args: &[&str]| {
        let output = stack.run(args);
        outputs.push(output);
    };
    run(&["plan", "blueprint.yaml"]);
    run(&["apply", "blueprint.yaml", "--auto-approve", "-vv"]);
    run(&["plan", "blueprint.yaml", "--json"]);
    run(&["plan", "blueprint.yaml", "--out", "plan.json", "-v"]);
    run(&["apply", "blueprint.yaml", "--auto-approve", "-v"]);
    run(&["drift", "blueprint.yaml", "--json"]);
    let s = stack.name.clone();
    let mut values: Vec<String> = Vec::new();
    for name in [
        "db-master-credentials",
        "jwt-signing-key",
        "s3-bucket-keys",
        "redis-auth-token",
    ] {
        let value = secret_value(&stack, name)
            .await
            .unwrap_or_else(|| panic!("{name} has a value"));
        values.push(value.clone());
        if let Ok(json) = serde_json::from_str::<serde_json::Value>(&value) {
            for field in ["password", "private_key"] {
                if let Some(part) = json[field].as_str() {
                    values.push(part.to_string());
                    // Any line of a PEM body gives a key away.
                    values.extend(
                        part.lines()
                            .filter(|l| !l.starts_with("-----"))
                            .map(str::to_string),
                    );
                }
            }
        }
    }
    assert!(values.len() > 5, "found the generated values of {s}");
    run(&[
        "destroy",
        "blueprint.yaml",
        "--auto-approve",
        "--allow-delete-protected",
        "--no-recovery-window",
        "-vv",
    ]);

    let mut haystacks: Vec<(String, String)> = outputs
        .iter()
        .enumerate()
        .flat_map(|(i, o)| {
            [
                (format!("run {i} stdout"), stdout(o)),
                (format!("run {i} stderr"), stderr(o)),
            ]
        })
        .collect();
    for entry in std::fs::read_dir(stack.dir.path()).expect("dir") {
        let path = entry.expect("entry").path();
        haystacks.push((
            path.display().to_string(),
            std::fs::read_to_string(&path).unwrap_or_default(),
        ));
    }
    assert!(
        haystacks
            .iter()
            .any(|(_, text)| text.contains("secret.jwt-signing-key")),
        "the runs did their work"
    );
    for value in values.iter().filter(|v| v.len() >= 12) {
        for (name, text) in &haystacks {
            assert!(
                !text.contains(value.as_str()),
                "a secret value appears in {name}"
            );
        }
    }
    assert!(Path::new(&stack.dir.path().join("plan.json")).exists());
}

/// A rotation function that does not exist is named by `plan` (a warning, with the line
/// that names it and what to do) and refused by `apply` before anything changes, rather
/// than failing half way with the raw RotateSecret error.
#[tokio::test(flavor = "multi_thread")]
async fn a_missing_rotation_function_is_named_before_anything_changes() {
    let stack = TestStack::new("nolambda").await;
    let s = stack.name.clone();
    stack.write(
        "blueprint.yaml",
        &format!(
            "version: 1\nstack: {s}\nregion: us-east-1\nsecrets:\n  token: {{ generate: {{ random: {{ bytes: 32 }} }}, recovery_window_days: 7 }}\n  db: {{ rotation: {{ every_days: 30, lambda: {s}-no-such-function }} }}\n"
        ),
    );
    let planned = stack.run(&["plan", "blueprint.yaml"]);
    expect_code(&planned, 0);
    let err = stderr(&planned);
    assert!(
        err.contains(
            "secret.db (blueprint.yaml:6:3): rotation Lambda function `arn:aws:lambda:us-east-1:"
        ),
        "{err}"
    );
    assert!(
        err.contains(&format!(":function:{s}-no-such-function` does not exist")),
        "{err}"
    );
    assert!(err.contains("deploy the function first"), "{err}");

    let applied = stack.run(&["apply", "blueprint.yaml", "--auto-approve"]);
    expect_code(&applied, 1);
    let err = stderr(&applied);
    assert!(err.contains("nothing was changed: secret.db"), "{err}");
    let listed = stack
        .secrets()
        .list_secrets()
        .send()
        .await
        .expect("list secrets");
    let ours: Vec<&str> = listed
        .secret_list()
        .iter()
        .filter_map(|secret| secret.name())
        .filter(|name| name.starts_with(&format!("{s}/")))
        .collect();
    assert!(ours.is_empty(), "apply made {ours:?} before failing");
}
