//! The end-of-apply summary: what was done, what failed, what was skipped.

use std::collections::BTreeMap;
use std::fmt::Write;

use super::style::Styles;
use crate::apply::{ApplyReport, ChangeStatus};
use crate::model::Address;
use crate::plan::{Change, Plan};

/// The outcome of an apply or destroy; a failed change names the blueprint line that
/// declared it (`declared`: address → `file:line:column`). With changes `held` (protected
/// resources the plan left alone) the run is not complete, whatever was done.
pub fn apply(
    report: &ApplyReport,
    verb: &str,
    held: usize,
    declared: &BTreeMap<Address, String>,
    styles: &Styles,
) -> String {
    let done = report.count(|s| *s == ChangeStatus::Done);
    let failed = report.count(|s| matches!(s, ChangeStatus::Failed(_)));
    let skipped = report.count(|s| matches!(s, ChangeStatus::Skipped(_)));
    let mut out = String::new();
    let headline = if report.succeeded() && held == 0 {
        styles.create(&format!("{verb} complete"))
    } else if report.succeeded() {
        styles.warning(&format!("{verb} incomplete ({held} held)"))
    } else if report.interrupted {
        styles.warning(&format!("{verb} interrupted"))
    } else {
        styles.error(&format!("{verb} failed"))
    };
    let _ = writeln!(
        out,
        "{headline} in {:.1} s: {done} done, {failed} failed, {skipped} skipped.",
        report.elapsed.as_secs_f64()
    );
    for (address, action, status) in &report.results {
        match status {
            ChangeStatus::Done => {}
            ChangeStatus::Failed(message) => {
                let _ = writeln!(
                    out,
                    "  {} {address} ({action}): {message}",
                    styles.error("failed ")
                );
                if let Some(at) = declared.get(address) {
                    let _ = writeln!(
                        out,
                        "          {}",
                        styles.dim(&format!("declared at {at}"))
                    );
                }
            }
            ChangeStatus::Skipped(cause) => {
                let _ = writeln!(
                    out,
                    "  {} {address} ({action}): {cause}",
                    styles.warning("skipped")
                );
            }
        }
    }
    out
}

/// Why a run that did everything else still ends unfinished: the changes it held, each
/// with its reason, and the ways to release them.
pub fn held(plan: &Plan, styles: &Styles) -> String {
    let held: Vec<&Change> = plan.held().collect();
    if held.is_empty() {
        return String::new();
    }
    let mut out = format!(
        "{} {} held, so the account is not yet as asked:\n",
        styles.warning("!"),
        if held.len() == 1 {
            "1 change is".to_string()
        } else {
            format!("{} changes are", held.len())
        }
    );
    for change in held {
        let _ = writeln!(
            out,
            "  {} {}",
            styles.bold(&change.address.to_string()),
            styles.dim(&format!("— {}", change.held.as_deref().unwrap_or_default()))
        );
    }
    out
}
