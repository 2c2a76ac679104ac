//! The routes, one file per area of API.md. Each area returns an `OpenApiRouter` so a route
//! and its OpenAPI entry are registered by the same `routes!` line and cannot drift apart.

pub mod config_sync;
pub mod conflicts;
pub mod dashboard;
pub mod dependencies;
pub mod deployments;
pub mod events;
pub mod graph;
pub mod monitoring;
pub mod resources;
pub mod webhooks;

use utoipa_axum::router::OpenApiRouter;

use crate::state::AppState;

/// Everything under `/api/coordination`.
pub fn coordination() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .merge(dependencies::routes())
        .merge(graph::routes())
        .merge(deployments::routes())
        .merge(resources::routes())
        .merge(conflicts::routes())
        .merge(monitoring::routes())
        .merge(events::routes())
}
