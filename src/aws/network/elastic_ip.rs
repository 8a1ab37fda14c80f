//! Elastic IPs for NAT gateways. Discovery: DescribeAddresses by stack tag (unpaginated
//! by AWS's design).

use aws_sdk_ec2::types::{DomainType, ResourceType};

use super::{live, returned_id, stack_filter, tag_spec};
use crate::aws::error::{AwsError, AwsResult};
use crate::aws::{AwsContext, Created, New};
use crate::model::{ElasticIpProps, LiveResource, Props};

pub async fn discover(ctx: &AwsContext) -> Result<Vec<LiveResource>, AwsError> {
    let out = crate::call!(
        ctx.ec2()
            .describe_addresses()
            .filters(stack_filter(&ctx.stack)),
        "ec2:DescribeAddresses"
    )?;
    Ok(out
        .addresses()
        .iter()
        .filter_map(|a| {
            let domain = a.domain().map_or("vpc", |d| d.as_str()).to_string();
            live(
                ctx,
                a.allocation_id(),
                Props::ElasticIp(ElasticIpProps { domain }),
                a.tags(),
            )
        })
        .collect())
}

pub async fn create(ctx: &AwsContext, new: New<'_, ElasticIpProps>) -> AwsResult<Created> {
    let New { props, tags, .. } = new;
    let out = crate::send_once!(
        aws_sdk_ec2,
        ctx.ec2()
            .allocate_address()
            .domain(DomainType::from(props.domain.as_str()))
            .tag_specifications(tag_spec(ResourceType::ElasticIp, tags)),
        "ec2:AllocateAddress"
    )?;
    let id = returned_id("ec2:AllocateAddress", out.allocation_id())?;
    Ok(Created { id, arn: None })
}

pub async fn delete(ctx: &AwsContext, id: &str) -> Result<(), AwsError> {
    crate::call!(
        ctx.ec2().release_address().allocation_id(id),
        "ec2:ReleaseAddress"
    )?;
    Ok(())
}
