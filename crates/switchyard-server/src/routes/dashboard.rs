//! `GET /` (a one-page dashboard over the API: health, the repository dependency graph, alerts
//! with acknowledgement, resources, recent operations; self-contained, no external assets) and
//! `GET /api/openapi.json`.

use std::sync::Arc;

use axum::Router;
use axum::http::header;
use axum::response::{Html, IntoResponse};
use axum::routing::get;

use crate::state::AppState;

const DASHBOARD: &str = include_str!("dashboard.html");

pub fn routes(spec: Arc<utoipa::openapi::OpenApi>) -> Router<AppState> {
    Router::new()
        .route("/", get(|| async { Html(DASHBOARD) }))
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
