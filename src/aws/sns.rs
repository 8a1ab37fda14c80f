//! SNS topics: the topic alarms notify, encrypted with a KMS key, its topic policy, and
//! who it notifies (e-mail addresses and HTTPS endpoints).
//!
//! Discovery: one paginated ListTopics; a topic is the stack's when the tagging index
//! lists it with the stack tag or, for topics named `<stack>-...` it does not list yet,
//! when ListTagsForResource says so. The stack's topics (and declared ones) are then read
//! with GetTopicAttributes and ListSubscriptionsByTopic.
//!
//! A subscription waits for its endpoint to confirm it. One declared and unconfirmed is
//! noted in plans; one no longer declared and unconfirmed cannot be deleted (AWS deletes
//! it after 48 hours, <https://docs.aws.amazon.com/sns/latest/dg/sns-delete-subscription-topic.html>),
//! so it is noted instead of compared.

use std::collections::{BTreeMap, BTreeSet};

use aws_sdk_sns::types::Tag;

use super::AwsContext;
use super::error::{AwsError, AwsResult, ErrorKind, absent_if_not_found, aws, not_managed};
use super::pages::bounded;
use super::provider::{Created, Delete, Ids, Provider, Scope, Update};
use super::tags::sdk_tags;
use super::tags::{classify_named, from_pairs, sync_tags};
use crate::model::{LiveResource, Props, Ref, Resource, SnsTopicProps, Tags, changed};

crate::provider!(Sns, "sns", sns: aws_sdk_sns);

/// What ListSubscriptionsByTopic answers for a subscription its endpoint has not confirmed.
const PENDING: &str = "PendingConfirmation";

/// A subscription as the blueprint and plans write it: an e-mail address, an HTTPS URL,
/// or `protocol:endpoint` for the other protocols (found live, never declared).
fn subscription_entry(protocol: &str, endpoint: &str) -> String {
    match protocol {
        "email" | "https" => endpoint.to_string(),
        other => format!("{other}:{endpoint}"),
    }
}

/// The protocol and endpoint of a subscription entry (see `subscription_entry`).
fn subscription_target(entry: &str) -> (&str, &str) {
    if entry.starts_with("https://") {
        return ("https", entry);
    }
    match entry.split_once(':') {
        Some((protocol, endpoint)) if !protocol.contains('@') => (protocol, endpoint),
        _ => ("email", entry),
    }
}

#[async_trait::async_trait]
impl Provider for Sns {
    async fn discover(&self, scope: &Scope<'_>) -> AwsResult<Vec<LiveResource>> {
        let ctx = scope.ctx;
        let indexed = scope.tagged_in("sns").await?;
        let topics = crate::all_pages!(ctx.sns().list_topics(), "sns:ListTopics").await?;
        let found = bounded(topics.iter().filter_map(|t| t.topic_arn()).map(|arn| {
            let indexed = &indexed;
            async move {
                let name = arn.rsplit(':').next().unwrap_or(arn);
                let tags = scope
                    .tags_of_named(indexed, name, arn, || topic_tags(ctx, arn))
                    .await?
                    .unwrap_or_default();
                let placeholder = Props::SnsTopic(SnsTopicProps {
                    name: name.to_string(),
                    kms_key: None,
                    policy: serde_json::Value::Null,
                    subscriptions: BTreeSet::new(),
                });
                let Some(mut live) = classify_named(scope, arn, Some(arn), placeholder, tags)
                else {
                    return Ok(None);
                };
                // Deleted between the listing and now: nothing to report.
                let Some((props, pending)) = read_topic(scope, &live, arn, name).await? else {
                    return Ok(None);
                };
                live.props = Props::SnsTopic(props);
                live.pending = pending;
                Ok::<_, AwsError>(Some(live))
            }
        }))
        .await?;
        Ok(found.into_iter().flatten().collect())
    }

    async fn create(&self, ctx: &AwsContext, resource: &Resource, ids: &Ids) -> AwsResult<Created> {
        let Props::SnsTopic(props) = &resource.props else {
            return Err(not_managed("sns", &resource.address));
        };
        let mut attributes = BTreeMap::from([("Policy", props.policy.to_string())]);
        if let Some(key) = &props.kms_key {
            attributes.insert("KmsMasterKeyId", ids.arn_or_id(key)?);
        }
        // CreateTopic answers a repeat with the existing topic's ARN (same name and
        // attributes), so a create whose answer was lost is safe to send again.
        let out = ctx
            .sns()
            .create_topic()
            .name(&props.name)
            .set_attributes(Some(
                attributes
                    .into_iter()
                    .map(|(k, v)| (k.to_string(), v))
                    .collect(),
            ))
            .set_tags(Some(sdk_tags!(Tag, resource.tags, "sns")?))
            .send()
            .await
            .map_err(aws("sns:CreateTopic"))?;
        let arn = out.topic_arn().unwrap_or_default().to_string();
        for entry in &props.subscriptions {
            subscribe(ctx, &arn, entry).await?;
        }
        Ok(Created {
            id: arn.clone(),
            arn: Some(arn),
        })
    }

    async fn update(&self, ctx: &AwsContext, change: Update<'_>) -> AwsResult<()> {
        let (live, desired, diffs, ids) = (change.live, change.desired, change.diffs, change.ids);
        let (Props::SnsTopic(have), Props::SnsTopic(want)) = (&live.props, &desired.props) else {
            return Err(not_managed("sns", &desired.address));
        };
        let arn = live.id.as_str();
        if changed(diffs, "kms_key") {
            // An empty key id turns server-side encryption off.
            let key = match &want.kms_key {
                Some(key) => ids.arn_or_id(key)?,
                None => String::new(),
            };
            set_attribute(ctx, arn, "KmsMasterKeyId", key).await?;
        }
        if changed(diffs, "policy") {
            set_attribute(ctx, arn, "Policy", want.policy.to_string()).await?;
        }
        if changed(diffs, "subscriptions") {
            sync_subscriptions(ctx, arn, &have.subscriptions, &want.subscriptions).await?;
        }
        if changed(diffs, "tags") {
            sync_tags!(
                &live.tags,
                &desired.tags,
                tag(set) => ctx.sns().tag_resource().resource_arn(arn).set_tags(Some(sdk_tags!(Tag, set, "sns")?)),
                "sns:TagResource",
                untag(keys) => ctx.sns().untag_resource().resource_arn(arn).set_tag_keys(Some(keys)),
                "sns:UntagResource",
            )
            .await?;
        }
        Ok(())
    }

    async fn delete(&self, ctx: &AwsContext, gone: Delete<'_>) -> AwsResult<()> {
        let live = gone.live;
        // Deleting a topic deletes its subscriptions with it.
        absent_if_not_found(crate::call!(
            ctx.sns().delete_topic().topic_arn(&live.id),
            "sns:DeleteTopic"
        ))
        .map_err(|e| e.at(&live.address))?;
        Ok(())
    }
}

async fn topic_tags(ctx: &AwsContext, arn: &str) -> Result<Tags, AwsError> {
    let out = crate::call!(
        ctx.sns().list_tags_for_resource().resource_arn(arn),
        "sns:ListTagsForResource"
    )?;
    Ok(from_pairs(
        out.tags().iter().map(|t| (Some(t.key()), Some(t.value()))),
    ))
}

/// The topic's settings and subscriptions, and notes on subscriptions not confirmed;
/// `None` when the topic is gone.
async fn read_topic(
    scope: &Scope<'_>,
    live: &LiveResource,
    arn: &str,
    name: &str,
) -> Result<Option<(SnsTopicProps, Vec<String>)>, AwsError> {
    let ctx = scope.ctx;
    let attributes = crate::call!(
        ctx.sns().get_topic_attributes().topic_arn(arn),
        "sns:GetTopicAttributes"
    );
    let Some(attributes) = absent_if_not_found(attributes)? else {
        return Ok(None);
    };
    let attributes = attributes.attributes().cloned().unwrap_or_default();
    let policy = match attributes.get("Policy") {
        Some(document) => crate::policy::parse(document).map_err(|e| {
            AwsError::new(
                "sns:GetTopicAttributes",
                ErrorKind::Other,
                format!("the topic policy of {arn} is not JSON: {e}"),
            )
        })?,
        None => serde_json::Value::Null,
    };
    let kms_key = attributes
        .get("KmsMasterKeyId")
        .filter(|k| !k.is_empty())
        .map(|k| Ref::External(k.clone()));
    let subscriptions = topic_subscriptions(ctx, arn).await?;
    let declared: BTreeSet<String> = scope
        .desired
        .resources
        .get(&live.address)
        .and_then(|r| match &r.props {
            Props::SnsTopic(p) => Some(p.subscriptions.clone()),
            _ => None,
        })
        .unwrap_or_default();
    let mut entries = BTreeSet::new();
    let mut pending = Vec::new();
    for (entry, subscription_arn) in subscriptions {
        if subscription_arn.as_deref() == Some(PENDING) {
            if declared.contains(&entry) {
                pending.push(format!(
                    "confirmation pending: {entry} has not confirmed its subscription yet \
                     (AWS sent it a confirmation message; it expires after 48 hours)"
                ));
            } else {
                pending.push(format!(
                    "{entry} is no longer declared but never confirmed its subscription: AWS \
                     cannot delete it, and deletes it on its own 48 hours after it was made"
                ));
                continue;
            }
        }
        entries.insert(entry);
    }
    Ok(Some((
        SnsTopicProps {
            name: name.to_string(),
            kms_key,
            policy,
            subscriptions: entries,
        },
        pending,
    )))
}

/// The topic's subscriptions as entries (see `subscription_entry`), each with its ARN as
/// AWS lists it (`PendingConfirmation` until its endpoint confirms).
async fn topic_subscriptions(
    ctx: &AwsContext,
    arn: &str,
) -> AwsResult<Vec<(String, Option<String>)>> {
    let listed = crate::all_pages!(
        ctx.sns().list_subscriptions_by_topic().topic_arn(arn),
        "sns:ListSubscriptionsByTopic"
    )
    .await?;
    Ok(listed
        .iter()
        .map(|s| {
            let entry = subscription_entry(
                s.protocol().unwrap_or_default(),
                s.endpoint().unwrap_or_default(),
            );
            (entry, s.subscription_arn().map(str::to_string))
        })
        .collect())
}

async fn set_attribute(
    ctx: &AwsContext,
    arn: &str,
    name: &str,
    value: String,
) -> Result<(), AwsError> {
    crate::call!(
        ctx.sns()
            .set_topic_attributes()
            .topic_arn(arn)
            .attribute_name(name)
            .attribute_value(value),
        "sns:SetTopicAttributes"
    )?;
    Ok(())
}

/// Subscribes one endpoint. AWS answers a repeat for an existing subscription with that
/// subscription, so this is safe to send again.
async fn subscribe(ctx: &AwsContext, arn: &str, entry: &str) -> Result<(), AwsError> {
    let (protocol, endpoint) = subscription_target(entry);
    crate::call!(
        ctx.sns()
            .subscribe()
            .topic_arn(arn)
            .protocol(protocol)
            .endpoint(endpoint),
        "sns:Subscribe"
    )?;
    Ok(())
}

/// Adds the wanted subscriptions that are missing and removes the confirmed ones no longer
/// wanted (their ARNs come from a fresh listing: discovery keeps entries only).
async fn sync_subscriptions(
    ctx: &AwsContext,
    arn: &str,
    have: &BTreeSet<String>,
    want: &BTreeSet<String>,
) -> Result<(), AwsError> {
    for entry in want.difference(have) {
        subscribe(ctx, arn, entry).await?;
    }
    let going: BTreeSet<&String> = have.difference(want).collect();
    if going.is_empty() {
        return Ok(());
    }
    let subscriptions = topic_subscriptions(ctx, arn).await?;
    for (entry, subscription_arn) in subscriptions {
        let Some(subscription_arn) = subscription_arn.filter(|a| a.starts_with("arn:")) else {
            continue;
        };
        if going.contains(&entry) {
            absent_if_not_found(crate::call!(
                ctx.sns().unsubscribe().subscription_arn(subscription_arn),
                "sns:Unsubscribe"
            ))?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subscription_entries_read_back_as_their_protocol_and_endpoint() {
        for (protocol, endpoint) in [
            ("email", "security@example.com"),
            ("https", "https://hooks.example.com/alerts?a=b:c"),
            ("sqs", "arn:aws:sqs:us-east-1:123456789012:queue"),
            ("lambda", "arn:aws:lambda:us-east-1:123456789012:function:f"),
        ] {
            let entry = subscription_entry(protocol, endpoint);
            assert_eq!(subscription_target(&entry), (protocol, endpoint), "{entry}");
        }
        assert_eq!(subscription_entry("email", "a@b.c"), "a@b.c");
    }
}
