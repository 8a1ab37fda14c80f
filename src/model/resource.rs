//! Desired and live resources, and the two collections the planner compares.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::address::Address;
use super::kind::Kind;
use super::kinds::Props;

pub type Tags = BTreeMap<String, String>;

/// Tag keys secinfra writes on every resource it creates.
pub const TAG_STACK: &str = "secinfra:stack";
pub const TAG_ADDRESS: &str = "secinfra:address";
/// `false` lifts deletion protection from a protectable resource (see `Kind::protectable`).
pub const TAG_PROTECT: &str = "secinfra:protect";
/// On a resource the stack adopted (`--adopt`) rather than created: whoever made it may
/// still rely on it, so it is never deleted or replaced without --allow-delete-protected.
pub const TAG_ADOPTED: &str = "secinfra:adopted";
/// Days a deleted KMS key waits before it is gone (7-30).
pub const TAG_DELETION_WINDOW: &str = "secinfra:deletion-window-days";
/// Days a deleted secret stays recoverable (7-30).
pub const TAG_RECOVERY_WINDOW: &str = "secinfra:recovery-window-days";

/// A resource as the blueprint wants it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Resource {
    pub address: Address,
    pub props: Props,
    pub tags: Tags,
}

/// A resource as discovery found it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LiveResource {
    pub address: Address,
    /// The identifier AWS calls take (vpc-…, sg-…, a log group or role name).
    pub id: String,
    /// The ARN, where the resource has one and discovery saw it.
    pub arn: Option<String>,
    pub props: Props,
    pub tags: Tags,
    /// Found by its unique name without the stack tag: not ours unless adopted.
    pub unmanaged: bool,
    /// Fields AWS did not report this time (a cache's security groups live on its member
    /// clusters, which may not be listed yet): not compared, and the plan says so.
    pub unobserved: BTreeSet<String>,
    /// Changes AWS has accepted but applies later (static parameters at the database's
    /// next reboot): not differences, but the plan says so.
    pub pending: Vec<String>,
}

/// What the blueprint declares, resolved into resources.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Desired {
    pub stack: String,
    pub region: Option<String>,
    pub resources: BTreeMap<Address, Resource>,
}

/// What exists in the account for the stack.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Live {
    pub resources: BTreeMap<Address, LiveResource>,
}

// Resources serialize as `{address, kind, props, tags}` so a plan file is self-describing
// and readable; deserializing picks the props type from `kind`.

#[derive(Serialize, Deserialize)]
struct ResourceRepr {
    address: Address,
    props: serde_json::Value,
    tags: Tags,
}

#[derive(Serialize, Deserialize)]
struct LiveRepr {
    address: Address,
    id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    arn: Option<String>,
    props: serde_json::Value,
    tags: Tags,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    unmanaged: bool,
    #[serde(default, skip_serializing_if = "BTreeSet::is_empty")]
    unobserved: BTreeSet<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pending: Vec<String>,
}

fn props_from<E: serde::de::Error>(kind: Kind, value: serde_json::Value) -> Result<Props, E> {
    Props::from_value(kind, value).map_err(|e| E::custom(format!("{kind} properties: {e}")))
}

impl Serialize for Resource {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        ResourceRepr {
            address: self.address.clone(),
            props: self.props.to_value(),
            tags: self.tags.clone(),
        }
        .serialize(s)
    }
}

impl<'de> Deserialize<'de> for Resource {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let repr = ResourceRepr::deserialize(d)?;
        Ok(Resource {
            props: props_from(repr.address.kind, repr.props)?,
            address: repr.address,
            tags: repr.tags,
        })
    }
}

impl Serialize for LiveResource {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        LiveRepr {
            address: self.address.clone(),
            id: self.id.clone(),
            arn: self.arn.clone(),
            props: self.props.to_value(),
            tags: self.tags.clone(),
            unmanaged: self.unmanaged,
            unobserved: self.unobserved.clone(),
            pending: self.pending.clone(),
        }
        .serialize(s)
    }
}

impl<'de> Deserialize<'de> for LiveResource {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let repr = LiveRepr::deserialize(d)?;
        Ok(LiveResource {
            props: props_from(repr.address.kind, repr.props)?,
            address: repr.address,
            id: repr.id,
            arn: repr.arn,
            tags: repr.tags,
            unmanaged: repr.unmanaged,
            unobserved: repr.unobserved,
            pending: repr.pending,
        })
    }
}
