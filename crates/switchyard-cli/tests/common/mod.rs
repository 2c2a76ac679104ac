//! Helpers for end-to-end tests: run the real `switchyard` binary and read its JSON.
#![allow(dead_code)]

pub mod pnpm;
pub mod replicas;

use std::path::{Path, PathBuf};
use std::process::Command;

pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

/// Runs `switchyard` with `args` in `cwd` (the workspace root when None).
pub fn switchyard(args: &[&str], cwd: Option<&Path>) -> Run {
    let out = Command::new(env!("CARGO_BIN_EXE_switchyard"))
        .args(args)
        .current_dir(cwd.map(Path::to_path_buf).unwrap_or_else(workspace_root))
        .env("NO_COLOR", "1")
        .env("COLUMNS", "200")
        .output()
        .expect("the switchyard binary runs");
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// `analyze --format json --no-cache` on the given fleet arguments; panics on a non-zero exit.
pub fn analyze_json(fleet_args: &[&str]) -> serde_json::Value {
    let mut args = vec!["analyze", "--format", "json", "--no-cache"];
    args.extend_from_slice(fleet_args);
    let run = switchyard(&args, None);
    assert_eq!(run.code, 0, "analyze failed: {}", run.stderr);
    serde_json::from_str(&run.stdout).expect("analyze prints JSON")
}

pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .expect("workspace root")
}

/// `../shared/corpus` beside the checkout, when present.
pub fn corpus_dir() -> Option<PathBuf> {
    let dir = workspace_root().join("../shared/corpus");
    dir.is_dir().then_some(dir)
}

/// `(from, to)` pairs of the report's service edges.
pub fn edge_pairs(report: &serde_json::Value) -> Vec<(String, String)> {
    let mut pairs: Vec<(String, String)> = report["edges"]
        .as_array()
        .expect("edges array")
        .iter()
        .map(|e| {
            (
                e["from"].as_str().unwrap_or_default().to_string(),
                e["to"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect();
    pairs.sort();
    pairs
}
