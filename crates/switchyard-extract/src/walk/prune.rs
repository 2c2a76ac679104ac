//! The walk's entry filter: links leaving the repository, link cycles and entries past the depth
//! limit are refused before the walker descends, and reported as diagnostics afterwards.

use super::{Cancel, Limits, Listing, SKIPPED_DIRS, relative_path};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Instant;
use switchyard_model::{Diagnostic, DiagnosticCode, Location};

/// What the walk's entry filter pruned, reported after the walk (the filter runs inside the
/// walker and cannot push diagnostics itself).
#[derive(Default)]
pub(super) struct Pruned {
    /// (repo-relative link, where it points).
    outside: Vec<(String, PathBuf)>,
    /// Links that never resolve (a cycle of links).
    loops: Vec<String>,
    /// The first folder or file deeper than the limit, and how many were skipped.
    too_deep: Option<(String, usize)>,
    /// The filter refused everything because time ran out or the walk was cancelled.
    stopped: bool,
}

/// Whether the walk keeps `entry`: vendored folders, links leaving the repository, link
/// cycles and entries past the depth limit are refused (and remembered in `pruned`).
pub(super) fn keep_entry(
    entry: &ignore::DirEntry,
    root: &Path,
    canonical_root: &Path,
    max_depth: usize,
    pruned: &Mutex<Pruned>,
) -> bool {
    let is_dir = entry.file_type().is_some_and(|t| t.is_dir());
    if is_dir
        && entry
            .file_name()
            .to_str()
            .is_some_and(|n| SKIPPED_DIRS.contains(&n))
    {
        return false;
    }
    let rel = || relative_path(root, entry.path()).unwrap_or_default();
    let mut pruned = pruned.lock().unwrap_or_else(|e| e.into_inner());
    if entry.depth() > max_depth {
        match &mut pruned.too_deep {
            Some((_, count)) => *count += 1,
            None => pruned.too_deep = Some((rel(), 1)),
        }
        return false;
    }
    // Only links need a look: everything else lies under its parent, which was checked.
    if entry.path_is_symlink() {
        match entry.path().canonicalize() {
            Ok(target) if !target.starts_with(canonical_root) => {
                pruned.outside.push((rel(), target));
                return false;
            }
            Ok(_) => {}
            Err(e) if super::is_link_cycle(&e) => {
                pruned.loops.push(rel());
                return false;
            }
            // Dangling or unreadable: kept, so reading it reports why.
            Err(_) => {}
        }
    }
    true
}

/// Whether time ran out or the walk was cancelled (then the filter refuses everything).
pub(super) fn stop_now(deadline: Instant, cancel: &Cancel, pruned: &Mutex<Pruned>) -> bool {
    let stop = stop_code(deadline, cancel).is_some();
    if stop {
        pruned.lock().unwrap_or_else(|e| e.into_inner()).stopped = true;
    }
    stop
}

pub(super) fn stop_code(deadline: Instant, cancel: &Cancel) -> Option<DiagnosticCode> {
    if cancel.is_cancelled() {
        Some(DiagnosticCode::Cancelled)
    } else if Instant::now() >= deadline {
        Some(DiagnosticCode::WalkTimeout)
    } else {
        None
    }
}

pub(super) fn stop_diagnostic(name: &str, code: DiagnosticCode, limits: Limits) -> Diagnostic {
    let message = if code == DiagnosticCode::Cancelled {
        "reading the repository was cancelled; the rest was skipped".to_string()
    } else {
        format!(
            "reading the repository took longer than {} s; the rest was skipped",
            limits.walk_timeout.as_secs_f64()
        )
    };
    Diagnostic::new(code, message, Location::file(name, ""))
}

pub(super) fn report_pruned(
    name: &str,
    pruned: Pruned,
    limits: Limits,
    cancel: &Cancel,
    listing: &mut Listing,
) {
    for (rel, target) in pruned.outside {
        listing.diagnostics.push(Diagnostic::new(
            DiagnosticCode::SymlinkOutsideRepository,
            format!(
                "symbolic link to {}, outside the repository; not followed",
                target.display()
            ),
            Location::file(name, rel),
        ));
    }
    for rel in pruned.loops {
        listing.diagnostics.push(Diagnostic::new(
            DiagnosticCode::SymlinkLoop,
            "symbolic links that point at each other in a loop; not followed",
            Location::file(name, rel),
        ));
    }
    if let Some((rel, count)) = pruned.too_deep {
        listing.diagnostics.push(Diagnostic::new(
            DiagnosticCode::TooDeep,
            format!(
                "deeper than {} folders; {count} entr{} at that depth skipped",
                limits.max_depth,
                if count == 1 { "y" } else { "ies" }
            ),
            Location::file(name, rel),
        ));
    }
    if pruned.stopped && !listing.interrupted {
        let code = if cancel.is_cancelled() {
            DiagnosticCode::Cancelled
        } else {
            DiagnosticCode::WalkTimeout
        };
        listing
            .diagnostics
            .push(stop_diagnostic(name, code, limits));
        listing.interrupted = true;
    }
}
