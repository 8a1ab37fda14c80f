//! One field's difference between what is live and what is wanted: what the planner
//! finds, the plan shows, and a provider's update applies.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{Kind, Mode};

/// One field difference. For sets, each element added or removed is its own diff
/// (`before` or `after` is null); for maps, each key (`tags.Owner`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Diff {
    pub path: String,
    pub before: Value,
    pub after: Value,
    /// The values are secret and were never read or are not shown.
    pub sensitive: bool,
}

/// Whether any of `diffs` concerns `field`: what a provider's update asks before the call
/// that changes that field.
pub fn changed(diffs: &[Diff], field: &str) -> bool {
    diffs.iter().any(|d| d.field() == field)
}

impl Diff {
    /// The field this diff belongs to (`tags` for `tags.Owner`).
    pub fn field(&self) -> &str {
        let end = self.path.find(['.', '[']).unwrap_or(self.path.len());
        &self.path[..end]
    }

    pub fn mode(&self, kind: Kind) -> Mode {
        kind.field(self.field()).map_or(Mode::Update, |f| f.mode)
    }
}
