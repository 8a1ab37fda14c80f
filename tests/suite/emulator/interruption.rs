//! Ctrl-C during an apply: no new changes start, the running ones finish, the summary
//! says what was done and what was not, the exit code is non-zero, and the next apply
//! converges. The apply goes through a proxy that delays every answer, so there is a
//! middle to interrupt.

use std::process::Command;
use std::time::Duration;

use super::{TestStack, endpoint};
use crate::fault_proxy::FaultProxy;
use crate::support::{expect_code, stdout};

#[tokio::test(flavor = "multi_thread")]
async fn ctrl_c_finishes_running_changes_and_the_next_apply_converges() {
    let stack = TestStack::new("sigint").await;
    stack.write("blueprint.yaml", &stack.seed_network());
    let proxy = FaultProxy::slow(&endpoint(), Duration::from_millis(400));
    let child = stack.spawn_apply(&proxy.url, &[]);
    // Discovery (about 30 calls, at most 10 at once) takes a few seconds through the proxy;
    // then the first changes run.
    let mut waited = Duration::ZERO;
    while proxy.requests() < 45 && waited < Duration::from_secs(60) {
        std::thread::sleep(Duration::from_millis(100));
        waited += Duration::from_millis(100);
    }
    let status = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .expect("kill -INT");
    assert!(status.success());
    let output = child.wait_with_output().expect("apply output");
    stack.keep("the interrupted apply", &output);
    let out = stdout(&output);
    let err = String::from_utf8_lossy(&output.stderr);
    assert_ne!(output.status.code(), Some(0), "{out}\n{err}");
    assert!(
        err.contains("Interrupted: no new changes will start"),
        "{err}"
    );
    assert!(out.contains("Apply interrupted in"), "{out}\n{err}");
    assert!(
        out.contains("interrupted before it started"),
        "some changes never started: {out}"
    );
    // Running changes finished rather than being cut off: none failed.
    assert!(out.contains(", 0 failed,"), "{out}\n{err}");
    let done: usize = out
        .split(" done,")
        .next()
        .and_then(|head| head.rsplit(' ').next())
        .and_then(|n| n.parse().ok())
        .expect("a done count");
    assert!(
        done > 0,
        "something was applied before the interrupt: {out}"
    );

    let apply = stack.run(&["apply", "blueprint.yaml", "--auto-approve"]);
    expect_code(&apply, 0);
    assert!(stdout(&apply).contains("Verified"), "{}", stdout(&apply));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_second_ctrl_c_abandons_running_changes_and_says_so() {
    let stack = TestStack::new("sigint2").await;
    stack.write("blueprint.yaml", &stack.seed_network());
    let delay = Duration::from_millis(1500);
    let proxy = FaultProxy::slow(&endpoint(), delay);
    let child = stack.spawn_apply(&proxy.url, &[]);
    let mut waited = Duration::ZERO;
    while proxy.requests() < 40 && waited < Duration::from_secs(90) {
        std::thread::sleep(Duration::from_millis(100));
        waited += Duration::from_millis(100);
    }
    let pid = child.id().to_string();
    let interrupt = || {
        let status = Command::new("kill")
            .args(["-INT", &pid])
            .status()
            .expect("kill -INT");
        assert!(status.success());
    };
    interrupt();
    std::thread::sleep(Duration::from_millis(300));
    interrupt();
    let output = child.wait_with_output().expect("apply output");
    stack.keep("the apply stopped at once", &output);
    let out = stdout(&output);
    let err = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{out}\n{err}");
    assert!(err.contains("Stopped at once"), "{err}");
    assert!(out.contains("abandoned while running"), "{out}");

    // Requests already sent still land (as they would at AWS); once they have, the next
    // apply converges.
    std::thread::sleep(delay * 2);
    let apply = stack.run(&["apply", "blueprint.yaml", "--auto-approve"]);
    expect_code(&apply, 0);
}
