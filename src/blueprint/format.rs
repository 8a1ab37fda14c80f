//! Canonical formatting of a blueprint (`secinfra fmt`): layout only — indentation,
//! spacing inside flow collections, quotes, trailing blanks — with every comment kept and
//! the keys in the user's order. The formatter is pretty_yaml (the YAML formatter of the
//! dprint family); its result is parsed again and must mean exactly what the input meant,
//! scalar by scalar as written, or the file is left alone.

use super::diagnostic::{Diagnostic, Diagnostics};
use super::node::{self, Node, Value};
use super::source::Source;

/// Lines up to this long keep a flow mapping (`{ cidr: ..., az: a }`) on one line, as the
/// sample blueprint writes subnets and rules.
const PRINT_WIDTH: usize = 120;

fn options() -> pretty_yaml::config::FormatOptions {
    let mut options = pretty_yaml::config::FormatOptions::default();
    options.layout.print_width = PRINT_WIDTH;
    options.layout.indent_width = 2;
    options.language.prefer_single_line = true;
    options.language.trailing_comma = false;
    options.language.bracket_spacing = false;
    options.language.brace_spacing = true;
    options
}

/// The blueprint's text, formatted; an error when it is not YAML, or when formatting
/// would change what it says.
pub fn format(source: &Source) -> Result<String, Diagnostics> {
    let before = node::parse(source)?;
    let text = source.text.clone();
    // A formatter's panic is its bug; the blueprint is then left as it is.
    let formatted = std::panic::catch_unwind(move || {
        pretty_yaml::format_text(&text, &options()).map_err(|e| e.to_string())
    })
    .unwrap_or_else(|_| Err("the formatter stopped unexpectedly".into()))
    .map_err(|e| refusal(source, &format!("cannot be formatted: {e}")))?;
    let after = node::parse(&Source::from_string(source.name.clone(), formatted.clone()))
        .map_err(|_| refusal(source, "formatting it would not give valid YAML"))?;
    if !same_meaning(&before, &after) {
        return Err(refusal(
            source,
            "formatting it would change what it says, so it is left as it is",
        ));
    }
    Ok(formatted)
}

fn refusal(source: &Source, what: &str) -> Diagnostics {
    Diagnostic::error(format!("{} {what}", source.name))
        .with_file(&source.name)
        .with_help("this is secinfra's bug to fix; the file was not changed")
        .into()
}

/// Whether two trees hold the same values, scalars as written, keys in the same order.
fn same_meaning(a: &Node, b: &Node) -> bool {
    if a.raw != b.raw {
        return false;
    }
    match (&a.value, &b.value) {
        (Value::Seq(x), Value::Seq(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(p, q)| same_meaning(p, q))
        }
        (Value::Map(x), Value::Map(y)) => {
            x.len() == y.len()
                && x.iter()
                    .zip(y)
                    .all(|((k1, v1), (k2, v2))| same_meaning(k1, k2) && same_meaning(v1, v2))
        }
        (x, y) => x == y,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn formatted(text: &str) -> String {
        format(&Source::from_string("b.yaml", text)).expect("formats")
    }

    #[test]
    fn layout_is_normalised_and_comments_kept() {
        let out = formatted(
            "version: 1   # the format\nstack:    demo\nnetwork:\n    vpc: {cidr: 10.0.0.0/16}\n    # subnets by zone\n    subnets:\n        a: {  cidr: 10.0.1.0/24, az: a, tier: isolated }\n",
        );
        assert!(out.contains("# the format"), "{out}");
        assert!(out.contains("# subnets by zone"), "{out}");
        assert!(out.contains("stack: demo\n"), "{out}");
        assert!(out.contains("  vpc: { cidr: 10.0.0.0/16 }\n"), "{out}");
        assert!(
            out.contains("    a: { cidr: 10.0.1.0/24, az: a, tier: isolated }\n"),
            "{out}"
        );
        assert_eq!(formatted(&out), out, "formatting is idempotent");
    }

    #[test]
    fn the_sample_blueprint_is_formatted() {
        let text = std::fs::read_to_string(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("blueprints/api-platform.yaml"),
        )
        .expect("sample");
        let out = formatted(&text);
        let diff = similar::TextDiff::from_lines(&text, &out)
            .unified_diff()
            .header("blueprints/api-platform.yaml", "formatted")
            .to_string();
        assert!(
            diff.is_empty(),
            "`secinfra fmt blueprints/api-platform.yaml` would change:\n{diff}"
        );
    }

    #[test]
    fn meaning_is_compared_as_written() {
        let parse = |t: &str| node::parse(&Source::from_string("x", t)).expect("yaml");
        assert!(same_meaning(&parse("a: {b: 1}\n"), &parse("a:\n  b: 1\n")));
        assert!(!same_meaning(&parse("a: 0042\n"), &parse("a: 42\n")));
        assert!(!same_meaning(
            &parse("a: 1\nb: 2\n"),
            &parse("b: 2\na: 1\n")
        ));
    }
}
