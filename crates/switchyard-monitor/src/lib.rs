//! Operations, metrics, alert rules and health for the Switchyard coordination server.
//!
//! A [`Monitor`] tracks every operation the server runs (analysis, claims, deployments, ...) from
//! [`Monitor::start`] to [`Monitor::finish`], appends each finished one as a JSON line to a
//! rotating operation log, keeps Prometheus metrics in a recorder of its own, evaluates the alert
//! rules over a sliding window, and keeps the list of alerts (raised once, cleared once).
//!
//! ```
//! use std::time::Duration;
//! use serde_json::json;
//! use switchyard_monitor::{AlertInputs, Monitor, MonitorConfig, OperationKind, Outcome};
//! use switchyard_store::Timestamp;
//!
//! let t0 = Timestamp::from_unix_millis(1_700_000_000_000);
//! let monitor = Monitor::new(MonitorConfig::default(), t0)?;
//! let op = monitor.start(OperationKind::Analysis, json!({ "repositories": 12 }), t0);
//! let done = t0.plus(Duration::from_secs(2));
//! monitor.finish(&op, Outcome::Succeeded { result: json!({}), conflicts: 1 }, done);
//!
//! let changes = monitor.evaluate(&AlertInputs::default(), done);
//! assert!(changes.is_empty()); // one operation is not a sample
//! assert!(monitor.render_prometheus().contains("switchyard_operations_total"));
//! # Ok::<(), switchyard_monitor::MonitorError>(())
//! ```
//!
//! Not here: HTTP, persistence of alerts (the server stores [`Alert`]s as JSON and gives them back
//! through [`Monitor::restore`]), reading the clock (every call takes `now`), and the global
//! `metrics` recorder (never installed, so several servers can run in one process).

mod alerts;
#[cfg(test)]
mod alerts_tests;
pub mod exposition;
mod health;
mod log;
mod metrics;
#[cfg(test)]
mod metrics_tests;
mod operations;
mod summary;

use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;
use switchyard_model::redact::redact_json_in_place;

use switchyard_store::Timestamp;

pub use alerts::{
    Alert, AlertChange, AlertInputs, AlertList, AlertQuery, AlertRule, AlertSeverity, AlertSummary,
    AlertThresholds,
};
pub use health::{ComponentCheck, Health, HealthStatus, health, process_memory_bytes};
pub use log::OperationLogConfig;
pub use operations::{
    OperationKind, OperationQuery, OperationRecord, OperationStatus, Outcome, ParseNameError,
};
pub use summary::{MetricsSummary, OperationStats};

use alerts::AlertBook;
use log::OperationLog;
use metrics::Metrics;
use operations::OperationBook;

#[derive(Debug, thiserror::Error)]
pub enum MonitorError {
    #[error("operation log {}: {source}", path.display())]
    Log {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("metrics recorder: {0}")]
    Metrics(String),
}

#[derive(Debug, Clone, PartialEq)]
pub struct MonitorConfig {
    pub thresholds: AlertThresholds,
    /// How far back the alert rules look from `now`.
    pub window: Duration,
    /// Finished operations the rate rules need in the window before they can fire.
    pub min_operations: usize,
    /// Finished operations kept in memory (for listing, summaries and the rules).
    pub history_capacity: usize,
    /// `None`: finished operations are not written anywhere.
    pub log: Option<OperationLogConfig>,
}

impl Default for MonitorConfig {
    fn default() -> Self {
        MonitorConfig {
            thresholds: AlertThresholds::default(),
            window: Duration::from_secs(15 * 60),
            min_operations: 5,
            history_capacity: 10_000,
            log: None,
        }
    }
}

/// The server's monitor; cheap to clone (one shared state).
#[derive(Debug, Clone)]
pub struct Monitor {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    config: MonitorConfig,
    started: Timestamp,
    operations: Mutex<OperationBook>,
    alerts: Mutex<AlertBook>,
    log: Mutex<Option<OperationLog>>,
    log_errors: AtomicU64,
    metrics: Metrics,
}

/// A panic while a lock was held cannot leave these books half-updated in a way that matters more
/// than losing monitoring altogether, so a poisoned lock is taken over rather than propagated.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl Monitor {
    /// Opens the operation log (creating its directories) and sets up the metrics recorder.
    /// The operations an earlier run wrote to the log (live file and newest rotation) are read
    /// back as history, so the alert rules see the same window across a restart; counters and
    /// histograms start from zero, as Prometheus expects of a restarted process.
    pub fn new(config: MonitorConfig, started: Timestamp) -> Result<Monitor, MonitorError> {
        let mut book = OperationBook::new(config.history_capacity);
        if let Some(log) = &config.log {
            book.resume(log::read_back(&log.path));
        }
        let log = config.log.clone().map(OperationLog::open).transpose()?;
        let metrics = Metrics::new()?;
        metrics.register_kinds();
        Ok(Monitor {
            inner: Arc::new(Inner {
                operations: Mutex::new(book),
                alerts: Mutex::new(AlertBook::default()),
                log: Mutex::new(log),
                log_errors: AtomicU64::new(0),
                metrics,
                config,
                started,
            }),
        })
    }

    pub fn config(&self) -> &MonitorConfig {
        &self.inner.config
    }

    /// Starts tracking an operation; returns its `op_<ULID>` id for [`Monitor::finish`].
    pub fn start(
        &self,
        kind: OperationKind,
        mut details: serde_json::Value,
        now: Timestamp,
    ) -> String {
        // Details come from requests and stay in memory for the operations API: no secret kept.
        redact_json_in_place("", &mut details);
        let mut book = lock(&self.inner.operations);
        let id = book.start(kind, details, now);
        self.inner.metrics.set_active(book.active_count());
        id
    }

    /// Ends an operation: updates metrics and appends one JSON line to the log. `None` when `id`
    /// is unknown or already finished. A log write failure does not lose the record; it is
    /// counted in `switchyard_operation_log_errors_total` (see [`Monitor::log_errors`]).
    pub fn finish(&self, id: &str, outcome: Outcome, now: Timestamp) -> Option<OperationRecord> {
        let record = {
            let mut book = lock(&self.inner.operations);
            let record = book.finish(id, outcome, now)?;
            self.inner.metrics.set_active(book.active_count());
            record
        };
        self.inner.metrics.operation_finished(&record);
        let mut log = lock(&self.inner.log);
        if let Some(log) = log.as_mut() {
            // The log is an output boundary: the record is redacted on its way to the file.
            let written = match serde_json::to_value(&record) {
                Ok(mut value) => {
                    redact_json_in_place("", &mut value);
                    log.append(&value.to_string()).is_ok()
                }
                Err(_) => false,
            };
            if !written {
                self.inner.log_errors.fetch_add(1, Ordering::Relaxed);
                self.inner.metrics.log_error();
            }
        }
        Some(record)
    }

    /// Finished operations whose log line could not be written (a health check can report it).
    pub fn log_errors(&self) -> u64 {
        self.inner.log_errors.load(Ordering::Relaxed)
    }

    /// The operation log's path, when there is one.
    pub fn log_path(&self) -> Option<PathBuf> {
        lock(&self.inner.log).as_ref().map(|l| l.path().to_owned())
    }

    /// Active and finished operations matching `query`, newest first.
    pub fn operations(&self, query: &OperationQuery) -> Vec<OperationRecord> {
        lock(&self.inner.operations).query(query)
    }

    /// Counts one served request. `route` must be the route template (`/resources/:id`), not the
    /// raw path, or every id becomes its own series.
    pub fn record_http(&self, method: &str, route: &str, status: u16, seconds: f64) {
        self.inner.metrics.http(method, route, status, seconds);
    }

    /// Sets a server-owned gauge (`switchyard_resources{status="claimed"}`); `help` becomes its
    /// `# HELP` line the first time the name is seen. A NaN or infinite value is ignored (the
    /// exporter would write `inf`, which is not valid exposition text).
    pub fn set_gauge(
        &self,
        name: &'static str,
        help: &'static str,
        labels: &[(&'static str, String)],
        value: f64,
    ) {
        self.inner.metrics.set_gauge(name, help, labels, value);
    }

    /// Prometheus text exposition of every family, refreshing the resident-memory gauge first.
    pub fn render_prometheus(&self) -> String {
        self.inner.metrics.render(process_memory_bytes())
    }

    /// Statistics over operations that finished within `time_range` before `now`.
    pub fn summary(&self, time_range: Duration, now: Timestamp) -> MetricsSummary {
        let book = lock(&self.inner.operations);
        summary::summarize(
            book.finished(),
            book.active_count(),
            process_memory_bytes(),
            time_range,
            now,
        )
    }

    /// Runs every alert rule at `now` over the operations that finished within the configured
    /// window and the given inputs; returns the alerts raised and cleared by this evaluation.
    pub fn evaluate(&self, inputs: &AlertInputs, now: Timestamp) -> Vec<AlertChange> {
        let config = &self.inner.config;
        let firing = {
            let book = lock(&self.inner.operations);
            alerts::firing(
                book.finished(),
                inputs,
                &config.thresholds,
                config.window,
                config.min_operations,
                now,
            )
        };
        lock(&self.inner.alerts).apply(firing, now)
    }

    /// Alerts matching `query`, newest first, with counts over the same selection.
    pub fn alerts(&self, query: &AlertQuery) -> AlertList {
        lock(&self.inner.alerts).list(query)
    }

    /// Active alerts (raised and not cleared).
    pub fn active_alerts(&self) -> usize {
        lock(&self.inner.alerts).active_count()
    }

    /// Marks an alert acknowledged (it stays active until its condition stops); `None` when
    /// unknown.
    pub fn acknowledge(&self, id: &str, now: Timestamp) -> Option<Alert> {
        lock(&self.inner.alerts).acknowledge(id, now)
    }

    /// Loads alerts persisted by an earlier run. Active ones are cleared by the next evaluation
    /// if their condition no longer holds, and not raised a second time if it does.
    pub fn restore(&self, alerts: Vec<Alert>) {
        lock(&self.inner.alerts).restore(alerts);
    }

    /// Replaces every alert with `alerts` (a replica following a shared store: the store is
    /// the truth, including alerts another replica pruned).
    pub fn replace_alerts(&self, alerts: Vec<Alert>) {
        lock(&self.inner.alerts).replace(alerts);
    }

    /// Forgets cleared alerts whose `clearedAt` is before `older_than`; returns their ids so the
    /// server can delete them from the store too.
    pub fn prune_alerts(&self, older_than: Timestamp) -> Vec<String> {
        lock(&self.inner.alerts).prune(older_than)
    }

    pub fn uptime_seconds(&self, now: Timestamp) -> u64 {
        let millis = now
            .unix_millis()
            .saturating_sub(self.inner.started.unix_millis());
        u64::try_from(millis / 1000).unwrap_or(0)
    }
}
