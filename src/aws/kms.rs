//! KMS customer managed keys: description, usage and spec, state, automatic rotation,
//! key policy and the `alias/<stack>/<name>` alias.
//!
//! Discovery never describes every key in the account. The stack's keys are those the
//! shared tagging index lists plus the targets of every alias under `alias/<stack>/` (one
//! ListAliases pass), so neither an index that lags nor one that does not cover KMS (as on
//! some emulators) hides a key. A key found only through an alias has its tags read; an
//! alias the blueprint declares that points at a key without the stack tag makes that key
//! unmanaged (taken over only with --adopt). Then each of the stack's own keys is read:
//! DescribeKey, GetKeyPolicy, GetKeyRotationStatus. A key pending deletion that the
//! blueprint no longer declares is already going away and is left out.
//!
//! Deletion schedules the key for deletion with its window (tag
//! `secinfra:deletion-window-days`); protected keys are held by the planner before that.

use std::collections::{BTreeMap, BTreeSet};

use crate::aws::pages::bounded;
use aws_sdk_kms::types::{KeySpec, KeyUsageType, Tag};

use super::AwsContext;
use super::error::{AwsError, AwsResult, ErrorKind, absent_if_not_found, not_managed, unbuildable};
use super::provider::{Created, Delete, Ids, Provider, Scope, Update};
use super::tags::{address_for, is_stack_tagged, sync_tags};
use crate::model::{
    Address, Kind, KmsKeyProps, LiveResource, Props, Resource, TAG_DELETION_WINDOW, Tags, changed,
};

crate::provider!(Kms, "kms", kms: aws_sdk_kms);

const PENDING_DELETION: &str = "PendingDeletion";

/// `arn:aws:kms:us-east-1:123:key/<id>` → `<id>`.
fn key_id_of_arn(arn: &str) -> Option<&str> {
    arn.split_once(":key/").map(|(_, id)| id)
}

/// KMS's tag list (its fields are `TagKey` and `TagValue`, so `sdk_tags!` does not fit). A
/// tag the builder refuses fails the call, as with every other service, rather than being
/// left off the key unsaid.
fn kms_tags(tags: &Tags) -> Result<Vec<Tag>, AwsError> {
    tags.iter()
        .map(|(k, v)| {
            Tag::builder()
                .tag_key(k)
                .tag_value(v)
                .build()
                .map_err(|e| unbuildable("kms", e))
        })
        .collect()
}

#[async_trait::async_trait]
impl Provider for Kms {
    async fn discover(&self, scope: &Scope<'_>) -> AwsResult<Vec<LiveResource>> {
        let ctx = scope.ctx;
        let mut keys: BTreeMap<String, Tags> = scope
            .tagged()
            .await?
            .iter()
            .filter(|(arn, _)| arn.contains(":kms:"))
            .filter_map(|(arn, tags)| Some((key_id_of_arn(arn)?.to_string(), tags.clone())))
            .collect();
        let aliases = crate::all_pages!(ctx.kms().list_aliases(), "kms:ListAliases").await?;
        let mut aliases_of: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for alias in &aliases {
            if let (Some(name), Some(target)) = (alias.alias_name(), alias.target_key_id()) {
                aliases_of
                    .entry(target.to_string())
                    .or_default()
                    .insert(name.to_string());
            }
        }
        // Keys behind the stack's aliases that the tag index did not list: ask the key
        // itself for its tags before calling it foreign (or ignoring it).
        let declared: BTreeMap<String, Address> = scope
            .desired
            .resources
            .values()
            .filter_map(|r| match &r.props {
                Props::KmsKey(p) => Some(
                    p.aliases
                        .iter()
                        .map(|a| (a.clone(), r.address.clone()))
                        .collect::<Vec<_>>(),
                ),
                _ => None,
            })
            .flatten()
            .collect();
        let prefix = crate::naming::kms_alias(&ctx.stack, "");
        let mut foreign: BTreeMap<String, Address> = BTreeMap::new();
        for alias in &aliases {
            let (Some(name), Some(target)) = (alias.alias_name(), alias.target_key_id()) else {
                continue;
            };
            if keys.contains_key(target)
                || !(name.starts_with(&prefix) || declared.contains_key(name))
            {
                continue;
            }
            let tags = list_tags(ctx, target).await?;
            if !is_stack_tagged(&tags, &ctx.stack) {
                let Some(address) = declared.get(name) else {
                    continue;
                };
                foreign.insert(target.to_string(), address.clone());
            }
            keys.insert(target.to_string(), tags);
        }
        if scope.thorough {
            // A key whose CreateKey answer was lost has its tags but no alias yet, and
            // the tagging index may not list it for minutes: ask every customer key
            // this discovery has not seen for its tags.
            for (id, tags) in untracked_keys(ctx, &keys).await? {
                if is_stack_tagged(&tags, &ctx.stack) {
                    keys.insert(id, tags);
                }
            }
        }
        let declared_addresses: BTreeSet<&Address> = declared.values().collect();
        let found = bounded(keys.iter().map(|(id, tags)| {
            let aliases = aliases_of.get(id).cloned().unwrap_or_default();
            let foreign = foreign.get(id).cloned();
            read_key(ctx, id, tags.clone(), aliases, foreign)
        }))
        .await?;
        let found = found.into_iter().flatten().map(|mut key| {
            fill_unreported_period(&mut key, scope.desired);
            key
        });
        Ok(found
            .filter(|k| {
                let pending = matches!(&k.props, Props::KmsKey(p) if p.state == PENDING_DELETION);
                !pending || declared_addresses.contains(&k.address)
            })
            .collect())
    }

    async fn create(&self, ctx: &AwsContext, resource: &Resource, _: &Ids) -> AwsResult<Created> {
        let Props::KmsKey(props) = &resource.props else {
            return Err(not_managed("kms", &resource.address));
        };
        let out = crate::send_once!(
            aws_sdk_kms,
            ctx.kms()
                .create_key()
                .description(&props.description)
                .key_usage(KeyUsageType::from(props.key_usage.as_str()))
                .key_spec(KeySpec::from(props.key_spec.as_str()))
                .policy(props.policy.to_string())
                .set_tags(Some(kms_tags(&resource.tags)?)),
            "kms:CreateKey"
        )?;
        let metadata = out.key_metadata().ok_or_else(|| {
            AwsError::new(
                "kms:CreateKey",
                ErrorKind::Other,
                "the response carried no key metadata",
            )
        })?;
        let id = metadata.key_id().to_string();
        set_rotation(ctx, &id, props).await?;
        for alias in &props.aliases {
            point_alias(ctx, alias, &id).await?;
        }
        Ok(Created {
            id,
            arn: metadata.arn().map(str::to_string),
        })
    }

    async fn update(&self, ctx: &AwsContext, change: Update<'_>) -> AwsResult<()> {
        let (live, desired, diffs) = (change.live, change.desired, change.diffs);
        let (Props::KmsKey(want), Props::KmsKey(have)) = (&desired.props, &live.props) else {
            return Err(not_managed("kms", &desired.address));
        };
        let id = live.id.as_str();
        // First bring the key back, so the other changes can apply to it.
        if changed(diffs, "state") {
            if have.state == PENDING_DELETION {
                crate::call!(
                    ctx.kms().cancel_key_deletion().key_id(id),
                    "kms:CancelKeyDeletion"
                )?;
            }
            crate::call!(ctx.kms().enable_key().key_id(id), "kms:EnableKey")?;
        }
        if changed(diffs, "description") {
            crate::call!(
                ctx.kms()
                    .update_key_description()
                    .key_id(id)
                    .description(&want.description),
                "kms:UpdateKeyDescription"
            )?;
        }
        if changed(diffs, "policy") {
            crate::call!(
                ctx.kms()
                    .put_key_policy()
                    .key_id(id)
                    .policy_name("default")
                    .policy(want.policy.to_string()),
                "kms:PutKeyPolicy"
            )?;
        }
        if changed(diffs, "rotation_enabled")
            || changed(diffs, "rotation_period_days")
            || changed(diffs, "state")
        {
            set_rotation(ctx, id, want).await?;
        }
        if changed(diffs, "aliases") {
            for alias in want.aliases.difference(&have.aliases) {
                point_alias(ctx, alias, id).await?;
            }
            for alias in have.aliases.difference(&want.aliases) {
                delete_alias(ctx, alias).await?;
            }
        }
        if changed(diffs, "tags") {
            sync_tags!(
                &live.tags,
                &desired.tags,
                tag(set) => ctx.kms().tag_resource().key_id(id).set_tags(Some(kms_tags(&set)?)),
                "kms:TagResource",
                untag(keys) => ctx.kms().untag_resource().key_id(id).set_tag_keys(Some(keys)),
                "kms:UntagResource",
            )
            .await?;
        }
        Ok(())
    }

    async fn delete(&self, ctx: &AwsContext, gone: Delete<'_>) -> AwsResult<()> {
        let live = gone.live;
        let ids = gone.ids;
        let Props::KmsKey(props) = &live.props else {
            return Err(not_managed("kms", &live.address));
        };
        let window = live
            .tags
            .get(TAG_DELETION_WINDOW)
            .and_then(|w| w.parse::<i32>().ok())
            .filter(|w| (7..=30).contains(w))
            .unwrap_or(30);
        // An alias a replacement already took over points at the new key now.
        let replaced_by = ids
            .id(&live.address.clone().into())
            .ok()
            .filter(|id| id != &live.id);
        if replaced_by.is_none() {
            for alias in &props.aliases {
                delete_alias(ctx, alias).await?;
            }
        }
        crate::call!(
            ctx.kms()
                .schedule_key_deletion()
                .key_id(&live.id)
                .pending_window_in_days(window),
            "kms:ScheduleKeyDeletion"
        )?;
        Ok(())
    }
}

/// One key's properties and tags. `foreign` is the address of a declared alias pointing
/// at a key without the stack tag (unmanaged).
async fn read_key(
    ctx: &AwsContext,
    id: &str,
    tags: Tags,
    aliases: BTreeSet<String>,
    foreign: Option<Address>,
) -> Result<Option<LiveResource>, AwsError> {
    let Some(described) = absent_if_not_found(crate::call!(
        ctx.kms().describe_key().key_id(id),
        "kms:DescribeKey"
    ))?
    else {
        return Ok(None);
    };
    let Some(metadata) = described.key_metadata() else {
        return Ok(None);
    };
    let state = metadata.key_state().map_or("", |s| s.as_str()).to_string();
    let policy = crate::call!(
        ctx.kms().get_key_policy().key_id(id).policy_name("default"),
        "kms:GetKeyPolicy"
    )?;
    let policy = policy
        .policy()
        .and_then(|p| crate::policy::parse(p).ok())
        .unwrap_or(serde_json::Value::Null);
    // Rotation status cannot be read while a key is pending deletion or disabled; those
    // keys are brought back first and their rotation set again in the same update.
    let (rotation_enabled, rotation_period_days) = if state == "Enabled" {
        let rotation = crate::call!(
            ctx.kms().get_key_rotation_status().key_id(id),
            "kms:GetKeyRotationStatus"
        )?;
        let enabled = rotation.key_rotation_enabled();
        (
            enabled,
            if enabled {
                rotation.rotation_period_in_days()
            } else {
                None
            },
        )
    } else {
        (false, None)
    };
    // Absent usage and spec mean the API's documented defaults.
    let props = KmsKeyProps {
        description: metadata.description().unwrap_or_default().to_string(),
        key_usage: metadata
            .key_usage()
            .map_or("ENCRYPT_DECRYPT", |u| u.as_str())
            .to_string(),
        key_spec: metadata
            .key_spec()
            .map_or("SYMMETRIC_DEFAULT", |s| s.as_str())
            .to_string(),
        state,
        rotation_enabled,
        rotation_period_days,
        policy,
        aliases,
    };
    let unmanaged = foreign.is_some();
    Ok(Some(LiveResource {
        address: foreign.unwrap_or_else(|| address_for(Kind::KmsKey, &tags, id)),
        id: id.to_string(),
        arn: metadata.arn().map(str::to_string),
        props: Props::KmsKey(props),
        tags,
        unmanaged,
        unobserved: Default::default(),
        pending: Vec::new(),
    }))
}

/// AWS reports RotationPeriodInDays whenever rotation is enabled (GetKeyRotationStatus).
/// When an endpoint does not, the period cannot be observed; it is taken as the one the
/// blueprint declares rather than shown as a difference that no apply could clear.
fn fill_unreported_period(key: &mut LiveResource, desired: &crate::model::Desired) {
    let Props::KmsKey(live) = &mut key.props else {
        return;
    };
    if !live.rotation_enabled || live.rotation_period_days.is_some() {
        return;
    }
    if let Some(Props::KmsKey(want)) = desired.resources.get(&key.address).map(|r| &r.props) {
        live.rotation_period_days = want.rotation_period_days;
    }
}

/// Every key in the account that is not in `known`, with its tags (one ListKeys pass,
/// then ListResourceTags per key: costly on a large account, hence only when thorough).
/// Keys whose tags cannot be read (AWS managed keys, other principals') are skipped.
async fn untracked_keys(
    ctx: &AwsContext,
    known: &BTreeMap<String, Tags>,
) -> Result<Vec<(String, Tags)>, AwsError> {
    let keys = crate::all_pages!(ctx.kms().list_keys(), "kms:ListKeys").await?;
    let unknown: Vec<String> = keys
        .iter()
        .filter_map(|k| k.key_id())
        .filter(|id| !known.contains_key(*id))
        .map(str::to_string)
        .collect();
    let tagged = bounded(unknown.into_iter().map(|id| async move {
        match list_tags(ctx, &id).await {
            Ok(tags) => Ok(Some((id, tags))),
            Err(e) if e.is(ErrorKind::AccessDenied) || e.is(ErrorKind::NotFound) => Ok(None),
            Err(e) => Err(e),
        }
    }))
    .await?;
    Ok(tagged.into_iter().flatten().collect())
}

async fn list_tags(ctx: &AwsContext, key: &str) -> Result<Tags, AwsError> {
    let tags = crate::all_pages!(
        ctx.kms().list_resource_tags().key_id(key),
        "kms:ListResourceTags"
    )
    .await?;
    Ok(tags
        .iter()
        .map(|t| (t.tag_key().to_string(), t.tag_value().to_string()))
        .collect())
}

async fn set_rotation(ctx: &AwsContext, id: &str, props: &KmsKeyProps) -> Result<(), AwsError> {
    if props.rotation_enabled {
        crate::call!(
            ctx.kms()
                .enable_key_rotation()
                .key_id(id)
                .set_rotation_period_in_days(props.rotation_period_days),
            "kms:EnableKeyRotation"
        )?;
    } else if props.key_spec == "SYMMETRIC_DEFAULT" {
        crate::call!(
            ctx.kms().disable_key_rotation().key_id(id),
            "kms:DisableKeyRotation"
        )?;
    }
    Ok(())
}

/// Makes `alias` point at `key`: creates it, or moves it when it exists (a replaced key).
async fn point_alias(ctx: &AwsContext, alias: &str, key: &str) -> Result<(), AwsError> {
    let created = crate::call!(
        ctx.kms()
            .create_alias()
            .alias_name(alias)
            .target_key_id(key),
        "kms:CreateAlias"
    );
    match created {
        Err(err)
            if err.is(ErrorKind::Conflict)
                || err.code.as_deref() == Some("AlreadyExistsException") =>
        {
            crate::call!(
                ctx.kms()
                    .update_alias()
                    .alias_name(alias)
                    .target_key_id(key),
                "kms:UpdateAlias"
            )?;
            Ok(())
        }
        other => other.map(|_| ()),
    }
}

async fn delete_alias(ctx: &AwsContext, alias: &str) -> Result<(), AwsError> {
    absent_if_not_found(crate::call!(
        ctx.kms().delete_alias().alias_name(alias),
        "kms:DeleteAlias"
    ))?;
    Ok(())
}
