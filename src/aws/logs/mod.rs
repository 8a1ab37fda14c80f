//! CloudWatch Logs: groups (flow logs, WAF, CloudTrail) with retention and KMS encryption,
//! and the metric filters alarms count with (`metric_filter`).
//! Log groups are identified by name. Discovery: the stack's tagged log groups from the
//! tagging API, plus the blueprint's names, described in one DescribeLogGroups call; a
//! declared name that exists without the stack tag is reported as unmanaged.

mod metric_filter;

use std::collections::{BTreeMap, BTreeSet};

use super::AwsContext;
use super::error::{AwsError, AwsResult, aws, not_managed};
use super::provider::{Created, Delete, Ids, Provider, Scope, Update};
use super::tags::{address_for, is_stack_tagged, sync_tags};
use crate::model::{
    Address, Desired, Diff, Kind, LiveResource, LogGroupProps, Props, Ref, Resource, Tags, changed,
};

crate::provider!(Logs, "logs", logs: aws_sdk_cloudwatchlogs);

/// `arn:aws:logs:us-east-1:123:log-group:/a/b` (optionally `:*`) → `/a/b`.
fn name_of_arn(arn: &str) -> Option<&str> {
    let (_, rest) = arn.split_once(":log-group:")?;
    Some(rest.strip_suffix(":*").unwrap_or(rest))
}

fn group_arn(ctx: &AwsContext, name: &str) -> String {
    ctx.regional_arn("logs", &format!("log-group:{name}"))
}

fn declared(desired: &Desired) -> BTreeMap<String, Address> {
    desired
        .resources
        .values()
        .filter_map(|r| match &r.props {
            Props::LogGroup(p) => Some((p.name.clone(), r.address.clone())),
            _ => None,
        })
        .collect()
}

#[async_trait::async_trait]
impl Provider for Logs {
    async fn discover(&self, scope: &Scope<'_>) -> AwsResult<Vec<LiveResource>> {
        let (groups, filters) =
            tokio::try_join!(discover_groups(scope), metric_filter::discover(scope.ctx))?;
        Ok(groups.into_iter().chain(filters).collect())
    }

    async fn create(&self, ctx: &AwsContext, resource: &Resource, ids: &Ids) -> AwsResult<Created> {
        match &resource.props {
            Props::LogGroup(props) => create_group(ctx, resource, props, ids).await,
            Props::MetricFilter(props) => metric_filter::put(ctx, props, ids)
                .await
                .map_err(|e| e.at(&resource.address)),
            _ => Err(not_managed("logs", &resource.address)),
        }
    }

    async fn update(&self, ctx: &AwsContext, change: Update<'_>) -> AwsResult<()> {
        let (live, desired, diffs, ids) = (change.live, change.desired, change.diffs, change.ids);
        match &desired.props {
            Props::LogGroup(props) => update_group(ctx, live, desired, props, diffs, ids).await,
            Props::MetricFilter(props) => metric_filter::put(ctx, props, ids)
                .await
                .map(|_| ())
                .map_err(|e| e.at(&desired.address)),
            _ => Err(not_managed("logs", &desired.address)),
        }
    }

    async fn delete(&self, ctx: &AwsContext, gone: Delete<'_>) -> AwsResult<()> {
        let live = gone.live;
        let ids = gone.ids;
        let result = match live.address.kind {
            Kind::MetricFilter => metric_filter::delete(ctx, live, ids).await,
            _ => ctx
                .logs()
                .delete_log_group()
                .log_group_name(&live.id)
                .send()
                .await
                .map(|_| ())
                .map_err(aws("logs:DeleteLogGroup")),
        };
        result.map_err(|e| e.at(&live.address))
    }
}

async fn discover_groups(scope: &Scope<'_>) -> Result<Vec<LiveResource>, AwsError> {
    {
        {
            let (ctx, desired) = (scope.ctx, scope.desired);
            let tagged: BTreeMap<String, Tags> = scope
                .tagged()
                .await?
                .iter()
                .filter(|(arn, _)| arn.contains(":logs:"))
                .filter_map(|(arn, tags)| Some((name_of_arn(arn)?.to_string(), tags.clone())))
                .collect();
            let declared = declared(desired);
            let names: BTreeSet<&String> = tagged.keys().chain(declared.keys()).collect();
            let mut found = Vec::new();
            let names: Vec<&String> = names.into_iter().collect();
            for chunk in names.chunks(50) {
                let groups = crate::all_pages!(
                    ctx.logs()
                        .describe_log_groups()
                        .set_log_group_identifiers(Some(
                            chunk.iter().map(|n| n.to_string()).collect()
                        )),
                    "logs:DescribeLogGroups"
                )
                .await?;
                // Filter by exact name: an endpoint that ignores the identifiers filter
                // must not make unrelated groups ours.
                found.extend(groups.into_iter().filter(|g| {
                    g.log_group_name()
                        .is_some_and(|n| chunk.iter().any(|c| c.as_str() == n))
                }));
            }
            let mut live = Vec::new();
            for group in found {
                let name = group.log_group_name().unwrap_or_default().to_string();
                let tags = match tagged.get(&name) {
                    Some(tags) => tags.clone(),
                    None => list_tags(ctx, &group_arn(ctx, &name)).await?,
                };
                let stack_tagged = is_stack_tagged(&tags, &ctx.stack);
                let address = match (stack_tagged, declared.get(&name)) {
                    (true, _) | (false, None) => address_for(Kind::LogGroup, &tags, &name),
                    (false, Some(address)) => address.clone(),
                };
                live.push(LiveResource {
                    address,
                    arn: Some(
                        group
                            .log_group_arn()
                            .map_or_else(|| group_arn(ctx, &name), str::to_string),
                    ),
                    id: name.clone(),
                    props: Props::LogGroup(LogGroupProps {
                        name,
                        retention_days: group.retention_in_days(),
                        kms_key: group.kms_key_id().map(|k| Ref::External(k.to_string())),
                    }),
                    tags,
                    unmanaged: !stack_tagged,
                    unobserved: Default::default(),
                    pending: Vec::new(),
                });
            }
            Ok(live)
        }
    }
}

async fn create_group(
    ctx: &AwsContext,
    resource: &Resource,
    props: &LogGroupProps,
    ids: &Ids,
) -> Result<Created, AwsError> {
    let result = async {
        let kms_key = props.kms_key.as_ref().map(|key| ids.arn(key)).transpose()?;
        crate::call!(
            ctx.logs()
                .create_log_group()
                .log_group_name(&props.name)
                .set_kms_key_id(kms_key)
                .set_tags(Some(resource.tags.clone().into_iter().collect())),
            "logs:CreateLogGroup"
        )?;
        set_retention(ctx, &props.name, props.retention_days).await?;
        Ok(Created {
            id: props.name.clone(),
            arn: Some(group_arn(ctx, &props.name)),
        })
    };
    result.await.map_err(|e: AwsError| e.at(&resource.address))
}

async fn update_group(
    ctx: &AwsContext,
    live: &LiveResource,
    desired: &Resource,
    props: &LogGroupProps,
    diffs: &[Diff],
    ids: &Ids,
) -> Result<(), AwsError> {
    let result = async {
        if changed(diffs, "retention_days") {
            set_retention(ctx, &live.id, props.retention_days).await?;
        }
        if changed(diffs, "kms_key") {
            set_kms_key(ctx, &live.id, props.kms_key.as_ref(), ids).await?;
        }
        if changed(diffs, "tags") {
            let arn = group_arn(ctx, &live.id);
            let arn = arn.as_str();
            sync_tags!(
                &live.tags,
                &desired.tags,
                tag(set) => ctx.logs().tag_resource().resource_arn(arn).set_tags(Some(set.into_iter().collect())),
                "logs:TagResource",
                untag(keys) => ctx.logs().untag_resource().resource_arn(arn).set_tag_keys(Some(keys)),
                "logs:UntagResource",
            )
            .await?;
        }
        Ok(())
    };
    result.await.map_err(|e: AwsError| e.at(&desired.address))
}

async fn list_tags(ctx: &AwsContext, arn: &str) -> Result<Tags, AwsError> {
    let out = crate::call!(
        ctx.logs().list_tags_for_resource().resource_arn(arn),
        "logs:ListTagsForResource"
    )?;
    Ok(out
        .tags()
        .cloned()
        .unwrap_or_default()
        .into_iter()
        .collect())
}

/// Encrypts new events with the key from now on (AssociateKmsKey), or goes back to
/// CloudWatch Logs' own encryption (DisassociateKmsKey).
async fn set_kms_key(
    ctx: &AwsContext,
    name: &str,
    key: Option<&Ref>,
    ids: &Ids,
) -> Result<(), AwsError> {
    match key {
        Some(key) => {
            crate::call!(
                ctx.logs()
                    .associate_kms_key()
                    .log_group_name(name)
                    .kms_key_id(ids.arn(key)?),
                "logs:AssociateKmsKey"
            )?;
        }
        None => {
            crate::call!(
                ctx.logs().disassociate_kms_key().log_group_name(name),
                "logs:DisassociateKmsKey"
            )?;
        }
    }
    Ok(())
}

async fn set_retention(ctx: &AwsContext, name: &str, days: Option<i32>) -> Result<(), AwsError> {
    match days {
        Some(days) => {
            crate::call!(
                ctx.logs()
                    .put_retention_policy()
                    .log_group_name(name)
                    .retention_in_days(days),
                "logs:PutRetentionPolicy"
            )?;
        }
        None => {
            crate::call!(
                ctx.logs().delete_retention_policy().log_group_name(name),
                "logs:DeleteRetentionPolicy"
            )?;
        }
    }
    Ok(())
}
