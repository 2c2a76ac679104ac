//! Seed `004`'s backend for the shared micro-frontend cache, under `/api/config-sync`:
//! `POST /sync`, `/set`, `/remove`, `/clear`. The merge rules (last writer wins, tie-breaks,
//! TTL, tombstones) are in [`crate::config_sync`]; this file parses input, serializes writes
//! through `state.coordination`, persists every accepted version as a store record (kind
//! `config_key`, id = the key; the change clock and clear watermark in `config_sync_meta/state`)
//! so keys survive a restart, and publishes `config.changed` with secret values redacted.
//!
//! Timestamps are milliseconds (JavaScript `Date.now()`); `ttl` is seconds.

use axum::Json;
use axum::extract::State;
use serde::Deserialize;
use serde_json::{Value, json};
use switchyard_model::redact::redact_json;
use switchyard_monitor::OperationKind;
use switchyard_store::Timestamp;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::config_sync::{Applied, Change, Entry, SyncState};
use crate::error::{ApiError, ApiResult};
use crate::input::ApiJson;
use crate::state::AppState;

/// Store record kind of one key's winning version.
pub const KEY_KIND: &str = "config_key";
/// Store record kind of the change clock and clear watermark (one record, id `state`).
pub const META_KIND: &str = "config_sync_meta";
const META_ID: &str = "state";
/// Most changes accepted in one sync.
const MAX_CHANGES: usize = 1000;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(sync))
        .routes(routes!(set))
        .routes(routes!(remove))
        .routes(routes!(clear))
        .routes(routes!(force_delete))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct SyncRequest {
    /// The `timestamp` of the previous sync answer (0 or absent: everything).
    #[serde(default)]
    #[schema(minimum = 0, exclusive_maximum = 9007199254740992_f64)]
    pub last_sync: Option<f64>,
    #[serde(default)]
    pub changes: Vec<ChangeRequest>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChangeRequest {
    #[schema(min_length = 1, pattern = r"^[^\x00-\x1f\x7f-\x9f]+$")]
    pub key: String,
    #[serde(default)]
    pub value: Value,
    #[serde(default)]
    #[schema(minimum = 0, exclusive_maximum = 1e12)]
    pub ttl: Option<f64>,
    /// Milliseconds since the epoch.
    #[schema(minimum = 0, exclusive_maximum = 9007199254740992_f64)]
    pub timestamp: f64,
    #[serde(default)]
    pub deleted: bool,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SetRequest {
    #[schema(min_length = 1, pattern = r"^[^\x00-\x1f\x7f-\x9f]+$")]
    pub key: String,
    pub value: Value,
    /// Seconds; 0 or absent never expires.
    #[serde(default)]
    #[schema(minimum = 0, exclusive_maximum = 1e12)]
    pub ttl: Option<f64>,
    /// Milliseconds since the epoch.
    #[schema(minimum = 0, exclusive_maximum = 9007199254740992_f64)]
    pub timestamp: f64,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RemoveRequest {
    #[schema(min_length = 1, pattern = r"^[^\x00-\x1f\x7f-\x9f]+$")]
    pub key: String,
    /// Milliseconds since the epoch.
    #[schema(minimum = 0, exclusive_maximum = 9007199254740992_f64)]
    pub timestamp: f64,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ClearRequest {
    /// Milliseconds since the epoch.
    #[schema(minimum = 0, exclusive_maximum = 9007199254740992_f64)]
    pub timestamp: f64,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ForceDeleteRequest {
    #[schema(min_length = 1, pattern = r"^[^\x00-\x1f\x7f-\x9f]+$")]
    pub key: String,
}

/// Refuses a writer `timestamp` further ahead of the server's clock than
/// `[server] config_sync_max_skew_seconds`: last writer wins would let it pin the key forever.
fn not_ahead(state: &AppState, field: &str, timestamp: i64) -> Result<(), ApiError> {
    let now = state.now();
    let skew = state.config.config_sync_max_skew_seconds;
    let limit = now
        .unix_millis()
        .saturating_add(i64::try_from(skew).unwrap_or(i64::MAX).saturating_mul(1000));
    if timestamp <= limit {
        return Ok(());
    }
    Err(ApiError::new(
        axum::http::StatusCode::UNPROCESSABLE_ENTITY,
        "CLOCK_SKEW",
        format!(
            "`{field}` is more than {skew} s ahead of the server's clock ({}); check the \
             client's clock",
            now.to_rfc3339()
        ),
    )
    .with_details(json!({
        "field": field,
        "timestamp": timestamp,
        "serverTime": now.unix_millis(),
        "serverTimeIso": now.to_rfc3339(),
        "maxSkewSeconds": skew,
    })))
}

/// Milliseconds from a JSON number: finite, ≥ 0, below 2^53.
fn millis(field: &str, value: f64) -> Result<i64, ApiError> {
    if value.is_finite() && (0.0..9_007_199_254_740_992.0).contains(&value) {
        Ok(value.trunc() as i64)
    } else {
        Err(ApiError::validation(format!(
            "`{field}` must be milliseconds since the epoch (≥ 0)"
        ))
        .with_details(json!({ "field": field })))
    }
}

/// Seconds from a JSON number: finite, ≥ 0 (rounded up).
fn seconds(value: Option<f64>) -> Result<Option<u64>, ApiError> {
    match value {
        None => Ok(None),
        Some(v) if v.is_finite() && (0.0..1e12).contains(&v) => Ok(Some(v.ceil() as u64)),
        Some(_) => Err(ApiError::validation(
            "`ttl` must be a number of seconds from 0 to below 10^12",
        )
        .with_details(json!({ "field": "ttl" }))),
    }
}

fn change(state: &AppState, request: ChangeRequest) -> Result<Change, ApiError> {
    let timestamp = millis("timestamp", request.timestamp)?;
    not_ahead(state, "timestamp", timestamp)?;
    let change = if request.deleted {
        Change::remove(&request.key, timestamp)
    } else {
        Change::set(
            &request.key,
            request.value,
            seconds(request.ttl)?,
            timestamp,
        )
    };
    change
        .validate()
        .map_err(|m| ApiError::validation(m).with_details(json!({ "key": request.key })))?;
    Ok(change)
}

/// The seed's update shape, plus `expiresAt` (milliseconds) when the version expires.
fn public(entry: &Entry) -> Value {
    let mut out = json!({
        "key": entry.key,
        "value": entry.value,
        "ttl": entry.ttl,
        "timestamp": entry.timestamp,
        "deleted": entry.deleted,
    });
    if let (Some(at), Some(map)) = (entry.expires_at(), out.as_object_mut()) {
        map.insert("expiresAt".into(), json!(at));
    }
    out
}

async fn load(state: &AppState) -> ApiResult<SyncState> {
    let mut sync = SyncState::default();
    for record in state.store.list_records(KEY_KIND).await? {
        if let Ok(entry) = serde_json::from_value::<Entry>(record.body) {
            sync.entries.insert(entry.key.clone(), entry);
        }
    }
    if let Some(meta) = state.store.get_record(META_KIND, META_ID).await? {
        sync.clock = meta["clock"].as_i64().unwrap_or(0);
        sync.cleared_at = meta["clearedAt"].as_i64();
        sync.purged_timestamp = meta["purgedTimestamp"].as_i64();
        sync.purged_seq = meta["purgedSeq"].as_i64();
    }
    // The clock is at least every stamp handed out, even if the meta record lags.
    let highest = sync.entries.values().map(|e| e.seq).max().unwrap_or(0);
    sync.clock = sync.clock.max(highest);
    Ok(sync)
}

/// Retention: forgets tombstones and expired versions written before `cutoff`; returns how many.
pub async fn purge(state: &AppState, cutoff: Timestamp) -> ApiResult<u64> {
    let _guard = state.coordination.lock().await;
    let mut sync = load(state).await?;
    let now = state.now();
    let gone = sync.purge(cutoff.unix_millis(), now.unix_millis());
    if gone.is_empty() {
        return Ok(0);
    }
    // The watermarks first: a crash between the two leaves extra entries, never a lost order.
    save(state, &sync, &[]).await?;
    let mut removed = 0;
    for key in &gone {
        if state.store.delete_record(KEY_KIND, key, now).await? {
            removed += 1;
        }
    }
    Ok(removed)
}

async fn save(state: &AppState, sync: &SyncState, changed: &[Entry]) -> ApiResult<()> {
    let now = state.now();
    for entry in changed {
        let body = serde_json::to_value(entry)
            .map_err(|e| ApiError::internal(format!("config entry: {e}")))?;
        state
            .store
            .put_record(KEY_KIND, &entry.key, &body, now)
            .await?;
    }
    let meta = json!({
        "clock": sync.clock,
        "clearedAt": sync.cleared_at,
        "purgedTimestamp": sync.purged_timestamp,
        "purgedSeq": sync.purged_seq,
    });
    state
        .store
        .put_record(META_KIND, META_ID, &meta, now)
        .await?;
    Ok(())
}

fn publish(state: &AppState, action: &str, entry: &Entry) {
    state.publish(
        "config.changed",
        json!({
            "action": action,
            "key": entry.key,
            "value": redact_json(&entry.key, &entry.value),
            "deleted": entry.deleted,
            "timestamp": entry.timestamp,
            "ttl": entry.ttl,
        }),
    );
}

/// Applies `changes` to a loaded state (the caller holds `state.coordination`), persists and
/// publishes what won.
async fn apply_all(
    state: &AppState,
    sync: &mut SyncState,
    action: &str,
    changes: Vec<Change>,
) -> ApiResult<Vec<Applied>> {
    let now = state.now().unix_millis();
    let applied: Vec<Applied> = changes.into_iter().map(|c| sync.apply(c, now)).collect();
    let accepted: Vec<Entry> = applied
        .iter()
        .filter_map(|a| match a {
            Applied::Accepted(e) => Some(e.clone()),
            _ => None,
        })
        .collect();
    if !accepted.is_empty() {
        save(state, sync, &accepted).await?;
        for entry in &accepted {
            publish(state, action, entry);
        }
    }
    Ok(applied)
}

/// One write under the coordination lock.
async fn write(state: &AppState, action: &str, change: Change) -> ApiResult<(SyncState, Applied)> {
    let _guard = state.coordination.lock().await;
    let mut sync = load(state).await?;
    let applied = apply_all(state, &mut sync, action, vec![change]).await?;
    let applied = applied
        .into_iter()
        .next()
        .unwrap_or(Applied::Rejected(None));
    Ok((sync, applied))
}

/// One answer per single write: whether it won, and the version now stored.
fn single(applied: &Applied, timestamp: i64) -> Value {
    let (won, current) = match applied {
        Applied::Accepted(e) | Applied::Unchanged(e) => (true, Some(e)),
        Applied::Rejected(e) => (false, e.as_ref()),
    };
    json!({
        "success": true,
        "applied": won,
        "current": current.map(public),
        "timestamp": timestamp,
    })
}

/// Sends the client's offline changes and receives what changed since its last sync.
#[utoipa::path(
    post,
    path = "/api/config-sync/sync",
    tag = "config-sync",
    request_body = SyncRequest,
    responses(
        (status = 200, description = "`{ updates: [{key, value, ttl, timestamp, deleted}], full, timestamp }`: versions changed since `lastSync` that the client does not have (expired ones left out; every live entry with `full: true` when `lastSync` predates purged versions), and the server timestamp to send as the next `lastSync`", body = crate::schemas::SyncResponse),
        (status = 400, description = "Bad input"),
        (status = 422, description = "CLOCK_SKEW: a `timestamp` is more than `config_sync_max_skew_seconds` ahead of the server's clock; `details.serverTime` is the server's time in milliseconds")
    )
)]
async fn sync(
    State(state): State<AppState>,
    ApiJson(request): ApiJson<SyncRequest>,
) -> ApiResult<Json<Value>> {
    if request.changes.len() > MAX_CHANGES {
        return Err(ApiError::validation(format!(
            "at most {MAX_CHANGES} changes per sync"
        )));
    }
    let last_sync = match request.last_sync {
        Some(v) => millis("lastSync", v)?,
        None => 0,
    };
    let changes: Vec<Change> = request
        .changes
        .into_iter()
        .map(|c| change(&state, c))
        .collect::<Result<_, _>>()?;
    let details = json!({ "changes": changes.len() });
    state
        .operation(OperationKind::ConfigSync, details, async {
            let _guard = state.coordination.lock().await;
            let mut sync = load(&state).await?;
            let applied = apply_all(&state, &mut sync, "sync", changes.clone()).await?;
            let now = state.now().unix_millis();
            // The client already has what it sent when that version won (or was stored).
            let known: Vec<Change> = changes
                .iter()
                .zip(&applied)
                .filter(|(_, a)| !matches!(a, Applied::Rejected(_)))
                .map(|(c, _)| c.clone())
                .collect();
            // A client from before a purge may have missed a deletion: it gets everything live
            // and replaces its cache.
            let full = sync.needs_full_sync(last_sync);
            let since = if full { 0 } else { last_sync };
            let mut updates: Vec<Entry> = sync.updates_since(since, now, &known);
            // Where the client's change lost, it needs the winner even if that is old.
            for a in &applied {
                if let Applied::Rejected(Some(current)) = a
                    && !current.expired(now)
                    && !updates.iter().any(|u| u.key == current.key)
                {
                    updates.push(current.clone());
                }
            }
            updates.sort_by(|a, b| a.key.cmp(&b.key));
            let before = sync.clock;
            let timestamp = sync.sync_timestamp(now);
            if timestamp != before {
                save(&state, &sync, &[]).await?;
            }
            let body = json!({
                "updates": updates.iter().map(public).collect::<Vec<_>>(),
                "full": full,
                "timestamp": timestamp,
                "accepted": applied.iter().filter(|a| matches!(a, Applied::Accepted(_))).count(),
                "rejected": applied.iter().filter(|a| matches!(a, Applied::Rejected(_))).count(),
            });
            Ok((Json(body), 0))
        })
        .await
}

/// Sets one key (last writer wins by `timestamp`).
#[utoipa::path(
    post,
    path = "/api/config-sync/set",
    tag = "config-sync",
    request_body = SetRequest,
    responses(
        (status = 200, description = "`{ success, applied, current, timestamp }`: `applied` is false when a newer version (or a clear) wins; `current` is the stored version", body = crate::schemas::ConfigWriteResponse),
        (status = 400, description = "Bad input"),
        (status = 422, description = "CLOCK_SKEW: a `timestamp` is more than `config_sync_max_skew_seconds` ahead of the server's clock; `details.serverTime` is the server's time in milliseconds")
    )
)]
async fn set(
    State(state): State<AppState>,
    ApiJson(request): ApiJson<SetRequest>,
) -> ApiResult<Json<Value>> {
    let change = change(
        &state,
        ChangeRequest {
            key: request.key,
            value: request.value,
            ttl: request.ttl,
            timestamp: request.timestamp,
            deleted: false,
        },
    )?;
    let (sync, applied) = write(&state, "set", change).await?;
    Ok(Json(single(&applied, sync.clock)))
}

/// Removes one key, leaving a tombstone so an older write cannot bring it back.
#[utoipa::path(
    post,
    path = "/api/config-sync/remove",
    tag = "config-sync",
    request_body = RemoveRequest,
    responses(
        (status = 200, description = "`{ success, applied, current, timestamp }`", body = crate::schemas::ConfigWriteResponse),
        (status = 400, description = "Bad input"),
        (status = 422, description = "CLOCK_SKEW: a `timestamp` is more than `config_sync_max_skew_seconds` ahead of the server's clock; `details.serverTime` is the server's time in milliseconds")
    )
)]
async fn remove(
    State(state): State<AppState>,
    ApiJson(request): ApiJson<RemoveRequest>,
) -> ApiResult<Json<Value>> {
    let change = change(
        &state,
        ChangeRequest {
            key: request.key,
            value: Value::Null,
            ttl: None,
            timestamp: request.timestamp,
            deleted: true,
        },
    )?;
    let (sync, applied) = write(&state, "remove", change).await?;
    Ok(Json(single(&applied, sync.clock)))
}

/// Clears every key older than `timestamp`; writes older than it are refused afterwards.
#[utoipa::path(
    post,
    path = "/api/config-sync/clear",
    tag = "config-sync",
    request_body = ClearRequest,
    responses(
        (status = 200, description = "`{ success, cleared: [key], timestamp }`", body = crate::schemas::ConfigClearResponse),
        (status = 400, description = "Bad input"),
        (status = 422, description = "CLOCK_SKEW: a `timestamp` is more than `config_sync_max_skew_seconds` ahead of the server's clock; `details.serverTime` is the server's time in milliseconds")
    )
)]
async fn clear(
    State(state): State<AppState>,
    ApiJson(request): ApiJson<ClearRequest>,
) -> ApiResult<Json<Value>> {
    let timestamp = millis("timestamp", request.timestamp)?;
    not_ahead(&state, "timestamp", timestamp)?;
    let _guard = state.coordination.lock().await;
    let now = state.now().unix_millis();
    let mut sync = load(&state).await?;
    let cleared = sync.clear(timestamp, now);
    save(&state, &sync, &cleared).await?;
    for entry in &cleared {
        publish(&state, "clear", entry);
    }
    Ok(Json(json!({
        "success": true,
        "cleared": cleared.iter().map(|e| e.key.as_str()).collect::<Vec<_>>(),
        "timestamp": sync.clock,
    })))
}

/// Deletes a key whatever its `timestamp`: the repair for a key a wrong client clock pinned.
#[utoipa::path(
    post,
    path = "/api/config-sync/force-delete",
    tag = "config-sync",
    request_body = ForceDeleteRequest,
    responses(
        (status = 200, description = "`{ success, key, existed, current, timestamp }`: the key is a tombstone stamped with the server's time (any later write wins), and clear/purge watermarks ahead of the server's clock are pulled back to it", body = crate::schemas::ConfigForceDeleteResponse),
        (status = 400, description = "Bad input"),
        (status = 403, description = "The token lacks the `admin` scope")
    )
)]
async fn force_delete(
    State(state): State<AppState>,
    ApiJson(request): ApiJson<ForceDeleteRequest>,
) -> ApiResult<Json<Value>> {
    Change::remove(&request.key, 0)
        .validate()
        .map_err(|m| ApiError::validation(m).with_details(json!({ "key": request.key })))?;
    let _guard = state.coordination.lock().await;
    let now = state.now().unix_millis();
    let mut sync = load(&state).await?;
    let tombstone = sync.force_delete(&request.key, now);
    let changed: Vec<Entry> = tombstone.iter().cloned().collect();
    save(&state, &sync, &changed).await?;
    if let Some(entry) = &tombstone {
        publish(&state, "force-delete", entry);
    }
    Ok(Json(json!({
        "success": true,
        "key": request.key,
        "existed": tombstone.is_some(),
        "current": tombstone.as_ref().map(public),
        "timestamp": sync.clock,
    })))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_never_carry_secret_values() {
        assert_eq!(redact_json("API_TOKEN", &json!("abc")), json!("***"));
        assert_eq!(
            redact_json(
                "settings",
                &json!({"dbPassword": "x", "url": "postgres://u:pw@db/app", "n": 1})
            ),
            json!({"dbPassword": "***", "url": "postgres://u:***@db/app", "n": 1})
        );
        assert_eq!(redact_json("API_TOKEN", &Value::Null), Value::Null);
    }

    #[test]
    fn numbers_are_checked() {
        assert_eq!(millis("t", 1.5).ok(), Some(1));
        assert!(millis("t", -1.0).is_err());
        assert!(millis("t", f64::NAN).is_err());
        assert_eq!(seconds(Some(1.2)).ok(), Some(Some(2)));
        assert!(seconds(Some(-3.0)).is_err());
    }
}
