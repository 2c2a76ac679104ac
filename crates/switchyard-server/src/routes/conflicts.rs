//! Conflicts over HTTP: `GET /resource-conflicts` (the hot snapshot's conflicts with every
//! strategy's proposal), `POST /resolve-conflicts` (diffs; with `dryRun: false` the edits are
//! written with the library's patch code, the touched repositories re-analysed and each conflict
//! verified gone), `POST /coordinate-configuration` (env values per key across repositories,
//! redacted), `GET /conflicts/history` and `GET /resource-conflicts/{id}/explanation` (one
//! conflict's full evidence, as `switchyard conflicts --explain ID` prints it). Checks and resolutions are monitored operations and
//! keep the conflict history (`crate::conflict_history`) current.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, State};
use serde::Deserialize;
use serde_json::{Value, json};
use switchyard_conflicts::{Conflict, ConflictKind, Resolution};
use switchyard_monitor::OperationKind;
use tokio::sync::Mutex;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::analysis::Snapshot;
use crate::configuration;
use crate::conflict_history;
use crate::error::{ApiError, ApiResult};
use crate::input::{ApiJson, Params};
use crate::resolutions::{self, DiskFiles, FileChange};
use crate::state::AppState;

/// One resolution writes to disk at a time.
static APPLY: Mutex<()> = Mutex::const_new(());
/// Most conflicts in one resolve request.
const MAX_RESOLVE: usize = 100;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list))
        .routes(routes!(resolve))
        .routes(routes!(coordinate_configuration))
        .routes(routes!(history))
        .routes(routes!(explanation))
}

fn valid_types() -> Vec<&'static str> {
    ConflictKind::ALL.iter().map(|k| k.as_str()).collect()
}

/// `types=a,b` as kinds; an unknown name is a 400 listing the valid ones.
fn parse_types(names: &[String]) -> ApiResult<Vec<ConflictKind>> {
    parse_kinds("types", names)
}

/// Kinds named in query parameter `parameter` (its name goes into the error details).
fn parse_kinds(parameter: &str, names: &[String]) -> ApiResult<Vec<ConflictKind>> {
    names
        .iter()
        .map(|name| {
            ConflictKind::parse(name).ok_or_else(|| {
                ApiError::validation(format!(
                    "unknown conflict type `{name}` (valid: {})",
                    valid_types().join(", ")
                ))
                .with_details(
                    json!({ "parameter": parameter, "invalid": name, "validTypes": valid_types() }),
                )
            })
        })
        .collect()
}

fn strategy_view(r: &Resolution) -> Value {
    json!({
        "name": r.strategy,
        "confidence": r.confidence,
        "automatic": r.automatic,
        "description": r.description,
    })
}

/// A conflict as the API shows it, with its strategies (best first).
fn conflict_view(c: &Conflict, proposals: &[Resolution]) -> Value {
    json!({
        "id": c.id,
        "type": c.kind,
        "resource": c.resource,
        "severity": c.severity,
        "host": c.host,
        "environment": c.environment,
        "repositories": c.repositories,
        "message": c.message,
        "occurrences": c.occurrences.iter().map(|o| json!({
            "repository": o.repository,
            "service": o.service,
            "location": o.location,
            "evidence": o.location.to_string(),
            "detail": o.detail,
        })).collect::<Vec<_>>(),
        "strategies": proposals.iter().map(strategy_view).collect::<Vec<_>>(),
    })
}

/// Views of `conflicts` with proposals, computed off the async threads (strategies read files).
async fn views(
    state: &AppState,
    snapshot: Arc<Snapshot>,
    ids: Vec<String>,
) -> ApiResult<Vec<Value>> {
    let source = state.source.clone();
    tokio::task::spawn_blocking(move || {
        let files = DiskFiles::new(&source.fleet);
        let lookup = switchyard_conflicts::Lookup::default();
        snapshot
            .conflicts
            .iter()
            .filter(|c| ids.contains(&c.id))
            .map(|c| conflict_view(c, &resolutions::proposals(c, &snapshot, &files, &lookup)))
            .collect()
    })
    .await
    .map_err(|e| ApiError::internal(format!("strategies stopped: {e}")))
}

/// Records a check in the history; a store failure costs history, not the answer.
async fn observe(state: &AppState, snapshot: &Snapshot, seen: &[&Conflict]) {
    let current: BTreeSet<&str> = snapshot.conflicts.iter().map(|c| c.id.as_str()).collect();
    let _ = conflict_history::observe(state, seen, &current, state.now()).await;
}

/// The fleet's conflicts, with proposals and a summary.
#[utoipa::path(
    get,
    path = "/resource-conflicts",
    operation_id = "listResourceConflicts",
    tag = "conflicts",
    params(
        ("repositories" = Option<String>, Query, description = "Comma-separated repositories; conflicts involving any of them (default: all)"),
        ("environment" = Option<String>, Query, description = "Only conflicts of this environment"),
        ("types" = Option<String>, Query, pattern = "^(port|domain|volume|network|container_name|env_drift|unreachable_url|cors_missing_origin|websocket_mismatch|shared_dependency_version|dangling_package)(,(port|domain|volume|network|container_name|env_drift|unreachable_url|cors_missing_origin|websocket_mismatch|shared_dependency_version|dangling_package))*$", description = "Comma-separated conflict types (port, domain, volume, network, container_name, env_drift, unreachable_url, cors_missing_origin, websocket_mismatch, shared_dependency_version, dangling_package)"),
        ("limit" = Option<u32>, Query, minimum = 1, maximum = 100, description = "1-100, default 20"),
        ("offset" = Option<u32>, Query, minimum = 0, description = "Default 0")
    ),
    responses(
        (status = 200, description = "One page of conflicts; the summary counts every matching conflict", body = crate::schemas::ConflictList),
        (status = 400, description = "Unknown conflict type"),
        (status = 404, description = "Unknown repositories")
    )
)]
async fn list(State(state): State<AppState>, params: Params) -> ApiResult<Json<Value>> {
    let page = params.page()?;
    let kinds = parse_types(&params.list("types").unwrap_or_default())?;
    let snapshot = state.snapshot();
    let filter = params.list("repositories").filter(|r| !r.is_empty());
    let selected = snapshot.select(filter.clone())?;
    let environment = params.get("environment").map(str::to_string);
    let details = json!({ "repositories": selected.len(), "types": kinds.iter().map(|k| k.as_str()).collect::<Vec<_>>() });
    state
        .operation(OperationKind::ConflictCheck, details, async {
            let found: Vec<&Conflict> = snapshot
                .conflicts
                .iter()
                .filter(|c| kinds.is_empty() || kinds.contains(&c.kind))
                .filter(|c| environment.as_ref().is_none_or(|e| &c.environment == e))
                .filter(|c| filter.is_none() || c.repositories.iter().any(|r| selected.contains(r)))
                .collect();
            // Strategies (which read files) only for the conflicts of this page.
            let ids: Vec<String> = page.slice(&found).iter().map(|c| c.id.clone()).collect();
            let list = views(&state, snapshot.clone(), ids).await?;
            let mut by_severity: BTreeMap<String, usize> = BTreeMap::new();
            let mut by_type: BTreeMap<&str, usize> = BTreeMap::new();
            let mut repos: BTreeSet<&str> = BTreeSet::new();
            for c in &found {
                let severity = serde_json::to_value(c.severity).unwrap_or(Value::Null);
                *by_severity
                    .entry(severity.as_str().unwrap_or_default().to_string())
                    .or_default() += 1;
                *by_type.entry(c.kind.as_str()).or_default() += 1;
                repos.extend(c.repositories.iter().map(String::as_str));
            }
            observe(&state, &snapshot, &found).await;
            let body = json!({
                "conflicts": list,
                "summary": {
                    "total": found.len(),
                    "bySeverity": by_severity,
                    "byType": by_type,
                    "repositories": repos.len(),
                    "repositoryNames": repos,
                    "analyzedAt": snapshot.analyzed_at,
                },
                "pagination": page.describe(found.len()),
            });
            Ok((Json(body), found.len()))
        })
        .await
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConflictRef {
    pub id: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ResolveRequest {
    #[schema(min_items = 1, max_items = 100)]
    pub conflicts: Vec<ConflictRef>,
    /// A strategy name; default: the highest-confidence automatic one for each conflict.
    #[serde(default)]
    pub resolution_strategy: Option<String>,
    /// Default true: only show the diffs.
    #[serde(default = "yes")]
    pub dry_run: bool,
}

fn yes() -> bool {
    true
}

/// One conflict's answer while it is being worked out.
struct Item {
    conflict_id: String,
    conflict: Option<Conflict>,
    resolution: Option<Resolution>,
    changes: Vec<FileChange>,
    applied: bool,
    verified: bool,
    error: Option<Value>,
}

impl Item {
    fn failed(
        id: &str,
        conflict: Option<Conflict>,
        code: &str,
        message: String,
        details: Value,
    ) -> Item {
        Item {
            conflict_id: id.to_string(),
            conflict,
            resolution: None,
            changes: Vec::new(),
            applied: false,
            verified: false,
            error: Some(json!({ "code": code, "message": message, "details": details })),
        }
    }

    fn view(&self) -> Value {
        let mut out = json!({
            "conflictId": self.conflict_id,
            "strategy": self.resolution.as_ref().map(|r| r.strategy),
            "description": self.resolution.as_ref().map(|r| r.description.clone()),
            "confidence": self.resolution.as_ref().map(|r| r.confidence),
            "automatic": self.resolution.as_ref().map(|r| r.automatic),
            "changes": self.changes,
            "applied": self.applied,
            "verified": self.verified,
        });
        if let (Some(error), Some(map)) = (&self.error, out.as_object_mut()) {
            map.insert("error".into(), error.clone());
        }
        out
    }
}

/// Picks and diffs a resolution for each requested conflict (reads files: blocking).
fn plan(
    snapshot: &Snapshot,
    files: &DiskFiles,
    ids: &[String],
    strategy: Option<&str>,
) -> Vec<Item> {
    let names = resolutions::strategy_names();
    let lookup = switchyard_conflicts::Lookup::default();
    ids.iter()
        .map(|id| {
            let Some(c) = snapshot.conflicts.iter().find(|c| &c.id == id) else {
                let message =
                    format!("no conflict with id {id} (list them with GET /resource-conflicts)");
                return Item::failed(id, None, "NOT_FOUND", message, json!({}));
            };
            let conflict = Some(c.clone());
            if let Some(name) = strategy
                && !names.contains(&name)
            {
                return Item::failed(
                    id,
                    conflict,
                    "UNKNOWN_STRATEGY",
                    format!("unknown strategy `{name}`"),
                    json!({ "validStrategies": names }),
                );
            }
            let all = resolutions::proposals(c, snapshot, files, &lookup);
            let available: Vec<&str> = all.iter().map(|r| r.strategy).collect();
            let details = json!({ "availableStrategies": available });
            let pick = match strategy {
                Some(name) => all.into_iter().find(|r| r.strategy == name),
                None => resolutions::default_pick(all),
            };
            let Some(resolution) = pick else {
                let (code, message) = match strategy {
                    Some(name) => (
                        "STRATEGY_NOT_APPLICABLE",
                        format!("strategy `{name}` does not apply to {id}"),
                    ),
                    None => (
                        "NO_AUTOMATIC_RESOLUTION",
                        format!(
                            "no automatic resolution for {id}; name one of the available strategies"
                        ),
                    ),
                };
                return Item::failed(id, conflict, code, message, details);
            };
            match resolutions::changes(&resolution, files) {
                Ok(changes) => Item {
                    conflict_id: id.clone(),
                    conflict,
                    resolution: Some(resolution),
                    changes,
                    applied: false,
                    verified: false,
                    error: None,
                },
                Err(e) => Item::failed(id, conflict, "STALE", e.to_string(), json!({})),
            }
        })
        .collect()
}

/// Diffs for conflicts; with `dryRun: false` applies, re-analyses and verifies them.
#[utoipa::path(
    post,
    path = "/resolve-conflicts",
    tag = "conflicts",
    request_body = ResolveRequest,
    responses(
        (status = 200, description = "Per conflict its strategy and diffs; unknown ids and strategies are error items", body = crate::schemas::ResolveResponse),
        (status = 400, description = "Bad body")
    )
)]
async fn resolve(
    State(state): State<AppState>,
    ApiJson(request): ApiJson<ResolveRequest>,
) -> ApiResult<Json<Value>> {
    if request.conflicts.is_empty() || request.conflicts.len() > MAX_RESOLVE {
        return Err(ApiError::validation(format!(
            "`conflicts` must list 1 to {MAX_RESOLVE} conflicts ({{ id }})"
        )));
    }
    let ids: Vec<String> = request.conflicts.into_iter().map(|c| c.id).collect();
    let dry_run = request.dry_run;
    let details =
        json!({ "conflicts": ids, "dryRun": dry_run, "strategy": request.resolution_strategy });
    state
        .operation(OperationKind::Resolution, details, async {
            let _guard = if dry_run {
                None
            } else {
                Some(APPLY.lock().await)
            };
            let snapshot = state.snapshot();
            let source = state.source.clone();
            let strategy = request.resolution_strategy.clone();
            let (mut items, files) = tokio::task::spawn_blocking(move || {
                let files = DiskFiles::new(&source.fleet);
                (plan(&snapshot, &files, &ids, strategy.as_deref()), files)
            })
            .await
            .map_err(|e| ApiError::internal(format!("resolution stopped: {e}")))?;
            if !dry_run {
                apply(&state, &mut items, files).await?;
            }
            let remaining = items.iter().filter(|i| !i.verified).count();
            let body = json!({
                "dryRun": dry_run,
                "resolutions": items.iter().map(Item::view).collect::<Vec<_>>(),
                "summary": {
                    "requested": items.len(),
                    "proposed": items.iter().filter(|i| i.resolution.is_some()).count(),
                    "applied": items.iter().filter(|i| i.applied).count(),
                    "verified": items.iter().filter(|i| i.verified).count(),
                    "errors": items.iter().filter(|i| i.error.is_some()).count(),
                },
            });
            Ok((Json(body), remaining))
        })
        .await
}

/// Writes every planned edit, re-analyses the touched repositories, verifies, publishes
/// `conflict.resolved` and records the history.
async fn apply(state: &AppState, items: &mut [Item], files: DiskFiles) -> ApiResult<()> {
    let edits: Vec<switchyard_conflicts::Edit> = items
        .iter()
        .filter(|i| i.error.is_none())
        .filter_map(|i| i.resolution.as_ref())
        .flat_map(|r| r.edits.iter().cloned())
        .collect();
    for item in items.iter_mut().filter(|i| i.error.is_none()) {
        if item.resolution.as_ref().is_some_and(|r| r.edits.is_empty()) {
            item.error = Some(
                json!({ "code": "MANUAL_RESOLUTION", "message": "this strategy is a suggestion without a patch; nothing was written", "details": {} }),
            );
        }
    }
    if edits.is_empty() {
        return Ok(());
    }
    let touched: Vec<String> = edits
        .iter()
        .map(|e| e.repository.clone())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let written = tokio::task::spawn_blocking(move || files.apply(&edits))
        .await
        .map_err(|e| ApiError::internal(format!("apply stopped: {e}")))?;
    if let Err(e) = written {
        for item in items.iter_mut().filter(|i| i.error.is_none()) {
            item.error = Some(
                json!({ "code": "APPLY_FAILED", "message": format!("nothing was written: {e}"), "details": {} }),
            );
        }
        return Ok(());
    }
    let summary = state.reanalyze(touched, false).await?;
    let after = state.snapshot();
    let now = state.now();
    for item in items.iter_mut().filter(|i| i.error.is_none()) {
        let (Some(resolution), Some(conflict)) = (&item.resolution, &item.conflict) else {
            continue;
        };
        item.applied = true;
        item.verified = summary.conflicts_detected.is_empty()
            && !after.conflicts.iter().any(|c| c.id == item.conflict_id);
        let record = json!({
            "strategy": resolution.strategy,
            "verified": item.verified,
            "changes": item.changes.iter().map(|c| format!("{}/{}", c.repository, c.path)).collect::<Vec<_>>(),
        });
        let _ =
            conflict_history::resolved(state, conflict, record.clone(), item.verified, now).await;
        let mut event = record;
        if let Some(map) = event.as_object_mut() {
            map.insert("conflictId".into(), json!(item.conflict_id));
        }
        state.publish("conflict.resolved", event);
    }
    Ok(())
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConfigurationRequest {
    /// Default: every repository.
    #[serde(default)]
    pub repositories: Option<Vec<String>>,
    /// Only these keys; default: every key at least two of the repositories define.
    #[serde(default)]
    pub keys: Option<Vec<String>>,
}

/// Configuration values per key across repositories, with env-drift conflicts and proposals.
#[utoipa::path(
    post,
    path = "/coordinate-configuration",
    tag = "conflicts",
    request_body = ConfigurationRequest,
    responses(
        (status = 200, description = "Values per key (secret values redacted), env-drift conflicts and their resolutions", body = crate::schemas::ConfigurationResponse),
        (status = 400, description = "Bad body"),
        (status = 404, description = "Unknown repositories")
    )
)]
async fn coordinate_configuration(
    State(state): State<AppState>,
    ApiJson(request): ApiJson<ConfigurationRequest>,
) -> ApiResult<Json<Value>> {
    let snapshot = state.snapshot();
    let selected = snapshot.select(request.repositories)?;
    let keys: Option<Vec<String>> = request.keys.map(|keys| {
        keys.into_iter()
            .map(|k| k.trim().to_string())
            .filter(|k| !k.is_empty())
            .collect()
    });
    let details = json!({ "repositories": selected.len() });
    state
        .operation(OperationKind::ConflictCheck, details, async {
            let configurations = configuration::coordinate(&snapshot, &selected, keys.as_deref());
            let listed: BTreeSet<String> = configurations
                .iter()
                .map(|c| format!("env:{}", c.key))
                .collect();
            let drift: Vec<&Conflict> = snapshot
                .conflicts
                .iter()
                .filter(|c| c.kind == ConflictKind::EnvDrift && listed.contains(&c.resource))
                .filter(|c| c.repositories.iter().any(|r| selected.contains(r)))
                .collect();
            let ids: Vec<String> = drift.iter().map(|c| c.id.clone()).collect();
            let conflicts = views(&state, snapshot.clone(), ids).await?;
            let resolutions: Vec<Value> = conflicts
                .iter()
                .map(|c| {
                    let recommended = c["strategies"]
                        .as_array()
                        .and_then(|s| s.iter().find(|s| s["automatic"] == true))
                        .map(|s| s["name"].clone());
                    json!({
                        "conflictId": c["id"],
                        "resource": c["resource"],
                        "recommended": recommended,
                        "strategies": c["strategies"],
                    })
                })
                .collect();
            let missing: Vec<&String> = keys
                .iter()
                .flatten()
                .filter(|k| !configurations.iter().any(|c| &c.key == *k))
                .collect();
            let summary = json!({
                "keys": configurations.len(),
                "consistent": configurations.iter().filter(|c| c.consistent).count(),
                "inconsistent": configurations.iter().filter(|c| !c.consistent).count(),
                "secretKeys": configurations.iter().filter(|c| c.secret).count(),
                "repositories": selected.len(),
                "missingKeys": missing,
                "analyzedAt": snapshot.analyzed_at,
            });
            let count = drift.len();
            Ok((
                Json(json!({
                    "configurations": configurations,
                    "conflicts": conflicts,
                    "resolutions": resolutions,
                    "summary": summary,
                })),
                count,
            ))
        })
        .await
}

/// Past and present conflicts with first/last seen and how they ended, most recent first.
#[utoipa::path(
    get,
    path = "/conflicts/history",
    tag = "conflicts",
    params(
        ("type" = Option<String>, Query, pattern = "^(port|domain|volume|network|container_name|env_drift|unreachable_url|cors_missing_origin|websocket_mismatch|shared_dependency_version|dangling_package)$", description = "Only this conflict type"),
        ("limit" = Option<u32>, Query, minimum = 1, maximum = 100, description = "1-100, default 20"),
        ("offset" = Option<u32>, Query, minimum = 0, description = "Default 0")
    ),
    responses(
        (status = 200, description = "Past and present conflicts, most recently seen first", body = crate::schemas::HistoryList),
        (status = 400, description = "Bad query")
    )
)]
async fn history(State(state): State<AppState>, params: Params) -> ApiResult<Json<Value>> {
    let page = params.page()?;
    let kind = match params.get("type") {
        Some(name) => Some(parse_kinds("type", &[name.to_string()])?),
        None => None,
    };
    let kind = kind.and_then(|k| k.first().map(|k| k.as_str()));
    let all = conflict_history::list(&state, kind).await?;
    Ok(Json(json!({
        "history": page.slice(&all),
        "pagination": page.describe(all.len()),
    })))
}

/// One conflict's full evidence: why it has its severity, each occurrence with its (redacted)
/// source line, the chain the detector recorded, and every strategy's proposal as a diff.
#[utoipa::path(
    get,
    path = "/resource-conflicts/{id}/explanation",
    operation_id = "explainResourceConflict",
    tag = "conflicts",
    params(("id" = String, Path, description = "A conflict id, or a prefix only one conflict has")),
    responses(
        (status = 200, description = "`{ conflict, severityReason, evidence, resolutions }`", body = crate::schemas::ConflictExplanation),
        (status = 400, description = "The prefix matches several conflicts (listed in details.matches)"),
        (status = 404, description = "No such conflict (the nearest ids in details.nearest)")
    )
)]
async fn explanation(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let snapshot = state.snapshot();
    let source = state.source.clone();
    tokio::task::spawn_blocking(move || {
        let conflict = match switchyard_conflicts::explain::find(&snapshot.conflicts, &id) {
            Ok(c) => c,
            Err(switchyard_conflicts::explain::Lookup::Ambiguous(matches)) => {
                return Err(ApiError::validation(format!(
                    "{id:?} matches {} conflicts; give more of the id",
                    matches.len()
                ))
                .with_details(json!({ "matches": matches })));
            }
            Err(switchyard_conflicts::explain::Lookup::Unknown(nearest)) => {
                return Err(ApiError::not_found(format!("no conflict {id:?}"))
                    .with_details(json!({ "nearest": nearest })));
            }
        };
        let files = DiskFiles::new(&source.fleet);
        let lookup = switchyard_conflicts::Lookup::default();
        let input = switchyard_conflicts::FleetInput {
            model: &snapshot.model,
            facts: &snapshot.facts,
            lookup: &lookup,
        };
        let explained = switchyard_conflicts::explain::explain(conflict, input, &files);
        serde_json::to_value(&explained)
            .map(Json)
            .map_err(|e| ApiError::internal(format!("explanation not serializable: {e}")))
    })
    .await
    .map_err(|e| ApiError::internal(format!("explanation stopped: {e}")))?
}
