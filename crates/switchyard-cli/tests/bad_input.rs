//! Broken files become diagnostics with a location; the rest of the fleet is still analyzed and
//! the binary never panics.

mod common;

use std::fs;
use std::path::Path;

const GOOD_COMPOSE: &str =
    "services:\n  web:\n    image: nginx\n    depends_on: [api]\n  api:\n    image: api\n";

fn write(path: &Path, text: &[u8]) {
    if let Some(parent) = path.parent() {
        fs::create_dir_all(parent).unwrap();
    }
    fs::write(path, text).unwrap();
}

fn diagnostics(report: &serde_json::Value) -> Vec<(String, String, String, u64)> {
    report["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            (
                d["repository"].as_str().unwrap().to_string(),
                d["code"].as_str().unwrap().to_string(),
                d["location"]["path"].as_str().unwrap().to_string(),
                d["location"]["line"].as_u64().unwrap(),
            )
        })
        .collect()
}

/// One fleet with one good repository and one repository per kind of bad input.
#[test]
fn every_bad_file_is_a_located_diagnostic() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write(
        &root.join("good/docker-compose.yml"),
        GOOD_COMPOSE.as_bytes(),
    );
    write(
        &root.join("malformed/docker-compose.yml"),
        b"services:\n  web:\n    image: [nginx\n  db: {\n",
    );
    let mut bomb = String::from("a: &a [x, x, x, x, x, x, x, x, x, x]\n");
    let mut prev = 'a';
    for name in ['b', 'c', 'd', 'e', 'f', 'g', 'h', 'i'] {
        bomb.push_str(&format!("{name}: &{name} [*{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}]\n"));
        prev = name;
    }
    write(&root.join("bomb/compose.yaml"), bomb.as_bytes());
    // 100 MB, sparse: over the size limit, never read.
    fs::create_dir_all(root.join("huge")).unwrap();
    let huge = fs::File::create(root.join("huge/docker-compose.yml")).unwrap();
    huge.set_len(100 * 1024 * 1024).unwrap();
    write(&root.join("huge/.env"), b"API_URL=http://localhost:9999\n");
    write(
        &root.join("binary/docker-compose.yml"),
        b"services:\n\0\0\x01\x02",
    );
    write(
        &root.join("latin1/.env"),
        b"GREETING=caf\xe9\nAPI_URL=http://x\n",
    );
    write(&root.join("helm/templates/deployment.yaml"), b"apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {{ .Release.Name }}-web\n{{- if .Values.x }}\nspec: {}\n{{- end }}\n  labels: {{ .Values.labels | frobnicate }}\n");
    write(
        &root.join("helm/Chart.yaml"),
        b"apiVersion: v2\nname: web\nversion: 0.1.0\n",
    );
    fs::create_dir_all(root.join("loop/sub")).unwrap();
    std::os::unix::fs::symlink("..", root.join("loop/sub/back")).unwrap();
    write(
        &root.join("loop/docker-compose.yml"),
        GOOD_COMPOSE.as_bytes(),
    );
    // A dangling symlink cannot be read even as root.
    fs::create_dir_all(root.join("unreadable")).unwrap();
    std::os::unix::fs::symlink("/nonexistent/switchyard-test", root.join("unreadable/.env"))
        .unwrap();

    let report = common::analyze_json(&["--fleet", root.to_str().unwrap()]);
    let diags = diagnostics(&report);
    let has = |repo: &str, code: &str, path: &str| {
        diags
            .iter()
            .any(|(r, c, p, _)| r == repo && c == code && p == path)
    };
    assert!(
        has("malformed", "parse-error", "docker-compose.yml"),
        "{diags:#?}"
    );
    assert!(
        has("bomb", "yaml-budget-exceeded", "compose.yaml"),
        "{diags:#?}"
    );
    assert!(
        has("huge", "file-too-large", "docker-compose.yml"),
        "{diags:#?}"
    );
    assert!(
        has("binary", "binary-file", "docker-compose.yml"),
        "{diags:#?}"
    );
    assert!(has("latin1", "not-utf8", ".env"), "{diags:#?}");
    // A chart template is rendered; an unknown function loses its document, at its line.
    assert!(
        diags.iter().any(|(r, c, p, l)| r == "helm"
            && c == "template-not-rendered"
            && p.ends_with("templates/deployment.yaml")
            && *l == 8),
        "{diags:#?}"
    );
    assert!(
        diags
            .iter()
            .any(|(r, c, _, _)| r == "loop" && c == "symlink-loop"),
        "{diags:#?}"
    );
    assert!(has("unreadable", "unreadable", ".env"), "{diags:#?}");
    // Malformed YAML is located at the line of the error, not at the top of the file.
    let malformed_line = diags
        .iter()
        .find(|d| d.0 == "malformed")
        .map(|d| d.3)
        .unwrap();
    assert!(
        malformed_line >= 3,
        "parse error located at line {malformed_line}"
    );
    // Everything else is still analyzed: the good repositories keep their edge.
    let edges = common::edge_pairs(&report);
    assert!(
        edges.contains(&("good/web".into(), "good/api".into())),
        "{edges:?}"
    );
    assert!(
        edges.contains(&("loop/web".into(), "loop/api".into())),
        "{edges:?}"
    );
    assert_eq!(report["repositories"].as_array().unwrap().len(), 9);
}

#[test]
fn missing_repository_path_is_a_clear_error() {
    let run = common::switchyard(&["analyze", "/nonexistent/switchyard-fleet"], None);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("is not a directory"), "{}", run.stderr);
    assert!(!run.stderr.contains("panicked"));
}

#[test]
fn bad_config_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    write(
        &dir.path().join("switchyard.toml"),
        b"[[repository]]\npath = 1\n",
    );
    let run = common::switchyard(
        &[
            "analyze",
            "--config",
            dir.path().join("switchyard.toml").to_str().unwrap(),
        ],
        None,
    );
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("switchyard.toml"), "{}", run.stderr);
}
