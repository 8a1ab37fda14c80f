//! WAFv2 regional web ACLs and the IP sets behind their block lists.
//!
//! Discovery: one marker-paginated ListWebACLs and one ListIPSets; the stack's ACLs and
//! sets are those named `<stack>-...` or listed in the tagging index, and only they are
//! read further (GetWebACL / GetIPSet, tags, logging configuration, associations). Rules are
//! normalised exactly as validation builds them, so a freshly applied ACL compares equal;
//! anything secinfra does not write (a scope-down it does not know, a pinned managed
//! version) shows as a rule of type `other` and is replaced by the declared one.
//!
//! Writes go through WAF's optimistic locking: every update and delete fetches a fresh
//! lock token and is retried once when another writer got there first.

use std::collections::BTreeSet;

use crate::aws::pages::bounded;
use aws_sdk_wafv2::primitives::Blob;
use aws_sdk_wafv2::types::{
    AllowAction, BlockAction, ByteMatchStatement, CountAction, DefaultAction, FieldToMatch,
    GeoMatchStatement, IpAddressVersion, IpSetReferenceStatement, LoggingConfiguration,
    ManagedRuleGroupStatement, NoneAction, OverrideAction, PositionalConstraint,
    RateBasedStatement, RateBasedStatementAggregateKeyType, ResourceType, Rule, RuleAction,
    RuleActionOverride, Scope as WafScope, Statement, Tag, TextTransformation,
    TextTransformationType, UriPath, VisibilityConfig,
};

use super::AwsContext;
use super::error::{AwsError, AwsResult, ErrorKind, absent_if_not_found, not_managed};
use super::pages::all_by_marker;
use super::provider::{Created, Delete, Ids, New, Provider, Scope, Update};
use super::tags::sdk_tags;
use super::tags::{classify_named, from_pairs, sync_tags};
use crate::model::{
    IpSetProps, LiveResource, Props, Ref, Resource, Tags, WafRule, WafStatement, WebAclProps,
    changed,
};

crate::provider!(Waf, "wafv2", waf: aws_sdk_wafv2);

pub(crate) const LOCK_CONFLICT: &str = "WAFOptimisticLockException";

fn invalid(operation: &str, err: impl std::fmt::Display) -> AwsError {
    AwsError::new(operation, ErrorKind::Invalid, err.to_string())
}

/// What discovery keeps of a list entry.
pub(crate) struct Summary {
    pub name: String,
    pub id: String,
    pub arn: String,
}

impl Summary {
    fn of(name: Option<&str>, id: Option<&str>, arn: Option<&str>) -> Option<Summary> {
        Some(Summary {
            name: name?.to_string(),
            id: id?.to_string(),
            arn: arn?.to_string(),
        })
    }
}

#[async_trait::async_trait]
impl Provider for Waf {
    async fn discover(&self, scope: &Scope<'_>) -> AwsResult<Vec<LiveResource>> {
        let ctx = scope.ctx;
        let prefix = format!("{}-", ctx.stack);
        let indexed: Vec<(String, Tags)> = scope
            .tagged()
            .await?
            .iter()
            .filter(|(arn, _)| arn.contains(":wafv2:"))
            .cloned()
            .collect();
        let ours = |s: &Summary| {
            s.name.starts_with(&prefix) || indexed.iter().any(|(arn, _)| arn == &s.arn)
        };
        let (acls, sets) = tokio::try_join!(list_web_acls(ctx), list_ip_sets(ctx))?;
        let acls = bounded(
            acls.into_iter()
                .filter(&ours)
                .map(|s| read_web_acl(scope, s)),
        );
        let sets = bounded(
            sets.into_iter()
                .filter(&ours)
                .map(|s| read_ip_set(scope, s)),
        );
        let (acls, sets) = tokio::try_join!(acls, sets)?;
        Ok(acls.into_iter().chain(sets).flatten().collect())
    }

    async fn create(&self, ctx: &AwsContext, resource: &Resource, ids: &Ids) -> AwsResult<Created> {
        let tags = &resource.tags;
        match &resource.props {
            Props::IpSet(props) => create_ip_set(ctx, New { props, tags, ids }).await,
            Props::WebAcl(props) => create_web_acl(ctx, New { props, tags, ids }).await,
            other => Err(not_managed("wafv2", other.kind())),
        }
    }

    async fn update(&self, ctx: &AwsContext, change: Update<'_>) -> AwsResult<()> {
        let (live, desired, diffs, ids) = (change.live, change.desired, change.diffs, change.ids);
        let arn = live.arn.clone().unwrap_or_default();
        match (&desired.props, &live.props) {
            (Props::IpSet(want), _) if changed(diffs, "addresses") => {
                with_lock_retry(|| update_ip_set(ctx, &live.id, want)).await?;
            }
            (Props::WebAcl(want), Props::WebAcl(have)) => {
                if changed(diffs, "rules")
                    || changed(diffs, "default_action")
                    || changed(diffs, "description")
                {
                    with_lock_retry(|| update_web_acl(ctx, &live.id, want, ids)).await?;
                }
                if changed(diffs, "logging") {
                    set_logging(ctx, &arn, want.logging.as_ref(), ids).await?;
                }
                if changed(diffs, "associations") {
                    let want = want.associations.clone().unwrap_or_default();
                    let have = have.associations.clone().unwrap_or_default();
                    associate(ctx, &arn, want.difference(&have)).await?;
                    disassociate(ctx, have.difference(&want)).await?;
                }
            }
            _ => {}
        }
        if changed(diffs, "tags") {
            let arn = arn.as_str();
            sync_tags!(
                &live.tags,
                &desired.tags,
                tag(set) => ctx.waf().tag_resource().resource_arn(arn).set_tags(Some(sdk_tags!(Tag, set, "wafv2")?)),
                "wafv2:TagResource",
                untag(keys) => ctx.waf().untag_resource().resource_arn(arn).set_tag_keys(Some(keys)),
                "wafv2:UntagResource",
            )
            .await?;
        }
        Ok(())
    }

    async fn delete(&self, ctx: &AwsContext, gone: Delete<'_>) -> AwsResult<()> {
        let live = gone.live;
        match &live.props {
            Props::IpSet(p) => with_lock_retry(|| delete_ip_set(ctx, &live.id, p)).await,
            Props::WebAcl(p) => {
                let arn = live.arn.clone().unwrap_or_default();
                disassociate(ctx, p.associations.iter().flatten()).await?;
                absent_if_not_found(crate::call!(
                    ctx.waf().delete_logging_configuration().resource_arn(&arn),
                    "wafv2:DeleteLoggingConfiguration"
                ))?;
                match with_lock_retry(|| delete_web_acl(ctx, &live.id, p)).await {
                    // Still protecting something the blueprint does not name (AWS
                    // refuses to delete an ACL in use; discovery reads associations
                    // only of ACLs that declare them): taken off, then deleted.
                    Err(e) if e.code.as_deref() == Some("WAFAssociatedItemException") => {
                        let associated = associations_of(ctx, &arn).await?;
                        disassociate(ctx, associated.iter()).await?;
                        with_lock_retry(|| delete_web_acl(ctx, &live.id, p)).await
                    }
                    other => other,
                }
            }
            other => Err(not_managed("wafv2", other.kind())),
        }
    }
}

/// Runs a write that takes a lock token once more if another writer changed the resource
/// between our read of the token and the write (WAFOptimisticLockException).
async fn with_lock_retry<F, Fut>(mut write: F) -> Result<(), AwsError>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<(), AwsError>>,
{
    match write().await {
        Err(err) if err.code.as_deref() == Some(LOCK_CONFLICT) => write().await,
        other => other,
    }
}

async fn list_web_acls(ctx: &AwsContext) -> Result<Vec<Summary>, AwsError> {
    all_by_marker(|marker| async move {
        let out = crate::call!(
            ctx.waf()
                .list_web_acls()
                .scope(WafScope::Regional)
                .set_next_marker(marker),
            "wafv2:ListWebACLs"
        )?;
        let items = out
            .web_acls()
            .iter()
            .filter_map(|s| Summary::of(s.name(), s.id(), s.arn()))
            .collect();
        Ok((items, out.next_marker().map(str::to_string)))
    })
    .await
}

pub(crate) async fn list_ip_sets(ctx: &AwsContext) -> Result<Vec<Summary>, AwsError> {
    all_by_marker(|marker| async move {
        let out = crate::call!(
            ctx.waf()
                .list_ip_sets()
                .scope(WafScope::Regional)
                .set_next_marker(marker),
            "wafv2:ListIPSets"
        )?;
        let items = out
            .ip_sets()
            .iter()
            .filter_map(|s| Summary::of(s.name(), s.id(), s.arn()))
            .collect();
        Ok((items, out.next_marker().map(str::to_string)))
    })
    .await
}

pub(crate) async fn resource_tags(ctx: &AwsContext, arn: &str) -> Result<Tags, AwsError> {
    let out = crate::call!(
        ctx.waf().list_tags_for_resource().resource_arn(arn),
        "wafv2:ListTagsForResource"
    )?;
    Ok(from_pairs(
        out.tag_info_for_resource()
            .map(|t| t.tag_list())
            .unwrap_or_default()
            .iter()
            .map(|t| (Some(t.key()), Some(t.value()))),
    ))
}

async fn read_ip_set(
    scope: &Scope<'_>,
    summary: Summary,
) -> Result<Option<LiveResource>, AwsError> {
    let ctx = scope.ctx;
    let got = absent_if_not_found(crate::call!(
        ctx.waf()
            .get_ip_set()
            .name(&summary.name)
            .scope(WafScope::Regional)
            .id(&summary.id),
        "wafv2:GetIPSet"
    ))?;
    let Some(set) = got.as_ref().and_then(|g| g.ip_set()) else {
        return Ok(None);
    };
    let tags = resource_tags(ctx, &summary.arn).await?;
    let props = Props::IpSet(IpSetProps {
        name: summary.name.clone(),
        scope: "REGIONAL".into(),
        ip_version: set.ip_address_version().as_str().to_string(),
        addresses: set.addresses().iter().cloned().collect(),
        incident: false,
    });
    Ok(classify_named(
        scope,
        &summary.id,
        Some(&summary.arn),
        props,
        tags,
    ))
}

async fn read_web_acl(
    scope: &Scope<'_>,
    summary: Summary,
) -> Result<Option<LiveResource>, AwsError> {
    let ctx = scope.ctx;
    let got = absent_if_not_found(crate::call!(
        ctx.waf()
            .get_web_acl()
            .name(&summary.name)
            .scope(WafScope::Regional)
            .id(&summary.id),
        "wafv2:GetWebACL"
    ))?;
    let Some(acl) = got.as_ref().and_then(|g| g.web_acl()) else {
        return Ok(None);
    };
    let tags = resource_tags(ctx, &summary.arn).await?;
    let logging = absent_if_not_found(crate::call!(
        ctx.waf()
            .get_logging_configuration()
            .resource_arn(&summary.arn),
        "wafv2:GetLoggingConfiguration"
    ))?
    .and_then(|out| {
        out.logging_configuration()
            .and_then(|c| c.log_destination_configs().first().cloned())
    })
    .map(|arn| Ref::External(arn.trim_end_matches(":*").to_string()));
    // Associations are read only when the blueprint declares them for this ACL.
    let declares_associations = scope.desired.resources.values().any(|r| {
        matches!(&r.props, Props::WebAcl(p) if p.name == summary.name && p.associations.is_some())
    });
    let associations = if declares_associations {
        Some(associations_of(ctx, &summary.arn).await?)
    } else {
        None
    };
    let default_action = match acl.default_action() {
        Some(a) if a.block().is_some() => "block",
        _ => "allow",
    };
    let props = Props::WebAcl(WebAclProps {
        name: summary.name.clone(),
        scope: "REGIONAL".into(),
        description: acl.description().unwrap_or_default().to_string(),
        default_action: default_action.into(),
        rules: acl.rules().iter().map(rule_of).collect(),
        logging,
        associations,
    });
    Ok(classify_named(
        scope,
        &summary.id,
        Some(&summary.arn),
        props,
        tags,
    ))
}

async fn associations_of(ctx: &AwsContext, arn: &str) -> Result<BTreeSet<String>, AwsError> {
    let mut found = BTreeSet::new();
    // Every type a regional ACL can protect (ListResourcesForWebACL asks for one at a time).
    for resource_type in [
        ResourceType::ApplicationLoadBalancer,
        ResourceType::ApiGateway,
        ResourceType::Appsync,
        ResourceType::CognitioUserPool,
        ResourceType::AppRunnerService,
        ResourceType::VerifiedAccessInstance,
    ] {
        let out = crate::call!(
            ctx.waf()
                .list_resources_for_web_acl()
                .web_acl_arn(arn)
                .resource_type(resource_type),
            "wafv2:ListResourcesForWebACL"
        )?;
        found.extend(out.resource_arns().iter().cloned());
    }
    Ok(found)
}

/// A live rule in secinfra's terms (the inverse of `rule`).
fn rule_of(rule: &Rule) -> WafRule {
    let action = if let Some(o) = rule.override_action() {
        if o.count().is_some() { "count" } else { "none" }
    } else {
        match rule.action() {
            Some(a) if a.block().is_some() => "block",
            Some(a) if a.count().is_some() => "count",
            Some(a) if a.allow().is_some() => "allow",
            Some(a) if a.captcha().is_some() => "captcha",
            Some(a) if a.challenge().is_some() => "challenge",
            _ => "none",
        }
    };
    let visibility = rule.visibility_config().map_or("none".to_string(), |v| {
        match (
            v.cloud_watch_metrics_enabled(),
            v.sampled_requests_enabled(),
        ) {
            (true, true) => "metrics+samples".into(),
            (true, false) => "metrics".into(),
            (false, true) => "samples".into(),
            (false, false) => "none".into(),
        }
    });
    WafRule {
        priority: rule.priority(),
        name: rule.name().to_string(),
        statement: rule.statement().map_or(
            WafStatement::Other {
                summary: "none".into(),
            },
            statement_of,
        ),
        action: action.into(),
        visibility,
    }
}

fn statement_of(statement: &Statement) -> WafStatement {
    let other = |summary: &str| WafStatement::Other {
        summary: summary.to_string(),
    };
    if let Some(m) = statement.managed_rule_group_statement() {
        if m.version().is_some()
            || m.scope_down_statement().is_some()
            || !m.managed_rule_group_configs().is_empty()
        {
            return other("managed rule group with version, scope-down or configuration");
        }
        let mut count: BTreeSet<String> = m
            .excluded_rules()
            .iter()
            .map(|e| e.name().to_string())
            .collect();
        count.extend(
            m.rule_action_overrides()
                .iter()
                .filter(|o| o.action_to_use().is_some_and(|a| a.count().is_some()))
                .map(|o| o.name().to_string()),
        );
        return WafStatement::Managed {
            rule_group: format!("{}/{}", m.vendor_name(), m.name()),
            count,
        };
    }
    if let Some(g) = statement.geo_match_statement() {
        if g.forwarded_ip_config().is_some() {
            return other("geo match on a forwarded IP header");
        }
        return WafStatement::GeoMatch {
            countries: g
                .country_codes()
                .iter()
                .map(|c| c.as_str().to_string())
                .collect(),
        };
    }
    if let Some(r) = statement.rate_based_statement() {
        if r.aggregate_key_type() != &RateBasedStatementAggregateKeyType::Ip
            || r.forwarded_ip_config().is_some()
        {
            return other("rate limit not keyed on the source IP");
        }
        let path_prefix = match r.scope_down_statement() {
            None => None,
            Some(scope_down) => match path_prefix_of(scope_down) {
                Some(prefix) => Some(prefix),
                None => return other("rate limit with a scope-down secinfra does not write"),
            },
        };
        return WafStatement::RateLimit {
            limit: r.limit(),
            window_seconds: r.evaluation_window_sec(),
            path_prefix,
        };
    }
    if let Some(i) = statement.ip_set_reference_statement() {
        if i.ip_set_forwarded_ip_config().is_some() {
            return other("IP set match on a forwarded IP header");
        }
        return WafStatement::IpSet {
            ip_set: Ref::External(i.arn().to_string()),
        };
    }
    other("a statement secinfra does not write")
}

/// `/auth/login` from the byte match secinfra writes as a rate limit's scope-down.
fn path_prefix_of(statement: &Statement) -> Option<String> {
    let byte = statement.byte_match_statement()?;
    let plain = byte.text_transformations().len() == 1
        && byte.text_transformations()[0].r#type() == &TextTransformationType::None;
    let on_path = byte
        .field_to_match()
        .is_some_and(|f| f.uri_path().is_some());
    if !(plain && on_path && byte.positional_constraint() == &PositionalConstraint::StartsWith) {
        return None;
    }
    String::from_utf8(byte.search_string().as_ref().to_vec()).ok()
}

fn visibility(metric: &str) -> Result<VisibilityConfig, AwsError> {
    // Metric names allow letters, digits and `-_#:./`; secinfra's names are within that.
    VisibilityConfig::builder()
        .sampled_requests_enabled(true)
        .cloud_watch_metrics_enabled(true)
        .metric_name(metric)
        .build()
        .map_err(|e| invalid("wafv2 visibility", e))
}

/// The SDK rule for one of secinfra's rules (the inverse of `rule_of`).
fn rule(rule: &WafRule, ids: &Ids) -> Result<Rule, AwsError> {
    let statement = match &rule.statement {
        WafStatement::Managed { rule_group, count } => {
            let (vendor, name) = rule_group
                .split_once('/')
                .unwrap_or(("AWS", rule_group.as_str()));
            let overrides = count
                .iter()
                .map(|r| {
                    RuleActionOverride::builder()
                        .name(r)
                        .action_to_use(
                            RuleAction::builder()
                                .count(CountAction::builder().build())
                                .build(),
                        )
                        .build()
                        .map_err(|e| invalid("wafv2 rule", e))
                })
                .collect::<Result<Vec<_>, _>>()?;
            Statement::builder()
                .managed_rule_group_statement(
                    ManagedRuleGroupStatement::builder()
                        .vendor_name(vendor)
                        .name(name)
                        .set_rule_action_overrides((!overrides.is_empty()).then_some(overrides))
                        .build()
                        .map_err(|e| invalid("wafv2 rule", e))?,
                )
                .build()
        }
        WafStatement::GeoMatch { countries } => Statement::builder()
            .geo_match_statement(
                GeoMatchStatement::builder()
                    .set_country_codes(Some(countries.iter().map(|c| c.as_str().into()).collect()))
                    .build(),
            )
            .build(),
        WafStatement::RateLimit {
            limit,
            window_seconds,
            path_prefix,
        } => {
            let scope_down = path_prefix
                .as_ref()
                .map(|prefix| {
                    Ok::<_, AwsError>(
                        Statement::builder()
                            .byte_match_statement(
                                ByteMatchStatement::builder()
                                    .search_string(Blob::new(prefix.as_bytes()))
                                    .field_to_match(
                                        FieldToMatch::builder()
                                            .uri_path(UriPath::builder().build())
                                            .build(),
                                    )
                                    .text_transformations(
                                        TextTransformation::builder()
                                            .priority(0)
                                            .r#type(TextTransformationType::None)
                                            .build()
                                            .map_err(|e| invalid("wafv2 rule", e))?,
                                    )
                                    .positional_constraint(PositionalConstraint::StartsWith)
                                    .build()
                                    .map_err(|e| invalid("wafv2 rule", e))?,
                            )
                            .build(),
                    )
                })
                .transpose()?;
            Statement::builder()
                .rate_based_statement(
                    RateBasedStatement::builder()
                        .limit(*limit)
                        .evaluation_window_sec(*window_seconds)
                        .aggregate_key_type(RateBasedStatementAggregateKeyType::Ip)
                        .set_scope_down_statement(scope_down.map(Box::new))
                        .build()
                        .map_err(|e| invalid("wafv2 rule", e))?,
                )
                .build()
        }
        WafStatement::IpSet { ip_set } => Statement::builder()
            .ip_set_reference_statement(
                IpSetReferenceStatement::builder()
                    .arn(ids.arn(ip_set)?)
                    .build()
                    .map_err(|e| invalid("wafv2 rule", e))?,
            )
            .build(),
        WafStatement::Other { summary } => {
            return Err(invalid(
                "wafv2 rule",
                format!("cannot write a rule of type `other` ({summary})"),
            ));
        }
    };
    let builder = Rule::builder()
        .name(&rule.name)
        .priority(rule.priority)
        .statement(statement)
        .visibility_config(visibility(&rule.name)?);
    let builder = match rule.action.as_str() {
        "none" => builder.override_action(
            OverrideAction::builder()
                .none(NoneAction::builder().build())
                .build(),
        ),
        "count" if matches!(rule.statement, WafStatement::Managed { .. }) => builder
            .override_action(
                OverrideAction::builder()
                    .count(CountAction::builder().build())
                    .build(),
            ),
        "count" => builder.action(
            RuleAction::builder()
                .count(CountAction::builder().build())
                .build(),
        ),
        "allow" => builder.action(
            RuleAction::builder()
                .allow(AllowAction::builder().build())
                .build(),
        ),
        _ => builder.action(
            RuleAction::builder()
                .block(BlockAction::builder().build())
                .build(),
        ),
    };
    builder.build().map_err(|e| invalid("wafv2 rule", e))
}

fn rules(props: &WebAclProps, ids: &Ids) -> Result<Vec<Rule>, AwsError> {
    let mut rules: Vec<&WafRule> = props.rules.iter().collect();
    rules.sort_by_key(|r| r.priority);
    rules.into_iter().map(|r| rule(r, ids)).collect()
}

fn default_action(props: &WebAclProps) -> DefaultAction {
    if props.default_action == "block" {
        DefaultAction::builder()
            .block(BlockAction::builder().build())
            .build()
    } else {
        DefaultAction::builder()
            .allow(AllowAction::builder().build())
            .build()
    }
}

async fn create_ip_set(ctx: &AwsContext, new: New<'_, IpSetProps>) -> AwsResult<Created> {
    let New { props, tags, .. } = new;
    let out = crate::send_once!(
        aws_sdk_wafv2,
        ctx.waf()
            .create_ip_set()
            .name(&props.name)
            .scope(WafScope::Regional)
            .ip_address_version(IpAddressVersion::from(props.ip_version.as_str()))
            .set_addresses(Some(props.addresses.iter().cloned().collect()))
            .set_tags(Some(sdk_tags!(Tag, tags, "wafv2")?)),
        "wafv2:CreateIPSet"
    )?;
    let summary = out.summary().ok_or_else(|| {
        AwsError::new(
            "wafv2:CreateIPSet",
            ErrorKind::Other,
            "the response carried no summary",
        )
    })?;
    Ok(Created {
        id: summary.id().unwrap_or_default().to_string(),
        arn: summary.arn().map(str::to_string),
    })
}

async fn ip_set_lock(ctx: &AwsContext, id: &str, props: &IpSetProps) -> Result<String, AwsError> {
    let got = crate::call!(
        ctx.waf()
            .get_ip_set()
            .name(&props.name)
            .scope(WafScope::Regional)
            .id(id),
        "wafv2:GetIPSet"
    )?;
    Ok(got.lock_token().unwrap_or_default().to_string())
}

async fn update_ip_set(ctx: &AwsContext, id: &str, props: &IpSetProps) -> Result<(), AwsError> {
    let lock = ip_set_lock(ctx, id, props).await?;
    crate::call!(
        ctx.waf()
            .update_ip_set()
            .name(&props.name)
            .scope(WafScope::Regional)
            .id(id)
            .set_addresses(Some(props.addresses.iter().cloned().collect()))
            .lock_token(lock),
        "wafv2:UpdateIPSet"
    )?;
    Ok(())
}

async fn delete_ip_set(ctx: &AwsContext, id: &str, props: &IpSetProps) -> Result<(), AwsError> {
    let lock = ip_set_lock(ctx, id, props).await?;
    crate::call!(
        ctx.waf()
            .delete_ip_set()
            .name(&props.name)
            .scope(WafScope::Regional)
            .id(id)
            .lock_token(lock),
        "wafv2:DeleteIPSet"
    )?;
    Ok(())
}

async fn create_web_acl(ctx: &AwsContext, new: New<'_, WebAclProps>) -> AwsResult<Created> {
    let New { props, tags, ids } = new;
    let out = crate::send_once!(
        aws_sdk_wafv2,
        ctx.waf()
            .create_web_acl()
            .name(&props.name)
            .scope(WafScope::Regional)
            .default_action(default_action(props))
            .description(&props.description)
            .set_rules(Some(rules(props, ids)?))
            .visibility_config(visibility(&props.name)?)
            .set_tags(Some(sdk_tags!(Tag, tags, "wafv2")?)),
        "wafv2:CreateWebACL"
    )?;
    let summary = out.summary().ok_or_else(|| {
        AwsError::new(
            "wafv2:CreateWebACL",
            ErrorKind::Other,
            "the response carried no summary",
        )
    })?;
    let arn = summary.arn().unwrap_or_default().to_string();
    set_logging(ctx, &arn, props.logging.as_ref(), ids).await?;
    associate(ctx, &arn, props.associations.iter().flatten()).await?;
    Ok(Created {
        id: summary.id().unwrap_or_default().to_string(),
        arn: Some(arn),
    })
}

async fn web_acl_lock(ctx: &AwsContext, id: &str, props: &WebAclProps) -> Result<String, AwsError> {
    let got = crate::call!(
        ctx.waf()
            .get_web_acl()
            .name(&props.name)
            .scope(WafScope::Regional)
            .id(id),
        "wafv2:GetWebACL"
    )?;
    Ok(got.lock_token().unwrap_or_default().to_string())
}

async fn update_web_acl(
    ctx: &AwsContext,
    id: &str,
    props: &WebAclProps,
    ids: &Ids,
) -> Result<(), AwsError> {
    let lock = web_acl_lock(ctx, id, props).await?;
    crate::call!(
        ctx.waf()
            .update_web_acl()
            .name(&props.name)
            .scope(WafScope::Regional)
            .id(id)
            .default_action(default_action(props))
            .description(&props.description)
            .set_rules(Some(rules(props, ids)?))
            .visibility_config(visibility(&props.name)?)
            .lock_token(lock),
        "wafv2:UpdateWebACL"
    )?;
    Ok(())
}

async fn delete_web_acl(ctx: &AwsContext, id: &str, props: &WebAclProps) -> Result<(), AwsError> {
    let lock = web_acl_lock(ctx, id, props).await?;
    crate::call!(
        ctx.waf()
            .delete_web_acl()
            .name(&props.name)
            .scope(WafScope::Regional)
            .id(id)
            .lock_token(lock),
        "wafv2:DeleteWebACL"
    )?;
    Ok(())
}

async fn set_logging(
    ctx: &AwsContext,
    acl_arn: &str,
    log_group: Option<&Ref>,
    ids: &Ids,
) -> Result<(), AwsError> {
    match log_group {
        Some(group) => {
            let config = LoggingConfiguration::builder()
                .resource_arn(acl_arn)
                .log_destination_configs(ids.arn(group)?)
                .build()
                .map_err(|e| invalid("wafv2 logging", e))?;
            crate::call!(
                ctx.waf()
                    .put_logging_configuration()
                    .logging_configuration(config),
                "wafv2:PutLoggingConfiguration"
            )?;
        }
        None => {
            absent_if_not_found(crate::call!(
                ctx.waf()
                    .delete_logging_configuration()
                    .resource_arn(acl_arn),
                "wafv2:DeleteLoggingConfiguration"
            ))?;
        }
    }
    Ok(())
}

async fn associate(
    ctx: &AwsContext,
    acl_arn: &str,
    resources: impl Iterator<Item = &String>,
) -> Result<(), AwsError> {
    for resource in resources {
        crate::call!(
            ctx.waf()
                .associate_web_acl()
                .web_acl_arn(acl_arn)
                .resource_arn(resource),
            "wafv2:AssociateWebACL"
        )?;
    }
    Ok(())
}

async fn disassociate(
    ctx: &AwsContext,
    resources: impl Iterator<Item = &String>,
) -> Result<(), AwsError> {
    for resource in resources {
        absent_if_not_found(crate::call!(
            ctx.waf().disassociate_web_acl().resource_arn(resource),
            "wafv2:DisassociateWebACL"
        ))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use aws_smithy_http_client::test_util::infallible_client_fn;
    use aws_smithy_types::body::SdkBody;

    use super::*;
    use crate::testing::{SEED, desired, live_matching};

    /// A WAF endpoint that refuses to delete an ACL while it protects a load balancer, as
    /// AWS does; it records the operations it was asked for.
    fn waf_in_use(calls: Arc<Mutex<Vec<String>>>) -> aws_sdk_wafv2::Client {
        let balancer = "arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/api/1";
        let associated = Arc::new(Mutex::new(true));
        let http = infallible_client_fn(move |request: http::Request<SdkBody>| {
            let operation = request
                .headers()
                .get("x-amz-target")
                .and_then(|t| t.to_str().ok())
                .and_then(|t| t.rsplit('.').next())
                .unwrap_or("")
                .to_string();
            let body =
                String::from_utf8_lossy(request.body().bytes().unwrap_or_default()).to_string();
            calls.lock().expect("calls").push(operation.clone());
            let mut associated = associated.lock().expect("state");
            let (status, answer) = match operation.as_str() {
                "GetWebACL" => (200, r#"{"LockToken":"0e4f2a1c-8d3b-4c2e-9f1a-2b3c4d5e6f70"}"#.to_string()),
                "DeleteWebACL" if *associated => (
                    400,
                    r#"{"__type":"WAFAssociatedItemException","Message":"AWS WAF couldn't perform the operation because your resource is being used by another resource or it's associated with another resource."}"#.to_string(),
                ),
                "ListResourcesForWebACL" if *associated && body.contains("APPLICATION_LOAD_BALANCER") => {
                    (200, format!(r#"{{"ResourceArns":["{balancer}"]}}"#))
                }
                "ListResourcesForWebACL" => (200, r#"{"ResourceArns":[]}"#.to_string()),
                "DisassociateWebACL" if body.contains(balancer) => {
                    *associated = false;
                    (200, "{}".to_string())
                }
                _ => (200, "{}".to_string()),
            };
            http::Response::builder()
                .status(status)
                .header("content-type", "application/x-amz-json-1.1")
                .body(SdkBody::from(answer))
                .expect("response")
        });
        aws_sdk_wafv2::Client::from_conf(
            aws_sdk_wafv2::Config::builder()
                .behavior_version(aws_config::BehaviorVersion::latest())
                .region(aws_config::Region::new("us-east-1"))
                .credentials_provider(aws_sdk_wafv2::config::Credentials::new(
                    "test", "test", None, None, "test",
                ))
                .http_client(http)
                .build(),
        )
    }

    #[tokio::test]
    async fn an_acl_in_use_is_taken_off_what_it_protects_before_it_is_deleted() {
        let calls = Arc::new(Mutex::new(Vec::new()));
        let ctx = AwsContext::unconnected("api-platform");
        ctx.use_client(waf_in_use(Arc::clone(&calls)));
        let desired = desired(SEED);
        let address: crate::model::Address = "web_acl.api".parse().expect("address");
        let mut live = live_matching(&desired).resources[&address].clone();
        live.arn =
            Some("arn:aws:wafv2:us-east-1:123456789012:regional/webacl/api-platform-api/1".into());
        if let Props::WebAcl(p) = &mut live.props {
            p.associations = None; // not read: the blueprint declares none
        }
        let gone = Delete {
            live: &live,
            options: &crate::aws::provider::DeleteOptions::default(),
            ids: &Ids::default(),
        };
        Waf.delete(&ctx, gone)
            .await
            .expect("deleted after taking it off the load balancer");
        let calls = calls.lock().expect("calls");
        let deletes = calls.iter().filter(|c| *c == "DeleteWebACL").count();
        assert_eq!(deletes, 2, "{calls:?}");
        let disassociated = calls.iter().position(|c| c == "DisassociateWebACL");
        let last_delete = calls.iter().rposition(|c| c == "DeleteWebACL");
        assert!(disassociated < last_delete, "{calls:?}");
    }
}
