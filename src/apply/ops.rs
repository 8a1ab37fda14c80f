//! Expands a plan's changes into steps and the order between them.
//!
//! A change becomes one or more steps:
//! - create:  Create, then Establish (links) for kinds with links
//! - update:  Update (fields changed in place) and/or Release + Establish (links)
//! - replace: Release, Delete, Create, Establish
//! - delete:  Release, Delete
//!
//! Order:
//! - Create/Update wait for the creates and updates of what the resource requires (and,
//!   for a required resource being made, its Establish: a new security group is used once
//!   it has its rules), for its own Delete when replaced, and for deletes of the same kind
//!   (freeing names and CIDRs) — except for kinds replaced create-before-destroy (KMS keys,
//!   security and parameter groups), whose Delete instead waits for the new resource and
//!   for everything that moves over to it, and whose old links are released only then.
//! - Establish waits for its resource and for every link target being created, and for its
//!   own Release — except where new links are added before old ones go (security group
//!   rules, a replacement made first): then Release waits for Establish.
//! - Delete waits for its own Release, for the deletes of live resources that require it,
//!   for the updates of live resources that stop requiring it, and for the Release of every
//!   live resource linking to it.
//! - Release of a resource going away waits for the deletes of live resources standing on
//!   it (a database keeps its group's rules until it is deleted); otherwise it waits for
//!   nothing, so mutually linked resources never deadlock.
//!
//! Deletes depend on Delete, Release and Update steps; an Update waiting on a Create that
//! waits on a Delete would close a cycle, which is why a resource whose dependents can move
//! over by an update (a database to a new security group) is replaced create-before-destroy.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use crate::model::{Address, Kind, Mode};
use crate::plan::{Action, Change, Plan};

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Step {
    Release,
    Delete,
    Create,
    Update,
    Establish,
}

impl Step {
    pub fn verb(self, kind: Kind) -> &'static str {
        match (self, kind) {
            (Step::Release, Kind::SecurityGroup) => "revoking rules",
            (Step::Establish, Kind::SecurityGroup) => "authorizing rules",
            (Step::Release, Kind::RouteTable) => "removing routes and associations",
            (Step::Establish, Kind::RouteTable) => "adding routes and associations",
            (Step::Release, _) => "releasing links",
            (Step::Establish, _) => "establishing links",
            (Step::Delete, _) => "deleting",
            (Step::Create, _) => "creating",
            (Step::Update, _) => "updating",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Op {
    pub address: Address,
    pub step: Step,
}

impl fmt::Display for Op {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} ({})",
            self.address,
            self.step.verb(self.address.kind)
        )
    }
}

#[derive(Debug, Default)]
pub struct OpGraph {
    /// Each op and the ops it waits for.
    pub deps: BTreeMap<Op, BTreeSet<Op>>,
}

impl OpGraph {
    /// Ops that wait for `op`.
    pub fn dependents(&self) -> BTreeMap<Op, BTreeSet<Op>> {
        let mut out: BTreeMap<Op, BTreeSet<Op>> = self
            .deps
            .keys()
            .map(|op| (op.clone(), BTreeSet::new()))
            .collect();
        for (op, deps) in &self.deps {
            for dep in deps {
                out.entry(dep.clone()).or_default().insert(op.clone());
            }
        }
        out
    }
}

fn steps(change: &Change) -> Vec<Step> {
    let kind = change.kind;
    let links = kind.has_links();
    match change.action {
        Action::Noop => vec![],
        Action::Create if links => vec![Step::Create, Step::Establish],
        Action::Create => vec![Step::Create],
        Action::Delete if links => vec![Step::Release, Step::Delete],
        Action::Delete => vec![Step::Delete],
        Action::Replace if links => {
            vec![Step::Release, Step::Delete, Step::Create, Step::Establish]
        }
        Action::Replace => vec![Step::Delete, Step::Create],
        Action::Update => {
            let mut out = Vec::new();
            if change.diffs.iter().any(|d| d.mode(kind) != Mode::Link) {
                out.push(Step::Update);
            }
            // Links only added need no release step, links only removed no establish step
            // (a re-created link has both sides).
            let links: Vec<_> = change
                .diffs
                .iter()
                .filter(|d| d.mode(kind) == Mode::Link)
                .collect();
            if links.iter().any(|d| !d.before.is_null()) {
                out.push(Step::Release);
            }
            if links.iter().any(|d| !d.after.is_null()) {
                out.push(Step::Establish);
            }
            out
        }
    }
}

pub fn build(plan: &Plan) -> OpGraph {
    let mut graph = OpGraph::default();
    let op = |address: &Address, step| Op {
        address: address.clone(),
        step,
    };
    for change in &plan.changes {
        for step in steps(change) {
            graph
                .deps
                .insert(op(&change.address, step), BTreeSet::new());
        }
    }
    let has =
        |graph: &OpGraph, address: &Address, step| graph.deps.contains_key(&op(address, step));

    // Creates and updates of every address, for "wait until it exists / is current".
    let building = |graph: &OpGraph, address: &Address| -> Vec<Op> {
        [Step::Create, Step::Update]
            .into_iter()
            .filter(|s| has(graph, address, *s))
            .map(|s| op(address, s))
            .collect()
    };
    let deleting_kind = |kind: Kind| -> Vec<Op> {
        plan.changes
            .iter()
            .filter(|c| c.kind == kind && matches!(c.action, Action::Delete | Action::Replace))
            .map(|c| op(&c.address, Step::Delete))
            .collect()
    };

    let action_of = |address: &Address| {
        plan.changes
            .iter()
            .find(|c| &c.address == address)
            .map(|c| c.action)
    };
    let made =
        |address: &Address| matches!(action_of(address), Some(Action::Create | Action::Replace));
    // A replacement is made before its predecessor goes when its kind allows it and
    // nothing it requires is itself replaced delete-first (a group in a replaced VPC waits
    // for the new VPC, which waits for the old one to be emptied: delete-first too).
    let made_first = |change: &Change| {
        change.kind.create_before_destroy()
            && change.after.as_ref().is_none_or(|after| {
                after.props.requires().iter().all(|dep| {
                    dep.kind.create_before_destroy() || action_of(dep) != Some(Action::Replace)
                })
            })
    };
    // New links before old ones go: for kinds whose links are independent, and for a
    // replacement made first, whose old links (on the old resource) go after the new ones.
    let adds_first = |change: &Change| match change.action {
        Action::Replace => made_first(change),
        _ => change.kind.adds_links_before_removing(),
    };

    let mut edges: Vec<(Op, Op)> = Vec::new();
    for change in &plan.changes {
        let address = &change.address;
        if let Some(after) = &change.after {
            let mut requires: BTreeSet<Address> = after.props.requires();
            for kind in change.kind.ordered_after() {
                requires.extend(
                    plan.changes
                        .iter()
                        .filter(|c| c.kind == *kind)
                        .map(|c| c.address.clone()),
                );
            }
            for step in [Step::Create, Step::Update] {
                if !has(&graph, address, step) {
                    continue;
                }
                let this = op(address, step);
                for dep in &requires {
                    edges.extend(building(&graph, dep).into_iter().map(|d| (this.clone(), d)));
                    // A new or replacement group is used once it has its rules.
                    if made(dep) && has(&graph, dep, Step::Establish) {
                        edges.push((this.clone(), op(dep, Step::Establish)));
                    }
                }
                if step == Step::Create && !made_first(change) {
                    edges.extend(
                        deleting_kind(change.kind)
                            .into_iter()
                            .map(|d| (this.clone(), d)),
                    );
                }
            }
            if has(&graph, address, Step::Establish) {
                let this = op(address, Step::Establish);
                edges.extend(
                    building(&graph, address)
                        .into_iter()
                        .map(|d| (this.clone(), d)),
                );
                if has(&graph, address, Step::Release) {
                    if adds_first(change) {
                        edges.push((op(address, Step::Release), this.clone()));
                    } else {
                        edges.push((this.clone(), op(address, Step::Release)));
                    }
                }
                for target in after.props.links() {
                    if has(&graph, &target, Step::Create) {
                        edges.push((this.clone(), op(&target, Step::Create)));
                    }
                }
            }
        }
        // A going group keeps its rules until the live resources standing on it that go
        // too are gone: a database being deleted stays reachable until it is.
        if has(&graph, address, Step::Release)
            && matches!(change.action, Action::Delete | Action::Replace)
        {
            let release = op(address, Step::Release);
            for other in &plan.changes {
                let stands_on = other
                    .before
                    .as_ref()
                    .is_some_and(|b| b.props.requires().contains(address));
                if stands_on
                    && &other.address != address
                    && has(&graph, &other.address, Step::Delete)
                {
                    edges.push((release.clone(), op(&other.address, Step::Delete)));
                }
            }
        }
        if has(&graph, address, Step::Delete) {
            let this = op(address, Step::Delete);
            if has(&graph, address, Step::Release) {
                edges.push((this.clone(), op(address, Step::Release)));
            }
            if made_first(change) && has(&graph, address, Step::Create) {
                edges.push((this.clone(), op(address, Step::Create)));
                // The old one keeps its rules until everything using it has moved over.
                if has(&graph, address, Step::Release) {
                    let release = op(address, Step::Release);
                    edges.push((release.clone(), op(address, Step::Create)));
                    for other in &plan.changes {
                        let uses = other
                            .before
                            .as_ref()
                            .is_some_and(|b| b.props.requires().contains(address));
                        if uses
                            && &other.address != address
                            && has(&graph, &other.address, Step::Update)
                        {
                            edges.push((release.clone(), op(&other.address, Step::Update)));
                        }
                    }
                }
            }
            for other in &plan.changes {
                let Some(before) = &other.before else {
                    continue;
                };
                if &other.address == address {
                    continue;
                }
                if before.props.requires().contains(address)
                    && has(&graph, &other.address, Step::Update)
                {
                    edges.push((this.clone(), op(&other.address, Step::Update)));
                }
                if before.props.requires().contains(address)
                    && has(&graph, &other.address, Step::Delete)
                {
                    edges.push((this.clone(), op(&other.address, Step::Delete)));
                }
                if before.props.links().contains(address)
                    && has(&graph, &other.address, Step::Release)
                {
                    edges.push((this.clone(), op(&other.address, Step::Release)));
                }
            }
            for other in &plan.changes {
                if other.kind.ordered_after().contains(&change.kind)
                    && has(&graph, &other.address, Step::Delete)
                {
                    edges.push((this.clone(), op(&other.address, Step::Delete)));
                }
            }
        }
    }
    for (from, to) in edges {
        if from != to {
            graph.deps.entry(from).or_default().insert(to);
        }
    }
    graph
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::model::Props;
    use crate::testing::{SEED, desired, live_matching, plan};

    /// A group that only gains a rule authorizes it; nothing is revoked or "released".
    #[test]
    fn only_added_links_are_only_established() {
        let desired = desired(SEED);
        let rds: Address = "security_group.rds".parse().expect("address");
        // The steps planned for the rds group when its live rules are `edit`ed.
        let steps_when = |edit: &dyn Fn(&mut std::collections::BTreeSet<_>)| -> Vec<Step> {
            let mut live = live_matching(&desired);
            if let Some(Props::SecurityGroup(p)) =
                live.resources.get_mut(&rds).map(|r| &mut r.props)
            {
                edit(&mut p.ingress);
            }
            build(&plan(&desired, &live))
                .deps
                .keys()
                .filter(|op| op.address == rds)
                .map(|op| op.step)
                .collect()
        };
        assert_eq!(steps_when(&|rules| rules.clear()), vec![Step::Establish]);
        assert_eq!(
            steps_when(&|rules| {
                rules.insert("tcp 22 from 10.0.0.0/8".parse().expect("rule"));
            }),
            vec![Step::Release],
            "only a removal"
        );
    }

    /// Whether every step can run (Kahn's algorithm empties the graph).
    pub fn is_acyclic(graph: &OpGraph) -> bool {
        let mut waiting: BTreeMap<&Op, usize> =
            graph.deps.iter().map(|(op, d)| (op, d.len())).collect();
        let dependents = graph.dependents();
        let mut ready: Vec<Op> = waiting
            .iter()
            .filter(|(_, n)| **n == 0)
            .map(|(op, _)| (*op).clone())
            .collect();
        let mut done = 0;
        while let Some(op) = ready.pop() {
            done += 1;
            for next in &dependents[&op] {
                let n = waiting.get_mut(next).expect("known op");
                *n -= 1;
                if *n == 0 {
                    ready.push(next.clone());
                }
            }
        }
        done == graph.deps.len()
    }

    fn op(address: &str, step: Step) -> Op {
        Op {
            address: address.parse().expect("address"),
            step,
        }
    }

    fn waits(graph: &OpGraph, this: &Op, on: &Op) -> bool {
        graph.deps.get(this).is_some_and(|d| d.contains(on))
    }

    #[test]
    fn creating_the_seed_orders_steps_by_need() {
        let desired = desired(SEED);
        let graph = build(&plan(&desired, &Default::default()));
        assert!(is_acyclic(&graph));
        assert!(waits(
            &graph,
            &op("subnet.app-az1", Step::Create),
            &op("vpc.main", Step::Create)
        ));
        assert!(waits(
            &graph,
            &op("nat_gateway.public-az1", Step::Create),
            &op("internet_gateway.main", Step::Create)
        ));
        assert!(waits(
            &graph,
            &op("nat_gateway.public-az1", Step::Create),
            &op("elastic_ip.public-az1", Step::Create)
        ));
        assert!(waits(
            &graph,
            &op("flow_log.vpc", Step::Create),
            &op("iam_role.flow-logs", Step::Create)
        ));
        // Groups referencing each other: both exist before either's rules are authorized.
        let ecs_rules = op("security_group.ecs", Step::Establish);
        assert!(waits(
            &graph,
            &ecs_rules,
            &op("security_group.alb", Step::Create)
        ));
        assert!(waits(
            &graph,
            &op("security_group.alb", Step::Establish),
            &op("security_group.ecs", Step::Create)
        ));
        assert!(!waits(
            &graph,
            &op("security_group.alb", Step::Create),
            &op("security_group.ecs", Step::Create)
        ));
        assert!(waits(
            &graph,
            &op("route_table.private-a", Step::Establish),
            &op("nat_gateway.public-az1", Step::Create)
        ));
    }

    #[test]
    fn destroying_the_seed_runs_in_reverse() {
        let live = live_matching(&desired(SEED));
        let graph = build(&crate::testing::destroy_everything(&live));
        assert!(is_acyclic(&graph));
        let delete = |a: &str| op(a, Step::Delete);
        assert!(waits(
            &graph,
            &delete("vpc.main"),
            &delete("subnet.app-az1")
        ));
        assert!(waits(
            &graph,
            &delete("internet_gateway.main"),
            &delete("nat_gateway.public-az1")
        ));
        assert!(waits(
            &graph,
            &delete("elastic_ip.public-az1"),
            &delete("nat_gateway.public-az1")
        ));
        assert!(waits(
            &graph,
            &delete("subnet.app-az1"),
            &op("route_table.private-a", Step::Release)
        ));
        // Mutually referencing groups: rules go first, then groups, in either order.
        assert!(waits(
            &graph,
            &delete("security_group.alb"),
            &op("security_group.ecs", Step::Release)
        ));
        assert!(waits(
            &graph,
            &delete("security_group.ecs"),
            &op("security_group.alb", Step::Release)
        ));
        assert!(graph.deps[&op("security_group.ecs", Step::Release)].is_empty());
    }

    #[test]
    fn a_cache_subnet_group_goes_after_its_group_even_when_the_link_is_unreported() {
        let mut live = live_matching(&desired(SEED));
        let group = "cache_replication_group.sessions".parse().expect("address");
        let found = live.resources.get_mut(&group).expect("sessions");
        if let Props::CacheReplicationGroup(p) = &mut found.props {
            p.subnet_group = crate::model::Ref::External(String::new());
        }
        found.unobserved.insert("subnet_group".into());
        let graph = build(&crate::testing::destroy_everything(&live));
        assert!(is_acyclic(&graph));
        assert!(waits(
            &graph,
            &op("cache_subnet_group.sessions", Step::Delete),
            &op("cache_replication_group.sessions", Step::Delete)
        ));
    }

    #[test]
    fn a_going_group_keeps_its_rules_until_the_database_on_it_is_deleted() {
        let live = live_matching(&desired(SEED));
        let graph = build(&crate::testing::destroy_everything(&live));
        assert!(is_acyclic(&graph));
        for (group, user) in [
            ("security_group.rds", "db_instance.main"),
            ("security_group.redis", "cache_replication_group.sessions"),
        ] {
            assert!(
                waits(&graph, &op(group, Step::Release), &op(user, Step::Delete)),
                "{group} releases its rules after {user} is deleted"
            );
        }
    }

    #[test]
    fn replacing_the_vpc_orders_every_step() {
        let desired = desired(SEED);
        let mut live = live_matching(&desired);
        let vpc = "vpc.main".parse().expect("address");
        if let Props::Vpc(p) = &mut live.resources.get_mut(&vpc).expect("vpc").props {
            p.cidr = "10.1.0.0/16".parse().expect("cidr");
        }
        let everything = crate::plan::PlanOptions {
            allow_delete_protected: true,
            ..Default::default()
        };
        let graph = build(&crate::testing::plan_with(&desired, &live, &everything));
        assert!(is_acyclic(&graph));
    }

    #[test]
    fn a_replaced_group_is_made_first_and_its_users_move_before_it_goes() {
        let desired = desired(SEED);
        let mut live = live_matching(&desired);
        let rds = "security_group.rds".parse().expect("address");
        if let Props::SecurityGroup(p) = &mut live.resources.get_mut(&rds).expect("rds").props {
            p.description = "old".into();
        }
        let plan = plan(&desired, &live);
        let graph = build(&plan);
        assert!(is_acyclic(&graph));
        let step = |s| op("security_group.rds", s);
        let db_moves = op("db_instance.main", Step::Update);
        assert!(!waits(&graph, &step(Step::Create), &step(Step::Delete)));
        assert!(waits(&graph, &step(Step::Establish), &step(Step::Create)));
        // The database moves to the new group once that has its rules ...
        assert!(waits(&graph, &db_moves, &step(Step::Create)));
        assert!(waits(&graph, &db_moves, &step(Step::Establish)));
        // ... and the old group keeps its rules until the database has moved.
        assert!(waits(&graph, &step(Step::Release), &db_moves));
        assert!(waits(&graph, &step(Step::Release), &step(Step::Establish)));
        assert!(waits(&graph, &step(Step::Delete), &step(Step::Release)));
        assert!(waits(&graph, &step(Step::Delete), &db_moves));
        // The containers' rule to the database is re-pointed: added before the old goes.
        let ecs = |s| op("security_group.ecs", s);
        assert!(waits(&graph, &ecs(Step::Establish), &step(Step::Create)));
        assert!(waits(&graph, &ecs(Step::Release), &ecs(Step::Establish)));
        assert!(!waits(&graph, &ecs(Step::Establish), &ecs(Step::Release)));
        assert!(waits(&graph, &step(Step::Delete), &ecs(Step::Release)));
        assert!(
            !graph.deps.contains_key(&ecs(Step::Update)),
            "only links change on ecs"
        );
    }

    #[test]
    fn a_replaced_key_is_created_first_and_its_secrets_move_before_it_goes() {
        let desired = desired(SEED);
        let mut live = live_matching(&desired);
        let secrets_key = "kms_key.secrets".parse().expect("address");
        if let Props::KmsKey(p) = &mut live.resources.get_mut(&secrets_key).expect("key").props {
            p.key_spec = "RSA_2048".into();
        }
        let options = crate::plan::PlanOptions {
            allow_delete_protected: true,
            ..Default::default()
        };
        let plan = crate::testing::plan_with(&desired, &live, &options);
        let graph = build(&plan);
        assert!(is_acyclic(&graph));
        let create = op("kms_key.secrets", Step::Create);
        let delete = op("kms_key.secrets", Step::Delete);
        assert!(!waits(&graph, &create, &delete), "create before destroy");
        assert!(waits(&graph, &delete, &create));
        for secret in ["secret.db-master-credentials", "secret.api-keys"] {
            let update = op(secret, Step::Update);
            assert!(
                waits(&graph, &update, &create),
                "{secret} moves to the new key once it exists"
            );
            assert!(
                waits(&graph, &delete, &update),
                "the old key goes after {secret} moved"
            );
        }
        // Without the flag the protected key is held, and nothing cascades.
        let held = plan_without_flag(&desired, &live);
        assert_eq!(held.summary.held, 1);
        assert_eq!(held.summary.change, 0);
    }

    fn plan_without_flag(desired: &crate::model::Desired, live: &crate::model::Live) -> Plan {
        plan(desired, live)
    }
}
