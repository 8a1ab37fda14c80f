//! Resource kinds and what the planner needs to know about each kind's fields.

use std::fmt;
use std::str::FromStr;

pub use super::kinds::Kind;

/// How a field may change on a live resource.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// AWS cannot change it in place: a difference replaces the resource.
    ForceNew,
    /// Changed in place by the resource's update call.
    Update,
    /// Links to other resources (rules, routes, associations), synchronised as a set
    /// after the resources they point at exist and released before those are deleted.
    Link,
    /// Used only when creating (a secret's generated first value): shown in a create,
    /// never compared afterwards.
    CreateOnly,
}

/// How two values of a field are compared.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Shape {
    /// Compared whole.
    Scalar,
    /// An unordered set: each element added or removed is one difference.
    Set,
    /// A map: each key added, removed or changed is one difference.
    Map,
    /// A set of records identified by the named field: a record added or removed is one
    /// difference, a record changed shows each of its changed fields.
    Keyed(&'static str),
}

#[derive(Clone, Copy, Debug)]
pub struct Field {
    pub name: &'static str,
    pub mode: Mode,
    pub shape: Shape,
    /// The value is secret material (or describes it): plans mark it sensitive.
    pub sensitive: bool,
    /// References in this field order creates and deletes (`Props::refs`).
    pub orders: bool,
}

impl Field {
    const fn new(mode: Mode, shape: Shape) -> Field {
        Field {
            name: "",
            mode,
            shape,
            sensitive: false,
            orders: true,
        }
    }

    /// The field under its props name (the kind table names each field this way).
    pub(super) const fn named(self, name: &'static str) -> Field {
        Field { name, ..self }
    }

    /// References in this field are only ever removed, so they wait for nothing and
    /// nothing waits for them.
    pub(super) const fn ordering_nothing(self) -> Field {
        Field {
            orders: false,
            ..self
        }
    }
}

pub(super) const fn force_new(shape: Shape) -> Field {
    Field::new(ForceNew, shape)
}

pub(super) const fn update(shape: Shape) -> Field {
    Field::new(Update, shape)
}

pub(super) const fn link(shape: Shape) -> Field {
    Field::new(Link, shape)
}

pub(super) const fn create_only(shape: Shape) -> Field {
    Field::new(CreateOnly, shape)
}

/// Secret material used only when creating (a secret's first value's recipe).
pub(super) const fn sensitive() -> Field {
    Field {
        sensitive: true,
        ..create_only(Scalar)
    }
}

use Mode::{CreateOnly, ForceNew, Link, Update};
pub(super) use Shape::{Keyed, Map, Scalar, Set};

/// Every managed resource carries tags; they are diffed key by key and updated in place.
pub const TAGS: Field = update(Map).named("tags");

impl Kind {
    /// Whether tags are compared after creation. A GuardDuty detector and a Security Hub
    /// are region-wide singletons: one the stack did not create is adopted as it is,
    /// untagged, because its stack tag is what makes destroy delete (or disable) it. Metric filters have no tags, and
    /// alarms are the stack's by their name (`secinfra/<stack>/...`): their tags are set
    /// at creation, not read back (one call per alarm).
    pub fn tags_compared(self) -> bool {
        !matches!(
            self,
            Kind::GuarddutyDetector | Kind::SecurityHub | Kind::MetricFilter | Kind::Alarm
        )
    }

    /// Kinds whose resources are the stack's by their name (`secinfra/<stack>/...`)
    /// rather than by a stack tag.
    pub fn owned_by_name(self) -> bool {
        matches!(self, Kind::MetricFilter | Kind::Alarm)
    }

    pub fn field(self, name: &str) -> Option<Field> {
        if name == TAGS.name {
            return Some(TAGS);
        }
        self.fields().iter().find(|f| f.name == name).copied()
    }

    /// Kinds whose resources must all exist before one of this kind is created (and be
    /// deleted only after every one of this kind is gone), beyond direct references.
    /// A NAT gateway needs the VPC's internet gateway attached, and an internet gateway
    /// cannot be detached while NAT gateways still map public addresses. A replication
    /// group's subnet group is read from its member clusters, which AWS may not list (then
    /// the reference is unknown), and a subnet group in use cannot be deleted.
    pub fn ordered_after(self) -> &'static [Kind] {
        match self {
            Kind::NatGateway => &[Kind::InternetGateway],
            Kind::CacheReplicationGroup => &[Kind::CacheSubnetGroup],
            _ => &[],
        }
    }

    /// Replaced by creating the new resource before deleting the old one, so whatever uses
    /// it moves over without a moment without it: KMS key deletion is only scheduled, so
    /// nothing is freed by deleting first; a database or cache keeps a security group and a
    /// parameter group until it is moved to another (AWS refuses to delete them before), and
    /// revoking the old group's rules first would cut it off. Security and parameter groups
    /// need unique names, so their replacements take a suffixed name
    /// (`Props::rename_for_replacement`).
    pub fn create_before_destroy(self) -> bool {
        matches!(
            self,
            Kind::KmsKey | Kind::SecurityGroup | Kind::DbParameterGroup
        )
    }

    /// Link sets whose new links are added before the old ones are removed: a security
    /// group's rules are independent of each other, so a rule re-pointed at a replaced group
    /// is never missing for a moment. (A route table's routes are keyed by destination:
    /// the old route must go before the new one is added.)
    pub fn adds_links_before_removing(self) -> bool {
        matches!(self, Kind::SecurityGroup)
    }

    /// Kinds that hold data or history, whose deletion (or replacement) is held unless the
    /// user allows it: KMS keys (what they encrypt), Redis caches (their data), the trail's
    /// bucket and the trail's, flow logs' and WAF's log groups (the audit history), unless
    /// marked unprotected (tag `secinfra:protect=false`, from `protect: false`); database
    /// instances while their deletion protection is on. (An adopted resource of any kind
    /// is held too: `TAG_ADOPTED`.)
    pub fn protectable(self) -> bool {
        matches!(
            self,
            Kind::KmsKey
                | Kind::DbInstance
                | Kind::CacheReplicationGroup
                | Kind::S3Bucket
                | Kind::LogGroup
        )
    }

    /// Whether deleting a resource of this kind needs link-holders to release it first.
    /// EC2 refuses to delete a security group another group's rule references; routes
    /// to a deleted NAT gateway merely go blackhole, but releasing first is tidier for all.
    pub fn has_links(self) -> bool {
        self.fields().iter().any(|f| f.mode == Link)
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Kind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Kind::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| format!("unknown resource kind `{s}`"))
    }
}
