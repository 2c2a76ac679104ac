//! Monitoring: metrics (JSON or Prometheus text), alerts and acknowledgement, operations,
//! health from real component checks, and housekeeping (`/cleanup`).

use std::time::{Duration, Instant};

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use switchyard_monitor::{
    AlertQuery, AlertSeverity, ComponentCheck, Health, HealthStatus, OperationKind, OperationQuery,
    OperationStatus,
};
use switchyard_store::Timestamp;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::error::{ApiError, ApiResult};
use crate::input::Params;
use crate::state::AppState;
use crate::tasks;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(metrics))
        .routes(routes!(alerts))
        .routes(routes!(acknowledge))
        .routes(routes!(operations))
        .routes(routes!(health))
        .routes(routes!(health_detailed))
        .routes(routes!(cleanup))
}

/// `GET /health` and `GET /metrics` at the top level, for load balancers and scrapers.
pub fn top_level() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(top_health))
        .routes(routes!(top_metrics))
}

const PROMETHEUS_TEXT: &str = "text/plain; version=0.0.4; charset=utf-8";

fn prometheus(state: &AppState) -> Response {
    refresh_gauges(state);
    (
        [(header::CONTENT_TYPE, PROMETHEUS_TEXT)],
        state.monitor.render_prometheus(),
    )
        .into_response()
}

/// Gauges read at scrape time: fleet size, conflicts, active alerts.
fn refresh_gauges(state: &AppState) {
    let snapshot = state.snapshot();
    let m = &state.monitor;
    m.set_gauge(
        "switchyard_fleet_repositories",
        "Repositories in the fleet",
        &[],
        snapshot.repositories.len() as f64,
    );
    m.set_gauge(
        "switchyard_fleet_services",
        "Services in the fleet",
        &[],
        snapshot.model.services.len() as f64,
    );
    m.set_gauge(
        "switchyard_fleet_edges",
        "Dependency edges in the fleet",
        &[],
        snapshot.model.edges.len() as f64,
    );
    m.set_gauge(
        "switchyard_conflicts_current",
        "Conflicts in the current analysis",
        &[],
        snapshot.conflicts.len() as f64,
    );
    m.set_gauge(
        "switchyard_alerts_active",
        "Alerts currently raised",
        &[],
        m.active_alerts() as f64,
    );
}

/// Metrics: `format=json` (default, with `timeRange` in hours) or `format=prometheus`.
#[utoipa::path(
    get,
    path = "/metrics",
    tag = "monitoring",
    params(
        ("format" = Option<String>, Query, pattern = "^(json|prometheus)$", description = "json (default) or prometheus"),
        ("timeRange" = Option<f64>, Query, exclusive_minimum = 0, maximum = 8784, description = "Hours of operations to summarise (default 24)")
    ),
    responses(
        (status = 200, description = "JSON summary (`format=json`) or Prometheus text (`format=prometheus`)", content(
            (Value = "application/json"),
            (String = "text/plain")
        )),
        (status = 400, description = "Bad query")
    )
)]
async fn metrics(State(state): State<AppState>, params: Params) -> ApiResult<Response> {
    let hours = params.number("timeRange", 24.0 * 366.0)?.unwrap_or(24.0);
    match params.get("format").unwrap_or("json") {
        "prometheus" => Ok(prometheus(&state)),
        "json" => {
            let summary = state
                .monitor
                .summary(Duration::from_secs_f64(hours * 3600.0), state.now());
            let snapshot = state.snapshot();
            Ok(Json(json!({
                "timeRangeHours": hours,
                "operations": summary,
                "fleet": {
                    "repositories": snapshot.repositories.len(),
                    "services": snapshot.model.services.len(),
                    "edges": snapshot.model.edges.len(),
                    "conflicts": snapshot.conflicts.len(),
                    "analyzedAt": snapshot.analyzed_at,
                },
                "alerts": { "active": state.monitor.active_alerts() },
            }))
            .into_response())
        }
        other => Err(ApiError::validation(format!(
            "`format` must be json or prometheus, got `{other}`"
        ))),
    }
}

/// Prometheus text exposition.
#[utoipa::path(
    get,
    path = "/metrics",
    tag = "monitoring",
    responses((status = 200, description = "Prometheus text (# HELP / # TYPE)", content_type = "text/plain"))
)]
async fn top_metrics(State(state): State<AppState>) -> Response {
    prometheus(&state)
}

/// Recent alerts and their status.
#[utoipa::path(
    get,
    path = "/alerts",
    tag = "monitoring",
    params(
        ("hours" = Option<f64>, Query, exclusive_minimum = 0, maximum = 87840, description = "Alerts active at some point in the last this many hours: raised or cleared in that time, or still active (default: all kept)"),
        ("severity" = Option<String>, Query, pattern = "^(low|medium|high|critical)$", description = "low, medium, high or critical"),
        ("acknowledged" = Option<bool>, Query, description = "Filter by acknowledgement"),
        ("limit" = Option<u32>, Query, minimum = 1, maximum = 100, description = "1-100, default 20"),
        ("offset" = Option<u32>, Query, minimum = 0, description = "Default 0")
    ),
    responses((status = 200, description = "Alerts (newest first), the summary over every match, and pagination", body = crate::schemas::AlertsResponse), (status = 400, description = "Bad query"))
)]
async fn alerts(State(state): State<AppState>, params: Params) -> ApiResult<Json<Value>> {
    let since = params
        .number("hours", 24.0 * 3660.0)?
        .map(|h| hours_before(state.now(), h));
    let severity = params
        .get("severity")
        .map(|s| {
            s.parse::<AlertSeverity>().map_err(|_| {
                ApiError::validation(format!(
                    "`severity` must be low, medium, high or critical, got `{s}`"
                ))
            })
        })
        .transpose()?;
    let page = params.page()?;
    // On a shared store the store is the truth: alerts raised through any replica.
    tasks::refresh_alerts(&state).await;
    let list = state.monitor.alerts(&AlertQuery {
        since,
        severity,
        acknowledged: params.bool("acknowledged")?,
    });
    Ok(Json(json!({
        "alerts": page.slice(&list.alerts),
        "summary": list.summary,
        "pagination": page.describe(list.alerts.len()),
    })))
}

fn hours_before(now: Timestamp, hours: f64) -> Timestamp {
    Timestamp::from_unix_millis(now.unix_millis() - (hours * 3_600_000.0) as i64)
}

/// Acknowledges an alert (it stays raised until its condition clears).
#[utoipa::path(
    post,
    path = "/alerts/{id}/acknowledge",
    tag = "monitoring",
    params(("id" = String, Path, description = "alert_…")),
    responses((status = 200, description = "The acknowledged alert", body = crate::schemas::AcknowledgeResponse), (status = 404, description = "Unknown alert"))
)]
async fn acknowledge(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    // On a shared store the alert may have been raised through another replica.
    tasks::refresh_alerts(&state).await;
    let alert = state
        .monitor
        .acknowledge(&id, state.now())
        .ok_or_else(|| ApiError::not_found(format!("no alert `{id}`")))?;
    tasks::persist_acknowledgement(&state, &alert).await?;
    Ok(Json(json!({ "success": true, "alert": alert })))
}

/// Tracked operations, newest first.
#[utoipa::path(
    get,
    path = "/operations",
    tag = "monitoring",
    params(
        ("status" = Option<String>, Query, pattern = "^(active|completed|failed)$", description = "active, completed or failed"),
        ("type" = Option<String>, Query, pattern = "^(analysis|refresh|plan|conflict_check|resolution|claim|release|deployment|webhook|config_sync|cleanup)$", description = "analysis, refresh, plan, conflict_check, resolution, claim, release, deployment, webhook, config_sync, cleanup"),
        ("limit" = Option<u32>, Query, minimum = 1, maximum = 100, description = "1-100, default 20"),
        ("offset" = Option<u32>, Query, minimum = 0, description = "Default 0")
    ),
    responses((status = 200, description = "Operations, newest first, with pagination", body = crate::schemas::OperationsResponse), (status = 400, description = "Bad query"))
)]
async fn operations(State(state): State<AppState>, params: Params) -> ApiResult<Json<Value>> {
    let status = params
        .get("status")
        .map(|s| {
            s.parse::<OperationStatus>().map_err(|_| {
                ApiError::validation(format!(
                    "`status` must be active, completed or failed, got `{s}`"
                ))
            })
        })
        .transpose()?;
    let kind = params
        .get("type")
        .map(|s| {
            s.parse::<OperationKind>()
                .map_err(|_| ApiError::validation(format!("unknown operation type `{s}`")))
        })
        .transpose()?;
    let page = params.page()?;
    // Every match of the bounded in-memory history, so the total is exact.
    let all = state.monitor.operations(&OperationQuery {
        status,
        kind,
        limit: 0,
    });
    let total = all.len();
    let operations = page.slice(&all);
    Ok(Json(json!({
        "count": operations.len(),
        "operations": operations,
        "pagination": page.describe(total),
    })))
}

/// Runs the component checks: store round trip, fleet loaded and fresh, active alerts.
pub async fn check(state: &AppState) -> Health {
    let now = state.now();
    let mut components = Vec::new();
    let started = Instant::now();
    let store = tokio::time::timeout(Duration::from_secs(2), state.store.ping()).await;
    let latency = started.elapsed().as_secs_f64() * 1000.0;
    components.push(
        match store {
            Ok(Ok(())) => ComponentCheck::new("store", HealthStatus::Healthy, "read round trip ok"),
            Ok(Err(e)) => ComponentCheck::new("store", HealthStatus::Critical, e.to_string()),
            Err(_) => ComponentCheck::new("store", HealthStatus::Critical, "no answer within 2 s"),
        }
        .with_latency_ms(latency),
    );
    let snapshot = state.snapshot();
    let age = (now.unix_millis() - snapshot.analyzed_at.unix_millis()) / 1000;
    let failed_repos = snapshot
        .facts
        .iter()
        .filter(|f| !f.diagnostics.is_empty())
        .count();
    components.push(if snapshot.repositories.is_empty() {
        ComponentCheck::new("fleet", HealthStatus::Critical, "no repositories loaded")
    } else {
        ComponentCheck::new(
            "fleet",
            HealthStatus::Healthy,
            format!(
                "{} repositories, {} services, analysed {age} s ago, {failed_repos} with diagnostics",
                snapshot.repositories.len(),
                snapshot.model.services.len()
            ),
        )
    });
    let alerts = state.monitor.alerts(&AlertQuery::default());
    let active: Vec<_> = alerts.alerts.iter().filter(|a| a.active).collect();
    let worst = active.iter().map(|a| a.severity).max();
    components.push(match worst {
        None => ComponentCheck::new("alerts", HealthStatus::Healthy, "no active alerts"),
        Some(AlertSeverity::Critical) => ComponentCheck::new(
            "alerts",
            HealthStatus::Critical,
            format!("{} active alerts, one critical", active.len()),
        ),
        Some(_) => ComponentCheck::new(
            "alerts",
            HealthStatus::Degraded,
            format!("{} active alerts", active.len()),
        ),
    });
    switchyard_monitor::health(components, state.monitor.uptime_seconds(now), now)
}

fn health_response(health: Health, detailed: bool) -> Response {
    let status = if health.status == HealthStatus::Critical {
        StatusCode::SERVICE_UNAVAILABLE
    } else {
        StatusCode::OK
    };
    let body = if detailed {
        json!({
            "status": health.status,
            "uptimeSeconds": health.uptime_seconds,
            "version": health.version,
            "checkedAt": health.checked_at,
            "components": health.components,
            "memoryBytes": switchyard_monitor::process_memory_bytes(),
        })
    } else {
        json!({
            "status": health.status,
            "uptimeSeconds": health.uptime_seconds,
            "version": health.version,
        })
    };
    (status, Json(body)).into_response()
}

/// Overall health (503 when critical).
#[utoipa::path(
    get,
    path = "/health",
    tag = "monitoring",
    responses((status = 200, description = "healthy or degraded", body = crate::schemas::HealthSummary), (status = 503, description = "critical", body = crate::schemas::HealthSummary))
)]
async fn health(State(state): State<AppState>) -> Response {
    health_response(check(&state).await, false)
}

/// Health for load balancers (same as `/api/coordination/health`).
#[utoipa::path(
    get,
    path = "/health",
    tag = "monitoring",
    responses((status = 200, description = "healthy or degraded", body = crate::schemas::HealthSummary), (status = 503, description = "critical", body = crate::schemas::HealthSummary))
)]
async fn top_health(State(state): State<AppState>) -> Response {
    health_response(check(&state).await, false)
}

/// Health with every component check.
#[utoipa::path(
    get,
    path = "/health/detailed",
    tag = "monitoring",
    responses((status = 200, description = "Components, uptime, versions", body = crate::schemas::DetailedHealth), (status = 503, description = "critical", body = crate::schemas::DetailedHealth))
)]
async fn health_detailed(State(state): State<AppState>) -> Response {
    health_response(check(&state).await, true)
}

/// Removes expired claims and data older than the retention; returns counts.
#[utoipa::path(
    post,
    path = "/cleanup",
    tag = "monitoring",
    responses((status = 200, description = "Counts of removed items", body = crate::schemas::CleanupResponse), (status = 403, description = "Needs the admin scope"))
)]
async fn cleanup(State(state): State<AppState>) -> ApiResult<Json<Value>> {
    let now = state.now();
    let expired = state.store.sweep_expired(now).await?;
    if expired > 0 {
        state.publish("claims.expired", json!({ "count": expired }));
    }
    let mut counts = tasks::apply_retention(&state).await;
    counts.insert("expiredClaims".into(), json!(expired));
    Ok(Json(json!({ "success": true, "removed": counts })))
}
