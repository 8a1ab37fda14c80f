//! Security groups and their rules. Rules are a set per group (a link field): apply
//! authorizes and revokes only the difference, and a group is created before any rule
//! that references it, so groups may reference each other. AWS adds an allow-all egress
//! rule to every new group; create removes it so the group holds exactly the declared rules.
//! Discovery: DescribeSecurityGroups by stack tag (rules come with the groups).

use std::collections::BTreeSet;

use aws_sdk_ec2::types::{
    IpPermission, IpRange, Ipv6Range, PrefixListId, ResourceType, UserIdGroupPair,
};
use ipnet::IpNet;

use super::{live, returned_id, tag_spec};
use crate::aws::error::{AwsError, AwsResult, aws};
use crate::aws::provider::LinkSync;
use crate::aws::{AwsContext, Created, Ids, New};
use crate::model::{
    Direction, LiveResource, Peer, Props, Protocol, Ref, SecurityGroupProps, SecurityGroupRule,
};

pub async fn discover(ctx: &AwsContext) -> Result<Vec<LiveResource>, AwsError> {
    let groups =
        describe_stack_tagged!(ctx, describe_security_groups, "ec2:DescribeSecurityGroups").await?;
    Ok(groups
        .iter()
        .filter_map(|g| {
            let props = SecurityGroupProps {
                vpc: Ref::External(g.vpc_id().unwrap_or_default().to_string()),
                group_name: g.group_name().unwrap_or_default().to_string(),
                description: g.description().unwrap_or_default().to_string(),
                ingress: rules_of(g.ip_permissions(), Direction::Ingress),
                egress: rules_of(g.ip_permissions_egress(), Direction::Egress),
            };
            live(ctx, g.group_id(), Props::SecurityGroup(props), g.tags())
        })
        .collect())
}

/// Flattens EC2's permissions (one protocol/port range, many peers) into one rule per peer.
pub fn rules_of(permissions: &[IpPermission], direction: Direction) -> BTreeSet<SecurityGroupRule> {
    let mut rules = BTreeSet::new();
    for permission in permissions {
        let Some(protocol) = permission.ip_protocol().and_then(Protocol::from_api) else {
            continue;
        };
        let ports = SecurityGroupRule::ports_from_api(
            &protocol,
            permission.from_port(),
            permission.to_port(),
        );
        let mut peers: Vec<Peer> = Vec::new();
        peers.extend(
            permission
                .ip_ranges()
                .iter()
                .filter_map(|r| r.cidr_ip()?.parse::<IpNet>().ok())
                .map(Peer::Cidr),
        );
        peers.extend(
            permission
                .ipv6_ranges()
                .iter()
                .filter_map(|r| r.cidr_ipv6()?.parse::<IpNet>().ok())
                .map(Peer::Cidr),
        );
        peers.extend(
            permission
                .user_id_group_pairs()
                .iter()
                .filter_map(|p| p.group_id())
                .map(|id| Peer::Group(Ref::External(id.to_string()))),
        );
        peers.extend(
            permission
                .prefix_list_ids()
                .iter()
                .filter_map(|p| p.prefix_list_id())
                .map(|id| Peer::PrefixList(id.to_string())),
        );
        rules.extend(peers.into_iter().map(|peer| SecurityGroupRule {
            direction,
            protocol: protocol.clone(),
            ports,
            peer,
        }));
    }
    rules
}

fn permission(rule: &SecurityGroupRule, ids: &Ids) -> Result<IpPermission, AwsError> {
    let (from, to) = rule.api_ports();
    let builder = IpPermission::builder()
        .ip_protocol(rule.protocol.api_name())
        .set_from_port(from)
        .set_to_port(to);
    Ok(match &rule.peer {
        Peer::Cidr(IpNet::V4(net)) => {
            builder.ip_ranges(IpRange::builder().cidr_ip(net.to_string()).build())
        }
        Peer::Cidr(IpNet::V6(net)) => {
            builder.ipv6_ranges(Ipv6Range::builder().cidr_ipv6(net.to_string()).build())
        }
        Peer::Group(group) => {
            builder.user_id_group_pairs(UserIdGroupPair::builder().group_id(ids.id(group)?).build())
        }
        Peer::PrefixList(id) => {
            builder.prefix_list_ids(PrefixListId::builder().prefix_list_id(id).build())
        }
    }
    .build())
}

pub async fn create(ctx: &AwsContext, new: New<'_, SecurityGroupProps>) -> AwsResult<Created> {
    let New { props, tags, ids } = new;
    let out = crate::call!(
        ctx.ec2()
            .create_security_group()
            .group_name(&props.group_name)
            .description(&props.description)
            .vpc_id(ids.id(&props.vpc)?)
            .tag_specifications(tag_spec(ResourceType::SecurityGroup, tags)),
        "ec2:CreateSecurityGroup"
    )?;
    let id = returned_id("ec2:CreateSecurityGroup", out.group_id())?;
    let aws_default_egress = SecurityGroupRule {
        direction: Direction::Egress,
        protocol: Protocol::All,
        ports: None,
        peer: Peer::Cidr("0.0.0.0/0".parse().expect("literal CIDR")),
    };
    sync_rules(
        ctx,
        &id,
        &BTreeSet::from([aws_default_egress]),
        &BTreeSet::new(),
        ids,
    )
    .await?;
    Ok(Created { id, arn: None })
}

pub async fn delete(ctx: &AwsContext, id: &str) -> Result<(), AwsError> {
    crate::call!(
        ctx.ec2().delete_security_group().group_id(id),
        "ec2:DeleteSecurityGroup"
    )?;
    Ok(())
}

fn all_rules(props: Option<&Props>) -> BTreeSet<SecurityGroupRule> {
    match props {
        Some(Props::SecurityGroup(p)) => p.ingress.union(&p.egress).cloned().collect(),
        _ => BTreeSet::new(),
    }
}

pub async fn sync_links(
    ctx: &AwsContext,
    request: &LinkSync<'_>,
    ids: &Ids,
) -> Result<(), AwsError> {
    let before = all_rules(request.before);
    let after = all_rules(request.after);
    let delta = request.delta(&before, &after, |rule| match &rule.peer {
        Peer::Group(r) => r.address(),
        _ => None,
    });
    match request.phase {
        crate::aws::provider::LinkPhase::Release => {
            sync_rules(ctx, request.id, &delta, &BTreeSet::new(), ids).await
        }
        crate::aws::provider::LinkPhase::Establish => {
            sync_rules(ctx, request.id, &BTreeSet::new(), &delta, ids).await
        }
    }
}

/// Revokes `remove` and authorizes `add` on one group, one call per direction.
pub async fn sync_rules(
    ctx: &AwsContext,
    group_id: &str,
    remove: &BTreeSet<SecurityGroupRule>,
    add: &BTreeSet<SecurityGroupRule>,
    ids: &Ids,
) -> Result<(), AwsError> {
    let split =
        |rules: &BTreeSet<SecurityGroupRule>, direction| -> Result<Vec<IpPermission>, AwsError> {
            rules
                .iter()
                .filter(|r| r.direction == direction)
                .map(|r| permission(r, ids))
                .collect()
        };
    let revoke_in = split(remove, Direction::Ingress)?;
    if !revoke_in.is_empty() {
        ctx.ec2()
            .revoke_security_group_ingress()
            .group_id(group_id)
            .set_ip_permissions(Some(revoke_in))
            .send()
            .await
            .map(|_| ())
            .map_err(aws("ec2:RevokeSecurityGroupIngress"))
            .or_else(already_gone)?;
    }
    let revoke_out = split(remove, Direction::Egress)?;
    if !revoke_out.is_empty() {
        ctx.ec2()
            .revoke_security_group_egress()
            .group_id(group_id)
            .set_ip_permissions(Some(revoke_out))
            .send()
            .await
            .map(|_| ())
            .map_err(aws("ec2:RevokeSecurityGroupEgress"))
            .or_else(already_gone)?;
    }
    authorize(
        ctx,
        group_id,
        Direction::Ingress,
        split(add, Direction::Ingress)?,
    )
    .await?;
    authorize(
        ctx,
        group_id,
        Direction::Egress,
        split(add, Direction::Egress)?,
    )
    .await
}

/// A rule that is not there is already revoked. A group that is not there is not: right
/// after CreateSecurityGroup, EC2 may not show the new group yet (eventual consistency),
/// and taking that for success would leave AWS's allow-all egress rule on it. (The SDK
/// retries a NotFound naming a group this run created: `consistency::FreshNotFound`.)
fn already_gone<T: Default>(err: AwsError) -> Result<T, AwsError> {
    if err.code.as_deref() == Some("InvalidPermission.NotFound") {
        Ok(T::default())
    } else {
        Err(err)
    }
}

fn is_duplicate(err: &AwsError) -> bool {
    err.code.as_deref() == Some("InvalidPermission.Duplicate")
}

/// Authorizes permissions in one call. If some already exist (a retried or interrupted
/// apply), EC2 refuses the whole call as a duplicate; then each is added on its own and
/// existing ones are skipped, so re-running converges.
async fn authorize(
    ctx: &AwsContext,
    group_id: &str,
    direction: Direction,
    permissions: Vec<IpPermission>,
) -> Result<(), AwsError> {
    if permissions.is_empty() {
        return Ok(());
    }
    match send_authorize(ctx, group_id, direction, permissions.clone()).await {
        Err(err) if is_duplicate(&err) && permissions.len() > 1 => {
            for permission in permissions {
                match send_authorize(ctx, group_id, direction, vec![permission]).await {
                    Err(err) if is_duplicate(&err) => {}
                    other => other?,
                }
            }
            Ok(())
        }
        Err(err) if is_duplicate(&err) => Ok(()),
        other => other,
    }
}

async fn send_authorize(
    ctx: &AwsContext,
    group_id: &str,
    direction: Direction,
    permissions: Vec<IpPermission>,
) -> Result<(), AwsError> {
    match direction {
        Direction::Ingress => ctx
            .ec2()
            .authorize_security_group_ingress()
            .group_id(group_id)
            .set_ip_permissions(Some(permissions))
            .send()
            .await
            .map(|_| ())
            .map_err(aws("ec2:AuthorizeSecurityGroupIngress")),
        Direction::Egress => ctx
            .ec2()
            .authorize_security_group_egress()
            .group_id(group_id)
            .set_ip_permissions(Some(permissions))
            .send()
            .await
            .map(|_| ())
            .map_err(aws("ec2:AuthorizeSecurityGroupEgress")),
    }
}
