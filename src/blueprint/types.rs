//! The blueprint as written: the document's root and what several sections share, typed
//! mirrors of the YAML with unknown fields rejected. Each section's own types live with
//! its checks (`validate/<section>.rs`), so a section's shape, schema and meaning are read
//! and changed in one file.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::Deserialize;
use serde::de::{self, Deserializer};

use super::schema;
use super::span::Spanned;
use super::validate::data::{Cache, Database};
use super::validate::kms::Kms;
use super::validate::log_groups::IncidentLog;
use super::validate::monitoring::Monitoring;
use super::validate::network::Network;
use super::validate::secrets::Secret;
use super::validate::security_groups::SecurityGroup;
use super::validate::waf::WebAcl;

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
