//! Deployments and recorded durations in the store: load, save, the durations that feed the
//! estimates, and retention of finished deployments.

use serde_json::json;
use switchyard_store::{RecordVersion, Store, Timestamp};

use super::{DEPLOYMENT_KIND, DURATIONS_KIND, Deployment, push_duration};
use crate::error::{ApiError, ApiResult};

/// The stored deployment `id`; 404 when there is none.
pub async fn load(store: &dyn Store, id: &str) -> ApiResult<Deployment> {
    let not_found = || {
        ApiError::not_found(format!("deployment `{id}` does not exist"))
            .with_details(json!({ "coordinationId": id }))
    };
    let body = store
        .get_record(DEPLOYMENT_KIND, id)
        .await?
        .ok_or_else(not_found)?;
    serde_json::from_value(body)
        .map_err(|e| ApiError::internal(format!("stored deployment `{id}` is unreadable: {e}")))
}

/// Every stored deployment; one that cannot be read any more is skipped.
pub async fn list(store: &dyn Store) -> ApiResult<Vec<Deployment>> {
    let records = store.list_records(DEPLOYMENT_KIND).await?;
    Ok(records
        .into_iter()
        .filter_map(|r| serde_json::from_value(r.body).ok())
        .collect())
}

/// The stored deployment `id` and the version an update must replace; 404 when there is none.
pub async fn load_versioned(store: &dyn Store, id: &str) -> ApiResult<(Deployment, RecordVersion)> {
    let (body, version) = store
        .get_record_versioned(DEPLOYMENT_KIND, id)
        .await?
        .ok_or_else(|| {
            ApiError::not_found(format!("deployment `{id}` does not exist"))
                .with_details(json!({ "coordinationId": id }))
        })?;
    let deployment = serde_json::from_value(body)
        .map_err(|e| ApiError::internal(format!("stored deployment `{id}` is unreadable: {e}")))?;
    Ok((deployment, version))
}

/// How many times an update is re-read and re-applied after another replica changed the same
/// deployment first.
pub const UPDATE_ATTEMPTS: usize = 8;

/// Writes `deployment` only over `version` (what the update was computed from); `false` when
/// another replica changed it since (re-read and re-apply). The process-wide coordination lock
/// orders updates within one replica; this orders them across replicas.
pub async fn save_over(
    store: &dyn Store,
    deployment: &Deployment,
    version: &RecordVersion,
    now: Timestamp,
) -> ApiResult<bool> {
    let body = serde_json::to_value(deployment)
        .map_err(|e| ApiError::internal(format!("cannot encode deployment: {e}")))?;
    Ok(store
        .swap_record(DEPLOYMENT_KIND, &deployment.id, Some(version), &body, now)
        .await?)
}

/// The answer when every attempt lost to another replica's update.
pub fn contended(id: &str) -> ApiError {
    ApiError::new(
        axum::http::StatusCode::CONFLICT,
        "CONCURRENT_UPDATE",
        format!(
            "deployment `{id}` kept changing through other replicas while this update was applied; retry"
        ),
    )
    .with_details(json!({ "coordinationId": id }))
}

pub async fn save(store: &dyn Store, deployment: &Deployment, now: Timestamp) -> ApiResult<()> {
    let body = serde_json::to_value(deployment)
        .map_err(|e| ApiError::internal(format!("cannot encode deployment: {e}")))?;
    store
        .put_record(DEPLOYMENT_KIND, &deployment.id, &body, now)
        .await?;
    Ok(())
}

/// The recorded success durations of `repository`, oldest first.
pub async fn durations(store: &dyn Store, repository: &str) -> ApiResult<Vec<f64>> {
    let body = store.get_record(DURATIONS_KIND, repository).await?;
    Ok(body
        .and_then(|b| serde_json::from_value::<Vec<f64>>(b["durations"].clone()).ok())
        .unwrap_or_default())
}

/// Appends a success duration of `repository`, keeping the newest ones.
pub async fn record_duration(
    store: &dyn Store,
    repository: &str,
    seconds: f64,
    now: Timestamp,
) -> ApiResult<()> {
    // Compare-and-swap, so two replicas recording at once both keep their sample.
    for _ in 0..UPDATE_ATTEMPTS {
        let read = store
            .get_record_versioned(DURATIONS_KIND, repository)
            .await?;
        let mut kept = read
            .as_ref()
            .and_then(|(b, _)| serde_json::from_value::<Vec<f64>>(b["durations"].clone()).ok())
            .unwrap_or_default();
        push_duration(&mut kept, seconds);
        let body = json!({ "repository": repository, "durations": kept });
        let version = read.as_ref().map(|(_, v)| v);
        if store
            .swap_record(DURATIONS_KIND, repository, version, &body, now)
            .await?
        {
            return Ok(());
        }
    }
    Err(contended(repository))
}

/// Deletes deployments that finished before `cutoff`; returns how many. Unfinished ones stay
/// whatever their age: their record is what names them when their claims block a plan.
pub async fn prune_finished(store: &dyn Store, cutoff: Timestamp, now: Timestamp) -> u64 {
    let Ok(records) = store.list_records(DEPLOYMENT_KIND).await else {
        return 0;
    };
    let mut pruned = 0;
    for record in records {
        let finished_at = serde_json::from_value::<Deployment>(record.body)
            .ok()
            .and_then(|d| d.finished_at);
        if finished_at.is_some_and(|at| at < cutoff)
            && store
                .delete_record(DEPLOYMENT_KIND, &record.id, now)
                .await
                .unwrap_or(false)
        {
            pruned += 1;
        }
    }
    pruned
}
