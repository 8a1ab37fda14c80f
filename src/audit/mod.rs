//! The security audit: the seed's requirements as rules (`rules.rs`) judged over a set of
//! resources in the model's terms, so the same rules judge a blueprint (its desired
//! resources) and an account (what discovery found, `audit --live`). A rule sees every
//! resource at once, because some requirements are about how resources relate (the groups
//! a database uses, the flow log of a VPC).

mod rules;
pub mod suppress;

use std::collections::BTreeMap;
use std::fmt;

use serde::Serialize;

use crate::blueprint::{Loaded, Span};
use crate::model::{Address, Desired, Props};

pub use rules::{RULES, Rule};

/// How much a finding matters; `--fail-on` picks the lowest that fails a run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Low,
    Medium,
    High,
    Critical,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What is judged: resources by address, and the blueprint's own resources where it
/// knows more than AWS reports (what a secret is for: only its first-value recipe says).
pub struct Inventory<'a> {
    resources: BTreeMap<&'a Address, &'a Props>,
    declared: Option<&'a Desired>,
}

impl<'a> Inventory<'a> {
    /// A blueprint's desired resources.
    pub fn declared(desired: &'a Desired) -> Inventory<'a> {
        Inventory {
            resources: desired
                .resources
                .iter()
                .map(|(a, r)| (a, &r.props))
                .collect(),
            declared: Some(desired),
        }
    }

    /// Resources found in the account, with the blueprint that declares the stack.
    pub fn live(
        found: impl IntoIterator<Item = (&'a Address, &'a Props)>,
        declared: &'a Desired,
    ) -> Inventory<'a> {
        Inventory {
            resources: found.into_iter().collect(),
            declared: Some(declared),
        }
    }

    /// Every resource, in address order.
    pub fn all(&self) -> impl Iterator<Item = (&'a Address, &'a Props)> + '_ {
        self.resources.iter().map(|(a, p)| (*a, *p))
    }

    pub fn get(&self, address: &Address) -> Option<&'a Props> {
        self.resources.get(address).copied()
    }

    /// How the blueprint declares `address`, if it does.
    pub fn declared_props(&self, address: &Address) -> Option<&'a Props> {
        self.declared?.resources.get(address).map(|r| &r.props)
    }
}

/// A place in a blueprint.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Location {
    pub file: String,
    pub line: u32,
    pub column: u32,
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}", self.file, self.line, self.column)
    }
}

/// One requirement a resource (or the stack as a whole) does not meet.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Finding {
    pub rule: &'static Rule,
    /// The resource, or `None` for what the stack lacks as a whole (no trail at all).
    pub address: Option<Address>,
    pub message: String,
    /// Where the blueprint declares the resource (or the stack).
    pub location: Option<Location>,
    /// Set when a suppression covers the finding: it is reported but never fails a run.
    pub suppressed: Option<suppress::Suppression>,
}

impl Finding {
    pub fn severity(&self) -> Severity {
        self.rule.severity
    }

    /// Whether the finding fails a run at `threshold`.
    pub fn fails_at(&self, threshold: Severity) -> bool {
        self.suppressed.is_none() && self.severity() >= threshold
    }
}

/// Judges `inventory` against every rule; findings in rule order, then address order.
pub fn audit(inventory: &Inventory<'_>) -> Vec<Finding> {
    let mut findings = Vec::new();
    for rule in RULES {
        let mut hits = Vec::new();
        (rule.check)(inventory, &mut hits);
        hits.sort();
        hits.dedup();
        findings.extend(hits.into_iter().map(|(address, message)| Finding {
            rule,
            address,
            message,
            location: None,
            suppressed: None,
        }));
    }
    findings
}

/// Points each finding at the blueprint line declaring its resource, or at the stack's
/// name for what the stack lacks as a whole.
pub fn locate(findings: &mut [Finding], loaded: &Loaded) {
    let at = |span: Span| {
        span.is_known().then(|| Location {
            file: loaded.source.name.clone(),
            line: span.line,
            column: span.column,
        })
    };
    let declared = crate::blueprint::validate::declared(&loaded.blueprint, &loaded.source);
    for finding in findings.iter_mut().filter(|f| f.location.is_none()) {
        let span = match &finding.address {
            Some(address) => declared.get(address).copied(),
            None => Some(loaded.blueprint.stack.span),
        };
        finding.location = span.and_then(at);
    }
}

/// The rule with this id.
pub fn rule(id: &str) -> Option<&'static Rule> {
    RULES.iter().find(|r| r.id == id)
}

#[cfg(test)]
mod tests;
