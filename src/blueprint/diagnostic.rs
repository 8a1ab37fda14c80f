//! Blueprint diagnostics: a message, where it applies (file:line:column with a source
//! excerpt, or a field path), and what to do about it.

use std::fmt;
use std::sync::Arc;

use annotate_snippets::{AnnotationKind, Group, Level, Renderer, Snippet};

use super::source::Source;
use super::span::Span;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Severity {
    Error,
    Warning,
}

/// One problem found in a blueprint.
#[derive(Clone, Debug)]
pub struct Diagnostic {
    pub severity: Severity,
    pub message: String,
    /// File name, always set when the problem is tied to a file.
    pub file: Option<String>,
    pub span: Option<Span>,
    pub label: Option<String>,
    /// Dotted field path (`network.subnets.app-az1.cidr`) when known.
    pub path: Option<String>,
    pub help: Option<String>,
    /// Source line shown under the message; captured so rendering needs no file access.
    excerpt: Option<Excerpt>,
    /// A second place the problem involves (e.g. the other overlapping subnet).
    pub related: Vec<Related>,
}

#[derive(Clone, Debug)]
pub struct Related {
    pub span: Span,
    pub label: String,
}

#[derive(Clone, Debug)]
struct Excerpt {
    text: Arc<str>,
}

impl Diagnostic {
    pub fn error(message: impl Into<String>) -> Diagnostic {
        Diagnostic {
            severity: Severity::Error,
            message: message.into(),
            file: None,
            span: None,
            label: None,
            path: None,
            help: None,
            excerpt: None,
            related: Vec::new(),
        }
    }

    pub fn warning(message: impl Into<String>) -> Diagnostic {
        Diagnostic {
            severity: Severity::Warning,
            ..Diagnostic::error(message)
        }
    }

    pub fn with_file(mut self, name: &str) -> Diagnostic {
        self.file = Some(name.to_string());
        self
    }

    /// Points the diagnostic at `span` in `source` and keeps the text needed to show it.
    pub fn with_source(mut self, source: &Source, span: Span, label: impl Into<String>) -> Self {
        self.file = Some(source.name.clone());
        if span.is_known() {
            self.span = Some(span);
            self.excerpt = Some(Excerpt {
                text: Arc::clone(&source.text),
            });
            let label = label.into();
            if !label.is_empty() {
                self.label = Some(label);
            }
        }
        self
    }

    /// Points at `span` without quoting the source (for lines that hold something that
    /// must not be printed again, such as a pasted secret).
    pub fn with_position(mut self, source: &Source, span: Span) -> Self {
        self.file = Some(source.name.clone());
        if span.is_known() {
            self.span = Some(span);
        }
        self
    }

    pub fn with_related(mut self, span: Span, label: impl Into<String>) -> Self {
        if span.is_known() {
            self.related.push(Related {
                span,
                label: label.into(),
            });
        }
        self
    }

    pub fn with_path(mut self, path: impl Into<String>) -> Self {
        self.path = Some(path.into());
        self
    }

    pub fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }

    /// `file:line:column` (or just the file) for one-line summaries and tests.
    pub fn location(&self) -> Option<String> {
        let file = self.file.as_deref()?;
        match self.span {
            Some(span) => Some(format!("{file}:{}:{}", span.line, span.column)),
            None => Some(file.to_string()),
        }
    }

    /// Renders like rustc: message, `--> file:line:column`, the source line with the
    /// value underlined, the field path and a help line.
    pub fn render(&self, color: bool) -> String {
        let level = match self.severity {
            Severity::Error => Level::ERROR,
            Severity::Warning => Level::WARNING,
        };
        let title = level.primary_title(self.message.as_str());
        let mut group = match (&self.excerpt, self.span, &self.file) {
            (Some(excerpt), Some(span), Some(file)) => {
                let text: &str = &excerpt.text;
                let range = clamp(text, span.range());
                let mut snippet = Snippet::source(text)
                    .path(file.as_str())
                    .fold(true)
                    .annotation(
                        AnnotationKind::Primary
                            .span(range)
                            .label(self.label.as_deref().unwrap_or("")),
                    );
                for related in &self.related {
                    snippet = snippet.annotation(
                        AnnotationKind::Context
                            .span(clamp(text, related.span.range()))
                            .label(related.label.as_str()),
                    );
                }
                title.element(snippet)
            }
            (_, Some(span), Some(file)) => title.element(
                annotate_snippets::Origin::path(file.as_str())
                    .line(span.line as usize)
                    .char_column(span.column as usize),
            ),
            (_, None, Some(file)) => title.element(annotate_snippets::Origin::path(file.as_str())),
            _ => Group::with_title(title),
        };
        if let Some(path) = &self.path {
            group = group.element(Level::NOTE.message(format!("field: {path}")));
        }
        if let Some(help) = &self.help {
            group = group.element(Level::HELP.message(help.as_str()));
        }
        let renderer = if color {
            Renderer::styled()
        } else {
            Renderer::plain()
        };
        renderer.render(&[group])
    }
}

/// Keeps a span inside the text and on a character boundary so rendering never panics.
fn clamp(text: &str, range: std::ops::Range<usize>) -> std::ops::Range<usize> {
    let mut start = range.start.min(text.len());
    while !text.is_char_boundary(start) {
        start -= 1;
    }
    let mut end = range.end.clamp(start, text.len());
    while !text.is_char_boundary(end) {
        end += 1;
    }
    start..end
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(location) = self.location() {
            write!(f, "{location}: ")?;
        }
        f.write_str(&self.message)?;
        if let Some(help) = &self.help {
            write!(f, " ({help})")?;
        }
        Ok(())
    }
}

/// Every problem found in one blueprint, errors and warnings.
#[derive(Clone, Debug, Default)]
pub struct Diagnostics {
    pub items: Vec<Diagnostic>,
}

impl Diagnostics {
    pub fn push(&mut self, diagnostic: Diagnostic) {
        self.items.push(diagnostic);
    }

    pub fn has_errors(&self) -> bool {
        self.items.iter().any(Diagnostic::is_error)
    }

    pub fn error_count(&self) -> usize {
        self.items.iter().filter(|d| d.is_error()).count()
    }

    pub fn warnings(&self) -> impl Iterator<Item = &Diagnostic> {
        self.items.iter().filter(|d| !d.is_error())
    }

    pub fn render(&self, color: bool) -> String {
        let mut out = String::new();
        for diagnostic in &self.items {
            out.push_str(&diagnostic.render(color));
            out.push_str("\n\n");
        }
        out
    }
}

impl From<Diagnostic> for Diagnostics {
    fn from(diagnostic: Diagnostic) -> Self {
        Diagnostics {
            items: vec![diagnostic],
        }
    }
}

impl fmt::Display for Diagnostics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, d) in self.items.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{d}")?;
        }
        Ok(())
    }
}
