//! The ledger over HTTP: register, list, status, claim, renew, release, delete. Every grant and
//! release is a monitored operation and an event.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::{Value, json};
use switchyard_monitor::OperationKind;
use switchyard_store::{ListFilter, Operation, RegisterOutcome, Registration, ResourceType};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::error::ApiResult;
use crate::input::{ApiJson, Params};
use crate::state::AppState;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(register))
        .routes(routes!(list))
        .routes(routes!(status, delete))
        .routes(routes!(claim))
        .routes(routes!(renew))
        .routes(routes!(release))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RegisterRequest {
    /// port, domain, volume, network, database, certificate or custom.
    #[serde(rename = "type")]
    #[schema(pattern = "^(port|domain|volume|network|database|certificate|custom)$")]
    pub resource_type: String,
    #[schema(
        min_length = 1,
        max_length = 255,
        pattern = r"^[^\s\x00-\x1f\x7f-\x9f]+$"
    )]
    pub identifier: String,
    #[serde(default = "one", deserialize_with = "crate::input::whole")]
    #[schema(minimum = 1)]
    pub capacity: u32,
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub metadata: Option<Value>,
}

fn one() -> u32 {
    1
}

/// Registers `type:identifier`: 201 new, 200 when identical or updated.
#[utoipa::path(
    post,
    path = "/resources/register",
    tag = "resources",
    request_body = RegisterRequest,
    responses(
        (status = 201, description = "Registered", body = crate::schemas::RegisterResponse),
        (status = 200, description = "Already registered (identical or updated)", body = crate::schemas::RegisterResponse),
        (status = 400, description = "Bad input"),
        (status = 409, description = "Capacity below current usage")
    )
)]
async fn register(
    State(state): State<AppState>,
    ApiJson(request): ApiJson<RegisterRequest>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let resource_type: ResourceType = request.resource_type.parse()?;
    let registration = Registration {
        resource_type,
        identifier: request.identifier,
        capacity: request.capacity,
        metadata: request.metadata,
    };
    let registered = state.store.register(&registration, state.now()).await?;
    let status = if registered.outcome == RegisterOutcome::Created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    let body = serde_json::to_value(&registered).unwrap_or(Value::Null);
    if registered.outcome != RegisterOutcome::Exists {
        state.publish("resource.registered", body.clone());
    }
    Ok((status, Json(body)))
}

/// Resources with their usage.
#[utoipa::path(
    get,
    path = "/resources",
    operation_id = "listResources",
    tag = "resources",
    params(
        ("type" = Option<String>, Query, pattern = "^(port|domain|volume|network|database|certificate|custom)$", description = "Only this resource type"),
        ("repository" = Option<String>, Query, description = "Only resources this repository holds"),
        ("limit" = Option<u32>, Query, minimum = 1, maximum = 100, description = "1-100, default 20"),
        ("offset" = Option<u32>, Query, minimum = 0, description = "Default 0")
    ),
    responses((status = 200, description = "Resources and pagination", body = crate::schemas::ResourceList), (status = 400, description = "Bad query"), (status = 404, description = "Unknown repository"))
)]
async fn list(State(state): State<AppState>, params: Params) -> ApiResult<Json<Value>> {
    let page = params.page()?;
    let filter = ListFilter {
        resource_type: params.get("type").map(str::parse).transpose()?,
        repository: params.get("repository").map(str::to_string),
    };
    let all = state.store.list(&filter, state.now()).await?;
    // API.md: repository names are fleet names, unknown ones are a 404. A claim may be held by a
    // name outside the fleet (a backup job, say), so such a holder is still a valid filter.
    if let Some(repository) = &filter.repository
        && all.is_empty()
    {
        state
            .snapshot()
            .require_known(std::slice::from_ref(repository))?;
    }
    Ok(Json(json!({
        "resources": page.slice(&all),
        "pagination": page.describe(all.len()),
    })))
}

/// One resource with its live claims.
#[utoipa::path(
    get,
    path = "/resources/{id}/status",
    tag = "resources",
    params(("id" = String, Path, pattern = r"^(port|domain|volume|network|database|certificate|custom):[^\s\x00-\x1f\x7f-\x9f]+$", description = "type:identifier, e.g. port:8080")),
    responses((status = 200, description = "Status", body = crate::schemas::ResourceStatusView), (status = 404, description = "Unknown resource"))
)]
async fn status(State(state): State<AppState>, Path(id): Path<String>) -> ApiResult<Json<Value>> {
    let status = state.store.status(&id, state.now()).await?;
    Ok(Json(serde_json::to_value(&status).unwrap_or(Value::Null)))
}

/// Deletes a resource; 409 while it is claimed.
#[utoipa::path(
    delete,
    path = "/resources/{id}",
    tag = "resources",
    params(("id" = String, Path, pattern = r"^(port|domain|volume|network|database|certificate|custom):[^\s\x00-\x1f\x7f-\x9f]+$", description = "type:identifier")),
    responses((status = 200, description = "Deleted", body = crate::schemas::DeletedResponse), (status = 404, description = "Unknown resource"), (status = 409, description = "Still claimed"))
)]
async fn delete(State(state): State<AppState>, Path(id): Path<String>) -> ApiResult<Json<Value>> {
    state.store.delete_resource(&id, state.now()).await?;
    Ok(Json(json!({ "success": true, "resourceId": id })))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ClaimRequest {
    /// Who holds the claim: 1 to 255 bytes, not blank, no control characters.
    #[schema(
        min_length = 1,
        max_length = 255,
        pattern = r"^[^\x00-\x1f\x7f-\x9f]*[^\s\x00-\x1f\x7f-\x9f][^\x00-\x1f\x7f-\x9f]*$"
    )]
    pub repository: String,
    pub operation: ClaimOperation,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ClaimOperation {
    /// read, backup (shared with each other), write, deploy, maintenance (exclusive), or any
    /// other name (exclusive).
    #[serde(rename = "type")]
    #[schema(pattern = r"^[a-z0-9_.\-]{1,64}$")]
    pub kind: String,
    #[serde(default)]
    pub exclusive: bool,
    /// Seconds until the claim lapses (1 to a year).
    #[serde(default, deserialize_with = "crate::input::opt_whole")]
    #[schema(minimum = 1, maximum = 31536000)]
    pub ttl: Option<u64>,
}

/// Claims a resource for a repository.
#[utoipa::path(
    post,
    path = "/resources/{id}/claim",
    tag = "resources",
    params(("id" = String, Path, pattern = r"^(port|domain|volume|network|database|certificate|custom):[^\s\x00-\x1f\x7f-\x9f]+$", description = "type:identifier")),
    request_body = ClaimRequest,
    responses(
        (status = 201, description = "Claimed", body = crate::schemas::ClaimView),
        (status = 400, description = "Bad input"),
        (status = 404, description = "Unknown resource"),
        (status = 409, description = "RESOURCE_LOCKED, AT_CAPACITY or INCOMPATIBLE_OPERATION, with the holders")
    )
)]
async fn claim(
    State(state): State<AppState>,
    Path(id): Path<String>,
    ApiJson(request): ApiJson<ClaimRequest>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let operation = Operation {
        kind: request.operation.kind,
        exclusive: request.operation.exclusive,
        ttl_seconds: request.operation.ttl,
    };
    let details = json!({ "resourceId": id, "repository": request.repository });
    let claim = state
        .operation(OperationKind::Claim, details, async {
            let claim = state
                .store
                .claim(&id, &request.repository, &operation, state.now())
                .await?;
            Ok((claim, 0))
        })
        .await?;
    let body = serde_json::to_value(&claim).unwrap_or(Value::Null);
    state.publish("resource.claimed", body.clone());
    Ok((StatusCode::CREATED, Json(body)))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RenewRequest {
    /// Seconds from now (1 to a year).
    #[serde(deserialize_with = "crate::input::whole")]
    #[schema(minimum = 1, maximum = 31536000)]
    pub ttl: u64,
}

/// Extends a live claim.
#[utoipa::path(
    post,
    path = "/resources/{id}/claims/{claim_id}/renew",
    tag = "resources",
    params(("id" = String, Path, pattern = r"^(port|domain|volume|network|database|certificate|custom):[^\s\x00-\x1f\x7f-\x9f]+$", description = "type:identifier"), ("claim_id" = String, Path, description = "claim_…")),
    request_body = RenewRequest,
    responses((status = 200, description = "Renewed claim with the new expiresAt", body = crate::schemas::ClaimView), (status = 400, description = "Bad body"), (status = 404, description = "Unknown or expired claim"))
)]
async fn renew(
    State(state): State<AppState>,
    Path((id, claim_id)): Path<(String, String)>,
    ApiJson(request): ApiJson<RenewRequest>,
) -> ApiResult<Json<Value>> {
    let claim = state
        .store
        .renew(&id, &claim_id, request.ttl, state.now())
        .await?;
    Ok(Json(serde_json::to_value(&claim).unwrap_or(Value::Null)))
}

/// Releases a claim.
#[utoipa::path(
    delete,
    path = "/resources/{id}/claims/{claim_id}",
    tag = "resources",
    params(("id" = String, Path, pattern = r"^(port|domain|volume|network|database|certificate|custom):[^\s\x00-\x1f\x7f-\x9f]+$", description = "type:identifier"), ("claim_id" = String, Path, description = "claim_…")),
    responses((status = 200, description = "Released", body = crate::schemas::DeletedResponse), (status = 404, description = "Unknown or expired claim"))
)]
async fn release(
    State(state): State<AppState>,
    Path((id, claim_id)): Path<(String, String)>,
) -> ApiResult<Json<Value>> {
    let details = json!({ "resourceId": id, "claimId": claim_id });
    state
        .operation(OperationKind::Release, details, async {
            state.store.release(&id, &claim_id, state.now()).await?;
            Ok(((), 0))
        })
        .await?;
    let body = json!({ "success": true, "resourceId": id, "claimId": claim_id });
    state.publish("resource.released", body.clone());
    Ok(Json(body))
}
