//! `secinfra drift BLUEPRINT`: for CI — exit 2 and show the differences when the account
//! no longer matches the blueprint, exit 0 when it does.

use super::{Exit, Failure, Goal, Session, prepare, print};
use crate::cli::DriftArgs;
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
    let plan = &prepared.plan;
    if args.json {
        print(&(render::json::plan(plan) + "\n"))?;
    } else if plan.has_changes() {
        print(&format!("Drift detected.\n\n{}", session.show_plan(plan)))?;
    } else {
        print(&format!(
            "No drift: stack {} in {} matches the blueprint.\n",
            plan.stack, plan.region
        ))?;
    }
    Ok(if plan.has_changes() {
        Exit::Changes
    } else {
        Exit::Success
    })
}
