//! S3 buckets that hold the stack's audit logs: SSE-KMS default encryption, all four
//! public access blocks, versioning, a bucket policy and an expiry lifecycle rule.
//!
//! Discovery: one ListBuckets pass; only buckets the blueprint names or named like the
//! stack's (`<stack>-...`) in this region are read further. S3 has no call that returns a
//! bucket's configuration at once, so each of those costs one read per setting
//! (encryption, public access block, versioning, policy, lifecycle) plus its tags when the
//! tagging index does not list it.

use aws_sdk_s3::types::{
    BucketLifecycleConfiguration, BucketVersioningStatus, Delete, ExpirationStatus,
    LifecycleExpiration, LifecycleRule, LifecycleRuleFilter, NoncurrentVersionExpiration,
    ObjectIdentifier, PublicAccessBlockConfiguration, ServerSideEncryption,
    ServerSideEncryptionByDefault, ServerSideEncryptionConfiguration, ServerSideEncryptionRule,
    Tag, Tagging, VersioningConfiguration,
};
use std::collections::BTreeSet;

use crate::aws::pages::bounded;

use super::AwsContext;
use super::error::{
    AwsError, AwsResult, ErrorKind, absent_if_not_found, aws, not_managed, unbuildable,
};
use super::provider::{Created, Delete as Deletion, Ids, Provider, Scope, Update};
use super::tags::classify_named;
use super::tags::sdk_tags;
use crate::model::{BucketProps, Kind, LiveResource, Props, Ref, Resource, Tags, changed};
use crate::naming;

crate::provider!(S3, "s3", s3: aws_sdk_s3);

/// The lifecycle rule secinfra owns; the bucket's lifecycle configuration is secinfra's.
const EXPIRY_RULE: &str = "secinfra-expire";

fn bucket_arn(ctx: &AwsContext, name: &str) -> String {
    format!("arn:{}:s3:::{name}", ctx.partition)
}

#[async_trait::async_trait]
impl Provider for S3 {
    async fn discover(&self, scope: &Scope<'_>) -> AwsResult<Vec<LiveResource>> {
        let ctx = scope.ctx;
        let indexed = scope.tagged_in("s3").await?;
        let buckets = crate::all_pages!(ctx.s3().list_buckets(), "s3:ListBuckets").await?;
        let declared: Vec<&str> = scope
            .desired
            .resources
            .values()
            .filter(|r| r.address.kind == Kind::S3Bucket)
            .filter_map(|r| r.props.aws_name())
            .collect();
        let prefix = format!("{}-", ctx.stack);
        let candidates: Vec<String> = buckets
            .iter()
            .filter(|b| b.bucket_region().is_none_or(|r| r == ctx.region))
            .filter_map(|b| b.name())
            .filter(|n| n.starts_with(&prefix) || declared.contains(n))
            .map(str::to_string)
            .collect();
        let found = bounded(candidates.iter().map(|name| async {
            let arn = bucket_arn(ctx, name);
            let tags = match indexed.get(&arn) {
                Some(tags) => tags.clone(),
                None => bucket_tags(ctx, name).await?,
            };
            // Not the stack's and not declared: no further reads.
            let untagged = tags.is_empty();
            let Some(mut live) = classify_named(scope, name, Some(&arn), placeholder(name), tags)
            else {
                return Ok(None);
            };
            // CreateBucket takes no tags; a bucket under the stack's own default name
            // with no tags at all is the stack's, stopped between creating and tagging.
            if untagged && *name == naming::trail_bucket_name(&ctx.stack, &ctx.account) {
                live.unmanaged = false;
            }
            let (props, unobserved) = read_bucket(ctx, name).await?;
            live.props = Props::S3Bucket(props);
            live.unobserved = unobserved;
            Ok::<_, AwsError>(Some(live))
        }))
        .await?;
        Ok(found.into_iter().flatten().collect())
    }

    async fn create(&self, ctx: &AwsContext, resource: &Resource, ids: &Ids) -> AwsResult<Created> {
        let Props::S3Bucket(props) = &resource.props else {
            return Err(not_managed("s3", &resource.address));
        };
        create_bucket(ctx, &props.name).await?;
        // CreateBucket takes no tags: tag at once, so a crash leaves a bucket found
        // by its declared name at worst.
        put_tags(ctx, &props.name, &resource.tags).await?;
        put_public_access_block(ctx, props).await?;
        put_encryption(ctx, props, ids).await?;
        put_versioning(ctx, props).await?;
        put_policy(ctx, props).await?;
        put_lifecycle(ctx, props).await?;
        Ok(Created {
            id: props.name.clone(),
            arn: Some(bucket_arn(ctx, &props.name)),
        })
    }

    async fn update(&self, ctx: &AwsContext, change: Update<'_>) -> AwsResult<()> {
        let (desired, diffs, ids) = (change.desired, change.diffs, change.ids);
        let Props::S3Bucket(props) = &desired.props else {
            return Err(not_managed("s3", &desired.address));
        };
        if [
            "block_public_acls",
            "ignore_public_acls",
            "block_public_policy",
            "restrict_public_buckets",
        ]
        .iter()
        .any(|f| changed(diffs, f))
        {
            put_public_access_block(ctx, props).await?;
        }
        if changed(diffs, "kms_key") {
            put_encryption(ctx, props, ids).await?;
        }
        if changed(diffs, "versioning") {
            put_versioning(ctx, props).await?;
        }
        if changed(diffs, "policy") {
            put_policy(ctx, props).await?;
        }
        if changed(diffs, "expire_days") {
            put_lifecycle(ctx, props).await?;
        }
        if changed(diffs, "tags") {
            put_tags(ctx, &props.name, &desired.tags).await?;
        }
        Ok(())
    }

    async fn delete(&self, ctx: &AwsContext, gone: Deletion<'_>) -> AwsResult<()> {
        let Deletion {
            live,
            options: _,
            ids: _,
        } = gone;
        empty_bucket(ctx, &live.id).await?;
        crate::call!(ctx.s3().delete_bucket().bucket(&live.id), "s3:DeleteBucket")?;
        Ok(())
    }
}

/// Props for classification before the bucket's settings are read.
fn placeholder(name: &str) -> Props {
    Props::S3Bucket(BucketProps {
        name: name.to_string(),
        kms_key: None,
        block_public_acls: false,
        ignore_public_acls: false,
        block_public_policy: false,
        restrict_public_buckets: false,
        versioning: false,
        policy: serde_json::Value::Null,
        expire_days: None,
    })
}

async fn bucket_tags(ctx: &AwsContext, name: &str) -> Result<Tags, AwsError> {
    let out = absent_if_not_found(crate::call!(
        ctx.s3().get_bucket_tagging().bucket(name),
        "s3:GetBucketTagging"
    ))?;
    Ok(out
        .map(|o| {
            o.tag_set()
                .iter()
                .map(|t| (t.key().to_string(), t.value().to_string()))
                .collect()
        })
        .unwrap_or_default())
}

/// The bucket's settings, and those whose answer could not be read (not compared).
async fn read_bucket(
    ctx: &AwsContext,
    name: &str,
) -> Result<(BucketProps, BTreeSet<String>), AwsError> {
    let (encryption, block, versioning, policy, lifecycle) = tokio::try_join!(
        async {
            absent_if_not_found(crate::call!(
                ctx.s3().get_bucket_encryption().bucket(name),
                "s3:GetBucketEncryption"
            ))
        },
        async {
            absent_if_not_found(crate::call!(
                ctx.s3().get_public_access_block().bucket(name),
                "s3:GetPublicAccessBlock"
            ))
        },
        async {
            match crate::call!(
                ctx.s3().get_bucket_versioning().bucket(name),
                "s3:GetBucketVersioning"
            ) {
                Ok(out) => Ok(Some(out)),
                Err(e) if e.is(ErrorKind::Unreadable) => Ok(None),
                Err(e) => Err(e),
            }
        },
        async {
            absent_if_not_found(crate::call!(
                ctx.s3().get_bucket_policy().bucket(name),
                "s3:GetBucketPolicy"
            ))
        },
        async {
            absent_if_not_found(crate::call!(
                ctx.s3().get_bucket_lifecycle_configuration().bucket(name),
                "s3:GetBucketLifecycleConfiguration"
            ))
        },
    )?;
    let kms_key = encryption
        .as_ref()
        .and_then(|e| e.server_side_encryption_configuration())
        .and_then(|c| c.rules().first())
        .and_then(|r| r.apply_server_side_encryption_by_default())
        .filter(|d| d.sse_algorithm() == &ServerSideEncryption::AwsKms)
        .and_then(|d| d.kms_master_key_id())
        .map(|k| Ref::External(k.to_string()));
    let block = block
        .as_ref()
        .and_then(|b| b.public_access_block_configuration());
    let flag = |get: fn(&PublicAccessBlockConfiguration) -> Option<bool>| {
        block.and_then(get).unwrap_or(false)
    };
    let policy = match policy.as_ref().and_then(|p| p.policy()) {
        Some(document) => crate::policy::parse(document).map_err(|e| {
            AwsError::new(
                "s3:GetBucketPolicy",
                ErrorKind::Other,
                format!("the bucket policy is not JSON: {e}"),
            )
        })?,
        None => serde_json::Value::Null,
    };
    let expire_days = lifecycle.as_ref().and_then(|l| {
        l.rules()
            .iter()
            .find(|r| r.id() == Some(EXPIRY_RULE) && r.status() == &ExpirationStatus::Enabled)
            .and_then(|r| r.expiration())
            .and_then(|e| e.days())
    });
    let mut unobserved = BTreeSet::new();
    if versioning.is_none() {
        unobserved.insert("versioning".to_string());
    }
    let props = BucketProps {
        name: name.to_string(),
        kms_key,
        block_public_acls: flag(PublicAccessBlockConfiguration::block_public_acls),
        ignore_public_acls: flag(PublicAccessBlockConfiguration::ignore_public_acls),
        block_public_policy: flag(PublicAccessBlockConfiguration::block_public_policy),
        restrict_public_buckets: flag(PublicAccessBlockConfiguration::restrict_public_buckets),
        versioning: versioning
            .as_ref()
            .is_some_and(|v| v.status() == Some(&BucketVersioningStatus::Enabled)),
        policy,
        expire_days,
    };
    Ok((props, unobserved))
}

async fn put_tags(ctx: &AwsContext, name: &str, tags: &Tags) -> Result<(), AwsError> {
    let set = sdk_tags!(Tag, tags, "s3")?;
    ctx.s3()
        .put_bucket_tagging()
        .bucket(name)
        .tagging(
            Tagging::builder()
                .set_tag_set(Some(set))
                .build()
                .map_err(|e| unbuildable("s3", e))?,
        )
        .send()
        .await
        .map_err(aws("s3:PutBucketTagging"))?;
    Ok(())
}

/// Creates a bucket in the context's region (us-east-1 is the default location and may
/// not be named).
pub async fn create_bucket(ctx: &AwsContext, name: &str) -> Result<(), AwsError> {
    let mut create = ctx.s3().create_bucket().bucket(name);
    if ctx.region != "us-east-1" {
        create = create.create_bucket_configuration(
            aws_sdk_s3::types::CreateBucketConfiguration::builder()
                .location_constraint(ctx.region.as_str().into())
                .build(),
        );
    }
    create.send().await.map_err(aws("s3:CreateBucket"))?;
    Ok(())
}

async fn put_public_access_block(ctx: &AwsContext, props: &BucketProps) -> Result<(), AwsError> {
    block_public_access(
        ctx,
        &props.name,
        PublicAccessBlockConfiguration::builder()
            .block_public_acls(props.block_public_acls)
            .ignore_public_acls(props.ignore_public_acls)
            .block_public_policy(props.block_public_policy)
            .restrict_public_buckets(props.restrict_public_buckets)
            .build(),
    )
    .await
}

/// Sets a bucket's public access block (`all_public_access_blocked()` for a private one).
pub async fn block_public_access(
    ctx: &AwsContext,
    name: &str,
    blocks: PublicAccessBlockConfiguration,
) -> Result<(), AwsError> {
    crate::call!(
        ctx.s3()
            .put_public_access_block()
            .bucket(name)
            .expected_bucket_owner(&ctx.account)
            .public_access_block_configuration(blocks),
        "s3:PutPublicAccessBlock"
    )?;
    Ok(())
}

/// All four public access blocks on.
pub fn all_public_access_blocked() -> PublicAccessBlockConfiguration {
    PublicAccessBlockConfiguration::builder()
        .block_public_acls(true)
        .ignore_public_acls(true)
        .block_public_policy(true)
        .restrict_public_buckets(true)
        .build()
}

async fn put_encryption(ctx: &AwsContext, props: &BucketProps, ids: &Ids) -> Result<(), AwsError> {
    let key = props.kms_key.as_ref().map(|key| ids.arn(key)).transpose()?;
    encrypt_by_default(ctx, &props.name, key).await
}

/// Sets a bucket's default encryption: SSE-KMS with `kms_key` (an ARN), else SSE-S3.
/// Like every call here on a bucket secinfra owns, it names the expected owner, so a
/// bucket of the same name in another account is never written to.
pub async fn encrypt_by_default(
    ctx: &AwsContext,
    name: &str,
    kms_key: Option<String>,
) -> Result<(), AwsError> {
    let with_key = kms_key.is_some();
    let default = match kms_key {
        Some(key) => ServerSideEncryptionByDefault::builder()
            .sse_algorithm(ServerSideEncryption::AwsKms)
            .kms_master_key_id(key),
        None => {
            ServerSideEncryptionByDefault::builder().sse_algorithm(ServerSideEncryption::Aes256)
        }
    };
    let rule = ServerSideEncryptionRule::builder()
        .apply_server_side_encryption_by_default(default.build().map_err(|e| unbuildable("s3", e))?)
        // S3 Bucket Keys cut KMS requests (and cost) for log-heavy buckets.
        .bucket_key_enabled(with_key)
        .build();
    ctx.s3()
        .put_bucket_encryption()
        .bucket(name)
        .expected_bucket_owner(&ctx.account)
        .server_side_encryption_configuration(
            ServerSideEncryptionConfiguration::builder()
                .rules(rule)
                .build()
                .map_err(|e| unbuildable("s3", e))?,
        )
        .send()
        .await
        .map_err(aws("s3:PutBucketEncryption"))?;
    Ok(())
}

async fn put_versioning(ctx: &AwsContext, props: &BucketProps) -> Result<(), AwsError> {
    let status = if props.versioning {
        BucketVersioningStatus::Enabled
    } else {
        BucketVersioningStatus::Suspended
    };
    crate::call!(
        ctx.s3()
            .put_bucket_versioning()
            .bucket(&props.name)
            .versioning_configuration(VersioningConfiguration::builder().status(status).build()),
        "s3:PutBucketVersioning"
    )?;
    Ok(())
}

async fn put_policy(ctx: &AwsContext, props: &BucketProps) -> Result<(), AwsError> {
    if props.policy.is_null() {
        crate::call!(
            ctx.s3().delete_bucket_policy().bucket(&props.name),
            "s3:DeleteBucketPolicy"
        )?;
        return Ok(());
    }
    set_policy(ctx, &props.name, &props.policy).await
}

/// Puts a bucket's policy.
pub async fn set_policy(
    ctx: &AwsContext,
    name: &str,
    policy: &serde_json::Value,
) -> Result<(), AwsError> {
    crate::call!(
        ctx.s3()
            .put_bucket_policy()
            .bucket(name)
            .expected_bucket_owner(&ctx.account)
            .policy(policy.to_string()),
        "s3:PutBucketPolicy"
    )?;
    Ok(())
}

async fn put_lifecycle(ctx: &AwsContext, props: &BucketProps) -> Result<(), AwsError> {
    let Some(days) = props.expire_days else {
        crate::call!(
            ctx.s3().delete_bucket_lifecycle().bucket(&props.name),
            "s3:DeleteBucketLifecycle"
        )?;
        return Ok(());
    };
    let rule = LifecycleRule::builder()
        .id(EXPIRY_RULE)
        .status(ExpirationStatus::Enabled)
        .filter(LifecycleRuleFilter::builder().prefix("").build())
        .expiration(LifecycleExpiration::builder().days(days).build())
        .noncurrent_version_expiration(
            NoncurrentVersionExpiration::builder()
                .noncurrent_days(days)
                .build(),
        )
        .build()
        .map_err(|e| unbuildable("s3", e))?;
    ctx.s3()
        .put_bucket_lifecycle_configuration()
        .bucket(&props.name)
        .lifecycle_configuration(
            BucketLifecycleConfiguration::builder()
                .rules(rule)
                .build()
                .map_err(|e| unbuildable("s3", e))?,
        )
        .send()
        .await
        .map_err(aws("s3:PutBucketLifecycleConfiguration"))?;
    Ok(())
}

/// Deletes every object version and delete marker (S3 refuses to delete a bucket that
/// holds any): one ListObjectVersions page (up to 1000) and one DeleteObjects per round.
async fn empty_bucket(ctx: &AwsContext, name: &str) -> Result<(), AwsError> {
    let (mut key_marker, mut version_marker) = (None, None);
    loop {
        let page = crate::call!(
            ctx.s3()
                .list_object_versions()
                .bucket(name)
                .set_key_marker(key_marker.take())
                .set_version_id_marker(version_marker.take()),
            "s3:ListObjectVersions"
        )?;
        let versions = page.versions().iter().map(|v| (v.key(), v.version_id()));
        let markers = page
            .delete_markers()
            .iter()
            .map(|m| (m.key(), m.version_id()));
        let objects: Vec<ObjectIdentifier> = versions
            .chain(markers)
            .filter_map(|(key, version)| {
                ObjectIdentifier::builder()
                    .key(key?)
                    .set_version_id(version.map(str::to_string))
                    .build()
                    .ok()
            })
            .collect();
        if !objects.is_empty() {
            ctx.s3()
                .delete_objects()
                .bucket(name)
                .delete(
                    Delete::builder()
                        .set_objects(Some(objects))
                        .quiet(true)
                        .build()
                        .map_err(|e| unbuildable("s3", e))?,
                )
                .send()
                .await
                .map_err(aws("s3:DeleteObjects"))?;
        }
        if page.is_truncated() != Some(true) {
            return Ok(());
        }
        key_marker = page.next_key_marker().map(str::to_string);
        version_marker = page.next_version_id_marker().map(str::to_string);
    }
}

/// An object's bytes and ETag, or `None` when there is no such object (or bucket).
pub async fn get_object(
    ctx: &AwsContext,
    bucket: &str,
    key: &str,
) -> Result<Option<(Vec<u8>, String)>, AwsError> {
    let got = crate::call!(
        ctx.s3()
            .get_object()
            .bucket(bucket)
            .expected_bucket_owner(&ctx.account)
            .key(key),
        "s3:GetObject"
    );
    let out = match got {
        Ok(out) => out,
        Err(e) if e.is(ErrorKind::NotFound) => return Ok(None),
        Err(e) => return Err(e),
    };
    let etag = out.e_tag().unwrap_or_default().to_string();
    let body = out
        .body
        .collect()
        .await
        .map_err(|e| AwsError::new("s3:GetObject", ErrorKind::Connection, e.to_string()))?;
    Ok(Some((body.into_bytes().to_vec(), etag)))
}

/// When a conditional write may go ahead.
pub enum Condition<'a> {
    /// Only if there is no such object.
    Absent,
    /// Only if the object is still the copy with this ETag.
    Matches(&'a str),
}

/// Writes a JSON object if the condition holds (S3 conditional writes: "Add preconditions
/// to S3 operations with conditional requests",
/// https://docs.aws.amazon.com/AmazonS3/latest/userguide/conditional-requests.html): the
/// new ETag, or `None` when it did not hold.
pub async fn put_object_if(
    ctx: &AwsContext,
    bucket: &str,
    key: &str,
    body: Vec<u8>,
    condition: Condition<'_>,
) -> Result<Option<String>, AwsError> {
    let request = ctx
        .s3()
        .put_object()
        .bucket(bucket)
        .expected_bucket_owner(&ctx.account)
        .key(key)
        .content_type("application/json")
        .body(aws_sdk_s3::primitives::ByteStream::from(body));
    let request = match condition {
        Condition::Absent => request.if_none_match("*"),
        Condition::Matches(etag) => request.if_match(etag),
    };
    match request.send().await.map_err(aws("s3:PutObject")) {
        Ok(out) => Ok(Some(out.e_tag().unwrap_or_default().to_string())),
        // 412: the condition failed; 409: another conditional write was in flight.
        Err(e)
            if matches!(
                e.code.as_deref(),
                Some("PreconditionFailed" | "ConditionalRequestConflict")
            ) =>
        {
            Ok(None)
        }
        Err(e) => Err(e),
    }
}
