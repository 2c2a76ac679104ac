//! The hot fleet: facts, linked model, repository graph and conflicts, rebuilt whole at start
//! and incrementally (only the named repositories re-read from disk) after a push or a change.

use std::cmp::Ordering as Order;
use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Instant;

use serde::Serialize;
use switchyard_conflicts::{Conflict, ConflictKind, FleetInput, Lookup, detect};
use switchyard_extract::cache::Cache;
use switchyard_extract::fleet::Fleet;
use switchyard_extract::{Cancel, Limits, Registry};
use switchyard_graph::Digraph;
use switchyard_model::{Edge, FleetModel, RepoFacts, Repository};
use switchyard_store::Timestamp;

use crate::error::ApiError;

/// Where the fleet is read from: fixed for the server's life.
pub struct FleetSource {
    pub fleet: Fleet,
    pub registry: Registry,
    pub limits: Limits,
    pub cache: Option<Cache>,
    /// Fired on shutdown: a re-analysis in progress stops at its next file instead of holding
    /// the shutdown (a checkout can be huge or hostile).
    pub cancel: Cancel,
}

impl FleetSource {
    pub fn new(fleet: Fleet, cache: Option<Cache>) -> Self {
        FleetSource {
            limits: fleet.limits,
            fleet,
            registry: Registry::default(),
            cache,
            cancel: Cancel::default(),
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
    /// In fleet order, like `repositories`. Shared: a re-analysis replaces the re-read
    /// repositories' entries and keeps the others' (copying 10,000 repositories' facts took
    /// ~200 ms).
    pub facts: Vec<Arc<RepoFacts>>,
    pub model: FleetModel,
    pub repo_graph: Digraph,
    pub conflicts: Vec<Conflict>,
    pub analyzed_at: Timestamp,
    /// When each repository (fleet order) was last read from disk (Unix milliseconds): a push
    /// that changes nothing only moves these, the snapshot stays.
    read_at: Vec<AtomicI64>,
    pub duration_ms: f64,
    /// Where `duration_ms` went.
    pub stages: StageTimings,
    index: HashMap<String, usize>,
    /// The `GET /dependencies` body for the whole fleet, rendered on first request: the snapshot
    /// never changes, so every later request for it is a copy of these bytes.
    pub dependencies_body: std::sync::OnceLock<axum::body::Bytes>,
    /// The `GET /graph` bodies (repository and service level), rendered on first request.
    pub graph_body: std::sync::OnceLock<axum::body::Bytes>,
    pub service_graph_body: std::sync::OnceLock<axum::body::Bytes>,
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
    /// Comparing the new analysis with the previous one (services, edges, conflicts).
    pub compare_ms: f64,
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
    /// Re-read `repositories`, nothing changed.
    fn unchanged(repositories: Vec<String>) -> Self {
        ChangeSummary {
            repositories,
            services_added: Vec::new(),
            services_removed: Vec::new(),
            edges_added: Vec::new(),
            edges_removed: Vec::new(),
            conflicts_detected: Vec::new(),
            conflicts_cleared: Vec::new(),
            duration_ms: 0.0,
            stages: StageTimings::default(),
        }
    }

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
        let (facts, _stats) = switchyard_extract::extract_fleet_until(
            &source.fleet,
            &source.registry,
            source.limits,
            source.cache.as_ref(),
            &|_| {},
            &source.cancel,
        );
        let read_at = vec![now; facts.len()];
        let facts = facts.into_iter().map(Arc::new).collect();
        let extract_ms = millis_since(started);
        Snapshot::build(
            source.repositories(),
            facts,
            read_at,
            now,
            started,
            extract_ms,
            &source.fleet.conventions,
        )
    }

    /// Re-reads only `names` from disk. When their facts are what the snapshot already has
    /// (a push that touched no file Switchyard reads), nothing is re-linked and `None` comes
    /// back: the snapshot stays, only its read times move. Otherwise the fleet is re-linked and
    /// re-checked into a new snapshot. Unknown names are ignored (callers check them first with
    /// [`Snapshot::unknown`]).
    pub fn reanalyze(
        &self,
        source: &FleetSource,
        names: &[String],
        now: Timestamp,
    ) -> (Option<Snapshot>, ChangeSummary) {
        let started = Instant::now();
        let mut touched = Vec::new();
        let mut fresh = Vec::new();
        for name in names {
            let Some(&i) = self.index.get(name) else {
                continue;
            };
            let Some(spec) = source.fleet.repositories.get(i) else {
                continue;
            };
            if source.cancel.is_cancelled() {
                break;
            }
            let (mut facts, _) = switchyard_extract::extract_repository_until(
                &spec.name,
                &spec.path,
                &source.registry,
                source.limits,
                source.cache.as_ref(),
                &source.cancel,
            );
            switchyard_extract::apply_configured_variants(&mut facts, spec);
            // Facts cut short by a shutdown are not an answer: the snapshot keeps the old ones.
            if source.cancel.is_cancelled() {
                break;
            }
            self.mark_read(i, now);
            if self.facts.get(i).is_none_or(|old| **old != facts) {
                fresh.push((i, Arc::new(facts)));
            }
            touched.push(spec.name.clone());
        }
        let extract_ms = millis_since(started);
        if fresh.is_empty() {
            let summary = ChangeSummary {
                duration_ms: extract_ms,
                stages: StageTimings {
                    extract_ms,
                    ..StageTimings::default()
                },
                ..ChangeSummary::unchanged(touched)
            };
            return (None, summary);
        }
        let mut facts = self.facts.clone();
        for (i, f) in fresh {
            facts[i] = f;
        }
        let read_at = self.read_at.iter().map(|t| t.load(Ordering::Relaxed));
        let mut next = Snapshot::build(
            self.repositories.clone(),
            facts,
            read_at.map(Timestamp::from_unix_millis).collect(),
            now,
            started,
            extract_ms,
            &source.fleet.conventions,
        );
        let comparing = Instant::now();
        let mut summary = self.diff(&next, touched);
        next.stages.compare_ms = millis_since(comparing);
        next.duration_ms = millis_since(started);
        summary.stages = next.stages;
        summary.duration_ms = next.duration_ms;
        (Some(next), summary)
    }

    /// When repository `i` (fleet order) was last read from disk.
    pub fn read_at(&self, i: usize) -> Option<Timestamp> {
        self.read_at
            .get(i)
            .map(|t| Timestamp::from_unix_millis(t.load(Ordering::Relaxed)))
    }

    fn mark_read(&self, i: usize, now: Timestamp) {
        if let Some(t) = self.read_at.get(i) {
            t.store(now.unix_millis(), Ordering::Relaxed);
        }
    }

    fn build(
        repositories: Vec<Repository>,
        facts: Vec<Arc<RepoFacts>>,
        read_at: Vec<Timestamp>,
        now: Timestamp,
        started: Instant,
        extract_ms: f64,
        conventions: &switchyard_model::Conventions,
    ) -> Snapshot {
        let linking = Instant::now();
        let mut model = switchyard_link::link(&repositories, &facts);
        model.conventions = conventions.clone();
        let repo_graph = Digraph::repositories(&model);
        let link_ms = millis_since(linking);
        let detecting = Instant::now();
        let conflicts = detect::detect(
            FleetInput {
                model: &model,
                facts: &facts,
                lookup: &Lookup::default(),
            },
            &ConflictKind::ALL,
        );
        let stages = StageTimings {
            extract_ms,
            link_ms,
            detect_ms: millis_since(detecting),
            compare_ms: 0.0,
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
            read_at: read_at
                .into_iter()
                .map(|t| AtomicI64::new(t.unix_millis()))
                .collect(),
            duration_ms: millis_since(started),
            stages,
            index,
            dependencies_body: std::sync::OnceLock::new(),
            graph_body: std::sync::OnceLock::new(),
            service_graph_body: std::sync::OnceLock::new(),
            service_counts,
        }
    }

    /// What changed from `self` to `next` after re-reading `repositories`. Services come from
    /// a repository's own facts, so only those repositories' services are compared; edges (in
    /// either snapshot sorted by `(from, to)`) are merged in one pass.
    fn diff(&self, next: &Snapshot, repositories: Vec<String>) -> ChangeSummary {
        let touched: BTreeSet<&str> = repositories.iter().map(String::as_str).collect();
        let services = |s: &Snapshot| -> BTreeSet<String> {
            s.model
                .services
                .iter()
                .filter(|x| touched.contains(x.repository.as_str()))
                .map(|x| x.id.clone())
                .collect()
        };
        let conflicts = |s: &Snapshot| -> BTreeSet<String> {
            s.conflicts.iter().map(|c| c.id.clone()).collect()
        };
        let (s0, s1) = (services(self), services(next));
        let (edges_added, edges_removed) = sorted_difference(&self.model.edges, &next.model.edges);
        let (c0, c1) = (conflicts(self), conflicts(next));
        ChangeSummary {
            services_added: s1.difference(&s0).cloned().collect(),
            services_removed: s0.difference(&s1).cloned().collect(),
            edges_added,
            edges_removed,
            conflicts_detected: c1.difference(&c0).cloned().collect(),
            conflicts_cleared: c0.difference(&c1).cloned().collect(),
            ..ChangeSummary::unchanged(repositories)
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
        self.position(name)
            .and_then(|i| self.facts.get(i))
            .map(|f| &**f)
    }
}

/// `(in b, not in a)` and `(in a, not in b)` as `from -> to`, for edge lists sorted by
/// `(from, to)` without duplicates.
fn sorted_difference(a: &[Edge], b: &[Edge]) -> (Vec<String>, Vec<String>) {
    let key = |e: &Edge| -> String { format!("{} -> {}", e.from, e.to) };
    let (mut added, mut removed) = (Vec::new(), Vec::new());
    let (mut i, mut j) = (0, 0);
    while i < a.len() || j < b.len() {
        let order = match (a.get(i), b.get(j)) {
            (Some(x), Some(y)) => (&x.from, &x.to).cmp(&(&y.from, &y.to)),
            (Some(_), None) => Order::Less,
            _ => Order::Greater,
        };
        match order {
            Order::Less => {
                removed.push(key(&a[i]));
                i += 1;
            }
            Order::Greater => {
                added.push(key(&b[j]));
                j += 1;
            }
            Order::Equal => {
                i += 1;
                j += 1;
            }
        }
    }
    (added, removed)
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

    /// Swaps in `next` and hands back the previous snapshot, for the caller to drop where its
    /// cost does not matter (freeing a 10,000-repository model takes ~100 ms).
    pub fn replace(&self, next: Snapshot) -> Arc<Snapshot> {
        let next = Arc::new(next);
        match self.current.write() {
            Ok(mut guard) => std::mem::replace(&mut *guard, next),
            Err(poisoned) => std::mem::replace(&mut *poisoned.into_inner(), next),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn copy_dir(from: &Path, to: &Path) {
        std::fs::create_dir_all(to).unwrap();
        for entry in std::fs::read_dir(from).unwrap() {
            let entry = entry.unwrap();
            let target = to.join(entry.file_name());
            if entry.file_type().unwrap().is_dir() {
                copy_dir(&entry.path(), &target);
            } else {
                std::fs::copy(entry.path(), &target).unwrap();
            }
        }
    }

    fn homelab() -> (tempfile::TempDir, FleetSource) {
        let dir = tempfile::tempdir().unwrap();
        let examples = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/fleets/homelab");
        copy_dir(&examples, dir.path());
        let fleet = switchyard_extract::fleet::discover(dir.path()).unwrap();
        (dir, FleetSource::new(fleet, None))
    }

    fn at(millis: i64) -> Timestamp {
        Timestamp::from_unix_millis(millis)
    }

    #[test]
    fn a_push_that_changes_no_fact_keeps_the_snapshot_and_moves_the_read_time() {
        let (dir, source) = homelab();
        let snapshot = Snapshot::analyze(&source, at(1_000));
        // A file Switchyard does not read, and a comment at the end of one it does.
        std::fs::write(dir.path().join("api/CHANGELOG.md"), "# 1.1\n").unwrap();
        let env = dir.path().join("api/.env.example");
        let text = std::fs::read_to_string(&env).unwrap();
        std::fs::write(&env, format!("{text}# rotated on Monday\n")).unwrap();

        let (next, summary) = snapshot.reanalyze(&source, &["api".to_string()], at(2_000));
        assert!(next.is_none(), "nothing to re-link");
        assert_eq!(summary.repositories, ["api"]);
        assert!(!summary.changed());
        assert_eq!(summary.stages.link_ms, 0.0);
        let api = snapshot.position("api").unwrap();
        let auth = snapshot.position("auth").unwrap();
        assert_eq!(snapshot.read_at(api), Some(at(2_000)));
        assert_eq!(snapshot.read_at(auth), Some(at(1_000)));
        assert_eq!(snapshot.analyzed_at, at(1_000));
    }

    #[test]
    fn a_push_that_adds_a_reference_re_links_and_reports_the_new_edge() {
        let (dir, source) = homelab();
        let snapshot = Snapshot::analyze(&source, at(1_000));
        let env = dir.path().join("api/.env.example");
        let text = std::fs::read_to_string(&env).unwrap();
        std::fs::write(
            &env,
            format!("{text}METRICS_URL=http://localhost:9090/api/v1/query\n"),
        )
        .unwrap();

        let (next, summary) = snapshot.reanalyze(&source, &["api".to_string()], at(2_000));
        let next = next.expect("a new snapshot");
        assert_eq!(summary.edges_removed, Vec::<String>::new());
        assert_eq!(summary.edges_added.len(), 1, "{summary:?}");
        assert!(summary.edges_added[0].starts_with("api/"), "{summary:?}");
        assert!(
            summary.edges_added[0].contains("monitoring/"),
            "{summary:?}"
        );
        assert!(summary.services_added.is_empty() && summary.services_removed.is_empty());
        assert!(summary.changed());
        assert_eq!(next.analyzed_at, at(2_000));
        assert_eq!(next.read_at(next.position("api").unwrap()), Some(at(2_000)));
        assert_eq!(
            next.read_at(next.position("auth").unwrap()),
            Some(at(1_000))
        );
        assert!(summary.duration_ms >= summary.stages.link_ms);
    }

    fn edge(from: &str, to: &str) -> Edge {
        Edge::new(from, to)
    }

    #[test]
    fn sorted_difference_merges_both_lists_once() {
        let a = [
            edge("a", "b"),
            edge("a", "c"),
            edge("b", "c"),
            edge("d", "a"),
        ];
        let b = [
            edge("a", "c"),
            edge("b", "a"),
            edge("b", "c"),
            edge("e", "a"),
        ];
        let (added, removed) = sorted_difference(&a, &b);
        assert_eq!(added, ["b -> a", "e -> a"]);
        assert_eq!(removed, ["a -> b", "d -> a"]);
        assert_eq!(sorted_difference(&a, &a), (Vec::new(), Vec::new()));
        assert_eq!(sorted_difference(&[], &a).0.len(), 4);
    }
}
