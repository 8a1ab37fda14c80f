//! The human view of a plan: changes grouped by resource with `+ ~ -/+ -` markers,
//! field-level before → after, and the summary line. It only renders; the plan is
//! computed elsewhere.

use std::fmt::Write;

use serde_json::Value;

use super::style::Styles;
use crate::model::{SecurityGroupRule, TAG_ADDRESS, Tags};
use crate::plan::exposure::{self, Direction};
use crate::plan::{Action, Change, Diff, Plan};

/// How much of a created resource's documents the view prints.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Detail {
    /// A created resource's policy documents folded to one line each (the default).
    Compact,
    /// Every document in full (`-v`).
    Full,
}

pub fn plan(plan: &Plan, styles: &Styles) -> String {
    plan_in(plan, styles, Detail::Compact)
}

pub fn plan_in(plan: &Plan, styles: &Styles, detail: Detail) -> String {
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
    let shared = shared_new_tags(&actionable);
    if !shared.is_empty() {
        let tags: Vec<String> = shared.iter().map(|(k, v)| format!("{k}={v}")).collect();
        let _ = writeln!(
            out,
            "  {}\n",
            styles.dim(&format!(
                "Every new resource is tagged {} and {TAG_ADDRESS}=<its address>.",
                tags.join(", ")
            ))
        );
    }
    for change in actionable {
        render_change(&mut out, change, styles, detail, &shared);
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
    if let Some(line) = exposure_line(plan) {
        let _ = writeln!(out, "{line}");
    }
    out
}

/// Which changes widen exposure, or that the plan only narrows it.
pub fn exposure_line(plan: &Plan) -> Option<String> {
    let effects = exposure::of_plan(plan);
    let widening: Vec<String> = effects
        .iter()
        .filter(|(_, e)| e.iter().any(|e| e.direction == Direction::Widens))
        .map(|(c, _)| c.address.to_string())
        .collect();
    if !widening.is_empty() {
        return Some(format!(
            "Exposure: {} change{} widen{} it ({}).",
            widening.len(),
            if widening.len() == 1 { "" } else { "s" },
            if widening.len() == 1 { "s" } else { "" },
            widening.join(", ")
        ));
    }
    (!effects.is_empty()).then(|| {
        format!(
            "Exposure: this plan only narrows it ({} change{}).",
            effects.len(),
            if effects.len() == 1 { "" } else { "s" }
        )
    })
}

/// The drift view: the plan's differences grouped by where they come from (`plan.drift`),
/// each as the plan shows it; apply would make the blueprint true again for all of them.
pub fn drift(plan: &Plan, styles: &Styles, detail: Detail) -> String {
    let mut out = String::new();
    if !plan.has_changes() {
        let _ = writeln!(
            out,
            "No drift: stack {} in {} matches the blueprint.",
            plan.stack, plan.region
        );
        return out;
    }
    let _ = writeln!(
        out,
        "Drift: stack {} in {} differs from the blueprint.\n",
        styles.bold(&plan.stack),
        plan.region
    );
    let origins = plan.drift.clone().unwrap_or_default();
    let since = origins
        .last_apply
        .as_deref()
        .map(|t| format!(" (last apply {t})"))
        .unwrap_or_default();
    // Each group shows a resource with the diffs of its origin only.
    let groups: [(String, &Vec<crate::model::Address>, Option<bool>); 3] = [
        (
            format!("Changed outside secinfra since the last apply{since}; apply puts them back:"),
            &origins.outside,
            Some(true),
        ),
        (
            "Blueprint edits not yet applied; apply makes them:".to_string(),
            &origins.unapplied,
            Some(false),
        ),
        (
            "Differences (no record of a complete apply says where they come from):".to_string(),
            &origins.unknown,
            None,
        ),
    ];
    let none = Tags::new();
    for (heading, addresses, outside) in groups {
        if addresses.is_empty() {
            continue;
        }
        let _ = writeln!(out, "{}\n", styles.bold(&heading));
        for change in addresses.iter().filter_map(|a| plan.change(a)) {
            let mut change = change.clone();
            if let Some(outside) = outside {
                change
                    .diffs
                    .retain(|d| origins.is_outside(&change.address, d) == outside);
            }
            let change = &change;
            match &change.held {
                Some(reason) => {
                    let _ = writeln!(
                        out,
                        "  {} {} {}",
                        styles.warning("!"),
                        styles.bold(&change.address.to_string()),
                        styles.dim(&format!("— {reason}"))
                    );
                }
                None => render_change(&mut out, change, styles, detail, &none),
            }
            // Who changed it: only for what an apply did not do.
            if let (Some(attribution), true) = (&origins.attribution, outside != Some(false)) {
                for line in super::attribution::lines(&change.address, attribution) {
                    let _ = writeln!(out, "    {}", styles.dim(&line));
                }
            }
            out.push('\n');
        }
    }
    if let Some(line) = origins
        .attribution
        .as_ref()
        .and_then(super::attribution::unavailable)
    {
        let _ = writeln!(out, "{}\n", styles.warning(&line));
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

/// Tags every created resource carries alike (the blueprint's, the stack's), said once
/// for the plan rather than on every resource; none when fewer than two are created.
fn shared_new_tags(changes: &[&Change]) -> Tags {
    let mut created = changes
        .iter()
        .filter(|c| c.action == Action::Create)
        .filter_map(|c| c.after.as_ref());
    let Some(first) = created.next() else {
        return Tags::new();
    };
    let mut shared = first.tags.clone();
    let mut count = 1;
    for resource in created {
        shared.retain(|k, v| resource.tags.get(k) == Some(v));
        count += 1;
    }
    if count < 2 {
        return Tags::new();
    }
    shared.remove(TAG_ADDRESS);
    shared
}

fn render_change(
    out: &mut String,
    change: &Change,
    styles: &Styles,
    detail: Detail,
    shared: &Tags,
) {
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
    for effect in exposure::of(change) {
        let line = match effect.direction {
            Direction::Widens => styles.warning(&format!("widens exposure: {}", effect.what)),
            Direction::Narrows => styles.dim(&format!("narrows exposure: {}", effect.what)),
        };
        let _ = writeln!(out, "      {line}");
    }
    let mut diffs: Vec<&Diff> = match change.action {
        Action::Delete => Vec::new(),
        Action::Create => change
            .diffs
            .iter()
            .filter(|d| d.field() != "tags")
            .collect(),
        _ => change.diffs.iter().collect(),
    };
    in_priority_order(change, &mut diffs);
    // A created resource's own tags: those not shared by every new one, and its address
    // tag only when it is not its address.
    let own_tags: Vec<String> = match (&change.after, change.action) {
        (Some(after), Action::Create) => after
            .tags
            .iter()
            .filter(|(k, v)| {
                !(shared.contains_key(*k)
                    || (!shared.is_empty()
                        && k.as_str() == TAG_ADDRESS
                        && **v == change.address.to_string()))
            })
            .map(|(k, v)| format!("{k}={v}"))
            .collect(),
        _ => Vec::new(),
    };
    let shows_tags = !own_tags.is_empty();
    let width = diffs
        .iter()
        .map(|d| d.path.len())
        .chain(shows_tags.then_some("tags".len()))
        .max()
        .unwrap_or(0);
    for diff in diffs {
        render_diff(out, change, diff, width, styles, detail);
    }
    if shows_tags {
        let tags = own_tags;
        let _ = writeln!(
            out,
            "      {:width$}  {}",
            "tags:",
            tags.join(", "),
            width = width + 1
        );
    }
}

fn render_diff(
    out: &mut String,
    change: &Change,
    diff: &Diff,
    width: usize,
    styles: &Styles,
    detail: Detail,
) {
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
        (Value::Null, after, false)
            if change.action == Action::Create
                && detail == Detail::Compact
                && is_document(after) =>
        {
            styles.dim(&format!(
                "(document, {} lines; -v shows it)",
                show(after).lines().count()
            ))
        }
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
        (before, after, false) if is_document(before) && is_document(after) && !diff.sensitive => {
            document_diff(before, after, styles)
        }
        (before, after, _) => format!(
            "{} → {}",
            styles.delete(&value(before)),
            styles.create(&value(after))
        ),
    };
    let line = indent_continuation(&line, width + 9);
    let _ = writeln!(out, "      {label:width$}  {line}{note}", width = width + 1);
}

/// Diffs of a list whose elements have a `priority` (web ACL rules) in the order AWS
/// evaluates them, not by name; other diffs keep their place.
fn in_priority_order(change: &Change, diffs: &mut [&Diff]) {
    let fields: Vec<&str> = diffs.iter().map(|d| d.field()).collect();
    let place = |d: &Diff| fields.iter().position(|f| *f == d.field()).unwrap_or(0);
    diffs.sort_by_key(|d| (place(d), element_priority(change, d).unwrap_or(i64::MAX)));
}

/// The priority of the list element a diff is about: the element itself (added or
/// removed), or the one its path names (`rules.<name>.limit`).
fn element_priority(change: &Change, diff: &Diff) -> Option<i64> {
    let own = [&diff.after, &diff.before]
        .into_iter()
        .find_map(|v| v.get("priority").and_then(Value::as_i64));
    if own.is_some() {
        return own;
    }
    let rest = diff.path.strip_prefix(diff.field())?.strip_prefix('.')?;
    let props = change
        .after
        .as_ref()
        .map(|r| &r.props)
        .or(change.before.as_ref().map(|r| &r.props))?;
    let props = props.to_value();
    props
        .get(diff.field())?
        .as_array()?
        .iter()
        .find(|element| {
            element
                .get("name")
                .and_then(Value::as_str)
                .is_some_and(|name| rest.starts_with(&format!("{name}.")))
        })?
        .get("priority")?
        .as_i64()
}

/// A value `show` prints over several lines (a policy document, nested records).
fn is_document(value: &Value) -> bool {
    show(value).lines().nth(1).is_some()
}

/// Lines of context kept around each changed line of a document.
const DOCUMENT_CONTEXT: usize = 2;

/// Two documents as a line diff (as Terraform shows a policy): the changed lines with a
/// little context, `-` and `+` marked, the rest folded into `...`.
fn document_diff(before: &Value, after: &Value, styles: &Styles) -> String {
    let (old, new) = (show(before), show(after));
    let diff = similar::TextDiff::from_lines(&old, &new);
    let (mut removed, mut added) = (0, 0);
    let mut lines = Vec::new();
    for (i, group) in diff.grouped_ops(DOCUMENT_CONTEXT).iter().enumerate() {
        if i > 0 {
            lines.push(styles.dim("  ..."));
        }
        for op in group {
            for change in diff.iter_changes(op) {
                let text = change.value().trim_end_matches('\n');
                lines.push(match change.tag() {
                    similar::ChangeTag::Equal => format!("  {text}"),
                    similar::ChangeTag::Delete => {
                        removed += 1;
                        styles.delete(&format!("- {text}"))
                    }
                    similar::ChangeTag::Insert => {
                        added += 1;
                        styles.create(&format!("+ {text}"))
                    }
                });
            }
        }
    }
    let head = styles.dim(&format!(
        "(document: {added} line{} added, {removed} removed)",
        if added == 1 { "" } else { "s" }
    ));
    std::iter::once(head)
        .chain(lines)
        .collect::<Vec<_>>()
        .join("\n")
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
