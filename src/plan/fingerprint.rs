//! Content hashes that tie a saved plan to what it was computed from.

use sha2::{Digest, Sha256};

use crate::model::{Desired, Live, Props, Resource, incident_acl};

fn sha256_json(value: &impl serde::Serialize) -> String {
    // Both types hold only ordered maps and sets, so their JSON is canonical.
    let bytes = serde_json::to_vec(value).unwrap_or_default();
    hex::encode(Sha256::digest(&bytes))
}

/// Hash of the live resources (ids, properties, tags). An incident IP set's addresses
/// are left out: blocking an address during an incident must not make a reviewed plan
/// stale (plans never change them).
pub fn live(live: &Live) -> String {
    let mut planned = live.clone();
    for resource in planned.resources.values_mut() {
        if let Props::IpSet(set) = &mut resource.props
            && incident_acl(&resource.address.name).is_some()
        {
            set.addresses.clear();
        }
    }
    sha256_json(&planned)
}

/// Hash of the desired resources the blueprint resolved to: a comment or formatting
/// change in the YAML leaves it unchanged; any change in meaning does not.
pub fn desired(desired: &Desired) -> String {
    sha256_json(desired)
}

/// Hash of one desired resource (properties and tags), as the apply record keeps it.
pub fn resource(resource: &Resource) -> String {
    sha256_json(resource)
}
