//! End-to-end on `examples/fleets/conflicts`: exactly one planted conflict of every type, at the
//! planted lines, none from the look-alikes; table/JSON/SARIF snapshots; automatic fixes verified.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

const FLEET: &str = "examples/fleets/conflicts";

fn conflicts(format: &str, fail_on: Option<&str>) -> common::Run {
    let mut args = vec![
        "conflicts",
        "--no-cache",
        "--fleet",
        FLEET,
        "--format",
        format,
    ];
    if let Some(f) = fail_on {
        args.extend(["--fail-on", f]);
    }
    common::switchyard(&args, None)
}

fn conflicts_json() -> serde_json::Value {
    let run = conflicts("json", Some("never"));
    assert_eq!(run.code, 0, "{}", run.stderr);
    serde_json::from_str(&run.stdout).expect("conflicts prints JSON")
}

fn list(v: &serde_json::Value) -> &Vec<serde_json::Value> {
    v["conflicts"].as_array().expect("conflicts array")
}

/// `repo/path:line` of every occurrence of a conflict, sorted.
fn places(c: &serde_json::Value) -> Vec<String> {
    let mut out: Vec<String> = c["occurrences"]
        .as_array()
        .expect("occurrences")
        .iter()
        .map(|o| {
            format!(
                "{}/{}:{}",
                o["location"]["repository"].as_str().unwrap_or_default(),
                o["location"]["path"].as_str().unwrap_or_default(),
                o["location"]["line"]
            )
        })
        .collect();
    out.sort();
    out
}

/// The planted locations of each conflict type (see the fleet's README).
fn planted() -> BTreeMap<&'static str, Vec<&'static str>> {
    BTreeMap::from([
        (
            "port",
            vec![
                "media/docker-compose.yml:37",
                "monitoring/docker-compose.yml:29",
            ],
        ),
        (
            "domain",
            vec![
                "edge/nginx/conf.d/grafana.conf:4",
                "monitoring/docker-compose.yml:20",
            ],
        ),
        (
            "volume",
            vec!["api/docker-compose.yml:15", "media/docker-compose.yml:13"],
        ),
        (
            "network",
            vec![
                "media/docker-compose.yml:52",
                "monitoring/docker-compose.yml:48",
            ],
        ),
        (
            "container_name",
            vec!["api/docker-compose.yml:24", "media/docker-compose.yml:23"],
        ),
        (
            "env_drift",
            vec!["api/.env:5", "monitoring/docker-compose.yml:42"],
        ),
        ("unreachable_url", vec!["api/.env:7"]),
        (
            "cors_missing_origin",
            vec![
                "api/docker-compose.yml:12",
                "portal/apps/shell/.env:2",
                "portal/apps/shell/webpack.config.js:9",
            ],
        ),
        ("websocket_mismatch", vec!["portal/apps/shell/.env:3"]),
        (
            "shared_dependency_version",
            vec![
                "portal/apps/shell/webpack.config.js:19",
                "widgets/webpack.config.js:20",
            ],
        ),
        (
            "dangling_package",
            vec!["portal/apps/shell/package.json:11"],
        ),
    ])
}

#[test]
fn exactly_one_conflict_of_every_type_at_the_planted_lines() {
    let v = conflicts_json();
    let all = list(&v);
    let mut types: Vec<&str> = all.iter().map(|c| c["type"].as_str().unwrap()).collect();
    types.sort();
    let mut expected: Vec<&str> = planted().keys().copied().collect();
    expected.sort();
    assert_eq!(types, expected, "one conflict per type, all eleven");
    assert_eq!(v["summary"]["total"], 11);

    for c in all {
        let kind = c["type"].as_str().unwrap();
        let want = &planted()[kind];
        assert_eq!(places(c), *want, "{kind}: {c:#}");
        // Types about two parties always name both.
        let single = ["unreachable_url", "websocket_mismatch", "dangling_package"];
        if !single.contains(&kind) {
            assert!(c["occurrences"].as_array().unwrap().len() >= 2, "{kind}");
            assert!(c["repositories"].as_array().unwrap().len() >= 2, "{kind}");
        }
        assert!(c["id"].as_str().unwrap().starts_with(&format!("{kind}-")));
    }

    // The look-alikes: the shared `proxy` network, port 80 on nas01 and on pi, and the photos
    // app's compose/k8s variants appear in no conflict at all.
    let everywhere: BTreeSet<String> = all.iter().flat_map(places).collect();
    for fine in [
        "edge/docker-compose.yml:7",
        "edge/docker-compose.yml:17",
        "edge/docker-compose.yml:18",
        "media/docker-compose.yml:57",
        "monitoring/docker-compose.yml:53",
        "api/docker-compose.yml:36",
        "pi-dns/docker-compose.yml:10",
        "media/docker-compose.yml:7",
        "media/k8s/photos.yaml:21",
        "media/k8s/photos.yaml:40",
    ] {
        assert!(!everywhere.contains(fine), "{fine} is a look-alike");
    }
    for c in all {
        let resource = c["resource"].as_str().unwrap();
        for not in ["proxy", "port:80/", "2283", "photos.home.lan", "pihole"] {
            assert!(!resource.contains(not), "{resource} is a look-alike");
        }
        assert!(!c["repositories"].to_string().contains("pi-dns"));
    }

    // High conflicts fail the default gate.
    let gate = conflicts("json", None);
    assert_eq!(gate.code, 1, "{}", gate.stderr);
}

#[test]
fn table_snapshot() {
    let run = conflicts("table", Some("never"));
    assert_eq!(run.code, 0, "{}", run.stderr);
    insta::assert_snapshot!(run.stdout);
}

#[test]
fn json_snapshot() {
    let run = conflicts("json", Some("never"));
    assert_eq!(run.code, 0, "{}", run.stderr);
    insta::assert_snapshot!(run.stdout);
}

#[test]
fn sarif_snapshot() {
    let run = conflicts("sarif", Some("never"));
    assert_eq!(run.code, 0, "{}", run.stderr);
    // The fleet root is an absolute file URI: the same on every machine once the checkout's
    // own path is replaced.
    let root = format!("file://{}/", common::workspace_root().display());
    assert!(run.stdout.contains(&root), "{}", run.stdout);
    insta::assert_snapshot!(run.stdout.replace(&root, "file:///[WORKSPACE]/"));
}

fn copy_tree(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap();
    for entry in fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            fs::copy(entry.path(), &target).unwrap();
        }
    }
}

/// Every file under `root`, relative to it.
fn files(root: &Path) -> BTreeSet<PathBuf> {
    let mut out = BTreeSet::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else {
                out.insert(path.strip_prefix(root).unwrap().to_path_buf());
            }
        }
    }
    out
}

/// `repo/path:line` of every line that differs between the fleet and its copy (which must hold
/// the same files, each with the same number of lines), with the new line.
fn changed_lines(original: &Path, copy: &Path) -> Vec<(String, String)> {
    assert_eq!(files(original), files(copy), "no file added or removed");
    let mut out = Vec::new();
    for rel in files(original) {
        let old = fs::read_to_string(original.join(&rel)).unwrap();
        let new = fs::read_to_string(copy.join(&rel)).unwrap();
        let (old, new): (Vec<&str>, Vec<&str>) =
            (old.split('\n').collect(), new.split('\n').collect());
        assert_eq!(old.len(), new.len(), "{} keeps its lines", rel.display());
        for (i, (a, b)) in old.iter().zip(&new).enumerate() {
            if a != b {
                out.push((
                    format!("{}:{}", rel.to_string_lossy(), i + 1),
                    b.to_string(),
                ));
            }
        }
    }
    out
}

#[test]
fn automatic_resolutions_apply_verify_and_touch_only_the_planted_lines() {
    let v = conflicts_json();
    let automatic: Vec<&serde_json::Value> = list(&v)
        .iter()
        .filter(|c| {
            c["strategies"]
                .as_array()
                .unwrap()
                .iter()
                .any(|s| s["automatic"] == true)
        })
        .collect();
    let mut types: Vec<&str> = automatic
        .iter()
        .map(|c| c["type"].as_str().unwrap())
        .collect();
    types.sort();
    assert_eq!(types, ["container_name", "env_drift", "port"]);

    // What each fix must change: exactly these lines, to exactly this.
    let expected: BTreeMap<&str, (&str, &str, &str)> = BTreeMap::from([
        (
            "port",
            (
                "port-reassignment",
                "monitoring/docker-compose.yml:29",
                "      - \"20000:8080\"",
            ),
        ),
        (
            "container_name",
            (
                "resource-name-prefixing",
                "media/docker-compose.yml:23",
                "    container_name: media-postgres",
            ),
        ),
        (
            "env_drift",
            (
                "value-standardization",
                "api/.env:5",
                "NTFY_URL=https://ntfy.sh/homelab-alerts",
            ),
        ),
    ]);
    let original = common::workspace_root().join(FLEET);
    for c in automatic {
        let kind = c["type"].as_str().unwrap();
        let id = c["id"].as_str().unwrap();
        let tmp = tempfile::tempdir().unwrap();
        let copy = tmp.path().join("conflicts");
        copy_tree(&original, &copy);
        let fleet = copy.to_string_lossy().to_string();
        let run = common::switchyard(
            &[
                "resolve",
                "--conflict",
                id,
                "--apply",
                "--format",
                "json",
                "--no-cache",
                "--fleet",
                &fleet,
            ],
            None,
        );
        assert_eq!(run.code, 0, "{kind}: {}\n{}", run.stdout, run.stderr);
        let out: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
        let r = &out["resolutions"][0];
        let (strategy, line, text) = expected[kind];
        assert_eq!(r["conflictId"], id);
        assert_eq!(r["strategy"], strategy, "{kind}");
        assert_eq!(r["applied"], true, "{kind}");
        assert_eq!(r["verified"], true, "{kind}: {r:#}");
        assert_eq!(
            changed_lines(&original, &copy),
            [(line.to_string(), text.to_string())],
            "{kind}: only the planted line changes; comments elsewhere stay byte-identical"
        );
    }
}
