//! Helpers shared by the tests: running the binary, per-test stacks, SDK clients for
//! independent verification.

use std::path::{Path, PathBuf};
use std::process::Output;

use assert_cmd::Command;

pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The secinfra binary with a clean, deterministic environment (no colour, no ambient
/// AWS configuration).
pub fn secinfra() -> Command {
    Command::from_std(secinfra_process())
}

/// `secinfra plan BLUEPRINT` (a one-stack blueprint written to `dir`) against a stand-in
/// endpoint, with test credentials.
pub fn plan_against(dir: &Path, blueprint: &str, endpoint: &str, args: &[&str]) -> Output {
    let path = write(dir, "blueprint.yaml", blueprint);
    secinfra()
        .args(["--endpoint-url", endpoint, "plan"])
        .arg(&path)
        .args(args)
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .output()
        .expect("run secinfra")
}

/// The same, as a plain process command (for tests that signal or kill it).
pub fn secinfra_process() -> std::process::Command {
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_secinfra"));
    cmd.env("NO_COLOR", "1")
        .env_remove("AWS_PROFILE")
        .env_remove("AWS_REGION")
        .env_remove("AWS_DEFAULT_REGION")
        .env_remove("AWS_ENDPOINT_URL")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_CONFIG_FILE", "/dev/null")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/dev/null");
    cmd
}

pub fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

pub fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// Fails the test with the command's output when `output` did not exit with `code`.
#[track_caller]
pub fn expect_code(output: &Output, code: i32) {
    assert_eq!(
        output.status.code(),
        Some(code),
        "expected exit {code}\n--- stdout\n{}\n--- stderr\n{}",
        stdout(output),
        stderr(output)
    );
    assert!(
        !stderr(output).contains("panicked"),
        "the binary panicked:\n{}",
        stderr(output)
    );
}

pub fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).expect("write test file");
    path
}

/// Fails unless `plan` is valid against the documented plan format
/// (`docs/plan.schema.json`).
pub fn check_plan_document(plan: &serde_json::Value) {
    static SCHEMA: std::sync::OnceLock<jsonschema::Validator> = std::sync::OnceLock::new();
    let validator = SCHEMA.get_or_init(|| {
        let text = std::fs::read_to_string(root().join("docs/plan.schema.json"))
            .expect("docs/plan.schema.json");
        let schema = serde_json::from_str(&text).expect("the plan schema is JSON");
        jsonschema::validator_for(&schema).expect("the plan schema compiles")
    });
    let errors: Vec<String> = validator
        .iter_errors(plan)
        .map(|e| format!("{}: {e}", e.instance_path()))
        .collect();
    assert!(
        errors.is_empty(),
        "the plan breaks docs/plan.schema.json: {errors:#?}"
    );
}
