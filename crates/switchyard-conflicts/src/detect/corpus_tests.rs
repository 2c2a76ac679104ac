//! The real-world corpus (`../shared/corpus`) deployed on one host: the host-port collisions its
//! hand-written truths expect (`expected_conflicts_if_merged`), and nothing else.

use crate::detect::detect;
use crate::{ConflictKind, FleetInput};
use serde_json::Value;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use switchyard_extract::{Limits, Registry, extract_repository};
use switchyard_model::Repository;

fn corpus() -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus");
    dir.is_dir().then_some(dir)
}

/// `(port/protocol, {system/service…})` sets.
type Collisions = BTreeSet<(String, BTreeSet<String>)>;

#[test]
fn merged_corpus_has_the_expected_port_collisions_only() {
    let Some(dir) = corpus() else {
        eprintln!("skipped: ../shared/corpus is not present");
        return;
    };
    let mut systems: Vec<String> = std::fs::read_dir(&dir)
        .into_iter()
        .flatten()
        .filter_map(Result::ok)
        .filter(|e| e.path().join("TRUTH.json").is_file())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    systems.sort();
    assert!(systems.len() >= 10, "corpus looks incomplete: {systems:?}");

    let registry = Registry::default();
    let mut repositories = Vec::new();
    let mut facts = Vec::new();
    let mut expected = Collisions::new();
    for name in &systems {
        let path = dir.join(name);
        repositories.push(Repository {
            name: name.clone(),
            path: path.display().to_string(),
            host: "local".into(),
            environment: "default".into(),
        });
        facts.push(extract_repository(name, &path, &registry, Limits::default(), None).0);
        let truth: Value = serde_json::from_str(
            &std::fs::read_to_string(path.join("TRUTH.json")).unwrap_or_default(),
        )
        .unwrap_or(Value::Null);
        for c in truth["expected_conflicts_if_merged"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|c| c["type"] == "host_port")
        {
            let mut members: BTreeSet<String> = c["collides_with"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|m| m.as_str().map(str::to_string))
                .collect();
            for s in c["my_services"].as_array().into_iter().flatten() {
                members.insert(format!("{name}/{}", s.as_str().unwrap_or("")));
            }
            let port = format!(
                "{}/{}",
                c["host_port"],
                c["protocol"].as_str().unwrap_or("tcp")
            );
            expected.insert((port, members));
        }
    }
    let model = switchyard_link::link(&repositories, &facts);
    let facts: Vec<std::sync::Arc<_>> = facts.into_iter().map(std::sync::Arc::new).collect();
    let conflicts = detect(
        FleetInput {
            model: &model,
            facts: &facts,
            lookup: &crate::Lookup::default(),
        },
        &[],
    );
    let other: Vec<_> = conflicts
        .iter()
        .filter(|c| c.kind != ConflictKind::Port)
        .map(|c| (&c.resource, &c.message))
        .collect();
    assert!(other.is_empty(), "unexpected conflicts: {other:#?}");
    let found: Collisions = conflicts
        .iter()
        .map(|c| {
            let members = c
                .occurrences
                .iter()
                .map(|o| format!("{}/{}", o.repository, o.service.as_deref().unwrap_or("")))
                .collect();
            (c.resource.trim_start_matches("port:").to_string(), members)
        })
        .collect();
    assert!(
        expected.len() >= 5,
        "truths list too few collisions: {expected:?}"
    );
    assert_eq!(found, expected);
}
