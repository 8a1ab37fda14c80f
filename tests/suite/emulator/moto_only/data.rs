//! The seed's PostgreSQL database and Redis cache, checked through the RDS and ElastiCache
//! APIs (LocalStack community offers neither, so these run on moto only).
//!
//! What moto cannot show: DescribeCacheClusters lists no member clusters of a replication
//! group, so a cache's engine version, security groups and subnet group are reported as
//! not observed there (real AWS lists them); and it has no DeleteCacheSubnetGroup, so no
//! test here destroys a cache.

use std::collections::BTreeSet;

use super::super::TestStack;
use super::super::secrets::{apply_ok, secret_value};
use crate::support::{expect_code, stderr, stdout};

/// The seed with its rotation functions, written as `blueprint.yaml`.
async fn seeded(purpose: &str) -> TestStack {
    let stack = TestStack::new(purpose).await;
    stack.rotation_functions().await;
    stack.write("blueprint.yaml", &stack.seed());
    stack
}

/// The seed applied, then `from` in it replaced by `to` (which must occur) and written as
/// the blueprint to apply next; with the database as it was before the edit.
async fn applied_then_edited(
    purpose: &str,
    from: &str,
    to: &str,
) -> (TestStack, aws_sdk_rds::types::DbInstance) {
    let stack = seeded(purpose).await;
    apply_ok(&stack, &[]);
    let before = database(&stack).await;
    let edited = stack.seed().replace(from, to);
    assert_ne!(edited, stack.seed(), "`{from}` is in the seed");
    stack.write("blueprint.yaml", &edited);
    (stack, before)
}

async fn key_arn(stack: &TestStack, name: &str) -> String {
    stack
        .kms()
        .describe_key()
        .key_id(format!("alias/{}/{name}", stack.name))
        .send()
        .await
        .expect("describe key")
        .key_metadata()
        .map(|m| m.arn().unwrap_or_default().to_string())
        .expect("metadata")
}

/// The AWS ids of resources with these addresses in this stack.
async fn subnet_ids(stack: &TestStack, addresses: &[&str]) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for address in addresses {
        let found = stack
            .ec2()
            .describe_subnets()
            .filters(stack.stack_filter())
            .filters(stack.address_filter(address))
            .send()
            .await
            .expect("subnets");
        out.extend(
            found
                .subnets()
                .iter()
                .filter_map(|s| s.subnet_id())
                .map(str::to_string),
        );
    }
    out
}

async fn group_id(stack: &TestStack, address: &str) -> String {
    stack
        .ec2()
        .describe_security_groups()
        .filters(stack.stack_filter())
        .filters(stack.address_filter(address))
        .send()
        .await
        .expect("groups")
        .security_groups()
        .first()
        .and_then(|g| g.group_id())
        .expect("group id")
        .to_string()
}

/// Where a progress line first appears in an apply's log.
fn position(log: &str, line: &str) -> usize {
    log.find(line)
        .unwrap_or_else(|| panic!("`{line}` missing in:\n{log}"))
}

async fn database(stack: &TestStack) -> aws_sdk_rds::types::DbInstance {
    stack
        .rds()
        .describe_db_instances()
        .db_instance_identifier(format!("{}-main", stack.name))
        .send()
        .await
        .expect("describe db instance")
        .db_instances()
        .first()
        .cloned()
        .expect("the database exists")
}

async fn cache(stack: &TestStack) -> aws_sdk_elasticache::types::ReplicationGroup {
    stack
        .elasticache()
        .describe_replication_groups()
        .replication_group_id(format!("{}-sessions", stack.name))
        .send()
        .await
        .expect("describe replication group")
        .replication_groups()
        .first()
        .cloned()
        .expect("the cache exists")
}

async fn parameters(stack: &TestStack) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = stack
        .rds()
        .describe_db_parameters()
        .db_parameter_group_name(format!("{}-main", stack.name))
        .source("user")
        .send()
        .await
        .expect("parameters")
        .parameters()
        .iter()
        .filter_map(|p| {
            Some((
                p.parameter_name()?.to_string(),
                p.parameter_value()?.to_string(),
            ))
        })
        .collect();
    out.sort();
    out
}

#[tokio::test(flavor = "multi_thread")]
async fn the_database_and_cache_are_applied_as_declared() {
    let stack = seeded("data").await;
    let output = stack.run(&["apply", "blueprint.yaml", "--auto-approve", "-vv"]);
    expect_code(&output, 0);
    let s = &stack.name;

    let db = database(&stack).await;
    assert_eq!(db.engine(), Some("postgres"));
    assert!(
        db.engine_version()
            .is_some_and(|v| v == "16" || v.starts_with("16.")),
        "{:?}",
        db.engine_version()
    );
    assert_eq!(db.db_instance_class(), Some("db.t4g.medium"));
    assert_eq!(db.allocated_storage(), Some(50));
    assert_eq!(db.storage_encrypted(), Some(true));
    assert_eq!(db.kms_key_id(), Some(key_arn(&stack, "rds").await.as_str()));
    assert_eq!(db.backup_retention_period(), Some(30));
    assert_eq!(db.deletion_protection(), Some(true));
    assert_eq!(db.copy_tags_to_snapshot(), Some(true));
    assert_eq!(db.multi_az(), Some(true));
    assert_eq!(db.publicly_accessible(), Some(false));
    let secret = db
        .master_user_secret()
        .expect("RDS manages the master password");
    assert_eq!(
        secret.kms_key_id(),
        Some(key_arn(&stack, "secrets").await.as_str())
    );
    let groups: Vec<&str> = db
        .vpc_security_groups()
        .iter()
        .filter_map(|g| g.vpc_security_group_id())
        .collect();
    assert_eq!(groups, [group_id(&stack, "security_group.rds").await]);
    let subnet_group = db.db_subnet_group().expect("subnet group");
    assert_eq!(
        subnet_group.db_subnet_group_name(),
        Some(format!("{s}-main").as_str())
    );
    let in_group: BTreeSet<String> = subnet_group
        .subnets()
        .iter()
        .filter_map(|s| s.subnet_identifier())
        .map(str::to_string)
        .collect();
    assert_eq!(
        in_group,
        subnet_ids(&stack, &["subnet.data-az1", "subnet.data-az2"]).await
    );
    assert_eq!(
        db.db_parameter_groups()
            .first()
            .and_then(|g| g.db_parameter_group_name()),
        Some(format!("{s}-main").as_str())
    );
    assert_eq!(
        parameters(&stack).await,
        [
            ("log_connections".to_string(), "1".to_string()),
            ("rds.force_ssl".to_string(), "1".to_string())
        ]
    );
    assert!(
        db.tag_list()
            .iter()
            .any(|t| t.key() == Some("secinfra:address") && t.value() == Some("db_instance.main"))
    );

    let redis = cache(&stack).await;
    assert_eq!(redis.transit_encryption_enabled(), Some(true));
    assert_eq!(redis.at_rest_encryption_enabled(), Some(true));
    assert_eq!(
        redis.kms_key_id(),
        Some(key_arn(&stack, "rds").await.as_str())
    );
    assert_eq!(redis.auth_token_enabled(), Some(true));
    assert_eq!(
        redis.automatic_failover().map(|f| f.as_str()),
        Some("enabled")
    );
    assert_eq!(redis.multi_az().map(|m| m.as_str()), Some("enabled"));
    assert_eq!(redis.cache_node_type(), Some("cache.t4g.small"));
    assert_eq!(redis.member_clusters().len(), 2, "a primary and a replica");
    let cache_subnets = stack
        .elasticache()
        .describe_cache_subnet_groups()
        .cache_subnet_group_name(format!("{s}-sessions"))
        .send()
        .await
        .expect("cache subnet group");
    let in_group: BTreeSet<String> = cache_subnets.cache_subnet_groups()[0]
        .subnets()
        .iter()
        .filter_map(|s| s.subnet_identifier())
        .map(str::to_string)
        .collect();
    assert_eq!(
        in_group,
        subnet_ids(&stack, &["subnet.data-az1", "subnet.data-az2"]).await
    );

    // The AUTH token went from its secret to ElastiCache without passing through any output,
    // even the SDK's debug logs.
    let token = secret_value(&stack, "redis-auth-token")
        .await
        .expect("the token was generated");
    assert_eq!(token.len(), 64);
    let again = stack.run(&["plan", "blueprint.yaml", "--detailed-exitcode", "--json"]);
    expect_code(&again, 0);
    for (what, text) in [
        ("apply stdout", stdout(&output)),
        ("apply stderr", stderr(&output)),
        ("plan stdout", stdout(&again)),
        ("plan stderr", stderr(&again)),
    ] {
        assert!(!text.contains(&token), "the AUTH token leaked into {what}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn data_drift_is_shown_field_by_field_and_repaired() {
    let stack = seeded("datadrift").await;
    apply_ok(&stack, &[]);
    let s = &stack.name;

    // By hand: backups cut to a week, TLS no longer required, fewer cache snapshots.
    stack
        .rds()
        .modify_db_instance()
        .db_instance_identifier(format!("{s}-main"))
        .backup_retention_period(7)
        .apply_immediately(true)
        .send()
        .await
        .expect("lower backup retention");
    stack
        .rds()
        .modify_db_parameter_group()
        .db_parameter_group_name(format!("{s}-main"))
        .parameters(
            aws_sdk_rds::types::Parameter::builder()
                .parameter_name("rds.force_ssl")
                .parameter_value("0")
                .apply_method(aws_sdk_rds::types::ApplyMethod::Immediate)
                .build(),
        )
        .send()
        .await
        .expect("turn TLS off");
    stack
        .elasticache()
        .modify_replication_group()
        .replication_group_id(format!("{s}-sessions"))
        .snapshot_retention_limit(1)
        .apply_immediately(true)
        .send()
        .await
        .expect("fewer snapshots");

    let output = stack.run(&["plan", "blueprint.yaml", "--detailed-exitcode"]);
    expect_code(&output, 2);
    let out = stdout(&output);
    for line in [
        "  ~ db_parameter_group.main",
        "      parameters[\"rds.force_ssl\"]:  0 → 1",
        "  ~ db_instance.main",
        "      backup_retention_days:  7 → 30",
        "  ~ cache_replication_group.sessions",
        "      snapshot_retention_days:  1 → 7",
        "Plan: 0 to add, 3 to change, 0 to replace, 0 to destroy.",
    ] {
        assert!(out.contains(line), "missing `{line}` in:\n{out}");
    }

    apply_ok(&stack, &[]);
    assert_eq!(database(&stack).await.backup_retention_period(), Some(30));
    assert!(
        parameters(&stack)
            .await
            .contains(&("rds.force_ssl".to_string(), "1".to_string()))
    );
    assert_eq!(cache(&stack).await.snapshot_retention_limit(), Some(7));
    let again = stack.run(&["plan", "blueprint.yaml", "--detailed-exitcode"]);
    expect_code(&again, 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_new_encryption_key_replaces_the_database_only_when_allowed() {
    let (stack, before) = applied_then_edited(
        "dbkey",
        "    kms_key: kms_key.rds # storage, snapshots and backups",
        "    kms_key: kms_key.s3",
    )
    .await;

    // Deletion protection is on: the replacement is held, nothing else happens.
    let output = stack.run(&["apply", "blueprint.yaml", "--auto-approve"]);
    let out = stdout(&output);
    assert!(
        out.contains(
            "db_instance.main — replacement held: db_instance.main has deletion protection on"
        ),
        "{out}"
    );
    assert!(out.contains("1 held"), "{out}");
    let after = database(&stack).await;
    assert_eq!(after.kms_key_id(), before.kms_key_id());

    // Allowed: protection is lifted, a final snapshot taken, the database re-created.
    let output = stack.run(&[
        "apply",
        "blueprint.yaml",
        "--auto-approve",
        "--allow-delete-protected",
    ]);
    expect_code(&output, 0);
    let out = stdout(&output);
    assert!(out.contains("-/+ db_instance.main"), "{out}");
    assert!(out.contains("kms_key cannot change in place"), "{out}");
    let replaced = database(&stack).await;
    assert_eq!(
        replaced.kms_key_id(),
        Some(key_arn(&stack, "s3").await.as_str())
    );
    // (moto gives every instance the same DbiResourceId, so the final snapshot of the old
    // one is what shows it was deleted.)

    assert_eq!(replaced.deletion_protection(), Some(true));
    let snapshots = stack
        .rds()
        .describe_db_snapshots()
        .db_instance_identifier(format!("{}-main", stack.name))
        .send()
        .await
        .expect("snapshots");
    assert!(
        snapshots.db_snapshots().iter().any(|s| s
            .db_snapshot_identifier()
            .is_some_and(|id| id.starts_with(&format!("{}-main-final-", stack.name)))),
        "a final snapshot of the old database: {:?}",
        snapshots.db_snapshots()
    );
}

/// A description change on the database's security group (a field EC2 cannot change in
/// place) replaces the group create-before-destroy: the new group, under a suffixed name,
/// gets its rules; the database moves to it; only then does the old group lose its rules
/// and go. The database is the same instance throughout.
#[tokio::test(flavor = "multi_thread")]
async fn a_new_description_on_the_databases_group_moves_the_database_to_a_new_group() {
    let stack = seeded("dbsg").await;
    apply_ok(&stack, &[]);
    let old_group = group_id(&stack, "security_group.rds").await;
    let before = database(&stack).await;
    let edited = stack.seed().replace(
        "    description: PostgreSQL\n",
        "    description: PostgreSQL primary\n",
    );
    assert_ne!(edited, stack.seed(), "the seed's rds group description");
    stack.write("blueprint.yaml", &edited);

    let output = stack.run(&[
        "apply",
        "blueprint.yaml",
        "--auto-approve",
        "--wait-timeout",
        "60s",
    ]);
    eprintln!("{}", stderr(&output));
    expect_code(&output, 0);
    let out = stdout(&output);
    assert!(out.contains("-/+ security_group.rds"), "{out}");
    assert!(out.contains("~ db_instance.main"), "{out}");
    assert!(!out.contains("held"), "{out}");
    let log = stderr(&output);
    let at = |line: &str| position(&log, line);
    assert!(at("security_group.rds: linked") < at("db_instance.main: updating..."));
    assert!(at("db_instance.main: updated") < at("security_group.rds: revoking rules..."));
    assert!(at("security_group.rds: links released") < at("security_group.rds: deleting..."));
    assert!(at("security_group.ecs: linked") < at("security_group.ecs: revoking rules..."));

    let after = database(&stack).await;
    assert_eq!(
        after.db_instance_identifier(),
        before.db_instance_identifier()
    );
    assert_eq!(after.instance_create_time(), before.instance_create_time());
    let new_group = group_id(&stack, "security_group.rds").await;
    assert_ne!(new_group, old_group);
    let in_use: Vec<&str> = after
        .vpc_security_groups()
        .iter()
        .filter_map(|g| g.vpc_security_group_id())
        .collect();
    assert_eq!(in_use, [new_group.as_str()]);
    let groups = stack
        .ec2()
        .describe_security_groups()
        .group_ids(&new_group)
        .send()
        .await
        .expect("new group");
    let group = &groups.security_groups()[0];
    assert_eq!(group.description(), Some("PostgreSQL primary"));
    let name = group.group_name().unwrap_or_default();
    assert!(
        name.starts_with(&format!("{}-rds-", stack.name)) && name.len() == stack.name.len() + 13,
        "{name}"
    );
    let ecs = group_id(&stack, "security_group.ecs").await;
    let from_ecs = group.ip_permissions().iter().any(|p| {
        p.from_port() == Some(5432)
            && p.user_id_group_pairs()
                .iter()
                .any(|pair| pair.group_id() == Some(ecs.as_str()))
    });
    assert!(from_ecs, "{:?}", group.ip_permissions());
    let old = stack
        .ec2()
        .describe_security_groups()
        .filters(stack.stack_filter())
        .send()
        .await
        .expect("groups");
    assert!(
        old.security_groups()
            .iter()
            .all(|g| g.group_id() != Some(old_group.as_str())),
        "the old group is gone"
    );
    let snapshots = stack
        .rds()
        .describe_db_snapshots()
        .db_instance_identifier(format!("{}-main", stack.name))
        .send()
        .await
        .expect("snapshots");
    assert!(
        snapshots.db_snapshots().iter().all(|s| !s
            .db_snapshot_identifier()
            .unwrap_or_default()
            .contains("-final-")),
        "never deleted"
    );
    let again = stack.run(&["plan", "blueprint.yaml", "--detailed-exitcode"]);
    expect_code(&again, 0);
}

/// A major engine upgrade (16 → 17) changes the parameter group's family: a new group is
/// made first (suffixed name), the database is upgraded in place onto it, and the old group
/// goes after. Never a replacement of the database.
#[tokio::test(flavor = "multi_thread")]
async fn a_major_engine_upgrade_happens_in_place() {
    let (stack, before) = applied_then_edited(
        "dbup",
        "    engine_version: \"16\"",
        "    engine_version: \"17\"",
    )
    .await;

    let output = apply_ok(&stack, &[]);
    let out = stdout(&output);
    assert!(
        out.contains("~ db_instance.main") && out.contains("upgrade in place: engine 16 → 17"),
        "{out}"
    );
    assert!(out.contains("-/+ db_parameter_group.main"), "{out}");
    assert!(!out.contains("held"), "{out}");
    let log = stderr(&output);
    let at = |line: &str| position(&log, line);
    assert!(at("db_parameter_group.main: created") < at("db_instance.main: updating..."));
    assert!(at("db_instance.main: updated") < at("db_parameter_group.main: deleting..."));

    let after = database(&stack).await;
    assert_eq!(after.instance_create_time(), before.instance_create_time());
    assert_eq!(after.engine_version(), Some("17"));
    let group = after
        .db_parameter_groups()
        .first()
        .and_then(|g| g.db_parameter_group_name())
        .unwrap_or_default()
        .to_string();
    assert!(
        group.starts_with(&format!("{}-main-", stack.name)),
        "{group}"
    );
    let groups = stack
        .rds()
        .describe_db_parameter_groups()
        .db_parameter_group_name(&group)
        .send()
        .await
        .expect("new group");
    assert_eq!(
        groups.db_parameter_groups()[0].db_parameter_group_family(),
        Some("postgres17")
    );
    let old = stack
        .rds()
        .describe_db_parameter_groups()
        .db_parameter_group_name(format!("{}-main", stack.name))
        .send()
        .await;
    // AWS answers DBParameterGroupNotFound; an emulator may list nothing instead.
    assert!(
        old.map_or(true, |o| o.db_parameter_groups().is_empty()),
        "the old group is gone"
    );
    let again = stack.run(&["plan", "blueprint.yaml", "--detailed-exitcode"]);
    expect_code(&again, 0);
}

/// A static parameter (here `max_connections`) cannot be set `immediate` (AWS refuses it:
/// the realism layer plays that, `tests/suite/realism.rs`); it is set `pending-reboot`, the
/// database is not rebooted, and the apply and every later plan say a reboot is pending.
#[tokio::test(flavor = "multi_thread")]
async fn a_static_parameter_waits_for_a_reboot_and_the_plan_says_so() {
    let (stack, before) = applied_then_edited(
        "static",
        "      log_connections: 1\n",
        "      log_connections: 1\n      max_connections: 200\n",
    )
    .await;

    let out = stdout(&apply_ok(&stack, &[]));
    assert!(out.contains("~ db_parameter_group.main"), "{out}");
    assert!(
        out.contains(&format!(
            "↻ db_instance.main — reboot pending: static parameters of {}-main take effect at \
             the next reboot",
            stack.name
        )),
        "{out}"
    );
    assert!(out.contains("Verified"), "{out}");
    let set = stack
        .rds()
        .describe_db_parameters()
        .db_parameter_group_name(format!("{}-main", stack.name))
        .source("user")
        .send()
        .await
        .expect("parameters");
    let methods: Vec<(&str, Option<&str>)> = set
        .parameters()
        .iter()
        .map(|p| {
            (
                p.parameter_name().unwrap_or_default(),
                p.apply_method().map(|m| m.as_str()),
            )
        })
        .collect();
    assert!(
        methods.contains(&("max_connections", Some("pending-reboot"))),
        "{methods:?}"
    );
    assert!(
        methods.contains(&("log_connections", Some("immediate"))),
        "{methods:?}"
    );
    // Not rebooted, not replaced.
    let after = database(&stack).await;
    assert_eq!(after.instance_create_time(), before.instance_create_time());

    let plan = stack.run(&["plan", "blueprint.yaml", "--detailed-exitcode"]);
    expect_code(&plan, 0);
    assert!(
        stdout(&plan).contains("↻ db_instance.main — reboot pending"),
        "{}",
        stdout(&plan)
    );
}

/// Recovery: `respond restore-db` restores the seed's database into new instances (from a
/// snapshot, the latest time, a time in the window) in the subnet group, security groups
/// and parameter group the database stands on, tagged as restores, never as the stack's;
/// bad input is refused before anything starts; the original and the plan are untouched.
#[tokio::test(flavor = "multi_thread")]
async fn a_database_is_restored_into_a_new_instance_and_the_original_is_untouched() {
    let stack = seeded("restore").await;
    apply_ok(&stack, &[]);
    let s = stack.name.clone();
    let original = database(&stack).await;
    let created = original.instance_create_time().expect("created").secs();
    let restore = |args: &[&str]| {
        let mut all = vec!["respond", "restore-db", "blueprint.yaml"];
        all.extend_from_slice(args);
        all.extend(["--reason", "INC-11 rows deleted", "--yes"]);
        stack.run(&all)
    };

    let main = format!("{s}-main");
    for (args, says) in [
        (
            vec!["nope", "--latest", "--as", "x-restored"],
            "no database `nope`",
        ),
        (
            vec!["main", "--latest", "--as", "1-bad"],
            "not a DB instance identifier",
        ),
        (
            vec!["main", "--latest", "--as", main.as_str()],
            "a database the blueprint declares",
        ),
        (
            vec!["main", "--to", "2020-01-01T00:00:00Z", "--as", "x-restored"],
            "outside the restorable window",
        ),
        (
            vec![
                "main",
                "--snapshot",
                "no-such-snapshot",
                "--as",
                "x-restored",
            ],
            "no DB snapshot",
        ),
    ] {
        let refused = restore(&args);
        expect_code(&refused, 1);
        assert!(
            stderr(&refused).contains(says),
            "{args:?}: {}",
            stderr(&refused)
        );
    }

    let snapshot = format!("{s}-incident-snap");
    stack
        .rds()
        .create_db_snapshot()
        .db_instance_identifier(&main)
        .db_snapshot_identifier(&snapshot)
        .send()
        .await
        .expect("snapshot");
    let mid = aws_smithy_types::DateTime::from_secs(
        (created + aws_smithy_types::DateTime::from(std::time::SystemTime::now()).secs()) / 2,
    )
    .fmt(aws_smithy_types::date_time::Format::DateTime)
    .expect("time");
    for (target, point) in [
        (
            format!("{s}-from-snap"),
            vec!["--snapshot", snapshot.as_str()],
        ),
        (format!("{s}-latest"), vec!["--latest"]),
        (format!("{s}-at-time"), vec!["--to", mid.as_str()]),
    ] {
        let mut args = vec!["main", "--as", target.as_str(), "--json"];
        args.extend(point);
        let restored = restore(&args);
        expect_code(&restored, 0);
        let report: serde_json::Value = serde_json::from_slice(&restored.stdout).expect("json");
        assert_eq!(report["restored_into"], target.as_str());
        assert!(
            stderr(&restored).contains("started restoring db_instance.main")
                && stderr(&restored).contains("reason: INC-11 rows deleted"),
            "{}",
            stderr(&restored)
        );
        let new = stack
            .rds()
            .describe_db_instances()
            .db_instance_identifier(&target)
            .send()
            .await
            .expect("describe restored")
            .db_instances()
            .first()
            .cloned()
            .expect("restored instance");
        assert_eq!(
            new.db_subnet_group().and_then(|g| g.db_subnet_group_name()),
            original
                .db_subnet_group()
                .and_then(|g| g.db_subnet_group_name()),
            "{target}"
        );
        let groups = |i: &aws_sdk_rds::types::DbInstance| -> BTreeSet<String> {
            i.vpc_security_groups()
                .iter()
                .filter_map(|g| g.vpc_security_group_id().map(str::to_string))
                .collect()
        };
        assert_eq!(groups(&new), groups(&original), "{target}");
        assert_eq!(
            new.deletion_protection(),
            Some(true),
            "as the blueprint declares"
        );
        let tag = |key: &str| {
            new.tag_list()
                .iter()
                .find(|t| t.key() == Some(key))
                .and_then(|t| t.value())
                .map(str::to_string)
        };
        assert_eq!(
            tag("secinfra:restore-of").as_deref(),
            Some("db_instance.main")
        );
        assert_eq!(
            tag("secinfra:stack"),
            None,
            "a restore is not part of the stack"
        );
        assert_eq!(tag("Owner").as_deref(), Some("platform"));
    }
    let refused = restore(&["main", "--latest", "--as", &format!("{s}-latest")]);
    expect_code(&refused, 1);
    assert!(
        stderr(&refused).contains("exists already"),
        "{}",
        stderr(&refused)
    );

    let after = database(&stack).await;
    assert_eq!(after.db_instance_status(), original.db_instance_status());
    assert_eq!(after.dbi_resource_id(), original.dbi_resource_id());
    expect_code(
        &stack.run(&["plan", "blueprint.yaml", "--detailed-exitcode"]),
        0,
    );
}
