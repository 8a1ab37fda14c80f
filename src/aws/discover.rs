//! Discovery: every provider lists its kinds concurrently (one paginated call per kind).
//! What it finds, references as AWS ids, becomes the live model in the planner
//! (`plan::assemble`), which also settles which of two claimants keeps an address.

use std::collections::BTreeSet;

use futures::future::join_all;

use super::AwsContext;
use super::error::{AwsError, ErrorKind};
use super::provider::{Provider, Scope};
pub use super::providers;
use crate::model::{Desired, Kind, LiveResource};

/// The provider that manages `kind`.
pub fn provider_for(providers: &[Box<dyn Provider>], kind: Kind) -> Option<&dyn Provider> {
    providers
        .iter()
        .find(|p| p.kinds().contains(&kind))
        .map(|p| p.as_ref())
}

/// What discovery found, and the services it had to skip.
pub struct Discovery {
    /// Every resource found, references as AWS ids; `plan::assemble` makes the live model.
    pub found: Vec<LiveResource>,
    /// One line per service the endpoint does not provide and the blueprint does not use.
    pub skipped: Vec<String>,
    /// Services the endpoint does not provide that the blueprint needs (one error for all).
    pub unavailable: Option<AwsError>,
}

/// Discovers every kind. A service the endpoint does not provide (an emulator edition
/// without it) holds no resources there: if the blueprint does not use it, discovery
/// notes it and goes on; if it does, one error names every such service and the sections
/// that need them.
pub async fn discover(
    ctx: &AwsContext,
    desired: &Desired,
    providers: &[Box<dyn Provider>],
) -> Result<Discovery, AwsError> {
    let scope = Scope::new(ctx, desired);
    let results = join_all(providers.iter().map(|p| p.discover(&scope))).await;
    let mut found = Vec::new();
    let mut skipped = Vec::new();
    let mut missing: Vec<(String, BTreeSet<&'static str>, AwsError)> = Vec::new();
    for (provider, result) in providers.iter().zip(results) {
        match result {
            Ok(resources) => found.extend(resources),
            Err(err) if err.is(ErrorKind::ServiceUnavailable) => {
                let service = err
                    .operation
                    .split(':')
                    .next()
                    .unwrap_or(provider.service())
                    .to_string();
                let sections: BTreeSet<&'static str> = provider
                    .kinds()
                    .iter()
                    .filter(|kind| desired.resources.keys().any(|a| a.kind == **kind))
                    .map(|kind| kind.blueprint_section())
                    .collect();
                if sections.is_empty() {
                    skipped.push(format!(
                        "{} skipped: this endpoint does not provide it ({} failed), and the blueprint does not use it",
                        provider.service(),
                        err.operation
                    ));
                } else {
                    missing.push((service, sections, err));
                }
            }
            Err(err) => return Err(err),
        }
    }
    let unavailable = missing.first().map(|(_, _, first)| {
        let services: BTreeSet<&str> = missing.iter().map(|(s, _, _)| s.as_str()).collect();
        let sections: BTreeSet<&str> = missing.iter().flat_map(|(_, sections, _)| sections.iter().copied()).collect();
        let list = |items: &BTreeSet<&str>, quote: bool| {
            items
                .iter()
                .map(|s| if quote { format!("`{s}`") } else { s.to_string() })
                .collect::<Vec<_>>()
                .join(", ")
        };
                AwsError::new(
            "discovery",
            ErrorKind::ServiceUnavailable,
            format!(
                "this endpoint does not provide {} ({}: {}); the blueprint's {} section{} need{} it",
                list(&services, false),
                first.operation,
                first.message,
                list(&sections, true),
                if sections.len() == 1 { "" } else { "s" },
                                if sections.len() == 1 { "s" } else { "" },
            ),
        )
    });
    Ok(Discovery {
        found,
        skipped,
        unavailable,
    })
}
