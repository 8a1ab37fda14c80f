//! RDS: DB subnet groups, DB parameter groups and database instances.
//!
//! Discovery: one paginated call per kind (DescribeDBInstances, DescribeDBSubnetGroups,
//! DescribeDBParameterGroups). Instances carry their tags; groups are the stack's when
//! the tagging index lists them or, for groups named `<stack>-...` it does not list yet,
//! when ListTagsForResource says so. A parameter group's own settings have no list call:
//! DescribeDBParameters (Source=user) is read for the stack's groups only.
//!
//! References between these resources use ARNs (a subnet group and a parameter group
//! share their database's name, so names alone would be ambiguous).
//!
//! Creating, modifying and deleting an instance wait (SDK waiters, bounded by
//! `data_waiter_timeout`) until it is available or gone. Deleting one takes a final
//! snapshot, and first turns deletion protection off: the planner holds such a delete
//! unless the user passed --allow-delete-protected.

use std::collections::{BTreeMap, BTreeSet};

use crate::aws::pages::bounded;
use aws_sdk_rds::client::Waiters;
use aws_sdk_rds::types::{
    ApplyMethod, DbInstance, DbParameterGroup, DbSubnetGroup, Parameter, Tag,
};

use super::AwsContext;
use super::error::{AwsError, AwsResult, aws, not_managed};
use super::provider::{Created, Delete, Ids, New, Provider, Scope, Update};
use super::tags::sdk_tags;
use super::tags::{classify_named, from_pairs, sync_tags};
use super::version_as_declared;
use crate::model::{
    DbInstanceProps, DbParameterGroupProps, Diff, LiveResource, Props, Ref, Resource,
    SubnetGroupProps, Tags, changed,
};

crate::provider!(Rds, "rds", rds: aws_sdk_rds);

/// ModifyDBParameterGroup and ResetDBParameterGroup take at most 20 parameters a call.
const PARAMETERS_PER_CALL: usize = 20;

#[async_trait::async_trait]
impl Provider for Rds {
    async fn discover(&self, scope: &Scope<'_>) -> AwsResult<Vec<LiveResource>> {
        let ctx = scope.ctx;
        let indexed = scope.tagged_in("rds").await?;
        let (instances, subnet_groups, parameter_groups) = tokio::try_join!(
            crate::all_pages!(ctx.rds().describe_db_instances(), "rds:DescribeDBInstances"),
            crate::all_pages!(
                ctx.rds().describe_db_subnet_groups(),
                "rds:DescribeDBSubnetGroups"
            ),
            crate::all_pages!(
                ctx.rds().describe_db_parameter_groups(),
                "rds:DescribeDBParameterGroups"
            ),
        )?;
        let subnet_groups = bounded(
            subnet_groups
                .iter()
                .map(|g| read_subnet_group(scope, &indexed, g)),
        );
        let parameter_groups = bounded(
            parameter_groups
                .iter()
                .map(|g| read_parameter_group(scope, &indexed, g)),
        );
        let (subnet_groups, parameter_groups) = tokio::try_join!(subnet_groups, parameter_groups)?;
        let instances = instances.iter().filter_map(|i| read_instance(scope, i));
        Ok(subnet_groups
            .into_iter()
            .chain(parameter_groups)
            .flatten()
            .chain(instances)
            .collect())
    }

    async fn create(&self, ctx: &AwsContext, resource: &Resource, ids: &Ids) -> AwsResult<Created> {
        let tags = &resource.tags;
        match &resource.props {
            Props::DbSubnetGroup(props) => create_subnet_group(ctx, New { props, tags, ids }).await,
            Props::DbParameterGroup(props) => {
                create_parameter_group(ctx, New { props, tags, ids }).await
            }
            Props::DbInstance(props) => create_instance(ctx, New { props, tags, ids }).await,
            other => Err(not_managed("rds", other.kind())),
        }
    }

    async fn update(&self, ctx: &AwsContext, change: Update<'_>) -> AwsResult<()> {
        let (live, desired, diffs, ids) = (change.live, change.desired, change.diffs, change.ids);
        match (&desired.props, &live.props) {
            (Props::DbSubnetGroup(want), _) => {
                if diffs.iter().any(|d| d.field() != "tags") {
                    crate::call!(
                        ctx.rds()
                            .modify_db_subnet_group()
                            .db_subnet_group_name(&want.name)
                            .db_subnet_group_description(&want.description)
                            .set_subnet_ids(Some(ids.subnet_ids(want)?)),
                        "rds:ModifyDBSubnetGroup"
                    )?;
                }
            }
            (Props::DbParameterGroup(want), Props::DbParameterGroup(have)) => {
                update_parameters(ctx, &want.name, &have.parameters, &want.parameters).await?;
            }
            (Props::DbInstance(want), Props::DbInstance(have)) => {
                modify_instance(ctx, want, have, diffs, ids).await?;
            }
            (other, _) => return Err(not_managed("rds", other.kind())),
        }
        if changed(diffs, "tags") {
            sync_tags(ctx, live, desired).await?;
        }
        Ok(())
    }

    async fn delete(&self, ctx: &AwsContext, gone: Delete<'_>) -> AwsResult<()> {
        let live = gone.live;
        match &live.props {
            Props::DbSubnetGroup(p) => ctx
                .rds()
                .delete_db_subnet_group()
                .db_subnet_group_name(&p.name)
                .send()
                .await
                .map(|_| ())
                .map_err(aws("rds:DeleteDBSubnetGroup")),
            Props::DbParameterGroup(p) => ctx
                .rds()
                .delete_db_parameter_group()
                .db_parameter_group_name(&p.name)
                .send()
                .await
                .map(|_| ())
                .map_err(aws("rds:DeleteDBParameterGroup")),
            Props::DbInstance(p) => delete_instance(ctx, p).await,
            other => Err(not_managed("rds", other.kind())),
        }
    }
}

async fn group_tags(
    scope: &Scope<'_>,
    indexed: &BTreeMap<String, Tags>,
    name: &str,
    arn: &str,
) -> Result<Option<Tags>, AwsError> {
    scope
        .tags_of_named(indexed, name, arn, || async {
            let out = crate::call!(
                scope.ctx.rds().list_tags_for_resource().resource_name(arn),
                "rds:ListTagsForResource"
            )?;
            Ok(from_pairs(
                out.tag_list().iter().map(|t| (t.key(), t.value())),
            ))
        })
        .await
}

async fn read_subnet_group(
    scope: &Scope<'_>,
    indexed: &BTreeMap<String, Tags>,
    group: &DbSubnetGroup,
) -> Result<Option<LiveResource>, AwsError> {
    let name = group.db_subnet_group_name().unwrap_or_default();
    let arn = group.db_subnet_group_arn().map_or_else(
        || scope.ctx.regional_arn("rds", &format!("subgrp:{name}")),
        str::to_string,
    );
    let Some(tags) = group_tags(scope, indexed, name, &arn).await? else {
        return Ok(None);
    };
    let subnets = group.subnets().iter().filter_map(|s| s.subnet_identifier());
    let props = SubnetGroupProps::listed(name, group.db_subnet_group_description(), subnets);
    let props = Props::DbSubnetGroup(props);
    Ok(classify_named(scope, name, Some(&arn), props, tags))
}

async fn read_parameter_group(
    scope: &Scope<'_>,
    indexed: &BTreeMap<String, Tags>,
    group: &DbParameterGroup,
) -> Result<Option<LiveResource>, AwsError> {
    let name = group.db_parameter_group_name().unwrap_or_default();
    let arn = group.db_parameter_group_arn().map_or_else(
        || scope.ctx.regional_arn("rds", &format!("pg:{name}")),
        str::to_string,
    );
    let Some(tags) = group_tags(scope, indexed, name, &arn).await? else {
        return Ok(None);
    };
    let parameters = crate::all_pages!(
        scope
            .ctx
            .rds()
            .describe_db_parameters()
            .db_parameter_group_name(name)
            .source("user"),
        "rds:DescribeDBParameters"
    )
    .await?
    .iter()
    .filter_map(|p| {
        Some((
            p.parameter_name()?.to_string(),
            p.parameter_value()?.to_string(),
        ))
    })
    .collect();
    let props = Props::DbParameterGroup(DbParameterGroupProps {
        name: name.to_string(),
        family: group
            .db_parameter_group_family()
            .unwrap_or_default()
            .to_string(),
        description: group.description().unwrap_or_default().to_string(),
        parameters,
    });
    Ok(classify_named(scope, name, Some(&arn), props, tags))
}

fn read_instance(scope: &Scope<'_>, db: &DbInstance) -> Option<LiveResource> {
    let ctx = scope.ctx;
    let identifier = db.db_instance_identifier()?;
    let tags = from_pairs(db.tag_list().iter().map(|t| (t.key(), t.value())));
    let declared = scope
        .desired
        .resources
        .values()
        .find_map(|r| match &r.props {
            Props::DbInstance(p) if p.identifier == identifier => Some(p),
            _ => None,
        });
    let subnet_group = db
        .db_subnet_group()
        .and_then(|g| g.db_subnet_group_name())
        .unwrap_or_default();
    let parameter_group = db
        .db_parameter_groups()
        .first()
        .and_then(|g| g.db_parameter_group_name())
        .unwrap_or_default();
    let secret = db.master_user_secret();
    let props = Props::DbInstance(DbInstanceProps {
        identifier: identifier.to_string(),
        engine: db.engine().unwrap_or_default().to_string(),
        engine_version: version_as_declared(
            db.engine_version().unwrap_or_default(),
            declared.map(|d| d.engine_version.as_str()),
        ),
        instance_class: db.db_instance_class().unwrap_or_default().to_string(),
        storage_gb: db.allocated_storage().unwrap_or_default(),
        storage_type: db.storage_type().unwrap_or_default().to_string(),
        storage_encrypted: db.storage_encrypted().unwrap_or_default(),
        kms_key: db.kms_key_id().map(|k| Ref::External(k.to_string())),
        subnet_group: Ref::External(ctx.regional_arn("rds", &format!("subgrp:{subnet_group}"))),
        parameter_group: Ref::External(ctx.regional_arn("rds", &format!("pg:{parameter_group}"))),
        security_groups: db
            .vpc_security_groups()
            .iter()
            .filter_map(|g| g.vpc_security_group_id())
            .map(|id| Ref::External(id.to_string()))
            .collect(),
        multi_az: db.multi_az().unwrap_or_default(),
        publicly_accessible: db.publicly_accessible().unwrap_or_default(),
        backup_retention_days: db.backup_retention_period().unwrap_or_default(),
        deletion_protection: db.deletion_protection().unwrap_or_default(),
        copy_tags_to_snapshot: db.copy_tags_to_snapshot().unwrap_or_default(),
        master_username: db.master_username().unwrap_or_default().to_string(),
        master_password_managed: secret.is_some(),
        master_secret_kms_key: secret
            .and_then(|s| s.kms_key_id())
            .map(|k| Ref::External(k.to_string())),
    });
    let mut live = classify_named(scope, identifier, db.db_instance_arn(), props, tags)?;
    // Static parameters changed in the group wait for a reboot, which secinfra never does
    // to a database: the plan says so until someone reboots it.
    // <https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_WorkingWithParamGroups.Modifying.html>
    let awaits_reboot = db
        .db_parameter_groups()
        .iter()
        .any(|g| g.parameter_apply_status() == Some("pending-reboot"));
    if awaits_reboot {
        live.pending.push(format!(
            "reboot pending: static parameters of {parameter_group} take effect at the next \
             reboot (secinfra never reboots a database; reboot it in a maintenance window)"
        ));
    }
    Some(live)
}

async fn create_subnet_group(
    ctx: &AwsContext,
    new: New<'_, SubnetGroupProps>,
) -> AwsResult<Created> {
    let (group, tags, ids) = (new.props, new.tags, new.ids);
    let out = crate::call!(
        ctx.rds()
            .create_db_subnet_group()
            .db_subnet_group_name(&group.name)
            .db_subnet_group_description(&group.description)
            .set_subnet_ids(Some(ids.subnet_ids(group)?))
            .set_tags(Some(sdk_tags!(Tag, tags))),
        "rds:CreateDBSubnetGroup"
    )?;
    Ok(Created {
        id: group.name.clone(),
        arn: Some(
            out.db_subnet_group()
                .and_then(|g| g.db_subnet_group_arn())
                .map_or_else(
                    || ctx.regional_arn("rds", &format!("subgrp:{}", &group.name)),
                    str::to_string,
                ),
        ),
    })
}

async fn create_parameter_group(
    ctx: &AwsContext,
    new: New<'_, DbParameterGroupProps>,
) -> AwsResult<Created> {
    let (group, tags) = (new.props, new.tags);
    let out = crate::call!(
        ctx.rds()
            .create_db_parameter_group()
            .db_parameter_group_name(&group.name)
            .db_parameter_group_family(&group.family)
            .description(&group.description)
            .set_tags(Some(sdk_tags!(Tag, tags))),
        "rds:CreateDBParameterGroup"
    )?;
    update_parameters(ctx, &group.name, &BTreeMap::new(), &group.parameters).await?;
    Ok(Created {
        id: group.name.clone(),
        arn: Some(
            out.db_parameter_group()
                .and_then(|g| g.db_parameter_group_arn())
                .map_or_else(
                    || ctx.regional_arn("rds", &format!("pg:{}", &group.name)),
                    str::to_string,
                ),
        ),
    })
}

/// Sets changed parameters and resets removed ones to the family default, 20 a call.
/// AWS refuses `immediate` for a static parameter: those are set `pending-reboot` and take
/// effect at the database's next reboot, which secinfra leaves to the user (discovery then
/// reports the reboot pending). Which parameters are static is read from the group.
/// <https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_Parameter.html>
async fn update_parameters(
    ctx: &AwsContext,
    group: &str,
    have: &BTreeMap<String, String>,
    want: &BTreeMap<String, String>,
) -> Result<(), AwsError> {
    let changed: Vec<(&String, &String)> = want
        .iter()
        .filter(|(k, v)| have.get(*k) != Some(v))
        .collect();
    let removed: Vec<&String> = have.keys().filter(|k| !want.contains_key(*k)).collect();
    if changed.is_empty() && removed.is_empty() {
        return Ok(());
    }
    let static_names = static_parameters(ctx, group).await?;
    let method = |name: &str| {
        if static_names.contains(name) {
            ApplyMethod::PendingReboot
        } else {
            ApplyMethod::Immediate
        }
    };
    let set: Vec<Parameter> = changed
        .iter()
        .map(|(k, v)| {
            Parameter::builder()
                .parameter_name(*k)
                .parameter_value(*v)
                .apply_method(method(k))
                .build()
        })
        .collect();
    for chunk in set.chunks(PARAMETERS_PER_CALL) {
        crate::call!(
            ctx.rds()
                .modify_db_parameter_group()
                .db_parameter_group_name(group)
                .set_parameters(Some(chunk.to_vec())),
            "rds:ModifyDBParameterGroup"
        )?;
    }
    let reset: Vec<Parameter> = removed
        .iter()
        .map(|k| {
            Parameter::builder()
                .parameter_name(*k)
                .apply_method(method(k))
                .build()
        })
        .collect();
    for chunk in reset.chunks(PARAMETERS_PER_CALL) {
        crate::call!(
            ctx.rds()
                .reset_db_parameter_group()
                .db_parameter_group_name(group)
                .set_parameters(Some(chunk.to_vec())),
            "rds:ResetDBParameterGroup"
        )?;
    }
    Ok(())
}

/// The names of the group's static parameters: every parameter of its family is listed
/// (engine defaults included) with its apply type.
async fn static_parameters(ctx: &AwsContext, group: &str) -> Result<BTreeSet<String>, AwsError> {
    let parameters = crate::all_pages!(
        ctx.rds()
            .describe_db_parameters()
            .db_parameter_group_name(group),
        "rds:DescribeDBParameters"
    )
    .await?;
    Ok(parameters
        .iter()
        .filter(|p| p.apply_type() == Some("static"))
        .filter_map(|p| p.parameter_name().map(str::to_string))
        .collect())
}

async fn create_instance(ctx: &AwsContext, new: New<'_, DbInstanceProps>) -> AwsResult<Created> {
    let (db, tags, ids) = (new.props, new.tags, new.ids);
    let security_groups = db
        .security_groups
        .iter()
        .map(|g| ids.id(g))
        .collect::<Result<Vec<_>, _>>()?;
    let out = ctx
        .rds()
        .create_db_instance()
        .db_instance_identifier(&db.identifier)
        .engine(&db.engine)
        .engine_version(&db.engine_version)
        .db_instance_class(&db.instance_class)
        .allocated_storage(db.storage_gb)
        .storage_type(&db.storage_type)
        .storage_encrypted(db.storage_encrypted)
        .set_kms_key_id(db.kms_key.as_ref().map(|k| ids.arn(k)).transpose()?)
        .db_subnet_group_name(ids.name(&db.subnet_group)?)
        .db_parameter_group_name(ids.name(&db.parameter_group)?)
        .set_vpc_security_group_ids(Some(security_groups))
        .multi_az(db.multi_az)
        .publicly_accessible(db.publicly_accessible)
        .backup_retention_period(db.backup_retention_days)
        .deletion_protection(db.deletion_protection)
        .copy_tags_to_snapshot(db.copy_tags_to_snapshot)
        .master_username(&db.master_username)
        .manage_master_user_password(db.master_password_managed)
        .set_master_user_secret_kms_key_id(
            db.master_secret_kms_key
                .as_ref()
                .map(|k| ids.arn(k))
                .transpose()?,
        )
        .set_tags(Some(sdk_tags!(Tag, tags)))
        .send()
        .await
        .map_err(aws("rds:CreateDBInstance"))?;
    wait_available(ctx, &db.identifier).await?;
    Ok(Created {
        id: db.identifier.clone(),
        arn: out
            .db_instance()
            .and_then(|i| i.db_instance_arn())
            .map(str::to_string)
            .or_else(|| Some(ctx.regional_arn("rds", &format!("db:{}", &db.identifier)))),
    })
}

/// One ModifyDBInstance carrying every changed field, applied immediately (not in the
/// next maintenance window: the plan said now).
async fn modify_instance(
    ctx: &AwsContext,
    want: &DbInstanceProps,
    have: &DbInstanceProps,
    diffs: &[Diff],
    ids: &Ids,
) -> Result<(), AwsError> {
    if !diffs.iter().any(|d| d.field() != "tags") {
        return Ok(());
    }
    let mut call = ctx
        .rds()
        .modify_db_instance()
        .db_instance_identifier(&want.identifier)
        .apply_immediately(true);
    if changed(diffs, "engine_version") {
        let major = |v: &str| v.split('.').next().unwrap_or_default().to_string();
        call = call
            .engine_version(&want.engine_version)
            .allow_major_version_upgrade(
                major(&want.engine_version) != major(&have.engine_version),
            );
    }
    if changed(diffs, "instance_class") {
        call = call.db_instance_class(&want.instance_class);
    }
    if changed(diffs, "storage_gb") {
        call = call.allocated_storage(want.storage_gb);
    }
    if changed(diffs, "storage_type") {
        call = call.storage_type(&want.storage_type);
    }
    if changed(diffs, "parameter_group") {
        call = call.db_parameter_group_name(ids.name(&want.parameter_group)?);
    }
    if changed(diffs, "security_groups") {
        let groups = want
            .security_groups
            .iter()
            .map(|g| ids.id(g))
            .collect::<Result<Vec<_>, _>>()?;
        call = call.set_vpc_security_group_ids(Some(groups));
    }
    if changed(diffs, "multi_az") {
        call = call.multi_az(want.multi_az);
    }
    if changed(diffs, "publicly_accessible") {
        call = call.publicly_accessible(want.publicly_accessible);
    }
    if changed(diffs, "backup_retention_days") {
        call = call.backup_retention_period(want.backup_retention_days);
    }
    if changed(diffs, "deletion_protection") {
        call = call.deletion_protection(want.deletion_protection);
    }
    if changed(diffs, "copy_tags_to_snapshot") {
        call = call.copy_tags_to_snapshot(want.copy_tags_to_snapshot);
    }
    if changed(diffs, "master_password_managed") {
        call = call.manage_master_user_password(want.master_password_managed);
    }
    if changed(diffs, "master_secret_kms_key") || changed(diffs, "master_password_managed") {
        call = call.set_master_user_secret_kms_key_id(
            want.master_secret_kms_key
                .as_ref()
                .map(|k| ids.arn(k))
                .transpose()?,
        );
    }
    call.send().await.map_err(aws("rds:ModifyDBInstance"))?;
    wait_available(ctx, &want.identifier).await
}

async fn delete_instance(ctx: &AwsContext, db: &DbInstanceProps) -> Result<(), AwsError> {
    if db.deletion_protection {
        crate::call!(
            ctx.rds()
                .modify_db_instance()
                .db_instance_identifier(&db.identifier)
                .deletion_protection(false)
                .apply_immediately(true),
            "rds:ModifyDBInstance"
        )?;
    }
    ctx.rds()
        .delete_db_instance()
        .db_instance_identifier(&db.identifier)
        .skip_final_snapshot(false)
        .final_db_snapshot_identifier(super::final_snapshot_name(&db.identifier))
        // AWS's default: the final snapshot is what is kept.
        .delete_automated_backups(true)
        .send()
        .await
        .map_err(aws("rds:DeleteDBInstance"))?;
    crate::wait_until!(
        ctx,
        ctx.data_waiter_timeout,
        ctx.rds()
            .wait_until_db_instance_deleted()
            .db_instance_identifier(&db.identifier),
        "rds:wait DBInstanceDeleted"
    )
    .await
}

pub(crate) async fn wait_available(ctx: &AwsContext, identifier: &str) -> Result<(), AwsError> {
    crate::wait_until!(
        ctx,
        ctx.data_waiter_timeout,
        ctx.rds()
            .wait_until_db_instance_available()
            .db_instance_identifier(identifier),
        "rds:wait DBInstanceAvailable"
    )
    .await
}

async fn sync_tags(
    ctx: &AwsContext,
    live: &LiveResource,
    desired: &Resource,
) -> Result<(), AwsError> {
    let name = live.arn.clone().unwrap_or_else(|| live.id.clone());
    let name = name.as_str();
    sync_tags!(
        &live.tags,
        &desired.tags,
        tag(set) => ctx.rds().add_tags_to_resource().resource_name(name).set_tags(Some(sdk_tags!(Tag, set))),
        "rds:AddTagsToResource",
        untag(keys) => ctx.rds().remove_tags_from_resource().resource_name(name).set_tag_keys(Some(keys)),
        "rds:RemoveTagsFromResource",
    )
    .await
}
