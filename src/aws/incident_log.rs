//! The incident log: `secinfra respond` audit lines appended to the CloudWatch Logs group
//! the blueprint declares (`incident_log:`), one stream per command run.

use super::AwsContext;
use super::error::AwsResult;

/// Appends one line (a JSON document) to `stream` of `group`, creating the stream first
/// when it is not there yet. PutLogEvents needs no sequence token any more ("PutLogEvents",
/// https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_PutLogEvents.html).
pub async fn append(ctx: &AwsContext, group: &str, stream: &str, message: &str) -> AwsResult<()> {
    let created = crate::call!(
        ctx.logs()
            .create_log_stream()
            .log_group_name(group)
            .log_stream_name(stream),
        "logs:CreateLogStream"
    );
    match created {
        Err(e) if e.code.as_deref() != Some("ResourceAlreadyExistsException") => return Err(e),
        _ => {}
    }
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or_default();
    let event = aws_sdk_cloudwatchlogs::types::InputLogEvent::builder()
        .timestamp(now)
        .message(message)
        .build()
        .map_err(|e| super::error::unbuildable("logs", e))?;
    crate::call!(
        ctx.logs()
            .put_log_events()
            .log_group_name(group)
            .log_stream_name(stream)
            .log_events(event),
        "logs:PutLogEvents"
    )?;
    Ok(())
}
