//! What CI reads from `check`: SARIF with cycles and every finding under a stable, documented
//! rule; compact lines; GitHub Actions workflow commands.

mod common;

use std::collections::BTreeSet;

const CYCLE: &str = "examples/fleets/homelab-cycle";
const CONFLICTS: &str = "examples/fleets/conflicts";

fn check(fleet: &str, format: &str) -> common::Run {
    common::switchyard(
        &["check", "--no-cache", "--fleet", fleet, "--format", format],
        None,
    )
}

/// `## <id>` headings of docs/RULES.md (GitHub anchors of single-word headings are the word).
fn documented_rules() -> BTreeSet<String> {
    let text = std::fs::read_to_string(common::workspace_root().join("docs/RULES.md")).unwrap();
    text.lines()
        .filter_map(|l| l.strip_prefix("## "))
        .map(|h| h.trim().to_string())
        .collect()
}

#[test]
fn sarif_carries_the_cycle_and_every_rule_is_documented() {
    let run = check(CYCLE, "sarif");
    assert_eq!(run.code, 1, "a cycle fails check: {}", run.stderr);
    let log: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    let sarif_run = &log["runs"][0];
    let rules = sarif_run["tool"]["driver"]["rules"].as_array().unwrap();
    let documented = documented_rules();
    for rule in rules {
        let id = rule["id"].as_str().unwrap();
        let help = rule["helpUri"].as_str().unwrap();
        let anchor = help.rsplit_once("docs/RULES.md#").map(|(_, a)| a);
        assert_eq!(anchor, Some(id), "{help}");
        assert!(documented.contains(id), "docs/RULES.md has no `## {id}`");
    }
    let results = sarif_run["results"].as_array().unwrap();
    let cycle = results
        .iter()
        .find(|r| r["ruleId"] == "dependency_cycle")
        .expect("the cycle is a result");
    assert_eq!(cycle["level"], "error");
    let locations = cycle["locations"].as_array().unwrap();
    assert_eq!(
        locations.len(),
        3,
        "one location per edge of sso -> mailer -> audit -> sso"
    );
    for l in locations {
        let p = &l["physicalLocation"];
        assert_eq!(p["artifactLocation"]["uriBaseId"], "FLEETROOT");
        assert!(p["region"]["startLine"].as_u64().unwrap() >= 1);
    }
    assert!(
        !cycle["partialFingerprints"]["switchyardCycle/v1"]
            .as_str()
            .unwrap()
            .is_empty()
    );
    for r in results {
        let index = r["ruleIndex"].as_u64().unwrap() as usize;
        assert_eq!(rules[index]["id"], r["ruleId"]);
        assert!(
            r["partialFingerprints"]
                .as_object()
                .is_some_and(|f| !f.is_empty())
        );
    }
    let root = sarif_run["originalUriBaseIds"]["FLEETROOT"]["uri"]
        .as_str()
        .unwrap();
    assert!(
        root.starts_with("file:///") && root.ends_with("/homelab-cycle/"),
        "{root}"
    );
}

#[test]
fn rule_ids_and_indexes_are_the_same_in_every_log() {
    let ids = |fleet: &str| -> Vec<String> {
        let run = check(fleet, "sarif");
        let log: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
        log["runs"][0]["tool"]["driver"]["rules"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["id"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(ids(CYCLE), ids(CONFLICTS));
}

#[test]
fn compact_is_one_located_line_per_finding_location() {
    let run = check(CYCLE, "compact");
    assert_eq!(run.code, 1, "{}", run.stderr);
    let lines: Vec<&str> = run.stdout.lines().collect();
    assert!(!lines.is_empty());
    for line in &lines {
        let (position, rest) = line.split_once(": ").unwrap();
        let mut parts = position.rsplitn(3, ':');
        let col: u32 = parts.next().unwrap().parse().unwrap();
        let line_no: u32 = parts.next().unwrap().parse().unwrap();
        assert!(col >= 1 && line_no >= 1, "{line}");
        assert!(parts.next().unwrap().contains('/'), "repo/path: {line}");
        assert!(
            ["error: ", "warning: ", "note: "]
                .iter()
                .any(|l| rest.starts_with(l)),
            "{line}"
        );
    }
    assert_eq!(
        lines
            .iter()
            .filter(|l| l.ends_with("[dependency_cycle]"))
            .count(),
        3
    );
}

#[test]
fn github_prints_workflow_commands() {
    let run = check(CONFLICTS, "github");
    assert_eq!(run.code, 1, "{}", run.stderr);
    let lines: Vec<&str> = run.stdout.lines().collect();
    assert!(lines.len() >= 11, "{}", run.stdout);
    for line in &lines {
        assert!(
            line.starts_with("::error file=")
                || line.starts_with("::warning file=")
                || line.starts_with("::notice file="),
            "{line}"
        );
        let (props, message) = line[2..].split_once("::").unwrap();
        assert!(
            props.contains(",line=") && props.contains(",col="),
            "{line}"
        );
        assert!(!message.is_empty());
    }
}

#[test]
fn tables_never_split_a_location() {
    for columns in ["60", "80", "120"] {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_switchyard"))
            .args([
                "conflicts",
                "--no-cache",
                "--fleet",
                CONFLICTS,
                "--fail-on",
                "never",
            ])
            .current_dir(common::workspace_root())
            .env("COLUMNS", columns)
            .output()
            .unwrap();
        let table = String::from_utf8_lossy(&out.stdout);
        let compact = check(CONFLICTS, "compact").stdout;
        for line in compact.lines() {
            let position = line.split(": ").next().unwrap();
            assert!(
                table.contains(position),
                "COLUMNS={columns}: {position} split in\n{table}"
            );
        }
    }
}

/// `check --format sarif` on a fleet with a cycle and on one with a conflict of every type is
/// valid against the SARIF 2.1.0 constraints in tests/schemas/sarif (formats checked too).
#[test]
fn sarif_is_valid_against_the_specification_subset() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/schemas/sarif/sarif-2.1.0-subset.schema.json");
    let schema: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let validator = jsonschema::options()
        .should_validate_formats(true)
        .build(&schema)
        .unwrap();
    for fleet in [CYCLE, CONFLICTS] {
        let log: serde_json::Value = serde_json::from_str(&check(fleet, "sarif").stdout).unwrap();
        let errors: Vec<String> = validator
            .iter_errors(&log)
            .map(|e| format!("{} at {}", e, e.instance_path()))
            .collect();
        assert!(errors.is_empty(), "{fleet}: {errors:#?}");
    }
    // The schema does reject a result without a location or with line 0.
    let mut bad: serde_json::Value = serde_json::from_str(&check(CYCLE, "sarif").stdout).unwrap();
    bad["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["region"]["startLine"] =
        0.into();
    assert!(!validator.is_valid(&bad));
}
