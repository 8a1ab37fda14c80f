//! Which stack and address a resource belongs to, read from the tags secinfra writes:
//! shared by discovery (which claims resources) and the planner (which settles twins).

use super::{Address, Kind, TAG_ADDRESS, TAG_STACK, Tags};

/// The address a live resource claims through its `secinfra:address` tag, when that
/// tag is present, well-formed and of the kind it was found as.
pub fn claimed_address(kind: Kind, tags: &Tags) -> Option<Address> {
    let address: Address = tags.get(TAG_ADDRESS)?.parse().ok()?;
    (address.kind == kind).then_some(address)
}

/// The address for a stack-tagged resource without a usable address tag: unique (from
/// the AWS id) and never one the blueprint can declare, so it is planned for deletion.
pub fn orphan_address(kind: Kind, id: &str) -> Address {
    Address::new(kind, format!("~{id}"))
}

pub fn address_for(kind: Kind, tags: &Tags, id: &str) -> Address {
    claimed_address(kind, tags).unwrap_or_else(|| orphan_address(kind, id))
}

pub fn is_stack_tagged(tags: &Tags, stack: &str) -> bool {
    tags.get(TAG_STACK).is_some_and(|s| s == stack)
}
