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

#[test]
fn colour_only_when_asked() {
    let plain = human::plan(&mixed_plan(), &Styles::plain());
    assert!(!plain.contains('\u{1b}'));
    let coloured = human::plan(&mixed_plan(), &Styles::new(true));
    assert!(coloured.contains("\u{1b}["));
}
