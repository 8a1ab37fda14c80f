//! EC2 networking: VPC, subnets, internet and NAT gateways, Elastic IPs, route tables,
//! security groups and flow logs. One module per kind; each discovers its kind with one
//! paginated call filtered by `tag:secinfra:stack`, and creates with tags attached
//! (`TagSpecifications`) so a crash never leaves an untagged resource.

/// Every resource of one EC2 `Describe*` call that carries this stack's tag, all pages
/// (the filter runs on the server; `live` checks the tag again).
macro_rules! describe_stack_tagged {
    ($ctx:expr, $describe:ident, $operation:literal) => {
        $crate::all_pages!(
            $ctx.ec2()
                .$describe()
                .filters($crate::aws::network::stack_filter(&$ctx.stack)),
            $operation
        )
    };
}
mod elastic_ip;
mod flow_log;
mod internet_gateway;
mod nat_gateway;
mod route_table;
pub mod security_group;
mod subnet;
mod vpc;

use aws_sdk_ec2::types::{Filter, ResourceType, Tag, TagSpecification};

use super::AwsContext;
use super::error::{AwsError, AwsResult, not_managed};
use super::provider::{Created, Delete, Ids, LinkSync, New, Provider, Scope, Update};
use super::tags::{address_for, from_pairs, is_stack_tagged, sync_tags};
use crate::model::{Kind, LiveResource, Props, Resource, TAG_STACK, Tags, changed};

impl AwsContext {
    /// The run's EC2 client. Besides counting requests, it remembers the ids its creates
    /// return and retries a `NotFound` for one of them while EC2's reads catch up
    /// (`consistency`).
    pub fn ec2(&self) -> aws_sdk_ec2::Client {
        self.client(|config, counter| {
            let fresh = std::sync::Arc::new(super::consistency::FreshIds::default());
            aws_sdk_ec2::Client::from_conf(
                aws_sdk_ec2::config::Builder::from(config)
                    .interceptor(counter)
                    .interceptor(super::consistency::CreatedIdsInterceptor(
                        std::sync::Arc::clone(&fresh),
                    ))
                    .retry_classifier(super::consistency::FreshNotFound(fresh))
                    .build(),
            )
        })
    }
}

crate::provider!(Network, "ec2");

#[async_trait::async_trait]
impl Provider for Network {
    async fn discover(&self, scope: &Scope<'_>) -> AwsResult<Vec<LiveResource>> {
        let ctx = scope.ctx;
        let (vpcs, subnets, igws, eips, nats, tables, groups, flow_logs) = tokio::try_join!(
            vpc::discover(ctx),
            subnet::discover(ctx),
            internet_gateway::discover(ctx),
            elastic_ip::discover(ctx),
            nat_gateway::discover(ctx),
            route_table::discover(ctx),
            security_group::discover(ctx),
            flow_log::discover(ctx),
        )?;
        Ok([vpcs, subnets, igws, eips, nats, tables, groups, flow_logs].concat())
    }

    async fn create(&self, ctx: &AwsContext, resource: &Resource, ids: &Ids) -> AwsResult<Created> {
        let tags = &resource.tags;
        match &resource.props {
            Props::Vpc(props) => vpc::create(ctx, New { props, tags, ids }).await,
            Props::Subnet(props) => subnet::create(ctx, New { props, tags, ids }).await,
            Props::InternetGateway(props) => {
                internet_gateway::create(ctx, New { props, tags, ids }).await
            }
            Props::ElasticIp(props) => elastic_ip::create(ctx, New { props, tags, ids }).await,
            Props::NatGateway(props) => nat_gateway::create(ctx, New { props, tags, ids }).await,
            Props::RouteTable(props) => route_table::create(ctx, New { props, tags, ids }).await,
            Props::SecurityGroup(props) => {
                security_group::create(ctx, New { props, tags, ids }).await
            }
            Props::FlowLog(props) => flow_log::create(ctx, New { props, tags, ids }).await,
            other => Err(not_managed("ec2", other.kind())),
        }
        .map_err(|e| e.at(&resource.address))
    }

    async fn update(&self, ctx: &AwsContext, change: Update<'_>) -> AwsResult<()> {
        let (live, desired, diffs, ids) = (change.live, change.desired, change.diffs, change.ids);
        match &desired.props {
            Props::Vpc(p) => vpc::update(ctx, &live.id, p, diffs, ids).await,
            Props::Subnet(p) => subnet::update(ctx, &live.id, p, diffs).await,
            _ => Ok(()),
        }
        .map_err(|e| e.at(&desired.address))?;
        if changed(diffs, "tags") {
            sync_tags(ctx, &live.id, &live.tags, &desired.tags)
                .await
                .map_err(|e| e.at(&desired.address))?;
        }
        Ok(())
    }

    async fn delete(&self, ctx: &AwsContext, gone: Delete<'_>) -> AwsResult<()> {
        let live = gone.live;
        let ids = gone.ids;
        let id = live.id.as_str();
        match &live.props {
            Props::Vpc(_) => vpc::delete(ctx, id).await,
            Props::Subnet(_) => subnet::delete(ctx, id).await,
            Props::InternetGateway(p) => internet_gateway::delete(ctx, id, p, ids).await,
            Props::ElasticIp(_) => elastic_ip::delete(ctx, id).await,
            Props::NatGateway(_) => nat_gateway::delete(ctx, id).await,
            Props::RouteTable(_) => route_table::delete(ctx, id).await,
            Props::SecurityGroup(_) => security_group::delete(ctx, id).await,
            Props::FlowLog(_) => flow_log::delete(ctx, id).await,
            other => Err(not_managed("ec2", other.kind())),
        }
        .map_err(|e| e.at(&live.address))
    }

    async fn sync_links(
        &self,
        ctx: &AwsContext,
        request: LinkSync<'_>,
        ids: &Ids,
    ) -> AwsResult<()> {
        match request.address.kind {
            Kind::SecurityGroup => security_group::sync_links(ctx, &request, ids).await,
            Kind::RouteTable => route_table::sync_links(ctx, &request, ids).await,
            other => Err(not_managed("ec2", other)),
        }
        .map_err(|e| e.at(request.address))
    }
}

/// `tag:secinfra:stack = <stack>`: every discovery call's filter.
fn stack_filter(stack: &str) -> Filter {
    Filter::builder()
        .name(format!("tag:{TAG_STACK}"))
        .values(stack)
        .build()
}

fn filter(name: &str, values: impl IntoIterator<Item = impl Into<String>>) -> Filter {
    values
        .into_iter()
        .fold(Filter::builder().name(name), |b, v| b.values(v))
        .build()
}

fn tags_of(tags: &[Tag]) -> Tags {
    from_pairs(tags.iter().map(|t| (t.key(), t.value())))
}

fn tag_spec(resource_type: ResourceType, tags: &Tags) -> TagSpecification {
    tags.iter()
        .fold(
            TagSpecification::builder().resource_type(resource_type),
            |b, (k, v)| b.tags(Tag::builder().key(k).value(v).build()),
        )
        .build()
}

/// A discovered EC2 resource, addressed by its `secinfra:address` tag — or `None` when it
/// does not carry this stack's tag. Discovery filters by tag on the server; checking again
/// here means no endpoint's answer can make another stack's resource ours (and so
/// planned for deletion).
fn live(ctx: &AwsContext, id: Option<&str>, props: Props, tags: &[Tag]) -> Option<LiveResource> {
    let (id, tags) = (id.unwrap_or_default(), tags_of(tags));
    if !is_stack_tagged(&tags, &ctx.stack) {
        return None;
    }
    Some(LiveResource {
        address: address_for(props.kind(), &tags, id),
        id: id.to_string(),
        arn: None,
        props,
        tags,
        unmanaged: false,
        unobserved: Default::default(),
        pending: Vec::new(),
    })
}

async fn sync_tags(
    ctx: &AwsContext,
    id: &str,
    before: &Tags,
    after: &Tags,
) -> Result<(), AwsError> {
    sync_tags!(
        before,
        after,
        tag(set) => ctx.ec2().create_tags().resources(id).set_tags(Some(
            set.iter().map(|(k, v)| Tag::builder().key(k).value(v).build()).collect(),
        )),
        "ec2:CreateTags",
        untag(keys) => ctx.ec2().delete_tags().resources(id).set_tags(Some(
            keys.iter().map(|k| Tag::builder().key(k).build()).collect(),
        )),
        "ec2:DeleteTags",
    )
    .await
}

/// The id in a create response, or an error naming the call that failed to return it.
fn returned_id(operation: &str, id: Option<&str>) -> Result<String, AwsError> {
    id.map(str::to_string).ok_or_else(|| {
        AwsError::new(
            operation,
            super::ErrorKind::Other,
            "the response carried no resource id",
        )
    })
}
