//! Environment overlays: `environments: { dev: {...} }` merged over the blueprint with
//! `--env dev`. Mappings merge key by key; any other value (scalar or list) replaces the
//! base value; `null` removes the key. Merging happens on the node tree, so values from
//! the overlay keep their own positions for error messages.

use super::de::suggest;
use super::diagnostic::{Diagnostic, Diagnostics};
use super::node::{Node, Value};
use super::source::Source;

pub const ENVIRONMENTS: &str = "environments";

/// Names of the environments the blueprint declares, in file order.
pub fn environment_names(root: &Node) -> Vec<String> {
    match root.get(ENVIRONMENTS).map(|n| &n.value) {
        Some(Value::Map(entries)) => entries
            .iter()
            .filter_map(|(k, _)| k.as_str().map(str::to_string))
            .collect(),
        _ => Vec::new(),
    }
}

/// Removes `environments` from the tree and merges the selected one over the rest.
pub fn apply(root: &mut Node, env: Option<&str>, source: &Source) -> Result<(), Diagnostics> {
    let environments = root.remove(ENVIRONMENTS);
    let Some(env) = env else {
        if let Some(envs) = &environments {
            check_shape(envs, source)?;
        }
        return Ok(());
    };
    let Some(environments) = environments else {
        return Err(Diagnostic::error(format!(
            "--env {env}: the blueprint declares no environments"
        ))
        .with_file(&source.name)
        .with_help("add `environments: { <name>: { ... } }` to the blueprint, or drop --env")
        .into());
    };
    check_shape(&environments, source)?;
    let envs_span = environments.span;
    let Value::Map(entries) = environments.value else {
        return Err(
            Diagnostic::error(format!("`{ENVIRONMENTS}` must be a mapping"))
                .with_source(source, envs_span, "")
                .into(),
        );
    };
    let names: Vec<String> = entries
        .iter()
        .filter_map(|(k, _)| k.as_str().map(str::to_string))
        .collect();
    let Some((_, overlay)) = entries.into_iter().find(|(k, _)| k.as_str() == Some(env)) else {
        let expected: Vec<&str> = names.iter().map(String::as_str).collect();
        return Err(
            Diagnostic::error(format!("--env {env}: no such environment"))
                .with_source(source, envs_span, "environments are declared here")
                .with_help(suggest(env, &expected, "environments"))
                .into(),
        );
    };
    if overlay.get(ENVIRONMENTS).is_some() {
        return Err(
            Diagnostic::error("an environment overlay cannot declare environments")
                .with_source(source, overlay.span, "")
                .with_path(format!("{ENVIRONMENTS}.{env}"))
                .into(),
        );
    }
    merge(root, overlay);
    Ok(())
}

fn check_shape(environments: &Node, source: &Source) -> Result<(), Diagnostics> {
    let Value::Map(entries) = &environments.value else {
        return Err(Diagnostic::error(format!(
            "`{ENVIRONMENTS}` must be a mapping of environment name to overlay, found {}",
            environments.describe()
        ))
        .with_source(source, environments.span, "")
        .with_path(ENVIRONMENTS)
        .into());
    };
    for (name, overlay) in entries {
        if name.as_str().is_none() {
            return Err(Diagnostic::error("environment names must be strings")
                .with_source(source, name.span, "")
                .with_path(ENVIRONMENTS)
                .into());
        }
        if !matches!(overlay.value, Value::Map(_) | Value::Null) {
            return Err(Diagnostic::error(format!(
                "environment overlay must be a mapping, found {}",
                overlay.describe()
            ))
            .with_source(source, overlay.span, "")
            .with_path(format!(
                "{ENVIRONMENTS}.{}",
                name.as_str().unwrap_or_default()
            ))
            .into());
        }
    }
    Ok(())
}

fn merge(base: &mut Node, overlay: Node) {
    let Value::Map(overlay_entries) = overlay.value else {
        *base = overlay;
        return;
    };
    let Value::Map(base_entries) = &mut base.value else {
        *base = Node::new(Value::Map(overlay_entries), overlay.span);
        return;
    };
    for (key, value) in overlay_entries {
        let existing = base_entries.iter().position(|(k, _)| k.value == key.value);
        match (existing, &value.value) {
            (Some(i), Value::Null) => {
                base_entries.remove(i);
            }
            (Some(i), Value::Map(_)) if matches!(base_entries[i].1.value, Value::Map(_)) => {
                merge(&mut base_entries[i].1, value);
            }
            (Some(i), _) => base_entries[i].1 = value,
            (None, Value::Null) => {}
            (None, _) => base_entries.push((key, value)),
        }
    }
}
