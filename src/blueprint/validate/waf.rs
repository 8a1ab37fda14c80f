//! The `waf:` section: regional web ACLs, their rules (managed groups, geo blocks, rate
//! limits, IP block lists), logging and associations, checked against WAF's limits.

use std::collections::{BTreeMap, BTreeSet};

use ipnet::IpNet;

use super::Checker;
use crate::blueprint::de::suggest;
use crate::blueprint::diagnostic::Diagnostic;
use crate::blueprint::span::{Span, Spanned};
use crate::blueprint::types::{Name, TagValue};

use crate::limits::Limit;
use crate::model::{
    Address, IpSetProps, Kind, LogGroupProps, Props, Ref, Tags, WafRule, WafStatement, WebAclProps,
};
use crate::naming;
use schemars::JsonSchema;
use serde::Deserialize;

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct WebAcl {
    #[serde(default)]
    #[schemars(transform = schema::waf_description)]
    pub description: Option<Spanned<String>>,
    /// `REGIONAL` (the default; load balancers, API Gateway, AppSync, Cognito).
    #[serde(default)]
    #[schemars(transform = schema::waf_scope)]
    pub scope: Option<Spanned<String>>,
    /// What requests no rule matches get: `allow` (default) or `block`.
    #[serde(default)]
    #[schemars(transform = schema::allow_or_block)]
    pub default_action: Option<Spanned<String>>,
    /// Rules in priority order (the first is evaluated first).
    #[serde(default)]
    pub rules: Vec<Spanned<WafRuleSpec>>,
    /// Add incident IP sets (IPv4 and IPv6) the ACL blocks after its rules, filled by
    /// `secinfra respond block-ip` during an incident; plan and apply never change
    /// their addresses.
    #[serde(default)]
    pub incident_block: Option<Spanned<bool>>,
    /// Send the ACL's logs to a CloudWatch Logs group (its name must start `aws-waf-logs-`).
    #[serde(default)]
    pub logging: Option<WafLogging>,
    /// ARNs of the resources to protect (application load balancers, API Gateway stages).
    #[serde(default)]
    pub associations: Option<Vec<Spanned<String>>>,
    #[serde(default)]
    pub tags: BTreeMap<Name, Spanned<TagValue>>,
}

/// One rule: exactly one of `managed`, `geo_block`, `rate_limit`, `ip_block`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(transform = schema::waf_rule)]
pub struct WafRuleSpec {
    /// Rule name (default: from the rule).
    #[serde(default)]
    #[schemars(transform = schema::waf_rule_name)]
    pub name: Option<Spanned<String>>,
    /// An AWS managed rule group, e.g. `AWSManagedRulesCommonRuleSet` (covers XSS).
    #[serde(default)]
    #[schemars(transform = schema::managed_rule_group)]
    pub managed: Option<Spanned<String>>,
    /// Rules of the managed group to count instead of block (also `excluded_rules`).
    #[serde(default, alias = "excluded_rules")]
    pub count: Vec<Spanned<String>>,
    /// Block requests from these countries (ISO 3166 alpha-2 codes).
    #[serde(default)]
    #[schemars(transform = schema::country_codes)]
    pub geo_block: Option<Vec<Spanned<String>>>,
    /// Block an IP that sends more than `limit` requests in `window_seconds`.
    #[serde(default)]
    pub rate_limit: Option<RateLimitSpec>,
    /// Block these source CIDRs (an IP set, for incident containment).
    #[serde(default)]
    pub ip_block: Option<Vec<Spanned<String>>>,
    /// For geo, rate and IP rules: `block` (default) or `count`.
    #[serde(default)]
    #[schemars(transform = schema::block_or_count)]
    pub action: Option<Spanned<String>>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RateLimitSpec {
    /// Requests per IP in the window (10 to 2,000,000,000).
    #[schemars(transform = schema::rate_limit)]
    pub limit: Spanned<i64>,
    /// Evaluation window: 60, 120, 300 (default) or 600 seconds.
    #[serde(default)]
    #[schemars(transform = schema::rate_window)]
    pub window_seconds: Option<Spanned<i64>>,
    /// Count only requests whose path starts with this (e.g. `/auth/login`).
    #[serde(default)]
    pub path_prefix: Option<Spanned<String>>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct WafLogging {
    /// Log group name, `aws-waf-logs-...` (created and managed by secinfra).
    #[schemars(transform = schema::waf_log_group)]
    pub log_group: Spanned<String>,
    /// Days to keep logs; one of CloudWatch Logs' retention values.
    #[serde(default)]
    #[schemars(transform = schema::log_retention)]
    pub retention_days: Option<Spanned<i64>>,
    /// KMS key encrypting the log group (`kms_key.logs`, an alias or an ARN); a blueprint
    /// key's policy gets the grant CloudWatch Logs needs, for this group only.
    #[serde(default)]
    pub kms_key: Option<Spanned<String>>,
    /// Deleting or replacing the log group (and the request logs in it) is held unless this is
    /// false or the command gets --allow-delete-protected (default true).
    #[serde(default)]
    pub protect: Option<Spanned<bool>>,
}

/// AWS managed rule groups secinfra knows, with their web ACL capacity units (WCU).
pub(crate) const MANAGED_GROUPS: &[(&str, u32)] = &[
    ("AWSManagedRulesCommonRuleSet", 700),
    ("AWSManagedRulesSQLiRuleSet", 200),
    ("AWSManagedRulesKnownBadInputsRuleSet", 200),
    ("AWSManagedRulesAmazonIpReputationList", 25),
    ("AWSManagedRulesAnonymousIpList", 50),
    ("AWSManagedRulesAdminProtectionRuleSet", 100),
    ("AWSManagedRulesLinuxRuleSet", 200),
    ("AWSManagedRulesUnixRuleSet", 100),
    ("AWSManagedRulesWindowsRuleSet", 200),
    ("AWSManagedRulesPHPRuleSet", 100),
    ("AWSManagedRulesWordPressRuleSet", 100),
    ("AWSManagedRulesBotControlRuleSet", 50),
    ("AWSManagedRulesATPRuleSet", 50),
    ("AWSManagedRulesACFPRuleSet", 50),
];

/// Web ACLs up to 1,500 WCU are billed at the base price; AWS allows up to 5,000.
const BASE_CAPACITY: u32 = 1500;
const MAX_CAPACITY: u32 = 5000;
pub(crate) const RATE_WINDOWS: &[i64] = &[60, 120, 300, 600];
/// Requests per IP in the window a rate-based rule may allow.
pub(crate) const RATE_LIMITS: std::ops::RangeInclusive<i64> = 10..=2_000_000_000;

/// A rule with what it costs and where it was written.
struct Checked {
    rule: WafRule,
    wcu: u32,
    span: Span,
}

impl Checker<'_> {
    pub(super) fn waf(&mut self, acls: &BTreeMap<Spanned<String>, WebAcl>) {
        for (name, acl) in acls {
            let path = format!("waf.{}", name.value);
            self.check_name(name, &path, "web ACL");
            self.web_acl(name, acl, &path);
        }
    }

    fn web_acl(&mut self, name: &Spanned<String>, acl: &WebAcl, path: &str) {
        let scope = match &acl.scope {
            None => "REGIONAL".to_string(),
            Some(s) if s.value == "REGIONAL" => s.value.clone(),
            Some(s) => {
                self.error(s.span, format!("{path}.scope"), format!("scope `{}` is not supported", s.value))
                    .help = Some("secinfra manages REGIONAL web ACLs (load balancers, API Gateway); CloudFront ACLs live in us-east-1 with their distribution".into());
                "REGIONAL".to_string()
            }
        };
        let default_action = match &acl.default_action {
            None => "allow".to_string(),
            Some(a) if a.value == "allow" || a.value == "block" => a.value.clone(),
            Some(a) => {
                self.error(
                    a.span,
                    format!("{path}.default_action"),
                    format!("unknown default action `{}`", a.value),
                )
                .help = Some(suggest(&a.value, &["allow", "block"], "actions"));
                "allow".to_string()
            }
        };
        let acl_name = format!("{}-{}", self.stack, name.value);
        let ip_set = Address::new(Kind::IpSet, format!("{}-blocked", name.value));
        let mut checked: Vec<Checked> = Vec::new();
        let mut names: BTreeMap<String, Span> = BTreeMap::new();
        for (i, spec) in acl.rules.iter().enumerate() {
            let rule_path = format!("{path}.rules[{i}]");
            let Some(mut rule) = self.waf_rule(
                &spec.value,
                spec.span,
                i as i32,
                &rule_path,
                &ip_set,
                &scope,
            ) else {
                continue;
            };
            if let Some(first) = names.get(&rule.rule.name) {
                let diagnostic = self.error(
                    spec.span,
                    rule_path.clone(),
                    format!("two rules are named `{}`", rule.rule.name),
                );
                diagnostic.help =
                    Some("rule names must be unique in a web ACL; give one a `name:`".into());
                diagnostic
                    .related
                    .push(crate::blueprint::diagnostic::Related {
                        span: *first,
                        label: "first used here".into(),
                    });
                continue;
            }
            names.insert(rule.rule.name.clone(), spec.span);
            rule.span = spec.span;
            checked.push(rule);
        }
        if let Some(flag) = acl.incident_block.as_ref().filter(|b| b.value) {
            self.incident_block(&mut checked, &name.value, flag.span, &scope, path);
        }
        self.check_capacity(&checked, name, path);

        let logging = acl
            .logging
            .as_ref()
            .and_then(|logging| self.waf_logging(logging, name, &format!("{path}.logging")));
        let associations = acl.associations.as_ref().map(|list| {
            list.iter()
                .filter(|arn| {
                    let ok = naming::is_waf_protectable_arn(&arn.value);
                    if !ok {
                        self.error(arn.span, format!("{path}.associations"), format!("`{}` cannot be protected by a regional web ACL", arn.value))
                            .help = Some("give an application load balancer, API Gateway stage, AppSync API or Cognito user pool ARN".into());
                    }
                    ok
                })
                .map(|arn| arn.value.clone())
                .collect::<BTreeSet<String>>()
        });
        let description = match &acl.description {
            Some(d) => {
                self.limit(&WAF_DESCRIPTION, d, &format!("{path}.description"));
                d.value.clone()
            }
            None => format!("secinfra {} {}", self.stack, name.value),
        };
        let tags = self.user_tags(&acl.tags, &format!("{path}.tags"));
        self.add(
            name.span,
            Address::new(Kind::WebAcl, &name.value),
            Props::WebAcl(WebAclProps {
                name: acl_name,
                scope,
                description,
                default_action,
                rules: checked.into_iter().map(|c| c.rule).collect(),
                logging,
                associations,
            }),
            tags,
        );
    }

    fn waf_rule(
        &mut self,
        spec: &WafRuleSpec,
        span: Span,
        priority: i32,
        path: &str,
        ip_set: &Address,
        scope: &str,
    ) -> Option<Checked> {
        let given = [
            spec.managed.is_some(),
            spec.geo_block.is_some(),
            spec.rate_limit.is_some(),
            spec.ip_block.is_some(),
        ];
        if given.iter().filter(|g| **g).count() != 1 {
            self.error(
                span,
                path,
                "a rule needs exactly one of `managed`, `geo_block`, `rate_limit`, `ip_block`",
            );
            return None;
        }
        if !spec.count.is_empty() && spec.managed.is_none() {
            self.error(
                spec.count[0].span,
                format!("{path}.count"),
                "`count` overrides rules of a managed group only",
            );
            return None;
        }
        let action = match (&spec.action, spec.managed.is_some()) {
            (Some(a), true) => {
                self.error(a.span, format!("{path}.action"), "managed rule groups use their own actions")
                    .help = Some("use `count: [RuleName, ...]` to count some of the group's rules instead of blocking".into());
                return None;
            }
            (None, true) => "none".to_string(),
            (None, false) => "block".to_string(),
            (Some(a), false) if a.value == "block" || a.value == "count" => a.value.clone(),
            (Some(a), false) => {
                self.error(
                    a.span,
                    format!("{path}.action"),
                    format!("unknown rule action `{}`", a.value),
                )
                .help = Some(suggest(&a.value, &["block", "count"], "actions"));
                return None;
            }
        };
        let (statement, default_name, wcu) = if let Some(group) = &spec.managed {
            let Some((known, wcu)) = MANAGED_GROUPS.iter().find(|(n, _)| *n == group.value) else {
                let names: Vec<&str> = MANAGED_GROUPS.iter().map(|(n, _)| *n).collect();
                self.error(
                    group.span,
                    format!("{path}.managed"),
                    format!("unknown AWS managed rule group `{}`", group.value),
                )
                .help = Some(suggest(&group.value, &names, "rule groups"));
                return None;
            };
            let count = spec.count.iter().map(|c| c.value.clone()).collect();
            (
                WafStatement::Managed {
                    rule_group: format!("AWS/{known}"),
                    count,
                },
                known.to_string(),
                *wcu,
            )
        } else if let Some(countries) = &spec.geo_block {
            if countries.is_empty() {
                self.error(
                    span,
                    format!("{path}.geo_block"),
                    "`geo_block` lists no countries",
                );
                return None;
            }
            for c in countries {
                if c.value.len() != 2 || !c.value.chars().all(|ch| ch.is_ascii_uppercase()) {
                    self.error(
                        c.span,
                        format!("{path}.geo_block"),
                        format!("`{}` is not a country code", c.value),
                    )
                    .help = Some(
                        "use ISO 3166 alpha-2 codes in capitals, e.g. KP, IR (quote NO for Norway)"
                            .into(),
                    );
                    return None;
                }
            }
            (
                WafStatement::GeoMatch {
                    countries: countries.iter().map(|c| c.value.clone()).collect(),
                },
                "geo-block".to_string(),
                1,
            )
        } else if let Some(rate) = &spec.rate_limit {
            if !RATE_LIMITS.contains(&rate.limit.value) {
                self.error(
                    rate.limit.span,
                    format!("{path}.rate_limit.limit"),
                    format!(
                        "rate limit {} is outside 10-2,000,000,000",
                        rate.limit.value
                    ),
                )
                .help = Some(
                    "WAF counts requests per IP over the window; the smallest limit is 10".into(),
                );
                return None;
            }
            let window = rate.window_seconds.as_ref().map_or(300, |w| w.value);
            if !RATE_WINDOWS.contains(&window) {
                let span = rate.window_seconds.as_ref().map_or(span, |w| w.span);
                self.error(
                    span,
                    format!("{path}.rate_limit.window_seconds"),
                    format!("an evaluation window of {window} seconds is not offered"),
                )
                .help = Some("WAF evaluates rates over 60, 120, 300 or 600 seconds".into());
                return None;
            }
            let path_prefix = match &rate.path_prefix {
                Some(p) if !p.value.starts_with('/') || p.value.len() > 200 => {
                    self.error(
                        p.span,
                        format!("{path}.rate_limit.path_prefix"),
                        format!("`{}` is not a URI path prefix", p.value),
                    )
                    .help = Some("write a path starting with `/`, e.g. /auth/login".into());
                    return None;
                }
                Some(p) => Some(p.value.clone()),
                None => None,
            };
            let wcu = if path_prefix.is_some() { 4 } else { 2 };
            (
                WafStatement::RateLimit {
                    limit: rate.limit.value,
                    window_seconds: window,
                    path_prefix,
                },
                "rate-limit".to_string(),
                wcu,
            )
        } else {
            let addresses = spec.ip_block.as_deref().unwrap_or_default();
            self.ip_block(addresses, ip_set, scope, &format!("{path}.ip_block"), span)?;
            (
                WafStatement::IpSet {
                    ip_set: Ref::Address(ip_set.clone()),
                },
                "ip-block".to_string(),
                1,
            )
        };
        let name = match &spec.name {
            Some(n) => {
                if !self.limit(&WAF_RULE_NAME, n, &format!("{path}.name")) {
                    return None;
                }
                n.value.clone()
            }
            None => default_name,
        };
        Some(Checked {
            rule: WafRule {
                priority,
                name,
                statement,
                action,
                visibility: "metrics+samples".into(),
            },
            wcu,
            span,
        })
    }

    /// The incident IP sets (one per IP version: an IP set holds one) and the rules
    /// blocking them, after the blueprint's rules (every rule blocks or counts, so the
    /// order decides only which rule's metrics count a request).
    fn incident_block(
        &mut self,
        checked: &mut Vec<Checked>,
        acl: &str,
        span: Span,
        scope: &str,
        path: &str,
    ) {
        for version in crate::model::IpVersion::ALL {
            let address = crate::model::incident_ip_set(acl, version);
            let rule_name = format!("incident-block-{}", version.suffix());
            if checked.iter().any(|c| c.rule.name == rule_name) {
                self.error(
                    span,
                    format!("{path}.incident_block"),
                    format!("a rule is named `{rule_name}`, which incident_block uses"),
                )
                .help = Some("rename that rule".into());
                return;
            }
            self.add(
                span,
                address.clone(),
                Props::IpSet(IpSetProps {
                    name: format!("{}-{}", self.stack, address.name),
                    scope: scope.into(),
                    ip_version: version.aws().into(),
                    addresses: BTreeSet::new(),
                    incident: true,
                }),
                Tags::new(),
            );
            let priority = checked
                .iter()
                .map(|c| c.rule.priority + 1)
                .max()
                .unwrap_or(0);
            checked.push(Checked {
                rule: WafRule {
                    priority,
                    name: rule_name,
                    statement: WafStatement::IpSet {
                        ip_set: Ref::Address(address),
                    },
                    action: "block".into(),
                    visibility: "metrics+samples".into(),
                },
                wcu: 1,
                span,
            });
        }
    }

    /// The ACL's block list lives in an IP set of its own.
    fn ip_block(
        &mut self,
        addresses: &[Spanned<String>],
        ip_set: &Address,
        scope: &str,
        path: &str,
        span: Span,
    ) -> Option<()> {
        if self.resources.contains_key(ip_set) {
            self.error(span, path, "a web ACL has one `ip_block` rule")
                .help = Some("put every address in that one list".into());
            return None;
        }
        let mut nets = BTreeSet::new();
        for address in addresses {
            match address.value.parse::<IpNet>() {
                Ok(net) if net.trunc() == net => {
                    nets.insert(net);
                }
                Ok(net) => {
                    self.error(address.span, path, format!("`{net}` has host bits set"))
                        .help = Some(format!("did you mean {}?", net.trunc()));
                    return None;
                }
                Err(_) => {
                    self.error(
                        address.span,
                        path,
                        format!("`{}` is not a CIDR block", address.value),
                    )
                    .help = Some("write addresses as CIDR blocks, e.g. 203.0.113.7/32".into());
                    return None;
                }
            }
        }
        let v6 = nets.iter().any(|n| matches!(n, IpNet::V6(_)));
        if v6 && nets.iter().any(|n| matches!(n, IpNet::V4(_))) {
            self.error(
                span,
                path,
                "an IP block list holds IPv4 or IPv6 blocks, not both",
            );
            return None;
        }
        let acl = ip_set.name.trim_end_matches("-blocked");
        self.add(
            span,
            ip_set.clone(),
            Props::IpSet(IpSetProps {
                name: format!("{}-{acl}-blocked", self.stack),
                scope: scope.into(),
                ip_version: if v6 { "IPV6" } else { "IPV4" }.into(),
                addresses: nets.iter().map(IpNet::to_string).collect(),
                incident: false,
            }),
            Tags::new(),
        );
        Some(())
    }

    fn check_capacity(&mut self, rules: &[Checked], name: &Spanned<String>, path: &str) {
        let total: u32 = rules.iter().map(|r| r.wcu).sum();
        if total > MAX_CAPACITY {
            let biggest = rules
                .iter()
                .max_by_key(|r| r.wcu)
                .map(|r| (r.rule.name.clone(), r.wcu, r.span));
            let diagnostic = self.error(
                name.span,
                format!("{path}.rules"),
                format!("the rules need {total} WCU; a web ACL holds at most {MAX_CAPACITY}"),
            );
            if let Some((rule, wcu, span)) = biggest {
                diagnostic.help = Some(format!("remove rules; `{rule}` alone uses {wcu} WCU"));
                diagnostic
                    .related
                    .push(crate::blueprint::diagnostic::Related {
                        span,
                        label: format!("{wcu} WCU"),
                    });
            }
        } else if total > BASE_CAPACITY {
            self.diagnostics.push(
                Diagnostic::warning(format!(
                    "web ACL `{}` needs {total} WCU, above the {BASE_CAPACITY} WCU included in the base price",
                    name.value
                ))
                .with_source(self.source, name.span, "")
                .with_path(format!("{path}.rules")),
            );
        }
    }

    fn waf_logging(
        &mut self,
        logging: &WafLogging,
        acl: &Spanned<String>,
        path: &str,
    ) -> Option<Ref> {
        let group = &logging.log_group;
        if !group.value.starts_with("aws-waf-logs-") {
            self.error(
                group.span,
                format!("{path}.log_group"),
                format!(
                    "WAF logs only to groups named `aws-waf-logs-...`, not `{}`",
                    group.value
                ),
            )
            .help = Some(format!(
                "name it e.g. aws-waf-logs-{}-{}",
                self.stack, acl.value
            ));
            return None;
        }
        if let Err(problem) = naming::check_log_group_name(&group.value) {
            self.error(
                group.span,
                format!("{path}.log_group"),
                format!("invalid log group name `{}`: {problem}", group.value),
            );
            return None;
        }
        let retention = logging
            .retention_days
            .as_ref()
            .and_then(|d| self.retention(d, &format!("{path}.retention_days")));
        let address = Address::new(Kind::LogGroup, format!("waf-{}", acl.value));
        self.add(
            group.span,
            address.clone(),
            Props::LogGroup(LogGroupProps {
                name: group.value.clone(),
                retention_days: retention,
                kms_key: None,
            }),
            super::protection_tags(logging.protect.as_ref()),
        );
        Some(Ref::Address(address))
    }
}

/// Constraints AWS applies to values of this section, from its API models (`limits`).
pub static LIMITS: &[&Limit] = &[&WAF_DESCRIPTION, &WAF_RULE_NAME];

pub static WAF_DESCRIPTION: Limit = Limit::new(
    "wafv2:CreateWebACL.Description",
    "a web ACL description",
    1,
    256,
)
.pattern(
    r"^[\w+=:#@/\-,\.][\w+=:#@/\-,\.\s]+[\w+=:#@/\-,\.]$",
    "letters, digits, spaces and _ + = : # @ / - , . (no parentheses or other punctuation), \
         not starting or ending with a space",
);
pub static WAF_RULE_NAME: Limit =
    Limit::new("wafv2:CreateWebACL.Rules.Name", "a rule name", 1, 128)
        .pattern(r"^[\w\-]+$", "letters, digits, _ and -");

/// How the section's fields read in the JSON Schema (`secinfra schema`), beside the
/// shared transforms and helpers.
pub mod schema {
    pub use crate::blueprint::schema::*;
    use crate::limits;
    use schemars::Schema;
    use serde_json::{Value, json};

    pub fn waf_description(s: &mut Schema) {
        limit(s, &super::WAF_DESCRIPTION);
    }

    pub fn waf_scope(s: &mut Schema) {
        one_of(s, [json!("REGIONAL")]);
    }

    pub fn allow_or_block(s: &mut Schema) {
        one_of(s, ["allow", "block"].map(Value::from));
    }

    pub fn block_or_count(s: &mut Schema) {
        one_of(s, ["block", "count"].map(Value::from));
    }

    /// Exactly one kind of rule.
    pub fn waf_rule(s: &mut Schema) {
        let kinds = ["managed", "geo_block", "rate_limit", "ip_block"].map(present);
        all_of(s, [json!({ "oneOf": kinds })]);
    }

    pub fn waf_rule_name(s: &mut Schema) {
        limit(s, &super::WAF_RULE_NAME);
    }

    pub fn managed_rule_group(s: &mut Schema) {
        one_of(s, super::MANAGED_GROUPS.iter().map(|(name, _)| json!(name)));
    }

    pub fn country_codes(s: &mut Schema) {
        items(s, |item| {
            item.insert("pattern".into(), "^[A-Z]{2}$".into());
        });
        s.insert("minItems".into(), 1.into());
    }

    pub fn rate_limit(s: &mut Schema) {
        range(s, super::RATE_LIMITS);
    }

    pub fn rate_window(s: &mut Schema) {
        one_of(s, super::RATE_WINDOWS.iter().map(|w| json!(w)));
    }

    pub fn waf_log_group(s: &mut Schema) {
        limit(s, &limits::LOG_GROUP_NAME);
        // Both must hold: AWS's pattern for any group, and WAF's prefix.
        all_of(s, [json!({ "pattern": "^aws-waf-logs-" })]);
    }
}
