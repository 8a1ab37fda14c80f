//! The human view of a plan: changes grouped by resource with `+ ~ -/+ -` markers,
//! field-level before → after, and the summary line. It only renders; the plan is
//! computed elsewhere.

use std::fmt::Write;

use serde_json::Value;

use super::style::Styles;
use crate::model::SecurityGroupRule;
use crate::plan::{Action, Change, Diff, Plan};

pub fn plan(plan: &Plan, styles: &Styles) -> String {
    let mut out = String::new();
    let actionable: Vec<&Change> = plan.actionable().collect();
    let held: Vec<&Change> = plan.held().collect();
    if actionable.is_empty() && held.is_empty() {
        let _ = writeln!(
            out,
            "No changes. Stack {} in {} matches the blueprint ({} resource{}).",
            plan.stack,
            plan.region,
            plan.changes.len(),
            if plan.changes.len() == 1 { "" } else { "s" }
        );
        if notes(&mut out, plan, styles) {
            out.push('\n');
        }
        return out;
    }
    let _ = writeln!(
        out,
        "secinfra will make these changes to stack {} in {}:\n",
        styles.bold(&plan.stack),
        plan.region
    );
    for change in actionable {
        render_change(&mut out, change, styles);
        out.push('\n');
    }
    for change in held {
        let reason = change.held.as_deref().unwrap_or_default();
        let _ = writeln!(
            out,
            "  {} {} {}\n",
            styles.warning("!"),
            styles.bold(&change.address.to_string()),
            styles.dim(&format!("— {reason}"))
        );
    }
    if notes(&mut out, plan, styles) {
        out.push('\n');
    }
    let _ = writeln!(out, "{}", summary_line(plan));
    out
}

/// What the plan knows but is not a change: fields AWS did not report (not compared;
/// said rather than implying they match) and changes AWS has accepted but applies later
/// (a reboot pending). Returns whether there were any.
fn notes(out: &mut String, plan: &Plan, styles: &Styles) -> bool {
    let unobserved = unobserved_notes(out, plan, styles);
    pending_notes(out, plan, styles) || unobserved
}

/// Changes AWS has accepted but applies later, one line each.
pub fn pending_notes(out: &mut String, plan: &Plan, styles: &Styles) -> bool {
    let mut any = false;
    for change in &plan.changes {
        let Some(before) = change
            .before
            .as_ref()
            .filter(|_| change.action != Action::Delete)
        else {
            continue;
        };
        for pending in &before.pending {
            any = true;
            let _ = writeln!(
                out,
                "  {} {} {}",
                styles.warning("↻"),
                styles.bold(&change.address.to_string()),
                styles.dim(&format!("— {pending}"))
            );
        }
    }
    any
}

fn unobserved_notes(out: &mut String, plan: &Plan, styles: &Styles) -> bool {
    let mut any = false;
    for change in &plan.changes {
        let Some(before) = &change.before else {
            continue;
        };
        if before.unobserved.is_empty() || change.action == Action::Delete || change.held.is_some()
        {
            continue;
        }
        any = true;
        let fields: Vec<&str> = before.unobserved.iter().map(String::as_str).collect();
        let _ = writeln!(
            out,
            "  {} {} {}",
            styles.warning("?"),
            styles.bold(&change.address.to_string()),
            styles.dim(&format!(
                "— not reported by AWS this time, so not compared: {}",
                fields.join(", ")
            ))
        );
    }
    any
}

pub fn summary_line(plan: &Plan) -> String {
    let s = &plan.summary;
    let held = if s.held > 0 {
        format!(", {} held", s.held)
    } else {
        String::new()
    };
    format!(
        "Plan: {} to add, {} to change, {} to replace, {} to destroy{held}.",
        s.add, s.change, s.replace, s.destroy
    )
}

fn render_change(out: &mut String, change: &Change, styles: &Styles) {
    let marker = styles.action(change.action, change.action.symbol());
    let _ = write!(
        out,
        "  {marker} {}",
        styles.bold(&change.address.to_string())
    );
    if let Some(id) = change
        .before
        .as_ref()
        .map(|b| b.id.as_str())
        .filter(|_| change.action != Action::Create)
    {
        let _ = write!(out, " {}", styles.dim(&format!("({id})")));
    }
    if let Some(reason) = &change.reason {
        let _ = write!(out, " {}", styles.dim(&format!("— {reason}")));
    }
    out.push('\n');
    let diffs: Vec<&Diff> = match change.action {
        Action::Delete => Vec::new(),
        Action::Create => change
            .diffs
            .iter()
            .filter(|d| d.field() != "tags")
            .collect(),
        _ => change.diffs.iter().collect(),
    };
    let shows_tags = change.action == Action::Create
        && change.after.as_ref().is_some_and(|a| !a.tags.is_empty());
    let width = diffs
        .iter()
        .map(|d| d.path.len())
        .chain(shows_tags.then_some("tags".len()))
        .max()
        .unwrap_or(0);
    for diff in diffs {
        render_diff(out, change, diff, width, styles);
    }
    if shows_tags && let Some(after) = &change.after {
        let tags: Vec<String> = after.tags.iter().map(|(k, v)| format!("{k}={v}")).collect();
        let _ = writeln!(
            out,
            "      {:width$}  {}",
            "tags:",
            tags.join(", "),
            width = width + 1
        );
    }
}

fn render_diff(out: &mut String, change: &Change, diff: &Diff, width: usize, styles: &Styles) {
    let label = format!("{}:", diff.path);
    let forces =
        change.action == Action::Replace && diff.mode(change.kind) == crate::model::Mode::ForceNew;
    let note = if forces {
        styles.dim("  # forces replacement")
    } else {
        String::new()
    };
    // A sensitive field's plan value is a description (how a secret is generated), never
    // the secret; it is still marked so a reader knows secret material is involved.
    let value = |v: &Value| {
        if diff.sensitive {
            format!("(sensitive) {}", show(v))
        } else {
            show(v)
        }
    };
    let line = match (&diff.before, &diff.after, is_set_element(change, diff)) {
        (before, after, true) if before == after => {
            styles.update(&format!("~ {} (re-created)", value(after)))
        }
        (Value::Null, after, true) => styles.create(&format!("+ {}", value(after))),
        (before, Value::Null, true) => styles.delete(&format!("- {}", value(before))),
        (Value::Null, after, false) if change.action == Action::Create => value(after),
        (before, after, false) if before == after => format!("{} (re-created)", value(after)),
        (Value::Null, after, false) => format!(
            "{} → {}",
            styles.dim("(none)"),
            styles.create(&value(after))
        ),
        (before, Value::Null, false) => format!(
            "{} → {}",
            styles.delete(&value(before)),
            styles.dim("(none)")
        ),
        (before, after, _) => format!(
            "{} → {}",
            styles.delete(&value(before)),
            styles.create(&value(after))
        ),
    };
    let line = indent_continuation(&line, width + 9);
    let _ = writeln!(out, "      {label:width$}  {line}{note}", width = width + 1);
}

/// A whole element of a set (or keyed set) added or removed, rather than a changed value.
fn is_set_element(change: &Change, diff: &Diff) -> bool {
    use crate::model::Shape;
    change
        .kind
        .field(diff.field())
        .is_some_and(|f| match f.shape {
            Shape::Set => true,
            Shape::Keyed(_) => diff.path == diff.field(),
            Shape::Scalar | Shape::Map => false,
        })
}

/// Values as a person reads them: strings bare, lists inline, documents pretty-printed.
fn show(value: &Value) -> String {
    // A security group rule (an object in the JSON plan) reads as its one line.
    if value.is_object()
        && let Ok(rule) = serde_json::from_value::<SecurityGroupRule>(value.clone())
    {
        return rule.to_string();
    }
    match value {
        Value::Null => "(none)".into(),
        Value::String(s) => s.clone(),
        Value::Array(items) if items.iter().all(|v| !v.is_object()) => {
            format!(
                "[{}]",
                items.iter().map(show).collect::<Vec<_>>().join(", ")
            )
        }
        // A flat record (a WAF rule, a secret's recipe) reads best on one line.
        Value::Object(map) if map.values().all(is_flat) => map
            .iter()
            .map(|(k, v)| format!("{k}: {}", show(v)))
            .collect::<Vec<_>>()
            .join(", "),
        Value::Object(_) | Value::Array(_) => {
            serde_json::to_string_pretty(value).unwrap_or_default()
        }
        other => other.to_string(),
    }
}

/// A scalar, or a list of scalars.
fn is_flat(value: &Value) -> bool {
    match value {
        Value::Object(_) => false,
        Value::Array(items) => items.iter().all(|v| !v.is_object() && !v.is_array()),
        _ => true,
    }
}

fn indent_continuation(text: &str, indent: usize) -> String {
    let pad = " ".repeat(indent);
    text.lines()
        .enumerate()
        .fold(String::new(), |mut acc, (i, line)| {
            if i > 0 {
                acc.push('\n');
                acc.push_str(&pad);
            }
            acc.push_str(line);
            acc
        })
}
