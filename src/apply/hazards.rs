//! The hazards of issue 13, each planned by the real planner and carried out by the real
//! executor against the in-memory account (`fake`), which refuses what AWS refuses and
//! notices a database or cache left without an ingress rule at any step.

use std::time::Duration;

use super::fake::FakeAws;
use super::{ApplyOptions, ApplyReport, Silent, execute};
use crate::aws::{AwsContext, Provider};
use crate::model::{Desired, Live};
use crate::plan::{Action, Plan, PlanOptions};
use crate::testing::{SEED, desired, live_matching, plan_with};

pub(crate) async fn carry_out(plan: &Plan, account: &FakeAws) -> ApplyReport {
    let ctx = AwsContext::unconnected(&plan.stack);
    let providers: Vec<Box<dyn Provider>> = vec![Box::new(account.clone())];
    let options = ApplyOptions {
        parallelism: 4,
        propagation_wait: Duration::from_secs(1),
        dependency_wait: Duration::from_secs(1),
    };
    execute(
        plan,
        &ctx,
        &providers,
        &options,
        &Silent,
        std::future::pending(),
        std::future::pending(),
    )
    .await
}

/// The seed applied, as an account.
fn seed_account() -> (Desired, FakeAws) {
    let desired = desired(SEED);
    let account = FakeAws::holding(&live_matching(&desired));
    (desired, account)
}

fn edited_seed(from: &str, to: &str) -> Desired {
    let edited = SEED.replace(from, to);
    assert_ne!(edited, SEED, "`{from}` is in the seed");
    desired(&edited)
}

/// Plans `desired` against the account, carries the plan out, and checks that it worked
/// with no database or cache ever left without a rule, and that planning again finds
/// nothing left to do.
async fn converge(desired: &Desired, account: &FakeAws, options: &PlanOptions) -> Plan {
    let plan = plan_with(desired, &account.live(), options);
    let report = carry_out(&plan, account).await;
    assert!(report.succeeded(), "{:#?}", report.results);
    assert_eq!(account.violations(), Vec::<String>::new());
    let again = plan_with(desired, &account.live(), options);
    let left: Vec<String> = again.actionable().map(|c| c.address.to_string()).collect();
    assert!(left.is_empty(), "still to do: {left:?}");
    plan
}

#[tokio::test]
async fn the_account_notices_a_database_left_without_rules() {
    // The check itself: the order today's planner avoids (the group's rules revoked while
    // the database still uses it) is what it reports.
    let (_, account) = seed_account();
    let live = account.live();
    let group = &live.resources[&"security_group.rds".parse().expect("address")];
    let going = [group.address.clone()].into();
    let ids = crate::aws::Ids::from_live(live.resources.values());
    let ctx = AwsContext::unconnected("api-platform");
    let request = crate::aws::provider::LinkSync {
        address: &group.address,
        id: &group.id,
        before: Some(&group.props),
        after: None,
        phase: crate::aws::provider::LinkPhase::Release,
        going: &going,
    };
    account
        .sync_links(&ctx, request, &ids)
        .await
        .expect("revoked");
    let violations = account.violations();
    assert_eq!(violations.len(), 1, "{violations:?}");
    assert!(
        violations[0].contains("db_instance.main has no ingress rule left"),
        "{violations:?}"
    );
    // And AWS's refusal: the group cannot go while the database uses it.
    let gone = crate::aws::provider::Delete {
        live: group,
        options: &Default::default(),
        ids: &ids,
    };
    let err = account.delete(&ctx, gone).await.expect_err("in use");
    assert_eq!(err.code.as_deref(), Some("DependencyViolation"));
    assert!(err.message.contains("db_instance.main"), "{}", err.message);
}

#[tokio::test]
async fn a_new_description_on_the_databases_group_keeps_the_database_reachable() {
    let (_, account) = seed_account();
    let database = account.id_of("db_instance.main").expect("database");
    let old_group = account.id_of("security_group.rds").expect("group");
    let desired = edited_seed(
        "    description: PostgreSQL\n",
        "    description: PostgreSQL primary\n",
    );
    let plan = converge(&desired, &account, &PlanOptions::default()).await;
    assert_eq!(
        plan.change(&"security_group.rds".parse().expect("address"))
            .map(|c| c.action),
        Some(Action::Replace)
    );
    assert!(account.has(&database), "the database is never replaced");
    assert!(!account.has(&old_group), "the old group is gone");
    let new_group = account.id_of("security_group.rds").expect("new group");
    let live = account.live();
    let crate::model::Props::DbInstance(db) =
        &live.resources[&"db_instance.main".parse().expect("address")].props
    else {
        panic!("a database");
    };
    assert_eq!(
        db.security_groups
            .iter()
            .map(|g| g.to_string())
            .collect::<Vec<_>>(),
        ["security_group.rds"],
        "{new_group}"
    );
}

#[tokio::test]
async fn a_new_description_on_a_group_other_groups_name_re_points_their_rules_first() {
    let (_, account) = seed_account();
    let desired = edited_seed(
        "    description: API containers (FastAPI)\n",
        "    description: API containers\n",
    );
    converge(&desired, &account, &PlanOptions::default()).await;
}

#[tokio::test]
async fn a_major_engine_upgrade_keeps_the_database() {
    let (_, account) = seed_account();
    let database = account.id_of("db_instance.main").expect("database");
    let old_parameters = account.id_of("db_parameter_group.main").expect("group");
    let desired = edited_seed("    engine_version: \"16\"", "    engine_version: \"17\"");
    converge(&desired, &account, &PlanOptions::default()).await;
    assert!(account.has(&database), "upgraded in place");
    assert!(
        !account.has(&old_parameters),
        "the old family's group is gone"
    );
}

#[tokio::test]
async fn destroy_keeps_every_protected_resource_and_what_it_stands_on_until_allowed() {
    let (desired, account) = seed_account();
    let protected: Vec<String> = [
        "kms_key.rds",
        "kms_key.s3",
        "kms_key.secrets",
        "db_instance.main",
        "cache_replication_group.sessions",
        "s3_bucket.cloudtrail",
        "log_group.flow-logs",
        "log_group.cloudtrail",
    ]
    .iter()
    .map(|a| account.id_of(a).unwrap_or_else(|| panic!("{a}")))
    .collect();
    let nothing = Desired {
        stack: desired.stack.clone(),
        ..Default::default()
    };
    let plan = plan_with(&nothing, &account.live(), &PlanOptions::default());
    let report = carry_out(&plan, &account).await;
    assert!(report.succeeded(), "{:#?}", report.results);
    assert_eq!(account.violations(), Vec::<String>::new());
    for id in &protected {
        assert!(account.has(id), "{id} is kept");
    }
    assert!(account.id_of("nat_gateway.public-az1").is_none());

    let everything = PlanOptions {
        allow_delete_protected: true,
        ..Default::default()
    };
    converge(&nothing, &account, &everything).await;
    assert_eq!(account.live(), Live::default());
}

#[tokio::test]
async fn replacing_the_vpc_when_allowed_rebuilds_everything_in_order() {
    let (_, account) = seed_account();
    let desired = edited_seed("10.0.", "10.1.");
    let held = plan_with(&desired, &account.live(), &PlanOptions::default());
    let acted: Vec<String> = held
        .actionable()
        .map(|c| format!("{} {:?} {:?}", c.address, c.action, c.diffs))
        .collect();
    assert!(acted.is_empty(), "the whole chain is held: {acted:#?}");
    assert!(held.held().count() > 0);
    let everything = PlanOptions {
        allow_delete_protected: true,
        ..Default::default()
    };
    converge(&desired, &account, &everything).await;
}

#[tokio::test(start_paused = true)]
async fn creates_whose_answers_are_lost_are_found_and_finished_never_repeated() {
    // Every third create acts and then loses its answer: recovery looks for what it made
    // (by the stack's tags or its unique name) and finishes it instead of making a twin.
    let desired = desired(SEED);
    let account = FakeAws::default().losing_create_answers(3);
    converge(&desired, &account, &PlanOptions::default()).await;
    for address in desired.resources.keys() {
        assert_eq!(account.count_at(&address.to_string()), 1, "{address}");
    }
}
