//! Runs a plan's steps against AWS.
//!
//! Steps start as soon as everything they wait for has succeeded, at most `parallelism`
//! at once. A failed step marks every step that waits on it (transitively) as skipped;
//! independent branches carry on. `interrupt` (Ctrl-C, or a lost stack lock) stops new
//! steps from starting, lets running ones finish, and reports the rest as not started;
//! `abandon` after it (a second Ctrl-C) drops the running ones and reports them as failed,
//! possibly half done. The summary says what was done, what failed and what was skipped,
//! per resource. Creates whose outcome is unknown go through `recover`.
//!
//! Two refusals of real AWS are waited out, within bounds, with progress:
//! - a service refusing a role or key policy made moments ago (`ErrorKind::Propagating`):
//!   the step runs again until `propagation_wait` has passed;
//! - `DependencyViolation` from deleting what a database, cache or NAT gateway deleted
//!   earlier in this apply stood on (a security group, subnet, VPC, internet gateway): their
//!   network interfaces linger for minutes after them ("Delete a security group",
//!   https://docs.aws.amazon.com/vpc/latest/userguide/deleting-security-groups.html; RDS and
//!   ElastiCache release theirs asynchronously), so the delete runs again until
//!   `dependency_wait` has passed. Without such a deletion before it, `DependencyViolation`
//!   is someone else's resource in the way and fails at once.

use std::collections::{BTreeMap, BTreeSet};
use std::future::Future;
use std::pin::Pin;
use std::time::{Duration, Instant};

use futures::stream::{FuturesUnordered, StreamExt};

use super::events::{Outcome, Reporter};
use super::ops::{Op, OpGraph, Step, build};
use crate::aws::discover::provider_for;
use crate::aws::provider::{Delete, LinkPhase, LinkSync, Update};
use crate::aws::{AwsContext, AwsError, ErrorKind, Ids, Provider};
use crate::model::{Address, Desired, Kind};
use crate::plan::{Action, Change, Plan, PlanOptions};

#[derive(Clone, Debug)]
pub struct ApplyOptions {
    pub parallelism: usize,
    /// How long a step refused for a change AWS has not propagated yet keeps being retried.
    pub propagation_wait: Duration,
    /// How long a delete refused for the lingering network interfaces of a database, cache
    /// or NAT gateway deleted before it keeps being retried.
    pub dependency_wait: Duration,
}

/// IAM changes usually reach other services within seconds; two minutes is the bound
/// Terraform's AWS provider also uses for them (`PropagationTimeout`).
pub const PROPAGATION_WAIT: Duration = Duration::from_secs(120);

impl Default for ApplyOptions {
    fn default() -> Self {
        ApplyOptions {
            parallelism: 10,
            propagation_wait: PROPAGATION_WAIT,
            dependency_wait: Duration::from_secs(15 * 60),
        }
    }
}

/// Kinds whose network interfaces outlive them for a while.
const LEAVES_INTERFACES: [Kind; 3] = [
    Kind::DbInstance,
    Kind::CacheReplicationGroup,
    Kind::NatGateway,
];

/// Kinds whose network interfaces keep a security group for a while after they are moved
/// to another one (the modification is applied asynchronously).
const MOVES_INTERFACES: [Kind; 2] = [Kind::DbInstance, Kind::CacheReplicationGroup];

/// Answers of a delete that mean something still uses the resource.
fn in_use(err: &AwsError) -> bool {
    matches!(
        err.code.as_deref(),
        Some("DependencyViolation" | "InvalidIPAddress.InUse")
    )
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ChangeStatus {
    Done,
    Failed(String),
    Skipped(String),
}

/// What happened to each change of the plan.
#[derive(Clone, Debug, Default)]
pub struct ApplyReport {
    pub results: Vec<(Address, Action, ChangeStatus)>,
    pub interrupted: bool,
    pub elapsed: Duration,
}

impl ApplyReport {
    pub fn count(&self, f: impl Fn(&ChangeStatus) -> bool) -> usize {
        self.results.iter().filter(|(_, _, s)| f(s)).count()
    }

    pub fn succeeded(&self) -> bool {
        !self.interrupted
            && self
                .results
                .iter()
                .all(|(_, _, s)| *s == ChangeStatus::Done)
    }
}

type StepFuture<'a> =
    Pin<Box<dyn Future<Output = (Op, Result<Option<String>, AwsError>, Duration)> + Send + 'a>>;

pub async fn execute(
    plan: &Plan,
    ctx: &AwsContext,
    providers: &[Box<dyn Provider>],
    options: &ApplyOptions,
    reporter: &dyn Reporter,
    interrupt: impl Future<Output = ()>,
    abandon: impl Future<Output = ()>,
) -> ApplyReport {
    let started = Instant::now();
    let graph = build(plan);
    let dependents = graph.dependents();
    let ids = Ids::from_live(plan.changes.iter().filter_map(|c| c.before.as_ref()));
    let found = Ids::from_live(plan.changes.iter().filter_map(|c| c.before.as_ref()));
    let going: BTreeSet<Address> = plan
        .changes
        .iter()
        .filter(|c| matches!(c.action, Action::Delete | Action::Replace))
        .map(|c| c.address.clone())
        .collect();
    let changes: BTreeMap<&Address, &Change> =
        plan.changes.iter().map(|c| (&c.address, c)).collect();
    // What the plan wants, for finding resources whose create had an unknown outcome.
    let desired = plan.desired();
    let lingering = lingering_before(&graph);
    let run = Run {
        ctx,
        providers,
        ids: &ids,
        found: &found,
        going: &going,
        options: &plan.options,
        desired: &desired,
        lingering: &lingering,
        patience: options,
    };

    let mut waiting: BTreeMap<Op, usize> = graph
        .deps
        .iter()
        .map(|(op, deps)| (op.clone(), deps.len()))
        .collect();
    let mut outcome: BTreeMap<Op, ChangeStatus> = BTreeMap::new();
    let mut ready: Vec<Op> = waiting
        .iter()
        .filter(|(_, n)| **n == 0)
        .map(|(op, _)| op.clone())
        .collect();
    ready.sort_by(|a, b| b.cmp(a));
    let mut running: FuturesUnordered<StepFuture> = FuturesUnordered::new();
    let parallelism = options.parallelism.max(1);
    let mut interrupted = false;
    let mut interrupt = std::pin::pin!(interrupt);
    let mut abandon = std::pin::pin!(abandon);
    let mut in_flight: BTreeSet<Op> = BTreeSet::new();

    reporter.begin(graph.deps.len());
    loop {
        while !interrupted && running.len() < parallelism {
            let Some(op) = ready.pop() else { break };
            let Some(change) = changes.get(&op.address) else {
                continue;
            };
            reporter.started(&op);
            in_flight.insert(op.clone());
            running.push(Box::pin(run_step(op, change, &run, reporter)));
        }
        if running.is_empty() {
            break;
        }
        let finished = tokio::select! {
            next = running.next() => next,
            () = &mut interrupt, if !interrupted => {
                interrupted = true;
                reporter.interrupted();
                continue;
            }
            () = &mut abandon, if interrupted => {
                reporter.abandoned();
                for op in std::mem::take(&mut in_flight) {
                    outcome.insert(
                        op,
                        ChangeStatus::Failed(
                            "abandoned while running (stopped at once): may be half done".into(),
                        ),
                    );
                }
                break;
            }
        };
        let Some((op, result, elapsed)) = finished else {
            break;
        };
        in_flight.remove(&op);
        match result {
            Ok(created_id) => {
                reporter.finished(&op, &Outcome::Done { created_id }, elapsed);
                outcome.insert(op.clone(), ChangeStatus::Done);
                for next in dependents.get(&op).into_iter().flatten() {
                    if let Some(n) = waiting.get_mut(next) {
                        *n -= 1;
                        if *n == 0 && !outcome.contains_key(next) {
                            ready.push(next.clone());
                        }
                    }
                }
                ready.sort_by(|a, b| b.cmp(a));
            }
            Err(err) => {
                let message = err.to_string();
                reporter.finished(&op, &Outcome::Failed(message.clone()), elapsed);
                outcome.insert(op.clone(), ChangeStatus::Failed(message));
                skip_dependents(&op, &dependents, &mut outcome, &mut ready, reporter);
            }
        }
    }

    for op in graph.deps.keys() {
        if !outcome.contains_key(op) {
            let cause = if interrupted {
                "interrupted before it started"
            } else {
                "not started"
            };
            reporter.skipped(op, cause);
            outcome.insert(op.clone(), ChangeStatus::Skipped(cause.into()));
        }
    }
    reporter.end();
    ApplyReport {
        results: summarize(plan, &graph, &outcome),
        interrupted,
        elapsed: started.elapsed(),
    }
}

fn skip_dependents(
    failed: &Op,
    dependents: &BTreeMap<Op, BTreeSet<Op>>,
    outcome: &mut BTreeMap<Op, ChangeStatus>,
    ready: &mut Vec<Op>,
    reporter: &dyn Reporter,
) {
    let cause = format!("{} failed", failed.address);
    let mut stack: Vec<Op> = dependents
        .get(failed)
        .into_iter()
        .flatten()
        .cloned()
        .collect();
    while let Some(op) = stack.pop() {
        if outcome.contains_key(&op) {
            continue;
        }
        reporter.skipped(&op, &cause);
        outcome.insert(op.clone(), ChangeStatus::Skipped(cause.clone()));
        ready.retain(|r| r != &op);
        stack.extend(dependents.get(&op).into_iter().flatten().cloned());
    }
}

/// A change failed if any of its steps failed, was skipped if any step was skipped.
fn summarize(
    plan: &Plan,
    graph: &OpGraph,
    outcome: &BTreeMap<Op, ChangeStatus>,
) -> Vec<(Address, Action, ChangeStatus)> {
    plan.actionable()
        .map(|change| {
            let statuses: Vec<&ChangeStatus> = graph
                .deps
                .keys()
                .filter(|op| op.address == change.address)
                .filter_map(|op| outcome.get(op))
                .collect();
            let status = statuses
                .iter()
                .find(|s| matches!(s, ChangeStatus::Failed(_)))
                .or_else(|| {
                    statuses
                        .iter()
                        .find(|s| matches!(s, ChangeStatus::Skipped(_)))
                })
                .map_or(ChangeStatus::Done, |s| (*s).clone());
            (change.address.clone(), change.action, status)
        })
        .collect()
}

/// What every step of one apply shares.
struct Run<'a> {
    ctx: &'a AwsContext,
    providers: &'a [Box<dyn Provider>],
    ids: &'a Ids,
    /// The ids as discovered: links being released are the live ones, to the resources
    /// as they were (a group replaced create-before-destroy has a new id in `ids` already).
    found: &'a Ids,
    /// Resources this apply replaces or deletes.
    going: &'a BTreeSet<Address>,
    options: &'a PlanOptions,
    desired: &'a Desired,
    /// For each delete, the deletes (and moves) before it of resources that leave network
    /// interfaces behind.
    lingering: &'a BTreeMap<Op, Vec<Op>>,
    patience: &'a ApplyOptions,
}

/// For each Delete step, the Delete steps of kinds in `LEAVES_INTERFACES` and the Update
/// steps of kinds in `MOVES_INTERFACES` it waits for, directly or through other steps.
fn lingering_before(graph: &OpGraph) -> BTreeMap<Op, Vec<Op>> {
    let mut out = BTreeMap::new();
    for op in graph.deps.keys().filter(|op| op.step == Step::Delete) {
        let mut seen: BTreeSet<&Op> = BTreeSet::new();
        let mut stack: Vec<&Op> = graph.deps[op].iter().collect();
        let mut found = Vec::new();
        while let Some(dep) = stack.pop() {
            if !seen.insert(dep) {
                continue;
            }
            let kind = dep.address.kind;
            if (dep.step == Step::Delete && LEAVES_INTERFACES.contains(&kind))
                || (dep.step == Step::Update && MOVES_INTERFACES.contains(&kind))
            {
                found.push(dep.clone());
            }
            stack.extend(graph.deps.get(dep).into_iter().flatten());
        }
        if !found.is_empty() {
            found.sort();
            out.insert(op.clone(), found);
        }
    }
    out
}

/// What a refusal worth waiting for is waiting for, and for how long at most.
fn worth_waiting(op: &Op, err: &AwsError, run: &Run<'_>) -> Option<(String, Duration)> {
    if err.is(ErrorKind::Propagating) {
        return Some((
            "AWS has not propagated a role or key policy made moments ago".to_string(),
            run.patience.propagation_wait,
        ));
    }
    if op.step == Step::Delete && in_use(err) {
        let before = run.lingering.get(op)?;
        let names: Vec<String> = before
            .iter()
            .map(|dep| match dep.step {
                Step::Delete => format!("the deleted {}", dep.address),
                _ => format!("{} (moved off it)", dep.address),
            })
            .collect();
        return Some((
            format!(
                "waiting for the network interfaces of {} to go",
                names.join(", ")
            ),
            run.patience.dependency_wait,
        ));
    }
    None
}

/// 1 s, 2 s, 4 s ... at most 15 s between tries.
fn wait_between(tries: u32) -> Duration {
    Duration::from_secs(1u64 << tries.min(4)).min(Duration::from_secs(15))
}

async fn run_step<'a>(
    op: Op,
    change: &'a Change,
    run: &'a Run<'a>,
    reporter: &'a dyn Reporter,
) -> (Op, Result<Option<String>, AwsError>, Duration) {
    let started = Instant::now();
    let mut tries = 0;
    let result = loop {
        let err = match step(&op, change, run, reporter).await {
            Ok(done) => break Ok(done),
            Err(err) => err,
        };
        let Some((what, bound)) = worth_waiting(&op, &err, run) else {
            break Err(err);
        };
        let waited = started.elapsed();
        let pause = wait_between(tries);
        if waited + pause > bound {
            break Err(err.with_note(format!(
                "still refused after {} s of retries: {what}; if it persists, check the \
                 resource this depends on",
                waited.as_secs()
            )));
        }
        reporter.waiting(
            &op,
            &format!(
                "{what} ({}; {} s of at most {} s)",
                err.code.as_deref().unwrap_or(&err.operation),
                waited.as_secs(),
                bound.as_secs()
            ),
        );
        // The first Ctrl-C stops waiting here too, as it stops waits for AWS.
        let mut stopped = run.ctx.waits.subscribe();
        let stop = tokio::select! {
            () = tokio::time::sleep(pause) => false,
            _ = stopped.wait_for(|stop| *stop) => true,
        };
        if stop {
            break Err(err.with_note(format!(
                "stopped retrying at Ctrl-C after {} s ({what}); running apply again is safe",
                started.elapsed().as_secs()
            )));
        }
        tries += 1;
    };
    (op, result, started.elapsed())
}

/// Carries out one step; an error names the change's address (providers name the
/// operation only).
async fn step(
    op: &Op,
    change: &Change,
    run: &Run<'_>,
    reporter: &dyn Reporter,
) -> Result<Option<String>, AwsError> {
    step_unnamed(op, change, run, reporter)
        .await
        .map_err(|e| e.at(&change.address))
}

async fn step_unnamed(
    op: &Op,
    change: &Change,
    run: &Run<'_>,
    reporter: &dyn Reporter,
) -> Result<Option<String>, AwsError> {
    let Run {
        ctx,
        providers,
        ids,
        going,
        options,
        desired,
        ..
    } = *run;
    let provider = provider_for(providers, change.kind).ok_or_else(|| {
        AwsError::new(
            "apply",
            ErrorKind::Other,
            format!("no provider manages {}", change.kind),
        )
        .at(&change.address)
    })?;
    let missing = |what: &str| {
        AwsError::new(
            "apply",
            ErrorKind::Other,
            format!("the plan has no {what} state for this change"),
        )
        .at(&change.address)
    };
    match op.step {
        Step::Create => {
            let after = change.after.as_ref().ok_or_else(|| missing("desired"))?;
            let report = |what: &str| reporter.recovering(op, what);
            let created =
                super::recover::create(provider, ctx, after, desired, options, ids, &report)
                    .await?;
            let id = created.id.clone();
            ids.insert(change.address.clone(), created);
            Ok(Some(id))
        }
        Step::Update => {
            let before = change.before.as_ref().ok_or_else(|| missing("live"))?;
            let after = change.after.as_ref().ok_or_else(|| missing("desired"))?;
            provider
                .update(
                    ctx,
                    Update {
                        live: before,
                        desired: after,
                        diffs: &change.diffs,
                        ids,
                    },
                )
                .await?;
            Ok(None)
        }
        Step::Delete => {
            let before = change.before.as_ref().ok_or_else(|| missing("live"))?;
            provider
                .delete(
                    ctx,
                    Delete {
                        live: before,
                        options: &super::delete_options(options),
                        ids,
                    },
                )
                .await?;
            // A replacement created first (create-before-destroy) keeps its new id.
            if change.action == Action::Delete {
                ids.remove(&change.address);
            }
            Ok(None)
        }
        Step::Release | Step::Establish => {
            let replacing = matches!(change.action, Action::Delete | Action::Replace);
            let (before, after, id) = match op.step {
                Step::Release => {
                    let before = change.before.as_ref().ok_or_else(|| missing("live"))?;
                    let after = if replacing {
                        None
                    } else {
                        change.after.as_ref().map(|r| &r.props)
                    };
                    (Some(&before.props), after, before.id.clone())
                }
                _ => {
                    let after = change.after.as_ref().ok_or_else(|| missing("desired"))?;
                    let before = if replacing || change.action == Action::Create {
                        None
                    } else {
                        change.before.as_ref().map(|r| &r.props)
                    };
                    (
                        before,
                        Some(&after.props),
                        ids.id(&change.address.clone().into())?,
                    )
                }
            };
            let request = LinkSync {
                address: &change.address,
                id: &id,
                before,
                after,
                phase: if op.step == Step::Release {
                    LinkPhase::Release
                } else {
                    LinkPhase::Establish
                },
                going,
            };
            let resolve = if op.step == Step::Release {
                run.found
            } else {
                ids
            };
            provider.sync_links(ctx, request, resolve).await?;
            Ok(None)
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;
    use std::time::Duration;

    use super::*;
    use crate::apply::fake::FakeAws;
    use crate::model::Live;
    use crate::testing::{SEED, desired, live_matching, plan};

    /// The seed as applied.
    fn seed() -> Live {
        live_matching(&desired(SEED))
    }

    /// Records what the executor reports while waiting.
    #[derive(Default)]
    struct Waits(Mutex<Vec<String>>);

    impl Reporter for Waits {
        fn begin(&self, _: usize) {}
        fn started(&self, _: &Op) {}
        fn finished(&self, _: &Op, _: &super::super::Outcome, _: Duration) {}
        fn skipped(&self, _: &Op, _: &str) {}
        fn recovering(&self, _: &Op, _: &str) {}
        fn waiting(&self, op: &Op, what: &str) {
            self.0
                .lock()
                .expect("waits")
                .push(format!("{}: {what}", op.address));
        }
        fn interrupted(&self) {}
        fn abandoned(&self) {}
        fn end(&self) {}
    }

    fn in_use() -> AwsError {
        AwsError::new(
            "ec2:DeleteSecurityGroup",
            ErrorKind::Conflict,
            "resource has a dependent object",
        )
        .with_code(Some("DependencyViolation"))
    }

    fn not_propagated() -> AwsError {
        AwsError::new(
            "ec2:CreateFlowLogs",
            ErrorKind::Propagating,
            "Unable to assume given IAM role.",
        )
        .with_code(Some("InvalidParameter"))
    }

    fn quick() -> ApplyOptions {
        ApplyOptions {
            parallelism: 4,
            propagation_wait: Duration::from_secs(5),
            dependency_wait: Duration::from_secs(5),
        }
    }

    async fn run(
        plan: &Plan,
        fake: &FakeAws,
        options: &ApplyOptions,
        reporter: &dyn Reporter,
    ) -> ApplyReport {
        let ctx = AwsContext::unconnected("api-platform");
        let providers: Vec<Box<dyn Provider>> = vec![Box::new(fake.clone())];
        execute(
            plan,
            &ctx,
            &providers,
            options,
            reporter,
            std::future::pending(),
            std::future::pending(),
        )
        .await
    }

    fn destroy_seed() -> Plan {
        crate::testing::destroy_everything(&seed())
    }

    #[tokio::test(start_paused = true)]
    async fn a_group_the_deleted_database_stood_on_is_deleted_once_its_interfaces_go() {
        let plan = destroy_seed();
        let fake =
            &(FakeAws::holding(&seed()).failing("security_group.rds", Step::Delete, 3, in_use()));
        let waits = Waits::default();
        let report = run(&plan, fake, &quick(), &waits).await;
        assert!(report.succeeded(), "{:?}", report.results);
        assert_eq!(fake.tries("security_group.rds", Step::Delete), 4);
        let waits = waits.0.lock().expect("waits");
        assert_eq!(waits.len(), 3, "{waits:?}");
        assert!(
            waits[0].starts_with(
                "security_group.rds: waiting for the network interfaces of the deleted db_instance.main to go (DependencyViolation; 0 s of at most 5 s)"
            ),
            "{waits:?}"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_group_nothing_deleted_stood_on_fails_at_once_when_in_use() {
        let plan = destroy_seed();
        let fake =
            &(FakeAws::holding(&seed()).failing("security_group.alb", Step::Delete, 1, in_use()));
        let waits = Waits::default();
        let report = run(&plan, fake, &quick(), &waits).await;
        assert!(!report.succeeded());
        assert_eq!(fake.tries("security_group.alb", Step::Delete), 1);
        assert!(waits.0.lock().expect("waits").is_empty());
        let (_, _, status) = report
            .results
            .iter()
            .find(|(a, _, _)| a.to_string() == "security_group.alb")
            .expect("alb");
        assert!(matches!(status, ChangeStatus::Failed(m) if m.contains("DependencyViolation")));
    }

    #[tokio::test(start_paused = true)]
    async fn waiting_for_lingering_interfaces_is_bounded() {
        let plan = destroy_seed();
        let fake =
            &(FakeAws::holding(&seed()).failing("subnet.data-az1", Step::Delete, 1000, in_use()));
        let report = run(&plan, fake, &quick(), &Waits::default()).await;
        let (_, _, status) = report
            .results
            .iter()
            .find(|(a, _, _)| a.to_string() == "subnet.data-az1")
            .expect("subnet");
        let ChangeStatus::Failed(message) = status else {
            panic!("{status:?}");
        };
        assert!(message.contains("still refused after"), "{message}");
        assert!(message.contains("db_instance.main"), "{message}");
        assert!(fake.tries("subnet.data-az1", Step::Delete) < 10);
    }

    #[tokio::test(start_paused = true)]
    async fn a_role_not_yet_propagated_is_waited_for_then_fails_clearly() {
        let desired = desired(SEED);
        let plan = plan(&desired, &Live::default());
        let fake = &(FakeAws::default().failing("flow_log.vpc", Step::Create, 2, not_propagated()));
        let waits = Waits::default();
        let report = run(&plan, fake, &quick(), &waits).await;
        assert!(report.succeeded(), "{:?}", report.results);
        assert_eq!(fake.tries("flow_log.vpc", Step::Create), 3);
        assert!(waits.0.lock().expect("waits")[0].contains("AWS has not propagated a role"));

        let fake =
            &(FakeAws::default().failing("flow_log.vpc", Step::Create, 1000, not_propagated()));
        let report = run(&plan, fake, &quick(), &Waits::default()).await;
        let failed: Vec<&String> = report
            .results
            .iter()
            .filter_map(|(_, _, s)| match s {
                ChangeStatus::Failed(m) => Some(m),
                _ => None,
            })
            .collect();
        assert_eq!(failed.len(), 1, "{failed:?}");
        assert!(failed[0].contains("flow_log.vpc: ec2:CreateFlowLogs failed: InvalidParameter"));
        assert!(failed[0].contains("still refused after"), "{}", failed[0]);
    }
}
