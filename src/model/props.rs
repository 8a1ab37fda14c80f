//! The value types inside kinds' properties (declared in the kind table, `kinds.rs`), how
//! references are found in any field, and what the planner asks of properties beyond
//! their fields. Desired and live resources share these types, so the planner compares
//! like with like; references are addresses on both sides (discovery maps AWS ids back to
//! addresses).

use std::collections::{BTreeMap, BTreeSet};

use ipnet::Ipv4Net;
use serde::{Deserialize, Serialize};

use super::address::Address;
use super::kind::Mode;
pub use super::kinds::*;
use super::reference::Ref;
use super::rule::{Peer, SecurityGroupRule};

/// References held by a field's value, whatever its type: the kind table visits every
/// field of every kind with this, so a new field of a known type needs nothing more.
pub trait FieldRefs {
    /// Appends each reference in the value, with the field's name.
    fn refs<'a>(&'a self, _field: &'static str, _out: &mut Vec<(&'static str, &'a Ref)>) {}

    /// Rewrites each reference in the value.
    fn map_refs(&mut self, _f: &impl Fn(&Ref) -> Ref) {}
}

/// Values that hold no reference.
macro_rules! no_refs {
    ($($t:ty),*) => { $(impl FieldRefs for $t {})* };
}
no_refs!(
    bool,
    i32,
    i64,
    String,
    Ipv4Net,
    serde_json::Value,
    InitialValue
);

impl FieldRefs for Ref {
    fn refs<'a>(&'a self, field: &'static str, out: &mut Vec<(&'static str, &'a Ref)>) {
        out.push((field, self));
    }

    fn map_refs(&mut self, f: &impl Fn(&Ref) -> Ref) {
        *self = f(self);
    }
}

impl<T: FieldRefs> FieldRefs for Option<T> {
    fn refs<'a>(&'a self, field: &'static str, out: &mut Vec<(&'static str, &'a Ref)>) {
        if let Some(value) = self {
            value.refs(field, out);
        }
    }

    fn map_refs(&mut self, f: &impl Fn(&Ref) -> Ref) {
        if let Some(value) = self {
            value.map_refs(f);
        }
    }
}

impl<T: FieldRefs + Ord> FieldRefs for BTreeSet<T> {
    fn refs<'a>(&'a self, field: &'static str, out: &mut Vec<(&'static str, &'a Ref)>) {
        self.iter().for_each(|value| value.refs(field, out));
    }

    fn map_refs(&mut self, f: &impl Fn(&Ref) -> Ref) {
        // Mapped elements may sort (or collapse) differently: the set is rebuilt.
        *self = std::mem::take(self)
            .into_iter()
            .map(|mut value| {
                value.map_refs(f);
                value
            })
            .collect();
    }
}

impl<K: Ord, V: FieldRefs> FieldRefs for BTreeMap<K, V> {
    fn refs<'a>(&'a self, field: &'static str, out: &mut Vec<(&'static str, &'a Ref)>) {
        self.values().for_each(|value| value.refs(field, out));
    }

    fn map_refs(&mut self, f: &impl Fn(&Ref) -> Ref) {
        self.values_mut().for_each(|value| value.map_refs(f));
    }
}

impl FieldRefs for SecurityGroupRule {
    fn refs<'a>(&'a self, field: &'static str, out: &mut Vec<(&'static str, &'a Ref)>) {
        if let Peer::Group(group) = &self.peer {
            out.push((field, group));
        }
    }

    fn map_refs(&mut self, f: &impl Fn(&Ref) -> Ref) {
        if let Peer::Group(group) = &mut self.peer {
            *group = f(group);
        }
    }
}

impl FieldRefs for WafRule {
    fn refs<'a>(&'a self, field: &'static str, out: &mut Vec<(&'static str, &'a Ref)>) {
        if let WafStatement::IpSet { ip_set } = &self.statement {
            out.push((field, ip_set));
        }
    }

    fn map_refs(&mut self, f: &impl Fn(&Ref) -> Ref) {
        if let WafStatement::IpSet { ip_set } = &mut self.statement {
            *ip_set = f(ip_set);
        }
    }
}

impl SubnetGroupProps {
    /// A DB or cache subnet group as its describe call lists it (subnets by AWS id).
    pub fn listed<'a>(
        name: &str,
        description: Option<&str>,
        subnet_ids: impl IntoIterator<Item = &'a str>,
    ) -> SubnetGroupProps {
        SubnetGroupProps {
            name: name.to_string(),
            description: description.unwrap_or_default().to_string(),
            subnets: subnet_ids
                .into_iter()
                .map(|id| Ref::External(id.to_string()))
                .collect(),
        }
    }
}

impl RouteTableProps {
    /// Whether a live route to `destination` is this table's to change or remove.
    pub fn owns_route(&self, destination: &str) -> bool {
        self.exclusive_routes
            || matches!(destination, "0.0.0.0/0" | "::/0")
            || self.routes.contains_key(destination)
    }
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
