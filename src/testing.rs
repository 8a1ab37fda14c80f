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
