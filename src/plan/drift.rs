//! Where drift comes from: each difference between the account and the blueprint is
//! either a change made outside secinfra (the blueprint still declares what was last
//! applied, so the account moved) or a blueprint edit not yet applied (the blueprint
//! moved). The record of the last complete apply (`model::AppliedRecord`) tells them
//! apart; without one, drift says it cannot.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use super::{Diff, Plan};
use crate::model::{Address, AppliedIds, AppliedRecord, LiveResource, Resource, TrailEvent};

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
    /// Who made the changes not made by applying the blueprint, from CloudTrail; absent
    /// when not looked up (`--no-attribution`, or nothing changed outside).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attribution: Option<Attribution>,
}

/// Who wrote to each resource changed outside secinfra (or of unknown origin), from
/// CloudTrail's event history.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attribution {
    /// Events since this time (RFC 3339): the last apply, or without a record the start
    /// of the 90 days CloudTrail's event history covers.
    pub since: String,
    /// Each resource looked up: the write events naming it, newest first.
    pub resources: BTreeMap<Address, ResourceWrites>,
    /// Resources not looked up, and why (the request bound, no id known).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub not_looked_up: BTreeMap<Address, String>,
    /// Why lookups could not start or stopped (the endpoint lacks LookupEvents, the
    /// credentials may not call it); resources after that are not listed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unavailable: Option<String>,
    /// LookupEvents requests made.
    pub requests: u32,
}

/// The writes CloudTrail holds for one resource.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResourceWrites {
    /// The names it was looked up by: its id, then its ARN when the id found nothing.
    pub looked_up: Vec<String>,
    /// Newest first.
    pub events: Vec<TrailEvent>,
    /// More events than the pages read.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub more: bool,
}

/// A resource whose writes to look up.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LookupTarget {
    pub address: Address,
    /// What CloudTrail may name it by, in the order to try: its id, then its ARN.
    pub names: Vec<String>,
    /// Its service is global (IAM): its events are recorded in one Region only.
    pub global: bool,
}

/// The resources whose origin is not a blueprint edit, with the names AWS knows them
/// by: as discovered, or for one deleted since, as the last apply recorded them.
pub fn lookup_targets(
    plan: &Plan,
    origins: &DriftOrigins,
    record: Option<&AppliedRecord>,
) -> Vec<LookupTarget> {
    origins
        .outside
        .iter()
        .chain(&origins.unknown)
        .map(|address| {
            let discovered = plan
                .change(address)
                .and_then(|c| c.before.as_ref())
                .map(|live| (live.id.clone(), live.arn.clone()));
            let recorded = record
                .and_then(|r| r.ids.get(address))
                .map(|ids| (ids.id.clone(), ids.arn.clone()));
            let mut names = Vec::new();
            if let Some((id, arn)) = discovered.or(recorded) {
                names.push(id);
                names.extend(arn);
            }
            names.dedup();
            LookupTarget {
                address: address.clone(),
                names,
                global: address.kind.service() == "iam",
            }
        })
        .collect()
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
/// field the blueprint declares as it did at the last apply changed in the account —
/// unless it points at a resource the blueprint edit makes, replaces or drops (a route
/// table whose subnet an edit replaces moves with it; no one changed it by hand).
pub fn origins(plan: &Plan, record: Option<&AppliedRecord>) -> DriftOrigins {
    let mut origins = DriftOrigins {
        last_apply: record.map(|r| r.applied_at.clone()),
        ..DriftOrigins::default()
    };
    let Some(record) = record else {
        origins.unknown = plan
            .actionable()
            .chain(plan.held())
            .map(|c| c.address.clone())
            .collect();
        return origins;
    };
    let nothing_moves = BTreeSet::new();
    let first = sort_by_origin(plan, record, &nothing_moves);
    let moved_by_edit: BTreeSet<Address> = first.unapplied.into_iter().collect();
    let sorted = sort_by_origin(plan, record, &moved_by_edit);
    origins.outside = sorted.outside;
    origins.unapplied = sorted.unapplied;
    origins.outside_paths = sorted.outside_paths;
    origins
}

#[derive(Default)]
struct Sorted {
    outside: Vec<Address>,
    unapplied: Vec<Address>,
    outside_paths: BTreeMap<Address, Vec<String>>,
}

/// One pass of `origins`: `edited` are the resources a blueprint edit changes, so a field
/// referring to one of them moves with the edit.
fn sort_by_origin(plan: &Plan, record: &AppliedRecord, edited: &BTreeSet<Address>) -> Sorted {
    let mut sorted = Sorted::default();
    for change in plan.actionable().chain(plan.held()) {
        let address = change.address.clone();
        let applied = record.resources.get(&address);
        let (outside, edits, outside_paths) = match (applied, &change.after) {
            (Some(then), Some(now)) if change.diffs.is_empty() => {
                (then == now, then != now, vec![])
            }
            (Some(then), Some(now)) => {
                let (outside, edits): (Vec<&Diff>, Vec<&Diff>) =
                    change.diffs.iter().partition(|d| {
                        declared_alike(then, now, d) && !refers_to_any(now, d.field(), edited)
                    });
                let paths = outside.iter().map(|d| d.path.clone()).collect();
                (!outside.is_empty(), !edits.is_empty(), paths)
            }
            // Never declared, yet tagged with the stack: made outside secinfra.
            (None, None) => (true, false, vec![]),
            // New in the blueprint, or dropped from it: an edit.
            _ => (false, true, vec![]),
        };
        if outside {
            sorted.outside.push(address.clone());
        }
        if edits {
            sorted.unapplied.push(address.clone());
        }
        if outside && edits {
            sorted.outside_paths.insert(address, outside_paths);
        }
    }
    sorted
}

/// Whether `field` of `resource` refers to one of `addresses`.
fn refers_to_any(resource: &Resource, field: &str, addresses: &BTreeSet<Address>) -> bool {
    resource
        .props
        .refs()
        .into_iter()
        .any(|(f, r)| f == field && r.address().is_some_and(|a| addresses.contains(a)))
}

/// Whether the blueprint declares the field this diff is about as it did when applied.
fn declared_alike(then: &Resource, now: &Resource, diff: &Diff) -> bool {
    let field = diff.field();
    if field == "tags" {
        return then.tags == now.tags;
    }
    then.props.to_value().get(field) == now.props.to_value().get(field)
}

/// The record a complete apply of `plan` leaves; `live` is the stack as found after it
/// (the AWS identifiers of what it declares are kept).
pub fn record<'a>(
    plan: &Plan,
    applied_at: String,
    live: impl IntoIterator<Item = &'a LiveResource>,
) -> AppliedRecord {
    let resources = plan.desired().resources;
    let ids = live
        .into_iter()
        .filter(|r| resources.contains_key(&r.address))
        .map(|r| {
            let ids = AppliedIds {
                id: r.id.clone(),
                arn: r.arn.clone(),
            };
            (r.address.clone(), ids)
        })
        .collect();
    AppliedRecord {
        stack: plan.stack.clone(),
        region: plan.region.clone(),
        applied_at,
        blueprint: plan.blueprint.path.clone(),
        resources,
        ids,
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
        let record = record(
            &plan(&applied, &live_then),
            "2026-12-01T00:00:00Z".into(),
            live_then.resources.values(),
        );

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
    fn lookups_name_what_aws_calls_the_resource_then_or_now() {
        let applied = desired(BLUEPRINT);
        let mut live_then = live_matching(&applied);
        for live in live_then.resources.values_mut() {
            live.arn = Some(format!("arn:aws:ec2:us-east-1:111122223333:{}", live.id));
        }
        let record = record(
            &plan(&applied, &live_then),
            "2026-12-01T00:00:00Z".into(),
            live_then.resources.values(),
        );
        let web = address("security_group.web");
        let then_id = record.ids[&web].id.clone();
        assert_eq!(then_id, live_then.resources[&web].id);

        // `web` deleted outside: looked up by the id the apply recorded. `api` changed
        // outside: by the id discovered now. The blueprint edit is not looked up.
        let mut live = live_then.clone();
        live.resources.remove(&web);
        let api = address("security_group.api");
        if let Some(Props::SecurityGroup(p)) = live.resources.get_mut(&api).map(|r| &mut r.props) {
            p.description = "opened by hand".into();
        }
        let edited = desired(&BLUEPRINT.replace("cidr: 10.0.1.0/24", "cidr: 10.0.2.0/24"));
        let drifted = plan(&edited, &live);
        let found = origins(&drifted, Some(&record));
        let targets = lookup_targets(&drifted, &found, Some(&record));
        // The route table's association moves with the replaced subnet: an edit too.
        let tables: Vec<&Address> = drifted
            .actionable()
            .map(|c| &c.address)
            .filter(|a| a.kind == crate::model::Kind::RouteTable)
            .collect();
        assert!(
            !tables.is_empty(),
            "the subnet's route table changes with it"
        );
        for table in tables {
            assert!(found.unapplied.contains(table), "{table} is an edit");
            assert!(!found.outside.contains(table), "{table} is not outside");
        }
        let names: Vec<(&Address, &Vec<String>)> = targets
            .iter()
            .filter(|t| t.address.kind == crate::model::Kind::SecurityGroup)
            .map(|t| (&t.address, &t.names))
            .collect();
        assert_eq!(
            names,
            [
                (
                    &api,
                    &vec![
                        live.resources[&api].id.clone(),
                        format!(
                            "arn:aws:ec2:us-east-1:111122223333:{}",
                            live.resources[&api].id
                        )
                    ]
                ),
                (
                    &web,
                    &vec![
                        then_id.clone(),
                        format!("arn:aws:ec2:us-east-1:111122223333:{then_id}")
                    ]
                ),
            ]
        );
        assert!(targets.iter().all(|t| !t.global));
        assert!(found.unapplied.contains(&address("subnet.app-a")));
        assert!(!targets.iter().any(|t| t.address == address("subnet.app-a")));

        // Without a record, a resource deleted outside has nothing to be looked up by.
        let unknown = origins(&drifted, None);
        let targets = lookup_targets(&drifted, &unknown, None);
        let web_target = targets.iter().find(|t| t.address == web).expect("web");
        assert!(web_target.names.is_empty());
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
