//! The network tier end to end: VPC, subnets, gateways, route tables, security groups,
//! flow logs. Each test applies through the binary and checks the account with the SDK.

use std::collections::{BTreeMap, BTreeSet};

use aws_sdk_ec2::types::{IpPermission, IpRange, SecurityGroup, Tag};

use super::TestStack;
use crate::realism::{Behaviour, Realism};
use crate::support::{expect_code, stderr, stdout};

fn tag<'a>(tags: &'a [Tag], key: &str) -> Option<&'a str> {
    tags.iter()
        .find(|t| t.key() == Some(key))
        .and_then(|t| t.value())
}

/// Rules of a group as `proto ports peer` lines, peers as CIDRs or group names: written
/// here, independently of secinfra's own rule type.
fn rule_lines(permissions: &[IpPermission], names: &BTreeMap<String, String>) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for p in permissions {
        let ports = match (p.from_port(), p.to_port()) {
            (Some(a), Some(b)) if a == b => format!("{a}"),
            (Some(a), Some(b)) => format!("{a}-{b}"),
            _ => "all".into(),
        };
        let proto = p.ip_protocol().unwrap_or_default();
        for r in p.ip_ranges() {
            out.insert(format!(
                "{proto} {ports} {}",
                r.cidr_ip().unwrap_or_default()
            ));
        }
        for g in p.user_id_group_pairs() {
            let id = g.group_id().unwrap_or_default();
            out.insert(format!(
                "{proto} {ports} {}",
                names.get(id).map_or(id, String::as_str)
            ));
        }
    }
    out
}

async fn groups(stack: &TestStack) -> Vec<SecurityGroup> {
    stack
        .ec2()
        .describe_security_groups()
        .filters(stack.stack_filter())
        .send()
        .await
        .expect("describe groups")
        .security_groups
        .unwrap_or_default()
}

/// Group name → (ingress lines, egress lines).
async fn rules_by_group(
    stack: &TestStack,
) -> BTreeMap<String, (BTreeSet<String>, BTreeSet<String>)> {
    let groups = groups(stack).await;
    let names: BTreeMap<String, String> = groups
        .iter()
        .map(|g| {
            (
                g.group_id().unwrap_or_default().to_string(),
                g.group_name().unwrap_or_default().to_string(),
            )
        })
        .collect();
    groups
        .iter()
        .map(|g| {
            (
                g.group_name().unwrap_or_default().to_string(),
                (
                    rule_lines(g.ip_permissions(), &names),
                    rule_lines(g.ip_permissions_egress(), &names),
                ),
            )
        })
        .collect()
}

/// The stack's NAT gateways. moto 5.2.5 ignores tag filters on DescribeNatGateways
/// (AWS honours them), so the tag is checked here as well.
async fn stack_nats(stack: &TestStack) -> Vec<aws_sdk_ec2::types::NatGateway> {
    stack
        .ec2()
        .describe_nat_gateways()
        .filter(stack.stack_filter())
        .send()
        .await
        .expect("nat gateways")
        .nat_gateways
        .unwrap_or_default()
        .into_iter()
        .filter(|n| tag(n.tags(), "secinfra:stack") == Some(stack.name.as_str()))
        .collect()
}

fn set(items: &[&str]) -> BTreeSet<String> {
    items.iter().map(|s| s.to_string()).collect()
}

fn apply_ok(stack: &TestStack, blueprint: &str) -> String {
    let output = stack.run(&["apply", blueprint, "--auto-approve"]);
    expect_code(&output, 0);
    let out = stdout(&output);
    assert!(
        out.contains("Verified: a fresh discovery matches the blueprint."),
        "{out}"
    );
    out
}

fn no_changes(stack: &TestStack, blueprint: &str) {
    let output = stack.run(&["plan", blueprint, "--detailed-exitcode"]);
    expect_code(&output, 0);
    assert!(
        stdout(&output).starts_with("No changes."),
        "{}",
        stdout(&output)
    );
}

/// A small network: one isolated subnet and the given security groups section.
pub(super) fn small(stack: &TestStack, groups: &str) -> String {
    format!(
        "version: 1\nstack: {}\nregion: us-east-1\nnetwork:\n  vpc: {{ cidr: 10.20.0.0/16 }}\n  subnets:\n    data-a: {{ cidr: 10.20.1.0/24, az: a, tier: isolated }}\n{groups}",
        stack.name
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn seed_network_applies_exactly_and_converges() {
    let stack = TestStack::new("seed").await;
    stack.write("blueprint.yaml", &stack.seed_network());
    let out = apply_ok(&stack, "blueprint.yaml");
    assert!(
        out.contains("Plan: 23 to add, 0 to change, 0 to replace, 0 to destroy."),
        "{out}"
    );
    let ec2 = stack.ec2();

    let vpcs = ec2
        .describe_vpcs()
        .filters(stack.stack_filter())
        .send()
        .await
        .expect("vpcs")
        .vpcs
        .unwrap_or_default();
    assert_eq!(vpcs.len(), 1, "exactly one VPC");
    let vpc_id = vpcs[0].vpc_id().expect("vpc id").to_string();
    assert_eq!(vpcs[0].cidr_block(), Some("10.0.0.0/16"));
    for attribute in [
        aws_sdk_ec2::types::VpcAttributeName::EnableDnsSupport,
        aws_sdk_ec2::types::VpcAttributeName::EnableDnsHostnames,
    ] {
        let out = ec2
            .describe_vpc_attribute()
            .vpc_id(&vpc_id)
            .attribute(attribute.clone())
            .send()
            .await
            .expect("attr");
        let value = out
            .enable_dns_support()
            .or(out.enable_dns_hostnames())
            .and_then(|v| v.value());
        assert_eq!(value, Some(true), "{attribute:?}");
    }

    let subnets = ec2
        .describe_subnets()
        .filters(stack.stack_filter())
        .send()
        .await
        .expect("subnets")
        .subnets
        .unwrap_or_default();
    let found: BTreeSet<(String, String, String)> = subnets
        .iter()
        .map(|s| {
            (
                tag(s.tags(), "secinfra:address")
                    .unwrap_or_default()
                    .to_string(),
                s.cidr_block().unwrap_or_default().to_string(),
                s.availability_zone().unwrap_or_default().to_string(),
            )
        })
        .collect();
    let expected: BTreeSet<(String, String, String)> = [
        ("subnet.public-az1", "10.0.1.0/24", "us-east-1a"),
        ("subnet.public-az2", "10.0.2.0/24", "us-east-1b"),
        ("subnet.app-az1", "10.0.10.0/24", "us-east-1a"),
        ("subnet.app-az2", "10.0.20.0/24", "us-east-1b"),
        ("subnet.data-az1", "10.0.30.0/24", "us-east-1a"),
        ("subnet.data-az2", "10.0.40.0/24", "us-east-1b"),
    ]
    .into_iter()
    .map(|(a, b, c)| (a.to_string(), b.to_string(), c.to_string()))
    .collect();
    assert_eq!(found, expected);
    assert!(subnets.iter().all(|s| s.vpc_id() == Some(vpc_id.as_str())));
    let subnet_address: BTreeMap<String, String> = subnets
        .iter()
        .map(|s| {
            (
                s.subnet_id().unwrap_or_default().to_string(),
                tag(s.tags(), "secinfra:address")
                    .unwrap_or_default()
                    .to_string(),
            )
        })
        .collect();

    let igws = ec2
        .describe_internet_gateways()
        .filters(stack.stack_filter())
        .send()
        .await
        .expect("igw")
        .internet_gateways
        .unwrap_or_default();
    assert_eq!(igws.len(), 1);
    let igw_id = igws[0]
        .internet_gateway_id()
        .unwrap_or_default()
        .to_string();
    assert_eq!(
        igws[0].attachments().first().and_then(|a| a.vpc_id()),
        Some(vpc_id.as_str())
    );

    let nats = stack_nats(&stack).await;
    let nat_subnet: BTreeMap<String, String> = nats
        .iter()
        .map(|n| {
            (
                n.nat_gateway_id().unwrap_or_default().to_string(),
                subnet_address[n.subnet_id().unwrap_or_default()].clone(),
            )
        })
        .collect();
    assert_eq!(
        nat_subnet.values().cloned().collect::<BTreeSet<_>>(),
        set(&["subnet.public-az1", "subnet.public-az2"])
    );
    let eips = ec2
        .describe_addresses()
        .filters(stack.stack_filter())
        .send()
        .await
        .expect("eip")
        .addresses
        .unwrap_or_default();
    assert_eq!(eips.len(), 2);

    let tables = ec2
        .describe_route_tables()
        .filters(stack.stack_filter())
        .send()
        .await
        .expect("rt")
        .route_tables
        .unwrap_or_default();
    let mut routes: BTreeMap<String, (BTreeSet<String>, BTreeSet<String>)> = BTreeMap::new();
    for table in &tables {
        let address = tag(table.tags(), "secinfra:address")
            .unwrap_or_default()
            .to_string();
        let targets = table
            .routes()
            .iter()
            .filter(|r| r.gateway_id() != Some("local"))
            .map(|r| {
                let target = match (r.gateway_id(), r.nat_gateway_id()) {
                    (Some(g), _) if g == igw_id => "igw".to_string(),
                    (_, Some(n)) => format!("nat in {}", nat_subnet[n]),
                    other => format!("{other:?}"),
                };
                format!(
                    "{} -> {target}",
                    r.destination_cidr_block().unwrap_or_default()
                )
            })
            .collect();
        let members = table
            .associations()
            .iter()
            .filter_map(|a| a.subnet_id())
            .map(|s| subnet_address[s].clone())
            .collect();
        routes.insert(address, (targets, members));
    }
    let expected_routes: BTreeMap<String, (BTreeSet<String>, BTreeSet<String>)> = [
        (
            "route_table.public",
            set(&["0.0.0.0/0 -> igw"]),
            set(&["subnet.public-az1", "subnet.public-az2"]),
        ),
        (
            "route_table.private-a",
            set(&["0.0.0.0/0 -> nat in subnet.public-az1"]),
            set(&["subnet.app-az1"]),
        ),
        (
            "route_table.private-b",
            set(&["0.0.0.0/0 -> nat in subnet.public-az2"]),
            set(&["subnet.app-az2"]),
        ),
        (
            "route_table.isolated",
            set(&[]),
            set(&["subnet.data-az1", "subnet.data-az2"]),
        ),
    ]
    .into_iter()
    .map(|(a, r, s)| (a.to_string(), (r, s)))
    .collect();
    assert_eq!(routes, expected_routes);

    let s = &stack.name;
    let expected_rules: BTreeMap<String, (BTreeSet<String>, BTreeSet<String>)> = [
        (
            "alb",
            set(&["tcp 443 0.0.0.0/0"]),
            set(&[&format!("tcp 8000 {s}-ecs")]),
        ),
        (
            "ecs",
            set(&[&format!("tcp 8000 {s}-alb")]),
            set(&[
                "tcp 443 0.0.0.0/0",
                &format!("tcp 5432 {s}-rds"),
                &format!("tcp 6379 {s}-redis"),
            ]),
        ),
        ("rds", set(&[&format!("tcp 5432 {s}-ecs")]), set(&[])),
        ("redis", set(&[&format!("tcp 6379 {s}-ecs")]), set(&[])),
    ]
    .into_iter()
    .map(|(n, i, e)| (format!("{s}-{n}"), (i, e)))
    .collect();
    assert_eq!(rules_by_group(&stack).await, expected_rules);

    let defaults = ec2
        .describe_security_groups()
        .filters(
            aws_sdk_ec2::types::Filter::builder()
                .name("vpc-id")
                .values(&vpc_id)
                .build(),
        )
        .filters(
            aws_sdk_ec2::types::Filter::builder()
                .name("group-name")
                .values("default")
                .build(),
        )
        .send()
        .await
        .expect("default sg")
        .security_groups
        .unwrap_or_default();
    assert_eq!(defaults.len(), 1);
    assert!(
        defaults[0].ip_permissions().is_empty() && defaults[0].ip_permissions_egress().is_empty(),
        "default SG must be empty"
    );

    let flow_logs = ec2
        .describe_flow_logs()
        .filter(stack.stack_filter())
        .send()
        .await
        .expect("fl")
        .flow_logs
        .unwrap_or_default();
    assert_eq!(flow_logs.len(), 1);
    let log_group = format!("/secinfra/{s}/flow-logs");
    assert_eq!(flow_logs[0].resource_id(), Some(vpc_id.as_str()));
    assert_eq!(flow_logs[0].traffic_type().map(|t| t.as_str()), Some("ALL"));
    assert_eq!(flow_logs[0].log_group_name(), Some(log_group.as_str()));
    let role_arn = flow_logs[0]
        .deliver_logs_permission_arn()
        .unwrap_or_default();
    assert!(
        role_arn.ends_with(&format!("/secinfra/us-east-1/{s}/{s}-us-east-1-flow-logs")),
        "{role_arn}"
    );
    let groups = stack.log_groups(&log_group).await;
    assert_eq!(groups.len(), 1);
    assert_eq!(groups[0].retention_in_days(), Some(90));
    let role = stack
        .iam()
        .get_role()
        .role_name(format!("{s}-us-east-1-flow-logs"))
        .send()
        .await
        .expect("role");
    assert!(role.role().is_some_and(|r| {
        r.tags()
            .iter()
            .any(|t| t.key() == "secinfra:stack" && t.value() == s)
    }));

    no_changes(&stack, "blueprint.yaml");
}

#[tokio::test(flavor = "multi_thread")]
async fn drift_is_shown_precisely_and_repaired() {
    let stack = TestStack::new("drift").await;
    stack.write("blueprint.yaml", &stack.seed_network());
    apply_ok(&stack, "blueprint.yaml");
    let ec2 = stack.ec2();

    let rds = ec2
        .describe_security_groups()
        .filters(stack.address_filter("security_group.rds"))
        .filters(stack.stack_filter())
        .send()
        .await
        .expect("rds")
        .security_groups
        .unwrap_or_default();
    let rds_id = rds[0].group_id().expect("id").to_string();
    ec2.authorize_security_group_ingress()
        .group_id(&rds_id)
        .ip_permissions(
            IpPermission::builder()
                .ip_protocol("tcp")
                .from_port(5432)
                .to_port(5432)
                .ip_ranges(IpRange::builder().cidr_ip("0.0.0.0/0").build())
                .build(),
        )
        .send()
        .await
        .expect("add rule");
    let table = ec2
        .describe_route_tables()
        .filters(stack.address_filter("route_table.private-a"))
        .filters(stack.stack_filter())
        .send()
        .await
        .expect("rt")
        .route_tables
        .unwrap_or_default();
    let table_id = table[0].route_table_id().expect("id").to_string();
    ec2.delete_route()
        .route_table_id(&table_id)
        .destination_cidr_block("0.0.0.0/0")
        .send()
        .await
        .expect("delete route");
    let vpc = ec2
        .describe_vpcs()
        .filters(stack.stack_filter())
        .send()
        .await
        .expect("vpc")
        .vpcs
        .unwrap_or_default();
    let vpc_id = vpc[0].vpc_id().expect("id").to_string();
    ec2.create_tags()
        .resources(&vpc_id)
        .tags(Tag::builder().key("Owner").value("someone-else").build())
        .send()
        .await
        .expect("tag");

    let output = stack.run(&["plan", "blueprint.yaml", "--detailed-exitcode"]);
    expect_code(&output, 2);
    let out = stdout(&output);
    for line in [
        "  ~ security_group.rds",
        "      ingress:  - tcp 5432 from 0.0.0.0/0",
        "  ~ route_table.private-a",
        "      routes[\"0.0.0.0/0\"]:  (none) → nat_gateway.public-az1",
        "  ~ vpc.main",
        "      tags.Owner:  someone-else → platform",
        "Plan: 0 to add, 3 to change, 0 to replace, 0 to destroy.",
    ] {
        assert!(out.contains(line), "missing `{line}` in:\n{out}");
    }
    let drift = stack.run(&["drift", "blueprint.yaml"]);
    expect_code(&drift, 2);
    let out = stdout(&drift);
    assert!(out.starts_with("Drift: stack"), "{out}");
    assert!(
        out.contains("Changed outside secinfra since the last apply"),
        "{out}"
    );
    assert!(!out.contains("Blueprint edits not yet applied"), "{out}");

    apply_ok(&stack, "blueprint.yaml");
    let s = &stack.name;
    let rules = rules_by_group(&stack).await;
    assert_eq!(
        rules[&format!("{s}-rds")].0,
        set(&[&format!("tcp 5432 {s}-ecs")])
    );
    let table = ec2
        .describe_route_tables()
        .route_table_ids(&table_id)
        .send()
        .await
        .expect("rt")
        .route_tables
        .unwrap_or_default();
    assert!(
        table[0].routes().iter().any(
            |r| r.destination_cidr_block() == Some("0.0.0.0/0") && r.nat_gateway_id().is_some()
        )
    );
    let vpc = ec2
        .describe_vpcs()
        .vpc_ids(&vpc_id)
        .send()
        .await
        .expect("vpc")
        .vpcs
        .unwrap_or_default();
    assert_eq!(tag(vpc[0].tags(), "Owner"), Some("platform"));
    expect_code(&stack.run(&["drift", "blueprint.yaml"]), 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn destroy_leaves_nothing_tagged_with_the_stack() {
    let stack = TestStack::new("destroy").await;
    stack.write("blueprint.yaml", &stack.seed_network());
    apply_ok(&stack, "blueprint.yaml");
    // The flow-log group holds the network's traffic history: destroy keeps it until
    // allowed, with everything else gone.
    let output = stack.run(&["destroy", "blueprint.yaml", "--auto-approve"]);
    let out = stdout(&output);
    assert!(
        out.contains("Plan: 0 to add, 0 to change, 0 to replace, 22 to destroy, 1 held."),
        "{out}"
    );
    assert!(
        out.contains("! log_group.flow-logs — deletion held: log_group.flow-logs is protected"),
        "{out}"
    );
    let name = format!("/secinfra/{}/flow-logs", stack.name);
    let kept = stack.log_groups(&name).await;
    assert_eq!(kept.len(), 1, "{out}");
    let output = stack.run(&[
        "destroy",
        "blueprint.yaml",
        "--auto-approve",
        "--allow-delete-protected",
    ]);
    expect_code(&output, 0);
    let out = stdout(&output);
    assert!(
        out.contains("Plan: 0 to add, 0 to change, 0 to replace, 1 to destroy."),
        "{out}"
    );
    assert!(out.contains("Destroy complete"), "{out}");

    let ec2 = stack.ec2();
    let f = || stack.stack_filter();
    assert!(
        ec2.describe_vpcs()
            .filters(f())
            .send()
            .await
            .expect("vpcs")
            .vpcs()
            .is_empty()
    );
    assert!(
        ec2.describe_subnets()
            .filters(f())
            .send()
            .await
            .expect("subnets")
            .subnets()
            .is_empty()
    );
    assert!(
        ec2.describe_security_groups()
            .filters(f())
            .send()
            .await
            .expect("sgs")
            .security_groups()
            .is_empty()
    );
    assert!(
        ec2.describe_route_tables()
            .filters(f())
            .send()
            .await
            .expect("rts")
            .route_tables()
            .is_empty()
    );
    assert!(
        ec2.describe_internet_gateways()
            .filters(f())
            .send()
            .await
            .expect("igws")
            .internet_gateways()
            .is_empty()
    );
    assert!(
        ec2.describe_addresses()
            .filters(f())
            .send()
            .await
            .expect("eips")
            .addresses()
            .is_empty()
    );
    assert!(
        ec2.describe_flow_logs()
            .filter(f())
            .send()
            .await
            .expect("fls")
            .flow_logs()
            .is_empty()
    );
    assert!(
        stack_nats(&stack)
            .await
            .iter()
            .all(|n| n.state().is_some_and(|s| s.as_str() == "deleted"))
    );
    let groups = stack.log_groups(&name).await;
    assert!(groups.is_empty());
    let roles = stack
        .iam()
        .list_roles()
        .path_prefix(format!("/secinfra/us-east-1/{}/", stack.name))
        .send()
        .await
        .expect("roles");
    assert!(roles.roles().is_empty());
    // Deleted NAT gateways stay visible (state `deleted`) for a while, as in AWS.
    let tagged = stack
        .tagging()
        .get_resources()
        .tag_filters(
            aws_sdk_resourcegroupstagging::types::TagFilter::builder()
                .key("secinfra:stack")
                .values(&stack.name)
                .build(),
        )
        .send()
        .await
        .expect("tagging");
    let left: Vec<&str> = tagged
        .resource_tag_mapping_list()
        .iter()
        .filter_map(|m| m.resource_arn())
        .filter(|a| !a.contains(":natgateway/"))
        .collect();
    assert!(left.is_empty(), "still tagged: {left:?}");

    let again = stack.run(&["destroy", "blueprint.yaml", "--auto-approve"]);
    expect_code(&again, 0);
    assert!(stdout(&again).starts_with("No changes."));
}

#[tokio::test(flavor = "multi_thread")]
async fn saved_plans_apply_and_stale_ones_are_refused() {
    let stack = TestStack::new("saved").await;
    stack.write(
        "blueprint.yaml",
        &small(
            &stack,
            "security_groups:\n  web: { ingress: [ { port: 443, from: 0.0.0.0/0 } ] }\n",
        ),
    );
    let output = stack.run(&["plan", "blueprint.yaml", "--out", "first.plan.json"]);
    expect_code(&output, 0);
    let path = stack.dir.path().join("first.plan.json");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&path)
            .expect("plan file")
            .permissions()
            .mode()
            & 0o777;
        assert_eq!(mode, 0o600, "plan files are owner-only");
    }
    let plan: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).expect("read")).expect("json");
    assert_eq!(plan["summary"]["add"], 4, "vpc, subnet, route table, group");
    // `show` renders the saved plan as `plan` did, without AWS.
    let planned = stack.run(&["plan", "blueprint.yaml"]);
    let shown = stack.run(&["show", "first.plan.json"]);
    expect_code(&shown, 0);
    assert_eq!(stdout(&shown), stdout(&planned));
    assert!(
        stderr(&shown).contains("Saved plan first.plan.json: stack"),
        "{}",
        stderr(&shown)
    );
    // Flags the plan did not fix are refused, not ignored; the same ones are fine.
    for flags in [
        &["--region", "eu-west-3"][..],
        &["--env", "prod"],
        &["--adopt"],
    ] {
        let refused = stack.run(&[&["apply", "first.plan.json"][..], flags].concat());
        expect_code(&refused, 1);
        assert!(
            stderr(&refused).contains("these flags ask for others"),
            "{}",
            stderr(&refused)
        );
    }
    let region = plan["region"].as_str().expect("region").to_string();
    let applied = stack.run(&["apply", "first.plan.json", "--region", &region]);
    expect_code(&applied, 0);
    assert!(
        stdout(&applied).contains("Verified"),
        "{}",
        stdout(&applied)
    );

    // A plan made, then the account drifts: applying it is refused, naming what changed.
    stack.write("blueprint.yaml", &small(&stack, "security_groups:\n  web: { ingress: [ { port: 443, from: 0.0.0.0/0 } ] }\n  api: { ingress: [ { port: 8000, from: security_group.web } ] }\n"));
    expect_code(
        &stack.run(&["plan", "blueprint.yaml", "--out", "second.out"]),
        0,
    );
    let ec2 = stack.ec2();
    let vpc = ec2
        .describe_vpcs()
        .filters(stack.stack_filter())
        .send()
        .await
        .expect("vpc")
        .vpcs
        .unwrap_or_default();
    ec2.create_tags()
        .resources(vpc[0].vpc_id().expect("id"))
        .tags(Tag::builder().key("touched").value("by-hand").build())
        .send()
        .await
        .expect("tag");
    let stale = stack.run(&["apply", "second.out"]);
    expect_code(&stale, 1);
    let err = stderr(&stale);
    assert!(
        err.contains("is stale") && err.contains("changed: vpc.main"),
        "{err}"
    );
    assert_eq!(
        groups(&stack).await.len(),
        1,
        "nothing was applied from the stale plan"
    );

    // A plan made, then the blueprint changes meaning: refused too.
    expect_code(
        &stack.run(&["plan", "blueprint.yaml", "--out", "third.plan.json"]),
        0,
    );
    stack.write(
        "blueprint.yaml",
        &small(
            &stack,
            "security_groups:\n  web: { ingress: [ { port: 8443, from: 0.0.0.0/0 } ] }\n",
        ),
    );
    let changed = stack.run(&["apply", "third.plan.json"]);
    expect_code(&changed, 1);
    assert!(
        stderr(&changed).contains("blueprint.yaml changed since the plan was made"),
        "{}",
        stderr(&changed)
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn apply_without_a_terminal_needs_auto_approve() {
    let stack = TestStack::new("confirm").await;
    stack.write("blueprint.yaml", &small(&stack, ""));
    let output = stack.run(&["apply", "blueprint.yaml"]);
    expect_code(&output, 1);
    assert!(
        stderr(&output).contains("pass --auto-approve"),
        "{}",
        stderr(&output)
    );
    let vpcs = stack
        .ec2()
        .describe_vpcs()
        .filters(stack.stack_filter())
        .send()
        .await
        .expect("vpcs");
    assert!(
        vpcs.vpcs().is_empty(),
        "nothing may be created without confirmation"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_failure_skips_its_dependents_and_a_rerun_converges() {
    let stack = TestStack::new("partial").await;
    stack.write("blueprint.yaml", &small(&stack, ""));
    apply_ok(&stack, "blueprint.yaml");
    let ec2 = stack.ec2();
    let vpc = ec2
        .describe_vpcs()
        .filters(stack.stack_filter())
        .send()
        .await
        .expect("vpc")
        .vpcs
        .unwrap_or_default();
    let vpc_id = vpc[0].vpc_id().expect("id").to_string();
    // Someone created a group with the name secinfra will need, outside the stack.
    let squatter = ec2
        .create_security_group()
        .vpc_id(&vpc_id)
        .group_name(format!("{}-a", stack.name))
        .description("not secinfra's")
        .send()
        .await
        .expect("squatter");
    stack.write(
        "blueprint.yaml",
        &small(
            &stack,
            "security_groups:\n  a: { ingress: [ { port: 443, from: 10.0.0.0/8 } ] }\n  b: { ingress: [ { port: 8000, from: security_group.a } ] }\n  c: { ingress: [ { port: 22, from: 10.20.0.0/16 } ] }\n",
        ),
    );
    let output = stack.run(&["apply", "blueprint.yaml", "--auto-approve"]);
    expect_code(&output, 1);
    let out = stdout(&output);
    assert!(out.contains("Apply failed"), "{out}");
    assert!(out.contains("1 done, 1 failed, 1 skipped."), "{out}");
    assert!(
        out.contains(
            "failed  security_group.a (create): security_group.a: ec2:CreateSecurityGroup failed"
        ),
        "{out}"
    );
    assert!(
        out.contains("skipped security_group.b (create): security_group.a failed"),
        "{out}"
    );
    let names: BTreeSet<String> = groups(&stack)
        .await
        .iter()
        .filter_map(|g| g.group_name().map(str::to_string))
        .collect();
    assert!(
        names.contains(&format!("{}-c", stack.name)),
        "independent branch finished: {names:?}"
    );

    ec2.delete_security_group()
        .group_id(squatter.group_id().expect("id"))
        .send()
        .await
        .expect("remove squatter");
    apply_ok(&stack, "blueprint.yaml");
    no_changes(&stack, "blueprint.yaml");
}

#[tokio::test(flavor = "multi_thread")]
async fn replacements_cascade_and_converge() {
    let stack = TestStack::new("replace").await;
    let groups_v1 = "security_groups:\n  alb:\n    description: load balancer\n    ingress: [ { port: 443, from: 0.0.0.0/0 } ]\n    egress: [ { port: 8000, to: security_group.ecs } ]\n  ecs:\n    ingress: [ { port: 8000, from: security_group.alb } ]\n";
    stack.write("blueprint.yaml", &small(&stack, groups_v1));
    apply_ok(&stack, "blueprint.yaml");
    let alb_before: Vec<String> = groups(&stack)
        .await
        .iter()
        .filter(|g| g.group_name() == Some(&format!("{}-alb", stack.name)))
        .filter_map(|g| g.group_id().map(str::to_string))
        .collect();

    // A description cannot change in place: the group is replaced, and the group that
    // references it re-creates its rule against the new id.
    stack.write(
        "blueprint.yaml",
        &small(
            &stack,
            &groups_v1.replace("load balancer", "public load balancer"),
        ),
    );
    let output = stack.run(&["plan", "blueprint.yaml"]);
    expect_code(&output, 0);
    let out = stdout(&output);
    assert!(out.contains("-/+ security_group.alb"), "{out}");
    assert!(out.contains("description cannot change in place"), "{out}");
    assert!(out.contains("  ~ security_group.ecs"), "{out}");
    assert!(
        out.contains("~ tcp 8000 from security_group.alb (re-created)"),
        "{out}"
    );
    assert!(
        out.contains("Plan: 0 to add, 1 to change, 1 to replace, 0 to destroy."),
        "{out}"
    );
    apply_ok(&stack, "blueprint.yaml");
    let s = &stack.name;
    // Made before the old one went, the new group has the name plus a suffix.
    let alb_after: Vec<(String, String)> = groups(&stack)
        .await
        .iter()
        .filter_map(|g| Some((g.group_name()?.to_string(), g.group_id()?.to_string())))
        .filter(|(name, _)| name.starts_with(&format!("{s}-alb")))
        .collect();
    assert_eq!(alb_after.len(), 1, "{alb_after:?}");
    let (alb_name, alb_id) = &alb_after[0];
    assert!(alb_name.starts_with(&format!("{s}-alb-")), "{alb_name}");
    assert!(!alb_before.contains(alb_id), "the group was replaced");
    let rules = rules_by_group(&stack).await;
    assert_eq!(
        rules[&format!("{s}-ecs")].0,
        set(&[&format!("tcp 8000 {alb_name}")])
    );
    assert_eq!(rules[alb_name].1, set(&[&format!("tcp 8000 {s}-ecs")]));

    // A subnet's CIDR cannot change in place either; its route table re-associates.
    let moved = small(
        &stack,
        &groups_v1.replace("load balancer", "public load balancer"),
    )
    .replace("10.20.1.0/24", "10.20.9.0/24");
    stack.write("blueprint.yaml", &moved);
    let output = stack.run(&["plan", "blueprint.yaml"]);
    let out = stdout(&output);
    assert!(out.contains("-/+ subnet.data-a"), "{out}");
    assert!(
        out.contains("cidr:  10.20.1.0/24 → 10.20.9.0/24  # forces replacement"),
        "{out}"
    );
    assert!(
        out.contains("~ route_table.isolated")
            && out.contains("subnets:  ~ subnet.data-a (re-created)"),
        "{out}"
    );
    apply_ok(&stack, "blueprint.yaml");
    let tables = stack
        .ec2()
        .describe_route_tables()
        .filters(stack.stack_filter())
        .send()
        .await
        .expect("rt")
        .route_tables
        .unwrap_or_default();
    let subnets = stack
        .ec2()
        .describe_subnets()
        .filters(stack.stack_filter())
        .send()
        .await
        .expect("subnets")
        .subnets
        .unwrap_or_default();
    assert_eq!(subnets.len(), 1);
    assert_eq!(subnets[0].cidr_block(), Some("10.20.9.0/24"));
    assert_eq!(
        tables[0]
            .associations()
            .iter()
            .filter_map(|a| a.subnet_id())
            .collect::<Vec<_>>(),
        vec![subnets[0].subnet_id().unwrap_or_default()]
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn plan_json_is_the_documented_contract() {
    let stack = TestStack::new("json").await;
    stack.write("blueprint.yaml", &stack.seed_network());
    let output = stack.run(&["plan", "blueprint.yaml", "--json"]);
    expect_code(&output, 0);
    let plan: serde_json::Value =
        serde_json::from_slice(&output.stdout).expect("stdout is one JSON document");
    assert_eq!(plan["format_version"], 2);
    assert_eq!(plan["stack"], stack.name.as_str());
    assert_eq!(plan["region"], "us-east-1");
    assert_eq!(plan["blueprint"]["hash"].as_str().map(str::len), Some(64));
    assert_eq!(plan["live_fingerprint"].as_str().map(str::len), Some(64));
    assert_eq!(plan["summary"]["add"], 23);
    let changes = plan["changes"].as_array().expect("changes");
    assert_eq!(changes.len(), 23);
    for change in changes {
        assert_eq!(change["action"], "create");
        assert!(change["address"].as_str().is_some_and(|a| a.contains('.')));
        assert!(change["kind"].is_string() && change["depends_on"].is_array());
        for diff in change["diffs"].as_array().expect("diffs") {
            assert!(
                diff["path"].is_string()
                    && diff.get("before").is_some()
                    && diff.get("after").is_some()
            );
            assert_eq!(diff["sensitive"], false);
        }
    }
    let subnet = changes
        .iter()
        .find(|c| c["address"] == "subnet.app-az1")
        .expect("subnet change");
    assert_eq!(subnet["depends_on"], serde_json::json!(["vpc.main"]));
    assert!(
        stderr(&output).contains("Discovered 0 resources"),
        "logs go to stderr"
    );
}

/// Discovery is one paginated call per kind: its cost must not grow with the number of
/// resources (beyond a page boundary of a paginated list). Measured with the binary's
/// own call counter (an SDK interceptor), printed by `plan -v`.
#[tokio::test(flavor = "multi_thread")]
async fn discovery_cost_does_not_grow_with_resources() {
    fn calls(output: &std::process::Output) -> (usize, BTreeMap<String, usize>) {
        let err = stderr(output);
        let line = err
            .lines()
            .find(|l| l.starts_with("Discovered "))
            .expect("discovery line");
        let total = line
            .rsplit_once('(')
            .and_then(|(_, r)| r.split_whitespace().next())
            .expect("count");
        let per_operation = err
            .lines()
            .filter_map(|l| l.strip_prefix("  "))
            .filter_map(|l| l.split_once(": "))
            .filter(|(op, _)| op.contains(':') && !op.starts_with("sts:"))
            .map(|(op, n)| {
                (
                    op.to_string(),
                    n.split_whitespace()
                        .next()
                        .unwrap_or("0")
                        .parse()
                        .expect("number"),
                )
            })
            .collect();
        (total.parse().expect("number"), per_operation)
    }
    let stack = TestStack::new("cost").await;
    stack.write("blueprint.yaml", &stack.seed_network());
    apply_ok(&stack, "blueprint.yaml");
    let (seed_total, seed) = calls(&stack.run(&["plan", "blueprint.yaml", "-v"]));

    let data_az2 = "    data-az2: { cidr: 10.0.40.0/24, az: b, tier: isolated }";
    assert!(
        stack.seed_network().contains(data_az2),
        "the seed's last subnet"
    );
    let bigger = stack.seed_network().replace(
        data_az2,
        &format!("{data_az2}\n    data-az3: {{ cidr: 10.0.50.0/24, az: a, tier: isolated }}\n    data-az4: {{ cidr: 10.0.60.0/24, az: b, tier: isolated }}"),
    ) + "  extra1: { ingress: [ { port: 1, from: 10.0.0.0/8 } ] }\n  extra2: { ingress: [ { port: 2, from: 10.0.0.0/8 } ] }\n";
    stack.write("bigger.yaml", &bigger);
    apply_ok(&stack, "bigger.yaml");
    let (_, more) = calls(&stack.run(&["plan", "bigger.yaml", "-v"]));
    assert_eq!(
        seed.keys().collect::<Vec<_>>(),
        more.keys().collect::<Vec<_>>(),
        "the same operations"
    );
    for (operation, count) in &more {
        assert!(
            count <= &(seed[operation] + 1),
            "{operation} grew with resources: {} → {count}",
            seed[operation]
        );
    }
    // 8 EC2 kinds, 2 VPC attributes, the default group, the tagging index, log groups,
    // the IAM role list and the one role's tags and policy, KMS aliases, secrets, WAF web
    // ACLs and IP sets, RDS instances, subnet groups and parameter groups, ElastiCache
    // replication groups, clusters and subnet groups, S3 buckets, CloudTrail trails,
    // GuardDuty detectors, the Security Hub, SNS topics, metric filters and alarms (every kind is
    // listed even when the blueprint has none: a section removed from it leaves resources
    // to delete).
    assert!(
        seed_total <= 33,
        "discovery of the seed network took {seed_total} calls: {seed:?}"
    );
}

/// EC2 reads are eventually consistent: for a while after a create, a filtered describe
/// leaves the new resource out (https://docs.aws.amazon.com/ec2/latest/devguide/eventual-consistency.html).
/// Here every new resource is left out of the first filtered describe that could list it,
/// whatever the time: the new VPC's default group when apply closes it, and the rest when
/// apply verifies. Apply looks again before reporting a difference, and still verifies.
#[tokio::test(flavor = "multi_thread")]
async fn verification_waits_for_eventually_consistent_reads() {
    let stack = TestStack::new("consistent").await.with_realism(Realism {
        ec2_missed_reads: 1,
        ..Realism::light(7)
    });
    stack.write("blueprint.yaml", &stack.seed_network());
    let output = stack.run(&["apply", "blueprint.yaml", "--auto-approve"]);
    expect_code(&output, 0);
    assert!(stdout(&output).contains("Verified"), "{}", stdout(&output));
    assert!(
        stderr(&output).contains("AWS's reads are eventually consistent, so looking again"),
        "{}",
        stderr(&output)
    );
    let counts = stack.proxy.realism_counts();
    assert!(
        counts.get(&Behaviour::Ec2Omitted).is_some_and(|n| *n > 0),
        "{counts:?}"
    );
    assert!(
        counts.get(&Behaviour::Ec2NotFound).is_some_and(|n| *n > 0),
        "{counts:?}"
    );
}

/// A route another team adds to a stack's route table (here: to a peered network) is not
/// the stack's: plan leaves it alone. With `exclusive_routes: true` the tables own every
/// route, and apply removes it.
#[tokio::test(flavor = "multi_thread")]
async fn routes_others_add_are_left_alone_unless_the_tables_are_exclusive() {
    let stack = TestStack::new("routes").await;
    stack.write("blueprint.yaml", &stack.seed_network());
    apply_ok(&stack, "blueprint.yaml");
    let ec2 = stack.ec2();
    let tables = ec2
        .describe_route_tables()
        .filters(stack.address_filter("route_table.private-a"))
        .filters(stack.stack_filter())
        .send()
        .await
        .expect("route tables");
    let table = tables.route_tables()[0].clone();
    let gateway = table
        .routes()
        .iter()
        .find_map(|r| r.nat_gateway_id())
        .expect("the private table routes through a NAT gateway")
        .to_string();
    let table_id = table.route_table_id().expect("id").to_string();
    ec2.create_route()
        .route_table_id(&table_id)
        .destination_cidr_block("172.16.0.0/16")
        .nat_gateway_id(&gateway)
        .send()
        .await
        .expect("another team's route");
    no_changes(&stack, "blueprint.yaml");

    let exclusive = stack
        .seed_network()
        .replace("  nat: per_az", "  exclusive_routes: true\n  nat: per_az");
    stack.write("exclusive.yaml", &exclusive);
    let out = apply_ok(&stack, "exclusive.yaml");
    assert!(out.contains("Plan: 0 to add, 1 to change"), "{out}");
    let routes = ec2
        .describe_route_tables()
        .route_table_ids(&table_id)
        .send()
        .await
        .expect("route table");
    let destinations: Vec<&str> = routes.route_tables()[0]
        .routes()
        .iter()
        .filter_map(|r| r.destination_cidr_block())
        .collect();
    assert!(!destinations.contains(&"172.16.0.0/16"), "{destinations:?}");
    assert!(destinations.contains(&"0.0.0.0/0"), "{destinations:?}");
}

/// `drift` tells a change made in the account from a blueprint edit not yet applied, from
/// the record the last complete apply left beside the stack's lock; without the record it
/// says it cannot tell.
#[tokio::test(flavor = "multi_thread")]
async fn drift_tells_outside_changes_from_unapplied_edits() {
    let stack = TestStack::new("origin").await;
    let groups = "security_groups:\n  web: { ingress: [ { port: 443, from: 10.0.0.0/8 } ] }\n  api: { ingress: [ { port: 8000, from: security_group.web } ] }\n";
    stack.write("blueprint.yaml", &small(&stack, groups));
    apply_ok(&stack, "blueprint.yaml");
    let account = stack.account().await;
    let record = stack
        .s3()
        .get_object()
        .bucket(format!("secinfra-locks-{account}-us-east-1"))
        .key(format!("applied/{}.json", stack.name))
        .send()
        .await
        .expect("apply left its record beside the lock");
    let record: serde_json::Value =
        serde_json::from_slice(&record.body.collect().await.expect("body").into_bytes())
            .expect("record JSON");
    assert!(
        record["resources"]["security_group.web"].is_object(),
        "{record}"
    );
    let web_id = record["ids"]["security_group.web"]["id"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert!(
        web_id.starts_with("sg-"),
        "the record keeps AWS ids: {record}"
    );

    // In the account: port 22 opened on `web`. In the blueprint: `api` moves to 8080.
    open_to_the_internet(&stack, "security_group.web", 22).await;
    stack.write(
        "blueprint.yaml",
        &small(&stack, &groups.replace("port: 8000", "port: 8080")),
    );

    let drift = stack.run(&["drift", "blueprint.yaml"]);
    expect_code(&drift, 2);
    let out = stdout(&drift);
    let outside = out.find("Changed outside secinfra").expect(&out);
    let edits = out.find("Blueprint edits not yet applied").expect(&out);
    assert!(outside < edits, "{out}");
    let (outside, edits) = out.split_at(edits);
    assert!(
        outside.contains("security_group.web") && outside.contains("tcp 22 from 0.0.0.0/0"),
        "{out}"
    );
    assert!(!outside.contains("~ security_group.api"), "{out}");
    assert!(
        edits.contains("security_group.api") && edits.contains("tcp 8080"),
        "{out}"
    );
    assert!(!edits.contains("~ security_group.web"), "{out}");
    // Who opened it, from CloudTrail's event history: the writes to `web`, or, from an
    // endpoint without LookupEvents, one line saying so (and nothing half-said).
    let unknown_who = out.matches("Who made these changes is not known: ").count();
    let who_lines = outside.matches("\n    who: ").count();
    assert!(
        (unknown_who == 1 && !out.contains("who: ")) || (unknown_who == 0 && who_lines >= 1),
        "{out}"
    );
    assert!(
        stderr(&drift).contains("LookupEvents request"),
        "{}",
        stderr(&drift)
    );

    let json = stack.run(&["drift", "blueprint.yaml", "--json"]);
    expect_code(&json, 2);
    let plan: serde_json::Value = serde_json::from_slice(&json.stdout).expect("json");
    let attribution = &plan["drift"]["attribution"];
    assert!(
        attribution["unavailable"].is_string()
            || attribution["resources"]["security_group.web"]["looked_up"][0] == web_id.as_str(),
        "{attribution}"
    );
    let quiet = stack.run(&["drift", "blueprint.yaml", "--json", "--no-attribution"]);
    expect_code(&quiet, 2);
    let quiet: serde_json::Value = serde_json::from_slice(&quiet.stdout).expect("json");
    assert!(quiet["drift"].get("attribution").is_none(), "{quiet}");
    assert_eq!(
        plan["drift"]["outside"],
        serde_json::json!(["security_group.web"])
    );
    assert_eq!(
        plan["drift"]["unapplied"],
        serde_json::json!(["security_group.api"])
    );

    // Another bucket holds no record: the differences are shown, their origin is not.
    let unknown = stack.run(&[
        "drift",
        "blueprint.yaml",
        "--lock-bucket",
        &format!("{}-elsewhere", stack.name),
    ]);
    expect_code(&unknown, 2);
    assert!(
        stderr(&unknown).contains("No record of a complete apply"),
        "{}",
        stderr(&unknown)
    );
    assert!(
        stdout(&unknown).contains("Differences (no record of a complete apply"),
        "{}",
        stdout(&unknown)
    );
}

/// `audit --live` judges the account: a rule opened outside secinfra is a finding the
/// blueprint audit cannot see, pointed at the blueprint line declaring the group.
#[tokio::test(flavor = "multi_thread")]
async fn audit_live_catches_an_insecure_change_made_outside_secinfra() {
    let stack = TestStack::new("audit").await;
    stack.write("blueprint.yaml", &stack.seed_network());
    apply_ok(&stack, "blueprint.yaml");
    let rules = |output: &std::process::Output| -> Vec<(String, String)> {
        let doc: serde_json::Value =
            serde_json::from_slice(&output.stdout).unwrap_or_else(|_| panic!("{}", stdout(output)));
        doc["findings"]
            .as_array()
            .expect("findings")
            .iter()
            .map(|f| {
                (
                    f["rule"].as_str().unwrap_or_default().to_string(),
                    f["address"].as_str().unwrap_or_default().to_string(),
                )
            })
            .collect()
    };
    let opened = ("SI001".to_string(), "security_group.rds".to_string());
    let declared = stack.run(&["audit", "blueprint.yaml", "--format", "json"]);
    let live = stack.run(&["audit", "blueprint.yaml", "--live", "--format", "json"]);
    assert!(!rules(&declared).contains(&opened));
    assert!(!rules(&live).contains(&opened), "{}", stdout(&live));

    open_to_the_internet(&stack, "security_group.rds", 5432).await;

    let declared = stack.run(&["audit", "blueprint.yaml", "--format", "json"]);
    assert!(
        !rules(&declared).contains(&opened),
        "the blueprint did not change"
    );
    let live = stack.run(&["audit", "blueprint.yaml", "--live", "--format", "json"]);
    let found = rules(&live);
    assert!(found.contains(&opened), "{found:?}");
    let table = stack.run(&["audit", "blueprint.yaml", "--live"]);
    expect_code(&table, 3);
    let text = stdout(&table);
    assert!(
        text.contains("Audit of the account (stack ")
            && text.lines().any(|l| l.contains("SI001")
                && l.contains("security_group.rds")
                && l.contains("blueprint.yaml:")),
        "{text}"
    );
}

/// Opens `port` from 0.0.0.0/0 on the stack's group at `address`, as someone would in the
/// console: a change made outside secinfra.
async fn open_to_the_internet(stack: &TestStack, address: &str, port: i32) {
    let ec2 = stack.ec2();
    let groups = ec2
        .describe_security_groups()
        .filters(stack.address_filter(address))
        .filters(stack.stack_filter())
        .send()
        .await
        .expect("the group")
        .security_groups
        .unwrap_or_default();
    ec2.authorize_security_group_ingress()
        .group_id(groups[0].group_id().expect("id"))
        .ip_permissions(
            IpPermission::builder()
                .ip_protocol("tcp")
                .from_port(port)
                .to_port(port)
                .ip_ranges(IpRange::builder().cidr_ip("0.0.0.0/0").build())
                .build(),
        )
        .send()
        .await
        .expect("open the port");
}

/// A plan says which changes widen exposure and which narrow it; `--fail-on-widening`
/// exits 4 on a widening plan and 0 on one that only narrows.
#[tokio::test(flavor = "multi_thread")]
async fn plans_label_exposure_and_fail_on_widening() {
    let stack = TestStack::new("exposure").await;
    let groups = "security_groups:\n  web: { ingress: [ { port: 443, from: 10.0.0.0/8 } ] }\n";
    stack.write("blueprint.yaml", &small(&stack, groups));
    apply_ok(&stack, "blueprint.yaml");

    let wider = groups.replace("from: 10.0.0.0/8", "from: 0.0.0.0/0");
    stack.write("wider.yaml", &small(&stack, &wider));
    let plan = stack.run(&[
        "plan",
        "wider.yaml",
        "--fail-on-widening",
        "--detailed-exitcode",
    ]);
    expect_code(&plan, 4);
    let text = stdout(&plan);
    assert!(
        // The range it replaces is inside it: nothing is closed.
        text.contains("widens exposure: opens `tcp 443 from 0.0.0.0/0` (the internet)")
            && !text.contains("narrows exposure")
            && text.contains("Exposure: 1 change widens it (security_group.web)."),
        "{text}"
    );
    expect_code(
        &stack.run(&["plan", "wider.yaml", "--detailed-exitcode"]),
        2,
    );
    let markdown = stdout(&stack.run(&["plan", "wider.yaml", "--format", "markdown"]));
    assert!(
        markdown.contains("⚠️ Exposure: 1 change widens it (security_group.web).")
            && markdown.contains("| `security_group.web` | update | ⚠️ widens: opens `tcp 443 from 0.0.0.0/0` (the internet) |"),
        "{markdown}"
    );
    let json = stack.run(&["plan", "wider.yaml", "--json"]);
    let doc: serde_json::Value = serde_json::from_slice(&json.stdout).expect("plan json");
    let web = doc["changes"]
        .as_array()
        .expect("changes")
        .iter()
        .find(|c| c["address"] == "security_group.web")
        .expect("web");
    assert_eq!(web["exposure"][0]["direction"], "widens", "{web:#}");

    let narrower = "security_groups:\n  web: { ingress: [ { port: 443, from: 10.1.0.0/16 } ] }\n";
    stack.write("narrower.yaml", &small(&stack, narrower));
    let narrowing = stack.run(&["plan", "narrower.yaml", "--fail-on-widening"]);
    expect_code(&narrowing, 0);
    assert!(
        stdout(&narrowing).contains("narrows exposure: closes `tcp 443 from 10.0.0.0/8`"),
        "{}",
        stdout(&narrowing)
    );
}
