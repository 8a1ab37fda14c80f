//! The blueprint format as JSON Schema (`secinfra schema`), generated from the types the
//! loader deserializes (`types.rs`) and carrying every constraint `validate` checks that a
//! schema can state on one value or its siblings, taken from the same constants (ranges,
//! lists, AWS's patterns in `limits.rs`). What only `validate` can judge — references
//! between sections, overlapping CIDRs, zones of the region, tags per service — it judges
//! on its own; `tests/suite/schema.rs` holds the two to each other, fixture by fixture.
//!
//! The transforms below are attached to fields in `types.rs` with
//! `#[schemars(transform = ...)]`; `json_schema` then adds what spans the whole document:
//! the `$id`, scalars written as numbers, and the typed `environments` overlays.

use std::ops::RangeInclusive;

use schemars::Schema;
use serde_json::{Map, Value, json};

use super::validate::{data, kms, monitoring, network, secrets, waf};
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

pub fn ipv4_cidr(s: &mut Schema) {
    let octet = "(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])";
    let (low, high) = network::PREFIX_LENGTHS.into_inner();
    s.insert(
        "pattern".into(),
        format!("^({octet}\\.){{3}}{octet}/({})$", alternatives(low..=high)).into(),
    );
}

pub fn log_retention(s: &mut Schema) {
    one_of(
        s,
        super::validate::LOG_RETENTION_DAYS.iter().map(|d| json!(d)),
    );
}

pub fn aggregation_interval(s: &mut Schema) {
    one_of(s, network::AGGREGATION_INTERVALS.iter().map(|d| json!(d)));
}

/// A `private` subnet routes out through a NAT gateway; without `nat` (or `nat: none`)
/// there is none.
pub fn network(s: &mut Schema) {
    let no_private = json!({ "properties": { "tier": { "not": { "const": "private" } } } });
    all_of(
        s,
        [json!({
            "if": {
                "not": {
                    "required": ["nat"],
                    "properties": { "nat": { "enum": ["per_az", "single"] } }
                }
            },
            "then": { "properties": { "subnets": { "additionalProperties": no_private } } }
        })],
    );
}

pub fn security_group_description(s: &mut Schema) {
    limit(s, &limits::SECURITY_GROUP_DESCRIPTION);
}

/// A port (`443`, `"443"`) or an inclusive range (`"8000-8100"`).
pub fn port(s: &mut Schema) {
    *s = json!({
        "description": s.get("description").cloned().unwrap_or_default(),
        "anyOf": [
            { "type": "integer", "minimum": 0, "maximum": 65535 },
            { "type": "string", "pattern": "^ *[0-9]{1,5} *(- *[0-9]{1,5} *)?$" },
            { "type": "null" },
        ]
    })
    .try_into()
    .unwrap_or_default();
}

pub fn protocol(s: &mut Schema) {
    one_of(s, ["tcp", "udp", "icmp", "icmpv6", "all"].map(Value::from));
}

pub fn kms_description(s: &mut Schema) {
    limit(s, &limits::KMS_DESCRIPTION);
}

pub fn key_spec(s: &mut Schema) {
    one_of(s, kms::SPECS.iter().map(|v| json!(v)));
}

pub fn key_rotation_days(s: &mut Schema) {
    range(s, kms::ROTATION_DAYS);
}

pub fn deletion_window_days(s: &mut Schema) {
    range(s, kms::DELETION_WINDOW_DAYS);
}

/// Automatic rotation is for symmetric encryption keys only.
pub fn kms_key(s: &mut Schema) {
    let no_rotation = json!({ "properties": { "rotation_days": { "type": "null" } } });
    all_of(
        s,
        [
            json!({
                "if": {
                    "properties": { "usage": { "enum": ["sign_verify", "generate_verify_mac"] } },
                    "required": ["usage"]
                },
                "then": no_rotation
            }),
            json!({
                "if": {
                    "properties": { "spec": { "not": { "enum": ["SYMMETRIC_DEFAULT", null] } } },
                    "required": ["spec"]
                },
                "then": no_rotation
            }),
        ],
    );
}

/// `value` is known so that it gets its own answer (`validate`: use `generate:`); the
/// schema refuses any value for it.
pub fn secret(s: &mut Schema) {
    if let Some(Value::Object(properties)) = s.get_mut("properties") {
        properties.insert(
            "value".into(),
            json!({
                "description": "Never accepted: a blueprint never holds a secret value. Use `generate:`, or set the value out of band.",
                "not": {}
            }),
        );
    }
}

pub fn secret_description(s: &mut Schema) {
    limit(s, &limits::SECRET_DESCRIPTION);
}

pub fn recovery_window_days(s: &mut Schema) {
    range(s, secrets::RECOVERY_WINDOW_DAYS);
}

pub fn rotation_every_days(s: &mut Schema) {
    range(s, secrets::ROTATION_EVERY_DAYS);
}

pub fn rotation_schedule_expression(s: &mut Schema) {
    limit(s, &limits::ROTATION_SCHEDULE);
}

/// A schedule needs `every_days` or `schedule` (not both) and `lambda_arn` or `lambda`.
pub fn rotation_schedule(s: &mut Schema) {
    all_of(
        s,
        [
            json!({ "oneOf": [present("every_days"), present("schedule")] }),
            json!({ "anyOf": [present("lambda_arn"), present("lambda")] }),
        ],
    );
}

pub fn password_length(s: &mut Schema) {
    range(s, secrets::PASSWORD_LENGTH);
}

pub fn exclude_characters(s: &mut Schema) {
    limit(s, &limits::EXCLUDE_CHARACTERS);
}

pub fn rsa_bits(s: &mut Schema) {
    one_of(s, secrets::RSA_BITS.iter().map(|b| json!(b)));
}

pub fn random_bytes(s: &mut Schema) {
    range(s, secrets::RANDOM_BYTES);
}

pub fn waf_description(s: &mut Schema) {
    limit(s, &limits::WAF_DESCRIPTION);
}

pub fn waf_scope(s: &mut Schema) {
    one_of(s, [json!("REGIONAL")]);
}

pub fn allow_or_block(s: &mut Schema) {
    one_of(s, ["allow", "block"].map(Value::from));
}

pub fn block_or_count(s: &mut Schema) {
    one_of(s, ["block", "count"].map(Value::from));
}

/// Exactly one kind of rule.
pub fn waf_rule(s: &mut Schema) {
    let kinds = ["managed", "geo_block", "rate_limit", "ip_block"].map(present);
    all_of(s, [json!({ "oneOf": kinds })]);
}

pub fn waf_rule_name(s: &mut Schema) {
    limit(s, &limits::WAF_RULE_NAME);
}

pub fn managed_rule_group(s: &mut Schema) {
    one_of(s, waf::MANAGED_GROUPS.iter().map(|(name, _)| json!(name)));
}

pub fn country_codes(s: &mut Schema) {
    items(s, |item| {
        item.insert("pattern".into(), "^[A-Z]{2}$".into());
    });
    s.insert("minItems".into(), 1.into());
}

pub fn rate_limit(s: &mut Schema) {
    range(s, waf::RATE_LIMITS);
}

pub fn rate_window(s: &mut Schema) {
    one_of(s, waf::RATE_WINDOWS.iter().map(|w| json!(w)));
}

pub fn waf_log_group(s: &mut Schema) {
    limit(s, &limits::LOG_GROUP_NAME);
    // Both must hold: AWS's pattern for any group, and WAF's prefix.
    all_of(s, [json!({ "pattern": "^aws-waf-logs-" })]);
}

pub fn log_group(s: &mut Schema) {
    limit(s, &limits::LOG_GROUP_NAME);
}

pub fn postgres(s: &mut Schema) {
    one_of(s, [json!("postgres")]);
}

/// `16`, `"16"` or `"16.4"`, of the majors RDS offers.
pub fn postgres_version(s: &mut Schema) {
    let (low, high) = data::POSTGRES_MAJORS.into_inner();
    versions(
        s,
        &format!("^({})(\\.[0-9]+)*$", alternatives(low..=high)),
        json!({ "type": "number", "minimum": low, "exclusiveMaximum": high + 1 }),
    );
}

pub fn storage_gb(s: &mut Schema) {
    range(s, data::STORAGE_GB);
}

pub fn storage_type(s: &mut Schema) {
    one_of(s, data::STORAGE_TYPES.iter().map(|t| json!(t)));
}

pub fn backup_retention_days(s: &mut Schema) {
    range(s, data::BACKUP_RETENTION_DAYS);
}

/// Parameters keep their written form (`1`, `on`); `rds.force_ssl` can only be on.
pub fn db_parameters(s: &mut Schema) {
    s.insert(
        "properties".into(),
        json!({ "rds.force_ssl": { "enum": [1, "1", true] } }),
    );
}

pub fn redis(s: &mut Schema) {
    one_of(s, [json!("redis")]);
}

/// `7.1`, `"7.1"` or an exact release (`"7.1.0"`), of the versions ElastiCache offers.
pub fn redis_version(s: &mut Schema) {
    let escaped: Vec<String> = data::REDIS_VERSIONS
        .iter()
        .map(|v| v.replace('.', "\\."))
        .collect();
    let numbers: Vec<Value> = data::REDIS_VERSIONS
        .iter()
        .filter_map(|v| v.parse::<f64>().ok())
        .map(Value::from)
        .collect();
    versions(
        s,
        &format!("^({})(\\.[0-9]+)*$", escaped.join("|")),
        json!({ "enum": numbers }),
    );
}

pub fn cache_nodes(s: &mut Schema) {
    range(s, data::CACHE_NODES);
}

pub fn snapshot_retention_days(s: &mut Schema) {
    range(s, data::SNAPSHOT_RETENTION_DAYS);
}

pub fn cache_port(s: &mut Schema) {
    range(s, data::CACHE_PORTS);
}

pub fn management_events(s: &mut Schema) {
    one_of(
        s,
        monitoring::MANAGEMENT_EVENTS.iter().map(|(w, _)| json!(w)),
    );
}

/// `naming::check_bucket_name`: 3-63 lowercase letters, digits, hyphens and dots, starting
/// and ending with a letter or digit, no two dots in a row.
pub fn bucket_name(s: &mut Schema) {
    s.insert(
        "pattern".into(),
        "^[a-z0-9]((\\.?[a-z0-9-])*\\.?[a-z0-9])?$".into(),
    );
    s.insert("minLength".into(), 3.into());
    s.insert("maxLength".into(), 63.into());
}

pub fn bucket_retention_days(s: &mut Schema) {
    range(s, monitoring::BUCKET_RETENTION_DAYS);
}

pub fn finding_frequency(s: &mut Schema) {
    one_of(
        s,
        monitoring::FINDING_FREQUENCIES
            .iter()
            .map(|(w, _)| json!(w)),
    );
}

pub fn guardduty_features(s: &mut Schema) {
    let names: Vec<Value> = crate::model::props::GUARDDUTY_FEATURES
        .iter()
        .map(|(name, _)| json!(name))
        .collect();
    items(s, |item| {
        item.insert("enum".into(), names.into());
    });
}

/// A standard by name and version (the version may be left out where there is one), or
/// an ARN.
pub fn security_hub_standards(s: &mut Schema) {
    let mut names = Vec::new();
    for (name, versions) in monitoring::SECURITY_HUB_STANDARDS {
        if versions.len() == 1 {
            names.push(json!(name));
        }
        names.extend(versions.iter().map(|v| json!(format!("{name}/v/{v}"))));
    }
    items(s, |item| {
        item.remove("type");
        item.insert(
            "anyOf".into(),
            json!([
                { "enum": names },
                { "type": "string", "pattern": "^arn:[a-z-]+:securityhub:[a-z0-9-]*::(standards|ruleset)/" }
            ]),
        );
    });
}

pub fn topic_name(s: &mut Schema) {
    limit(s, &limits::SNS_TOPIC_NAME);
}

/// E-mail addresses and `https://` URLs, each once.
pub fn subscriptions(s: &mut Schema) {
    let email = "[^@\\s:,]+@[^@\\s:,.][^@\\s:,]*\\.[^@\\s:,]*[^@\\s:,.]";
    let https = "https://[^/?#\\s]+[^\\s]*";
    items(s, |item| {
        item.insert(
            "pattern".into(),
            format!("^\\s*({email}|{https})\\s*$").into(),
        );
    });
    s.insert("uniqueItems".into(), true.into());
}

pub fn alarm_period_minutes(s: &mut Schema) {
    range(s, monitoring::ALARM_PERIOD_MINUTES);
}

// ---- helpers ---------------------------------------------------------------------------

fn range(s: &mut Schema, range: RangeInclusive<i64>) {
    s.insert("minimum".into(), (*range.start()).into());
    s.insert("maximum".into(), (*range.end()).into());
}

/// The values allowed; `null` stays allowed where the field is optional.
fn one_of(s: &mut Schema, values: impl IntoIterator<Item = Value>) {
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

fn limit(s: &mut Schema, limit: &Limit) {
    s.insert("minLength".into(), limit.min.into());
    s.insert("maxLength".into(), limit.max.into());
    if let Some(pattern) = limit.pattern.or(limit.model_pattern) {
        s.insert("pattern".into(), format!("^(?:{pattern})$").into());
    }
}

fn all_of(s: &mut Schema, extra: impl IntoIterator<Item = Value>) {
    let list = s
        .ensure_object()
        .entry("allOf")
        .or_insert_with(|| Value::Array(Vec::new()));
    if let Value::Array(list) = list {
        list.extend(extra);
    }
}

fn items(s: &mut Schema, f: impl FnOnce(&mut Map<String, Value>)) {
    if let Some(Value::Object(item)) = s.get_mut("items") {
        f(item);
    }
}

/// A field given and not `null`.
fn present(field: &str) -> Value {
    json!({ "required": [field], "properties": { field: { "not": { "type": "null" } } } })
}

/// A version written as a string (matching `pattern`) or, unquoted, as a YAML number.
fn versions(s: &mut Schema, pattern: &str, number: Value) {
    let description = s.get("description").cloned();
    let mut replaced = json!({
        "anyOf": [ { "type": "string", "pattern": pattern }, number ]
    });
    if let Some(description) = description {
        replaced["description"] = description;
    }
    *s = replaced.try_into().unwrap_or_default();
}

fn alternatives(range: RangeInclusive<impl std::fmt::Display + Copy + Into<i64>>) -> String {
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
        ipv4_cidr(&mut schema);
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
