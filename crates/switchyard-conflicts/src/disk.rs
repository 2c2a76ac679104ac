//! The files of a fleet's checkouts on disk, for strategies to read and resolutions to write:
//! the one place where the conflicts crate meets the file system besides [`crate::patch`].

use crate::Edit;
use crate::patch::{self, PatchError};
use crate::strategies::FileSource;
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use switchyard_extract::fleet::Fleet;

/// Texts read so far, by (repository, path); `None` for files that do not exist.
type ReadCache = HashMap<(String, String), Option<Arc<str>>>;

/// Repository files read from their checkouts, each file once: proposals for thousands of
/// conflicts read the same files again and again. Made for one listing or one resolve run
/// (it does not see a file change after its first read).
pub struct DiskFiles {
    roots: HashMap<String, PathBuf>,
    read: Mutex<ReadCache>,
}

impl DiskFiles {
    /// The checkouts of `fleet`'s repositories.
    pub fn new(fleet: &Fleet) -> Self {
        Self::from_roots(
            fleet
                .repositories
                .iter()
                .map(|r| (r.name.clone(), r.path.clone())),
        )
    }

    /// Checkouts by repository name.
    pub fn from_roots(roots: impl IntoIterator<Item = (String, PathBuf)>) -> Self {
        Self {
            roots: roots.into_iter().collect(),
            read: Mutex::new(HashMap::new()),
        }
    }

    /// Repository name → checkout folder.
    pub fn roots(&self) -> &HashMap<String, PathBuf> {
        &self.roots
    }

    /// Writes edits to disk (every file checked first, then written atomically); the written
    /// paths.
    pub fn apply(&self, edits: &[Edit]) -> Result<Vec<PathBuf>, PatchError> {
        patch::apply_to_disk(&self.roots, edits)
    }
}

impl FileSource for DiskFiles {
    fn read(&self, repository: &str, path: &str) -> Option<Arc<str>> {
        let key = (repository.to_string(), path.to_string());
        if let Some(hit) = self.read.lock().ok()?.get(&key) {
            return hit.clone();
        }
        let text: Option<Arc<str>> =
            std::fs::read_to_string(self.roots.get(repository)?.join(path))
                .ok()
                .map(Into::into);
        self.read.lock().ok()?.insert(key, text.clone());
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_each_file_once_and_knows_missing_ones() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(".env"), "A=1\n").unwrap();
        let files = DiskFiles::from_roots([("r".to_string(), dir.path().to_path_buf())]);
        assert_eq!(files.read("r", ".env").as_deref(), Some("A=1\n"));
        // A later change is not seen: one run reads one state of the files.
        std::fs::write(dir.path().join(".env"), "A=2\n").unwrap();
        assert_eq!(files.read("r", ".env").as_deref(), Some("A=1\n"));
        assert_eq!(files.read("r", "missing.yml"), None);
        assert_eq!(files.read("unknown", ".env"), None);
    }
}
