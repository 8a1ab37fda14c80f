//! Command-line arguments (clap definitions only).

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::aws::RetryMode;

#[derive(Debug, Parser)]
#[command(
    name = "secinfra",
    version,
    about = "Stand up and keep true the AWS security environment an API runs in.",
    long_about = "secinfra reads a declarative blueprint of an AWS security environment, discovers \
                  what exists in the account (by tags, no state file), plans the difference and \
                  applies it.\n\nExit codes: 0 success / no changes, 1 error, 2 changes present \
                  (plan --detailed-exitcode, drift), 3 policy violations."
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Clone, Args)]
pub struct GlobalArgs {
    /// AWS region (overrides the blueprint's `region:`; default: the AWS configuration chain).
    #[arg(long, global = true, value_name = "REGION", env = "SECINFRA_REGION")]
    pub region: Option<String>,
    /// AWS profile from the shared config/credentials files.
    #[arg(long, global = true, value_name = "NAME", env = "SECINFRA_PROFILE")]
    pub profile: Option<String>,
    /// Send every AWS call to this endpoint (LocalStack, moto). AWS_ENDPOINT_URL works too.
    #[arg(long, global = true, value_name = "URL", env = "SECINFRA_ENDPOINT_URL")]
    pub endpoint_url: Option<String>,
    /// Apply the blueprint's environment overlay NAME (`environments.NAME`).
    #[arg(long = "env", global = true, value_name = "NAME", env = "SECINFRA_ENV")]
    pub env: Option<String>,
    /// When to colour output: `auto` (on a terminal, unless NO_COLOR is set), `always`,
    /// `never`.
    #[arg(
        long,
        global = true,
        value_enum,
        value_name = "WHEN",
        env = "SECINFRA_COLOR",
        default_value = "auto"
    )]
    pub color: ColorChoice,
    /// Never colour output (as `--color never`).
    #[arg(long, global = true)]
    pub no_color: bool,
    /// More detail on stderr: -v API calls and timings, -vv SDK debug logs.
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
    /// Attempts per AWS call, retries included, with exponential backoff and jitter; also
    /// the tries of a create whose outcome was lost (default 8).
    #[arg(long, global = true, value_name = "N", env = "SECINFRA_MAX_ATTEMPTS")]
    pub max_attempts: Option<u32>,
    /// Client-side request rate. By default each EC2 action is paced by a token bucket
    /// like AWS's own (80 % of its size and refill rate); N also caps all calls at N per
    /// second; `off` paces nothing.
    #[arg(long, global = true, value_name = "N|off", env = "SECINFRA_MAX_RPS")]
    pub max_rps: Option<crate::aws::throttle::RateLimit>,
    /// SDK retry mode for throttling and server errors.
    #[arg(long, global = true, value_enum, env = "SECINFRA_RETRY_MODE")]
    pub retry_mode: Option<RetryMode>,
    /// Longest wait for a NAT gateway, database or cache to become available or gone, e.g.
    /// 90s, 20m, 1h30m (default 15m for NAT gateways and VPCs, 60m for databases and caches).
    #[arg(long, global = true, value_name = "DURATION", value_parser = parse_duration, env = "SECINFRA_WAIT_TIMEOUT")]
    pub wait_timeout: Option<Duration>,
    /// Longest wait for a connection to AWS (or the endpoint) to open (default 5s).
    #[arg(long, global = true, value_name = "DURATION", value_parser = parse_duration, env = "SECINFRA_CONNECT_TIMEOUT")]
    pub connect_timeout: Option<Duration>,
    /// Longest wait for an answer to arrive on an open connection, per attempt (default
    /// 60s); a hung endpoint fails after this, retried like any transient error.
    #[arg(long, global = true, value_name = "DURATION", value_parser = parse_duration, env = "SECINFRA_READ_TIMEOUT")]
    pub read_timeout: Option<Duration>,
}

impl GlobalArgs {
    /// An empty value means unset: a CI matrix writes `SECINFRA_ENV: ""` for the stack
    /// without an environment, as `--env ""` is meaningless.
    pub fn without_empty_values(mut self) -> GlobalArgs {
        for value in [
            &mut self.region,
            &mut self.profile,
            &mut self.endpoint_url,
            &mut self.env,
        ] {
            if value.as_deref().is_some_and(|v| v.trim().is_empty()) {
                *value = None;
            }
        }
        self
    }
}

/// When output is coloured.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

impl GlobalArgs {
    /// Whether a stream is coloured: `--color always` colours everything; `auto` colours
    /// a terminal unless NO_COLOR is set (<https://no-color.org>); `never` and
    /// `--no-color` nothing.
    pub fn colors(&self, terminal: bool) -> bool {
        if self.no_color {
            return false;
        }
        match self.color {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto => {
                terminal && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
            }
        }
    }
}

/// A duration that may be zero (`0s`: do not wait).
fn parse_duration_or_zero(text: &str) -> Result<Duration, String> {
    if text.trim().trim_end_matches(['s', 'm', 'h']) == "0" {
        return Ok(Duration::ZERO);
    }
    parse_duration(text)
}

/// `90s`, `20m`, `2h`, `1h30m`, `7d` (a bare number is seconds).
fn parse_duration(text: &str) -> Result<Duration, String> {
    let hint =
        || format!("`{text}`: use a positive number with s, m, h or d, e.g. 90s, 20m, 1h30m, 7d");
    let trimmed = text.trim();
    if !trimmed.is_empty() && trimmed.chars().all(|c| c.is_ascii_digit()) {
        return match trimmed.parse::<u64>() {
            Ok(n) if n > 0 => Ok(Duration::from_secs(n)),
            _ => Err(hint()),
        };
    }
    let mut total: u64 = 0;
    let mut rest = trimmed;
    while !rest.is_empty() {
        let digits = rest.find(|c: char| !c.is_ascii_digit()).ok_or_else(hint)?;
        let (number, tail) = rest.split_at(digits);
        let unit = tail.chars().next().ok_or_else(hint)?;
        let scale = match unit {
            's' => 1,
            'm' => 60,
            'h' => 3600,
            'd' => 86_400,
            _ => return Err(hint()),
        };
        let n: u64 = number.parse().map_err(|_| hint())?;
        total = total.saturating_add(n.saturating_mul(scale));
        rest = tail[1..].trim_start();
    }
    if total == 0 {
        return Err(hint());
    }
    Ok(Duration::from_secs(total))
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Check a blueprint (syntax, semantics, every environment) without calling AWS.
    Validate(ValidateArgs),
    /// Show what apply would change.
    Plan(PlanArgs),
    /// Make the account match the blueprint (or apply a saved plan).
    Apply(ApplyArgs),
    /// Delete every resource of the stack.
    Destroy(DestroyArgs),
    /// Check whether the account still matches the blueprint (exit 2 when it does not).
    Drift(DriftArgs),
    /// Incident response without an apply: block addresses at a web ACL, rotate secrets
    /// and keys now, restore a database into a new instance.
    #[command(subcommand)]
    Respond(RespondVerb),
    /// Judge the blueprint (or with --live the account) against the security rules; exit
    /// 3 on findings at or above --fail-on. Without a blueprint, list the rules.
    Audit(AuditArgs),
    /// Print the blueprint's resource dependency graph.
    Graph(GraphArgs),
    /// Print the JSON Schema of the blueprint format.
    Schema,
    /// Show a plan saved with `plan --out` (no AWS call).
    Show(ShowArgs),
    /// Format blueprints canonically in place (layout only; comments and key order kept).
    Fmt(FmtArgs),
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell).
    Completions(CompletionsArgs),
    /// Print a manual page (roff): `secinfra man > secinfra.1`, `secinfra man plan >
    /// secinfra-plan.1`.
    Man(ManArgs),
    /// Remove a stack's lock left by a run that is gone (by the lock id it reported).
    ForceUnlock(ForceUnlockArgs),
}

/// The stack lock apply and destroy hold (an object in S3; see the README).
#[derive(Debug, Clone, Args)]
pub struct LockArgs {
    /// How long to wait for another run's lock on the stack, e.g. 30s, 10m (default: do
    /// not wait).
    #[arg(long, value_name = "DURATION", value_parser = parse_duration_or_zero, default_value = "0s", env = "SECINFRA_LOCK_TIMEOUT")]
    pub lock_timeout: Duration,
    /// S3 bucket holding stack locks (default: secinfra-locks-<account>-<region>, created
    /// private on first use).
    #[arg(long, value_name = "NAME", env = "SECINFRA_LOCK_BUCKET")]
    pub lock_bucket: Option<String>,
}

#[derive(Debug, Args)]
pub struct ForceUnlockArgs {
    pub blueprint: PathBuf,
    /// The lock id from the message that names the holder.
    pub lock_id: String,
    /// S3 bucket holding stack locks, as given to apply.
    #[arg(long, value_name = "NAME", env = "SECINFRA_LOCK_BUCKET")]
    pub lock_bucket: Option<String>,
}

#[derive(Debug, Args)]
pub struct ValidateArgs {
    pub blueprint: PathBuf,
    /// Exit 3 when the security rules (`secinfra audit`) find anything at or above this
    /// severity; without it their findings are warnings.
    #[arg(
        long,
        value_enum,
        value_name = "SEVERITY",
        env = "SECINFRA_VALIDATE_FAIL_ON"
    )]
    pub fail_on: Option<crate::audit::Severity>,
    /// human, or github: also one workflow annotation per error and finding on stdout,
    /// shown on the blueprint's lines in a pull request.
    #[arg(
        long,
        value_enum,
        default_value = "human",
        env = "SECINFRA_VALIDATE_FORMAT"
    )]
    pub format: ValidateFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ValidateFormat {
    Human,
    Github,
}

/// Choices that shape a plan (saved with it).
#[derive(Debug, Clone, Args)]
pub struct PlanChoices {
    /// Take over resources found by name that secinfra did not create.
    #[arg(long)]
    pub adopt: bool,
    /// Also delete or replace protected resources (KMS keys unless `protect: false`).
    #[arg(long)]
    pub allow_delete_protected: bool,
    /// Also delete or replace this protected resource (an address, e.g. kms_key.s3);
    /// repeat for more.
    #[arg(long, value_name = "ADDRESS")]
    pub allow_delete: Vec<crate::model::Address>,
    /// Delete secrets at once instead of leaving them recoverable for their recovery window.
    #[arg(long)]
    pub no_recovery_window: bool,
}

impl PlanChoices {
    pub fn options(&self) -> crate::plan::PlanOptions {
        crate::plan::PlanOptions {
            adopt: self.adopt,
            allow_delete_protected: self.allow_delete_protected,
            allow_delete: self.allow_delete.iter().cloned().collect(),
            delete_without_recovery: self.no_recovery_window,
        }
    }
}

#[derive(Debug, Args)]
pub struct PlanArgs {
    pub blueprint: PathBuf,
    /// Save the plan to this file (JSON, mode 0600) for `secinfra apply FILE`.
    #[arg(long, value_name = "PLAN.json")]
    pub out: Option<PathBuf>,
    /// Print the plan as JSON on stdout (`--format json`).
    #[arg(long)]
    pub json: bool,
    /// human, json (`docs/plan.schema.json`), or markdown for a CI job summary or a pull
    /// request comment.
    #[arg(
        long,
        value_enum,
        default_value = "human",
        env = "SECINFRA_PLAN_FORMAT"
    )]
    pub format: PlanFormat,
    /// Exit 2 when the plan has changes, 0 when it has none.
    #[arg(long)]
    pub detailed_exitcode: bool,
    /// Exit 4 when any change widens exposure (opens access, turns a protection off,
    /// grants more principals); it wins over --detailed-exitcode.
    #[arg(long, env = "SECINFRA_FAIL_ON_WIDENING")]
    pub fail_on_widening: bool,
    #[command(flatten)]
    pub choices: PlanChoices,
}

#[derive(Debug, Args)]
pub struct ApplyArgs {
    /// A blueprint, or a plan saved with `plan --out` (applied as reviewed, without a prompt).
    pub target: PathBuf,
    /// Do not ask for confirmation (required when stdin is not a terminal).
    #[arg(long)]
    pub auto_approve: bool,
    /// Changes running at once.
    #[arg(long, default_value_t = 10, value_name = "N", value_parser = clap::value_parser!(u16).range(1..=64))]
    pub parallelism: u16,
    #[command(flatten)]
    pub choices: PlanChoices,
    #[command(flatten)]
    pub lock: LockArgs,
}

#[derive(Debug, Args)]
pub struct DestroyArgs {
    pub blueprint: PathBuf,
    /// Do not ask for confirmation (required when stdin is not a terminal).
    #[arg(long)]
    pub auto_approve: bool,
    /// Also delete protected resources (KMS keys unless `protect: false`).
    #[arg(long)]
    pub allow_delete_protected: bool,
    /// Also delete this protected resource (an address, e.g. kms_key.s3); repeat for more.
    #[arg(long, value_name = "ADDRESS")]
    pub allow_delete: Vec<crate::model::Address>,
    /// Delete secrets at once instead of leaving them recoverable for their recovery window.
    #[arg(long)]
    pub no_recovery_window: bool,
    /// Changes running at once.
    #[arg(long, default_value_t = 10, value_name = "N", value_parser = clap::value_parser!(u16).range(1..=64))]
    pub parallelism: u16,
    #[command(flatten)]
    pub lock: LockArgs,
}

#[derive(Debug, Args)]
pub struct FmtArgs {
    /// Blueprint files to format.
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    /// Change nothing; exit 1 and name the files that are not formatted (for CI).
    #[arg(long)]
    pub check: bool,
    /// Print the changes as a unified diff.
    #[arg(long)]
    pub diff: bool,
}

#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell, e.g. `secinfra completions bash > /etc/bash_completion.d/secinfra`.
    pub shell: clap_complete::Shell,
}

#[derive(Debug, Args)]
pub struct ManArgs {
    /// The command whose page to print (default: the main page, listing the commands).
    pub command: Option<String>,
}

#[derive(Debug, Args)]
pub struct AuditArgs {
    /// The blueprint; omitted, the rules are listed.
    pub blueprint: Option<PathBuf>,
    /// Judge what discovery finds in the account (changes made outside secinfra
    /// included) instead of the blueprint; findings still point at the blueprint's lines.
    #[arg(long, env = "SECINFRA_LIVE", requires = "blueprint")]
    pub live: bool,
    /// table for people, json for scripts, sarif (2.1.0) for code scanning, github for
    /// workflow annotations on the blueprint's lines, markdown for a job summary.
    #[arg(
        long,
        value_enum,
        default_value = "table",
        env = "SECINFRA_AUDIT_FORMAT"
    )]
    pub format: AuditFormat,
    /// Exit 3 when a finding at or above this severity is not suppressed.
    #[arg(
        long,
        value_enum,
        value_name = "SEVERITY",
        default_value = "high",
        env = "SECINFRA_FAIL_ON"
    )]
    pub fail_on: crate::audit::Severity,
    /// More suppressions: a YAML file shaped like the blueprint's `audit:` section
    /// (`suppress: [{rule, address, reason, owner, expires}]`).
    #[arg(
        long,
        value_name = "FILE",
        env = "SECINFRA_SUPPRESSIONS",
        requires = "blueprint"
    )]
    pub suppressions: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum AuditFormat {
    Table,
    Json,
    Sarif,
    Github,
    Markdown,
}

/// How plan and drift print: the human view, the JSON plan, or Markdown for a CI job
/// summary or a pull request comment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum PlanFormat {
    Human,
    Json,
    Markdown,
}

impl PlanFormat {
    /// `--json` is `--format json`.
    pub fn chosen(self, json: bool) -> PlanFormat {
        if json { PlanFormat::Json } else { self }
    }
}

#[derive(Debug, Args)]
pub struct ShowArgs {
    /// A plan saved with `secinfra plan --out`.
    pub plan: PathBuf,
    /// Print the plan's JSON (`docs/plan.schema.json`) instead.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct DriftArgs {
    pub blueprint: PathBuf,
    /// Print the differences as a JSON plan on stdout (with `drift`: each one's origin).
    #[arg(long)]
    pub json: bool,
    /// human, json, or markdown for a CI job summary.
    #[arg(
        long,
        value_enum,
        default_value = "human",
        env = "SECINFRA_DRIFT_FORMAT"
    )]
    pub format: PlanFormat,
    /// S3 bucket holding stack locks and the record of the last apply, as given to apply.
    #[arg(long, value_name = "NAME", env = "SECINFRA_LOCK_BUCKET")]
    pub lock_bucket: Option<String>,
    /// Do not look up in CloudTrail who changed what (needs cloudtrail:LookupEvents; at
    /// most 40 requests, two a second).
    #[arg(long)]
    pub no_attribution: bool,
}

/// `secinfra respond` verbs.
#[derive(Debug, Subcommand)]
pub enum RespondVerb {
    /// Block addresses at a web ACL now, in its incident IP set (`incident_block: true`);
    /// plan and apply leave them alone.
    BlockIp(BlockIpArgs),
    /// Lift incident blocks.
    UnblockIp(UnblockIpArgs),
    /// List incident blocks: who blocked what, when, why, until when.
    ListBlocks(ListBlocksArgs),
    /// Lift the incident blocks whose expiry has passed (fit for a schedule).
    ExpireBlocks(ExpireBlocksArgs),
    /// Rotate the stack's rotating secrets now, waiting for each to finish (never shows
    /// a value).
    RotateSecrets(RotateSecretsArgs),
    /// Rotate a KMS key's material now, and list its past rotations.
    RotateKey(RotateKeyArgs),
    /// Restore a database into a new instance, to a point in time or from a snapshot
    /// (the original is never touched).
    RestoreDb(RestoreDbArgs),
}

#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("point").required(true).args(["to", "latest", "snapshot"])))]
pub struct RestoreDbArgs {
    pub blueprint: PathBuf,
    /// The database (its name under `databases:`).
    pub name: String,
    /// Restore to this time (RFC 3339, e.g. 2026-12-01T09:30:00Z), within the restorable window.
    #[arg(long, value_name = "TIME")]
    pub to: Option<String>,
    /// Restore to the latest restorable time.
    #[arg(long)]
    pub latest: bool,
    /// Restore from this DB snapshot (of the same database).
    #[arg(long, value_name = "ID")]
    pub snapshot: Option<String>,
    /// The new instance's identifier.
    #[arg(long = "as", value_name = "NEW_NAME", required = true)]
    pub target: String,
    /// Why (written to the audit line and tagged on the new instance).
    #[arg(long, value_name = "TEXT", required = true)]
    pub reason: String,
    /// Do not wait for the new instance to be available.
    #[arg(long)]
    pub no_wait: bool,
    /// Print the outcome as JSON on stdout.
    #[arg(long)]
    pub json: bool,
    /// Do not ask for confirmation.
    #[arg(long, visible_alias = "yes", short = 'y')]
    pub auto_approve: bool,
}

#[derive(Debug, Args)]
pub struct RotateSecretsArgs {
    pub blueprint: PathBuf,
    /// Secrets to rotate (their names under `secrets:`).
    #[arg(
        value_name = "NAME",
        required_unless_present = "all",
        conflicts_with = "all"
    )]
    pub names: Vec<String>,
    /// Every secret the blueprint rotates.
    #[arg(long)]
    pub all: bool,
    /// Why (written to the audit line).
    #[arg(long, value_name = "TEXT", required = true)]
    pub reason: String,
    /// How long to wait for the rotations to finish.
    #[arg(long, value_name = "DURATION", value_parser = parse_duration, default_value = "10m")]
    pub timeout: Duration,
    /// Print the outcome as JSON on stdout.
    #[arg(long)]
    pub json: bool,
    /// Do not ask for confirmation.
    #[arg(long, visible_alias = "yes", short = 'y')]
    pub auto_approve: bool,
}

#[derive(Debug, Args)]
pub struct RotateKeyArgs {
    pub blueprint: PathBuf,
    /// The key (its name under `kms.keys`).
    pub name: String,
    /// Why (written to the audit line).
    #[arg(long, value_name = "TEXT", required = true)]
    pub reason: String,
    /// Print the outcome as JSON on stdout.
    #[arg(long)]
    pub json: bool,
    /// Do not ask for confirmation.
    #[arg(long, visible_alias = "yes", short = 'y')]
    pub auto_approve: bool,
}

/// Which stack and web ACL a respond verb acts on.
#[derive(Debug, Args)]
pub struct RespondTarget {
    pub blueprint: PathBuf,
    /// The web ACL (its name under `waf:`); needed when several have `incident_block`.
    #[arg(long, value_name = "NAME")]
    pub acl: Option<String>,
    /// S3 bucket holding stack locks and the block ledger, as given to apply.
    #[arg(long, value_name = "NAME", env = "SECINFRA_LOCK_BUCKET")]
    pub lock_bucket: Option<String>,
    /// Print the outcome as JSON on stdout.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct BlockIpArgs {
    #[command(flatten)]
    pub target: RespondTarget,
    /// Addresses or CIDR blocks, IPv4 or IPv6 (a bare address is one host).
    #[arg(required = true, value_name = "CIDR")]
    pub cidrs: Vec<String>,
    /// Why (recorded with the block, shown by list-blocks).
    #[arg(long, value_name = "TEXT", required = true)]
    pub reason: String,
    /// Lift the block after this long (`respond expire-blocks`), e.g. 30m, 12h, 7d.
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub expires: Option<Duration>,
    /// Allow private, loopback, link-local and other non-internet ranges.
    #[arg(long)]
    pub allow_private: bool,
    /// Do not ask for confirmation.
    #[arg(long, visible_alias = "yes", short = 'y')]
    pub auto_approve: bool,
}

#[derive(Debug, Args)]
pub struct UnblockIpArgs {
    #[command(flatten)]
    pub target: RespondTarget,
    #[arg(required = true, value_name = "CIDR")]
    pub cidrs: Vec<String>,
    /// Why (written to the audit line).
    #[arg(long, value_name = "TEXT", required = true)]
    pub reason: String,
    /// Do not ask for confirmation.
    #[arg(long, visible_alias = "yes", short = 'y')]
    pub auto_approve: bool,
}

#[derive(Debug, Args)]
pub struct ListBlocksArgs {
    #[command(flatten)]
    pub target: RespondTarget,
}

#[derive(Debug, Args)]
pub struct ExpireBlocksArgs {
    #[command(flatten)]
    pub target: RespondTarget,
    /// Do not ask for confirmation.
    #[arg(long, visible_alias = "yes", short = 'y')]
    pub auto_approve: bool,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum GraphFormat {
    Dot,
    Mermaid,
}

#[derive(Debug, Args)]
pub struct GraphArgs {
    pub blueprint: PathBuf,
    #[arg(long, value_enum, default_value = "dot")]
    pub format: GraphFormat,
}

/// Options that only matter to commands that call AWS (`--region` also places a
/// blueprint's zones for `validate` and `graph`).
const AWS_OPTIONS: &[&str] = &[
    "region",
    "profile",
    "endpoint_url",
    "max_attempts",
    "max_rps",
    "retry_mode",
    "wait_timeout",
    "connect_timeout",
    "read_timeout",
];

/// Commands that never call AWS: their help does not list the AWS options.
const OFFLINE_COMMANDS: &[&str] = &[
    "validate",
    "graph",
    "schema",
    "show",
    "fmt",
    "completions",
    "man",
];

/// The command line, with each command's help listing only the options that apply to it.
/// The AWS options are global, so they may come before or after the command (as with the
/// AWS CLI); an offline command gets hidden copies of them instead, which clap then does
/// not replace, so it still accepts them (scripts pass the same flags everywhere).
pub fn command() -> clap::Command {
    use clap::CommandFactory;
    let mut command = Cli::command();
    let hidden = |ids: &[&str]| -> Vec<clap::Arg> {
        command
            .get_arguments()
            .filter(|arg| ids.contains(&arg.get_id().as_str()))
            .map(|arg| arg.clone().hide(true))
            .collect()
    };
    let all = hidden(AWS_OPTIONS);
    let without_region: Vec<clap::Arg> = all
        .iter()
        .filter(|arg| arg.get_id() != "region")
        .cloned()
        .collect();
    for name in OFFLINE_COMMANDS {
        if command.find_subcommand(name).is_none() {
            continue;
        }
        let args = if matches!(*name, "validate" | "graph") {
            without_region.clone()
        } else {
            all.clone()
        };
        command = command.mut_subcommand(name, |sub| sub.args(args));
    }
    command
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_take_a_unit() {
        assert_eq!(parse_duration("90s"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_duration("20m"), Ok(Duration::from_secs(1200)));
        assert_eq!(parse_duration("2h"), Ok(Duration::from_secs(7200)));
        assert_eq!(parse_duration("45"), Ok(Duration::from_secs(45)));
        assert_eq!(parse_duration("1h30m"), Ok(Duration::from_secs(5400)));
        assert_eq!(parse_duration("7d"), Ok(Duration::from_secs(7 * 86_400)));
        assert_eq!(parse_duration("2m 5s"), Ok(Duration::from_secs(125)));
        for bad in ["", "0s", "5w", "m", "1h30", "-5s", "1.5h"] {
            assert!(parse_duration(bad).is_err(), "{bad}");
        }
        for bad in ["", "0m", "5y", "m", "1.5h", "-3s"] {
            assert!(parse_duration(bad).is_err(), "{bad}");
        }
    }
}

#[cfg(test)]
mod help_tests {
    use super::*;

    fn help(name: &str) -> String {
        let mut command = command();
        command.build();
        let sub = command.find_subcommand_mut(name).expect("subcommand");
        sub.render_long_help().to_string()
    }

    #[test]
    fn offline_commands_list_no_aws_options() {
        for name in ["validate", "graph", "schema", "show"] {
            let text = help(name);
            assert!(!text.contains("--profile"), "{name}: {text}");
            assert!(!text.contains("--max-rps"), "{name}: {text}");
            assert!(!text.contains("--read-timeout"), "{name}: {text}");
            assert!(text.contains("--color"), "{name}: {text}");
            assert_eq!(
                text.contains("--region"),
                name == "validate" || name == "graph",
                "{name}: {text}"
            );
        }
        for name in ["plan", "apply", "destroy", "drift"] {
            assert!(help(name).contains("--region"), "{name}");
        }
    }

    #[test]
    fn offline_commands_still_accept_the_aws_options() {
        use clap::FromArgMatches;
        let matches = command()
            .try_get_matches_from(["secinfra", "validate", "b.yaml", "--region", "eu-west-1"])
            .expect("parses");
        let cli = Cli::from_arg_matches(&matches).expect("cli");
        assert_eq!(cli.global.region.as_deref(), Some("eu-west-1"));
        command()
            .try_get_matches_from(["secinfra", "schema", "--max-rps", "5", "--profile", "x"])
            .expect("a script's common flags do not break an offline command");
    }
}
