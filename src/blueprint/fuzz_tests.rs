//! Hostile input: the loader and validator over random text, random edits of the seed
//! blueprint, random bytes and deep nesting. Whatever comes in, the answer is a blueprint
//! or diagnostics that say where (a position or a field path) — never a panic. Bounded:
//! a few thousand cases, seconds in CI.

use proptest::prelude::*;

use super::{Source, Target, load_source};
use crate::testing::SEED;

/// Loads and validates; every error says where it is (a position or a field path), or,
/// for the file as a whole (empty, too large), what to do.
fn check(text: &str) {
    let target = Target {
        region: Some("us-east-1".into()),
        account: Some("123456789012".into()),
    };
    let outcome = load_source(Source::from_string("fuzz.yaml", text), None)
        .and_then(|loaded| loaded.validate(&target).map(|_| ()));
    if let Err(diagnostics) = outcome {
        assert!(diagnostics.error_count() > 0, "an Err carries an error");
        for d in diagnostics.items.iter().filter(|d| d.is_error()) {
            assert!(
                d.span.is_some() || d.path.is_some() || d.help.is_some(),
                "neither a position nor a remedy: {d:?}"
            );
            assert!(!d.render(false).is_empty());
        }
    }
}

/// One edit of a text, the kind a typo or a bad merge makes.
#[derive(Clone, Debug)]
enum Edit {
    Delete(usize, usize),
    Insert(usize, String),
    DuplicateLine(usize),
    SwapLines(usize, usize),
    Indent(usize, usize),
}

fn edit() -> impl Strategy<Value = Edit> {
    let yamlish = "[-:{}\\[\\],#&*!|>'\"%@` \\n\\ta-z0-9.]{1,12}";
    prop_oneof![
        (any::<usize>(), 1..40usize).prop_map(|(at, n)| Edit::Delete(at, n)),
        (any::<usize>(), yamlish).prop_map(|(at, s)| Edit::Insert(at, s)),
        any::<usize>().prop_map(Edit::DuplicateLine),
        (any::<usize>(), any::<usize>()).prop_map(|(a, b)| Edit::SwapLines(a, b)),
        (any::<usize>(), 1..6usize).prop_map(|(line, n)| Edit::Indent(line, n)),
    ]
}

fn apply(text: &str, edit: &Edit) -> String {
    let boundary = |at: usize| {
        let mut at = at % (text.len() + 1);
        while !text.is_char_boundary(at) {
            at -= 1;
        }
        at
    };
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    let n = lines.len().max(1);
    match edit {
        Edit::Delete(at, len) => {
            let start = boundary(*at);
            let end = boundary(start.saturating_add(*len).min(text.len()));
            format!("{}{}", &text[..start], &text[end.max(start)..])
        }
        Edit::Insert(at, s) => {
            let at = boundary(*at);
            format!("{}{s}{}", &text[..at], &text[at..])
        }
        Edit::DuplicateLine(i) => {
            if !lines.is_empty() {
                let line = lines[i % n].clone();
                lines.insert(i % n, line);
            }
            lines.join("\n")
        }
        Edit::SwapLines(a, b) => {
            if !lines.is_empty() {
                lines.swap(a % n, b % n);
            }
            lines.join("\n")
        }
        Edit::Indent(i, by) => {
            if !lines.is_empty() {
                lines[i % n] = format!("{}{}", " ".repeat(*by), lines[i % n]);
            }
            lines.join("\n")
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1500, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn edited_seed_blueprints_get_answers_not_panics(edits in prop::collection::vec(edit(), 1..6)) {
        let mut text = SEED.to_string();
        for e in &edits {
            text = apply(&text, e);
        }
        check(&text);
    }

    #[test]
    fn arbitrary_text_gets_answers_not_panics(text in "\\PC{0,400}") {
        check(&text);
    }

    #[test]
    fn arbitrary_bytes_get_answers_not_panics(bytes in prop::collection::vec(any::<u8>(), 0..400)) {
        if let Ok(source) = Source::from_bytes("fuzz.yaml".into(), "fuzz.yaml".into(), bytes) {
            let target = Target { region: Some("us-east-1".into()), account: None };
            if let Ok(loaded) = load_source(source, None) {
                let _ = loaded.validate(&target);
            }
        }
    }

    #[test]
    fn deep_nesting_is_refused_not_followed(depth in 49..400usize, flow in any::<bool>()) {
        let text = if flow {
            format!("version: 1\nstack: x\nnetwork: {}{}", "[".repeat(depth), "]".repeat(depth))
        } else {
            let mut text = String::from("version: 1\nstack: x\ntags:\n");
            for level in 0..depth {
                text.push_str(&format!("{}k{level}:\n", " ".repeat(level + 1)));
            }
            text
        };
        let loaded = load_source(Source::from_string("deep.yaml", text), None);
        prop_assert!(loaded.is_err());
    }
}
