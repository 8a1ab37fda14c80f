//! A blueprint of 1000 resources (`tests/fixtures/scale-1000.yaml`: one VPC, 300 subnets
//! and their route table, 400 security groups, 298 secrets) applies and plans through EC2's
//! request token buckets, played at AWS's documented sizes and rates
//! (`crate::realism`), with no `RequestLimitExceeded` reaching the user: secinfra paces
//! each EC2 action on its side. Timings are measured by `scripts/bench.sh`, not here.
//! moto only: the suite runs it once (it takes a few minutes at AWS's rates).

use std::time::Instant;

use super::super::TestStack;
use crate::realism::{Behaviour, Realism};
use crate::support::{expect_code, root, stderr, stdout};

#[tokio::test(flavor = "multi_thread")]
async fn a_thousand_resources_apply_and_plan_within_ec2s_request_buckets() {
    let stack = TestStack::new("scale")
        .await
        .with_realism(Realism::buckets_only());
    let text = std::fs::read_to_string(root().join("tests/fixtures/scale-1000.yaml"))
        .expect("fixture")
        .replace("stack: scale", &format!("stack: {}", stack.name));
    stack.write("blueprint.yaml", &text);

    let started = Instant::now();
    let apply = stack.run(&["apply", "blueprint.yaml", "--auto-approve", "-v"]);
    let applied_in = started.elapsed();
    expect_code(&apply, 0);
    assert!(
        stdout(&apply).contains("Plan: 1000 to add"),
        "{}",
        stdout(&apply)
    );
    assert!(stdout(&apply).contains("Verified"), "{}", stdout(&apply));
    let started = Instant::now();
    let plan = stack.run(&["plan", "blueprint.yaml", "--detailed-exitcode", "-v"]);
    let planned_in = started.elapsed();
    expect_code(&plan, 0);
    for output in [&apply, &plan] {
        let text = format!("{}{}", stdout(output), stderr(output));
        assert!(!text.contains("RequestLimitExceeded"), "{text}");
    }
    let refused = stack
        .proxy
        .realism_counts()
        .get(&Behaviour::RequestLimitExceeded)
        .copied()
        .unwrap_or(0);
    println!(
        "1000 resources: apply {:.1} s, plan {:.1} s through EC2's token buckets; {refused} \
         requests refused by a bucket (retried by the SDK), 0 reached the user; {} requests",
        applied_in.as_secs_f64(),
        planned_in.as_secs_f64(),
        stack.proxy.requests()
    );
    let ec2 = stack.ec2();
    let groups = ec2
        .describe_security_groups()
        .filters(stack.stack_filter())
        .send()
        .await
        .expect("groups");
    assert_eq!(groups.security_groups().len(), 400);
}
