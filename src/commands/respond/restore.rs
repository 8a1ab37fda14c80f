//! `secinfra respond restore-db`: recovery. A declared database restored into a new
//! instance (to a point in time, the latest restorable time, or a snapshot of it), in the
//! subnet group, security groups and parameter group the database stands on, encrypted
//! with its key, with the blueprint's class, Multi-AZ, deletion protection and tags. The
//! original is only read; the new instance is tagged as a restore, not as part of the
//! stack, so plans never adopt or delete it. Every check comes before the restore.

use std::time::{Duration, Instant};

use serde_json::json;

use super::super::pipeline::connect_validated;
use super::super::{Exit, Failure, Session, confirm, print};
use super::{AuditLog, refused, rfc3339};
use crate::aws::restore::{
    self, RestorePoint, RestoreSettings, TAG_RESTORE_OF, TAG_RESTORE_POINT, TAG_RESTORE_STACK,
};
use crate::cli::RestoreDbArgs;
use crate::model::{Address, Kind, Props};
use crate::respond::restore::{identifier_problem, restore_time, window};

const SAY_EVERY: Duration = Duration::from_secs(30);

pub async fn restore_db(session: &Session, args: &RestoreDbArgs) -> Result<Exit, Failure> {
    let (_, ctx, desired) = connect_validated(session, &args.blueprint).await?;
    let address = Address::new(Kind::DbInstance, &args.name);
    let Some(resource) = desired.resources.get(&address) else {
        let names: Vec<String> = desired
            .resources
            .keys()
            .filter(|a| a.kind == Kind::DbInstance)
            .map(|a| a.name.clone())
            .collect();
        return Err(refused(vec![format!(
            "no database `{}` in the blueprint (its databases: {})",
            args.name,
            names.join(", ")
        )]));
    };
    let Props::DbInstance(props) = &resource.props else {
        return Err(refused(vec![format!("{address} is not a database")]));
    };
    let mut problems = Vec::new();
    if let Some(problem) = identifier_problem(&args.target) {
        problems.push(problem);
    }
    let declared_identifiers: Vec<&str> = desired
        .resources
        .values()
        .filter_map(|r| match &r.props {
            Props::DbInstance(p) => Some(p.identifier.as_str()),
            _ => None,
        })
        .collect();
    if declared_identifiers.contains(&args.target.as_str()) {
        problems.push(format!(
            "`{}` is a database the blueprint declares; restore into a new name",
            args.target
        ));
    } else if problems.is_empty() && restore::instance_exists(&ctx, &args.target).await? {
        problems.push(format!(
            "an instance named `{}` exists already; choose another --as",
            args.target
        ));
    }
    let Some(source) = restore::describe_source(&ctx, &address, &props.identifier).await? else {
        problems.push(format!(
            "{address} ({}) is not in the account",
            props.identifier
        ));
        return Err(refused(problems));
    };
    if !source.stack_tagged {
        problems.push(format!(
            "{} exists without stack {}'s tag: it is not this stack's to restore",
            props.identifier, ctx.stack
        ));
    }
    let restorable = window(
        source.latest_restorable,
        source.earliest_restorable,
        source.created,
        source.retention_days,
    );
    let point = match (&args.to, args.latest, &args.snapshot) {
        (Some(text), _, _) => match restore_time(text, restorable) {
            Ok(time) => Some(RestorePoint::Time(time)),
            Err(problem) => {
                problems.push(problem);
                None
            }
        },
        (None, true, _) if restorable.is_none() => {
            problems.push(
                "the database keeps no automated backups (retention 0); restore a snapshot \
                 with --snapshot"
                    .into(),
            );
            None
        }
        (None, true, _) => Some(RestorePoint::Latest),
        (None, false, Some(snapshot)) => match restore::snapshot_source(&ctx, snapshot).await? {
            None => {
                problems.push(format!("no DB snapshot `{snapshot}`"));
                None
            }
            Some((of, _)) if of != props.identifier => {
                problems.push(format!(
                    "snapshot `{snapshot}` is of `{of}`, not of {address} ({})",
                    props.identifier
                ));
                None
            }
            Some((_, status)) if status != "available" => {
                problems.push(format!(
                    "snapshot `{snapshot}` is {status}; wait until it is available"
                ));
                None
            }
            Some(_) => Some(RestorePoint::Snapshot(snapshot.clone())),
        },
        (None, false, None) => {
            problems.push("say where to restore from: --to TIME, --latest or --snapshot ID".into());
            None
        }
    };
    let Some(point) = point.filter(|_| problems.is_empty()) else {
        return Err(refused(problems));
    };

    let from = match &point {
        RestorePoint::Time(t) => rfc3339(*t),
        RestorePoint::Latest => "latest restorable time".to_string(),
        RestorePoint::Snapshot(s) => format!("snapshot {s}"),
    };
    let mut tags = resource.tags.clone();
    tags.remove(crate::model::TAG_STACK);
    tags.remove(crate::model::TAG_ADDRESS);
    tags.insert(TAG_RESTORE_OF.into(), address.to_string());
    tags.insert(TAG_RESTORE_STACK.into(), ctx.stack.clone());
    tags.insert(TAG_RESTORE_POINT.into(), from.clone());
    let settings = RestoreSettings {
        target: args.target.clone(),
        instance_class: props.instance_class.clone(),
        multi_az: props.multi_az,
        deletion_protection: props.deletion_protection,
        copy_tags_to_snapshot: props.copy_tags_to_snapshot,
        tags,
    };
    eprintln!(
        "Restore {address} ({}) from {from} into a new instance `{}` (stack {}, {} in account \
         {}):\n  subnet group {}, security groups {}, parameter group {}, key {}\n  \
         {} Multi-AZ {}, deletion protection {}; the original is not touched",
        props.identifier,
        args.target,
        ctx.stack,
        ctx.region,
        ctx.account,
        source.subnet_group.as_deref().unwrap_or("(default)"),
        source.security_groups.join(", "),
        source.parameter_group.as_deref().unwrap_or("(default)"),
        source.kms_key.as_deref().unwrap_or("(none)"),
        settings.instance_class,
        settings.multi_az,
        settings.deletion_protection,
    );
    confirm(session, "Start this restore?", args.auto_approve)?;
    restore::restore(&ctx, &address, &source, &point, &settings).await?;
    AuditLog::new(&ctx, &desired, "restore-db")
        .line(
            session,
            &format!(
                "started restoring {address} from {from} into `{}`",
                args.target
            ),
            &args.reason,
        )
        .await;
    let mut endpoint = None;
    if !args.no_wait {
        wait_available(session, &ctx, &args.target).await?;
        endpoint = restore::endpoint(&ctx, &args.target).await?;
    }
    if args.json {
        print(&format!(
            "{}\n",
            json!({
                "verb": "restore-db",
                "stack": ctx.stack,
                "database": address,
                "restored_into": args.target,
                "from": from,
                "available": !args.no_wait,
                "endpoint": endpoint,
            })
        ))?;
    } else if args.no_wait {
        print(&format!(
            "Restoring {address} into `{}` (from {from}); it takes minutes.\n",
            args.target
        ))?;
    } else {
        print(&format!(
            "Restored {address} into `{}` (from {from}), available at {}.\n",
            args.target,
            endpoint.as_deref().unwrap_or("(no endpoint reported)")
        ))?;
    }
    Ok(Exit::Success)
}

/// Waits (bounded by `--wait-timeout`, stopped by Ctrl-C) for the new instance, saying
/// so every half minute.
async fn wait_available(
    session: &Session,
    ctx: &crate::aws::AwsContext,
    target: &str,
) -> Result<(), Failure> {
    let started = Instant::now();
    let waiting = crate::aws::rds::wait_available(ctx, target);
    tokio::pin!(waiting);
    loop {
        tokio::select! {
            done = &mut waiting => return Ok(done?),
            () = tokio::time::sleep(SAY_EVERY) => session.note(&format!(
                "Still restoring `{target}`... [{}s elapsed]",
                started.elapsed().as_secs()
            )),
        }
    }
}
