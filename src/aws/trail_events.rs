//! Who changed a resource: the writes CloudTrail's event history holds for one resource
//! name since a time (LookupEvents), as model `TrailEvent`s.
//!
//! LookupEvents takes one lookup attribute per request, answers at most 50 events a page,
//! newest first, covers the last 90 days, and allows two requests per second per account
//! and Region (https://docs.aws.amazon.com/awscloudtrail/latest/APIReference/API_LookupEvents.html;
//! the limiter in `throttle` paces them). Events of global services (IAM) are recorded in
//! US East (N. Virginia) only, so they are looked up there
//! (https://docs.aws.amazon.com/awscloudtrail/latest/userguide/view-cloudtrail-events-cli.html).

use aws_sdk_cloudtrail::types::{Event, LookupAttribute, LookupAttributeKey};
use aws_smithy_types::DateTime;
use aws_smithy_types::date_time::Format;
use serde_json::Value;

use super::error::{AwsError, AwsResult, ErrorKind};
use crate::model::TrailEvent;

/// The most events one page answers.
const PAGE: i32 = 50;

/// What secinfra's requests carry in their user agent (`app/secinfra`, set at connect).
pub const APP_NAME: &str = "secinfra";

/// The writes found for one name.
#[derive(Debug, Default)]
pub struct Writes {
    /// Newest first, as CloudTrail answers.
    pub events: Vec<TrailEvent>,
    /// Pages were left unread (more events than the bound).
    pub more: bool,
    /// Requests made.
    pub requests: u32,
}

/// Where a partition records its global services' events.
pub fn global_region(partition: &str) -> &'static str {
    match partition {
        "aws-cn" => "cn-north-1",
        "aws-us-gov" => "us-gov-west-1",
        _ => "us-east-1",
    }
}

/// The write events naming `name` (an id or ARN) since `since`, reading at most
/// `max_pages` pages. `region` overrides the client's (for global services). A failing
/// call is tried twice at most: attribution is worth little against a slow drift run.
pub async fn writes_naming(
    client: &aws_sdk_cloudtrail::Client,
    region: Option<&str>,
    name: &str,
    since: DateTime,
    max_pages: u32,
) -> AwsResult<Writes> {
    let attribute = LookupAttribute::builder()
        .attribute_key(LookupAttributeKey::ResourceName)
        .attribute_value(name)
        .build()
        .map_err(|e| AwsError::new("cloudtrail:LookupEvents", ErrorKind::Invalid, e.to_string()))?;
    let mut overrides = aws_sdk_cloudtrail::config::Builder::default()
        .retry_config(aws_smithy_types::retry::RetryConfig::standard().with_max_attempts(2));
    if let Some(region) = region {
        overrides = overrides.region(aws_config::Region::new(region.to_string()));
    }
    let mut writes = Writes::default();
    let mut token: Option<String> = None;
    loop {
        if writes.requests == max_pages {
            writes.more = true;
            return Ok(writes);
        }
        writes.requests += 1;
        let page = crate::call!(
            client
                .lookup_events()
                .lookup_attributes(attribute.clone())
                .start_time(since)
                .max_results(PAGE)
                .set_next_token(token.take())
                .customize()
                .config_override(overrides.clone()),
            "cloudtrail:LookupEvents"
        )?;
        writes
            .events
            .extend(page.events().iter().filter_map(write_event));
        match page.next_token() {
            Some(next) if !next.is_empty() => token = Some(next.to_string()),
            _ => return Ok(writes),
        }
    }
}

/// The event as secinfra shows it; `None` for a read (`ReadOnly: "true"`).
fn write_event(event: &Event) -> Option<TrailEvent> {
    if event.read_only() == Some("true") {
        return None;
    }
    // The full record is a JSON document in a string (CloudTrail record contents:
    // https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-event-reference-record-contents.html).
    let record: Value = event
        .cloud_trail_event()
        .and_then(|text| serde_json::from_str(text).ok())
        .unwrap_or(Value::Null);
    let text = |value: &Value| value.as_str().filter(|s| !s.is_empty()).map(str::to_string);
    let identity = &record["userIdentity"];
    let caller = text(&identity["arn"])
        .or_else(|| event.username().map(str::to_string))
        .or_else(|| text(&identity["invokedBy"]))
        .or_else(|| text(&identity["type"]))
        .unwrap_or_else(|| "unknown".to_string());
    let user_agent = text(&record["userAgent"]).unwrap_or_default();
    Some(TrailEvent {
        id: event.event_id().unwrap_or_default().to_string(),
        time: event
            .event_time()
            .and_then(|t| t.fmt(Format::DateTime).ok())
            .or_else(|| text(&record["eventTime"]))
            .unwrap_or_default(),
        name: event.event_name().unwrap_or_default().to_string(),
        source: event.event_source().unwrap_or_default().to_string(),
        caller,
        source_ip: text(&record["sourceIPAddress"]),
        error: text(&record["errorCode"]),
        by_secinfra: user_agent
            .split_whitespace()
            .any(|part| part == format!("app/{APP_NAME}")),
    })
}

#[cfg(test)]
mod tests;
