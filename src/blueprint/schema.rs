//! The blueprint format as JSON Schema (`secinfra schema`), generated from the types the
//! loader deserializes (`types.rs` and each section's file under `validate/`) and carrying every constraint `validate` checks that a
//! schema can state on one value or its siblings, taken from the same constants (ranges,
//! lists, AWS's patterns in `limits.rs`). What only `validate` can judge — references
//! between sections, overlapping CIDRs, zones of the region, tags per service — it judges
//! on its own; `tests/suite/schema.rs` holds the two to each other, fixture by fixture.
//!
//! Transforms are attached to fields with `#[schemars(transform = ...)]`: a section's own
//! in its file's `schema` module, those several sections share and the helpers here;
//! `json_schema` then adds what spans the whole document:
//! the `$id`, scalars written as numbers, and the typed `environments` overlays.

use std::ops::RangeInclusive;

use schemars::Schema;
use serde_json::{Map, Value, json};

use crate::limits::{self, Limit};

/// The schema's identity: version 1 of the blueprint format. A URN, not a URL: nothing
/// is served from it; editors find the schema by the path in the file's
/// `# yaml-language-server: $schema=` line.
pub const SCHEMA_ID: &str = "urn:secinfra:blueprint:1";

const OVERLAY_SUFFIX: &str = "Overlay";

/// The JSON Schema of the blueprint format, for editors and CI linters.
pub fn json_schema() -> Value {
    let schema = schemars::schema_for!(super::Blueprint);
    let mut root = schema.to_value();
    scalars_as_written(&mut root);
    add_overlays(&mut root);
    if let Some(object) = root.as_object_mut() {
        let mut ordered = Map::new();
        ordered.insert(
            "$schema".into(),
            object.remove("$schema").unwrap_or_default(),
        );
        ordered.insert("$id".into(), SCHEMA_ID.into());
        ordered.append(object);
        *object = ordered;
    }
    root
}

// ---- field transforms ------------------------------------------------------------------

pub fn stack_name(s: &mut Schema) {
    // `naming::check_stack_name`: lowercase words joined by single hyphens, 1-32.
    s.insert("pattern".into(), "^[a-z][a-z0-9]*(-[a-z0-9]+)*$".into());
    s.insert("maxLength".into(), 32.into());
}

pub fn version(s: &mut Schema) {
    s.insert("const".into(), 1.into());
}

/// Map keys naming blueprint resources (`naming::check_resource_name`).
pub fn resource_names(s: &mut Schema) {
    s.insert(
        "propertyNames".into(),
        json!({ "pattern": "^[a-z0-9]([a-z0-9-]*[a-z0-9])?$", "maxLength": 40 }),
    );
}

pub fn log_retention(s: &mut Schema) {
    one_of(
        s,
        super::validate::LOG_RETENTION_DAYS.iter().map(|d| json!(d)),
    );
}

pub fn log_group(s: &mut Schema) {
    limit(s, &limits::LOG_GROUP_NAME);
}

// ---- helpers ---------------------------------------------------------------------------

pub(crate) fn range(s: &mut Schema, range: RangeInclusive<i64>) {
    s.insert("minimum".into(), (*range.start()).into());
    s.insert("maximum".into(), (*range.end()).into());
}

/// The values allowed; `null` stays allowed where the field is optional.
pub(crate) fn one_of(s: &mut Schema, values: impl IntoIterator<Item = Value>) {
    let mut values: Vec<Value> = values.into_iter().collect();
    let nullable = match s.get("type") {
        Some(Value::Array(types)) => types.contains(&json!("null")),
        _ => false,
    };
    if nullable {
        values.push(Value::Null);
    }
    s.insert("enum".into(), values.into());
}

pub(crate) fn limit(s: &mut Schema, limit: &Limit) {
    s.insert("minLength".into(), limit.min.into());
    s.insert("maxLength".into(), limit.max.into());
    if let Some(pattern) = limit.pattern.or(limit.model_pattern) {
        s.insert("pattern".into(), format!("^(?:{pattern})$").into());
    }
}

pub(crate) fn all_of(s: &mut Schema, extra: impl IntoIterator<Item = Value>) {
    let list = s
        .ensure_object()
        .entry("allOf")
        .or_insert_with(|| Value::Array(Vec::new()));
    if let Value::Array(list) = list {
        list.extend(extra);
    }
}

pub(crate) fn items(s: &mut Schema, f: impl FnOnce(&mut Map<String, Value>)) {
    if let Some(Value::Object(item)) = s.get_mut("items") {
        f(item);
    }
}

/// A field given and not `null`.
pub(crate) fn present(field: &str) -> Value {
    json!({ "required": [field], "properties": { field: { "not": { "type": "null" } } } })
}

/// A version written as a string (matching `pattern`) or, unquoted, as a YAML number.
pub(crate) fn versions(s: &mut Schema, pattern: &str, number: Value) {
    let description = s.get("description").cloned();
    let mut replaced = json!({
        "anyOf": [ { "type": "string", "pattern": pattern }, number ]
    });
    if let Some(description) = description {
        replaced["description"] = description;
    }
    *s = replaced.try_into().unwrap_or_default();
}

pub(crate) fn alternatives(
    range: RangeInclusive<impl std::fmt::Display + Copy + Into<i64>>,
) -> String {
    let (low, high) = (
        Into::<i64>::into(*range.start()),
        Into::<i64>::into(*range.end()),
    );
    (low..=high)
        .map(|n| n.to_string())
        .collect::<Vec<_>>()
        .join("|")
}

// ---- whole-document passes -------------------------------------------------------------

/// The loader reads a number or boolean where it expects a string as written (`1` for a
/// parameter, `16` for a version, `true` as a tag value); a free-form string field accepts
/// them too. A field with a pattern or a list of values keeps to strings.
fn scalars_as_written(value: &mut Value) {
    match value {
        Value::Object(object) => {
            let constrained = ["pattern", "enum", "const", "format"]
                .iter()
                .any(|k| object.contains_key(*k));
            if !constrained {
                widen_string_type(object);
            }
            for child in object.values_mut() {
                scalars_as_written(child);
            }
        }
        Value::Array(list) => list.iter_mut().for_each(scalars_as_written),
        _ => {}
    }
}

fn widen_string_type(object: &mut Map<String, Value>) {
    let widened = |nullable: bool| {
        let mut types = vec![json!("string"), json!("number"), json!("boolean")];
        if nullable {
            types.push(json!("null"));
        }
        Value::Array(types)
    };
    match object.get("type") {
        Some(Value::String(t)) if t == "string" => {
            object.insert("type".into(), widened(false));
        }
        Some(Value::Array(types))
            if types.len() == 2
                && types.contains(&json!("string"))
                && types.contains(&json!("null")) =>
        {
            object.insert("type".into(), widened(true));
        }
        _ => {}
    }
}

/// `environments.<name>` is the blueprint again with every field optional and `null`
/// allowed (it removes the key): mappings merge key by key, so an overlay gives only what
/// differs. Lists replace the base list whole, so their items stay complete.
fn add_overlays(root: &mut Value) {
    let Some(object) = root.as_object_mut() else {
        return;
    };
    let defs = object
        .get("$defs")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    let mut overlay_defs = Map::new();
    for (name, def) in &defs {
        let mut def = def.clone();
        partial(&mut def);
        overlay_defs.insert(format!("{name}{OVERLAY_SUFFIX}"), def);
    }
    let mut top = Map::new();
    for key in ["type", "properties", "additionalProperties"] {
        if let Some(value) = object.get(key) {
            top.insert(key.into(), value.clone());
        }
    }
    if let Some(Value::Object(properties)) = top.get_mut("properties") {
        properties.remove("environments");
    }
    let mut top = Value::Object(top);
    partial(&mut top);
    top["description"] = json!(
        "An environment overlay: any part of the blueprint, merged over it with `--env`. \
         Mappings merge key by key, lists and other values replace, `null` removes a key."
    );
    overlay_defs.insert(format!("Blueprint{OVERLAY_SUFFIX}"), top);

    if let Some(Value::Object(defs)) = object.get_mut("$defs") {
        defs.extend(overlay_defs);
    }
    if let Some(environments) = object
        .get_mut("properties")
        .and_then(|p| p.get_mut("environments"))
    {
        environments["additionalProperties"] =
            json!({ "$ref": format!("#/$defs/Blueprint{OVERLAY_SUFFIX}") });
        environments["propertyNames"] = json!({ "pattern": "^[A-Za-z0-9_-]+$" });
    }
}

/// Makes a (sub)schema an overlay of itself: no required fields, `null` allowed for every
/// property, references to overlay definitions. `items` are left whole.
fn partial(value: &mut Value) {
    let Value::Object(object) = value else { return };
    object.remove("required");
    if let Some(Value::String(reference)) = object.get_mut("$ref")
        && !reference.ends_with(OVERLAY_SUFFIX)
    {
        reference.push_str(OVERLAY_SUFFIX);
    }
    // Conditions between siblings hold for a complete object only.
    for key in ["allOf", "oneOf"] {
        if let Some(Value::Array(list)) = object.get(key)
            && list.iter().all(is_condition)
        {
            object.remove(key);
        }
    }
    if let Some(Value::Object(properties)) = object.get_mut("properties") {
        for property in properties.values_mut() {
            partial(property);
            *property = nullable(std::mem::take(property));
        }
    }
    if let Some(additional @ Value::Object(_)) = object.get_mut("additionalProperties") {
        partial(additional);
        *additional = nullable(std::mem::take(additional));
    }
    for key in ["anyOf", "oneOf", "allOf"] {
        if let Some(Value::Array(list)) = object.get_mut(key) {
            list.iter_mut().for_each(partial);
        }
    }
}

/// A constraint between fields (not a shape): `required`, `if`/`then`, or combinations.
fn is_condition(value: &Value) -> bool {
    let Value::Object(object) = value else {
        return false;
    };
    object.contains_key("if")
        || object.contains_key("required")
        || ["oneOf", "anyOf"].iter().any(|k| {
            object
                .get(*k)
                .and_then(Value::as_array)
                .is_some_and(|l| l.iter().all(is_condition))
        })
}

fn nullable(schema: Value) -> Value {
    json!({ "anyOf": [schema, { "type": "null" }] })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn matches(pattern: &str, value: &str) -> bool {
        regex::Regex::new(pattern)
            .expect("compiles")
            .is_match(value)
    }

    /// The schema's patterns say what the validator's functions say.
    #[test]
    fn name_patterns_agree_with_naming() {
        let mut schema = Schema::default();
        stack_name(&mut schema);
        let pattern = schema
            .get("pattern")
            .and_then(Value::as_str)
            .expect("pattern");
        for name in [
            "api",
            "api-platform",
            "a1-b2",
            "Api",
            "1api",
            "api-",
            "api--x",
            "a_b",
        ] {
            assert_eq!(
                matches(pattern, name),
                crate::naming::check_stack_name(name).is_ok(),
                "{name}"
            );
        }
        let mut schema = Schema::default();
        resource_names(&mut schema);
        let pattern = schema.as_value()["propertyNames"]["pattern"]
            .as_str()
            .expect("pattern");
        for name in ["app", "app-az1", "1a", "-a", "a-", "A", "a_b", "a--b"] {
            assert_eq!(
                matches(pattern, name),
                crate::naming::check_resource_name(name).is_ok(),
                "{name}"
            );
        }
    }

    #[test]
    fn cidr_pattern_takes_what_the_validator_takes() {
        let mut schema = Schema::default();
        super::super::validate::network::schema::ipv4_cidr(&mut schema);
        let pattern = schema
            .get("pattern")
            .and_then(Value::as_str)
            .expect("pattern");
        for (cidr, ok) in [
            ("10.0.0.0/16", true),
            ("10.0.1.0/24", true),
            ("192.168.255.240/28", true),
            ("10.0.300.0/24", false),
            ("10.0.0.0/15", false),
            ("10.0.0.0/29", false),
            ("010.0.0.0/16", false),
            ("10.0.0/16", false),
        ] {
            assert_eq!(matches(pattern, cidr), ok, "{cidr}");
        }
    }
}
