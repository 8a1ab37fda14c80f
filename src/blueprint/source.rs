//! The blueprint file as read from disk: its display name and text.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::diagnostic::{Diagnostic, Diagnostics};
use super::span::Span;

/// Blueprints describe one environment; anything this large is a mistake or an attack.
pub const MAX_BLUEPRINT_BYTES: usize = 1024 * 1024;

#[derive(Clone, Debug)]
pub struct Source {
    /// The path as the user gave it; used in every diagnostic.
    pub name: String,
    pub path: PathBuf,
    pub text: Arc<str>,
}

impl Source {
    pub fn from_string(name: impl Into<String>, text: impl Into<String>) -> Source {
        let name = name.into();
        Source {
            path: PathBuf::from(&name),
            name,
            text: Arc::from(text.into()),
        }
    }

    /// Reads a blueprint, refusing oversized files and bytes that are not UTF-8 with a
    /// position, before any YAML parsing happens.
    pub fn read(path: &Path) -> Result<Source, Diagnostics> {
        let name = path.display().to_string();
        let file_error = |what: String| Diagnostic::error(what).with_file(&name);
        let meta = std::fs::metadata(path)
            .map_err(|e| file_error(format!("cannot read blueprint {name}: {e}")))?;
        if meta.is_dir() {
            return Err(file_error(format!("{name} is a directory, not a blueprint file")).into());
        }
        if meta.len() > MAX_BLUEPRINT_BYTES as u64 {
            return Err(too_large(&name, meta.len() as usize).into());
        }
        let bytes = std::fs::read(path)
            .map_err(|e| file_error(format!("cannot read blueprint {name}: {e}")))?;
        Source::from_bytes(name, path.to_path_buf(), bytes)
    }

    pub fn from_bytes(name: String, path: PathBuf, bytes: Vec<u8>) -> Result<Source, Diagnostics> {
        if bytes.len() > MAX_BLUEPRINT_BYTES {
            return Err(too_large(&name, bytes.len()).into());
        }
        match String::from_utf8(bytes) {
            Ok(text) => Ok(Source {
                name,
                path,
                text: Arc::from(text),
            }),
            Err(err) => {
                let valid = err.utf8_error().valid_up_to();
                let bytes = err.into_bytes();
                let prefix = String::from_utf8_lossy(&bytes[..valid]).into_owned();
                let span = span_at(&prefix, valid, 1);
                // Show the readable part of the line; the bad bytes themselves are not text.
                let source = Source {
                    name: name.clone(),
                    path,
                    text: Arc::from(prefix),
                };
                Err(Diagnostic::error(format!(
                    "{name} is not valid UTF-8 (byte 0x{:02x} at offset {valid})",
                    bytes[valid]
                ))
                .with_source(&source, span, "invalid byte here")
                .with_help("save the blueprint as UTF-8 text")
                .into())
            }
        }
    }

    /// Line and column (1-based, in characters) of a byte offset.
    pub fn span_at(&self, offset: usize, len: usize) -> Span {
        span_at(&self.text, offset, len)
    }
}

fn span_at(text: &str, offset: usize, len: usize) -> Span {
    let offset = offset.min(text.len());
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let column = before[line_start..].chars().count() + 1;
    Span {
        line: line as u32,
        column: column as u32,
        start: offset,
        len,
    }
}

fn too_large(name: &str, len: usize) -> Diagnostic {
    Diagnostic::error(format!(
        "{name} is {len} bytes; blueprints are limited to {MAX_BLUEPRINT_BYTES} bytes"
    ))
    .with_file(name)
    .with_help("a blueprint describes one environment; split unrelated stacks into separate files")
}
