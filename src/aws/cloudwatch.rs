//! CloudWatch metric alarms. An alarm is the stack's by its name, `secinfra/<stack>/...`:
//! discovery is one paginated DescribeAlarms call with that prefix; tags are set at
//! creation and not read back (that would cost a call per alarm).

use aws_sdk_cloudwatch::types::{AlarmType, ComparisonOperator, Dimension, Statistic, Tag};

use super::AwsContext;
use super::error::{AwsError, AwsResult, not_managed};
use super::pages::AllPages;
use super::provider::{Created, Delete, Ids, Provider, Scope, Update};
use crate::model::{Address, AlarmProps, Kind, LiveResource, Props, Ref, Resource, Tags};
use crate::naming;

crate::provider!(CloudWatch, "cloudwatch", cloudwatch: aws_sdk_cloudwatch);

#[async_trait::async_trait]
impl Provider for CloudWatch {
    async fn discover(&self, scope: &Scope<'_>) -> AwsResult<Vec<LiveResource>> {
        let ctx = scope.ctx;
        let prefix = naming::monitoring_prefix(&ctx.stack);
        let pages = ctx
            .cloudwatch()
            .describe_alarms()
            .alarm_name_prefix(&prefix)
            .alarm_types(AlarmType::MetricAlarm)
            .into_paginator()
            .send()
            .all("cloudwatch:DescribeAlarms")
            .await?;
        Ok(pages
            .iter()
            .flat_map(|page| page.metric_alarms())
            .filter_map(|alarm| {
                let name = alarm.alarm_name()?;
                // The prefix filter is AWS's; the check here keeps any answer honest.
                let short = name.strip_prefix(&prefix)?;
                Some(LiveResource {
                    address: Address::new(Kind::Alarm, short),
                    id: name.to_string(),
                    arn: alarm.alarm_arn().map(str::to_string),
                    props: Props::Alarm(AlarmProps {
                        name: name.to_string(),
                        description: alarm.alarm_description().unwrap_or_default().to_string(),
                        namespace: alarm.namespace().unwrap_or_default().to_string(),
                        metric_name: alarm.metric_name().unwrap_or_default().to_string(),
                        dimensions: alarm
                            .dimensions()
                            .iter()
                            .map(|d| {
                                (
                                    d.name().unwrap_or_default().to_string(),
                                    d.value().unwrap_or_default().to_string(),
                                )
                            })
                            .collect(),
                        statistic: alarm.statistic().map_or("", |s| s.as_str()).to_string(),
                        period_seconds: alarm.period().unwrap_or_default(),
                        evaluation_periods: alarm.evaluation_periods().unwrap_or_default(),
                        threshold: alarm.threshold().unwrap_or_default().round() as i64,
                        comparison: alarm
                            .comparison_operator()
                            .map_or("", |c| c.as_str())
                            .to_string(),
                        treat_missing_data: alarm
                            .treat_missing_data()
                            .unwrap_or("missing")
                            .to_string(),
                        actions: alarm
                            .alarm_actions()
                            .iter()
                            .map(|arn| Ref::External(arn.clone()))
                            .collect(),
                    }),
                    tags: Default::default(),
                    unmanaged: false,
                    unobserved: Default::default(),
                    pending: Vec::new(),
                })
            })
            .collect())
    }

    async fn create(&self, ctx: &AwsContext, resource: &Resource, ids: &Ids) -> AwsResult<Created> {
        let Props::Alarm(props) = &resource.props else {
            return Err(not_managed("cloudwatch", &resource.address));
        };
        put_alarm(ctx, props, Some(&resource.tags), ids)
            .await
            .map_err(|e| e.at(&resource.address))?;
        Ok(Created {
            id: props.name.clone(),
            arn: None,
        })
    }

    async fn update(&self, ctx: &AwsContext, change: Update<'_>) -> AwsResult<()> {
        let desired = change.desired;
        let ids = change.ids;
        let Props::Alarm(props) = &desired.props else {
            return Err(not_managed("cloudwatch", &desired.address));
        };
        put_alarm(ctx, props, None, ids)
            .await
            .map_err(|e| e.at(&desired.address))
    }

    async fn delete(&self, ctx: &AwsContext, gone: Delete<'_>) -> AwsResult<()> {
        let live = gone.live;
        crate::call!(
            ctx.cloudwatch().delete_alarms().alarm_names(&live.id),
            "cloudwatch:DeleteAlarms"
        )
        .map_err(|e| e.at(&live.address))?;
        Ok(())
    }
}

/// PutMetricAlarm creates or replaces the whole alarm (tags only when creating).
async fn put_alarm(
    ctx: &AwsContext,
    props: &AlarmProps,
    tags: Option<&Tags>,
    ids: &Ids,
) -> Result<(), AwsError> {
    let actions = props
        .actions
        .iter()
        .map(|topic| ids.arn(topic))
        .collect::<Result<Vec<_>, _>>()?;
    let dimensions = props
        .dimensions
        .iter()
        .map(|(name, value)| Dimension::builder().name(name).value(value).build())
        .collect();
    let tags = tags.map(|tags| {
        tags.iter()
            .map(|(k, v)| Tag::builder().key(k).value(v).build())
            .collect::<Vec<_>>()
    });
    crate::call!(
        ctx.cloudwatch()
            .put_metric_alarm()
            .alarm_name(&props.name)
            .alarm_description(&props.description)
            .namespace(&props.namespace)
            .metric_name(&props.metric_name)
            .set_dimensions(Some(dimensions))
            .statistic(Statistic::from(props.statistic.as_str()))
            .period(props.period_seconds)
            .evaluation_periods(props.evaluation_periods)
            .threshold(props.threshold as f64)
            .comparison_operator(ComparisonOperator::from(props.comparison.as_str()))
            .treat_missing_data(&props.treat_missing_data)
            .set_alarm_actions(Some(actions))
            .actions_enabled(true)
            .set_tags(tags),
        "cloudwatch:PutMetricAlarm"
    )?;
    Ok(())
}
