//! CloudTrail trails: multi-region, log file validation, KMS encryption, delivery to S3
//! and CloudWatch Logs, management events, and logging switched on.
//!
//! Discovery: one DescribeTrails call (trails whose home is this region) and one ListTags
//! call for them all; each stack trail then costs a GetTrailStatus (is it logging?) and a
//! GetEventSelectors, which DescribeTrails does not report.

use crate::aws::pages::bounded;
use aws_sdk_cloudtrail::types::{EventSelector, ReadWriteType, Tag};

use super::AwsContext;
use super::error::{AwsError, AwsResult, aws, not_managed, unbuildable};
use super::provider::{Created, Delete, Ids, Provider, Scope, Update};
use super::tags::{classify_named, from_pairs};
use super::tags::{sdk_tags, sync_tags};
use crate::model::{Kind, LiveResource, Props, Ref, Resource, Tags, TrailProps, changed};

crate::provider!(CloudTrail, "cloudtrail", cloudtrail: aws_sdk_cloudtrail);

#[async_trait::async_trait]
impl Provider for CloudTrail {
    async fn discover(&self, scope: &Scope<'_>) -> AwsResult<Vec<LiveResource>> {
        let ctx = scope.ctx;
        let trails = crate::call!(
            ctx.cloudtrail()
                .describe_trails()
                .include_shadow_trails(false),
            "cloudtrail:DescribeTrails"
        )?;
        let declared: Vec<&str> = scope
            .desired
            .resources
            .values()
            .filter(|r| r.address.kind == Kind::Trail)
            .filter_map(|r| r.props.aws_name())
            .collect();
        let prefix = format!("{}-", ctx.stack);
        let trails: Vec<_> = trails
            .trail_list()
            .iter()
            .filter(|t| t.home_region().is_none_or(|r| r == ctx.region))
            .filter(|t| {
                t.name()
                    .is_some_and(|n| n.starts_with(&prefix) || declared.contains(&n))
            })
            .filter(|t| t.trail_arn().is_some())
            .collect();
        if trails.is_empty() {
            return Ok(Vec::new());
        }
        let mut list = ctx.cloudtrail().list_tags();
        for trail in &trails {
            list = list.resource_id_list(trail.trail_arn().unwrap_or_default());
        }
        let tagged = crate::all_pages!(list, "cloudtrail:ListTags").await?;
        let tags_of = |arn: &str| -> Tags {
            tagged
                .iter()
                .find(|t| t.resource_id() == Some(arn))
                .map(|t| from_pairs(t.tags_list().iter().map(|t| (Some(t.key()), t.value()))))
                .unwrap_or_default()
        };
        let found = bounded(trails.iter().map(|trail| async {
            let name = trail.name().unwrap_or_default();
            let arn = trail.trail_arn().unwrap_or_default();
            let (status, selectors) = tokio::try_join!(
                async {
                    crate::call!(
                        ctx.cloudtrail().get_trail_status().name(arn),
                        "cloudtrail:GetTrailStatus"
                    )
                },
                async {
                    crate::call!(
                        ctx.cloudtrail().get_event_selectors().trail_name(arn),
                        "cloudtrail:GetEventSelectors"
                    )
                },
            )?;
            let management_events = selectors
                .event_selectors()
                .iter()
                .find(|s| s.include_management_events().unwrap_or(true))
                .and_then(|s| s.read_write_type())
                .map_or("None", |t| t.as_str())
                .to_string();
            let props = Props::Trail(TrailProps {
                name: name.to_string(),
                bucket: Ref::External(trail.s3_bucket_name().unwrap_or_default().to_string()),
                kms_key: trail.kms_key_id().map(|k| Ref::External(k.to_string())),
                multi_region: trail.is_multi_region_trail().unwrap_or(false),
                global_service_events: trail.include_global_service_events().unwrap_or(false),
                log_file_validation: trail.log_file_validation_enabled().unwrap_or(false),
                // The group by name (its id): CloudTrail reports `...:log-group:NAME:*`.
                log_group: trail
                    .cloud_watch_logs_log_group_arn()
                    .and_then(|a| a.split_once(":log-group:"))
                    .map(|(_, rest)| Ref::External(rest.trim_end_matches(":*").to_string())),
                cloudwatch_logs_role: trail
                    .cloud_watch_logs_role_arn()
                    .map(|a| Ref::External(a.to_string())),
                management_events,
                logging: status.is_logging().unwrap_or(false),
            });
            Ok::<_, AwsError>(classify_named(scope, name, Some(arn), props, tags_of(arn)))
        }))
        .await?;
        Ok(found.into_iter().flatten().collect())
    }

    async fn create(&self, ctx: &AwsContext, resource: &Resource, ids: &Ids) -> AwsResult<Created> {
        let Props::Trail(props) = &resource.props else {
            return Err(not_managed("cloudtrail", &resource.address));
        };
        let targets = Targets::resolve(ctx, props, ids)?;
        let tags = sdk_tags!(Tag, resource.tags, "cloudtrail")?;
        let out = crate::call!(
            ctx.cloudtrail()
                .create_trail()
                .name(&props.name)
                .s3_bucket_name(&targets.bucket)
                .set_kms_key_id(targets.kms_key)
                .is_multi_region_trail(props.multi_region)
                .include_global_service_events(props.global_service_events)
                .enable_log_file_validation(props.log_file_validation)
                .set_cloud_watch_logs_log_group_arn(targets.log_group)
                .set_cloud_watch_logs_role_arn(targets.role.clone())
                .set_tags_list(Some(tags)),
            "cloudtrail:CreateTrail"
        )
        .map_err(|e| naming_role(e, targets.role.as_deref()))?;
        let arn = out.trail_arn().unwrap_or_default().to_string();
        put_event_selectors(ctx, &arn, &props.management_events).await?;
        set_logging(ctx, &arn, props.logging).await?;
        Ok(Created {
            id: props.name.clone(),
            arn: Some(arn),
        })
    }

    async fn update(&self, ctx: &AwsContext, change: Update<'_>) -> AwsResult<()> {
        let (live, desired, diffs, ids) = (change.live, change.desired, change.diffs, change.ids);
        let Props::Trail(props) = &desired.props else {
            return Err(not_managed("cloudtrail", &desired.address));
        };
        let arn = live.arn.clone().unwrap_or_else(|| live.id.clone());
        let settings = [
            "bucket",
            "kms_key",
            "multi_region",
            "global_service_events",
            "log_file_validation",
            "log_group",
            "cloudwatch_logs_role",
        ];
        if settings.iter().any(|f| changed(diffs, f)) {
            let targets = Targets::resolve(ctx, props, ids)?;
            let role = targets.role.clone();
            ctx.cloudtrail()
                .update_trail()
                .name(&arn)
                .s3_bucket_name(&targets.bucket)
                .set_kms_key_id(targets.kms_key)
                .is_multi_region_trail(props.multi_region)
                .include_global_service_events(props.global_service_events)
                .enable_log_file_validation(props.log_file_validation)
                // Empty strings turn CloudWatch Logs delivery off.
                .cloud_watch_logs_log_group_arn(targets.log_group.unwrap_or_default())
                .cloud_watch_logs_role_arn(targets.role.unwrap_or_default())
                .send()
                .await
                .map_err(aws("cloudtrail:UpdateTrail"))
                .map_err(|e| naming_role(e, role.as_deref()))?;
        }
        if changed(diffs, "management_events") {
            put_event_selectors(ctx, &arn, &props.management_events).await?;
        }
        if changed(diffs, "logging") {
            set_logging(ctx, &arn, props.logging).await?;
        }
        if changed(diffs, "tags") {
            sync_tags(ctx, &arn, &live.tags, &desired.tags).await?;
        }
        Ok(())
    }

    async fn delete(&self, ctx: &AwsContext, gone: Delete<'_>) -> AwsResult<()> {
        let live = gone.live;
        // By name: the stack's trails live in this region, their home.
        crate::call!(
            ctx.cloudtrail().delete_trail().name(&live.id),
            "cloudtrail:DeleteTrail"
        )
        .map_err(|e| e.at(&live.address))?;
        Ok(())
    }
}

/// Names the CloudWatch Logs role in an error that says it has not propagated yet.
fn naming_role(err: AwsError, role: Option<&str>) -> AwsError {
    match role {
        Some(role) if err.is(super::ErrorKind::Propagating) => {
            err.with_note(format!("the trail's CloudWatch Logs role is {role}"))
        }
        _ => err,
    }
}

/// A trail's references as the values CreateTrail and UpdateTrail take.
struct Targets {
    bucket: String,
    kms_key: Option<String>,
    log_group: Option<String>,
    role: Option<String>,
}

impl Targets {
    fn resolve(ctx: &AwsContext, props: &TrailProps, ids: &Ids) -> Result<Targets, AwsError> {
        let log_group = match &props.log_group {
            Some(group) => {
                Some(ctx.regional_arn("logs", &format!("log-group:{}:*", ids.id(group)?)))
            }
            None => None,
        };
        Ok(Targets {
            bucket: ids.id(&props.bucket)?,
            kms_key: props.kms_key.as_ref().map(|k| ids.arn(k)).transpose()?,
            log_group,
            role: props
                .cloudwatch_logs_role
                .as_ref()
                .map(|r| ids.arn(r))
                .transpose()?,
        })
    }
}

async fn put_event_selectors(
    ctx: &AwsContext,
    trail: &str,
    management_events: &str,
) -> Result<(), AwsError> {
    let selector = match management_events {
        "None" => EventSelector::builder().include_management_events(false),
        kind => EventSelector::builder()
            .include_management_events(true)
            .read_write_type(ReadWriteType::from(kind)),
    };
    crate::call!(
        ctx.cloudtrail()
            .put_event_selectors()
            .trail_name(trail)
            .event_selectors(selector.build()),
        "cloudtrail:PutEventSelectors"
    )?;
    Ok(())
}

async fn set_logging(ctx: &AwsContext, trail: &str, on: bool) -> Result<(), AwsError> {
    if on {
        crate::call!(
            ctx.cloudtrail().start_logging().name(trail),
            "cloudtrail:StartLogging"
        )?;
    } else {
        crate::call!(
            ctx.cloudtrail().stop_logging().name(trail),
            "cloudtrail:StopLogging"
        )?;
    }
    Ok(())
}

async fn sync_tags(
    ctx: &AwsContext,
    arn: &str,
    before: &Tags,
    after: &Tags,
) -> Result<(), AwsError> {
    sync_tags!(
        before,
        after,
        tag(set) => ctx.cloudtrail().add_tags().resource_id(arn)
            .set_tags_list(Some(sdk_tags!(Tag, set, "cloudtrail")?)),
        "cloudtrail:AddTags",
        untag(keys) => ctx.cloudtrail().remove_tags().resource_id(arn).set_tags_list(Some(
            keys.iter()
                .map(|k| Tag::builder().key(k).build().map_err(|e| unbuildable("cloudtrail", e)))
                .collect::<Result<Vec<_>, _>>()?,
        )),
        "cloudtrail:RemoveTags",
    )
    .await
}
