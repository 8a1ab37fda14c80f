//! The user's YAML: loading with positions, environment overlays, typed structs and
//! semantic validation into the desired resources.
//!
//! 1. `Source::read` — size and UTF-8 checks.
//! 2. `node::parse` — YAML into a spanned tree, refusing alias bombs and deep nesting.
//! 3. `structure::unknown_keys` — every misspelt key at once, overlays included.
//! 4. `overlay::apply` — merge `environments.<env>` over the tree.
//! 5. `de::from_node` — typed `Blueprint`, the first type error with its position.
//! 6. `validate::validate` — semantic checks, producing `Desired`.

pub mod de;
pub mod declared;
pub mod diagnostic;
pub mod format;
pub mod node;
pub mod overlay;
pub mod schema;
pub mod source;
pub mod span;
pub mod structure;
pub mod types;
pub mod validate;

#[cfg(test)]
mod fuzz_tests;

use std::path::Path;

pub use diagnostic::{Diagnostic, Diagnostics, Severity};
pub use schema::json_schema;
pub use source::Source;
pub use span::{Span, Spanned};
pub use types::Blueprint;
pub use validate::{Target, Validated};

/// A parsed blueprint, with the environment overlay (if any) applied.
#[derive(Debug)]
pub struct Loaded {
    pub source: Source,
    pub blueprint: Blueprint,
    pub env: Option<String>,
    /// Every environment the file declares.
    pub environments: Vec<String>,
}

impl Loaded {
    pub fn validate(&self, target: &Target) -> Result<Validated, Diagnostics> {
        validate::validate(&self.blueprint, &self.source, target)
    }
}

pub fn load(path: &Path, env: Option<&str>) -> Result<Loaded, Diagnostics> {
    let source = Source::read(path)?;
    load_source(source, env)
}

pub fn load_source(source: Source, env: Option<&str>) -> Result<Loaded, Diagnostics> {
    let mut root = node::parse(&source)?;
    if !matches!(root.value, node::Value::Map(_)) {
        return Err(Diagnostic::error(format!(
            "a blueprint is a mapping of sections, found {}",
            root.describe()
        ))
        .with_source(&source, root.span, "")
        .with_help("start the file with `version: 1` and `stack: <name>`")
        .into());
    }
    let unknown = structure::unknown_keys(&root, &source);
    if !unknown.items.is_empty() {
        return Err(unknown);
    }
    let environments = overlay::environment_names(&root);
    overlay::apply(&mut root, env, &source)?;
    let blueprint = de::from_node::<Blueprint>(&root).map_err(|err| type_error(&source, err))?;
    Ok(Loaded {
        source,
        blueprint,
        env: env.map(str::to_string),
        environments,
    })
}

fn type_error(source: &Source, err: de::DeError) -> Diagnostics {
    let mut diagnostic = Diagnostic::error(err.message);
    diagnostic = match err.span {
        Some(span) => diagnostic.with_source(source, span, ""),
        None => diagnostic.with_file(&source.name),
    };
    if let Some(help) = err.help {
        diagnostic = diagnostic.with_help(help);
    }
    Diagnostics::from(diagnostic)
}

/// A suppressions file (`audit --suppressions FILE`): the blueprint's `audit:` section on
/// its own (`suppress: [...]`).
pub fn load_audit_settings(path: &Path) -> Result<(types::AuditSettings, Source), Diagnostics> {
    let source = Source::read(path)?;
    let root = node::parse(&source)?;
    let settings =
        de::from_node::<types::AuditSettings>(&root).map_err(|err| type_error(&source, err))?;
    Ok((settings, source))
}
