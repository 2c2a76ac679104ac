//! `GET /` and `GET /dashboard/{asset}` (the dashboard: plain HTML, CSS and ES modules compiled
//! into the binary, no build step and nothing fetched from elsewhere; it reads the fleet through
//! the REST API and the events socket, see docs/DASHBOARD.md) and `GET /api/openapi.json`.

use std::sync::Arc;

use axum::Router;
use axum::extract::Path;
use axum::http::{HeaderName, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use crate::error::ApiError;
use crate::state::AppState;

const INDEX: &str = include_str!("dashboard/index.html");

/// The dashboard's files: name, content type, content.
const ASSETS: &[(&str, &str, &str)] = &[
    (
        "style.css",
        "text/css; charset=utf-8",
        include_str!("dashboard/style.css"),
    ),
    (
        "core.js",
        "text/javascript; charset=utf-8",
        include_str!("dashboard/core.js"),
    ),
    (
        "app.js",
        "text/javascript; charset=utf-8",
        include_str!("dashboard/app.js"),
    ),
    (
        "graph.js",
        "text/javascript; charset=utf-8",
        include_str!("dashboard/graph.js"),
    ),
    (
        "layout.js",
        "text/javascript; charset=utf-8",
        include_str!("dashboard/layout.js"),
    ),
    (
        "views.js",
        "text/javascript; charset=utf-8",
        include_str!("dashboard/views.js"),
    ),
    (
        "deployments.js",
        "text/javascript; charset=utf-8",
        include_str!("dashboard/deployments.js"),
    ),
];

/// Only our own files, and the events socket on our own origin.
const POLICY: &str = "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'";

fn page(content_type: &'static str, body: &'static str) -> Response {
    (
        [
            (header::CONTENT_TYPE, HeaderValue::from_static(content_type)),
            (
                header::CONTENT_SECURITY_POLICY,
                HeaderValue::from_static(POLICY),
            ),
            (
                HeaderName::from_static("x-content-type-options"),
                HeaderValue::from_static("nosniff"),
            ),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-cache")),
        ],
        body,
    )
        .into_response()
}

async fn asset(Path(name): Path<String>) -> Response {
    match ASSETS.iter().find(|(n, _, _)| *n == name) {
        Some((_, content_type, body)) => page(content_type, body),
        None => ApiError::not_found(format!("the dashboard has no file `{name}`"))
            .with_details(serde_json::json!({
                "files": ASSETS.iter().map(|(n, _, _)| n).collect::<Vec<_>>()
            }))
            .into_response(),
    }
}

pub fn routes(spec: Arc<utoipa::openapi::OpenApi>) -> Router<AppState> {
    Router::new()
        .route(
            "/",
            get(|| async { page("text/html; charset=utf-8", INDEX) }),
        )
        .route("/dashboard/{name}", get(asset))
        .route(
            "/api/openapi.json",
            get(move || {
                let spec = spec.clone();
                async move {
                    match spec.to_json() {
                        Ok(json) => {
                            ([(header::CONTENT_TYPE, "application/json")], json).into_response()
                        }
                        Err(e) => crate::error::ApiError::internal(format!(
                            "cannot render the OpenAPI document: {e}"
                        ))
                        .into_response(),
                    }
                }
            }),
        )
}
