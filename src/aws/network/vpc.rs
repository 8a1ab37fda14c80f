//! The VPC, its DNS attributes, and (when restricted) its default security group's rules.
//! Discovery: DescribeVpcs by stack tag; then per VPC its two DNS attributes, and one
//! DescribeSecurityGroups for the default groups of all found VPCs.

use std::collections::{BTreeMap, BTreeSet};

use crate::aws::pages::bounded;
use aws_sdk_ec2::client::Waiters;
use aws_sdk_ec2::types::{AttributeBooleanValue, ResourceType, VpcAttributeName};

use super::security_group::{rules_of, sync_rules};
use super::{changed, filter, live, returned_id, tag_spec};
use crate::aws::consistency::{Seen, look_until};
use crate::aws::error::{AwsError, AwsResult, aws};
use crate::aws::{AwsContext, Created, Ids, New};
use crate::model::{Diff, Direction, LiveResource, Props, SecurityGroupRule, VpcProps};

pub async fn discover(ctx: &AwsContext) -> Result<Vec<LiveResource>, AwsError> {
    let vpcs = describe_stack_tagged!(ctx, describe_vpcs, "ec2:DescribeVpcs").await?;
    if vpcs.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<String> = vpcs
        .iter()
        .filter_map(|v| v.vpc_id().map(str::to_string))
        .collect();
    let default_rules = default_group_rules(ctx, &ids).await?;
    let found = bounded(vpcs.iter().map(|vpc| async {
        let id = vpc.vpc_id().unwrap_or_default();
        let (dns_support, dns_hostnames) = tokio::try_join!(
            attribute(ctx, id, VpcAttributeName::EnableDnsSupport),
            attribute(ctx, id, VpcAttributeName::EnableDnsHostnames),
        )?;
        let props = VpcProps {
            cidr: vpc
                .cidr_block()
                .unwrap_or_default()
                .parse()
                .unwrap_or_default(),
            dns_support,
            dns_hostnames,
            default_security_group_rules: default_rules.get(id).map(|(_, rules)| rules.clone()),
        };
        Ok::<_, AwsError>(live(ctx, Some(id), Props::Vpc(props), vpc.tags()))
    }))
    .await?;
    Ok(found.into_iter().flatten().collect())
}

async fn attribute(ctx: &AwsContext, id: &str, name: VpcAttributeName) -> Result<bool, AwsError> {
    let out = crate::call!(
        ctx.ec2()
            .describe_vpc_attribute()
            .vpc_id(id)
            .attribute(name.clone()),
        "ec2:DescribeVpcAttribute"
    )?;
    let value = match name {
        VpcAttributeName::EnableDnsHostnames => out.enable_dns_hostnames(),
        _ => out.enable_dns_support(),
    };
    Ok(value
        .and_then(AttributeBooleanValue::value)
        .unwrap_or(false))
}

/// Default security group id and rules, by VPC id.
async fn default_group_rules(
    ctx: &AwsContext,
    vpc_ids: &[String],
) -> Result<BTreeMap<String, (String, BTreeSet<SecurityGroupRule>)>, AwsError> {
    let groups = crate::all_pages!(
        ctx.ec2()
            .describe_security_groups()
            .filters(filter("vpc-id", vpc_ids.iter().cloned()))
            .filters(filter("group-name", ["default"])),
        "ec2:DescribeSecurityGroups"
    )
    .await?;
    Ok(groups
        .iter()
        .filter_map(|g| {
            let mut rules = rules_of(g.ip_permissions(), Direction::Ingress);
            rules.extend(rules_of(g.ip_permissions_egress(), Direction::Egress));
            Some((g.vpc_id()?.to_string(), (g.group_id()?.to_string(), rules)))
        })
        .collect())
}

pub async fn create(ctx: &AwsContext, new: New<'_, VpcProps>) -> AwsResult<Created> {
    let New { props, tags, ids } = new;
    let out = crate::send_once!(
        aws_sdk_ec2,
        ctx.ec2()
            .create_vpc()
            .cidr_block(props.cidr.to_string())
            .tag_specifications(tag_spec(ResourceType::Vpc, tags)),
        "ec2:CreateVpc"
    )?;
    let id = returned_id("ec2:CreateVpc", out.vpc().and_then(|v| v.vpc_id()))?;
    crate::aws::wait::until(
        ctx,
        "ec2:wait VpcAvailable",
        ctx.waiter_timeout,
        ctx.ec2()
            .wait_until_vpc_available()
            .vpc_ids(&id)
            .wait(ctx.waiter_timeout),
    )
    .await?;
    // A new VPC has DNS support on and hostnames off; set both as declared.
    set_dns(ctx, &id, props, true, true).await?;
    if let Some(rules) = &props.default_security_group_rules {
        restrict_default_group(ctx, &id, rules, ids).await?;
    }
    Ok(Created { id, arn: None })
}

pub async fn update(
    ctx: &AwsContext,
    id: &str,
    props: &VpcProps,
    diffs: &[Diff],
    ids: &Ids,
) -> Result<(), AwsError> {
    set_dns(
        ctx,
        id,
        props,
        changed(diffs, "dns_support"),
        changed(diffs, "dns_hostnames"),
    )
    .await?;
    if changed(diffs, "default_security_group_rules")
        && let Some(rules) = &props.default_security_group_rules
    {
        restrict_default_group(ctx, id, rules, ids).await?;
    }
    Ok(())
}

async fn set_dns(
    ctx: &AwsContext,
    id: &str,
    props: &VpcProps,
    support: bool,
    hostnames: bool,
) -> Result<(), AwsError> {
    // ModifyVpcAttribute takes one attribute per call.
    if support {
        ctx.ec2()
            .modify_vpc_attribute()
            .vpc_id(id)
            .enable_dns_support(
                AttributeBooleanValue::builder()
                    .value(props.dns_support)
                    .build(),
            )
            .send()
            .await
            .map_err(aws("ec2:ModifyVpcAttribute"))?;
    }
    if hostnames {
        ctx.ec2()
            .modify_vpc_attribute()
            .vpc_id(id)
            .enable_dns_hostnames(
                AttributeBooleanValue::builder()
                    .value(props.dns_hostnames)
                    .build(),
            )
            .send()
            .await
            .map_err(aws("ec2:ModifyVpcAttribute"))?;
    }
    Ok(())
}

/// Brings the default security group's rules to exactly `wanted` (in practice: none).
async fn restrict_default_group(
    ctx: &AwsContext,
    vpc_id: &str,
    wanted: &BTreeSet<SecurityGroupRule>,
    ids: &Ids,
) -> Result<(), AwsError> {
    // AWS makes the default group with the VPC; right after CreateVpc a describe filter
    // may not show it yet (eventual consistency:
    // https://docs.aws.amazon.com/ec2/latest/devguide/eventual-consistency.html), so
    // absence is believed only after looking for a while.
    const LOOK_FOR: std::time::Duration = std::time::Duration::from_secs(60);
    let seen = look_until(LOOK_FOR, || async {
        Ok(
            match default_group_rules(ctx, &[vpc_id.to_string()])
                .await?
                .remove(vpc_id)
            {
                Some(found) => Seen::Yes(found),
                None => Seen::NotYet((String::new(), BTreeSet::new())),
            },
        )
    })
    .await?;
    let Seen::Yes((group_id, current)) = seen else {
        return Err(AwsError::new(
            "ec2:DescribeSecurityGroups",
            crate::aws::ErrorKind::NotFound,
            format!(
                "VPC {vpc_id} shows no default security group after {} s",
                LOOK_FOR.as_secs()
            ),
        ));
    };
    let remove: BTreeSet<_> = current.difference(wanted).cloned().collect();
    let add: BTreeSet<_> = wanted.difference(&current).cloned().collect();
    sync_rules(ctx, &group_id, &remove, &add, ids).await
}

pub async fn delete(ctx: &AwsContext, id: &str) -> Result<(), AwsError> {
    crate::call!(ctx.ec2().delete_vpc().vpc_id(id), "ec2:DeleteVpc")?;
    Ok(())
}
