//! Alert rules over a sliding window of finished operations and the server's inputs, and the book of
//! alerts: each is raised once while its condition holds and cleared once when it stops.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use switchyard_store::Timestamp;

use crate::operations::{OperationKind, OperationRecord, OperationStatus, ParseNameError};

/// Limits above which a rule fires. Read from the server's `[server.alerts]` TOML table: snake_case
/// keys, each optional (a missing key keeps its default), unknown keys rejected so typos show.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AlertThresholds {
    /// Share (0..1) of conflict-detecting operations that reported conflicts.
    pub conflict_rate: f64,
    /// Share (0..1) of finished operations that failed.
    pub failure_rate: f64,
    /// Mean duration of resolution operations, in seconds.
    pub avg_resolution_seconds: f64,
    /// How long a resource may stay at capacity, in seconds.
    pub capacity_seconds: u64,
    /// Resident memory of the server process.
    pub memory_bytes: u64,
}

impl Default for AlertThresholds {
    fn default() -> Self {
        AlertThresholds {
            conflict_rate: 0.3,
            failure_rate: 0.1,
            avg_resolution_seconds: 300.0,
            capacity_seconds: 300,
            memory_bytes: 1024 * 1024 * 1024,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AlertRule {
    HighConflictRate,
    HighFailureRate,
    SlowResolution,
    ResourceExhaustion,
    SystemDegradation,
}

impl AlertRule {
    pub const ALL: [AlertRule; 5] = [
        AlertRule::HighConflictRate,
        AlertRule::HighFailureRate,
        AlertRule::SlowResolution,
        AlertRule::ResourceExhaustion,
        AlertRule::SystemDegradation,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            AlertRule::HighConflictRate => "high_conflict_rate",
            AlertRule::HighFailureRate => "high_failure_rate",
            AlertRule::SlowResolution => "slow_resolution",
            AlertRule::ResourceExhaustion => "resource_exhaustion",
            AlertRule::SystemDegradation => "system_degradation",
        }
    }

    /// Fixed per rule: a degraded process threatens everything (critical); failures and
    /// exhausted resources block work (high); conflicts and slow resolutions slow it (medium).
    pub fn severity(self) -> AlertSeverity {
        match self {
            AlertRule::SystemDegradation => AlertSeverity::Critical,
            AlertRule::HighFailureRate | AlertRule::ResourceExhaustion => AlertSeverity::High,
            AlertRule::HighConflictRate | AlertRule::SlowResolution => AlertSeverity::Medium,
        }
    }
}

impl fmt::Display for AlertRule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for AlertRule {
    type Err = ParseNameError;

    /// Accepts snake_case or kebab-case (`high-failure-rate`).
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let normalized = text.replace('-', "_");
        AlertRule::ALL
            .into_iter()
            .find(|rule| rule.as_str() == normalized)
            .ok_or_else(|| {
                let names: Vec<&str> = AlertRule::ALL.iter().map(|r| r.as_str()).collect();
                ParseNameError::new("alert rule", text, &names)
            })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AlertSeverity {
    Low,
    Medium,
    High,
    Critical,
}

impl AlertSeverity {
    pub const ALL: [AlertSeverity; 4] = [
        AlertSeverity::Low,
        AlertSeverity::Medium,
        AlertSeverity::High,
        AlertSeverity::Critical,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            AlertSeverity::Low => "low",
            AlertSeverity::Medium => "medium",
            AlertSeverity::High => "high",
            AlertSeverity::Critical => "critical",
        }
    }
}

impl fmt::Display for AlertSeverity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for AlertSeverity {
    type Err = ParseNameError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        AlertSeverity::ALL
            .into_iter()
            .find(|s| s.as_str() == text)
            .ok_or_else(|| {
                ParseNameError::new("severity", text, &["low", "medium", "high", "critical"])
            })
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Alert {
    pub id: String,
    pub rule: AlertRule,
    pub severity: AlertSeverity,
    /// The resource id for `resource_exhaustion`; `None` for process-wide rules.
    pub subject: Option<String>,
    pub message: String,
    /// The measured value when raised (a rate, seconds or bytes, as the threshold).
    pub value: f64,
    pub threshold: f64,
    pub raised_at: Timestamp,
    pub cleared_at: Option<Timestamp>,
    pub active: bool,
    pub acknowledged: bool,
    pub acknowledged_at: Option<Timestamp>,
}

/// What an evaluation changed; the server persists the alert and emits `alert.raised` /
/// `alert.cleared`.
#[derive(Debug, Clone, PartialEq)]
pub enum AlertChange {
    Raised(Alert),
    Cleared(Alert),
}

impl AlertChange {
    pub fn alert(&self) -> &Alert {
        match self {
            AlertChange::Raised(alert) | AlertChange::Cleared(alert) => alert,
        }
    }

    /// The event name the server emits for this change.
    pub fn event(&self) -> &'static str {
        match self {
            AlertChange::Raised(_) => "alert.raised",
            AlertChange::Cleared(_) => "alert.cleared",
        }
    }
}

/// What the server knows that the monitor does not track itself.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AlertInputs {
    /// Resources at capacity, each with the instant it got there.
    pub resources_at_capacity: Vec<(String, Timestamp)>,
    /// Resident memory of the process; `None` when unknown (the rule then does not fire).
    pub memory_bytes: Option<u64>,
}

/// Filter for [`crate::Monitor::alerts`]: `since` keeps the alerts that were active at some
/// point from `since` on (raised or cleared at or after it, or still active: an alert raised
/// long ago that still holds is a recent alert); exact severity; acknowledgement.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AlertQuery {
    pub since: Option<Timestamp>,
    pub severity: Option<AlertSeverity>,
    pub acknowledged: Option<bool>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AlertList {
    pub alerts: Vec<Alert>,
    pub summary: AlertSummary,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AlertSummary {
    pub total: usize,
    pub active: usize,
    pub acknowledged: usize,
    pub unacknowledged: usize,
    /// Every severity is present, zero when none.
    pub by_severity: BTreeMap<String, usize>,
}

/// A rule whose condition holds right now.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Firing {
    pub rule: AlertRule,
    pub subject: Option<String>,
    pub value: f64,
    pub threshold: f64,
    pub message: String,
}

/// Every rule's condition over `finished` (ends in `(now - window, now]`) and `inputs`.
pub(crate) fn firing<'a>(
    finished: impl Iterator<Item = &'a OperationRecord>,
    inputs: &AlertInputs,
    thresholds: &AlertThresholds,
    window: Duration,
    min_operations: usize,
    now: Timestamp,
) -> Vec<Firing> {
    let window_ms = i64::try_from(window.as_millis()).unwrap_or(i64::MAX);
    let from = Timestamp::from_unix_millis(now.unix_millis().saturating_sub(window_ms));
    let minutes = window.as_secs() / 60;

    let (mut total, mut failed) = (0usize, 0usize);
    let (mut detecting, mut with_conflicts) = (0usize, 0usize);
    let (mut resolutions, mut resolution_seconds) = (0usize, 0.0f64);
    for op in finished.filter(|op| op.ended_within(from, now)) {
        total += 1;
        if op.status == OperationStatus::Failed {
            failed += 1;
        }
        if op.kind.detects_conflicts() {
            detecting += 1;
            if op.conflicts > 0 {
                with_conflicts += 1;
            }
        }
        if op.kind == OperationKind::Resolution {
            resolutions += 1;
            resolution_seconds += op.duration_seconds().unwrap_or(0.0);
        }
    }

    let mut out = Vec::new();
    // Rates need a sample: one failure out of two operations is not a 50% failure rate alert.
    if detecting >= min_operations.max(1) {
        let rate = with_conflicts as f64 / detecting as f64;
        if rate > thresholds.conflict_rate {
            out.push(Firing {
                rule: AlertRule::HighConflictRate,
                subject: None,
                value: rate,
                threshold: thresholds.conflict_rate,
                message: format!(
                    "{with_conflicts} of {detecting} conflict-checking operations in the last {minutes} min found conflicts ({:.0}% > {:.0}%)",
                    rate * 100.0,
                    thresholds.conflict_rate * 100.0
                ),
            });
        }
    }
    if total >= min_operations.max(1) {
        let rate = failed as f64 / total as f64;
        if rate > thresholds.failure_rate {
            out.push(Firing {
                rule: AlertRule::HighFailureRate,
                subject: None,
                value: rate,
                threshold: thresholds.failure_rate,
                message: format!(
                    "{failed} of {total} operations in the last {minutes} min failed ({:.0}% > {:.0}%)",
                    rate * 100.0,
                    thresholds.failure_rate * 100.0
                ),
            });
        }
    }
    if resolutions > 0 {
        let mean = resolution_seconds / resolutions as f64;
        if mean > thresholds.avg_resolution_seconds {
            out.push(Firing {
                rule: AlertRule::SlowResolution,
                subject: None,
                value: mean,
                threshold: thresholds.avg_resolution_seconds,
                message: format!(
                    "conflict resolutions in the last {minutes} min took {mean:.0} s on average (> {:.0} s)",
                    thresholds.avg_resolution_seconds
                ),
            });
        }
    }
    let mut exhausted: Vec<&(String, Timestamp)> = inputs.resources_at_capacity.iter().collect();
    exhausted.sort();
    exhausted.dedup_by(|a, b| a.0 == b.0);
    for (resource, since) in exhausted {
        let held_ms = now.unix_millis().saturating_sub(since.unix_millis());
        let limit_ms = i64::try_from(thresholds.capacity_seconds)
            .unwrap_or(i64::MAX)
            .saturating_mul(1000);
        if held_ms > limit_ms {
            let seconds = held_ms / 1000;
            out.push(Firing {
                rule: AlertRule::ResourceExhaustion,
                subject: Some(resource.clone()),
                value: held_ms as f64 / 1000.0,
                threshold: thresholds.capacity_seconds as f64,
                message: format!(
                    "{resource} has been at capacity for {seconds} s (> {} s)",
                    thresholds.capacity_seconds
                ),
            });
        }
    }
    if let Some(bytes) = inputs.memory_bytes
        && bytes > thresholds.memory_bytes
    {
        out.push(Firing {
            rule: AlertRule::SystemDegradation,
            subject: None,
            value: bytes as f64,
            threshold: thresholds.memory_bytes as f64,
            message: format!(
                "resident memory {} MiB is above {} MiB",
                bytes / (1024 * 1024),
                thresholds.memory_bytes / (1024 * 1024)
            ),
        });
    }
    out
}

/// Every alert the server has raised (active and cleared, until pruned).
#[derive(Debug, Default)]
pub(crate) struct AlertBook {
    alerts: Vec<Alert>,
}

impl AlertBook {
    /// Raises what fires and has no active alert yet, clears active alerts that no longer fire.
    /// Identity is (rule, subject): each resource has its own exhaustion alert.
    pub(crate) fn apply(&mut self, firing: Vec<Firing>, now: Timestamp) -> Vec<AlertChange> {
        let mut changes = Vec::new();
        for alert in self.alerts.iter_mut().filter(|a| a.active) {
            let still = firing
                .iter()
                .any(|f| f.rule == alert.rule && f.subject == alert.subject);
            if !still {
                alert.active = false;
                alert.cleared_at = Some(now);
                changes.push(AlertChange::Cleared(alert.clone()));
            }
        }
        for f in firing {
            let known = self
                .alerts
                .iter()
                .any(|a| a.active && a.rule == f.rule && a.subject == f.subject);
            if known {
                continue;
            }
            let alert = Alert {
                id: new_alert_id(now),
                rule: f.rule,
                severity: f.rule.severity(),
                subject: f.subject,
                message: f.message,
                value: f.value,
                threshold: f.threshold,
                raised_at: now,
                cleared_at: None,
                active: true,
                acknowledged: false,
                acknowledged_at: None,
            };
            self.alerts.push(alert.clone());
            changes.push(AlertChange::Raised(alert));
        }
        changes
    }

    pub(crate) fn list(&self, query: &AlertQuery) -> AlertList {
        let mut alerts: Vec<Alert> = self
            .alerts
            .iter()
            .filter(|a| {
                query.since.is_none_or(|since| {
                    a.active || a.raised_at >= since || a.cleared_at.is_some_and(|c| c >= since)
                })
            })
            .filter(|a| query.severity.is_none_or(|s| a.severity == s))
            .filter(|a| query.acknowledged.is_none_or(|ack| a.acknowledged == ack))
            .cloned()
            .collect();
        alerts.sort_by(|a, b| b.raised_at.cmp(&a.raised_at).then_with(|| b.id.cmp(&a.id)));
        let mut by_severity: BTreeMap<String, usize> = AlertSeverity::ALL
            .iter()
            .map(|s| (s.as_str().to_owned(), 0))
            .collect();
        for alert in &alerts {
            *by_severity
                .entry(alert.severity.as_str().to_owned())
                .or_default() += 1;
        }
        let acknowledged = alerts.iter().filter(|a| a.acknowledged).count();
        let summary = AlertSummary {
            total: alerts.len(),
            active: alerts.iter().filter(|a| a.active).count(),
            acknowledged,
            unacknowledged: alerts.len() - acknowledged,
            by_severity,
        };
        AlertList { alerts, summary }
    }

    /// Marks the alert acknowledged (the first time only: the original instant is kept).
    pub(crate) fn acknowledge(&mut self, id: &str, now: Timestamp) -> Option<Alert> {
        let alert = self.alerts.iter_mut().find(|a| a.id == id)?;
        if !alert.acknowledged {
            alert.acknowledged = true;
            alert.acknowledged_at = Some(now);
        }
        Some(alert.clone())
    }

    /// Adds stored alerts, replacing any in memory with the same id.
    pub(crate) fn restore(&mut self, alerts: Vec<Alert>) {
        for alert in alerts {
            match self.alerts.iter_mut().find(|a| a.id == alert.id) {
                Some(existing) => *existing = alert,
                None => self.alerts.push(alert),
            }
        }
    }

    pub(crate) fn replace(&mut self, alerts: Vec<Alert>) {
        self.alerts = alerts;
    }

    pub(crate) fn prune(&mut self, older_than: Timestamp) -> Vec<String> {
        let mut removed = Vec::new();
        self.alerts.retain(|a| {
            let old = !a.active && a.cleared_at.is_some_and(|at| at < older_than);
            if old {
                removed.push(a.id.clone());
            }
            !old
        });
        removed
    }

    pub(crate) fn active_count(&self) -> usize {
        self.alerts.iter().filter(|a| a.active).count()
    }
}

/// `alert_` + a ULID whose time part is `now`.
fn new_alert_id(now: Timestamp) -> String {
    format!("alert_{}", ulid::Ulid::from_datetime(now.to_system_time()))
}
