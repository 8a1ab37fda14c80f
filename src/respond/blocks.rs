//! Containment, as plain data: which addresses a `block-ip` may add to a web ACL's
//! incident IP sets, which an `unblock-ip` may remove, which blocks have expired. No AWS
//! here; `commands::respond` applies the result.

use std::collections::{BTreeMap, BTreeSet};

use ipnet::IpNet;

use crate::model::{BlockLedger, BlockRecord, IpVersion};

/// Addresses one IP set holds at most ("AWS WAF quotas": 10,000 IP addresses per IP set,
/// https://docs.aws.amazon.com/waf/latest/developerguide/limits.html).
pub const IP_SET_LIMIT: usize = 10_000;

/// Ranges that are not the internet's: blocking them at a WAF blocks the VPC's own
/// clients, health checks or nothing at all. Allowed only with `--allow-private`.
const NOT_PUBLIC: &[(&str, &str)] = &[
    ("0.0.0.0/8", "\"this network\""),
    ("10.0.0.0/8", "private (RFC 1918)"),
    ("100.64.0.0/10", "shared address space (carrier-grade NAT)"),
    ("127.0.0.0/8", "loopback"),
    ("169.254.0.0/16", "link-local"),
    ("172.16.0.0/12", "private (RFC 1918)"),
    ("192.168.0.0/16", "private (RFC 1918)"),
    ("224.0.0.0/4", "multicast"),
    ("240.0.0.0/4", "reserved"),
    ("::1/128", "loopback"),
    ("fc00::/7", "unique local (private)"),
    ("fe80::/10", "link-local"),
    ("ff00::/8", "multicast"),
];

/// A CIDR block from the command line: a bare address is one host (`/32`, `/128`); host
/// bits set is refused (blocking `203.0.113.7/24` blocks 256 addresses: say which).
pub fn parse_cidr(text: &str) -> Result<IpNet, String> {
    let text = text.trim();
    let net = match text.parse::<IpNet>() {
        Ok(net) => net,
        Err(_) => match text.parse::<std::net::IpAddr>() {
            Ok(ip) => IpNet::from(ip),
            Err(_) => {
                return Err(format!(
                    "`{text}` is not an IP address or CIDR block (e.g. 203.0.113.7, \
                     198.51.100.0/24, 2001:db8::/48)"
                ));
            }
        },
    };
    if net.trunc() != net {
        return Err(format!(
            "`{text}` has host bits set: block {} (the whole range) or {}/{} (the one host)",
            net.trunc(),
            net.addr(),
            net.max_prefix_len()
        ));
    }
    if net.prefix_len() == 0 {
        return Err(format!(
            "`{text}` is every address; WAF IP sets take prefixes of /1 and longer"
        ));
    }
    Ok(net)
}

/// Why a block is not of the public internet, if it is not.
pub fn not_public(net: &IpNet) -> Option<String> {
    NOT_PUBLIC.iter().find_map(|(range, what)| {
        let range: IpNet = range.parse().ok()?;
        (range.contains(net) || net.contains(&range))
            .then(|| format!("`{net}` overlaps {range}, {what}"))
    })
}

/// What a block-ip does, or why it must not.
#[derive(Debug, PartialEq, Eq)]
pub struct BlockPlan {
    /// New addresses by IP version, in the set's notation.
    pub add: BTreeMap<IpVersion, BTreeSet<String>>,
}

/// The addresses to add, checked against what the incident sets and the blueprint's own
/// `ip_block` list already hold. Duplicates among `wanted` count once.
pub fn plan_block(
    wanted: &[IpNet],
    incident: &BTreeMap<IpVersion, BTreeSet<String>>,
    declared: &BTreeSet<String>,
    allow_private: bool,
) -> Result<BlockPlan, Vec<String>> {
    let mut problems = Vec::new();
    let mut add: BTreeMap<IpVersion, BTreeSet<String>> = BTreeMap::new();
    for net in wanted {
        let text = net.to_string();
        let version = IpVersion::of(net);
        if let Some(why) = not_public(net).filter(|_| !allow_private) {
            problems.push(format!("{why}; pass --allow-private to block it anyway"));
        } else if incident
            .get(&version)
            .is_some_and(|set| set.contains(&text))
        {
            problems.push(format!(
                "{text} is already blocked (see `secinfra respond list-blocks`)"
            ));
        } else if declared.contains(&text) {
            problems.push(format!(
                "{text} is already blocked by the blueprint's `ip_block` list"
            ));
        } else {
            add.entry(version).or_default().insert(text);
        }
    }
    for (version, new) in &add {
        let held = incident.get(version).map_or(0, BTreeSet::len);
        if held + new.len() > IP_SET_LIMIT {
            problems.push(format!(
                "the {} incident set holds {held} addresses; {} more would pass AWS's limit \
                 of {IP_SET_LIMIT} per IP set (block wider ranges instead)",
                version.suffix(),
                new.len()
            ));
        }
    }
    if problems.is_empty() {
        Ok(BlockPlan { add })
    } else {
        Err(problems)
    }
}

/// The addresses to remove, each of which must be in an incident set.
pub fn plan_unblock(
    wanted: &[IpNet],
    incident: &BTreeMap<IpVersion, BTreeSet<String>>,
    declared: &BTreeSet<String>,
) -> Result<BTreeMap<IpVersion, BTreeSet<String>>, Vec<String>> {
    let mut problems = Vec::new();
    let mut remove: BTreeMap<IpVersion, BTreeSet<String>> = BTreeMap::new();
    for net in wanted {
        let text = net.to_string();
        let version = IpVersion::of(net);
        if incident
            .get(&version)
            .is_some_and(|set| set.contains(&text))
        {
            remove.entry(version).or_default().insert(text);
        } else if declared.contains(&text) {
            problems.push(format!(
                "{text} is blocked by the blueprint's `ip_block` list: remove it there and apply"
            ));
        } else {
            problems.push(format!("{text} is not blocked"));
        }
    }
    if problems.is_empty() {
        Ok(remove)
    } else {
        Err(problems)
    }
}

/// The records whose expiry is at or before `now` (both RFC 3339; parsed, since
/// fractional seconds make text comparison wrong).
pub fn expired<'a>(ledger: &'a BlockLedger, now: &str) -> Vec<&'a BlockRecord> {
    let now = seconds(now);
    ledger
        .blocks
        .iter()
        .filter(|b| {
            b.expires
                .as_deref()
                .and_then(seconds)
                .zip(now)
                .is_some_and(|(expires, now)| expires <= now)
        })
        .collect()
}

fn seconds(time: &str) -> Option<i64> {
    aws_smithy_types::DateTime::from_str(time, aws_smithy_types::date_time::Format::DateTime)
        .ok()
        .map(|t| t.secs())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn net(text: &str) -> IpNet {
        parse_cidr(text).expect(text)
    }

    #[test]
    fn addresses_are_normalised_and_ambiguity_refused() {
        assert_eq!(net("203.0.113.7").to_string(), "203.0.113.7/32");
        assert_eq!(net(" 2001:db8::1 ").to_string(), "2001:db8::1/128");
        assert_eq!(net("198.51.100.0/24").to_string(), "198.51.100.0/24");
        let host_bits = parse_cidr("203.0.113.7/24").expect_err("host bits");
        assert!(host_bits.contains("203.0.113.0/24") && host_bits.contains("203.0.113.7/32"));
        assert!(parse_cidr("203.0.113.300").is_err());
        assert!(
            parse_cidr("0.0.0.0/0")
                .expect_err("all")
                .contains("every address")
        );
        assert!(
            parse_cidr("banana")
                .expect_err("text")
                .contains("not an IP address")
        );
    }

    #[test]
    fn private_ranges_and_ranges_holding_them_are_not_public() {
        assert!(not_public(&net("10.1.2.3")).is_some());
        assert!(not_public(&net("8.0.0.0/5")).is_some(), "holds 10.0.0.0/8");
        assert!(not_public(&net("fd00::/8")).is_some());
        assert!(not_public(&net("203.0.113.7")).is_none());
        assert!(not_public(&net("2001:db8::/32")).is_none());
    }

    #[test]
    fn a_block_adds_only_new_public_addresses_within_the_limit() {
        let mut incident = BTreeMap::new();
        incident.insert(
            IpVersion::V4,
            BTreeSet::from(["203.0.113.7/32".to_string()]),
        );
        let declared = BTreeSet::from(["198.51.100.0/24".to_string()]);
        let plan = plan_block(
            &[net("192.0.2.1"), net("192.0.2.1"), net("2001:db8::1")],
            &incident,
            &declared,
            false,
        )
        .expect("plan");
        assert_eq!(
            plan.add[&IpVersion::V4],
            BTreeSet::from(["192.0.2.1/32".into()])
        );
        assert_eq!(
            plan.add[&IpVersion::V6],
            BTreeSet::from(["2001:db8::1/128".into()])
        );

        let problems = plan_block(
            &[net("203.0.113.7"), net("198.51.100.0/24"), net("10.0.0.1")],
            &incident,
            &declared,
            false,
        )
        .expect_err("refused");
        assert_eq!(problems.len(), 3, "{problems:?}");
        assert!(problems[0].contains("already blocked (see"));
        assert!(problems[1].contains("blueprint's `ip_block`"));
        assert!(problems[2].contains("--allow-private"));
        assert!(plan_block(&[net("10.0.0.1")], &incident, &declared, true).is_ok());

        let full: BTreeSet<String> = (0..IP_SET_LIMIT)
            .map(|i| format!("198.18.{}.{}/32", i / 256, i % 256))
            .collect();
        let problems = plan_block(
            &[net("192.0.2.1")],
            &BTreeMap::from([(IpVersion::V4, full)]),
            &BTreeSet::new(),
            false,
        )
        .expect_err("full");
        assert!(problems[0].contains("limit of 10000"), "{problems:?}");
    }

    #[test]
    fn only_blocked_incident_addresses_can_be_unblocked() {
        let incident = BTreeMap::from([(
            IpVersion::V4,
            BTreeSet::from(["203.0.113.7/32".to_string()]),
        )]);
        let declared = BTreeSet::from(["198.51.100.0/24".to_string()]);
        let remove = plan_unblock(&[net("203.0.113.7")], &incident, &declared).expect("ok");
        assert_eq!(remove[&IpVersion::V4].len(), 1);
        let problems = plan_unblock(
            &[net("198.51.100.0/24"), net("192.0.2.9")],
            &incident,
            &declared,
        )
        .expect_err("refused");
        assert!(problems[0].contains("remove it there"));
        assert!(problems[1].contains("not blocked"));
    }

    #[test]
    fn only_blocks_past_their_expiry_expire() {
        let record = |cidr: &str, expires: Option<&str>| BlockRecord {
            cidr: cidr.into(),
            web_acl: "api".into(),
            reason: "scan".into(),
            operator: "arn:aws:iam::111122223333:user/alice".into(),
            blocked_at: "2026-12-01T09:00:00Z".into(),
            expires: expires.map(str::to_string),
        };
        let ledger = BlockLedger {
            blocks: vec![
                record("203.0.113.1/32", Some("2026-12-01T10:00:00Z")),
                record("203.0.113.2/32", Some("2026-12-01T10:00:00.5Z")),
                record("203.0.113.3/32", Some("2026-12-02T10:00:00Z")),
                record("203.0.113.4/32", None),
            ],
        };
        let gone: Vec<&str> = expired(&ledger, "2026-12-01T10:00:01Z")
            .iter()
            .map(|b| b.cidr.as_str())
            .collect();
        assert_eq!(gone, ["203.0.113.1/32", "203.0.113.2/32"]);
    }
}
