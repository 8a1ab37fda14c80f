//! The `security_groups:` section: groups and their rules.

use std::collections::{BTreeMap, BTreeSet};

use ipnet::IpNet;

use super::Checker;
use crate::blueprint::de::suggest;
use crate::blueprint::diagnostic::Related;
use crate::blueprint::span::{Span, Spanned};
use crate::blueprint::types;
use crate::model::{
    Address, Direction, Kind, Peer, Props, Protocol, Ref, SecurityGroupProps, SecurityGroupRule,
};
use crate::naming;

impl Checker<'_> {
    pub(super) fn security_groups(
        &mut self,
        groups: &BTreeMap<Spanned<String>, types::SecurityGroup>,
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
    port: Option<&'a Spanned<types::PortSpec>>,
    protocol: Option<&'a Spanned<String>>,
    peer: &'a Spanned<String>,
    span: Span,
}
