//! Snapshot tests of what a user sees: tables, JSON and graph exports on the example fleets.
//! A diff of these files is the review of any output change (`INSTA_UPDATE=always` rewrites).

mod common;

fn stdout(args: &[&str]) -> String {
    let run = common::switchyard(args, None);
    assert!(
        run.code == 0 || run.code == 1,
        "exit {}: {}",
        run.code,
        run.stderr
    );
    run.stdout
}

#[test]
fn analyze_table_homelab() {
    insta::assert_snapshot!(stdout(&[
        "analyze",
        "--no-cache",
        "--fleet",
        "examples/fleets/homelab"
    ]));
}

#[test]
fn plan_table_homelab_cycle() {
    insta::assert_snapshot!(stdout(&[
        "plan",
        "--no-cache",
        "--fleet",
        "examples/fleets/homelab-cycle"
    ]));
}

#[test]
fn analyze_json_podplay() {
    insta::assert_snapshot!(stdout(&[
        "analyze",
        "--no-cache",
        "--format",
        "json",
        "--fleet",
        "examples/fleets/podplay"
    ]));
}

#[test]
fn graph_mermaid_mfe() {
    insta::assert_snapshot!(stdout(&[
        "graph",
        "--no-cache",
        "--format",
        "mermaid",
        "--level",
        "service",
        "--fleet",
        "examples/fleets/mfe"
    ]));
}

#[test]
fn graph_dot_codejoin() {
    insta::assert_snapshot!(stdout(&[
        "graph",
        "--no-cache",
        "--format",
        "dot",
        "--fleet",
        "examples/fleets/codejoin"
    ]));
}

/// `check --format compact`: one `repo/path:line:col: severity: message [rule id]` per location.
#[test]
fn check_compact_conflicts() {
    insta::assert_snapshot!(stdout(&[
        "check",
        "--no-cache",
        "--format",
        "compact",
        "--fleet",
        "examples/fleets/conflicts"
    ]));
}

/// An 80-column terminal: names and mechanisms wrap, evidence locations stay whole.
#[test]
fn analyze_table_homelab_80_columns() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_switchyard"))
        .args([
            "analyze",
            "--no-cache",
            "--fleet",
            "examples/fleets/homelab",
        ])
        .current_dir(common::workspace_root())
        .env("COLUMNS", "80")
        .output()
        .expect("the switchyard binary runs");
    assert!(out.status.success());
    insta::assert_snapshot!(String::from_utf8_lossy(&out.stdout));
}

/// `analyze --format compact`: diagnostics, unresolved references and cycle edges, one located
/// line each.
#[test]
fn analyze_compact_homelab_cycle() {
    insta::assert_snapshot!(stdout(&[
        "analyze",
        "--no-cache",
        "--format",
        "compact",
        "--fleet",
        "examples/fleets/homelab-cycle"
    ]));
}
