//! `secinfra drift BLUEPRINT`: for CI — exit 2 and show the differences when the account
//! no longer matches the blueprint, exit 0 when it does. Each difference is said to be a
//! change made outside secinfra or a blueprint edit not yet applied, from the record the
//! last complete apply left (`plan::drift`).

use super::{Exit, Failure, Goal, Session, prepare, print};
use crate::cli::{DriftArgs, PlanFormat};
use crate::plan::drift;
use crate::render;

pub async fn run(session: &Session, args: &DriftArgs) -> Result<Exit, Failure> {
    let prepared = prepare(
        session,
        &args.blueprint,
        Goal::Blueprint,
        Default::default(),
        None,
    )
    .await?;
    prepared.warn_missing(session);
    let mut plan = prepared.plan.clone();
    let place = crate::aws::lock::LockPlace::new(&prepared.ctx, args.lock_bucket.as_deref());
    let record = match crate::aws::applied::read(&prepared.ctx, &place).await {
        Ok(record) => record,
        Err(e) => {
            session.warn(&format!(
                "cannot read the record of the last apply ({e}); differences are shown \
                 without their origin"
            ));
            None
        }
    };
    if plan.has_changes() && record.is_none() {
        session.note(&format!(
            "No record of a complete apply at {}: drift cannot tell changes made outside \
             secinfra from blueprint edits (the next apply records one; pass --lock-bucket \
             if apply uses another bucket).",
            crate::aws::applied::location(&prepared.ctx, &place)
        ));
    }
    plan.drift = Some(drift::origins(&plan, record.as_ref()));
    match args.format.chosen(args.json) {
        PlanFormat::Json => print(&(render::json::plan(&plan) + "\n"))?,
        PlanFormat::Markdown => print(&render::markdown::drift(&plan))?,
        PlanFormat::Human => {
            print(&render::human::drift(&plan, &session.out, session.detail()))?;
        }
    }
    Ok(if plan.has_changes() {
        Exit::Changes
    } else {
        Exit::Success
    })
}
