//! The JSON metrics summary (`GET /metrics?format=json`): counts, durations and rates of the
//! operations that finished in a time range, overall and per operation type.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::Serialize;
use switchyard_store::Timestamp;

use crate::operations::{OperationKind, OperationRecord, OperationStatus};

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MetricsSummary {
    pub totals: OperationStats,
    /// Keyed by operation type (`conflict_check`); types with no operation in range are left out.
    pub by_kind: BTreeMap<String, OperationStats>,
    /// Failed / finished, 0 when nothing finished.
    pub failure_rate: f64,
    /// Conflict-reporting / finished among analysis, refresh, conflict check and plan; 0 when none.
    pub conflict_rate: f64,
    /// Mean duration of resolutions; `None` when there was none.
    pub avg_resolution_seconds: Option<f64>,
    pub active_operations: usize,
    pub memory_bytes: Option<u64>,
    pub from: Timestamp,
    pub to: Timestamp,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct OperationStats {
    pub total: usize,
    pub succeeded: usize,
    pub failed: usize,
    /// Conflicts reported, summed.
    pub conflicts: usize,
    pub avg_duration_ms: Option<f64>,
    /// Nearest-rank 95th percentile.
    pub p95_duration_ms: Option<f64>,
}

impl OperationStats {
    fn from_records(records: &[&OperationRecord]) -> Self {
        let mut durations: Vec<f64> = records.iter().filter_map(|r| r.duration_ms).collect();
        durations.sort_by(f64::total_cmp);
        let failed = records
            .iter()
            .filter(|r| r.status == OperationStatus::Failed)
            .count();
        OperationStats {
            total: records.len(),
            succeeded: records.len() - failed,
            failed,
            conflicts: records.iter().map(|r| r.conflicts).sum(),
            avg_duration_ms: mean(&durations),
            p95_duration_ms: percentile(&durations, 0.95),
        }
    }
}

fn mean(values: &[f64]) -> Option<f64> {
    (!values.is_empty()).then(|| values.iter().sum::<f64>() / values.len() as f64)
}

/// Nearest rank: the smallest value with at least `p` of the sample at or below it.
fn percentile(sorted: &[f64], p: f64) -> Option<f64> {
    let rank = (p * sorted.len() as f64).ceil() as usize;
    sorted.get(rank.saturating_sub(1)).copied()
}

pub(crate) fn summarize<'a>(
    finished: impl Iterator<Item = &'a OperationRecord>,
    active_operations: usize,
    memory_bytes: Option<u64>,
    time_range: Duration,
    now: Timestamp,
) -> MetricsSummary {
    let range_ms = i64::try_from(time_range.as_millis()).unwrap_or(i64::MAX);
    let from = Timestamp::from_unix_millis(now.unix_millis().saturating_sub(range_ms));
    let in_range: Vec<&OperationRecord> = finished.filter(|r| r.ended_within(from, now)).collect();

    let mut grouped: BTreeMap<OperationKind, Vec<&OperationRecord>> = BTreeMap::new();
    for record in &in_range {
        grouped.entry(record.kind).or_default().push(record);
    }
    let by_kind = grouped
        .iter()
        .map(|(kind, records)| {
            (
                kind.as_str().to_owned(),
                OperationStats::from_records(records),
            )
        })
        .collect();

    let totals = OperationStats::from_records(&in_range);
    let failure_rate = ratio(totals.failed, totals.total);
    let detecting: Vec<&&OperationRecord> = in_range
        .iter()
        .filter(|r| r.kind.detects_conflicts())
        .collect();
    let with_conflicts = detecting.iter().filter(|r| r.conflicts > 0).count();
    let resolution_seconds: Vec<f64> = grouped
        .get(&OperationKind::Resolution)
        .map(|rs| rs.iter().filter_map(|r| r.duration_seconds()).collect())
        .unwrap_or_default();

    MetricsSummary {
        totals,
        by_kind,
        failure_rate,
        conflict_rate: ratio(with_conflicts, detecting.len()),
        avg_resolution_seconds: mean(&resolution_seconds),
        active_operations,
        memory_bytes,
        from,
        to: now,
    }
}

fn ratio(part: usize, whole: usize) -> f64 {
    if whole == 0 {
        0.0
    } else {
        part as f64 / whole as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::{Monitor, MonitorConfig, OperationKind, Outcome};
    use serde_json::json;

    fn at(seconds: i64) -> Timestamp {
        Timestamp::from_unix_millis(1_700_000_000_000 + seconds * 1000)
    }

    fn run(m: &Monitor, kind: OperationKind, start: i64, seconds: i64, outcome: Outcome) {
        let id = m.start(kind, json!({}), at(start));
        m.finish(&id, outcome, at(start + seconds));
    }

    #[test]
    fn summary_counts_rates_and_durations_in_the_range() {
        let m = Monitor::new(MonitorConfig::default(), at(0)).expect("monitor");
        let found = |conflicts| Outcome::Succeeded {
            result: json!({}),
            conflicts,
        };
        run(&m, OperationKind::Claim, 0, 1, Outcome::failed("x", "old")); // ends at 1: out of range
        run(&m, OperationKind::Analysis, 100, 2, found(3));
        run(&m, OperationKind::ConflictCheck, 100, 4, found(0));
        run(&m, OperationKind::Claim, 100, 1, Outcome::failed("x", "y"));
        run(&m, OperationKind::Resolution, 100, 10, found(0));
        run(&m, OperationKind::Resolution, 100, 30, found(0));
        m.start(OperationKind::Deployment, json!({}), at(150));

        let s = m.summary(std::time::Duration::from_secs(100), at(200));
        assert_eq!(s.from, at(100));
        assert_eq!(s.to, at(200));
        assert_eq!(s.totals.total, 5);
        assert_eq!(s.totals.failed, 1);
        assert_eq!(s.totals.succeeded, 4);
        assert_eq!(s.totals.conflicts, 3);
        assert_eq!(s.failure_rate, 0.2);
        assert_eq!(s.conflict_rate, 0.5, "1 of 2 conflict-checking operations");
        assert_eq!(s.avg_resolution_seconds, Some(20.0));
        assert_eq!(s.active_operations, 1);
        assert_eq!(s.by_kind["resolution"].avg_duration_ms, Some(20_000.0));
        assert_eq!(s.by_kind["resolution"].p95_duration_ms, Some(30_000.0));
        assert_eq!(s.by_kind["claim"].failed, 1);
        assert!(!s.by_kind.contains_key("deployment"), "still running");
        let value = serde_json::to_value(&s).expect("json");
        assert!(value.get("byKind").is_some() && value.get("failureRate").is_some());

        let empty = m.summary(std::time::Duration::from_secs(10), at(10_000));
        assert_eq!(empty.totals.total, 0);
        assert_eq!(empty.failure_rate, 0.0);
        assert_eq!(empty.conflict_rate, 0.0);
        assert_eq!(empty.avg_resolution_seconds, None);
        assert_eq!(empty.totals.avg_duration_ms, None);
    }

    #[test]
    fn uptime_counts_whole_seconds_from_the_start() {
        let m = Monitor::new(MonitorConfig::default(), at(0)).expect("monitor");
        assert_eq!(m.uptime_seconds(at(0)), 0);
        assert_eq!(m.uptime_seconds(at(90)), 90);
        assert_eq!(m.uptime_seconds(at(-5)), 0, "a clock that stepped back");
    }

    #[test]
    fn percentile_uses_nearest_rank() {
        let values: Vec<f64> = (1..=20).map(f64::from).collect();
        assert_eq!(percentile(&values, 0.95), Some(19.0));
        assert_eq!(percentile(&[7.0], 0.95), Some(7.0));
        assert_eq!(percentile(&[], 0.95), None);
        assert_eq!(percentile(&[1.0, 2.0], 0.95), Some(2.0));
    }
}
