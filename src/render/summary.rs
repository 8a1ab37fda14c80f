//! The end-of-apply summary: what was done, what failed, what was skipped.

use std::fmt::Write;

use super::style::Styles;
use crate::apply::{ApplyReport, ChangeStatus};

pub fn apply(report: &ApplyReport, verb: &str, styles: &Styles) -> String {
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
