//! `GET /graph` and `GET /repositories/{name}`: the fleet graph shaped for drawing (every node
//! with its deployment phase and cycle, every edge with its kinds, no evidence, so 10,000
//! repositories stay a small answer) and one repository in full (services, endpoints, the service
//! edges out of and into it, each with its evidence). The dashboard draws the first and opens the
//! second when a node or an edge is clicked.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use switchyard_graph::Digraph;
use switchyard_model::{Edge, FleetModel};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::analysis::Snapshot;
use crate::error::{ApiError, ApiResult};
use crate::input::Params;
use crate::state::AppState;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(graph))
        .routes(routes!(repository))
}

/// Which graph `GET /graph` draws.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    /// Nodes are repositories; an edge when a service of one depends on a service of the other.
    Repository,
    /// Nodes are services (`repository/service`); edges as linked.
    Service,
}

impl Level {
    fn parse(text: Option<&str>) -> ApiResult<Level> {
        match text {
            None | Some("repository") => Ok(Level::Repository),
            Some("service") => Ok(Level::Service),
            Some(other) => Err(ApiError::validation(format!(
                "level: `{other}` is not repository or service"
            ))
            .with_details(json!({ "parameter": "level", "valid": ["repository", "service"] }))),
        }
    }
}

/// The fleet graph for drawing: nodes with phase and cycle, edges with kinds, phases, cycles.
#[utoipa::path(
    get,
    path = "/graph",
    tag = "dependencies",
    params(
        ("level" = Option<String>, Query, pattern = "^(repository|service)$", description = "repository (default) or service")
    ),
    responses(
        (status = 200, description = "Nodes, edges, phases and cycles, without evidence (GET /repositories/{name} has it)", body = crate::schemas::GraphResponse),
        (status = 400, description = "Bad level")
    )
)]
async fn graph(State(state): State<AppState>, params: Params) -> ApiResult<Response> {
    let level = Level::parse(params.get("level"))?;
    let snapshot = state.snapshot();
    let cache = match level {
        Level::Repository => &snapshot.graph_body,
        Level::Service => &snapshot.service_graph_body,
    };
    // The snapshot never changes: render once, then copy the bytes.
    let bytes = cache.get_or_init(|| {
        let body = drawing(&snapshot, level);
        Bytes::from(serde_json::to_vec(&body).unwrap_or_default())
    });
    Ok(([(header::CONTENT_TYPE, "application/json")], bytes.clone()).into_response())
}

/// Repository-level key of a service edge, `None` inside one repository.
fn repository_pair<'a>(
    repo_of: &HashMap<&'a str, &'a str>,
    edge: &Edge,
) -> Option<(&'a str, &'a str)> {
    match (
        repo_of.get(edge.from.as_str()),
        repo_of.get(edge.to.as_str()),
    ) {
        (Some(a), Some(b)) if a != b => Some((a, b)),
        _ => None,
    }
}

/// An edge of the drawing: the service edges it stands for, by kind.
#[derive(Default)]
struct DrawnEdge {
    kinds: BTreeSet<&'static str>,
    telemetry: bool,
    count: usize,
}

/// The `GET /graph` body.
pub fn drawing(snapshot: &Snapshot, level: Level) -> Value {
    let model = &snapshot.model;
    let repo_of: HashMap<&str, &str> = model
        .services
        .iter()
        .map(|s| (s.id.as_str(), s.repository.as_str()))
        .collect();
    let service_graph;
    let graph: &Digraph = match level {
        Level::Repository => &snapshot.repo_graph,
        Level::Service => {
            service_graph = Digraph::services(model);
            &service_graph
        }
    };
    let mut drawn: BTreeMap<(&str, &str), DrawnEdge> = BTreeMap::new();
    for edge in &model.edges {
        let key = match level {
            Level::Repository => match repository_pair(&repo_of, edge) {
                Some(pair) => pair,
                None => continue,
            },
            Level::Service => (edge.from.as_str(), edge.to.as_str()),
        };
        let entry = drawn.entry(key).or_default();
        entry.kinds.insert(edge.kind.as_str());
        entry.telemetry |= edge.telemetry;
        entry.count += 1;
    }
    let phases = graph.phases();
    let phase_of: HashMap<&str, usize> = phases
        .iter()
        .flat_map(|p| p.members.iter().map(move |m| (m.as_str(), p.phase)))
        .collect();
    let cycles = graph.cycles();
    let cycle_of = cycle_groups(&cycles);
    let mut out_degree: HashMap<&str, usize> = HashMap::new();
    let mut in_degree: HashMap<&str, usize> = HashMap::new();
    for (a, b) in drawn.keys() {
        *out_degree.entry(a).or_default() += 1;
        *in_degree.entry(b).or_default() += 1;
    }
    let mut conflicts: HashMap<&str, usize> = HashMap::new();
    for conflict in &snapshot.conflicts {
        for repository in &conflict.repositories {
            *conflicts.entry(repository.as_str()).or_default() += 1;
        }
    }
    let nodes: Vec<Value> = graph
        .nodes()
        .iter()
        .map(|name| {
            let repository = match level {
                Level::Repository => name.as_str(),
                Level::Service => repo_of.get(name.as_str()).copied().unwrap_or_default(),
            };
            let services = match level {
                Level::Repository => snapshot.service_counts.get(name).copied().unwrap_or(0),
                Level::Service => 1,
            };
            json!({
                "id": name,
                "repository": repository,
                "phase": phase_of.get(name.as_str()).copied().unwrap_or(1),
                "cycle": cycle_of.get(name.as_str()),
                "services": services,
                "dependsOn": out_degree.get(name.as_str()).copied().unwrap_or(0),
                "dependents": in_degree.get(name.as_str()).copied().unwrap_or(0),
                "conflicts": conflicts.get(repository).copied().unwrap_or(0),
            })
        })
        .collect();
    let edges: Vec<Value> = drawn
        .iter()
        .map(|((from, to), e)| {
            json!({
                "from": from,
                "to": to,
                "kinds": e.kinds,
                "telemetry": e.telemetry,
                "count": e.count,
                "cycle": cycle_of.contains_key(from) && cycle_of.get(from) == cycle_of.get(to),
            })
        })
        .collect();
    json!({
        "level": match level { Level::Repository => "repository", Level::Service => "service" },
        "nodes": nodes,
        "edges": edges,
        "phases": phases,
        "cycles": cycles,
        "metadata": {
            "analyzedAt": snapshot.analyzed_at,
            "repositoryCount": snapshot.repositories.len(),
            "serviceCount": model.services.len(),
            "nodeCount": graph.nodes().len(),
            "edgeCount": drawn.len(),
            "conflictCount": snapshot.conflicts.len(),
        }
    })
}

/// Each node on a cycle → the first of the cycles it is connected to through shared members:
/// cycles sharing a node lie in one strongly connected component, and an edge between two nodes
/// of one component lies on a cycle.
fn cycle_groups(cycles: &[Vec<String>]) -> HashMap<&str, usize> {
    fn root(parent: &mut [usize], mut i: usize) -> usize {
        while parent[i] != i {
            parent[i] = parent[parent[i]];
            i = parent[i];
        }
        i
    }
    let mut parent: Vec<usize> = (0..cycles.len()).collect();
    let mut first: HashMap<&str, usize> = HashMap::new();
    for (i, cycle) in cycles.iter().enumerate() {
        for member in cycle {
            let j = *first.entry(member.as_str()).or_insert(i);
            let (a, b) = (root(&mut parent, i), root(&mut parent, j));
            parent[a.max(b)] = a.min(b);
        }
    }
    first
        .into_iter()
        .map(|(node, i)| (node, root(&mut parent, i)))
        .collect()
}

/// One repository in full: its services with endpoints, and the service edges out of it
/// (dependencies) and into it (dependents), each with its evidence.
#[utoipa::path(
    get,
    path = "/repositories/{name}",
    tag = "dependencies",
    params(("name" = String, Path, description = "A repository of the fleet")),
    responses(
        (status = 200, description = "Services, endpoints, dependencies and dependents with evidence", body = crate::schemas::RepositoryDetail),
        (status = 404, description = "Unknown repository")
    )
)]
async fn repository(
    State(state): State<AppState>,
    Path(name): Path<String>,
) -> ApiResult<Json<Value>> {
    let snapshot = state.snapshot();
    snapshot.require_known(std::slice::from_ref(&name))?;
    Ok(Json(detail(&snapshot, &name)))
}

fn edge_view(model_names: &HashMap<&str, (&str, &str)>, edge: &Edge) -> Value {
    let (from_repo, from_name) = model_names
        .get(edge.from.as_str())
        .copied()
        .unwrap_or_default();
    let (to_repo, to_name) = model_names
        .get(edge.to.as_str())
        .copied()
        .unwrap_or_default();
    json!({
        "from": edge.from,
        "to": edge.to,
        "fromRepository": from_repo,
        "fromService": from_name,
        "toRepository": to_repo,
        "toService": to_name,
        "kind": edge.kind,
        "telemetry": edge.telemetry,
        "confidence": edge.confidence,
        "mechanism": edge.mechanism_label(),
        "evidence": edge.evidence.iter().map(ToString::to_string).collect::<Vec<_>>(),
    })
}

/// The `GET /repositories/{name}` body.
pub fn detail(snapshot: &Snapshot, name: &str) -> Value {
    let model: &FleetModel = &snapshot.model;
    let names: HashMap<&str, (&str, &str)> = model
        .services
        .iter()
        .map(|s| (s.id.as_str(), (s.repository.as_str(), s.name.as_str())))
        .collect();
    let in_repo = |id: &str| names.get(id).is_some_and(|(r, _)| *r == name);
    let services: Vec<Value> = model
        .services
        .iter()
        .filter(|s| s.repository == name)
        .map(|s| {
            json!({
                "id": s.id,
                "name": s.name,
                "kind": s.kind,
                "image": s.image,
                "source": s.source.to_string(),
                "endpoints": s.endpoints.iter().map(|e| json!({
                    "label": e.kind.to_string(),
                    "evidence": e.location.to_string(),
                })).collect::<Vec<_>>(),
            })
        })
        .collect();
    let dependencies: Vec<Value> = model
        .edges
        .iter()
        .filter(|e| in_repo(&e.from))
        .map(|e| edge_view(&names, e))
        .collect();
    let dependents: Vec<Value> = model
        .edges
        .iter()
        .filter(|e| in_repo(&e.to) && !in_repo(&e.from))
        .map(|e| edge_view(&names, e))
        .collect();
    let conflicts: Vec<Value> = snapshot
        .conflicts
        .iter()
        .filter(|c| c.repositories.iter().any(|r| r == name))
        .map(
            |c| json!({ "id": c.id, "type": c.kind, "severity": c.severity, "message": c.message }),
        )
        .collect();
    let phase = snapshot
        .repo_graph
        .phases()
        .into_iter()
        .find(|p| p.members.iter().any(|m| m == name))
        .map_or(1, |p| p.phase);
    json!({
        "name": name,
        "phase": phase,
        "services": services,
        "dependencies": dependencies,
        "dependents": dependents,
        "conflicts": conflicts,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cycles_sharing_a_member_are_one_group() {
        let path = |names: &[&str]| names.iter().map(|n| n.to_string()).collect::<Vec<_>>();
        let cycles = vec![
            path(&["a", "b", "a"]),
            path(&["x", "y", "x"]),
            path(&["b", "c", "b"]),
        ];
        let groups = cycle_groups(&cycles);
        assert_eq!(groups["a"], 0);
        assert_eq!(groups["c"], 0, "b joins the third cycle to the first");
        assert_eq!(groups["x"], 1);
        assert_eq!(groups["y"], 1);
        assert!(!groups.contains_key("z"));
    }

    #[test]
    fn a_level_other_than_repository_or_service_is_refused() {
        assert_eq!(Level::parse(None).ok(), Some(Level::Repository));
        assert_eq!(Level::parse(Some("service")).ok(), Some(Level::Service));
        assert!(Level::parse(Some("package")).is_err());
    }
}
