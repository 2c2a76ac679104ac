//! Hostile checkouts: symbolic links to `/`, `/proc` and to files outside the repository, link
//! cycles and deep trees. `analyze` must finish, never print a byte of an outside file, report
//! each refused link where it is, and still analyze the rest of the fleet. The walk's limits
//! come from `[limits]` in `switchyard.toml`.

mod common;

use std::fs;
use std::os::unix::fs::symlink;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const MARKER: &str = "SWITCHYARD_OUTSIDE_MARKER_91c2";
const GOOD_COMPOSE: &str =
    "services:\n  web:\n    image: nginx\n    depends_on: [api]\n  api:\n    image: api\n";

fn write(path: &Path, text: &str) {
    if let Some(parent) = path.parent() {
        fs::create_dir_all(parent).unwrap();
    }
    fs::write(path, text).unwrap();
}

/// `switchyard analyze --format json --no-cache ARGS`, killed after `limit`; the JSON text.
fn analyze_within(args: &[&str], limit: Duration) -> (String, serde_json::Value) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_switchyard"))
        .args(["analyze", "--format", "json", "--no-cache"])
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the switchyard binary runs");
    let started = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if started.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            panic!("analyze {args:?} still running after {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let out = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report = serde_json::from_str(&stdout).expect("analyze prints JSON");
    (stdout, report)
}

/// `(repository, code, path)` of every diagnostic.
fn diagnostics(report: &serde_json::Value) -> Vec<(String, String, String)> {
    report["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            let s = |v: &serde_json::Value| v.as_str().unwrap_or_default().to_string();
            (
                s(&d["repository"]),
                s(&d["code"]),
                s(&d["location"]["path"]),
            )
        })
        .collect()
}

fn has(diags: &[(String, String, String)], repo: &str, code: &str, path: &str) -> bool {
    diags
        .iter()
        .any(|(r, c, p)| r == repo && c == code && p == path)
}

/// A folder holding `fleet/` (the repositories) and `outside/` (files with the marker).
fn outside_files(root: &Path) {
    write(
        &root.join("outside/secret.env"),
        &format!("API_TOKEN={MARKER}\nDATABASE_URL=postgres://{MARKER}@db:5432/x\n"),
    );
    write(
        &root.join("outside/compose.yml"),
        &format!("services:\n  {MARKER}:\n    image: {MARKER}\n"),
    );
    write(
        &root.join("outside/prometheus.yml"),
        &format!("scrape_configs:\n  - targets: ['{MARKER}:9090']\n"),
    );
}

#[test]
fn links_to_the_root_and_to_proc_are_not_followed() {
    let dir = tempfile::tempdir().unwrap();
    let fleet = dir.path().join("fleet");
    write(&fleet.join("good/docker-compose.yml"), GOOD_COMPOSE);
    write(&fleet.join("rooted/docker-compose.yml"), GOOD_COMPOSE);
    symlink("/", fleet.join("rooted/everything")).unwrap();
    write(&fleet.join("procfs/docker-compose.yml"), GOOD_COMPOSE);
    fs::create_dir_all(fleet.join("procfs/deploy")).unwrap();
    symlink("/proc", fleet.join("procfs/deploy/proc")).unwrap();
    symlink("/proc/self/root", fleet.join("procfs/self-root")).unwrap();

    let (_, report) = analyze_within(
        &["--fleet", fleet.to_str().unwrap()],
        Duration::from_secs(60),
    );
    let diags = diagnostics(&report);
    assert!(
        has(&diags, "rooted", "symlink-outside-repository", "everything"),
        "{diags:#?}"
    );
    assert!(
        has(
            &diags,
            "procfs",
            "symlink-outside-repository",
            "deploy/proc"
        ),
        "{diags:#?}"
    );
    assert!(
        has(&diags, "procfs", "symlink-outside-repository", "self-root"),
        "{diags:#?}"
    );
    let edges = common::edge_pairs(&report);
    for repo in ["good", "rooted", "procfs"] {
        assert!(
            edges.contains(&(format!("{repo}/web"), format!("{repo}/api"))),
            "{edges:?}"
        );
    }
}

#[test]
fn outside_files_never_reach_the_output() {
    let dir = tempfile::tempdir().unwrap();
    outside_files(dir.path());
    let fleet = dir.path().join("fleet");
    let repo = fleet.join("leaky");
    // Each way a file is pulled in: the walk (.env, a config file, a whole folder), and the
    // compose project (env_file, include, extends, a mounted config file).
    write(
        &repo.join("docker-compose.yml"),
        "include:\n  - ../outside/compose.yml\n  - linked-compose.yml\nservices:\n  web:\n    image: nginx\n    env_file: [secret.env, ../outside/secret.env]\n    extends:\n      file: base/compose.yml\n      service: base\n    volumes:\n      - ./prometheus.yml:/etc/prometheus/prometheus.yml\n",
    );
    symlink("../../outside/secret.env", repo.join(".env")).unwrap();
    symlink("../../outside/secret.env", repo.join("secret.env")).unwrap();
    symlink("../../outside/compose.yml", repo.join("linked-compose.yml")).unwrap();
    symlink("../../outside/prometheus.yml", repo.join("prometheus.yml")).unwrap();
    symlink("../../outside", repo.join("base")).unwrap();
    fs::create_dir_all(repo.join("config")).unwrap();
    symlink(
        dir.path().join("outside/secret.env"),
        repo.join("config/production.env"),
    )
    .unwrap();
    write(&fleet.join("good/docker-compose.yml"), GOOD_COMPOSE);

    let (stdout, report) = analyze_within(
        &["--fleet", fleet.to_str().unwrap()],
        Duration::from_secs(60),
    );
    assert!(
        !stdout.contains(MARKER),
        "an outside file reached the output"
    );
    let table = common::switchyard(
        &["analyze", "--no-cache", "--fleet", fleet.to_str().unwrap()],
        None,
    );
    assert!(!table.stdout.contains(MARKER) && !table.stderr.contains(MARKER));
    let diags = diagnostics(&report);
    for link in [
        ".env",
        "secret.env",
        "linked-compose.yml",
        "prometheus.yml",
        "base",
        "config/production.env",
    ] {
        assert!(
            has(&diags, "leaky", "symlink-outside-repository", link),
            "{link}: {diags:#?}"
        );
    }
    // What the compose file names but could not be read is a missing file, not a read.
    assert!(
        has(&diags, "leaky", "missing-file", "docker-compose.yml"),
        "{diags:#?}"
    );
    let edges = common::edge_pairs(&report);
    assert!(
        edges.contains(&("good/web".into(), "good/api".into())),
        "{edges:?}"
    );
}

#[test]
fn link_cycles_and_deep_trees_are_diagnostics() {
    let dir = tempfile::tempdir().unwrap();
    let fleet = dir.path().join("fleet");
    let looped = fleet.join("looped");
    write(&looped.join("docker-compose.yml"), GOOD_COMPOSE);
    symlink("b", looped.join("a")).unwrap();
    symlink("a", looped.join("b")).unwrap();
    symlink(".env", looped.join(".env")).unwrap();
    fs::create_dir_all(looped.join("sub")).unwrap();
    symlink("..", looped.join("sub/up")).unwrap();
    let deep = fleet.join("deep");
    write(&deep.join("docker-compose.yml"), GOOD_COMPOSE);
    let mut bottom = deep.clone();
    for i in 0..80 {
        bottom = bottom.join(format!("{i}"));
    }
    write(&bottom.join(".env"), "API_URL=http://deep:1\n");

    let (_, report) = analyze_within(
        &["--fleet", fleet.to_str().unwrap()],
        Duration::from_secs(60),
    );
    let diags = diagnostics(&report);
    for link in ["a", "b", ".env"] {
        assert!(has(&diags, "looped", "symlink-loop", link), "{diags:#?}");
    }
    assert!(
        diags
            .iter()
            .any(|(r, c, p)| r == "looped" && c == "symlink-loop" && p.starts_with("sub/up")),
        "{diags:#?}"
    );
    // The default depth limit is 64 folders.
    let deep_path: Vec<String> = (0..65).map(|i| i.to_string()).collect();
    assert!(
        has(&diags, "deep", "too-deep", &deep_path.join("/")),
        "{diags:#?}"
    );
    let edges = common::edge_pairs(&report);
    for repo in ["looped", "deep"] {
        assert!(
            edges.contains(&(format!("{repo}/web"), format!("{repo}/api"))),
            "{edges:?}"
        );
    }
}

#[test]
fn limits_come_from_switchyard_toml() {
    let dir = tempfile::tempdir().unwrap();
    let fleet = dir.path();
    for i in 0..5 {
        write(&fleet.join(format!("many/{i}.env")), "API_URL=http://x:1\n");
        write(
            &fleet.join(format!("heavy/{i}.env")),
            &format!("A={}\n", "x".repeat(400)),
        );
    }
    write(&fleet.join("nested/a/b/c/.env"), "A=1\n");
    write(&fleet.join("nested/docker-compose.yml"), GOOD_COMPOSE);
    write(
        &fleet.join("switchyard.toml"),
        "[limits]\nmax_files = 3\nmax_total_bytes = 1000\nmax_depth = 3\nwalk_timeout_seconds = 2\n\n\
         [[repository]]\npath = \"many\"\n[[repository]]\npath = \"heavy\"\n\
         [[repository]]\npath = \"nested\"\n",
    );
    let config = fleet.join("switchyard.toml");
    let started = Instant::now();
    let (_, report) = analyze_within(
        &["--config", config.to_str().unwrap()],
        Duration::from_secs(60),
    );
    assert!(started.elapsed() < Duration::from_secs(30));
    let diags = diagnostics(&report);
    assert!(
        diags
            .iter()
            .any(|(r, c, _)| r == "many" && c == "too-many-files"),
        "{diags:#?}"
    );
    assert!(
        diags
            .iter()
            .any(|(r, c, _)| r == "heavy" && c == "repository-too-large"),
        "{diags:#?}"
    );
    assert!(
        has(&diags, "nested", "too-deep", "a/b/c/.env"),
        "{diags:#?}"
    );
    let edges = common::edge_pairs(&report);
    assert!(
        edges.contains(&("nested/web".into(), "nested/api".into())),
        "{edges:?}"
    );
}

#[test]
fn the_walk_time_limit_comes_from_switchyard_toml() {
    let dir = tempfile::tempdir().unwrap();
    let fleet = dir.path();
    // Links that fan out 4 ways over 13 levels: 4^12 paths, all inside the repository.
    for level in 0..13 {
        let d = fleet.join(format!("fan/l{level}"));
        write(&d.join(".env"), "A=1\n");
        if level < 12 {
            for i in 0..4 {
                symlink(format!("../l{}", level + 1), d.join(format!("n{i}"))).unwrap();
            }
        }
    }
    write(&fleet.join("good/docker-compose.yml"), GOOD_COMPOSE);
    write(
        &fleet.join("switchyard.toml"),
        "[limits]\nmax_files = 100000000\nmax_depth = 1000\nwalk_timeout_seconds = 1\n\n\
         [[repository]]\npath = \"fan\"\n[[repository]]\npath = \"good\"\n",
    );
    let config = fleet.join("switchyard.toml");
    let started = Instant::now();
    let (_, report) = analyze_within(
        &["--config", config.to_str().unwrap()],
        Duration::from_secs(60),
    );
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "{:?}",
        started.elapsed()
    );
    let diags = diagnostics(&report);
    assert!(has(&diags, "fan", "walk-timeout", ""), "{diags:#?}");
    let edges = common::edge_pairs(&report);
    assert!(
        edges.contains(&("good/web".into(), "good/api".into())),
        "{edges:?}"
    );
}

#[test]
fn a_fifo_or_a_link_to_dev_zero_as_gitignore_does_not_hang() {
    let dir = tempfile::tempdir().unwrap();
    let fleet = dir.path().join("fleet");
    write(&fleet.join("piped/docker-compose.yml"), GOOD_COMPOSE);
    write(&fleet.join("zero/docker-compose.yml"), GOOD_COMPOSE);
    symlink("/dev/zero", fleet.join("zero/.gitignore")).unwrap();
    let made = Command::new("mkfifo")
        .arg(fleet.join("piped/.gitignore"))
        .status();
    if !made.is_ok_and(|s| s.success()) {
        eprintln!("skipped: mkfifo unavailable");
        return;
    }
    let (_, report) = analyze_within(
        &["--fleet", fleet.to_str().unwrap()],
        Duration::from_secs(60),
    );
    let edges = common::edge_pairs(&report);
    for repo in ["piped", "zero"] {
        assert!(
            edges.contains(&(format!("{repo}/web"), format!("{repo}/api"))),
            "{edges:?}"
        );
    }
}
