//! Talking to AWS: one shared configuration and set of clients per run, an error mapping,
//! call counting, and one provider per service behind the `Provider` trait.

pub mod applied;
pub mod calls;
pub mod cloudtrail;
pub mod cloudwatch;
pub mod consistency;
pub mod discover;
pub mod elasticache;
pub mod error;
pub mod guardduty;
pub mod iam;
pub mod incident;
pub mod incident_log;
pub mod kms;
pub mod lock;
pub mod logs;
pub mod network;
pub mod pages;
pub mod provider;
pub mod rds;
pub mod references;
pub mod restore;
pub mod rotation;
pub mod s3;
pub mod secrets;
pub mod securityhub;
pub mod sns;
pub mod tags;
pub mod throttle;
pub mod trail_events;
pub mod waf;
pub mod wait;

use std::sync::Arc;
use std::time::Duration;

use aws_config::BehaviorVersion;
use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;

pub use calls::CallCounter;
pub use error::{AwsError, ErrorKind};
pub use provider::{Created, Ids, New, Provider};

pub use calls::CountingInterceptor;

/// Every provider, one per AWS service: a new service's module is declared above and
/// listed here.
pub fn providers() -> Vec<Box<dyn Provider>> {
    vec![
        Box::new(network::Network),
        Box::new(logs::Logs),
        Box::new(iam::Iam),
        Box::new(kms::Kms),
        Box::new(secrets::Secrets),
        Box::new(waf::Waf),
        Box::new(rds::Rds),
        Box::new(elasticache::ElastiCache),
        Box::new(s3::S3),
        Box::new(cloudtrail::CloudTrail),
        Box::new(guardduty::GuardDuty),
        Box::new(securityhub::SecurityHub),
        Box::new(sns::Sns),
        Box::new(cloudwatch::CloudWatch),
    ]
}

/// The name of the snapshot taken as a database or cache is deleted,
/// `<identifier>-final-<unix seconds>`: unique per deletion, so a deletion after a restore
/// never collides with the first one's snapshot (RDS and ElastiCache refuse a name in use).
pub(crate) fn final_snapshot_name(identifier: &str) -> String {
    let stamp = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default();
    format!("{identifier}-final-{stamp}")
}

/// Sends a create whose repetition could make a twin so that the SDK retries it only
/// when AWS refused it without acting (throttling, a fresh id not visible yet: see
/// `consistency::RefusedOnly`); like `call!`, its error names the operation. A 5xx,
/// timeout or broken connection may hide a create that worked: apply retries those
/// instead, after looking for what the lost call may have made (`apply::recover`). That
/// covers creates with no unique name to collide on, and those whose protection against
/// repeats not every endpoint enforces: idempotency tokens (moto makes a second route
/// table, NAT gateway, flow log or detector for a repeated token; the token is still
/// sent) and WAF's unique names (moto accepts a second IP set of the same name). A look
/// before the retry is right on every endpoint.
#[macro_export]
macro_rules! send_once {
    ($krate:ident, $request:expr, $operation:literal $(,)?) => {
        $request
            .customize()
            .config_override(
                $krate::config::Builder::default()
                    .retry_classifier($crate::aws::consistency::RefusedOnly),
            )
            .send()
            .await
            .map_err($crate::aws::error::aws($operation))
    };
}

/// Sends a request built with the SDK's fluent builder and names its error by the AWS
/// operation (`call!(ctx.ec2().delete_subnet().subnet_id(id), "ec2:DeleteSubnet")`): the one
/// shape of every single call, so an error always says which operation failed.
#[macro_export]
macro_rules! call {
    ($request:expr, $operation:literal $(,)?) => {
        $request
            .send()
            .await
            .map_err($crate::aws::error::aws($operation))
    };
}

/// Every item of a paginated list call, all pages, its error named by the operation
/// (`all_pages!(ctx.rds().describe_db_instances(), "rds:DescribeDBInstances").await`).
#[macro_export]
macro_rules! all_pages {
    ($request:expr, $operation:literal $(,)?) => {{
        use $crate::aws::pages::AllPages as _;
        $request.into_paginator().items().send().all($operation)
    }};
}

/// Attempts per AWS call when `--max-attempts` is not given, and tries of a create whose
/// outcome was unknown. Chosen from measurements through a proxy failing a fifth of all
/// requests (README, "How secinfra handles real AWS"): with the SDK's exponential backoff
/// and jitter, reads survive runs of failures, and eventual-consistency windows of tens
/// of seconds are waited out.
pub const DEFAULT_MAX_ATTEMPTS: u32 = 8;

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum RetryMode {
    /// Exponential backoff with jitter (the SDK's standard mode).
    Standard,
    /// Standard, plus client-side rate limiting when throttled.
    Adaptive,
}

/// How to reach AWS; everything not given comes from the standard AWS configuration chain.
#[derive(Clone, Debug, Default)]
pub struct ConnectOptions {
    pub region: Option<String>,
    pub profile: Option<String>,
    pub endpoint_url: Option<String>,
    pub max_attempts: Option<u32>,
    pub retry_mode: Option<RetryMode>,
    /// Replaces both waiter bounds when given.
    pub wait_timeout: Option<Duration>,
    /// How long a connection may take to open (default `CONNECT_TIMEOUT`).
    pub connect_timeout: Option<Duration>,
    /// How long an answer may take on an open connection (default `READ_TIMEOUT`).
    pub read_timeout: Option<Duration>,
    pub rate_limit: throttle::RateLimit,
}

/// Connections open within this unless `--connect-timeout` says otherwise.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// Answers arrive within this unless `--read-timeout` says otherwise (the AWS CLI's
/// default read timeout).
pub const READ_TIMEOUT: Duration = Duration::from_secs(60);

/// The SDK's timeouts: connect, read, and one attempt as both together.
fn timeouts(options: &ConnectOptions) -> TimeoutConfig {
    let connect = options.connect_timeout.unwrap_or(CONNECT_TIMEOUT);
    let read = options.read_timeout.unwrap_or(READ_TIMEOUT);
    TimeoutConfig::builder()
        .connect_timeout(connect)
        .read_timeout(read)
        .operation_attempt_timeout(connect + read)
        .build()
}

/// An endpoint URL needs a scheme and a host; without one the SDK fails each request with
/// a dump of the request it could not send.
/// <https://docs.aws.amazon.com/sdkref/latest/guide/feature-ss-endpoints.html>
fn check_endpoint(url: &str, given_as: &str) -> Result<(), AwsError> {
    let problem = match url.split_once("://") {
        None => Some("has no scheme"),
        Some((scheme, _)) if !matches!(scheme, "http" | "https") => {
            Some("has a scheme other than http or https")
        }
        Some((_, rest))
            if rest
                .split(['/', '?', '#'])
                .next()
                .unwrap_or_default()
                .is_empty() =>
        {
            Some("has no host")
        }
        _ if url.contains(char::is_whitespace) => Some("contains spaces"),
        _ => None,
    };
    let Some(problem) = problem else {
        return Ok(());
    };
    let bare = url.split_once("://").map_or(url, |(_, rest)| rest);
    Err(AwsError::new(
        "config",
        ErrorKind::Invalid,
        format!(
            "{given_as} `{url}` {problem}; write http://{bare} for an emulator on this machine, \
             or https://{bare}"
        ),
    ))
}

/// A named profile must be in the shared config or credentials file. Otherwise the SDK
/// falls through to the other credential sources, ending at the instance metadata
/// service, and the user reads that one's failure instead of the missing profile.
/// <https://docs.aws.amazon.com/sdkref/latest/guide/file-format.html>
fn check_profile(name: &str) -> Result<(), AwsError> {
    let home = std::env::var_os("HOME").map(std::path::PathBuf::from);
    let file = |variable: &str, default: &str| {
        std::env::var_os(variable)
            .map(std::path::PathBuf::from)
            .or_else(|| home.as_ref().map(|h| h.join(".aws").join(default)))
    };
    let files = [
        (file("AWS_CONFIG_FILE", "config"), true),
        (file("AWS_SHARED_CREDENTIALS_FILE", "credentials"), false),
    ];
    let mut profiles = std::collections::BTreeSet::new();
    for (path, is_config) in &files {
        let Some(text) = path.as_ref().and_then(|p| std::fs::read_to_string(p).ok()) else {
            continue;
        };
        for line in text.lines() {
            let Some(section) = line
                .trim()
                .strip_prefix('[')
                .and_then(|l| l.strip_suffix(']'))
            else {
                continue;
            };
            let section = section.trim();
            // The config file names profiles `[profile NAME]` (and `[default]`); the
            // credentials file names them bare.
            let profile = match (is_config, section.strip_prefix("profile ")) {
                (true, Some(name)) => Some(name.trim()),
                (true, None) => (section == "default").then_some(section),
                (false, _) => Some(section),
            };
            profiles.extend(profile.map(str::to_string));
        }
    }
    if profiles.contains(name) {
        return Ok(());
    }
    let shown: Vec<String> = files
        .iter()
        .filter_map(|(path, _)| path.as_ref().map(|p| p.display().to_string()))
        .collect();
    let known = if profiles.is_empty() {
        "they name no profile".to_string()
    } else {
        let names: Vec<&str> = profiles.iter().map(String::as_str).collect();
        format!("profiles there: {}", names.join(", "))
    };
    Err(AwsError::new(
        "config",
        ErrorKind::Invalid,
        format!(
            "profile `{name}` is not in {} ({known})",
            shown.join(" or ")
        ),
    ))
}

/// One SDK client per service, built on first use from the run's configuration: a
/// provider declares the client it talks through next to its code (`sdk_client!`), so a
/// new service needs no line here.
#[derive(Clone, Default)]
pub struct Clients(Arc<std::sync::Mutex<ClientMap>>);

type ClientMap = std::collections::HashMap<std::any::TypeId, Box<dyn std::any::Any + Send + Sync>>;

impl std::fmt::Debug for Clients {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Clients")
    }
}

/// Declares `ctx.<name>()`, the run's client of one AWS service, counting every request
/// (`sdk_client!(sns: aws_sdk_sns)`). Clients share the configuration, credentials cache,
/// HTTP connections and request buckets of the run.
#[macro_export]
macro_rules! sdk_client {
    ($name:ident : $krate:ident) => {
        impl $crate::aws::AwsContext {
            #[doc = concat!("The run's `", stringify!($krate), "` client.")]
            pub fn $name(&self) -> $krate::Client {
                self.client(|config, counter| {
                    $krate::Client::from_conf(
                        $krate::config::Builder::from(config)
                            .interceptor(counter)
                            .build(),
                    )
                })
            }
        }
    };
}

/// Clients and facts shared by every call of one run.
#[derive(Clone, Debug)]
pub struct AwsContext {
    /// The loaded AWS configuration every client is built from.
    config: aws_config::SdkConfig,
    /// One client per service, built on first use (see `sdk_client!`).
    clients: Clients,
    pub region: String,
    pub account: String,
    /// The ARN of the identity making the calls (for the lock holder's name).
    pub caller: String,
    pub partition: &'static str,
    pub stack: String,
    /// Whether requests travel over TLS (not to a plain `http://` endpoint).
    pub tls: bool,
    pub calls: Arc<CallCounter>,
    /// Client-side request buckets (see `throttle`).
    pub limiter: Arc<throttle::Limiter>,
    /// Attempts per call (the SDK's, for most calls), also used by apply for creates the
    /// SDK must not retry (see `send_once!`).
    pub max_attempts: u32,
    /// Upper bound for SDK waiters (NAT gateways take minutes).
    pub waiter_timeout: Duration,
    /// Upper bound for waiting on databases and caches (creating a Multi-AZ database can
    /// take most of an hour).
    pub data_waiter_timeout: Duration,
    /// Set at the first Ctrl-C: every wait for AWS to finish a change returns at once.
    pub waits: Arc<tokio::sync::watch::Sender<bool>>,
}

/// A version as the blueprint declares it when the live one is that release or a later
/// patch of it (`16` declared, `16.4` live → `16`): minor upgrades AWS applies are not drift.
pub fn version_as_declared(live: &str, declared: Option<&str>) -> String {
    match declared {
        Some(d) if live == d || live.starts_with(&format!("{d}.")) => d.to_string(),
        _ => live.to_string(),
    }
}

impl AwsContext {
    /// The run's client of type `C`, made by `build` from the configuration and the
    /// request counter the first time it is asked for.
    pub fn client<C: Clone + Send + Sync + 'static>(
        &self,
        build: impl FnOnce(&aws_config::SdkConfig, CountingInterceptor) -> C,
    ) -> C {
        let mut built = self.clients.0.lock().unwrap_or_else(|e| e.into_inner());
        let key = std::any::TypeId::of::<C>();
        if let Some(client) = built.get(&key).and_then(|c| c.downcast_ref::<C>()) {
            return client.clone();
        }
        let client = build(&self.config, CountingInterceptor(Arc::clone(&self.calls)));
        built.insert(key, Box::new(client.clone()));
        client
    }

    /// The ARN of `resource` (`log-group:/a/b`, `detector/abc`) of `service` in this run's
    /// partition, region and account.
    pub fn regional_arn(&self, service: &str, resource: &str) -> String {
        format!(
            "arn:{}:{service}:{}:{}:{resource}",
            self.partition, self.region, self.account
        )
    }

    /// Loads the AWS configuration, builds the clients and asks STS who we are (which also
    /// proves the credentials work before any planning starts).
    pub async fn connect(
        options: &ConnectOptions,
        stack: &str,
        blueprint_region: Option<&str>,
    ) -> Result<AwsContext, AwsError> {
        let mut loader = aws_config::defaults(BehaviorVersion::latest());
        let named = options
            .profile
            .clone()
            .or_else(|| std::env::var("AWS_PROFILE").ok().filter(|p| !p.is_empty()));
        if let Some(profile) = &named {
            check_profile(profile)?;
        }
        if let Some(profile) = &options.profile {
            loader = loader.profile_name(profile);
        }
        if let Some(region) = options.region.as_deref().or(blueprint_region) {
            loader = loader.region(aws_config::Region::new(region.to_string()));
        }
        if let Some(url) = &options.endpoint_url {
            check_endpoint(url, "--endpoint-url")?;
            loader = loader.endpoint_url(url);
        } else if let Ok(url) = std::env::var("AWS_ENDPOINT_URL")
            && !url.is_empty()
        {
            check_endpoint(&url, "AWS_ENDPOINT_URL")?;
        }
        let mut retry = match options.retry_mode.unwrap_or(RetryMode::Standard) {
            RetryMode::Standard => RetryConfig::standard(),
            RetryMode::Adaptive => RetryConfig::adaptive(),
        };
        let max_attempts = options.max_attempts.unwrap_or(DEFAULT_MAX_ATTEMPTS).max(1);
        retry = retry.with_max_attempts(max_attempts);
        let limiter = Arc::new(throttle::Limiter::new(options.rate_limit));
        // `app/secinfra` in every request's user agent: CloudTrail records it, so drift can
        // tell a later secinfra run's writes from everyone else's.
        if let Ok(app) = aws_config::AppName::new(trail_events::APP_NAME) {
            loader = loader.app_name(app);
        }
        loader = loader
            .http_client(throttle::LimitedClient::new(Arc::clone(&limiter)))
            .retry_config(retry)
            .timeout_config(timeouts(options));
        let config = loader.load().await;
        let region = config.region().map(|r| r.to_string()).ok_or_else(|| {
            AwsError::new(
                "config",
                ErrorKind::Invalid,
                "no AWS region: set `region:` in the blueprint, pass --region, or set AWS_REGION",
            )
        })?;

        let calls = Arc::new(CallCounter::default());
        let sts = aws_sdk_sts::Client::from_conf(
            aws_sdk_sts::config::Builder::from(&config)
                .interceptor(CountingInterceptor(Arc::clone(&calls)))
                .build(),
        );
        let identity = crate::call!(sts.get_caller_identity(), "sts:GetCallerIdentity")?;
        let account = identity.account().unwrap_or_default().to_string();
        let caller = identity.arn().unwrap_or_default().to_string();

        Ok(AwsContext {
            partition: crate::naming::partition(&region),
            tls: !config
                .endpoint_url()
                .is_some_and(|url| url.starts_with("http://")),
            config,
            clients: Clients::default(),
            region,
            caller,
            account,
            stack: stack.to_string(),
            calls,
            limiter,
            max_attempts,
            waiter_timeout: options.wait_timeout.unwrap_or(Duration::from_secs(15 * 60)),
            data_waiter_timeout: options.wait_timeout.unwrap_or(Duration::from_secs(60 * 60)),
            waits: Arc::new(tokio::sync::watch::Sender::new(false)),
        })
    }
}

#[cfg(test)]
impl AwsContext {
    /// Makes `client` the one this context's code talks through (a replaying client in
    /// unit tests).
    pub fn use_client<C: Clone + Send + Sync + 'static>(&self, client: C) {
        let mut built = self.clients.0.lock().unwrap_or_else(|e| e.into_inner());
        built.insert(std::any::TypeId::of::<C>(), Box::new(client));
    }

    /// A context whose clients are never called: for unit tests of code that passes it
    /// through to a fake provider.
    pub fn unconnected(stack: &str) -> AwsContext {
        let config = aws_config::SdkConfig::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(aws_config::Region::new("us-east-1"))
            .build();
        AwsContext {
            config,
            clients: Clients::default(),
            region: "us-east-1".into(),
            account: "123456789012".into(),
            caller: String::new(),
            partition: "aws",
            stack: stack.to_string(),
            tls: true,
            calls: Arc::default(),
            limiter: Arc::new(throttle::Limiter::new(throttle::RateLimit::Off)),
            max_attempts: 1,
            waiter_timeout: Duration::from_secs(1),
            data_waiter_timeout: Duration::from_secs(1),
            waits: Arc::new(tokio::sync::watch::Sender::new(false)),
        }
    }
}

/// A warning when an endpoint would send credentials and requests in clear text beyond
/// this machine and its local network.
pub fn endpoint_warning(endpoint: &str) -> Option<String> {
    let rest = endpoint.strip_prefix("http://")?;
    let host = rest.split(['/', '?']).next().unwrap_or(rest);
    let host = match host.rsplit_once(':') {
        Some((h, port)) if port.chars().all(|c| c.is_ascii_digit()) => h,
        _ => host,
    };
    let host = host.trim_start_matches('[').trim_end_matches(']');
    let ip = host.parse::<std::net::IpAddr>().ok();
    let loopback = host == "localhost" || ip.is_some_and(|ip| ip.is_loopback());
    // A name without dots (`localstack`, `moto`) is a container or host on the local
    // network (Docker Compose services are reached so), never one across the internet.
    let local_name = ip.is_none() && !host.contains('.');
    (!loopback && !local_name).then(|| {
        format!(
            "endpoint {endpoint} uses plain HTTP to a host that is not this machine; signed \
             requests and responses cross the network unencrypted"
        )
    })
}

#[cfg(test)]
mod tests {
    use super::{check_endpoint, endpoint_warning};

    #[test]
    fn only_remote_plain_http_warns() {
        assert!(endpoint_warning("http://127.0.0.1:4566").is_none());
        assert!(endpoint_warning("http://localhost:5000/").is_none());
        assert!(endpoint_warning("http://[::1]:4566").is_none());
        assert!(endpoint_warning("https://ec2.us-east-1.amazonaws.com").is_none());
        assert!(endpoint_warning("http://10.1.2.3:4566").is_some());
        assert!(endpoint_warning("http://emulator.internal").is_some());
        assert!(endpoint_warning("http://aws-stand-in:4566").is_none());
        let warning = endpoint_warning("http://stand-in.example.com:5000").unwrap_or_default();
        assert!(warning.starts_with("endpoint http://stand-in.example.com:5000 uses plain HTTP"));
    }

    #[test]
    fn an_endpoint_without_scheme_or_host_is_named() {
        for (url, problem) in [
            ("localhost:5631", "has no scheme"),
            ("ftp://localhost:5631", "scheme other than http"),
            ("http://", "has no host"),
        ] {
            let err = check_endpoint(url, "--endpoint-url")
                .expect_err(url)
                .to_string();
            assert!(err.contains(problem), "{url}: {err}");
            assert!(!err.contains("SdkBody"), "{err}");
        }
        assert!(
            check_endpoint("localhost:5631", "--endpoint-url")
                .expect_err("no scheme")
                .to_string()
                .contains("write http://localhost:5631")
        );
        for url in [
            "http://127.0.0.1:4566",
            "https://kms.eu-west-1.amazonaws.com",
            "http://localstack:4566/",
        ] {
            assert!(check_endpoint(url, "--endpoint-url").is_ok(), "{url}");
        }
    }
}
