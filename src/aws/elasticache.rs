//! ElastiCache: cache subnet groups and Redis replication groups (cluster mode disabled).
//!
//! Discovery: one paginated call per kind (DescribeReplicationGroups,
//! DescribeCacheSubnetGroups) plus one DescribeCacheClusters for every member cluster
//! at once: a replication group reports its encryption, failover and node type itself,
//! but its engine version, security groups and subnet group only through its member
//! clusters. When AWS lists none of a group's members, those three fields are unobserved
//! (not compared, and the plan says so). Tags come from the tagging index, or from
//! ListTagsForResource for resources named `<stack>-...` the index does not list yet.
//!
//! The AUTH token is read from its secret at creation only and passed straight to
//! CreateReplicationGroup; AWS never returns it, so it is never compared or shown.
//! Creates, modifications and deletes wait (SDK waiters, bounded) for the group.

use std::collections::{BTreeMap, BTreeSet};

use crate::aws::pages::bounded;
use aws_sdk_elasticache::client::Waiters;
use aws_sdk_elasticache::types::{
    AuthTokenUpdateStrategyType, CacheCluster, CacheSubnetGroup, ReplicationGroup, Tag,
};

use super::AwsContext;
use super::error::{AwsError, AwsResult, ErrorKind, aws, not_managed};
use super::provider::{Created, Delete, Ids, New, Provider, Scope, Update};
use super::tags::sdk_tags;
use super::tags::{classify_named, from_pairs, sync_tags};
use super::version_as_declared;
use crate::model::{
    CacheReplicationGroupProps, Diff, LiveResource, Props, Ref, Resource, SubnetGroupProps, Tags,
    changed,
};

crate::provider!(ElastiCache, "elasticache", elasticache: aws_sdk_elasticache);

/// Punctuation an AUTH token may contain (ElastiCache's rule; letters and digits too).
const AUTH_TOKEN_PUNCTUATION: &str = "!&#$^<>-";

#[async_trait::async_trait]
impl Provider for ElastiCache {
    async fn discover(&self, scope: &Scope<'_>) -> AwsResult<Vec<LiveResource>> {
        let ctx = scope.ctx;
        let indexed = scope.tagged_in("elasticache").await?;
        let (groups, clusters, subnet_groups) = tokio::try_join!(
            crate::all_pages!(
                ctx.elasticache().describe_replication_groups(),
                "elasticache:DescribeReplicationGroups"
            ),
            crate::all_pages!(
                ctx.elasticache().describe_cache_clusters(),
                "elasticache:DescribeCacheClusters"
            ),
            crate::all_pages!(
                ctx.elasticache().describe_cache_subnet_groups(),
                "elasticache:DescribeCacheSubnetGroups"
            ),
        )?;
        let groups = bounded(
            groups
                .iter()
                .map(|g| read_replication_group(scope, &indexed, g, &clusters)),
        );
        let subnet_groups = bounded(
            subnet_groups
                .iter()
                .map(|g| read_subnet_group(scope, &indexed, g)),
        );
        let (groups, subnet_groups) = tokio::try_join!(groups, subnet_groups)?;
        Ok(groups.into_iter().chain(subnet_groups).flatten().collect())
    }

    async fn create(&self, ctx: &AwsContext, resource: &Resource, ids: &Ids) -> AwsResult<Created> {
        let tags = &resource.tags;
        match &resource.props {
            Props::CacheSubnetGroup(props) => {
                create_subnet_group(ctx, New { props, tags, ids }).await
            }
            Props::CacheReplicationGroup(props) => {
                create_replication_group(ctx, New { props, tags, ids }).await
            }
            other => Err(not_managed("elasticache", other.kind())),
        }
    }

    async fn update(&self, ctx: &AwsContext, change: Update<'_>) -> AwsResult<()> {
        let (live, desired, diffs, ids) = (change.live, change.desired, change.diffs, change.ids);
        match (&desired.props, &live.props) {
            (Props::CacheSubnetGroup(want), _) => {
                if diffs.iter().any(|d| d.field() != "tags") {
                    crate::call!(
                        ctx.elasticache()
                            .modify_cache_subnet_group()
                            .cache_subnet_group_name(&want.name)
                            .cache_subnet_group_description(&want.description)
                            .set_subnet_ids(Some(ids.subnet_ids(want)?)),
                        "elasticache:ModifyCacheSubnetGroup"
                    )?;
                }
            }
            (Props::CacheReplicationGroup(want), Props::CacheReplicationGroup(have)) => {
                modify_replication_group(ctx, want, have, diffs, ids).await?;
            }
            (other, _) => return Err(not_managed("elasticache", other.kind())),
        }
        if changed(diffs, "tags") {
            sync_tags(ctx, live, desired).await?;
        }
        Ok(())
    }

    async fn delete(&self, ctx: &AwsContext, gone: Delete<'_>) -> AwsResult<()> {
        let live = gone.live;
        match &live.props {
            Props::CacheSubnetGroup(p) => ctx
                .elasticache()
                .delete_cache_subnet_group()
                .cache_subnet_group_name(&p.name)
                .send()
                .await
                .map(|_| ())
                .map_err(aws("elasticache:DeleteCacheSubnetGroup")),
            Props::CacheReplicationGroup(p) => delete_replication_group(ctx, &p.id).await,
            other => Err(not_managed("elasticache", other.kind())),
        }
    }
}

async fn resource_tags(
    scope: &Scope<'_>,
    indexed: &BTreeMap<String, Tags>,
    name: &str,
    arn: &str,
) -> Result<Option<Tags>, AwsError> {
    scope
        .tags_of_named(indexed, name, arn, || async {
            let out = crate::call!(
                scope
                    .ctx
                    .elasticache()
                    .list_tags_for_resource()
                    .resource_name(arn),
                "elasticache:ListTagsForResource"
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
    group: &CacheSubnetGroup,
) -> Result<Option<LiveResource>, AwsError> {
    let name = group.cache_subnet_group_name().unwrap_or_default();
    let arn = group.arn().map_or_else(
        || {
            scope
                .ctx
                .regional_arn("elasticache", &format!("subnetgroup:{name}"))
        },
        str::to_string,
    );
    let Some(tags) = resource_tags(scope, indexed, name, &arn).await? else {
        return Ok(None);
    };
    let subnets = group.subnets().iter().filter_map(|s| s.subnet_identifier());
    let props = SubnetGroupProps::listed(name, group.cache_subnet_group_description(), subnets);
    let props = Props::CacheSubnetGroup(props);
    Ok(classify_named(scope, name, Some(&arn), props, tags))
}

async fn read_replication_group(
    scope: &Scope<'_>,
    indexed: &BTreeMap<String, Tags>,
    group: &ReplicationGroup,
    clusters: &[CacheCluster],
) -> Result<Option<LiveResource>, AwsError> {
    let ctx = scope.ctx;
    let Some(id) = group.replication_group_id() else {
        return Ok(None);
    };
    let group_arn = group.arn().map_or_else(
        || ctx.regional_arn("elasticache", &format!("replicationgroup:{id}")),
        str::to_string,
    );
    let Some(tags) = resource_tags(scope, indexed, id, &group_arn).await? else {
        return Ok(None);
    };
    let declared = scope
        .desired
        .resources
        .values()
        .find_map(|r| match &r.props {
            Props::CacheReplicationGroup(p) if p.id == id => Some(p),
            _ => None,
        });
    let member = clusters
        .iter()
        .find(|c| c.replication_group_id() == Some(id));
    let mut unobserved = BTreeSet::new();
    if member.is_none() {
        unobserved.extend(["engine_version", "security_groups", "subnet_group"].map(String::from));
    }
    let enabled = |status: Option<&str>| matches!(status, Some("enabled" | "enabling"));
    let props = Props::CacheReplicationGroup(CacheReplicationGroupProps {
        id: id.to_string(),
        description: group.description().unwrap_or_default().to_string(),
        engine: group
            .engine()
            .or_else(|| member.and_then(|m| m.engine()))
            .unwrap_or("redis")
            .to_string(),
        engine_version: version_as_declared(
            member.and_then(|m| m.engine_version()).unwrap_or_default(),
            declared.map(|d| d.engine_version.as_str()),
        ),
        node_type: group.cache_node_type().unwrap_or_default().to_string(),
        nodes: group.member_clusters().len() as i32,
        port: group
            .node_groups()
            .first()
            .and_then(|n| n.primary_endpoint())
            .and_then(|e| e.port())
            .unwrap_or_default(),
        subnet_group: Ref::External(ctx.regional_arn(
            "elasticache",
            &format!(
                "subnetgroup:{}",
                member
                    .and_then(|m| m.cache_subnet_group_name())
                    .unwrap_or_default()
            ),
        )),
        security_groups: member
            .map(|m| {
                m.security_groups()
                    .iter()
                    .filter_map(|g| g.security_group_id())
                    .map(|g| Ref::External(g.to_string()))
                    .collect()
            })
            .unwrap_or_default(),
        transit_encryption: group.transit_encryption_enabled().unwrap_or_default(),
        at_rest_encryption: group.at_rest_encryption_enabled().unwrap_or_default(),
        kms_key: group.kms_key_id().map(|k| Ref::External(k.to_string())),
        auth_token_enabled: group.auth_token_enabled().unwrap_or_default(),
        auth_token: None,
        automatic_failover: enabled(group.automatic_failover().map(|s| s.as_str())),
        multi_az: enabled(group.multi_az().map(|s| s.as_str())),
        snapshot_retention_days: group.snapshot_retention_limit().unwrap_or_default(),
    });
    Ok(
        classify_named(scope, id, Some(&group_arn), props, tags).map(|mut live| {
            live.unobserved = unobserved;
            live
        }),
    )
}

async fn create_subnet_group(
    ctx: &AwsContext,
    new: New<'_, SubnetGroupProps>,
) -> AwsResult<Created> {
    let (group, tags, ids) = (new.props, new.tags, new.ids);
    let out = crate::call!(
        ctx.elasticache()
            .create_cache_subnet_group()
            .cache_subnet_group_name(&group.name)
            .cache_subnet_group_description(&group.description)
            .set_subnet_ids(Some(ids.subnet_ids(group)?))
            .set_tags(Some(sdk_tags!(Tag, tags))),
        "elasticache:CreateCacheSubnetGroup"
    )?;
    Ok(Created {
        id: group.name.clone(),
        arn: Some(out.cache_subnet_group().and_then(|g| g.arn()).map_or_else(
            || ctx.regional_arn("elasticache", &format!("subnetgroup:{}", &group.name)),
            str::to_string,
        )),
    })
}

/// The AUTH token in a secret: its bare value, or the `password` of a JSON value. Checked
/// against ElastiCache's rules here so a bad one fails with the secret's name, never its
/// content.
async fn auth_token(ctx: &AwsContext, secret: &Ref, ids: &Ids) -> Result<String, AwsError> {
    const OPERATION: &str = "secretsmanager:GetSecretValue";
    let secret_id = ids.arn_or_id(secret)?;
    let out = ctx
        .secrets()
        .get_secret_value()
        .secret_id(&secret_id)
        .send()
        .await
        .map_err(aws(OPERATION))?;
    let value = out.secret_string().unwrap_or_default();
    let token = match serde_json::from_str::<serde_json::Value>(value) {
        Ok(serde_json::Value::Object(map)) => map
            .get("password")
            .and_then(|p| p.as_str())
            .unwrap_or_default()
            .to_string(),
        _ => value.to_string(),
    };
    let valid = (16..=128).contains(&token.chars().count())
        && token
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || AUTH_TOKEN_PUNCTUATION.contains(c));
    if !valid {
        return Err(AwsError::new(
            OPERATION,
            ErrorKind::Invalid,
            format!(
                "secret {secret} does not hold a usable Redis AUTH token (16-128 letters, digits \
                 and {AUTH_TOKEN_PUNCTUATION}); the value is not shown"
            ),
        ));
    }
    Ok(token)
}

async fn create_replication_group(
    ctx: &AwsContext,
    new: New<'_, CacheReplicationGroupProps>,
) -> AwsResult<Created> {
    let (group, tags, ids) = (new.props, new.tags, new.ids);
    let security_groups = group
        .security_groups
        .iter()
        .map(|g| ids.id(g))
        .collect::<Result<Vec<_>, _>>()?;
    let token = match &group.auth_token {
        Some(secret) => Some(auth_token(ctx, secret, ids).await?),
        None => None,
    };
    let out = ctx
        .elasticache()
        .create_replication_group()
        .replication_group_id(&group.id)
        .replication_group_description(&group.description)
        .engine(&group.engine)
        .engine_version(&group.engine_version)
        .cache_node_type(&group.node_type)
        // One shard (cluster mode disabled), its replicas the nodes beyond the primary. AWS
        // takes this or NumCacheClusters, never both.
        .num_node_groups(1)
        .replicas_per_node_group(group.nodes - 1)
        .automatic_failover_enabled(group.automatic_failover)
        .multi_az_enabled(group.multi_az)
        .port(group.port)
        .cache_subnet_group_name(ids.name(&group.subnet_group)?)
        .set_security_group_ids(Some(security_groups))
        .transit_encryption_enabled(group.transit_encryption)
        .at_rest_encryption_enabled(group.at_rest_encryption)
        .set_kms_key_id(group.kms_key.as_ref().map(|k| ids.arn(k)).transpose()?)
        .set_auth_token(token)
        .snapshot_retention_limit(group.snapshot_retention_days)
        .set_tags(Some(sdk_tags!(Tag, tags)))
        .send()
        .await
        .map_err(aws("elasticache:CreateReplicationGroup"))?;
    wait_available(ctx, &group.id).await?;
    Ok(Created {
        id: group.id.clone(),
        arn: Some(out.replication_group().and_then(|g| g.arn()).map_or_else(
            || ctx.regional_arn("elasticache", &format!("replicationgroup:{}", &group.id)),
            str::to_string,
        )),
    })
}

async fn modify_replication_group(
    ctx: &AwsContext,
    want: &CacheReplicationGroupProps,
    have: &CacheReplicationGroupProps,
    diffs: &[Diff],
    ids: &Ids,
) -> Result<(), AwsError> {
    if changed(diffs, "nodes") {
        let replicas = want.nodes - 1;
        if want.nodes > have.nodes {
            crate::call!(
                ctx.elasticache()
                    .increase_replica_count()
                    .replication_group_id(&want.id)
                    .new_replica_count(replicas)
                    .apply_immediately(true),
                "elasticache:IncreaseReplicaCount"
            )?;
        } else {
            crate::call!(
                ctx.elasticache()
                    .decrease_replica_count()
                    .replication_group_id(&want.id)
                    .new_replica_count(replicas)
                    .apply_immediately(true),
                "elasticache:DecreaseReplicaCount"
            )?;
        }
        wait_available(ctx, &want.id).await?;
    }
    let settings = [
        "description",
        "engine_version",
        "node_type",
        "security_groups",
        "auth_token_enabled",
        "automatic_failover",
        "multi_az",
        "snapshot_retention_days",
    ];
    if !settings.iter().any(|f| changed(diffs, f)) {
        return Ok(());
    }
    let mut call = ctx
        .elasticache()
        .modify_replication_group()
        .replication_group_id(&want.id)
        .apply_immediately(true);
    if changed(diffs, "description") {
        call = call.replication_group_description(&want.description);
    }
    if changed(diffs, "engine_version") {
        call = call.engine_version(&want.engine_version);
    }
    if changed(diffs, "node_type") {
        call = call.cache_node_type(&want.node_type);
    }
    if changed(diffs, "security_groups") {
        let groups = want
            .security_groups
            .iter()
            .map(|g| ids.id(g))
            .collect::<Result<Vec<_>, _>>()?;
        call = call.set_security_group_ids(Some(groups));
    }
    if changed(diffs, "automatic_failover") {
        call = call.automatic_failover_enabled(want.automatic_failover);
    }
    if changed(diffs, "multi_az") {
        call = call.multi_az_enabled(want.multi_az);
    }
    if changed(diffs, "snapshot_retention_days") {
        call = call.snapshot_retention_limit(want.snapshot_retention_days);
    }
    if changed(diffs, "auth_token_enabled") {
        call = match (&want.auth_token, want.auth_token_enabled) {
            // Adding a token to a group without one is a ROTATE (AWS's rule).
            (Some(secret), true) => call
                .auth_token(auth_token(ctx, secret, ids).await?)
                .auth_token_update_strategy(AuthTokenUpdateStrategyType::Rotate),
            _ => call.auth_token_update_strategy(AuthTokenUpdateStrategyType::Delete),
        };
    }
    call.send()
        .await
        .map_err(aws("elasticache:ModifyReplicationGroup"))?;
    wait_available(ctx, &want.id).await
}

/// A cache is deleted with a final snapshot of its data (kept under AWS's snapshot
/// retention rules until someone deletes it), as a database is: what the plan deletes can
/// still be restored.
/// <https://docs.aws.amazon.com/AmazonElastiCache/latest/APIReference/API_DeleteReplicationGroup.html>
async fn delete_replication_group(ctx: &AwsContext, id: &str) -> Result<(), AwsError> {
    crate::call!(
        ctx.elasticache()
            .delete_replication_group()
            .replication_group_id(id)
            .retain_primary_cluster(false)
            .final_snapshot_identifier(super::final_snapshot_name(id)),
        "elasticache:DeleteReplicationGroup"
    )?;
    crate::wait_until!(
        ctx,
        ctx.data_waiter_timeout,
        ctx.elasticache()
            .wait_until_replication_group_deleted()
            .replication_group_id(id),
        "elasticache:wait ReplicationGroupDeleted"
    )
    .await
}

async fn wait_available(ctx: &AwsContext, id: &str) -> Result<(), AwsError> {
    crate::wait_until!(
        ctx,
        ctx.data_waiter_timeout,
        ctx.elasticache()
            .wait_until_replication_group_available()
            .replication_group_id(id),
        "elasticache:wait ReplicationGroupAvailable"
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
        tag(set) => ctx.elasticache().add_tags_to_resource().resource_name(name).set_tags(Some(sdk_tags!(Tag, set))),
        "elasticache:AddTagsToResource",
        untag(keys) => ctx.elasticache().remove_tags_from_resource().resource_name(name).set_tag_keys(Some(keys)),
        "elasticache:RemoveTagsFromResource",
    )
    .await
}
