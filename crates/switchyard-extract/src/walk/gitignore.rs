//! `.gitignore` rules, read by the walk itself: the `ignore` crate's walker opens whatever the
//! name points at, so a FIFO named `.gitignore` blocked it forever and a link to `/dev/zero`
//! never ended. Here only regular files inside the repository, up to a size, are read.

use ignore::Match;
use ignore::gitignore::{Gitignore, GitignoreBuilder};
use std::collections::HashMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

/// Largest `.gitignore` read; a bigger one is not a list of patterns.
const MAX_GITIGNORE_BYTES: u64 = 1024 * 1024;

/// The `.gitignore` files of one repository, read once per folder on first use.
pub(super) struct GitignoreRules {
    root: PathBuf,
    canonical_root: PathBuf,
    by_dir: Mutex<HashMap<PathBuf, Option<Arc<Gitignore>>>>,
}

impl GitignoreRules {
    /// `root` as the walker joins paths to it; `canonical_root` with links resolved.
    pub fn new(root: &Path, canonical_root: &Path) -> Self {
        GitignoreRules {
            root: root.to_path_buf(),
            canonical_root: canonical_root.to_path_buf(),
            by_dir: Mutex::new(HashMap::new()),
        }
    }

    /// Whether the `.gitignore` files of `path`'s folders ignore it: the deepest folder whose
    /// rules match decides (a `!pattern` there keeps what a parent ignores), as in git.
    pub fn ignored(&self, path: &Path, is_dir: bool) -> bool {
        let mut dir = path.parent();
        while let Some(d) = dir {
            if !d.starts_with(&self.root) {
                break;
            }
            if let Some(rules) = self.of(d) {
                match rules.matched(path, is_dir) {
                    Match::Ignore(_) => return true,
                    Match::Whitelist(_) => return false,
                    Match::None => {}
                }
            }
            if d == self.root {
                break;
            }
            dir = d.parent();
        }
        false
    }

    fn of(&self, dir: &Path) -> Option<Arc<Gitignore>> {
        let mut by_dir = self.by_dir.lock().unwrap_or_else(|e| e.into_inner());
        // Every entry asks about each of its folders: no key is built for a known folder.
        if let Some(known) = by_dir.get(dir) {
            return known.clone();
        }
        by_dir
            .entry(dir.to_path_buf())
            .or_insert_with(|| self.load(dir).map(Arc::new))
            .clone()
    }

    fn load(&self, dir: &Path) -> Option<Gitignore> {
        let file = dir.join(".gitignore");
        // Most folders have none: one `lstat` says so, where resolving the path would look up
        // every folder above it.
        std::fs::symlink_metadata(&file).ok()?;
        let real = file.canonicalize().ok()?;
        if !real.starts_with(&self.canonical_root) {
            return None;
        }
        let meta = std::fs::metadata(&real).ok()?;
        if !meta.is_file() || meta.len() > MAX_GITIGNORE_BYTES {
            return None;
        }
        let mut bytes = Vec::new();
        std::fs::File::open(&real)
            .ok()?
            .take(MAX_GITIGNORE_BYTES)
            .read_to_end(&mut bytes)
            .ok()?;
        let text = String::from_utf8_lossy(&bytes);
        let mut builder = GitignoreBuilder::new(dir);
        for line in text.lines() {
            // A line git would not understand is skipped, as git does.
            let _ = builder.add_line(None, line);
        }
        builder.build().ok()
    }
}
