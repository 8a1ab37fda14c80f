//! One mapping from the SDK's errors to ours: which operation failed, for which resource,
//! AWS's code and message, and a kind the rest of the program can branch on.

use std::fmt;

use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;

use crate::model::Address;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorKind {
    /// The resource does not exist (during discovery this means "absent").
    NotFound,
    /// The thing being created already exists, or is still in use.
    Conflict,
    /// AWS has not caught up with a change made moments ago: a service refuses an IAM role
    /// or key policy that has not propagated to it yet. Worth waiting for, within a bound.
    Propagating,
    AccessDenied,
    /// No usable credentials were found.
    Credentials,
    Throttled,
    /// The endpoint does not offer this service or operation (e.g. an emulator edition).
    ServiceUnavailable,
    /// AWS rejected the request's parameters.
    Invalid,
    /// The endpoint could not be reached, or the connection broke.
    Connection,
    /// AWS failed with a 5xx of its own (the call may or may not have taken effect).
    ServerError,
    /// A request got no answer in time (it may have taken effect).
    Timeout,
    /// A waiter gave up: the resource exists but did not become available, or gone, within
    /// the wait's bound. Not an unknown outcome: the change did not finish.
    StillWaiting,
    /// The call succeeded but its answer does not have the shape the API reference gives
    /// (an endpoint that serialises it differently): nothing can be read from it.
    Unreadable,
    Other,
}

/// An AWS call that failed. Boxed so `Result<_, AwsError>` stays small.
#[derive(Clone, Debug)]
pub struct AwsError(Box<Details>);

#[derive(Clone, Debug)]
pub struct Details {
    /// `service:Operation`, e.g. `ec2:CreateVpc`.
    pub operation: String,
    pub address: Option<Address>,
    pub code: Option<String>,
    pub message: String,
    pub request_id: Option<String>,
    pub kind: ErrorKind,
    /// What secinfra knows about the failure beyond AWS's answer (which role, how long it
    /// waited), shown after it.
    pub note: Option<String>,
}

/// What every call to AWS returns.
pub type AwsResult<T> = Result<T, AwsError>;

impl std::ops::Deref for AwsError {
    type Target = Details;
    fn deref(&self) -> &Details {
        &self.0
    }
}

impl AwsError {
    pub fn new(
        operation: impl Into<String>,
        kind: ErrorKind,
        message: impl Into<String>,
    ) -> AwsError {
        AwsError(Box::new(Details {
            operation: operation.into(),
            address: None,
            code: None,
            message: message.into(),
            request_id: None,
            kind,
            note: None,
        }))
    }

    /// Names the resource the failed call was about.
    pub fn at(mut self, address: &Address) -> AwsError {
        if self.0.address.is_none() {
            self.0.address = Some(address.clone());
        }
        self
    }

    /// Adds what secinfra knows beyond AWS's answer (kept apart from it in the message).
    pub fn with_note(mut self, note: impl Into<String>) -> AwsError {
        let note = note.into();
        self.0.note = Some(match self.0.note.take() {
            Some(earlier) => format!("{earlier}; {note}"),
            None => note,
        });
        self
    }

    pub fn with_code(mut self, code: Option<&str>) -> AwsError {
        self.0.code = code.map(str::to_string);
        self
    }

    pub fn is(&self, kind: ErrorKind) -> bool {
        self.kind == kind
    }

    /// Whether the call may have taken effect although it failed (the answer was lost,
    /// or AWS failed midway), or failed only for now: worth looking and trying again.
    pub fn is_transient(&self) -> bool {
        matches!(
            self.kind,
            ErrorKind::Throttled
                | ErrorKind::Connection
                | ErrorKind::Timeout
                | ErrorKind::ServerError
        )
    }

    /// What the user can do about it, when we know.
    pub fn hint(&self) -> Option<&'static str> {
        match self.kind {
            ErrorKind::Credentials => Some(
                "configure AWS credentials: environment variables, a profile (--profile), SSO, \
                 web identity or an instance role",
            ),
            ErrorKind::AccessDenied => Some("the credentials in use lack permission for this call"),
            ErrorKind::Connection => Some(
                "check the network, the region, and --endpoint-url / AWS_ENDPOINT_URL if you use an emulator",
            ),
            ErrorKind::ServiceUnavailable => Some(
                "the endpoint does not provide this service; use real AWS or an emulator edition that does",
            ),
            ErrorKind::Throttled => {
                Some("AWS kept throttling after retries; try again or lower --parallelism")
            }
            ErrorKind::Timeout => Some(
                "the endpoint did not answer in time (after retries): check that it is reachable \
                 and serving (a hung emulator or proxy answers nothing), or allow more with \
                 --read-timeout / --connect-timeout",
            ),
            ErrorKind::Propagating => Some(
                "IAM roles and key policies take time to reach other services; if this \
                 persists, check the role's trust policy and permissions",
            ),
            _ => None,
        }
    }
}

impl fmt::Display for AwsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(address) = &self.address {
            write!(f, "{address}: ")?;
        }
        write!(f, "{} failed", self.operation)?;
        match &self.code {
            Some(code) => write!(f, ": {code}: {}", self.message)?,
            None => write!(f, ": {}", self.message)?,
        }
        if let Some(id) = &self.request_id {
            write!(f, " (request id {id})")?;
        }
        if let Some(note) = &self.note {
            write!(f, "; {note}")?;
        }
        Ok(())
    }
}

impl std::error::Error for AwsError {}

/// Converts an SDK error for `operation` (`service:Operation`).
pub fn from_sdk<E>(operation: &str, err: SdkError<E, HttpResponse>) -> AwsError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    match &err {
        SdkError::ServiceError(service) => {
            let e = service.err();
            let status = service.raw().status().as_u16();
            let code = e.code().map(str::to_string);
            let message = match (e.message(), &code) {
                (Some(message), _) => message.to_string(),
                // Not an AWS error document (an HTML 404 page from an endpoint without
                // the operation): the status says more than the parser's complaint.
                (None, None) if !(200..300).contains(&status) => format!(
                    "HTTP {status} without an AWS error in the answer{}",
                    if matches!(status, 404 | 501) {
                        ": the endpoint does not offer this operation"
                    } else {
                        ""
                    }
                ),
                (None, _) => chain(&err),
            };
            let kind = match classify(code.as_deref(), &message, status) {
                _ if (200..300).contains(&status) => ErrorKind::Unreadable,
                ErrorKind::Other if status >= 500 => ErrorKind::ServerError,
                kind => kind,
            };
            AwsError(Box::new(Details {
                operation: operation.to_string(),
                address: None,
                code,
                message,
                request_id: e.meta().extra("aws_request_id").map(str::to_string),
                kind,
                note: None,
            }))
        }
        SdkError::TimeoutError(_) => {
            AwsError::new(operation, ErrorKind::Timeout, "the request timed out")
        }
        SdkError::DispatchFailure(_)
        | SdkError::ConstructionFailure(_)
        | SdkError::ResponseError(_) => {
            let chain = chain(&err);
            let timed_out = matches!(&err, SdkError::DispatchFailure(f) if f.is_timeout());
            let kind = if chain.contains("credentials") || chain.contains("Credentials") {
                ErrorKind::Credentials
            } else if timed_out {
                // Sent, and no answer within the read timeout (or no connection within
                // the connect timeout): a hung endpoint, not a refused one.
                ErrorKind::Timeout
            } else if matches!(
                err,
                SdkError::DispatchFailure(_) | SdkError::ResponseError(_)
            ) {
                // Not sent, or the answer broke off: the connection is to blame.
                ErrorKind::Connection
            } else {
                ErrorKind::Other
            };
            AwsError::new(operation, kind, chain)
        }
        _ => AwsError::new(operation, ErrorKind::Other, chain(&err)),
    }
}

/// The error and its causes as one line of messages (no Debug dumps, no repeats).
fn chain(err: &(dyn std::error::Error + 'static)) -> String {
    let mut out = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        let text = cause.to_string();
        if !text.is_empty() && !out.contains(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
        source = cause.source();
    }
    out
}

/// The kind of an error AWS reports inside a successful answer (a batch call's
/// `Unsuccessful` items), from its code and message.
pub fn kind_of_item_error(code: Option<&str>, message: &str) -> ErrorKind {
    match classify(code, message, 400) {
        ErrorKind::Other => ErrorKind::Invalid,
        kind => kind,
    }
}

fn classify(code: Option<&str>, message: &str, status: u16) -> ErrorKind {
    if message.contains("not included in your current license")
        || message.contains("not yet implemented")
    {
        return ErrorKind::ServiceUnavailable;
    }
    if is_propagation(code, message) {
        return ErrorKind::Propagating;
    }
    let Some(code) = code else {
        return match status {
            404 | 501 => ErrorKind::ServiceUnavailable,
            403 => ErrorKind::AccessDenied,
            429 => ErrorKind::Throttled,
            _ => ErrorKind::Other,
        };
    };
    match code {
        c if c.ends_with("NotFound")
            || c.ends_with(".NotFound")
            || c.ends_with("NotFoundException")
            || c.ends_with("NotFoundError")
            || c.starts_with("NoSuch")
            || c == "NoSuchEntity"
            || c.contains("Nonexistent")
            || c == "InvalidAllocationID.NotFound" =>
        {
            ErrorKind::NotFound
        }
        "AccessDenied"
        | "AccessDeniedException"
        | "UnauthorizedOperation"
        | "AuthFailure"
        | "UnrecognizedClientException"
        | "InvalidClientTokenId"
        | "SignatureDoesNotMatch" => ErrorKind::AccessDenied,
        "ExpiredToken" | "ExpiredTokenException" => ErrorKind::Credentials,
        "Throttling"
        | "ThrottlingException"
        | "RequestLimitExceeded"
        | "TooManyRequestsException" => ErrorKind::Throttled,
        "DependencyViolation"
        | "InvalidPermission.Duplicate"
        | "ResourceAlreadyExistsException"
        | "EntityAlreadyExists"
        | "InvalidGroup.Duplicate"
        | "RouteAlreadyExists"
        | "Resource.AlreadyAssociated"
        | "DeleteConflict"
        | "ResourceInUse"
        | "ResourceConflictException"
        | "WAFDuplicateItemException"
        | "WAFOptimisticLockException"
        | "WAFAssociatedItemException" => ErrorKind::Conflict,
        // What the create would make exists already (RDS and ElastiCache say `...Fault`).
        c if c.contains("AlreadyExists")
            || c.contains("AlreadyOwnedByYou")
            || c.contains("Duplicate")
            || c == "ResourceExistsException"
            || c.ends_with(".Conflict") =>
        {
            ErrorKind::Conflict
        }
        "InvalidAction" | "UnknownOperationException" | "InternalFailure"
            if status == 404 || status == 501 =>
        {
            ErrorKind::ServiceUnavailable
        }
        c if c.starts_with("Invalid") || c.starts_with("Malformed") || c == "ValidationError" => {
            ErrorKind::Invalid
        }
        _ => ErrorKind::Other,
    }
}

/// Answers that mean a role or key policy made moments ago has not reached the service
/// using it yet. IAM is eventually consistent ("Changes that I make are not always
/// immediately visible", https://docs.aws.amazon.com/IAM/latest/UserGuide/troubleshoot_general.html#troubleshoot_general_eventual-consistency),
/// and so are key policies (https://docs.aws.amazon.com/kms/latest/developerguide/accessing-kms.html#terms-eventual-consistency).
/// CloudTrail answers `InvalidCloudWatchLogsRoleArnException` while its role's trust is
/// fresh and `InvalidCloudWatchLogsLogGroupArnException` while its policy is, and
/// `InsufficientEncryptionPolicyException` while the key policy granting it is; VPC flow
/// logs answer `InvalidParameter` "Unable to assume given IAM role".
fn is_propagation(code: Option<&str>, message: &str) -> bool {
    match code {
        Some(
            "InvalidCloudWatchLogsRoleArnException"
            | "InvalidCloudWatchLogsLogGroupArnException"
            | "InsufficientEncryptionPolicyException",
        ) => true,
        Some("InvalidParameter" | "InvalidParameterValue") => {
            message.contains("Unable to assume given IAM role")
        }
        _ => false,
    }
}

/// `result.map_err(aws("ec2:CreateVpc"))` — converts with the operation name attached.
pub fn aws<E>(operation: &'static str) -> impl FnOnce(SdkError<E, HttpResponse>) -> AwsError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    move |err| from_sdk(operation, err)
}

/// A provider asked to handle a kind it does not manage: a wiring bug, reported rather
/// than panicked on.
pub fn not_managed(service: &str, what: impl fmt::Display) -> AwsError {
    AwsError::new(
        service,
        ErrorKind::Other,
        format!("the {service} provider does not manage {what}"),
    )
}

/// A request the SDK could not build (a required field left unset).
pub fn unbuildable(service: &str, err: impl fmt::Display) -> AwsError {
    AwsError::new(service, ErrorKind::Invalid, err.to_string())
}

/// Treats "not found" as absence.
pub fn absent_if_not_found<T>(result: Result<T, AwsError>) -> Result<Option<T>, AwsError> {
    match result {
        Ok(v) => Ok(Some(v)),
        Err(e) if e.is(ErrorKind::NotFound) => Ok(None),
        Err(e) => Err(e),
    }
}

/// Converts an SDK waiter error for `operation` (`ec2:wait NatGatewayAvailable`).
pub fn from_waiter<O, E>(
    operation: &str,
    waited: std::time::Duration,
    err: aws_smithy_runtime_api::client::waiters::error::WaiterError<O, E>,
) -> AwsError
where
    O: fmt::Debug + 'static,
    E: std::error::Error + fmt::Debug + 'static,
{
    use aws_smithy_runtime_api::client::waiters::error::WaiterError;
    match err {
        WaiterError::ExceededMaxWait(_) => AwsError::new(
            operation,
            ErrorKind::StillWaiting,
            format!(
                "still not done after {} s; it may finish on its own: run plan to see where it \
                 stands, and pass a longer --wait-timeout for operations this slow",
                waited.as_secs()
            ),
        ),
        WaiterError::FailureState(_) => {
            AwsError::new(operation, ErrorKind::Other, "ended in a failed state")
        }
        other => AwsError::new(operation, ErrorKind::Other, chain(&other)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_classify() {
        assert_eq!(
            classify(Some("InvalidVpcID.NotFound"), "", 400),
            ErrorKind::NotFound
        );
        assert_eq!(classify(Some("NoSuchEntity"), "", 404), ErrorKind::NotFound);
        assert_eq!(
            classify(Some("RequestLimitExceeded"), "", 503),
            ErrorKind::Throttled
        );
        assert_eq!(
            classify(Some("DependencyViolation"), "", 400),
            ErrorKind::Conflict
        );
        assert_eq!(
            classify(Some("InvalidParameterValue"), "", 400),
            ErrorKind::Invalid
        );
        assert_eq!(
            classify(
                Some("InternalFailure"),
                "API for service 'wafv2' not yet implemented or pro feature - not included in your current license plan",
                501
            ),
            ErrorKind::ServiceUnavailable
        );
        assert_eq!(classify(None, "", 404), ErrorKind::ServiceUnavailable);
        assert_eq!(
            classify(
                Some("InvalidCloudWatchLogsRoleArnException"),
                "Access denied.",
                400
            ),
            ErrorKind::Propagating
        );
        assert_eq!(
            classify(
                Some("InvalidParameter"),
                "Unable to assume given IAM role.",
                400
            ),
            ErrorKind::Propagating
        );
        assert_eq!(
            classify(Some("InvalidParameter"), "Invalid traffic type", 400),
            ErrorKind::Invalid
        );
        for code in [
            "BucketAlreadyOwnedByYou",
            "DBInstanceAlreadyExists",
            "CacheSubnetGroupAlreadyExistsFault",
            "TrailAlreadyExistsException",
            "InvalidSubnet.Conflict",
            "ResourceExistsException",
        ] {
            assert_eq!(classify(Some(code), "", 400), ErrorKind::Conflict, "{code}");
        }
    }
}
