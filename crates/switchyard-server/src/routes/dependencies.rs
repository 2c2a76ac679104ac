//! `GET /dependencies`, `POST /dependencies/refresh`, `GET /repositories`, `GET /packages`: the
//! fleet graph with evidence, transitive closure, cycles and deployment order; re-reading
//! repositories; the build phases of each repository's workspace packages.

use std::collections::BTreeMap;

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};
use switchyard_model::{Confidence, Edge, EdgeKind};
use switchyard_monitor::OperationKind;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::analysis::Snapshot;
use crate::error::{ApiError, ApiResult};
use crate::input::{ApiJson, Params};
use crate::state::AppState;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(dependencies))
        .routes(routes!(refresh))
        .routes(routes!(repositories))
        .routes(routes!(packages))
}

/// The dependency graph of the selected repositories.
#[utoipa::path(
    get,
    path = "/dependencies",
    tag = "dependencies",
    params(
        ("repositories" = Option<String>, Query, description = "Comma-separated repository names (default: all)"),
        ("includeTransitive" = Option<bool>, Query, description = "Include transitive dependencies (default true)"),
        ("maxDepth" = Option<u32>, Query, minimum = 1, maximum = 100, description = "Depth limit for transitive dependencies, 1-100"),
        ("kind" = Option<String>, Query, pattern = "^(call|startup|build|browser|peer)(,(call|startup|build|browser|peer))*$", description = "Only direct dependencies of these kinds (comma-separated: call, startup, build, browser, peer); transitive dependencies and the order use every edge"),
        ("minConfidence" = Option<String>, Query, pattern = "^(low|medium|high)$", description = "Only direct dependencies at least this sure (default low)")
    ),
    responses(
        (status = 200, description = "Direct and transitive dependencies, cycles, deployment order", body = crate::schemas::DependenciesResponse),
        (status = 400, description = "Bad query parameter"),
        (status = 404, description = "Unknown repositories")
    )
)]
async fn dependencies(State(state): State<AppState>, params: Params) -> ApiResult<Response> {
    let include_transitive = params.bool("includeTransitive")?.unwrap_or(true);
    let max_depth = params.int("maxDepth", 1, 100)?.map(|d| d as usize);
    let filter = EdgeFilter::from_params(&params)?;
    let snapshot = state.snapshot();
    let whole_fleet = params.list("repositories").is_none_or(|r| r.is_empty());
    let selected = snapshot.select(params.list("repositories"))?;
    let details = json!({ "repositories": selected.len() });
    state
        .operation(OperationKind::Analysis, details, async {
            if whole_fleet && include_transitive && max_depth.is_none() && filter.is_all() {
                let bytes = snapshot.dependencies_body.get_or_init(|| {
                    let body = describe(&snapshot, &selected, true, None, &EdgeFilter::default());
                    Bytes::from(serde_json::to_vec(&body).unwrap_or_default())
                });
                let response =
                    ([(header::CONTENT_TYPE, "application/json")], bytes.clone()).into_response();
                return Ok((response, 0));
            }
            // Cycles are reported in the body, not counted as conflicts: reading the graph is
            // not a conflict check, so polling it must not move the conflict-rate alert.
            let body = describe(&snapshot, &selected, include_transitive, max_depth, &filter);
            Ok((Json(body).into_response(), 0))
        })
        .await
}

/// Which direct dependencies `GET /dependencies` lists (`kind`, `minConfidence`).
#[derive(Debug)]
pub struct EdgeFilter {
    kinds: Vec<EdgeKind>,
    min_confidence: Confidence,
}

impl Default for EdgeFilter {
    /// Every edge.
    fn default() -> Self {
        EdgeFilter {
            kinds: Vec::new(),
            min_confidence: Confidence::Low,
        }
    }
}

impl EdgeFilter {
    fn from_params(params: &Params) -> Result<Self, ApiError> {
        let mut kinds = Vec::new();
        for text in params.list("kind").unwrap_or_default() {
            let kind = EdgeKind::parse(&text).ok_or_else(|| {
                ApiError::validation(format!(
                    "kind: unknown edge kind `{text}` (call, startup, build, browser or peer)"
                ))
            })?;
            kinds.push(kind);
        }
        let min_confidence = match params.get("minConfidence") {
            None => Confidence::Low,
            Some(text) => Confidence::parse(text).ok_or_else(|| {
                ApiError::validation(format!(
                    "minConfidence: `{text}` is not low, medium or high"
                ))
            })?,
        };
        Ok(EdgeFilter {
            kinds,
            min_confidence,
        })
    }

    fn is_all(&self) -> bool {
        self.kinds.is_empty() && self.min_confidence == Confidence::Low
    }

    fn keeps(&self, edge: &Edge) -> bool {
        (self.kinds.is_empty() || self.kinds.contains(&edge.kind))
            && edge.confidence >= self.min_confidence
    }
}

/// The `GET /dependencies` body (also used by tests and the dashboard).
pub fn describe(
    snapshot: &Snapshot,
    selected: &[String],
    include_transitive: bool,
    max_depth: Option<usize>,
    filter: &EdgeFilter,
) -> Value {
    let repo_of: BTreeMap<&str, &str> = snapshot
        .model
        .services
        .iter()
        .map(|s| (s.id.as_str(), s.repository.as_str()))
        .collect();
    let name_of: BTreeMap<&str, &str> = snapshot
        .model
        .services
        .iter()
        .map(|s| (s.id.as_str(), s.name.as_str()))
        .collect();
    let mut direct: BTreeMap<&str, Vec<Value>> =
        selected.iter().map(|r| (r.as_str(), Vec::new())).collect();
    let mut count = 0;
    for edge in snapshot.model.edges.iter().filter(|e| filter.keeps(e)) {
        let Some(&from_repo) = repo_of.get(edge.from.as_str()) else {
            continue;
        };
        let Some(list) = direct.get_mut(from_repo) else {
            continue;
        };
        count += 1;
        list.push(json!({
            "repository": repo_of.get(edge.to.as_str()).copied().unwrap_or_default(),
            "service": name_of.get(edge.from.as_str()).copied().unwrap_or_default(),
            "dependsOnService": name_of.get(edge.to.as_str()).copied().unwrap_or_default(),
            "kind": edge.kind,
            "telemetry": edge.telemetry,
            "confidence": edge.confidence,
            "mechanism": edge.mechanism_label(),
            "evidence": edge.evidence,
            "evidenceText": edge.evidence.iter().map(ToString::to_string).collect::<Vec<_>>(),
        }));
    }
    let graph = &snapshot.repo_graph;
    let transitive: BTreeMap<&str, Vec<&str>> = if include_transitive {
        selected
            .iter()
            .map(|r| (r.as_str(), graph.transitive(r, max_depth)))
            .collect()
    } else {
        BTreeMap::new()
    };
    let cycles: Vec<Vec<String>> = graph
        .cycles()
        .into_iter()
        .filter(|cycle| cycle.iter().any(|n| selected.contains(n)))
        .collect();
    let order: Value = if cycles.is_empty() {
        let sub = graph.induced(selected);
        json!(
            sub.phases()
                .into_iter()
                .flat_map(|p| p.members)
                .collect::<Vec<_>>()
        )
    } else {
        Value::Null
    };
    json!({
        "repositories": selected,
        "directDependencies": direct,
        "transitiveDependencies": transitive,
        "circularDependencies": cycles,
        "deploymentOrder": order,
        "metadata": {
            "analyzedAt": snapshot.analyzed_at,
            "repositoryCount": selected.len(),
            "dependencyCount": count,
            "durationMs": snapshot.duration_ms,
        }
    })
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct RefreshRequest {
    /// Repositories to re-read (default: all).
    #[serde(default)]
    repositories: Option<Vec<String>>,
}

/// Re-reads repositories from disk (and `git pull --ff-only` when configured), re-analyses
/// incrementally and reports what changed.
#[utoipa::path(
    post,
    path = "/dependencies/refresh",
    tag = "dependencies",
    request_body = RefreshRequest,
    responses(
        (status = 200, description = "What changed", body = crate::schemas::RefreshResponse),
        (status = 400, description = "Bad body"),
        (status = 404, description = "Unknown repositories")
    )
)]
async fn refresh(
    State(state): State<AppState>,
    ApiJson(request): ApiJson<RefreshRequest>,
) -> ApiResult<Json<Value>> {
    let names = state.snapshot().select(request.repositories)?;
    let pull = state.config.webhooks.git_pull;
    let summary = state.reanalyze(names, pull).await?;
    let snapshot = state.snapshot();
    Ok(Json(json!({
        "success": true,
        "changed": summary.changed(),
        "summary": summary,
        "analyzedAt": snapshot.analyzed_at,
    })))
}

/// The fleet's repositories with their last analysis.
#[utoipa::path(
    get,
    path = "/repositories",
    tag = "dependencies",
    params(
        ("limit" = Option<u32>, Query, minimum = 1, maximum = 100, description = "1-100, default 20"),
        ("offset" = Option<u32>, Query, minimum = 0, description = "Default 0")
    ),
    responses(
        (status = 200, description = "The fleet's repositories, one page", body = crate::schemas::RepositoryList),
        (status = 400, description = "Bad query")
    )
)]
async fn repositories(State(state): State<AppState>, params: Params) -> ApiResult<Json<Value>> {
    let page = params.page()?;
    let snapshot = state.snapshot();
    let total = snapshot.repositories.len();
    let list: Vec<Value> = snapshot
        .repositories
        .iter()
        .enumerate()
        .skip(page.offset)
        .take(page.limit)
        .map(|(i, repo)| {
            let facts = snapshot.facts.get(i);
            let services = snapshot
                .service_counts
                .get(&repo.name)
                .copied()
                .unwrap_or(0);
            json!({
                "name": repo.name,
                "path": repo.path,
                "host": repo.host,
                "environment": repo.environment,
                "lastAnalysis": snapshot.read_at(i),
                "serviceCount": services,
                "diagnosticsCount": facts.map_or(0, |f| f.diagnostics.len()),
                "dependsOn": snapshot.repo_graph.dependencies(&repo.name),
            })
        })
        .collect();
    Ok(Json(json!({
        "repositories": list,
        "total": total,
        "pagination": page.describe(total),
    })))
}

/// The build phases of each selected repository's workspace packages (`plan --level package`):
/// longest-path layers over the build edges between packages (Turborepo's `^build` levels),
/// package cycles with the dependency entries of their edges, and a smallest cut.
#[utoipa::path(
    get,
    path = "/packages",
    tag = "dependencies",
    params(
        ("repositories" = Option<String>, Query, description = "Comma-separated repository names (default: all)")
    ),
    responses(
        (status = 200, description = "Package phases per repository, package cycles, cut", body = crate::schemas::PackagePlanResponse),
        (status = 400, description = "Bad query parameter"),
        (status = 404, description = "Unknown repositories")
    )
)]
async fn packages(State(state): State<AppState>, params: Params) -> ApiResult<Json<Value>> {
    use switchyard_graph::packages::{package_cut, package_cycles, package_graphs, package_phases};
    let snapshot = state.snapshot();
    let selected = snapshot.select(params.list("repositories"))?;
    let graphs: Vec<_> = package_graphs(&snapshot.model)
        .into_iter()
        .filter(|g| selected.contains(&g.repository))
        .collect();
    let cycles = package_cycles(&snapshot.model, &graphs);
    Ok(Json(json!({
        "level": "package",
        "repositories": package_phases(&graphs),
        "cycles": cycles,
        "cycleCut": package_cut(&graphs),
    })))
}
