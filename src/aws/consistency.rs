//! Surviving AWS's eventual consistency and deciding which failed calls may be repeated.
//!
//! EC2 is read-after-write eventually consistent: a call naming an id created moments ago
//! may answer `InvalidGroup.NotFound`, `InvalidSubnetID.NotFound` and the like, although the
//! resource exists ("Eventual consistency in the Amazon EC2 API",
//! https://docs.aws.amazon.com/ec2/latest/devguide/eventual-consistency.html). So every id
//! an EC2 create returns is remembered for a while (`FreshIds`, filled by
//! `CreatedIdsInterceptor`), and a NotFound that names one of them is retried by the SDK
//! with its backoff (`FreshNotFound`) — never taken for absence or success.
//!
//! `RefusedOnly` is the retry policy of creates that must not be repeated blindly
//! (`send_once!`): their retries are limited to answers that say AWS refused the request
//! without acting on it (throttling, a fresh id not visible yet, another 4xx the SDK deems
//! retryable). A 5xx, a timeout or a broken connection may hide a create that worked; those
//! go to apply's recovery, which looks before trying again.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::interceptors::context::{
    AfterDeserializationInterceptorContextRef, InterceptorContext,
};
use aws_smithy_runtime_api::client::orchestrator::{HttpResponse, Metadata};
use aws_smithy_runtime_api::client::retries::classifiers::{
    ClassifyRetry, RetryAction, RetryClassifierPriority,
};
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::ConfigBag;

/// How long an id this run created counts as fresh: a NotFound naming it within this time
/// means AWS has not caught up yet. AWS gives no bound ("typically seconds"); minutes leave
/// ample room while a real deletion by someone else still surfaces in the same run.
const FRESH_FOR: Duration = Duration::from_secs(10 * 60);

/// EC2 ids created by this run, with when they were created.
#[derive(Debug, Default)]
pub struct FreshIds {
    ids: Mutex<HashMap<String, Instant>>,
}

impl FreshIds {
    pub fn insert(&self, id: &str) {
        if let Ok(mut ids) = self.ids.lock() {
            ids.insert(id.to_string(), Instant::now());
        }
    }

    /// Whether `text` names an id created less than `FRESH_FOR` ago.
    pub fn named_in(&self, text: &str) -> bool {
        let Ok(ids) = self.ids.lock() else {
            return false;
        };
        ids.iter()
            .any(|(id, at)| at.elapsed() < FRESH_FOR && text.contains(id.as_str()))
    }
}

/// What one look found: what was looked for, or not yet (with what it saw instead).
pub enum Seen<T> {
    Yes(T),
    NotYet(T),
}

/// Looks again and again (0.5 s, 1 s, 2 s ... at most 8 s apart) until `look` sees what
/// it looks for or `bound` has passed, for what AWS made or changed moments ago and may
/// not show yet (eventual consistency). The last look's answer is returned either way.
pub async fn look_until<T, F, Fut>(bound: Duration, mut look: F) -> Result<Seen<T>, super::AwsError>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<Seen<T>, super::AwsError>>,
{
    let started = Instant::now();
    let mut pause = Duration::from_millis(500);
    loop {
        match look().await? {
            Seen::Yes(found) => return Ok(Seen::Yes(found)),
            Seen::NotYet(seen) if started.elapsed() + pause > bound => {
                return Ok(Seen::NotYet(seen));
            }
            Seen::NotYet(_) => {}
        }
        tokio::time::sleep(pause).await;
        pause = (pause * 2).min(Duration::from_secs(8));
    }
}

/// The element names EC2 create responses carry new ids in.
const ID_ELEMENTS: [&str; 9] = [
    "vpcId",
    "subnetId",
    "groupId",
    "routeTableId",
    "internetGatewayId",
    "natGatewayId",
    "allocationId",
    "associationId",
    "flowLogIdSet",
];

/// The ids in an EC2 create response (`<groupId>sg-1</groupId>`; flow log ids come as
/// `<flowLogIdSet><item>fl-1</item></flowLogIdSet>`).
pub fn ids_in_create_response(body: &str) -> Vec<String> {
    let mut ids = Vec::new();
    for element in ID_ELEMENTS {
        let open = format!("<{element}>");
        let close = format!("</{element}>");
        let mut rest = body;
        while let Some(start) = rest.find(&open) {
            let after = &rest[start + open.len()..];
            let Some(end) = after.find(&close) else { break };
            let inner = &after[..end];
            if element == "flowLogIdSet" {
                ids.extend(
                    inner
                        .split("<item>")
                        .filter_map(|s| s.split("</item>").next())
                        .map(str::trim)
                        .filter(|s| !s.is_empty())
                        .map(str::to_string),
                );
            } else if !inner.is_empty() && !inner.contains('<') {
                ids.push(inner.trim().to_string());
            }
            rest = &after[end..];
        }
    }
    ids
}

/// Remembers the ids EC2 create calls return (installed on the EC2 client).
#[derive(Clone, Debug)]
pub struct CreatedIdsInterceptor(pub Arc<FreshIds>);

impl Intercept for CreatedIdsInterceptor {
    fn name(&self) -> &'static str {
        "secinfra::CreatedIdsInterceptor"
    }

    fn read_after_deserialization(
        &self,
        context: &AfterDeserializationInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let creates = cfg.load::<Metadata>().is_some_and(|m| {
            let name = m.name();
            name.starts_with("Create")
                || name.starts_with("Allocate")
                || name.starts_with("Associate")
        });
        let response = context.response();
        if !creates || !response.status().is_success() {
            return Ok(());
        }
        if let Some(body) = response
            .body()
            .bytes()
            .and_then(|b| std::str::from_utf8(b).ok())
        {
            for id in ids_in_create_response(body) {
                self.0.insert(&id);
            }
        }
        Ok(())
    }
}

/// The AWS error code of an error response, from whichever place its protocol puts it:
/// the `x-amzn-ErrorType` header, a JSON `__type`, or an XML `<Code>`.
pub fn error_code(response: &HttpResponse) -> Option<String> {
    let trim = |code: &str| {
        // `aws.protocoltests#Code:http://...` and `prefix#Code` forms.
        let code = code.split(':').next().unwrap_or(code);
        code.rsplit('#').next().unwrap_or(code).trim().to_string()
    };
    if let Some(header) = response.headers().get("x-amzn-errortype") {
        return Some(trim(header));
    }
    let body = std::str::from_utf8(response.body().bytes()?).ok()?;
    if let Some(start) = body.find("<Code>") {
        let rest = &body[start + 6..];
        return rest
            .find("</Code>")
            .map(|end| rest[..end].trim().to_string());
    }
    let value: serde_json::Value = serde_json::from_str(body).ok()?;
    value
        .get("__type")
        .or_else(|| value.get("code"))
        .and_then(|v| v.as_str())
        .map(trim)
}

/// An error code saying the request was refused for its rate, not acted on.
pub fn is_throttling_code(code: &str) -> bool {
    matches!(
        code,
        "Throttling"
            | "ThrottlingException"
            | "ThrottledException"
            | "RequestThrottledException"
            | "TooManyRequestsException"
            | "ProvisionedThroughputExceededException"
            | "TransactionInProgressException"
            | "RequestLimitExceeded"
            | "BandwidthLimitExceeded"
            | "LimitExceededException"
            | "RequestThrottled"
            | "SlowDown"
            | "PriorRequestNotComplete"
            | "EC2ThrottledException"
    )
}

/// A NotFound code, as EC2 spells them (`InvalidGroup.NotFound`, `NatGatewayNotFound`).
fn is_not_found_code(code: &str) -> bool {
    code.ends_with(".NotFound") || code.ends_with("NotFound")
}

/// Retries an EC2 NotFound that names an id this run created moments ago (installed on the
/// EC2 client; runs after the SDK's own classifiers).
#[derive(Debug)]
pub struct FreshNotFound(pub Arc<FreshIds>);

impl FreshNotFound {
    fn priority() -> RetryClassifierPriority {
        RetryClassifierPriority::run_after(RetryClassifierPriority::transient_error_classifier())
    }
}

impl ClassifyRetry for FreshNotFound {
    fn classify_retry(&self, ctx: &InterceptorContext) -> RetryAction {
        let Some(response) = ctx.response() else {
            return RetryAction::NoActionIndicated;
        };
        if response.status().as_u16() != 400 {
            return RetryAction::NoActionIndicated;
        }
        let stale = error_code(response).is_some_and(|c| is_not_found_code(&c))
            && response
                .body()
                .bytes()
                .and_then(|b| std::str::from_utf8(b).ok())
                .is_some_and(|body| self.0.named_in(body));
        if stale {
            RetryAction::transient_error()
        } else {
            RetryAction::NoActionIndicated
        }
    }

    fn name(&self) -> &'static str {
        "secinfra::FreshNotFound"
    }

    fn priority(&self) -> RetryClassifierPriority {
        FreshNotFound::priority()
    }
}

/// Lets a retry through only when the answer shows AWS refused the request without acting
/// on it (see the module docs). Runs after every other classifier.
#[derive(Debug, Default)]
pub struct RefusedOnly;

impl ClassifyRetry for RefusedOnly {
    fn classify_retry(&self, _ctx: &InterceptorContext) -> RetryAction {
        RetryAction::NoActionIndicated
    }

    fn classify_retry_v2(&self, ctx: &InterceptorContext, previous: &RetryAction) -> RetryAction {
        if !previous.should_retry() {
            return RetryAction::NoActionIndicated;
        }
        let refused = ctx.response().is_some_and(|response| {
            let status = response.status().as_u16();
            (400..500).contains(&status)
                || error_code(response).is_some_and(|code| is_throttling_code(&code))
        });
        if refused {
            RetryAction::NoActionIndicated
        } else {
            RetryAction::RetryForbidden
        }
    }

    fn name(&self) -> &'static str {
        "secinfra::RefusedOnly"
    }

    fn priority(&self) -> RetryClassifierPriority {
        RetryClassifierPriority::run_after(FreshNotFound::priority())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
    use aws_smithy_types::body::SdkBody;

    fn response(status: u16, body: &str) -> HttpResponse {
        HttpResponse::new(
            status.try_into().expect("status"),
            SdkBody::from(body.to_string()),
        )
    }

    fn context_with(response: HttpResponse) -> InterceptorContext {
        let mut ctx = InterceptorContext::new(
            aws_smithy_runtime_api::client::interceptors::context::Input::erase(()),
        );
        ctx.set_response(response);
        ctx
    }

    #[test]
    fn create_responses_give_their_ids() {
        let group = "<CreateSecurityGroupResponse><requestId>r</requestId><groupId>sg-0abc</groupId><tagSet/></CreateSecurityGroupResponse>";
        assert_eq!(ids_in_create_response(group), ["sg-0abc"]);
        let flow = "<CreateFlowLogsResponse><flowLogIdSet><item>fl-1</item><item>fl-2</item></flowLogIdSet><unsuccessful/></CreateFlowLogsResponse>";
        assert_eq!(ids_in_create_response(flow), ["fl-1", "fl-2"]);
        let subnet = "<subnet><subnetId>subnet-1</subnetId><vpcId>vpc-9</vpcId></subnet>";
        assert_eq!(ids_in_create_response(subnet), ["vpc-9", "subnet-1"]);
    }

    #[test]
    fn error_codes_are_read_in_every_protocol() {
        let ec2 = response(
            400,
            "<Response><Errors><Error><Code>InvalidGroup.NotFound</Code><Message>The security group 'sg-1' does not exist</Message></Error></Errors></Response>",
        );
        assert_eq!(error_code(&ec2).as_deref(), Some("InvalidGroup.NotFound"));
        let json = response(
            400,
            r#"{"__type":"com.amazonaws.kms#ThrottlingException","message":"x"}"#,
        );
        assert_eq!(error_code(&json).as_deref(), Some("ThrottlingException"));
        let mut header = response(400, "{}");
        header.headers_mut().insert(
            "x-amzn-ErrorType",
            "ResourceNotFoundException:http://internal",
        );
        assert_eq!(
            error_code(&header).as_deref(),
            Some("ResourceNotFoundException")
        );
    }

    #[test]
    fn a_not_found_naming_a_fresh_id_is_retried_and_others_are_not() {
        let fresh = Arc::new(FreshIds::default());
        fresh.insert("sg-0abc");
        let classifier = FreshNotFound(Arc::clone(&fresh));
        let stale = context_with(response(
            400,
            "<Response><Errors><Error><Code>InvalidGroup.NotFound</Code><Message>The security group 'sg-0abc' does not exist</Message></Error></Errors></Response>",
        ));
        assert!(classifier.classify_retry(&stale).should_retry());
        let gone = context_with(response(
            400,
            "<Response><Errors><Error><Code>InvalidGroup.NotFound</Code><Message>The security group 'sg-0def' does not exist</Message></Error></Errors></Response>",
        ));
        assert!(!classifier.classify_retry(&gone).should_retry());
    }

    #[test]
    fn refused_answers_may_be_retried_and_uncertain_ones_may_not() {
        let retry = RetryAction::server_error();
        let throttled = context_with(response(
            503,
            "<Response><Errors><Error><Code>RequestLimitExceeded</Code></Error></Errors></Response>",
        ));
        assert_eq!(
            RefusedOnly.classify_retry_v2(&throttled, &retry),
            RetryAction::NoActionIndicated
        );
        let failed = context_with(response(500, ""));
        assert_eq!(
            RefusedOnly.classify_retry_v2(&failed, &retry),
            RetryAction::RetryForbidden
        );
        let lost = InterceptorContext::new(
            aws_smithy_runtime_api::client::interceptors::context::Input::erase(()),
        );
        assert_eq!(
            RefusedOnly.classify_retry_v2(&lost, &retry),
            RetryAction::RetryForbidden
        );
        assert_eq!(
            RefusedOnly.classify_retry_v2(&failed, &RetryAction::NoActionIndicated),
            RetryAction::NoActionIndicated
        );
    }
}
