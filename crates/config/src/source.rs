//! Where each value came from, so that every error can point at it.
//!
//! The file's text and the text of every override are kept end to end in one string. Spans in the
//! parsed document are offsets into that string: an offset inside the file's part is a line of
//! the file; an offset inside an override's part is that environment variable or flag. This lets
//! the file and the overrides go through exactly the same parsing and checking.

use std::ops::Range;
use std::path::{Path, PathBuf};

use crate::error::ConfigError;
use crate::overrides::value_text;

/// One override laid over the file.
#[derive(Debug, Clone)]
pub(crate) struct Layer {
    /// `GAFFER_ENGINE__CONCURRENCY`, `--set engine.concurrency`, …
    pub source_name: String,
    /// Dotted key.
    pub key: String,
    /// The value as given.
    pub value: String,
}

/// An override's part of the combined text.
#[derive(Debug)]
pub(crate) struct OverridePart {
    pub source_name: String,
    pub key: String,
    pub range: Range<usize>,
}

/// Where a span points.
#[derive(Debug)]
pub(crate) enum Origin<'a> {
    /// A line (1-based) and column (1-based) of the file.
    File { line: usize, column: usize },
    /// An override.
    Override(&'a OverridePart),
}

/// The combined text of the file and the overrides.
#[derive(Debug)]
pub(crate) struct Source {
    text: String,
    /// The file, if one was read; its text is `text[..file_len]`.
    path: Option<PathBuf>,
    file_len: usize,
    overrides: Vec<OverridePart>,
}

impl Source {
    /// Lays `layers` over the file's `text` (none when there is no file), in order.
    pub fn new(file: Option<(&Path, &str)>, layers: &[Layer]) -> Source {
        let (path, mut text) = match file {
            Some((path, text)) => (Some(path.to_path_buf()), text.to_string()),
            None => (None, String::new()),
        };
        let file_len = text.len();
        let mut overrides = Vec::with_capacity(layers.len());
        for layer in layers {
            text.push('\n');
            let start = text.len();
            text.push_str(&value_text(&layer.key, &layer.value));
            overrides.push(OverridePart {
                source_name: layer.source_name.clone(),
                key: layer.key.clone(),
                range: start..text.len(),
            });
        }
        Source {
            text,
            path,
            file_len,
            overrides,
        }
    }

    /// The file's text, if there is a file.
    pub fn file_text(&self) -> Option<&str> {
        self.path.as_ref().map(|_| &self.text[..self.file_len])
    }

    /// The overrides, in the order they apply.
    pub fn overrides(&self) -> &[OverridePart] {
        &self.overrides
    }

    /// The text of an override's value.
    pub fn override_text(&self, part: &OverridePart) -> &str {
        &self.text[part.range.clone()]
    }

    /// The file the configuration was read from.
    pub fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }

    /// The text a span covers, e.g. `"40s"`, as written.
    pub fn snippet(&self, span: &Range<usize>) -> &str {
        self.text.get(span.clone()).unwrap_or("").trim()
    }

    /// Where an offset points.
    pub fn origin(&self, offset: usize) -> Origin<'_> {
        if let Some(part) = self
            .overrides
            .iter()
            .find(|part| part.range.start <= offset && offset <= part.range.end)
        {
            return Origin::Override(part);
        }
        let offset = offset.min(self.file_len);
        let before = &self.text[..offset];
        let line = before.matches('\n').count() + 1;
        let line_start = before.rfind('\n').map_or(0, |nl| nl + 1);
        let column = before[line_start..].chars().count() + 1;
        Origin::File { line, column }
    }

    /// The error for a problem with `key`, whose value sits at `span` (`None` when the value is a
    /// default and so was written nowhere).
    pub fn invalid(
        &self,
        span: Option<&Range<usize>>,
        key: &str,
        message: String,
        hint: String,
    ) -> ConfigError {
        match span.map(|span| self.origin(span.start)) {
            Some(Origin::Override(part)) => ConfigError::Override {
                source_name: part.source_name.clone(),
                key: part.key.clone(),
                message,
                hint,
            },
            Some(Origin::File { line, .. }) => ConfigError::Invalid {
                path: self.path.clone(),
                line: Some(line),
                key: key.to_string(),
                message,
                hint,
            },
            None => ConfigError::Invalid {
                path: self.path.clone(),
                line: None,
                key: key.to_string(),
                message,
                hint,
            },
        }
    }

    /// The error for text that is not TOML at `offset`.
    pub fn syntax(&self, offset: Option<usize>, message: &str) -> ConfigError {
        let message = message.trim().replace('\n', "; ");
        let hint = if message.starts_with("duplicate key") {
            "a key or [table] may appear only once; merge the two".to_string()
        } else {
            "fix the TOML syntax here; text values need quotes, e.g. command = \"cargo test\""
                .to_string()
        };
        match offset.map(|offset| self.origin(offset)) {
            Some(Origin::Override(part)) => ConfigError::Override {
                source_name: part.source_name.clone(),
                key: part.key.clone(),
                message,
                hint,
            },
            Some(Origin::File { line, column }) => ConfigError::Syntax {
                path: self.path.clone().unwrap_or_default(),
                line,
                column,
                message,
                hint,
            },
            None => ConfigError::Syntax {
                path: self.path.clone().unwrap_or_default(),
                line: 1,
                column: 1,
                message,
                hint,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_map_to_lines_and_overrides() {
        let layers = [Layer {
            source_name: "GAFFER_ENGINE__LEASE".into(),
            key: "engine.lease".into(),
            value: "1m".into(),
        }];
        let text = "[engine]\nlease = \"30s\"\n";
        let source = Source::new(Some((Path::new("gaffer.toml"), text)), &layers);
        assert_eq!(source.file_text(), Some(text));
        assert!(matches!(
            source.origin(17),
            Origin::File { line: 2, column: 9 }
        ));
        let part = &source.overrides()[0];
        assert_eq!(source.override_text(part), "\"1m\"");
        assert!(matches!(
            source.origin(part.range.start),
            Origin::Override(p) if p.source_name == "GAFFER_ENGINE__LEASE"
        ));
    }
}
