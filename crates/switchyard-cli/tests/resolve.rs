//! End-to-end: a planted host-port clash is reported (table, JSON, SARIF), `check` fails,
//! `resolve` shows a diff without writing, `--apply` moves the port with a byte-exact edit,
//! updates the reference to it, and re-analysis verifies the conflict is gone.

mod common;

use std::fs;
use std::path::Path;

const WEB: &str = "# web frontend\nservices:\n  web:\n    image: web\n    ports:\n      - \"8080:80\"   # public\n";
const ADMIN: &str = "services:\n  admin:\n    image: admin   # keep this comment\n    ports:\n      - \"8080:80\"\n";

fn fleet() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for (repo, text) in [("admin", ADMIN), ("web", WEB)] {
        fs::create_dir_all(dir.path().join(repo)).unwrap();
        fs::write(dir.path().join(repo).join("docker-compose.yml"), text).unwrap();
    }
    fs::create_dir_all(dir.path().join("ops")).unwrap();
    fs::write(
        dir.path().join("ops/.env"),
        "# admin console\nADMIN_URL=http://localhost:8080/admin\n",
    )
    .unwrap();
    dir
}

fn run(args: &[&str], dir: &Path) -> common::Run {
    let mut all = args.to_vec();
    let fleet = dir.to_string_lossy().to_string();
    all.extend(["--no-cache", "--fleet", &fleet]);
    common::switchyard(&all, None)
}

#[test]
fn port_clash_reported_resolved_and_verified() {
    let dir = fleet();
    let json = run(&["conflicts", "--format", "json"], dir.path());
    assert_eq!(
        json.code, 1,
        "a high-severity conflict fails by default: {}",
        json.stderr
    );
    let v: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    let conflicts = v["conflicts"].as_array().unwrap();
    let port = conflicts
        .iter()
        .find(|c| c["type"] == "port")
        .expect("a port conflict");
    assert_eq!(port["severity"], "high");
    assert_eq!(port["repositories"], serde_json::json!(["admin", "web"]));
    assert!(
        port["strategies"]
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s["name"] == "port-reassignment" && s["automatic"] == true)
    );
    let locations: Vec<String> = port["occurrences"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| {
            format!(
                "{}/{}:{}",
                o["location"]["repository"].as_str().unwrap(),
                o["location"]["path"].as_str().unwrap(),
                o["location"]["line"]
            )
        })
        .collect();
    assert_eq!(
        locations,
        ["admin/docker-compose.yml:5", "web/docker-compose.yml:6"]
    );
    let id = port["id"].as_str().unwrap().to_string();

    let sarif = run(
        &["conflicts", "--format", "sarif", "--fail-on", "never"],
        dir.path(),
    );
    assert_eq!(sarif.code, 0);
    let s: serde_json::Value = serde_json::from_str(&sarif.stdout).unwrap();
    assert_eq!(s["version"], "2.1.0");
    assert!(
        s["runs"][0]["results"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["ruleId"] == "port" && r["level"] == "error")
    );

    assert_eq!(run(&["check"], dir.path()).code, 1);

    // Dry run: a diff, nothing written.
    let dry = run(&["resolve", "--conflict", &id], dir.path());
    assert_eq!(dry.code, 0, "{}", dry.stderr);
    assert!(dry.stdout.contains("port-reassignment"), "{}", dry.stdout);
    assert!(
        dry.stdout.contains("-      - \"8080:80\"   # public")
            && dry.stdout.contains("+      - \"20000:80\"   # public"),
        "{}",
        dry.stdout
    );
    assert!(dry.stdout.contains("Dry run"));
    assert_eq!(
        fs::read_to_string(dir.path().join("web/docker-compose.yml")).unwrap(),
        WEB
    );

    // Apply: exactly the port digits change; the reference that reached the moved service follows.
    let applied = run(
        &["resolve", "--conflict", &id, "--apply", "--format", "json"],
        dir.path(),
    );
    assert_eq!(applied.code, 0, "{}\n{}", applied.stdout, applied.stderr);
    let out: serde_json::Value = serde_json::from_str(&applied.stdout).unwrap();
    assert_eq!(out["resolutions"][0]["applied"], true);
    assert_eq!(out["resolutions"][0]["verified"], true);
    assert_eq!(
        fs::read_to_string(dir.path().join("admin/docker-compose.yml")).unwrap(),
        ADMIN,
        "the first publisher keeps its port"
    );
    assert_eq!(
        fs::read_to_string(dir.path().join("web/docker-compose.yml")).unwrap(),
        WEB.replace("8080:80", "20000:80")
    );
    assert_eq!(run(&["conflicts", "--types", "port"], dir.path()).code, 0);
    assert_eq!(run(&["check"], dir.path()).code, 0);
}

#[test]
fn unknown_ids_and_strategies_are_clear_errors() {
    let dir = fleet();
    let r = run(&["resolve", "--conflict", "port-000000000000"], dir.path());
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("no conflict with id"), "{}", r.stderr);
    let r = run(&["resolve", "--strategy", "magic"], dir.path());
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("unknown strategy"), "{}", r.stderr);
    let r = run(&["conflicts", "--types", "ports"], dir.path());
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("unknown conflict type"), "{}", r.stderr);
}

#[test]
fn apply_on_a_git_branch() {
    let dir = fleet();
    let git = |repo: &str, args: &[&str]| {
        let out = std::process::Command::new("git")
            .arg("-C")
            .arg(dir.path().join(repo))
            .args(args)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "git {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    for repo in ["admin", "web", "ops"] {
        git(repo, &["init", "-q", "-b", "main"]);
        git(
            repo,
            &[
                "-c",
                "user.email=t@example.invalid",
                "-c",
                "user.name=t",
                "add",
                "-A",
            ],
        );
        git(
            repo,
            &[
                "-c",
                "user.email=t@example.invalid",
                "-c",
                "user.name=t",
                "commit",
                "-qm",
                "init",
            ],
        );
    }
    let fleet = dir.path().to_string_lossy().to_string();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_switchyard"))
        .args([
            "resolve",
            "--apply",
            "--git-branch",
            "switchyard/fix-ports",
            "--no-cache",
            "--fleet",
            &fleet,
        ])
        .env("GIT_AUTHOR_NAME", "t")
        .env("GIT_AUTHOR_EMAIL", "t@example.invalid")
        .env("GIT_COMMITTER_NAME", "t")
        .env("GIT_COMMITTER_EMAIL", "t@example.invalid")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        git("web", &["rev-parse", "--abbrev-ref", "HEAD"]).trim(),
        "switchyard/fix-ports"
    );
    assert!(git("web", &["log", "-1", "--format=%s"]).contains("switchyard resolve"));
    assert_eq!(
        git("web", &["status", "--porcelain"]),
        "",
        "the change is committed"
    );
    assert_eq!(
        git("admin", &["rev-parse", "--abbrev-ref", "HEAD"]).trim(),
        "main",
        "untouched repositories stay put"
    );
}

/// `resolve` without `--strategy` shows, in a dry run, what `--apply` would write: the best
/// automatic proposal, never a manual one. A named proposal without edits (a decision for a
/// person) is never reported as applied, and writes nothing.
#[test]
fn dry_runs_pick_what_apply_would_and_suggestions_are_not_applied() {
    let dir = fleet();
    let dry = run(&["resolve", "--format", "json"], dir.path());
    let v: serde_json::Value = serde_json::from_str(&dry.stdout).unwrap();
    let picked: Vec<&str> = v["resolutions"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|o| o["strategy"].as_str())
        .collect();
    assert!(!picked.is_empty(), "{}", dry.stdout);
    assert!(
        !picked.contains(&"service-consolidation"),
        "a manual proposal in a dry run: {picked:?}"
    );

    let suggestion = run(
        &[
            "resolve",
            "--strategy",
            "service-consolidation",
            "--apply",
            "--format",
            "json",
        ],
        dir.path(),
    );
    let v: serde_json::Value = serde_json::from_str(&suggestion.stdout).unwrap();
    let outcomes = v["resolutions"].as_array().unwrap();
    assert!(
        outcomes
            .iter()
            .any(|o| o["strategy"] == "service-consolidation"),
        "{}",
        suggestion.stdout
    );
    for o in outcomes {
        assert_eq!(o["applied"], false, "{o}");
        assert_eq!(o["changes"], serde_json::json!([]), "{o}");
    }
    for (repo, text) in [("admin", ADMIN), ("web", WEB)] {
        let now = fs::read_to_string(dir.path().join(repo).join("docker-compose.yml")).unwrap();
        assert_eq!(now, text, "{repo} was written");
    }
    let table = run(
        &["resolve", "--strategy", "service-consolidation", "--apply"],
        dir.path(),
    );
    assert!(
        table.stdout.contains("# nothing written"),
        "{}",
        table.stdout
    );
}
