//! Real AWS where the emulators are lenient, played by the test proxy (`fault_proxy`)
//! between the CLI and the emulator. Each behaviour is switchable, its window is
//! configurable (compressed in time for tests: AWS's are seconds to minutes), and each
//! resource's window is drawn from a seeded generator, so a run can be repeated:
//!
//! - **IAM propagation**: a role created (CreateRole, UpdateAssumeRolePolicy) or given a
//!   policy (PutRolePolicy) moments ago is refused by the services it is handed to.
//!   CloudTrail answers `InvalidCloudWatchLogsRoleArnException` (fresh trust) or
//!   `InvalidCloudWatchLogsLogGroupArnException` (fresh policy); VPC flow logs answer
//!   `InvalidParameter` "Unable to assume given IAM role". IAM: "Changes that I make are not
//!   always immediately visible",
//!   https://docs.aws.amazon.com/IAM/latest/UserGuide/troubleshoot_general.html#troubleshoot_general_eventual-consistency
//!   (seen on CloudTrail in aws/aws-cdk#1963; on flow logs in hashicorp/terraform-provider-aws#29323).
//! - **EC2 read-after-write consistency**: for a while after an EC2 create returns an id, a
//!   call naming that id answers `<Kind>.NotFound` (`ec2_consistency`), and a describe with
//!   filters leaves the resource out, the default security group of a new VPC too
//!   (`ec2_filter_lag`; `ec2_missed_reads` leaves it out of that many filtered describes
//!   whatever the time, for tests that must not depend on the machine's speed). "Eventual consistency in the Amazon EC2 API",
//!   https://docs.aws.amazon.com/ec2/latest/devguide/eventual-consistency.html
//! - **Tagging index lag**: the Resource Groups Tagging API lists a resource some time after
//!   it was created ("GetResources ... eventually consistent", aws/aws-cli#4173).
//! - **Lingering network interfaces**: DeleteSecurityGroup and DeleteSubnet answer
//!   `DependencyViolation` while a database, cache or NAT gateway uses them and for a while
//!   after it is deleted or moved to other groups, since its network interfaces change
//!   later ("Delete a security group",
//!   https://docs.aws.amazon.com/vpc/latest/userguide/deleting-security-groups.html).
//! - **EC2 request token buckets**: one bucket per action, sized by its class, refused with
//!   `RequestLimitExceeded` when empty ("Request throttling for the Amazon EC2 API",
//!   https://docs.aws.amazon.com/ec2/latest/devguide/ec2-api-throttling.html).
//! - **Static DB parameters**: DescribeDBParameters lists every parameter of the group's
//!   family with its `ApplyType` (moto lists only those set, without it); a static one set
//!   or reset with `ApplyMethod=immediate` is refused with `InvalidParameterCombination`;
//!   set with `pending-reboot`, the instances using the group report `ParameterApplyStatus`
//!   `pending-reboot` ("Modifying parameters in a DB parameter group",
//!   https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_WorkingWithParamGroups.Modifying.html;
//!   "Parameter", https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_Parameter.html).

use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, Instant};

use crate::fault_proxy::{Request, answer, join_answer, next, split_answer, status_of};

/// Which behaviours are on, and their windows (`None`: off).
#[derive(Clone, Debug)]
pub struct Realism {
    pub seed: u64,
    pub iam_propagation: Option<Duration>,
    pub ec2_consistency: Option<Duration>,
    pub ec2_filter_lag: Option<Duration>,
    pub ec2_missed_reads: u32,
    pub tag_index_lag: Option<Duration>,
    pub lingering_interfaces: Option<Duration>,
    pub token_buckets: bool,
    pub static_parameters: bool,
}

impl Realism {
    /// Every behaviour, with windows of a few seconds.
    pub fn all(seed: u64) -> Realism {
        Realism {
            seed,
            iam_propagation: Some(Duration::from_secs(3)),
            ec2_consistency: Some(Duration::from_secs(2)),
            ec2_filter_lag: Some(Duration::from_secs(2)),
            ec2_missed_reads: 0,
            tag_index_lag: Some(Duration::from_secs(4)),
            lingering_interfaces: Some(Duration::from_secs(4)),
            token_buckets: true,
            static_parameters: true,
        }
    }

    /// Every behaviour with shorter windows: what every emulator test meets by default.
    pub fn light(seed: u64) -> Realism {
        Realism {
            seed,
            iam_propagation: Some(Duration::from_millis(1500)),
            ec2_consistency: Some(Duration::from_millis(1000)),
            ec2_filter_lag: Some(Duration::from_millis(1000)),
            ec2_missed_reads: 0,
            tag_index_lag: Some(Duration::from_secs(2)),
            lingering_interfaces: Some(Duration::from_secs(2)),
            token_buckets: true,
            static_parameters: true,
        }
    }

    pub fn none() -> Realism {
        Realism {
            seed: 1,
            iam_propagation: None,
            ec2_consistency: None,
            ec2_filter_lag: None,
            ec2_missed_reads: 0,
            tag_index_lag: None,
            lingering_interfaces: None,
            token_buckets: false,
            static_parameters: false,
        }
    }

    /// Only EC2's token buckets.
    pub fn buckets_only() -> Realism {
        Realism {
            token_buckets: true,
            ..Realism::none()
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Behaviour {
    /// A role handed to CloudTrail or flow logs before it propagated.
    IamPropagation,
    /// A call naming a new EC2 id answered NotFound.
    Ec2NotFound,
    /// A new EC2 resource left out of a filtered describe.
    Ec2Omitted,
    /// A new resource left out of the tagging index.
    TagIndexLag,
    /// A delete refused while network interfaces used the group or subnet.
    DependencyViolation,
    /// A request refused by an empty EC2 token bucket.
    RequestLimitExceeded,
    /// A static DB parameter set with `immediate`.
    StaticParameter,
}

/// PostgreSQL parameters RDS marks static (a few of them; what the suite's blueprints use).
const STATIC_PARAMETERS: [&str; 4] = [
    "max_connections",
    "shared_preload_libraries",
    "max_worker_processes",
    "max_locks_per_transaction",
];

/// Something that puts network interfaces into security groups and subnets.
struct User {
    id: String,
    groups: Vec<String>,
    subnets: Vec<String>,
    /// When its interfaces are gone (set when it is deleted).
    gone_at: Option<Instant>,
    /// Groups it was moved off, and when: its interfaces keep them for the window.
    left: Vec<(String, Instant)>,
}

pub struct RealismState {
    config: Realism,
    rng: u64,
    /// Role name → until when its trust, and its policy, are fresh.
    roles: HashMap<String, (Option<Instant>, Option<Instant>)>,
    /// EC2 id → when calls naming it stop answering NotFound.
    fresh: HashMap<String, Instant>,
    /// EC2 id → when filtered describes start listing it.
    unlisted: HashMap<String, Instant>,
    /// EC2 id (or `default:<vpc id>`) → filtered describes it is still left out of.
    misses: HashMap<String, u32>,
    /// VPC id → when its default security group becomes visible.
    default_groups: HashMap<String, Instant>,
    users: Vec<User>,
    /// `rds:<name>` / `elasticache:<name>` → subnets of a subnet group.
    subnet_groups: HashMap<String, Vec<String>>,
    /// Text an ARN contains (an id, a name) → when the tagging index lists it.
    unindexed: Vec<(String, Instant)>,
    /// EC2 `action:unfiltered` → tokens and when they were counted.
    buckets: HashMap<String, (f64, Instant)>,
    /// DB parameter groups with a static parameter set `pending-reboot`.
    awaiting_reboot: std::collections::BTreeSet<String>,
    counts: BTreeMap<Behaviour, usize>,
}

/// The element an EC2 create response carries the new resource's id in.
fn created_id_element(action: &str) -> Option<&'static str> {
    Some(match action {
        "CreateVpc" => "vpcId",
        "CreateSubnet" => "subnetId",
        "CreateSecurityGroup" => "groupId",
        "CreateRouteTable" => "routeTableId",
        "CreateInternetGateway" => "internetGatewayId",
        "CreateNatGateway" => "natGatewayId",
        "AllocateAddress" => "allocationId",
        "AssociateRouteTable" => "associationId",
        "CreateFlowLogs" => "flowLogIdSet",
        _ => return None,
    })
}

/// The element that holds a described resource's own id.
fn described_id_element(action: &str) -> Option<&'static str> {
    Some(match action {
        "DescribeVpcs" => "vpcId",
        "DescribeSubnets" => "subnetId",
        "DescribeSecurityGroups" => "groupId",
        "DescribeRouteTables" => "routeTableId",
        "DescribeInternetGateways" => "internetGatewayId",
        "DescribeNatGateways" => "natGatewayId",
        "DescribeAddresses" => "allocationId",
        "DescribeFlowLogs" => "flowLogId",
        _ => return None,
    })
}

/// EC2's NotFound code for an id, by its prefix.
fn not_found_code(id: &str) -> &'static str {
    match id.split('-').next().unwrap_or("") {
        "vpc" => "InvalidVpcID.NotFound",
        "subnet" => "InvalidSubnetID.NotFound",
        "sg" => "InvalidGroup.NotFound",
        "rtb" => "InvalidRouteTableID.NotFound",
        "rtbassoc" => "InvalidAssociationID.NotFound",
        "igw" => "InvalidInternetGatewayID.NotFound",
        "nat" => "NatGatewayNotFound",
        "eipalloc" => "InvalidAllocationID.NotFound",
        "fl" => "InvalidFlowLogId.NotFound",
        _ => "InvalidID.NotFound",
    }
}

/// An EC2 error answer.
pub fn ec2_error(status: u16, code: &str, message: &str) -> Vec<u8> {
    answer(
        status,
        "text/xml;charset=UTF-8",
        "",
        &format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response><Errors><Error><Code>{code}</Code><Message>{message}</Message></Error></Errors><RequestID>realism</RequestID></Response>"
        ),
    )
}

/// An error answer of a query-protocol service (RDS, ElastiCache, IAM).
fn query_error(code: &str, message: &str) -> Vec<u8> {
    answer(
        400,
        "text/xml",
        "",
        &format!(
            "<ErrorResponse><Error><Type>Sender</Type><Code>{code}</Code><Message>{message}</Message></Error><RequestId>realism</RequestId></ErrorResponse>"
        ),
    )
}

fn json_error(code: &str, message: &str) -> Vec<u8> {
    answer(
        400,
        "application/x-amz-json-1.1",
        "",
        &format!(r#"{{"__type":"{code}","message":"{message}"}}"#),
    )
}

fn param<'a>(form: &'a [(String, String)], name: &str) -> Option<&'a str> {
    form.iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

fn params_under(form: &[(String, String)], prefix: &str) -> Vec<String> {
    form.iter()
        .filter(|(k, _)| k.starts_with(prefix))
        .map(|(_, v)| v.clone())
        .collect()
}

/// The text of every `<element>` in `xml` (`flowLogIdSet` holds `<item>`s).
fn elements(xml: &str, element: &str) -> Vec<String> {
    let (open, close) = (format!("<{element}>"), format!("</{element}>"));
    let mut found = Vec::new();
    let mut rest = xml;
    while let Some(start) = rest.find(&open) {
        let after = &rest[start + open.len()..];
        let Some(end) = after.find(&close) else { break };
        found.push(after[..end].to_string());
        rest = &after[end..];
    }
    found
}

/// `xml` without the top-level `<item>`s `hide` picks; how many went.
fn omit_items(xml: &str, mut hide: impl FnMut(&str) -> bool) -> (String, usize) {
    let mut out = String::with_capacity(xml.len());
    let (mut at, mut depth, mut start, mut removed) = (0, 0usize, 0, 0);
    loop {
        let open = xml[at..].find("<item>");
        let close = xml[at..].find("</item>");
        match (open, close) {
            (Some(o), c) if c.is_none_or(|c| o < c) => {
                if depth == 0 {
                    out.push_str(&xml[at..at + o]);
                    start = at + o;
                }
                depth += 1;
                at += o + "<item>".len();
            }
            (_, Some(c)) => {
                depth = depth.saturating_sub(1);
                at += c + "</item>".len();
                if depth == 0 {
                    let item = &xml[start..at];
                    if hide(item) {
                        removed += 1;
                    } else {
                        out.push_str(item);
                    }
                }
            }
            _ => {
                out.push_str(&xml[at..]);
                return (out, removed);
            }
        }
    }
}

impl RealismState {
    pub fn new(config: Realism) -> RealismState {
        RealismState {
            rng: config.seed | 1,
            config,
            roles: HashMap::new(),
            fresh: HashMap::new(),
            unlisted: HashMap::new(),
            misses: HashMap::new(),
            default_groups: HashMap::new(),
            users: Vec::new(),
            subnet_groups: HashMap::new(),
            unindexed: Vec::new(),
            buckets: HashMap::new(),
            awaiting_reboot: Default::default(),
            counts: BTreeMap::new(),
        }
    }

    pub fn counts(&self) -> BTreeMap<Behaviour, usize> {
        self.counts.clone()
    }

    fn count(&mut self, behaviour: Behaviour) {
        *self.counts.entry(behaviour).or_default() += 1;
    }

    /// A resource's own window: between half and all of `window`, from the seed.
    fn until(&mut self, window: Duration) -> Instant {
        let share = 0.5 + (next(&mut self.rng) % 1000) as f64 / 2000.0;
        Instant::now() + window.mul_f64(share)
    }

    /// An answer in place of the emulator's, when AWS would refuse the request.
    pub fn before(&mut self, request: &Request) -> Option<Vec<u8>> {
        match request.service().as_str() {
            "ec2" => self.before_ec2(request),
            "cloudtrail" => self.before_cloudtrail(request),
            "rds" => self.before_rds(request),
            _ => None,
        }
    }

    /// A static parameter may only change `pending-reboot`.
    fn before_rds(&mut self, request: &Request) -> Option<Vec<u8>> {
        if !self.config.static_parameters {
            return None;
        }
        let form = request.form();
        if !matches!(
            param(&form, "Action"),
            Some("ModifyDBParameterGroup" | "ResetDBParameterGroup")
        ) {
            return None;
        }
        let mut pending = false;
        for (key, name) in form.iter().filter(|(k, _)| k.ends_with(".ParameterName")) {
            if !STATIC_PARAMETERS.contains(&name.as_str()) {
                continue;
            }
            let method_key = key.replace(".ParameterName", ".ApplyMethod");
            if param(&form, &method_key) != Some("pending-reboot") {
                self.count(Behaviour::StaticParameter);
                return Some(query_error(
                    "InvalidParameterCombination",
                    "cannot use immediate apply method for static parameter",
                ));
            }
            pending = true;
        }
        if pending && let Some(group) = param(&form, "DBParameterGroupName") {
            self.awaiting_reboot.insert(group.to_string());
        }
        None
    }

    fn before_ec2(&mut self, request: &Request) -> Option<Vec<u8>> {
        let form = request.form();
        let action = param(&form, "Action").unwrap_or("").to_string();
        if self.config.token_buckets && !self.take_token(&action, &form) {
            self.count(Behaviour::RequestLimitExceeded);
            return Some(ec2_error(
                503,
                "RequestLimitExceeded",
                "Request limit exceeded.",
            ));
        }
        let now = Instant::now();
        if self.config.ec2_consistency.is_some() {
            let stale = form
                .iter()
                .filter(|(k, _)| !k.starts_with("Filter."))
                .find(|(_, v)| self.fresh.get(v).is_some_and(|at| now < *at))
                .map(|(_, v)| v.clone());
            if let Some(id) = stale {
                self.count(Behaviour::Ec2NotFound);
                return Some(ec2_error(
                    400,
                    not_found_code(&id),
                    &format!("The ID '{id}' does not exist"),
                ));
            }
        }
        if let Some(window) = self.config.lingering_interfaces {
            let target = match action.as_str() {
                "DeleteSecurityGroup" => param(&form, "GroupId"),
                "DeleteSubnet" => param(&form, "SubnetId"),
                _ => None,
            };
            if let Some(target) = target {
                let in_use = self.users.iter().any(|u| {
                    let held = (u.groups.iter().any(|g| g == target)
                        || u.subnets.iter().any(|s| s == target))
                        && u.gone_at.is_none_or(|gone| now < gone + window);
                    let lingering = u
                        .left
                        .iter()
                        .any(|(g, at)| g == target && now < *at + window);
                    held || lingering
                });
                if in_use {
                    let message = format!("resource {target} has a dependent object");
                    self.count(Behaviour::DependencyViolation);
                    return Some(ec2_error(400, "DependencyViolation", &message));
                }
            }
        }
        if self.config.iam_propagation.is_some()
            && action == "CreateFlowLogs"
            && let Some(role) = param(&form, "DeliverLogsPermissionArn")
            && self.role_fresh(role).is_some()
        {
            self.count(Behaviour::IamPropagation);
            return Some(ec2_error(
                400,
                "InvalidParameter",
                "Unable to assume given IAM role.",
            ));
        }
        None
    }

    /// Whether a role (by ARN) is fresh: `Some(true)` for its trust, `Some(false)` for its
    /// policy only.
    fn role_fresh(&self, arn: &str) -> Option<bool> {
        let name = arn.rsplit('/').next()?;
        let (trust, policy) = self.roles.get(name)?;
        let now = Instant::now();
        if trust.is_some_and(|t| now < t) {
            Some(true)
        } else if policy.is_some_and(|p| now < p) {
            Some(false)
        } else {
            None
        }
    }

    fn before_cloudtrail(&mut self, request: &Request) -> Option<Vec<u8>> {
        self.config.iam_propagation?;
        if !matches!(
            request.json_operation(),
            Some("CreateTrail" | "UpdateTrail")
        ) {
            return None;
        }
        let body = request.json()?;
        let role = body.get("CloudWatchLogsRoleArn")?.as_str()?;
        let trust = self.role_fresh(role)?;
        self.count(Behaviour::IamPropagation);
        Some(if trust {
            json_error(
                "InvalidCloudWatchLogsRoleArnException",
                "Access denied. Check the trust relationships for your role.",
            )
        } else {
            json_error(
                "InvalidCloudWatchLogsLogGroupArnException",
                "Access denied. Verify in IAM that the role has adequate permissions.",
            )
        })
    }

    /// Takes a token from the action's bucket (AWS's sizes); false when it is empty. The
    /// classes are written out here, apart from secinfra's own (`src/aws/throttle.rs`), on
    /// purpose: the suite's model of AWS must not share the code it checks.
    fn take_token(&mut self, action: &str, form: &[(String, String)]) -> bool {
        let unfiltered = form
            .iter()
            .all(|(k, _)| matches!(k.as_str(), "Action" | "Version" | "DryRun"));
        let reads = ["Describe", "Get", "List", "Search"];
        let (capacity, rate) = match action {
            "CreateTags" | "DeleteTags" => (100.0, 10.0),
            a if reads.iter().any(|p| a.starts_with(p)) => {
                if unfiltered && a.starts_with("Describe") {
                    (50.0, 10.0)
                } else {
                    (100.0, 20.0)
                }
            }
            _ => (50.0, 5.0),
        };
        let now = Instant::now();
        let (tokens, at) = self
            .buckets
            .entry(format!("{action}:{unfiltered}"))
            .or_insert((capacity, now));
        let refilled = (*tokens + now.duration_since(*at).as_secs_f64() * rate).min(capacity);
        *at = now;
        if refilled >= 1.0 {
            *tokens = refilled - 1.0;
            true
        } else {
            *tokens = refilled;
            false
        }
    }

    /// The emulator's answer, as AWS would give it now.
    pub fn after(&mut self, request: &Request, answer: Vec<u8>) -> Vec<u8> {
        if !(200..300).contains(&status_of(&answer)) {
            return answer;
        }
        let Some((head, body)) = split_answer(&answer) else {
            return answer;
        };
        let text = String::from_utf8_lossy(&body).into_owned();
        let rewritten = match request.service().as_str() {
            "ec2" => self.after_ec2(request, &text),
            "iam" => {
                self.after_iam(request);
                None
            }
            "rds" | "elasticache" => {
                self.after_data(request, &text);
                self.after_rds_parameters(request, &text)
            }
            "kms" | "secretsmanager" | "logs" => {
                self.after_indexed(request, &text);
                None
            }
            "tagging" => self.after_tagging(&text),
            _ => None,
        };
        match rewritten {
            Some(body) => join_answer(&head, body.as_bytes()),
            None => answer,
        }
    }

    fn after_ec2(&mut self, request: &Request, text: &str) -> Option<String> {
        let form = request.form();
        let action = param(&form, "Action").unwrap_or("").to_string();
        if let Some(element) = created_id_element(&action) {
            let ids: Vec<String> = if element == "flowLogIdSet" {
                elements(text, element)
                    .iter()
                    .flat_map(|set| elements(set, "item"))
                    .collect()
            } else {
                elements(text, element).into_iter().take(1).collect()
            };
            for id in ids {
                if let Some(window) = self.config.ec2_consistency {
                    let visible = self.until(window);
                    self.fresh.insert(id.clone(), visible);
                }
                if self.config.ec2_missed_reads > 0 {
                    let misses = self.config.ec2_missed_reads;
                    if action == "CreateVpc" {
                        self.misses.insert(format!("default:{id}"), misses);
                    }
                    self.misses.insert(id.clone(), misses);
                }
                if let Some(lag) = self.config.ec2_filter_lag {
                    let listed = self.until(lag);
                    if action == "CreateVpc" {
                        self.default_groups.insert(id.clone(), listed);
                    }
                    self.unlisted.insert(id.clone(), listed);
                }
                if let Some(lag) = self.config.tag_index_lag {
                    let listed = self.until(lag);
                    self.unindexed.push((id.clone(), listed));
                }
                if action == "CreateNatGateway" {
                    self.users.push(User {
                        id,
                        groups: Vec::new(),
                        subnets: params_under(&form, "SubnetId"),
                        gone_at: None,
                        left: Vec::new(),
                    });
                }
            }
            return None;
        }
        if action == "DeleteNatGateway" {
            self.gone(param(&form, "NatGatewayId").unwrap_or(""));
            return None;
        }
        let element = described_id_element(&action)?;
        if self.config.ec2_filter_lag.is_none() && self.config.ec2_missed_reads == 0 {
            return None;
        }
        if !form.iter().any(|(k, _)| k.starts_with("Filter.")) {
            return None;
        }
        let now = Instant::now();
        let mut missed: Vec<String> = Vec::new();
        let (kept, removed) = omit_items(text, |item| {
            let own = elements(item, element)
                .into_iter()
                .next()
                .unwrap_or_default();
            let default_of = (action == "DescribeSecurityGroups"
                && item.contains("<groupName>default</groupName>"))
            .then(|| elements(item, "vpcId").into_iter().next())
            .flatten();
            let lagging = match &default_of {
                Some(vpc) => self.default_groups.get(vpc).is_some_and(|at| now < *at),
                None => self.unlisted.get(&own).is_some_and(|at| now < *at),
            };
            let key = default_of.map_or(own, |vpc| format!("default:{vpc}"));
            let missing = self.misses.get(&key).is_some_and(|n| *n > 0);
            if missing {
                missed.push(key);
            }
            lagging || missing
        });
        for key in missed {
            if let Some(n) = self.misses.get_mut(&key) {
                *n -= 1;
            }
        }
        if removed == 0 {
            return None;
        }
        for _ in 0..removed {
            self.count(Behaviour::Ec2Omitted);
        }
        Some(kept)
    }

    fn gone(&mut self, id: &str) {
        let now = Instant::now();
        for user in self.users.iter_mut().filter(|u| u.id == id) {
            user.gone_at.get_or_insert(now);
        }
    }

    fn after_iam(&mut self, request: &Request) {
        let Some(window) = self.config.iam_propagation else {
            return;
        };
        let form = request.form();
        let Some(role) = param(&form, "RoleName").map(str::to_string) else {
            return;
        };
        let until = self.until(window);
        let entry = self.roles.entry(role).or_default();
        match param(&form, "Action") {
            Some("CreateRole" | "UpdateAssumeRolePolicy") => entry.0 = Some(until),
            Some("PutRolePolicy") => entry.1 = Some(until),
            _ => {}
        }
    }

    fn after_data(&mut self, request: &Request, text: &str) {
        let service = request.service();
        let form = request.form();
        let action = param(&form, "Action").unwrap_or("").to_string();
        match action.as_str() {
            "CreateDBSubnetGroup" | "CreateCacheSubnetGroup" => {
                let name = param(&form, "DBSubnetGroupName")
                    .or(param(&form, "CacheSubnetGroupName"))
                    .unwrap_or("");
                self.subnet_groups.insert(
                    format!("{service}:{name}"),
                    params_under(&form, "SubnetIds."),
                );
            }
            "CreateDBInstance" | "CreateReplicationGroup" => {
                let id = param(&form, "DBInstanceIdentifier")
                    .or(param(&form, "ReplicationGroupId"))
                    .unwrap_or("")
                    .to_string();
                let group = param(&form, "DBSubnetGroupName")
                    .or(param(&form, "CacheSubnetGroupName"))
                    .unwrap_or("");
                let mut groups = params_under(&form, "VpcSecurityGroupIds.");
                groups.extend(params_under(&form, "SecurityGroupIds."));
                let subnets = self
                    .subnet_groups
                    .get(&format!("{service}:{group}"))
                    .cloned()
                    .unwrap_or_default();
                self.users.push(User {
                    id: id.clone(),
                    groups,
                    subnets,
                    gone_at: None,
                    left: Vec::new(),
                });
            }
            // Moved to other security groups: the old ones are let go of asynchronously.
            "ModifyDBInstance" | "ModifyReplicationGroup" => {
                let id = param(&form, "DBInstanceIdentifier")
                    .or(param(&form, "ReplicationGroupId"))
                    .unwrap_or("")
                    .to_string();
                let mut groups = params_under(&form, "VpcSecurityGroupIds.");
                groups.extend(params_under(&form, "SecurityGroupIds."));
                if !groups.is_empty() {
                    let now = Instant::now();
                    for user in self.users.iter_mut().filter(|u| u.id == id) {
                        let old = std::mem::replace(&mut user.groups, groups.clone());
                        user.left.extend(
                            old.into_iter()
                                .filter(|g| !groups.contains(g))
                                .map(|g| (g, now)),
                        );
                    }
                }
            }
            "DeleteDBInstance" => self.gone(param(&form, "DBInstanceIdentifier").unwrap_or("")),
            "DeleteReplicationGroup" => self.gone(param(&form, "ReplicationGroupId").unwrap_or("")),
            _ => {}
        }
        if action.starts_with("Create")
            && let Some(lag) = self.config.tag_index_lag
        {
            for element in [
                "DBInstanceArn",
                "DBSubnetGroupArn",
                "DBParameterGroupArn",
                "ARN",
            ] {
                for arn in elements(text, element) {
                    let listed = self.until(lag);
                    self.unindexed.push((arn, listed));
                }
            }
        }
    }

    /// Apply types in DescribeDBParameters, and a reboot pending on the instances whose
    /// group has a static parameter set.
    fn after_rds_parameters(&mut self, request: &Request, text: &str) -> Option<String> {
        if !self.config.static_parameters {
            return None;
        }
        let form = request.form();
        match param(&form, "Action")? {
            "DescribeDBParameters" => {
                let listed = elements(text, "ParameterName");
                let mut typed = String::new();
                for chunk in text.split_inclusive("</Parameter>") {
                    let name = elements(chunk, "ParameterName").pop().unwrap_or_default();
                    let apply = if STATIC_PARAMETERS.contains(&name.as_str()) {
                        "static"
                    } else {
                        "dynamic"
                    };
                    match chunk.strip_suffix("</Parameter>") {
                        Some(open) => typed
                            .push_str(&format!("{open}<ApplyType>{apply}</ApplyType></Parameter>")),
                        None => typed.push_str(chunk),
                    }
                }
                let mut out = typed;
                // Without a source, AWS lists the family's defaults too.
                if param(&form, "Source").is_none() {
                    let defaults: String = STATIC_PARAMETERS
                        .iter()
                        .filter(|n| !listed.iter().any(|l| l == *n))
                        .map(|n| {
                            format!(
                                "<Parameter><ParameterName>{n}</ParameterName><Source>engine-default</Source><ApplyType>static</ApplyType></Parameter>"
                            )
                        })
                        .collect();
                    out = out.replacen("</Parameters>", &format!("{defaults}</Parameters>"), 1);
                    if !out.contains("<Parameters>") {
                        out = out.replacen(
                            "<Parameters/>",
                            &format!("<Parameters>{defaults}</Parameters>"),
                            1,
                        );
                    }
                }
                Some(out)
            }
            "DescribeDBInstances" if !self.awaiting_reboot.is_empty() => {
                let mut out = String::new();
                for chunk in text.split_inclusive("</DBParameterGroup>") {
                    let name = elements(chunk, "DBParameterGroupName")
                        .pop()
                        .unwrap_or_default();
                    if self.awaiting_reboot.contains(&name) {
                        out.push_str(&chunk.replace(
                            "<ParameterApplyStatus>in-sync</ParameterApplyStatus>",
                            "<ParameterApplyStatus>pending-reboot</ParameterApplyStatus>",
                        ));
                    } else {
                        out.push_str(chunk);
                    }
                }
                Some(out)
            }
            _ => None,
        }
    }

    /// Creates of services discovery finds through the tagging index.
    fn after_indexed(&mut self, request: &Request, text: &str) {
        let Some(lag) = self.config.tag_index_lag else {
            return;
        };
        let marker = match request.json_operation() {
            Some("CreateKey") => serde_json::from_str::<serde_json::Value>(text)
                .ok()
                .and_then(|v| Some(v.get("KeyMetadata")?.get("KeyId")?.as_str()?.to_string())),
            Some("CreateSecret") => serde_json::from_str::<serde_json::Value>(text)
                .ok()
                .and_then(|v| Some(v.get("ARN")?.as_str()?.to_string())),
            Some("CreateLogGroup") => request
                .json()
                .and_then(|v| Some(format!(":log-group:{}", v.get("logGroupName")?.as_str()?))),
            _ => None,
        };
        if let Some(marker) = marker {
            let listed = self.until(lag);
            self.unindexed.push((marker, listed));
        }
    }

    fn after_tagging(&mut self, text: &str) -> Option<String> {
        self.config.tag_index_lag?;
        let mut value: serde_json::Value = serde_json::from_str(text).ok()?;
        let list = value.get_mut("ResourceTagMappingList")?.as_array_mut()?;
        let now = Instant::now();
        let before = list.len();
        let lagging: Vec<&String> = self
            .unindexed
            .iter()
            .filter(|(_, at)| now < *at)
            .map(|(marker, _)| marker)
            .collect();
        list.retain(|mapping| {
            let arn = mapping
                .get("ResourceARN")
                .and_then(|a| a.as_str())
                .unwrap_or("");
            !lagging.iter().any(|marker| arn.contains(marker.as_str()))
        });
        let removed = before - list.len();
        if removed == 0 {
            return None;
        }
        for _ in 0..removed {
            self.count(Behaviour::TagIndexLag);
        }
        serde_json::to_string(&value).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_top_level_items_of_fresh_resources_are_left_out() {
        let xml = "<R><securityGroupInfo><item><groupId>sg-1</groupId><ipPermissions><item><groups><item><groupId>sg-2</groupId></item></groups></item></ipPermissions></item><item><groupId>sg-2</groupId></item></securityGroupInfo></R>";
        let (kept, removed) = omit_items(xml, |item| {
            elements(item, "groupId")
                .first()
                .is_some_and(|id| id == "sg-2")
        });
        assert_eq!(removed, 1);
        assert!(kept.contains("<groupId>sg-1</groupId>"));
        assert_eq!(
            kept.matches("<item>").count(),
            kept.matches("</item>").count()
        );
        assert!(kept.ends_with("</securityGroupInfo></R>"));
    }
}
