//! Suppressions: findings a team accepts for now, each with a reason, an owner and the
//! last day it holds. Declared in the blueprint (`audit.suppress`) or a file of the same
//! shape (`audit --suppressions FILE`). A suppressed finding is still reported, marked,
//! and never fails a run; an expired suppression suppresses nothing and is itself a
//! finding (`SI000`), so an exception cannot outlive its date unnoticed.

use aws_smithy_types::DateTime;
use aws_smithy_types::date_time::Format;

use super::{Finding, Location, Rule, Severity, rule};
use crate::blueprint::types::{AuditSettings, SuppressionDecl};
use crate::blueprint::{Diagnostic, Diagnostics, Source};
use crate::model::Address;

/// Reported for a suppression past its date.
pub static EXPIRED_SUPPRESSION: Rule = Rule {
    id: "SI000",
    title: "A suppression has expired",
    severity: Severity::High,
    rationale: "An accepted exception is reviewed by its date: renew it with a new reason \
                and date, or fix what it suppressed.",
    control: "Access reviews: Quarterly for admin role",
    prowler: &[],
    checkov: &[],
    check: |_, _| {},
};

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Suppression {
    pub rule: &'static Rule,
    /// Only this resource; `None`: every finding of the rule.
    pub address: Option<Address>,
    pub reason: String,
    pub owner: String,
    /// `YYYY-MM-DD`, the last day it holds.
    pub expires: String,
    /// Days since 1970-01-01 of `expires`.
    expires_day: i64,
    /// Where it is declared.
    pub location: Location,
}

impl Suppression {
    fn covers(&self, finding: &Finding) -> bool {
        self.rule == finding.rule && (self.address.is_none() || self.address == finding.address)
    }

    pub fn expired(&self, today: i64) -> bool {
        today > self.expires_day
    }
}

/// Days since 1970-01-01, today (UTC).
pub fn today() -> i64 {
    DateTime::from(std::time::SystemTime::now()).secs() / 86_400
}

fn day_of(date: &str) -> Option<i64> {
    if date.len() != 10 {
        return None;
    }
    DateTime::from_str(&format!("{date}T00:00:00Z"), Format::DateTime)
        .ok()
        .map(|d| d.secs() / 86_400)
}

/// Checks declared suppressions: a known rule, an address of the form `kind.name`, a
/// reason, an owner and a real date. Every error at once.
pub fn resolve(settings: &AuditSettings, source: &Source) -> Result<Vec<Suppression>, Diagnostics> {
    let mut errors = Diagnostics::default();
    let mut resolved = Vec::new();
    for decl in &settings.suppress {
        match resolve_one(decl, source) {
            Ok(s) => resolved.push(s),
            Err(d) => errors.push(*d),
        }
    }
    if errors.has_errors() {
        Err(errors)
    } else {
        Ok(resolved)
    }
}

fn resolve_one(decl: &SuppressionDecl, source: &Source) -> Result<Suppression, Box<Diagnostic>> {
    let at = |span, message: String, help: &str| {
        Box::new(
            Diagnostic::error(message)
                .with_source(source, span, "")
                .with_help(help.to_string()),
        )
    };
    let Some(rule) = rule(&decl.rule.value) else {
        let ids: Vec<&str> = super::RULES.iter().map(|r| r.id).collect();
        return Err(at(
            decl.rule.span,
            format!("unknown audit rule `{}`", decl.rule.value),
            &format!(
                "rules are {} (`secinfra audit` with no blueprint lists them)",
                ids.join(", ")
            ),
        ));
    };
    let address = match &decl.address {
        None => None,
        Some(a) => Some(a.value.parse::<Address>().map_err(|e| {
            at(
                a.span,
                e,
                "write the resource's address, e.g. security_group.alb",
            )
        })?),
    };
    for (field, value) in [("reason", &decl.reason), ("owner", &decl.owner)] {
        if value.value.trim().is_empty() {
            return Err(at(
                value.span,
                format!("a suppression needs a {field}"),
                "say why the finding is accepted and who answers for it",
            ));
        }
    }
    let expires_day = day_of(&decl.expires.value).ok_or_else(|| {
        at(
            decl.expires.span,
            format!("`{}` is not a date", decl.expires.value),
            "write the last day the suppression holds as YYYY-MM-DD",
        )
    })?;
    Ok(Suppression {
        rule,
        address,
        reason: decl.reason.value.clone(),
        owner: decl.owner.value.clone(),
        expires: decl.expires.value.clone(),
        expires_day,
        location: Location {
            file: source.name.clone(),
            line: decl.rule.span.line,
            column: decl.rule.span.column,
        },
    })
}

/// Marks the findings current suppressions cover, and adds one finding per expired
/// suppression (which covers nothing).
pub fn apply(findings: &mut Vec<Finding>, suppressions: &[Suppression], today: i64) {
    for finding in findings.iter_mut() {
        finding.suppressed = suppressions
            .iter()
            .find(|s| !s.expired(today) && s.covers(finding))
            .cloned();
    }
    for s in suppressions.iter().filter(|s| s.expired(today)) {
        let target = s
            .address
            .as_ref()
            .map_or_else(|| "every resource".to_string(), ToString::to_string);
        findings.push(Finding {
            rule: &EXPIRED_SUPPRESSION,
            address: s.address.clone(),
            message: format!(
                "the suppression of {} for {target} (owner {}) ended on {}; renew it with a new date or fix the finding",
                s.rule.id, s.owner, s.expires
            ),
            location: Some(s.location.clone()),
            suppressed: None,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_days_since_the_epoch() {
        assert_eq!(day_of("1970-01-02"), Some(1));
        assert_eq!(day_of("2027-03-31"), Some(20_908));
        assert_eq!(day_of("2027-02-30"), None);
        assert_eq!(day_of("tomorrow"), None);
        assert_eq!(day_of("2027-3-31"), None);
    }
}
