//! The region's GuardDuty detector. AWS allows one per account and region, so it is never
//! created twice: a detector the stack created carries the stack's tags (set at
//! creation) and is deleted with the stack; an untagged one found while the blueprint
//! declares a detector is adopted as it is — configured, never tagged, never deleted.
//!
//! Discovery: one ListDetectors pass and a GetDetector per detector (at most one).

use crate::aws::pages::bounded;
use aws_sdk_guardduty::types::{
    DetectorFeature, DetectorFeatureConfiguration, DetectorStatus, FeatureStatus,
    FindingPublishingFrequency,
};

use super::AwsContext;
use super::error::{AwsError, ErrorKind, aws, not_managed};
use super::pages::AllPages;
use super::provider::{Created, DeleteOptions, Fut, Ids, Provider, Scope};
use crate::model::{
    DetectorProps, Diff, GUARDDUTY_FEATURES, Kind, LiveResource, Props, Resource, Tags,
};

pub struct GuardDuty;

fn detector_arn(ctx: &AwsContext, id: &str) -> String {
    format!(
        "arn:{}:guardduty:{}:{}:detector/{id}",
        ctx.partition, ctx.region, ctx.account
    )
}

impl Provider for GuardDuty {
    fn service(&self) -> &'static str {
        "guardduty"
    }

    fn kinds(&self) -> &'static [Kind] {
        &[Kind::GuarddutyDetector]
    }

    fn discover<'a>(&'a self, scope: &'a Scope<'a>) -> Fut<'a, Vec<LiveResource>> {
        Box::pin(async move {
            let ctx = scope.ctx;
            let ids = detector_ids(ctx).await?;
            let found = bounded(ids.iter().map(|id| async move {
                let out = ctx
                    .guardduty
                    .get_detector()
                    .detector_id(id)
                    .send()
                    .await
                    .map_err(aws("guardduty:GetDetector"))?;
                let tags: Tags = out
                    .tags()
                    .map(|t| t.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
                    .unwrap_or_default();
                let features = GUARDDUTY_FEATURES
                    .iter()
                    .map(|(_, api)| {
                        let enabled = out.features().iter().any(|f| {
                            f.name().is_some_and(|n| n.as_str() == *api)
                                && f.status() == Some(&FeatureStatus::Enabled)
                        });
                        (api.to_string(), enabled)
                    })
                    .collect();
                let props = Props::GuarddutyDetector(DetectorProps {
                    enabled: out.status() == Some(&DetectorStatus::Enabled),
                    finding_frequency: out
                        .finding_publishing_frequency()
                        .map_or("FIFTEEN_MINUTES", |f| f.as_str())
                        .to_string(),
                    features,
                });
                Ok::<_, AwsError>((id.clone(), props, tags))
            }))
            .await?;
            let mut live = Vec::new();
            for (id, props, tags) in found {
                let Some((address, unmanaged)) =
                    scope.singleton_address(Kind::GuarddutyDetector, &tags, &id)
                else {
                    continue;
                };
                live.push(LiveResource {
                    address,
                    arn: Some(detector_arn(ctx, &id)),
                    id,
                    props,
                    unmanaged,
                    tags,
                    unobserved: Default::default(),
                    pending: Vec::new(),
                });
            }
            Ok(live)
        })
    }

    fn create<'a>(
        &'a self,
        ctx: &'a AwsContext,
        resource: &'a Resource,
        _ids: &'a Ids,
    ) -> Fut<'a, Created> {
        Box::pin(async move {
            let Props::GuarddutyDetector(props) = &resource.props else {
                return Err(not_managed("guardduty", &resource.address));
            };
            let result = async {
                // Planned only when none was found; checked again so a detector that
                // appeared since (another tool, a console click) is never duplicated.
                if let Some(existing) = detector_ids(ctx).await?.first() {
                    return Err(AwsError::new(
                        "guardduty:CreateDetector",
                        ErrorKind::Conflict,
                        format!(
                            "this region already has GuardDuty detector {existing}, and AWS \
                             allows one; run plan again to adopt it"
                        ),
                    ));
                }
                let out = crate::send_once!(
                    aws_sdk_guardduty,
                    ctx.guardduty
                        .create_detector()
                        .enable(props.enabled)
                        .finding_publishing_frequency(FindingPublishingFrequency::from(
                            props.finding_frequency.as_str(),
                        ))
                        .set_features(Some(features(props)))
                        .set_tags(Some(resource.tags.clone().into_iter().collect()))
                        .client_token(uuid::Uuid::new_v4().to_string())
                )
                .await
                .map_err(aws("guardduty:CreateDetector"))?;
                let id = out.detector_id().unwrap_or_default().to_string();
                Ok(Created {
                    arn: Some(detector_arn(ctx, &id)),
                    id,
                })
            };
            result.await.map_err(|e: AwsError| e.at(&resource.address))
        })
    }

    fn update<'a>(
        &'a self,
        ctx: &'a AwsContext,
        live: &'a LiveResource,
        desired: &'a Resource,
        _diffs: &'a [Diff],
        _ids: &'a Ids,
    ) -> Fut<'a, ()> {
        Box::pin(async move {
            let Props::GuarddutyDetector(props) = &desired.props else {
                return Err(not_managed("guardduty", &desired.address));
            };
            ctx.guardduty
                .update_detector()
                .detector_id(&live.id)
                .enable(props.enabled)
                .finding_publishing_frequency(FindingPublishingFrequency::from(
                    props.finding_frequency.as_str(),
                ))
                .set_features(Some(features(props)))
                .send()
                .await
                .map_err(aws("guardduty:UpdateDetector"))
                .map_err(|e| e.at(&desired.address))?;
            Ok(())
        })
    }

    /// Only a detector the stack created is ever planned for deletion (an adopted one is
    /// untagged, so it is not the stack's once the blueprint stops declaring it).
    fn delete<'a>(
        &'a self,
        ctx: &'a AwsContext,
        live: &'a LiveResource,
        _options: &'a DeleteOptions,
        _ids: &'a Ids,
    ) -> Fut<'a, ()> {
        Box::pin(async move {
            ctx.guardduty
                .delete_detector()
                .detector_id(&live.id)
                .send()
                .await
                .map_err(aws("guardduty:DeleteDetector"))
                .map_err(|e| e.at(&live.address))?;
            Ok(())
        })
    }
}

async fn detector_ids(ctx: &AwsContext) -> Result<Vec<String>, AwsError> {
    ctx.guardduty
        .list_detectors()
        .into_paginator()
        .items()
        .send()
        .all("guardduty:ListDetectors")
        .await
}

/// Every protection plan, on or off as declared.
fn features(props: &DetectorProps) -> Vec<DetectorFeatureConfiguration> {
    props
        .features
        .iter()
        .map(|(name, on)| {
            DetectorFeatureConfiguration::builder()
                .name(DetectorFeature::from(name.as_str()))
                .status(if *on {
                    FeatureStatus::Enabled
                } else {
                    FeatureStatus::Disabled
                })
                .build()
        })
        .collect()
}
