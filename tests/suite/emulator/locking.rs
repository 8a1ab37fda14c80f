//! The stack lock: of two applies started together exactly one proceeds, and the result
//! is what one apply makes; a waiting apply goes on once the lock is free; a lock left
//! by a run that is gone expires, or is removed by `force-unlock` with its id.

use std::time::Duration;

use aws_sdk_s3::primitives::ByteStream;

use super::{TestStack, endpoint};
use crate::fault_proxy::FaultProxy;
use crate::support::{expect_code, stdout};

async fn vpc_count(stack: &TestStack) -> usize {
    stack
        .ec2()
        .describe_vpcs()
        .filters(stack.stack_filter())
        .send()
        .await
        .expect("vpcs")
        .vpcs()
        .len()
}

#[tokio::test(flavor = "multi_thread")]
async fn of_two_concurrent_applies_exactly_one_proceeds() {
    let stack = TestStack::new("lock").await;
    stack.write("blueprint.yaml", &stack.seed_network());
    // Slowed down, so the first apply still holds the lock when the second asks.
    let proxy = FaultProxy::slow(&endpoint(), Duration::from_millis(100));
    let first = stack.spawn_apply(&proxy.url, &[]);
    let second = stack.spawn_apply(&proxy.url, &[]);
    let outputs = [
        first.wait_with_output().expect("first"),
        second.wait_with_output().expect("second"),
    ];
    for output in &outputs {
        stack.keep("a concurrent apply", output);
    }
    let proceeded: Vec<_> = outputs.iter().filter(|o| o.status.success()).collect();
    let refused: Vec<_> = outputs.iter().filter(|o| !o.status.success()).collect();
    assert_eq!(proceeded.len(), 1, "exactly one proceeds: {outputs:?}");
    assert!(stdout(proceeded[0]).contains("Verified"));
    let err = String::from_utf8_lossy(&refused[0].stderr);
    assert!(
        err.contains(&format!("stack {} is locked by", stack.name))
            && err.contains("apply since")
            && err.contains("secinfra force-unlock"),
        "{err}"
    );
    assert!(
        !stdout(refused[0]).contains("will make these changes"),
        "the refused apply planned nothing: {}",
        stdout(refused[0])
    );
    // The same as one apply: nothing left to do, one VPC.
    let replan = stack.run(&["plan", "blueprint.yaml", "--detailed-exitcode"]);
    expect_code(&replan, 0);
    assert_eq!(vpc_count(&stack).await, 1);

    // A second apply that may wait goes on once the first is done.
    let mut changed = stack.seed_network();
    changed = changed.replace("retention_days: 90", "retention_days: 30");
    stack.write("blueprint.yaml", &changed);
    let first = stack.spawn_apply(&proxy.url, &[]);
    std::thread::sleep(Duration::from_millis(500));
    let waiting = stack.spawn_apply(&proxy.url, &["--lock-timeout", "5m"]);
    let first = first.wait_with_output().expect("first");
    let waiting = waiting.wait_with_output().expect("waiting");
    stack.keep("the first apply", &first);
    stack.keep("the waiting apply", &waiting);
    expect_code(&first, 0);
    expect_code(&waiting, 0);
    let err = String::from_utf8_lossy(&waiting.stderr);
    assert!(err.contains("waiting for the lock of stack"), "{err}");
    assert!(
        stdout(&waiting).starts_with("No changes."),
        "{}",
        stdout(&waiting)
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_lock_left_behind_is_refused_removed_by_id_or_taken_over_when_expired() {
    let stack = TestStack::new("stale").await;
    stack.write("blueprint.yaml", &stack.seed_network());
    let account = stack.account().await;
    let bucket = format!("secinfra-locks-{account}-us-east-1");
    let key = format!("locks/{}.json", stack.name);
    let s3 = aws_sdk_s3::Client::new(&stack.config);
    // The lock bucket exists once any apply ran; make sure of it for this test alone.
    let _ = s3.create_bucket().bucket(&bucket).send().await;
    let put_lock = |renewed: u64| {
        let body = serde_json::json!({
            "id": "0f0f0f0f-lock", "stack": stack.name, "owner": "alice@laptop (pid 7)",
            "operation": "apply", "started": renewed, "renewed": renewed, "lease_seconds": 300
        });
        s3.put_object()
            .bucket(&bucket)
            .key(&key)
            .body(ByteStream::from(body.to_string().into_bytes()))
            .send()
    };
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_secs();
    put_lock(now).await.expect("a fresh foreign lock");

    let refused = stack.run(&["apply", "blueprint.yaml", "--auto-approve"]);
    expect_code(&refused, 1);
    let err = String::from_utf8_lossy(&refused.stderr);
    assert!(
        err.contains("locked by alice@laptop (pid 7), apply since")
            && err.contains("force-unlock BLUEPRINT 0f0f0f0f-lock"),
        "{err}"
    );
    let wrong = stack.run(&["force-unlock", "blueprint.yaml", "not-the-id"]);
    expect_code(&wrong, 1);
    let unlocked = stack.run(&["force-unlock", "blueprint.yaml", "0f0f0f0f-lock"]);
    expect_code(&unlocked, 0);
    assert!(
        stdout(&unlocked).contains("held by alice@laptop"),
        "{}",
        stdout(&unlocked)
    );
    let apply = stack.run(&["apply", "blueprint.yaml", "--auto-approve"]);
    expect_code(&apply, 0);

    // A lock not renewed for longer than its lease: its holder is gone; taken over.
    put_lock(now - 3600).await.expect("an expired lock");
    let apply = stack.run(&["apply", "blueprint.yaml", "--auto-approve"]);
    expect_code(&apply, 0);
    let err = String::from_utf8_lossy(&apply.stderr);
    assert!(
        err.contains("took over the expired lock of alice@laptop"),
        "{err}"
    );
    // Released at the end.
    assert!(
        s3.get_object()
            .bucket(&bucket)
            .key(&key)
            .send()
            .await
            .is_err(),
        "no lock after the apply"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_run_whose_lock_is_removed_stops_starting_changes() {
    let stack = TestStack::new("lost").await;
    stack.write("blueprint.yaml", &stack.seed_network());
    let account = stack.account().await;
    let bucket = format!("secinfra-locks-{account}-us-east-1");
    let key = format!("locks/{}.json", stack.name);
    let s3 = aws_sdk_s3::Client::new(&stack.config);
    let proxy = FaultProxy::slow(&endpoint(), Duration::from_millis(500));
    let child = stack.spawn_apply(&proxy.url, &[]);
    // Once the run holds the lock, someone removes it by its id.
    let mut id = None;
    for _ in 0..200 {
        if let Ok(got) = s3.get_object().bucket(&bucket).key(&key).send().await {
            let body = got.body.collect().await.expect("lock body").into_bytes();
            let lock: serde_json::Value = serde_json::from_slice(&body).expect("lock JSON");
            id = lock["id"].as_str().map(str::to_string);
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let id = id.expect("the apply took the lock");
    let unlocked = stack.run(&["force-unlock", "blueprint.yaml", &id]);
    expect_code(&unlocked, 0);

    let output = child.wait_with_output().expect("apply");
    stack.keep("the apply that lost its lock", &output);
    let err = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{err}");
    assert!(
        err.contains("the stack's lock is no longer this run's"),
        "{err}"
    );
    assert!(
        stdout(&output).contains("interrupted before it started"),
        "{}",
        stdout(&output)
    );
    let apply = stack.run(&["apply", "blueprint.yaml", "--auto-approve"]);
    expect_code(&apply, 0);
}
