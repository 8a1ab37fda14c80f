//! `secinfra validate BLUEPRINT`: parse and check the blueprint — and, without `--env`,
//! every environment overlay it declares — without any AWS call.

use std::process::ExitCode;

use super::{Failure, Session, print};
use crate::blueprint::{self, Diagnostics, Target};
use crate::cli::ValidateArgs;

pub fn run(session: &Session, args: &ValidateArgs) -> Result<ExitCode, Failure> {
    let base = blueprint::load(&args.blueprint, session.global.env.as_deref())?;
    let environments: Vec<Option<String>> = match &session.global.env {
        Some(env) => vec![Some(env.clone())],
        None => std::iter::once(None)
            .chain(base.environments.iter().cloned().map(Some))
            .collect(),
    };
    let region = session.global.region.clone();
    let mut errors = Diagnostics::default();
    let mut lines = Vec::new();
    for env in environments {
        let loaded = match &env {
            None => None,
            Some(name) if session.global.env.as_deref() == Some(name) => None,
            Some(name) => match blueprint::load_source(base.source.clone(), Some(name)) {
                Ok(loaded) => Some(loaded),
                Err(d) => {
                    errors.items.extend(d.items);
                    continue;
                }
            },
        };
        let loaded = loaded.as_ref().unwrap_or(&base);
        match loaded.validate(&Target {
            region: region.clone(),
            account: None,
        }) {
            Ok(validated) => {
                for warning in &validated.warnings {
                    eprint!("{}", warning.render(session.err_color));
                }
                let label = env
                    .as_deref()
                    .map_or(String::new(), |e| format!(" (env {e})"));
                lines.push(format!(
                    "{}{label}: valid, stack {}, {} resources",
                    args.blueprint.display(),
                    validated.desired.stack,
                    validated.desired.resources.len()
                ));
            }
            Err(d) => errors.items.extend(d.items),
        }
    }
    if errors.has_errors() {
        return Err(Failure::Blueprint(errors));
    }
    print(&(lines.join("\n") + "\n"))?;
    Ok(ExitCode::SUCCESS)
}
