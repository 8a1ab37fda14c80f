//! `secinfra audit BLUEPRINT [--live]`: the security rules (`crate::audit`) over the
//! blueprint, or with `--live` over what discovery finds in the account (so a change made
//! outside secinfra is judged too). Exit 3 when a finding at or above `--fail-on` is not
//! suppressed.

use super::{Exit, Failure, Goal, Session, load, prepare, print};
use crate::audit::suppress::{self, Suppression};
use crate::audit::{Finding, Inventory, Severity, audit, locate};
use crate::blueprint::{self, Loaded, Target};
use crate::cli::{AuditArgs, AuditFormat};
use crate::render::audit::{self as view, Audited};

pub async fn run(session: &Session, args: &AuditArgs) -> Result<Exit, Failure> {
    let Some(path) = args.blueprint.as_deref() else {
        print(&rule_list())?;
        return Ok(Exit::Success);
    };
    let loaded = load(session, path)?;
    let validated = loaded.validate(&Target {
        region: session.global.region.clone(),
        account: None,
    })?;
    let suppressions = suppressions(&loaded, args)?;
    let mut findings = if args.live {
        let prepared = prepare(session, path, Goal::Blueprint, Default::default(), None).await?;
        // What the stack has: resources found by name without its tag are someone else's.
        let found = prepared
            .plan
            .changes
            .iter()
            .filter_map(|c| c.before.as_ref())
            .filter(|r| !r.unmanaged)
            .map(|r| (&r.address, &r.props));
        audit(&Inventory::live(found, &prepared.desired))
    } else {
        audit(&Inventory::declared(&validated.desired))
    };
    locate(&mut findings, &loaded);
    suppress::apply(&mut findings, &suppressions, suppress::today());
    let blueprint = path.display().to_string();
    let audited = Audited {
        stack: &validated.desired.stack,
        blueprint: &blueprint,
        subject: if args.live { "live" } else { "blueprint" },
        fail_on: args.fail_on,
    };
    print(&render(&findings, &audited, args.format, session))?;
    Ok(verdict(&findings, args.fail_on))
}

/// Exit 3 when anything at or above `fail_on` is open.
pub fn verdict(findings: &[Finding], fail_on: Severity) -> Exit {
    if findings.iter().any(|f| f.fails_at(fail_on)) {
        Exit::Violations
    } else {
        Exit::Success
    }
}

fn render(
    findings: &[Finding],
    audited: &Audited<'_>,
    format: AuditFormat,
    session: &Session,
) -> String {
    match format {
        AuditFormat::Table => view::table(findings, audited, &session.out),
        AuditFormat::Json => view::json(findings, audited) + "\n",
        AuditFormat::Sarif => view::sarif(findings, audited) + "\n",
        AuditFormat::Github => view::github_annotations(findings, audited.fail_on),
        AuditFormat::Markdown => crate::render::markdown::audit(findings, audited),
    }
}

/// The blueprint's suppressions and those of `--suppressions FILE`.
fn suppressions(loaded: &Loaded, args: &AuditArgs) -> Result<Vec<Suppression>, Failure> {
    let mut all = match &loaded.blueprint.audit {
        Some(settings) => suppress::resolve(settings, &loaded.source)?,
        None => Vec::new(),
    };
    if let Some(file) = &args.suppressions {
        let (settings, source) = blueprint::load_audit_settings(file)?;
        all.extend(suppress::resolve(&settings, &source)?);
    }
    Ok(all)
}

/// `audit` without a blueprint: every rule, for choosing what to suppress or fail on.
fn rule_list() -> String {
    let mut out = String::new();
    for rule in view::all_rules() {
        out.push_str(&format!(
            "{}  {:<8}  {}\n",
            rule.id,
            rule.severity.as_str(),
            rule.title
        ));
        let mut refs = Vec::new();
        if !rule.prowler.is_empty() {
            refs.push(format!("Prowler {}", rule.prowler.join(", ")));
        }
        if !rule.checkov.is_empty() {
            refs.push(format!("Checkov {}", rule.checkov.join(", ")));
        }
        if !refs.is_empty() {
            out.push_str(&format!("       {}\n", refs.join("; ")));
        }
    }
    out
}
