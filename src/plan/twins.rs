//! The live model from what discovery found (pure; unit-tested):
//!
//! 1. When two live resources claim one address (a twin left by a crash, a renamed log
//!    group), the one that fits the blueprint best keeps it; the others get orphan
//!    addresses and are planned for deletion.
//! 2. References found as AWS ids (a subnet's VPC id, a flow log's role ARN) are mapped
//!    to the addresses of the stack's resources, so plans compare addresses.

use std::collections::{BTreeMap, HashMap};

use super::diff::field_diffs;
use crate::model::identity::{is_stack_tagged, orphan_address};
use crate::model::{Address, Desired, Live, LiveResource, Mode, Ref};

/// Builds the live model from discovered resources.
pub fn assemble(mut found: Vec<LiveResource>, desired: &Desired) -> Live {
    found.sort_by(|a, b| (&a.address, &a.id).cmp(&(&b.address, &b.id)));
    let references = reference_counts(&found);
    let preliminary = index(&found);
    let mut by_address: BTreeMap<Address, Vec<LiveResource>> = BTreeMap::new();
    for resource in found {
        by_address
            .entry(resource.address.clone())
            .or_default()
            .push(resource);
    }

    let mut kept: Vec<LiveResource> = Vec::new();
    for (address, mut claimants) in by_address {
        if claimants.len() > 1 {
            let best = best_fit(&address, &claimants, desired, &preliminary, &references);
            let winner = claimants.remove(best);
            for mut loser in claimants {
                // Only the stack's own twins are deleted; a resource without the stack's
                // tag (or name) that lost the address is simply not the stack's.
                if !is_stack_tagged(&loser.tags, &desired.stack) && !address.kind.owned_by_name() {
                    continue;
                }
                loser.address = orphan_address(address.kind, &loser.id);
                loser.unmanaged = false;
                kept.push(loser);
            }
            kept.push(winner);
        } else {
            kept.extend(claimants);
        }
    }

    let ids = index(&kept);
    let resolve = |r: &Ref| match r {
        Ref::External(id) => ids
            .get(id.as_str())
            .map_or_else(|| r.clone(), |a| Ref::Address(a.clone())),
        Ref::Address(_) => r.clone(),
    };
    Live {
        resources: kept
            .into_iter()
            .map(|mut r| {
                r.props.map_refs(&resolve);
                (r.address.clone(), r)
            })
            .collect(),
    }
}

/// AWS id and ARN → address.
fn index(resources: &[LiveResource]) -> HashMap<String, Address> {
    let mut map = HashMap::new();
    for r in resources {
        map.insert(r.id.clone(), r.address.clone());
        if let Some(arn) = &r.arn {
            map.insert(arn.clone(), r.address.clone());
        }
    }
    map
}

/// How many other live resources reference each AWS id.
fn reference_counts(resources: &[LiveResource]) -> HashMap<String, usize> {
    let mut counts = HashMap::new();
    for r in resources {
        for (_, target) in r.props.refs() {
            if let Ref::External(id) = target {
                *counts.entry(id.clone()).or_default() += 1;
            }
        }
    }
    counts
}

/// Index of the claimant to keep: fewest fields that would force a replacement, then the
/// stack's own over one without its tag, then the most referenced by other resources (the
/// one actually in use), then the lowest id.
fn best_fit(
    address: &Address,
    claimants: &[LiveResource],
    desired: &Desired,
    ids: &HashMap<String, Address>,
    references: &HashMap<String, usize>,
) -> usize {
    let forcing = |live: &LiveResource| -> usize {
        let Some(want) = desired.resources.get(address) else {
            return 0;
        };
        let mut props = live.props.clone();
        props.map_refs(&|r: &Ref| match r {
            Ref::External(id) => ids
                .get(id.as_str())
                .map_or_else(|| r.clone(), |a| Ref::Address(a.clone())),
            other => other.clone(),
        });
        props.accept_replacement_name(&want.props);
        field_diffs(address.kind, &want.props.to_value(), &props.to_value())
            .iter()
            .filter(|d| d.mode(address.kind) == Mode::ForceNew)
            .count()
    };
    claimants
        .iter()
        .enumerate()
        .min_by_key(|(_, c)| {
            (
                forcing(c),
                !is_stack_tagged(&c.tags, &desired.stack),
                std::cmp::Reverse(references.get(&c.id).copied().unwrap_or(0)),
                c.unmanaged,
            )
        })
        .map_or(0, |(i, _)| i)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Kind;
    use crate::testing::{SEED, desired, live_matching};

    #[test]
    fn only_the_stacks_own_twins_are_kept_for_deletion() {
        let desired = desired(SEED);
        let live = live_matching(&desired);
        let detector: Address = "guardduty_detector.main".parse().expect("address");
        let ours = live.resources[&detector].clone();
        let mut twin = ours.clone();
        twin.id = "twin".into();
        let mut foreign = ours.clone();
        foreign.id = "foreign".into();
        foreign.tags.clear();

        let assembled = assemble(vec![ours.clone(), twin, foreign], &desired);
        let detectors: Vec<(&Address, &str)> = assembled
            .resources
            .values()
            .filter(|r| r.address.kind == Kind::GuarddutyDetector)
            .map(|r| (&r.address, r.id.as_str()))
            .collect();
        let orphan = orphan_address(Kind::GuarddutyDetector, "twin");
        assert_eq!(
            detectors,
            [(&detector, ours.id.as_str()), (&orphan, "twin")],
            "the untagged one is not the stack's to delete"
        );
    }
}
