//! Subnets. Discovery: DescribeSubnets by stack tag.

use aws_sdk_ec2::types::{AttributeBooleanValue, ResourceType};

use super::{changed, live, returned_id, tag_spec};
use crate::aws::error::{AwsError, AwsResult};
use crate::aws::{AwsContext, Created, New};
use crate::model::{Diff, LiveResource, Props, Ref, SubnetProps};

pub async fn discover(ctx: &AwsContext) -> Result<Vec<LiveResource>, AwsError> {
    let subnets = describe_stack_tagged!(ctx, describe_subnets, "ec2:DescribeSubnets").await?;
    Ok(subnets
        .iter()
        .filter_map(|s| {
            let props = SubnetProps {
                vpc: Ref::External(s.vpc_id().unwrap_or_default().to_string()),
                cidr: s
                    .cidr_block()
                    .unwrap_or_default()
                    .parse()
                    .unwrap_or_default(),
                availability_zone: s.availability_zone().unwrap_or_default().to_string(),
                map_public_ip_on_launch: s.map_public_ip_on_launch().unwrap_or(false),
            };
            live(ctx, s.subnet_id(), Props::Subnet(props), s.tags())
        })
        .collect())
}

pub async fn create(ctx: &AwsContext, new: New<'_, SubnetProps>) -> AwsResult<Created> {
    let New { props, tags, ids } = new;
    let out = crate::send_once!(
        aws_sdk_ec2,
        ctx.ec2()
            .create_subnet()
            .vpc_id(ids.id(&props.vpc)?)
            .cidr_block(props.cidr.to_string())
            .availability_zone(&props.availability_zone)
            .tag_specifications(tag_spec(ResourceType::Subnet, tags)),
        "ec2:CreateSubnet"
    )?;
    let id = returned_id("ec2:CreateSubnet", out.subnet().and_then(|s| s.subnet_id()))?;
    if props.map_public_ip_on_launch {
        set_public_ip(ctx, &id, true).await?;
    }
    Ok(Created { id, arn: None })
}

pub async fn update(
    ctx: &AwsContext,
    id: &str,
    props: &SubnetProps,
    diffs: &[Diff],
) -> Result<(), AwsError> {
    if changed(diffs, "map_public_ip_on_launch") {
        set_public_ip(ctx, id, props.map_public_ip_on_launch).await?;
    }
    Ok(())
}

async fn set_public_ip(ctx: &AwsContext, id: &str, on: bool) -> Result<(), AwsError> {
    crate::call!(
        ctx.ec2()
            .modify_subnet_attribute()
            .subnet_id(id)
            .map_public_ip_on_launch(AttributeBooleanValue::builder().value(on).build()),
        "ec2:ModifySubnetAttribute"
    )?;
    Ok(())
}

pub async fn delete(ctx: &AwsContext, id: &str) -> Result<(), AwsError> {
    crate::call!(ctx.ec2().delete_subnet().subnet_id(id), "ec2:DeleteSubnet")?;
    Ok(())
}
