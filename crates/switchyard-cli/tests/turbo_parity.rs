//! Parity with Turborepo 2 on generated pnpm workspaces: Switchyard's package build edges equal
//! the `^build` dependencies of `turbo run build --dry=json`, and `plan --level package` phases
//! equal the levels of Turborepo's task graph.
//!
//! Turborepo comes from npm (`npm ci --prefix crates/switchyard-cli/tests/turbo`, which CI
//! runs). Without it the test says so and skips, unless `SWITCHYARD_REQUIRE_TURBO` is set.

mod common;

use common::pnpm::generate;
use common::{switchyard, workspace_root};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

fn turbo_binary() -> Option<PathBuf> {
    let bin = workspace_root().join("crates/switchyard-cli/tests/turbo/node_modules/.bin/turbo");
    if bin.exists() {
        return Some(bin);
    }
    assert!(
        std::env::var_os("SWITCHYARD_REQUIRE_TURBO").is_none(),
        "turbo is required (npm ci --prefix crates/switchyard-cli/tests/turbo)"
    );
    eprintln!("turbo not installed (npm ci --prefix crates/switchyard-cli/tests/turbo): skipping");
    None
}

/// `(package, dependency)` pairs of Turborepo's `^build` task graph.
fn turbo_edges(turbo: &Path, root: &Path) -> BTreeSet<(String, String)> {
    std::fs::write(
        root.join("turbo.json"),
        r#"{"tasks": {"build": {"dependsOn": ["^build"]}}}"#,
    )
    .expect("write turbo.json");
    let out = Command::new(turbo)
        .args(["run", "build", "--dry=json"])
        .current_dir(root)
        .env("TURBO_TELEMETRY_DISABLED", "1")
        .env("DO_NOT_TRACK", "1")
        .env("TURBO_NO_UPDATE_NOTIFIER", "1")
        .output()
        .expect("turbo runs");
    assert!(
        out.status.success(),
        "turbo failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let dry: Value = serde_json::from_slice(&out.stdout).expect("turbo prints JSON");
    let mut edges = BTreeSet::new();
    for task in dry["tasks"].as_array().expect("tasks") {
        let from = task["package"].as_str().expect("package").to_string();
        for dep in task["dependencies"].as_array().into_iter().flatten() {
            let to = dep
                .as_str()
                .and_then(|d| d.strip_suffix("#build"))
                .expect("a build task");
            edges.insert((from.clone(), to.to_string()));
        }
    }
    edges
}

fn levels(nodes: &BTreeSet<String>, edges: &BTreeSet<(String, String)>) -> BTreeMap<String, usize> {
    fn level(
        n: &str,
        edges: &BTreeSet<(String, String)>,
        memo: &mut BTreeMap<String, usize>,
    ) -> usize {
        if let Some(&l) = memo.get(n) {
            return l;
        }
        let l = edges
            .iter()
            .filter(|(a, _)| a == n)
            .map(|(_, b)| level(b, edges, memo) + 1)
            .max()
            .unwrap_or(1);
        memo.insert(n.to_string(), l);
        l
    }
    let mut memo = BTreeMap::new();
    for n in nodes {
        level(n, edges, &mut memo);
    }
    memo
}

#[test]
fn package_edges_and_build_levels_equal_turborepo() {
    let Some(turbo) = turbo_binary() else {
        return;
    };
    for (seed, layers, width, link) in [(3, 10, 20, false), (17, 8, 30, true)] {
        let dir = tempfile::tempdir().expect("tempdir");
        let root = dir.path().join("mono");
        generate(&root, seed, layers, width, link);
        let path = root.to_str().expect("utf-8 path");
        let graph = switchyard(
            &[
                "graph",
                "--level",
                "package",
                "--format",
                "json",
                "--no-cache",
                path,
            ],
            None,
        );
        assert_eq!(graph.code, 0, "{}", graph.stderr);
        let graph: Value = serde_json::from_str(&graph.stdout).expect("graph JSON");
        let strip = |id: &str| id.strip_prefix("mono/").unwrap_or(id).to_string();
        let ours: BTreeSet<(String, String)> = graph["edges"]
            .as_array()
            .expect("edges")
            .iter()
            .map(|e| {
                (
                    strip(e["from"].as_str().unwrap_or_default()),
                    strip(e["to"].as_str().unwrap_or_default()),
                )
            })
            .collect();
        let theirs = turbo_edges(&turbo, &root);
        assert_eq!(
            ours, theirs,
            "seed {seed}: package edges (left = switchyard)"
        );
        let nodes: BTreeSet<String> = graph["nodes"]
            .as_array()
            .expect("nodes")
            .iter()
            .map(|n| strip(n.as_str().unwrap_or_default()))
            .collect();
        let plan = switchyard(
            &[
                "plan",
                "--level",
                "package",
                "--format",
                "json",
                "--no-cache",
                path,
            ],
            None,
        );
        let plan: Value = serde_json::from_str(&plan.stdout).expect("plan JSON");
        let mut planned = BTreeMap::new();
        for phase in plan["repositories"][0]["phases"]
            .as_array()
            .expect("phases")
        {
            for p in phase["packages"].as_array().expect("packages") {
                planned.insert(
                    p.as_str().unwrap_or_default().to_string(),
                    phase["phase"].as_u64().unwrap_or(0) as usize,
                );
            }
        }
        assert_eq!(planned, levels(&nodes, &theirs), "seed {seed}: levels");
    }
}
