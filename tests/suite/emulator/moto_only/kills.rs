//! SIGKILL at 20 points of an apply of the seed (network, keys, secrets, WAF, database,
//! cache, trail, alarms): the next apply converges, nothing exists twice, and nothing the
//! killed apply created is left without the stack's tags (tags are set at creation
//! everywhere the API allows; an S3 bucket, which takes none, is tagged at once and known
//! by its name meanwhile).
//!
//! Each kill point is a stack of its own, applied through a proxy that delays every
//! answer so the apply is spread out, and killed after a given number of requests.

use std::process::Stdio;
use std::time::Duration;

use aws_config::Region;

use super::super::{TestStack, endpoint};
use super::faults::twins;
use crate::fault_proxy::FaultProxy;
use crate::support::{expect_code, stdout};

const KILL_POINTS: usize = 20;
const REGION: &str = "eu-west-1";

/// Resources in the stack's VPC, and its trail bucket, that lack the stack tag.
async fn untagged(stack: &TestStack) -> Vec<String> {
    let ec2 = stack.ec2();
    let vpcs = ec2
        .describe_vpcs()
        .filters(stack.stack_filter())
        .send()
        .await
        .expect("vpcs");
    let vpc = vpcs.vpcs()[0].vpc_id().expect("vpc id").to_string();
    let in_vpc = aws_sdk_ec2::types::Filter::builder()
        .name("vpc-id")
        .values(&vpc)
        .build();
    let ours = |tags: &[aws_sdk_ec2::types::Tag]| {
        tags.iter()
            .any(|t| t.key() == Some("secinfra:stack") && t.value() == Some(stack.name.as_str()))
    };
    let mut found = Vec::new();
    let subnets = ec2
        .describe_subnets()
        .filters(in_vpc.clone())
        .send()
        .await
        .expect("subnets");
    for s in subnets.subnets().iter().filter(|s| !ours(s.tags())) {
        found.push(format!("subnet {:?}", s.subnet_id()));
    }
    let tables = ec2
        .describe_route_tables()
        .filters(in_vpc.clone())
        .send()
        .await
        .expect("route tables");
    for t in tables
        .route_tables()
        .iter()
        .filter(|t| !ours(t.tags()) && !t.associations().iter().any(|a| a.main() == Some(true)))
    {
        found.push(format!("route table {:?}", t.route_table_id()));
    }
    let groups = ec2
        .describe_security_groups()
        .filters(in_vpc.clone())
        .send()
        .await
        .expect("security groups");
    for g in groups
        .security_groups()
        .iter()
        .filter(|g| !ours(g.tags()) && g.group_name() != Some("default"))
    {
        found.push(format!("security group {:?}", g.group_id()));
    }
    let nats = ec2
        .describe_nat_gateways()
        .filter(in_vpc.clone())
        .send()
        .await
        .expect("nat gateways");
    for n in nats.nat_gateways().iter().filter(|n| !ours(n.tags())) {
        found.push(format!("NAT gateway {:?}", n.nat_gateway_id()));
    }
    let bucket = format!("{}-cloudtrail-{}", stack.name, stack.account().await);
    let tags = aws_sdk_s3::Client::new(&stack.config)
        .get_bucket_tagging()
        .bucket(&bucket)
        .send()
        .await;
    let tagged = tags.is_ok_and(|t| {
        t.tag_set()
            .iter()
            .any(|t| t.key() == "secinfra:stack" && t.value() == stack.name)
    });
    if !tagged {
        found.push(format!("bucket {bucket}"));
    }
    found
}

#[tokio::test(flavor = "multi_thread")]
async fn an_apply_killed_anywhere_is_converged_by_the_next() {
    let mut stacks = Vec::new();
    for _ in 0..KILL_POINTS {
        let mut stack = TestStack::new("kill").await;
        // A region of their own: twenty stacks' log groups would page other tests' lists.
        stack.config = stack
            .config
            .to_builder()
            .region(Region::new(REGION))
            .build();
        stack.rotation_functions().await;
        stack.write(
            "blueprint.yaml",
            &stack
                .seed()
                .replace("region: us-east-1", &format!("region: {REGION}")),
        );
        stacks.push(stack);
    }
    // An apply of the seed from nothing makes about 220 requests: discovery the first 30,
    // the changes about 125, then the verifying discovery. The kill points spread over
    // the changes.
    let kill_after = |i: usize| 32 + i * 6;
    let mut killed_at = Vec::new();
    for (batch, group) in stacks.chunks(4).enumerate() {
        let runs: Vec<_> = group
            .iter()
            .enumerate()
            .map(|(j, stack)| {
                let point = kill_after(batch * 4 + j);
                let mut cmd = stack.process();
                let log = std::fs::File::create(stack.dir.path().join("killed-apply.log"))
                    .expect("log file");
                std::thread::spawn(move || {
                    let proxy = FaultProxy::slow(&endpoint(), Duration::from_millis(150));
                    let mut child = cmd
                        .env("AWS_ENDPOINT_URL", &proxy.url)
                        .args(["apply", "blueprint.yaml", "--auto-approve"])
                        .stdin(Stdio::null())
                        .stdout(Stdio::null())
                        .stderr(log)
                        .spawn()
                        .expect("start secinfra");
                    let finished = loop {
                        if let Ok(Some(status)) = child.try_wait() {
                            break Some(status);
                        }
                        if proxy.requests() >= point {
                            child.kill().expect("SIGKILL");
                            let _ = child.wait();
                            break None;
                        }
                        std::thread::sleep(Duration::from_millis(20));
                    };
                    (point, proxy.requests(), finished)
                })
            })
            .collect();
        for run in runs {
            killed_at.push(run.join().expect("kill thread"));
        }
    }
    let mut converged = 0;
    let mut unlocked = 0;
    for (stack, (point, _, finished)) in stacks.iter().zip(killed_at.iter().copied()) {
        assert!(
            finished.is_none(),
            "{}: the apply ended before request {point}; kill later points earlier",
            stack.name
        );
        let killed =
            std::fs::read_to_string(stack.dir.path().join("killed-apply.log")).unwrap_or_default();
        // The killed run still holds the stack's lock: as its message says, the next run
        // removes it by id (or waits for it to expire).
        let mut apply = stack.run(&["apply", "blueprint.yaml", "--auto-approve"]);
        let err = String::from_utf8_lossy(&apply.stderr).to_string();
        if let Some(id) = err
            .split("secinfra force-unlock BLUEPRINT ")
            .nth(1)
            .and_then(|rest| rest.split('`').next())
        {
            expect_code(&stack.run(&["force-unlock", "blueprint.yaml", id]), 0);
            unlocked += 1;
            apply = stack.run(&["apply", "blueprint.yaml", "--auto-approve"]);
        }
        expect_code(&apply, 0);
        let out = stdout(&apply);
        assert!(
            out.contains("Verified") || out.starts_with("No changes."),
            "{out}\n--- the killed apply, after {point} requests:\n{killed}"
        );
        let replan = stack.run(&["plan", "blueprint.yaml", "--detailed-exitcode"]);
        expect_code(&replan, 0);
        let twins = twins(stack).await;
        assert!(twins.is_empty(), "{}: twins {twins:?}", stack.name);
        let untagged = untagged(stack).await;
        assert!(untagged.is_empty(), "{}: untagged {untagged:?}", stack.name);
        converged += 1;
    }
    println!(
        "{KILL_POINTS} kill points (after requests {:?}): {converged} convergences \
         ({unlocked} after force-unlock of the killed run's lock), 0 twins, 0 untagged",
        killed_at.iter().map(|(p, _, _)| p).collect::<Vec<_>>()
    );
    assert_eq!(converged, KILL_POINTS);
}
