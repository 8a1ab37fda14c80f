//! Every unknown key of a blueprint at once. Deserialization stops at the first error; a
//! file with several misspelt keys would then take several runs to fix. This pass walks
//! the parsed tree beside the blueprint's JSON Schema (generated from the same types,
//! `schema.rs`) and names each key no mapping accepts, with a suggestion.

use std::sync::OnceLock;

use serde_json::{Map, Value as Json};

use super::de::suggest;
use super::diagnostic::{Diagnostic, Diagnostics};
use super::node::{Node, Value};
use super::source::Source;

/// Unknown keys in `root`, each an error at its key; empty when there are none.
pub fn unknown_keys(root: &Node, source: &Source) -> Diagnostics {
    // Generated once per process: every load (and each `--env` of `validate`) walks it.
    static SCHEMA: OnceLock<(Json, Map<String, Json>)> = OnceLock::new();
    let (schema, defs) = SCHEMA.get_or_init(|| {
        let schema = super::schema::json_schema();
        let defs = schema
            .get("$defs")
            .and_then(Json::as_object)
            .cloned()
            .unwrap_or_default();
        (schema, defs)
    });
    let mut walk = Walk {
        defs,
        source,
        found: Diagnostics::default(),
    };
    walk.node(root, schema, "");
    walk.found
}

struct Walk<'a> {
    defs: &'a Map<String, Json>,
    source: &'a Source,
    found: Diagnostics,
}

fn resolve<'a>(defs: &'a Map<String, Json>, schema: &'a Json) -> &'a Json {
    match schema.get("$ref").and_then(Json::as_str) {
        Some(reference) => reference
            .strip_prefix("#/$defs/")
            .and_then(|name| defs.get(name))
            .unwrap_or(schema),
        None => schema,
    }
}

/// The branch of an `anyOf`/`oneOf` that describes a node of this shape.
fn branch<'a>(defs: &'a Map<String, Json>, schema: &'a Json, node: &Node) -> &'a Json {
    let schema = resolve(defs, schema);
    let wanted = match node.value {
        Value::Map(_) => "object",
        Value::Seq(_) => "array",
        _ => return schema,
    };
    for key in ["anyOf", "oneOf"] {
        let Some(branches) = schema.get(key).and_then(Json::as_array) else {
            continue;
        };
        // Of the branches of this shape, the one that knows most of the node's keys (an
        // enum's variants are mappings with one key each).
        if let Some(found) = branches
            .iter()
            .map(|b| branch(defs, b, node))
            .filter(|b| has_type(b, wanted))
            .max_by_key(|b| known_keys(b, node))
        {
            return found;
        }
    }
    schema
}

fn known_keys(schema: &Json, node: &Node) -> usize {
    let (Value::Map(entries), Some(properties)) = (
        &node.value,
        schema.get("properties").and_then(Json::as_object),
    ) else {
        return 0;
    };
    entries
        .iter()
        .filter(|(k, _)| k.as_str().is_some_and(|k| properties.contains_key(k)))
        .count()
}

impl<'a> Walk<'a> {
    fn node(&mut self, node: &Node, schema: &'a Json, path: &str) {
        let schema = branch(self.defs, schema, node);
        match &node.value {
            Value::Map(entries) => self.mapping(entries, schema, path),
            Value::Seq(items) => {
                if let Some(item_schema) = schema.get("items") {
                    for (i, item) in items.iter().enumerate() {
                        self.node(item, item_schema, &format!("{path}[{i}]"));
                    }
                }
            }
            _ => {}
        }
    }

    fn mapping(&mut self, entries: &[(Node, Node)], schema: &'a Json, path: &str) {
        let properties = schema.get("properties").and_then(Json::as_object);
        let closed = schema.get("additionalProperties") == Some(&Json::Bool(false));
        let additional = schema.get("additionalProperties").filter(|a| a.is_object());
        for (key, value) in entries {
            let Some(name) = key.as_str() else { continue };
            let child = if path.is_empty() {
                name.to_string()
            } else {
                format!("{path}.{name}")
            };
            if let Some(property) = properties.and_then(|p| p.get(name)) {
                self.node(value, property, &child);
            } else if let Some(additional) = additional {
                self.node(value, additional, &child);
            } else if closed {
                let expected: Vec<&str> = properties
                    .map(|p| p.keys().map(String::as_str).collect())
                    .unwrap_or_default();
                self.found.push(
                    Diagnostic::error(format!("unknown field `{name}`"))
                        .with_source(self.source, key.span, "")
                        .with_path(child)
                        .with_help(suggest(name, &expected, "fields")),
                );
            }
        }
    }
}

fn has_type(schema: &Json, wanted: &str) -> bool {
    match schema.get("type") {
        Some(Json::String(t)) => t == wanted,
        Some(Json::Array(types)) => types.iter().any(|t| t == wanted),
        None => wanted == "object" && schema.get("properties").is_some(),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unknown(text: &str) -> Vec<String> {
        let source = Source::from_string("b.yaml", text);
        let root = super::super::node::parse(&source).expect("yaml");
        unknown_keys(&root, &source)
            .items
            .iter()
            .map(|d| d.to_string())
            .collect()
    }

    #[test]
    fn every_unknown_key_is_named() {
        let found = unknown(
            "version: 1\nstack: demo\nnetwrok: {}\nkms:\n  keys:\n    data: { rotaton_days: 90 }\n\
             secrets:\n  db: { rotation: { every_day: 30, lambda: f } }\n  k: { generate: { rsa: { bit: 2048 } } }\n\
             waf:\n  api: { rules: [ { managed: X, acton: count } ] }\n",
        );
        let text = found.join("\n");
        for key in ["netwrok", "rotaton_days", "every_day", "acton", "bit"] {
            assert!(
                text.contains(&format!("unknown field `{key}`")),
                "{key}: {text}"
            );
        }
        assert_eq!(found.len(), 5, "{text}");
    }

    #[test]
    fn known_keys_and_free_maps_pass() {
        let found = unknown(
            "version: 1\nstack: demo\ntags: { anything: goes }\nsecrets:\n  db: { value: x }\n\
             databases:\n  main: { parameters: { log_connections: 1 } }\n\
             environments:\n  dev: { network: { nat: single } }\n",
        );
        assert_eq!(found, Vec::<String>::new());
    }
}
