//! Waiting for AWS to finish a change (a NAT gateway, a database, a cache), bounded by a
//! timeout and stopped at once by the first Ctrl-C. Stopping a wait leaves the change to
//! AWS, which carries it on: the step is reported as still in progress, and the next
//! `plan` or `apply` (which finds the resource by its tags) picks up from there.

use std::fmt;
use std::future::Future;
use std::time::Duration;

use aws_smithy_runtime_api::client::waiters::error::WaiterError;

use super::AwsContext;
use super::error::{AwsError, ErrorKind, from_waiter};

impl AwsContext {
    /// Stops every running and later wait (the first Ctrl-C).
    pub fn stop_waiting(&self) {
        self.waits.send_replace(true);
    }
}

/// Runs an SDK waiter for `operation` (`rds:wait DBInstanceAvailable`) until it ends, its
/// `timeout` passes, or waiting is stopped.
pub async fn until<T, O, E>(
    ctx: &AwsContext,
    operation: &str,
    timeout: Duration,
    waiter: impl Future<Output = Result<T, WaiterError<O, E>>>,
) -> Result<(), AwsError>
where
    O: fmt::Debug + 'static,
    E: std::error::Error + fmt::Debug + 'static,
{
    let mut stopped = ctx.waits.subscribe();
    tokio::select! {
        result = waiter => result.map(|_| ()).map_err(|e| from_waiter(operation, timeout, e)),
        _ = stopped.wait_for(|stop| *stop) => Err(AwsError::new(
            operation,
            ErrorKind::StillWaiting,
            "stopped waiting at Ctrl-C; AWS carries the change on, so it is still in \
             progress. Running apply again is safe: it finds the resource and goes on from \
             where it stands",
        )),
    }
}

/// `until` for an SDK waiter written up to its last setter
/// (`wait_until!(ctx, ctx.data_waiter_timeout, ctx.rds().wait_until_db_instance_available()
/// .db_instance_identifier(id), "rds:wait DBInstanceAvailable")`): the one bound is both
/// the waiter's and the wait's.
#[macro_export]
macro_rules! wait_until {
    ($ctx:expr, $timeout:expr, $waiter:expr, $operation:literal $(,)?) => {{
        let timeout = $timeout;
        $crate::aws::wait::until($ctx, $operation, timeout, $waiter.wait(timeout))
    }};
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A wait of an hour returns as soon as waiting is stopped, as still in progress.
    #[tokio::test]
    async fn a_stopped_wait_returns_at_once() {
        let ctx = AwsContext::unconnected("s");
        let endless = std::future::pending::<Result<(), WaiterError<(), std::io::Error>>>();
        let waiting = until(
            &ctx,
            "rds:wait DBInstanceAvailable",
            Duration::from_secs(3600),
            endless,
        );
        let stop = async {
            tokio::time::sleep(Duration::from_millis(50)).await;
            ctx.stop_waiting();
        };
        let (result, ()) = tokio::time::timeout(Duration::from_secs(5), async {
            tokio::join!(waiting, stop)
        })
        .await
        .expect("the wait ended within seconds");
        let err = result.expect_err("stopped");
        assert!(err.is(ErrorKind::StillWaiting), "{err}");
        assert!(err.to_string().contains("still in progress"), "{err}");
        // Later waits do not start waiting at all.
        let later = until(
            &ctx,
            "ec2:wait NatGatewayAvailable",
            Duration::from_secs(3600),
            std::future::pending::<Result<(), WaiterError<(), std::io::Error>>>(),
        );
        let err = tokio::time::timeout(Duration::from_secs(5), later)
            .await
            .expect("at once")
            .expect_err("stopped");
        assert!(err.is(ErrorKind::StillWaiting));
    }
}
