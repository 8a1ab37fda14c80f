//! LookupEvents against recorded answers (`tests/fixtures/cloudtrail/`), replayed over
//! the SDK's HTTP layer: the requests secinfra sends and what it reads from the answers.

use aws_smithy_http_client::test_util::StaticReplayClient;

use super::*;
use crate::testing::replay::{answer, cloudtrail as client, fixture, recorded as ok};

fn since() -> DateTime {
    DateTime::from_str("2026-12-01T08:00:00Z", Format::DateTime).expect("time")
}

fn body(request: &aws_smithy_runtime_api::client::orchestrator::HttpRequest) -> Value {
    let bytes = request.body().bytes().expect("a buffered body");
    serde_json::from_slice(bytes).expect("a JSON request")
}

#[tokio::test]
async fn pages_are_read_in_turn_and_only_writes_are_kept() {
    let replay = StaticReplayClient::new(vec![
        ok("lookup-events-sg-page1.json"),
        ok("lookup-events-sg-page2.json"),
    ]);
    let found = writes_naming(&client(&replay), None, "sg-0a1b2c3d4e5f60789", since(), 5)
        .await
        .expect("found");
    assert_eq!(found.requests, 2);
    assert!(!found.more);
    let names: Vec<&str> = found.events.iter().map(|e| e.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "AuthorizeSecurityGroupIngress",
            "RevokeSecurityGroupEgress",
            "CreateTags",
            "ModifySecurityGroupRules"
        ],
        "the read (DescribeSecurityGroups) is left out"
    );
    let user = &found.events[0];
    assert_eq!(user.caller, "arn:aws:iam::111122223333:user/alice");
    assert_eq!(user.time, "2026-12-01T09:12:03Z");
    assert_eq!(user.source, "ec2.amazonaws.com");
    assert_eq!(user.source_ip.as_deref(), Some("203.0.113.7"));
    assert_eq!(user.id, "6a1f0c2e-4b7d-4e0a-9f3c-1d2e3f4a5b60");
    assert!(!user.by_secinfra && user.error.is_none());
    let refused = &found.events[1];
    assert_eq!(
        refused.caller,
        "arn:aws:sts::111122223333:assumed-role/OnCall/bob@example.com"
    );
    assert_eq!(
        refused.error.as_deref(),
        Some("Client.UnauthorizedOperation")
    );
    assert!(found.events[2].by_secinfra, "{:?}", found.events[2]);
    let service = &found.events[3];
    assert_eq!(service.caller, "config.amazonaws.com");
    assert!(!service.by_secinfra);

    let requests: Vec<_> = replay.actual_requests().collect();
    assert_eq!(requests.len(), 2);
    let first = body(requests[0]);
    assert_eq!(
        first["LookupAttributes"],
        serde_json::json!([{"AttributeKey": "ResourceName", "AttributeValue": "sg-0a1b2c3d4e5f60789"}])
    );
    assert_eq!(first["MaxResults"], 50);
    let start = since().as_secs_f64();
    assert_eq!(first["StartTime"].as_f64(), Some(start));
    assert!(first.get("NextToken").is_none());
    let second = body(requests[1]);
    let token = serde_json::from_str::<Value>(&fixture("lookup-events-sg-page1.json"))
        .expect("fixture")["NextToken"]
        .clone();
    assert_eq!(
        second["NextToken"], token,
        "the next page asks with the token"
    );
    assert_eq!(second["LookupAttributes"], first["LookupAttributes"]);
    assert_eq!(
        requests[0].headers().get("x-amz-target"),
        Some("CloudTrail_20131101.LookupEvents"),
    );
}

#[tokio::test]
async fn the_page_bound_stops_reading_and_says_there_is_more() {
    let replay = StaticReplayClient::new(vec![ok("lookup-events-sg-page1.json")]);
    let found = writes_naming(&client(&replay), None, "sg-0a1b2c3d4e5f60789", since(), 1)
        .await
        .expect("found");
    assert_eq!(found.requests, 1);
    assert!(found.more);
    assert_eq!(found.events.len(), 2);
    assert_eq!(replay.actual_requests().count(), 1);
}

#[tokio::test]
async fn global_service_events_are_looked_up_in_their_region() {
    let replay = StaticReplayClient::new(vec![ok("lookup-events-sg-page2.json")]);
    writes_naming(
        &client(&replay),
        Some(global_region("aws")),
        "arn:aws:iam::111122223333:role/shop-flow-logs",
        since(),
        1,
    )
    .await
    .expect("found");
    let request = replay.actual_requests().next().expect("a request");
    assert!(
        request.uri().contains("cloudtrail.us-east-1.amazonaws.com"),
        "{}",
        request.uri()
    );
    assert_eq!(global_region("aws-us-gov"), "us-gov-west-1");
}

#[tokio::test]
async fn refusals_and_endpoints_without_the_api_are_errors_of_their_kind() {
    let denied = r#"{"__type":"AccessDeniedException","Message":"User: arn:aws:iam::111122223333:user/ci is not authorized to perform: cloudtrail:LookupEvents because no identity-based policy allows the cloudtrail:LookupEvents action"}"#;
    let replay = StaticReplayClient::new(vec![answer(
        400,
        "application/x-amz-json-1.1",
        denied.to_string(),
    )]);
    let err = writes_naming(&client(&replay), None, "sg-1", since(), 2)
        .await
        .expect_err("denied");
    assert!(err.is(ErrorKind::AccessDenied), "{err}");
    assert_eq!(err.operation, "cloudtrail:LookupEvents");

    // An emulator without the operation answers an HTML error page (moto: 500), twice.
    let page = "<!doctype html>\n<title>500 Internal Server Error</title>\n".to_string();
    let replay = StaticReplayClient::new(vec![
        answer(500, "text/html; charset=utf-8", page.clone()),
        answer(500, "text/html; charset=utf-8", page),
    ]);
    let err = writes_naming(&client(&replay), None, "sg-1", since(), 2)
        .await
        .expect_err("no API");
    assert!(err.is(ErrorKind::ServerError), "{err}");
    assert_eq!(replay.actual_requests().count(), 2, "tried twice, no more");
}
