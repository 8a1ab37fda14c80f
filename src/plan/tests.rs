//! Planner tests: table cases and properties. `simulate` applies a plan to a live model the
//! way apply would — creates and replaces take the desired resource, updates patch only the
//! fields their diffs name — so "plan, apply, plan again is empty" checks that diffs are
//! complete, not just that the planner notices something.

use std::collections::BTreeSet;

use proptest::prelude::*;
use serde_json::{Map, Value};

use super::{Action, Change, Diff, Plan, PlanError, PlanOptions};
use crate::model::{Address, Kind, Live, LiveResource, Props, Tags, WafRule, WafStatement};
use crate::testing::{SEED, desired, fake_id, live_matching, plan};

/// The blueprint `text` with `from` replaced by `to`; the edit must apply, so a
/// reformatted sample cannot turn a test into one about an unchanged blueprint.
fn edited(text: &str, from: &str, to: &str) -> String {
    assert!(
        text.contains(from),
        "the blueprint no longer contains {from:?}"
    );
    text.replace(from, to)
}

fn address(s: &str) -> Address {
    s.parse().expect("address")
}

fn change<'a>(plan: &'a Plan, a: &str) -> &'a Change {
    plan.change(&address(a))
        .unwrap_or_else(|| panic!("no change for {a}"))
}

fn edit(live: &mut Live, a: &str, f: impl FnOnce(&mut LiveResource)) {
    f(live.resources.get_mut(&address(a)).expect("live resource"));
}

/// Applies a plan to the live model as apply would.
fn simulate(live: &Live, plan: &Plan) -> Live {
    let mut out = live.clone();
    for change in &plan.changes {
        match change.action {
            Action::Noop => {}
            Action::Delete => {
                out.resources.remove(&change.address);
            }
            Action::Create | Action::Replace => {
                let after = change.after.clone().expect("after");
                out.resources.insert(
                    change.address.clone(),
                    LiveResource {
                        address: after.address.clone(),
                        id: fake_id(&format!("new {}", after.address)),
                        arn: None,
                        props: crate::testing::as_discovered(&after.props),
                        tags: after.tags,
                        unmanaged: false,
                        unobserved: Default::default(),
                        pending: Vec::new(),
                    },
                );
            }
            Action::Update => {
                let current = out
                    .resources
                    .get_mut(&change.address)
                    .expect("updated resource exists");
                patch(current, &change.diffs);
            }
        }
    }
    out
}

/// Applies field diffs to one live resource's JSON form.
fn patch(resource: &mut LiveResource, diffs: &[Diff]) {
    let kind = resource.address.kind;
    let mut props = resource.props.to_value();
    let mut tags = serde_json::to_value(&resource.tags).expect("tags");
    for diff in diffs {
        let field = diff.field();
        let target = if field == "tags" {
            &mut tags
        } else {
            &mut props[field]
        };
        let shape = kind.field(field).expect("known field").shape;
        if let crate::model::Shape::Keyed(id) = shape {
            patch_keyed(target, id, field, diff);
            continue;
        }
        let key = diff.path[field.len()..].trim_start_matches('.');
        let key = key
            .strip_prefix('[')
            .and_then(|k| k.strip_suffix(']'))
            .map(|k| serde_json::from_str::<String>(k).expect("quoted key"))
            .unwrap_or_else(|| key.to_string());
        match shape {
            crate::model::Shape::Scalar => *target = diff.after.clone(),
            crate::model::Shape::Set => {
                let mut items: Vec<Value> = target.as_array().cloned().unwrap_or_default();
                if !diff.before.is_null() && diff.before != diff.after {
                    items.retain(|v| v != &diff.before);
                }
                if !diff.after.is_null() && !items.contains(&diff.after) {
                    items.push(diff.after.clone());
                }
                *target = Value::Array(items);
            }
            crate::model::Shape::Keyed(_) => unreachable!("handled above"),
            crate::model::Shape::Map => {
                if !target.is_object() {
                    *target = Value::Object(Map::new());
                }
                let map = target.as_object_mut().expect("object");
                if diff.after.is_null() {
                    map.remove(&key);
                } else {
                    map.insert(key, diff.after.clone());
                }
            }
        }
    }
    resource.props = Props::from_value(kind, props).expect("patched props");
    resource.tags = serde_json::from_value::<Tags>(tags).expect("patched tags");
}

/// Patches a list of records identified by `id`: a diff on the bare field adds or removes a
/// whole record; `rules.<name>.<field>` (or `rules["<name>"].<field>`) sets one field of one.
fn patch_keyed(target: &mut Value, id: &str, field: &str, diff: &Diff) {
    let mut items: Vec<Value> = target.as_array().cloned().unwrap_or_default();
    let rest = &diff.path[field.len()..];
    if rest.is_empty() {
        let key_of = |v: &Value| v.get(id).cloned();
        if !diff.before.is_null() {
            items.retain(|v| key_of(v) != key_of(&diff.before));
        }
        if !diff.after.is_null() {
            items.push(diff.after.clone());
        }
        *target = Value::Array(items);
        return;
    }
    let (key, sub) = if let Some(quoted) = rest.strip_prefix('[') {
        let end = quoted.find("\"].").expect("closing bracket");
        let key: String = serde_json::from_str(&quoted[..=end]).expect("quoted key");
        (key, quoted[end + 3..].to_string())
    } else {
        let (key, sub) = rest[1..].split_once('.').expect("record field");
        (key.to_string(), sub.to_string())
    };
    let record = items
        .iter_mut()
        .find(|v| v.get(id).and_then(Value::as_str) == Some(key.as_str()))
        .expect("record exists");
    let record = record.as_object_mut().expect("record is an object");
    if diff.after.is_null() {
        record.remove(&sub);
    } else {
        record.insert(sub, diff.after.clone());
    }
    *target = Value::Array(items);
}

/// Addresses whose live properties or tags differ from the desired ones, compared
/// directly (not through the planner), plus live resources nobody wants.
fn mismatches(desired: &crate::model::Desired, live: &Live) -> Vec<String> {
    let mut out = Vec::new();
    for (a, want) in &desired.resources {
        match live.resources.get(a) {
            None => out.push(format!("{a} missing")),
            Some(have) => {
                let tags: Tags = have
                    .tags
                    .iter()
                    .filter(|(k, _)| !k.starts_with("aws:"))
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect();
                let mut expected = crate::testing::as_discovered(&want.props);
                // An incident set's addresses are the responders' (`respond block-ip`).
                if let (Props::IpSet(expected), Props::IpSet(have)) = (&mut expected, &have.props)
                    && expected.incident
                {
                    expected.addresses = have.addresses.clone();
                }
                if have.props != expected || (a.kind.tags_compared() && tags != want.tags) {
                    out.push(format!("{a} differs"));
                }
            }
        }
    }
    out.extend(
        live.resources
            .keys()
            .filter(|a| !desired.resources.contains_key(a))
            .map(|a| format!("{a} extra")),
    );
    out
}

#[test]
fn an_empty_account_needs_every_resource_created() {
    let desired = desired(SEED);
    let plan = plan(&desired, &Live::default());
    assert_eq!(plan.summary.add, 66);
    assert!(plan.changes.iter().all(|c| c.action == Action::Create));
    let subnet = change(&plan, "subnet.app-az1");
    assert_eq!(subnet.depends_on, vec![address("vpc.main")]);
    let nat = change(&plan, "nat_gateway.public-az1");
    assert!(
        nat.depends_on.contains(&address("internet_gateway.main")),
        "{:?}",
        nat.depends_on
    );
    assert!(nat.depends_on.contains(&address("elastic_ip.public-az1")));
}

#[test]
fn a_matching_account_plans_nothing() {
    let desired = desired(SEED);
    let plan = plan(&desired, &live_matching(&desired));
    assert!(!plan.has_changes());
    assert_eq!(plan.changes.len(), 66);
    assert!(
        plan.changes
            .iter()
            .all(|c| c.action == Action::Noop && c.diffs.is_empty())
    );
}

#[test]
fn an_immutable_field_replaces_and_cascades() {
    let desired = desired(SEED);
    let mut live = live_matching(&desired);
    edit(&mut live, "subnet.public-az1", |r| {
        if let Props::Subnet(p) = &mut r.props {
            p.cidr = "10.0.3.0/24".parse().expect("cidr");
        }
    });
    let plan = plan(&desired, &live);
    let subnet = change(&plan, "subnet.public-az1");
    assert_eq!(subnet.action, Action::Replace);
    assert_eq!(
        subnet.reason.as_deref(),
        Some("cidr cannot change in place")
    );
    // The NAT gateway lives in that subnet: replaced too.
    let nat = change(&plan, "nat_gateway.public-az1");
    assert_eq!(nat.action, Action::Replace);
    assert_eq!(nat.reason.as_deref(), Some("subnet.public-az1 is replaced"));
    // Tables only link to them: their links are re-made.
    let public = change(&plan, "route_table.public");
    assert_eq!(public.action, Action::Update);
    assert!(
        public
            .diffs
            .iter()
            .any(|d| d.path == "subnets" && d.before == d.after)
    );
    let private = change(&plan, "route_table.private-a");
    assert_eq!(private.action, Action::Update);
    assert!(
        private
            .diffs
            .iter()
            .any(|d| d.path == "routes[\"0.0.0.0/0\"]")
    );
    assert_eq!(change(&plan, "route_table.private-b").action, Action::Noop);
    assert_eq!(change(&plan, "elastic_ip.public-az1").action, Action::Noop);
}

#[test]
fn destroy_keeps_what_a_protected_database_stands_on() {
    let empty = crate::model::Desired {
        stack: "api-platform".into(),
        ..Default::default()
    };
    let live = live_matching(&desired(SEED));
    let plan = plan(&empty, &live);
    let protected: Vec<&str> = plan
        .held()
        .filter(|c| {
            !c.held
                .as_deref()
                .unwrap_or_default()
                .contains("stands on it")
        })
        .map(|c| c.kind.as_str())
        .collect();
    assert_eq!(
        protected,
        [
            "log_group",
            "log_group",
            "log_group",
            "kms_key",
            "kms_key",
            "kms_key",
            "kms_key",
            "db_instance",
            "cache_replication_group",
            "s3_bucket"
        ],
        "the trail's, flow logs' and WAF's log groups, the four KMS keys, the database, \
         the cache and the audit log bucket are protected"
    );
    // The database's network, groups and parameters stay with it; so do the groups its
    // group's rules name (AWS refuses to delete a group another group's rule names).
    for kept in [
        "vpc.main",
        "subnet.data-az1",
        "subnet.data-az2",
        "db_subnet_group.main",
        "db_parameter_group.main",
        "security_group.rds",
        "security_group.ecs",
    ] {
        let c = change(&plan, kept);
        assert_eq!(c.action, Action::Noop, "{kept}");
        assert!(
            c.held.as_deref().is_some_and(|h| h.starts_with(
                "deletion held: db_instance.main stands on it and is kept (deletion held: \
                 db_instance.main has deletion protection on"
            ) && h.contains("--allow-delete db_instance.main")),
            "{kept}: {:?}",
            c.held
        );
    }
    for gone in [
        "nat_gateway.public-az1",
        "subnet.public-az1",
        "route_table.private-a",
        "secret.api-keys",
    ] {
        assert_eq!(change(&plan, gone).action, Action::Delete, "{gone}");
    }
    for c in plan.held() {
        assert_eq!(c.action, Action::Noop);
    }
    // Nothing deleted is still needed by what is kept.
    let kept: BTreeSet<&Address> = plan
        .changes
        .iter()
        .filter(|c| c.action != Action::Delete)
        .map(|c| &c.address)
        .collect();
    for c in plan.changes.iter().filter(|c| c.action == Action::Noop) {
        let before = &c.before.as_ref().expect("live").props;
        for needed in before.requires().iter().chain(&before.links()) {
            assert!(kept.contains(needed), "{} needs {needed}", c.address);
        }
    }
}

#[test]
fn a_replacement_the_database_would_follow_is_held_whole() {
    let desired = desired(SEED);
    let mut live = live_matching(&desired);
    edit(&mut live, "vpc.main", |r| {
        if let Props::Vpc(p) = &mut r.props {
            p.cidr = "10.1.0.0/16".parse().expect("cidr");
        }
    });
    let held = plan(&desired, &live);
    assert_eq!(held.actionable().count(), 0, "nothing half done");
    assert_eq!(held.summary.held, 1);
    let vpc = change(&held, "vpc.main");
    assert!(
        vpc.held.as_deref().is_some_and(|h| h.starts_with(
            "replacement held: db_instance.main stands on it and is kept (replacement held: \
             db_instance.main has deletion protection on"
        )),
        "{:?}",
        vpc.held
    );

    // A subnet the database's subnet group lists: the same.
    let mut live = live_matching(&desired);
    edit(&mut live, "subnet.data-az1", |r| {
        if let Props::Subnet(p) = &mut r.props {
            p.cidr = "10.0.99.0/24".parse().expect("cidr");
        }
    });
    let held = plan(&desired, &live);
    assert_eq!(held.actionable().count(), 0);
    assert!(change(&held, "subnet.data-az1").held.is_some());
}

#[test]
fn replacing_the_vpc_replaces_everything_inside_it() {
    let desired = desired(SEED);
    let mut live = live_matching(&desired);
    edit(&mut live, "vpc.main", |r| {
        if let Props::Vpc(p) = &mut r.props {
            p.cidr = "10.1.0.0/16".parse().expect("cidr");
        }
    });
    let everything = PlanOptions {
        allow_delete_protected: true,
        ..Default::default()
    };
    let plan = crate::testing::plan_with(&desired, &live, &everything);
    for c in &plan.changes {
        let expected = match c.kind {
            Kind::ElasticIp
            | Kind::LogGroup
            | Kind::IamRole
            | Kind::KmsKey
            | Kind::Secret
            | Kind::IpSet
            | Kind::WebAcl
            | Kind::DbParameterGroup
            | Kind::S3Bucket
            | Kind::Trail
            | Kind::GuarddutyDetector
            | Kind::SecurityHub
            | Kind::SnsTopic
            | Kind::MetricFilter
            | Kind::Alarm => Action::Noop,
            _ => Action::Replace,
        };
        assert_eq!(c.action, expected, "{}", c.address);
    }
}

#[test]
fn a_replaced_group_is_made_under_a_new_name_and_the_database_moves_to_it() {
    let desired = desired(SEED);
    let mut live = live_matching(&desired);
    edit(&mut live, "security_group.rds", |r| {
        if let Props::SecurityGroup(p) = &mut r.props {
            p.description = "old".into();
        }
    });
    let plan = plan(&desired, &live);
    let rds = change(&plan, "security_group.rds");
    assert_eq!(rds.action, Action::Replace);
    assert!(rds.held.is_none());
    let Some(Props::SecurityGroup(new)) = rds.after.as_ref().map(|a| &a.props) else {
        panic!("group");
    };
    let renamed = &new.group_name;
    assert!(
        renamed.starts_with("api-platform-rds-") && renamed.len() == 25,
        "{renamed}"
    );
    assert_eq!(rds.diffs[0].path, "group_name");
    assert_eq!(rds.diffs[0].after, Value::String(renamed.clone()));
    let db = change(&plan, "db_instance.main");
    assert_eq!(db.action, Action::Update, "moved, not replaced");
    assert_eq!(
        db.reason.as_deref(),
        Some("re-points to security_group.rds, which is replaced")
    );
    assert_eq!(plan.summary.held, 0);

    // Applied: the suffixed name reads as the blueprint's, and nothing is left to do.
    let after = simulate(&live, &plan);
    let group = &after.resources[&address("security_group.rds")];
    let Props::SecurityGroup(p) = &group.props else {
        panic!("group");
    };
    assert_eq!(&p.group_name, renamed);
    assert!(
        !super::diff::diff(
            &desired,
            &after,
            "us-east-1",
            plan.blueprint.clone(),
            &PlanOptions::default()
        )
        .expect("plan")
        .has_changes()
    );

    // Replaced again, it takes another name.
    edit(&mut live, "security_group.rds", |r| {
        r.id = "sg-another".into()
    });
    let again = crate::testing::plan(&desired, &live);
    let Some(Props::SecurityGroup(other)) = change(&again, "security_group.rds")
        .after
        .as_ref()
        .map(|a| &a.props)
    else {
        panic!("group");
    };
    assert_ne!(&other.group_name, renamed);
}

#[test]
fn resources_missing_from_the_blueprint_are_deleted() {
    let desired = desired(SEED);
    let mut live = live_matching(&desired);
    let mut extra = live.resources[&address("subnet.data-az2")].clone();
    extra.address = address("subnet.old");
    extra.id = "subnet-old".into();
    live.resources.insert(extra.address.clone(), extra);
    let plan = plan(&desired, &live);
    let old = change(&plan, "subnet.old");
    assert_eq!(old.action, Action::Delete);
    assert_eq!(old.reason.as_deref(), Some("not in the blueprint"));
    assert_eq!(plan.summary.destroy, 1);
}

#[test]
fn security_group_rules_are_sets() {
    let desired = desired(SEED);
    let mut live = live_matching(&desired);
    edit(&mut live, "security_group.rds", |r| {
        if let Props::SecurityGroup(p) = &mut r.props {
            p.ingress
                .insert("tcp 5432 from 0.0.0.0/0".parse().expect("rule"));
        }
    });
    let plan = plan(&desired, &live);
    let rds = change(&plan, "security_group.rds");
    assert_eq!(rds.action, Action::Update);
    assert_eq!(rds.diffs.len(), 1);
    assert_eq!(rds.diffs[0].path, "ingress");
    assert_eq!(
        rds.diffs[0].before,
        serde_json::json!({ "protocol": "tcp", "from_port": 5432, "to_port": 5432, "source": "0.0.0.0/0" })
    );
    assert_eq!(rds.diffs[0].after, Value::Null);
}

#[test]
fn tags_differ_key_by_key_and_aws_tags_are_ignored() {
    let desired = desired(SEED);
    let mut live = live_matching(&desired);
    edit(&mut live, "vpc.main", |r| {
        r.tags.insert("Owner".into(), "someone".into());
        r.tags
            .insert("aws:cloudformation:stack-name".into(), "x".into());
    });
    let plan = plan(&desired, &live);
    let vpc = change(&plan, "vpc.main");
    assert_eq!(vpc.action, Action::Update);
    assert_eq!(vpc.diffs.len(), 1);
    assert_eq!(vpc.diffs[0].path, "tags.Owner");
    assert_eq!(vpc.diffs[0].before, "someone");
    assert_eq!(vpc.diffs[0].after, "platform");
}

#[test]
fn another_stacks_resources_are_refused_even_with_adopt() {
    let desired = desired(SEED);
    let mut live = live_matching(&desired);
    edit(&mut live, "log_group.flow-logs", |r| {
        r.unmanaged = true;
        r.tags
            .insert(crate::model::TAG_STACK.into(), "billing".into());
    });
    for adopt in [false, true] {
        let refused = crate::plan::diff(
            &desired,
            &live,
            "us-east-1",
            super::BlueprintRef {
                path: "t".into(),
                env: None,
                hash: String::new(),
            },
            &PlanOptions {
                adopt,
                ..Default::default()
            },
        );
        let Err(err @ PlanError::OtherStack(_)) = refused else {
            panic!("refused, adopt={adopt}: {refused:?}");
        };
        let text = err.to_string();
        assert!(
            text.contains("log_group.flow-logs") && text.contains("stack `billing`"),
            "{text}"
        );
    }
}

#[test]
fn unmanaged_resources_are_refused_unless_adopted() {
    let desired = desired(SEED);
    let mut live = live_matching(&desired);
    edit(&mut live, "log_group.flow-logs", |r| {
        r.unmanaged = true;
        r.tags.clear();
    });
    let refused = crate::plan::diff(
        &desired,
        &live,
        "us-east-1",
        super::BlueprintRef {
            path: "t".into(),
            env: None,
            hash: String::new(),
        },
        &PlanOptions::default(),
    );
    assert!(
        matches!(refused, Err(PlanError::Unmanaged(ref found)) if found[0].0 == address("log_group.flow-logs"))
    );
    let adopted = crate::plan::diff(
        &desired,
        &live,
        "us-east-1",
        super::BlueprintRef {
            path: "t".into(),
            env: None,
            hash: String::new(),
        },
        &PlanOptions {
            adopt: true,
            ..Default::default()
        },
    )
    .expect("adopt");
    let group = change(&adopted, "log_group.flow-logs");
    assert_eq!(group.action, Action::Update);
    assert!(
        group
            .reason
            .as_deref()
            .is_some_and(|r| r.starts_with("adopt existing"))
    );
    assert!(
        group
            .diffs
            .iter()
            .any(|d| d.path == "tags[\"secinfra:stack\"]")
    );
}

#[test]
fn deletes_wait_for_live_dependents() {
    let empty = crate::model::Desired {
        stack: "api-platform".into(),
        ..Default::default()
    };
    let live = live_matching(&desired(SEED));
    let everything = PlanOptions {
        allow_delete_protected: true,
        ..Default::default()
    };
    let plan = crate::testing::plan_with(&empty, &live, &everything);
    assert_eq!(plan.summary.destroy, 66);
    assert_eq!(plan.summary.held, 0);
    let vpc = change(&plan, "vpc.main");
    for dependent in [
        "subnet.app-az1",
        "security_group.alb",
        "route_table.public",
        "flow_log.vpc",
        "internet_gateway.main",
    ] {
        assert!(
            vpc.depends_on.contains(&address(dependent)),
            "vpc delete waits for {dependent}"
        );
    }
}

/// Mutations a live account can suffer, each applied to a perfectly matching one.
#[derive(Clone, Debug)]
enum Mutation {
    Remove(usize),
    FlipDns(bool),
    ExtraRule(usize, u16),
    DropRule(usize),
    RetargetRoute(usize),
    DropAssociation(usize),
    TagValue(usize, String),
    ExtraTag(usize),
    SubnetCidr(usize),
    Retention(i32),
    ExtraResource(usize),
    KeyRotationOff(usize),
    KeyPendingDeletion(usize),
    KeySpec(usize),
    AliasDropped(usize),
    SecretRotationDays(usize, i64),
    SecretDeleted(usize),
    WafRuleDropped(usize),
    WafRateLimit(i64),
    WafRuleRewritten(usize),
    IpSetAddress(u8),
    DbBackupRetention(i32),
    DbParameter(String),
    CacheNodes(i32),
    CacheEncryptionKeyLost,
    TrailStopped(bool),
    BucketBlockLifted(usize),
    DetectorFeature(usize, bool),
    /// A standard unsubscribed out of band (or, with `true`, controls no longer auto-enabled).
    HubStandardDropped(usize, bool),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        (0..64usize).prop_map(Mutation::Remove),
        any::<bool>().prop_map(Mutation::FlipDns),
        (0..64usize, 1..65535u16).prop_map(|(i, p)| Mutation::ExtraRule(i, p)),
        (0..64usize).prop_map(Mutation::DropRule),
        (0..64usize).prop_map(Mutation::RetargetRoute),
        (0..64usize).prop_map(Mutation::DropAssociation),
        (0..64usize, "[a-z]{1,8}").prop_map(|(i, v)| Mutation::TagValue(i, v)),
        (0..64usize).prop_map(Mutation::ExtraTag),
        (0..64usize).prop_map(Mutation::SubnetCidr),
        prop_oneof![Just(1), Just(30), Just(365)].prop_map(Mutation::Retention),
        (0..64usize).prop_map(Mutation::ExtraResource),
        (0..64usize).prop_map(Mutation::KeyRotationOff),
        (0..64usize).prop_map(Mutation::KeyPendingDeletion),
        (0..64usize).prop_map(Mutation::KeySpec),
        (0..64usize).prop_map(Mutation::AliasDropped),
        (0..64usize, 1..1000i64).prop_map(|(i, d)| Mutation::SecretRotationDays(i, d)),
        (0..64usize).prop_map(Mutation::SecretDeleted),
        (0..64usize).prop_map(Mutation::WafRuleDropped),
        (10..100_000i64).prop_map(Mutation::WafRateLimit),
        (0..64usize).prop_map(Mutation::WafRuleRewritten),
        any::<u8>().prop_map(Mutation::IpSetAddress),
        (0..35i32).prop_map(Mutation::DbBackupRetention),
        "[a-z_]{1,12}".prop_map(Mutation::DbParameter),
        (1..6i32).prop_map(Mutation::CacheNodes),
        Just(Mutation::CacheEncryptionKeyLost),
        any::<bool>().prop_map(Mutation::TrailStopped),
        (0..4usize).prop_map(Mutation::BucketBlockLifted),
        (0..7usize, any::<bool>()).prop_map(|(i, on)| Mutation::DetectorFeature(i, on)),
        (0..4usize, any::<bool>()).prop_map(|(i, c)| Mutation::HubStandardDropped(i, c)),
    ]
}

fn nth_of(live: &Live, kind: Option<Kind>, i: usize) -> Option<Address> {
    let candidates: Vec<&Address> = live
        .resources
        .keys()
        .filter(|a| kind.is_none_or(|k| a.kind == k))
        .collect();
    (!candidates.is_empty()).then(|| candidates[i % candidates.len()].clone())
}

fn web_acl(live: &mut Live) -> Option<&mut crate::model::WebAclProps> {
    let a = nth_of(live, Some(Kind::WebAcl), 0)?;
    match &mut live.resources.get_mut(&a)?.props {
        Props::WebAcl(p) => Some(p),
        _ => None,
    }
}

fn mutate(live: &mut Live, m: &Mutation) {
    let pick = |live: &Live, kind, i| nth_of(live, kind, i);
    match m {
        Mutation::Remove(i) => {
            if let Some(a) = pick(live, None, *i) {
                live.resources.remove(&a);
            }
        }
        Mutation::FlipDns(support) => {
            if let Some(r) = live
                .resources
                .get_mut(&"vpc.main".parse().expect("address"))
                && let Props::Vpc(p) = &mut r.props
            {
                if *support {
                    p.dns_support = !p.dns_support;
                } else {
                    p.dns_hostnames = !p.dns_hostnames;
                }
            }
        }
        Mutation::ExtraRule(i, port) => {
            if let Some(a) = pick(live, Some(Kind::SecurityGroup), *i)
                && let Props::SecurityGroup(p) =
                    &mut live.resources.get_mut(&a).expect("live").props
            {
                p.ingress
                    .insert(format!("tcp {port} from 0.0.0.0/0").parse().expect("rule"));
            }
        }
        Mutation::DropRule(i) => {
            if let Some(a) = pick(live, Some(Kind::SecurityGroup), *i)
                && let Props::SecurityGroup(p) =
                    &mut live.resources.get_mut(&a).expect("live").props
                && let Some(first) = p.egress.iter().next().cloned()
            {
                p.egress.remove(&first);
            }
        }
        Mutation::RetargetRoute(i) => {
            if let Some(a) = pick(live, Some(Kind::RouteTable), *i)
                && let Props::RouteTable(p) = &mut live.resources.get_mut(&a).expect("live").props
            {
                p.routes.insert(
                    "0.0.0.0/0".into(),
                    crate::model::Ref::External("igw-elsewhere".into()),
                );
            }
        }
        Mutation::DropAssociation(i) => {
            if let Some(a) = pick(live, Some(Kind::RouteTable), *i)
                && let Props::RouteTable(p) = &mut live.resources.get_mut(&a).expect("live").props
                && let Some(first) = p.subnets.iter().next().cloned()
            {
                p.subnets.remove(&first);
            }
        }
        Mutation::TagValue(i, value) => {
            if let Some(a) = pick(live, None, *i) {
                live.resources
                    .get_mut(&a)
                    .expect("live")
                    .tags
                    .insert("Owner".into(), value.clone());
            }
        }
        Mutation::ExtraTag(i) => {
            if let Some(a) = pick(live, None, *i) {
                live.resources
                    .get_mut(&a)
                    .expect("live")
                    .tags
                    .insert("added-by-hand".into(), "yes".into());
            }
        }
        Mutation::SubnetCidr(i) => {
            if let Some(a) = pick(live, Some(Kind::Subnet), *i)
                && let Props::Subnet(p) = &mut live.resources.get_mut(&a).expect("live").props
            {
                p.cidr = "10.0.99.0/24".parse().expect("cidr");
            }
        }
        Mutation::Retention(days) => {
            if let Some(a) = pick(live, Some(Kind::LogGroup), 0)
                && let Props::LogGroup(p) = &mut live.resources.get_mut(&a).expect("live").props
            {
                p.retention_days = Some(*days);
            }
        }
        Mutation::KeyRotationOff(i) => {
            if let Some(a) = pick(live, Some(Kind::KmsKey), *i)
                && let Props::KmsKey(p) = &mut live.resources.get_mut(&a).expect("live").props
            {
                p.rotation_enabled = false;
                p.rotation_period_days = None;
            }
        }
        Mutation::KeyPendingDeletion(i) => {
            if let Some(a) = pick(live, Some(Kind::KmsKey), *i)
                && let Props::KmsKey(p) = &mut live.resources.get_mut(&a).expect("live").props
            {
                p.state = "PendingDeletion".into();
                p.rotation_enabled = false;
                p.rotation_period_days = None;
            }
        }
        Mutation::KeySpec(i) => {
            if let Some(a) = pick(live, Some(Kind::KmsKey), *i)
                && let Props::KmsKey(p) = &mut live.resources.get_mut(&a).expect("live").props
            {
                p.key_spec = "RSA_2048".into();
            }
        }
        Mutation::AliasDropped(i) => {
            if let Some(a) = pick(live, Some(Kind::KmsKey), *i)
                && let Props::KmsKey(p) = &mut live.resources.get_mut(&a).expect("live").props
            {
                p.aliases.clear();
            }
        }
        Mutation::SecretRotationDays(i, days) => {
            if let Some(a) = pick(live, Some(Kind::Secret), *i)
                && let Props::Secret(p) = &mut live.resources.get_mut(&a).expect("live").props
            {
                p.rotation_enabled = true;
                p.rotation_every_days = Some(*days);
            }
        }
        Mutation::SecretDeleted(i) => {
            if let Some(a) = pick(live, Some(Kind::Secret), *i)
                && let Props::Secret(p) = &mut live.resources.get_mut(&a).expect("live").props
            {
                p.state = "scheduled for deletion".into();
            }
        }
        Mutation::WafRuleDropped(i) => {
            if let Some(p) = web_acl(live)
                && let Some(rule) = p.rules.iter().nth(i % p.rules.len().max(1)).cloned()
            {
                p.rules.remove(&rule);
            }
        }
        Mutation::WafRateLimit(limit) => {
            if let Some(p) = web_acl(live) {
                p.rules = std::mem::take(&mut p.rules)
                    .into_iter()
                    .map(|mut rule| {
                        if let WafStatement::RateLimit { limit: l, .. } = &mut rule.statement {
                            *l = *limit;
                        }
                        rule
                    })
                    .collect();
            }
        }
        Mutation::WafRuleRewritten(i) => {
            if let Some(p) = web_acl(live)
                && let Some(rule) = p.rules.iter().nth(i % p.rules.len().max(1)).cloned()
            {
                p.rules.remove(&rule);
                p.rules.insert(WafRule {
                    statement: WafStatement::Other {
                        summary: "byte match on a header".into(),
                    },
                    action: "count".into(),
                    ..rule
                });
            }
        }
        Mutation::IpSetAddress(octet) => {
            if let Some(a) = pick(live, Some(Kind::IpSet), 0)
                && let Props::IpSet(p) = &mut live.resources.get_mut(&a).expect("live").props
            {
                p.addresses.insert(format!("198.51.100.{octet}/32"));
            }
        }
        Mutation::DbBackupRetention(days) => {
            if let Some(a) = pick(live, Some(Kind::DbInstance), 0)
                && let Props::DbInstance(p) = &mut live.resources.get_mut(&a).expect("live").props
            {
                p.backup_retention_days = *days;
            }
        }
        Mutation::TrailStopped(validation_too) => {
            if let Some(a) = pick(live, Some(Kind::Trail), 0)
                && let Props::Trail(p) = &mut live.resources.get_mut(&a).expect("live").props
            {
                p.logging = false;
                p.log_file_validation &= !validation_too;
            }
        }
        Mutation::BucketBlockLifted(which) => {
            if let Some(a) = pick(live, Some(Kind::S3Bucket), 0)
                && let Props::S3Bucket(p) = &mut live.resources.get_mut(&a).expect("live").props
            {
                *[
                    &mut p.block_public_acls,
                    &mut p.ignore_public_acls,
                    &mut p.block_public_policy,
                    &mut p.restrict_public_buckets,
                ][which % 4] = false;
            }
        }
        Mutation::DetectorFeature(which, on) => {
            if let Some(a) = pick(live, Some(Kind::GuarddutyDetector), 0)
                && let Props::GuarddutyDetector(p) =
                    &mut live.resources.get_mut(&a).expect("live").props
                && let Some(flag) = p.features.values_mut().nth(which % 7)
            {
                *flag = *on;
                p.enabled = !on;
            }
        }
        Mutation::HubStandardDropped(which, controls_too) => {
            if let Some(a) = pick(live, Some(Kind::SecurityHub), 0)
                && let Props::SecurityHub(p) = &mut live.resources.get_mut(&a).expect("live").props
            {
                if let Some(standard) = p.standards.iter().nth(which % p.standards.len().max(1)) {
                    let standard = standard.clone();
                    p.standards.remove(&standard);
                }
                p.auto_enable_controls &= !controls_too;
            }
        }
        Mutation::DbParameter(name) => {
            if let Some(a) = pick(live, Some(Kind::DbParameterGroup), 0)
                && let Props::DbParameterGroup(p) =
                    &mut live.resources.get_mut(&a).expect("live").props
            {
                p.parameters.insert(name.clone(), "0".into());
            }
        }
        Mutation::CacheNodes(nodes) => {
            if let Some(a) = pick(live, Some(Kind::CacheReplicationGroup), 0)
                && let Props::CacheReplicationGroup(p) =
                    &mut live.resources.get_mut(&a).expect("live").props
            {
                p.nodes = *nodes;
            }
        }
        Mutation::CacheEncryptionKeyLost => {
            if let Some(a) = pick(live, Some(Kind::CacheReplicationGroup), 0)
                && let Props::CacheReplicationGroup(p) =
                    &mut live.resources.get_mut(&a).expect("live").props
            {
                p.kms_key = None;
            }
        }
        Mutation::ExtraResource(i) => {
            if let Some(a) = pick(live, None, *i) {
                let mut extra = live.resources[&a].clone();
                extra.address =
                    crate::aws::tags::orphan_address(a.kind, &format!("{}-twin", extra.id));
                extra.id = format!("{}-twin", extra.id);
                live.resources.insert(extra.address.clone(), extra);
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, .. ProptestConfig::default() })]

    /// Whatever happened to the account, applying the plan converges: a second plan is empty.
    #[test]
    fn applying_a_plan_converges(mutations in proptest::collection::vec(mutation(), 0..6)) {
        let desired = desired(SEED);
        let mut live = live_matching(&desired);
        for m in &mutations {
            mutate(&mut live, m);
        }
                // Twins of protected keys would be held, correctly; convergence is about the rest.
        let options = PlanOptions { allow_delete_protected: true, ..Default::default() };
        let first = crate::testing::plan_with(&desired, &live, &options);
        let after = simulate(&live, &first);
        let second = crate::testing::plan_with(&desired, &after, &options);
        let leftover: Vec<String> = second.actionable().map(|c| format!("{} {} {:?}", c.action, c.address, c.diffs)).collect();
        prop_assert!(leftover.is_empty(), "not converged after {:?}: {:?}", mutations, leftover);
        // Independent of the diff: the account now holds exactly the desired resources.
        let mismatched = mismatches(&desired, &after);
        prop_assert!(mismatched.is_empty(), "after {:?} the account still differs: {:?}", mutations, mismatched);
        // And the apply steps of the first plan are acyclic.
        prop_assert!(crate::apply::ops::tests::is_acyclic(&crate::apply::ops::build(&first)));
    }

    /// Rule order in the blueprint never matters.
    #[test]
    fn rule_order_never_matters(seed in any::<u64>()) {
        let rules = [
            "{ port: 443, to: 0.0.0.0/0 }",
            "{ port: 5432, to: security_group.rds }",
            "{ port: 6379, to: security_group.redis }",
        ];
        let mut order: Vec<usize> = (0..rules.len()).collect();
        // A deterministic shuffle from the seed.
        let mut state = seed;
        for i in (1..order.len()).rev() {
            state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            order.swap(i, (state >> 33) as usize % (i + 1));
        }
        let original = "      - { port: 443, to: 0.0.0.0/0 } # AWS APIs, image pulls, Auth0 (through NAT)\n      - { port: 5432, to: security_group.rds }\n      - { port: 6379, to: security_group.redis }\n";
        prop_assert!(SEED.contains(original));
        let block: String = order.iter().map(|i| format!("      - {}\n", rules[*i])).collect();
        let reordered = edited(SEED, original, &block);
        let a = desired(SEED);
        let b = desired(&reordered);
        prop_assert_eq!(&a, &b);
        let live = live_matching(&a);
        prop_assert!(!plan(&b, &live).has_changes());
    }
}

#[test]
fn a_secret_is_generated_once_and_never_again() {
    let original = desired(SEED);
    let created = plan(&original, &Live::default());
    let db = change(&created, "secret.db-master-credentials");
    let value = db
        .diffs
        .iter()
        .find(|d| d.path == "initial_value")
        .expect("the recipe is shown at create");
    assert!(value.sensitive);
    assert_eq!(value.after["generate"], "password");
    // A new recipe in the blueprint does not touch an existing secret.
    let changed = desired(&edited(
        SEED,
        "length: 32, username: api",
        "length: 64, username: api",
    ));
    let plan = plan(&changed, &live_matching(&original));
    assert_eq!(
        change(&plan, "secret.db-master-credentials").action,
        Action::Noop
    );
}

#[test]
fn duplicate_kinds_order_changes_for_reading() {
    let desired = desired(SEED);
    let plan = plan(&desired, &Live::default());
    let kinds: Vec<Kind> = plan.changes.iter().map(|c| c.kind).collect();
    let mut sorted = kinds.clone();
    sorted.sort_by_key(|k| Kind::ALL.iter().position(|x| x == k));
    assert_eq!(
        kinds, sorted,
        "changes are grouped by kind in creation order"
    );
    let unique: BTreeSet<&Address> = plan.changes.iter().map(|c| &c.address).collect();
    assert_eq!(unique.len(), plan.changes.len());
}

#[test]
fn a_database_replacement_is_held_while_deletion_protection_is_on() {
    let desired = desired(SEED);
    let mut live = live_matching(&desired);
    edit(&mut live, "db_instance.main", |r| {
        if let Props::DbInstance(p) = &mut r.props {
            p.kms_key = Some(crate::model::Ref::External(
                "arn:aws:kms:us-east-1:123456789012:key/another".into(),
            ));
        }
    });
    let held = plan(&desired, &live);
    let db = change(&held, "db_instance.main");
    assert_eq!(db.action, Action::Noop);
    assert!(
        db.held.as_deref().is_some_and(|h| h
            .contains("replacement held: db_instance.main has deletion protection on")
            && h.contains("--allow-delete db_instance.main")),
        "{:?}",
        db.held
    );
    assert_eq!(held.summary.held, 1);
    assert_eq!(held.actionable().count(), 0, "nothing else changes");

    let options = PlanOptions {
        allow_delete_protected: true,
        ..Default::default()
    };
    let allowed = crate::testing::plan_with(&desired, &live, &options);
    let db = change(&allowed, "db_instance.main");
    assert_eq!(db.action, Action::Replace);
    assert_eq!(db.reason.as_deref(), Some("kms_key cannot change in place"));

    // Protection off on the live database: the replacement is planned without the flag.
    edit(&mut live, "db_instance.main", |r| {
        if let Props::DbInstance(p) = &mut r.props {
            p.deletion_protection = false;
        }
    });
    let unprotected = plan(&desired, &live);
    assert_eq!(
        change(&unprotected, "db_instance.main").action,
        Action::Replace
    );
}

#[test]
fn fields_aws_did_not_report_are_not_compared() {
    let desired = desired(SEED);
    let mut live = live_matching(&desired);
    edit(&mut live, "cache_replication_group.sessions", |r| {
        if let Props::CacheReplicationGroup(p) = &mut r.props {
            p.security_groups.clear();
            p.engine_version = String::new();
        }
        r.unobserved = ["security_groups", "engine_version"]
            .map(String::from)
            .into();
    });
    assert!(!plan(&desired, &live).has_changes());
    // Observed again, the same values differ.
    edit(&mut live, "cache_replication_group.sessions", |r| {
        r.unobserved.clear()
    });
    let plan = plan(&desired, &live);
    let cache = change(&plan, "cache_replication_group.sessions");
    let fields: Vec<&str> = cache.diffs.iter().map(|d| d.field()).collect();
    assert_eq!(fields, ["engine_version", "security_groups"]);
}

/// Routes another team added to a stack's route table (a gateway VPC endpoint's prefix
/// list, a peering connection) are not the stack's: no plan removes them, unless the
/// blueprint says `exclusive_routes: true`. A default route the tier must not have still
/// goes (an isolated subnet never reaches the internet).
#[test]
fn route_tables_own_only_their_routes_unless_exclusive() {
    let desired = desired(SEED);
    let mut live = live_matching(&desired);
    let private = "route_table.private-a";
    edit(&mut live, private, |r| {
        if let Props::RouteTable(p) = &mut r.props {
            p.routes.insert(
                "pl-63a5400a".into(),
                crate::model::Ref::External("vpce-0a1b2c3d".into()),
            );
            p.routes.insert(
                "172.16.0.0/16".into(),
                crate::model::Ref::External("pcx-0a1b2c3d".into()),
            );
        }
    });
    edit(&mut live, "route_table.isolated", |r| {
        if let Props::RouteTable(p) = &mut r.props {
            p.routes.insert(
                "0.0.0.0/0".into(),
                crate::model::Ref::External("igw-rogue".into()),
            );
        }
    });
    let plan = plan(&desired, &live);
    assert_eq!(
        change(&plan, private).action,
        Action::Noop,
        "{:?}",
        change(&plan, private).diffs
    );
    let isolated = change(&plan, "route_table.isolated");
    assert_eq!(isolated.action, Action::Update);
    assert!(
        isolated.diffs.iter().all(|d| d.path.contains("0.0.0.0/0")),
        "{:?}",
        isolated.diffs
    );

    let exclusive = crate::testing::desired(&edited(
        SEED,
        "  nat: per_az",
        "  exclusive_routes: true\n  nat: per_az",
    ));
    let plan = crate::testing::plan(&exclusive, &live);
    let private = change(&plan, private);
    assert_eq!(private.action, Action::Update);
    let removed: BTreeSet<&str> = private.diffs.iter().map(|d| d.path.as_str()).collect();
    assert!(
        removed.iter().any(|p| p.contains("pl-63a5400a"))
            && removed.iter().any(|p| p.contains("172.16.0.0/16")),
        "{removed:?}"
    );
    assert_eq!(removed.len(), 2, "{removed:?}");
}

#[test]
fn a_major_engine_upgrade_keeps_the_database_and_makes_its_new_parameter_group_first() {
    let live = live_matching(&desired(SEED));
    let upgraded = edited(
        SEED,
        "    engine_version: \"16\"",
        "    engine_version: \"17\"",
    );
    assert_ne!(upgraded, SEED, "the seed's engine version line");
    let desired = desired(&upgraded);
    let plan = plan(&desired, &live);
    assert_eq!(plan.summary.held, 0);
    let db = change(&plan, "db_instance.main");
    assert_eq!(db.action, Action::Update);
    assert_eq!(
        db.reason.as_deref(),
        Some("upgrade in place: engine 16 → 17")
    );
    let group = change(&plan, "db_parameter_group.main");
    assert_eq!(group.action, Action::Replace);
    let Some(Props::DbParameterGroup(new)) = group.after.as_ref().map(|a| &a.props) else {
        panic!("parameter group");
    };
    assert_eq!(new.family, "postgres17");
    assert!(new.name.starts_with("api-platform-main-"), "{}", new.name);
    let graph = crate::apply::ops::build(&plan);
    let op = |a: &str, step| crate::apply::ops::Op {
        address: address(a),
        step,
    };
    use crate::apply::ops::Step;
    let waits = |this: &crate::apply::ops::Op, on: &crate::apply::ops::Op| {
        graph.deps.get(this).is_some_and(|d| d.contains(on))
    };
    assert!(waits(
        &op("db_instance.main", Step::Update),
        &op("db_parameter_group.main", Step::Create)
    ));
    assert!(waits(
        &op("db_parameter_group.main", Step::Delete),
        &op("db_instance.main", Step::Update)
    ));
    assert!(!waits(
        &op("db_parameter_group.main", Step::Create),
        &op("db_parameter_group.main", Step::Delete)
    ));
    let after = simulate(&live, &plan);
    assert!(
        !crate::testing::plan(&desired, &after).has_changes(),
        "applied, nothing left"
    );
}

#[test]
fn a_cache_and_the_audit_log_groups_are_held_unless_marked_unprotected() {
    let seed = desired(SEED);
    let live = live_matching(&seed);
    // Renaming the flow-log group would delete the records in it; the cache's engine
    // cannot change in place.
    let renamed = edited(
        SEED,
        "log_group: /secinfra/api-platform/flow-logs",
        "log_group: /secinfra/api-platform/vpc-flow-logs",
    );
    let moved = plan(&desired(&renamed), &live);
    let group = change(&moved, "log_group.flow-logs");
    assert_eq!(group.action, Action::Noop, "{group:?}");
    assert!(
        group.held.as_deref().is_some_and(|h| h.starts_with(
            "replacement held: log_group.flow-logs is protected (set `protect: false`"
        )),
        "{:?}",
        group.held
    );
    // The flow log keeps writing to the group it has.
    assert_eq!(change(&moved, "flow_log.vpc").action, Action::Noop);

    let unprotected = edited(
        &edited(
            SEED,
            "    auth_token: secret.redis-auth-token\n",
            "    auth_token: secret.redis-auth-token\n    protect: false\n",
        ),
        "    kms_key: kms_key.s3 # encrypted at rest, like every log",
        "    protect: false\n    kms_key: kms_key.s3 # encrypted at rest, like every log",
    );
    let unprotected = desired(&unprotected);
    let cache = address("cache_replication_group.sessions");
    assert_eq!(
        unprotected.resources[&cache].tags.get("secinfra:protect"),
        Some(&"false".to_string())
    );
    // Applied, the marks are on the live resources; then the cache and the flow-log group
    // may go.
    let live = live_matching(&unprotected);
    let mut gone = unprotected.clone();
    gone.resources.retain(|a, _| {
        !matches!(
            a.to_string().as_str(),
            "cache_replication_group.sessions" | "flow_log.vpc" | "log_group.flow-logs"
        )
    });
    let removed = plan(&gone, &live);
    for address in ["cache_replication_group.sessions", "log_group.flow-logs"] {
        let c = change(&removed, address);
        assert_eq!(c.action, Action::Delete, "{address}");
        assert_eq!(c.held, None, "{address}");
    }
    // The seed's cache, unmarked, is held.
    let mut seed_gone = seed.clone();
    seed_gone.resources.remove(&cache);
    let held = plan(&seed_gone, &live_matching(&seed));
    assert!(
        change(&held, "cache_replication_group.sessions")
            .held
            .as_deref()
            .is_some_and(
                |h| h.starts_with("deletion held: cache_replication_group.sessions is protected")
            )
    );
}

#[test]
fn an_adopted_resource_is_marked_and_never_replaced_or_deleted_without_the_flag() {
    let desired = desired(SEED);
    let mut live = live_matching(&desired);
    // A group someone else made, under the blueprint's name, with another description
    // (which cannot change in place).
    edit(&mut live, "security_group.redis", |r| {
        r.unmanaged = true;
        r.tags.clear();
        if let Props::SecurityGroup(p) = &mut r.props {
            p.description = "made by hand".into();
        }
    });
    edit(&mut live, "log_group.flow-logs", |r| {
        r.unmanaged = true;
        r.tags.clear();
    });
    let adopt = PlanOptions {
        adopt: true,
        ..Default::default()
    };
    let adopted = crate::testing::plan_with(&desired, &live, &adopt);
    let group = change(&adopted, "security_group.redis");
    assert_eq!(group.action, Action::Noop);
    assert!(
        group.held.as_deref().is_some_and(|h| h.starts_with(
            "replacement held: security_group.redis was adopted, not created by secinfra"
        )),
        "{:?}",
        group.held
    );
    // What it would carry along is held with it: the cache keeps its group.
    assert_ne!(
        change(&adopted, "cache_replication_group.sessions").action,
        Action::Replace
    );
    let logs = change(&adopted, "log_group.flow-logs");
    assert_eq!(logs.action, Action::Update);
    assert!(
        logs.diffs
            .iter()
            .any(|d| d.path == "tags[\"secinfra:adopted\"]" && d.after == "true"),
        "{:?}",
        logs.diffs
    );

    // Applied, the mark stays (no diff removes it), and it keeps the group from deletion.
    let after = simulate(&live, &adopted);
    assert_eq!(
        after.resources[&address("log_group.flow-logs")]
            .tags
            .get("secinfra:adopted")
            .map(String::as_str),
        Some("true")
    );
    let again = crate::testing::plan_with(&desired, &after, &adopt);
    assert!(
        change(&again, "log_group.flow-logs").diffs.is_empty(),
        "{:?}",
        change(&again, "log_group.flow-logs").diffs
    );
    let mut without = desired.clone();
    without.resources.remove(&address("flow_log.vpc"));
    without.resources.remove(&address("log_group.flow-logs"));
    let removed = crate::testing::plan_with(
        &without,
        &after,
        &PlanOptions {
            allow_delete_protected: false,
            ..adopt.clone()
        },
    );
    assert!(
        change(&removed, "log_group.flow-logs")
            .held
            .as_deref()
            .is_some_and(|h| h.contains("was adopted")),
    );
    let allowed = crate::testing::plan_with(
        &without,
        &after,
        &PlanOptions {
            allow_delete_protected: true,
            ..adopt
        },
    );
    assert_eq!(
        change(&allowed, "log_group.flow-logs").action,
        Action::Delete
    );
}

/// `--allow-delete ADDRESS` releases that protected resource (one nothing held stands on)
/// and no other.
#[test]
fn allowing_one_protected_delete_releases_only_that_one() {
    let desired = desired(SEED);
    let live = live_matching(&desired);
    let nothing = crate::model::Desired {
        resources: Default::default(),
        ..desired.clone()
    };
    let options = PlanOptions {
        allow_delete: [address("kms_key.field-level")].into(),
        ..Default::default()
    };
    let plan = crate::testing::plan_with(&nothing, &live, &options);
    let allowed = change(&plan, "kms_key.field-level");
    assert_eq!(
        (allowed.action, allowed.held.is_none()),
        (Action::Delete, true),
        "{:?}",
        allowed.held
    );
    let rds = change(&plan, "kms_key.rds");
    assert!(
        rds.held
            .as_deref()
            .is_some_and(|h| h.contains("or pass --allow-delete kms_key.rds")),
        "{rds:?}"
    );
}

/// Every property a kind's props carry is in the kind's field table, so it is compared
/// (a field missing from the table would silently never be). What is deliberately not
/// compared is listed here with the reason.
#[test]
fn every_property_of_every_kind_is_in_its_field_table() {
    // Read at creation and never compared afterwards: secinfra never reads a secret's
    // value back, so its generation recipe cannot be compared with anything. An IP set's
    // `incident` is a planning choice AWS does not store: it says the plan does not own
    // the set's addresses (`owned_part`).
    const NOT_COMPARED: [(&str, &str); 2] = [("secret", "initial_value"), ("ip_set", "incident")];
    let seed = desired(SEED);
    let mut seen: BTreeSet<Kind> = BTreeSet::new();
    for resource in seed.resources.values() {
        let kind = resource.address.kind;
        seen.insert(kind);
        let Value::Object(props) = resource.props.to_value() else {
            panic!("{} is not an object", resource.address);
        };
        for key in props.keys() {
            let listed =
                kind.field(key).is_some() || NOT_COMPARED.contains(&(kind.as_str(), key.as_str()));
            assert!(
                listed,
                "{}: `{key}` is not in the field table of {kind}",
                resource.address
            );
        }
    }
    let missing: Vec<&str> = Kind::ALL
        .iter()
        .filter(|k| !seen.contains(k))
        .map(|k| k.as_str())
        .collect();
    assert!(
        missing.is_empty(),
        "the seed has no resource of {missing:?}: add one to check its table"
    );
}

#[test]
fn nothing_is_made_on_a_foundation_whose_replacement_is_held() {
    // A new VPC CIDR with subnets to match: the VPC's replacement is held (the protected
    // database stands on it), so the public and app subnets, whose own CIDRs changed,
    // would be made in the VPC that keeps the old block: they are held with it.
    let seed = desired(SEED);
    let moved = plan(
        &desired(&edited(SEED, "10.0.", "10.1.")),
        &live_matching(&seed),
    );
    assert_eq!(moved.actionable().count(), 0, "{:#?}", moved.summary);
    let subnet = change(&moved, "subnet.public-az1");
    assert!(
        subnet.held.as_deref().is_some_and(|h| h.starts_with(
            "replacement held: it would be made on vpc.main, which is not made (replacement held: \
             db_instance.main stands on it"
        )),
        "{:?}",
        subnet.held
    );
}

/// An incident IP set's addresses belong to the responders: what `respond block-ip` put
/// there is neither a difference nor a reason to call a saved plan stale, while the
/// blueprint's own `ip_block` set stays declarative.
#[test]
fn incident_blocks_are_not_planned_and_do_not_stale_a_saved_plan() {
    let desired = desired(SEED);
    let live = live_matching(&desired);
    let mut blocked = live.clone();
    for (name, cidr) in [
        ("api-incident-v4", "203.0.113.7/32"),
        ("api-incident-v6", "2001:db8::/48"),
    ] {
        let set = blocked
            .resources
            .get_mut(&address(&format!("ip_set.{name}")))
            .expect("the seed's incident sets");
        if let Props::IpSet(p) = &mut set.props {
            assert!(p.addresses.is_empty());
            p.addresses.insert(cidr.into());
        }
    }
    let after = plan(&desired, &blocked);
    assert!(
        !after.has_changes(),
        "{:?}",
        after.actionable().collect::<Vec<_>>()
    );
    assert_eq!(
        super::fingerprint::live(&live),
        super::fingerprint::live(&blocked)
    );
    let acl = desired
        .resources
        .get(&address("web_acl.api"))
        .map(|r| &r.props);
    let Some(Props::WebAcl(acl)) = acl else {
        panic!("the seed's web ACL");
    };
    let last: Vec<(&str, i32)> = acl
        .rules
        .iter()
        .map(|r| (r.name.as_str(), r.priority))
        .filter(|(name, _)| name.starts_with("incident-block"))
        .collect();
    assert_eq!(last, [("incident-block-v4", 7), ("incident-block-v6", 8)]);

    // The declared block list is still the blueprint's.
    let mut edited = live.clone();
    if let Some(Props::IpSet(p)) = edited
        .resources
        .get_mut(&address("ip_set.api-blocked"))
        .map(|r| &mut r.props)
    {
        p.addresses.insert("192.0.2.0/24".into());
    }
    let repaired = plan(&desired, &edited);
    assert_eq!(
        change(&repaired, "ip_set.api-blocked").action,
        Action::Update
    );
    assert_ne!(
        super::fingerprint::live(&live),
        super::fingerprint::live(&edited)
    );
}
