//! `secinfra show PLAN.json`: a plan saved with `plan --out`, rendered as `plan` showed it
//! (or as its JSON), without calling AWS.

use super::{Exit, Failure, Session, print};
use crate::cli::ShowArgs;
use crate::render;

pub fn run(session: &Session, args: &ShowArgs) -> Result<Exit, Failure> {
    let plan = crate::plan::file::read(&args.plan)?;
    if args.json {
        print(&(render::json::plan(&plan) + "\n"))?;
        return Ok(Exit::Success);
    }
    let env = plan
        .blueprint
        .env
        .as_deref()
        .map(|e| format!(" --env {e}"))
        .unwrap_or_default();
    session.note(&format!(
        "Saved plan {}: stack {} in {}, from {}{env}. `secinfra apply {}` carries it out if the \
         account and the blueprint still match it.",
        args.plan.display(),
        plan.stack,
        plan.region,
        plan.blueprint.path,
        args.plan.display()
    ));
    print(&session.show_plan(&plan))?;
    Ok(Exit::Success)
}
