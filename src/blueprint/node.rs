//! A YAML document as a tree of spanned nodes.
//!
//! serde-saphyr parses the text (with a budget that refuses alias bombs, deep nesting and
//! huge documents); every node keeps its position. Environment overlays are merged on this
//! tree, and the typed blueprint is then deserialized from it (see `de.rs`), so every
//! value — including one that came from an overlay — still knows where it was written.

use std::fmt;

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};

use super::diagnostic::{Diagnostic, Diagnostics};
use super::source::Source;
use super::span::Span;

#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Null,
    Bool(bool),
    Int(i64),
    UInt(u64),
    Float(f64),
    Str(String),
    Seq(Vec<Node>),
    Map(Vec<(Node, Node)>),
}

#[derive(Clone, Debug, PartialEq)]
pub struct Node {
    pub value: Value,
    pub span: Span,
    /// The scalar as written, for numbers and booleans read into a string field
    /// (`CostCenter: 0042` stays `0042`).
    pub raw: Option<String>,
}

impl Node {
    pub fn new(value: Value, span: Span) -> Node {
        Node {
            value,
            span,
            raw: None,
        }
    }

    /// What kind of YAML value this is, for error messages.
    pub fn describe(&self) -> &'static str {
        match self.value {
            Value::Null => "nothing (null)",
            Value::Bool(_) => "a boolean",
            Value::Int(_) | Value::UInt(_) => "an integer",
            Value::Float(_) => "a number",
            Value::Str(_) => "a string",
            Value::Seq(_) => "a list",
            Value::Map(_) => "a mapping",
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match &self.value {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }

    /// The value under `key` in a mapping node.
    pub fn get(&self, key: &str) -> Option<&Node> {
        match &self.value {
            Value::Map(entries) => entries
                .iter()
                .find(|(k, _)| k.as_str() == Some(key))
                .map(|(_, v)| v),
            _ => None,
        }
    }

    /// Removes and returns the value under `key` in a mapping node.
    pub fn remove(&mut self, key: &str) -> Option<Node> {
        match &mut self.value {
            Value::Map(entries) => {
                let index = entries.iter().position(|(k, _)| k.as_str() == Some(key))?;
                Some(entries.remove(index).1)
            }
            _ => None,
        }
    }

    fn fill_raw(&mut self, text: &str) {
        match &mut self.value {
            Value::Bool(_) | Value::Int(_) | Value::UInt(_) | Value::Float(_) => {
                self.raw = text
                    .get(self.span.range())
                    .map(|s| s.trim().to_string())
                    .filter(|s| !s.is_empty());
            }
            Value::Seq(items) => items.iter_mut().for_each(|n| n.fill_raw(text)),
            Value::Map(entries) => entries.iter_mut().for_each(|(k, v)| {
                k.fill_raw(text);
                v.fill_raw(text);
            }),
            Value::Null | Value::Str(_) => {}
        }
    }
}

/// Parser limits. A real blueprint is a few hundred nodes; these leave ample room while
/// refusing documents built to exhaust memory (billion-laughs aliases, deep nesting).
fn options() -> serde_saphyr::Options {
    serde_saphyr::options! {
        budget: serde_saphyr::budget! {
            max_events: 200_000,
            max_aliases: 200,
            max_anchors: 200,
            max_depth: 48,
            max_documents: 1,
            max_nodes: 50_000,
            max_total_scalar_bytes: 2 * 1024 * 1024,
            max_recorded_anchor_events: 20_000,
        },
        duplicate_keys: serde_saphyr::DuplicateKeyPolicy::Error,
        strict_booleans: true,
        alias_limits: serde_saphyr::alias_limits! {
            max_total_replayed_events: 20_000,
            max_replay_stack_depth: 16,
            max_alias_expansions_per_anchor: 100,
        },
        with_snippet: false,
    }
}

/// Parses the blueprint text into a node tree.
pub fn parse(source: &Source) -> Result<Node, Diagnostics> {
    if source.text.trim().is_empty() {
        return Err(empty(source).into());
    }
    let tabs = tab_indentation(source);
    if !tabs.is_empty() {
        return Err(Diagnostics { items: tabs });
    }
    let mut root: Node = serde_saphyr::from_str_with_options(&source.text, options())
        .map_err(|err| yaml_error(source, &err))?;
    if root.value == Value::Null {
        // Only comments: as empty as an empty file.
        return Err(empty(source).into());
    }
    root.fill_raw(&source.text);
    Ok(root)
}

fn empty(source: &Source) -> Diagnostic {
    Diagnostic::error(format!("{} is empty", source.name))
        .with_file(&source.name)
        .with_help("a blueprint starts with `version: 1` and `stack: <name>`")
}

/// Every line indented with a tab, each with its own error: YAML indents with spaces
/// only, and a parser stops at the first.
fn tab_indentation(source: &Source) -> Vec<Diagnostic> {
    let mut offset = 0;
    let mut found = Vec::new();
    for line in source.text.split_inclusive('\n') {
        let indent = line.len() - line.trim_start_matches([' ', '\t']).len();
        let content = line[indent..].trim();
        if let Some(tab) = line[..indent].find('\t')
            && !content.is_empty()
            && !content.starts_with('#')
        {
            found.push(
                Diagnostic::error("a tab indents this line; YAML indents with spaces only")
                    .with_source(source, source.span_at(offset + tab, 1), "tab")
                    .with_help(
                        "replace the tab with spaces (in most editors: indent using spaces); \
                         keys of one mapping start in the same column",
                    ),
            );
        }
        offset += line.len();
    }
    found
}

/// What to do about a parse error at `line` (1-based), from the indentation around it.
fn indentation_help(source: &Source, message: &str, line: u64) -> Option<String> {
    let lines: Vec<&str> = source.text.lines().collect();
    let index = usize::try_from(line).ok()?.checked_sub(1)?;
    let here = lines.get(index)?;
    let indent = |l: &str| l.len() - l.trim_start().len();
    let meaningful = |l: &&str| !l.trim().is_empty() && !l.trim_start().starts_with('#');
    let (above_index, above) = lines[..index]
        .iter()
        .enumerate()
        .rev()
        .find(|(_, l)| meaningful(l))?;
    let (depth, above_depth) = (indent(here), indent(above));
    let above_key = above.trim().split(':').next().unwrap_or_default();
    let has_value = above
        .split_once(": ")
        .is_some_and(|(_, v)| !v.trim().is_empty() && !v.trim_start().starts_with('#'));
    if message.contains("mapping values are not allowed") && depth > above_depth && has_value {
        return Some(format!(
            "line {line} is indented {depth} spaces, deeper than `{above_key}:` on line {} ({above_depth} spaces), \
             which already has a value; indent it {above_depth} spaces to make it a sibling key, or \
             quote a value that contains `: `",
            above_index + 1
        ));
    }
    if message.contains("mapping values are not allowed") {
        return Some(
            "a value that contains `: ` must be quoted (\"a: b\"); otherwise check that the keys \
             of one mapping start in the same column"
                .into(),
        );
    }
    if depth != above_depth
        && (message.contains("expected key")
            || message.contains("block end")
            || message.contains("indent"))
    {
        return Some(format!(
            "line {line} is indented {depth} spaces and line {} {above_depth}: keys of one mapping \
             start in the same column, and a nested mapping is indented further than its key",
            above_index + 1
        ));
    }
    None
}

fn yaml_error(source: &Source, err: &serde_saphyr::Error) -> Diagnostic {
    let raw = yaml_message(err);
    let (message, mut help) = describe_yaml_error(&raw);
    if let Some(better) = err
        .location()
        .and_then(|loc| indentation_help(source, &raw, loc.line()))
    {
        help = better;
    }
    let mut diagnostic = Diagnostic::error(message).with_help(help);
    match err.location() {
        Some(loc) if loc.line() > 0 => {
            let offset = loc
                .span()
                .byte_offset()
                .map(|o| o as usize)
                .unwrap_or_else(|| offset_of(&source.text, loc.line(), loc.column()));
            let len = loc.span().byte_len().unwrap_or(1).max(1) as usize;
            let mut span = source.span_at(offset, len);
            // Trust the parser's own line/column over our recount.
            span.line = loc.line() as u32;
            span.column = loc.column() as u32;
            diagnostic = diagnostic.with_source(source, span, "");
        }
        _ => diagnostic = diagnostic.with_file(&source.name),
    }
    diagnostic
}

/// Our wording for parser errors: limits become a refusal that says which limit, the rest
/// stays the parser's description.
fn describe_yaml_error(message: &str) -> (String, String) {
    if let Some(key) = message.strip_prefix("duplicate mapping key: ") {
        let key = key.split(',').next().unwrap_or(key).trim();
        return (
            format!("duplicate key `{key}`"),
            "each key may appear once in a mapping; remove or rename one of them".into(),
        );
    }
    if message.contains("budget") || message.contains("limit") {
        let what = if message.contains("Depth")
            || message.contains("depth")
            || message.contains("nesting")
        {
            "it is nested too deeply"
        } else if message.contains("Alias")
            || message.contains("alias")
            || message.contains("Anchor")
            || message.contains("Replay")
        {
            "its aliases expand too far (an alias bomb?)"
        } else {
            "it is larger than any blueprint needs"
        };
        return (
            format!("blueprint refused: {what}"),
            "blueprints are small documents; remove the deep nesting or repeated aliases".into(),
        );
    }
    (
        format!("invalid YAML: {message}"),
        "check indentation, quoting and `key: value` pairs near this position".into(),
    )
}

/// serde-saphyr's message without its own location suffix (we render the location).
fn yaml_message(err: &serde_saphyr::Error) -> String {
    let text = err.without_snippet().to_string();
    let first = text.lines().next().unwrap_or("").trim();
    let first = match first.rfind(" at line ") {
        Some(i) => &first[..i],
        None => first,
    };
    first.trim_end_matches(':').to_string()
}

fn offset_of(text: &str, line: u64, column: u64) -> usize {
    let mut offset = 0;
    for (i, l) in text.split_inclusive('\n').enumerate() {
        if i as u64 + 1 == line {
            return offset
                + l.char_indices()
                    .nth(column.saturating_sub(1) as usize)
                    .map_or(l.len(), |(b, _)| b);
        }
        offset += l.len();
    }
    text.len()
}

impl<'de> Deserialize<'de> for Node {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let spanned = serde_saphyr::Spanned::<Value>::deserialize(deserializer)?;
        let loc = spanned.referenced;
        let span = Span {
            line: loc.line() as u32,
            column: loc.column() as u32,
            start: loc.span().byte_offset().unwrap_or(0) as usize,
            len: loc.span().byte_len().unwrap_or(0) as usize,
        };
        Ok(Node::new(spanned.value, span))
    }
}

impl<'de> Deserialize<'de> for Value {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(ValueVisitor)
    }
}

struct ValueVisitor;

impl<'de> Visitor<'de> for ValueVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any YAML value")
    }
    fn visit_unit<E: de::Error>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_none<E: de::Error>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        Value::deserialize(d)
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Value, E> {
        Ok(Value::Int(v))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Value, E> {
        Ok(i64::try_from(v).map_or(Value::UInt(v), Value::Int))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Value, E> {
        Ok(Value::Float(v))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Value, E> {
        Ok(Value::Str(v.to_string()))
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<Value, E> {
        Ok(Value::Str(v))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element::<Node>()? {
            items.push(item);
        }
        Ok(Value::Seq(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut entries = Vec::new();
        while let Some((key, value)) = map.next_entry::<Node, Node>()? {
            entries.push((key, value));
        }
        Ok(Value::Map(entries))
    }
}
