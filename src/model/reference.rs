//! A property that points at another resource: by address when it is (or will be) one
//! of the stack's resources, or by its AWS identifier otherwise.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::address::Address;

#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Ref {
    /// One of the stack's resources.
    Address(Address),
    /// Anything else: an ARN given in the blueprint, or an id discovery could not map
    /// to one of the stack's resources.
    External(String),
}

impl Ref {
    pub fn address(&self) -> Option<&Address> {
        match self {
            Ref::Address(a) => Some(a),
            Ref::External(_) => None,
        }
    }

    /// Parses a serialized reference: an address when it has a known kind prefix.
    pub fn parse(s: &str) -> Ref {
        match s.parse::<Address>() {
            Ok(address) if !s.starts_with("arn:") => Ref::Address(address),
            _ => Ref::External(s.to_string()),
        }
    }
}

impl From<Address> for Ref {
    fn from(a: Address) -> Ref {
        Ref::Address(a)
    }
}

impl fmt::Display for Ref {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Ref::Address(a) => a.fmt(f),
            Ref::External(s) => f.write_str(s),
        }
    }
}

impl Serialize for Ref {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Ref {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(Ref::parse(&String::deserialize(d)?))
    }
}
