//! On-disk cache of per-repository facts, keyed by a blake3 hash of the repository's candidate
//! files (paths and contents), the walk's diagnostics and the extractor version. A changed file
//! changes the key; an unchanged repository is loaded instead of re-extracted. The cache is best
//! effort: a missing, corrupt or unwritable cache only means extracting again.
//!
//! Like git's index, a *fingerprint* of the candidate files' paths, sizes and modification times
//! maps to the content key of the last read, so an unchanged repository is loaded without reading
//! its files again. Any change of size or mtime (nanoseconds) falls back to reading and hashing.
//!
//! All entries live in one pack file (`facts.pack`), read once when the cache is opened and
//! written once (temp file + rename) by [`Cache::save`]: one file instead of one per repository
//! keeps a 10,000-repository fleet from spending its time creating inodes. Each entry's facts are
//! a MessagePack blob decoded only when that repository asks for it.

use crate::source::RepoFiles;
use crate::walk::Listing;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use switchyard_model::{Diagnostic, RepoFacts};

/// Bump when extractor output changes for the same input.
pub const FACTS_VERSION: u32 = 17;

const MAGIC: &[u8; 8] = b"SYFACTS\x01";
const PACK_FILE: &str = "facts.pack";

#[derive(Debug, Clone)]
struct Entry {
    /// `repository\0root`: entries of one repository replace each other.
    owner: String,
    fingerprint: String,
    key: String,
    facts: Vec<u8>,
}

/// The facts cache of a fleet (`.switchyard/cache` by default).
#[derive(Debug)]
pub struct Cache {
    dir: PathBuf,
    entries: Vec<Entry>,
    by_fingerprint: HashMap<String, usize>,
    by_key: HashMap<String, usize>,
    /// This run's entries by owner: a repository read again replaces its earlier entry.
    fresh: Mutex<HashMap<String, Entry>>,
}

impl Cache {
    /// Opens the cache in `dir`, reading its pack when present and valid.
    pub fn open(dir: impl Into<PathBuf>) -> Self {
        let dir = dir.into();
        let entries = std::fs::read(dir.join(PACK_FILE))
            .ok()
            .and_then(|bytes| decode_pack(&bytes))
            .unwrap_or_default();
        let by_fingerprint = entries
            .iter()
            .enumerate()
            .map(|(i, e)| (e.fingerprint.clone(), i))
            .collect();
        let by_key = entries
            .iter()
            .enumerate()
            .map(|(i, e)| (e.key.clone(), i))
            .collect();
        Self {
            dir,
            entries,
            by_fingerprint,
            by_key,
            fresh: Mutex::new(HashMap::new()),
        }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Number of entries read from disk.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
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

    /// Facts cached for a stat fingerprint (no file was read).
    pub fn by_fingerprint(&self, fingerprint: &str) -> Option<RepoFacts> {
        let entry = &self.entries[*self.by_fingerprint.get(fingerprint)?];
        let facts = rmp_serde::from_slice(&entry.facts).ok()?;
        self.remember(entry.clone());
        Some(facts)
    }

    /// Facts cached for a content key; recorded under `fingerprint` for the next run.
    pub fn by_key(&self, owner: (&str, &Path), fingerprint: &str, key: &str) -> Option<RepoFacts> {
        let entry = &self.entries[*self.by_key.get(key)?];
        let facts = rmp_serde::from_slice(&entry.facts).ok()?;
        self.remember(Entry {
            owner: owner_id(owner),
            fingerprint: fingerprint.to_string(),
            key: key.to_string(),
            facts: entry.facts.clone(),
        });
        Some(facts)
    }

    /// Records freshly extracted facts.
    pub fn store(&self, owner: (&str, &Path), fingerprint: &str, key: &str, facts: &RepoFacts) {
        if let Ok(bytes) = rmp_serde::to_vec(facts) {
            self.remember(Entry {
                owner: owner_id(owner),
                fingerprint: fingerprint.to_string(),
                key: key.to_string(),
                facts: bytes,
            });
        }
    }

    fn remember(&self, entry: Entry) {
        self.fresh
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(entry.owner.clone(), entry);
    }

    /// Writes the pack: this run's entries, plus earlier entries of repositories this run did
    /// not see. Nothing is written when nothing changed.
    pub fn save(&self) -> std::io::Result<()> {
        let fresh = self.fresh.lock().unwrap_or_else(|e| e.into_inner());
        let unchanged = fresh.len() == self.entries.len()
            && fresh
                .values()
                .all(|e| self.by_fingerprint.contains_key(&e.fingerprint));
        if unchanged {
            return Ok(());
        }
        let mut all: Vec<&Entry> = self
            .entries
            .iter()
            .filter(|e| !fresh.contains_key(&e.owner))
            .collect();
        let mut this_run: Vec<&Entry> = fresh.values().collect();
        this_run.sort_by(|a, b| a.owner.cmp(&b.owner));
        all.extend(this_run);
        std::fs::create_dir_all(&self.dir)?;
        let path = self.dir.join(PACK_FILE);
        let tmp = path.with_extension(format!("tmp{}", std::process::id()));
        std::fs::write(&tmp, encode_pack(&all))?;
        std::fs::rename(&tmp, &path)
    }
}

fn owner_id((repository, root): (&str, &Path)) -> String {
    format!("{repository}\0{}", root.display())
}

fn push_field(out: &mut Vec<u8>, bytes: &[u8]) {
    out.extend_from_slice(&(bytes.len() as u64).to_le_bytes());
    out.extend_from_slice(bytes);
}

fn encode_pack(entries: &[&Entry]) -> Vec<u8> {
    let size: usize = entries.iter().map(|e| e.facts.len() + 200).sum();
    let mut out = Vec::with_capacity(size + 16);
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&FACTS_VERSION.to_le_bytes());
    for e in entries {
        push_field(&mut out, e.owner.as_bytes());
        push_field(&mut out, e.fingerprint.as_bytes());
        push_field(&mut out, e.key.as_bytes());
        push_field(&mut out, &e.facts);
    }
    out
}

/// Decodes a pack; `None` for a foreign, old or truncated file.
fn decode_pack(bytes: &[u8]) -> Option<Vec<Entry>> {
    let rest = bytes.strip_prefix(MAGIC.as_slice())?;
    let (version, mut rest) = rest.split_at_checked(4)?;
    if u32::from_le_bytes(version.try_into().ok()?) != FACTS_VERSION {
        return None;
    }
    let field = |rest: &mut &[u8]| -> Option<Vec<u8>> {
        let (len, tail) = rest.split_at_checked(8)?;
        let len = usize::try_from(u64::from_le_bytes(len.try_into().ok()?)).ok()?;
        let (value, tail) = tail.split_at_checked(len)?;
        *rest = tail;
        Some(value.to_vec())
    };
    let mut entries = Vec::new();
    while !rest.is_empty() {
        entries.push(Entry {
            owner: String::from_utf8(field(&mut rest)?).ok()?,
            fingerprint: String::from_utf8(field(&mut rest)?).ok()?,
            key: String::from_utf8(field(&mut rest)?).ok()?,
            facts: field(&mut rest)?,
        });
    }
    Some(entries)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Registry, extract_files};

    fn facts(env: &str) -> (String, RepoFacts) {
        let mut files = RepoFiles::new("r");
        files.add_text(".env", env);
        let key = Cache::key(&files, &[]);
        (key, extract_files(files, &Registry::default()))
    }

    #[test]
    fn round_trip_through_the_pack() {
        let dir = tempfile::tempdir().unwrap();
        let root = Path::new("/fleet/r");
        let (key, f) = facts("API_URL=http://api:8080\n");
        let cache = Cache::open(dir.path());
        assert!(cache.is_empty());
        cache.store(("r", root), "fp1", &key, &f);
        cache.save().unwrap();

        let reopened = Cache::open(dir.path());
        assert_eq!(reopened.len(), 1);
        assert_eq!(reopened.by_fingerprint("fp1"), Some(f.clone()));
        assert_eq!(reopened.by_fingerprint("fp2"), None);
        // Next run: the same content under a new fingerprint (a touched file) is found by its
        // content key and replaces the repository's old entry.
        let again = Cache::open(dir.path());
        assert_eq!(again.by_key(("r", root), "fp2", &key), Some(f));
        again.save().unwrap();
        let third = Cache::open(dir.path());
        assert_eq!(third.len(), 1, "the superseded entry of r was dropped");
        assert!(third.by_fingerprint("fp2").is_some());
    }

    #[test]
    fn a_repository_read_twice_in_one_run_keeps_its_last_entry() {
        // A long-lived server re-reads a repository on every push: the pack keeps one entry
        // per repository, the newest, instead of growing by one per push.
        let dir = tempfile::tempdir().unwrap();
        let root = Path::new("/fleet/r");
        let (k1, f1) = facts("A=1\n");
        let (k2, f2) = facts("A=2\n");
        let cache = Cache::open(dir.path());
        cache.store(("r", root), "fp1", &k1, &f1);
        cache.store(("r", root), "fp2", &k2, &f2);
        cache.save().unwrap();
        let reopened = Cache::open(dir.path());
        assert_eq!(reopened.len(), 1);
        assert_eq!(reopened.by_fingerprint("fp2"), Some(f2));
        assert_eq!(reopened.by_fingerprint("fp1"), None);
    }

    #[test]
    fn content_key_changes_with_content() {
        let (a, _) = facts("API_URL=http://api:8080\n");
        let (b, _) = facts("API_URL=http://api:8081\n");
        assert_ne!(a, b);
    }

    #[test]
    fn entries_of_other_repositories_survive() {
        let dir = tempfile::tempdir().unwrap();
        let (key, f) = facts("A=1\n");
        let cache = Cache::open(dir.path());
        cache.store(("a", Path::new("/a")), "fa", &key, &f);
        cache.store(("b", Path::new("/b")), "fb", &key, &f);
        cache.save().unwrap();
        let partial = Cache::open(dir.path());
        assert!(partial.by_fingerprint("fa").is_some());
        partial.save().unwrap();
        let after = Cache::open(dir.path());
        assert_eq!(after.len(), 2);
    }

    #[test]
    fn corrupt_pack_is_ignored() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join(PACK_FILE),
            b"SYFACTS\x01\x02\x00\x00\x00\xff\xff",
        )
        .unwrap();
        assert!(Cache::open(dir.path()).is_empty());
        std::fs::write(dir.path().join(PACK_FILE), b"garbage").unwrap();
        assert!(Cache::open(dir.path()).is_empty());
    }
}
