//! Helpers for unit tests: desired resources from blueprint text, and the live state a
//! perfect apply would leave behind (so tests can perturb it).

use crate::blueprint::{self, Source, Target};
use crate::model::{Desired, Live, LiveResource, Props};
use crate::plan::{BlueprintRef, Plan, PlanOptions};

pub const SEED: &str = include_str!("../blueprints/api-platform.yaml");

pub fn desired(yaml: &str) -> Desired {
    let loaded = blueprint::load_source(Source::from_string("test.yaml", yaml), None)
        .unwrap_or_else(|d| panic!("test blueprint does not load:\n{}", d.render(false)));
    loaded
        .validate(&Target {
            region: Some("us-east-1".into()),
            account: Some("123456789012".into()),
        })
        .unwrap_or_else(|d| panic!("test blueprint does not validate:\n{}", d.render(false)))
        .desired
}

/// Live resources identical to the desired ones, with made-up AWS ids.
pub fn live_matching(desired: &Desired) -> Live {
    Live {
        resources: desired
            .resources
            .values()
            .map(|r| {
                (
                    r.address.clone(),
                    LiveResource {
                        address: r.address.clone(),
                        id: fake_id(&r.address.to_string()),
                        arn: None,
                        props: as_discovered(&r.props),
                        tags: r.tags.clone(),
                        unmanaged: false,
                        unobserved: Default::default(),
                        pending: Vec::new(),
                    },
                )
            })
            .collect(),
    }
}

/// Properties as discovery reports them: a secret's generation recipe is never read back.
pub fn as_discovered(props: &Props) -> Props {
    let mut props = props.clone();
    if let Props::Secret(p) = &mut props {
        p.initial_value = None;
    }
    props
}

pub fn fake_id(seed: &str) -> String {
    use sha2::{Digest, Sha256};
    format!("id-{}", &hex::encode(Sha256::digest(seed.as_bytes()))[..10])
}

pub fn plan(desired: &Desired, live: &Live) -> Plan {
    plan_with(desired, live, &PlanOptions::default())
}

pub fn plan_with(desired: &Desired, live: &Live, options: &PlanOptions) -> Plan {
    crate::plan::diff(
        desired,
        live,
        "us-east-1",
        BlueprintRef {
            path: "test.yaml".into(),
            env: None,
            hash: crate::plan::fingerprint::desired(desired),
        },
        options,
    )
    .expect("plan")
}

/// The desired resources of a blueprint text, or `None` when it does not validate.
pub fn try_desired(yaml: &str) -> Option<Desired> {
    let loaded = blueprint::load_source(Source::from_string("test.yaml", yaml), None).ok()?;
    loaded
        .validate(&Target {
            region: Some("us-east-1".into()),
            account: Some("123456789012".into()),
        })
        .ok()
        .map(|v| v.desired)
}

/// The plan `destroy --allow-delete-protected` makes for `live`: every resource of the
/// seed's stack goes, protected ones too.
pub fn destroy_everything(live: &Live) -> Plan {
    let nothing = Desired {
        stack: "api-platform".into(),
        ..Default::default()
    };
    let everything = PlanOptions {
        allow_delete_protected: true,
        ..Default::default()
    };
    plan_with(&nothing, live, &everything)
}

/// AWS answers replayed over the SDK's HTTP layer (recorded ones in
/// `tests/fixtures/cloudtrail/`), and clients that send to them.
pub mod replay {
    use aws_sdk_cloudtrail::config::{BehaviorVersion, Credentials, Region};
    use aws_smithy_http_client::test_util::{ReplayEvent, StaticReplayClient};
    use aws_smithy_types::body::SdkBody;

    /// The text of a recorded answer.
    pub fn fixture(name: &str) -> String {
        let path = format!(
            "{}/tests/fixtures/cloudtrail/{name}",
            env!("CARGO_MANIFEST_DIR")
        );
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
    }

    /// An answer with this status, content type and body.
    pub fn answer(status: u16, content_type: &str, body: String) -> ReplayEvent {
        ReplayEvent::new(
            http::Request::builder()
                .uri("https://cloudtrail.eu-west-1.amazonaws.com/")
                .body(SdkBody::empty())
                .expect("request"),
            http::Response::builder()
                .status(status)
                .header("content-type", content_type)
                .body(SdkBody::from(body))
                .expect("response"),
        )
    }

    /// A JSON 1.1 answer with this body.
    pub fn json(status: u16, body: &str) -> ReplayEvent {
        answer(status, "application/x-amz-json-1.1", body.to_string())
    }

    /// A recorded answer, as AWS sends it.
    pub fn recorded(name: &str) -> ReplayEvent {
        json(200, &fixture(name))
    }

    /// A CloudTrail client in eu-west-1 whose requests the replay answers.
    pub fn cloudtrail(replay: &StaticReplayClient) -> aws_sdk_cloudtrail::Client {
        aws_sdk_cloudtrail::Client::from_conf(
            aws_sdk_cloudtrail::Config::builder()
                .behavior_version(BehaviorVersion::latest())
                .region(Region::new("eu-west-1"))
                .credentials_provider(Credentials::new("AKID", "secret", None, None, "test"))
                .http_client(replay.clone())
                .build(),
        )
    }

    /// A WAF client in us-east-1 whose requests the replay answers.
    pub fn waf(replay: &StaticReplayClient) -> aws_sdk_wafv2::Client {
        aws_sdk_wafv2::Client::from_conf(
            aws_sdk_wafv2::Config::builder()
                .behavior_version(BehaviorVersion::latest())
                .region(Region::new("us-east-1"))
                .credentials_provider(Credentials::new("AKID", "secret", None, None, "test"))
                .http_client(replay.clone())
                .build(),
        )
    }
}
