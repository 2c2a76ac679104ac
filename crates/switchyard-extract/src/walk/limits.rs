//! How far one repository's walk may go, and the token that stops it from outside.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

/// Limits applied while reading a repository (the `[limits]` table of `switchyard.toml`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Largest file read, in bytes.
    pub max_file_bytes: u64,
    /// Most candidate files read per repository.
    pub max_files: usize,
    /// Deepest folder entered, counted from the repository root (its files are depth 1).
    pub max_depth: usize,
    /// Most bytes of candidate files read per repository, all files together.
    pub max_total_bytes: u64,
    /// Longest the walk and read of one repository may take.
    pub walk_timeout: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_file_bytes: 8 * 1024 * 1024,
            max_files: 20_000,
            max_depth: 64,
            max_total_bytes: 256 * 1024 * 1024,
            walk_timeout: Duration::from_secs(30),
        }
    }
}

/// Stops walks from another thread (server shutdown). Clones share the flag.
#[derive(Debug, Clone, Default)]
pub struct Cancel(Arc<AtomicBool>);

impl Cancel {
    /// Asks every walk holding this token (or a clone) to stop at its next entry.
    pub fn cancel(&self) {
        self.0.store(true, Ordering::Relaxed);
    }

    pub fn is_cancelled(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }
}
