//! End-to-end checks of the commands other than `analyze`: exit codes, `init`, `affected`,
//! `deps`, `plan`, `graph`, and the facts cache.

mod common;

use std::fs;

const HOMELAB: &str = "examples/fleets/homelab";

/// A two-repository fleet: `web` calls `localhost:8080`, which `api` publishes.
fn web_and_api_fleet() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for repo in ["web", "api"] {
        fs::create_dir_all(dir.path().join(repo)).unwrap();
    }
    fs::write(
        dir.path().join("web/.env"),
        "API_URL=http://localhost:8080\n",
    )
    .unwrap();
    fs::write(
        dir.path().join("api/docker-compose.yml"),
        "services:\n  api:\n    image: api\n    ports: [\"8080:80\"]\n",
    )
    .unwrap();
    dir
}

#[test]
fn plan_exit_code_reflects_cycles() {
    let ok = common::switchyard(
        &["plan", "--no-cache", "--format", "json", "--fleet", HOMELAB],
        None,
    );
    assert_eq!(ok.code, 0, "{}", ok.stderr);
    let plan: serde_json::Value = serde_json::from_str(&ok.stdout).unwrap();
    assert_eq!(plan["phases"].as_array().unwrap().len(), 5);
    assert_eq!(plan["cycles"], serde_json::json!([]));

    let cyclic = common::switchyard(
        &[
            "plan",
            "--no-cache",
            "--format",
            "json",
            "--fleet",
            "examples/fleets/homelab-cycle",
        ],
        None,
    );
    assert_eq!(cyclic.code, 1);
    let plan: serde_json::Value = serde_json::from_str(&cyclic.stdout).unwrap();
    assert_eq!(plan["cycles"].as_array().unwrap().len(), 1);
    assert_eq!(
        plan["cycleCut"].as_array().unwrap().len(),
        1,
        "one edge breaks a 3-cycle"
    );

    let analyze = common::switchyard(
        &[
            "analyze",
            "--no-cache",
            "--fail-on-cycle",
            "--fleet",
            "examples/fleets/homelab-cycle",
        ],
        None,
    );
    assert_eq!(analyze.code, 1);
    assert!(
        analyze.stdout.contains("Dependency cycles"),
        "{}",
        analyze.stdout
    );
}

#[test]
fn affected_is_reverse_transitive() {
    let run = common::switchyard(
        &[
            "affected",
            "--no-cache",
            "--format",
            "json",
            "--changed",
            "postgres",
            "--fleet",
            HOMELAB,
        ],
        None,
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let v: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(
        v["affected"],
        serde_json::json!(["api", "auth", "dashboard", "infra-network", "monitoring"])
    );

    let leaf = common::switchyard(
        &[
            "affected",
            "--no-cache",
            "--changed",
            "infra-network",
            "--fleet",
            HOMELAB,
        ],
        None,
    );
    assert!(
        leaf.stdout
            .contains("No repository depends on infra-network"),
        "{}",
        leaf.stdout
    );

    let unknown = common::switchyard(
        &[
            "affected",
            "--no-cache",
            "--changed",
            "nope",
            "--fleet",
            HOMELAB,
        ],
        None,
    );
    assert_eq!(unknown.code, 2);
    assert!(
        unknown.stderr.contains("unknown repository: nope"),
        "{}",
        unknown.stderr
    );
}

#[test]
fn deps_with_max_depth() {
    let all = common::switchyard(
        &[
            "deps",
            "dashboard",
            "--no-cache",
            "--format",
            "json",
            "--fleet",
            HOMELAB,
        ],
        None,
    );
    let v: serde_json::Value = serde_json::from_str(&all.stdout).unwrap();
    assert_eq!(v["direct"], serde_json::json!(["api"]));
    assert_eq!(
        v["transitive"],
        serde_json::json!(["api", "postgres", "auth"])
    );
    let one = common::switchyard(
        &[
            "deps",
            "dashboard",
            "--no-cache",
            "--max-depth",
            "1",
            "--format",
            "json",
            "--fleet",
            HOMELAB,
        ],
        None,
    );
    let v: serde_json::Value = serde_json::from_str(&one.stdout).unwrap();
    assert_eq!(v["transitive"], serde_json::json!(["api"]));
    let svc = common::switchyard(
        &[
            "deps",
            "monitoring/grafana",
            "--level",
            "service",
            "--no-cache",
            "--format",
            "json",
            "--fleet",
            HOMELAB,
        ],
        None,
    );
    let v: serde_json::Value = serde_json::from_str(&svc.stdout).unwrap();
    assert_eq!(v["direct"], serde_json::json!(["monitoring/prometheus"]));
}

#[test]
fn init_writes_a_config_that_analyze_reads() {
    let dir = web_and_api_fleet();
    let init = common::switchyard(&["init"], Some(dir.path()));
    assert_eq!(init.code, 0, "{}", init.stderr);
    let text = fs::read_to_string(dir.path().join("switchyard.toml")).unwrap();
    assert!(
        text.contains("name = \"api\"") && text.contains("# Switchyard fleet"),
        "{text}"
    );
    let again = common::switchyard(&["init"], Some(dir.path()));
    assert_eq!(again.code, 2, "refuses to overwrite");
    assert_eq!(
        common::switchyard(&["init", "--force"], Some(dir.path())).code,
        0
    );

    // No arguments: the folder's switchyard.toml is the fleet.
    let run = common::switchyard(
        &["analyze", "--no-cache", "--format", "json"],
        Some(dir.path()),
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let report: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(
        common::edge_pairs(&report),
        [("web/web".to_string(), "api/api".to_string())]
    );
}

#[test]
fn cache_gives_identical_results_and_notices_changes() {
    let dir = web_and_api_fleet();
    let fleet = dir.path().to_string_lossy().to_string();
    let first = common::switchyard(&["analyze", "--format", "json", "--fleet", &fleet], None);
    assert!(dir.path().join(".switchyard/cache/facts.pack").is_file());
    let second = common::switchyard(&["analyze", "--format", "json", "--fleet", &fleet], None);
    assert_eq!(first.stdout, second.stdout);
    let table = common::switchyard(&["analyze", "--fleet", &fleet], None);
    assert!(table.stderr.contains("2 from cache"), "{}", table.stderr);

    // A changed file is re-read: the edge moves with the port.
    fs::write(
        dir.path().join("api/docker-compose.yml"),
        "services:\n  api:\n    image: api\n    ports: [\"9090:80\"]\n",
    )
    .unwrap();
    let third = common::switchyard(&["analyze", "--format", "json", "--fleet", &fleet], None);
    let report: serde_json::Value = serde_json::from_str(&third.stdout).unwrap();
    assert!(common::edge_pairs(&report).is_empty());
    assert_eq!(report["unresolved"][0]["reason"], "no-provider");
}

#[test]
fn graph_json_and_help() {
    let run = common::switchyard(
        &[
            "graph",
            "--no-cache",
            "--format",
            "json",
            "--fleet",
            HOMELAB,
        ],
        None,
    );
    let v: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(v["nodes"].as_array().unwrap().len(), 6);
    assert!(
        v["edges"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["from"] == "dashboard" && e["to"] == "api")
    );
    let help = common::switchyard(&["--help"], None);
    assert!(help.stdout.contains("Exit codes"), "{}", help.stdout);
}

/// `--timings` lists each stage once, in pipeline order, on stderr only; stdout is unchanged.
#[test]
fn timings_list_the_stages_on_stderr() {
    let stage_names = |stderr: &str| -> Vec<String> {
        stderr
            .lines()
            .filter_map(|l| l.strip_prefix("timing: "))
            .map(|l| l.split_whitespace().next().unwrap_or_default().to_string())
            .collect()
    };
    let plain = common::switchyard(
        &[
            "analyze",
            "--no-cache",
            "--format",
            "json",
            "--fleet",
            HOMELAB,
        ],
        None,
    );
    let timed = common::switchyard(
        &[
            "analyze",
            "--no-cache",
            "--format",
            "json",
            "--timings",
            "--fleet",
            HOMELAB,
        ],
        None,
    );
    assert_eq!(timed.code, 0, "{}", timed.stderr);
    assert_eq!(timed.stdout, plain.stdout);
    assert!(stage_names(&plain.stderr).is_empty(), "{}", plain.stderr);
    assert_eq!(
        stage_names(&timed.stderr),
        ["extract", "link", "graph", "report", "output", "total"],
        "{}",
        timed.stderr
    );
    let conflicts = common::switchyard(
        &[
            "conflicts",
            "--no-cache",
            "--format",
            "json",
            "--timings",
            "--fleet",
            "examples/fleets/conflicts",
        ],
        None,
    );
    assert_eq!(
        stage_names(&conflicts.stderr),
        [
            "extract", "link", "graph", "detect", "render", "output", "total"
        ],
        "{}",
        conflicts.stderr
    );
    for line in conflicts
        .stderr
        .lines()
        .filter(|l| l.starts_with("timing: "))
    {
        let seconds = line.split_whitespace().nth(2).unwrap_or_default();
        assert!(seconds.parse::<f64>().is_ok_and(|s| s >= 0.0), "{line}");
    }
}
