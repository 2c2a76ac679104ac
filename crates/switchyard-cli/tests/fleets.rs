//! End-to-end: the binary on every example fleet must give exactly the intended graph
//! (`tests/expected/<fleet>.json`, written by hand from the fleet's design, not from our output).

mod common;

use std::collections::BTreeSet;

fn strings(v: &serde_json::Value) -> Vec<String> {
    v.as_array()
        .into_iter()
        .flatten()
        .filter_map(|s| s.as_str().map(str::to_string))
        .collect()
}

fn pairs(v: &serde_json::Value) -> BTreeSet<(String, String)> {
    v.as_array()
        .into_iter()
        .flatten()
        .map(|p| match p {
            serde_json::Value::Array(a) => (
                a[0].as_str().unwrap_or("").to_string(),
                a[1].as_str().unwrap_or("").to_string(),
            ),
            o => (
                o["from"].as_str().unwrap_or("").to_string(),
                o["to"].as_str().unwrap_or("").to_string(),
            ),
        })
        .collect()
}

fn check_fleet(name: &str) {
    let root = common::workspace_root();
    let expected: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(root.join(format!("tests/expected/{name}.json")))
            .expect("expected file"),
    )
    .expect("expected JSON");
    let fleet = root.join("examples/fleets").join(name);
    let report = common::analyze_json(&["--fleet", fleet.to_str().unwrap()]);

    let found_edges: BTreeSet<(String, String)> = common::edge_pairs(&report).into_iter().collect();
    let want_edges = pairs(&expected["edges"]);
    assert_eq!(
        found_edges, want_edges,
        "{name}: service edges differ (left = found)"
    );
    assert_eq!(
        pairs(&report["repositoryEdges"]),
        pairs(&expected["repositoryEdges"]),
        "{name}: repository edges"
    );

    let phases: Vec<Vec<String>> = report["phases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| strings(&p["repositories"]))
        .collect();
    let want_phases: Vec<Vec<String>> = expected["phases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            let mut v = strings(p);
            v.sort();
            v
        })
        .collect();
    assert_eq!(phases, want_phases, "{name}: phases");

    let cycles: BTreeSet<BTreeSet<String>> = report["cycles"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| strings(c).into_iter().collect())
        .collect();
    let want_cycles: BTreeSet<BTreeSet<String>> = expected["cycles"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| strings(c).into_iter().collect())
        .collect();
    assert_eq!(cycles, want_cycles, "{name}: cycles");

    // Example fleets are clean unless their expected file lists diagnostics (as
    // `location code`), and every edge has evidence.
    let diagnostics: Vec<String> = report["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            let l = &d["location"];
            format!(
                "{}/{}:{}:{} {}",
                l["repository"].as_str().unwrap_or(""),
                l["path"].as_str().unwrap_or(""),
                l["line"],
                l["column"],
                d["code"].as_str().unwrap_or("")
            )
        })
        .collect();
    assert_eq!(
        diagnostics,
        strings(&expected["diagnostics"]),
        "{name}: diagnostics"
    );
    if expected.get("packagePhases").is_some() {
        check_packages(name, &fleet, &expected);
    }
    for e in report["edges"].as_array().unwrap() {
        let ev = e["evidence"].as_array().unwrap();
        assert!(!ev.is_empty(), "{name}: edge without evidence {e}");
        assert!(ev.iter().all(|l| l["line"].as_u64().unwrap_or(0) >= 1));
    }
}

/// `plan --level package`: the build phases of the fleet's one monorepo and its package cycles
/// (exit 1 with a cycle).
fn check_packages(name: &str, fleet: &std::path::Path, expected: &serde_json::Value) {
    let run = common::switchyard(
        &[
            "plan",
            "--level",
            "package",
            "--format",
            "json",
            "--no-cache",
            "--fleet",
            fleet.to_str().unwrap(),
        ],
        None,
    );
    let want_cycles: BTreeSet<BTreeSet<String>> = expected["packageCycles"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| strings(c).into_iter().collect())
        .collect();
    assert_eq!(
        run.code,
        i32::from(!want_cycles.is_empty()),
        "{name}: plan --level package exit code ({})",
        run.stderr
    );
    let plan: serde_json::Value = serde_json::from_str(&run.stdout).expect("plan JSON");
    let phases: Vec<Vec<String>> = plan["repositories"][0]["phases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| strings(&p["packages"]))
        .collect();
    let want: Vec<Vec<String>> = expected["packagePhases"]
        .as_array()
        .unwrap()
        .iter()
        .map(strings)
        .collect();
    assert_eq!(phases, want, "{name}: package phases");
    let cycles: BTreeSet<BTreeSet<String>> = plan["cycles"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| strings(&c["path"]).into_iter().collect())
        .collect();
    assert_eq!(cycles, want_cycles, "{name}: package cycles");
}

#[test]
fn threadly_cycle() {
    check_fleet("threadly-cycle");
}

#[test]
fn threadly_npmrc() {
    check_fleet("threadly-npmrc");
}

#[test]
fn codejoin() {
    check_fleet("codejoin");
}

#[test]
fn homelab() {
    check_fleet("homelab");
}

#[test]
fn homelab_cycle() {
    check_fleet("homelab-cycle");
}

#[test]
fn podplay() {
    check_fleet("podplay");
}

#[test]
fn threadly() {
    check_fleet("threadly");
}

#[test]
fn mfe() {
    check_fleet("mfe");
}
