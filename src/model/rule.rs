//! One security group rule: protocol, ports and a single peer. Groups hold rules as sets,
//! so their order never produces a difference. A rule reads and prints as one line,
//! `tcp 5432 from security_group.ecs`; plans write it as an object (`RuleRecord`).

use std::fmt;
use std::str::FromStr;

use ipnet::IpNet;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::reference::Ref;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Direction {
    Ingress,
    Egress,
}

impl Direction {
    fn word(self) -> &'static str {
        match self {
            Direction::Ingress => "from",
            Direction::Egress => "to",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Protocol {
    Tcp,
    Udp,
    Icmp,
    Icmpv6,
    /// Every protocol (`-1` in the EC2 API).
    All,
    /// Any other IP protocol number, as found on a live group.
    Number(u8),
}

impl Protocol {
    /// Reads the EC2 API's `IpProtocol`, which may be a name or a number.
    pub fn from_api(s: &str) -> Option<Protocol> {
        Some(match s.to_ascii_lowercase().as_str() {
            "-1" | "all" => Protocol::All,
            "tcp" | "6" => Protocol::Tcp,
            "udp" | "17" => Protocol::Udp,
            "icmp" | "1" => Protocol::Icmp,
            "icmpv6" | "58" => Protocol::Icmpv6,
            other => Protocol::Number(other.parse().ok()?),
        })
    }

    /// The value the EC2 API expects in `IpProtocol`.
    pub fn api_name(&self) -> String {
        match self {
            Protocol::Tcp => "tcp".into(),
            Protocol::Udp => "udp".into(),
            Protocol::Icmp => "icmp".into(),
            Protocol::Icmpv6 => "icmpv6".into(),
            Protocol::All => "-1".into(),
            Protocol::Number(n) => n.to_string(),
        }
    }

    /// Whether rules of this protocol carry a port range.
    pub fn has_ports(&self) -> bool {
        matches!(self, Protocol::Tcp | Protocol::Udp)
    }
}

impl fmt::Display for Protocol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Protocol::Tcp => f.write_str("tcp"),
            Protocol::Udp => f.write_str("udp"),
            Protocol::Icmp => f.write_str("icmp"),
            Protocol::Icmpv6 => f.write_str("icmpv6"),
            Protocol::All => f.write_str("all"),
            Protocol::Number(n) => write!(f, "proto-{n}"),
        }
    }
}

impl FromStr for Protocol {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.strip_prefix("proto-") {
            Some(n) => n
                .parse()
                .map(Protocol::Number)
                .map_err(|_| format!("bad protocol `{s}`")),
            None => Protocol::from_api(s).ok_or_else(|| format!("unknown protocol `{s}`")),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Peer {
    Cidr(IpNet),
    /// Another security group (or the group itself).
    Group(Ref),
    /// A managed prefix list id (`pl-...`), as found on a live group.
    PrefixList(String),
}

impl fmt::Display for Peer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Peer::Cidr(net) => net.fmt(f),
            Peer::Group(r) => r.fmt(f),
            Peer::PrefixList(id) => f.write_str(id),
        }
    }
}

impl Peer {
    fn parse(s: &str) -> Peer {
        if let Ok(net) = s.parse::<IpNet>() {
            return Peer::Cidr(net);
        }
        if s.starts_with("pl-") {
            return Peer::PrefixList(s.to_string());
        }
        Peer::Group(Ref::parse(s))
    }
}

#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SecurityGroupRule {
    pub direction: Direction,
    pub protocol: Protocol,
    /// Inclusive port range for tcp/udp; `None` for every port or for other protocols.
    pub ports: Option<(u16, u16)>,
    pub peer: Peer,
}

impl SecurityGroupRule {
    /// The EC2 API's (FromPort, ToPort) for this rule.
    pub fn api_ports(&self) -> (Option<i32>, Option<i32>) {
        match (&self.protocol, self.ports) {
            (Protocol::All, _) => (None, None),
            (_, Some((from, to))) => (Some(i32::from(from)), Some(i32::from(to))),
            (Protocol::Tcp | Protocol::Udp, None) => (Some(0), Some(65535)),
            (_, None) => (Some(-1), Some(-1)),
        }
    }

    /// Normalises the EC2 API's ports: "all ports" is written without a range.
    pub fn ports_from_api(
        protocol: &Protocol,
        from: Option<i32>,
        to: Option<i32>,
    ) -> Option<(u16, u16)> {
        if !protocol.has_ports() {
            return None;
        }
        match (from, to) {
            (Some(0), Some(65535)) | (None, _) | (_, None) => None,
            (Some(a), Some(b)) => Some((u16::try_from(a).ok()?, u16::try_from(b).ok()?)),
        }
    }
}

impl fmt::Display for SecurityGroupRule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.protocol)?;
        match self.ports {
            Some((a, b)) if a == b => write!(f, " {a}")?,
            Some((a, b)) => write!(f, " {a}-{b}")?,
            None => {}
        }
        write!(f, " {} {}", self.direction.word(), self.peer)
    }
}

impl FromStr for SecurityGroupRule {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let bad = || format!("`{s}` is not a rule like `tcp 443 from 0.0.0.0/0`");
        let words: Vec<&str> = s.split_whitespace().collect();
        let (protocol, ports, direction, peer) = match words.as_slice() {
            [p, d, peer] => (*p, None, *d, *peer),
            [p, ports, d, peer] => (*p, Some(*ports), *d, *peer),
            _ => return Err(bad()),
        };
        let direction = match direction {
            "from" => Direction::Ingress,
            "to" => Direction::Egress,
            _ => return Err(bad()),
        };
        let ports = match ports {
            None => None,
            Some(p) => {
                let (a, b) = p.split_once('-').unwrap_or((p, p));
                Some((a.parse().map_err(|_| bad())?, b.parse().map_err(|_| bad())?))
            }
        };
        Ok(SecurityGroupRule {
            direction,
            protocol: protocol.parse()?,
            ports,
            peer: Peer::parse(peer),
        })
    }
}

/// A rule as plans write it: an object with the EC2 API's port names and the peer under
/// `source` (ingress) or `destination` (egress); ports are absent for every port or for
/// protocols without ports.
#[derive(Serialize, Deserialize)]
struct RuleRecord {
    protocol: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    from_port: Option<u16>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    to_port: Option<u16>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    source: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    destination: Option<String>,
}

impl Serialize for SecurityGroupRule {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let peer = Some(self.peer.to_string());
        let (source, destination) = match self.direction {
            Direction::Ingress => (peer, None),
            Direction::Egress => (None, peer),
        };
        RuleRecord {
            protocol: self.protocol.to_string(),
            from_port: self.ports.map(|(from, _)| from),
            to_port: self.ports.map(|(_, to)| to),
            source,
            destination,
        }
        .serialize(s)
    }
}

impl<'de> Deserialize<'de> for SecurityGroupRule {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use serde::de::Error;
        let record = RuleRecord::deserialize(d)?;
        let (direction, peer) = match (record.source, record.destination) {
            (Some(peer), None) => (Direction::Ingress, peer),
            (None, Some(peer)) => (Direction::Egress, peer),
            _ => {
                return Err(D::Error::custom(
                    "a rule has one `source` or one `destination`",
                ));
            }
        };
        let ports = match (record.from_port, record.to_port) {
            (Some(from), Some(to)) => Some((from, to)),
            (None, None) => None,
            _ => {
                return Err(D::Error::custom(
                    "a rule gives both `from_port` and `to_port`, or neither",
                ));
            }
        };
        Ok(SecurityGroupRule {
            direction,
            protocol: record.protocol.parse().map_err(D::Error::custom)?,
            ports,
            peer: Peer::parse(&peer),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rule_text_round_trips() {
        for text in [
            "tcp 443 from 0.0.0.0/0",
            "tcp 8000-8100 from security_group.alb",
            "all to 0.0.0.0/0",
            "udp 53 to 10.0.0.2/32",
            "icmp from ::/0",
            "tcp 5432 from sg-0123456789abcdef0",
            "proto-47 from 10.0.0.0/8",
            "tcp 443 to pl-12345678",
        ] {
            let rule: SecurityGroupRule = text.parse().unwrap();
            assert_eq!(rule.to_string(), text);
            let json = serde_json::to_value(&rule).unwrap();
            assert!(json.is_object(), "{json}");
            assert_eq!(
                serde_json::from_value::<SecurityGroupRule>(json).unwrap(),
                rule
            );
        }
    }

    #[test]
    fn api_ports_cover_all_ports_forms() {
        let all: SecurityGroupRule = "all from 0.0.0.0/0".parse().unwrap();
        assert_eq!(all.api_ports(), (None, None));
        let icmp: SecurityGroupRule = "icmp from 0.0.0.0/0".parse().unwrap();
        assert_eq!(icmp.api_ports(), (Some(-1), Some(-1)));
        assert_eq!(
            SecurityGroupRule::ports_from_api(&Protocol::Tcp, Some(0), Some(65535)),
            None
        );
        assert_eq!(
            SecurityGroupRule::ports_from_api(&Protocol::Tcp, Some(443), Some(443)),
            Some((443, 443))
        );
    }
}
