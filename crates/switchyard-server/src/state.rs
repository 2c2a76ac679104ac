//! What every handler shares: the hot fleet, the store, the monitor, the event bus, the clock
//! and the settings. Cheap to clone (everything behind `Arc`).

use std::sync::Arc;

use serde_json::Value;
use switchyard_monitor::{Monitor, OperationKind, Outcome};
use switchyard_store::{Clock, Store, Timestamp};
use tokio::sync::Mutex;

use crate::analysis::{ChangeSummary, FleetHandle, FleetSource, Snapshot};
use crate::config::ServerConfig;
use crate::error::ApiError;
use crate::events::EventBus;

#[derive(Clone)]
pub struct AppState {
    pub config: Arc<ServerConfig>,
    pub store: Arc<dyn Store>,
    pub monitor: Monitor,
    pub events: EventBus,
    pub fleet: FleetHandle,
    pub source: Arc<FleetSource>,
    pub clock: Arc<dyn Clock>,
    /// Serializes re-analyses so two pushes never race on the snapshot.
    pub reanalysis: Arc<Mutex<()>>,
    /// Serializes deployment decisions (plan + claims) and config-sync writes.
    pub coordination: Arc<Mutex<()>>,
}

impl AppState {
    pub fn now(&self) -> Timestamp {
        self.clock.now()
    }

    pub fn snapshot(&self) -> Arc<Snapshot> {
        self.fleet.get()
    }

    /// Publishes an event. This is the events' boundary: the payload is redacted here, whatever
    /// its caller built (resource metadata, values read from repositories).
    pub fn publish(&self, event: &str, mut data: Value) {
        switchyard_model::redact::redact_json_in_place("", &mut data);
        self.events.publish(event, data, self.now());
    }

    /// Runs `work` as a monitored operation: start, end, duration and result are recorded.
    pub async fn operation<T, F>(
        &self,
        kind: OperationKind,
        details: Value,
        work: F,
    ) -> Result<T, ApiError>
    where
        F: std::future::Future<Output = Result<(T, usize), ApiError>>,
    {
        let id = self.monitor.start(kind, details, self.now());
        let result = work.await;
        let outcome = match &result {
            Ok((_, conflicts)) => Outcome::Succeeded {
                result: Value::Null,
                conflicts: *conflicts,
            },
            // A refusal (the resource is held, the plan conflicts, the deployment is over) is
            // the coordinator deciding, not failing: it completes with the refusal as its
            // result, so contention does not feed the failure-rate alert.
            Err(error) if error.status == axum::http::StatusCode::CONFLICT => Outcome::Succeeded {
                result: serde_json::json!({
                    "refused": { "error": error.code, "message": error.message }
                }),
                conflicts: 0,
            },
            Err(error) => Outcome::Failed {
                code: error.code.to_string(),
                message: error.message.clone(),
            },
        };
        self.monitor.finish(&id, outcome, self.now());
        result.map(|(value, _)| value)
    }

    /// Re-reads `names` from disk (after `git pull --ff-only` when configured), swaps the
    /// snapshot and publishes `repository.changed`, conflict events and `analysis.completed`.
    ///
    /// On a shared store the other replicas are told, and re-read the same repositories from
    /// their own checkouts ([`AppState::reanalyze_for_peer`]).
    pub async fn reanalyze(
        &self,
        names: Vec<String>,
        pull: bool,
    ) -> Result<ChangeSummary, ApiError> {
        let summary = self.reanalyze_as(names.clone(), pull, true).await?;
        if self.events.is_clustered() {
            self.publish(
                crate::cluster::REPOSITORIES_CHANGED,
                crate::cluster::repositories_changed(&names, pull),
            );
        }
        Ok(summary)
    }

    /// Re-reads repositories another replica re-read: the snapshot is swapped, but the events
    /// and the conflict history were already written by that replica (its events reach this
    /// replica's subscribers through the event log).
    pub async fn reanalyze_for_peer(
        &self,
        names: Vec<String>,
        pull: bool,
    ) -> Result<ChangeSummary, ApiError> {
        self.reanalyze_as(names, pull, false).await
    }

    async fn reanalyze_as(
        &self,
        names: Vec<String>,
        pull: bool,
        announce: bool,
    ) -> Result<ChangeSummary, ApiError> {
        let _guard = self.reanalysis.lock().await;
        let current = self.snapshot();
        current.require_known(&names)?;
        let mut pulled = Vec::new();
        if pull {
            for name in &names {
                if let Some(spec) = self
                    .source
                    .fleet
                    .repositories
                    .iter()
                    .find(|r| &r.name == name)
                {
                    pulled.push(git_pull(&spec.path).await.map_err(|message| {
                        ApiError::new(
                            axum::http::StatusCode::BAD_GATEWAY,
                            "GIT_PULL_FAILED",
                            format!("git pull --ff-only in {name} failed: {message}"),
                        )
                    })?);
                }
            }
        }
        let now = self.now();
        let source = self.source.clone();
        let details = serde_json::json!({ "repositories": names });
        let open_conflicts = current.conflicts.len();
        let (next, summary) = self
            .operation(OperationKind::Refresh, details, async {
                let names = names.clone();
                let current = current.clone();
                let done =
                    tokio::task::spawn_blocking(move || current.reanalyze(&source, &names, now))
                        .await
                        .map_err(|e| ApiError::internal(format!("re-analysis stopped: {e}")))?;
                if self.source.cancel.is_cancelled() {
                    return Err(ApiError::new(
                        axum::http::StatusCode::SERVICE_UNAVAILABLE,
                        "SHUTTING_DOWN",
                        "the server is shutting down; the re-analysis was cancelled",
                    ));
                }
                let conflicts = done
                    .0
                    .as_ref()
                    .map_or(open_conflicts, |s| s.conflicts.len());
                Ok((done, conflicts))
            })
            .await?;
        let mut previous = None;
        let (conflicts, detected) = match next {
            Some(next) => {
                let by_id: std::collections::HashMap<&str, &switchyard_conflicts::Conflict> =
                    next.conflicts.iter().map(|c| (c.id.as_str(), c)).collect();
                let detected: Vec<switchyard_conflicts::Conflict> = summary
                    .conflicts_detected
                    .iter()
                    .filter_map(|id| by_id.get(id.as_str()).map(|c| (*c).clone()))
                    .collect();
                let conflicts = next.conflicts.len();
                previous = Some(self.fleet.replace(next));
                self.save_cache();
                (conflicts, detected)
            }
            None => (current.conflicts.len(), Vec::new()),
        };
        if !announce {
            let retired = (previous, current);
            tokio::task::spawn_blocking(move || drop(retired));
            return Ok(summary);
        }
        for name in &summary.repositories {
            self.publish(
                "repository.changed",
                serde_json::json!({ "repository": name, "summary": summary }),
            );
        }
        for conflict in &detected {
            if let Ok(value) = serde_json::to_value(conflict) {
                self.publish("conflict.detected", value);
            }
        }
        for id in &summary.conflicts_cleared {
            self.publish(
                "conflict.resolved",
                serde_json::json!({ "conflictId": id, "reason": "no longer detected" }),
            );
        }
        self.publish(
            "analysis.completed",
            serde_json::json!({
                "repositories": summary.repositories,
                "changed": summary.changed(),
                "summary": summary,
                "analyzedAt": self.snapshot().analyzed_at,
                "conflicts": conflicts,
            }),
        );
        // The history records what appeared and what ended; conflicts that stay open keep their
        // entries. A failed write only costs history.
        if !(detected.is_empty() && summary.conflicts_cleared.is_empty()) {
            let after = self.snapshot();
            let seen: Vec<&switchyard_conflicts::Conflict> = detected.iter().collect();
            let ids: std::collections::BTreeSet<&str> =
                after.conflicts.iter().map(|c| c.id.as_str()).collect();
            let _ = crate::conflict_history::observe(self, &seen, &ids, now).await;
        }
        // The old snapshot is freed off the answer's path (if no reader holds it any more).
        let retired = (previous, current);
        tokio::task::spawn_blocking(move || drop(retired));
        Ok(summary)
    }
}

impl AppState {
    /// Writes the facts cache in the background: it only saves the next cold start some reading,
    /// so no answer waits for it, and a failed write costs nothing else.
    pub fn save_cache(&self) {
        let source = self.source.clone();
        tokio::task::spawn_blocking(move || {
            if let Some(cache) = source.cache.as_ref() {
                let _ = cache.save();
            }
        });
    }
}

async fn git_pull(path: &std::path::Path) -> Result<String, String> {
    let output = tokio::process::Command::new("git")
        .arg("-C")
        .arg(path)
        .args(["pull", "--ff-only", "--quiet"])
        .output()
        .await
        .map_err(|e| e.to_string())?;
    if output.status.success() {
        Ok(String::from_utf8_lossy(&output.stdout).trim().to_string())
    } else {
        Err(String::from_utf8_lossy(&output.stderr).trim().to_string())
    }
}
