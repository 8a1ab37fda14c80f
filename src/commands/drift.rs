//! `secinfra drift BLUEPRINT`: for CI — exit 2 and show the differences when the account
//! no longer matches the blueprint, exit 0 when it does. Each difference is said to be a
//! change made outside secinfra or a blueprint edit not yet applied, from the record the
//! last complete apply left (`plan::drift`), and who made each change outside it, from
//! CloudTrail (`attribution`).

use super::{Exit, Failure, Goal, Prepared, Session, prepare, print};
use crate::cli::{DriftArgs, PlanFormat};
use crate::model::AppliedRecord;
use crate::plan::Plan;
use crate::plan::drift::{self, Attribution, DriftOrigins};
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
    let mut origins = drift::origins(&plan, record.as_ref());
    if !args.no_attribution {
        origins.attribution = attribute(session, &prepared, &plan, &origins, record.as_ref()).await;
    }
    plan.drift = Some(origins);
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

/// Who made the changes not made by an apply, when there are any to look up.
async fn attribute(
    session: &Session,
    prepared: &Prepared,
    plan: &Plan,
    origins: &DriftOrigins,
    record: Option<&AppliedRecord>,
) -> Option<Attribution> {
    let targets = drift::lookup_targets(plan, origins, record);
    if targets.is_empty() {
        return None;
    }
    // Since the last apply; without one, as far back as the event history goes (90 days).
    let since = record
        .and_then(|r| {
            aws_smithy_types::DateTime::from_str(
                &r.applied_at,
                aws_smithy_types::date_time::Format::DateTime,
            )
            .ok()
        })
        .unwrap_or_else(|| {
            let now = std::time::SystemTime::now();
            let back = std::time::Duration::from_secs(90 * 24 * 3600);
            aws_smithy_types::DateTime::from(now.checked_sub(back).unwrap_or(now))
        });
    let started = std::time::Instant::now();
    let found = super::attribution::attribute(
        &prepared.ctx.cloudtrail(),
        prepared.ctx.partition,
        &targets,
        since,
        super::attribution::MAX_REQUESTS,
    )
    .await;
    let cost = format!(
        "{:.2} s, {} LookupEvents request{}",
        started.elapsed().as_secs_f64(),
        found.requests,
        if found.requests == 1 { "" } else { "s" },
    );
    session.note(&match found.unavailable {
        Some(_) => format!("Could not look up in CloudTrail who changed them ({cost})."),
        None => format!(
            "Looked up who changed {} resource{} in CloudTrail ({cost}).",
            found.resources.len(),
            if found.resources.len() == 1 { "" } else { "s" },
        ),
    });
    Some(found)
}
