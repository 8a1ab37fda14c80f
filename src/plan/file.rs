//! Saved plan files: JSON, written owner-read/write only, read back with a version check.

use std::io::Write;
use std::path::Path;

use anyhow::{Context, bail};

use super::{FORMAT_VERSION, Plan};

pub fn write(path: &Path, plan: &Plan) -> anyhow::Result<()> {
    let json = serde_json::to_string_pretty(plan).context("serializing the plan")?;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options
        .open(path)
        .with_context(|| format!("cannot write plan file {}", path.display()))?;
    // An existing file keeps its old mode through open(); tighten it explicitly.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        file.set_permissions(std::fs::Permissions::from_mode(0o600))
            .with_context(|| format!("cannot restrict permissions of {}", path.display()))?;
    }
    file.write_all(json.as_bytes())
        .and_then(|()| file.write_all(b"\n"))
        .with_context(|| format!("cannot write plan file {}", path.display()))
}

/// Whether a file is a saved plan rather than a blueprint: a JSON object with a
/// `format_version` (a blueprint is YAML, and JSON is YAML too, so the name cannot tell).
pub fn looks_like_plan(path: &Path) -> bool {
    use std::io::Read;
    let Ok(file) = std::fs::File::open(path) else {
        return false;
    };
    let mut head = Vec::with_capacity(512);
    if file.take(512).read_to_end(&mut head).is_err() {
        return false;
    }
    let head = String::from_utf8_lossy(&head);
    head.trim_start().starts_with('{') && head.contains(r#""format_version""#)
}

pub fn read(path: &Path) -> anyhow::Result<Plan> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read plan file {}", path.display()))?;
    let value: serde_json::Value = serde_json::from_str(&text)
        .with_context(|| format!("{} is not a JSON plan file", path.display()))?;
    let version = value
        .get("format_version")
        .and_then(serde_json::Value::as_u64);
    if version != Some(u64::from(FORMAT_VERSION)) {
        bail!(
            "{} has plan format version {}; this secinfra reads version {FORMAT_VERSION}. Run `secinfra plan --out` again.",
            path.display(),
            version.map_or("none".to_string(), |v| v.to_string())
        );
    }
    serde_json::from_value(value)
        .with_context(|| format!("{} is not a valid secinfra plan", path.display()))
}
