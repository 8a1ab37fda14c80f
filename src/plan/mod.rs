//! A plan is plain data: what differs between the blueprint and the account, and what
//! apply will do about it. `diff::diff` computes it without any AWS call; renderers only
//! show it; `apply` executes it.

pub mod diff;
pub mod drift;
pub mod exposure;
pub mod file;
pub mod fingerprint;
#[cfg(test)]
mod tests;
pub mod twins;

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::model::{Address, Kind, LiveResource, Resource};

pub use crate::model::Diff;

pub use diff::{PlanError, PlanOptions, diff};
pub use twins::assemble;

/// Bumped only when a consumer of the JSON must change.
pub const FORMAT_VERSION: u32 = 2;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    Create,
    Update,
    Replace,
    Delete,
    Noop,
}

impl Action {
    /// The marker the human view shows.
    pub fn symbol(self) -> &'static str {
        match self {
            Action::Create => "+",
            Action::Update => "~",
            Action::Replace => "-/+",
            Action::Delete => "-",
            Action::Noop => " ",
        }
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Action::Create => "create",
            Action::Update => "update",
            Action::Replace => "replace",
            Action::Delete => "delete",
            Action::Noop => "no-op",
        })
    }
}

/// One resource's change. In the JSON plan a held change keeps the action it would take
/// (`"action": "delete", "held": true, "hold_reason": ...`) so a filter on the action
/// finds it; inside secinfra its `action` is `Noop`, so nothing executes it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(into = "ChangeRecord", from = "ChangeRecord")]
pub struct Change {
    pub address: Address,
    pub kind: Kind,
    pub action: Action,
    /// Why this action (a replace's forcing field, a delete's cause, an adoption).
    pub reason: Option<String>,
    /// A delete or replace that secinfra will not carry out (a protected resource), and
    /// how to release it. The action is then `Noop`.
    pub held: Option<String>,
    /// The action a held change would have taken.
    pub held_action: Option<Action>,
    /// Changes that must finish before this one starts.
    pub depends_on: Vec<Address>,
    pub diffs: Vec<Diff>,
    /// The resource as discovered (absent for a create).
    pub before: Option<LiveResource>,
    /// The resource as the blueprint wants it (absent for a delete).
    pub after: Option<Resource>,
}

/// A change as the JSON plan writes it (`docs/plan.schema.json`).
#[derive(Serialize, Deserialize)]
struct ChangeRecord {
    address: Address,
    kind: Kind,
    action: Action,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    held: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    hold_reason: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    reason: Option<String>,
    depends_on: Vec<Address>,
    diffs: Vec<Diff>,
    /// Written for readers (`exposure::of`); recomputed, never read back.
    #[serde(default, skip_serializing_if = "Vec::is_empty", skip_deserializing)]
    exposure: Vec<ExposureRecord>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    before: Option<LiveResource>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    after: Option<Resource>,
}

#[derive(Serialize, Deserialize)]
struct ExposureRecord {
    direction: exposure::Direction,
    what: String,
}

impl From<Change> for ChangeRecord {
    fn from(c: Change) -> ChangeRecord {
        let held = c.held.is_some();
        let exposure = exposure::of(&c)
            .into_iter()
            .map(|e| ExposureRecord {
                direction: e.direction,
                what: e.what,
            })
            .collect();
        ChangeRecord {
            exposure,
            action: if held {
                c.held_action.unwrap_or(c.action)
            } else {
                c.action
            },
            held,
            hold_reason: c.held,
            address: c.address,
            kind: c.kind,
            reason: c.reason,
            depends_on: c.depends_on,
            diffs: c.diffs,
            before: c.before,
            after: c.after,
        }
    }
}

impl From<ChangeRecord> for Change {
    fn from(r: ChangeRecord) -> Change {
        let (action, held, held_action) = if r.held {
            let reason = r.hold_reason.unwrap_or_default();
            (Action::Noop, Some(reason), Some(r.action))
        } else {
            (r.action, None, None)
        };
        Change {
            address: r.address,
            kind: r.kind,
            action,
            reason: r.reason,
            held,
            held_action,
            depends_on: r.depends_on,
            diffs: r.diffs,
            before: r.before,
            after: r.after,
        }
    }
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Summary {
    pub add: usize,
    pub change: usize,
    pub replace: usize,
    pub destroy: usize,
    /// Deletes and replaces held back because the resource is protected.
    #[serde(default)]
    pub held: usize,
}

impl Summary {
    pub fn is_empty(&self) -> bool {
        self.add + self.change + self.replace + self.destroy + self.held == 0
    }
}

/// Which blueprint (and environment) the plan was made from.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BlueprintRef {
    pub path: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub env: Option<String>,
    /// SHA-256 of the desired resources the blueprint resolved to.
    pub hash: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Plan {
    pub format_version: u32,
    pub stack: String,
    pub region: String,
    pub blueprint: BlueprintRef,
    /// SHA-256 of the live resources the plan was computed from; apply refuses the plan
    /// when discovery no longer matches it.
    pub live_fingerprint: String,
    pub summary: Summary,
    /// The choices the plan was made with (adopt, deletion of protected resources, ...).
    #[serde(default)]
    pub options: PlanOptions,
    pub changes: Vec<Change>,
    /// `drift` only: where each difference comes from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub drift: Option<drift::DriftOrigins>,
}

impl Plan {
    /// The desired resources the plan was made for: the "after" of every change.
    pub fn desired(&self) -> crate::model::Desired {
        crate::model::Desired {
            stack: self.stack.clone(),
            region: Some(self.region.clone()),
            resources: self
                .changes
                .iter()
                .filter_map(|c| c.after.clone())
                .map(|r| (r.address.clone(), r))
                .collect(),
        }
    }

    /// Changes that do something (not no-ops).
    pub fn actionable(&self) -> impl Iterator<Item = &Change> {
        self.changes.iter().filter(|c| c.action != Action::Noop)
    }

    /// Deletes and replaces held back (protected resources).
    pub fn held(&self) -> impl Iterator<Item = &Change> {
        self.changes.iter().filter(|c| c.held.is_some())
    }

    pub fn has_changes(&self) -> bool {
        !self.summary.is_empty()
    }

    pub fn change(&self, address: &Address) -> Option<&Change> {
        self.changes.iter().find(|c| &c.address == address)
    }
}
