//! `drift`'s "who changed it": each resource changed outside secinfra looked up in
//! CloudTrail's event history, within a bound of requests (LookupEvents allows two a
//! second per account and Region), stopping at the first refusal with one reason.

use aws_smithy_types::DateTime;

use crate::aws::error::{AwsError, ErrorKind};
use crate::aws::trail_events::{global_region, writes_naming};
use crate::plan::drift::{Attribution, LookupTarget, ResourceWrites};

/// The most LookupEvents requests one drift run makes: about 25 s at AWS's rate.
pub const MAX_REQUESTS: u32 = 40;
/// Pages read per name (50 events each): enough for the latest writes to one resource.
const PAGES_PER_NAME: u32 = 2;

/// Looks up who wrote to each target since `since`, newest first.
pub async fn attribute(
    client: &aws_sdk_cloudtrail::Client,
    partition: &str,
    targets: &[LookupTarget],
    since: DateTime,
    max_requests: u32,
) -> Attribution {
    let mut attribution = Attribution {
        since: since
            .fmt(aws_smithy_types::date_time::Format::DateTime)
            .unwrap_or_default(),
        ..Attribution::default()
    };
    for target in targets {
        if attribution.unavailable.is_some() {
            break;
        }
        if target.names.is_empty() {
            attribution.not_looked_up.insert(
                target.address.clone(),
                "no AWS id is known for it (it was deleted, and no apply recorded its id)"
                    .to_string(),
            );
            continue;
        }
        let region = target.global.then(|| global_region(partition));
        let mut writes = ResourceWrites::default();
        for name in &target.names {
            let left = max_requests.saturating_sub(attribution.requests);
            if left == 0 {
                break;
            }
            match writes_naming(client, region, name, since, left.min(PAGES_PER_NAME)).await {
                Ok(found) => {
                    attribution.requests += found.requests;
                    writes.looked_up.push(name.clone());
                    writes.events.extend(found.events);
                    writes.more |= found.more;
                }
                Err(e) => {
                    attribution.requests += 1;
                    attribution.unavailable = Some(why_unavailable(&e));
                    break;
                }
            }
            // The id names it in most services' events; the ARN is tried only when the
            // id found nothing (KMS and Secrets Manager events name ARNs).
            if !writes.events.is_empty() {
                break;
            }
        }
        if !writes.looked_up.is_empty() {
            attribution.resources.insert(target.address.clone(), writes);
        } else if attribution.unavailable.is_none() {
            attribution.not_looked_up.insert(
                target.address.clone(),
                format!("the bound of {max_requests} LookupEvents requests was reached"),
            );
        }
    }
    attribution
}

/// One line on why nobody could be named.
fn why_unavailable(e: &AwsError) -> String {
    match e.kind {
        ErrorKind::AccessDenied => format!(
            "the credentials may not call cloudtrail:LookupEvents (allow it to see who made \
             each change): {e}"
        ),
        ErrorKind::Throttled => format!("CloudTrail kept throttling LookupEvents: {e}"),
        ErrorKind::Credentials => format!("no credentials for CloudTrail: {e}"),
        _ => format!("the endpoint does not answer CloudTrail LookupEvents: {e}"),
    }
}

#[cfg(test)]
mod tests {
    use aws_smithy_http_client::test_util::{ReplayEvent, StaticReplayClient};
    use aws_smithy_types::date_time::Format;

    use super::*;
    use crate::model::Address;
    use crate::testing::replay::{cloudtrail as client, json, recorded};

    fn empty() -> ReplayEvent {
        json(200, r#"{"Events":[]}"#)
    }

    fn target(address: &str, names: &[&str]) -> LookupTarget {
        LookupTarget {
            address: address.parse().expect("address"),
            names: names.iter().map(|n| n.to_string()).collect(),
            global: address.starts_with("iam_role"),
        }
    }

    fn since() -> DateTime {
        DateTime::from_str("2026-12-01T08:00:00Z", Format::DateTime).expect("time")
    }

    fn looked_up_names(replay: &StaticReplayClient) -> Vec<String> {
        replay
            .actual_requests()
            .map(|r| {
                let body: serde_json::Value =
                    serde_json::from_slice(r.body().bytes().expect("body")).expect("json");
                body["LookupAttributes"][0]["AttributeValue"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string()
            })
            .collect()
    }

    #[tokio::test]
    async fn each_resource_by_its_id_then_its_arn_and_ids_unknown_are_said() {
        let replay = StaticReplayClient::new(vec![
            recorded("lookup-events-sg-page1.json"),
            recorded("lookup-events-sg-page2.json"),
            // The key's id names nothing; its ARN finds the writes.
            empty(),
            recorded("lookup-events-sg-page2.json"),
        ]);
        let key_arn = "arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab";
        let targets = [
            target("security_group.web", &["sg-0a1b2c3d4e5f60789"]),
            target(
                "kms_key.data",
                &["1234abcd-12ab-34cd-56ef-1234567890ab", key_arn],
            ),
            target("security_group.gone", &[]),
        ];
        let found = attribute(&client(&replay), "aws", &targets, since(), MAX_REQUESTS).await;
        assert_eq!(found.requests, 4);
        assert_eq!(found.since, "2026-12-01T08:00:00Z");
        assert!(found.unavailable.is_none());
        let web = &found.resources[&"security_group.web".parse::<Address>().expect("a")];
        assert_eq!(web.looked_up, ["sg-0a1b2c3d4e5f60789"]);
        assert_eq!(web.events.len(), 4);
        assert_eq!(web.events[0].caller, "arn:aws:iam::111122223333:user/alice");
        let key = &found.resources[&"kms_key.data".parse::<Address>().expect("a")];
        assert_eq!(key.looked_up.len(), 2);
        assert_eq!(key.events.len(), 2);
        assert!(
            found.not_looked_up[&"security_group.gone".parse::<Address>().expect("a")]
                .contains("no AWS id")
        );
        assert_eq!(
            looked_up_names(&replay),
            [
                "sg-0a1b2c3d4e5f60789",
                "sg-0a1b2c3d4e5f60789",
                "1234abcd-12ab-34cd-56ef-1234567890ab",
                key_arn
            ]
        );
    }

    #[tokio::test]
    async fn the_request_bound_holds_and_names_what_it_left() {
        let replay = StaticReplayClient::new(vec![recorded("lookup-events-sg-page1.json")]);
        let targets = [
            target("security_group.web", &["sg-0a1b2c3d4e5f60789"]),
            target("security_group.api", &["sg-0fedcba987654321"]),
        ];
        let found = attribute(&client(&replay), "aws", &targets, since(), 1).await;
        assert_eq!(found.requests, 1);
        let web = &found.resources[&"security_group.web".parse::<Address>().expect("a")];
        assert!(web.more, "one page of two was read");
        assert!(
            found.not_looked_up[&"security_group.api".parse::<Address>().expect("a")]
                .contains("bound of 1 LookupEvents requests")
        );
        assert_eq!(replay.actual_requests().count(), 1);
    }

    #[tokio::test]
    async fn a_refusal_stops_the_lookups_with_one_reason() {
        let denied = r#"{"__type":"AccessDeniedException","Message":"not authorized to perform: cloudtrail:LookupEvents"}"#;
        let replay = StaticReplayClient::new(vec![json(400, denied)]);
        let targets = [
            target("iam_role.flow_logs", &["shop-flow-logs"]),
            target("security_group.api", &["sg-0fedcba987654321"]),
        ];
        let found = attribute(&client(&replay), "aws", &targets, since(), MAX_REQUESTS).await;
        let why = found.unavailable.expect("unavailable");
        assert!(
            why.contains("may not call cloudtrail:LookupEvents"),
            "{why}"
        );
        assert!(found.resources.is_empty() && found.not_looked_up.is_empty());
        assert_eq!(
            replay.actual_requests().count(),
            1,
            "no lookup after a refusal"
        );
        let request = replay.actual_requests().next().expect("request");
        assert!(
            request.uri().contains("us-east-1"),
            "IAM is looked up where its events are: {}",
            request.uri()
        );
    }
}
