//! Runs a plan's steps against AWS.
//!
//! Steps start as soon as everything they wait for has succeeded, at most `parallelism`
//! at once. A failed step marks every step that waits on it (transitively) as skipped;
//! independent branches carry on. `interrupt` (Ctrl-C, or a lost stack lock) stops new
//! steps from starting, lets running ones finish, and reports the rest as not started;
//! `abandon` after it (a second Ctrl-C) drops the running ones and reports them as failed,
//! possibly half done. The summary says what was done, what failed and what was skipped,
//! per resource. Creates whose outcome is unknown go through `recover`.

use std::collections::{BTreeMap, BTreeSet};
use std::future::Future;
use std::pin::Pin;
use std::time::{Duration, Instant};

use futures::stream::{FuturesUnordered, StreamExt};

use super::events::{Outcome, Reporter};
use super::ops::{Op, OpGraph, Step, build};
use crate::aws::discover::provider_for;
use crate::aws::provider::{LinkPhase, LinkSync};
use crate::aws::{AwsContext, AwsError, ErrorKind, Ids, Provider};
use crate::model::{Address, Desired};
use crate::plan::{Action, Change, Plan, PlanOptions};

#[derive(Clone, Debug)]
pub struct ApplyOptions {
    pub parallelism: usize,
}

impl Default for ApplyOptions {
    fn default() -> Self {
        ApplyOptions { parallelism: 10 }
    }
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
    let run = Run {
        ctx,
        providers,
        ids: &ids,
        going: &going,
        options: &plan.options,
        desired: &desired,
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
    /// Resources this apply replaces or deletes.
    going: &'a BTreeSet<Address>,
    options: &'a PlanOptions,
    desired: &'a Desired,
}

async fn run_step<'a>(
    op: Op,
    change: &'a Change,
    run: &'a Run<'a>,
    reporter: &'a dyn Reporter,
) -> (Op, Result<Option<String>, AwsError>, Duration) {
    let started = Instant::now();
    let result = step(&op, change, run, reporter).await;
    (op, result, started.elapsed())
}

async fn step(
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
                super::recover::create(provider, ctx, after, desired, ids, &report).await?;
            let id = created.id.clone();
            ids.insert(change.address.clone(), created);
            Ok(Some(id))
        }
        Step::Update => {
            let before = change.before.as_ref().ok_or_else(|| missing("live"))?;
            let after = change.after.as_ref().ok_or_else(|| missing("desired"))?;
            provider
                .update(ctx, before, after, &change.diffs, ids)
                .await?;
            Ok(None)
        }
        Step::Delete => {
            let before = change.before.as_ref().ok_or_else(|| missing("live"))?;
            provider.delete(ctx, before, options, ids).await?;
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
            provider.sync_links(ctx, request, ids).await?;
            Ok(None)
        }
    }
}
