//! The hot fleet: facts, linked model, repository graph and conflicts, rebuilt whole at start
//! and incrementally (only the named repositories re-read from disk) after a push or a change.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;
use std::time::Instant;

use serde::Serialize;
use switchyard_conflicts::{Conflict, ConflictKind, FleetInput, detect};
use switchyard_extract::cache::Cache;
use switchyard_extract::fleet::Fleet;
use switchyard_extract::{Limits, Registry};
use switchyard_graph::Digraph;
use switchyard_model::{FleetModel, RepoFacts, Repository};
use switchyard_store::Timestamp;

use crate::error::ApiError;

/// Where the fleet is read from: fixed for the server's life.
pub struct FleetSource {
    pub fleet: Fleet,
    pub registry: Registry,
    pub limits: Limits,
    pub cache: Option<Cache>,
}

impl FleetSource {
    pub fn new(fleet: Fleet, cache: Option<Cache>) -> Self {
        FleetSource {
            fleet,
            registry: Registry::default(),
            limits: Limits::default(),
            cache,
        }
    }

    fn repositories(&self) -> Vec<Repository> {
        self.fleet
            .repositories
            .iter()
            .map(|r| r.to_repository())
            .collect()
    }
}

/// One consistent analysis of the whole fleet. Replaced, never mutated: readers keep the
/// `Arc` they started with.
pub struct Snapshot {
    pub repositories: Vec<Repository>,
    /// In fleet order, like `repositories`.
    pub facts: Vec<RepoFacts>,
    pub model: FleetModel,
    pub repo_graph: Digraph,
    pub conflicts: Vec<Conflict>,
    pub analyzed_at: Timestamp,
    /// When each repository (fleet order) was last read from disk.
    pub read_at: Vec<Timestamp>,
    pub duration_ms: f64,
    /// Where `duration_ms` went.
    pub stages: StageTimings,
    index: HashMap<String, usize>,
    /// The `GET /dependencies` body for the whole fleet, rendered on first request: the snapshot
    /// never changes, so every later request for it is a copy of these bytes.
    pub dependencies_body: std::sync::OnceLock<axum::body::Bytes>,
    /// Services per repository, counted once.
    pub service_counts: HashMap<String, usize>,
}

/// Milliseconds spent in each stage of the last (re-)analysis.
#[derive(Debug, Clone, Copy, Default, Serialize, PartialEq, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct StageTimings {
    /// Reading files into facts (only the named repositories in a re-analysis).
    pub extract_ms: f64,
    /// Linking the whole fleet's references into edges, and the repository graph.
    pub link_ms: f64,
    /// Running every conflict detector over the fleet.
    pub detect_ms: f64,
}

fn millis_since(instant: Instant) -> f64 {
    instant.elapsed().as_secs_f64() * 1000.0
}

/// What an incremental re-analysis changed.
#[derive(Debug, Clone, Serialize, PartialEq, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ChangeSummary {
    pub repositories: Vec<String>,
    pub services_added: Vec<String>,
    pub services_removed: Vec<String>,
    pub edges_added: Vec<String>,
    pub edges_removed: Vec<String>,
    pub conflicts_detected: Vec<String>,
    pub conflicts_cleared: Vec<String>,
    pub duration_ms: f64,
    pub stages: StageTimings,
}

impl ChangeSummary {
    pub fn changed(&self) -> bool {
        !(self.services_added.is_empty()
            && self.services_removed.is_empty()
            && self.edges_added.is_empty()
            && self.edges_removed.is_empty()
            && self.conflicts_detected.is_empty()
            && self.conflicts_cleared.is_empty())
    }
}

impl Snapshot {
    /// Reads and analyses every repository.
    pub fn analyze(source: &FleetSource, now: Timestamp) -> Snapshot {
        let started = Instant::now();
        let (facts, _stats) = switchyard_extract::extract_fleet(
            &source.fleet,
            &source.registry,
            source.limits,
            source.cache.as_ref(),
            &|_| {},
        );
        let read_at = vec![now; facts.len()];
        let extract_ms = millis_since(started);
        Snapshot::build(
            source.repositories(),
            facts,
            read_at,
            now,
            started,
            extract_ms,
        )
    }

    /// Re-reads only `names` from disk and re-links the fleet. Unknown names are ignored
    /// (callers check them first with [`Snapshot::unknown`]).
    pub fn reanalyze(
        &self,
        source: &FleetSource,
        names: &[String],
        now: Timestamp,
    ) -> (Snapshot, ChangeSummary) {
        let started = Instant::now();
        let mut facts = self.facts.clone();
        let mut read_at = self.read_at.clone();
        let mut touched = Vec::new();
        for name in names {
            let Some(&i) = self.index.get(name) else {
                continue;
            };
            let Some(spec) = source.fleet.repositories.get(i) else {
                continue;
            };
            let (fresh, _) = switchyard_extract::extract_repository(
                &spec.name,
                &spec.path,
                &source.registry,
                source.limits,
                source.cache.as_ref(),
            );
            facts[i] = fresh;
            read_at[i] = now;
            touched.push(spec.name.clone());
        }
        if let Some(cache) = source.cache.as_ref() {
            // A cache that cannot be written only costs the next cold start.
            let _ = cache.save();
        }
        let extract_ms = millis_since(started);
        let next = Snapshot::build(
            self.repositories.clone(),
            facts,
            read_at,
            now,
            started,
            extract_ms,
        );
        let summary = self.diff(&next, touched);
        (next, summary)
    }

    fn build(
        repositories: Vec<Repository>,
        facts: Vec<RepoFacts>,
        read_at: Vec<Timestamp>,
        now: Timestamp,
        started: Instant,
        extract_ms: f64,
    ) -> Snapshot {
        let linking = Instant::now();
        let model = switchyard_link::link(&repositories, &facts);
        let repo_graph = Digraph::repositories(&model);
        let link_ms = millis_since(linking);
        let detecting = Instant::now();
        let conflicts = detect::detect(
            FleetInput {
                model: &model,
                facts: &facts,
            },
            &ConflictKind::ALL,
        );
        let stages = StageTimings {
            extract_ms,
            link_ms,
            detect_ms: millis_since(detecting),
        };
        let index = repositories
            .iter()
            .enumerate()
            .map(|(i, r)| (r.name.clone(), i))
            .collect();
        let mut service_counts: HashMap<String, usize> = HashMap::new();
        for service in &model.services {
            *service_counts
                .entry(service.repository.clone())
                .or_default() += 1;
        }
        Snapshot {
            repositories,
            facts,
            model,
            repo_graph,
            conflicts,
            analyzed_at: now,
            read_at,
            duration_ms: millis_since(started),
            stages,
            index,
            dependencies_body: std::sync::OnceLock::new(),
            service_counts,
        }
    }

    fn diff(&self, next: &Snapshot, repositories: Vec<String>) -> ChangeSummary {
        let services = |s: &Snapshot| -> BTreeSet<String> {
            s.model.services.iter().map(|x| x.id.clone()).collect()
        };
        let edges = |s: &Snapshot| -> BTreeSet<String> {
            s.model
                .edges
                .iter()
                .map(|e| format!("{} -> {}", e.from, e.to))
                .collect()
        };
        let conflicts = |s: &Snapshot| -> BTreeSet<String> {
            s.conflicts.iter().map(|c| c.id.clone()).collect()
        };
        let (s0, s1) = (services(self), services(next));
        let (e0, e1) = (edges(self), edges(next));
        let (c0, c1) = (conflicts(self), conflicts(next));
        ChangeSummary {
            repositories,
            services_added: s1.difference(&s0).cloned().collect(),
            services_removed: s0.difference(&s1).cloned().collect(),
            edges_added: e1.difference(&e0).cloned().collect(),
            edges_removed: e0.difference(&e1).cloned().collect(),
            conflicts_detected: c1.difference(&c0).cloned().collect(),
            conflicts_cleared: c0.difference(&c1).cloned().collect(),
            duration_ms: next.duration_ms,
            stages: next.stages,
        }
    }

    pub fn position(&self, name: &str) -> Option<usize> {
        self.index.get(name).copied()
    }

    /// The names not in the fleet, in request order.
    pub fn unknown(&self, names: &[String]) -> Vec<String> {
        names
            .iter()
            .filter(|n| !self.index.contains_key(n.as_str()))
            .cloned()
            .collect()
    }

    /// 404 naming the unknown repositories, else `Ok`.
    pub fn require_known(&self, names: &[String]) -> Result<(), ApiError> {
        let unknown = self.unknown(names);
        if unknown.is_empty() {
            Ok(())
        } else {
            Err(ApiError::unknown_repositories(&unknown))
        }
    }

    /// `names`, or every repository when `None`/empty, after checking they exist.
    pub fn select(&self, names: Option<Vec<String>>) -> Result<Vec<String>, ApiError> {
        match names.filter(|n| !n.is_empty()) {
            Some(names) => {
                self.require_known(&names)?;
                let mut seen = BTreeSet::new();
                Ok(names
                    .into_iter()
                    .filter(|n| seen.insert(n.clone()))
                    .collect())
            }
            None => Ok(self.repositories.iter().map(|r| r.name.clone()).collect()),
        }
    }

    pub fn facts_of(&self, name: &str) -> Option<&RepoFacts> {
        self.position(name).and_then(|i| self.facts.get(i))
    }
}

/// The current snapshot behind a lock that is held only to swap the `Arc`.
#[derive(Clone)]
pub struct FleetHandle {
    current: Arc<std::sync::RwLock<Arc<Snapshot>>>,
}

impl FleetHandle {
    pub fn new(snapshot: Snapshot) -> Self {
        FleetHandle {
            current: Arc::new(std::sync::RwLock::new(Arc::new(snapshot))),
        }
    }

    pub fn get(&self) -> Arc<Snapshot> {
        match self.current.read() {
            Ok(guard) => guard.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    pub fn replace(&self, next: Snapshot) {
        let next = Arc::new(next);
        match self.current.write() {
            Ok(mut guard) => *guard = next,
            Err(poisoned) => *poisoned.into_inner() = next,
        }
    }
}
