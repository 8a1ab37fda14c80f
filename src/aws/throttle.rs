//! Client-side request token buckets, so a large plan or apply spends its requests at the
//! rate AWS refills them instead of running into `RequestLimitExceeded` (and spending the
//! SDK's retry quota on it).
//!
//! EC2 throttles each API action of an account and region with a token bucket of its own,
//! sized by the action's class ("Request throttling for the Amazon EC2 API",
//! https://docs.aws.amazon.com/ec2/latest/devguide/ec2-api-throttling.html): non-mutating
//! actions hold 100 tokens and refill 20 per second, unfiltered and unpaginated describes 50
//! and 10, mutating actions 50 and 5, CreateTags and DeleteTags 100 and 10. secinfra keeps one
//! bucket per action the same way, but fills it only to `SHARE` of AWS's size and rate: the
//! account's buckets are shared with every other client of the account, and requests
//! spaced exactly at AWS's rate can arrive closer together than they left.
//!
//! Every attempt takes a token, retries included, as on AWS. `--max-rps N` adds one bucket
//! of N requests per second over every service; `--max-rps off` turns client-side limiting
//! off. The limiter sits in the HTTP client, under every SDK client of the run.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use aws_smithy_runtime_api::client::http::{
    HttpClient, HttpConnector, HttpConnectorFuture, HttpConnectorSettings, SharedHttpClient,
    SharedHttpConnector,
};
use aws_smithy_runtime_api::client::orchestrator::HttpRequest;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;

/// The share of each AWS bucket's size and refill rate secinfra uses.
const SHARE: f64 = 0.8;

/// How requests are rate-limited on this side.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub enum RateLimit {
    /// EC2's per-action buckets (the default).
    #[default]
    AwsBuckets,
    /// EC2's buckets, and at most this many requests per second over all services.
    AtMost(f64),
    /// No client-side limiting.
    Off,
}

impl std::str::FromStr for RateLimit {
    type Err = String;

    fn from_str(text: &str) -> Result<RateLimit, String> {
        match text.trim() {
            "off" => Ok(RateLimit::Off),
            number => match number.parse::<f64>() {
                Ok(n) if n.is_finite() && n > 0.0 => Ok(RateLimit::AtMost(n)),
                _ => Err(format!(
                    "`{text}`: give requests per second as a positive number (e.g. 10, 2.5), \
                     or `off`"
                )),
            },
        }
    }
}

/// One bucket: `capacity` tokens, refilled at `rate` per second. A request that finds it
/// empty reserves the next token (the count goes below zero) and waits until it is due.
#[derive(Debug)]
struct Bucket {
    tokens: f64,
    capacity: f64,
    rate: f64,
    at: Instant,
}

impl Bucket {
    fn new(capacity: f64, rate: f64) -> Bucket {
        Bucket {
            tokens: capacity,
            capacity,
            rate,
            at: Instant::now(),
        }
    }

    /// Takes a token; how long to wait for it.
    fn take(&mut self, now: Instant) -> Duration {
        let refilled = self.tokens + now.duration_since(self.at).as_secs_f64() * self.rate;
        self.tokens = refilled.min(self.capacity) - 1.0;
        self.at = now;
        if self.tokens >= 0.0 {
            Duration::ZERO
        } else {
            Duration::from_secs_f64(-self.tokens / self.rate)
        }
    }
}

/// EC2's bucket class of an action: (capacity, refill per second).
pub fn ec2_bucket(action: &str, unfiltered: bool) -> (f64, f64) {
    let reads = ["Describe", "Get", "List", "Search"];
    match action {
        "CreateTags" | "DeleteTags" => (100.0, 10.0),
        a if reads.iter().any(|p| a.starts_with(p)) => {
            if unfiltered && a.starts_with("Describe") {
                (50.0, 10.0)
            } else {
                (100.0, 20.0)
            }
        }
        _ => (50.0, 5.0),
    }
}

/// What the limiter needs to know of a request.
#[derive(Debug, PartialEq, Eq)]
pub struct RequestClass {
    pub service: String,
    pub action: Option<String>,
    /// A describe with no filter, id list or page size.
    pub unfiltered: bool,
}

/// The service from the SigV4 credential scope, and for Query-protocol services (EC2)
/// the action and whether it names filters, ids or a page size.
pub fn classify(request: &HttpRequest) -> RequestClass {
    let service = request
        .headers()
        .get("authorization")
        .and_then(|auth| auth.split("Credential=").nth(1))
        .and_then(|credential| credential.split(['/', ',']).nth(3))
        .unwrap_or("")
        .to_string();
    let body = request
        .body()
        .bytes()
        .and_then(|b| std::str::from_utf8(b).ok())
        .unwrap_or("");
    let mut action = None;
    let mut parameters = 0;
    for pair in body.split('&') {
        match pair.split_once('=') {
            Some(("Action", value)) => action = Some(value.to_string()),
            Some(("Version", _)) | Some(("DryRun", _)) => {}
            Some(_) => parameters += 1,
            None => {}
        }
    }
    // JSON-protocol services name the action in the target header (`…_20131101.LookupEvents`).
    if action.is_none() {
        action = request
            .headers()
            .get("x-amz-target")
            .and_then(|target| target.rsplit('.').next())
            .map(str::to_string);
    }
    RequestClass {
        service,
        action,
        unfiltered: parameters == 0,
    }
}

/// Buckets AWS documents for a few actions of other services: (capacity, refill per
/// second). CloudTrail's LookupEvents: "The rate of lookup requests is limited to two per
/// second, per account, per Region"
/// (https://docs.aws.amazon.com/awscloudtrail/latest/APIReference/API_LookupEvents.html).
fn documented_bucket(class: &RequestClass) -> Option<(f64, f64)> {
    match (class.service.as_str(), class.action.as_deref()?) {
        ("cloudtrail", "LookupEvents") => Some((2.0, 2.0)),
        _ => None,
    }
}

/// Every bucket of one run.
#[derive(Debug)]
pub struct Limiter {
    limit: RateLimit,
    buckets: Mutex<HashMap<String, Bucket>>,
    /// Total time requests spent waiting for tokens (reported with -v).
    waited: Mutex<Duration>,
}

impl Limiter {
    pub fn new(limit: RateLimit) -> Limiter {
        Limiter {
            limit,
            buckets: Mutex::new(HashMap::new()),
            waited: Mutex::new(Duration::ZERO),
        }
    }

    /// How long this request must wait before it is sent (its tokens are taken now).
    pub fn reserve(&self, class: &RequestClass) -> Duration {
        let now = Instant::now();
        let Ok(mut buckets) = self.buckets.lock() else {
            return Duration::ZERO;
        };
        let mut wait = Duration::ZERO;
        if self.limit == RateLimit::Off {
            return wait;
        }
        if class.service == "ec2"
            && let Some(action) = &class.action
        {
            let (capacity, rate) = ec2_bucket(action, class.unfiltered);
            let key = format!("ec2:{action}:{}", class.unfiltered);
            let bucket = buckets
                .entry(key)
                .or_insert_with(|| Bucket::new(capacity * SHARE, rate * SHARE));
            wait = wait.max(bucket.take(now));
        }
        if let Some((capacity, rate)) = documented_bucket(class) {
            let key = format!(
                "{}:{}",
                class.service,
                class.action.as_deref().unwrap_or("")
            );
            // Whole tokens, at least one: a bucket of 1.6 would let two requests through at once.
            let bucket = buckets
                .entry(key)
                .or_insert_with(|| Bucket::new((capacity * SHARE).floor().max(1.0), rate * SHARE));
            wait = wait.max(bucket.take(now));
        }
        if let RateLimit::AtMost(rps) = self.limit {
            let bucket = buckets
                .entry("*".to_string())
                .or_insert_with(|| Bucket::new(rps.max(1.0), rps));
            wait = wait.max(bucket.take(now));
        }
        if !wait.is_zero()
            && let Ok(mut waited) = self.waited.lock()
        {
            *waited += wait;
        }
        wait
    }

    pub fn waited(&self) -> Duration {
        self.waited.lock().map(|w| *w).unwrap_or_default()
    }
}

/// The HTTP client every SDK client of a run uses: the SDK's own, behind the limiter.
#[derive(Clone, Debug)]
pub struct LimitedClient {
    inner: SharedHttpClient,
    limiter: Arc<Limiter>,
}

impl LimitedClient {
    pub fn new(limiter: Arc<Limiter>) -> LimitedClient {
        LimitedClient {
            inner: default_https_client(),
            limiter,
        }
    }
}

/// The client the SDK builds by default (rustls with AWS-LC, proxies from the
/// environment), built here so it can be wrapped.
fn default_https_client() -> SharedHttpClient {
    use aws_smithy_http_client::proxy::ProxyConfig;
    use aws_smithy_http_client::tls::{self, rustls_provider::CryptoMode};
    use aws_smithy_http_client::{Builder, ConnectorBuilder};
    Builder::new().build_with_connector_fn(|settings, components| {
        let mut connector =
            ConnectorBuilder::default().tls_provider(tls::Provider::Rustls(CryptoMode::AwsLc));
        connector.set_connector_settings(settings.cloned());
        if let Some(components) = components {
            connector.set_sleep_impl(components.sleep_impl());
        }
        connector.set_proxy_config(Some(ProxyConfig::from_env()));
        connector.build()
    })
}

impl HttpClient for LimitedClient {
    fn http_connector(
        &self,
        settings: &HttpConnectorSettings,
        components: &RuntimeComponents,
    ) -> SharedHttpConnector {
        SharedHttpConnector::new(LimitedConnector {
            inner: self.inner.http_connector(settings, components),
            limiter: Arc::clone(&self.limiter),
        })
    }
}

#[derive(Debug)]
struct LimitedConnector {
    inner: SharedHttpConnector,
    limiter: Arc<Limiter>,
}

impl HttpConnector for LimitedConnector {
    fn call(&self, request: HttpRequest) -> HttpConnectorFuture {
        let wait = self.limiter.reserve(&classify(&request));
        let inner = self.inner.clone();
        HttpConnectorFuture::new(async move {
            if !wait.is_zero() {
                tokio::time::sleep(wait).await;
            }
            inner.call(request).await
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_smithy_types::body::SdkBody;

    fn request(service: &str, body: &str) -> HttpRequest {
        let mut request = HttpRequest::new(SdkBody::from(body.to_string()));
        request.headers_mut().insert(
            "authorization",
            format!(
                "AWS4-HMAC-SHA256 Credential=AKID/20261130/us-east-1/{service}/aws4_request, SignedHeaders=host, Signature=x"
            ),
        );
        request
    }

    #[test]
    fn requests_are_classified_by_service_action_and_filters() {
        let filtered = classify(&request(
            "ec2",
            "Action=DescribeSubnets&Version=2016-11-15&Filter.1.Name=tag%3Asecinfra%3Astack&Filter.1.Value.1=s",
        ));
        assert_eq!(filtered.service, "ec2");
        assert_eq!(filtered.action.as_deref(), Some("DescribeSubnets"));
        assert!(!filtered.unfiltered);
        assert!(classify(&request("ec2", "Action=DescribeRegions&Version=2016-11-15")).unfiltered);
        let json = classify(&request("kms", "{}"));
        assert_eq!((json.service.as_str(), json.action), ("kms", None));
    }

    #[test]
    fn cloudtrail_lookups_are_spaced_at_the_documented_two_per_second() {
        let mut lookup = request("cloudtrail", "{}");
        lookup.headers_mut().insert(
            "x-amz-target",
            "com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101.LookupEvents",
        );
        let class = classify(&lookup);
        assert_eq!(class.action.as_deref(), Some("LookupEvents"));
        let limiter = Limiter::new(RateLimit::AwsBuckets);
        let waits: Vec<Duration> = (0..4).map(|_| limiter.reserve(&class)).collect();
        assert_eq!(waits[0], Duration::ZERO);
        // 0.8 × 2 per second: after the one-token burst, one every 625 ms.
        assert!(waits[1] > Duration::from_millis(600), "{waits:?}");
        assert!(waits[3] > Duration::from_millis(1800), "{waits:?}");
        // Other CloudTrail calls are not held to the lookup's bucket.
        let mut other = request("cloudtrail", "{}");
        other.headers_mut().insert(
            "x-amz-target",
            "com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101.DescribeTrails",
        );
        assert_eq!(limiter.reserve(&classify(&other)), Duration::ZERO);
    }

    #[test]
    fn ec2_classes_follow_the_documented_buckets() {
        assert_eq!(ec2_bucket("DescribeVpcs", false), (100.0, 20.0));
        assert_eq!(ec2_bucket("DescribeSecurityGroups", true), (50.0, 10.0));
        assert_eq!(ec2_bucket("CreateSecurityGroup", false), (50.0, 5.0));
        assert_eq!(
            ec2_bucket("AuthorizeSecurityGroupIngress", false),
            (50.0, 5.0)
        );
        assert_eq!(ec2_bucket("CreateTags", false), (100.0, 10.0));
    }

    #[test]
    fn a_bucket_lends_its_burst_then_spaces_requests_at_its_rate() {
        let start = Instant::now();
        let mut bucket = Bucket::new(2.0, 4.0);
        bucket.at = start;
        assert_eq!(bucket.take(start), Duration::ZERO);
        assert_eq!(bucket.take(start), Duration::ZERO);
        assert_eq!(bucket.take(start), Duration::from_millis(250));
        assert_eq!(bucket.take(start), Duration::from_millis(500));
        // Half a second later both reserved tokens have come in.
        assert_eq!(
            bucket.take(start + Duration::from_millis(500)),
            Duration::from_millis(250)
        );
    }

    #[test]
    fn limits_apply_per_action_and_over_all_services() {
        let limiter = Limiter::new(RateLimit::AwsBuckets);
        let create = classify(&request("ec2", "Action=CreateSubnet&VpcId=vpc-1"));
        let burst = (50.0 * SHARE) as usize;
        for _ in 0..burst {
            assert_eq!(limiter.reserve(&create), Duration::ZERO);
        }
        assert!(
            limiter.reserve(&create) > Duration::ZERO,
            "the mutating burst is spent"
        );
        let describe = classify(&request("ec2", "Action=DescribeSubnets&Filter.1.Name=x"));
        assert_eq!(
            limiter.reserve(&describe),
            Duration::ZERO,
            "another action's bucket"
        );
        let kms = classify(&request("kms", "{}"));
        assert_eq!(
            limiter.reserve(&kms),
            Duration::ZERO,
            "no KMS buckets by default"
        );

        let capped = Limiter::new(RateLimit::AtMost(2.0));
        assert_eq!(capped.reserve(&kms), Duration::ZERO);
        assert_eq!(capped.reserve(&kms), Duration::ZERO);
        assert!(capped.reserve(&kms) >= Duration::from_millis(400));
        let off = Limiter::new(RateLimit::Off);
        for _ in 0..100 {
            assert_eq!(off.reserve(&create), Duration::ZERO);
        }
    }

    #[test]
    fn rate_limits_parse() {
        assert_eq!("off".parse::<RateLimit>(), Ok(RateLimit::Off));
        assert_eq!("2.5".parse::<RateLimit>(), Ok(RateLimit::AtMost(2.5)));
        for bad in ["0", "-1", "fast", "", "inf"] {
            assert!(bad.parse::<RateLimit>().is_err(), "{bad}");
        }
    }
}
