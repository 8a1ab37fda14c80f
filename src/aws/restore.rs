//! The AWS side of recovery: a stack's database restored into a new instance, to a point
//! in time or from a snapshot, in the network and settings the database stands on. The
//! original is only read. The new instance is tagged as a restore of the stack's
//! database, never with the stack's own tag, so plans and apply never see it.

use aws_sdk_rds::types::Tag;
use aws_smithy_types::DateTime;

use super::AwsContext;
use super::error::{AwsResult, ErrorKind, aws};
use super::tags::sdk_tags;
use crate::model::{Address, TAG_STACK, Tags};

/// Tags on a restored instance: what it restores, for which stack, from which point.
pub const TAG_RESTORE_OF: &str = "secinfra:restore-of";
pub const TAG_RESTORE_STACK: &str = "secinfra:restore-stack";
pub const TAG_RESTORE_POINT: &str = "secinfra:restore-point";

/// The database to restore, as RDS reports it.
#[derive(Clone, Debug)]
pub struct SourceDb {
    pub identifier: String,
    pub stack_tagged: bool,
    pub subnet_group: Option<String>,
    pub security_groups: Vec<String>,
    pub parameter_group: Option<String>,
    pub kms_key: Option<String>,
    pub latest_restorable: Option<DateTime>,
    pub earliest_restorable: Option<DateTime>,
    pub created: Option<DateTime>,
    pub retention_days: i32,
}

/// The instance `identifier`, or `None` when there is none.
pub async fn describe_source(
    ctx: &AwsContext,
    address: &Address,
    identifier: &str,
) -> AwsResult<Option<SourceDb>> {
    let Some(instance) = instance(ctx, identifier).await.map_err(|e| e.at(address))? else {
        return Ok(None);
    };
    Ok(Some(SourceDb {
        identifier: identifier.to_string(),
        stack_tagged: instance
            .tag_list()
            .iter()
            .any(|t| t.key() == Some(TAG_STACK) && t.value() == Some(ctx.stack.as_str())),
        subnet_group: instance
            .db_subnet_group()
            .and_then(|g| g.db_subnet_group_name())
            .map(str::to_string),
        security_groups: instance
            .vpc_security_groups()
            .iter()
            .filter_map(|g| g.vpc_security_group_id().map(str::to_string))
            .collect(),
        parameter_group: instance
            .db_parameter_groups()
            .first()
            .and_then(|g| g.db_parameter_group_name())
            .map(str::to_string),
        kms_key: instance.kms_key_id().map(str::to_string),
        latest_restorable: instance.latest_restorable_time().copied(),
        earliest_restorable: earliest_restorable(ctx, identifier).await,
        created: instance.instance_create_time().copied(),
        retention_days: instance.backup_retention_period().unwrap_or(0),
    }))
}

/// The earliest restorable time the automated backups report, when they report one (an
/// endpoint without DescribeDBInstanceAutomatedBackups, or without the field, leaves the
/// window to be bounded by creation and retention).
async fn earliest_restorable(ctx: &AwsContext, identifier: &str) -> Option<DateTime> {
    let out = ctx
        .rds()
        .describe_db_instance_automated_backups()
        .db_instance_identifier(identifier)
        .send()
        .await
        .ok()?;
    out.db_instance_automated_backups()
        .iter()
        .filter_map(|b| b.restore_window().and_then(|w| w.earliest_time()).copied())
        .min_by_key(DateTime::secs)
}

/// The instance named `identifier`, or `None` when there is none.
async fn instance(
    ctx: &AwsContext,
    identifier: &str,
) -> AwsResult<Option<aws_sdk_rds::types::DbInstance>> {
    match crate::call!(
        ctx.rds()
            .describe_db_instances()
            .db_instance_identifier(identifier),
        "rds:DescribeDBInstances"
    ) {
        Ok(out) => Ok(out.db_instances().first().cloned()),
        Err(e) if e.is(ErrorKind::NotFound) => Ok(None),
        Err(e) => Err(e),
    }
}

/// Whether an instance named `identifier` exists.
pub async fn instance_exists(ctx: &AwsContext, identifier: &str) -> AwsResult<bool> {
    Ok(instance(ctx, identifier).await?.is_some())
}

/// The instance a snapshot was taken of and its status, or `None` when there is none.
pub async fn snapshot_source(
    ctx: &AwsContext,
    snapshot: &str,
) -> AwsResult<Option<(String, String)>> {
    match crate::call!(
        ctx.rds()
            .describe_db_snapshots()
            .db_snapshot_identifier(snapshot),
        "rds:DescribeDBSnapshots"
    ) {
        Ok(out) => Ok(out.db_snapshots().first().map(|s| {
            (
                s.db_instance_identifier().unwrap_or_default().to_string(),
                s.status().unwrap_or_default().to_string(),
            )
        })),
        Err(e) if e.is(ErrorKind::NotFound) => Ok(None),
        Err(e) => Err(e),
    }
}

/// Where a restore starts from.
#[derive(Clone, Debug)]
pub enum RestorePoint {
    Time(DateTime),
    Latest,
    Snapshot(String),
}

/// What the new instance gets besides the source's network and parameters.
#[derive(Clone, Debug)]
pub struct RestoreSettings {
    pub target: String,
    pub instance_class: String,
    pub multi_az: bool,
    pub deletion_protection: bool,
    pub copy_tags_to_snapshot: bool,
    pub tags: Tags,
}

/// Starts the restore (RestoreDBInstanceToPointInTime, or FromDBSnapshot); the new
/// instance is then `creating` for minutes.
pub async fn restore(
    ctx: &AwsContext,
    address: &Address,
    source: &SourceDb,
    point: &RestorePoint,
    settings: &RestoreSettings,
) -> AwsResult<()> {
    let tags = sdk_tags!(Tag, settings.tags);
    // Both restores take the same placement and settings.
    macro_rules! placed {
        ($request:expr) => {
            $request
                .set_db_subnet_group_name(source.subnet_group.clone())
                .set_vpc_security_group_ids(Some(source.security_groups.clone()))
                .set_db_parameter_group_name(source.parameter_group.clone())
                .db_instance_class(&settings.instance_class)
                .multi_az(settings.multi_az)
                .publicly_accessible(false)
                .deletion_protection(settings.deletion_protection)
                .copy_tags_to_snapshot(settings.copy_tags_to_snapshot)
                .set_tags(Some(tags))
        };
    }
    let sent = match point {
        RestorePoint::Snapshot(snapshot) => placed!(
            ctx.rds()
                .restore_db_instance_from_db_snapshot()
                .db_snapshot_identifier(snapshot)
                .db_instance_identifier(&settings.target)
        )
        .send()
        .await
        .map(|_| ())
        .map_err(aws("rds:RestoreDBInstanceFromDBSnapshot")),
        RestorePoint::Time(_) | RestorePoint::Latest => {
            let request = placed!(
                ctx.rds()
                    .restore_db_instance_to_point_in_time()
                    .source_db_instance_identifier(&source.identifier)
                    .target_db_instance_identifier(&settings.target)
            );
            let request = match point {
                RestorePoint::Time(time) => request.restore_time(*time),
                _ => request.use_latest_restorable_time(true),
            };
            request
                .send()
                .await
                .map(|_| ())
                .map_err(aws("rds:RestoreDBInstanceToPointInTime"))
        }
    };
    sent.map_err(|e| e.at(address))
}

/// The new instance's endpoint address, once it is available.
pub async fn endpoint(ctx: &AwsContext, identifier: &str) -> AwsResult<Option<String>> {
    Ok(instance(ctx, identifier)
        .await?
        .and_then(|i| i.endpoint().and_then(|e| e.address()).map(str::to_string)))
}
