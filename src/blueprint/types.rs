//! The blueprint as written: typed mirrors of the YAML, unknown fields rejected.
//! Validation (`validate.rs`) turns these into the resource model.

use std::collections::BTreeMap;
use std::fmt;

use schemars::JsonSchema;
use serde::Deserialize;
use serde::de::{self, Deserializer, Visitor};

use super::schema;
use super::span::Spanned;

pub type Name = Spanned<String>;

/// A secinfra blueprint: the AWS security environment of one stack.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Blueprint {
    /// Blueprint format version; always 1.
    #[schemars(transform = schema::version)]
    pub version: Spanned<u32>,
    /// Stack name: identifies every resource secinfra manages (tag `secinfra:stack`).
    /// Lowercase letters, digits and hyphens, starting with a letter, at most 32 characters.
    #[schemars(transform = schema::stack_name)]
    pub stack: Name,
    /// AWS region, e.g. `us-east-1`. `--region` overrides it; without either, the AWS
    /// configuration chain decides.
    #[serde(default)]
    pub region: Option<Name>,
    /// Tags applied to every resource.
    #[serde(default)]
    pub tags: BTreeMap<Name, Spanned<TagValue>>,
    /// Named overlays merged over this blueprint with `--env NAME`.
    #[serde(default)]
    #[schemars(with = "BTreeMap<String, serde_json::Map<String, serde_json::Value>>")]
    pub environments: Option<de::IgnoredAny>,
    #[serde(default)]
    pub network: Option<Network>,
    /// Security groups by name; rules reference CIDRs or other groups.
    #[serde(default)]
    #[schemars(transform = schema::resource_names)]
    pub security_groups: BTreeMap<Name, SecurityGroup>,
    /// Customer managed KMS keys.
    #[serde(default)]
    pub kms: Option<Kms>,
    /// Secrets Manager secrets by name. A blueprint never holds a secret value: values
    /// are generated at creation (`generate`) or set out of band.
    #[serde(default)]
    #[schemars(transform = schema::resource_names)]
    pub secrets: BTreeMap<Name, Secret>,
    /// WAF web ACLs by name (regional: load balancers, API Gateway stages).
    #[serde(default)]
    #[schemars(transform = schema::resource_names)]
    pub waf: BTreeMap<Name, WebAcl>,
    /// RDS database instances by name (PostgreSQL), encrypted, in a subnet tier.
    #[serde(default)]
    #[schemars(transform = schema::resource_names)]
    pub databases: BTreeMap<Name, Database>,
    /// ElastiCache Redis replication groups by name, encrypted in transit and at rest.
    #[serde(default)]
    #[schemars(transform = schema::resource_names)]
    pub caches: BTreeMap<Name, Cache>,
    /// Detection and audit trail: CloudTrail, GuardDuty.
    #[serde(default)]
    pub monitoring: Option<Monitoring>,
    /// A CloudWatch Logs group (created and managed by secinfra) receiving every
    /// `secinfra respond` audit line: who did what, when and why.
    #[serde(default)]
    pub incident_log: Option<IncidentLog>,
    /// Settings of `secinfra audit`: findings accepted for now.
    #[serde(default)]
    pub audit: Option<AuditSettings>,
}

/// Where `secinfra respond` writes its audit lines.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct IncidentLog {
    /// Log group name (created and managed by secinfra).
    #[schemars(transform = schema::log_group)]
    pub log_group: Spanned<String>,
    /// Days to keep the lines; one of CloudWatch Logs' retention values. Omit to keep forever.
    #[serde(default)]
    #[schemars(transform = schema::log_retention)]
    pub retention_days: Option<Spanned<i64>>,
    /// KMS key encrypting the group (`kms_key.logs`, an alias or an ARN); a blueprint key's
    /// policy gets the grant CloudWatch Logs needs, for this group only.
    #[serde(default)]
    pub kms_key: Option<Spanned<String>>,
    /// Deleting or replacing the group (and the record in it) is held unless this is false
    /// or the command gets --allow-delete-protected (default true).
    #[serde(default)]
    pub protect: Option<Spanned<bool>>,
}

/// Settings of `secinfra audit`.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AuditSettings {
    /// Findings accepted for now, each with a reason, an owner and the last day it holds.
    /// A suppressed finding is reported but does not fail the audit; past its date the
    /// suppression is itself a finding.
    #[serde(default)]
    pub suppress: Vec<SuppressionDecl>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SuppressionDecl {
    /// The rule, e.g. `SI001` (`secinfra audit` with no blueprint lists them).
    #[schemars(regex(pattern = r"^SI[0-9]{3}$"))]
    pub rule: Spanned<String>,
    /// Only this resource, e.g. `security_group.partner`; omitted, every finding of the rule.
    #[serde(default)]
    pub address: Option<Spanned<String>>,
    /// Why the finding is accepted.
    #[schemars(length(min = 1))]
    pub reason: Spanned<String>,
    /// Who answers for it (a person or team).
    #[schemars(length(min = 1))]
    pub owner: Spanned<String>,
    /// The last day it holds, `YYYY-MM-DD`.
    #[schemars(regex(pattern = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"))]
    pub expires: Spanned<String>,
}
/// A tag value; numbers and booleans are kept as written.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, JsonSchema)]
#[schemars(with = "String")]
pub struct TagValue(pub String);

impl<'de> Deserialize<'de> for TagValue {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        String::deserialize(deserializer).map(TagValue)
    }
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(transform = schema::network)]
pub struct Network {
    pub vpc: Vpc,
    /// VPC flow logs to a CloudWatch Logs group.
    #[serde(default)]
    pub flow_logs: Option<FlowLogs>,
    /// NAT gateways for `private` subnets: one per AZ, one shared, or none.
    #[serde(default)]
    pub nat: Option<Spanned<NatMode>>,
    /// Whether the stack's route tables own every route in them (default false: only the
    /// default routes and the routes secinfra declares; routes others add, such as VPC
    /// endpoints, peering or transit gateways, are left alone).
    #[serde(default)]
    pub exclusive_routes: Option<Spanned<bool>>,
    /// Subnets by name.
    #[schemars(transform = schema::resource_names)]
    pub subnets: BTreeMap<Name, Subnet>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Vpc {
    /// IPv4 CIDR of the VPC, /16 to /28.
    #[schemars(transform = schema::ipv4_cidr)]
    pub cidr: Spanned<String>,
    /// Amazon DNS resolution in the VPC (default true).
    #[serde(default)]
    pub dns_support: Option<Spanned<bool>>,
    /// DNS hostnames for instances (default true).
    #[serde(default)]
    pub dns_hostnames: Option<Spanned<bool>>,
    /// Remove every rule from the VPC's default security group (default true; CIS 5.4).
    #[serde(default)]
    pub restrict_default_security_group: Option<Spanned<bool>>,
    #[serde(default)]
    pub tags: BTreeMap<Name, Spanned<TagValue>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum NatMode {
    /// One NAT gateway in each AZ that has private subnets.
    PerAz,
    /// One NAT gateway shared by all AZs.
    Single,
    /// No NAT gateways.
    None,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Tier {
    /// Routed to the internet gateway.
    Public,
    /// Outbound internet through a NAT gateway; no inbound.
    Private,
    /// No route outside the VPC.
    Isolated,
}

impl Tier {
    pub const ALL: [Tier; 3] = [Tier::Public, Tier::Private, Tier::Isolated];

    pub fn as_str(self) -> &'static str {
        match self {
            Tier::Public => "public",
            Tier::Private => "private",
            Tier::Isolated => "isolated",
        }
    }
}

impl fmt::Display for Tier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Subnet {
    /// IPv4 CIDR inside the VPC's, /16 to /28.
    #[schemars(transform = schema::ipv4_cidr)]
    pub cidr: Spanned<String>,
    /// Availability zone: a letter (`a`) in the stack's region, or a full name (`us-east-1a`).
    pub az: Spanned<String>,
    pub tier: Spanned<Tier>,
    #[serde(default)]
    pub tags: BTreeMap<Name, Spanned<TagValue>>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FlowLogs {
    /// Which traffic to log: ALL, ACCEPT or REJECT (default ALL).
    #[serde(default)]
    pub traffic: Option<Spanned<Traffic>>,
    /// CloudWatch Logs group that receives the records (created and managed by secinfra).
    #[schemars(transform = schema::log_group)]
    pub log_group: Spanned<String>,
    /// Days to keep records; one of CloudWatch Logs' retention values. Omit to keep forever.
    #[serde(default)]
    #[schemars(transform = schema::log_retention)]
    pub retention_days: Option<Spanned<i64>>,
    /// IAM role flow logs use to write; omit to let secinfra create a least-privilege one.
    #[serde(default)]
    pub iam_role_arn: Option<Spanned<String>>,
    /// KMS key encrypting the log group (`kms_key.logs`, an alias or an ARN); a blueprint
    /// key's policy gets the grant CloudWatch Logs needs, for this group only.
    #[serde(default)]
    pub kms_key: Option<Spanned<String>>,
    /// Aggregation interval in seconds: 60 or 600 (default 600).
    #[serde(default)]
    #[schemars(transform = schema::aggregation_interval)]
    pub max_aggregation_interval: Option<Spanned<i64>>,
    /// Deleting or replacing the log group (and the flow records in it) is held unless this is
    /// false or the command gets --allow-delete-protected (default true).
    #[serde(default)]
    pub protect: Option<Spanned<bool>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
pub enum Traffic {
    #[serde(alias = "all")]
    ALL,
    #[serde(alias = "accept")]
    ACCEPT,
    #[serde(alias = "reject")]
    REJECT,
}

impl Traffic {
    pub fn as_str(self) -> &'static str {
        match self {
            Traffic::ALL => "ALL",
            Traffic::ACCEPT => "ACCEPT",
            Traffic::REJECT => "REJECT",
        }
    }
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SecurityGroup {
    /// Group description (AWS cannot change it in place; a change replaces the group).
    #[serde(default)]
    #[schemars(transform = schema::security_group_description)]
    pub description: Option<Spanned<String>>,
    /// Inbound rules. Order never matters.
    #[serde(default)]
    pub ingress: Vec<Spanned<IngressRule>>,
    /// Outbound rules. Omitted or empty means no outbound traffic: AWS's default
    /// allow-all egress rule is removed unless declared here.
    #[serde(default)]
    pub egress: Vec<Spanned<EgressRule>>,
    #[serde(default)]
    pub tags: BTreeMap<Name, Spanned<TagValue>>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct IngressRule {
    /// Port (`443`) or inclusive range (`"8000-8100"`); omit for protocol `all`.
    #[serde(default)]
    #[schemars(transform = schema::port)]
    pub port: Option<Spanned<PortSpec>>,
    /// tcp (default), udp, icmp, icmpv6 or all.
    #[serde(default)]
    #[schemars(transform = schema::protocol)]
    pub protocol: Option<Spanned<String>>,
    /// Source: a CIDR (`0.0.0.0/0`, `::/0`), `security_group.<name>` or `self`.
    pub from: Spanned<String>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct EgressRule {
    /// Port (`443`) or inclusive range (`"8000-8100"`); omit for protocol `all`.
    #[serde(default)]
    #[schemars(transform = schema::port)]
    pub port: Option<Spanned<PortSpec>>,
    /// tcp (default), udp, icmp, icmpv6 or all.
    #[serde(default)]
    #[schemars(transform = schema::protocol)]
    pub protocol: Option<Spanned<String>>,
    /// Destination: a CIDR, `security_group.<name>` or `self`.
    pub to: Spanned<String>,
}

/// A port or an inclusive port range, as written (range checks happen in validation).
#[derive(Debug, Clone, Copy, PartialEq, Eq, JsonSchema)]
#[schemars(with = "PortSpecSchema")]
pub struct PortSpec {
    pub from: i64,
    pub to: i64,
}

#[derive(JsonSchema)]
#[serde(untagged)]
#[allow(dead_code)]
enum PortSpecSchema {
    Port(u16),
    /// An inclusive range, `"1024-65535"`.
    Range(String),
}

impl<'de> Deserialize<'de> for PortSpec {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct PortVisitor;
        impl Visitor<'_> for PortVisitor {
            type Value = PortSpec;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a port number or a range like \"8000-8100\"")
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<PortSpec, E> {
                Ok(PortSpec { from: v, to: v })
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<PortSpec, E> {
                let v = i64::try_from(v).map_err(|_| E::custom("port number too large"))?;
                Ok(PortSpec { from: v, to: v })
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<PortSpec, E> {
                let parse = |s: &str| {
                    s.trim().parse::<i64>().map_err(|_| {
                        E::custom(format!(
                            "`{v}` is not a port or port range; write 443 or \"8000-8100\""
                        ))
                    })
                };
                match v.split_once('-') {
                    Some((a, b)) => Ok(PortSpec {
                        from: parse(a)?,
                        to: parse(b)?,
                    }),
                    None => parse(v).map(|p| PortSpec { from: p, to: p }),
                }
            }
        }
        deserializer.deserialize_any(PortVisitor)
    }
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Kms {
    /// Keys by name; each gets the alias `alias/<stack>/<name>`.
    #[serde(default)]
    #[schemars(transform = schema::resource_names)]
    pub keys: BTreeMap<Name, KmsKey>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(transform = schema::kms_key)]
pub struct KmsKey {
    #[serde(default)]
    #[schemars(transform = schema::kms_description)]
    pub description: Option<Spanned<String>>,
    /// What the key is for (default `encrypt_decrypt`). `data_keys_only`: a symmetric key
    /// whose users may only generate data keys and decrypt them (envelope encryption in
    /// the application, e.g. PII fields), never encrypt directly.
    #[serde(default)]
    pub usage: Option<Spanned<KeyUsage>>,
    /// Key spec (default `SYMMETRIC_DEFAULT`): RSA_2048/3072/4096, ECC_NIST_P256/P384/P521,
    /// ECC_SECG_P256K1, HMAC_224/256/384/512.
    #[serde(default)]
    #[schemars(transform = schema::key_spec)]
    pub spec: Option<Spanned<String>>,
    /// Automatic rotation every N days (90-2560); omit for no automatic rotation.
    /// Symmetric encryption keys only.
    #[serde(default)]
    #[schemars(transform = schema::key_rotation_days)]
    pub rotation_days: Option<Spanned<i64>>,
    /// Days a deleted key waits before it is gone (7-30, default 30).
    #[serde(default)]
    #[schemars(transform = schema::deletion_window_days)]
    pub deletion_window_days: Option<Spanned<i64>>,
    /// Hold deletion and replacement unless `--allow-delete-protected` (default true).
    #[serde(default)]
    pub protect: Option<Spanned<bool>>,
    /// IAM principal ARNs allowed to use the key (as its usage permits).
    #[serde(default)]
    pub users: Vec<Spanned<String>>,
    /// IAM principal ARNs allowed to manage the key (besides the account root, which
    /// always keeps access so IAM policies apply).
    #[serde(default)]
    pub administrators: Vec<Spanned<String>>,
    #[serde(default)]
    pub tags: BTreeMap<Name, Spanned<TagValue>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum KeyUsage {
    EncryptDecrypt,
    DataKeysOnly,
    SignVerify,
    GenerateVerifyMac,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(transform = schema::secret)]
pub struct Secret {
    /// Secret name (default `<stack>/<name>`).
    #[serde(default)]
    pub name: Option<Spanned<String>>,
    #[serde(default)]
    #[schemars(transform = schema::secret_description)]
    pub description: Option<Spanned<String>>,
    /// `kms_key.<name>`, a key ARN or `alias/...`; omit for the AWS managed key.
    #[serde(default)]
    pub kms_key: Option<Spanned<String>>,
    /// `manual` (no automatic rotation, the default) or a schedule with a rotation Lambda
    /// (`lambda_arn`, or `lambda` for a function name).
    #[serde(default)]
    pub rotation: Option<Spanned<Rotation>>,
    /// How to generate the first value; never regenerated. Omit to set the value out of band.
    #[serde(default)]
    pub generate: Option<Spanned<Generate>>,
    /// Days a deleted secret stays recoverable (7-30, default 30).
    #[serde(default)]
    #[schemars(transform = schema::recovery_window_days)]
    pub recovery_window_days: Option<Spanned<i64>>,
    /// Resource policy (IAM policy document); public access is always blocked.
    #[serde(default)]
    #[schemars(with = "Option<serde_json::Map<String, serde_json::Value>>")]
    pub policy: Option<Spanned<serde_json::Value>>,
    /// Never accepted: recognised only to say so clearly.
    #[serde(default)]
    #[schemars(skip)]
    pub value: Option<Spanned<de::IgnoredAny>>,
    #[serde(default)]
    pub tags: BTreeMap<Name, Spanned<TagValue>>,
}

/// `manual`, or `{ every_days | schedule, lambda }`.
#[derive(Debug, JsonSchema)]
#[schemars(with = "RotationSchema")]
pub enum Rotation {
    Manual,
    Scheduled(RotationSchedule),
}

#[derive(JsonSchema)]
#[serde(untagged)]
#[allow(dead_code)]
enum RotationSchema {
    /// No automatic rotation.
    Manual(ManualWord),
    Scheduled(RotationSchedule),
}

#[derive(JsonSchema)]
#[serde(rename_all = "snake_case")]
#[allow(dead_code)]
enum ManualWord {
    Manual,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(transform = schema::rotation_schedule)]
pub struct RotationSchedule {
    /// Rotate every N days (1-1000).
    #[serde(default)]
    #[schemars(transform = schema::rotation_every_days)]
    pub every_days: Option<Spanned<i64>>,
    /// Or a schedule expression: `rate(30 days)`, `cron(0 4 ? * SUN *)`.
    #[serde(default)]
    #[schemars(transform = schema::rotation_schedule_expression)]
    pub schedule: Option<Spanned<String>>,
    /// The rotation function's ARN.
    #[serde(default)]
    pub lambda_arn: Option<Spanned<String>>,
    /// Or the rotation function's name, in the stack's account and region.
    #[serde(default)]
    pub lambda: Option<Spanned<String>>,
}

impl<'de> Deserialize<'de> for Rotation {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct RotationVisitor;
        impl<'de> Visitor<'de> for RotationVisitor {
            type Value = Rotation;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("`manual` or a mapping with `every_days` or `schedule`, and `lambda`")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Rotation, E> {
                match v {
                    "manual" => Ok(Rotation::Manual),
                    other => Err(E::unknown_variant(other, &["manual"])),
                }
            }
            fn visit_map<A: de::MapAccess<'de>>(self, map: A) -> Result<Rotation, A::Error> {
                RotationSchedule::deserialize(de::value::MapAccessDeserializer::new(map))
                    .map(Rotation::Scheduled)
            }
        }
        deserializer.deserialize_any(RotationVisitor)
    }
}

/// How a secret's first value is generated.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Generate {
    /// A password from Secrets Manager's generator, with upper and lower case letters,
    /// digits and punctuation.
    Password(PasswordSpec),
    /// An RSA key pair for RS256 signing, stored as JSON with PEM keys.
    Rsa(RsaSpec),
    /// Random bytes, base64-encoded.
    Random(RandomSpec),
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordSpec {
    /// Characters (12-4096, default 32).
    #[serde(default)]
    #[schemars(transform = schema::password_length)]
    pub length: Option<Spanned<i64>>,
    /// Store `{"username": ..., "password": ...}` instead of the bare password.
    #[serde(default)]
    pub username: Option<Spanned<String>>,
    /// Characters the password must not contain.
    #[serde(default)]
    #[schemars(transform = schema::exclude_characters)]
    pub exclude_characters: Option<Spanned<String>>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RsaSpec {
    /// Key size: 2048, 3072 or 4096 (default 2048).
    #[serde(default)]
    #[schemars(transform = schema::rsa_bits)]
    pub bits: Option<Spanned<i64>>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RandomSpec {
    /// Number of random bytes (16-4096).
    #[schemars(transform = schema::random_bytes)]
    pub bytes: Spanned<i64>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct WebAcl {
    #[serde(default)]
    #[schemars(transform = schema::waf_description)]
    pub description: Option<Spanned<String>>,
    /// `REGIONAL` (the default; load balancers, API Gateway, AppSync, Cognito).
    #[serde(default)]
    #[schemars(transform = schema::waf_scope)]
    pub scope: Option<Spanned<String>>,
    /// What requests no rule matches get: `allow` (default) or `block`.
    #[serde(default)]
    #[schemars(transform = schema::allow_or_block)]
    pub default_action: Option<Spanned<String>>,
    /// Rules in priority order (the first is evaluated first).
    #[serde(default)]
    pub rules: Vec<Spanned<WafRuleSpec>>,
    /// Add incident IP sets (IPv4 and IPv6) the ACL blocks after its rules, filled by
    /// `secinfra respond block-ip` during an incident; plan and apply never change
    /// their addresses.
    #[serde(default)]
    pub incident_block: Option<Spanned<bool>>,
    /// Send the ACL's logs to a CloudWatch Logs group (its name must start `aws-waf-logs-`).
    #[serde(default)]
    pub logging: Option<WafLogging>,
    /// ARNs of the resources to protect (application load balancers, API Gateway stages).
    #[serde(default)]
    pub associations: Option<Vec<Spanned<String>>>,
    #[serde(default)]
    pub tags: BTreeMap<Name, Spanned<TagValue>>,
}

/// One rule: exactly one of `managed`, `geo_block`, `rate_limit`, `ip_block`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(transform = schema::waf_rule)]
pub struct WafRuleSpec {
    /// Rule name (default: from the rule).
    #[serde(default)]
    #[schemars(transform = schema::waf_rule_name)]
    pub name: Option<Spanned<String>>,
    /// An AWS managed rule group, e.g. `AWSManagedRulesCommonRuleSet` (covers XSS).
    #[serde(default)]
    #[schemars(transform = schema::managed_rule_group)]
    pub managed: Option<Spanned<String>>,
    /// Rules of the managed group to count instead of block (also `excluded_rules`).
    #[serde(default, alias = "excluded_rules")]
    pub count: Vec<Spanned<String>>,
    /// Block requests from these countries (ISO 3166 alpha-2 codes).
    #[serde(default)]
    #[schemars(transform = schema::country_codes)]
    pub geo_block: Option<Vec<Spanned<String>>>,
    /// Block an IP that sends more than `limit` requests in `window_seconds`.
    #[serde(default)]
    pub rate_limit: Option<RateLimitSpec>,
    /// Block these source CIDRs (an IP set, for incident containment).
    #[serde(default)]
    pub ip_block: Option<Vec<Spanned<String>>>,
    /// For geo, rate and IP rules: `block` (default) or `count`.
    #[serde(default)]
    #[schemars(transform = schema::block_or_count)]
    pub action: Option<Spanned<String>>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RateLimitSpec {
    /// Requests per IP in the window (10 to 2,000,000,000).
    #[schemars(transform = schema::rate_limit)]
    pub limit: Spanned<i64>,
    /// Evaluation window: 60, 120, 300 (default) or 600 seconds.
    #[serde(default)]
    #[schemars(transform = schema::rate_window)]
    pub window_seconds: Option<Spanned<i64>>,
    /// Count only requests whose path starts with this (e.g. `/auth/login`).
    #[serde(default)]
    pub path_prefix: Option<Spanned<String>>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct WafLogging {
    /// Log group name, `aws-waf-logs-...` (created and managed by secinfra).
    #[schemars(transform = schema::waf_log_group)]
    pub log_group: Spanned<String>,
    /// Days to keep logs; one of CloudWatch Logs' retention values.
    #[serde(default)]
    #[schemars(transform = schema::log_retention)]
    pub retention_days: Option<Spanned<i64>>,
    /// KMS key encrypting the log group (`kms_key.logs`, an alias or an ARN); a blueprint
    /// key's policy gets the grant CloudWatch Logs needs, for this group only.
    #[serde(default)]
    pub kms_key: Option<Spanned<String>>,
    /// Deleting or replacing the log group (and the request logs in it) is held unless this is
    /// false or the command gets --allow-delete-protected (default true).
    #[serde(default)]
    pub protect: Option<Spanned<bool>>,
}

/// An RDS database instance, its DB subnet group and its parameter group.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Database {
    /// `postgres` (the only engine for now).
    #[schemars(transform = schema::postgres)]
    pub engine: Spanned<String>,
    /// Major version (`16`: AWS applies minor upgrades) or an exact release (`16.4`).
    #[schemars(transform = schema::postgres_version)]
    pub engine_version: Spanned<String>,
    /// Instance class, e.g. `db.t4g.medium`.
    pub instance_class: Spanned<String>,
    /// Allocated storage in GiB (20-65536).
    #[schemars(transform = schema::storage_gb)]
    pub storage_gb: Spanned<i64>,
    /// `gp3` (default), `gp2`, `io1` or `io2`.
    #[serde(default)]
    #[schemars(transform = schema::storage_type)]
    pub storage_type: Option<Spanned<String>>,
    /// Where it runs: a subnet tier (`tier.isolated`) or a list of subnets.
    pub subnets: Spanned<SubnetSelection>,
    /// Security groups by reference (`security_group.rds`).
    pub security_groups: Spanned<Vec<Spanned<String>>>,
    /// The KMS key encrypting storage, snapshots and backups (`kms_key.rds`). Required:
    /// secinfra creates encrypted databases only.
    pub kms_key: Spanned<String>,
    /// Days of automated backups (1-35).
    #[schemars(transform = schema::backup_retention_days)]
    pub backup_retention_days: Spanned<i64>,
    /// Refuse deletion (default true); while on, secinfra holds a delete or replace.
    #[serde(default)]
    pub deletion_protection: Option<Spanned<bool>>,
    /// A standby in a second availability zone (default false).
    #[serde(default)]
    pub multi_az: Option<Spanned<bool>>,
    /// Master user name (default `dbadmin`). Its password is created, stored and rotated
    /// by RDS in Secrets Manager; it never passes through secinfra.
    #[serde(default)]
    pub master_username: Option<Spanned<String>>,
    /// The KMS key encrypting the master password's secret (`kms_key.secrets`). Required:
    /// an AWS managed key could not be told apart from drift, and a dedicated key is the
    /// point.
    pub master_password_kms_key: Spanned<String>,
    /// Parameters for the database's own parameter group; `rds.force_ssl: 1` is always
    /// set (clients must use TLS).
    #[serde(default)]
    #[schemars(transform = schema::db_parameters)]
    pub parameters: BTreeMap<Name, Spanned<TagValue>>,
    #[serde(default)]
    pub tags: BTreeMap<Name, Spanned<TagValue>>,
}

/// An ElastiCache Redis replication group (cluster mode disabled) and its subnet group.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Cache {
    /// `redis` (the only engine for now).
    #[schemars(transform = schema::redis)]
    pub engine: Spanned<String>,
    /// Major.minor (`7.1`) or an exact release.
    #[schemars(transform = schema::redis_version)]
    pub engine_version: Spanned<String>,
    /// Node type, e.g. `cache.t4g.small`.
    pub node_type: Spanned<String>,
    /// Nodes: a primary plus replicas (1-6, default 2). With two or more, failover is
    /// automatic and replicas spread over availability zones.
    #[serde(default)]
    #[schemars(transform = schema::cache_nodes)]
    pub nodes: Option<Spanned<i64>>,
    /// A subnet tier (`tier.isolated`) or a list of subnets.
    pub subnets: Spanned<SubnetSelection>,
    /// Security groups by reference (`security_group.redis`).
    pub security_groups: Spanned<Vec<Spanned<String>>>,
    /// TLS between clients and nodes (default true; required with an AUTH token).
    #[serde(default)]
    pub transit_encryption: Option<Spanned<bool>>,
    /// The KMS key encrypting data at rest and backups (`kms_key.rds`). Required.
    pub at_rest_kms_key: Spanned<String>,
    /// The secret whose value is the Redis AUTH token (`secret.redis-auth-token`); read
    /// at creation and never printed.
    #[serde(default)]
    pub auth_token: Option<Spanned<String>>,
    /// Days of daily snapshots kept (0-35, default 7).
    #[serde(default)]
    #[schemars(transform = schema::snapshot_retention_days)]
    pub snapshot_retention_days: Option<Spanned<i64>>,
    /// Port (default 6379).
    #[serde(default)]
    #[schemars(transform = schema::cache_port)]
    pub port: Option<Spanned<i64>>,
    /// Deleting or replacing the cache is held unless this is false or the command gets
    /// --allow-delete-protected (default true); a deletion takes a final snapshot first.
    #[serde(default)]
    pub protect: Option<Spanned<bool>>,
    #[serde(default)]
    pub tags: BTreeMap<Name, Spanned<TagValue>>,
}

/// Subnets by tier (`tier.isolated`) or by reference (`[subnet.data-az1, ...]`).
#[derive(Debug, JsonSchema)]
#[serde(untagged)]
pub enum SubnetSelection {
    Tier(String),
    List(Vec<Spanned<String>>),
}

impl<'de> Deserialize<'de> for SubnetSelection {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct SelectionVisitor;
        impl<'de> Visitor<'de> for SelectionVisitor {
            type Value = SubnetSelection;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a subnet tier (`tier.isolated`) or a list of subnets")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<SubnetSelection, E> {
                Ok(SubnetSelection::Tier(v.to_string()))
            }
            fn visit_seq<A: de::SeqAccess<'de>>(self, seq: A) -> Result<SubnetSelection, A::Error> {
                Vec::deserialize(de::value::SeqAccessDeserializer::new(seq))
                    .map(SubnetSelection::List)
            }
        }
        deserializer.deserialize_any(SelectionVisitor)
    }
}

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
