//! The OpenAPI 3.1 document. Areas register their routes through `utoipa_axum::routes!`, so
//! the document is built from the same list the router is; the two plain routes of
//! `routes::dashboard` (`GET /` and this document) are added by hand in [`assemble`].

use axum::Router;
use utoipa::OpenApi;
use utoipa::openapi::HttpMethod;
use utoipa::openapi::path::OperationBuilder;
use utoipa::openapi::response::Response;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa_axum::router::OpenApiRouter;

use crate::routes;
use crate::state::AppState;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Switchyard coordination API",
        description = "Cross-repository dependency analysis, deployment coordination, the shared-resource ledger, conflicts and monitoring. Errors are `{ success:false, error, message, details, requestId, timestamp }`.",
        license(name = "MIT OR Apache-2.0")
    ),
    modifiers(&BearerAuth),
    components(schemas(ErrorResponse)),
    tags(
        (name = "dependencies", description = "The fleet's dependency graph"),
        (name = "deployments", description = "Deployment coordination"),
        (name = "resources", description = "The shared-resource ledger"),
        (name = "conflicts", description = "Conflicts, resolutions, configuration"),
        (name = "monitoring", description = "Metrics, alerts, operations, health"),
        (name = "events", description = "WebSocket event stream"),
        (name = "webhooks", description = "GitHub webhooks"),
        (name = "config-sync", description = "Shared configuration sync (seed 004)"),
        (name = "meta", description = "The dashboard and this document")
    )
)]
struct ApiDoc;

/// The body of every non-2xx answer (API.md "Errors").
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
struct ErrorResponse {
    /// Always `false`.
    success: bool,
    /// VALIDATION_ERROR, UNAUTHORIZED, FORBIDDEN, NOT_FOUND, RESOURCE_CONFLICTS, RESOURCE_LOCKED,
    /// AT_CAPACITY, INCOMPATIBLE_OPERATION, CIRCULAR_DEPENDENCY, PLAN_EXCEEDS_TIMEOUT,
    /// PAYLOAD_TOO_LARGE, RATE_LIMITED, INTERNAL, ...
    error: String,
    /// Human-readable explanation.
    message: String,
    /// Machine-readable specifics (unknown repositories, holders, cycle paths, ...).
    details: Option<serde_json::Value>,
    /// The request's `X-Correlation-ID`.
    #[schema(rename = "requestId")]
    request_id: String,
    /// RFC 3339.
    timestamp: String,
}

/// Every documented error answer, and a `default` one for what any layer may answer (401,
/// 403, 413, 429, ...), carries the [`ErrorResponse`] schema.
fn document_errors(spec: &mut utoipa::openapi::OpenApi) {
    use utoipa::openapi::{Content, Ref, RefOr};
    let error = Content::new(Some(Ref::from_schema_name("ErrorResponse")));
    for item in spec.paths.paths.values_mut() {
        let operations = [
            &mut item.get,
            &mut item.post,
            &mut item.put,
            &mut item.patch,
            &mut item.delete,
        ];
        for operation in operations.into_iter().flatten() {
            for (status, response) in operation.responses.responses.iter_mut() {
                let is_error = status.starts_with('4') || status.starts_with('5');
                if let RefOr::T(response) = response
                    && is_error
                    && response.content.is_empty()
                {
                    response
                        .content
                        .insert("application/json".to_string(), error.clone());
                }
            }
            operation
                .responses
                .responses
                .entry("default".to_string())
                .or_insert_with(|| {
                    let mut response = Response::new("An error, in the API's error model");
                    response
                        .content
                        .insert("application/json".to_string(), error.clone());
                    RefOr::T(response)
                });
        }
    }
}

struct BearerAuth;

impl utoipa::Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

/// The document as pretty JSON, as `GET /api/openapi.json` serves it (for
/// `scripts/openapi-validate.sh`, through `cargo run --example openapi`).
pub fn document_json() -> Result<String, serde_json::Error> {
    serde_json::to_string_pretty(&assemble().1)
}

/// The documented routes and their document.
pub fn assemble() -> (Router<AppState>, utoipa::openapi::OpenApi) {
    let (router, mut spec) = OpenApiRouter::with_openapi(ApiDoc::openapi())
        .nest("/api/coordination", routes::coordination())
        .merge(routes::webhooks::routes())
        .merge(routes::config_sync::routes())
        .merge(routes::monitoring::top_level())
        .split_for_parts();
    // Served by `routes::dashboard` as plain axum routes (the document cannot describe itself
    // through `routes!`, it does not exist yet when they are registered).
    for (path, id, summary, response) in [
        ("/", "dashboard", "The dashboard", "HTML page"),
        (
            "/api/openapi.json",
            "openApiDocument",
            "This OpenAPI 3.1 document",
            "The document as JSON",
        ),
    ] {
        let operation = OperationBuilder::new()
            .operation_id(Some(id))
            .tag("meta")
            .summary(Some(summary))
            .response("200", Response::new(response))
            .build();
        spec.paths
            .add_path_operation(path, vec![HttpMethod::Get], operation);
    }
    document_errors(&mut spec);
    (router, spec)
}
