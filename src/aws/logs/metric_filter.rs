//! Metric filters: CloudTrail events matching a pattern counted into a metric. A filter
//! is the stack's by its name, `secinfra/<stack>/<name>` (filters have no tags).
//! Discovery lists every filter in one paginated call and keeps the stack's:
//! DescribeMetricFilters honours a name prefix only together with a log group name.

use aws_sdk_cloudwatchlogs::types::MetricTransformation;

use crate::aws::AwsContext;
use crate::aws::error::{AwsError, unbuildable};
use crate::aws::provider::{Created, Ids};
use crate::model::{Address, Kind, LiveResource, MetricFilterProps, Props, Ref};
use crate::naming;

pub async fn discover(ctx: &AwsContext) -> Result<Vec<LiveResource>, AwsError> {
    let prefix = naming::monitoring_prefix(&ctx.stack);
    let filters = crate::all_pages!(
        ctx.logs().describe_metric_filters(),
        "logs:DescribeMetricFilters"
    )
    .await?;
    // AWS keeps one filter per name in a group (PutMetricFilter replaces it); an endpoint
    // that lists a name twice in one group (moto appends) is read as AWS would keep it.
    let mut seen = std::collections::HashSet::new();
    Ok(filters
        .iter()
        .filter(|f| seen.insert((f.log_group_name(), f.filter_name())))
        .filter_map(|f| {
            let name = f.filter_name()?;
            let short = name.strip_prefix(&prefix)?;
            let metric = f.metric_transformations().first();
            Some(LiveResource {
                address: Address::new(Kind::MetricFilter, short),
                id: name.to_string(),
                arn: None,
                props: Props::MetricFilter(MetricFilterProps {
                    name: name.to_string(),
                    log_group: Ref::External(f.log_group_name().unwrap_or_default().to_string()),
                    pattern: f.filter_pattern().unwrap_or_default().to_string(),
                    metric_namespace: metric
                        .map(|m| m.metric_namespace().to_string())
                        .unwrap_or_default(),
                    metric_name: metric
                        .map(|m| m.metric_name().to_string())
                        .unwrap_or_default(),
                }),
                tags: Default::default(),
                unmanaged: false,
                unobserved: Default::default(),
                pending: Vec::new(),
            })
        })
        .collect())
}

/// Creates or overwrites the filter (PutMetricFilter does both).
pub async fn put(
    ctx: &AwsContext,
    props: &MetricFilterProps,
    ids: &Ids,
) -> Result<Created, AwsError> {
    let metric = MetricTransformation::builder()
        .metric_name(&props.metric_name)
        .metric_namespace(&props.metric_namespace)
        .metric_value("1")
        .build()
        .map_err(|e| unbuildable("logs", e))?;
    crate::call!(
        ctx.logs()
            .put_metric_filter()
            .log_group_name(ids.id(&props.log_group)?)
            .filter_name(&props.name)
            .filter_pattern(&props.pattern)
            .metric_transformations(metric),
        "logs:PutMetricFilter"
    )?;
    Ok(Created {
        id: props.name.clone(),
        arn: None,
    })
}

pub async fn delete(ctx: &AwsContext, live: &LiveResource, ids: &Ids) -> Result<(), AwsError> {
    let Props::MetricFilter(props) = &live.props else {
        return Ok(());
    };
    crate::call!(
        ctx.logs()
            .delete_metric_filter()
            .log_group_name(ids.id(&props.log_group)?)
            .filter_name(&props.name),
        "logs:DeleteMetricFilter"
    )?;
    Ok(())
}
