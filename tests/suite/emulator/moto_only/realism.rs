//! The whole seed (its emulator copy) on a first run against an account that behaves like
//! real AWS (`crate::realism`, every behaviour on, windows of seconds): it applies from
//! nothing with default settings, re-plans empty, and destroys with
//! `--allow-delete-protected`, ten times out of ten, with nothing of the stack left.
//!
//! Emulator copy: Security Hub subscribes no standards (moto has no BatchEnableStandards)
//! and there is no cache: moto never finishes deleting a replication group and has no
//! DeleteCacheSubnetGroup (`moto_only/data.rs`), so a destroy with one cannot complete
//! there. The database and NAT gateways still leave their lingering network interfaces to
//! wait out. Each run is a stack of its own in a region of its own (its GuardDuty detector
//! and Security Hub are the region's), apart from the regions `faults.rs` uses.

use std::collections::BTreeMap;
use std::time::Instant;

use super::super::TestStack;
use super::seed_in_region;
use crate::realism::{Behaviour, Realism};
use crate::support::{expect_code, stderr, stdout};

const REGIONS: [&str; 10] = [
    "eu-south-2",
    "ap-northeast-3",
    "eu-south-1",
    "eu-central-2",
    "me-south-1",
    "af-south-1",
    "ap-east-1",
    "ap-south-2",
    "ap-southeast-3",
    "ca-west-1",
];

/// `text` without the top-level section `key:` and what is nested under it.
fn without_section(text: &str, key: &str) -> String {
    let mut out = Vec::new();
    let mut skipping = false;
    for line in text.lines() {
        let top_level = !line.starts_with(' ') && !line.trim().is_empty() && !line.starts_with('#');
        if top_level {
            skipping = line.starts_with(&format!("{key}:"));
        }
        if !skipping {
            out.push(line);
        }
    }
    out.join("\n") + "\n"
}

/// The stack's EC2 resources and database still there, by independent describe calls.
async fn leftovers(stack: &TestStack) -> Vec<String> {
    let ec2 = stack.ec2();
    let mut left = Vec::new();
    let f = || stack.stack_filter();
    let vpcs = ec2.describe_vpcs().filters(f()).send().await.expect("vpcs");
    left.extend(
        vpcs.vpcs()
            .iter()
            .filter_map(|v| v.vpc_id())
            .map(str::to_string),
    );
    let subnets = ec2
        .describe_subnets()
        .filters(f())
        .send()
        .await
        .expect("subnets");
    left.extend(
        subnets
            .subnets()
            .iter()
            .filter_map(|s| s.subnet_id())
            .map(str::to_string),
    );
    let groups = ec2
        .describe_security_groups()
        .filters(f())
        .send()
        .await
        .expect("groups");
    left.extend(
        groups
            .security_groups()
            .iter()
            .filter_map(|g| g.group_id())
            .map(str::to_string),
    );
    let nats = ec2
        .describe_nat_gateways()
        .filter(f())
        .send()
        .await
        .expect("nat gateways");
    left.extend(
        nats.nat_gateways()
            .iter()
            .filter(|n| n.state().is_none_or(|s| s.as_str() != "deleted"))
            .filter_map(|n| n.nat_gateway_id())
            .map(str::to_string),
    );
    let addresses = ec2
        .describe_addresses()
        .filters(f())
        .send()
        .await
        .expect("addresses");
    left.extend(
        addresses
            .addresses()
            .iter()
            .filter_map(|a| a.allocation_id())
            .map(str::to_string),
    );
    let databases = stack
        .rds()
        .describe_db_instances()
        .send()
        .await
        .expect("databases");
    left.extend(
        databases
            .db_instances()
            .iter()
            .filter_map(|d| d.db_instance_identifier())
            .filter(|id| id.starts_with(&stack.name))
            .map(str::to_string),
    );
    left
}

#[tokio::test(flavor = "multi_thread")]
async fn the_seed_survives_real_aws_behaviour_on_a_first_run_and_destroy() {
    let mut stacks = Vec::new();
    for (i, region) in REGIONS.iter().enumerate() {
        let stack = TestStack::new("real")
            .await
            .with_realism(Realism::all(0x5EED_0000 + i as u64));
        stacks.push(seed_in_region(stack, region, |seed| without_section(&seed, "caches")).await);
    }
    let mut report = Vec::new();
    let mut counts: BTreeMap<Behaviour, usize> = BTreeMap::new();
    let (mut waits_propagation, mut waits_interfaces) = (0, 0);
    // Two at a time: the emulator, not secinfra, is the bottleneck beyond that.
    for pair in stacks.chunks(2) {
        let runs: Vec<_> = pair
            .iter()
            .map(|stack| {
                let command = |args: &[&str]| {
                    let mut cmd = stack.cmd();
                    cmd.args(args);
                    cmd
                };
                let apply = command(&["apply", "blueprint.yaml", "--auto-approve"]);
                let plan = command(&["plan", "blueprint.yaml", "--detailed-exitcode"]);
                let destroy = command(&[
                    "destroy",
                    "blueprint.yaml",
                    "--auto-approve",
                    "--allow-delete-protected",
                ]);
                std::thread::spawn(move || {
                    let started = Instant::now();
                    let outputs: Vec<_> = [apply, plan, destroy]
                        .into_iter()
                        .map(|mut cmd| cmd.output().expect("run secinfra"))
                        .collect();
                    (outputs, started.elapsed())
                })
            })
            .collect();
        for (stack, run) in pair.iter().zip(runs) {
            let (outputs, took) = run.join().expect("run thread");
            let [apply, plan, destroy] = <[_; 3]>::try_from(outputs).expect("three runs");
            stack.keep("apply", &apply);
            stack.keep("plan", &plan);
            stack.keep("destroy", &destroy);
            expect_code(&apply, 0);
            assert!(stdout(&apply).contains("Verified"), "{}", stdout(&apply));
            expect_code(&plan, 0);
            expect_code(&destroy, 0);
            assert!(
                stdout(&destroy).contains("Destroy complete"),
                "{}",
                stdout(&destroy)
            );
            let left = leftovers(stack).await;
            assert!(left.is_empty(), "{}: left behind {left:?}", stack.name);
            waits_propagation += stderr(&apply).matches("AWS has not propagated").count();
            waits_interfaces += stderr(&destroy)
                .matches("waiting for the network interfaces of the deleted")
                .count();
            for (behaviour, n) in stack.proxy.realism_counts() {
                *counts.entry(behaviour).or_default() += n;
            }
            report.push(format!("{} {:.1} s", stack.name, took.as_secs_f64()));
        }
    }
    println!(
        "{n}/{n} runs applied, re-planned empty and destroyed through real-AWS behaviour; \
         injected {counts:?}; secinfra waited {waits_propagation} times for propagation and \
         {waits_interfaces} times for lingering interfaces; {}",
        report.join(", "),
        n = stacks.len()
    );
    // A describe leaving a new resource out needs one to fall inside its window, which
    // timing decides here: `network::verification_waits_for_eventually_consistent_reads`
    // plays it for sure.
    for behaviour in [
        Behaviour::IamPropagation,
        Behaviour::Ec2NotFound,
        Behaviour::TagIndexLag,
        Behaviour::DependencyViolation,
    ] {
        assert!(
            counts.get(&behaviour).copied().unwrap_or(0) > 0,
            "{behaviour:?} was never played: {counts:?}"
        );
    }
    assert!(waits_propagation > 0 && waits_interfaces > 0);
}
