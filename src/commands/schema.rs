//! `secinfra schema`: the blueprint format as JSON Schema (for editors and linters).

use super::{Exit, Failure, print};

pub fn run() -> Result<Exit, Failure> {
    let schema = serde_json::to_string_pretty(&crate::blueprint::json_schema())
        .map_err(|e| Failure::Other(e.into()))?;
    print(&(schema + "\n"))?;
    Ok(Exit::Success)
}
