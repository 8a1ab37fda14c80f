//! Secret hygiene across the whole integration suite: when a test's stack goes out of
//! scope, every output secinfra produced for it (captured by `TestStack::run` and
//! `TestStack::keep`) and every file in its scratch directory (blueprints, saved plans)
//! is searched for the values of the stack's secrets, read back from Secrets Manager.
//! A value found anywhere fails the test that leaked it.

use std::path::Path;

use aws_config::SdkConfig;

/// Values shorter than this are too likely to occur by chance (`api`, `true`).
const MIN_SECRET_LEN: usize = 8;

/// Every secret value of the stack: whole secret strings, and the string fields of
/// JSON ones (a password inside `{"username":..,"password":..}`). Every page of
/// ListSecrets is read, secrets scheduled for deletion included (restored for the read,
/// then scheduled again); a listing that fails fails the test, so no leak goes unseen.
async fn secret_values(config: &SdkConfig, stack: &str) -> Vec<String> {
    let client = aws_sdk_secretsmanager::Client::new(config);
    let pages: Vec<_> = client
        .list_secrets()
        .include_planned_deletion(true)
        .into_paginator()
        .send()
        .collect::<Result<Vec<_>, _>>()
        .await
        .unwrap_or_else(|e| panic!("the secret-hygiene scan cannot list secrets: {e}"));
    let listed: Vec<_> = pages
        .iter()
        .flat_map(|p| p.secret_list())
        .cloned()
        .collect();
    let prefix = format!("{stack}/");
    let mut values = Vec::new();
    for secret in &listed {
        let ours = secret.name().is_some_and(|n| n.starts_with(&prefix))
            || secret
                .tags()
                .iter()
                .any(|t| t.key() == Some("secinfra:stack") && t.value() == Some(stack));
        let Some(arn) = secret.arn().filter(|_| ours) else {
            continue;
        };
        let deleted = secret.deleted_date().is_some();
        if deleted && client.restore_secret().secret_id(arn).send().await.is_err() {
            continue;
        }
        let value = client.get_secret_value().secret_id(arn).send().await;
        if deleted {
            let _ = client
                .delete_secret()
                .secret_id(arn)
                .recovery_window_in_days(7)
                .send()
                .await;
        }
        let Ok(value) = value else {
            continue; // no value yet
        };
        if let Some(text) = value.secret_string() {
            values.push(text.to_string());
            if let Ok(serde_json::Value::Object(fields)) = serde_json::from_str(text) {
                values.extend(
                    fields
                        .values()
                        .filter_map(|v| v.as_str().map(str::to_string)),
                );
            }
        }
        if let Some(blob) = value.secret_binary() {
            values.push(String::from_utf8_lossy(blob.as_ref()).into_owned());
        }
    }
    values.retain(|v| v.len() >= MIN_SECRET_LEN);
    values
}

fn files_under(dir: &Path, out: &mut Vec<(String, Vec<u8>)>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            files_under(&path, out);
        } else if let Ok(bytes) = std::fs::read(&path) {
            out.push((path.display().to_string(), bytes));
        }
    }
}

/// Fails when a secret value of `stack` appears in `outputs` or in a file under `dir`.
pub fn check(config: &SdkConfig, stack: &str, dir: &Path, outputs: Vec<(String, Vec<u8>)>) {
    let (config, name) = (config.clone(), stack.to_string());
    let values = std::thread::spawn(move || {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime")
            .block_on(secret_values(&config, &name))
    })
    .join()
    .expect("reading the stack's secrets");
    if values.is_empty() {
        return;
    }
    let mut places = outputs;
    files_under(dir, &mut places);
    for (place, bytes) in &places {
        let text = String::from_utf8_lossy(bytes);
        for value in &values {
            assert!(
                !text.contains(value.as_str()),
                "a secret value of stack {stack} leaked into {place}"
            );
        }
    }
}

/// The harness itself: a stack whose secret value sits in a file of its directory fails.
#[tokio::test(flavor = "multi_thread")]
#[should_panic(expected = "leaked into")]
async fn a_leaked_secret_value_fails_the_test() {
    let stack = super::TestStack::new("leak").await;
    let value = "s3cr3t-value-that-must-not-show";
    aws_sdk_secretsmanager::Client::new(&stack.config)
        .create_secret()
        .name(format!("{}/canary", stack.name))
        .secret_string(value)
        .send()
        .await
        .expect("canary secret");
    stack.write("notes.txt", &format!("oops: {value}\n"));
}
