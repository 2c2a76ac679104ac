//! The answer boundary: every JSON answer is redacted once more before it leaves, so a secret
//! stored by a client (resource metadata, a claim's purpose) or read from a repository is never
//! sent back, whichever handler built the answer.

use axum::body::{Body, to_bytes};
use axum::extract::Request;
use axum::http::header::{CONTENT_LENGTH, CONTENT_TYPE};
use axum::middleware::Next;
use axum::response::Response;
use switchyard_model::redact::redact_json_in_place;

/// Redacts JSON answers. Two answers are left as they are: the OpenAPI document (its schemas
/// name fields like `token`) and the config-sync cache's, which hands clients back the values they
/// stored (docs/CONFIG_SYNC.md; its events are redacted like every event).
pub async fn layer(request: Request, next: Next) -> Response {
    let path = request.uri().path();
    let exempt = path.ends_with("openapi.json") || path.starts_with("/api/config-sync/");
    let response = next.run(request).await;
    let is_json = response
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if exempt || !is_json {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let Ok(bytes) = to_bytes(body, usize::MAX).await else {
        // The handler's body failed mid-way; there is nothing safe to send.
        parts.headers.remove(CONTENT_LENGTH);
        return Response::from_parts(parts, Body::empty());
    };
    let Ok(mut value) = serde_json::from_slice::<serde_json::Value>(&bytes) else {
        return Response::from_parts(parts, Body::from(bytes));
    };
    if !redact_json_in_place("", &mut value) {
        return Response::from_parts(parts, Body::from(bytes));
    }
    parts.headers.remove(CONTENT_LENGTH);
    let body = serde_json::to_vec(&value).unwrap_or_default();
    Response::from_parts(parts, Body::from(body))
}
