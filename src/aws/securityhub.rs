//! The region's Security Hub (CSPM) and its standards subscriptions. Like a GuardDuty
//! detector, a hub is one per account and region: a hub the stack enabled carries the
//! stack's tags (set when enabling) and is disabled with the stack; a hub found enabled
//! without them is adopted as it is — configured, never tagged, never disabled.
//!
//! Discovery: DescribeHub, then GetEnabledStandards (paginated) and ListTagsForResource
//! on the hub, concurrently. An endpoint without those two calls leaves the standards
//! unobserved and the hub untagged (so never disabled by destroy).

use std::collections::{BTreeMap, BTreeSet};

use aws_sdk_securityhub::types::StandardsSubscriptionRequest;
use aws_sdk_securityhub::types::{ControlFindingGenerator, StandardsStatus};

use super::AwsContext;
use super::error::{AwsError, AwsResult, ErrorKind, aws, not_managed};
use super::provider::{Created, Delete, Ids, Provider, Scope, Update};
use crate::model::{Address, Kind, LiveResource, Props, Resource, SecurityHubProps, Tags, changed};
use crate::naming::{security_hub_standard_arn, security_hub_standard_id};

crate::provider!(SecurityHub, "securityhub", securityhub: aws_sdk_securityhub);

/// BatchEnableStandards and BatchDisableStandards take at most 25 at a time.
const STANDARDS_PER_CALL: usize = 25;

#[async_trait::async_trait]
impl Provider for SecurityHub {
    async fn discover(&self, scope: &Scope<'_>) -> AwsResult<Vec<LiveResource>> {
        let ctx = scope.ctx;
        let hub = match crate::call!(ctx.securityhub().describe_hub(), "securityhub:DescribeHub") {
            Ok(hub) => hub,
            Err(e) if is_not_enabled(&e) => return Ok(Vec::new()),
            Err(e) => return Err(e),
        };
        let arn = hub.hub_arn().map_or_else(|| hub_arn(ctx), str::to_string);
        let (subscriptions, tags) = futures::join!(subscriptions(ctx), hub_tags(ctx, &arn));
        let mut unobserved = BTreeSet::new();
        let standards = match unless_unanswerable(subscriptions)? {
            Some(subscriptions) => subscriptions.into_keys().collect(),
            None => {
                unobserved.insert("standards".to_string());
                BTreeSet::new()
            }
        };
        let tags = unless_unanswerable(tags)?.unwrap_or_default();
        let Some((address, unmanaged)) = scope.singleton_address(Kind::SecurityHub, &tags, &arn)
        else {
            return Ok(Vec::new());
        };
        Ok(vec![LiveResource {
            address,
            id: arn.clone(),
            arn: Some(arn),
            props: Props::SecurityHub(SecurityHubProps {
                standards,
                auto_enable_controls: hub.auto_enable_controls().unwrap_or(true),
                consolidated_control_findings: hub.control_finding_generator()
                    != Some(&ControlFindingGenerator::StandardControl),
            }),
            unmanaged,
            tags,
            unobserved,
            pending: Vec::new(),
        }])
    }

    async fn create(&self, ctx: &AwsContext, resource: &Resource, _: &Ids) -> AwsResult<Created> {
        let props = hub_props(&resource.props, &resource.address)?;
        ctx.securityhub()
            .enable_security_hub()
            // Exactly the declared standards, not whatever AWS enables by default.
            .enable_default_standards(false)
            .control_finding_generator(finding_generator(props))
            .set_tags(Some(resource.tags.clone().into_iter().collect()))
            .send()
            .await
            .map_err(aws("securityhub:EnableSecurityHub"))
            .map_err(|e| {
                if e.is(ErrorKind::Conflict) {
                    AwsError::new(
                        "securityhub:EnableSecurityHub",
                        ErrorKind::Conflict,
                        "Security Hub was enabled in this region since the plan was \
                         made; run plan again to adopt it",
                    )
                } else {
                    e
                }
            })?;
        if !props.auto_enable_controls {
            configure(ctx, props).await?;
        }
        let wanted: Vec<&String> = props.standards.iter().collect();
        subscribe(ctx, &wanted).await?;
        let arn = hub_arn(ctx);
        Ok(Created {
            id: arn.clone(),
            arn: Some(arn),
        })
    }

    async fn update(&self, ctx: &AwsContext, change: Update<'_>) -> AwsResult<()> {
        let desired = change.desired;
        let diffs = change.diffs;
        let props = hub_props(&desired.props, &desired.address)?;
        if changed(diffs, "auto_enable_controls") || changed(diffs, "consolidated_control_findings")
        {
            configure(ctx, props).await?;
        }
        if changed(diffs, "standards") {
            // Subscription ARNs are needed to unsubscribe; read them now rather
            // than trusting a plan that may be minutes old.
            let subscribed = subscriptions(ctx).await?;
            let wanted: Vec<&String> = props
                .standards
                .iter()
                .filter(|id| !subscribed.contains_key(*id))
                .collect();
            let unwanted: Vec<&String> = subscribed
                .iter()
                .filter(|(id, _)| !props.standards.contains(*id))
                .map(|(_, subscription)| subscription)
                .collect();
            unsubscribe(ctx, &unwanted).await?;
            subscribe(ctx, &wanted).await?;
        }
        Ok(())
    }

    /// Only a hub the stack enabled is ever planned for deletion: an adopted one is
    /// untagged, so it is not the stack's once the blueprint stops declaring it.
    async fn delete(&self, ctx: &AwsContext, gone: Delete<'_>) -> AwsResult<()> {
        let live = gone.live;
        crate::call!(
            ctx.securityhub().disable_security_hub(),
            "securityhub:DisableSecurityHub"
        )
        .map_err(|e| e.at(&live.address))?;
        Ok(())
    }
}

fn hub_props<'p>(props: &'p Props, address: &Address) -> Result<&'p SecurityHubProps, AwsError> {
    match props {
        Props::SecurityHub(p) => Ok(p),
        _ => Err(not_managed("securityhub", address)),
    }
}

fn hub_arn(ctx: &AwsContext) -> String {
    ctx.regional_arn("securityhub", "hub/default")
}

/// AWS answers DescribeHub with InvalidAccessException while the account is not
/// subscribed to Security Hub in the region.
fn is_not_enabled(e: &AwsError) -> bool {
    e.code.as_deref() == Some("InvalidAccessException") || e.is(ErrorKind::NotFound)
}

/// `None` when the endpoint does not offer the call (or answers it in a shape the SDK
/// cannot read): what it would have told is then not observed.
fn unless_unanswerable<T>(result: Result<T, AwsError>) -> Result<Option<T>, AwsError> {
    match result {
        Ok(v) => Ok(Some(v)),
        Err(e) if e.is(ErrorKind::ServiceUnavailable) || e.is(ErrorKind::Unreadable) => Ok(None),
        Err(e) => Err(e),
    }
}

fn finding_generator(props: &SecurityHubProps) -> ControlFindingGenerator {
    if props.consolidated_control_findings {
        ControlFindingGenerator::SecurityControl
    } else {
        ControlFindingGenerator::StandardControl
    }
}

/// Subscribed standards (by the region-independent part of their ARN) → subscription ARN.
/// A subscription being deleted or one that failed does not count.
async fn subscriptions(ctx: &AwsContext) -> Result<BTreeMap<String, String>, AwsError> {
    let all = crate::all_pages!(
        ctx.securityhub().get_enabled_standards(),
        "securityhub:GetEnabledStandards"
    )
    .await?;
    Ok(all
        .into_iter()
        .filter(|s| {
            !matches!(
                s.standards_status(),
                Some(StandardsStatus::Deleting | StandardsStatus::Failed)
            )
        })
        .filter_map(|s| {
            let standard = security_hub_standard_id(s.standards_arn()?).to_string();
            Some((standard, s.standards_subscription_arn()?.to_string()))
        })
        .collect())
}

async fn hub_tags(ctx: &AwsContext, arn: &str) -> Result<Tags, AwsError> {
    let out = crate::call!(
        ctx.securityhub().list_tags_for_resource().resource_arn(arn),
        "securityhub:ListTagsForResource"
    )?;
    Ok(out
        .tags()
        .map(|t| t.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
        .unwrap_or_default())
}

async fn configure(ctx: &AwsContext, props: &SecurityHubProps) -> Result<(), AwsError> {
    crate::call!(
        ctx.securityhub()
            .update_security_hub_configuration()
            .auto_enable_controls(props.auto_enable_controls)
            .control_finding_generator(finding_generator(props)),
        "securityhub:UpdateSecurityHubConfiguration"
    )?;
    Ok(())
}

async fn subscribe(ctx: &AwsContext, standards: &[&String]) -> Result<(), AwsError> {
    for batch in standards.chunks(STANDARDS_PER_CALL) {
        let requests = batch
            .iter()
            .map(|id| {
                StandardsSubscriptionRequest::builder()
                    .standards_arn(security_hub_standard_arn(ctx.partition, &ctx.region, id))
                    .build()
            })
            .collect();
        crate::call!(
            ctx.securityhub()
                .batch_enable_standards()
                .set_standards_subscription_requests(Some(requests)),
            "securityhub:BatchEnableStandards"
        )?;
    }
    Ok(())
}

async fn unsubscribe(ctx: &AwsContext, subscriptions: &[&String]) -> Result<(), AwsError> {
    for batch in subscriptions.chunks(STANDARDS_PER_CALL) {
        crate::call!(
            ctx.securityhub()
                .batch_disable_standards()
                .set_standards_subscription_arns(Some(
                    batch.iter().map(|s| s.to_string()).collect()
                )),
            "securityhub:BatchDisableStandards"
        )?;
    }
    Ok(())
}
