//! `switchyard conflicts --explain ID` on `examples/fleets/conflicts`: the full evidence of one
//! conflict (severity and why, occurrences with their source lines, the evidence chain, the
//! proposed resolutions as diffs), id prefixes, and unknown ids.

mod common;

const FLEET: &str = "examples/fleets/conflicts";

fn run(extra: &[&str]) -> common::Run {
    let mut args = vec!["conflicts", "--no-cache", "--fleet", FLEET];
    args.extend_from_slice(extra);
    common::switchyard(&args, None)
}

/// The id of the fleet's conflict of `kind`.
fn id_of(kind: &str) -> String {
    let list = run(&["--format", "json", "--fail-on", "never"]);
    assert_eq!(list.code, 0, "{}", list.stderr);
    let v: serde_json::Value = serde_json::from_str(&list.stdout).expect("JSON");
    v["conflicts"]
        .as_array()
        .expect("conflicts")
        .iter()
        .find(|c| c["type"] == kind)
        .and_then(|c| c["id"].as_str())
        .unwrap_or_else(|| panic!("no {kind} conflict"))
        .to_string()
}

fn explain(id: &str) -> String {
    let out = run(&["--explain", id]);
    // Explaining is not a gate: exit 0 even for a high conflict.
    assert_eq!(out.code, 0, "{}", out.stderr);
    out.stdout
}

#[test]
fn a_port_clash_with_both_sides_lines_and_the_automatic_fix_as_a_diff() {
    let text = explain(&id_of("port"));
    for want in [
        "(port, high severity)",
        "Why high: deployments that run at the same time publish it",
        "media/docker-compose.yml:37:10 [media/qbittorrent]",
        "monitoring/docker-compose.yml:29:10 [monitoring/cadvisor]",
        "\"8080:8080\"",
        "port-reassignment (automatic",
        "+++ b/monitoring/docker-compose.yml",
    ] {
        assert!(text.contains(want), "{want:?} missing from:\n{text}");
    }
    insta::assert_snapshot!("explain_port", text);
}

#[test]
fn a_url_finding_shows_the_chain_from_reference_to_fix() {
    let text = explain(&id_of("unreachable_url"));
    for want in [
        "Evidence chain:",
        "reference",
        "api/.env:7:20",
        "resolved  nothing",
        "fix       call the service that should serve it by its name",
    ] {
        assert!(text.contains(want), "{want:?} missing from:\n{text}");
    }
    insta::assert_snapshot!("explain_unreachable_url", text);
}

#[test]
fn a_domain_finding_names_both_routes() {
    let text = explain(&id_of("domain"));
    assert!(
        text.contains("edge/nginx/conf.d/grafana.conf:4:17"),
        "{text}"
    );
    assert!(
        text.contains("monitoring/docker-compose.yml:20:44"),
        "{text}"
    );
    insta::assert_snapshot!("explain_domain", text);
}

#[test]
fn prefixes_json_and_unknown_ids() {
    let id = id_of("container_name");
    // An unambiguous prefix is enough.
    let by_prefix = explain(&id[..id.len() - 4]);
    assert!(by_prefix.starts_with(&id), "{by_prefix}");

    let json = run(&["--explain", &id, "--format", "json"]);
    assert_eq!(json.code, 0, "{}", json.stderr);
    let v: serde_json::Value = serde_json::from_str(&json.stdout).expect("JSON");
    assert_eq!(v["conflict"]["id"], id.as_str());
    assert!(v["severityReason"].as_str().is_some_and(|s| !s.is_empty()));
    assert!(v["evidence"][0]["line"].as_str().is_some(), "{v:#}");
    assert!(v["resolutions"].as_array().is_some());

    let unknown = run(&["--explain", "port-000000000000"]);
    assert_eq!(unknown.code, 2);
    assert!(
        unknown.stderr.contains("is not a conflict of this fleet")
            && unknown.stderr.contains("nearest: port-"),
        "{}",
        unknown.stderr
    );
    // `d` starts both the domain and the dangling_package conflict's ids.
    let ambiguous = run(&["--explain", "d"]);
    assert_eq!(ambiguous.code, 2);
    assert!(
        ambiguous.stderr.contains("matches several conflicts"),
        "{}",
        ambiguous.stderr
    );
}
