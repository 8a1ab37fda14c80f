//! Where the blueprint declares each resource, so an error AWS gives about one points back
//! at the line a user edits: the key of its entry (`security_groups.rds`), or for the
//! resources a section implies (the VPC's route tables, the trail's bucket), a line of
//! that section.

use std::collections::BTreeMap;

use super::Loaded;
use crate::model::Address;

/// `file:line:column` of the declaration of every address `loaded` can place; the
/// validator records it as it makes each resource.
pub fn declarations<'a>(
    loaded: &Loaded,
    addresses: impl IntoIterator<Item = &'a Address>,
) -> BTreeMap<Address, String> {
    let spans = super::validate::declared(&loaded.blueprint, &loaded.source);
    addresses
        .into_iter()
        .filter_map(|address| {
            let span = spans.get(address).filter(|s| s.is_known())?;
            Some((
                address.clone(),
                format!("{}:{}:{}", loaded.source.name, span.line, span.column),
            ))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::blueprint::{Source, load_source};

    #[test]
    fn every_resource_of_the_seed_points_at_its_declaration() {
        let loaded = load_source(
            Source::from_string("api-platform.yaml", crate::testing::SEED),
            None,
        )
        .expect("seed");
        let desired = crate::testing::desired(crate::testing::SEED);
        let declared = declarations(&loaded, desired.resources.keys());
        let lines: Vec<&str> = crate::testing::SEED.lines().collect();
        let line_of = |address: &str| -> &str {
            let at = &declared[&address.parse::<Address>().expect("address")];
            let line: usize = at.split(':').nth(1).expect("line").parse().expect("number");
            lines[line - 1]
        };
        assert!(
            line_of("security_group.rds")
                .trim_start()
                .starts_with("rds:")
        );
        assert!(
            line_of("db_instance.main")
                .trim_start()
                .starts_with("main:")
        );
        assert!(line_of("subnet.data-az1").contains("data-az1:"));
        assert!(
            line_of("kms_key.secrets")
                .trim_start()
                .starts_with("secrets:")
        );
        assert!(line_of("log_group.flow-logs").contains("log_group:"));
        assert!(line_of("ip_set.api-blocked").contains("ip_block:"));
        let unplaced: Vec<String> = desired
            .resources
            .keys()
            .filter(|a| !declared.contains_key(*a))
            .map(|a| a.to_string())
            .collect();
        assert_eq!(unplaced, Vec::<String>::new(), "every resource is placed");
    }
}
