//! The VPC's internet gateway. Discovery: DescribeInternetGateways by stack tag.

use aws_sdk_ec2::types::ResourceType;

use super::{live, returned_id, tag_spec};
use crate::aws::error::{AwsError, AwsResult};
use crate::aws::{AwsContext, Created, Ids, New};
use crate::model::{InternetGatewayProps, LiveResource, Props, Ref};

pub async fn discover(ctx: &AwsContext) -> Result<Vec<LiveResource>, AwsError> {
    let gateways = describe_stack_tagged!(
        ctx,
        describe_internet_gateways,
        "ec2:DescribeInternetGateways"
    )
    .await?;
    Ok(gateways
        .iter()
        .filter_map(|g| {
            let vpc = g
                .attachments()
                .iter()
                .find_map(|a| a.vpc_id())
                .map(|id| Ref::External(id.to_string()));
            live(
                ctx,
                g.internet_gateway_id(),
                Props::InternetGateway(InternetGatewayProps { vpc }),
                g.tags(),
            )
        })
        .collect())
}

pub async fn create(ctx: &AwsContext, new: New<'_, InternetGatewayProps>) -> AwsResult<Created> {
    let New { props, tags, ids } = new;
    let out = crate::send_once!(
        aws_sdk_ec2,
        ctx.ec2()
            .create_internet_gateway()
            .tag_specifications(tag_spec(ResourceType::InternetGateway, tags)),
        "ec2:CreateInternetGateway"
    )?;
    let id = returned_id(
        "ec2:CreateInternetGateway",
        out.internet_gateway().and_then(|g| g.internet_gateway_id()),
    )?;
    if let Some(vpc) = &props.vpc {
        crate::call!(
            ctx.ec2()
                .attach_internet_gateway()
                .internet_gateway_id(&id)
                .vpc_id(ids.id(vpc)?),
            "ec2:AttachInternetGateway"
        )?;
    }
    Ok(Created { id, arn: None })
}

pub async fn delete(
    ctx: &AwsContext,
    id: &str,
    props: &InternetGatewayProps,
    ids: &Ids,
) -> Result<(), AwsError> {
    if let Some(vpc) = &props.vpc {
        crate::call!(
            ctx.ec2()
                .detach_internet_gateway()
                .internet_gateway_id(id)
                .vpc_id(ids.id(vpc)?),
            "ec2:DetachInternetGateway"
        )?;
    }
    crate::call!(
        ctx.ec2().delete_internet_gateway().internet_gateway_id(id),
        "ec2:DeleteInternetGateway"
    )?;
    Ok(())
}
