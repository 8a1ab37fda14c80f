//! `secinfra validate BLUEPRINT`: parse and check the blueprint — and, without `--env`,
//! every environment overlay it declares — without any AWS call.

use super::{Exit, Failure, Session, print};
use crate::audit::{Finding, Inventory, suppress};
use crate::blueprint::{self, Diagnostic, Diagnostics, Loaded, Target};
use crate::cli::{ValidateArgs, ValidateFormat};
use crate::model::Desired;

pub fn run(session: &Session, args: &ValidateArgs) -> Result<Exit, Failure> {
    let selected = session.global.env.as_deref();
    let base = blueprint::load(&args.blueprint, selected)?;
    let target = Target {
        region: session.global.region.clone(),
        account: None,
    };
    let mut errors = Diagnostics::default();
    let mut lines = Vec::new();
    let desired = check(
        session,
        args,
        &base,
        selected,
        &target,
        &mut errors,
        &mut lines,
    );

    // Without --env, every overlay is checked too; its errors say which environment they
    // come from, and errors the base blueprint already has are not repeated.
    if selected.is_none() {
        let base_errors: Vec<(Option<String>, String)> = errors.items.iter().map(key).collect();
        for env in &base.environments {
            let mut found = Diagnostics::default();
            match blueprint::load_source(base.source.clone(), Some(env)) {
                Ok(loaded) => {
                    check(
                        session,
                        args,
                        &loaded,
                        Some(env),
                        &target,
                        &mut found,
                        &mut lines,
                    );
                }
                Err(d) => found.items.extend(d.items),
            }
            for mut diagnostic in found.items {
                if !base_errors.contains(&key(&diagnostic)) {
                    diagnostic.message = format!("{} (with --env {env})", diagnostic.message);
                    errors.push(diagnostic);
                }
            }
        }
    }
    if errors.has_errors() {
        if args.format == ValidateFormat::Github {
            print(&annotate_errors(&errors))?;
        }
        return Err(Failure::Blueprint(errors));
    }
    let findings = match &desired {
        Some(desired) => audit(session, &base, desired)?,
        None => Vec::new(),
    };
    print(&(lines.join("\n") + "\n"))?;
    if args.format == ValidateFormat::Github {
        let threshold = args.fail_on.unwrap_or(crate::audit::Severity::Critical);
        print(&crate::render::audit::github_annotations(
            &findings, threshold,
        ))?;
    }
    Ok(match args.fail_on {
        Some(threshold) => super::audit::verdict(&findings, threshold),
        None => Exit::Success,
    })
}

/// The security rules over the blueprint (with `--env`, its environment), each open
/// finding a warning.
fn audit(session: &Session, loaded: &Loaded, desired: &Desired) -> Result<Vec<Finding>, Failure> {
    let mut findings = crate::audit::audit(&Inventory::declared(desired));
    crate::audit::locate(&mut findings, loaded);
    if let Some(settings) = &loaded.blueprint.audit {
        let suppressions = suppress::resolve(settings, &loaded.source)?;
        suppress::apply(&mut findings, &suppressions, suppress::today());
    }
    for f in findings.iter().filter(|f| f.suppressed.is_none()) {
        let subject = f
            .address
            .as_ref()
            .map_or_else(|| format!("stack {}", desired.stack), ToString::to_string);
        let place = f
            .location
            .as_ref()
            .map_or_else(String::new, |l| format!(" ({l})"));
        session.warn(&format!(
            "{} {} {subject}{place}: {}: {}",
            f.rule.id,
            f.severity(),
            f.rule.title,
            f.message
        ));
    }
    Ok(findings)
}

fn key(diagnostic: &Diagnostic) -> (Option<String>, String) {
    (diagnostic.location(), diagnostic.message.clone())
}

fn check(
    session: &Session,
    args: &ValidateArgs,
    loaded: &Loaded,
    env: Option<&str>,
    target: &Target,
    errors: &mut Diagnostics,
    lines: &mut Vec<String>,
) -> Option<Desired> {
    match loaded.validate(target) {
        Ok(validated) => {
            for warning in &validated.warnings {
                eprint!("{}", warning.render(session.err_color));
            }
            let label = env.map_or(String::new(), |e| format!(" (env {e})"));
            lines.push(format!(
                "{}{label}: valid, stack {}, {} resources",
                args.blueprint.display(),
                validated.desired.stack,
                validated.desired.resources.len()
            ));
            Some(validated.desired)
        }
        Err(d) => {
            errors.items.extend(d.items);
            None
        }
    }
}

/// One `::error` workflow command per blueprint error, at its line.
fn annotate_errors(errors: &Diagnostics) -> String {
    errors
        .items
        .iter()
        .filter(|d| d.is_error())
        .map(|d| {
            let place = d.file.as_deref().map(|file| {
                let (line, column) = d.span.map_or((0, 0), |s| (s.line, s.column));
                (file, line, column)
            });
            let message = match &d.help {
                Some(help) => format!("{} (help: {help})", d.message),
                None => d.message.clone(),
            };
            crate::render::audit::github_annotation("error", place, "secinfra validate", &message)
        })
        .collect()
}
