//! Reads a repository's candidate files from disk with limits: gitignore respected, vendored
//! trees skipped, oversize, binary, non-UTF-8, unreadable files and symlink loops become
//! diagnostics. This is the only module of the crate that touches the file system for facts.
//!
//! A hostile checkout must not escape or stall the walk: a symlink whose target lies outside
//! the repository is never followed (nor read), and the walk is bounded in files, depth,
//! bytes and wall time, each overrun a diagnostic; a [`Cancel`] stops it from outside.

use crate::extractor::Registry;
use crate::source::{RepoFiles, SourceFile};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use switchyard_model::{Diagnostic, DiagnosticCode, Location};

mod gitignore;
mod limits;
mod prune;
#[cfg(test)]
mod tests;

pub use limits::{Cancel, Limits};
use prune::{Pruned, keep_entry, report_pruned, stop_code, stop_diagnostic, stop_now};

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
    /// Stopped early by the time limit or a [`Cancel`] (see [`Listing::interrupted`]).
    pub interrupted: bool,
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
    /// The walk was stopped by its time limit or a [`Cancel`]: what it found may differ on the
    /// next walk of the same files, so its facts are never cached.
    pub interrupted: bool,
    /// When the repository's time budget runs out; reading the candidates stops there too.
    pub deadline: Instant,
    /// The repository root with every link resolved; no file outside it is read.
    pub root: Option<PathBuf>,
}

/// Walks `root` and reads every file some extractor of `registry` accepts.
pub fn read_repository(name: &str, root: &Path, registry: &Registry, limits: Limits) -> ReadRepo {
    let cancel = Cancel::default();
    read_candidates(
        name,
        list_candidates(name, root, registry, limits, &cancel),
        limits,
        &cancel,
    )
}

/// Walks `root` and lists (with size and mtime) every file some extractor accepts. Symlinks
/// are followed only when their target lies inside the repository.
pub fn list_candidates(
    name: &str,
    root: &Path,
    registry: &Registry,
    limits: Limits,
    cancel: &Cancel,
) -> Listing {
    let started = Instant::now();
    let deadline = started
        .checked_add(limits.walk_timeout)
        .unwrap_or_else(|| started + Duration::from_secs(365 * 24 * 3600));
    let mut listing = Listing {
        candidates: Vec::new(),
        diagnostics: Vec::new(),
        interrupted: false,
        deadline,
        root: None,
    };
    let canonical_root = match root.canonicalize() {
        Ok(path) if path.is_dir() => path,
        _ => {
            listing.diagnostics.push(Diagnostic::new(
                DiagnosticCode::RepositoryMissing,
                format!("repository path {} is not a directory", root.display()),
                Location::file(name, ""),
            ));
            return listing;
        }
    };
    listing.root = Some(canonical_root.clone());
    let pruned = Arc::new(Mutex::new(Pruned::default()));
    let filter = {
        let pruned = Arc::clone(&pruned);
        let root = root.to_path_buf();
        let cancel = cancel.clone();
        let gitignore = gitignore::GitignoreRules::new(&root, &canonical_root);
        move |entry: &ignore::DirEntry| {
            keep_entry(entry, &root, &canonical_root, limits.max_depth, &pruned)
                && !stop_now(deadline, &cancel, &pruned)
                && !gitignore.ignored(entry.path(), entry.file_type().is_some_and(|t| t.is_dir()))
        }
    };
    let walker = ignore::WalkBuilder::new(root)
        .hidden(false)
        // Only the repository's own .gitignore files: parents of the checkout, global
        // excludes and .ignore files describe someone's machine, not the repository. They are
        // read by the filter (see `gitignore`), not by the walker, which would open a FIFO.
        .parents(false)
        .ignore(false)
        .git_ignore(false)
        .git_global(false)
        .git_exclude(false)
        .require_git(false)
        // Links are followed, but the filter refuses those leaving the repository before the
        // walker descends into them.
        .follow_links(true)
        .sort_by_file_name(|a, b| a.cmp(b))
        .filter_entry(filter)
        .build();
    let mut total_bytes: u64 = 0;
    for entry in walker {
        if let Some(code) = stop_code(deadline, cancel) {
            listing
                .diagnostics
                .push(stop_diagnostic(name, code, limits));
            listing.interrupted = true;
            break;
        }
        let entry = match entry {
            Ok(e) => e,
            Err(err) => {
                listing
                    .diagnostics
                    .push(walk_error_diagnostic(name, root, &err));
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
        if listing.candidates.len() >= limits.max_files {
            listing.diagnostics.push(Diagnostic::new(
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
        // Files over the per-file limit are never read, so they do not count.
        if len <= limits.max_file_bytes {
            total_bytes = total_bytes.saturating_add(len);
            if total_bytes > limits.max_total_bytes {
                listing.diagnostics.push(Diagnostic::new(
                    DiagnosticCode::RepositoryTooLarge,
                    format!(
                        "candidate files add up to more than {} bytes; the rest were skipped",
                        limits.max_total_bytes
                    ),
                    Location::file(name, rel),
                ));
                break;
            }
        }
        listing.candidates.push(Candidate {
            rel,
            path: entry.into_path(),
            len,
            mtime_ns,
        });
    }
    let pruned = std::mem::take(&mut *pruned.lock().unwrap_or_else(|e| e.into_inner()));
    report_pruned(name, pruned, limits, cancel, &mut listing);
    listing
}

/// Reads listed candidates as text; unreadable ones become diagnostics. Stops (with a
/// diagnostic) when the listing's deadline passes or `cancel` fires.
///
/// Files are read in parallel (rayon) and kept in listing order: what is kept is every file
/// listed before the first one that found the time up or the walk cancelled, as a read in
/// order would.
pub fn read_candidates(name: &str, listing: Listing, limits: Limits, cancel: &Cancel) -> ReadRepo {
    use rayon::prelude::*;
    let mut files = RepoFiles::new(name);
    let mut diagnostics = listing.diagnostics;
    let mut interrupted = listing.interrupted;
    if !interrupted {
        let root = listing.root.as_deref();
        let deadline = listing.deadline;
        let read: Vec<Result<Result<SourceFile, Diagnostic>, DiagnosticCode>> = listing
            .candidates
            .into_par_iter()
            .map(|c| match stop_code(deadline, cancel) {
                Some(code) => Err(code),
                None => Ok(read_text(name, &c.rel, &c.path, root, limits)
                    .map(|text| SourceFile::new(name, c.rel, text))),
            })
            .collect();
        for outcome in read {
            match outcome {
                Err(code) => {
                    diagnostics.push(stop_diagnostic(name, code, limits));
                    interrupted = true;
                    break;
                }
                Ok(Ok(file)) => files.add(file),
                Ok(Err(d)) => diagnostics.push(d),
            }
        }
    }
    ReadRepo {
        files,
        diagnostics,
        interrupted,
    }
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
    let cycle_of_links = err.io_error().is_some_and(is_link_cycle);
    let code = if cycle_of_links || text.contains("loop") {
        DiagnosticCode::SymlinkLoop
    } else {
        DiagnosticCode::Unreadable
    };
    Diagnostic::new(code, text, Location::file(name, path))
}

/// ELOOP: links that point at each other (`std::io::ErrorKind::FilesystemLoop` is unstable).
pub(crate) fn is_link_cycle(err: &std::io::Error) -> bool {
    format!("{:?}", err.kind()) == "FilesystemLoop"
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

/// Reads one file as UTF-8 text, or says why not. With `root`, the file (links resolved) must
/// lie under it and be a regular file: a link swapped in after the walk is still not followed.
fn read_text(
    repo: &str,
    rel: &str,
    path: &Path,
    root: Option<&Path>,
    limits: Limits,
) -> Result<String, Diagnostic> {
    let at = |code, msg: String| Diagnostic::new(code, msg, Location::file(repo, rel));
    let unreadable =
        |e: std::io::Error| at(DiagnosticCode::Unreadable, format!("cannot read: {e}"));
    if let Some((file, len)) = root.and_then(|root| open_under(path, root, limits)) {
        return read_bounded(repo, rel, file, len, limits);
    }
    let path = match root {
        Some(root) => {
            let real = path.canonicalize().map_err(unreadable)?;
            if !real.starts_with(root) {
                return Err(at(
                    DiagnosticCode::SymlinkOutsideRepository,
                    format!(
                        "symbolic link to {}, outside the repository; not read",
                        real.display()
                    ),
                ));
            }
            real
        }
        None => path.to_path_buf(),
    };
    let meta = std::fs::metadata(&path).map_err(unreadable)?;
    if !meta.is_file() {
        return Err(at(
            DiagnosticCode::Unreadable,
            "not a regular file; skipped".to_string(),
        ));
    }
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
    let file = std::fs::File::open(&path).map_err(unreadable)?;
    read_bounded(repo, rel, file, meta.len(), limits)
}

/// Opens `path` when it is a regular file within the size limit whose real path, as the kernel
/// reports it for the open file (`/proc/self/fd`), lies under `root`: one `readlink` instead of
/// one per component of the path, and the check is of the very file that is read. `None` when
/// that cannot be confirmed (no `/proc`, a link leading elsewhere, not a regular file, too
/// large): [`read_text`] then checks the long way and says why it skips the file.
#[cfg(target_os = "linux")]
fn open_under(path: &Path, root: &Path, limits: Limits) -> Option<(std::fs::File, u64)> {
    use std::os::fd::AsRawFd;
    // A FIFO would block `open`: only a regular file is opened.
    let meta = std::fs::metadata(path).ok()?;
    if !meta.is_file() || meta.len() > limits.max_file_bytes {
        return None;
    }
    let file = std::fs::File::open(path).ok()?;
    let real = std::fs::read_link(format!("/proc/self/fd/{}", file.as_raw_fd())).ok()?;
    (real.starts_with(root) && file.metadata().ok()?.is_file()).then_some((file, meta.len()))
}

#[cfg(not(target_os = "linux"))]
fn open_under(_: &Path, _: &Path, _: Limits) -> Option<(std::fs::File, u64)> {
    None
}

/// Reads an opened file (`len` bytes by its metadata) as text, at most one byte past the limit: a file growing after the
/// size check is still bounded.
fn read_bounded(
    repo: &str,
    rel: &str,
    file: std::fs::File,
    len: u64,
    limits: Limits,
) -> Result<String, Diagnostic> {
    let at = |code, msg: String| Diagnostic::new(code, msg, Location::file(repo, rel));
    let mut bytes = Vec::with_capacity(usize::try_from(len).unwrap_or(0));
    file.take(limits.max_file_bytes.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(|e| at(DiagnosticCode::Unreadable, format!("cannot read: {e}")))?;
    if bytes.len() as u64 > limits.max_file_bytes {
        return Err(at(
            DiagnosticCode::FileTooLarge,
            format!(
                "file grew past the {} byte limit while read; skipped",
                limits.max_file_bytes
            ),
        ));
    }
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
