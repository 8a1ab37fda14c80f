//! Secrets Manager secrets: name, description, KMS key, rotation, resource policy, and the
//! first value (generated at creation, never again). secinfra never reads a secret's value.
//!
//! Discovery: one paginated ListSecrets filtered by the stack tag, including secrets
//! scheduled for deletion (a declared one is restored; an undeclared one is already going
//! and is left out); a declared name not found that way is looked up with DescribeSecret
//! and, if it exists without the stack tag, reported as unmanaged. Resource policies are
//! read only for secrets whose blueprint declares one.

pub mod value;

use std::collections::BTreeMap;

use crate::aws::pages::bounded;
use aws_sdk_secretsmanager::types::{Filter, FilterNameStringType, RotationRulesType, Tag};

use super::AwsContext;
use super::error::{AwsError, AwsResult, absent_if_not_found, aws, not_managed};
use super::pages::AllPages;
use super::provider::{Created, Delete, Ids, Provider, Scope, Update};
use super::tags::sdk_tags;
use super::tags::{address_for, from_pairs, is_stack_tagged, sync_tags};
use crate::model::{
    Address, Kind, LiveResource, Props, Ref, Resource, SecretProps, TAG_RECOVERY_WINDOW, TAG_STACK,
    Tags, changed,
};
use crate::naming;

crate::provider!(Secrets, "secretsmanager", secrets: aws_sdk_secretsmanager);

const ACTIVE: &str = "active";
const SCHEDULED: &str = "scheduled for deletion";

/// What discovery reads of a secret, from ListSecrets or DescribeSecret (same fields).
struct Found {
    arn: String,
    name: String,
    description: String,
    kms_key_id: Option<String>,
    rotation_enabled: bool,
    rotation_lambda: Option<String>,
    rotation_rules: Option<RotationRulesType>,
    deleted: bool,
    tags: Tags,
}

fn found_of(s: &aws_sdk_secretsmanager::types::SecretListEntry) -> Found {
    Found {
        arn: s.arn().unwrap_or_default().to_string(),
        name: s.name().unwrap_or_default().to_string(),
        description: s.description().unwrap_or_default().to_string(),
        kms_key_id: s.kms_key_id().map(str::to_string),
        rotation_enabled: s.rotation_enabled().unwrap_or(false),
        rotation_lambda: s.rotation_lambda_arn().map(str::to_string),
        rotation_rules: s.rotation_rules().cloned(),
        deleted: s.deleted_date().is_some(),
        tags: from_pairs(s.tags().iter().map(|t| (t.key(), t.value()))),
    }
}

fn declared(scope: &Scope) -> BTreeMap<String, (Address, bool)> {
    scope
        .desired
        .resources
        .values()
        .filter_map(|r| match &r.props {
            Props::Secret(p) => Some((p.name.clone(), (r.address.clone(), p.policy.is_some()))),
            _ => None,
        })
        .collect()
}

#[async_trait::async_trait]
impl Provider for Secrets {
    async fn discover(&self, scope: &Scope<'_>) -> AwsResult<Vec<LiveResource>> {
        let ctx = scope.ctx;
        let listed = ctx
            .secrets()
            .list_secrets()
            .include_planned_deletion(true)
            .filters(
                Filter::builder()
                    .key(FilterNameStringType::TagKey)
                    .values(TAG_STACK)
                    .build(),
            )
            .filters(
                Filter::builder()
                    .key(FilterNameStringType::TagValue)
                    .values(&ctx.stack)
                    .build(),
            )
            .into_paginator()
            .send()
            .all("secretsmanager:ListSecrets")
            .await?;
        let mut found: Vec<Found> = listed
            .iter()
            .flat_map(|page| page.secret_list())
            .map(found_of)
            // The filters match any tag key and any tag value; the stack's tag is checked here.
            .filter(|f| is_stack_tagged(&f.tags, &ctx.stack))
            .collect();
        // Declared names the tag listing did not return: one more listing by name
        // (exact matches only; the name filter matches prefixes) finds any that exist
        // without the stack tag, or before the tag index has caught up.
        let declared = declared(scope);
        let missing: Vec<&String> = declared
            .keys()
            .filter(|n| !found.iter().any(|f| &f.name == *n))
            .collect();
        for chunk in missing.chunks(10) {
            let pages = ctx
                .secrets()
                .list_secrets()
                .include_planned_deletion(true)
                .filters(
                    Filter::builder()
                        .key(FilterNameStringType::Name)
                        .set_values(Some(chunk.iter().map(|n| n.to_string()).collect()))
                        .build(),
                )
                .into_paginator()
                .send()
                .all("secretsmanager:ListSecrets")
                .await?;
            found.extend(
                pages
                    .iter()
                    .flat_map(|page| page.secret_list())
                    .filter(|s| {
                        s.name()
                            .is_some_and(|n| chunk.iter().any(|c| c.as_str() == n))
                    })
                    .map(found_of),
            );
        }
        let live = bounded(found.into_iter().map(|f| {
            let declared = declared.get(&f.name).cloned();
            into_live(ctx, f, declared)
        }))
        .await?;
        Ok(live.into_iter().flatten().collect())
    }

    async fn create(&self, ctx: &AwsContext, resource: &Resource, ids: &Ids) -> AwsResult<Created> {
        let Props::Secret(props) = &resource.props else {
            return Err(not_managed("secretsmanager", &resource.address));
        };
        let value = match &props.initial_value {
            Some(recipe) => Some(value::generate(ctx, recipe).await?),
            None => None,
        };
        let kms_key = props
            .kms_key
            .as_ref()
            .map(|k| ids.arn_or_id(k))
            .transpose()?;
        let out = crate::call!(
            ctx.secrets()
                .create_secret()
                .name(&props.name)
                .set_description((!props.description.is_empty()).then(|| props.description.clone()))
                .set_kms_key_id(kms_key)
                .set_secret_string(value)
                .set_tags(Some(sdk_tags!(Tag, resource.tags)))
                .client_request_token(uuid::Uuid::new_v4().to_string()),
            "secretsmanager:CreateSecret"
        )?;
        let arn = out.arn().unwrap_or_default().to_string();
        if props.rotation_enabled {
            set_rotation(ctx, &arn, props).await?;
        }
        if let Some(policy) = &props.policy {
            put_policy(ctx, &arn, policy).await?;
        }
        Ok(Created {
            id: arn.clone(),
            arn: Some(arn),
        })
    }

    async fn update(&self, ctx: &AwsContext, change: Update<'_>) -> AwsResult<()> {
        let (live, desired, diffs, ids) = (change.live, change.desired, change.diffs, change.ids);
        let Props::Secret(want) = &desired.props else {
            return Err(not_managed("secretsmanager", &desired.address));
        };
        let id = live.id.as_str();
        if changed(diffs, "state") {
            crate::call!(
                ctx.secrets().restore_secret().secret_id(id),
                "secretsmanager:RestoreSecret"
            )?;
        }
        if changed(diffs, "description") || changed(diffs, "kms_key") {
            let kms_key = want
                .kms_key
                .as_ref()
                .map(|k| ids.arn_or_id(k))
                .transpose()?;
            crate::call!(
                ctx.secrets()
                    .update_secret()
                    .secret_id(id)
                    .description(&want.description)
                    .set_kms_key_id(kms_key),
                "secretsmanager:UpdateSecret"
            )?;
        }
        if [
            "rotation_enabled",
            "rotation_lambda",
            "rotation_every_days",
            "rotation_schedule",
        ]
        .iter()
        .any(|f| changed(diffs, f))
        {
            set_rotation(ctx, id, want).await?;
        }
        if changed(diffs, "policy") {
            match &want.policy {
                Some(policy) => put_policy(ctx, id, policy).await?,
                None => {
                    crate::call!(
                        ctx.secrets().delete_resource_policy().secret_id(id),
                        "secretsmanager:DeleteResourcePolicy"
                    )?;
                }
            }
        }
        if changed(diffs, "tags") {
            sync_tags!(
                &live.tags,
                &desired.tags,
                tag(set) => ctx.secrets().tag_resource().secret_id(id).set_tags(Some(sdk_tags!(Tag, set))),
                "secretsmanager:TagResource",
                untag(keys) => ctx.secrets().untag_resource().secret_id(id).set_tag_keys(Some(keys)),
                "secretsmanager:UntagResource",
            )
            .await?;
        }
        Ok(())
    }

    async fn delete(&self, ctx: &AwsContext, gone: Delete<'_>) -> AwsResult<()> {
        let live = gone.live;
        let options = gone.options;
        let mut call = ctx.secrets().delete_secret().secret_id(&live.id);
        call = if options.without_recovery {
            call.force_delete_without_recovery(true)
        } else {
            call.recovery_window_in_days(recovery_window(live))
        };
        call.send()
            .await
            .map_err(aws("secretsmanager:DeleteSecret"))
            .map_err(|e| e.at(&live.address))?;
        Ok(())
    }
}

/// Days a deleted secret stays recoverable, from its tag (set from the blueprint).
pub fn recovery_window(live: &LiveResource) -> i64 {
    live.tags
        .get(TAG_RECOVERY_WINDOW)
        .and_then(|w| w.parse::<i64>().ok())
        .filter(|w| (7..=30).contains(w))
        .unwrap_or(30)
}

async fn into_live(
    ctx: &AwsContext,
    f: Found,
    declared: Option<(Address, bool)>,
) -> Result<Option<LiveResource>, AwsError> {
    if f.deleted && declared.is_none() {
        return Ok(None);
    }
    let stack_tagged = is_stack_tagged(&f.tags, &ctx.stack);
    let reads_policy = declared.as_ref().is_some_and(|(_, policy)| *policy);
    let policy = if reads_policy && !f.deleted {
        let out = crate::call!(
            ctx.secrets().get_resource_policy().secret_id(&f.arn),
            "secretsmanager:GetResourcePolicy"
        )?;
        Some(
            out.resource_policy()
                .and_then(|p| crate::policy::parse(p).ok())
                .unwrap_or(serde_json::Value::Null),
        )
    } else {
        None
    };
    // `rate(N days)` and AutomaticallyAfterDays are the same schedule.
    let rules = f.rotation_rules.as_ref();
    let schedule = rules
        .and_then(|r| r.schedule_expression())
        .map(str::to_string);
    let every_days = rules
        .and_then(|r| r.automatically_after_days())
        .or_else(|| schedule.as_deref().and_then(naming::rate_in_days));
    let schedule = schedule.filter(|s| naming::rate_in_days(s).is_none());
    let enabled = f.rotation_enabled;
    let props = SecretProps {
        name: f.name.clone(),
        description: f.description,
        kms_key: f.kms_key_id.map(Ref::External),
        state: if f.deleted { SCHEDULED } else { ACTIVE }.into(),
        rotation_enabled: enabled,
        rotation_lambda: f.rotation_lambda.filter(|_| enabled),
        rotation_every_days: every_days.filter(|_| enabled),
        rotation_schedule: schedule.filter(|_| enabled),
        policy,
        initial_value: None,
    };
    let address = match (stack_tagged, declared) {
        (false, Some((address, _))) => address,
        _ => address_for(Kind::Secret, &f.tags, &f.arn),
    };
    Ok(Some(LiveResource {
        address,
        id: f.arn.clone(),
        arn: Some(f.arn),
        props: Props::Secret(props),
        tags: f.tags,
        unmanaged: !stack_tagged,
        unobserved: Default::default(),
        pending: Vec::new(),
    }))
}

/// Turns rotation on (with the schedule and Lambda, without rotating now) or off.
async fn set_rotation(ctx: &AwsContext, id: &str, props: &SecretProps) -> Result<(), AwsError> {
    if !props.rotation_enabled {
        absent_if_not_found(crate::call!(
            ctx.secrets().cancel_rotate_secret().secret_id(id),
            "secretsmanager:CancelRotateSecret"
        ))?;
        return Ok(());
    }
    let rules = RotationRulesType::builder()
        .set_automatically_after_days(props.rotation_every_days)
        .set_schedule_expression(props.rotation_schedule.clone())
        .build();
    crate::call!(
        ctx.secrets()
            .rotate_secret()
            .secret_id(id)
            .set_rotation_lambda_arn(props.rotation_lambda.clone())
            .rotation_rules(rules)
            .rotate_immediately(false),
        "secretsmanager:RotateSecret"
    )?;
    Ok(())
}

async fn put_policy(
    ctx: &AwsContext,
    id: &str,
    policy: &serde_json::Value,
) -> Result<(), AwsError> {
    crate::call!(
        ctx.secrets()
            .put_resource_policy()
            .secret_id(id)
            .resource_policy(policy.to_string())
            .block_public_policy(true),
        "secretsmanager:PutResourcePolicy"
    )?;
    Ok(())
}
