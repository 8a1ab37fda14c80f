//! The `network:` section: VPC, subnets, NAT, route tables and flow logs.

use std::collections::{BTreeMap, BTreeSet};

/// Block sizes AWS allows for VPCs and subnets.
pub(crate) const PREFIX_LENGTHS: std::ops::RangeInclusive<u8> = 16..=28;
/// Seconds VPC flow logs aggregate over.
pub(crate) const AGGREGATION_INTERVALS: &[i64] = &[60, 600];

use ipnet::{IpNet, Ipv4Net};
use serde_json::json;

use super::Checker;
use crate::blueprint::diagnostic::Related;
use crate::blueprint::span::{Span, Spanned};
use crate::blueprint::types::{Name, TagValue};
use crate::model::{
    Address, ElasticIpProps, FlowLogProps, IamRoleProps, InternetGatewayProps, Kind, LogGroupProps,
    NatGatewayProps, Props, Ref, RouteTableProps, SubnetProps, Tags, VpcProps,
};
use crate::naming;
use schemars::JsonSchema;
use serde::Deserialize;
use std::fmt;

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(transform = schema::network)]
pub struct Network {
    pub vpc: Vpc,
    /// VPC flow logs to a CloudWatch Logs group.
    #[serde(default)]
    pub flow_logs: Option<FlowLogs>,
    /// NAT gateways for `private` subnets: one per AZ, one shared, or none.
    #[serde(default)]
    pub nat: Option<Spanned<NatMode>>,
    /// Whether the stack's route tables own every route in them (default false: only the
    /// default routes and the routes secinfra declares; routes others add, such as VPC
    /// endpoints, peering or transit gateways, are left alone).
    #[serde(default)]
    pub exclusive_routes: Option<Spanned<bool>>,
    /// Subnets by name.
    #[schemars(transform = schema::resource_names)]
    pub subnets: BTreeMap<Name, Subnet>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Vpc {
    /// IPv4 CIDR of the VPC, /16 to /28.
    #[schemars(transform = schema::ipv4_cidr)]
    pub cidr: Spanned<String>,
    /// Amazon DNS resolution in the VPC (default true).
    #[serde(default)]
    pub dns_support: Option<Spanned<bool>>,
    /// DNS hostnames for instances (default true).
    #[serde(default)]
    pub dns_hostnames: Option<Spanned<bool>>,
    /// Remove every rule from the VPC's default security group (default true; CIS 5.4).
    #[serde(default)]
    pub restrict_default_security_group: Option<Spanned<bool>>,
    #[serde(default)]
    pub tags: BTreeMap<Name, Spanned<TagValue>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum NatMode {
    /// One NAT gateway in each AZ that has private subnets.
    PerAz,
    /// One NAT gateway shared by all AZs.
    Single,
    /// No NAT gateways.
    None,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Tier {
    /// Routed to the internet gateway.
    Public,
    /// Outbound internet through a NAT gateway; no inbound.
    Private,
    /// No route outside the VPC.
    Isolated,
}

impl Tier {
    pub const ALL: [Tier; 3] = [Tier::Public, Tier::Private, Tier::Isolated];

    pub fn as_str(self) -> &'static str {
        match self {
            Tier::Public => "public",
            Tier::Private => "private",
            Tier::Isolated => "isolated",
        }
    }
}

impl fmt::Display for Tier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Subnet {
    /// IPv4 CIDR inside the VPC's, /16 to /28.
    #[schemars(transform = schema::ipv4_cidr)]
    pub cidr: Spanned<String>,
    /// Availability zone: a letter (`a`) in the stack's region, or a full name (`us-east-1a`).
    pub az: Spanned<String>,
    pub tier: Spanned<Tier>,
    #[serde(default)]
    pub tags: BTreeMap<Name, Spanned<TagValue>>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FlowLogs {
    /// Which traffic to log: ALL, ACCEPT or REJECT (default ALL).
    #[serde(default)]
    pub traffic: Option<Spanned<Traffic>>,
    /// CloudWatch Logs group that receives the records (created and managed by secinfra).
    #[schemars(transform = schema::log_group)]
    pub log_group: Spanned<String>,
    /// Days to keep records; one of CloudWatch Logs' retention values. Omit to keep forever.
    #[serde(default)]
    #[schemars(transform = schema::log_retention)]
    pub retention_days: Option<Spanned<i64>>,
    /// IAM role flow logs use to write; omit to let secinfra create a least-privilege one.
    #[serde(default)]
    pub iam_role_arn: Option<Spanned<String>>,
    /// KMS key encrypting the log group (`kms_key.logs`, an alias or an ARN); a blueprint
    /// key's policy gets the grant CloudWatch Logs needs, for this group only.
    #[serde(default)]
    pub kms_key: Option<Spanned<String>>,
    /// Aggregation interval in seconds: 60 or 600 (default 600).
    #[serde(default)]
    #[schemars(transform = schema::aggregation_interval)]
    pub max_aggregation_interval: Option<Spanned<i64>>,
    /// Deleting or replacing the log group (and the flow records in it) is held unless this is
    /// false or the command gets --allow-delete-protected (default true).
    #[serde(default)]
    pub protect: Option<Spanned<bool>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
pub enum Traffic {
    #[serde(alias = "all")]
    ALL,
    #[serde(alias = "accept")]
    ACCEPT,
    #[serde(alias = "reject")]
    REJECT,
}

impl Traffic {
    pub fn as_str(self) -> &'static str {
        match self {
            Traffic::ALL => "ALL",
            Traffic::ACCEPT => "ACCEPT",
            Traffic::REJECT => "REJECT",
        }
    }
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
        if !PREFIX_LENGTHS.contains(&net.prefix_len()) {
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
    pub(super) fn network(&mut self, network: &Network) -> Option<Address> {
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
                network.vpc.cidr.span,
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
        let exclusive = network.exclusive_routes.as_ref().is_some_and(|e| e.value);
        self.route_tables(
            nat,
            &subnets,
            &nat_by_az,
            &vpc_address,
            exclusive,
            network.vpc.cidr.span,
        );
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
                diagnostic.related.push(Related {
                    span: network.vpc.cidr.span,
                    label: "the VPC's block".into(),
                });
            }
            let az = self.availability_zone(&subnet.az, &format!("{path}.az"));
            let tags = self.user_tags(&subnet.tags, &format!("{path}.tags"));
            if let Some(cidr) = cidr {
                self.add(
                    name.span,
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
            self.subnet_tiers
                .insert(name.value.clone(), (subnet.tier.value, az.clone()));
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
                    diagnostic.related.push(Related {
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
                network.vpc.cidr.span,
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
            host.name.span,
            eip.clone(),
            Props::ElasticIp(ElasticIpProps {
                domain: "vpc".into(),
            }),
            Tags::new(),
        );
        self.add(
            host.name.span,
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
        exclusive_routes: bool,
        at: Span,
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
                at,
                Address::new(Kind::RouteTable, name),
                Props::RouteTable(RouteTableProps {
                    vpc: Ref::Address(vpc.clone()),
                    routes,
                    subnets,
                    exclusive_routes,
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

    fn flow_logs(&mut self, flow_logs: &FlowLogs, vpc: &Address) {
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
            Some(s) if AGGREGATION_INTERVALS.contains(&s.value) => s.value as i32,
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
            name.span,
            log_group.clone(),
            Props::LogGroup(LogGroupProps {
                name: name.value.clone(),
                retention_days: retention,
                kms_key: None,
            }),
            super::protection_tags(flow_logs.protect.as_ref()),
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
                self.add(name.span, role.clone(), Props::IamRole(props), Tags::new());
                Ref::Address(role)
            }
        };
        self.add(
            name.span,
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
}

/// How the section's fields read in the JSON Schema (`secinfra schema`), beside the
/// shared transforms and helpers.
pub mod schema {
    pub use crate::blueprint::schema::*;
    use schemars::Schema;
    use serde_json::json;

    pub fn ipv4_cidr(s: &mut Schema) {
        let octet = "(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])";
        let (low, high) = super::PREFIX_LENGTHS.into_inner();
        s.insert(
            "pattern".into(),
            format!("^({octet}\\.){{3}}{octet}/({})$", alternatives(low..=high)).into(),
        );
    }

    pub fn aggregation_interval(s: &mut Schema) {
        one_of(s, super::AGGREGATION_INTERVALS.iter().map(|d| json!(d)));
    }

    /// A `private` subnet routes out through a NAT gateway; without `nat` (or `nat: none`)
    /// there is none.
    pub fn network(s: &mut Schema) {
        let no_private = json!({ "properties": { "tier": { "not": { "const": "private" } } } });
        all_of(
            s,
            [json!({
                "if": {
                    "not": {
                        "required": ["nat"],
                        "properties": { "nat": { "enum": ["per_az", "single"] } }
                    }
                },
                "then": { "properties": { "subnets": { "additionalProperties": no_private } } }
            })],
        );
    }
}
