//! `secinfra plan BLUEPRINT`: discover, diff, show (human or JSON), optionally save.

use super::{Exit, Failure, Goal, Session, prepare, print};
use crate::cli::{PlanArgs, PlanFormat};
use crate::render;

pub async fn run(session: &Session, args: &PlanArgs) -> Result<Exit, Failure> {
    let prepared = prepare(
        session,
        &args.blueprint,
        Goal::Blueprint,
        args.choices.options(),
        None,
    )
    .await?;
    prepared.warn_missing(session);
    let plan = &prepared.plan;
    match args.format.chosen(args.json) {
        PlanFormat::Json => print(&(render::json::plan(plan) + "\n"))?,
        PlanFormat::Markdown => print(&render::markdown::plan(plan))?,
        PlanFormat::Human => print(&session.show_plan(plan))?,
    }
    if let Some(out) = &args.out {
        crate::plan::file::write(out, plan)?;
        session.note(&format!(
            "Saved the plan to {}. Apply exactly these changes with: secinfra apply {}",
            out.display(),
            out.display()
        ));
    }
    Ok(
        if args.fail_on_widening && crate::plan::exposure::widens(plan) {
            Exit::Widens
        } else if args.detailed_exitcode && plan.has_changes() {
            Exit::Changes
        } else {
            Exit::Success
        },
    )
}
