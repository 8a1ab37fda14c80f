//! The `security_groups:` section: groups and their rules.

use std::collections::{BTreeMap, BTreeSet};

use ipnet::IpNet;

use super::Checker;
use crate::blueprint::de::suggest;
use crate::blueprint::diagnostic::Related;
use crate::blueprint::span::{Span, Spanned};
use crate::blueprint::types::{Name, TagValue};
use crate::model::{
    Address, Direction, Kind, Peer, Props, Protocol, Ref, SecurityGroupProps, SecurityGroupRule,
};
use crate::naming;
use schemars::JsonSchema;
use serde::Deserialize;
use serde::de::{self, Deserializer, Visitor};
use std::fmt;

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SecurityGroup {
    /// Group description (AWS cannot change it in place; a change replaces the group).
    #[serde(default)]
    #[schemars(transform = schema::security_group_description)]
    pub description: Option<Spanned<String>>,
    /// Inbound rules. Order never matters.
    #[serde(default)]
    pub ingress: Vec<Spanned<IngressRule>>,
    /// Outbound rules. Omitted or empty means no outbound traffic: AWS's default
    /// allow-all egress rule is removed unless declared here.
    #[serde(default)]
    pub egress: Vec<Spanned<EgressRule>>,
    #[serde(default)]
    pub tags: BTreeMap<Name, Spanned<TagValue>>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct IngressRule {
    /// Port (`443`) or inclusive range (`"8000-8100"`); omit for protocol `all`.
    #[serde(default)]
    #[schemars(transform = schema::port)]
    pub port: Option<Spanned<PortSpec>>,
    /// tcp (default), udp, icmp, icmpv6 or all.
    #[serde(default)]
    #[schemars(transform = schema::protocol)]
    pub protocol: Option<Spanned<String>>,
    /// Source: a CIDR (`0.0.0.0/0`, `::/0`), `security_group.<name>` or `self`.
    pub from: Spanned<String>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct EgressRule {
    /// Port (`443`) or inclusive range (`"8000-8100"`); omit for protocol `all`.
    #[serde(default)]
    #[schemars(transform = schema::port)]
    pub port: Option<Spanned<PortSpec>>,
    /// tcp (default), udp, icmp, icmpv6 or all.
    #[serde(default)]
    #[schemars(transform = schema::protocol)]
    pub protocol: Option<Spanned<String>>,
    /// Destination: a CIDR, `security_group.<name>` or `self`.
    pub to: Spanned<String>,
}

/// A port or an inclusive port range, as written (range checks happen in validation).
#[derive(Debug, Clone, Copy, PartialEq, Eq, JsonSchema)]
#[schemars(with = "PortSpecSchema")]
pub struct PortSpec {
    pub from: i64,
    pub to: i64,
}

#[derive(JsonSchema)]
#[serde(untagged)]
#[allow(dead_code)]
enum PortSpecSchema {
    Port(u16),
    /// An inclusive range, `"1024-65535"`.
    Range(String),
}

impl<'de> Deserialize<'de> for PortSpec {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct PortVisitor;
        impl Visitor<'_> for PortVisitor {
            type Value = PortSpec;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a port number or a range like \"8000-8100\"")
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<PortSpec, E> {
                Ok(PortSpec { from: v, to: v })
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<PortSpec, E> {
                let v = i64::try_from(v).map_err(|_| E::custom("port number too large"))?;
                Ok(PortSpec { from: v, to: v })
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<PortSpec, E> {
                let parse = |s: &str| {
                    s.trim().parse::<i64>().map_err(|_| {
                        E::custom(format!(
                            "`{v}` is not a port or port range; write 443 or \"8000-8100\""
                        ))
                    })
                };
                match v.split_once('-') {
                    Some((a, b)) => Ok(PortSpec {
                        from: parse(a)?,
                        to: parse(b)?,
                    }),
                    None => parse(v).map(|p| PortSpec { from: p, to: p }),
                }
            }
        }
        deserializer.deserialize_any(PortVisitor)
    }
}

impl Checker<'_> {
    pub(super) fn security_groups(
        &mut self,
        groups: &BTreeMap<Spanned<String>, SecurityGroup>,
        vpc: Option<&Address>,
        has_network: bool,
    ) {
        if groups.is_empty() {
            return;
        }
        let vpc = match vpc {
            Some(vpc) => vpc.clone(),
            None => {
                if !has_network {
                    let first = groups.keys().next().expect("non-empty");
                    self.error(first.span, "security_groups", "security groups need a VPC")
                        .help = Some("declare `network:` with a `vpc:` in the blueprint".into());
                }
                return;
            }
        };
        let names: BTreeSet<&str> = groups.keys().map(|k| k.value.as_str()).collect();
        for (name, group) in groups {
            let path = format!("security_groups.{}", name.value);
            self.check_name(name, &path, "security group");
            let address = Address::new(Kind::SecurityGroup, &name.value);
            let mut ingress = BTreeSet::new();
            let mut seen: BTreeMap<SecurityGroupRule, Span> = BTreeMap::new();
            for (i, rule) in group.ingress.iter().enumerate() {
                let spec = RuleSpec {
                    port: rule.value.port.as_ref(),
                    protocol: rule.value.protocol.as_ref(),
                    peer: &rule.value.from,
                    span: rule.span,
                };
                if let Some(rule) = self.rule(
                    &spec,
                    Direction::Ingress,
                    &address,
                    &names,
                    &format!("{path}.ingress[{i}]"),
                ) {
                    self.check_duplicate(
                        &rule,
                        spec.span,
                        &mut seen,
                        &format!("{path}.ingress[{i}]"),
                    );
                    ingress.insert(rule);
                }
            }
            let mut egress = BTreeSet::new();
            for (i, rule) in group.egress.iter().enumerate() {
                let spec = RuleSpec {
                    port: rule.value.port.as_ref(),
                    protocol: rule.value.protocol.as_ref(),
                    peer: &rule.value.to,
                    span: rule.span,
                };
                if let Some(rule) = self.rule(
                    &spec,
                    Direction::Egress,
                    &address,
                    &names,
                    &format!("{path}.egress[{i}]"),
                ) {
                    self.check_duplicate(
                        &rule,
                        spec.span,
                        &mut seen,
                        &format!("{path}.egress[{i}]"),
                    );
                    egress.insert(rule);
                }
            }
            let description = match &group.description {
                Some(d) => {
                    if let Err(problem) = naming::check_group_description(&d.value) {
                        self.error(d.span, format!("{path}.description"), problem);
                    }
                    d.value.clone()
                }
                None => format!("secinfra {} {}", self.stack, name.value),
            };
            let tags = self.user_tags(&group.tags, &format!("{path}.tags"));
            self.add(
                name.span,
                address,
                Props::SecurityGroup(SecurityGroupProps {
                    vpc: Ref::Address(vpc.clone()),
                    group_name: format!("{}-{}", self.stack, name.value),
                    description,
                    ingress,
                    egress,
                }),
                tags,
            );
        }
    }

    fn check_duplicate(
        &mut self,
        rule: &SecurityGroupRule,
        span: Span,
        seen: &mut BTreeMap<SecurityGroupRule, Span>,
        path: &str,
    ) {
        if let Some(first) = seen.get(rule).copied() {
            let diagnostic = self.error(span, path, format!("duplicate rule `{rule}`"));
            diagnostic.help = Some("remove one of the two".into());
            diagnostic.related.push(Related {
                span: first,
                label: "first declared here".into(),
            });
        } else {
            seen.insert(rule.clone(), span);
        }
    }

    fn rule(
        &mut self,
        spec: &RuleSpec,
        direction: Direction,
        group: &Address,
        names: &BTreeSet<&str>,
        path: &str,
    ) -> Option<SecurityGroupRule> {
        let protocol = match spec.protocol {
            None => Protocol::Tcp,
            Some(p) => match p.value.trim().to_ascii_lowercase().as_str() {
                "tcp" => Protocol::Tcp,
                "udp" => Protocol::Udp,
                "icmp" => Protocol::Icmp,
                "icmpv6" => Protocol::Icmpv6,
                "all" | "-1" => Protocol::All,
                other => {
                    self.error(
                        p.span,
                        format!("{path}.protocol"),
                        format!("unknown protocol `{other}`"),
                    )
                    .help = Some(suggest(
                        other,
                        &["tcp", "udp", "icmp", "icmpv6", "all"],
                        "protocols",
                    ));
                    return None;
                }
            },
        };
        let ports = match (spec.port, protocol.has_ports()) {
            (Some(port), true) => {
                let (from, to) = (port.value.from, port.value.to);
                if !(1..=65535).contains(&from) || !(1..=65535).contains(&to) {
                    self.error(
                        port.span,
                        format!("{path}.port"),
                        format!(
                            "port {} is out of range",
                            if (1..=65535).contains(&from) {
                                to
                            } else {
                                from
                            }
                        ),
                    )
                    .help = Some("ports are 1-65535".into());
                    return None;
                }
                if from > to {
                    self.error(
                        port.span,
                        format!("{path}.port"),
                        format!("port range {from}-{to} is reversed"),
                    )
                    .help = Some(format!("write {to}-{from}"));
                    return None;
                }
                Some((from as u16, to as u16))
            }
            (None, true) => {
                self.error(spec.span, path, format!("{protocol} rule has no `port`"))
                    .help = Some(
                    "add `port: 443` (or a range \"1024-65535\"), or use `protocol: all`".into(),
                );
                return None;
            }
            (Some(port), false) => {
                self.error(
                    port.span,
                    format!("{path}.port"),
                    format!("{protocol} rules take no port"),
                )
                .help = Some("remove `port`, or use protocol tcp or udp".into());
                return None;
            }
            (None, false) => None,
        };
        let peer_field = match direction {
            Direction::Ingress => "from",
            Direction::Egress => "to",
        };
        let peer = self.peer(spec.peer, group, names, &format!("{path}.{peer_field}"))?;
        Some(SecurityGroupRule {
            direction,
            protocol,
            ports,
            peer,
        })
    }

    fn peer(
        &mut self,
        text: &Spanned<String>,
        group: &Address,
        names: &BTreeSet<&str>,
        path: &str,
    ) -> Option<Peer> {
        let value = text.value.trim();
        if value == "self" {
            return Some(Peer::Group(Ref::Address(group.clone())));
        }
        if let Ok(net) = value.parse::<IpNet>() {
            if net.trunc() != net {
                self.error(text.span, path, format!("`{net}` has host bits set"))
                    .help = Some(format!("did you mean {}?", net.trunc()));
                return None;
            }
            return Some(Peer::Cidr(net));
        }
        if let Ok(address) = value.parse::<Address>() {
            if address.kind != Kind::SecurityGroup {
                self.error(
                    text.span,
                    path,
                    format!("rules reference security groups, not {}", address.kind),
                )
                .help = Some("write a CIDR block, `security_group.<name>` or `self`".into());
                return None;
            }
            if !names.contains(address.name.as_str()) {
                let expected: Vec<&str> = names.iter().copied().collect();
                let diagnostic = self.error(text.span, path, format!("`{value}` does not exist"));
                diagnostic.label = Some("no such security group".into());
                diagnostic.help = Some(suggest(&address.name, &expected, "security groups"));
                return None;
            }
            return Some(Peer::Group(Ref::Address(address)));
        }
        if let Some(rest) = value.strip_prefix("security_group.") {
            self.error(
                text.span,
                path,
                format!("`security_group.{rest}` is missing a group name"),
            );
            return None;
        }
        self.error(
            text.span,
            path,
            format!("`{value}` is not a CIDR block or a security group"),
        )
        .help =
            Some("write a CIDR block (10.0.0.0/8, ::/0), `security_group.<name>` or `self`".into());
        None
    }
}

struct RuleSpec<'a> {
    port: Option<&'a Spanned<PortSpec>>,
    protocol: Option<&'a Spanned<String>>,
    peer: &'a Spanned<String>,
    span: Span,
}

/// How the section's fields read in the JSON Schema (`secinfra schema`), beside the
/// shared transforms and helpers.
pub mod schema {
    pub use crate::blueprint::schema::*;
    use crate::limits;
    use schemars::Schema;
    use serde_json::{Value, json};

    pub fn security_group_description(s: &mut Schema) {
        limit(s, &limits::SECURITY_GROUP_DESCRIPTION);
    }

    /// A port (`443`, `"443"`) or an inclusive range (`"8000-8100"`).
    pub fn port(s: &mut Schema) {
        *s = json!({
            "description": s.get("description").cloned().unwrap_or_default(),
            "anyOf": [
                { "type": "integer", "minimum": 0, "maximum": 65535 },
                { "type": "string", "pattern": "^ *[0-9]{1,5} *(- *[0-9]{1,5} *)?$" },
                { "type": "null" },
            ]
        })
        .try_into()
        .unwrap_or_default();
    }

    pub fn protocol(s: &mut Schema) {
        one_of(s, ["tcp", "udp", "icmp", "icmpv6", "all"].map(Value::from));
    }
}
