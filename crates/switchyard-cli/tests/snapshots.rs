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
