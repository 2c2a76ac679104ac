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
/// Store record kind of acknowledgements, kept apart from the alerts: the leader rewriting an
/// alert (when it clears) then never undoes an acknowledgement made through another replica.
pub const ALERT_ACK_KIND: &str = "alert_ack";

/// The alerts in the store, with their acknowledgements.
pub async fn stored_alerts(state: &AppState) -> Result<Vec<Alert>, switchyard_store::StoreError> {
    let records = state.store.list_records(ALERT_KIND).await?;
    let acks: HashMap<String, Timestamp> = state
        .store
        .list_records(ALERT_ACK_KIND)
        .await?
        .into_iter()
        .filter_map(|r| {
            let at = serde_json::from_value(r.body.get("acknowledgedAt")?.clone()).ok()?;
            Some((r.id, at))
        })
        .collect();
    Ok(records
        .into_iter()
        .filter_map(|r| serde_json::from_value::<Alert>(r.body).ok())
        .map(|mut alert| {
            if let Some(at) = acks.get(&alert.id)
                && !alert.acknowledged
            {
                alert.acknowledged = true;
                alert.acknowledged_at = Some(*at);
            }
            alert
        })
        .collect())
}

/// Loads stored alerts into the monitor, so a restart neither forgets active alerts nor
/// raises them a second time.
pub async fn restore(state: &AppState) -> Result<(), ServeError> {
    state.monitor.restore(stored_alerts(state).await?);
    Ok(())
}

/// On a shared store, makes the monitor's alerts those of the store (raised, cleared and
/// acknowledged through any replica). A store that does not answer leaves them as they were.
pub async fn refresh_alerts(state: &AppState) {
    if state.events.is_clustered()
        && let Ok(alerts) = stored_alerts(state).await
    {
        state.monitor.replace_alerts(alerts);
    }
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

/// Records an acknowledgement (its own record, see [`ALERT_ACK_KIND`]), then the alert.
pub async fn persist_acknowledgement(
    state: &AppState,
    alert: &Alert,
) -> Result<(), switchyard_store::StoreError> {
    let body = json!({ "acknowledgedAt": alert.acknowledged_at });
    state
        .store
        .put_record(ALERT_ACK_KIND, &alert.id, &body, state.now())
        .await?;
    persist_alert(state, alert, "alert.acknowledged").await;
    Ok(())
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
        let _ = state.store.delete_record(ALERT_ACK_KIND, &id, now).await;
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
    if let Some(log) = state.store.event_log() {
        let hours = state.config.event_retention_hours.max(1);
        let before = Timestamp::from_unix_millis(
            now.unix_millis()
                .saturating_sub(i64::try_from(hours * 3_600_000).unwrap_or(i64::MAX)),
        );
        counts.insert("events".into(), json!(log.purge(before).await.unwrap_or(0)));
    }
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

/// Runs the background loop; `watch` is shared with [`crate::RunningServer::evaluate_now`];
/// `leading`: whether `start` ran the first round as the leader.
///
/// Every `leader_check_seconds` the replica asks the store whether it leads. The leader runs a
/// round every `evaluate_every_seconds` and retention every hour; a replica that has just
/// become the leader (the previous one died or stopped) runs both at once, so the background
/// work resumes within one leadership check. Followers re-read the alerts from the store.
pub fn spawn_housekeeping(
    state: AppState,
    watch: Arc<Mutex<CapacityWatch>>,
    mut leading: bool,
) -> JoinHandle<()> {
    tokio::spawn(async move {
        let every = state.config.evaluate_every();
        let mut tick = tokio::time::interval(state.config.leader_check_every().min(every));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let started = tokio::time::Instant::now();
        let mut last_round = started;
        let mut last_retention = started;
        // The first tick is immediate, and `start` has just run a round: skip it.
        tick.tick().await;
        loop {
            tick.tick().await;
            // On a shared store one replica leads; the others wait for their turn (a leader
            // that dies loses its lock with its database session).
            if !state.store.lead().await.unwrap_or(false) {
                leading = false;
                refresh_alerts(&state).await;
                continue;
            }
            let took_over = !leading;
            leading = true;
            if took_over {
                // Continue from what the previous leader stored, not from this replica's view.
                refresh_alerts(&state).await;
                *watch.lock().await = CapacityWatch::resume(&state);
            }
            if took_over || last_round.elapsed() >= every {
                refresh_alerts(&state).await;
                housekeeping_round(&state, &mut *watch.lock().await).await;
                last_round = tokio::time::Instant::now();
            }
            // Retention once an hour is plenty.
            if took_over || last_retention.elapsed() >= std::time::Duration::from_secs(3600) {
                apply_retention(&state).await;
                last_retention = tokio::time::Instant::now();
            }
        }
    })
}
