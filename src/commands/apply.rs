//! `secinfra apply BLUEPRINT | PLAN.json`.
//!
//! From a blueprint: plan, show, confirm, execute, summarise, verify.
//! From a saved plan: the plan was reviewed when saved, so there is no prompt; instead
//! apply refuses it if the blueprint's meaning or the live state changed since.

use std::collections::BTreeSet;

use super::{
    Exit, Failure, Goal, Prepared, Session, confirm, discover_reporting, interrupted, lock_stack,
    prepare, print, release_lock, reporter, verify,
};
use crate::apply::{ApplyOptions, execute};
use crate::aws::AwsContext;
use crate::aws::discover::providers;
use crate::blueprint::{self, Target};
use crate::cli::ApplyArgs;
use crate::model::{Address, Live};
use crate::plan::{self as planner, Plan};
use crate::render;

pub async fn run(session: &Session, args: &ApplyArgs) -> Result<Exit, Failure> {
    if planner::file::looks_like_plan(&args.target) {
        return apply_saved(session, args).await;
    }
    let prepared = prepare(
        session,
        &args.target,
        Goal::Blueprint,
        args.choices.options(),
        Some((&args.lock, "apply")),
    )
    .await?;
    let result = apply(session, &prepared, args, args.auto_approve).await;
    prepared.release(session).await;
    result
}

/// Shows the plan and, once approved, carries it out.
async fn apply(
    session: &Session,
    prepared: &Prepared,
    args: &ApplyArgs,
    approved: bool,
) -> Result<Exit, Failure> {
    print(&session.show_plan(&prepared.plan))?;
    if !prepared.plan.has_changes() {
        let live = prepared
            .plan
            .changes
            .iter()
            .filter_map(|c| c.before.as_ref());
        record_apply(session, prepared, args, live).await;
        return Ok(Exit::Success);
    }
    prepared.refuse_missing()?;
    confirm(
        session,
        &format!(
            "Apply these changes to stack {} in {} (account {})?",
            prepared.plan.stack, prepared.plan.region, prepared.ctx.account
        ),
        approved,
    )?;
    let (exit, live) = run_plan(session, prepared, args.parallelism, "Apply").await?;
    if let (Exit::Success, Some(live)) = (exit, &live) {
        record_apply(session, prepared, args, live.resources.values()).await;
    }
    Ok(exit)
}

/// Keeps what this complete apply made the stack, for `drift` to tell later changes made
/// outside secinfra from blueprint edits (see `plan::drift`). Losing it is a warning.
async fn record_apply<'a>(
    session: &Session,
    prepared: &Prepared,
    args: &ApplyArgs,
    live: impl IntoIterator<Item = &'a crate::model::LiveResource>,
) {
    let place = crate::aws::lock::LockPlace::new(&prepared.ctx, args.lock.lock_bucket.as_deref());
    let now = aws_smithy_types::DateTime::from(std::time::SystemTime::now())
        .fmt(aws_smithy_types::date_time::Format::DateTime)
        .unwrap_or_default();
    let record = planner::drift::record(&prepared.plan, now, live);
    if let Err(e) = crate::aws::applied::write(&prepared.ctx, &place, &record).await {
        session.warn(&format!(
            "could not record this apply at {} ({e}); `drift` cannot tell changes made \
             outside secinfra from blueprint edits until an apply records it",
            crate::aws::applied::location(&prepared.ctx, &place)
        ));
    }
}

/// Executes the prepared plan, prints the summary and checks the result; with the stack
/// as verified after it when everything was done.
pub async fn run_plan(
    session: &Session,
    prepared: &Prepared,
    parallelism: u16,
    verb: &str,
) -> Result<(Exit, Option<Live>), Failure> {
    let reporter = reporter(session, verb);
    let (ctrl_c, mut presses) = ctrl_c_presses();
    let report = execute(
        &prepared.plan,
        &prepared.ctx,
        &prepared.providers,
        &ApplyOptions {
            parallelism: usize::from(parallelism),
            // Lingering interfaces go within the time their owners take to delete.
            dependency_wait: prepared.ctx.waiter_timeout,
            ..ApplyOptions::default()
        },
        reporter.as_ref(),
        stop_signal(session, prepared, presses.clone()),
        async move {
            let _ = presses.wait_for(|n| *n >= 2).await;
        },
    )
    .await;
    ctrl_c.abort();
    let held = prepared.plan.summary.held;
    print(&render::summary::apply(
        &report,
        verb,
        held,
        &prepared.declared,
        &session.out,
    ))?;
    if session.verbose() {
        super::report_calls(session, &prepared.ctx);
    }
    if !report.succeeded() {
        return Ok((Exit::Failure, None));
    }
    let Some(live) = verify(session, prepared).await? else {
        return Ok((Exit::Failure, None));
    };
    if held == 0 {
        print("Verified: a fresh discovery matches the blueprint.\n")?;
        return Ok((Exit::Success, Some(live)));
    }
    // Held changes are the user's to release: said once, with how, and the run fails
    // (as Terraform's prevent_destroy does) rather than reporting a finished stack.
    print("Verified: everything else matches the blueprint.\n")?;
    print(&render::summary::held(&prepared.plan, &session.out))?;
    Ok((Exit::Failure, Some(live)))
}

/// Counts Ctrl-C presses from now on (the first stops new changes, the second abandons
/// running ones).
fn ctrl_c_presses() -> (
    tokio::task::JoinHandle<()>,
    tokio::sync::watch::Receiver<u32>,
) {
    let (tell, presses) = tokio::sync::watch::channel(0u32);
    let counter = tokio::spawn(async move {
        let mut count = 0;
        loop {
            interrupted().await;
            count += 1;
            let _ = tell.send(count);
        }
    });
    (counter, presses)
}

/// Ctrl-C, or the stack's lock ceasing to be this run's: either stops new changes.
async fn stop_signal(
    session: &Session,
    prepared: &Prepared,
    mut presses: tokio::sync::watch::Receiver<u32>,
) {
    // Ctrl-C also stops waiting for AWS to finish changes already made (the wait for a
    // database can be most of an hour); a lost lock lets running changes finish.
    let pressed = async move {
        let _ = presses.wait_for(|n| *n >= 1).await;
        prepared.ctx.stop_waiting();
    };
    let Some(lock) = &prepared.lock else {
        return pressed.await;
    };
    tokio::select! {
        () = pressed => {}
        () = lock.lost() => session.warn(
            "the stack's lock is no longer this run's (removed with force-unlock, or taken \
             over after it lapsed); stopping so two runs never change the stack at once",
        ),
    }
}

async fn apply_saved(session: &Session, args: &ApplyArgs) -> Result<Exit, Failure> {
    let plan = planner::file::read(&args.target)?;
    refuse_conflicting_flags(session, args, &plan)?;
    let options = session.connect_options();
    let options = crate::aws::ConnectOptions {
        region: Some(plan.region.clone()),
        ..options
    };
    let ctx = AwsContext::connect(&options, &plan.stack, Some(&plan.region)).await?;
    let desired = plan.desired();
    check_blueprint(session, &plan, &ctx)?;
    let lock = Some(lock_stack(session, &ctx, &args.lock, "apply").await?);
    let providers = providers();
    let live = match discover_reporting(session, &ctx, &desired, &providers).await {
        Ok(live) => live,
        Err(e) => {
            release_lock(session, &ctx, lock).await;
            return Err(e);
        }
    };
    let fingerprint = planner::fingerprint::live(&live);
    if fingerprint != plan.live_fingerprint {
        release_lock(session, &ctx, lock).await;
        return Err(Failure::Refused(format!(
            "the saved plan {} is stale: the stack changed since it was made ({}). Run `secinfra plan --out` again.",
            args.target.display(),
            what_changed(&plan, &live)
        )));
    }
    let declared = crate::blueprint::load(
        std::path::Path::new(&plan.blueprint.path),
        plan.blueprint.env.as_deref(),
    )
    .map(|loaded| {
        crate::blueprint::declared::declarations(&loaded, plan.changes.iter().map(|c| &c.address))
    })
    .unwrap_or_default();
    let missing = crate::aws::references::missing(&ctx, &desired).await;
    let prepared = Prepared {
        ctx,
        providers,
        desired,
        plan,
        declared,
        lock,
        missing,
    };
    // Reviewed when it was saved: no prompt.
    let result = apply(session, &prepared, args, true).await;
    prepared.release(session).await;
    result
}

/// A saved plan fixes its region, environment and choices when it is made; a flag that
/// asks for others is refused rather than silently ignored (the same flags are accepted).
fn refuse_conflicting_flags(
    session: &Session,
    args: &ApplyArgs,
    plan: &Plan,
) -> Result<(), Failure> {
    let mut conflicts = Vec::new();
    if let Some(region) = session
        .global
        .region
        .as_deref()
        .filter(|r| *r != plan.region)
    {
        conflicts.push(format!(
            "--region {region} (the plan is for {})",
            plan.region
        ));
    }
    if let Some(env) = session.global.env.as_deref()
        && plan.blueprint.env.as_deref() != Some(env)
    {
        let planned = plan
            .blueprint
            .env
            .as_deref()
            .map_or("no environment".to_string(), |e| format!("--env {e}"));
        conflicts.push(format!("--env {env} (the plan was made with {planned})"));
    }
    let choices = args.choices.options();
    if choices != planner::PlanOptions::default() && choices != plan.options {
        conflicts.push(format!(
            "{} (the plan was made with {})",
            describe_choices(&choices),
            describe_choices(&plan.options)
        ));
    }
    if conflicts.is_empty() {
        return Ok(());
    }
    Err(Failure::Refused(format!(
        "{} was saved with its region, environment and choices fixed; these flags ask for others: {}. \
         Drop them to apply the plan as reviewed, or make a new plan with them: secinfra plan <blueprint> <flags> --out {}",
        args.target.display(),
        conflicts.join("; "),
        args.target.display()
    )))
}

fn describe_choices(options: &planner::PlanOptions) -> String {
    let mut flags = Vec::new();
    if options.adopt {
        flags.push("--adopt".to_string());
    }
    if options.allow_delete_protected {
        flags.push("--allow-delete-protected".to_string());
    }
    flags.extend(
        options
            .allow_delete
            .iter()
            .map(|a| format!("--allow-delete {a}")),
    );
    if options.delete_without_recovery {
        flags.push("--no-recovery-window".to_string());
    }
    if flags.is_empty() {
        "no choices".into()
    } else {
        flags.join(" ")
    }
}

/// Refuses a saved plan whose blueprint now means something else.
fn check_blueprint(session: &Session, plan: &Plan, ctx: &AwsContext) -> Result<(), Failure> {
    let path = std::path::Path::new(&plan.blueprint.path);
    if !path.exists() {
        session.warn(&format!(
            "blueprint {} not found; applying the saved plan as recorded",
            plan.blueprint.path
        ));
        return Ok(());
    }
    let loaded = blueprint::load(path, plan.blueprint.env.as_deref())?;
    let validated = loaded.validate(&Target {
        region: Some(ctx.region.clone()),
        account: Some(ctx.account.clone()),
    })?;
    let hash = planner::fingerprint::desired(&validated.desired);
    if hash != plan.blueprint.hash {
        return Err(Failure::Refused(format!(
            "the saved plan is stale: blueprint {} changed since the plan was made. Run `secinfra plan --out` again.",
            plan.blueprint.path
        )));
    }
    Ok(())
}

/// Which addresses differ between the plan's view of the account and now.
fn what_changed(plan: &Plan, live: &Live) -> String {
    let planned: BTreeSet<&Address> = plan
        .changes
        .iter()
        .filter(|c| c.before.is_some())
        .map(|c| &c.address)
        .collect();
    let now: BTreeSet<&Address> = live.resources.keys().collect();
    let mut parts = Vec::new();
    let appeared: Vec<String> = now.difference(&planned).map(|a| a.to_string()).collect();
    if !appeared.is_empty() {
        parts.push(format!("appeared: {}", appeared.join(", ")));
    }
    let gone: Vec<String> = planned.difference(&now).map(|a| a.to_string()).collect();
    if !gone.is_empty() {
        parts.push(format!("gone: {}", gone.join(", ")));
    }
    let changed: Vec<String> = plan
        .changes
        .iter()
        .filter_map(|c| Some((c, c.before.as_ref()?, live.resources.get(&c.address)?)))
        .filter(|(_, before, now)| before != now)
        .map(|(c, _, _)| c.address.to_string())
        .collect();
    if !changed.is_empty() {
        parts.push(format!("changed: {}", changed.join(", ")));
    }
    if parts.is_empty() {
        "live state differs".into()
    } else {
        parts.join("; ")
    }
}
