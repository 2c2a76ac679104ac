//! Background work: restoring alerts at start, and the housekeeping loop that evaluates alert
//! rules, sweeps expired claims and applies retention.

use std::collections::HashMap;
use std::sync::Arc;

use serde_json::json;
use switchyard_monitor::{Alert, AlertChange, AlertInputs, AlertQuery, AlertRule};
use switchyard_store::{ListFilter, Timestamp};
use tokio::sync::Mutex;
use tokio::task::JoinHandle;

use crate::ServeError;
use crate::state::AppState;

/// Store record kind of alerts.
pub const ALERT_KIND: &str = "alert";

/// Loads stored alerts into the monitor, so a restart neither forgets active alerts nor
/// raises them a second time.
pub async fn restore(state: &AppState) -> Result<(), ServeError> {
    let records = state.store.list_records(ALERT_KIND).await?;
    let alerts: Vec<Alert> = records
        .into_iter()
        .filter_map(|r| serde_json::from_value(r.body).ok())
        .collect();
    state.monitor.restore(alerts);
    Ok(())
}

/// Saves an alert and publishes its event.
pub async fn persist_alert(state: &AppState, alert: &Alert, event: &str) {
    if let Ok(body) = serde_json::to_value(alert) {
        // A failed write leaves the alert in memory; the next change retries it.
        let _ = state
            .store
            .put_record(ALERT_KIND, &alert.id, &body, state.now())
            .await;
        state.publish(event, body);
    }
}

/// Tracks since when each resource has been at capacity.
#[derive(Default)]
pub struct CapacityWatch {
    since: HashMap<String, Timestamp>,
}

impl CapacityWatch {
    /// Resumes from the active `resource_exhaustion` alerts (restored from the store), so a
    /// restart does not forget since when a resource has been full: its alert neither clears
    /// nor waits another full threshold to come back.
    pub fn resume(state: &AppState) -> CapacityWatch {
        let mut since = HashMap::new();
        for alert in state.monitor.alerts(&AlertQuery::default()).alerts {
            if alert.active
                && alert.rule == AlertRule::ResourceExhaustion
                && let Some(resource) = alert.subject
            {
                let held_ms = (alert.value.max(0.0) * 1000.0) as i64;
                let full_since = Timestamp::from_unix_millis(
                    alert.raised_at.unix_millis().saturating_sub(held_ms),
                );
                since.insert(resource, full_since);
            }
        }
        CapacityWatch { since }
    }

    pub async fn observe(&mut self, state: &AppState, now: Timestamp) -> Vec<(String, Timestamp)> {
        let Ok(resources) = state.store.list(&ListFilter::default(), now).await else {
            return self.since.iter().map(|(k, v)| (k.clone(), *v)).collect();
        };
        let full: Vec<String> = resources
            .iter()
            // A capacity-1 resource is "full" whenever someone holds it (a deployment's lock):
            // exhaustion is about pools running dry.
            .filter(|r| r.available == 0 && r.resource.capacity > 1)
            .map(|r| r.resource.id.clone())
            .collect();
        self.since.retain(|id, _| full.contains(id));
        for id in full {
            self.since.entry(id).or_insert(now);
        }
        let mut list: Vec<_> = self.since.iter().map(|(k, v)| (k.clone(), *v)).collect();
        list.sort();
        list
    }
}

/// One round of housekeeping; returns the alert changes it made.
pub async fn housekeeping_round(state: &AppState, watch: &mut CapacityWatch) -> Vec<AlertChange> {
    let now = state.now();
    if let Ok(count) = state.store.sweep_expired(now).await
        && count > 0
    {
        state.publish("claims.expired", json!({ "count": count }));
    }
    crate::deploy::ledger::time_out_overdue(state).await;
    let inputs = AlertInputs {
        resources_at_capacity: watch.observe(state, now).await,
        memory_bytes: switchyard_monitor::process_memory_bytes(),
    };
    let changes = state.monitor.evaluate(&inputs, now);
    for change in &changes {
        match change {
            AlertChange::Raised(alert) => persist_alert(state, alert, "alert.raised").await,
            AlertChange::Cleared(alert) => persist_alert(state, alert, "alert.cleared").await,
        }
    }
    changes
}

/// Removes what is older than the retention: ledger history, cleared alerts, finished
/// deployments and conflict history. Returns counts by kind.
pub async fn apply_retention(state: &AppState) -> serde_json::Map<String, serde_json::Value> {
    let now = state.now();
    let days = state.config.retention_days.max(1);
    let cutoff = Timestamp::from_unix_millis(
        now.unix_millis()
            .saturating_sub(i64::try_from(days * 86_400_000).unwrap_or(i64::MAX)),
    );
    let mut counts = serde_json::Map::new();
    let history = state.store.purge_history(cutoff, now).await.unwrap_or(0);
    counts.insert("history".into(), json!(history));
    let mut alerts = 0u64;
    for id in state.monitor.prune_alerts(cutoff) {
        if state
            .store
            .delete_record(ALERT_KIND, &id, now)
            .await
            .unwrap_or(false)
        {
            alerts += 1;
        }
    }
    counts.insert("alerts".into(), json!(alerts));
    // Conflicts are rewritten whenever a check sees them, so only long-gone ones are old.
    let conflicts = state
        .store
        .purge_records(crate::conflict_history::HISTORY_KIND, cutoff, now)
        .await
        .unwrap_or(0);
    counts.insert("conflictHistory".into(), json!(conflicts));
    let deployments =
        crate::deploy::records::prune_finished(state.store.as_ref(), cutoff, now).await;
    counts.insert("deployments".into(), json!(deployments));
    let config = crate::routes::config_sync::purge(state, cutoff)
        .await
        .unwrap_or(0);
    counts.insert("configSync".into(), json!(config));
    counts
}

/// Runs the background loop; `watch` is shared with [`crate::RunningServer::evaluate_now`].
pub fn spawn_housekeeping(state: AppState, watch: Arc<Mutex<CapacityWatch>>) -> JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(state.config.evaluate_every());
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut rounds: u64 = 0;
        // The first tick is immediate, and `start` has just run a round: skip it.
        tick.tick().await;
        loop {
            tick.tick().await;
            // On a shared store one replica leads; the others wait for their turn (a leader
            // that dies loses its lock with its database session, the next round takes over).
            if !state.store.lead().await.unwrap_or(false) {
                continue;
            }
            housekeeping_round(&state, &mut *watch.lock().await).await;
            rounds += 1;
            // Retention once an hour is plenty.
            if rounds.is_multiple_of((3600 / state.config.evaluate_every().as_secs().max(1)).max(1))
            {
                apply_retention(&state).await;
            }
        }
    })
}
