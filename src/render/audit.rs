//! Views of an audit's findings: a table for people, JSON for scripts, SARIF 2.1.0 for
//! code scanning (GitHub, GitLab, Azure DevOps), and GitHub workflow annotations.

use serde_json::{Value, json};

use super::Styles;
use crate::audit::suppress::EXPIRED_SUPPRESSION;
use crate::audit::{Finding, RULES, Rule, Severity};

/// What was judged, for headings and documents.
pub struct Audited<'a> {
    pub stack: &'a str,
    /// The blueprint file, as given.
    pub blueprint: &'a str,
    /// `blueprint` or `live`.
    pub subject: &'a str,
    pub fail_on: Severity,
}

/// Every rule a finding may name, the expired-suppression rule last.
pub fn all_rules() -> impl Iterator<Item = &'static Rule> {
    RULES.iter().chain(std::iter::once(&EXPIRED_SUPPRESSION))
}

fn count_line(findings: &[Finding], audited: &Audited<'_>) -> String {
    let open: Vec<&Finding> = findings.iter().filter(|f| f.suppressed.is_none()).collect();
    let suppressed = findings.len() - open.len();
    let failing = findings
        .iter()
        .filter(|f| f.fails_at(audited.fail_on))
        .count();
    let mut by = Vec::new();
    for severity in [
        Severity::Critical,
        Severity::High,
        Severity::Medium,
        Severity::Low,
    ] {
        let n = open.iter().filter(|f| f.severity() == severity).count();
        if n > 0 {
            by.push(format!("{n} {severity}"));
        }
    }
    let mut line = format!(
        "{} finding{}",
        open.len(),
        if open.len() == 1 { "" } else { "s" }
    );
    if !by.is_empty() {
        line.push_str(&format!(" ({})", by.join(", ")));
    }
    if suppressed > 0 {
        line.push_str(&format!(", {suppressed} suppressed"));
    }
    line.push_str(&format!(
        "; {failing} at {} or above",
        audited.fail_on.as_str()
    ));
    line
}

/// The findings as a table: severity, rule, resource and place, then what is wrong.
pub fn table(findings: &[Finding], audited: &Audited<'_>, styles: &Styles) -> String {
    let subject = match audited.subject {
        "live" => format!("the account (stack {})", audited.stack),
        _ => audited.blueprint.to_string(),
    };
    if findings.is_empty() {
        return format!(
            "{} {subject} meets all {} rules.\n",
            styles.create("No findings:"),
            RULES.len()
        );
    }
    let rows: Vec<[String; 4]> = findings
        .iter()
        .map(|f| {
            [
                f.severity().to_string(),
                f.rule.id.to_string(),
                f.address
                    .as_ref()
                    .map_or_else(|| format!("stack {}", audited.stack), ToString::to_string),
                f.location
                    .as_ref()
                    .map(ToString::to_string)
                    .unwrap_or_default(),
            ]
        })
        .collect();
    let header = ["SEVERITY", "RULE", "RESOURCE", "DECLARED AT"];
    let widths: Vec<usize> = (0..4)
        .map(|i| {
            rows.iter()
                .map(|r| r[i].len())
                .chain([header[i].len()])
                .max()
                .unwrap_or(0)
        })
        .collect();
    let pad = |cells: &[String], i: usize| format!("{:<w$}", cells[i], w = widths[i]);
    let mut out = format!(
        "Audit of {subject}\n\n{}\n",
        styles.dim(
            header
                .iter()
                .enumerate()
                .map(|(i, h)| format!("{h:<w$}", w = widths[i]))
                .collect::<Vec<_>>()
                .join("  ")
                .trim_end()
        )
    );
    for (finding, row) in findings.iter().zip(&rows) {
        let severity = pad(row, 0);
        let severity = match (finding.suppressed.is_some(), finding.severity()) {
            (true, _) => styles.dim(&severity),
            (false, Severity::Critical | Severity::High) => styles.delete(&severity),
            (false, Severity::Medium) => styles.update(&severity),
            (false, Severity::Low) => severity,
        };
        let line = format!("{severity}  {}  {}  {}", pad(row, 1), pad(row, 2), row[3]);
        out.push_str(line.trim_end());
        out.push('\n');
        out.push_str(&format!(
            "    {}: {}\n",
            finding.rule.title, finding.message
        ));
        if let Some(s) = &finding.suppressed {
            out.push_str(&styles.dim(&format!(
                "    suppressed until {} by {}: {} ({})\n",
                s.expires, s.owner, s.reason, s.location
            )));
        }
    }
    out.push('\n');
    out.push_str(&count_line(findings, audited));
    out.push('\n');
    out
}

fn finding_json(f: &Finding) -> Value {
    let mut value = json!({
        "rule": f.rule.id,
        "title": f.rule.title,
        "severity": f.severity(),
        "address": f.address.as_ref().map(ToString::to_string),
        "message": f.message,
        "location": f.location.as_ref().map(|l| json!({
            "file": l.file, "line": l.line, "column": l.column,
        })),
        "prowler": f.rule.prowler,
        "checkov": f.rule.checkov,
    });
    if let Some(s) = &f.suppressed {
        value["suppressed"] = json!({
            "reason": s.reason,
            "owner": s.owner,
            "expires": s.expires,
            "declared_at": s.location.to_string(),
        });
    }
    value
}

/// The findings as one JSON document.
pub fn json(findings: &[Finding], audited: &Audited<'_>) -> String {
    let failing = findings
        .iter()
        .filter(|f| f.fails_at(audited.fail_on))
        .count();
    let document = json!({
        "format_version": 1,
        "stack": audited.stack,
        "blueprint": audited.blueprint,
        "subject": audited.subject,
        "fail_on": audited.fail_on,
        "summary": {
            "findings": findings.iter().filter(|f| f.suppressed.is_none()).count(),
            "suppressed": findings.iter().filter(|f| f.suppressed.is_some()).count(),
            "failing": failing,
        },
        "findings": findings.iter().map(finding_json).collect::<Vec<_>>(),
    });
    serde_json::to_string_pretty(&document).unwrap_or_default()
}

fn sarif_level(severity: Severity) -> &'static str {
    match severity {
        Severity::Critical | Severity::High => "error",
        Severity::Medium => "warning",
        Severity::Low => "note",
    }
}

/// GitHub code scanning orders alerts by this number (0.1-10.0), as CVSS does.
fn security_severity(severity: Severity) -> &'static str {
    match severity {
        Severity::Critical => "9.5",
        Severity::High => "8.0",
        Severity::Medium => "5.5",
        Severity::Low => "3.0",
    }
}

fn rule_help(rule: &Rule) -> String {
    let mut help = format!("{}\n\nSeed control: {}", rule.rationale, rule.control);
    if !rule.prowler.is_empty() {
        help.push_str(&format!("\nProwler: {}", rule.prowler.join(", ")));
    }
    if !rule.checkov.is_empty() {
        help.push_str(&format!("\nCheckov: {}", rule.checkov.join(", ")));
    }
    help
}

/// The findings as a SARIF 2.1.0 log (OASIS), one run, every rule described.
pub fn sarif(findings: &[Finding], audited: &Audited<'_>) -> String {
    let rules: Vec<&Rule> = all_rules().collect();
    let descriptors: Vec<Value> = rules
        .iter()
        .map(|r| {
            json!({
                "id": r.id,
                "name": r.title,
                "shortDescription": { "text": r.title },
                "fullDescription": { "text": r.rationale },
                "help": { "text": rule_help(r) },
                "defaultConfiguration": { "level": sarif_level(r.severity) },
                "properties": {
                    "tags": ["security"],
                    "security-severity": security_severity(r.severity),
                    "severity": r.severity,
                    "prowler": r.prowler,
                    "checkov": r.checkov,
                },
            })
        })
        .collect();
    let results: Vec<Value> = findings
        .iter()
        .map(|f| {
            let index = rules.iter().position(|r| *r == f.rule).unwrap_or(0);
            let mut location = json!({});
            if let Some(l) = &f.location {
                location["physicalLocation"] = json!({
                    "artifactLocation": { "uri": sarif_uri(&l.file) },
                    "region": { "startLine": l.line, "startColumn": l.column },
                });
            }
            if let Some(a) = &f.address {
                location["logicalLocations"] =
                    json!([{ "fullyQualifiedName": a.to_string(), "kind": "resource" }]);
            }
            let mut result = json!({
                "ruleId": f.rule.id,
                "ruleIndex": index,
                "level": sarif_level(f.severity()),
                "message": { "text": f.message },
                "locations": [location],
            });
            if let Some(s) = &f.suppressed {
                result["suppressions"] = json!([{
                    "kind": "inSource",
                    "status": "accepted",
                    "justification": format!("{} (owner {}, until {})", s.reason, s.owner, s.expires),
                }]);
            }
            result
        })
        .collect();
    let document = json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": { "driver": {
                "name": "secinfra",
                "semanticVersion": env!("CARGO_PKG_VERSION"),
                "rules": descriptors,
            }},
            "automationDetails": { "id": format!("secinfra-audit/{}/{}/", audited.stack, audited.subject) },
            "results": results,
        }],
    });
    serde_json::to_string_pretty(&document).unwrap_or_default()
}

/// The blueprint's URI: relative as given (code scanning resolves it against the
/// checkout), or a `file://` URI for an absolute path (SARIF 2.1.0 §3.4.3: a relative
/// reference must not begin with a slash).
fn sarif_uri(path: &str) -> String {
    let path = path.strip_prefix("./").unwrap_or(path).replace('\\', "/");
    let encoded = percent_encoding::utf8_percent_encode(&path, URI_UNSAFE).to_string();
    if path.starts_with('/') {
        format!("file://{encoded}")
    } else {
        encoded
    }
}

const URI_UNSAFE: &percent_encoding::AsciiSet = &percent_encoding::CONTROLS
    .add(b' ')
    .add(b'"')
    .add(b'#')
    .add(b'%')
    .add(b'<')
    .add(b'>')
    .add(b'?')
    .add(b'`')
    .add(b'{')
    .add(b'}');

/// GitHub Actions workflow commands, one per open finding, so findings show on the
/// lines of a pull request's diff (`::error file=...,line=...::`).
pub fn github_annotations(findings: &[Finding], fail_on: Severity) -> String {
    let mut out = String::new();
    for f in findings.iter().filter(|f| f.suppressed.is_none()) {
        let command = if f.fails_at(fail_on) {
            "error"
        } else {
            "warning"
        };
        let subject = f
            .address
            .as_ref()
            .map_or_else(String::new, |a| format!("{a}: "));
        out.push_str(&github_annotation(
            command,
            f.location
                .as_ref()
                .map(|l| (l.file.as_str(), l.line, l.column)),
            &format!("{} {}", f.rule.id, f.rule.title),
            &format!("{subject}{}", f.message),
        ));
    }
    out
}

/// One GitHub Actions workflow command (`::error file=...,line=...,col=...,title=...::`).
pub fn github_annotation(
    command: &str,
    place: Option<(&str, u32, u32)>,
    title: &str,
    message: &str,
) -> String {
    let mut props = Vec::new();
    if let Some((file, line, column)) = place {
        props.push(format!("file={}", escape_property(file)));
        if line > 0 {
            props.push(format!("line={line}"));
            props.push(format!("col={column}"));
        }
    }
    props.push(format!("title={}", escape_property(title)));
    format!(
        "::{command} {}::{}\n",
        props.join(","),
        escape_data(message)
    )
}

// https://github.com/actions/toolkit/blob/main/packages/core/src/command.ts escapes data
// and properties this way.
fn escape_data(s: &str) -> String {
    s.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

fn escape_property(s: &str) -> String {
    escape_data(s).replace(':', "%3A").replace(',', "%2C")
}
