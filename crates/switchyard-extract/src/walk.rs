//! Reads a repository's candidate files from disk with limits: gitignore respected, vendored
//! trees skipped, oversize, binary, non-UTF-8, unreadable files and symlink loops become
//! diagnostics. This is the only module of the crate that touches the file system for facts.

use crate::extractor::Registry;
use crate::source::{RepoFiles, SourceFile};
use std::path::{Path, PathBuf};
use switchyard_model::{Diagnostic, DiagnosticCode, Location};

/// Limits applied while reading a repository.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Largest file read, in bytes.
    pub max_file_bytes: u64,
    /// Most candidate files read per repository.
    pub max_files: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_file_bytes: 8 * 1024 * 1024,
            max_files: 20_000,
        }
    }
}

/// Directory names never entered.
pub const SKIPPED_DIRS: [&str; 12] = [
    ".git",
    "node_modules",
    "target",
    "vendor",
    "bower_components",
    ".venv",
    "venv",
    "__pycache__",
    ".switchyard",
    ".next",
    ".turbo",
    ".terraform",
];

/// The candidate files of a repository and the diagnostics met while reading them.
pub struct ReadRepo {
    pub files: RepoFiles,
    pub diagnostics: Vec<Diagnostic>,
}

/// A file some extractor wants, found by the walk but not read yet.
#[derive(Debug, Clone)]
pub struct Candidate {
    /// Repo-relative, `/`-separated.
    pub rel: String,
    pub path: PathBuf,
    pub len: u64,
    /// Modification time in nanoseconds since the epoch (0 when unknown).
    pub mtime_ns: u128,
}

/// The walk's result: candidate files and the diagnostics met while walking.
pub struct Listing {
    pub candidates: Vec<Candidate>,
    pub diagnostics: Vec<Diagnostic>,
}

/// Walks `root` and reads every file some extractor of `registry` accepts.
pub fn read_repository(name: &str, root: &Path, registry: &Registry, limits: Limits) -> ReadRepo {
    read_candidates(name, list_candidates(name, root, registry, limits), limits)
}

/// Walks `root` and lists (with size and mtime) every file some extractor accepts.
pub fn list_candidates(name: &str, root: &Path, registry: &Registry, limits: Limits) -> Listing {
    let mut diagnostics = Vec::new();
    let mut candidates = Vec::new();
    if !root.is_dir() {
        diagnostics.push(Diagnostic::new(
            DiagnosticCode::RepositoryMissing,
            format!("repository path {} is not a directory", root.display()),
            Location::file(name, ""),
        ));
        return Listing {
            candidates,
            diagnostics,
        };
    }
    let walker = ignore::WalkBuilder::new(root)
        .hidden(false)
        // Only the repository's own .gitignore files: parents of the checkout, global
        // excludes and .ignore files describe someone's machine, not the repository.
        .parents(false)
        .ignore(false)
        .git_ignore(true)
        .git_global(false)
        .git_exclude(false)
        .require_git(false)
        .follow_links(true)
        .sort_by_file_name(|a, b| a.cmp(b))
        .filter_entry(|entry| {
            !(entry.file_type().is_some_and(|t| t.is_dir())
                && entry
                    .file_name()
                    .to_str()
                    .is_some_and(|n| SKIPPED_DIRS.contains(&n)))
        })
        .build();
    for entry in walker {
        let entry = match entry {
            Ok(e) => e,
            Err(err) => {
                diagnostics.push(walk_error_diagnostic(name, root, &err));
                continue;
            }
        };
        if !entry.file_type().is_some_and(|t| t.is_file()) {
            continue;
        }
        let Some(rel) = relative_path(root, entry.path()) else {
            continue;
        };
        if !registry.accepts(&rel) {
            continue;
        }
        if candidates.len() >= limits.max_files {
            diagnostics.push(Diagnostic::new(
                DiagnosticCode::TooManyFiles,
                format!(
                    "more than {} candidate files; the rest were skipped",
                    limits.max_files
                ),
                Location::file(name, rel),
            ));
            break;
        }
        let (len, mtime_ns) = entry
            .metadata()
            .map(|m| {
                let mtime = m
                    .modified()
                    .ok()
                    .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
                    .map_or(0, |d| d.as_nanos());
                (m.len(), mtime)
            })
            .unwrap_or((0, 0));
        candidates.push(Candidate {
            rel,
            path: entry.into_path(),
            len,
            mtime_ns,
        });
    }
    Listing {
        candidates,
        diagnostics,
    }
}

/// Reads listed candidates as text; unreadable ones become diagnostics.
pub fn read_candidates(name: &str, listing: Listing, limits: Limits) -> ReadRepo {
    let mut files = RepoFiles::new(name);
    let mut diagnostics = listing.diagnostics;
    for c in listing.candidates {
        match read_text(name, &c.rel, &c.path, limits) {
            Ok(text) => files.add(SourceFile::new(name, c.rel, text)),
            Err(d) => diagnostics.push(d),
        }
    }
    ReadRepo { files, diagnostics }
}

fn relative_path(root: &Path, path: &Path) -> Option<String> {
    let rel = path.strip_prefix(root).ok()?;
    let parts: Vec<&str> = rel
        .components()
        .map(|c| c.as_os_str().to_str())
        .collect::<Option<_>>()?;
    Some(parts.join("/"))
}

fn walk_error_diagnostic(name: &str, root: &Path, err: &ignore::Error) -> Diagnostic {
    let path = error_path(err)
        .and_then(|p| relative_path(root, p))
        .unwrap_or_default();
    let text = err.to_string();
    let code = if text.contains("loop") {
        DiagnosticCode::SymlinkLoop
    } else {
        DiagnosticCode::Unreadable
    };
    Diagnostic::new(code, text, Location::file(name, path))
}

fn error_path(err: &ignore::Error) -> Option<&Path> {
    match err {
        ignore::Error::WithPath { path, .. } => Some(path),
        ignore::Error::WithDepth { err, .. } | ignore::Error::WithLineNumber { err, .. } => {
            error_path(err)
        }
        ignore::Error::Loop { child, .. } => Some(child),
        _ => None,
    }
}

/// Reads one file as UTF-8 text, or says why not.
fn read_text(repo: &str, rel: &str, path: &Path, limits: Limits) -> Result<String, Diagnostic> {
    let at = |code, msg: String| Diagnostic::new(code, msg, Location::file(repo, rel));
    let meta = std::fs::metadata(path)
        .map_err(|e| at(DiagnosticCode::Unreadable, format!("cannot read: {e}")))?;
    if meta.len() > limits.max_file_bytes {
        return Err(at(
            DiagnosticCode::FileTooLarge,
            format!(
                "file is {} bytes, over the {} byte limit; skipped",
                meta.len(),
                limits.max_file_bytes
            ),
        ));
    }
    let bytes = std::fs::read(path)
        .map_err(|e| at(DiagnosticCode::Unreadable, format!("cannot read: {e}")))?;
    decode_text(repo, rel, bytes)
}

/// Decodes file bytes as UTF-8 (a BOM is dropped); binary and non-UTF-8 files are diagnostics
/// located at the offending byte.
pub fn decode_text(repo: &str, rel: &str, bytes: Vec<u8>) -> Result<String, Diagnostic> {
    if let Some(pos) = bytes.iter().take(8192).position(|&b| b == 0) {
        let probe = SourceFile::new(
            repo,
            rel,
            String::from_utf8_lossy(&bytes[..pos]).into_owned(),
        );
        return Err(Diagnostic::new(
            DiagnosticCode::BinaryFile,
            "binary file (NUL byte); skipped",
            probe.location(pos, pos),
        ));
    }
    let bytes = match bytes.strip_prefix(b"\xEF\xBB\xBF") {
        Some(rest) => rest.to_vec(),
        None => bytes,
    };
    String::from_utf8(bytes).map_err(|e| {
        let valid = e.utf8_error().valid_up_to();
        let bytes = e.into_bytes();
        let probe = SourceFile::new(
            repo,
            rel,
            String::from_utf8_lossy(&bytes[..valid]).into_owned(),
        );
        Diagnostic::new(
            DiagnosticCode::NotUtf8,
            format!("not valid UTF-8 at byte {valid}; skipped"),
            probe.location(valid, valid),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn non_utf8_is_located() {
        let d = decode_text("r", "x.env", b"A=1\nB=\xff\n".to_vec()).unwrap_err();
        assert_eq!(d.code, DiagnosticCode::NotUtf8);
        assert_eq!((d.location.line, d.location.column), (2, 3));
    }

    #[test]
    fn binary_is_detected() {
        let d = decode_text("r", "x.yml", b"a: 1\n\0\0".to_vec()).unwrap_err();
        assert_eq!(d.code, DiagnosticCode::BinaryFile);
    }

    #[test]
    fn bom_is_dropped() {
        assert_eq!(
            decode_text("r", "x", b"\xEF\xBB\xBFa: 1".to_vec()).unwrap(),
            "a: 1"
        );
    }
}
