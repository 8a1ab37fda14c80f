//! The properties secinfra manages for each kind. Desired and live resources share these
//! types, so the planner compares like with like; references are addresses on both sides
//! (discovery maps AWS ids back to addresses).

use std::collections::{BTreeMap, BTreeSet};

use ipnet::Ipv4Net;
use serde::{Deserialize, Serialize};

use super::address::Address;
use super::kind::{Kind, Mode};
use super::kinds::Props;
use super::reference::Ref;
use super::rule::{Peer, SecurityGroupRule};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct VpcProps {
    pub cidr: Ipv4Net,
    pub dns_support: bool,
    pub dns_hostnames: bool,
    /// Rules of the VPC's default security group; managed only when the blueprint
    /// restricts it (then the desired set is empty).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_security_group_rules: Option<BTreeSet<SecurityGroupRule>>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubnetProps {
    pub vpc: Ref,
    pub cidr: Ipv4Net,
    pub availability_zone: String,
    pub map_public_ip_on_launch: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct InternetGatewayProps {
    /// The VPC it is attached to (`None` when found detached).
    pub vpc: Option<Ref>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ElasticIpProps {
    pub domain: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NatGatewayProps {
    pub subnet: Ref,
    pub elastic_ip: Ref,
    pub connectivity_type: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RouteTableProps {
    pub vpc: Ref,
    /// Destination (a CIDR, or a prefix list id `pl-...`) → target (internet or NAT
    /// gateway, VPC endpoint, peering connection, transit gateway...). The VPC's `local`
    /// route is implicit and never listed.
    pub routes: BTreeMap<String, Ref>,
    /// Subnets associated with this table.
    pub subnets: BTreeSet<Ref>,
    /// Whether the table owns every route in it (`network.exclusive_routes`). Otherwise it
    /// owns only the routes the blueprint declares and the default routes (`0.0.0.0/0`,
    /// `::/0`), which decide whether a tier reaches the internet; routes other teams add
    /// (VPC endpoints, peering, transit gateways) are left alone. A planning choice, not
    /// something AWS stores: never compared.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub exclusive_routes: bool,
}

impl RouteTableProps {
    /// Whether a live route to `destination` is this table's to change or remove.
    pub fn owns_route(&self, destination: &str) -> bool {
        self.exclusive_routes
            || matches!(destination, "0.0.0.0/0" | "::/0")
            || self.routes.contains_key(destination)
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SecurityGroupProps {
    pub vpc: Ref,
    pub group_name: String,
    pub description: String,
    pub ingress: BTreeSet<SecurityGroupRule>,
    pub egress: BTreeSet<SecurityGroupRule>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogGroupProps {
    pub name: String,
    /// `None` keeps events forever.
    pub retention_days: Option<i32>,
    /// Encryption key; `None` is CloudWatch Logs' own encryption.
    #[serde(default)]
    pub kms_key: Option<Ref>,
}

/// An S3 bucket holding audit logs (CloudTrail's).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BucketProps {
    pub name: String,
    /// Default encryption SSE-KMS with this key (`None`: SSE-S3).
    pub kms_key: Option<Ref>,
    pub block_public_acls: bool,
    pub ignore_public_acls: bool,
    pub block_public_policy: bool,
    pub restrict_public_buckets: bool,
    pub versioning: bool,
    /// Bucket policy, normalised (`null` when there is none).
    pub policy: serde_json::Value,
    /// Objects (current and noncurrent versions) expire after this many days.
    pub expire_days: Option<i32>,
}

/// A CloudTrail trail.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrailProps {
    pub name: String,
    pub bucket: Ref,
    pub kms_key: Option<Ref>,
    pub multi_region: bool,
    pub global_service_events: bool,
    pub log_file_validation: bool,
    pub log_group: Option<Ref>,
    pub cloudwatch_logs_role: Option<Ref>,
    /// Management events recorded: `All`, `ReadOnly`, `WriteOnly`, or `None`.
    pub management_events: String,
    /// Whether the trail is delivering (StartLogging / StopLogging).
    pub logging: bool,
}

/// A CloudWatch Logs metric filter counting matching events into a metric.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MetricFilterProps {
    /// `secinfra/<stack>/<name>`.
    pub name: String,
    pub log_group: Ref,
    pub pattern: String,
    pub metric_namespace: String,
    pub metric_name: String,
}

/// A CloudWatch metric alarm.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AlarmProps {
    /// `secinfra/<stack>/<name>`.
    pub name: String,
    pub description: String,
    pub namespace: String,
    pub metric_name: String,
    pub dimensions: BTreeMap<String, String>,
    /// `Sum`, `Average`, ...
    pub statistic: String,
    pub period_seconds: i32,
    pub evaluation_periods: i32,
    /// Whole numbers only, so plans compare exactly.
    pub threshold: i64,
    /// `GreaterThanOrEqualToThreshold`, ...
    pub comparison: String,
    /// `notBreaching`, `breaching`, `ignore` or `missing`.
    pub treat_missing_data: String,
    /// ARNs notified when the alarm fires (SNS topics).
    pub actions: BTreeSet<String>,
}

/// GuardDuty's protection plans: blueprint name → API feature name.
pub const GUARDDUTY_FEATURES: &[(&str, &str)] = &[
    ("s3_data_events", "S3_DATA_EVENTS"),
    ("eks_audit_logs", "EKS_AUDIT_LOGS"),
    ("ebs_malware_protection", "EBS_MALWARE_PROTECTION"),
    ("rds_login_events", "RDS_LOGIN_EVENTS"),
    ("eks_runtime_monitoring", "EKS_RUNTIME_MONITORING"),
    ("lambda_network_logs", "LAMBDA_NETWORK_LOGS"),
    ("runtime_monitoring", "RUNTIME_MONITORING"),
];

/// The region's GuardDuty detector.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DetectorProps {
    pub enabled: bool,
    /// `FIFTEEN_MINUTES`, `ONE_HOUR` or `SIX_HOURS`.
    pub finding_frequency: String,
    /// Every protection plan GuardDuty has (`S3_DATA_EVENTS`, ...) → enabled.
    pub features: BTreeMap<String, bool>,
}

/// The region's Security Hub (CSPM) and the security standards it checks against.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SecurityHubProps {
    /// Subscribed standards by the resource part of their ARN, which is the same in
    /// every region (`standards/aws-foundational-security-best-practices/v/1.0.0`,
    /// `ruleset/cis-aws-foundations-benchmark/v/1.2.0`).
    pub standards: BTreeSet<String>,
    /// Controls AWS adds to a subscribed standard later are enabled automatically.
    pub auto_enable_controls: bool,
    /// One finding per control across standards (`SECURITY_CONTROL`) rather than one
    /// per standard (`STANDARD_CONTROL`).
    pub consolidated_control_findings: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct IamRoleProps {
    pub name: String,
    pub path: String,
    /// Trust policy, normalised (see `crate::policy`).
    pub assume_role_policy: serde_json::Value,
    /// The role's inline policy named `secinfra`, normalised.
    pub policy: serde_json::Value,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FlowLogProps {
    pub vpc: Ref,
    pub traffic_type: String,
    pub log_group: Ref,
    pub deliver_logs_role: Ref,
    pub max_aggregation_interval: i32,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct KmsKeyProps {
    pub description: String,
    /// `ENCRYPT_DECRYPT`, `SIGN_VERIFY`, `GENERATE_VERIFY_MAC`.
    pub key_usage: String,
    /// `SYMMETRIC_DEFAULT`, `RSA_2048`, `ECC_NIST_P256`, `HMAC_256`, ...
    pub key_spec: String,
    /// KMS key state; wanted: `Enabled`. A declared key found `PendingDeletion` or
    /// `Disabled` is brought back.
    pub state: String,
    pub rotation_enabled: bool,
    /// Days between automatic rotations (90-2560) when rotation is on.
    pub rotation_period_days: Option<i32>,
    /// Key policy, normalised (see `crate::policy`).
    pub policy: serde_json::Value,
    /// Alias names pointing at this key (`alias/<stack>/<name>`).
    pub aliases: BTreeSet<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SecretProps {
    pub name: String,
    pub description: String,
    /// Encryption key; `None` is Secrets Manager's AWS managed key.
    pub kms_key: Option<Ref>,
    /// `active`, or `scheduled for deletion` for a deleted secret still recoverable.
    pub state: String,
    pub rotation_enabled: bool,
    pub rotation_lambda: Option<String>,
    pub rotation_every_days: Option<i64>,
    pub rotation_schedule: Option<String>,
    /// Resource policy, normalised; managed only when the blueprint declares one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy: Option<serde_json::Value>,
    /// How the first value is generated at create (never the value itself).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub initial_value: Option<InitialValue>,
}

/// How a secret's first value is made. Only the recipe is ever in a plan; the value goes
/// from the generator to Secrets Manager and nowhere else.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "generate", rename_all = "snake_case")]
pub enum InitialValue {
    /// From Secrets Manager's GetRandomPassword: every character class present.
    Password {
        length: u32,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        username: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        exclude_characters: Option<String>,
    },
    /// An RSA key pair for RS256 signing, as JSON with PEM keys.
    Rsa { bits: u32 },
    /// Random bytes, base64-encoded.
    Random { bytes: u32 },
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct IpSetProps {
    pub name: String,
    /// `REGIONAL` (or `CLOUDFRONT`).
    pub scope: String,
    /// `IPV4` or `IPV6`.
    pub ip_version: String,
    pub addresses: BTreeSet<String>,
}

/// A DB or cache subnet group: the subnets a database or cache may place nodes in.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubnetGroupProps {
    pub name: String,
    pub description: String,
    pub subnets: BTreeSet<Ref>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DbParameterGroupProps {
    pub name: String,
    /// e.g. `postgres16`.
    pub family: String,
    pub description: String,
    /// Parameters set in the group (those left at the family default are not listed).
    pub parameters: BTreeMap<String, String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DbInstanceProps {
    pub identifier: String,
    pub engine: String,
    /// As precise as the blueprint gives it: `16` matches any 16.x (minor versions are
    /// upgraded by AWS), `16.4` only that release.
    pub engine_version: String,
    pub instance_class: String,
    pub storage_gb: i32,
    pub storage_type: String,
    pub storage_encrypted: bool,
    pub kms_key: Option<Ref>,
    pub subnet_group: Ref,
    pub parameter_group: Ref,
    pub security_groups: BTreeSet<Ref>,
    pub multi_az: bool,
    pub publicly_accessible: bool,
    pub backup_retention_days: i32,
    pub deletion_protection: bool,
    pub copy_tags_to_snapshot: bool,
    pub master_username: String,
    /// The master password lives in a Secrets Manager secret RDS creates and rotates.
    pub master_password_managed: bool,
    /// The key that secret is encrypted with.
    pub master_secret_kms_key: Option<Ref>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CacheReplicationGroupProps {
    pub id: String,
    pub description: String,
    pub engine: String,
    /// As precise as the blueprint gives it (see `DbInstanceProps::engine_version`).
    pub engine_version: String,
    pub node_type: String,
    /// Primary plus replicas.
    pub nodes: i32,
    pub port: i32,
    pub subnet_group: Ref,
    pub security_groups: BTreeSet<Ref>,
    pub transit_encryption: bool,
    pub at_rest_encryption: bool,
    pub kms_key: Option<Ref>,
    pub auth_token_enabled: bool,
    /// The secret holding the AUTH token, read at creation (AWS never returns the token,
    /// so it is not compared afterwards).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth_token: Option<Ref>,
    pub automatic_failover: bool,
    pub multi_az: bool,
    pub snapshot_retention_days: i32,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WebAclProps {
    pub name: String,
    pub scope: String,
    pub description: String,
    /// `allow` or `block`.
    pub default_action: String,
    /// Rules, normalised: priorities from blueprint order, defaults filled in.
    pub rules: BTreeSet<WafRule>,
    /// Log group receiving the ACL's logs (`None`: logging off).
    pub logging: Option<Ref>,
    /// Resources (load balancers, API stages) the ACL protects; managed only when declared.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub associations: Option<BTreeSet<String>>,
}

/// One web ACL rule as secinfra compares it. Flat, so a plan shows it on one line.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct WafRule {
    pub priority: i32,
    pub name: String,
    #[serde(flatten)]
    pub statement: WafStatement,
    /// `block`, `count` or `allow`; for managed rule groups `none` (use the group's own
    /// actions) or `count`.
    pub action: String,
    /// CloudWatch metrics and sampled requests, as `metrics+samples` (what secinfra sets).
    pub visibility: String,
}

#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum WafStatement {
    /// A managed rule group, with rules overridden to count.
    Managed {
        rule_group: String,
        #[serde(default, skip_serializing_if = "BTreeSet::is_empty")]
        count: BTreeSet<String>,
    },
    /// Requests from these countries (ISO 3166 alpha-2).
    GeoMatch { countries: BTreeSet<String> },
    /// More than `limit` requests per IP in `window_seconds`, optionally only for paths
    /// starting with `path_prefix`.
    RateLimit {
        limit: i64,
        window_seconds: i64,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        path_prefix: Option<String>,
    },
    /// Source addresses in an IP set.
    IpSet { ip_set: Ref },
    /// A statement secinfra does not write (found on a live ACL), summarised.
    Other { summary: String },
}

impl Props {
    /// The unique name AWS knows the resource by, for kinds identified by name.
    pub fn aws_name(&self) -> Option<&str> {
        match self {
            Props::LogGroup(p) => Some(&p.name),
            Props::IamRole(p) => Some(&p.name),
            Props::Secret(p) => Some(&p.name),
            Props::IpSet(p) => Some(&p.name),
            Props::WebAcl(p) => Some(&p.name),
            Props::DbSubnetGroup(p) | Props::CacheSubnetGroup(p) => Some(&p.name),
            Props::DbParameterGroup(p) => Some(&p.name),
            Props::DbInstance(p) => Some(&p.identifier),
            Props::CacheReplicationGroup(p) => Some(&p.id),
            Props::S3Bucket(p) => Some(&p.name),
            Props::Trail(p) => Some(&p.name),
            Props::MetricFilter(p) => Some(&p.name),
            Props::Alarm(p) => Some(&p.name),
            _ => None,
        }
    }

    /// Every reference, with the field that holds it.
    pub fn refs(&self) -> Vec<(&'static str, &Ref)> {
        let mut out = Vec::new();
        match self {
            Props::Vpc(_)
            | Props::ElasticIp(_)
            | Props::IamRole(_)
            | Props::KmsKey(_)
            | Props::GuarddutyDetector(_)
            | Props::SecurityHub(_)
            | Props::Alarm(_) => {}
            Props::MetricFilter(p) => out.push(("log_group", &p.log_group)),
            Props::LogGroup(p) => out.extend(p.kms_key.iter().map(|r| ("kms_key", r))),
            Props::S3Bucket(p) => out.extend(p.kms_key.iter().map(|r| ("kms_key", r))),
            Props::Trail(p) => {
                out.push(("bucket", &p.bucket));
                out.extend(p.kms_key.iter().map(|r| ("kms_key", r)));
                out.extend(p.log_group.iter().map(|r| ("log_group", r)));
                out.extend(
                    p.cloudwatch_logs_role
                        .iter()
                        .map(|r| ("cloudwatch_logs_role", r)),
                );
            }
            Props::Secret(p) => out.extend(p.kms_key.iter().map(|r| ("kms_key", r))),
            Props::IpSet(_) | Props::DbParameterGroup(_) => {}
            Props::DbSubnetGroup(p) | Props::CacheSubnetGroup(p) => {
                out.extend(p.subnets.iter().map(|r| ("subnets", r)));
            }
            Props::DbInstance(p) => {
                out.extend(p.kms_key.iter().map(|r| ("kms_key", r)));
                out.push(("subnet_group", &p.subnet_group));
                out.push(("parameter_group", &p.parameter_group));
                out.extend(p.security_groups.iter().map(|r| ("security_groups", r)));
                out.extend(
                    p.master_secret_kms_key
                        .iter()
                        .map(|r| ("master_secret_kms_key", r)),
                );
            }
            Props::CacheReplicationGroup(p) => {
                out.push(("subnet_group", &p.subnet_group));
                out.extend(p.security_groups.iter().map(|r| ("security_groups", r)));
                out.extend(p.kms_key.iter().map(|r| ("kms_key", r)));
                out.extend(p.auth_token.iter().map(|r| ("auth_token", r)));
            }
            Props::WebAcl(p) => {
                out.extend(p.rules.iter().filter_map(|rule| match &rule.statement {
                    WafStatement::IpSet { ip_set } => Some(("rules", ip_set)),
                    _ => None,
                }));
                out.extend(p.logging.iter().map(|r| ("logging", r)));
            }
            Props::Subnet(p) => out.push(("vpc", &p.vpc)),
            Props::InternetGateway(p) => out.extend(p.vpc.iter().map(|r| ("vpc", r))),
            Props::NatGateway(p) => {
                out.push(("subnet", &p.subnet));
                out.push(("elastic_ip", &p.elastic_ip));
            }
            Props::RouteTable(p) => {
                out.push(("vpc", &p.vpc));
                out.extend(p.routes.values().map(|r| ("routes", r)));
                out.extend(p.subnets.iter().map(|r| ("subnets", r)));
            }
            Props::SecurityGroup(p) => {
                out.push(("vpc", &p.vpc));
                for (field, rules) in [("ingress", &p.ingress), ("egress", &p.egress)] {
                    out.extend(rules.iter().filter_map(|rule| match &rule.peer {
                        Peer::Group(r) => Some((field, r)),
                        _ => None,
                    }));
                }
            }
            Props::FlowLog(p) => {
                out.push(("vpc", &p.vpc));
                out.push(("log_group", &p.log_group));
                out.push(("deliver_logs_role", &p.deliver_logs_role));
            }
        }
        out
    }

    /// Addresses this resource needs to exist before it can be created (references in
    /// fields that are not links).
    pub fn requires(&self) -> BTreeSet<Address> {
        self.addresses_where(|mode| mode != Mode::Link)
    }

    /// Addresses this resource links to (rules, routes, associations).
    pub fn links(&self) -> BTreeSet<Address> {
        self.addresses_where(|mode| mode == Mode::Link)
    }

    fn addresses_where(&self, keep: impl Fn(Mode) -> bool) -> BTreeSet<Address> {
        let kind = self.kind();
        self.refs()
            .into_iter()
            .filter(|(field, _)| kind.field(field).is_some_and(|f| keep(f.mode)))
            .filter_map(|(_, r)| r.address().cloned())
            .collect()
    }

    /// Rewrites every reference (used to map live AWS ids to addresses).
    pub fn map_refs(&mut self, f: &impl Fn(&Ref) -> Ref) {
        let map_set = |set: &mut BTreeSet<Ref>| *set = set.iter().map(f).collect();
        let map_rules = |rules: &mut BTreeSet<SecurityGroupRule>| {
            *rules = rules
                .iter()
                .cloned()
                .map(|mut rule| {
                    if let Peer::Group(r) = &rule.peer {
                        rule.peer = Peer::Group(f(r));
                    }
                    rule
                })
                .collect()
        };
        match self {
            Props::Vpc(p) => {
                if let Some(rules) = &mut p.default_security_group_rules {
                    map_rules(rules);
                }
            }
            Props::ElasticIp(_)
            | Props::IamRole(_)
            | Props::KmsKey(_)
            | Props::GuarddutyDetector(_)
            | Props::SecurityHub(_)
            | Props::Alarm(_) => {}
            Props::MetricFilter(p) => p.log_group = f(&p.log_group),
            Props::LogGroup(p) => p.kms_key = p.kms_key.as_ref().map(f),
            Props::S3Bucket(p) => p.kms_key = p.kms_key.as_ref().map(f),
            Props::Trail(p) => {
                p.bucket = f(&p.bucket);
                p.kms_key = p.kms_key.as_ref().map(f);
                p.log_group = p.log_group.as_ref().map(f);
                p.cloudwatch_logs_role = p.cloudwatch_logs_role.as_ref().map(f);
            }
            Props::Secret(p) => p.kms_key = p.kms_key.as_ref().map(f),
            Props::IpSet(_) | Props::DbParameterGroup(_) => {}
            Props::DbSubnetGroup(p) | Props::CacheSubnetGroup(p) => map_set(&mut p.subnets),
            Props::DbInstance(p) => {
                p.kms_key = p.kms_key.as_ref().map(f);
                p.subnet_group = f(&p.subnet_group);
                p.parameter_group = f(&p.parameter_group);
                map_set(&mut p.security_groups);
                p.master_secret_kms_key = p.master_secret_kms_key.as_ref().map(f);
            }
            Props::CacheReplicationGroup(p) => {
                p.subnet_group = f(&p.subnet_group);
                map_set(&mut p.security_groups);
                p.kms_key = p.kms_key.as_ref().map(f);
                p.auth_token = p.auth_token.as_ref().map(f);
            }
            Props::WebAcl(p) => {
                p.logging = p.logging.as_ref().map(f);
                p.rules = p
                    .rules
                    .iter()
                    .cloned()
                    .map(|mut rule| {
                        if let WafStatement::IpSet { ip_set } = &rule.statement {
                            rule.statement = WafStatement::IpSet { ip_set: f(ip_set) };
                        }
                        rule
                    })
                    .collect();
            }
            Props::Subnet(p) => p.vpc = f(&p.vpc),
            Props::InternetGateway(p) => p.vpc = p.vpc.as_ref().map(f),
            Props::NatGateway(p) => {
                p.subnet = f(&p.subnet);
                p.elastic_ip = f(&p.elastic_ip);
            }
            Props::RouteTable(p) => {
                p.vpc = f(&p.vpc);
                p.routes.values_mut().for_each(|r| *r = f(r));
                map_set(&mut p.subnets);
            }
            Props::SecurityGroup(p) => {
                p.vpc = f(&p.vpc);
                map_rules(&mut p.ingress);
                map_rules(&mut p.egress);
            }
            Props::FlowLog(p) => {
                p.vpc = f(&p.vpc);
                p.log_group = f(&p.log_group);
                p.deliver_logs_role = f(&p.deliver_logs_role);
            }
        }
    }
}

/// Length of the suffix a replacement made before its predecessor goes adds to its name
/// (`-` and 8 hex digits).
pub const REPLACEMENT_SUFFIX_LEN: usize = 9;

/// Names AWS requires to be unique (a security group's in its VPC, a DB parameter group's
/// in the region). A replacement made before its predecessor is deleted cannot take the
/// same name, so it takes the name plus a suffix derived from the predecessor's id, as
/// Terraform's `name_prefix` does; a live name so suffixed still matches the blueprint.
impl Props {
    fn unique_name(&mut self) -> Option<&mut String> {
        match self {
            Props::SecurityGroup(p) => Some(&mut p.group_name),
            Props::DbParameterGroup(p) => Some(&mut p.name),
            _ => None,
        }
    }

    /// The field holding that name, for kinds that have one.
    pub fn unique_name_field(kind: Kind) -> Option<&'static str> {
        match kind {
            Kind::SecurityGroup => Some("group_name"),
            Kind::DbParameterGroup => Some("name"),
            _ => None,
        }
    }

    /// Renames a replacement of the resource whose AWS id is `predecessor`; returns the
    /// old and the new name. Deterministic, so a create whose answer was lost is looked
    /// for under the same name.
    pub fn rename_for_replacement(&mut self, predecessor: &str) -> Option<(String, String)> {
        use sha2::{Digest, Sha256};
        let name = self.unique_name()?;
        let base = strip_replacement_suffix(name).to_string();
        let digest = hex::encode(Sha256::digest(predecessor.as_bytes()));
        let renamed = format!("{base}-{}", &digest[..REPLACEMENT_SUFFIX_LEN - 1]);
        Some((std::mem::replace(name, renamed.clone()), renamed))
    }

    /// Reads a live name `<wanted>-<8 hex digits>` (a replacement's) as the wanted one.
    pub fn accept_replacement_name(&mut self, wanted: &Props) {
        let want = match wanted {
            Props::SecurityGroup(p) => &p.group_name,
            Props::DbParameterGroup(p) => &p.name,
            _ => return,
        };
        if let Some(have) = self.unique_name()
            && have != want
            && strip_replacement_suffix(have) == want
        {
            have.clone_from(want);
        }
    }
}

/// `name` without a replacement suffix (`-` and 8 lowercase hex digits), if it has one.
fn strip_replacement_suffix(name: &str) -> &str {
    let Some(cut) = name
        .len()
        .checked_sub(REPLACEMENT_SUFFIX_LEN)
        .filter(|cut| name.is_char_boundary(*cut))
    else {
        return name;
    };
    let (base, suffix) = name.split_at(cut);
    let hex = &suffix[1..];
    if suffix.starts_with('-')
        && hex
            .chars()
            .all(|c| c.is_ascii_digit() || ('a'..='f').contains(&c))
        && !base.is_empty()
    {
        base
    } else {
        name
    }
}
