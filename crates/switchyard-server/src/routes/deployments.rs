//! Deployment coordination over HTTP: plan phases and claim the plan's resources, report
//! repository events, complete or cancel. Plans live in the store, so they survive restarts.
//!
//! Lifecycle: `ready` → `in_progress` (first event) → `completed` automatically when the last
//! phase succeeds (the claims are released then; holding them longer would only block the
//! next deployment). A `failed` event turns it `rolling_back` with the order to undo what
//! succeeded; `/complete` then ends it as `failed` (rollback done), `/cancel` as `cancelled`.
//! `/complete` on a `ready` or `in_progress` plan ends it as `completed` (the deployer finished
//! out of band). Every final state has released the claims and refuses further changes (409).

use std::collections::{BTreeMap, BTreeSet};

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::{Value, json};
use switchyard_graph::Digraph;
use switchyard_monitor::OperationKind;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::analysis::Snapshot;
use crate::deploy::{
    self, Deployment, DeploymentStatus, EventError, PlanOptions, RepoEvent, ledger, records,
};
use crate::error::{ApiError, ApiResult};
use crate::input::{ApiJson, Params};
use crate::state::AppState;

/// Longest plan accepted, in seconds (a day).
const MAX_TIMEOUT: u64 = 86_400;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(coordinate))
        .routes(routes!(list))
        .routes(routes!(show))
        .routes(routes!(report))
        .routes(routes!(complete))
        .routes(routes!(cancel))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CoordinateRequest {
    /// Repositories to deploy (names known to the fleet).
    #[schema(min_items = 1)]
    pub repositories: Vec<String>,
    #[serde(default)]
    pub options: CoordinateOptions,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase", default)]
pub struct CoordinateOptions {
    /// Deploy the repositories of one phase together (default true).
    pub allow_parallel: bool,
    /// Plan even when conflicts involve the repositories (default false).
    pub ignore_conflicts: bool,
    /// Seconds the whole deployment may take, 1-86400 (default 3600); also the claims' TTL.
    #[serde(deserialize_with = "crate::input::whole")]
    #[schema(minimum = 1, maximum = 86400)]
    pub timeout: u64,
    /// At most this many repositories per phase; larger phases are split.
    #[serde(deserialize_with = "crate::input::opt_whole")]
    #[schema(minimum = 1)]
    pub max_parallel: Option<usize>,
}

impl Default for CoordinateOptions {
    fn default() -> Self {
        CoordinateOptions {
            allow_parallel: true,
            ignore_conflicts: false,
            timeout: 3600,
            max_parallel: None,
        }
    }
}

impl CoordinateOptions {
    fn validate(self) -> ApiResult<PlanOptions> {
        if !(1..=MAX_TIMEOUT).contains(&self.timeout) {
            return Err(ApiError::validation(format!(
                "`options.timeout` must be from 1 to {MAX_TIMEOUT} seconds, got {}",
                self.timeout
            ))
            .with_details(json!({ "field": "options.timeout", "min": 1, "max": MAX_TIMEOUT })));
        }
        if self.max_parallel == Some(0) {
            return Err(
                ApiError::validation("`options.maxParallel` must be at least 1")
                    .with_details(json!({ "field": "options.maxParallel", "min": 1 })),
            );
        }
        Ok(PlanOptions {
            allow_parallel: self.allow_parallel,
            ignore_conflicts: self.ignore_conflicts,
            timeout: self.timeout,
            max_parallel: self.max_parallel,
        })
    }
}

/// Plans a deployment: phases from the dependency graph, estimates, conflict check, and
/// exclusive claims on every resource the repositories use.
#[utoipa::path(
    post,
    path = "/coordinate-deployment",
    tag = "deployments",
    request_body = CoordinateRequest,
    responses(
        (status = 201, description = "Planned: `{ coordination, deployment }`", body = crate::schemas::DeploymentResponse),
        (status = 400, description = "Bad input"),
        (status = 404, description = "Unknown repositories"),
        (status = 409, description = "RESOURCE_CONFLICTS, or a resource the plan needs is claimed by another deployment"),
        (status = 422, description = "CIRCULAR_DEPENDENCY (with the cycles) or PLAN_EXCEEDS_TIMEOUT")
    )
)]
async fn coordinate(
    State(state): State<AppState>,
    ApiJson(request): ApiJson<CoordinateRequest>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let options = request.options.validate()?;
    let mut seen = BTreeSet::new();
    let selected: Vec<String> = request
        .repositories
        .into_iter()
        .filter(|r| seen.insert(r.clone()))
        .collect();
    if selected.is_empty() {
        return Err(
            ApiError::validation("`repositories` must name at least one repository")
                .with_details(json!({ "field": "repositories" })),
        );
    }
    let snapshot = state.snapshot();
    snapshot.require_known(&selected)?;
    // One plan at a time: two plans must never both see a resource as free.
    let _guard = state.coordination.lock().await;
    let details = json!({ "repositories": selected });
    let deployment = state
        .operation(OperationKind::Plan, details, async {
            let deployment = plan(&state, &snapshot, &selected, options).await?;
            let conflicts = deployment.conflicts.len();
            Ok((deployment, conflicts))
        })
        .await?;
    let body = deployment.describe();
    state.publish("deployment.planned", body.clone());
    Ok((StatusCode::CREATED, Json(body)))
}

/// Plans and claims `selected` (known, deduplicated) under the coordination lock.
async fn plan(
    state: &AppState,
    snapshot: &Snapshot,
    selected: &[String],
    options: PlanOptions,
) -> ApiResult<Deployment> {
    let graph = snapshot.repo_graph.induced(selected);
    refuse_cycles(&graph)?;
    let conflicts = involved_conflicts(snapshot, selected, options.ignore_conflicts)?;
    let mut estimates = BTreeMap::new();
    for name in selected {
        let recorded = records::durations(state.store.as_ref(), name).await?;
        let estimate =
            deploy::median(&recorded).unwrap_or(state.config.default_deploy_seconds as f64);
        estimates.insert(name.clone(), estimate);
    }
    let phases = deploy::plan_phases(
        &graph.phases(),
        options.allow_parallel,
        options.max_parallel,
        |name| estimates.get(name).copied().unwrap_or_default(),
    );
    let now = state.now();
    let id = format!("coord_{}", ulid::Ulid::from_datetime(now.to_system_time()));
    let timeout = options.timeout;
    let mut deployment = Deployment::new(id, phases, conflicts, options, now);
    let estimate = deployment.estimated_duration();
    if estimate > timeout as f64 {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "PLAN_EXCEEDS_TIMEOUT",
            format!("the plan is estimated at {estimate} s, more than the timeout of {timeout} s"),
        )
        .with_details(json!({
            "estimatedDuration": estimate,
            "timeout": timeout,
            "phases": deployment.phases,
        })));
    }
    let (needs, unclaimable) = ledger::needs(snapshot, &deployment.repositories);
    deployment.claims = ledger::claim_all(state, &needs, timeout).await?;
    deployment.unclaimable = unclaimable;
    if let Err(error) = records::save(state.store.as_ref(), &deployment, state.now()).await {
        // Best effort: what cannot be released now lapses with its TTL.
        let _ = ledger::release(state, &deployment.claims).await;
        return Err(error);
    }
    Ok(deployment)
}

/// 422 with the cycle paths: a cycle has no order to deploy in.
fn refuse_cycles(graph: &Digraph) -> ApiResult<()> {
    let cycles = graph.cycles();
    if cycles.is_empty() {
        return Ok(());
    }
    let shown: Vec<String> = cycles.iter().map(|c| c.join(" -> ")).collect();
    Err(ApiError::new(
        StatusCode::UNPROCESSABLE_ENTITY,
        "CIRCULAR_DEPENDENCY",
        format!("circular dependencies detected: {}", shown.join("; ")),
    )
    .with_details(json!({ "cycles": cycles })))
}

/// The snapshot's conflicts touching any of `selected` (any severity: the deployer decides
/// with `ignoreConflicts`); 409 unless ignored.
fn involved_conflicts(
    snapshot: &Snapshot,
    selected: &[String],
    ignore: bool,
) -> ApiResult<Vec<Value>> {
    let conflicts: Vec<Value> = snapshot
        .conflicts
        .iter()
        .filter(|c| c.repositories.iter().any(|r| selected.contains(r)))
        .filter_map(|c| serde_json::to_value(c).ok())
        .collect();
    if conflicts.is_empty() || ignore {
        return Ok(conflicts);
    }
    Err(ApiError::new(
        StatusCode::CONFLICT,
        "RESOURCE_CONFLICTS",
        format!(
            "{} conflicts involve the repositories; resolve them or set options.ignoreConflicts",
            conflicts.len()
        ),
    )
    .with_details(json!({ "conflicts": conflicts })))
}

/// Stored deployments, newest first: what the dashboard lists (finished ones stay until the
/// retention removes them).
#[utoipa::path(
    get,
    path = "/deployments",
    tag = "deployments",
    params(
        ("limit" = Option<u32>, Query, minimum = 1, maximum = 100, description = "1-100, default 20"),
        ("offset" = Option<u32>, Query, minimum = 0, description = "Default 0")
    ),
    responses(
        (status = 200, description = "One page of `{ coordination, deployment }`, newest first", body = crate::schemas::DeploymentList),
        (status = 400, description = "Bad query")
    )
)]
async fn list(State(state): State<AppState>, params: Params) -> ApiResult<Json<Value>> {
    let page = params.page()?;
    let mut all = records::list(state.store.as_ref()).await?;
    // Ids are `coord_<ULID>`: sorting them sorts by planning time.
    all.sort_by(|a, b| b.id.cmp(&a.id));
    let shown: Vec<Value> = all
        .iter()
        .skip(page.offset)
        .take(page.limit)
        .map(Deployment::describe)
        .collect();
    Ok(Json(json!({
        "deployments": shown,
        "pagination": page.describe(all.len()),
    })))
}

/// A stored plan with its progress per phase and repository.
#[utoipa::path(
    get,
    path = "/deployments/{id}",
    tag = "deployments",
    params(("id" = String, Path, description = "coord_…")),
    responses(
        (status = 200, description = "`{ coordination, deployment }` with progress", body = crate::schemas::DeploymentResponse),
        (status = 404, description = "Unknown deployment")
    )
)]
async fn show(State(state): State<AppState>, Path(id): Path<String>) -> ApiResult<Json<Value>> {
    Ok(Json(
        records::load(state.store.as_ref(), &id).await?.describe(),
    ))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct EventRequest {
    pub repository: String,
    /// started, succeeded or failed.
    pub status: RepoEvent,
    /// How long the repository took; without it a success is timed from its `started` event.
    #[serde(default)]
    #[schema(minimum = 0, maximum = 86400)]
    pub duration_seconds: Option<f64>,
}

/// Reports a repository's progress: advances phases, completes the deployment after the last
/// one, or starts a rollback on failure.
#[utoipa::path(
    post,
    path = "/deployments/{id}/events",
    tag = "deployments",
    params(("id" = String, Path, description = "coord_…")),
    request_body = EventRequest,
    responses(
        (status = 200, description = "Updated `{ coordination, deployment }`; `rollback` after a failure", body = crate::schemas::DeploymentResponse),
        (status = 400, description = "Bad input"),
        (status = 404, description = "Unknown deployment, or repository not in the plan"),
        (status = 409, description = "OUT_OF_PHASE, PHASE_IS_SEQUENTIAL, INVALID_TRANSITION, DEPLOYMENT_ROLLING_BACK, DEPLOYMENT_FINISHED, or CONCURRENT_UPDATE (other replicas kept changing it; retry)")
    )
)]
async fn report(
    State(state): State<AppState>,
    Path(id): Path<String>,
    ApiJson(request): ApiJson<EventRequest>,
) -> ApiResult<Json<Value>> {
    if let Some(seconds) = request.duration_seconds
        && !(seconds.is_finite() && (0.0..=MAX_TIMEOUT as f64).contains(&seconds))
    {
        return Err(ApiError::validation(format!(
            "`durationSeconds` must be from 0 to {MAX_TIMEOUT}, got {seconds}"
        ))
        .with_details(json!({ "field": "durationSeconds" })));
    }
    let _guard = state.coordination.lock().await;
    let details =
        json!({ "coordinationId": id, "repository": request.repository, "status": request.status });
    let (deployment, applied) = state
        .operation(OperationKind::Deployment, details, async {
            // Re-read and re-applied when another replica changed the deployment between
            // this read and this write (then the event may no longer apply: its answer says why).
            let mut attempt = 0;
            let (deployment, applied) = loop {
                let (mut deployment, version) =
                    records::load_versioned(state.store.as_ref(), &id).await?;
                let applied = deployment
                    .apply(
                        &request.repository,
                        request.status,
                        request.duration_seconds,
                        state.now(),
                    )
                    .map_err(ApiError::from)?;
                if applied.completed {
                    ledger::release(&state, &deployment.claims).await?;
                }
                if records::save_over(state.store.as_ref(), &deployment, &version, state.now())
                    .await?
                {
                    break (deployment, applied);
                }
                attempt += 1;
                if attempt >= records::UPDATE_ATTEMPTS {
                    return Err(records::contended(&id));
                }
            };
            if let Some(seconds) = applied.duration {
                // Best effort: the event is already stored, and refusing it now would make the
                // deployer's retry an invalid transition; a lost sample only blurs an estimate.
                let _ = records::record_duration(
                    state.store.as_ref(),
                    &request.repository,
                    seconds,
                    state.now(),
                )
                .await;
            }
            Ok(((deployment, applied), 0))
        })
        .await?;
    let body = deployment.describe();
    state.publish(
        "deployment.progress",
        json!({
            "id": deployment.id,
            "repository": request.repository,
            "status": request.status,
            "phaseCompleted": applied.phase_completed,
            "currentPhase": deployment.current_phase,
            "deploymentStatus": deployment.status,
        }),
    );
    if applied.rolling_back {
        state.publish(
            "deployment.rolling_back",
            json!({ "id": deployment.id, "rollback": deployment.rollback }),
        );
    }
    if applied.completed {
        state.publish(
            "deployment.completed",
            json!({ "id": deployment.id, "status": deployment.status }),
        );
    }
    Ok(Json(body))
}

/// Ends a deployment: releases its claims; `completed`, or `failed` after a rollback.
#[utoipa::path(
    post,
    path = "/deployments/{id}/complete",
    tag = "deployments",
    params(("id" = String, Path, description = "coord_…")),
    responses(
        (status = 200, description = "Finished `{ coordination, deployment }`", body = crate::schemas::DeploymentResponse),
        (status = 404, description = "Unknown deployment"),
        (status = 409, description = "DEPLOYMENT_FINISHED, or CONCURRENT_UPDATE (other replicas kept changing it; retry)")
    )
)]
async fn complete(State(state): State<AppState>, Path(id): Path<String>) -> ApiResult<Json<Value>> {
    finish(state, id, |current| {
        if current == DeploymentStatus::RollingBack {
            DeploymentStatus::Failed
        } else {
            DeploymentStatus::Completed
        }
    })
    .await
}

/// Cancels a deployment and releases its claims.
#[utoipa::path(
    post,
    path = "/deployments/{id}/cancel",
    tag = "deployments",
    params(("id" = String, Path, description = "coord_…")),
    responses(
        (status = 200, description = "Cancelled `{ coordination, deployment }`", body = crate::schemas::DeploymentResponse),
        (status = 404, description = "Unknown deployment"),
        (status = 409, description = "DEPLOYMENT_FINISHED, or CONCURRENT_UPDATE (other replicas kept changing it; retry)")
    )
)]
async fn cancel(State(state): State<AppState>, Path(id): Path<String>) -> ApiResult<Json<Value>> {
    finish(state, id, |_| DeploymentStatus::Cancelled).await
}

async fn finish(
    state: AppState,
    id: String,
    outcome: impl Fn(DeploymentStatus) -> DeploymentStatus,
) -> ApiResult<Json<Value>> {
    let _guard = state.coordination.lock().await;
    let details = json!({ "coordinationId": id });
    let deployment = state
        .operation(OperationKind::Deployment, details, async {
            for _ in 0..records::UPDATE_ATTEMPTS {
                let (mut deployment, version) =
                    records::load_versioned(state.store.as_ref(), &id).await?;
                if deployment.status.is_finished() {
                    return Err(EventError::Finished(deployment.status).into());
                }
                ledger::release(&state, &deployment.claims).await?;
                deployment.finish(outcome(deployment.status), state.now());
                if records::save_over(state.store.as_ref(), &deployment, &version, state.now())
                    .await?
                {
                    return Ok((deployment, 0));
                }
            }
            Err(records::contended(&id))
        })
        .await?;
    state.publish(
        "deployment.completed",
        json!({ "id": deployment.id, "status": deployment.status }),
    );
    Ok(Json(deployment.describe()))
}
