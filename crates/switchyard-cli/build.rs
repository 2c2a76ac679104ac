//! Records the git commit the binary is built from, for `switchyard --version`.
//!
//! `SWITCHYARD_GIT_COMMIT` in the build environment wins (for builds from a source archive);
//! else `git rev-parse` in the source tree; else "unknown commit" (no git, not a checkout).
//! The script re-runs when HEAD or the branch it points at moves, so the commit never goes stale.

use std::path::Path;
use std::process::Command;

fn git(dir: &Path, args: &[&str]) -> Option<String> {
    let out = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .output()
        .ok()?;
    if !out.status.success() {
        return None;
    }
    let text = String::from_utf8(out.stdout).ok()?.trim().to_string();
    (!text.is_empty()).then_some(text)
}

fn main() {
    println!("cargo::rerun-if-env-changed=SWITCHYARD_GIT_COMMIT");
    let dir = std::env::var("CARGO_MANIFEST_DIR").unwrap_or_else(|_| ".".into());
    let dir = Path::new(&dir);
    let commit = match std::env::var("SWITCHYARD_GIT_COMMIT") {
        Ok(c) if !c.trim().is_empty() => c.trim().to_string(),
        _ => match git(dir, &["rev-parse", "--short=12", "HEAD"]) {
            Some(hash) => {
                // Watch HEAD, the branch file it names and packed refs (a worktree's HEAD lives
                // in its own git dir, branches in the common one: --git-path knows both).
                for path in ["HEAD", "packed-refs"] {
                    if let Some(p) = git(dir, &["rev-parse", "--git-path", path]) {
                        println!("cargo::rerun-if-changed={}", dir.join(p).display());
                    }
                }
                if let Some(branch) = git(dir, &["symbolic-ref", "-q", "HEAD"])
                    && let Some(p) = git(dir, &["rev-parse", "--git-path", &branch])
                {
                    println!("cargo::rerun-if-changed={}", dir.join(p).display());
                }
                hash
            }
            None => "unknown commit".to_string(),
        },
    };
    println!("cargo::rustc-env=SWITCHYARD_GIT_COMMIT={commit}");
}
