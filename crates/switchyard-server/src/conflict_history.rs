//! The conflict history: one store record (kind `conflict_history`, id = the conflict id) per
//! conflict ever reported, with when it was first and last seen and how it ended (a resolution
//! applied through the API, or "no longer detected"). Updated by every conflict check and every
//! resolution; a conflict that comes back is reopened.

use std::collections::{BTreeSet, HashMap};

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use switchyard_conflicts::Conflict;
use switchyard_store::{StoreError, Timestamp};
use tokio::sync::Mutex;

use crate::state::AppState;

/// Store record kind.
pub const HISTORY_KIND: &str = "conflict_history";

/// Serializes read-modify-write of history records (checks and resolutions race otherwise).
static LOCK: Mutex<()> = Mutex::const_new(());

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct HistoryEntry {
    pub id: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub resource: String,
    pub severity: String,
    pub host: String,
    pub environment: String,
    pub repositories: Vec<String>,
    #[schema(value_type = String)]
    pub first_seen: Timestamp,
    #[schema(value_type = String)]
    pub last_seen: Timestamp,
    /// How it ended: `{ strategy, verified, changes }` from a resolution, or
    /// `{ reason: "no longer detected" }`. `None` while open.
    pub resolution: Option<Value>,
    #[schema(value_type = Option<String>)]
    pub resolved_at: Option<Timestamp>,
}

impl HistoryEntry {
    fn new(conflict: &Conflict, now: Timestamp) -> Self {
        HistoryEntry {
            id: conflict.id.clone(),
            kind: conflict.kind.as_str().to_string(),
            resource: conflict.resource.clone(),
            severity: serde_json::to_value(conflict.severity)
                .ok()
                .and_then(|v| v.as_str().map(str::to_string))
                .unwrap_or_default(),
            host: conflict.host.clone(),
            environment: conflict.environment.clone(),
            repositories: conflict.repositories.clone(),
            first_seen: now,
            last_seen: now,
            resolution: None,
            resolved_at: None,
        }
    }
}

async fn load(state: &AppState) -> Result<HashMap<String, HistoryEntry>, StoreError> {
    Ok(state
        .store
        .list_records(HISTORY_KIND)
        .await?
        .into_iter()
        .filter_map(|r| serde_json::from_value::<HistoryEntry>(r.body).ok())
        .map(|e| (e.id.clone(), e))
        .collect())
}

async fn save(state: &AppState, entry: &HistoryEntry, now: Timestamp) -> Result<(), StoreError> {
    let body = serde_json::to_value(entry).unwrap_or(Value::Null);
    state
        .store
        .put_record(HISTORY_KIND, &entry.id, &body, now)
        .await
}

/// Records that `seen` were reported at `now`, and closes open entries that are not in
/// `current` (every conflict id of the snapshot) any more.
pub async fn observe(
    state: &AppState,
    seen: &[&Conflict],
    current: &BTreeSet<&str>,
    now: Timestamp,
) -> Result<(), StoreError> {
    let _guard = LOCK.lock().await;
    let mut known = load(state).await?;
    let mut changed = Vec::new();
    for conflict in seen {
        let entry = match known.remove(&conflict.id) {
            Some(mut entry) => {
                if entry.last_seen == now && entry.resolved_at.is_none() {
                    continue;
                }
                entry.last_seen = now;
                if entry.resolved_at.take().is_some() {
                    // It came back: reopened.
                    entry.resolution = None;
                }
                entry
            }
            None => HistoryEntry::new(conflict, now),
        };
        changed.push(entry);
    }
    for mut entry in known.into_values() {
        if entry.resolved_at.is_none() && !current.contains(entry.id.as_str()) {
            entry.resolved_at = Some(now);
            entry.resolution = Some(json!({ "reason": "no longer detected" }));
            changed.push(entry);
        }
    }
    // Issued together, the writes share the ledger writer's group commits instead of paying
    // one transaction each (hundreds of conflicts on a large fleet).
    let saves = changed.iter().map(|entry| save(state, entry, now));
    futures_util::future::join_all(saves)
        .await
        .into_iter()
        .collect()
}

/// Records a resolution applied to `conflict`; it counts as resolved when `verified`.
pub async fn resolved(
    state: &AppState,
    conflict: &Conflict,
    resolution: Value,
    verified: bool,
    now: Timestamp,
) -> Result<(), StoreError> {
    let _guard = LOCK.lock().await;
    let mut entry = state
        .store
        .get_record(HISTORY_KIND, &conflict.id)
        .await?
        .and_then(|body| serde_json::from_value::<HistoryEntry>(body).ok())
        .unwrap_or_else(|| HistoryEntry::new(conflict, now));
    entry.last_seen = now;
    entry.resolution = Some(resolution);
    entry.resolved_at = verified.then_some(now);
    save(state, &entry, now).await
}

/// Every entry, most recently seen first (then by id), optionally of one type.
pub async fn list(state: &AppState, kind: Option<&str>) -> Result<Vec<HistoryEntry>, StoreError> {
    let mut all: Vec<HistoryEntry> = load(state)
        .await?
        .into_values()
        .filter(|e| kind.is_none_or(|k| e.kind == k))
        .collect();
    all.sort_by(|a, b| b.last_seen.cmp(&a.last_seen).then(a.id.cmp(&b.id)));
    Ok(all)
}
