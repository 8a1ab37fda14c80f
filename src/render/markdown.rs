//! Markdown views for CI: a plan, a drift report or an audit as a job summary
//! (`$GITHUB_STEP_SUMMARY`) or a pull request comment. A table of what changes and how
//! it moves exposure, then the full human view folded in a `<details>` block.

use std::fmt::Write;

use super::Styles;
use super::audit::Audited;
use super::human::{self, Detail};
use crate::audit::Finding;
use crate::plan::drift::Attribution;
use crate::plan::exposure::{self, Direction};
use crate::plan::{Action, Plan};

/// Text for a table cell: no line breaks, pipes escaped.
fn cell(text: &str) -> String {
    text.replace('|', "\\|").replace('\n', " ")
}

fn action_word(action: Action) -> &'static str {
    match action {
        Action::Create => "create",
        Action::Update => "update",
        Action::Replace => "replace",
        Action::Delete => "delete",
        Action::Noop => "held",
    }
}

/// The human view, uncoloured, folded away.
fn details(summary: &str, body: &str) -> String {
    // A fence longer than any run of backticks in the body keeps it one block.
    let longest = body.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    let fence = "`".repeat(longest.max(2) + 1);
    format!("<details><summary>{summary}</summary>\n\n{fence}text\n{body}{fence}\n\n</details>\n")
}

/// One row per change; `exposure` heads the column of exposure effects.
fn changes_table(out: &mut String, plan: &Plan, exposure: &str) {
    let rows: Vec<_> = plan.actionable().chain(plan.held()).collect();
    if rows.is_empty() {
        return;
    }
    let _ = writeln!(
        out,
        "| Resource | Action | {exposure} |\n| --- | --- | --- |"
    );
    for change in rows {
        let effects: Vec<String> = exposure::of(change)
            .into_iter()
            .map(|e| match e.direction {
                Direction::Widens => format!("⚠️ widens: {}", e.what),
                Direction::Narrows => format!("narrows: {}", e.what),
            })
            .collect();
        let action = match &change.held {
            Some(reason) => format!("held: {reason}"),
            None => action_word(change.action).to_string(),
        };
        let _ = writeln!(
            out,
            "| `{}` | {} | {} |",
            change.address,
            cell(&action),
            cell(&effects.join("; "))
        );
    }
    out.push('\n');
}

/// A plan: headline, exposure, the table of changes and the full plan.
pub fn plan(plan: &Plan) -> String {
    let mut out = format!(
        "### secinfra plan: stack `{}` in {}\n\n",
        plan.stack, plan.region
    );
    if !plan.has_changes() {
        out.push_str("No changes: the account matches the blueprint.\n");
        return out;
    }
    let _ = writeln!(out, "**{}**\n", human::summary_line(plan));
    if let Some(line) = human::exposure_line(plan) {
        let mark = if exposure::widens(plan) {
            "⚠️ "
        } else {
            ""
        };
        let _ = writeln!(out, "{mark}{line}\n");
    }
    changes_table(&mut out, plan, "Exposure");
    out.push_str(&details(
        "Full plan",
        &human::plan_in(plan, &Styles::plain(), Detail::Compact),
    ));
    out
}

/// A drift report: whether the account drifted, the differences and where they come from.
pub fn drift(plan: &Plan) -> String {
    let mut out = format!(
        "### secinfra drift: stack `{}` in {}\n\n",
        plan.stack, plan.region
    );
    if !plan.has_changes() {
        out.push_str("No drift: the account matches the blueprint.\n");
        return out;
    }
    let count = plan.actionable().count() + plan.held().count();
    let _ = writeln!(
        out,
        "**The account differs from the blueprint in {count} resource{}.**\n",
        if count == 1 { "" } else { "s" }
    );
    if let Some(origins) = &plan.drift {
        let outside: Vec<String> = origins.outside.iter().map(|a| format!("`{a}`")).collect();
        let unapplied: Vec<String> = origins.unapplied.iter().map(|a| format!("`{a}`")).collect();
        if !outside.is_empty() {
            let _ = writeln!(out, "- Changed outside secinfra: {}", outside.join(", "));
        }
        if !unapplied.is_empty() {
            let _ = writeln!(
                out,
                "- Blueprint edits not yet applied: {}",
                unapplied.join(", ")
            );
        }
        if !origins.unknown.is_empty() {
            let unknown: Vec<String> = origins.unknown.iter().map(|a| format!("`{a}`")).collect();
            let _ = writeln!(
                out,
                "- Origin unknown (no record of the last apply): {}",
                unknown.join(", ")
            );
        }
        out.push('\n');
        if let Some(attribution) = &origins.attribution {
            who_table(&mut out, attribution);
        }
    }
    // Drift rows say what applying the blueprint again does.
    changes_table(&mut out, plan, "Exposure if applied");
    out.push_str(&details(
        "Differences",
        &human::drift(plan, &Styles::plain(), Detail::Compact),
    ));
    out
}

/// Who changed each resource, from CloudTrail: the newest writes, or why none is shown.
fn who_table(out: &mut String, attribution: &Attribution) {
    if let Some(line) = super::attribution::unavailable(attribution) {
        let _ = writeln!(out, "{line}\n");
        return;
    }
    let _ = writeln!(
        out,
        "**Who changed it** (CloudTrail, writes since {}):\n",
        attribution.since
    );
    out.push_str("| Resource | When (UTC) | Call | Who | From |\n|---|---|---|---|---|\n");
    for (address, writes) in &attribution.resources {
        if writes.events.is_empty() {
            let _ = writeln!(out, "| `{address}` | | | no write found | |");
        }
        for event in writes.events.iter().take(super::attribution::SHOWN) {
            let who = if event.by_secinfra {
                format!("{} (a secinfra run)", event.caller)
            } else {
                event.caller.clone()
            };
            let call = match &event.error {
                Some(error) => format!("{} (failed: {error})", event.name),
                None => event.name.clone(),
            };
            let _ = writeln!(
                out,
                "| `{address}` | {} | {} | {} | {} |",
                cell(&event.time),
                cell(&call),
                cell(&who),
                cell(event.source_ip.as_deref().unwrap_or(""))
            );
        }
    }
    for (address, why) in &attribution.not_looked_up {
        let _ = writeln!(out, "| `{address}` | | | not looked up: {} | |", cell(why));
    }
    out.push('\n');
}

/// An audit: the verdict, then one row per finding.
pub fn audit(findings: &[Finding], audited: &Audited<'_>) -> String {
    let subject = match audited.subject {
        "live" => format!("the account (stack `{}`)", audited.stack),
        _ => format!("`{}`", audited.blueprint),
    };
    let mut out = format!("### secinfra audit of {subject}\n\n");
    if findings.is_empty() {
        let _ = writeln!(
            out,
            "No findings: all {} rules are met.",
            crate::audit::RULES.len()
        );
        return out;
    }
    let failing = findings
        .iter()
        .filter(|f| f.fails_at(audited.fail_on))
        .count();
    let open = findings.iter().filter(|f| f.suppressed.is_none()).count();
    let _ = writeln!(
        out,
        "**{open} finding{}, {failing} at {} or above; {} suppressed.**\n",
        if open == 1 { "" } else { "s" },
        audited.fail_on,
        findings.len() - open
    );
    out.push_str(
        "| Severity | Rule | Resource | Where | Finding |\n| --- | --- | --- | --- | --- |\n",
    );
    for f in findings {
        let severity = match &f.suppressed {
            Some(s) => format!("~~{}~~ suppressed until {}", f.severity(), s.expires),
            None => f.severity().to_string(),
        };
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {}: {} |",
            cell(&severity),
            f.rule.id,
            f.address.as_ref().map_or_else(
                || format!("stack `{}`", audited.stack),
                |a| format!("`{a}`")
            ),
            f.location
                .as_ref()
                .map_or_else(String::new, |l| format!("`{l}`")),
            cell(f.rule.title),
            cell(&f.message)
        );
    }
    out
}
