//! Runs the compose extractor over the real-world corpus (`../shared/corpus` beside the checkout, or
//! `SWITCHYARD_CORPUS`) and checks services and compose-visible edges against `TRUTH.json`.

use super::*;
use crate::dotenv::DotenvExtractor;
use std::path::{Path, PathBuf};

fn corpus_dir() -> Option<PathBuf> {
    let dir = std::env::var_os("SWITCHYARD_CORPUS")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus"));
    dir.is_dir().then_some(dir)
}

fn read_tree(root: &Path, dir: &Path, repo: &mut RepoFiles) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<_> = entries.flatten().collect();
    entries.sort_by_key(|e| e.path());
    for entry in entries {
        let path = entry.path();
        if path.is_dir() {
            read_tree(root, &path, repo);
        } else if let Ok(text) = std::fs::read_to_string(&path)
            && let Ok(rel) = path.strip_prefix(root)
        {
            let rel = rel.to_string_lossy().replace('\\', "/");
            if rel != "TRUTH.json" {
                repo.add_text(rel, text);
            }
        }
    }
}

/// The host of an address text (`scheme://user:pw@host:port/x`, `host:port`, `host`).
fn host(text: &str) -> &str {
    let rest = text.split_once("://").map(|(_, r)| r).unwrap_or(text);
    let rest = rest.split('/').next().unwrap_or(rest);
    let rest = rest.rsplit_once('@').map(|(_, h)| h).unwrap_or(rest);
    rest.split(':').next().unwrap_or(rest)
}

fn strings(value: &serde_json::Value) -> Vec<String> {
    value
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn corpus_services_and_edges_match_truth() {
    let Some(corpus) = corpus_dir() else {
        eprintln!("corpus not found (set SWITCHYARD_CORPUS); skipping the corpus test");
        return;
    };
    let mut systems: Vec<PathBuf> = std::fs::read_dir(&corpus)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.join("TRUTH.json").is_file())
        .collect();
    systems.sort();
    assert!(!systems.is_empty(), "no systems in {}", corpus.display());
    let mut checked_variants = 0;
    for system in systems {
        let name = system
            .file_name()
            .map(|n| n.to_string_lossy().to_string())
            .unwrap_or_default();
        let truth: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(system.join("TRUTH.json")).unwrap())
                .unwrap();
        let mut repo = RepoFiles::new(name.clone());
        read_tree(&system, &system, &mut repo);
        let mut facts = RepoFacts::default();
        for file in repo.files() {
            for extractor in [&ComposeExtractor as &dyn Extractor, &DotenvExtractor] {
                if extractor.accepts(&file.path)
                    && extractor.extract(file, &repo, &mut facts) == Handled::Yes
                {
                    break;
                }
            }
        }
        let bad: Vec<_> = facts
            .diagnostics
            .iter()
            .filter(|d| {
                matches!(
                    d.code,
                    DiagnosticCode::ParseError | DiagnosticCode::UnsetVariable
                )
            })
            .collect();
        assert!(bad.is_empty(), "{name}: {bad:?}");
        for variant in truth["variants"].as_array().into_iter().flatten() {
            let compose_files: Vec<String> = strings(&variant["files"])
                .into_iter()
                .filter(|f| is_compose_file_name(file_name(f)))
                .collect();
            if compose_files.is_empty() {
                continue;
            }
            checked_variants += 1;
            let in_variant = |scope: &Scope| matches!(scope, Scope::Compose { project } if compose_files.contains(project));
            let mut found: Vec<String> = facts
                .services
                .iter()
                .filter(|s| in_variant(&s.scope))
                .map(|s| s.name.clone())
                .collect();
            let mut expected = strings(&variant["services"]);
            found.sort();
            expected.sort();
            assert_eq!(found, expected, "{name} {compose_files:?}");
            for edge in variant["edges"].as_array().into_iter().flatten() {
                let parts = strings(edge);
                let [from, to, evidence, ..] = parts.as_slice() else {
                    continue;
                };
                let declared = ["depends_on", "link", "label"]
                    .iter()
                    .any(|m| evidence.split('+').any(|e| e == *m));
                let hit = facts.references.iter().any(|r| {
                    in_variant(&r.scope)
                        && r.from.as_deref() == Some(from)
                        && match &r.target {
                            Target::ServiceName { name } => declared && name == to,
                            Target::Address { text } => evidence == "env" && host(text) == to,
                            _ => false,
                        }
                });
                if declared || evidence == "env" {
                    assert!(hit, "{name}: missing edge {from} -> {to} ({evidence})");
                }
            }
        }
    }
    assert!(
        checked_variants >= 14,
        "only {checked_variants} variants checked"
    );
}

#[test]
fn corpus_details() {
    let Some(corpus) = corpus_dir() else {
        eprintln!("corpus not found; skipping");
        return;
    };
    let system = corpus.join("example-voting-app");
    let mut repo = RepoFiles::new("example-voting-app");
    read_tree(&system, &system, &mut repo);
    let mut facts = RepoFacts::default();
    for file in repo.files() {
        if ComposeExtractor.accepts(&file.path) {
            ComposeExtractor.extract(file, &repo, &mut facts);
        }
    }
    let result = facts
        .services
        .iter()
        .find(|s| s.name == "result" && s.source.path == "docker-compose.yml")
        .expect("result service");
    assert!(result.endpoints.iter().any(|e| e.kind
        == switchyard_model::EndpointKind::HostPort {
            host_ip: Some("127.0.0.1".into()),
            start: 9229,
            end: 9229,
            container_port: Some(9229),
            protocol: Default::default(),
        }));
    assert_eq!(result.owned_paths, vec!["result"]);
    let sut = facts
        .services
        .iter()
        .find(|s| s.name == "sut")
        .expect("sut");
    assert!(sut.test_harness);
    assert_eq!(sut.owned_paths, vec!["result/tests"]);
}
