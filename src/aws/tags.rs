//! Stack tags: how discovery reads them and how creates and updates write them.

use crate::aws::pages::AllPages;
use std::collections::BTreeMap;

pub use crate::model::identity::{address_for, claimed_address, is_stack_tagged, orphan_address};
use crate::model::{LiveResource, Props, TAG_STACK, Tags};

crate::sdk_client!(tagging: aws_sdk_resourcegroupstagging);

/// Brings a resource's tags from `before` to `after` with its service's own calls: `set`
/// adds or changes tags, `remove` drops keys; each runs only when there is something to do.
/// Keys AWS reserves (`aws:*`) are never touched.
pub async fn sync<SetFuture, RemoveFuture>(
    before: &Tags,
    after: &Tags,
    set: impl FnOnce(Tags) -> SetFuture,
    remove: impl FnOnce(Vec<String>) -> RemoveFuture,
) -> Result<(), super::AwsError>
where
    SetFuture: std::future::Future<Output = Result<(), super::AwsError>>,
    RemoveFuture: std::future::Future<Output = Result<(), super::AwsError>>,
{
    let changed: Tags = after
        .iter()
        .filter(|(k, v)| before.get(*k) != Some(v))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let removed: Vec<String> = before
        .keys()
        .filter(|k| !after.contains_key(*k) && !k.starts_with("aws:"))
        .cloned()
        .collect();
    if !changed.is_empty() {
        set(changed).await?;
    }
    if !removed.is_empty() {
        remove(removed).await?;
    }
    Ok(())
}

/// `sync` with a service's own tag and untag requests, each written as its request builder
/// up to the last setter (`tag(set) => ctx.sns().tag_resource().resource_arn(arn)
/// .set_tags(Some(sdk_tags!(Tag, set, "sns")?)), "sns:TagResource"`): sent, and its error
/// named by the operation.
macro_rules! sync_tags {
    (
        $before:expr, $after:expr,
        tag($set:ident) => $tag:expr, $tag_operation:literal,
        untag($keys:ident) => $untag:expr, $untag_operation:literal $(,)?
    ) => {
        $crate::aws::tags::sync(
            $before,
            $after,
            |$set| async move {
                $tag.send()
                    .await
                    .map(|_| ())
                    .map_err($crate::aws::error::aws($tag_operation))
            },
            |$keys| async move {
                $untag
                    .send()
                    .await
                    .map(|_| ())
                    .map_err($crate::aws::error::aws($untag_operation))
            },
        )
    };
}
pub(crate) use sync_tags;

/// The tag list of one service's SDK from `tags`, made by its `Tag` builder: without a
/// service name (`sdk_tags!(Tag, tags)`) for SDKs whose builder cannot fail, with one
/// (`sdk_tags!(Tag, tags, "sns")?`) for those whose builder checks its fields, its refusal
/// named by the service.
macro_rules! sdk_tags {
    ($tag:ty, $tags:expr) => {
        $tags
            .iter()
            .map(|(k, v)| <$tag>::builder().key(k).value(v).build())
            .collect::<Vec<_>>()
    };
    ($tag:ty, $tags:expr, $service:literal) => {
        $tags
            .iter()
            .map(|(k, v)| {
                <$tag>::builder()
                    .key(k)
                    .value(v)
                    .build()
                    .map_err(|e| $crate::aws::error::unbuildable($service, e))
            })
            .collect::<Result<Vec<_>, $crate::aws::AwsError>>()
    };
}
pub(crate) use sdk_tags;

/// A resource found by its unique name: the stack's own when stack-tagged (its address
/// from its tags), an unmanaged one when the blueprint declares that name, otherwise not
/// the stack's business (`None`).
pub fn classify_named(
    scope: &super::provider::Scope<'_>,
    id: &str,
    arn: Option<&str>,
    props: Props,
    tags: Tags,
) -> Option<LiveResource> {
    let kind = props.kind();
    let stack_tagged = is_stack_tagged(&tags, &scope.ctx.stack);
    let address = if stack_tagged {
        address_for(kind, &tags, id)
    } else {
        scope
            .desired
            .resources
            .values()
            .find(|r| r.address.kind == kind && r.props.aws_name() == props.aws_name())?
            .address
            .clone()
    };
    Some(LiveResource {
        address,
        id: id.to_string(),
        arn: arn.map(str::to_string),
        props,
        tags,
        unmanaged: !stack_tagged,
        unobserved: Default::default(),
        pending: Vec::new(),
    })
}

pub fn from_pairs<'a>(pairs: impl IntoIterator<Item = (Option<&'a str>, Option<&'a str>)>) -> Tags {
    pairs
        .into_iter()
        .filter_map(|(k, v)| Some((k?.to_string(), v.unwrap_or_default().to_string())))
        .collect::<BTreeMap<_, _>>()
}

/// Every resource tagged with the stack, as (ARN, tags), from the Resource Groups Tagging
/// API: one paginated call covering services whose own list calls cannot filter by tag.
/// The tag index is eventually consistent, so callers also look resources up by name.
pub async fn stack_tagged_resources(
    ctx: &super::AwsContext,
) -> Result<Vec<(String, Tags)>, super::AwsError> {
    let list = || {
        ctx.tagging()
            .get_resources()
            .tag_filters(
                aws_sdk_resourcegroupstagging::types::TagFilter::builder()
                    .key(TAG_STACK)
                    .values(&ctx.stack)
                    .build(),
            )
            .into_paginator()
            .items()
            .send()
            .all("tag:GetResources")
    };
    // A page token can expire, or be spent by a retried request whose first answer was
    // lost: the listing then starts over (a few times at most).
    let mut restarts = 0;
    let pages = loop {
        match list().await {
            Err(e)
                if e.code.as_deref() == Some("PaginationTokenExpiredException") && restarts < 3 =>
            {
                restarts += 1;
            }
            other => break other?,
        }
    };
    Ok(pages
        .iter()
        .filter_map(|m| {
            let tags = from_pairs(m.tags().iter().map(|t| (Some(t.key()), Some(t.value()))));
            Some((m.resource_arn()?.to_string(), tags))
        })
        .collect())
}
