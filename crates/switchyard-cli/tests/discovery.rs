//! Fleet discovery cannot silently lie: a folder whose root holds deployment files is one
//! repository (and stderr says which rule applied), and a repository `switchyard.toml` declares
//! but that is not there is exit 2, not an empty analysis.

mod common;

use std::fs;
use std::path::Path;

const COMPOSE: &str = "services:\n  web:\n    image: nginx\n    environment:\n      API_URL: http://api:8080\n  api:\n    image: example/api\n    ports:\n      - \"8080:8080\"\n";

fn write(path: &Path, text: &str) {
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    fs::write(path, text).unwrap();
}

fn repository_names(report: &serde_json::Value) -> Vec<String> {
    report["repositories"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["name"].as_str().unwrap().to_string())
        .collect()
}

/// A plain repository: compose file at the root, source folders below it.
fn plain_repository(root: &Path) {
    write(&root.join("docker-compose.yml"), COMPOSE);
    write(&root.join("api/main.go"), "package main\n");
    write(&root.join("web/index.html"), "<html></html>\n");
    write(&root.join("docs/README.md"), "# docs\n");
}

#[test]
fn a_folder_with_a_root_compose_file_is_one_repository() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("shop");
    plain_repository(&root);
    let run = common::switchyard(
        &[
            "analyze",
            "--no-cache",
            "--format",
            "json",
            "--fleet",
            root.to_str().unwrap(),
        ],
        None,
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let report: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(repository_names(&report), ["shop"]);
    let services: Vec<&str> = report["services"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_str().unwrap())
        .collect();
    assert!(services.contains(&"shop/web"), "{services:?}");
    assert!(services.contains(&"shop/api"), "{services:?}");
    assert!(
        run.stderr
            .contains("is one repository: its root holds docker-compose.yml"),
        "{}",
        run.stderr
    );
}

#[test]
fn the_working_folder_with_a_root_compose_file_is_one_repository() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("shop");
    plain_repository(&root);
    // Subfolders that are git checkouts do not turn a repository into a fleet either.
    fs::create_dir_all(root.join("web/.git")).unwrap();
    let run = common::switchyard(&["analyze", "--no-cache", "--format", "json"], Some(&root));
    assert_eq!(run.code, 0, "{}", run.stderr);
    let report: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(repository_names(&report), ["shop"]);
    assert!(run.stderr.contains("its root holds"), "{}", run.stderr);
}

#[test]
fn a_folder_of_repositories_says_its_subfolders_are_the_fleet() {
    let dir = tempfile::tempdir().unwrap();
    write(&dir.path().join("a/docker-compose.yml"), COMPOSE);
    write(&dir.path().join("b/.env"), "A_URL=http://web:80\n");
    write(&dir.path().join("README.md"), "# my repos\n");
    let run = common::switchyard(
        &[
            "analyze",
            "--no-cache",
            "--format",
            "json",
            "--fleet",
            dir.path().to_str().unwrap(),
        ],
        None,
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let report: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(repository_names(&report), ["a", "b"]);
    assert!(
        run.stderr.contains("2 subfolders of") && run.stderr.contains("are the repositories"),
        "{}",
        run.stderr
    );
}

#[test]
fn a_config_rule_is_named() {
    let run = common::switchyard(
        &[
            "plan",
            "--no-cache",
            "--format",
            "json",
            "--fleet",
            "examples/fleets/homelab",
        ],
        None,
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stderr.contains("repositories listed in") && run.stderr.contains("switchyard.toml"),
        "{}",
        run.stderr
    );
}

#[test]
fn a_declared_repository_that_is_missing_is_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    write(&dir.path().join("api/docker-compose.yml"), COMPOSE);
    write(
        &dir.path().join("switchyard.toml"),
        "[[repository]]\npath = \"api\"\n\n[[repository]]\nname = \"billing\"\npath = \"billing\"\n",
    );
    for args in [
        vec![
            "analyze",
            "--no-cache",
            "--fleet",
            dir.path().to_str().unwrap(),
        ],
        vec![
            "check",
            "--no-cache",
            "--config",
            dir.path().join("switchyard.toml").to_str().unwrap(),
        ],
    ] {
        let run = common::switchyard(&args, None);
        assert_eq!(run.code, 2, "{args:?}: {}", run.stderr);
        assert!(
            run.stderr.contains("does not exist") && run.stderr.contains("billing"),
            "{}",
            run.stderr
        );
        assert!(!run.stderr.contains("panicked"));
        assert!(run.stdout.is_empty(), "{}", run.stdout);
    }
}

#[test]
fn init_in_a_repository_declares_that_repository_not_its_source_folders() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("shop");
    plain_repository(&root);
    let run = common::switchyard(&["init", root.to_str().unwrap()], None);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stderr.contains("is one repository"), "{}", run.stderr);
    let config = fs::read_to_string(root.join("switchyard.toml")).unwrap();
    assert_eq!(config.matches("\n[[repository]]\n").count(), 1, "{config}");
    assert!(config.contains("path = \".\""), "{config}");
    // The written configuration analyzes the repository's own services.
    let run = common::switchyard(
        &[
            "analyze",
            "--no-cache",
            "--format",
            "json",
            "--fleet",
            root.to_str().unwrap(),
        ],
        None,
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let report: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(repository_names(&report), ["shop"]);
}
