//! Test fleets for strategy tests: in-memory repositories run through the real `extract` and
//! `link`, conflicts built from the facts' spans the way detectors build them, and edits applied.

use super::FileSource;
pub use crate::disk::DiskFiles;
use crate::patch::{apply_edits, group_by_file};
use crate::{Conflict, ConflictKind, FleetInput, Occurrence, Resolution, Severity};
use std::collections::BTreeMap;
use switchyard_extract::{Registry, extract_files, source::RepoFiles};
use switchyard_model::{EndpointKind, FleetModel, RepoFacts, Repository, ResourceKind};

#[derive(Clone, Default)]
pub struct TestFleet {
    /// repository → path → text, in fleet order.
    pub repos: Vec<(String, BTreeMap<String, String>)>,
}

pub struct Analyzed {
    pub model: FleetModel,
    pub facts: Vec<std::sync::Arc<RepoFacts>>,
}

impl Analyzed {
    pub fn input(&self) -> FleetInput<'_> {
        FleetInput {
            model: &self.model,
            facts: &self.facts,
            // Fixtures change between runs: a fresh index each time (leaked, tests only).
            lookup: Box::leak(Box::default()),
        }
    }
}

impl FileSource for TestFleet {
    fn read(&self, repository: &str, path: &str) -> Option<std::sync::Arc<str>> {
        self.repos
            .iter()
            .find(|(r, _)| r == repository)
            .and_then(|(_, files)| files.get(path).map(|text| text.as_str().into()))
    }
}

impl TestFleet {
    pub fn new() -> Self {
        Self::default()
    }

    /// A fleet of these repositories and their files, in this order.
    pub fn of<T: AsRef<str>>(repos: &[(&str, &[(&str, T)])]) -> Self {
        let mut fleet = Self::new();
        for (name, files) in repos {
            let files: Vec<(&str, &str)> = files.iter().map(|(p, t)| (*p, t.as_ref())).collect();
            fleet = fleet.repo(name, &files);
        }
        fleet
    }

    pub fn repo(mut self, name: &str, files: &[(&str, &str)]) -> Self {
        let files = files
            .iter()
            .map(|(p, t)| (p.to_string(), t.to_string()))
            .collect();
        self.repos.push((name.to_string(), files));
        self
    }

    pub fn text(&self, repository: &str, path: &str) -> String {
        self.read(repository, path)
            .unwrap_or_else(|| panic!("no file {repository}/{path}"))
            .to_string()
    }

    pub fn analyze(&self) -> Analyzed {
        let registry = Registry::default();
        let mut repositories = Vec::new();
        let mut facts = Vec::new();
        for (name, files) in &self.repos {
            let mut rf = RepoFiles::new(name.clone());
            for (path, text) in files {
                rf.add_text(path.clone(), text.clone());
            }
            facts.push(extract_files(rf, &registry));
            repositories.push(Repository {
                name: name.clone(),
                path: name.clone(),
                host: "local".into(),
                environment: "default".into(),
            });
        }
        let model = switchyard_link::link(&repositories, &facts);
        let facts = facts.into_iter().map(std::sync::Arc::new).collect();
        Analyzed { model, facts }
    }

    /// The fleet after applying a resolution's edits (a missing file is created).
    pub fn apply(&self, resolution: &Resolution) -> TestFleet {
        let mut next = self.clone();
        for ((repo, path), edits) in group_by_file(&resolution.edits) {
            let (_, files) = next
                .repos
                .iter_mut()
                .find(|(r, _)| *r == repo)
                .expect("edit of a known repository");
            let old = files.get(&path).cloned().unwrap_or_default();
            let new = apply_edits(&old, &edits).expect("edits apply");
            files.insert(path, new);
        }
        next
    }
}

fn conflict(
    an: &Analyzed,
    kind: ConflictKind,
    resource: String,
    occurrences: Vec<Occurrence>,
) -> Conflict {
    // Conflicts are per host: take the first occurrence's repository's host.
    let repo = occurrences.first().and_then(|o| {
        an.model
            .repositories
            .iter()
            .find(|r| r.name == o.repository)
    });
    Conflict::new(
        kind,
        Severity::High,
        repo.map_or("local", |r| r.host.as_str()),
        repo.map_or("default", |r| r.environment.as_str()),
        resource,
        occurrences,
        "planted".into(),
    )
}

/// Every publisher of a host port, as the port detector reports them.
pub fn port_conflict(an: &Analyzed, port: u16) -> Conflict {
    let mut occurrences = Vec::new();
    for s in &an.model.services {
        for e in &s.endpoints {
            let hit = match &e.kind {
                EndpointKind::HostPort { start, end, .. } => (*start..=*end).contains(&port),
                EndpointKind::HostProcessPort { port: p }
                | EndpointKind::NodePort { port: p, .. } => *p == port,
                _ => false,
            };
            if hit {
                occurrences.push(Occurrence {
                    repository: s.repository.clone(),
                    service: Some(s.name.clone()),
                    location: e.location.clone(),
                    detail: format!("{port}/tcp"),
                });
            }
        }
    }
    conflict(
        an,
        ConflictKind::Port,
        format!("port:{port}/tcp"),
        occurrences,
    )
}

/// Every route of a domain, as the domain detector reports them.
pub fn domain_conflict(an: &Analyzed, domain: &str) -> Conflict {
    let mut occurrences = Vec::new();
    for s in &an.model.services {
        for e in &s.endpoints {
            if let EndpointKind::Domain { host, .. } = &e.kind
                && host == domain
            {
                occurrences.push(Occurrence {
                    repository: s.repository.clone(),
                    service: Some(s.name.clone()),
                    location: e.location.clone(),
                    detail: domain.to_string(),
                });
            }
        }
    }
    conflict(
        an,
        ConflictKind::Domain,
        format!("domain:{domain}"),
        occurrences,
    )
}

/// Every value of an env key, as the drift detector reports them.
pub fn env_conflict(an: &Analyzed, key: &str) -> Conflict {
    let mut occurrences = Vec::new();
    for f in &an.facts {
        for e in f.env.iter().filter(|e| e.key == key) {
            occurrences.push(Occurrence {
                repository: f.repository.clone(),
                service: e.service.clone(),
                location: e.location.clone(),
                detail: e.display.clone(),
            });
        }
    }
    conflict(
        an,
        ConflictKind::EnvDrift,
        format!("env:{key}"),
        occurrences,
    )
}

/// Every use of a shared resource, as the volume/network/container-name detectors report them.
pub fn resource_conflict(an: &Analyzed, kind: ResourceKind, identifier: &str) -> Conflict {
    let mut occurrences = Vec::new();
    for f in &an.facts {
        for r in f
            .resources
            .iter()
            .filter(|r| r.kind == kind && r.identifier == identifier)
        {
            occurrences.push(Occurrence {
                repository: f.repository.clone(),
                service: r.service.clone(),
                location: r.location.clone(),
                detail: identifier.to_string(),
            });
        }
    }
    let (conflict_kind, prefix) = match kind {
        ResourceKind::ContainerName => (ConflictKind::ContainerName, "container_name"),
        ResourceKind::Network => (ConflictKind::Network, "network"),
        ResourceKind::Volume | ResourceKind::BindMount => (ConflictKind::Volume, "volume"),
    };
    conflict(
        an,
        conflict_kind,
        format!("{prefix}:{identifier}"),
        occurrences,
    )
}

/// Copies a folder tree (an example fleet) into `to`.
pub fn copy_tree(from: &std::path::Path, to: &std::path::Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

/// Analyzes a fleet on disk from its `switchyard.toml`, like `switchyard analyze`.
pub fn analyze_disk(config: &std::path::Path) -> (Analyzed, DiskFiles) {
    let fleet = switchyard_extract::fleet::load_config(config).unwrap();
    let (facts, _) = switchyard_extract::extract_fleet(
        &fleet,
        &Registry::default(),
        switchyard_extract::Limits::default(),
        None,
        &|_| {},
    );
    let repositories: Vec<Repository> = fleet
        .repositories
        .iter()
        .map(|r| r.to_repository())
        .collect();
    let model = switchyard_link::link(&repositories, &facts);
    let facts = facts.into_iter().map(std::sync::Arc::new).collect();
    (Analyzed { model, facts }, DiskFiles::new(&fleet))
}

/// The lines that differ between two texts of the same line count, as `(old, new)` pairs: a
/// minimal patch changes only the lines it must, and every other byte stays as it was.
pub fn changed_lines(old: &str, new: &str) -> Vec<(String, String)> {
    let (a, b): (Vec<&str>, Vec<&str>) = (old.split('\n').collect(), new.split('\n').collect());
    assert_eq!(a.len(), b.len(), "line count changed:\n{old}\n---\n{new}");
    a.iter()
        .zip(&b)
        .filter(|(x, y)| x != y)
        .map(|(x, y)| (x.to_string(), y.to_string()))
        .collect()
}
