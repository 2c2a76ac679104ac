//! On-disk cache of per-repository facts, keyed by a blake3 hash of the repository's candidate
//! files (paths and contents), the walk's diagnostics and the extractor version. A changed file
//! changes the key; an unchanged repository is loaded instead of re-extracted. The cache is best
//! effort: a missing, corrupt or unwritable entry only means extracting again.
//!
//! Like git's index, a *fingerprint* of the candidate files' paths, sizes and modification times
//! maps to the content key of the last read, so an unchanged repository is loaded without reading
//! its files again. Any change of size or mtime (nanoseconds) falls back to reading and hashing.

use crate::source::RepoFiles;
use crate::walk::Listing;
use std::path::{Path, PathBuf};
use switchyard_model::{Diagnostic, RepoFacts};

/// Bump when extractor output changes for the same input.
pub const FACTS_VERSION: u32 = 1;

/// A folder of cached facts (`.switchyard/cache` by default).
#[derive(Debug, Clone)]
pub struct Cache {
    dir: PathBuf,
}

impl Cache {
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Self { dir: dir.into() }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The content key of a repository's files.
    pub fn key(files: &RepoFiles, walk_diagnostics: &[Diagnostic]) -> String {
        let mut h = blake3::Hasher::new();
        h.update(&FACTS_VERSION.to_le_bytes());
        h.update(env!("CARGO_PKG_VERSION").as_bytes());
        h.update(files.repository.as_bytes());
        h.update(&[0]);
        for f in files.files() {
            h.update(f.path.as_bytes());
            h.update(&[0]);
            h.update(&(f.text.len() as u64).to_le_bytes());
            h.update(f.text.as_bytes());
        }
        for d in walk_diagnostics {
            h.update(d.message.as_bytes());
            h.update(d.location.path.as_bytes());
        }
        h.finalize().to_hex().to_string()
    }

    /// The stat fingerprint of a walk: repository, root, and every candidate's path, size and
    /// modification time.
    pub fn fingerprint(repository: &str, root: &Path, listing: &Listing) -> String {
        let mut h = blake3::Hasher::new();
        h.update(&FACTS_VERSION.to_le_bytes());
        h.update(env!("CARGO_PKG_VERSION").as_bytes());
        h.update(repository.as_bytes());
        h.update(&[0]);
        h.update(root.as_os_str().as_encoded_bytes());
        h.update(&[0]);
        for c in &listing.candidates {
            h.update(c.rel.as_bytes());
            h.update(&[0]);
            h.update(&c.len.to_le_bytes());
            h.update(&c.mtime_ns.to_le_bytes());
        }
        for d in &listing.diagnostics {
            h.update(d.message.as_bytes());
        }
        h.finalize().to_hex().to_string()
    }

    /// The content key last seen for a fingerprint.
    pub fn content_key_for(&self, fingerprint: &str) -> Option<String> {
        let key = std::fs::read_to_string(self.index_path(fingerprint)).ok()?;
        let key = key.trim();
        (key.len() == 64 && key.chars().all(|c| c.is_ascii_hexdigit())).then(|| key.to_string())
    }

    /// Remembers the content key of a fingerprint.
    pub fn remember(&self, fingerprint: &str, content_key: &str) -> std::io::Result<()> {
        write_atomic(&self.index_path(fingerprint), content_key.as_bytes())
    }

    fn index_path(&self, fingerprint: &str) -> PathBuf {
        self.dir
            .join("index")
            .join(&fingerprint[..2.min(fingerprint.len())])
            .join(fingerprint)
    }

    fn path(&self, key: &str) -> PathBuf {
        self.dir
            .join(&key[..2.min(key.len())])
            .join(format!("{key}.facts"))
    }

    /// Cached facts for a key, if present and readable.
    pub fn load(&self, key: &str) -> Option<RepoFacts> {
        let bytes = std::fs::read(self.path(key)).ok()?;
        serde_json::from_slice(&bytes).ok()
    }

    /// Stores facts under a key (temp file + rename, so readers never see half a file).
    pub fn store(&self, key: &str, facts: &RepoFacts) -> std::io::Result<()> {
        let bytes = serde_json::to_vec(facts).map_err(std::io::Error::other)?;
        write_atomic(&self.path(key), &bytes)
    }
}

fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)?;
    }
    let tmp = path.with_extension(format!("tmp{}", std::process::id()));
    std::fs::write(&tmp, bytes)?;
    std::fs::rename(&tmp, path)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Registry, extract_files};

    #[test]
    fn round_trip_and_key_changes_with_content() {
        let dir = tempfile::tempdir().unwrap();
        let cache = Cache::new(dir.path());
        let mut files = RepoFiles::new("r");
        files.add_text(".env", "API_URL=http://api:8080\n");
        let key = Cache::key(&files, &[]);
        let facts = extract_files(files, &Registry::default());
        cache.store(&key, &facts).unwrap();
        assert_eq!(cache.load(&key), Some(facts));

        let mut changed = RepoFiles::new("r");
        changed.add_text(".env", "API_URL=http://api:8081\n");
        assert_ne!(Cache::key(&changed, &[]), key);
        assert_eq!(cache.load("ffff"), None);
    }
}
