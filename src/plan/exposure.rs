//! Which planned changes widen exposure and which narrow it: access opened or closed,
//! protections (WAF rules, rotation, encryption, logging, validation, deletion
//! protection) turned off or on, policies granting more principals or fewer. Derived
//! from each change's before and after alone, so it is the same wherever the plan is
//! shown (human view, JSON, `show`) and needs nothing stored in the plan.

use std::collections::BTreeSet;

use serde::Serialize;
use serde_json::Value;

use super::{Action, Change, Plan};
use crate::model::{Peer, Props, Protocol, SecurityGroupRule};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    Widens,
    Narrows,
}

/// One way a change moves exposure, in words (`opens tcp 22 from 0.0.0.0/0`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Effect {
    pub direction: Direction,
    pub what: String,
}

/// The exposure effects of every change that does something.
pub fn of_plan(plan: &Plan) -> Vec<(&Change, Vec<Effect>)> {
    plan.actionable()
        .map(|c| (c, of(c)))
        .filter(|(_, e)| !e.is_empty())
        .collect()
}

/// Whether any change of the plan widens exposure.
pub fn widens(plan: &Plan) -> bool {
    of_plan(plan)
        .iter()
        .any(|(_, effects)| effects.iter().any(|e| e.direction == Direction::Widens))
}

/// The exposure effects of one change (none for a no-op or a held change).
pub fn of(change: &Change) -> Vec<Effect> {
    if change.action == Action::Noop {
        return Vec::new();
    }
    let before = change.before.as_ref().map(|b| &b.props);
    let after = match change.action {
        Action::Delete => None,
        _ => change.after.as_ref().map(|a| &a.props),
    };
    let mut effects = Effects::default();
    match (before, after) {
        (None, None) => {}
        (before, after) => compare(before, after, &mut effects),
    }
    effects.0
}

#[derive(Default)]
struct Effects(Vec<Effect>);

impl Effects {
    fn widens(&mut self, what: impl Into<String>) {
        self.0.push(Effect {
            direction: Direction::Widens,
            what: what.into(),
        });
    }

    fn narrows(&mut self, what: impl Into<String>) {
        self.0.push(Effect {
            direction: Direction::Narrows,
            what: what.into(),
        });
    }

    /// A protection that is on when `true`: turning it off widens, on narrows.
    fn protection(&mut self, before: Option<bool>, after: Option<bool>, name: &str) {
        match (before.unwrap_or(false), after.unwrap_or(false)) {
            (true, false) => self.widens(format!("turns off {name}")),
            (false, true) if before.is_some() => self.narrows(format!("turns on {name}")),
            _ => {}
        }
    }
}

fn compare(before: Option<&Props>, after: Option<&Props>, fx: &mut Effects) {
    let kind = before.or(after).map(Props::kind);
    macro_rules! pair {
        ($variant:ident) => {
            (
                before.and_then(|p| match p {
                    Props::$variant(x) => Some(x),
                    _ => None,
                }),
                after.and_then(|p| match p {
                    Props::$variant(x) => Some(x),
                    _ => None,
                }),
            )
        };
    }
    use crate::model::Kind;
    match kind {
        Some(Kind::SecurityGroup) => {
            let (b, a) = pair!(SecurityGroup);
            let empty = BTreeSet::new();
            rules(
                b.map_or(&empty, |g| &g.ingress),
                a.map_or(&empty, |g| &g.ingress),
                fx,
            );
            rules(
                b.map_or(&empty, |g| &g.egress),
                a.map_or(&empty, |g| &g.egress),
                fx,
            );
        }
        Some(Kind::Vpc) => {
            let (b, a) = pair!(Vpc);
            let restricted = |v: Option<&crate::model::VpcProps>| {
                v.map(|v| {
                    v.default_security_group_rules
                        .as_ref()
                        .is_some_and(BTreeSet::is_empty)
                })
            };
            fx.protection(
                restricted(b),
                restricted(a),
                "the default security group's restriction",
            );
        }
        Some(Kind::WebAcl) => web_acl(pair!(WebAcl), fx),
        Some(Kind::IpSet) => {
            let (b, a) = pair!(IpSet);
            let empty = BTreeSet::new();
            let (was, is) = (
                b.map_or(&empty, |s| &s.addresses),
                a.map_or(&empty, |s| &s.addresses),
            );
            let unblocked = was.difference(is).count();
            let blocked = is.difference(was).count();
            if unblocked > 0 {
                fx.widens(format!("unblocks {unblocked} address range(s)"));
            }
            if blocked > 0 {
                fx.narrows(format!("blocks {blocked} more address range(s)"));
            }
        }
        Some(Kind::Secret) => {
            let (b, a) = pair!(Secret);
            fx.protection(
                b.map(|s| s.rotation_enabled),
                a.map(|s| s.rotation_enabled),
                "rotation",
            );
            if let (Some(b), Some(a)) = (b, a)
                && let (Some(was), Some(is)) = (b.rotation_every_days, a.rotation_every_days)
            {
                if is > was {
                    fx.widens(format!("rotates every {is} days instead of {was}"));
                } else if is < was {
                    fx.narrows(format!("rotates every {is} days instead of {was}"));
                }
            }
            fx.protection(
                b.map(|s| s.kms_key.is_some()),
                a.map(|s| s.kms_key.is_some()),
                "encryption with the stack's key",
            );
            principals(
                b.and_then(|s| s.policy.as_ref()),
                a.and_then(|s| s.policy.as_ref()),
                "resource policy",
                fx,
            );
        }
        Some(Kind::KmsKey) => {
            let (b, a) = pair!(KmsKey);
            fx.protection(
                b.map(|k| k.rotation_enabled),
                a.map(|k| k.rotation_enabled),
                "key rotation",
            );
            principals(b.map(|k| &k.policy), a.map(|k| &k.policy), "key policy", fx);
        }
        Some(Kind::DbInstance) => {
            let (b, a) = pair!(DbInstance);
            fx.protection(
                b.map(|d| d.deletion_protection),
                a.map(|d| d.deletion_protection),
                "deletion protection",
            );
            fx.protection(
                b.map(|d| d.storage_encrypted),
                a.map(|d| d.storage_encrypted),
                "storage encryption",
            );
            fx.protection(
                b.map(|d| !d.publicly_accessible),
                a.map(|d| !d.publicly_accessible),
                "the block on public access",
            );
            if let (Some(b), Some(a)) = (b, a) {
                let (was, is) = (b.backup_retention_days, a.backup_retention_days);
                if is < was {
                    fx.widens(format!("keeps backups {is} days instead of {was}"));
                }
            }
        }
        Some(Kind::DbParameterGroup) => {
            let (b, a) = pair!(DbParameterGroup);
            let forced = |p: &crate::model::DbParameterGroupProps| {
                p.parameters.get("rds.force_ssl").is_some_and(|v| v == "1")
            };
            fx.protection(b.map(forced), a.map(forced), "forced TLS (rds.force_ssl)");
        }
        Some(Kind::CacheReplicationGroup) => {
            let (b, a) = pair!(CacheReplicationGroup);
            fx.protection(
                b.map(|c| c.transit_encryption),
                a.map(|c| c.transit_encryption),
                "TLS in transit",
            );
            fx.protection(
                b.map(|c| c.at_rest_encryption),
                a.map(|c| c.at_rest_encryption),
                "encryption at rest",
            );
            fx.protection(
                b.map(|c| c.auth_token_enabled),
                a.map(|c| c.auth_token_enabled),
                "the AUTH token",
            );
        }
        Some(Kind::Trail) => {
            let (b, a) = pair!(Trail);
            fx.protection(
                b.map(|t| t.logging),
                a.map(|t| t.logging),
                "the audit trail",
            );
            fx.protection(
                b.map(|t| t.multi_region),
                a.map(|t| t.multi_region),
                "multi-region logging",
            );
            fx.protection(
                b.map(|t| t.log_file_validation),
                a.map(|t| t.log_file_validation),
                "log file validation",
            );
            fx.protection(
                b.map(|t| t.kms_key.is_some()),
                a.map(|t| t.kms_key.is_some()),
                "log encryption",
            );
            fx.protection(
                b.map(|t| t.log_group.is_some()),
                a.map(|t| t.log_group.is_some()),
                "delivery to CloudWatch Logs",
            );
        }
        Some(Kind::FlowLog) => {
            fx.protection(before.map(|_| true), after.map(|_| true), "flow logs");
        }
        Some(Kind::LogGroup) => {
            let (b, a) = pair!(LogGroup);
            fx.protection(
                b.map(|g| g.kms_key.is_some()),
                a.map(|g| g.kms_key.is_some()),
                "log encryption",
            );
            if let (Some(b), Some(a)) = (b, a) {
                // No retention keeps events for ever.
                let days = |d: Option<i32>| d.unwrap_or(i32::MAX);
                if days(a.retention_days) < days(b.retention_days) {
                    fx.widens("keeps events for less time");
                }
            }
        }
        Some(Kind::GuarddutyDetector) => {
            let (b, a) = pair!(GuarddutyDetector);
            fx.protection(b.map(|d| d.enabled), a.map(|d| d.enabled), "GuardDuty");
        }
        Some(Kind::SecurityHub) => {
            fx.protection(before.map(|_| true), after.map(|_| true), "Security Hub");
        }
        Some(Kind::S3Bucket) => {
            let (b, a) = pair!(S3Bucket);
            let blocked = |s: &crate::model::BucketProps| {
                s.block_public_acls
                    && s.ignore_public_acls
                    && s.block_public_policy
                    && s.restrict_public_buckets
            };
            fx.protection(b.map(blocked), a.map(blocked), "the block on public access");
            fx.protection(
                b.map(|s| s.kms_key.is_some()),
                a.map(|s| s.kms_key.is_some()),
                "encryption with the stack's key",
            );
            fx.protection(
                b.map(|s| s.versioning),
                a.map(|s| s.versioning),
                "versioning",
            );
        }
        _ => {}
    }
}

/// Rules that reach address ranges: added ones widen, removed ones narrow. Rules between
/// security groups stay inside the stack's tiers.
fn rules(
    before: &BTreeSet<SecurityGroupRule>,
    after: &BTreeSet<SecurityGroupRule>,
    fx: &mut Effects,
) {
    let reaches_out =
        |r: &&SecurityGroupRule| matches!(r.peer, Peer::Cidr(_) | Peer::PrefixList(_));
    let internet = |r: &SecurityGroupRule| match &r.peer {
        Peer::Cidr(net) if net.prefix_len() == 0 => " (the internet)",
        _ => "",
    };
    // A rule within one the other side has (a /16 inside a /8, one port inside a range)
    // moves nothing on its own.
    for rule in after.difference(before).filter(reaches_out) {
        if !before.iter().any(|r| covers(r, rule)) {
            fx.widens(format!("opens `{rule}`{}", internet(rule)));
        }
    }
    for rule in before.difference(after).filter(reaches_out) {
        if !after.iter().any(|r| covers(r, rule)) {
            fx.narrows(format!("closes `{rule}`{}", internet(rule)));
        }
    }
}

/// Whether `wide` lets through everything `narrow` does.
fn covers(wide: &SecurityGroupRule, narrow: &SecurityGroupRule) -> bool {
    let protocol = wide.protocol == Protocol::All || wide.protocol == narrow.protocol;
    let ports = match (wide.ports, narrow.ports) {
        (None, _) => true,
        (Some((from, to)), Some((a, b))) => from <= a && b <= to,
        (Some(_), None) => false,
    };
    let peer = match (&wide.peer, &narrow.peer) {
        (Peer::Cidr(w), Peer::Cidr(n)) => w.contains(n),
        (w, n) => w == n,
    };
    wide.direction == narrow.direction && protocol && ports && peer
}

fn web_acl(
    (before, after): (
        Option<&crate::model::WebAclProps>,
        Option<&crate::model::WebAclProps>,
    ),
    fx: &mut Effects,
) {
    let rules = |acl: Option<&crate::model::WebAclProps>| -> Vec<(String, String)> {
        acl.map(|a| {
            a.rules
                .iter()
                .map(|r| (r.name.clone(), r.action.clone()))
                .collect()
        })
        .unwrap_or_default()
    };
    let (was, is) = (rules(before), rules(after));
    let blocks = |action: &str| action != "count";
    if before.is_none() {
        let blocking = is.iter().filter(|(_, a)| blocks(a)).count();
        if blocking > 0 {
            fx.narrows(format!("a new web ACL with {blocking} blocking rule(s)"));
        }
        return;
    }
    for (name, action) in &was {
        match is.iter().find(|(n, _)| n == name) {
            None if blocks(action) => fx.widens(format!("removes WAF rule {name}")),
            Some((_, now)) if blocks(action) && !blocks(now) => {
                fx.widens(format!("WAF rule {name} counts instead of blocking"))
            }
            Some((_, now)) if !blocks(action) && blocks(now) => {
                fx.narrows(format!("WAF rule {name} blocks instead of counting"))
            }
            _ => {}
        }
    }
    for (name, action) in &is {
        if blocks(action) && !was.iter().any(|(n, _)| n == name) {
            fx.narrows(format!("adds WAF rule {name}"));
        }
    }
    if let (Some(b), Some(a)) = (before, after) {
        match (b.default_action.as_str(), a.default_action.as_str()) {
            ("block", "allow") => fx.widens("allows what no rule matches"),
            ("allow", "block") => fx.narrows("blocks what no rule matches"),
            _ => {}
        }
    }
    fx.protection(
        before.map(|a| a.logging.is_some()),
        after.map(|a| a.logging.is_some()),
        "WAF logging",
    );
}

/// Principals the Allow statements of a policy name.
fn allowed_principals(policy: &Value) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let statements = match &policy["Statement"] {
        Value::Array(list) => list.clone(),
        Value::Object(_) => vec![policy["Statement"].clone()],
        _ => Vec::new(),
    };
    for statement in statements.iter().filter(|s| s["Effect"] == "Allow") {
        collect_strings(&statement["Principal"], &mut out);
    }
    out
}

fn collect_strings(value: &Value, out: &mut BTreeSet<String>) {
    match value {
        Value::String(s) => {
            out.insert(s.clone());
        }
        Value::Array(list) => list.iter().for_each(|v| collect_strings(v, out)),
        Value::Object(map) => map.values().for_each(|v| collect_strings(v, out)),
        _ => {}
    }
}

fn principals(before: Option<&Value>, after: Option<&Value>, what: &str, fx: &mut Effects) {
    let (Some(before), Some(after)) = (before, after) else {
        return;
    };
    let (was, is) = (allowed_principals(before), allowed_principals(after));
    let added: Vec<&String> = is.difference(&was).collect();
    let removed: Vec<&String> = was.difference(&is).collect();
    if !added.is_empty() {
        fx.widens(format!(
            "the {what} grants {}",
            added
                .iter()
                .map(|p| p.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    if !removed.is_empty() {
        fx.narrows(format!(
            "the {what} no longer grants {}",
            removed
                .iter()
                .map(|p| p.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
}

#[cfg(test)]
mod tests;
