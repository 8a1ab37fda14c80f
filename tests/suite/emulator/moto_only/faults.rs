//! Applies with default settings through a proxy that fails a fifth of all requests
//! (throttling, 500/503, slow answers, connection resets before and after the emulator
//! acts), in front of each stack's real-AWS behaviour (`crate::realism`): every apply of
//! the whole blueprint converges, and nothing exists twice.
//!
//! Each apply is a stack of its own in a region of its own, so the region's GuardDuty
//! detector and Security Hub are part of it (Security Hub standards are left out: moto has
//! no BatchEnableStandards, see `monitoring.rs`).

use std::collections::BTreeMap;
use std::time::Instant;

use super::super::TestStack;
use super::seed_in_region;
use crate::fault_proxy::FaultProxy;
use crate::support::{expect_code, stdout};

const REGIONS: [&str; 10] = [
    "us-east-2",
    "us-west-1",
    "eu-central-1",
    "eu-north-1",
    "eu-west-3",
    "eu-west-2",
    "ap-northeast-2",
    "ap-south-1",
    "sa-east-1",
    "ap-southeast-1",
];

/// Addresses the stack's tags claim more than once, seen through the tagging API and
/// EC2's own describe calls (the tagging API misses Elastic IPs).
pub(super) async fn twins(stack: &TestStack) -> BTreeMap<String, Vec<String>> {
    let mut seen: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let pages = stack
        .tagging()
        .get_resources()
        .tag_filters(
            aws_sdk_resourcegroupstagging::types::TagFilter::builder()
                .key("secinfra:stack")
                .values(&stack.name)
                .build(),
        )
        .into_paginator()
        .items()
        .send()
        .collect::<Vec<_>>()
        .await;
    for mapping in pages {
        let mapping = mapping.expect("tagged resources");
        let arn = mapping.resource_arn().unwrap_or_default().to_string();
        // The database copies its tags to its snapshots, as declared: not a twin.
        if arn.contains(":rds:") && arn.contains(":snapshot:") {
            continue;
        }
        if let Some(address) = mapping
            .tags()
            .iter()
            .find(|t| t.key() == "secinfra:address")
        {
            seen.entry(address.value().to_string())
                .or_default()
                .push(arn);
        }
    }
    let addresses = stack
        .ec2()
        .describe_addresses()
        .filters(stack.stack_filter())
        .send()
        .await
        .expect("addresses");
    for eip in addresses.addresses() {
        if let Some(tag) = eip
            .tags()
            .iter()
            .find(|t| t.key() == Some("secinfra:address"))
        {
            seen.entry(tag.value().unwrap_or_default().to_string())
                .or_default()
                .push(eip.allocation_id().unwrap_or_default().to_string());
        }
    }
    let vpcs = stack
        .ec2()
        .describe_vpcs()
        .filters(stack.stack_filter())
        .send()
        .await
        .expect("vpcs");
    assert_eq!(vpcs.vpcs().len(), 1, "one VPC for {}", stack.name);
    seen.retain(|_, arns| arns.len() > 1);
    seen
}

#[tokio::test(flavor = "multi_thread")]
async fn applies_through_injected_faults_converge_without_twins() {
    let mut stacks = Vec::new();
    let mut proxies = Vec::new();
    for (i, region) in REGIONS.iter().enumerate() {
        let stack = seed_in_region(TestStack::new("faults").await, region, |s| s).await;
        proxies.push(FaultProxy::start(
            &stack.proxy.url,
            20,
            0x5EC1_F4A5 + i as u64,
        ));
        stacks.push(stack);
    }
    let mut converged = 0;
    let mut report = Vec::new();
    let (mut uncertain, mut found) = (0, 0);
    // Two at a time: ten at once would measure the emulator's patience, not secinfra's.
    for (pair, pair_proxies) in stacks.chunks(2).zip(proxies.chunks(2)) {
        let runs: Vec<_> = pair
            .iter()
            .zip(pair_proxies)
            .map(|(stack, proxy)| {
                let mut cmd = stack.cmd();
                cmd.env("AWS_ENDPOINT_URL", &proxy.url).args([
                    "apply",
                    "blueprint.yaml",
                    "--auto-approve",
                ]);
                std::thread::spawn(move || {
                    let started = Instant::now();
                    (cmd.output().expect("run secinfra"), started.elapsed())
                })
            })
            .collect();
        for (stack, run) in pair.iter().zip(runs) {
            let (output, took) = run.join().expect("apply thread");
            stack.keep("apply through the fault proxy", &output);
            expect_code(&output, 0);
            let err = String::from_utf8_lossy(&output.stderr);
            uncertain += err.matches("looking for what it may have made").count();
            found += err
                .matches("finished it instead of creating another")
                .count();
            assert!(stdout(&output).contains("Verified"), "{}", stdout(&output));
            // Checked again without the proxy: the account matches the blueprint.
            let replan = stack.run(&["plan", "blueprint.yaml", "--detailed-exitcode"]);
            expect_code(&replan, 0);
            let twins = twins(stack).await;
            assert!(twins.is_empty(), "{}: twins {twins:?}", stack.name);
            converged += 1;
            report.push(format!("{} {:.1} s", stack.name, took.as_secs_f64()));
        }
    }
    let requests: usize = proxies.iter().map(FaultProxy::requests).sum();
    let injected: usize = proxies.iter().map(FaultProxy::total_injected).sum();
    let mut by_fault = BTreeMap::new();
    for proxy in &proxies {
        for (fault, n) in proxy.injected() {
            *by_fault.entry(fault).or_insert(0) += n;
        }
    }
    let mut realism = BTreeMap::new();
    for stack in &stacks {
        for (behaviour, n) in stack.proxy.realism_counts() {
            *realism.entry(behaviour).or_insert(0) += n;
        }
    }
    println!(
        "{converged}/{} applies converged with default settings and 0 twins; {requests} \
         requests, {injected} faults injected {by_fault:?}, real-AWS behaviour {realism:?}; \
         {uncertain} creates failed without a clear outcome, {found} of them had taken effect \
         and were finished, not repeated; {}",
        stacks.len(),
        report.join(", ")
    );
    assert_eq!(converged, REGIONS.len());
    assert!(
        injected * 100 >= requests * 15,
        "about a fifth of requests failed"
    );
}
