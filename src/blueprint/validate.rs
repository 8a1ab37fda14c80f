//! Semantic checks over a parsed blueprint, producing the desired resources.
//!
//! Steps, in order: version and stack name; tags; the network (VPC, subnets, NAT, route
//! tables, flow logs); security groups and their rules; the dependency graph. Every problem
//! is collected with its position before failing, so one run shows all of them.

use std::collections::{BTreeMap, BTreeSet};

use ipnet::{IpNet, Ipv4Net};
use serde_json::json;

use super::diagnostic::{Diagnostic, Diagnostics};
use super::source::Source;
use super::span::{Span, Spanned};
use super::types::{self, Blueprint, NatMode, Network, Tier};
use crate::model::{
    Address, Desired, Direction, ElasticIpProps, FlowLogProps, IamRoleProps, InternetGatewayProps,
    Kind, LogGroupProps, NatGatewayProps, Peer, Props, Protocol, Ref, Resource, RouteTableProps,
    SecurityGroupProps, SecurityGroupRule, SubnetProps, TAG_ADDRESS, TAG_STACK, Tags, VpcProps,
    graph,
};
use crate::naming;

/// Facts about the target account that shape the desired resources. Both are optional so
/// `validate` works without AWS access.
#[derive(Clone, Debug, Default)]
pub struct Target {
    pub region: Option<String>,
    pub account: Option<String>,
}

#[derive(Debug)]
pub struct Validated {
    pub desired: Desired,
    pub warnings: Vec<Diagnostic>,
}

/// CloudWatch Logs accepts only these retention periods (PutRetentionPolicy).
pub const LOG_RETENTION_DAYS: &[i64] = &[
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922,
    3288, 3653,
];

pub fn validate(
    bp: &Blueprint,
    source: &Source,
    target: &Target,
) -> Result<Validated, Diagnostics> {
    let mut v = Checker {
        source,
        diagnostics: Diagnostics::default(),
        resources: BTreeMap::new(),
        stack: bp.stack.value.clone(),
        region: None,
        account: target.account.clone(),
        base_tags: Tags::new(),
    };
    v.check_version(&bp.version);
    v.check_stack(&bp.stack);
    v.region = v.check_region(bp.region.as_ref(), target.region.as_deref());
    v.base_tags = v.user_tags(&bp.tags, "tags");

    let vpc = bp.network.as_ref().and_then(|network| v.network(network));
    v.security_groups(&bp.security_groups, vpc.as_ref(), bp.network.is_some());
    v.check_graph();

    if v.diagnostics.has_errors() {
        return Err(v.diagnostics);
    }
    Ok(Validated {
        desired: Desired {
            stack: v.stack,
            region: v.region,
            resources: v.resources,
        },
        warnings: v.diagnostics.items,
    })
}

struct Checker<'a> {
    source: &'a Source,
    diagnostics: Diagnostics,
    resources: BTreeMap<Address, Resource>,
    stack: String,
    region: Option<String>,
    account: Option<String>,
    base_tags: Tags,
}

/// A subnet that passed its own checks, for the checks that look across subnets.
struct CheckedSubnet<'a> {
    name: &'a Spanned<String>,
    cidr: Option<Ipv4Net>,
    cidr_span: Span,
    az: String,
    az_span: Span,
    tier: Tier,
}

impl Checker<'_> {
    fn error(
        &mut self,
        span: Span,
        path: impl Into<String>,
        message: impl Into<String>,
    ) -> &mut Diagnostic {
        let diagnostic = Diagnostic::error(message)
            .with_source(self.source, span, "")
            .with_path(path);
        self.diagnostics.push(diagnostic);
        self.diagnostics.items.last_mut().expect("just pushed")
    }

    fn add(&mut self, address: Address, props: Props, extra_tags: Tags) {
        let tags = self.tags_for(&address, extra_tags);
        self.resources.insert(
            address.clone(),
            Resource {
                address,
                props,
                tags,
            },
        );
    }

    fn tags_for(&self, address: &Address, extra: Tags) -> Tags {
        let mut tags = self.base_tags.clone();
        if naming::has_name_tag(address.kind) {
            tags.insert("Name".into(), naming::name_tag(&self.stack, address));
        }
        tags.extend(extra);
        tags.insert(TAG_STACK.into(), self.stack.clone());
        tags.insert(TAG_ADDRESS.into(), address.to_string());
        tags
    }

    fn check_version(&mut self, version: &Spanned<u32>) {
        if version.value != 1 {
            self.error(
                version.span,
                "version",
                format!("unsupported blueprint version {}", version.value),
            )
            .help = Some("this secinfra reads `version: 1`".into());
        }
    }

    fn check_stack(&mut self, stack: &Spanned<String>) {
        if let Err(problem) = naming::check_stack_name(&stack.value) {
            self.error(
                stack.span,
                "stack",
                format!("invalid stack name `{}`: {problem}", stack.value),
            )
            .help = Some(
                "use 1-32 lowercase letters, digits and single hyphens, starting with a letter \
                 (it appears in tags and AWS resource names)"
                    .into(),
            );
        }
    }

    fn check_region(
        &mut self,
        declared: Option<&Spanned<String>>,
        target: Option<&str>,
    ) -> Option<String> {
        if let Some(region) = declared
            && !naming::is_region(&region.value)
        {
            self.error(
                region.span,
                "region",
                format!("`{}` is not an AWS region name", region.value),
            )
            .help = Some("write a region such as us-east-1 or eu-west-2".into());
        }
        target
            .map(str::to_string)
            .or_else(|| declared.map(|r| r.value.clone()))
    }

    fn user_tags(
        &mut self,
        tags: &BTreeMap<Spanned<String>, Spanned<types::TagValue>>,
        path: &str,
    ) -> Tags {
        let mut out = Tags::new();
        for (key, value) in tags {
            let key_path = format!("{path}.{}", key.value);
            let lower = key.value.to_ascii_lowercase();
            if lower.starts_with("aws:") || lower.starts_with("secinfra:") {
                self.error(
                    key.span,
                    key_path.clone(),
                    format!("tag key `{}` is reserved", key.value),
                )
                .help = Some(
                    "keys starting with `aws:` belong to AWS and `secinfra:` to secinfra".into(),
                );
            } else if key.value.is_empty() || key.value.chars().count() > 128 {
                self.error(key.span, key_path.clone(), "tag keys are 1-128 characters");
            }
            if value.value.0.chars().count() > 256 {
                self.error(
                    value.span,
                    key_path,
                    "tag values are at most 256 characters",
                );
            }
            out.insert(key.value.clone(), value.value.0.clone());
        }
        out
    }

    fn check_name(&mut self, name: &Spanned<String>, path: &str, what: &str) {
        if let Err(problem) = naming::check_resource_name(&name.value) {
            self.error(name.span, path, format!("invalid {what} name `{}`: {problem}", name.value))
                .help = Some("use 1-40 lowercase letters, digits and hyphens, not starting or ending with a hyphen".into());
        }
    }

    fn parse_cidr(&mut self, cidr: &Spanned<String>, path: &str) -> Option<Ipv4Net> {
        let text = cidr.value.trim();
        let net = match text.parse::<Ipv4Net>() {
            Ok(net) => net,
            Err(_) => {
                let help = if text.parse::<IpNet>().is_ok() {
                    "VPCs and subnets here are IPv4; write a block such as 10.0.0.0/16"
                } else {
                    "write an IPv4 block in CIDR notation, such as 10.0.0.0/16"
                };
                self.error(
                    cidr.span,
                    path,
                    format!("`{text}` is not an IPv4 CIDR block"),
                )
                .help = Some(help.into());
                return None;
            }
        };
        if net.trunc() != net {
            self.error(cidr.span, path, format!("`{net}` has host bits set"))
                .help = Some(format!("did you mean {}?", net.trunc()));
            return None;
        }
        if !(16..=28).contains(&net.prefix_len()) {
            self.error(
                cidr.span,
                path,
                format!("`{net}`: AWS allows /16 to /28 blocks for VPCs and subnets"),
            );
            return None;
        }
        Some(net)
    }

    /// Checks the network section and adds its resources; returns the VPC address.
    fn network(&mut self, network: &Network) -> Option<Address> {
        let vpc_address = Address::new(Kind::Vpc, "main");
        let vpc_cidr = self.parse_cidr(&network.vpc.cidr, "network.vpc.cidr");
        let restrict = network
            .vpc
            .restrict_default_security_group
            .as_ref()
            .is_none_or(|b| b.value);
        let vpc_tags = self.user_tags(&network.vpc.tags, "network.vpc.tags");
        if let Some(cidr) = vpc_cidr {
            self.add(
                vpc_address.clone(),
                Props::Vpc(VpcProps {
                    cidr,
                    dns_support: network.vpc.dns_support.as_ref().is_none_or(|b| b.value),
                    dns_hostnames: network.vpc.dns_hostnames.as_ref().is_none_or(|b| b.value),
                    default_security_group_rules: restrict.then(BTreeSet::new),
                }),
                vpc_tags,
            );
        }

        let subnets = self.subnets(network, vpc_cidr, &vpc_address);
        self.check_overlaps(&subnets);
        let nat = network.nat.as_ref().map_or(NatMode::None, |n| n.value);
        let nat_by_az = self.nat_gateways(network, nat, &subnets);
        self.route_tables(nat, &subnets, &nat_by_az, &vpc_address);
        if let Some(flow_logs) = &network.flow_logs {
            self.flow_logs(flow_logs, &vpc_address);
        }
        Some(vpc_address)
    }

    fn subnets<'n>(
        &mut self,
        network: &'n Network,
        vpc_cidr: Option<Ipv4Net>,
        vpc: &Address,
    ) -> Vec<CheckedSubnet<'n>> {
        if network.subnets.is_empty() {
            self.error(
                network.vpc.cidr.span,
                "network.subnets",
                "the network declares no subnets",
            )
            .help = Some("add `subnets:` with at least one subnet under `network:`".into());
        }
        let mut checked = Vec::new();
        for (name, subnet) in &network.subnets {
            let path = format!("network.subnets.{}", name.value);
            self.check_name(name, &path, "subnet");
            let cidr = self.parse_cidr(&subnet.cidr, &format!("{path}.cidr"));
            if let (Some(cidr), Some(vpc_cidr)) = (cidr, vpc_cidr)
                && !vpc_cidr.contains(&cidr)
            {
                let diagnostic = self.error(
                    subnet.cidr.span,
                    format!("{path}.cidr"),
                    format!(
                        "subnet `{}` ({cidr}) lies outside the VPC ({vpc_cidr})",
                        name.value
                    ),
                );
                diagnostic.label = Some(format!("not inside {vpc_cidr}"));
                diagnostic.help = Some(format!("choose a block inside {vpc_cidr}"));
                diagnostic.related.push(super::diagnostic::Related {
                    span: network.vpc.cidr.span,
                    label: "the VPC's block".into(),
                });
            }
            let az = self.availability_zone(&subnet.az, &format!("{path}.az"));
            let tags = self.user_tags(&subnet.tags, &format!("{path}.tags"));
            if let Some(cidr) = cidr {
                self.add(
                    Address::new(Kind::Subnet, &name.value),
                    Props::Subnet(SubnetProps {
                        vpc: Ref::Address(vpc.clone()),
                        cidr,
                        availability_zone: az.clone(),
                        map_public_ip_on_launch: false,
                    }),
                    tags,
                );
            }
            checked.push(CheckedSubnet {
                name,
                cidr,
                cidr_span: subnet.cidr.span,
                az,
                az_span: subnet.az.span,
                tier: subnet.tier.value,
            });
        }
        checked
    }

    /// `a` → `us-east-1a` once the region is known; a full name must be in the region.
    fn availability_zone(&mut self, az: &Spanned<String>, path: &str) -> String {
        let text = az.value.trim();
        if text.len() == 1 && text.chars().all(|c| c.is_ascii_lowercase()) {
            return match &self.region {
                Some(region) => format!("{region}{text}"),
                None => text.to_string(),
            };
        }
        let Some(region) = naming::region_of_az(text) else {
            self.error(
                az.span,
                path,
                format!("`{text}` is not an availability zone"),
            )
            .help = Some("write the zone letter (`a`) or its full name (`us-east-1a`)".into());
            return text.to_string();
        };
        if let Some(expected) = &self.region
            && region != expected
        {
            self.error(
                az.span,
                path,
                format!("availability zone `{text}` is not in region {expected}"),
            )
            .help = Some(format!(
                "use a zone of {expected}, e.g. `{expected}a`, or just the letter"
            ));
        }
        text.to_string()
    }

    fn check_overlaps(&mut self, subnets: &[CheckedSubnet]) {
        for (i, a) in subnets.iter().enumerate() {
            for b in &subnets[i + 1..] {
                let (Some(na), Some(nb)) = (a.cidr, b.cidr) else {
                    continue;
                };
                if na.contains(&nb.network()) || nb.contains(&na.network()) {
                    let diagnostic = self.error(
                        b.cidr_span,
                        format!("network.subnets.{}.cidr", b.name.value),
                        format!(
                            "subnet `{}` ({nb}) overlaps subnet `{}` ({na})",
                            b.name.value, a.name.value
                        ),
                    );
                    diagnostic.label = Some(format!("overlaps {na}"));
                    diagnostic.help = Some("give each subnet its own block inside the VPC".into());
                    diagnostic.related.push(super::diagnostic::Related {
                        span: a.cidr_span,
                        label: format!("`{}` is declared here", a.name.value),
                    });
                }
            }
        }
    }

    /// Adds the internet gateway, Elastic IPs and NAT gateways; returns the NAT gateway
    /// serving each AZ.
    fn nat_gateways(
        &mut self,
        network: &Network,
        nat: NatMode,
        subnets: &[CheckedSubnet],
    ) -> BTreeMap<String, Address> {
        let vpc = Ref::Address(Address::new(Kind::Vpc, "main"));
        let public: Vec<&CheckedSubnet> =
            subnets.iter().filter(|s| s.tier == Tier::Public).collect();
        if !public.is_empty() {
            self.add(
                Address::new(Kind::InternetGateway, "main"),
                Props::InternetGateway(InternetGatewayProps { vpc: Some(vpc) }),
                Tags::new(),
            );
        }
        let private: Vec<&CheckedSubnet> =
            subnets.iter().filter(|s| s.tier == Tier::Private).collect();
        let nat_span = network.nat.as_ref().map(|n| n.span);
        let mut by_az = BTreeMap::new();
        match nat {
            NatMode::None => {
                if let Some(subnet) = private.first() {
                    let diagnostic = self.error(
                        subnet.name.span,
                        format!("network.subnets.{}.tier", subnet.name.value),
                        format!(
                            "subnet `{}` is `private` but the network has no NAT gateway",
                            subnet.name.value
                        ),
                    );
                    diagnostic.help = Some(
                        "set `nat: per_az` or `nat: single` under `network:` for outbound access, \
                         or make the subnet `tier: isolated`"
                            .into(),
                    );
                }
            }
            NatMode::Single => {
                if private.is_empty() {
                    return by_az;
                }
                let Some(host) = public.first() else {
                    self.nat_without_public(
                        nat_span,
                        "`nat: single` needs a public subnet to hold the NAT gateway",
                    );
                    return by_az;
                };
                let nat_address = self.add_nat(host);
                for subnet in &private {
                    by_az.insert(subnet.az.clone(), nat_address.clone());
                }
            }
            NatMode::PerAz => {
                let azs: BTreeSet<&String> = private.iter().map(|s| &s.az).collect();
                for az in azs {
                    match public.iter().find(|p| &p.az == az) {
                        Some(host) => {
                            let nat_address = self.add_nat(host);
                            by_az.insert(az.clone(), nat_address);
                        }
                        None => {
                            let subnet = private
                                .iter()
                                .find(|s| &s.az == az)
                                .expect("az from private subnets");
                            let diagnostic = self.error(
                                subnet.az_span,
                                format!("network.subnets.{}.az", subnet.name.value),
                                format!(
                                    "`nat: per_az` needs a public subnet in {az} for the NAT gateway of subnet `{}`",
                                    subnet.name.value
                                ),
                            );
                            diagnostic.help = Some(format!(
                                "add a `tier: public` subnet in {az}, or use `nat: single`"
                            ));
                        }
                    }
                }
            }
        }
        by_az
    }

    fn nat_without_public(&mut self, span: Option<Span>, message: &str) {
        let diagnostic = self.error(span.unwrap_or(Span::UNKNOWN), "network.nat", message);
        diagnostic.help = Some("add a `tier: public` subnet, or set `nat: none`".into());
    }

    fn add_nat(&mut self, host: &CheckedSubnet) -> Address {
        let name = host.name.value.clone();
        let eip = Address::new(Kind::ElasticIp, &name);
        let nat = Address::new(Kind::NatGateway, &name);
        self.add(
            eip.clone(),
            Props::ElasticIp(ElasticIpProps {
                domain: "vpc".into(),
            }),
            Tags::new(),
        );
        self.add(
            nat.clone(),
            Props::NatGateway(NatGatewayProps {
                subnet: Ref::Address(Address::new(Kind::Subnet, &name)),
                elastic_ip: Ref::Address(eip),
                connectivity_type: "public".into(),
            }),
            Tags::new(),
        );
        nat
    }

    fn route_tables(
        &mut self,
        nat: NatMode,
        subnets: &[CheckedSubnet],
        nat_by_az: &BTreeMap<String, Address>,
        vpc: &Address,
    ) {
        let members = |tier: Tier, az: Option<&str>| -> BTreeSet<Ref> {
            subnets
                .iter()
                .filter(|s| s.tier == tier && s.cidr.is_some() && az.is_none_or(|az| s.az == az))
                .map(|s| Ref::Address(Address::new(Kind::Subnet, &s.name.value)))
                .collect()
        };
        let mut table = |name: String, routes: BTreeMap<String, Ref>, subnets: BTreeSet<Ref>| {
            if subnets.is_empty() {
                return;
            }
            self.add(
                Address::new(Kind::RouteTable, name),
                Props::RouteTable(RouteTableProps {
                    vpc: Ref::Address(vpc.clone()),
                    routes,
                    subnets,
                }),
                Tags::new(),
            );
        };
        let default_route = |target: &Address| {
            BTreeMap::from([("0.0.0.0/0".to_string(), Ref::Address(target.clone()))])
        };

        table(
            "public".into(),
            default_route(&Address::new(Kind::InternetGateway, "main")),
            members(Tier::Public, None),
        );
        match nat {
            NatMode::PerAz => {
                for (az, nat_address) in nat_by_az {
                    let letter = az.chars().last().map(String::from).unwrap_or_default();
                    table(
                        format!("private-{letter}"),
                        default_route(nat_address),
                        members(Tier::Private, Some(az)),
                    );
                }
            }
            NatMode::Single => {
                if let Some(nat_address) = nat_by_az.values().next() {
                    table(
                        "private".into(),
                        default_route(nat_address),
                        members(Tier::Private, None),
                    );
                }
            }
            NatMode::None => {}
        }
        table(
            "isolated".into(),
            BTreeMap::new(),
            members(Tier::Isolated, None),
        );
    }

    fn flow_logs(&mut self, flow_logs: &types::FlowLogs, vpc: &Address) {
        let path = "network.flow_logs";
        let name = &flow_logs.log_group;
        if let Err(problem) = naming::check_log_group_name(&name.value) {
            self.error(
                name.span,
                format!("{path}.log_group"),
                format!("invalid log group name `{}`: {problem}", name.value),
            );
        }
        let retention = flow_logs
            .retention_days
            .as_ref()
            .and_then(|days| self.retention(days, &format!("{path}.retention_days")));
        let interval = match &flow_logs.max_aggregation_interval {
            None => 600,
            Some(s) if s.value == 60 || s.value == 600 => s.value as i32,
            Some(s) => {
                self.error(
                    s.span,
                    format!("{path}.max_aggregation_interval"),
                    format!("aggregation interval {} is not allowed", s.value),
                )
                .help = Some("VPC flow logs aggregate over 60 or 600 seconds".into());
                600
            }
        };
        let log_group = Address::new(Kind::LogGroup, "flow-logs");
        self.add(
            log_group.clone(),
            Props::LogGroup(LogGroupProps {
                name: name.value.clone(),
                retention_days: retention,
            }),
            Tags::new(),
        );
        let role = match &flow_logs.iam_role_arn {
            Some(arn) => {
                if !naming::is_role_arn(&arn.value) {
                    self.error(arn.span, format!("{path}.iam_role_arn"), format!("`{}` is not an IAM role ARN", arn.value))
                        .help = Some("write arn:aws:iam::<account>:role/<name>, or omit it to let secinfra create the role".into());
                }
                Ref::External(arn.value.clone())
            }
            None => {
                let role = Address::new(Kind::IamRole, "flow-logs");
                let props = self.flow_log_role(&name.value);
                self.add(role.clone(), Props::IamRole(props), Tags::new());
                Ref::Address(role)
            }
        };
        self.add(
            Address::new(Kind::FlowLog, "vpc"),
            Props::FlowLog(FlowLogProps {
                vpc: Ref::Address(vpc.clone()),
                traffic_type: flow_logs
                    .traffic
                    .as_ref()
                    .map_or("ALL", |t| t.value.as_str())
                    .into(),
                log_group: Ref::Address(log_group),
                deliver_logs_role: role,
                max_aggregation_interval: interval,
            }),
            Tags::new(),
        );
    }

    /// The least-privilege role VPC Flow Logs assumes to write to the one log group.
    /// The trust policy is limited to this account's flow logs (confused-deputy guard)
    /// when the account is known.
    fn flow_log_role(&self, log_group: &str) -> IamRoleProps {
        let region = self.region.as_deref().unwrap_or("*");
        let account = self.account.as_deref().unwrap_or("*");
        let partition = naming::partition(region);
        let group_arn = format!("arn:{partition}:logs:{region}:{account}:log-group:{log_group}");
        let mut statement = json!({
            "Effect": "Allow",
            "Principal": {"Service": "vpc-flow-logs.amazonaws.com"},
            "Action": "sts:AssumeRole",
        });
        if let Some(account) = &self.account {
            statement["Condition"] = json!({
                "StringEquals": {"aws:SourceAccount": account},
                "ArnLike": {"aws:SourceArn": format!("arn:{partition}:ec2:{region}:{account}:vpc-flow-log/*")},
            });
        }
        IamRoleProps {
            name: naming::role_name(&self.stack, region, "flow-logs"),
            path: naming::role_path(&self.stack, region),
            assume_role_policy: crate::policy::normalize(&json!({
                "Version": "2012-10-17",
                "Statement": [statement],
            })),
            policy: crate::policy::normalize(&json!({
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Sid": "WriteFlowLogs",
                        "Effect": "Allow",
                        "Action": ["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"],
                        "Resource": [group_arn.clone(), format!("{group_arn}:*")],
                    },
                    {
                        "Sid": "FindLogGroup",
                        "Effect": "Allow",
                        "Action": "logs:DescribeLogGroups",
                        "Resource": format!("arn:{partition}:logs:{region}:{account}:log-group:*"),
                    },
                ],
            })),
        }
    }

    fn retention(&mut self, days: &Spanned<i64>, path: &str) -> Option<i32> {
        if LOG_RETENTION_DAYS.contains(&days.value) {
            return Some(days.value as i32);
        }
        let nearest = LOG_RETENTION_DAYS
            .iter()
            .min_by_key(|d| (*d - days.value).abs())
            .copied()
            .unwrap_or(90);
        self.error(
            days.span,
            path,
            format!("CloudWatch Logs cannot keep logs for {} days", days.value),
        )
        .help = Some(format!(
            "the nearest allowed value is {nearest}; allowed: {}",
            LOG_RETENTION_DAYS
                .iter()
                .map(i64::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        ));
        None
    }

    fn security_groups(
        &mut self,
        groups: &BTreeMap<Spanned<String>, types::SecurityGroup>,
        vpc: Option<&Address>,
        has_network: bool,
    ) {
        if groups.is_empty() {
            return;
        }
        let vpc = match vpc {
            Some(vpc) => vpc.clone(),
            None => {
                if !has_network {
                    let first = groups.keys().next().expect("non-empty");
                    self.error(first.span, "security_groups", "security groups need a VPC")
                        .help = Some("declare `network:` with a `vpc:` in the blueprint".into());
                }
                return;
            }
        };
        let names: BTreeSet<&str> = groups.keys().map(|k| k.value.as_str()).collect();
        for (name, group) in groups {
            let path = format!("security_groups.{}", name.value);
            self.check_name(name, &path, "security group");
            let address = Address::new(Kind::SecurityGroup, &name.value);
            let mut ingress = BTreeSet::new();
            let mut seen: BTreeMap<SecurityGroupRule, Span> = BTreeMap::new();
            for (i, rule) in group.ingress.iter().enumerate() {
                let spec = RuleSpec {
                    port: rule.value.port.as_ref(),
                    protocol: rule.value.protocol.as_ref(),
                    peer: &rule.value.from,
                    span: rule.span,
                };
                if let Some(rule) = self.rule(
                    &spec,
                    Direction::Ingress,
                    &address,
                    &names,
                    &format!("{path}.ingress[{i}]"),
                ) {
                    self.check_duplicate(
                        &rule,
                        spec.span,
                        &mut seen,
                        &format!("{path}.ingress[{i}]"),
                    );
                    ingress.insert(rule);
                }
            }
            let mut egress = BTreeSet::new();
            for (i, rule) in group.egress.iter().enumerate() {
                let spec = RuleSpec {
                    port: rule.value.port.as_ref(),
                    protocol: rule.value.protocol.as_ref(),
                    peer: &rule.value.to,
                    span: rule.span,
                };
                if let Some(rule) = self.rule(
                    &spec,
                    Direction::Egress,
                    &address,
                    &names,
                    &format!("{path}.egress[{i}]"),
                ) {
                    self.check_duplicate(
                        &rule,
                        spec.span,
                        &mut seen,
                        &format!("{path}.egress[{i}]"),
                    );
                    egress.insert(rule);
                }
            }
            let description = match &group.description {
                Some(d) => {
                    if let Err(problem) = naming::check_group_description(&d.value) {
                        self.error(d.span, format!("{path}.description"), problem);
                    }
                    d.value.clone()
                }
                None => format!("secinfra {} {}", self.stack, name.value),
            };
            let tags = self.user_tags(&group.tags, &format!("{path}.tags"));
            self.add(
                address,
                Props::SecurityGroup(SecurityGroupProps {
                    vpc: Ref::Address(vpc.clone()),
                    group_name: format!("{}-{}", self.stack, name.value),
                    description,
                    ingress,
                    egress,
                }),
                tags,
            );
        }
    }

    fn check_duplicate(
        &mut self,
        rule: &SecurityGroupRule,
        span: Span,
        seen: &mut BTreeMap<SecurityGroupRule, Span>,
        path: &str,
    ) {
        if let Some(first) = seen.get(rule).copied() {
            let diagnostic = self.error(span, path, format!("duplicate rule `{rule}`"));
            diagnostic.help = Some("remove one of the two".into());
            diagnostic.related.push(super::diagnostic::Related {
                span: first,
                label: "first declared here".into(),
            });
        } else {
            seen.insert(rule.clone(), span);
        }
    }

    fn rule(
        &mut self,
        spec: &RuleSpec,
        direction: Direction,
        group: &Address,
        names: &BTreeSet<&str>,
        path: &str,
    ) -> Option<SecurityGroupRule> {
        let protocol = match spec.protocol {
            None => Protocol::Tcp,
            Some(p) => match p.value.trim().to_ascii_lowercase().as_str() {
                "tcp" => Protocol::Tcp,
                "udp" => Protocol::Udp,
                "icmp" => Protocol::Icmp,
                "icmpv6" => Protocol::Icmpv6,
                "all" | "-1" => Protocol::All,
                other => {
                    self.error(
                        p.span,
                        format!("{path}.protocol"),
                        format!("unknown protocol `{other}`"),
                    )
                    .help = Some(super::de::suggest(
                        other,
                        &["tcp", "udp", "icmp", "icmpv6", "all"],
                        "protocols",
                    ));
                    return None;
                }
            },
        };
        let ports = match (spec.port, protocol.has_ports()) {
            (Some(port), true) => {
                let (from, to) = (port.value.from, port.value.to);
                if !(1..=65535).contains(&from) || !(1..=65535).contains(&to) {
                    self.error(
                        port.span,
                        format!("{path}.port"),
                        format!(
                            "port {} is out of range",
                            if (1..=65535).contains(&from) {
                                to
                            } else {
                                from
                            }
                        ),
                    )
                    .help = Some("ports are 1-65535".into());
                    return None;
                }
                if from > to {
                    self.error(
                        port.span,
                        format!("{path}.port"),
                        format!("port range {from}-{to} is reversed"),
                    )
                    .help = Some(format!("write {to}-{from}"));
                    return None;
                }
                Some((from as u16, to as u16))
            }
            (None, true) => {
                self.error(spec.span, path, format!("{protocol} rule has no `port`"))
                    .help = Some(
                    "add `port: 443` (or a range \"1024-65535\"), or use `protocol: all`".into(),
                );
                return None;
            }
            (Some(port), false) => {
                self.error(
                    port.span,
                    format!("{path}.port"),
                    format!("{protocol} rules take no port"),
                )
                .help = Some("remove `port`, or use protocol tcp or udp".into());
                return None;
            }
            (None, false) => None,
        };
        let peer_field = match direction {
            Direction::Ingress => "from",
            Direction::Egress => "to",
        };
        let peer = self.peer(spec.peer, group, names, &format!("{path}.{peer_field}"))?;
        Some(SecurityGroupRule {
            direction,
            protocol,
            ports,
            peer,
        })
    }

    fn peer(
        &mut self,
        text: &Spanned<String>,
        group: &Address,
        names: &BTreeSet<&str>,
        path: &str,
    ) -> Option<Peer> {
        let value = text.value.trim();
        if value == "self" {
            return Some(Peer::Group(Ref::Address(group.clone())));
        }
        if let Ok(net) = value.parse::<IpNet>() {
            if net.trunc() != net {
                self.error(text.span, path, format!("`{net}` has host bits set"))
                    .help = Some(format!("did you mean {}?", net.trunc()));
                return None;
            }
            return Some(Peer::Cidr(net));
        }
        if let Ok(address) = value.parse::<Address>() {
            if address.kind != Kind::SecurityGroup {
                self.error(
                    text.span,
                    path,
                    format!("rules reference security groups, not {}", address.kind),
                )
                .help = Some("write a CIDR block, `security_group.<name>` or `self`".into());
                return None;
            }
            if !names.contains(address.name.as_str()) {
                let expected: Vec<&str> = names.iter().copied().collect();
                let diagnostic = self.error(text.span, path, format!("`{value}` does not exist"));
                diagnostic.label = Some("no such security group".into());
                diagnostic.help = Some(super::de::suggest(
                    &address.name,
                    &expected,
                    "security groups",
                ));
                return None;
            }
            return Some(Peer::Group(Ref::Address(address)));
        }
        if let Some(rest) = value.strip_prefix("security_group.") {
            self.error(
                text.span,
                path,
                format!("`security_group.{rest}` is missing a group name"),
            );
            return None;
        }
        self.error(
            text.span,
            path,
            format!("`{value}` is not a CIDR block or a security group"),
        )
        .help =
            Some("write a CIDR block (10.0.0.0/8, ::/0), `security_group.<name>` or `self`".into());
        None
    }

    fn check_graph(&mut self) {
        let deps = graph::dependencies(&self.resources);
        if let Err(cycle) = graph::creation_order(&deps) {
            let names: Vec<String> = cycle.iter().map(Address::to_string).collect();
            self.diagnostics.push(
                Diagnostic::error(format!("dependency cycle between {}", names.join(", ")))
                    .with_file(&self.source.name)
                    .with_help("break the cycle: one of these resources must not need the others to exist first"),
            );
        }
    }
}

struct RuleSpec<'a> {
    port: Option<&'a Spanned<types::PortSpec>>,
    protocol: Option<&'a Spanned<String>>,
    peer: &'a Spanned<String>,
    span: Span,
}
