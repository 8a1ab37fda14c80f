//! The `monitoring:` section: a CloudTrail trail with its S3 bucket (SSE-KMS, no public
//! access, versioned, TLS only, expiring) and CloudWatch Logs group, and the region's
//! GuardDuty detector and Security Hub with its standards. The trail's KMS key gets the
//! grants CloudTrail and CloudWatch Logs need to use it, scoped to this trail and this log
//! group.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Value, json};

use super::Checker;
use super::kms::KeyFacts;
use super::log_groups::log_group_key_statement;
use crate::blueprint::span::{Span, Spanned};
use crate::limits::Limit;
use crate::model::{
    Address, AlarmProps, BucketProps, DetectorProps, GUARDDUTY_FEATURES, IamRoleProps, Kind,
    LogGroupProps, MetricFilterProps, Props, Ref, SecurityHubProps, SnsTopicProps, Tags,
    TrailProps,
};
use crate::naming;
use schemars::JsonSchema;
use serde::Deserialize;

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Monitoring {
    /// One trail recording the account's API calls.
    #[serde(default)]
    pub cloudtrail: Option<CloudTrail>,
    /// The region's GuardDuty detector (an existing one is adopted, never duplicated).
    #[serde(default)]
    pub guardduty: Option<GuardDuty>,
    /// The region's Security Hub and its security standards.
    #[serde(default)]
    pub security_hub: Option<SecurityHub>,
    /// The stack's SNS topic for alerts (`<stack>-security-alerts`): encrypted with a KMS
    /// key, only this account's CloudWatch alarms may publish to it, and it notifies the
    /// declared e-mail addresses and HTTPS endpoints.
    #[serde(default)]
    pub alert_topic: Option<AlertTopic>,
    /// Alerts: the CIS AWS Foundations monitoring set as metric filters on the trail's log
    /// group with alarms, and optionally an alarm on WAF blocked requests.
    #[serde(default)]
    pub alarms: Option<Alarms>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Alarms {
    /// The SNS topic alarms notify when it is managed elsewhere: its ARN, or a topic name
    /// in this account and region. Omitted, alarms notify `monitoring.alert_topic`.
    #[serde(default)]
    pub sns_topic: Option<Spanned<String>>,
    /// An alarm when a web ACL blocks many requests (an attack, or a rule gone wrong).
    #[serde(default)]
    pub waf_blocked_requests: Option<WafBlockedAlarm>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AlertTopic {
    /// Topic name (default `<stack>-security-alerts`).
    #[serde(default)]
    #[schemars(transform = schema::topic_name)]
    pub name: Option<Spanned<String>>,
    /// The KMS key encrypting messages at rest (`kms_key.s3`); its key policy gets the
    /// grant CloudWatch needs to publish to an encrypted topic.
    pub kms_key: Spanned<String>,
    /// Who is notified: e-mail addresses and `https://` URLs. Each gets a message asking
    /// it to confirm, and receives alerts once it has.
    #[serde(default)]
    #[schemars(transform = schema::subscriptions)]
    pub subscriptions: Vec<Spanned<String>>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct WafBlockedAlarm {
    /// The web ACL by reference (`web_acl.api`).
    pub web_acl: Spanned<String>,
    /// Blocked requests per period that raise the alarm.
    pub threshold: Spanned<i64>,
    /// Period in minutes (default 5).
    #[serde(default)]
    #[schemars(transform = schema::alarm_period_minutes)]
    pub period_minutes: Option<Spanned<i64>>,
}

/// A CloudTrail trail (`<stack>-trail`), its S3 bucket and its CloudWatch Logs group.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CloudTrail {
    /// Record every region's API calls (default true).
    #[serde(default)]
    pub multi_region: Option<Spanned<bool>>,
    /// Digest files that prove log files were not changed (default true).
    #[serde(default)]
    pub log_file_validation: Option<Spanned<bool>>,
    /// Management events recorded: `all` (default), `read_only`, `write_only`.
    #[serde(default)]
    #[schemars(transform = schema::management_events)]
    pub management_events: Option<Spanned<String>>,
    /// The KMS key encrypting log files, the bucket and the log group (`kms_key.s3`);
    /// its key policy gets the CloudTrail and CloudWatch Logs grants it needs.
    pub kms_key: Spanned<String>,
    pub bucket: TrailBucket,
    /// Delivery to CloudWatch Logs, where metric filters and alarms can watch the trail.
    #[serde(default)]
    pub cloudwatch_logs: Option<TrailLogs>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TrailBucket {
    /// Bucket name (globally unique); default `<stack>-cloudtrail-<account>`.
    #[serde(default)]
    #[schemars(transform = schema::bucket_name)]
    pub name: Option<Spanned<String>>,
    /// Days log files are kept before they expire.
    #[schemars(transform = schema::bucket_retention_days)]
    pub retention_days: Spanned<i64>,
    /// Deleting the bucket (and the audit trail in it) is held unless this is false or
    /// the command gets --allow-delete-protected (default true).
    #[serde(default)]
    pub protect: Option<Spanned<bool>>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TrailLogs {
    /// Log group name (default `/secinfra/<stack>/cloudtrail`).
    #[serde(default)]
    #[schemars(transform = schema::log_group)]
    pub log_group: Option<Spanned<String>>,
    /// Days to keep events; one of CloudWatch Logs' retention values.
    #[schemars(transform = schema::log_retention)]
    pub retention_days: Spanned<i64>,
    /// The role CloudTrail writes to the group with; omit to let secinfra create a
    /// least-privilege one.
    #[serde(default)]
    pub iam_role_arn: Option<Spanned<String>>,
    /// Deleting or replacing the log group (and the audit events in it) is held unless this is
    /// false or the command gets --allow-delete-protected (default true).
    #[serde(default)]
    pub protect: Option<Spanned<bool>>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GuardDuty {
    /// Whether the detector runs (default true).
    #[serde(default)]
    pub enabled: Option<Spanned<bool>>,
    /// How often updated findings are published: `15m` (default), `1h` or `6h`.
    #[serde(default)]
    #[schemars(transform = schema::finding_frequency)]
    pub finding_frequency: Option<Spanned<String>>,
    /// Protection plans to turn on (`s3_data_events`, `ebs_malware_protection`,
    /// `rds_login_events`, `runtime_monitoring`, `eks_audit_logs`, `lambda_network_logs`);
    /// the others are turned off.
    #[serde(default)]
    #[schemars(transform = schema::guardduty_features)]
    pub features: Vec<Spanned<String>>,
}

/// The region's Security Hub (CSPM): enabled (an existing hub is adopted, never enabled
/// twice) and subscribed to exactly the declared standards.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SecurityHub {
    /// Whether the stack keeps Security Hub on (default true). `false` declares nothing:
    /// a hub the stack enabled is then disabled, one it adopted is left alone.
    #[serde(default)]
    pub enabled: Option<Spanned<bool>>,
    /// Standards to subscribe; any other subscribed standard is unsubscribed. A name
    /// with its version (`cis-aws-foundations-benchmark/v/5.0.0`; the version may be left
    /// out where there is one: `aws-foundational-security-best-practices`), or a
    /// standard's ARN for one secinfra does not know yet.
    #[serde(default)]
    #[schemars(transform = schema::security_hub_standards)]
    pub standards: Vec<Spanned<String>>,
    /// Enable controls AWS adds to subscribed standards later (default true).
    #[serde(default)]
    pub auto_enable_controls: Option<Spanned<bool>>,
    /// One finding per control across all standards rather than one per standard
    /// (default true, AWS's default for new hubs).
    #[serde(default)]
    pub consolidated_control_findings: Option<Spanned<bool>>,
}

pub(crate) const FINDING_FREQUENCIES: &[(&str, &str)] = &[
    ("15m", "FIFTEEN_MINUTES"),
    ("1h", "ONE_HOUR"),
    ("6h", "SIX_HOURS"),
];

/// The CIS AWS Foundations Benchmark monitoring controls: name, description, CloudTrail
/// event pattern.
const CIS_ALARMS: &[(&str, &str, &str)] = &[
    (
        "unauthorized-api-calls",
        "Unauthorized API calls (CIS 4.1)",
        r#"{ ($.errorCode = "*UnauthorizedOperation") || ($.errorCode = "AccessDenied*") }"#,
    ),
    (
        "console-sign-in-failures",
        "Failed console sign-ins (CIS 4.6)",
        r#"{ ($.eventName = ConsoleLogin) && ($.errorMessage = "Failed authentication") }"#,
    ),
    (
        "root-account-use",
        "Use of the root account (CIS 4.3)",
        r#"{ $.userIdentity.type = "Root" && $.userIdentity.invokedBy NOT EXISTS && $.eventType != "AwsServiceEvent" }"#,
    ),
    (
        "security-group-changes",
        "Security group changes (CIS 4.10)",
        r#"{ ($.eventName = AuthorizeSecurityGroupIngress) || ($.eventName = AuthorizeSecurityGroupEgress) || ($.eventName = RevokeSecurityGroupIngress) || ($.eventName = RevokeSecurityGroupEgress) || ($.eventName = CreateSecurityGroup) || ($.eventName = DeleteSecurityGroup) }"#,
    ),
    (
        "nacl-changes",
        "Network ACL changes (CIS 4.11)",
        r#"{ ($.eventName = CreateNetworkAcl) || ($.eventName = CreateNetworkAclEntry) || ($.eventName = DeleteNetworkAcl) || ($.eventName = DeleteNetworkAclEntry) || ($.eventName = ReplaceNetworkAclEntry) || ($.eventName = ReplaceNetworkAclAssociation) }"#,
    ),
    (
        "route-table-changes",
        "Route table changes (CIS 4.13)",
        r#"{ ($.eventSource = ec2.amazonaws.com) && (($.eventName = CreateRoute) || ($.eventName = CreateRouteTable) || ($.eventName = ReplaceRoute) || ($.eventName = ReplaceRouteTableAssociation) || ($.eventName = DeleteRouteTable) || ($.eventName = DeleteRoute) || ($.eventName = DisassociateRouteTable)) }"#,
    ),
    (
        "kms-key-disabled-or-deleted",
        "KMS keys disabled or scheduled for deletion (CIS 4.7)",
        r#"{ ($.eventSource = kms.amazonaws.com) && (($.eventName = DisableKey) || ($.eventName = ScheduleKeyDeletion)) }"#,
    ),
    (
        "cloudtrail-changes",
        "CloudTrail configuration changes (CIS 4.5)",
        r#"{ ($.eventName = CreateTrail) || ($.eventName = UpdateTrail) || ($.eventName = DeleteTrail) || ($.eventName = StartLogging) || ($.eventName = StopLogging) }"#,
    ),
];

/// Security Hub standards secinfra knows by name, with their versions, newest first.
pub(crate) const SECURITY_HUB_STANDARDS: &[(&str, &[&str])] = &[
    ("aws-foundational-security-best-practices", &["1.0.0"]),
    (
        "cis-aws-foundations-benchmark",
        &["5.0.0", "3.0.0", "1.4.0", "1.2.0"],
    ),
    ("nist-800-53", &["5.0.0"]),
    ("pci-dss", &["4.0.1", "3.2.1"]),
    ("aws-resource-tagging-standard", &["1.0.0"]),
];

/// The region-independent part of a standard's ARN (`standards/<name>/v/<version>`; CIS
/// 1.2.0 predates standards and is a `ruleset/`), from a known name or an ARN. The error
/// is a message and what to do.
fn standard_id(given: &str) -> Result<String, (String, String)> {
    if given.starts_with("arn:") {
        let parts: Vec<&str> = given.splitn(6, ':').collect();
        return match parts.as_slice() {
            [_, _, "securityhub", _, "", resource]
                if resource.starts_with("standards/") || resource.starts_with("ruleset/") =>
            {
                Ok(resource.to_string())
            }
            _ => Err((
                format!("`{given}` is not a Security Hub standard's ARN"),
                "write arn:aws:securityhub:<region>::standards/<name>/v/<version> (see aws \
                 securityhub describe-standards), or a standard's name"
                    .into(),
            )),
        };
    }
    let (name, version) = match given.split_once("/v/") {
        Some((name, version)) => (name, Some(version)),
        None => (given, None),
    };
    let names: Vec<&str> = SECURITY_HUB_STANDARDS.iter().map(|(n, _)| *n).collect();
    let Some((name, versions)) = SECURITY_HUB_STANDARDS.iter().find(|(n, _)| *n == name) else {
        return Err((
            format!("`{given}` is not a Security Hub standard secinfra knows"),
            crate::blueprint::de::suggest(name, &names, "standards")
                + "; for another, write its ARN",
        ));
    };
    let with_versions = || {
        versions
            .iter()
            .map(|v| format!("`{name}/v/{v}`"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let version = match version {
        Some(v) if versions.contains(&v) => v,
        Some(v) => {
            return Err((
                format!("Security Hub has no version {v} of `{name}` that secinfra knows"),
                format!("write one of {}, or the standard's ARN", with_versions()),
            ));
        }
        None if versions.len() == 1 => versions[0],
        None => {
            return Err((
                format!("`{name}` has several versions; say which"),
                format!("write one of {} (newest first)", with_versions()),
            ));
        }
    };
    Ok(
        if *name == "cis-aws-foundations-benchmark" && version == "1.2.0" {
            format!("ruleset/{name}/v/{version}")
        } else {
            format!("standards/{name}/v/{version}")
        },
    )
}

/// Days the trail bucket keeps log files.
pub(crate) const BUCKET_RETENTION_DAYS: std::ops::RangeInclusive<i64> = 1..=36_500;
/// Minutes an alarm's period may last (a day).
pub(crate) const ALARM_PERIOD_MINUTES: std::ops::RangeInclusive<i64> = 1..=1440;

pub(crate) const MANAGEMENT_EVENTS: &[(&str, &str)] = &[
    ("all", "All"),
    ("read_only", "ReadOnly"),
    ("write_only", "WriteOnly"),
];

/// Where the ARNs of this trail's pieces point (`*` for what validation cannot know yet).
struct TrailArns {
    partition: &'static str,
    region: String,
    account: String,
    trail: String,
    bucket: String,
}

impl Checker<'_> {
    pub(super) fn monitoring(
        &mut self,
        monitoring: Option<&Monitoring>,
        keys: &BTreeMap<String, KeyFacts>,
    ) {
        let Some(monitoring) = monitoring else { return };
        if let Some(trail) = &monitoring.cloudtrail {
            self.cloudtrail(trail, keys);
        }
        if let Some(guardduty) = &monitoring.guardduty {
            self.guardduty(guardduty);
        }
        if let Some(hub) = &monitoring.security_hub {
            self.security_hub(hub);
        }
        let stack_topic = monitoring
            .alert_topic
            .as_ref()
            .map(|topic| (self.alert_topic(topic, keys), topic.kms_key.span));
        if let Some(alarms) = &monitoring.alarms {
            self.alarms(alarms, stack_topic);
        }
    }

    /// The CIS monitoring set (a metric filter on the trail's log group and an alarm for
    /// each) and the optional WAF alarm, all notifying one SNS topic: one managed elsewhere
    /// (`sns_topic`) or the stack's own (`monitoring.alert_topic`).
    fn alarms(&mut self, alarms: &Alarms, stack_topic: Option<(Ref, Span)>) {
        let path = "monitoring.alarms";
        let (topic, span) = match (&alarms.sns_topic, stack_topic) {
            (Some(given), _) => (self.external_topic(given, path), given.span),
            (None, Some(topic)) => topic,
            (None, None) => {
                self.error(self.stack_span, path, "the alarms have no topic to notify")
                    .help = Some(
                    "declare monitoring.alert_topic (`{ kms_key: kms_key.<name>, subscriptions: \
                     [you@example.com] }`), or give alarms.sns_topic (a topic managed elsewhere)"
                        .into(),
                );
                return;
            }
        };
        let prefix = naming::monitoring_prefix(&self.stack);
        let namespace = format!("secinfra/{}", self.stack);
        let log_group = Address::new(Kind::LogGroup, "cloudtrail");
        if self.resources.contains_key(&log_group) {
            for (name, description, pattern) in CIS_ALARMS {
                self.add(
                    span,
                    Address::new(Kind::MetricFilter, *name),
                    Props::MetricFilter(MetricFilterProps {
                        name: format!("{prefix}{name}"),
                        log_group: Ref::Address(log_group.clone()),
                        pattern: pattern.to_string(),
                        metric_namespace: namespace.clone(),
                        metric_name: name.to_string(),
                    }),
                    Tags::new(),
                );
                self.add(
                    span,
                    Address::new(Kind::Alarm, *name),
                    Props::Alarm(AlarmProps {
                        name: format!("{prefix}{name}"),
                        description: description.to_string(),
                        namespace: namespace.clone(),
                        metric_name: name.to_string(),
                        dimensions: BTreeMap::new(),
                        statistic: "Sum".into(),
                        period_seconds: 300,
                        evaluation_periods: 1,
                        threshold: 1,
                        comparison: "GreaterThanOrEqualToThreshold".into(),
                        treat_missing_data: "notBreaching".into(),
                        actions: [topic.clone()].into(),
                    }),
                    Tags::new(),
                );
            }
        } else {
            self.error(
                span,
                path,
                "the CIS alarms watch the trail's CloudWatch Logs group, and there is none",
            )
            .help = Some(
                "add monitoring.cloudtrail.cloudwatch_logs (e.g. `{ retention_days: 90 }`)".into(),
            );
        }
        if let Some(waf) = &alarms.waf_blocked_requests {
            self.waf_alarm(waf, &topic, span, &prefix);
        }
    }

    fn waf_alarm(&mut self, waf: &WafBlockedAlarm, topic: &Ref, span: Span, prefix: &str) {
        let path = "monitoring.alarms.waf_blocked_requests";
        let wanted = waf.web_acl.value.trim();
        let acl = wanted
            .strip_prefix("web_acl.")
            .map(|name| Address::new(Kind::WebAcl, name))
            .and_then(
                |address| match self.resources.get(&address).map(|r| &r.props) {
                    Some(Props::WebAcl(p)) => Some(p.name.clone()),
                    _ => None,
                },
            );
        let Some(acl) = acl else {
            let names: Vec<String> = self
                .resources
                .keys()
                .filter(|a| a.kind == Kind::WebAcl)
                .map(|a| a.to_string())
                .collect();
            let names: Vec<&str> = names.iter().map(String::as_str).collect();
            let diagnostic = self.error(
                waf.web_acl.span,
                format!("{path}.web_acl"),
                format!("`{wanted}` is not a web ACL of this blueprint"),
            );
            diagnostic.help = Some(crate::blueprint::de::suggest(wanted, &names, "web ACLs"));
            return;
        };
        if waf.threshold.value < 1 {
            self.error(
                waf.threshold.span,
                format!("{path}.threshold"),
                "the threshold is a number of blocked requests, 1 or more",
            );
        }
        let minutes = waf.period_minutes.as_ref().map_or(5, |m| m.value);
        if !ALARM_PERIOD_MINUTES.contains(&minutes)
            && let Some(m) = &waf.period_minutes
        {
            {
                self.error(
                    m.span,
                    format!("{path}.period_minutes"),
                    format!("{minutes} minutes is not an alarm period CloudWatch accepts"),
                )
                .help = Some("write 1 to 1440 minutes".into());
            }
        }
        let region = self.region.clone().unwrap_or_else(|| "*".into());
        self.add(
            span,
            Address::new(Kind::Alarm, "waf-blocked-requests"),
            Props::Alarm(AlarmProps {
                name: format!("{prefix}waf-blocked-requests"),
                description: format!("Web ACL {acl} blocked many requests"),
                namespace: "AWS/WAFV2".into(),
                metric_name: "BlockedRequests".into(),
                dimensions: [
                    ("WebACL".to_string(), acl.clone()),
                    ("Region".to_string(), region),
                    ("Rule".to_string(), "ALL".to_string()),
                ]
                .into(),
                statistic: "Sum".into(),
                period_seconds: (minutes.clamp(1, 1440) * 60) as i32,
                evaluation_periods: 1,
                threshold: waf.threshold.value.max(1),
                comparison: "GreaterThanOrEqualToThreshold".into(),
                treat_missing_data: "notBreaching".into(),
                actions: [topic.clone()].into(),
            }),
            Tags::new(),
        );
    }

    fn cloudtrail(&mut self, trail: &CloudTrail, keys: &BTreeMap<String, KeyFacts>) {
        let path = "monitoring.cloudtrail";
        let region = self.region.clone().unwrap_or_else(|| "*".into());
        let account = self.account.clone().unwrap_or_else(|| "*".into());
        let partition = naming::partition(&region);
        let name = format!("{}-trail", self.stack);
        let bucket_name = match &trail.bucket.name {
            Some(given) => {
                if let Err(problem) = naming::check_bucket_name(&given.value) {
                    self.error(
                        given.span,
                        format!("{path}.bucket.name"),
                        format!("invalid bucket name `{}`: {problem}", given.value),
                    )
                    .help = Some(
                        "use 3-63 lowercase letters, digits, hyphens and dots, starting and \
                         ending with a letter or digit (names are global across AWS)"
                            .into(),
                    );
                }
                given.value.clone()
            }
            None => naming::trail_bucket_name(&self.stack, &account),
        };
        let arns = TrailArns {
            partition,
            trail: format!("arn:{partition}:cloudtrail:{region}:{account}:trail/{name}"),
            bucket: format!("arn:{partition}:s3:::{bucket_name}"),
            region,
            account,
        };
        let kms_key = self.kms_key_ref(
            &trail.kms_key,
            keys,
            &format!("{path}.kms_key"),
            "CloudTrail",
        );
        let retention = &trail.bucket.retention_days;
        if !BUCKET_RETENTION_DAYS.contains(&retention.value) {
            self.error(
                retention.span,
                format!("{path}.bucket.retention_days"),
                format!(
                    "{} days is not a lifetime S3 can expire objects after",
                    retention.value
                ),
            )
            .help = Some("write a number of days from 1 to 36500".into());
        }
        let management_events = self.choice(
            trail.management_events.as_ref(),
            MANAGEMENT_EVENTS,
            "All",
            &format!("{path}.management_events"),
            "management events",
        );
        let bucket = Address::new(Kind::S3Bucket, "cloudtrail");
        let bucket_tags = super::protection_tags(trail.bucket.protect.as_ref());
        self.add(
            trail.kms_key.span,
            bucket.clone(),
            Props::S3Bucket(BucketProps {
                name: bucket_name,
                kms_key: kms_key.clone(),
                block_public_acls: true,
                ignore_public_acls: true,
                block_public_policy: true,
                restrict_public_buckets: true,
                versioning: true,
                policy: crate::policy::normalize(&trail_bucket_policy(&arns)),
                expire_days: Some(
                    retention
                        .value
                        .clamp(*BUCKET_RETENTION_DAYS.start(), *BUCKET_RETENTION_DAYS.end())
                        as i32,
                ),
            }),
            bucket_tags,
        );

        let (log_group, role) = match &trail.cloudwatch_logs {
            Some(logs) => self.trail_logs(logs, kms_key.as_ref(), &arns, trail.kms_key.span),
            None => (None, None),
        };
        if let Some(Ref::Address(key)) = &kms_key {
            let group = match &log_group {
                Some(Ref::Address(address)) => {
                    match self.resources.get(address).map(|r| &r.props) {
                        Some(Props::LogGroup(p)) => Some(p.name.clone()),
                        _ => None,
                    }
                }
                _ => None,
            };
            self.grant_key(key, trail_key_statements(&arns, group.as_deref()));
        }
        self.add(
            trail.kms_key.span,
            Address::new(Kind::Trail, "main"),
            Props::Trail(TrailProps {
                name,
                bucket: Ref::Address(bucket),
                kms_key,
                multi_region: trail.multi_region.as_ref().is_none_or(|b| b.value),
                global_service_events: true,
                log_file_validation: trail.log_file_validation.as_ref().is_none_or(|b| b.value),
                log_group,
                cloudwatch_logs_role: role,
                management_events,
                logging: true,
            }),
            Tags::new(),
        );
    }

    /// The trail's log group and the role CloudTrail writes to it with.
    fn trail_logs(
        &mut self,
        logs: &TrailLogs,
        kms_key: Option<&Ref>,
        arns: &TrailArns,
        at: Span,
    ) -> (Option<Ref>, Option<Ref>) {
        let path = "monitoring.cloudtrail.cloudwatch_logs";
        let name = match &logs.log_group {
            Some(given) => {
                if let Err(problem) = naming::check_log_group_name(&given.value) {
                    self.error(
                        given.span,
                        format!("{path}.log_group"),
                        format!("invalid log group name `{}`: {problem}", given.value),
                    );
                }
                given.value.clone()
            }
            None => format!("/secinfra/{}/cloudtrail", self.stack),
        };
        let retention = self.retention(&logs.retention_days, &format!("{path}.retention_days"));
        let group = Address::new(Kind::LogGroup, "cloudtrail");
        self.add(
            at,
            group.clone(),
            Props::LogGroup(LogGroupProps {
                name: name.clone(),
                retention_days: retention,
                kms_key: kms_key.cloned(),
            }),
            super::protection_tags(logs.protect.as_ref()),
        );
        let role = match &logs.iam_role_arn {
            Some(arn) => {
                if !naming::is_role_arn(&arn.value) {
                    self.error(arn.span, format!("{path}.iam_role_arn"), format!("`{}` is not an IAM role ARN", arn.value))
                        .help = Some("write arn:aws:iam::<account>:role/<name>, or omit it to let secinfra create the role".into());
                }
                Ref::External(arn.value.clone())
            }
            None => {
                let role = Address::new(Kind::IamRole, "cloudtrail");
                let props = self.trail_role(&name, arns);
                self.add(at, role.clone(), Props::IamRole(props), Tags::new());
                Ref::Address(role)
            }
        };
        (Some(Ref::Address(group)), Some(role))
    }

    /// The least-privilege role CloudTrail assumes to write to the one log group, trusted
    /// only for this trail when the account is known.
    fn trail_role(&self, log_group: &str, arns: &TrailArns) -> IamRoleProps {
        let TrailArns {
            partition,
            region,
            account,
            trail,
            ..
        } = arns;
        let mut statement = json!({
            "Effect": "Allow",
            "Principal": {"Service": "cloudtrail.amazonaws.com"},
            "Action": "sts:AssumeRole",
        });
        if self.account.is_some() {
            statement["Condition"] = json!({"StringEquals": {"aws:SourceArn": trail}});
        }
        let group_arn = format!("arn:{partition}:logs:{region}:{account}:log-group:{log_group}");
        IamRoleProps {
            name: naming::role_name(&self.stack, region, "cloudtrail"),
            path: naming::role_path(&self.stack, region),
            assume_role_policy: crate::policy::normalize(&json!({
                "Version": "2012-10-17",
                "Statement": [statement],
            })),
            policy: crate::policy::normalize(&json!({
                "Version": "2012-10-17",
                "Statement": [{
                    "Sid": "WriteTrailEvents",
                    "Effect": "Allow",
                    "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
                    "Resource": format!("{group_arn}:log-stream:*"),
                }],
            })),
        }
    }

    fn guardduty(&mut self, guardduty: &GuardDuty) {
        let path = "monitoring.guardduty";
        let at = first_known([
            guardduty.enabled.as_ref().map(|e| e.span),
            guardduty.features.first().map(|f| f.span),
            guardduty.finding_frequency.as_ref().map(|f| f.span),
        ]);
        let finding_frequency = self.choice(
            guardduty.finding_frequency.as_ref(),
            FINDING_FREQUENCIES,
            "FIFTEEN_MINUTES",
            &format!("{path}.finding_frequency"),
            "finding frequency",
        );
        let mut features: BTreeMap<String, bool> = GUARDDUTY_FEATURES
            .iter()
            .map(|(_, api)| (api.to_string(), false))
            .collect();
        for feature in &guardduty.features {
            let wanted = feature.value.trim().to_ascii_lowercase();
            match GUARDDUTY_FEATURES
                .iter()
                .find(|(name, api)| *name == wanted || api.eq_ignore_ascii_case(&wanted))
            {
                Some((_, api)) => {
                    features.insert(api.to_string(), true);
                }
                None => {
                    let names: Vec<&str> = GUARDDUTY_FEATURES.iter().map(|(n, _)| *n).collect();
                    let diagnostic = self.error(
                        feature.span,
                        format!("{path}.features"),
                        format!("`{}` is not a GuardDuty protection plan", feature.value),
                    );
                    diagnostic.help = Some(crate::blueprint::de::suggest(
                        &wanted,
                        &names,
                        "protection plans",
                    ));
                }
            }
        }
        self.add(
            at,
            Address::new(Kind::GuarddutyDetector, "main"),
            Props::GuarddutyDetector(DetectorProps {
                enabled: guardduty.enabled.as_ref().is_none_or(|b| b.value),
                finding_frequency,
                features,
            }),
            Tags::new(),
        );
    }

    fn security_hub(&mut self, hub: &SecurityHub) {
        let at = first_known([
            hub.enabled.as_ref().map(|e| e.span),
            hub.standards.first().map(|s| s.span),
        ]);
        if hub.enabled.as_ref().is_some_and(|b| !b.value) {
            return;
        }
        let standards = hub
            .standards
            .iter()
            .filter_map(|given| {
                standard_id(given.value.trim())
                    .map_err(|(message, help)| {
                        self.error(given.span, "monitoring.security_hub.standards", message)
                            .help = Some(help);
                    })
                    .ok()
            })
            .collect();
        self.add(
            at,
            Address::new(Kind::SecurityHub, "main"),
            Props::SecurityHub(SecurityHubProps {
                standards,
                auto_enable_controls: hub.auto_enable_controls.as_ref().is_none_or(|b| b.value),
                consolidated_control_findings: hub
                    .consolidated_control_findings
                    .as_ref()
                    .is_none_or(|b| b.value),
            }),
            Tags::new(),
        );
    }

    /// One of a fixed set of values, written as the blueprint's short name or the API's.
    fn choice(
        &mut self,
        given: Option<&Spanned<String>>,
        allowed: &[(&str, &str)],
        default: &str,
        path: &str,
        what: &str,
    ) -> String {
        let Some(given) = given else {
            return default.to_string();
        };
        let value = given.value.trim();
        if let Some((_, api)) = allowed
            .iter()
            .find(|(short, api)| *short == value || *api == value)
        {
            return api.to_string();
        }
        let names: Vec<&str> = allowed.iter().map(|(short, _)| *short).collect();
        self.error(given.span, path, format!("`{value}` is not a {what}"))
            .help = Some(crate::blueprint::de::suggest(value, &names, "values"));
        default.to_string()
    }

    /// A topic managed elsewhere, by ARN or by name in this account and region.
    fn external_topic(&mut self, given: &Spanned<String>, path: &str) -> Ref {
        let topic = given.value.trim();
        if topic.starts_with("arn:") {
            if !topic.contains(":sns:") {
                self.error(
                    given.span,
                    format!("{path}.sns_topic"),
                    format!("`{topic}` is not an SNS topic ARN"),
                )
                .help = Some(
                    "write arn:aws:sns:<region>:<account>:<topic>, or just the topic's name".into(),
                );
            }
            return Ref::External(topic.to_string());
        }
        Ref::External(self.topic_arn(topic))
    }

    fn topic_arn(&self, name: &str) -> String {
        let region = self.region.clone().unwrap_or_else(|| "*".into());
        let account = self.account.clone().unwrap_or_else(|| "*".into());
        let partition = naming::partition(&region);
        format!("arn:{partition}:sns:{region}:{account}:{name}")
    }

    /// The stack's alert topic (`sns_topic.alerts`): encrypted with the given key, whose
    /// policy lets CloudWatch use it; publishable only by this account's alarms.
    fn alert_topic(&mut self, topic: &AlertTopic, keys: &BTreeMap<String, KeyFacts>) -> Ref {
        let path = "monitoring.alert_topic";
        let name = match &topic.name {
            Some(given) => given.value.trim().to_string(),
            None => format!("{}-security-alerts", self.stack),
        };
        if let Err(problem) = SNS_TOPIC_NAME.check(&name) {
            let (span, field) = match &topic.name {
                Some(given) => (given.span, format!("{path}.name")),
                None => (self.stack_span, path.to_string()),
            };
            self.error(
                span,
                field,
                format!("`{name}` cannot name an SNS topic: {problem}"),
            );
        }
        let kms_key = self.kms_key_ref(&topic.kms_key, keys, &format!("{path}.kms_key"), "SNS");
        let arn = self.topic_arn(&name);
        let region = self.region.clone().unwrap_or_else(|| "*".into());
        let account = self.account.clone().unwrap_or_else(|| "*".into());
        let alarms = format!(
            "arn:{}:cloudwatch:{region}:{account}:alarm:*",
            naming::partition(&region)
        );
        let subscriptions = self.subscriptions(&topic.subscriptions, path);
        if let Some(Ref::Address(key)) = &kms_key {
            self.grant_key(key, vec![alarms_key_statement(&account, &alarms)]);
        }
        let address = Address::new(Kind::SnsTopic, "alerts");
        self.add(
            topic.kms_key.span,
            address.clone(),
            Props::SnsTopic(SnsTopicProps {
                name,
                kms_key,
                policy: crate::policy::normalize(&alert_topic_policy(&arn, &account, &alarms)),
                subscriptions,
            }),
            Tags::new(),
        );
        Ref::Address(address)
    }

    /// E-mail addresses and HTTPS URLs, each once.
    fn subscriptions(&mut self, given: &[Spanned<String>], path: &str) -> BTreeSet<String> {
        let mut out = BTreeSet::new();
        for (i, entry) in given.iter().enumerate() {
            let value = entry.value.trim();
            let field = format!("{path}.subscriptions[{i}]");
            let problem = if let Some(rest) = value.strip_prefix("https://") {
                let host = rest.split(['/', '?', '#']).next().unwrap_or_default();
                (host.is_empty() || value.contains(char::is_whitespace))
                    .then(|| format!("`{value}` is not an HTTPS URL"))
            } else if value.starts_with("http://") {
                Some(format!(
                    "`{value}` is plain HTTP: alerts would cross the network unencrypted"
                ))
            } else if is_email_address(value) {
                None
            } else {
                Some(format!(
                    "`{value}` is neither an e-mail address nor an https:// URL"
                ))
            };
            if let Some(problem) = problem {
                self.error(entry.span, field, problem).help = Some(
                    "write an e-mail address (security@example.com) or an https:// URL".into(),
                );
                continue;
            }
            if !out.insert(value.to_string()) {
                self.error(entry.span, field, format!("`{value}` is listed twice"));
            }
        }
        out
    }

    /// Adds statements to a declared key's policy (a service that must use the key).
    pub(super) fn grant_key(&mut self, key: &Address, statements: Vec<Value>) {
        let Some(Props::KmsKey(props)) = self.resources.get_mut(key).map(|r| &mut r.props) else {
            return;
        };
        let mut policy = props.policy.clone();
        if let Some(list) = policy.get_mut("Statement").and_then(Value::as_array_mut) {
            list.extend(statements);
        }
        props.policy = crate::policy::normalize(&policy);
    }
}

/// A plain e-mail address: one `@` between a non-empty local part and a dotted domain.
fn is_email_address(value: &str) -> bool {
    let Some((local, domain)) = value.split_once('@') else {
        return false;
    };
    !local.is_empty()
        && !domain.contains('@')
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !value.contains(|c: char| c.is_whitespace() || c == ':' || c == ',')
}

/// Only this account's CloudWatch alarms may publish (their service principal, for alarms
/// of this account and region: AWS's confused-deputy conditions); the account manages the
/// topic and its subscriptions; nothing is published without TLS.
/// <https://docs.aws.amazon.com/sns/latest/dg/sns-access-policy-use-cases.html>
/// The first of a section's fields that the blueprint writes, to place what the section
/// makes (a section's own key has no position in the typed blueprint).
fn first_known<const N: usize>(spans: [Option<Span>; N]) -> Span {
    spans.into_iter().flatten().next().unwrap_or_default()
}

fn alert_topic_policy(arn: &str, account: &str, alarms: &str) -> Value {
    json!({
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "CloudWatchAlarmsPublish",
                "Effect": "Allow",
                "Principal": {"Service": "cloudwatch.amazonaws.com"},
                "Action": "sns:Publish",
                "Resource": arn,
                "Condition": {
                    "StringEquals": {"aws:SourceAccount": account},
                    "ArnLike": {"aws:SourceArn": alarms},
                },
            },
            {
                "Sid": "AccountManages",
                "Effect": "Allow",
                "Principal": {"AWS": format!("arn:{}:iam::{account}:root", partition_of(arn))},
                "Action": [
                    "sns:GetTopicAttributes",
                    "sns:SetTopicAttributes",
                    "sns:AddPermission",
                    "sns:RemovePermission",
                    "sns:DeleteTopic",
                    "sns:Subscribe",
                    "sns:ListSubscriptionsByTopic",
                ],
                "Resource": arn,
            },
            {
                "Sid": "DenyInsecureTransport",
                "Effect": "Deny",
                "Principal": "*",
                "Action": "sns:Publish",
                "Resource": arn,
                "Condition": {"Bool": {"aws:SecureTransport": "false"}},
            },
        ],
    })
}

/// CloudWatch needs the key of an encrypted topic to publish to it, for this account's
/// alarms only.
/// <https://docs.aws.amazon.com/sns/latest/dg/sns-key-management.html#compatibility-with-aws-services>
fn alarms_key_statement(account: &str, alarms: &str) -> Value {
    json!({
        "Sid": "CloudWatchAlarmsUseKeyForAlertTopic",
        "Effect": "Allow",
        "Principal": {"Service": "cloudwatch.amazonaws.com"},
        "Action": ["kms:Decrypt", "kms:GenerateDataKey*"],
        "Resource": "*",
        "Condition": {
            "StringEquals": {"aws:SourceAccount": account},
            "ArnLike": {"aws:SourceArn": alarms},
        },
    })
}

/// The partition an ARN names (`aws` in `arn:aws:sns:...`).
fn partition_of(arn: &str) -> &str {
    arn.split(':').nth(1).unwrap_or("aws")
}

/// CloudTrail may check the bucket's ACL and write under `AWSLogs/<account>/` for this
/// trail only; nobody may use the bucket without TLS.
fn trail_bucket_policy(arns: &TrailArns) -> Value {
    let TrailArns {
        account,
        trail,
        bucket,
        ..
    } = arns;
    json!({
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "CloudTrailAclCheck",
                "Effect": "Allow",
                "Principal": {"Service": "cloudtrail.amazonaws.com"},
                "Action": "s3:GetBucketAcl",
                "Resource": bucket,
                "Condition": {"StringEquals": {"aws:SourceArn": trail}},
            },
            {
                "Sid": "CloudTrailWrite",
                "Effect": "Allow",
                "Principal": {"Service": "cloudtrail.amazonaws.com"},
                "Action": "s3:PutObject",
                "Resource": format!("{bucket}/AWSLogs/{account}/*"),
                "Condition": {"StringEquals": {
                    "s3:x-amz-acl": "bucket-owner-full-control",
                    "aws:SourceArn": trail,
                }},
            },
            crate::policy::deny_plain_http(bucket),
        ],
    })
}

/// What the trail's key must allow: CloudTrail encrypting this trail's log files, and
/// CloudWatch Logs encrypting the trail's log group.
fn trail_key_statements(arns: &TrailArns, log_group: Option<&str>) -> Vec<Value> {
    let TrailArns {
        partition,
        region,
        account,
        trail,
        ..
    } = arns;
    let mut statements = vec![
        json!({
            "Sid": "CloudTrailEncryptLogs",
            "Effect": "Allow",
            "Principal": {"Service": "cloudtrail.amazonaws.com"},
            "Action": "kms:GenerateDataKey*",
            "Resource": "*",
            "Condition": {
                "StringEquals": {"aws:SourceArn": trail},
                "StringLike": {"kms:EncryptionContext:aws:cloudtrail:arn": format!("arn:{partition}:cloudtrail:*:{account}:trail/*")},
            },
        }),
        json!({
            "Sid": "CloudTrailDescribeKey",
            "Effect": "Allow",
            "Principal": {"Service": "cloudtrail.amazonaws.com"},
            "Action": "kms:DescribeKey",
            "Resource": "*",
        }),
    ];
    if let Some(group) = log_group {
        statements.push(log_group_key_statement(
            "CloudWatchLogsEncryptTrailEvents",
            region,
            account,
            group,
        ));
    }
    statements
}

/// Constraints AWS applies to values of this section, from its API models (`limits`).
pub static LIMITS: &[&Limit] = &[&SNS_TOPIC_NAME];

pub static SNS_TOPIC_NAME: Limit = Limit::new("sns:CreateTopic.Name", "an SNS topic name", 1, 256)
    .pattern("[A-Za-z0-9_-]+", "letters, digits, hyphens and underscores")
    .documented("https://docs.aws.amazon.com/sns/latest/api/API_CreateTopic.html");

/// How the section's fields read in the JSON Schema (`secinfra schema`), beside the
/// shared transforms and helpers.
pub mod schema {
    pub use crate::blueprint::schema::*;
    use schemars::Schema;
    use serde_json::{Value, json};

    pub fn management_events(s: &mut Schema) {
        one_of(s, super::MANAGEMENT_EVENTS.iter().map(|(w, _)| json!(w)));
    }

    /// `naming::check_bucket_name`: 3-63 lowercase letters, digits, hyphens and dots, starting
    /// and ending with a letter or digit, no two dots in a row.
    pub fn bucket_name(s: &mut Schema) {
        s.insert(
            "pattern".into(),
            "^[a-z0-9]((\\.?[a-z0-9-])*\\.?[a-z0-9])?$".into(),
        );
        s.insert("minLength".into(), 3.into());
        s.insert("maxLength".into(), 63.into());
    }

    pub fn bucket_retention_days(s: &mut Schema) {
        range(s, super::BUCKET_RETENTION_DAYS);
    }

    pub fn finding_frequency(s: &mut Schema) {
        one_of(s, super::FINDING_FREQUENCIES.iter().map(|(w, _)| json!(w)));
    }

    pub fn guardduty_features(s: &mut Schema) {
        let names: Vec<Value> = crate::model::props::GUARDDUTY_FEATURES
            .iter()
            .map(|(name, _)| json!(name))
            .collect();
        items(s, |item| {
            item.insert("enum".into(), names.into());
        });
    }

    /// A standard by name and version (the version may be left out where there is one), or
    /// an ARN.
    pub fn security_hub_standards(s: &mut Schema) {
        let mut names = Vec::new();
        for (name, versions) in super::SECURITY_HUB_STANDARDS {
            if versions.len() == 1 {
                names.push(json!(name));
            }
            names.extend(versions.iter().map(|v| json!(format!("{name}/v/{v}"))));
        }
        items(s, |item| {
            item.remove("type");
            item.insert(
                "anyOf".into(),
                json!([
                    { "enum": names },
                    { "type": "string", "pattern": "^arn:[a-z-]+:securityhub:[a-z0-9-]*::(standards|ruleset)/" }
                ]),
            );
        });
    }

    pub fn topic_name(s: &mut Schema) {
        limit(s, &super::SNS_TOPIC_NAME);
    }

    /// E-mail addresses and `https://` URLs, each once.
    pub fn subscriptions(s: &mut Schema) {
        let email = "[^@\\s:,]+@[^@\\s:,.][^@\\s:,]*\\.[^@\\s:,]*[^@\\s:,.]";
        let https = "https://[^/?#\\s]+[^\\s]*";
        items(s, |item| {
            item.insert(
                "pattern".into(),
                format!("^\\s*({email}|{https})\\s*$").into(),
            );
        });
        s.insert("uniqueItems".into(), true.into());
    }

    pub fn alarm_period_minutes(s: &mut Schema) {
        range(s, super::ALARM_PERIOD_MINUTES);
    }
}

#[cfg(test)]
mod tests {
    use super::standard_id;
    use crate::naming::{security_hub_standard_arn, security_hub_standard_id};

    #[test]
    fn standards_resolve_to_the_part_of_their_arn_every_region_shares() {
        let id = |s| standard_id(s).map_err(|(message, _)| message);
        assert_eq!(
            id("aws-foundational-security-best-practices").as_deref(),
            Ok("standards/aws-foundational-security-best-practices/v/1.0.0")
        );
        assert_eq!(
            id("cis-aws-foundations-benchmark/v/1.2.0").as_deref(),
            Ok("ruleset/cis-aws-foundations-benchmark/v/1.2.0")
        );
        assert_eq!(
            id("arn:aws:securityhub:eu-west-1::standards/some-new-standard/v/2.0.0").as_deref(),
            Ok("standards/some-new-standard/v/2.0.0")
        );
        assert!(id("arn:aws:s3:::standards/x").is_err());
        assert!(id("arn:aws:securityhub:eu-west-1:123456789012:hub/default").is_err());
        assert!(id("pci-dss/v/9.9.9").is_err());
        assert!(
            id("pci-dss").is_err(),
            "two versions: which one must be said"
        );
    }

    #[test]
    fn standard_arns_are_regional_except_the_cis_1_2_ruleset() {
        for id in [
            "standards/cis-aws-foundations-benchmark/v/5.0.0",
            "ruleset/cis-aws-foundations-benchmark/v/1.2.0",
        ] {
            let arn = security_hub_standard_arn("aws", "eu-west-1", id);
            assert_eq!(security_hub_standard_id(&arn), id);
        }
        assert_eq!(
            security_hub_standard_arn(
                "aws",
                "eu-west-1",
                "ruleset/cis-aws-foundations-benchmark/v/1.2.0"
            ),
            "arn:aws:securityhub:::ruleset/cis-aws-foundations-benchmark/v/1.2.0"
        );
        assert_eq!(
            security_hub_standard_arn("aws-cn", "cn-north-1", "standards/nist-800-53/v/5.0.0"),
            "arn:aws-cn:securityhub:cn-north-1::standards/nist-800-53/v/5.0.0"
        );
    }
}
