//! The JSON view of a plan: the plan itself, a versioned contract (`format_version`).

use crate::plan::Plan;

pub fn plan(plan: &Plan) -> String {
    serde_json::to_string_pretty(plan).unwrap_or_default()
}
