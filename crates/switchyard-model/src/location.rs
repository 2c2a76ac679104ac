//! Where a fact came from: repository, repo-relative path, 1-based line and column, byte span.

use serde::{Deserialize, Serialize};
use std::fmt;

/// A half-open byte range `[start, end)` into a file's bytes.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
pub struct ByteSpan {
    pub start: usize,
    pub end: usize,
}

impl ByteSpan {
    pub fn new(start: usize, end: usize) -> Self {
        Self { start, end }
    }
}

/// A position in a repository: `repo/path:line:column` plus the byte span of the fact.
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Location {
    pub repository: String,
    /// Path relative to the repository root, `/`-separated.
    pub path: String,
    /// 1-based line.
    pub line: u32,
    /// 1-based column, counted in characters.
    pub column: u32,
    #[serde(default)]
    pub span: ByteSpan,
}

impl Location {
    pub fn new(
        repository: impl Into<String>,
        path: impl Into<String>,
        line: u32,
        column: u32,
        span: ByteSpan,
    ) -> Self {
        Self {
            repository: repository.into(),
            path: path.into(),
            line,
            column,
            span,
        }
    }

    /// A location naming a whole file (line 1, column 1, empty span).
    pub fn file(repository: impl Into<String>, path: impl Into<String>) -> Self {
        Self::new(repository, path, 1, 1, ByteSpan::default())
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}/{}:{}:{}",
            self.repository, self.path, self.line, self.column
        )
    }
}
