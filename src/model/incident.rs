//! Incident IP sets: per web ACL that asks for them (`incident_block: true`), one IP set
//! per IP version, which the ACL blocks and whose addresses belong to incident response
//! (`secinfra respond block-ip`), never to plan and apply.

use super::{Address, Kind};

/// The address name of the log group `secinfra respond` writes to (`incident_log:`).
pub const INCIDENT_LOG: &str = "incident-log";

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum IpVersion {
    V4,
    V6,
}

impl IpVersion {
    pub const ALL: [IpVersion; 2] = [IpVersion::V4, IpVersion::V6];

    /// How addresses and rule names end: `v4`, `v6`.
    pub fn suffix(self) -> &'static str {
        match self {
            IpVersion::V4 => "v4",
            IpVersion::V6 => "v6",
        }
    }

    /// WAF's `IPAddressVersion`.
    pub fn aws(self) -> &'static str {
        match self {
            IpVersion::V4 => "IPV4",
            IpVersion::V6 => "IPV6",
        }
    }

    pub fn of(net: &ipnet::IpNet) -> IpVersion {
        match net {
            ipnet::IpNet::V4(_) => IpVersion::V4,
            ipnet::IpNet::V6(_) => IpVersion::V6,
        }
    }
}

/// The address of a web ACL's incident IP set: `ip_set.<acl>-incident-v4`.
pub fn incident_ip_set(acl: &str, version: IpVersion) -> Address {
    Address::new(Kind::IpSet, format!("{acl}-incident-{}", version.suffix()))
}

/// The web ACL whose incident IP set this IP set name is, if it is one.
pub fn incident_acl(ip_set: &str) -> Option<&str> {
    IpVersion::ALL
        .iter()
        .find_map(|v| ip_set.strip_suffix(&format!("-incident-{}", v.suffix())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn incident_sets_are_named_from_their_acl_and_back() {
        for version in IpVersion::ALL {
            let address = incident_ip_set("api", version);
            assert_eq!(incident_acl(&address.name), Some("api"));
        }
        assert_eq!(
            incident_ip_set("api", IpVersion::V6).to_string(),
            "ip_set.api-incident-v6"
        );
        assert_eq!(incident_acl("api-blocked"), None);
    }
}

/// One address blocked during an incident, as `respond block-ip` recorded it.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct BlockRecord {
    /// The CIDR block, normalised (`203.0.113.7/32`).
    pub cidr: String,
    /// The web ACL (its blueprint name) whose incident IP set holds it.
    pub web_acl: String,
    pub reason: String,
    /// Who blocked it: the caller's ARN.
    pub operator: String,
    /// When (RFC 3339, UTC).
    pub blocked_at: String,
    /// When `respond expire-blocks` lifts it (RFC 3339, UTC); never when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires: Option<String>,
}

/// Every incident block of a stack: kept in the lock bucket beside the stack's lock
/// (`incidents/<stack>/blocks.json`), written only with a condition on the version read.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct BlockLedger {
    pub blocks: Vec<BlockRecord>,
}
