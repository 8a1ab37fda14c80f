//! VPC flow logs to a CloudWatch Logs group. Every property is fixed at creation, so any
//! change replaces the flow log. Discovery: DescribeFlowLogs by stack tag.

use aws_sdk_ec2::types::{FlowLogsResourceType, LogDestinationType, ResourceType, TrafficType};

use super::{live, stack_filter, tag_spec};
use crate::aws::error::{AwsError, AwsResult, ErrorKind, kind_of_item_error};
use crate::aws::{AwsContext, Created, New};
use crate::model::{FlowLogProps, LiveResource, Props, Ref};

pub async fn discover(ctx: &AwsContext) -> Result<Vec<LiveResource>, AwsError> {
    let flow_logs = crate::all_pages!(
        ctx.ec2()
            .describe_flow_logs()
            .filter(stack_filter(&ctx.stack)),
        "ec2:DescribeFlowLogs"
    )
    .await?;
    Ok(flow_logs
        .iter()
        .filter_map(|f| {
            let props = FlowLogProps {
                vpc: Ref::External(f.resource_id().unwrap_or_default().to_string()),
                traffic_type: f.traffic_type().map_or("", |t| t.as_str()).to_string(),
                log_group: Ref::External(f.log_group_name().unwrap_or_default().to_string()),
                deliver_logs_role: Ref::External(
                    f.deliver_logs_permission_arn()
                        .unwrap_or_default()
                        .to_string(),
                ),
                max_aggregation_interval: f.max_aggregation_interval().unwrap_or(600),
            };
            live(ctx, f.flow_log_id(), Props::FlowLog(props), f.tags())
        })
        .collect())
}

pub async fn create(ctx: &AwsContext, new: New<'_, FlowLogProps>) -> AwsResult<Created> {
    let New { props, tags, ids } = new;
    let role = ids.arn(&props.deliver_logs_role)?;
    let out = crate::send_once!(
        aws_sdk_ec2,
        ctx.ec2()
            .create_flow_logs()
            .resource_type(FlowLogsResourceType::Vpc)
            .resource_ids(ids.id(&props.vpc)?)
            .traffic_type(TrafficType::from(props.traffic_type.as_str()))
            .log_destination_type(LogDestinationType::CloudWatchLogs)
            .log_group_name(ids.id(&props.log_group)?)
            .deliver_logs_permission_arn(&role)
            .max_aggregation_interval(props.max_aggregation_interval)
            .client_token(uuid::Uuid::new_v4().to_string())
            .tag_specifications(tag_spec(ResourceType::VpcFlowLog, tags)),
        "ec2:CreateFlowLogs"
    )
    .map_err(|e| match e.kind {
        ErrorKind::Propagating => e.with_note(format!("the flow log's delivery role is {role}")),
        _ => e,
    })?;
    if let Some(failure) = out.unsuccessful().first() {
        let error = failure.error();
        let code = error.and_then(|e| e.code());
        let message = error
            .and_then(|e| e.message())
            .unwrap_or("flow log not created");
        let kind = kind_of_item_error(code, message);
        let err = AwsError::new("ec2:CreateFlowLogs", kind, message).with_code(code);
        return Err(match kind {
            ErrorKind::Propagating => {
                err.with_note(format!("the flow log's delivery role is {role}"))
            }
            _ => err,
        });
    }
    let id = out.flow_log_ids().first().cloned().ok_or_else(|| {
        AwsError::new(
            "ec2:CreateFlowLogs",
            ErrorKind::Other,
            "the response carried no flow log id",
        )
    })?;
    Ok(Created { id, arn: None })
}

pub async fn delete(ctx: &AwsContext, id: &str) -> Result<(), AwsError> {
    let out = crate::call!(
        ctx.ec2().delete_flow_logs().flow_log_ids(id),
        "ec2:DeleteFlowLogs"
    )?;
    match out.unsuccessful().first().and_then(|u| u.error()) {
        Some(error) => Err(AwsError::new(
            "ec2:DeleteFlowLogs",
            ErrorKind::Other,
            error.message().unwrap_or("flow log not deleted"),
        )
        .with_code(error.code())),
        None => Ok(()),
    }
}
