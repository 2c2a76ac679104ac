//! A file's text with its repository and path, and byte offset → line/column mapping.
//! Extractors turn byte offsets into [`Location`]s only through this type.

use std::any::Any;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use switchyard_model::{ByteSpan, Location};

/// One UTF-8 text file of a repository.
#[derive(Debug, Clone)]
pub struct SourceFile {
    pub repository: String,
    /// Repo-relative, `/`-separated.
    pub path: String,
    pub text: String,
    line_starts: Vec<usize>,
}

impl SourceFile {
    pub fn new(
        repository: impl Into<String>,
        path: impl Into<String>,
        text: impl Into<String>,
    ) -> Self {
        let text = text.into();
        let mut line_starts = vec![0];
        line_starts.extend(memchr_newlines(&text));
        Self {
            repository: repository.into(),
            path: path.into(),
            text,
            line_starts,
        }
    }

    /// The 1-based line and column (in characters) of a byte offset.
    pub fn line_col(&self, byte: usize) -> (u32, u32) {
        let byte = byte.min(self.text.len());
        let line_idx = match self.line_starts.binary_search(&byte) {
            Ok(i) => i,
            Err(i) => i.saturating_sub(1),
        };
        let start = self.line_starts[line_idx];
        let col = self
            .text
            .get(start..byte)
            .map(|s| s.chars().count())
            .unwrap_or(byte - start);
        (line_idx as u32 + 1, col as u32 + 1)
    }

    /// The location of the byte range `[start, end)`.
    pub fn location(&self, start: usize, end: usize) -> Location {
        let (line, column) = self.line_col(start);
        Location::new(
            self.repository.clone(),
            self.path.clone(),
            line,
            column,
            ByteSpan::new(start, end.max(start)),
        )
    }

    /// The location of the whole file (line 1, column 1).
    pub fn file_location(&self) -> Location {
        Location::file(self.repository.clone(), self.path.clone())
    }

    /// The byte offset where 1-based `line` starts, if the file has it.
    pub fn line_start(&self, line: u32) -> Option<usize> {
        self.line_starts
            .get((line as usize).checked_sub(1)?)
            .copied()
    }

    /// The file name (last path component).
    pub fn file_name(&self) -> &str {
        file_name(&self.path)
    }

    /// The directory of the file, `""` at the repository root.
    pub fn dir(&self) -> &str {
        parent_dir(&self.path)
    }
}

fn memchr_newlines(text: &str) -> impl Iterator<Item = usize> + '_ {
    text.bytes()
        .enumerate()
        .filter(|(_, b)| *b == b'\n')
        .map(|(i, _)| i + 1)
}

/// Last component of a `/`-separated path.
pub fn file_name(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}

/// Directory part of a `/`-separated path, `""` for a top-level file.
pub fn parent_dir(path: &str) -> &str {
    path.rfind('/').map(|i| &path[..i]).unwrap_or("")
}

/// Joins a repo-relative directory and a relative path, normalizing `.` and `..`.
/// Returns `None` when the result would leave the repository.
pub fn join_repo_path(dir: &str, relative: &str) -> Option<String> {
    let mut parts: Vec<&str> = if relative.starts_with('/') {
        Vec::new()
    } else {
        dir.split('/').filter(|p| !p.is_empty()).collect()
    };
    for part in relative.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop()?;
            }
            p => parts.push(p),
        }
    }
    Some(parts.join("/"))
}

/// The files of one repository that extractors read, by path.
#[derive(Debug, Default)]
pub struct RepoFiles {
    pub repository: String,
    files: Vec<SourceFile>,
    by_path: HashMap<String, usize>,
    /// Repo-wide indexes built once by extractors that match across files (see [`RepoFiles::memo`]).
    memos: Mutex<HashMap<String, Arc<dyn Any + Send + Sync>>>,
}

impl RepoFiles {
    pub fn new(repository: impl Into<String>) -> Self {
        Self {
            repository: repository.into(),
            ..Self::default()
        }
    }

    /// A value built once per repository under `key` (e.g. an index of every manifest), shared
    /// by the per-file calls of one extractor. Adding a file clears the memos.
    pub fn memo<T: Any + Send + Sync>(&self, key: &str, build: impl FnOnce() -> T) -> Arc<T> {
        let mut memos = self.memos.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(value) = memos
            .get(key)
            .and_then(|v| Arc::clone(v).downcast::<T>().ok())
        {
            return value;
        }
        let value = Arc::new(build());
        memos.insert(
            key.to_string(),
            Arc::clone(&value) as Arc<dyn Any + Send + Sync>,
        );
        value
    }

    pub fn add(&mut self, file: SourceFile) {
        self.memos
            .get_mut()
            .unwrap_or_else(|e| e.into_inner())
            .clear();
        self.by_path.insert(file.path.clone(), self.files.len());
        self.files.push(file);
    }

    /// Adds a file from its path and text.
    pub fn add_text(&mut self, path: impl Into<String>, text: impl Into<String>) {
        let file = SourceFile::new(self.repository.clone(), path, text);
        self.add(file);
    }

    pub fn get(&self, path: &str) -> Option<&SourceFile> {
        self.by_path.get(path).map(|&i| &self.files[i])
    }

    pub fn files(&self) -> &[SourceFile] {
        &self.files
    }

    pub fn len(&self) -> usize {
        self.files.len()
    }

    pub fn is_empty(&self) -> bool {
        self.files.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_col_counts_chars() {
        let f = SourceFile::new("r", "a.yml", "ab\nçd: x\n");
        assert_eq!(f.line_col(0), (1, 1));
        assert_eq!(f.line_col(3), (2, 1));
        // 'ç' is two bytes; 'd' is the 2nd character of line 2.
        assert_eq!(f.line_col(5), (2, 2));
        assert_eq!(f.location(3, 5).to_string(), "r/a.yml:2:1");
    }

    #[test]
    fn joins_paths() {
        assert_eq!(join_repo_path("a/b", "../c/./d").as_deref(), Some("a/c/d"));
        assert_eq!(join_repo_path("", "x").as_deref(), Some("x"));
        assert_eq!(join_repo_path("", "../x"), None);
        assert_eq!(parent_dir("a/b/c.yml"), "a/b");
        assert_eq!(file_name("a/b/c.yml"), "c.yml");
    }
}
