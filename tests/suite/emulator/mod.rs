//! The binary against a local AWS emulator. Every test has its own stack name, so tests
//! run concurrently against one emulator; results are checked with the official SDK's
//! describe calls, never with secinfra's own discovery.

mod alerts;
mod conformance;
mod hygiene;
mod interruption;
mod locking;
mod moto_only;
mod network;
mod secrets;

use std::path::PathBuf;
use std::process::Output;

use assert_cmd::Command;
use aws_config::BehaviorVersion;
use tempfile::TempDir;

use crate::fault_proxy::FaultProxy;
use crate::realism::Realism;
use crate::support::{root, secinfra_process};

const REGION: &str = "us-east-1";

pub fn endpoint() -> String {
    std::env::var("SECINFRA_TEST_ENDPOINT").unwrap_or_else(|_| {
        panic!(
            "SECINFRA_TEST_ENDPOINT is not set: run the emulator tests through scripts/test.sh, \
             or start one with `scripts/emulator.sh start` and export its URL"
        )
    })
}

/// `text` without the two-space-indented `key:` and the lines nested under it.
fn without_subsection(text: &str, key: &str) -> String {
    let start = text
        .find(&format!("\n  {key}:"))
        .unwrap_or_else(|| panic!("the seed declares `{key}`"));
    // Up to the next line indented as little as `key:` or less, or the end.
    let rest = &text[start + 1..];
    let shallow = |line: &str| {
        let indent = line.len() - line.trim_start().len();
        !line.trim().is_empty() && indent <= 2
    };
    let end = rest
        .match_indices('\n')
        .map(|(i, _)| i)
        .find(|&i| shallow(rest[i + 1..].lines().next().unwrap_or("")))
        .map_or(text.len(), |i| start + 1 + i);
    format!("{}{}", &text[..start], &text[end..])
}

/// `text` with Security Hub subscribing no standards: moto 5.2.5 has neither
/// BatchEnableStandards nor GetEnabledStandards (the hub itself is enabled; on AWS the
/// standards are subscribed and compared).
pub fn without_standards(text: &str) -> String {
    text.lines()
        .map(|line| match line.find("standards: [") {
            Some(at) => format!("{}standards: []", &line[..at]),
            None => line.to_string(),
        })
        .collect::<Vec<_>>()
        .join("\n")
        + "\n"
}

/// One test's stack: a unique name, a scratch directory for blueprints and plan files,
/// SDK clients pointed at the emulator (for independent checks), and the proxy secinfra
/// reaches the emulator through: it behaves like real AWS where the emulator is lenient
/// (`realism`, on by default with windows of a second or two; `SECINFRA_TEST_REALISM=off`
/// turns it off for a run) and records every request for the conformance gate.
pub struct TestStack {
    pub name: String,
    pub dir: TempDir,
    pub config: aws_config::SdkConfig,
    pub proxy: FaultProxy,
    /// Where `config`'s clients send the test's own calls.
    _own_calls: FaultProxy,
    /// Everything secinfra printed for this stack, searched for its secrets on drop.
    captured: std::sync::Mutex<Vec<(String, Vec<u8>)>>,
}

impl Drop for TestStack {
    fn drop(&mut self) {
        // A failing test already says what went wrong.
        if std::thread::panicking() {
            return;
        }
        let captured = std::mem::take(&mut *self.captured.lock().expect("captured outputs"));
        hygiene::check(&self.config, &self.name, self.dir.path(), captured);
    }
}

impl TestStack {
    pub async fn new(purpose: &str) -> TestStack {
        let suffix = &uuid::Uuid::new_v4().simple().to_string()[..6];
        let name = format!("it-{purpose}-{suffix}");
        assert!(name.len() <= 32, "stack name {name} too long");
        // The test's own calls go straight to the emulator (no real-AWS behaviour), but
        // are recorded for the conformance gate like secinfra's.
        let own_calls = FaultProxy::recording(&endpoint());
        let config = aws_config::defaults(BehaviorVersion::latest())
            .endpoint_url(&own_calls.url)
            .region(aws_config::Region::new(REGION))
            .credentials_provider(aws_sdk_ec2::config::Credentials::new(
                "testing", "testing", None, None, "test",
            ))
            .load()
            .await;
        let seed = name.bytes().fold(0x5EC1_u64, |h, b| {
            h.wrapping_mul(31).wrapping_add(u64::from(b))
        });
        let realism = match std::env::var("SECINFRA_TEST_REALISM").as_deref() {
            Ok("off") => Realism::none(),
            _ => Realism::light(seed),
        };
        TestStack {
            proxy: FaultProxy::realistic(&endpoint(), realism),
            _own_calls: own_calls,
            name,
            dir: tempfile::tempdir().expect("tempdir"),
            config,
            captured: Default::default(),
        }
    }

    /// Replaces the proxy secinfra goes through (a test that needs other windows).
    pub fn with_realism(mut self, realism: Realism) -> TestStack {
        self.proxy = FaultProxy::realistic(&endpoint(), realism);
        self
    }

    /// The whole seed blueprint with this test's stack name (which also makes its log
    /// group, role, key alias, secret, bucket, trail and rotation function names unique).
    pub fn full_seed(&self) -> String {
        std::fs::read_to_string(root().join("blueprints/api-platform.yaml"))
            .expect("seed blueprint")
            .replace("api-platform", &self.name)
    }

    /// The seed without its GuardDuty detector and Security Hub: AWS allows one of each
    /// per region, and tests share the emulator's region, so they are tested in regions
    /// of their own (`moto_only/monitoring.rs`).
    pub fn seed(&self) -> String {
        let seed = without_subsection(&self.full_seed(), "guardduty");
        without_subsection(&seed, "security_hub")
    }

    /// The seed's network, keys and secrets (the services every emulator here offers),
    /// with every secret's rotation set to `manual` (no Lambda functions needed).
    pub fn seed_without_rotation(&self) -> String {
        let seed = self.seed();
        let end = seed
            .find("\n# Web application firewall")
            .expect("the seed has a waf section");
        seed[..end]
            .lines()
            .map(|line| match line.find("rotation: {") {
                Some(at) => format!("{}rotation: manual", &line[..at]),
                None => line.to_string(),
            })
            .collect::<Vec<_>>()
            .join("\n")
            + "\n"
    }

    /// The account the emulator answers for (moto and LocalStack differ).
    pub async fn account(&self) -> String {
        aws_sdk_sts::Client::new(&self.config)
            .get_caller_identity()
            .send()
            .await
            .expect("sts")
            .account()
            .expect("account")
            .to_string()
    }

    /// The seed's network tier only: everything before its `kms:` section, with the flow
    /// logs' group unencrypted (the key it names is in that section).
    pub fn seed_network(&self) -> String {
        let seed = self.seed();
        let end = seed
            .find("\n# Encryption keys.")
            .expect("the seed has a kms section");
        seed[..end]
            .lines()
            .filter(|line| !line.trim_start().starts_with("kms_key:"))
            .collect::<Vec<_>>()
            .join("\n")
            + "\n"
    }

    /// Do-nothing Lambda functions the seed's secrets rotate through, under this stack's
    /// names (the emulator runs stubs; see scripts/emulator.sh).
    pub async fn rotation_functions(&self) {
        let iam = self.iam();
        let role_name = format!("{}-rotation", self.name);
        let trust = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;
        let role = iam
            .create_role()
            .role_name(&role_name)
            .assume_role_policy_document(trust)
            .send()
            .await
            .expect("placeholder role");
        let role_arn = role.role().map(|r| r.arn().to_string()).expect("role arn");
        let lambda = aws_sdk_lambda::Client::new(&self.config);
        for purpose in ["rotate-postgres", "rotate-jwt", "rotate-s3-keys"] {
            lambda
                .create_function()
                .function_name(format!("{}-{purpose}", self.name))
                .role(&role_arn)
                .package_type(aws_sdk_lambda::types::PackageType::Image)
                .code(
                    aws_sdk_lambda::types::FunctionCode::builder()
                        .image_uri(
                            "123456789012.dkr.ecr.us-east-1.amazonaws.com/placeholder:latest",
                        )
                        .build(),
                )
                .send()
                .await
                .expect("placeholder rotation function");
        }
    }

    pub fn write(&self, name: &str, text: &str) -> PathBuf {
        crate::support::write(self.dir.path(), name, text)
    }

    pub fn cmd(&self) -> Command {
        Command::from_std(self.process())
    }

    /// `cmd()` as a plain process command, to spawn and signal.
    pub fn process(&self) -> std::process::Command {
        let mut cmd = secinfra_process();
        cmd.current_dir(self.dir.path())
            .env("AWS_ENDPOINT_URL", &self.proxy.url)
            .env("AWS_ACCESS_KEY_ID", "testing")
            .env("AWS_SECRET_ACCESS_KEY", "testing")
            .env("AWS_REGION", REGION);
        cmd
    }

    /// Runs secinfra with `args` (blocking; the tests' own SDK calls happen between runs).
    pub fn run(&self, args: &[&str]) -> Output {
        let output = self.cmd().args(args).output().expect("run secinfra");
        self.keep(&format!("secinfra {}", args.join(" ")), &output);
        self.check_plans_written(args, &output);
        output
    }

    /// Every plan a run prints (`--json`) or saves (`--out`) is the documented format.
    fn check_plans_written(&self, args: &[&str], output: &Output) {
        if !matches!(args.first(), Some(&"plan" | &"drift")) {
            return;
        }
        if args.contains(&"--json")
            && let Ok(plan) = serde_json::from_slice::<serde_json::Value>(&output.stdout)
        {
            crate::support::check_plan_document(&plan);
        }
        if let Some(file) = args.iter().skip_while(|a| **a != "--out").nth(1)
            && let Ok(text) = std::fs::read_to_string(self.dir.path().join(file))
        {
            let plan = serde_json::from_str(&text).expect("a saved plan is JSON");
            crate::support::check_plan_document(&plan);
        }
    }

    /// `secinfra apply blueprint.yaml --auto-approve EXTRA...` started through `endpoint`
    /// (a test proxy), not waited for; its output is piped.
    pub fn spawn_apply(&self, endpoint: &str, extra: &[&str]) -> std::process::Child {
        self.process()
            .env("AWS_ENDPOINT_URL", endpoint)
            .args(["apply", "blueprint.yaml", "--auto-approve"])
            .args(extra)
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("start secinfra")
    }

    /// Adds the output of a run started some other way to what is searched for secrets.
    pub fn keep(&self, what: &str, output: &Output) {
        if let Ok(mut captured) = self.captured.lock() {
            captured.push((format!("stdout of {what}"), output.stdout.clone()));
            captured.push((format!("stderr of {what}"), output.stderr.clone()));
        }
    }

    pub fn s3(&self) -> aws_sdk_s3::Client {
        aws_sdk_s3::Client::new(&self.config)
    }

    pub fn ec2(&self) -> aws_sdk_ec2::Client {
        aws_sdk_ec2::Client::new(&self.config)
    }

    pub fn logs(&self) -> aws_sdk_cloudwatchlogs::Client {
        aws_sdk_cloudwatchlogs::Client::new(&self.config)
    }

    /// The log groups whose names start with `prefix`.
    pub async fn log_groups(&self, prefix: &str) -> Vec<aws_sdk_cloudwatchlogs::types::LogGroup> {
        self.logs()
            .describe_log_groups()
            .log_group_name_prefix(prefix)
            .send()
            .await
            .expect("describe log groups")
            .log_groups
            .unwrap_or_default()
    }

    pub fn iam(&self) -> aws_sdk_iam::Client {
        aws_sdk_iam::Client::new(&self.config)
    }

    pub fn kms(&self) -> aws_sdk_kms::Client {
        aws_sdk_kms::Client::new(&self.config)
    }

    pub fn secrets(&self) -> aws_sdk_secretsmanager::Client {
        aws_sdk_secretsmanager::Client::new(&self.config)
    }

    pub fn rds(&self) -> aws_sdk_rds::Client {
        aws_sdk_rds::Client::new(&self.config)
    }

    pub fn elasticache(&self) -> aws_sdk_elasticache::Client {
        aws_sdk_elasticache::Client::new(&self.config)
    }

    pub fn waf(&self) -> aws_sdk_wafv2::Client {
        aws_sdk_wafv2::Client::new(&self.config)
    }

    pub fn tagging(&self) -> aws_sdk_resourcegroupstagging::Client {
        aws_sdk_resourcegroupstagging::Client::new(&self.config)
    }

    /// `tag:secinfra:stack = <this stack>`.
    pub fn stack_filter(&self) -> aws_sdk_ec2::types::Filter {
        aws_sdk_ec2::types::Filter::builder()
            .name("tag:secinfra:stack")
            .values(&self.name)
            .build()
    }

    /// `tag:secinfra:address = <address>` within this stack.
    pub fn address_filter(&self, address: &str) -> aws_sdk_ec2::types::Filter {
        aws_sdk_ec2::types::Filter::builder()
            .name("tag:secinfra:address")
            .values(address)
            .build()
    }
}
