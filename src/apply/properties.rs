//! The guarantee the README states, as a property: from the seed as applied, with some
//! drift made out of band, any mix of blueprint edits is planned and carried out step by
//! step against the in-memory account (`fake`) with
//! - no protected resource deleted or replaced without `--allow-delete-protected`,
//! - no step refused by the account (a group, subnet or key deleted while in use, a
//!   reference to something gone, a name taken), even when creates lose their answers,
//! - no twin made by a create whose answer was lost,
//! - no database or cache left without an ingress rule at any step,
//! - and nothing left to do once planned again (a second round carries out what protection
//!   turned off in the first released).

use proptest::prelude::*;

use super::ChangeStatus;
use super::fake::FakeAws;
use super::hazards::carry_out;
use crate::model::{Live, Props, TAG_ADOPTED, TAG_PROTECT};
use crate::plan::PlanOptions;
use crate::testing::{SEED, desired, live_matching, plan_with, try_desired};

/// Blueprint edits a team makes: text replaced in the seed (all occurrences), or, for the
/// last two, a section cut (`cut`).
const EDITS: [(&str, &str); 16] = [
    // Fields that cannot change in place: replacements.
    (
        "    description: PostgreSQL\n",
        "    description: PostgreSQL primary\n",
    ),
    (
        "    description: API containers (FastAPI)\n",
        "    description: API containers\n",
    ),
    (
        "    description: Redis sessions and cache\n",
        "    description: Redis\n",
    ),
    ("10.0.", "10.1."),
    (
        "data-az1: { cidr: 10.0.30.0/24",
        "data-az1: { cidr: 10.0.31.0/24",
    ),
    (
        "    kms_key: kms_key.rds # storage",
        "    kms_key: kms_key.s3 # storage",
    ),
    (
        "log_group: /secinfra/api-platform/flow-logs",
        "log_group: /secinfra/api-platform/vpc-flow-logs",
    ),
    // In place.
    ("    engine_version: \"16\"", "    engine_version: \"17\""),
    ("      log_connections: 1\n", "      log_connections: 0\n"),
    (
        "    deletion_protection: true\n",
        "    deletion_protection: false\n",
    ),
    (
        "    auth_token: secret.redis-auth-token\n",
        "    auth_token: secret.redis-auth-token\n    protect: false\n",
    ),
    (
        "      description: RDS storage and snapshot encryption\n",
        "      description: RDS encryption\n",
    ),
    ("      - { port: 6379, to: security_group.redis }\n", ""),
    (
        "      - { port: 443, from: 0.0.0.0/0 }\n",
        "      - { port: 443, from: 10.0.0.0/8 }\n",
    ),
    // Whole sections removed: from the first text up to the second.
    ("databases:\n", "caches:\n"),
    ("caches:\n", "\n# Detection"),
];

/// The seed with the edits applied; an edit whose text an earlier one removed does nothing.
fn edited(edits: &[usize]) -> String {
    let mut text = SEED.to_string();
    for &i in edits {
        let (from, to) = EDITS[i];
        text = if i >= EDITS.len() - 2 {
            cut(&text, from, to)
        } else {
            text.replace(from, to)
        };
    }
    text
}

#[test]
fn every_edit_finds_its_text_in_the_seed() {
    for (from, to) in EDITS {
        assert!(SEED.contains(from), "the seed no longer contains {from:?}");
        assert!(to.is_empty() || from != to);
    }
}

/// `text` without the section from `start` up to (not including) `end`.
fn cut(text: &str, start: &str, end: &str) -> String {
    let Some(from) = text.find(start) else {
        return text.to_string();
    };
    let rest = from + start.len();
    let to = text[rest..].find(end).map_or(text.len(), |i| rest + i);
    format!("{}{}", &text[..from], &text[to..])
}

/// Changes made out of band before the plan.
fn drift(live: &mut Live, which: usize) {
    let at = |a: &str| a.parse().expect("address");
    match which {
        1 => {
            if let Some(r) = live.resources.get_mut(&at("security_group.redis"))
                && let Props::SecurityGroup(g) = &mut r.props
            {
                g.ingress.clear();
            }
        }
        2 => {
            if let Some(r) = live.resources.get_mut(&at("log_group.flow-logs"))
                && let Props::LogGroup(g) = &mut r.props
            {
                g.retention_days = Some(7);
            }
        }
        3 => {
            live.resources.remove(&at("secret.api-keys"));
        }
        4 => {
            if let Some(r) = live.resources.get_mut(&at("db_instance.main"))
                && let Props::DbInstance(db) = &mut r.props
            {
                db.backup_retention_days = 1;
            }
        }
        5 => {
            if let Some(r) = live.resources.get_mut(&at("vpc.main")) {
                r.tags.insert("Owner".into(), "someone".into());
            }
        }
        _ => {}
    }
}

/// The addresses and AWS ids of what is protected in `live`, as the planner judges it.
fn protected(live: &Live) -> Vec<(String, String)> {
    live.resources
        .values()
        .filter(|r| {
            r.tags.contains_key(TAG_ADOPTED)
                || r.address.kind.protectable()
                    && match &r.props {
                        Props::DbInstance(db) => db.deletion_protection,
                        _ => r.tags.get(TAG_PROTECT).map(String::as_str) != Some("false"),
                    }
        })
        .map(|r| (r.address.to_string(), r.id.clone()))
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

    #[test]
    fn any_edit_is_carried_out_without_harm(
        edits in proptest::collection::vec(0..EDITS.len(), 0..4),
        out_of_band in 0usize..6,
        allow_delete_protected in any::<bool>(),
        lose_every in prop_oneof![Just(0u64), Just(2), Just(3)],
    ) {
        let Some(wanted) = try_desired(&edited(&edits)) else {
            // Edits that together do not validate (a group removed that a rule names).
            return Ok(());
        };
        let mut live = live_matching(&desired(SEED));
        drift(&mut live, out_of_band);
        let account = FakeAws::holding(&live).losing_create_answers(lose_every);
        let options = PlanOptions {
            allow_delete_protected,
            ..PlanOptions::default()
        };
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        // A plan can take two rounds: protection turned off by the first
        // (`deletion_protection: false` applied) releases what it held in the second.
        for round in 1..=3 {
            let before = account.live();
            let plan = plan_with(&wanted, &before, &options);
            if plan.actionable().next().is_none() {
                return Ok(());
            }
            let report = runtime.block_on(carry_out(&plan, &account));
            let refused: Vec<String> = report
                .results
                .iter()
                .filter(|(_, _, s)| *s != ChangeStatus::Done)
                .map(|(a, _, s)| format!("{a}: {s:?}"))
                .collect();
            prop_assert!(refused.is_empty(), "round {}, refused: {:#?}", round, refused);
            prop_assert_eq!(account.violations(), Vec::<String>::new());
            if !allow_delete_protected {
                for (address, id) in protected(&before) {
                    prop_assert!(
                        account.has(&id),
                        "round {}: {} ({}) is protected but was deleted",
                        round,
                        address,
                        id
                    );
                }
            }
        }
        for address in wanted.resources.keys() {
            let at = address.to_string();
            prop_assert!(account.count_at(&at) <= 1, "a twin at {}", at);
        }
        let left: Vec<String> = plan_with(&wanted, &account.live(), &options)
            .actionable()
            .map(|c| c.address.to_string())
            .collect();
        prop_assert!(left.is_empty(), "still to do after three rounds: {:?}", left);
    }
}
