//! Where drift comes from: each difference between the account and the blueprint is
//! either a change made outside secinfra (the blueprint still declares what was last
//! applied, so the account moved) or a blueprint edit not yet applied (the blueprint
//! moved). The record of the last complete apply (`model::AppliedRecord`) tells them
//! apart; without one, drift says it cannot.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::{Diff, Plan};
use crate::model::{Address, AppliedRecord, Resource};

/// The plan's differences by origin (`drift --json` adds it to the plan as `drift`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DriftOrigins {
    /// When the apply the comparison rests on finished; `None` when there is no record.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_apply: Option<String>,
    /// Changed, deleted or made outside secinfra since the last apply.
    pub outside: Vec<Address>,
    /// Declared differently in the blueprint than at the last apply.
    pub unapplied: Vec<Address>,
    /// Without a record of the last apply: could be either.
    pub unknown: Vec<Address>,
    /// For a resource in both `outside` and `unapplied`: the diff paths changed outside.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub outside_paths: BTreeMap<Address, Vec<String>>,
}

impl DriftOrigins {
    /// Whether this diff of `address` was made outside secinfra (else: a blueprint edit).
    pub fn is_outside(&self, address: &Address, diff: &Diff) -> bool {
        match self.outside_paths.get(address) {
            Some(paths) => paths.contains(&diff.path),
            None => self.outside.contains(address),
        }
    }
}

/// Sorts the plan's changes (the actionable and the held) by origin, diff by diff: a
/// field the blueprint declares as it did at the last apply changed in the account.
pub fn origins(plan: &Plan, record: Option<&AppliedRecord>) -> DriftOrigins {
    let mut origins = DriftOrigins {
        last_apply: record.map(|r| r.applied_at.clone()),
        ..DriftOrigins::default()
    };
    for change in plan.actionable().chain(plan.held()) {
        let address = change.address.clone();
        let Some(record) = record else {
            origins.unknown.push(address);
            continue;
        };
        let applied = record.resources.get(&address);
        let (outside, edited, outside_paths) = match (applied, &change.after) {
            (Some(then), Some(now)) if change.diffs.is_empty() => {
                (then == now, then != now, vec![])
            }
            (Some(then), Some(now)) => {
                let (outside, edited): (Vec<&Diff>, Vec<&Diff>) = change
                    .diffs
                    .iter()
                    .partition(|d| declared_alike(then, now, d));
                let paths = outside.iter().map(|d| d.path.clone()).collect();
                (!outside.is_empty(), !edited.is_empty(), paths)
            }
            // Never declared, yet tagged with the stack: made outside secinfra.
            (None, None) => (true, false, vec![]),
            // New in the blueprint, or dropped from it: an edit.
            _ => (false, true, vec![]),
        };
        if outside {
            origins.outside.push(address.clone());
        }
        if edited {
            origins.unapplied.push(address.clone());
        }
        if outside && edited {
            origins.outside_paths.insert(address, outside_paths);
        }
    }
    origins
}

/// Whether the blueprint declares the field this diff is about as it did when applied.
fn declared_alike(then: &Resource, now: &Resource, diff: &Diff) -> bool {
    let field = diff.field();
    if field == "tags" {
        return then.tags == now.tags;
    }
    then.props.to_value().get(field) == now.props.to_value().get(field)
}

/// The record a complete apply of `plan` leaves.
pub fn record(plan: &Plan, applied_at: String) -> AppliedRecord {
    AppliedRecord {
        stack: plan.stack.clone(),
        region: plan.region.clone(),
        applied_at,
        blueprint: plan.blueprint.path.clone(),
        resources: plan.desired().resources,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Props;
    use crate::testing::{desired, live_matching, plan};

    const BLUEPRINT: &str = "version: 1
stack: shop
region: us-east-1
network:
  vpc: { cidr: 10.0.0.0/16 }
  subnets:
    app-a: { cidr: 10.0.1.0/24, az: a, tier: isolated }
security_groups:
  web: { ingress: [ { port: 443, from: 0.0.0.0/0 } ] }
  api: { ingress: [ { port: 8000, from: security_group.web } ] }
";

    fn address(s: &str) -> Address {
        s.parse().expect("address")
    }

    #[test]
    fn edits_and_outside_changes_are_told_apart() {
        let applied = desired(BLUEPRINT);
        let live_then = live_matching(&applied);
        let record = record(&plan(&applied, &live_then), "2026-12-01T00:00:00Z".into());

        // Outside: someone opened port 22 on `web`. Edit: the blueprint moved `api` to 8080.
        let mut live = live_then.clone();
        if let Some(Props::SecurityGroup(p)) = live
            .resources
            .get_mut(&address("security_group.web"))
            .map(|r| &mut r.props)
        {
            p.ingress
                .insert("tcp 22 from 0.0.0.0/0".parse().expect("rule"));
        }
        let edited = desired(&BLUEPRINT.replace("port: 8000", "port: 8080"));
        let drifted = plan(&edited, &live);
        let found = origins(&drifted, Some(&record));
        assert_eq!(found.outside, vec![address("security_group.web")]);
        assert_eq!(found.unapplied, vec![address("security_group.api")]);
        assert!(found.unknown.is_empty());
        assert_eq!(found.last_apply.as_deref(), Some("2026-12-01T00:00:00Z"));

        // A resource deleted outside is outside; one dropped from the blueprint is an edit.
        let mut live = live_then.clone();
        live.resources.remove(&address("security_group.web"));
        let found = origins(&plan(&applied, &live), Some(&record));
        assert!(
            found.outside.contains(&address("security_group.web")),
            "{found:?}"
        );
        let dropped = desired(&BLUEPRINT.replace(
            "  api: { ingress: [ { port: 8000, from: security_group.web } ] }\n",
            "",
        ));
        let found = origins(&plan(&dropped, &live_then), Some(&record));
        assert_eq!(found.unapplied, vec![address("security_group.api")]);
        assert!(found.outside.is_empty());
    }

    #[test]
    fn without_a_record_every_difference_is_unknown() {
        let applied = desired(BLUEPRINT);
        let edited = desired(&BLUEPRINT.replace("port: 8000", "port: 8080"));
        let found = origins(&plan(&edited, &live_matching(&applied)), None);
        assert_eq!(found.unknown, vec![address("security_group.api")]);
        assert!(found.outside.is_empty() && found.unapplied.is_empty());
        assert_eq!(found.last_apply, None);
    }
}
