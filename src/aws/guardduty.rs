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
use super::error::{AwsError, AwsResult, ErrorKind, aws, not_managed};
use super::provider::{Created, Delete, Ids, Provider, Scope, Update};
use crate::model::{DetectorProps, GUARDDUTY_FEATURES, Kind, LiveResource, Props, Resource, Tags};

crate::provider!(GuardDuty, "guardduty", guardduty: aws_sdk_guardduty);

fn detector_arn(ctx: &AwsContext, id: &str) -> String {
    ctx.regional_arn("guardduty", &format!("detector/{id}"))
}

#[async_trait::async_trait]
impl Provider for GuardDuty {
    async fn discover(&self, scope: &Scope<'_>) -> AwsResult<Vec<LiveResource>> {
        let ctx = scope.ctx;
        let ids = detector_ids(ctx).await?;
        let found = bounded(ids.iter().map(|id| async move {
            let out = crate::call!(
                ctx.guardduty().get_detector().detector_id(id),
                "guardduty:GetDetector"
            )?;
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
    }

    async fn create(&self, ctx: &AwsContext, resource: &Resource, _: &Ids) -> AwsResult<Created> {
        let Props::GuarddutyDetector(props) = &resource.props else {
            return Err(not_managed("guardduty", &resource.address));
        };
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
            ctx.guardduty()
                .create_detector()
                .enable(props.enabled)
                .finding_publishing_frequency(FindingPublishingFrequency::from(
                    props.finding_frequency.as_str(),
                ))
                .set_features(Some(features(props)))
                .set_tags(Some(resource.tags.clone().into_iter().collect()))
                .client_token(uuid::Uuid::new_v4().to_string()),
            "guardduty:CreateDetector"
        )?;
        let id = out.detector_id().unwrap_or_default().to_string();
        Ok(Created {
            arn: Some(detector_arn(ctx, &id)),
            id,
        })
    }

    async fn update(&self, ctx: &AwsContext, change: Update<'_>) -> AwsResult<()> {
        let live = change.live;
        let desired = change.desired;
        let Props::GuarddutyDetector(props) = &desired.props else {
            return Err(not_managed("guardduty", &desired.address));
        };
        ctx.guardduty()
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
    }

    /// Only a detector the stack created is ever planned for deletion (an adopted one is
    /// untagged, so it is not the stack's once the blueprint stops declaring it).
    async fn delete(&self, ctx: &AwsContext, gone: Delete<'_>) -> AwsResult<()> {
        let live = gone.live;
        crate::call!(
            ctx.guardduty().delete_detector().detector_id(&live.id),
            "guardduty:DeleteDetector"
        )
        .map_err(|e| e.at(&live.address))?;
        Ok(())
    }
}

async fn detector_ids(ctx: &AwsContext) -> Result<Vec<String>, AwsError> {
    crate::all_pages!(ctx.guardduty().list_detectors(), "guardduty:ListDetectors").await
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
