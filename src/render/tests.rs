//! Snapshots of the rendered views of one plan that holds every kind of change.

use super::{Styles, human, json};
use crate::model::{Address, Props};
use crate::plan::Plan;
use crate::testing::{desired, live_matching, plan};

const BLUEPRINT: &str = "version: 1
stack: shop
region: us-east-1
tags: { Owner: platform }
network:
  vpc: { cidr: 10.0.0.0/16 }
  subnets:
    app-a: { cidr: 10.0.1.0/24, az: a, tier: isolated }
    app-b: { cidr: 10.0.2.0/24, az: b, tier: isolated }
security_groups:
  web: { ingress: [ { port: 443, from: 0.0.0.0/0 } ] }
  api: { ingress: [ { port: 8000, from: security_group.web } ], egress: [ { port: 443, to: 0.0.0.0/0 } ] }
";

/// A plan with a create (app-b), an update (api's rules and a tag), a replace (app-a's
/// CIDR, with its route table re-associating) and a delete (a group no longer declared).
fn mixed_plan() -> Plan {
    let desired = desired(BLUEPRINT);
    let mut live = live_matching(&desired);
    let address = |s: &str| s.parse::<Address>().expect("address");
    live.resources.remove(&address("subnet.app-b"));
    if let Some(table) = live.resources.get_mut(&address("route_table.isolated"))
        && let Props::RouteTable(p) = &mut table.props
    {
        p.subnets
            .remove(&crate::model::Ref::Address(address("subnet.app-b")));
    }
    let app_a = live
        .resources
        .get_mut(&address("subnet.app-a"))
        .expect("app-a");
    if let Props::Subnet(p) = &mut app_a.props {
        p.cidr = "10.0.9.0/24".parse().expect("cidr");
    }
    let api = live
        .resources
        .get_mut(&address("security_group.api"))
        .expect("api");
    if let Props::SecurityGroup(p) = &mut api.props {
        p.ingress
            .insert("tcp 22 from 0.0.0.0/0".parse().expect("rule"));
        p.egress.clear();
    }
    api.tags.insert("Owner".into(), "someone".into());
    let mut old = live.resources[&address("security_group.web")].clone();
    old.address = address("security_group.legacy");
    old.id = "sg-0legacy".into();
    live.resources.insert(old.address.clone(), old);
    plan(&desired, &live)
}

#[test]
fn human_plan() {
    insta::assert_snapshot!(human::plan(&mixed_plan(), &Styles::plain()));
}

#[test]
fn human_no_changes() {
    let desired = desired(BLUEPRINT);
    insta::assert_snapshot!(human::plan(
        &plan(&desired, &live_matching(&desired)),
        &Styles::plain()
    ));
}

#[test]
fn json_plan() {
    insta::assert_snapshot!(json::plan(&mixed_plan()));
}

/// Fails unless the plan's JSON is valid against `docs/plan.schema.json`.
fn assert_documented(plan: &Plan) {
    let schema: serde_json::Value =
        serde_json::from_str(include_str!("../../docs/plan.schema.json")).expect("schema");
    let validator = jsonschema::validator_for(&schema).expect("compiles");
    let document: serde_json::Value = serde_json::from_str(&json::plan(plan)).expect("json");
    let errors: Vec<String> = validator
        .iter_errors(&document)
        .map(|e| format!("{}: {e}", e.instance_path()))
        .collect();
    assert_eq!(errors, Vec::<String>::new());
}

#[test]
fn json_plans_follow_the_documented_format() {
    assert_documented(&mixed_plan());
    let desired = desired(WAF_BLUEPRINT);
    assert_documented(&plan(&desired, &live_matching(&desired)));
    assert_documented(&plan(&desired, &crate::model::Live::default()));
}

#[test]
fn colour_only_when_asked() {
    let plain = human::plan(&mixed_plan(), &Styles::plain());
    assert!(!plain.contains('\u{1b}'));
    let coloured = human::plan(&mixed_plan(), &Styles::new(true));
    assert!(coloured.contains("\u{1b}["));
}

const WAF_BLUEPRINT: &str = "version: 1
stack: shop
region: us-east-1
waf:
  api:
    default_action: allow
    rules:
      - { managed: AWSManagedRulesCommonRuleSet, count: [SizeRestrictions_BODY] }
      - { geo_block: [KP, IR] }
      - { name: login-rate-limit, rate_limit: { limit: 100, window_seconds: 300, path_prefix: /auth/login } }
      - { ip_block: [203.0.113.7/32] }
    logging: { log_group: aws-waf-logs-shop, retention_days: 90 }
";

/// Drift on a web ACL reads rule by rule and field by field: a rate limit raised by hand, a
/// rule deleted in the console, one rewritten to a statement secinfra does not write, and an
/// address added to the IP set.
#[test]
fn human_waf_drift() {
    use crate::model::WafStatement;
    let desired = desired(WAF_BLUEPRINT);
    let mut live = live_matching(&desired);
    let address = |s: &str| s.parse::<Address>().expect("address");
    let acl = live
        .resources
        .get_mut(&address("web_acl.api"))
        .expect("web acl");
    if let Props::WebAcl(p) = &mut acl.props {
        p.rules = std::mem::take(&mut p.rules)
            .into_iter()
            .filter(|r| !matches!(r.statement, WafStatement::GeoMatch { .. }))
            .map(|mut r| {
                match &mut r.statement {
                    WafStatement::RateLimit { limit, .. } => *limit = 5000,
                    WafStatement::Managed { .. } => {
                        r.statement = WafStatement::Other {
                            summary: "byte match on a header".into(),
                        }
                    }
                    _ => {}
                }
                r
            })
            .collect();
    }
    let set = live
        .resources
        .get_mut(&address("ip_set.api-blocked"))
        .expect("ip set");
    if let Props::IpSet(p) = &mut set.props {
        p.addresses.insert("198.51.100.0/24".into());
    }
    insta::assert_snapshot!(human::plan(&plan(&desired, &live), &Styles::plain()));
}

/// A held delete keeps its action in the JSON plan (`jq 'select(.action != "noop")'` finds
/// it), flagged `held: true` with the reason; read back, it is held again, not executed.
#[test]
fn json_held_change_keeps_its_action() {
    let with_key = desired(&format!("{BLUEPRINT}kms: {{ keys: {{ data: {{}} }} }}\n"));
    let live = live_matching(&with_key);
    let held = plan(&desired(BLUEPRINT), &live);
    let json: serde_json::Value = serde_json::from_str(&json::plan(&held)).expect("json");
    let key = json["changes"]
        .as_array()
        .expect("changes")
        .iter()
        .find(|c| c["address"] == "kms_key.data")
        .expect("the key's change");
    assert_eq!(key["action"], "delete");
    assert_eq!(key["held"], true);
    assert!(
        key["hold_reason"]
            .as_str()
            .is_some_and(|r| r.contains("protected")),
        "{key}"
    );
    assert_documented(&held);
    let read: Plan = serde_json::from_value(json).expect("reads back");
    assert_eq!(read, held);
    assert_eq!(read.actionable().count(), 0, "nothing of it is executed");
}

const KEY_BLUEPRINT: &str = "version: 1
stack: shop
region: us-east-1
kms:
  keys:
    data:
      users: [USERS]
";

/// A key policy gaining a user reads as the lines that change, not two whole documents.
#[test]
fn human_policy_line_diff() {
    let with = |users: &str| desired(&KEY_BLUEPRINT.replace("USERS", users));
    let alice = "arn:aws:iam::123456789012:role/alice";
    let bob = "arn:aws:iam::123456789012:role/bob";
    let live = live_matching(&with(alice));
    let rendered = human::plan(
        &plan(&with(&format!("{alice}, {bob}")), &live),
        &Styles::plain(),
    );
    assert!(!rendered.contains("} → {"), "{rendered}");
    insta::assert_snapshot!(rendered);
}

/// A new key's policy is folded to one line unless `-v`; the tags every new resource shares
/// are said once.
#[test]
fn creations_are_compact_unless_verbose() {
    let desired = desired(&format!(
        "{BLUEPRINT}kms: {{ keys: {{ data: {{}}, logs: {{}} }} }}\n"
    ));
    let fresh = plan(&desired, &crate::model::Live::default());
    let compact = human::plan(&fresh, &Styles::plain());
    assert!(compact.contains("policy:"), "{compact}");
    assert!(compact.contains("(document, "), "{compact}");
    assert!(!compact.contains("\"Statement\""), "{compact}");
    assert!(
        compact.contains("Every new resource is tagged Owner=platform, secinfra:stack=shop"),
        "{compact}"
    );
    assert!(
        !compact.contains("Owner=platform, secinfra:address=vpc.main"),
        "{compact}"
    );
    let full = human::plan_in(&fresh, &Styles::plain(), human::Detail::Full);
    assert!(full.contains("\"Statement\""), "{full}");
}

/// Rules read in the order AWS evaluates them (priority), not by name.
#[test]
fn waf_rules_in_priority_order() {
    let desired = desired(WAF_BLUEPRINT);
    let mut live = live_matching(&desired);
    let acl = live
        .resources
        .get_mut(&"web_acl.api".parse::<Address>().expect("address"))
        .expect("web acl");
    let mut names_by_priority = Vec::new();
    if let Props::WebAcl(p) = &mut acl.props {
        p.rules = std::mem::take(&mut p.rules)
            .into_iter()
            .map(|mut r| {
                r.action = "count".into();
                names_by_priority.push((r.priority, r.name.clone()));
                r
            })
            .collect();
    }
    names_by_priority.sort();
    let rendered = human::plan(&plan(&desired, &live), &Styles::plain());
    let positions: Vec<usize> = names_by_priority
        .iter()
        .filter(|(_, name)| rendered.contains(&format!("rules.{name}.action")))
        .map(|(_, name)| {
            rendered
                .find(&format!("rules.{name}.action"))
                .expect("shown")
        })
        .collect();
    assert!(positions.len() >= 3, "{rendered}");
    assert!(
        positions.windows(2).all(|w| w[0] < w[1]),
        "not in priority order:\n{rendered}"
    );
    let mut by_name = names_by_priority.clone();
    by_name.sort_by(|a, b| a.1.cmp(&b.1));
    assert_ne!(
        by_name, names_by_priority,
        "the test needs names out of priority order"
    );
}

/// Drift reads by origin: what changed outside secinfra, what the blueprint changed.
#[test]
fn markdown_plan() {
    insta::assert_snapshot!(super::markdown::plan(&mixed_plan()));
}

#[test]
fn markdown_audit() {
    let insecure = BLUEPRINT.replace(
        "web: { ingress: [ { port: 443, from: 0.0.0.0/0 } ] }",
        "web: { ingress: [ { port: 22, from: 0.0.0.0/0 } ] }",
    );
    let desired = desired(&insecure);
    let findings = crate::audit::audit(&crate::audit::Inventory::declared(&desired));
    let audited = super::audit::Audited {
        stack: "shop",
        blueprint: "shop.yaml",
        subject: "blueprint",
        fail_on: crate::audit::Severity::High,
    };
    insta::assert_snapshot!(super::markdown::audit(&findings, &audited));
}

#[test]
fn markdown_drift() {
    insta::assert_snapshot!(super::markdown::drift(&drifted_by_both()));
}

/// A rule opened in the account and a tag edited in the blueprint since the last apply.
fn drifted_by_both() -> Plan {
    let applied = desired(BLUEPRINT);
    let live_then = live_matching(&applied);
    let record = crate::plan::drift::record(
        &plan(&applied, &live_then),
        "2026-12-01T00:00:00Z".into(),
        live_then.resources.values(),
    );
    let mut live = live_then.clone();
    if let Some(Props::SecurityGroup(p)) = live
        .resources
        .get_mut(&"security_group.web".parse::<Address>().expect("address"))
        .map(|r| &mut r.props)
    {
        p.ingress
            .insert("tcp 22 from 0.0.0.0/0".parse().expect("rule"));
    }
    let edited = desired(&BLUEPRINT.replace("Owner: platform", "Owner: payments"));
    let mut drifted = plan(&edited, &live);
    drifted.drift = Some(crate::plan::drift::origins(&drifted, Some(&record)));
    drifted
}

#[test]
fn human_drift_by_origin() {
    let drifted = drifted_by_both();
    assert_documented(&drifted);
    insta::assert_snapshot!(human::drift(
        &drifted,
        &Styles::plain(),
        human::Detail::Compact
    ));
}

/// `drifted_by_both` with who opened the rule, as CloudTrail told it.
fn drifted_and_attributed() -> Plan {
    let mut drifted = drifted_by_both();
    let event =
        |id: &str, time: &str, name: &str, caller: &str, ip: &str| crate::model::TrailEvent {
            id: id.into(),
            time: time.into(),
            name: name.into(),
            source: "ec2.amazonaws.com".into(),
            caller: caller.into(),
            source_ip: Some(ip.into()),
            error: None,
            by_secinfra: false,
        };
    let alice = "arn:aws:iam::111122223333:user/alice";
    let mut refused = event(
        "e2",
        "2026-12-01T08:58:21Z",
        "RevokeSecurityGroupEgress",
        "arn:aws:sts::111122223333:assumed-role/OnCall/bob@example.com",
        "198.51.100.23",
    );
    refused.error = Some("Client.UnauthorizedOperation".into());
    let mut ours = event(
        "e3",
        "2026-12-01T08:40:02Z",
        "CreateTags",
        "arn:aws:sts::111122223333:assumed-role/Deploy/github-actions",
        "192.0.2.44",
    );
    ours.by_secinfra = true;
    let writes = crate::plan::drift::ResourceWrites {
        looked_up: vec!["id-web".into()],
        events: vec![
            event(
                "e1",
                "2026-12-01T09:12:03Z",
                "AuthorizeSecurityGroupIngress",
                alice,
                "203.0.113.7",
            ),
            refused,
            ours,
            event(
                "e4",
                "2026-12-01T08:31:47Z",
                "ModifySecurityGroupRules",
                alice,
                "203.0.113.7",
            ),
        ],
        more: false,
    };
    let attribution = crate::plan::drift::Attribution {
        since: "2026-12-01T00:00:00Z".into(),
        resources: [("security_group.web".parse().expect("address"), writes)].into(),
        requests: 2,
        ..Default::default()
    };
    if let Some(origins) = drifted.drift.as_mut() {
        origins.attribution = Some(attribution);
    }
    drifted
}

#[test]
fn human_drift_says_who() {
    let drifted = drifted_and_attributed();
    assert_documented(&drifted);
    insta::assert_snapshot!(human::drift(
        &drifted,
        &Styles::plain(),
        human::Detail::Compact
    ));
}

#[test]
fn markdown_drift_says_who() {
    insta::assert_snapshot!(super::markdown::drift(&drifted_and_attributed()));
}

#[test]
fn drift_without_cloudtrail_says_so_once() {
    let mut drifted = drifted_by_both();
    if let Some(origins) = drifted.drift.as_mut() {
        origins.attribution = Some(crate::plan::drift::Attribution {
            since: "2026-12-01T00:00:00Z".into(),
            unavailable: Some(
                "the endpoint does not answer CloudTrail LookupEvents: cloudtrail:LookupEvents \
                 failed: HTTP 500 without an AWS error in the answer"
                    .into(),
            ),
            requests: 1,
            ..Default::default()
        });
    }
    assert_documented(&drifted);
    let text = human::drift(&drifted, &Styles::plain(), human::Detail::Compact);
    assert_eq!(
        text.matches("Who made these changes is not known").count(),
        1,
        "{text}"
    );
    assert!(!text.contains("who:"), "{text}");
    let markdown = super::markdown::drift(&drifted);
    assert!(markdown.contains("Who made these changes is not known: the endpoint does not answer"));
    assert!(!markdown.contains("| Resource | When (UTC)"));
}
