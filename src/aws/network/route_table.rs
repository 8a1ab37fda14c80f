//! Route tables, one per subnet tier (per AZ for private subnets with per-AZ NAT).
//! Routes and subnet associations are link fields: added once their targets exist,
//! removed before their targets are deleted. The VPC's `local` route is implicit.
//! Discovery: DescribeRouteTables by stack tag.

use crate::aws::consistency::{Seen, look_until};
use std::collections::{BTreeMap, BTreeSet};

use aws_sdk_ec2::types::ResourceType;

use super::{filter, live, returned_id, tag_spec};
use crate::aws::error::{AwsError, AwsResult, ErrorKind, aws};
use crate::aws::provider::{LinkPhase, LinkSync};
use crate::aws::{AwsContext, Created, Ids, New};
use crate::model::{Kind, LiveResource, Props, Ref, RouteTableProps};

pub async fn discover(ctx: &AwsContext) -> Result<Vec<LiveResource>, AwsError> {
    let tables =
        describe_stack_tagged!(ctx, describe_route_tables, "ec2:DescribeRouteTables").await?;
    Ok(tables
        .iter()
        .filter_map(|t| {
            let routes = t
                .routes()
                .iter()
                .filter(|r| r.gateway_id() != Some("local"))
                .filter_map(|r| {
                    let destination = r
                        .destination_cidr_block()
                        .or(r.destination_ipv6_cidr_block())
                        .or(r.destination_prefix_list_id())?;
                    // Internet gateways and gateway VPC endpoints come as `gateway_id`.
                    let target = r
                        .gateway_id()
                        .or(r.nat_gateway_id())
                        .or(r.transit_gateway_id())
                        .or(r.vpc_peering_connection_id())
                        .or(r.network_interface_id())
                        .or(r.egress_only_internet_gateway_id())
                        .or(r.carrier_gateway_id())
                        .or(r.local_gateway_id())
                        .or(r.core_network_arn())
                        .or(r.instance_id())
                        .unwrap_or("unknown");
                    Some((destination.to_string(), Ref::External(target.to_string())))
                })
                .collect();
            let subnets = t
                .associations()
                .iter()
                .filter(|a| !a.main().unwrap_or(false))
                .filter_map(|a| a.subnet_id())
                .map(|id| Ref::External(id.to_string()))
                .collect();
            let props = RouteTableProps {
                vpc: Ref::External(t.vpc_id().unwrap_or_default().to_string()),
                routes,
                subnets,
                exclusive_routes: false,
            };
            live(ctx, t.route_table_id(), Props::RouteTable(props), t.tags())
        })
        .collect())
}

pub async fn create(ctx: &AwsContext, new: New<'_, RouteTableProps>) -> AwsResult<Created> {
    let New { props, tags, ids } = new;
    let out = crate::send_once!(
        aws_sdk_ec2,
        ctx.ec2()
            .create_route_table()
            .vpc_id(ids.id(&props.vpc)?)
            .client_token(uuid::Uuid::new_v4().to_string())
            .tag_specifications(tag_spec(ResourceType::RouteTable, tags)),
        "ec2:CreateRouteTable"
    )?;
    let id = returned_id(
        "ec2:CreateRouteTable",
        out.route_table().and_then(|t| t.route_table_id()),
    )?;
    Ok(Created { id, arn: None })
}

pub async fn delete(ctx: &AwsContext, id: &str) -> Result<(), AwsError> {
    crate::call!(
        ctx.ec2().delete_route_table().route_table_id(id),
        "ec2:DeleteRouteTable"
    )?;
    Ok(())
}

fn parts(props: Option<&Props>) -> (BTreeSet<(String, Ref)>, BTreeSet<Ref>) {
    match props {
        Some(Props::RouteTable(p)) => (
            p.routes
                .iter()
                .map(|(d, t)| (d.clone(), t.clone()))
                .collect(),
            p.subnets.clone(),
        ),
        _ => (BTreeSet::new(), BTreeSet::new()),
    }
}

pub async fn sync_links(
    ctx: &AwsContext,
    request: &LinkSync<'_>,
    ids: &Ids,
) -> Result<(), AwsError> {
    let (routes_before, subnets_before) = parts(request.before);
    let (routes_after, subnets_after) = parts(request.after);
    let routes = request.delta(&routes_before, &routes_after, |(_, target)| {
        target.address()
    });
    let subnets = request.delta(&subnets_before, &subnets_after, Ref::address);
    match request.phase {
        LinkPhase::Release => {
            // A destination that stays with a new target is replaced in place when
            // establishing, so traffic never loses its route.
            let staying: BTreeSet<&String> = routes_after.iter().map(|(d, _)| d).collect();
            for (destination, target) in &routes {
                let retargeted = staying.contains(destination)
                    && !target.address().is_some_and(|a| request.going.contains(a));
                if !retargeted {
                    delete_route(ctx, request.id, destination).await?;
                }
            }
            disassociate(ctx, request.id, &subnets, ids).await
        }
        LinkPhase::Establish => {
            let existing: BTreeMap<&String, &Ref> = routes_before
                .iter()
                .filter(|(_, t)| !t.address().is_some_and(|a| request.going.contains(a)))
                .map(|(d, t)| (d, t))
                .collect();
            for (destination, target) in &routes {
                put_route(
                    ctx,
                    request.id,
                    destination,
                    target,
                    existing.contains_key(destination),
                    ids,
                )
                .await?;
            }
            associate(ctx, request.id, &subnets, ids).await
        }
    }
}

async fn delete_route(ctx: &AwsContext, table: &str, destination: &str) -> Result<(), AwsError> {
    let mut call = ctx.ec2().delete_route().route_table_id(table);
    call = if destination.starts_with("pl-") {
        call.destination_prefix_list_id(destination)
    } else if destination.contains(':') {
        call.destination_ipv6_cidr_block(destination)
    } else {
        call.destination_cidr_block(destination)
    };
    match call.send().await.map_err(aws("ec2:DeleteRoute")) {
        Err(err) if err.is(ErrorKind::NotFound) => Ok(()),
        other => other.map(|_| ()),
    }
}

async fn put_route(
    ctx: &AwsContext,
    table: &str,
    destination: &str,
    target: &Ref,
    replace: bool,
    ids: &Ids,
) -> Result<(), AwsError> {
    let target_id = ids.id(target)?;
    let nat = target.address().map_or(target_id.starts_with("nat-"), |a| {
        a.kind == Kind::NatGateway
    });
    if replace {
        let call = ctx
            .ec2()
            .replace_route()
            .route_table_id(table)
            .destination_cidr_block(destination);
        let call = if nat {
            call.nat_gateway_id(&target_id)
        } else {
            call.gateway_id(&target_id)
        };
        call.send().await.map_err(aws("ec2:ReplaceRoute"))?;
    } else {
        let call = ctx
            .ec2()
            .create_route()
            .route_table_id(table)
            .destination_cidr_block(destination);
        let call = if nat {
            call.nat_gateway_id(&target_id)
        } else {
            call.gateway_id(&target_id)
        };
        match call.send().await.map_err(aws("ec2:CreateRoute")) {
            // Left by an interrupted apply: make it point where it should.
            Err(err) if err.code.as_deref() == Some("RouteAlreadyExists") => {
                Box::pin(put_route(ctx, table, destination, target, true, ids)).await?
            }
            other => {
                other?;
            }
        }
    }
    Ok(())
}

/// `associations_of`, looked up again for a while when a subnet shows none: a route table
/// created moments ago may be left out of a filtered describe (EC2 is eventually
/// consistent: https://docs.aws.amazon.com/ec2/latest/devguide/eventual-consistency.html),
/// and a subnet always has an association where it is asked to be released from one.
async fn associations_seen(
    ctx: &AwsContext,
    subnet_ids: &[String],
) -> Result<BTreeMap<String, (String, String)>, AwsError> {
    let seen = look_until(std::time::Duration::from_secs(30), || async {
        let found = associations_of(ctx, subnet_ids).await?;
        Ok(if found.len() == subnet_ids.len() {
            Seen::Yes(found)
        } else {
            Seen::NotYet(found)
        })
    })
    .await?;
    Ok(match seen {
        Seen::Yes(found) | Seen::NotYet(found) => found,
    })
}

/// Current non-main associations of the given subnets: subnet id → (table id, association id).
async fn associations_of(
    ctx: &AwsContext,
    subnet_ids: &[String],
) -> Result<BTreeMap<String, (String, String)>, AwsError> {
    if subnet_ids.is_empty() {
        return Ok(BTreeMap::new());
    }
    let tables = crate::all_pages!(
        ctx.ec2()
            .describe_route_tables()
            .filters(filter("association.subnet-id", subnet_ids.iter().cloned())),
        "ec2:DescribeRouteTables"
    )
    .await?;
    Ok(tables
        .iter()
        .flat_map(|t| t.associations().iter().map(move |a| (t, a)))
        .filter(|(_, a)| !a.main().unwrap_or(false))
        .filter_map(|(t, a)| {
            Some((
                a.subnet_id()?.to_string(),
                (
                    t.route_table_id()?.to_string(),
                    a.route_table_association_id()?.to_string(),
                ),
            ))
        })
        .filter(|(subnet, _)| subnet_ids.contains(subnet))
        .collect())
}

async fn disassociate(
    ctx: &AwsContext,
    table: &str,
    subnets: &BTreeSet<Ref>,
    ids: &Ids,
) -> Result<(), AwsError> {
    let subnet_ids: Vec<String> = subnets
        .iter()
        .map(|s| ids.id(s))
        .collect::<Result<_, _>>()?;
    for (subnet, (owner, association)) in associations_seen(ctx, &subnet_ids).await? {
        // Only this table's associations; a subnet may already have moved on.
        if owner != table {
            continue;
        }
        disassociate_one(ctx, &subnet, &association).await?;
    }
    Ok(())
}

/// Removes one association. NotFound means it is gone only if a describe agrees: an
/// association made moments ago (by an apply just before) can be NotFound to one call and
/// listed by the next (eventual consistency), and a table keeping it cannot be deleted.
async fn disassociate_one(
    ctx: &AwsContext,
    subnet: &str,
    association: &str,
) -> Result<(), AwsError> {
    const TRY_FOR: std::time::Duration = std::time::Duration::from_secs(60);
    let seen = look_until(TRY_FOR, || async {
        let err = match crate::call!(
            ctx.ec2()
                .disassociate_route_table()
                .association_id(association),
            "ec2:DisassociateRouteTable"
        ) {
            Ok(_) => return Ok(Seen::Yes(None)),
            Err(err) if err.is(ErrorKind::NotFound) => err,
            Err(err) => return Err(err),
        };
        let still = associations_of(ctx, &[subnet.to_string()])
            .await?
            .get(subnet)
            .is_some_and(|(_, id)| id == association);
        Ok(if still {
            Seen::NotYet(Some(err))
        } else {
            Seen::Yes(None)
        })
    })
    .await?;
    match seen {
        Seen::NotYet(Some(err)) => Err(err.with_note(format!(
            "association {association} is still listed after {} s",
            TRY_FOR.as_secs()
        ))),
        _ => Ok(()),
    }
}

/// Associates subnets with this table; a subnet still associated with another table is
/// moved in one call (ReplaceRouteTableAssociation), never left without a table.
async fn associate(
    ctx: &AwsContext,
    table: &str,
    subnets: &BTreeSet<Ref>,
    ids: &Ids,
) -> Result<(), AwsError> {
    let subnet_ids: Vec<String> = subnets
        .iter()
        .map(|s| ids.id(s))
        .collect::<Result<_, _>>()?;
    let current = associations_of(ctx, &subnet_ids).await?;
    for subnet in &subnet_ids {
        match current.get(subnet) {
            Some((owner, _)) if owner == table => {}
            Some((_, association)) => move_association(ctx, association, table).await?,
            None => {
                let associated = crate::call!(
                    ctx.ec2()
                        .associate_route_table()
                        .route_table_id(table)
                        .subnet_id(subnet),
                    "ec2:AssociateRouteTable"
                );
                match associated {
                    // An association the describe did not show yet (a table made moments
                    // ago): wait until it shows, then move it here if it is elsewhere.
                    Err(err) if err.code.as_deref() == Some("Resource.AlreadyAssociated") => {
                        let seen = associations_seen(ctx, std::slice::from_ref(subnet)).await?;
                        match seen.get(subnet) {
                            Some((owner, _)) if owner == table => {}
                            Some((_, association)) => {
                                move_association(ctx, association, table).await?
                            }
                            None => return Err(err),
                        }
                    }
                    other => {
                        other?;
                    }
                }
            }
        }
    }
    Ok(())
}

/// Moves a subnet's association to `table` in one call, so it is never without a table.
async fn move_association(
    ctx: &AwsContext,
    association: &str,
    table: &str,
) -> Result<(), AwsError> {
    crate::call!(
        ctx.ec2()
            .replace_route_table_association()
            .association_id(association)
            .route_table_id(table),
        "ec2:ReplaceRouteTableAssociation"
    )?;
    Ok(())
}
