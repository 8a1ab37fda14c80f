//! Every rule against the seed (which meets them all) and against an insecure variant of
//! it: a blueprint edit where the blueprint can say the insecure thing, otherwise a change
//! made outside secinfra to the live resources (`--live`).

use super::suppress::{self, Suppression};
use super::*;
use crate::blueprint::{Source, load_source};
use crate::model::{Kind, Live, Ref};
use crate::testing::{SEED, desired, live_matching};

fn findings_of(yaml: &str) -> Vec<Finding> {
    let desired = desired(yaml);
    audit(&Inventory::declared(&desired))
}

fn live_findings(edit: impl FnOnce(&mut Live)) -> Vec<Finding> {
    let desired = desired(SEED);
    let mut live = live_matching(&desired);
    edit(&mut live);
    audit(&Inventory::live(
        live.resources.iter().map(|(a, r)| (a, &r.props)),
        &desired,
    ))
}

fn edited(from: &str, to: &str) -> String {
    assert!(SEED.contains(from), "the seed no longer contains {from:?}");
    SEED.replace(from, to)
}

fn ids(findings: &[Finding]) -> Vec<(&'static str, Option<String>)> {
    findings
        .iter()
        .map(|f| (f.rule.id, f.address.as_ref().map(ToString::to_string)))
        .collect()
}

#[test]
fn the_seed_meets_every_rule() {
    assert_eq!(ids(&findings_of(SEED)), vec![]);
    assert!(live_findings(|_| {}).is_empty());
}

/// Blueprint edits that break exactly one rule, on one resource (`None`: the stack).
const INSECURE_EDITS: &[(&str, &str, &str, Option<&str>)] = &[
    (
        "SI001",
        "      - { port: 443, from: 0.0.0.0/0 }\n",
        "      - { port: 443, from: 0.0.0.0/0 }\n      - { port: 22, from: 0.0.0.0/0 }\n",
        Some("security_group.alb"),
    ),
    (
        "SI002",
        "      - { port: 5432, from: security_group.ecs }",
        "      - { port: 5432, from: 10.0.0.0/16 }",
        Some("security_group.rds"),
    ),
    (
        "SI003",
        "restrict_default_security_group: true",
        "restrict_default_security_group: false",
        Some("vpc.main"),
    ),
    (
        "SI006",
        "    description: Third-party API keys (set out of band)\n    kms_key: kms_key.secrets\n",
        "    description: Third-party API keys (set out of band)\n",
        Some("secret.api-keys"),
    ),
    (
        "SI007",
        "every_days: 30, lambda: api-platform-rotate-postgres",
        "every_days: 60, lambda: api-platform-rotate-postgres",
        Some("secret.db-master-credentials"),
    ),
    (
        "SI008",
        "rotation: { every_days: 90, lambda: api-platform-rotate-jwt }",
        "rotation: manual",
        Some("secret.jwt-signing-key"),
    ),
    (
        "SI010",
        "backup_retention_days: 30",
        "backup_retention_days: 7",
        Some("db_instance.main"),
    ),
    (
        "SI012",
        "    deletion_protection: true\n",
        "    deletion_protection: false\n",
        Some("db_instance.main"),
    ),
    (
        "SI015",
        "      - { geo_block: [KP, IR] }\n",
        "",
        Some("web_acl.api"),
    ),
    (
        "SI016",
        "    logging: { log_group: aws-waf-logs-api-platform, retention_days: 90, kms_key: kms_key.s3 }\n",
        "",
        Some("web_acl.api"),
    ),
    (
        "SI017",
        "    multi_region: true\n",
        "    multi_region: false\n",
        Some("trail.main"),
    ),
    (
        "SI018",
        "    log_file_validation: true",
        "    log_file_validation: false",
        Some("trail.main"),
    ),
    (
        "SI022",
        "  security_hub:\n    standards: [aws-foundational-security-best-practices, cis-aws-foundations-benchmark/v/5.0.0]\n",
        "",
        None,
    ),
    (
        "SI023",
        "    retention_days: 90 # \"Data retention: 90 days for logs\"",
        "    retention_days: 30",
        Some("log_group.flow-logs"),
    ),
    (
        "SI024",
        "    kms_key: kms_key.s3 # encrypted at rest, like every log of the stack\n",
        "",
        Some("log_group.flow-logs"),
    ),
];

#[test]
fn each_insecure_edit_breaks_its_rule_and_no_other() {
    for (rule, from, to, address) in INSECURE_EDITS {
        let found = ids(&findings_of(&edited(from, to)));
        assert_eq!(
            found,
            vec![(*rule, address.map(str::to_string))],
            "{rule}: {from:?} -> {to:?}"
        );
    }
}

fn props_mut<'a>(live: &'a mut Live, address: &str) -> &'a mut Props {
    let address: Address = address.parse().expect("address");
    &mut live
        .resources
        .get_mut(&address)
        .expect("live resource")
        .props
}

/// What the blueprint cannot declare (validate refuses it) but an account can hold after
/// a change made outside secinfra: judged with `--live`.
#[test]
fn each_insecure_change_outside_secinfra_breaks_its_rule() {
    type Edit = fn(&mut Live);
    let cases: &[(&str, &str, Edit)] = &[
        ("SI004", "vpc.main", |live| {
            live.resources.retain(|a, _| a.kind != Kind::FlowLog);
        }),
        ("SI005", "kms_key.rds", |live| {
            if let Props::KmsKey(k) = props_mut(live, "kms_key.rds") {
                k.rotation_enabled = false;
            }
        }),
        ("SI009", "db_instance.main", |live| {
            if let Props::DbInstance(d) = props_mut(live, "db_instance.main") {
                d.kms_key = Some(Ref::External(
                    "arn:aws:kms:us-east-1:123456789012:alias/aws/rds".into(),
                ));
            }
        }),
        ("SI011", "db_instance.main", |live| {
            if let Props::DbParameterGroup(p) = props_mut(live, "db_parameter_group.main") {
                p.parameters.insert("rds.force_ssl".into(), "0".into());
            }
        }),
        ("SI013", "cache_replication_group.sessions", |live| {
            if let Props::CacheReplicationGroup(c) =
                props_mut(live, "cache_replication_group.sessions")
            {
                c.transit_encryption = false;
            }
        }),
        ("SI014", "cache_replication_group.sessions", |live| {
            if let Props::CacheReplicationGroup(c) =
                props_mut(live, "cache_replication_group.sessions")
            {
                c.kms_key = None;
            }
        }),
        ("SI019", "trail.main", |live| {
            if let Props::Trail(t) = props_mut(live, "trail.main") {
                t.kms_key = None;
            }
        }),
        ("SI020", "trail.main", |live| {
            if let Props::Trail(t) = props_mut(live, "trail.main") {
                t.log_group = None;
            }
        }),
        ("SI021", "guardduty_detector.main", |live| {
            if let Props::GuarddutyDetector(d) = props_mut(live, "guardduty_detector.main") {
                d.enabled = false;
            }
        }),
        ("SI002", "db_instance.main", |live| {
            if let Props::DbInstance(d) = props_mut(live, "db_instance.main") {
                d.publicly_accessible = true;
            }
        }),
    ];
    for (rule, address, edit) in cases {
        let found = ids(&live_findings(*edit));
        assert_eq!(found, vec![(*rule, Some(address.to_string()))], "{rule}");
    }
}

#[test]
fn every_rule_has_an_insecure_case() {
    let source = include_str!("tests.rs");
    for rule in RULES {
        assert!(
            source.matches(&format!("(\"{}\",", rule.id)).count()
                + source.matches(&format!("\"{}\",\n", rule.id)).count()
                >= 1,
            "{} has no failing case",
            rule.id
        );
    }
}

#[test]
fn internet_https_is_for_load_balancers_only() {
    let renamed =
        edited("  alb:\n", "  web:\n").replace("security_group.alb", "security_group.web");
    assert_eq!(
        ids(&findings_of(&renamed)),
        vec![("SI001", Some("security_group.web".to_string()))]
    );
    for name in ["public-lb", "nlb", "api-alb"] {
        let renamed = edited("  alb:\n", &format!("  {name}:\n"))
            .replace("security_group.alb", &format!("security_group.{name}"));
        assert!(findings_of(&renamed).is_empty(), "{name}");
    }
}

#[test]
fn stack_wide_findings_point_at_the_stack() {
    let yaml = "version: 1\nstack: lonely\nnetwork:\n  vpc: { cidr: 10.0.0.0/16 }\n  subnets:\n    a: { cidr: 10.0.1.0/24, az: a, tier: isolated }\n";
    let found = ids(&findings_of(yaml));
    for (rule, address) in [
        ("SI004", Some("vpc.main".to_string())),
        ("SI017", None),
        ("SI021", None),
        ("SI022", None),
    ] {
        assert!(
            found.contains(&(rule, address.clone())),
            "{rule} in {found:?}"
        );
    }
    let loaded = load_source(Source::from_string("lonely.yaml", yaml), None).expect("load");
    let mut findings = findings_of(yaml);
    locate(&mut findings, &loaded);
    let trail = findings
        .iter()
        .find(|f| f.rule.id == "SI017")
        .expect("SI017");
    assert_eq!(
        trail.location.as_ref().map(ToString::to_string).as_deref(),
        Some("lonely.yaml:2:8")
    );
    let vpc = findings
        .iter()
        .find(|f| f.rule.id == "SI004")
        .expect("SI004");
    assert_eq!(
        vpc.location.as_ref().map(ToString::to_string).as_deref(),
        Some("lonely.yaml:4:16")
    );
}

fn suppressions(yaml: &str) -> Result<Vec<Suppression>, crate::blueprint::Diagnostics> {
    let source = Source::from_string("s.yaml", yaml);
    let root = crate::blueprint::node::parse(&source).expect("yaml");
    let settings: crate::blueprint::types::AuditSettings =
        crate::blueprint::de::from_node(&root).expect("shape");
    suppress::resolve(&settings, &source)
}

#[test]
fn a_current_suppression_marks_its_finding_and_an_expired_one_is_a_finding() {
    let yaml = "suppress:\n  - { rule: SI010, address: db_instance.main, reason: restored weekly elsewhere, owner: dba-team, expires: 2027-03-31 }\n";
    let list = suppressions(yaml).expect("valid");
    let insecure = edited("backup_retention_days: 30", "backup_retention_days: 7");

    let mut findings = findings_of(&insecure);
    let before_expiry = suppress::today().min(20_908);
    suppress::apply(&mut findings, &list, before_expiry);
    assert_eq!(findings.len(), 1);
    assert!(findings[0].suppressed.is_some());
    assert!(!findings[0].fails_at(Severity::Low));

    let mut findings = findings_of(&insecure);
    suppress::apply(&mut findings, &list, 20_909);
    assert_eq!(
        ids(&findings),
        vec![
            ("SI010", Some("db_instance.main".into())),
            ("SI000", Some("db_instance.main".into()))
        ]
    );
    assert!(findings.iter().all(|f| f.suppressed.is_none()));
    assert!(
        findings[1].message.contains("ended on 2027-03-31"),
        "{}",
        findings[1].message
    );
    assert_eq!(
        findings[1]
            .location
            .as_ref()
            .map(ToString::to_string)
            .as_deref(),
        Some("s.yaml:2:13")
    );
    assert!(findings[1].fails_at(Severity::High));
}

#[test]
fn a_suppression_without_a_known_rule_reason_or_date_is_refused() {
    for (yaml, says) in [
        (
            "suppress:\n  - { rule: SI999, reason: r, owner: o, expires: 2027-01-01 }\n",
            "unknown audit rule `SI999`",
        ),
        (
            "suppress:\n  - { rule: SI001, reason: \" \", owner: o, expires: 2027-01-01 }\n",
            "needs a reason",
        ),
        (
            "suppress:\n  - { rule: SI001, reason: r, owner: o, expires: next week }\n",
            "`next week` is not a date",
        ),
        (
            "suppress:\n  - { rule: SI001, address: alb, reason: r, owner: o, expires: 2027-01-01 }\n",
            "kind.name",
        ),
    ] {
        let err = suppressions(yaml).expect_err(yaml);
        let text = err.render(false);
        assert!(text.contains(says) && text.contains("s.yaml:2:"), "{text}");
    }
}
