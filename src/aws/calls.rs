//! Counts every AWS API call (and every attempt, retries included) through an SDK
//! interceptor installed on each client, so commands can report what they cost.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::interceptors::context::{
    BeforeTransmitInterceptorContextRef, FinalizerInterceptorContextRef,
};
use aws_smithy_runtime_api::client::orchestrator::Metadata;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::ConfigBag;

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct OperationCount {
    pub calls: u64,
    pub attempts: u64,
}

/// Shared by all clients of one run.
#[derive(Debug, Default)]
pub struct CallCounter {
    by_operation: Mutex<BTreeMap<String, OperationCount>>,
}

impl CallCounter {
    fn bump(&self, cfg: &ConfigBag, f: impl FnOnce(&mut OperationCount)) {
        let name = cfg.load::<Metadata>().map_or_else(
            || "unknown".to_string(),
            |m| format!("{}:{}", short_service(m.service()), m.name()),
        );
        if let Ok(mut map) = self.by_operation.lock() {
            f(map.entry(name).or_default());
        }
    }

    /// Calls per `service:Operation`.
    pub fn snapshot(&self) -> BTreeMap<String, OperationCount> {
        self.by_operation
            .lock()
            .map(|m| m.clone())
            .unwrap_or_default()
    }

    pub fn total(&self) -> OperationCount {
        self.snapshot()
            .values()
            .fold(OperationCount::default(), |acc, c| OperationCount {
                calls: acc.calls + c.calls,
                attempts: acc.attempts + c.attempts,
            })
    }
}

/// `EC2` → `ec2`, `CloudWatch Logs` → `logs`: the prefix IAM policies use.
fn short_service(service: &str) -> String {
    match service.to_ascii_lowercase().as_str() {
        "cloudwatch logs" | "cloudwatchlogs" => "logs".into(),
        "resource groups tagging api" | "resourcegroupstaggingapi" => "tag".into(),
        other => other.replace(' ', ""),
    }
}

#[derive(Debug, Clone)]
pub struct CountingInterceptor(pub Arc<CallCounter>);

impl Intercept for CountingInterceptor {
    fn name(&self) -> &'static str {
        "secinfra::CountingInterceptor"
    }

    // The operation's name is in the config bag only once its runtime plugins have run,
    // so calls are counted when they finish (successfully or not).
    fn read_after_execution(
        &self,
        _context: &FinalizerInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        self.0.bump(cfg, |c| c.calls += 1);
        Ok(())
    }

    fn read_before_attempt(
        &self,
        _context: &BeforeTransmitInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        self.0.bump(cfg, |c| c.attempts += 1);
        Ok(())
    }
}
