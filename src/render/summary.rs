//! The end-of-apply summary: what was done, what failed, what was skipped.

use std::collections::BTreeMap;
use std::fmt::Write;

use super::style::Styles;
use crate::apply::{ApplyReport, ChangeStatus};
use crate::model::Address;

/// The outcome of an apply or destroy; a failed change names the blueprint line that
/// declared it (`declared`: address → `file:line:column`).
pub fn apply(
    report: &ApplyReport,
    verb: &str,
    declared: &BTreeMap<Address, String>,
    styles: &Styles,
) -> String {
    let done = report.count(|s| *s == ChangeStatus::Done);
    let failed = report.count(|s| matches!(s, ChangeStatus::Failed(_)));
    let skipped = report.count(|s| matches!(s, ChangeStatus::Skipped(_)));
    let mut out = String::new();
    let headline = if report.succeeded() {
        styles.create(&format!("{verb} complete"))
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
