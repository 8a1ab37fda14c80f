//! Exposure labels per change type, on plans of the seed against its own live copy.

use super::*;
use crate::model::{Address, Live};
use crate::testing::{SEED, desired, live_matching, plan};

fn edited(from: &str, to: &str) -> String {
    assert!(SEED.contains(from), "the seed no longer contains {from:?}");
    SEED.replace(from, to)
}

/// Effects of the change at `address` when the seed, applied, is edited `from` → `to`.
fn effects_of_edit(from: &str, to: &str, address: &str) -> Vec<Effect> {
    let live = live_matching(&desired(SEED));
    let planned = plan(&desired(&edited(from, to)), &live);
    let address: Address = address.parse().expect("address");
    let change = planned
        .changes
        .iter()
        .find(|c| c.address == address)
        .expect("change");
    of(change)
}

fn widening(what: &str) -> Effect {
    Effect {
        direction: Direction::Widens,
        what: what.to_string(),
    }
}

fn narrowing(what: &str) -> Effect {
    Effect {
        direction: Direction::Narrows,
        what: what.to_string(),
    }
}

#[test]
fn a_plan_without_changes_has_no_exposure() {
    let seed = desired(SEED);
    let planned = plan(&seed, &live_matching(&seed));
    assert!(of_plan(&planned).is_empty());
    assert!(!widens(&planned));
}

#[test]
fn internet_and_cidr_ingress_widen_and_closing_it_narrows() {
    assert_eq!(
        effects_of_edit(
            "      - { port: 443, from: 0.0.0.0/0 }\n",
            "      - { port: 443, from: 0.0.0.0/0 }\n      - { port: 22, from: 0.0.0.0/0 }\n",
            "security_group.alb"
        ),
        [widening("opens `tcp 22 from 0.0.0.0/0` (the internet)")]
    );
    assert_eq!(
        effects_of_edit(
            "      - { port: 5432, from: security_group.ecs }",
            "      - { port: 5432, from: security_group.ecs }\n      - { port: 5432, from: 10.0.0.0/8 }",
            "security_group.rds"
        ),
        [widening("opens `tcp 5432 from 10.0.0.0/8`")]
    );
    // Between the stack's own groups: not exposure.
    assert_eq!(
        effects_of_edit(
            "      - { port: 5432, from: security_group.ecs }",
            "      - { port: 5432, from: security_group.ecs }\n      - { port: 5432, from: security_group.alb }",
            "security_group.rds"
        ),
        []
    );
}

#[test]
fn a_plan_that_only_closes_what_was_opened_outside_only_narrows() {
    let seed = desired(SEED);
    let mut live: Live = live_matching(&seed);
    let alb: Address = "security_group.alb".parse().expect("address");
    if let Props::SecurityGroup(g) = &mut live.resources.get_mut(&alb).expect("alb").props {
        g.ingress
            .insert("tcp 22 from 0.0.0.0/0".parse().expect("rule"));
    }
    let planned = plan(&seed, &live);
    let effects = of_plan(&planned);
    assert_eq!(effects.len(), 1);
    assert_eq!(
        effects[0].1,
        [narrowing("closes `tcp 22 from 0.0.0.0/0` (the internet)")]
    );
    assert!(!widens(&planned));
}

#[test]
fn waf_rules_removed_or_counting_widen() {
    let removed = effects_of_edit("      - { geo_block: [KP, IR] }\n", "", "web_acl.api");
    assert_eq!(removed.len(), 1, "{removed:?}");
    assert!(
        removed[0].direction == Direction::Widens
            && removed[0].what.starts_with("removes WAF rule ")
    );
    let logging = effects_of_edit(
        "    logging: { log_group: aws-waf-logs-api-platform, retention_days: 90, kms_key: kms_key.s3 }\n",
        "",
        "web_acl.api",
    );
    assert_eq!(logging, [widening("turns off WAF logging")]);
}

#[test]
fn rotation_turned_off_or_lengthened_widens() {
    assert_eq!(
        effects_of_edit(
            "every_days: 30, lambda: api-platform-rotate-postgres",
            "every_days: 60, lambda: api-platform-rotate-postgres",
            "secret.db-master-credentials"
        ),
        [widening("rotates every 60 days instead of 30")]
    );
    assert_eq!(
        effects_of_edit(
            "rotation: { every_days: 90, lambda: api-platform-rotate-jwt }",
            "rotation: manual",
            "secret.jwt-signing-key"
        ),
        [widening("turns off rotation")]
    );
}

#[test]
fn protections_turned_off_widen() {
    assert_eq!(
        effects_of_edit(
            "    deletion_protection: true\n",
            "    deletion_protection: false\n",
            "db_instance.main"
        ),
        [widening("turns off deletion protection")]
    );
    assert_eq!(
        effects_of_edit(
            "    log_file_validation: true",
            "    log_file_validation: false",
            "trail.main"
        ),
        [widening("turns off log file validation")]
    );
}

#[test]
fn a_key_policy_granting_more_principals_widens() {
    let user = "arn:aws:iam::123456789012:role/reporting";
    assert_eq!(
        effects_of_edit(
            "      description: Secrets Manager, dedicated to this environment\n",
            &format!(
                "      description: Secrets Manager, dedicated to this environment\n      users: [{user}]\n"
            ),
            "kms_key.secrets"
        ),
        [widening(&format!("the key policy grants {user}"))]
    );
}

#[test]
fn a_range_inside_one_removed_only_narrows() {
    assert_eq!(
        effects_of_edit(
            "      - { port: 443, from: 0.0.0.0/0 }\n",
            "      - { port: 443, from: 10.0.0.0/8 }\n",
            "security_group.alb"
        ),
        [narrowing("closes `tcp 443 from 0.0.0.0/0` (the internet)")]
    );
    assert_eq!(
        effects_of_edit(
            "      - { port: 443, from: 0.0.0.0/0 }\n",
            "      - { port: 443-444, from: 0.0.0.0/0 }\n",
            "security_group.alb"
        ),
        [widening(
            "opens `tcp 443-444 from 0.0.0.0/0` (the internet)"
        )]
    );
}
