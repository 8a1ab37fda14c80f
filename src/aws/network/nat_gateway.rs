//! NAT gateways. Discovery: DescribeNatGateways by stack tag, ignoring gateways already
//! deleted. A gateway in the `failed` state is not the one the blueprint wants: it gets an
//! orphan address so the plan deletes it and creates a working one.
//! Creates carry a ClientToken and wait (SDK waiter, bounded) until available; deletes
//! wait until deleted, so the Elastic IP can be released after.

use aws_sdk_ec2::client::Waiters;
use aws_sdk_ec2::types::{ConnectivityType, NatGatewayState, ResourceType};

use super::{filter, live, returned_id, stack_filter, tag_spec};
use crate::aws::error::{AwsError, AwsResult};
use crate::aws::tags::orphan_address;
use crate::aws::{AwsContext, Created, New};
use crate::model::{Kind, LiveResource, NatGatewayProps, Props, Ref};

pub async fn discover(ctx: &AwsContext) -> Result<Vec<LiveResource>, AwsError> {
    let gateways = crate::all_pages!(
        ctx.ec2()
            .describe_nat_gateways()
            .filter(stack_filter(&ctx.stack))
            .filter(filter("state", ["pending", "available", "failed"])),
        "ec2:DescribeNatGateways"
    )
    .await?;
    Ok(gateways
        .iter()
        .filter_map(|g| {
            let id = g.nat_gateway_id().unwrap_or_default();
            let allocation = g
                .nat_gateway_addresses()
                .iter()
                .find_map(|a| a.allocation_id())
                .unwrap_or_default();
            let props = NatGatewayProps {
                subnet: Ref::External(g.subnet_id().unwrap_or_default().to_string()),
                elastic_ip: Ref::External(allocation.to_string()),
                connectivity_type: g
                    .connectivity_type()
                    .map_or("public", |c| c.as_str())
                    .to_string(),
            };
            let mut found = live(ctx, Some(id), Props::NatGateway(props), g.tags())?;
            if g.state() == Some(&NatGatewayState::Failed) {
                found.address = orphan_address(Kind::NatGateway, id);
            }
            Some(found)
        })
        .collect())
}

pub async fn create(ctx: &AwsContext, new: New<'_, NatGatewayProps>) -> AwsResult<Created> {
    let New { props, tags, ids } = new;
    let out = crate::send_once!(
        aws_sdk_ec2,
        ctx.ec2()
            .create_nat_gateway()
            .subnet_id(ids.id(&props.subnet)?)
            .allocation_id(ids.id(&props.elastic_ip)?)
            .connectivity_type(ConnectivityType::from(props.connectivity_type.as_str()))
            .client_token(uuid::Uuid::new_v4().to_string())
            .tag_specifications(tag_spec(ResourceType::Natgateway, tags)),
        "ec2:CreateNatGateway"
    )?;
    let id = returned_id(
        "ec2:CreateNatGateway",
        out.nat_gateway().and_then(|g| g.nat_gateway_id()),
    )?;
    crate::aws::wait::until(
        ctx,
        "ec2:wait NatGatewayAvailable",
        ctx.waiter_timeout,
        ctx.ec2()
            .wait_until_nat_gateway_available()
            .nat_gateway_ids(&id)
            .wait(ctx.waiter_timeout),
    )
    .await?;
    Ok(Created { id, arn: None })
}

pub async fn delete(ctx: &AwsContext, id: &str) -> Result<(), AwsError> {
    crate::call!(
        ctx.ec2().delete_nat_gateway().nat_gateway_id(id),
        "ec2:DeleteNatGateway"
    )?;
    crate::aws::wait::until(
        ctx,
        "ec2:wait NatGatewayDeleted",
        ctx.waiter_timeout,
        ctx.ec2()
            .wait_until_nat_gateway_deleted()
            .nat_gateway_ids(id)
            .wait(ctx.waiter_timeout),
    )
    .await?;
    Ok(())
}
