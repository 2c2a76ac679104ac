//! Package level end to end: generated pnpm workspaces (layered DAGs of a few hundred packages,
//! every dependency section and spec form) planned with `plan --level package`, checked against
//! levels this test computes on its own from the manifests it reads back; package cycles exit 1
//! in `plan` and `check` and reach SARIF; `affected --files` maps files to packages.

mod common;

use common::pnpm::{generate, write};
use common::switchyard;
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// Build levels computed from the manifests alone: an edge for every `workspace:` spec, and
/// with `link` for a plain range the member's version (1.0.0) satisfies; peers order nothing.
fn expected_levels(root: &Path, link: bool) -> BTreeMap<String, usize> {
    let mut deps: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for top in ["packages", "apps/web"] {
        for entry in std::fs::read_dir(root.join(top)).expect("read_dir") {
            let path = entry.expect("entry").path().join("package.json");
            let manifest: Value =
                serde_json::from_str(&std::fs::read_to_string(path).expect("read")).expect("json");
            let name = manifest["name"].as_str().expect("name").to_string();
            let mut mine = BTreeSet::new();
            for section in ["dependencies", "devDependencies", "optionalDependencies"] {
                let Some(map) = manifest[section].as_object() else {
                    continue;
                };
                for (dep, spec) in map {
                    let spec = spec.as_str().unwrap_or_default();
                    let plain_match = link && matches!(spec, "^1.0.0" | "*");
                    if dep.starts_with("@gen/") && (spec.starts_with("workspace:") || plain_match) {
                        mine.insert(dep.clone());
                    }
                }
            }
            deps.insert(name, mine);
        }
    }
    fn level(
        name: &str,
        deps: &BTreeMap<String, BTreeSet<String>>,
        memo: &mut BTreeMap<String, usize>,
    ) -> usize {
        if let Some(&l) = memo.get(name) {
            return l;
        }
        let l = deps
            .get(name)
            .map(|d| {
                d.iter()
                    .map(|x| level(x, deps, memo) + 1)
                    .max()
                    .unwrap_or(1)
            })
            .unwrap_or(1);
        memo.insert(name.to_string(), l);
        l
    }
    let mut memo = BTreeMap::new();
    for name in deps.keys() {
        level(name, &deps, &mut memo);
    }
    memo
}

fn planned_levels(plan: &Value) -> BTreeMap<String, usize> {
    let mut out = BTreeMap::new();
    for repo in plan["repositories"].as_array().expect("repositories") {
        for phase in repo["phases"].as_array().expect("phases") {
            let n = phase["phase"].as_u64().expect("phase") as usize;
            for p in phase["packages"].as_array().expect("packages") {
                out.insert(p.as_str().expect("name").to_string(), n);
            }
        }
    }
    out
}

#[test]
fn generated_pnpm_workspaces_plan_at_their_build_levels() {
    for (seed, layers, width, link) in [(7, 12, 25, false), (11, 9, 40, true), (23, 20, 15, true)] {
        let dir = tempfile::tempdir().expect("tempdir");
        let root = dir.path().join("mono");
        generate(&root, seed, layers, width, link);
        let run = switchyard(
            &[
                "plan",
                "--level",
                "package",
                "--format",
                "json",
                "--no-cache",
                root.to_str().expect("utf-8 path"),
            ],
            None,
        );
        assert_eq!(run.code, 0, "seed {seed}: {}", run.stderr);
        let plan: Value = serde_json::from_str(&run.stdout).expect("plan JSON");
        let want = expected_levels(&root, link);
        assert_eq!(want.len(), layers * width);
        assert_eq!(planned_levels(&plan), want, "seed {seed}");
        assert_eq!(plan["cycles"], json!([]));
    }
}

#[test]
fn a_package_cycle_fails_plan_and_check_and_reaches_sarif() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path().join("mono");
    write(
        &root.join("pnpm-workspace.yaml"),
        "packages: [\"packages/*\"]\n",
    );
    write(
        &root.join("package.json"),
        r#"{"name": "root", "private": true}"#,
    );
    write(
        &root.join("packages/a/package.json"),
        "{\n  \"name\": \"@c/a\",\n  \"dependencies\": { \"@c/b\": \"workspace:*\" }\n}\n",
    );
    write(
        &root.join("packages/b/package.json"),
        "{\n  \"name\": \"@c/b\",\n  \"devDependencies\": { \"@c/a\": \"workspace:*\" }\n}\n",
    );
    let path = root.to_str().expect("utf-8 path");
    let plan = switchyard(&["plan", "--level", "package", "--no-cache", path], None);
    assert_eq!(plan.code, 1, "{}", plan.stderr);
    assert!(
        plan.stdout
            .contains("package cycle in mono: @c/a -> @c/b -> @c/a (declared at mono/packages/a/package.json:3:22, mono/packages/b/package.json:3:25)"),
        "{}",
        plan.stdout
    );
    assert!(
        plan.stdout.contains("Smallest cut: mono/@c/"),
        "{}",
        plan.stdout
    );
    // The repository-level plan names it too, and fails.
    let plan = switchyard(&["plan", "--no-cache", path], None);
    assert_eq!(plan.code, 1);
    let check = switchyard(&["check", "--format", "sarif", "--no-cache", path], None);
    assert_eq!(check.code, 1, "{}", check.stderr);
    assert!(
        check
            .stderr
            .contains("package cycle in mono: @c/a -> @c/b -> @c/a")
    );
    let sarif: Value = serde_json::from_str(&check.stdout).expect("SARIF");
    let results = sarif["runs"][0]["results"].as_array().expect("results");
    let cycle = results
        .iter()
        .find(|r| r["ruleId"] == "dependency_cycle")
        .expect("a dependency_cycle result");
    assert_eq!(
        cycle["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
        "mono/packages/a/package.json"
    );
    assert_eq!(
        cycle["locations"][1]["physicalLocation"]["region"]["startLine"],
        3
    );
}

#[test]
fn package_names_as_targets_and_changed_files() {
    let fleet = ["--fleet", "examples/fleets/threadly", "--no-cache"];
    let with = |args: &[&str]| {
        let mut all = args.to_vec();
        all.extend_from_slice(&fleet);
        switchyard(&all, None)
    };
    let deps = with(&["deps", "@repo/search", "--format", "json"]);
    assert_eq!(deps.code, 0, "{}", deps.stderr);
    let deps: Value = serde_json::from_str(&deps.stdout).expect("json");
    assert_eq!(deps["target"], "threadly/@repo/search");
    assert_eq!(
        deps["direct"],
        json!([
            "threadly/@repo/cache",
            "threadly/@repo/database",
            "threadly/@repo/typescript-config"
        ])
    );
    let same = with(&["deps", "threadly/@repo/search", "--format", "json"]);
    assert_eq!(same.code, 0);
    let unknown = with(&["deps", "@repo/nope"]);
    assert_eq!(unknown.code, 2);
    assert!(unknown.stderr.contains("unknown package: @repo/nope"));
    let affected = with(&["affected", "--changed", "@repo/cache", "--format", "json"]);
    let affected: Value = serde_json::from_str(&affected.stdout).expect("json");
    assert_eq!(
        affected["affected"],
        json!([
            "threadly/@repo/commerce",
            "threadly/@repo/search",
            "threadly/api",
            "threadly/app",
            "threadly/web"
        ])
    );
    let files = with(&[
        "affected",
        "--files",
        "examples/fleets/threadly/threadly/packages/validation/src/index.ts,threadly/README.md",
        "--format",
        "json",
    ]);
    assert_eq!(files.code, 0, "{}", files.stderr);
    let files: Value = serde_json::from_str(&files.stdout).expect("json");
    assert_eq!(
        files["changed"]["packages"],
        json!(["threadly/@repo/validation"])
    );
    assert_eq!(
        files["affected"]["packages"],
        json!(["threadly/@repo/messaging", "threadly/api", "threadly/app"])
    );
    let outside = with(&["affected", "--files", "/etc/hostname"]);
    assert_eq!(outside.code, 2);
    let graph = with(&["graph", "--level", "package", "--format", "json"]);
    let graph: Value = serde_json::from_str(&graph.stdout).expect("json");
    assert_eq!(graph["nodes"].as_array().map(Vec::len), Some(17));
}

#[test]
fn affected_from_git_between_two_revisions() {
    let has_git = std::process::Command::new("git")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !has_git {
        eprintln!("git is not installed: skipping");
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path().join("mono");
    generate(&root, 5, 3, 3, false);
    let git = |args: &[&str]| {
        let out = std::process::Command::new("git")
            .args(args)
            .current_dir(&root)
            .env("GIT_AUTHOR_NAME", "t")
            .env("GIT_AUTHOR_EMAIL", "t@example.com")
            .env("GIT_COMMITTER_NAME", "t")
            .env("GIT_COMMITTER_EMAIL", "t@example.com")
            .output()
            .expect("git runs");
        assert!(
            out.status.success(),
            "git {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    git(&["init", "-q", "-b", "main"]);
    git(&["add", "-A"]);
    git(&["commit", "-qm", "one"]);
    write(
        &root.join("packages/p0-1/src/index.ts"),
        "export const x = 1;\n",
    );
    git(&["add", "-A"]);
    git(&["commit", "-qm", "two"]);
    let path = root.to_str().expect("utf-8 path");
    let run = switchyard(
        &[
            "affected",
            "--base",
            "HEAD~1",
            "--head",
            "HEAD",
            "--format",
            "json",
            "--no-cache",
            path,
        ],
        None,
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let out: Value = serde_json::from_str(&run.stdout).expect("json");
    assert_eq!(out["files"][0]["path"], "packages/p0-1/src/index.ts");
    assert_eq!(out["changed"]["packages"], json!(["mono/@gen/p0-1"]));
    let bad = switchyard(
        &["affected", "--base", "no-such-rev", "--no-cache", path],
        None,
    );
    assert_eq!(bad.code, 2);
    assert!(
        bad.stderr
            .contains("git diff no-such-rev failed in repository mono")
    );
}

#[test]
fn a_baseline_waives_todays_findings_until_they_expire() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path().join("mono");
    write(
        &root.join("pnpm-workspace.yaml"),
        "packages: [\"packages/*\"]\n",
    );
    write(
        &root.join("package.json"),
        r#"{"name": "root", "private": true}"#,
    );
    write(
        &root.join("packages/a/package.json"),
        r#"{"name": "@c/a", "dependencies": {"@c/b": "workspace:*"}}"#,
    );
    write(
        &root.join("packages/b/package.json"),
        r#"{"name": "@c/b", "dependencies": {"@c/a": "workspace:*"}}"#,
    );
    let path = root.to_str().expect("utf-8 path");
    let baseline = dir.path().join("baseline.json");
    let file = baseline.to_str().expect("utf-8 path");
    let check = |extra: &[&str]| {
        let mut args = vec!["check", "--no-cache", "--baseline", file, path];
        args.extend_from_slice(extra);
        switchyard(&args, None)
    };
    let first = check(&[]);
    assert_eq!(first.code, 0, "{}", first.stderr);
    assert!(
        first.stderr.contains("recorded with 1 findings"),
        "{}",
        first.stderr
    );
    let recorded: Value =
        serde_json::from_str(&std::fs::read_to_string(&baseline).expect("baseline")).expect("json");
    assert_eq!(
        recorded["waivers"][0]["id"],
        "package-cycle:mono:@c/a -> @c/b -> @c/a"
    );
    let again = check(&[]);
    assert_eq!(again.code, 0, "{}", again.stderr);
    assert!(again.stderr.contains("1 findings waived"));
    // An expired waiver waives nothing.
    let mut expired = recorded.clone();
    expired["waivers"][0]["expires"] = json!("2000-01-01");
    std::fs::write(&baseline, expired.to_string()).expect("write");
    let late = check(&[]);
    assert_eq!(late.code, 1, "{}", late.stderr);
    assert!(late.stderr.contains("package cycle in mono"));
    std::fs::write(&baseline, "{\"version\": 1, \"waivers\": [{\"id\": \"x\", \"reason\": \"r\", \"expires\": \"soon\"}]}").expect("write");
    let bad = check(&[]);
    assert_eq!(bad.code, 2);
    assert!(bad.stderr.contains("expected YYYY-MM-DD"), "{}", bad.stderr);
}

#[test]
fn task_phases_follow_turbo_json_and_missing_tasks_fail() {
    // threadly's turbo.json: build dependsOn ^build and test; test dependsOn ^test.
    let run = switchyard(
        &[
            "plan",
            "--level",
            "package",
            "--task",
            "build",
            "--format",
            "json",
            "--no-cache",
            "--fleet",
            "examples/fleets/threadly",
        ],
        None,
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let plan: Value = serde_json::from_str(&run.stdout).expect("json");
    let mut phase_of = BTreeMap::new();
    for p in plan["repositories"][0]["phases"]
        .as_array()
        .expect("phases")
    {
        for t in p["tasks"].as_array().expect("tasks") {
            phase_of.insert(
                t.as_str().unwrap_or_default().to_string(),
                p["phase"].clone(),
            );
        }
    }
    assert_eq!(phase_of["@repo/typescript-config#test"], 1);
    assert_eq!(phase_of["@repo/typescript-config#build"], 2);
    assert_eq!(phase_of["@repo/cache#test"], 2);
    assert_eq!(phase_of["@repo/cache#build"], 3);
    assert_eq!(phase_of["@repo/search#test"], 3);
    assert_eq!(phase_of["@repo/search#build"], 4);
    assert_eq!(phase_of["app#build"], 5);
    assert_eq!(phase_of.len(), 34, "build and test of 17 packages");

    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path().join("mono");
    write(
        &root.join("pnpm-workspace.yaml"),
        "packages: [\"packages/*\"]\n",
    );
    write(
        &root.join("package.json"),
        r#"{"name": "root", "private": true}"#,
    );
    write(
        &root.join("turbo.json"),
        "{\n  \"tasks\": {\n    \"build\": { \"dependsOn\": [\"^build\", \"^compile\"] }\n  }\n}\n",
    );
    write(&root.join("packages/a/package.json"), r#"{"name": "a"}"#);
    let path = root.to_str().expect("utf-8 path");
    let plan = switchyard(
        &[
            "plan",
            "--level",
            "package",
            "--task",
            "build",
            "--no-cache",
            path,
        ],
        None,
    );
    assert_eq!(plan.code, 1, "{}", plan.stderr);
    assert!(
        plan.stdout.contains(
            "task build in mono depends on the missing task ^compile (at mono/turbo.json:3:41)"
        ),
        "{}",
        plan.stdout
    );
    let check = switchyard(&["check", "--no-cache", path], None);
    assert_eq!(check.code, 1);
    assert!(
        check
            .stderr
            .contains("depends on the missing task ^compile")
    );
    let unknown = switchyard(
        &[
            "plan",
            "--level",
            "package",
            "--task",
            "deploy",
            "--no-cache",
            path,
        ],
        None,
    );
    assert_eq!(unknown.code, 2);
}

#[test]
fn check_base_reports_only_what_the_change_touches() {
    let has_git = std::process::Command::new("git")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !has_git {
        eprintln!("git is not installed: skipping");
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path().join("mono");
    write(
        &root.join("pnpm-workspace.yaml"),
        "packages: [\"packages/*\"]\n",
    );
    write(
        &root.join("package.json"),
        r#"{"name": "root", "private": true}"#,
    );
    write(
        &root.join("packages/a/package.json"),
        r#"{"name": "@c/a", "dependencies": {"@c/b": "workspace:*"}}"#,
    );
    write(
        &root.join("packages/b/package.json"),
        r#"{"name": "@c/b", "dependencies": {"@c/a": "workspace:*"}}"#,
    );
    write(&root.join("packages/c/package.json"), r#"{"name": "@c/c"}"#);
    let git = |args: &[&str]| {
        let out = std::process::Command::new("git")
            .args(args)
            .current_dir(&root)
            .env("GIT_AUTHOR_NAME", "t")
            .env("GIT_AUTHOR_EMAIL", "t@example.com")
            .env("GIT_COMMITTER_NAME", "t")
            .env("GIT_COMMITTER_EMAIL", "t@example.com")
            .output()
            .expect("git runs");
        assert!(out.status.success(), "git {args:?}");
    };
    git(&["init", "-q", "-b", "main"]);
    git(&["add", "-A"]);
    git(&["commit", "-qm", "one"]);
    write(&root.join("packages/c/index.ts"), "export {};\n");
    let path = root.to_str().expect("utf-8 path");
    // The change touches only @c/c: the old cycle is not reported.
    let untouched = switchyard(&["check", "--base", "HEAD", "--no-cache", path], None);
    assert_eq!(untouched.code, 0, "{}", untouched.stderr);
    write(
        &root.join("packages/b/package.json"),
        r#"{"name": "@c/b", "version": "1.0.0", "dependencies": {"@c/a": "workspace:*"}}"#,
    );
    let touched = switchyard(&["check", "--base", "HEAD", "--no-cache", path], None);
    assert_eq!(touched.code, 1, "{}", touched.stderr);
    assert!(touched.stderr.contains("package cycle in mono"));
}
