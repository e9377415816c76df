//! Configuration errors that name the file, the line and what is wrong.

use std::fmt;
use std::ops::Range;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    /// The file as the operator knows it (the path given, or the built-in
    /// demo's name).
    pub file: String,
    /// 1-based; 0 when the problem is not at one place (a missing file).
    pub line: usize,
    pub column: usize,
    pub message: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line == 0 {
            write!(f, "{}: {}", self.file, self.message)
        } else {
            write!(
                f,
                "{}:{}:{}: {}",
                self.file, self.line, self.column, self.message
            )
        }
    }
}

/// Every problem found in one file, in file order.
#[derive(Debug, Clone, Default, PartialEq, Eq, thiserror::Error)]
pub struct ConfigErrors(pub Vec<ConfigError>);

impl fmt::Display for ConfigErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, error) in self.0.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{error}")?;
        }
        Ok(())
    }
}

/// Collects errors against one source text, turning byte spans into lines.
pub struct Reporter<'a> {
    file: &'a str,
    text: &'a str,
    lines: Option<LineIndex>,
    errors: Vec<ConfigError>,
}

impl<'a> Reporter<'a> {
    pub fn new(file: &'a str, text: &'a str) -> Self {
        Self {
            file,
            text,
            lines: None,
            errors: Vec::new(),
        }
    }

    pub fn error(&mut self, span: Range<usize>, message: impl Into<String>) {
        let text = self.text;
        let (line, column) = self
            .lines
            .get_or_insert_with(|| LineIndex::new(text))
            .locate(text, span.start);
        self.errors.push(ConfigError {
            file: self.file.to_string(),
            line,
            column,
            message: message.into(),
        });
    }

    pub fn finish<T>(mut self, value: T) -> Result<T, ConfigErrors> {
        if self.errors.is_empty() {
            Ok(value)
        } else {
            self.errors.sort_by_key(|e| (e.line, e.column));
            Err(ConfigErrors(self.errors))
        }
    }
}

/// Where each line of a text starts, found once: a file with thousands of
/// mistakes is not scanned again for each.
struct LineIndex {
    starts: Vec<usize>,
}

impl LineIndex {
    fn new(text: &str) -> LineIndex {
        let starts = std::iter::once(0)
            .chain(text.match_indices('\n').map(|(at, _)| at + 1))
            .collect();
        LineIndex { starts }
    }

    /// 1-based line and column (in characters) of a byte offset.
    fn locate(&self, text: &str, offset: usize) -> (usize, usize) {
        let offset = text.floor_char_boundary(offset.min(text.len()));
        let line = self.starts.partition_point(|&start| start <= offset);
        let column = text[self.starts[line - 1]..offset].chars().count() + 1;
        (line, column)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_become_lines_and_columns() {
        let text = "a = 1\nbé = 2\n";
        let lines = LineIndex::new(text);
        assert_eq!(lines.locate(text, 0), (1, 1));
        assert_eq!(lines.locate(text, 6), (2, 1));
        assert_eq!(lines.locate(text, 10), (2, 4));
        assert_eq!(lines.locate(text, 999), (3, 1));
    }

    #[test]
    fn errors_print_file_line_column() {
        let mut reporter = Reporter::new("x.toml", "a\nb\n");
        reporter.error(2..3, "bad b");
        let errors = reporter.finish(()).unwrap_err();
        assert_eq!(errors.to_string(), "x.toml:2:1: bad b");
    }
}
