//! Resolutions for the server: the strategies of `switchyard-conflicts` run against the files on
//! disk, the proposal order (`switchyard resolve`'s: automatic first, then confidence), diffs
//! with secrets redacted, and applying edits through `DiskFiles::apply`.
//! Everything here reads or writes files: call it from `spawn_blocking`.

use serde::Serialize;
pub use switchyard_conflicts::disk::DiskFiles;
use switchyard_conflicts::strategies::{FileSource, strategies};
use switchyard_conflicts::{Conflict, FleetInput, Lookup, Resolution, patch};
use switchyard_model::redact::redact_diff;

use crate::analysis::Snapshot;

/// Every strategy's name.
pub fn strategy_names() -> Vec<&'static str> {
    strategies().iter().map(|s| s.name()).collect()
}

/// Every strategy's proposal for a conflict, best first (automatic, then confidence). `lookup`
/// holds the fleet indexes the strategies build on first use: share one across the conflicts
/// of a request, so they are built once, not once per conflict.
pub fn proposals(
    conflict: &Conflict,
    snapshot: &Snapshot,
    files: &DiskFiles,
    lookup: &Lookup,
) -> Vec<Resolution> {
    let input = FleetInput {
        model: &snapshot.model,
        facts: &snapshot.facts,
        lookup,
    };
    switchyard_conflicts::strategies::ranked_proposals(conflict, input, files)
}

/// The default pick: the highest-confidence automatic proposal.
pub fn default_pick(proposals: Vec<Resolution>) -> Option<Resolution> {
    proposals
        .into_iter()
        .filter(|r| r.automatic)
        .max_by(|a, b| a.confidence.total_cmp(&b.confidence))
}

/// One file a resolution changes.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct FileChange {
    pub repository: String,
    pub path: String,
    /// Unified diff (`--- a/repo/path`, `+++ b/repo/path`) with secret values redacted.
    pub diff: String,
}

/// The diffs of a resolution against the files as they are now.
pub fn changes(
    resolution: &Resolution,
    files: &DiskFiles,
) -> Result<Vec<FileChange>, patch::PatchError> {
    let mut out = Vec::new();
    for ((repository, path), edits) in patch::group_by_file(&resolution.edits) {
        let old = files.read(&repository, &path).unwrap_or_default();
        let new = patch::apply_edits(&old, &edits)?;
        let diff = patch::unified_diff(&format!("{repository}/{path}"), &old, &new);
        out.push(FileChange {
            diff: redact_diff(&diff),
            repository,
            path,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn diffs_hide_secret_lines_and_url_passwords() {
        let diff = "--- a/api/.env\n+++ b/api/.env\n@@ -1,3 +1,3 @@\n API_TOKEN=abc123\n-DB_URL=postgres://u:pw@db/app\n+DB_URL=postgres://u:pw@db2/app\n       - JWT_SECRET: hunter2\n";
        let out = redact_diff(diff);
        assert!(
            !out.contains("abc123") && !out.contains("hunter2") && !out.contains(":pw@"),
            "{out}"
        );
        assert!(out.contains(" API_TOKEN=***\n"), "{out}");
        assert!(out.contains("+DB_URL=postgres://u:***@db2/app\n"), "{out}");
        assert!(out.contains("       - JWT_SECRET: ***\n"), "{out}");
        assert!(out.starts_with("--- a/api/.env\n+++ b/api/.env\n@@ -1,3 +1,3 @@\n"));
        assert_eq!(redact_diff(" LOG_LEVEL=info\n"), " LOG_LEVEL=info\n");
    }
}
