//! What the last complete apply made the stack: each resource as the blueprint then
//! declared it (what plans show, never a secret value). Advisory, never planned from (identity stays in tags):
//! `drift` compares it with today's blueprint to tell changes made outside secinfra from
//! blueprint edits not yet applied. Losing it loses only that distinction.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::{Address, Resource};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppliedRecord {
    pub stack: String,
    pub region: String,
    /// When the apply finished (RFC 3339).
    pub applied_at: String,
    /// The blueprint file it applied, as given.
    pub blueprint: String,
    /// Each resource as applied.
    pub resources: BTreeMap<Address, Resource>,
    /// What AWS calls each resource, so `drift` can look up who changed one that has
    /// since been deleted. Absent from records written before secinfra kept it.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub ids: BTreeMap<Address, AppliedIds>,
}

/// A resource's AWS identifiers when it was applied.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppliedIds {
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub arn: Option<String>,
}
