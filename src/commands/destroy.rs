//! `secinfra destroy BLUEPRINT`: delete every resource tagged with the stack, in reverse
//! dependency order.

use super::apply::run_plan;
use super::{Exit, Failure, Goal, Prepared, Session, confirm, prepare, print};
use crate::cli::DestroyArgs;

pub async fn run(session: &Session, args: &DestroyArgs) -> Result<Exit, Failure> {
    let prepared = prepare(
        session,
        &args.blueprint,
        Goal::Destroy,
        crate::plan::PlanOptions {
            adopt: false,
            allow_delete_protected: args.allow_delete_protected,
            allow_delete: args.allow_delete.iter().cloned().collect(),
            delete_without_recovery: args.no_recovery_window,
        },
        Some((&args.lock, "destroy")),
    )
    .await?;
    let result = destroy(session, &prepared, args).await;
    prepared.release(session).await;
    result
}

async fn destroy(
    session: &Session,
    prepared: &Prepared,
    args: &DestroyArgs,
) -> Result<Exit, Failure> {
    print(&session.show_plan(&prepared.plan))?;
    if !prepared.plan.has_changes() {
        return Ok(Exit::Success);
    }
    confirm(
        session,
        &format!(
            "Destroy all {} resources of stack {} in {} (account {})? This cannot be undone.",
            prepared.plan.summary.destroy,
            prepared.plan.stack,
            prepared.plan.region,
            prepared.ctx.account
        ),
        args.auto_approve,
    )?;
    // The stack no longer stands as last applied: drift must not read what destroy
    // removes as removed outside secinfra.
    let place = crate::aws::lock::LockPlace::new(&prepared.ctx, args.lock.lock_bucket.as_deref());
    if let Err(e) = crate::aws::applied::remove(&prepared.ctx, &place).await {
        session.warn(&format!(
            "could not remove the record of the last apply at {} ({e})",
            crate::aws::applied::location(&prepared.ctx, &place)
        ));
    }
    Ok(run_plan(session, prepared, args.parallelism, "Destroy")
        .await?
        .0)
}
