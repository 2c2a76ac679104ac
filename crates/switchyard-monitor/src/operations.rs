//! Tracked operations: what the server is doing (analysis, claims, deployments, ...), with status,
//! timing, result and conflict count; the in-memory book of active and recently finished ones.

use std::collections::{HashMap, VecDeque};
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use switchyard_store::Timestamp;

/// What kind of work an operation is. Serialized and printed in snake_case (`conflict_check`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OperationKind {
    Analysis,
    Refresh,
    Plan,
    ConflictCheck,
    Resolution,
    Claim,
    Release,
    Deployment,
    Webhook,
    ConfigSync,
    Cleanup,
}

impl OperationKind {
    pub const ALL: [OperationKind; 11] = [
        OperationKind::Analysis,
        OperationKind::Refresh,
        OperationKind::Plan,
        OperationKind::ConflictCheck,
        OperationKind::Resolution,
        OperationKind::Claim,
        OperationKind::Release,
        OperationKind::Deployment,
        OperationKind::Webhook,
        OperationKind::ConfigSync,
        OperationKind::Cleanup,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            OperationKind::Analysis => "analysis",
            OperationKind::Refresh => "refresh",
            OperationKind::Plan => "plan",
            OperationKind::ConflictCheck => "conflict_check",
            OperationKind::Resolution => "resolution",
            OperationKind::Claim => "claim",
            OperationKind::Release => "release",
            OperationKind::Deployment => "deployment",
            OperationKind::Webhook => "webhook",
            OperationKind::ConfigSync => "config_sync",
            OperationKind::Cleanup => "cleanup",
        }
    }

    /// Kinds whose result can report conflicts: the denominator of the conflict-rate rule.
    pub fn detects_conflicts(self) -> bool {
        matches!(
            self,
            OperationKind::Analysis
                | OperationKind::Refresh
                | OperationKind::ConflictCheck
                | OperationKind::Plan
        )
    }
}

impl fmt::Display for OperationKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The text was not one of the names listed in `expected`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown {what} `{given}` (expected one of: {expected})")]
pub struct ParseNameError {
    pub what: &'static str,
    pub given: String,
    pub expected: String,
}

impl ParseNameError {
    pub(crate) fn new(what: &'static str, given: &str, names: &[&str]) -> Self {
        ParseNameError {
            what,
            given: given.to_owned(),
            expected: names.join(", "),
        }
    }
}

impl FromStr for OperationKind {
    type Err = ParseNameError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        OperationKind::ALL
            .into_iter()
            .find(|kind| kind.as_str() == text)
            .ok_or_else(|| {
                let names: Vec<&str> = OperationKind::ALL.iter().map(|k| k.as_str()).collect();
                ParseNameError::new("operation type", text, &names)
            })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OperationStatus {
    Active,
    Completed,
    Failed,
}

impl OperationStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            OperationStatus::Active => "active",
            OperationStatus::Completed => "completed",
            OperationStatus::Failed => "failed",
        }
    }
}

impl fmt::Display for OperationStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for OperationStatus {
    type Err = ParseNameError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text {
            "active" => Ok(OperationStatus::Active),
            "completed" => Ok(OperationStatus::Completed),
            "failed" => Ok(OperationStatus::Failed),
            _ => Err(ParseNameError::new(
                "operation status",
                text,
                &["active", "completed", "failed"],
            )),
        }
    }
}

/// One operation as listed by `GET /operations` and written to the operation log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OperationRecord {
    pub id: String,
    #[serde(rename = "type")]
    pub kind: OperationKind,
    pub status: OperationStatus,
    pub started_at: Timestamp,
    pub ended_at: Option<Timestamp>,
    pub duration_ms: Option<f64>,
    pub details: serde_json::Value,
    pub result: Option<serde_json::Value>,
    pub error: Option<String>,
    pub conflicts: usize,
}

impl OperationRecord {
    /// Duration in seconds, for finished operations.
    pub fn duration_seconds(&self) -> Option<f64> {
        self.duration_ms.map(|ms| ms / 1000.0)
    }

    /// Finished with an end inside `(from, to]`.
    pub(crate) fn ended_within(&self, from: Timestamp, to: Timestamp) -> bool {
        self.ended_at.is_some_and(|end| end > from && end <= to)
    }
}

/// How an operation ended.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    Succeeded {
        result: serde_json::Value,
        conflicts: usize,
    },
    /// `code` is a stable machine name (`store_unavailable`), `message` is for people; the record's
    /// `error` reads `code: message`.
    Failed { code: String, message: String },
}

impl Outcome {
    pub fn succeeded(result: serde_json::Value) -> Self {
        Outcome::Succeeded {
            result,
            conflicts: 0,
        }
    }

    pub fn failed(code: impl Into<String>, message: impl Into<String>) -> Self {
        Outcome::Failed {
            code: code.into(),
            message: message.into(),
        }
    }
}

/// Filter for [`crate::Monitor::operations`]; `limit` 0 means no limit.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct OperationQuery {
    pub status: Option<OperationStatus>,
    pub kind: Option<OperationKind>,
    pub limit: usize,
}

/// `op_` + a ULID whose time part is `now`.
pub(crate) fn new_operation_id(now: Timestamp) -> String {
    format!("op_{}", ulid::Ulid::from_datetime(now.to_system_time()))
}

/// Active operations by id, and the most recent finished ones (oldest dropped past `capacity`).
#[derive(Debug)]
pub(crate) struct OperationBook {
    active: HashMap<String, OperationRecord>,
    finished: VecDeque<OperationRecord>,
    capacity: usize,
}

impl OperationBook {
    pub(crate) fn new(capacity: usize) -> Self {
        OperationBook {
            active: HashMap::new(),
            finished: VecDeque::new(),
            capacity,
        }
    }

    pub(crate) fn start(
        &mut self,
        kind: OperationKind,
        details: serde_json::Value,
        now: Timestamp,
    ) -> String {
        let id = new_operation_id(now);
        let record = OperationRecord {
            id: id.clone(),
            kind,
            status: OperationStatus::Active,
            started_at: now,
            ended_at: None,
            duration_ms: None,
            details,
            result: None,
            error: None,
            conflicts: 0,
        };
        self.active.insert(id.clone(), record);
        id
    }

    /// Moves the operation from active to finished; `None` when `id` is not active (unknown or
    /// finished already, so a double finish cannot count twice).
    pub(crate) fn finish(
        &mut self,
        id: &str,
        outcome: Outcome,
        now: Timestamp,
    ) -> Option<OperationRecord> {
        let mut record = self.active.remove(id)?;
        // A clock that stepped back must not produce a negative duration.
        let elapsed = now
            .unix_millis()
            .saturating_sub(record.started_at.unix_millis())
            .max(0);
        record.ended_at = Some(now);
        record.duration_ms = Some(elapsed as f64);
        match outcome {
            Outcome::Succeeded { result, conflicts } => {
                record.status = OperationStatus::Completed;
                record.result = Some(result);
                record.conflicts = conflicts;
            }
            Outcome::Failed { code, message } => {
                record.status = OperationStatus::Failed;
                record.error = Some(format!("{code}: {message}"));
            }
        }
        if self.capacity > 0 {
            while self.finished.len() >= self.capacity {
                self.finished.pop_front();
            }
            self.finished.push_back(record.clone());
        }
        Some(record)
    }

    /// Adds finished operations of an earlier run (oldest first), keeping the newest `capacity`.
    pub(crate) fn resume(&mut self, records: Vec<OperationRecord>) {
        for record in records {
            if self.capacity == 0 {
                break;
            }
            while self.finished.len() >= self.capacity {
                self.finished.pop_front();
            }
            self.finished.push_back(record);
        }
    }

    pub(crate) fn active_count(&self) -> usize {
        self.active.len()
    }

    /// Finished operations, oldest first.
    pub(crate) fn finished(&self) -> impl DoubleEndedIterator<Item = &OperationRecord> {
        self.finished.iter()
    }

    /// Active and finished matching `query`, newest start first.
    pub(crate) fn query(&self, query: &OperationQuery) -> Vec<OperationRecord> {
        let mut matching: Vec<&OperationRecord> = self
            .active
            .values()
            .chain(self.finished.iter())
            .filter(|r| query.status.is_none_or(|s| r.status == s))
            .filter(|r| query.kind.is_none_or(|k| r.kind == k))
            .collect();
        // Ids are ULIDs of the start time, so they break ties between operations started in the
        // same millisecond.
        matching.sort_by(|a, b| {
            b.started_at
                .cmp(&a.started_at)
                .then_with(|| b.id.cmp(&a.id))
        });
        let limit = if query.limit == 0 {
            usize::MAX
        } else {
            query.limit
        };
        matching.into_iter().take(limit).cloned().collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn at(seconds: i64) -> Timestamp {
        Timestamp::from_unix_millis(1_700_000_000_000 + seconds * 1000)
    }

    #[test]
    fn kind_names_round_trip_through_str_and_serde() {
        for kind in OperationKind::ALL {
            assert_eq!(kind.as_str().parse::<OperationKind>(), Ok(kind));
            let json = serde_json::to_value(kind).unwrap();
            assert_eq!(json, json!(kind.as_str()));
        }
        let err = "deploy".parse::<OperationKind>().unwrap_err();
        assert!(err.to_string().contains("unknown operation type `deploy`"));
        assert!(err.to_string().contains("conflict_check"));
    }

    #[test]
    fn status_parses_and_serializes_lowercase() {
        assert_eq!("failed".parse(), Ok(OperationStatus::Failed));
        assert!("FAILED".parse::<OperationStatus>().is_err());
        assert_eq!(
            serde_json::to_value(OperationStatus::Completed).unwrap(),
            json!("completed")
        );
    }

    #[test]
    fn finish_sets_status_duration_result_and_error() {
        let mut book = OperationBook::new(10);
        let ok = book.start(OperationKind::Analysis, json!({"repos": 3}), at(0));
        let bad = book.start(OperationKind::Claim, json!({}), at(1));
        assert!(ok.starts_with("op_") && ok.len() == 29, "{ok}");
        assert_eq!(book.active_count(), 2);

        let done = book
            .finish(
                &ok,
                Outcome::Succeeded {
                    result: json!({"services": 7}),
                    conflicts: 2,
                },
                at(3),
            )
            .unwrap();
        assert_eq!(done.status, OperationStatus::Completed);
        assert_eq!(done.duration_ms, Some(3000.0));
        assert_eq!(done.conflicts, 2);
        assert_eq!(done.result, Some(json!({"services": 7})));

        let failed = book
            .finish(&bad, Outcome::failed("held", "port:8080 is held"), at(2))
            .unwrap();
        assert_eq!(failed.status, OperationStatus::Failed);
        assert_eq!(failed.error.as_deref(), Some("held: port:8080 is held"));
        assert_eq!(failed.result, None);
        assert_eq!(book.active_count(), 0);
    }

    #[test]
    fn finishing_unknown_or_finished_operation_returns_none() {
        let mut book = OperationBook::new(10);
        let id = book.start(OperationKind::Plan, json!({}), at(0));
        assert!(
            book.finish("op_nope", Outcome::succeeded(json!(null)), at(1))
                .is_none()
        );
        assert!(
            book.finish(&id, Outcome::succeeded(json!(null)), at(1))
                .is_some()
        );
        assert!(
            book.finish(&id, Outcome::succeeded(json!(null)), at(2))
                .is_none()
        );
        assert_eq!(book.finished().count(), 1);
    }

    #[test]
    fn clock_stepping_back_gives_zero_duration() {
        let mut book = OperationBook::new(10);
        let id = book.start(OperationKind::Refresh, json!({}), at(10));
        let rec = book
            .finish(&id, Outcome::succeeded(json!(null)), at(5))
            .unwrap();
        assert_eq!(rec.duration_ms, Some(0.0));
    }

    #[test]
    fn history_keeps_only_the_newest_capacity_operations() {
        let mut book = OperationBook::new(3);
        for i in 0..5 {
            let id = book.start(OperationKind::Claim, json!({"i": i}), at(i));
            book.finish(&id, Outcome::succeeded(json!(null)), at(i));
        }
        let kept: Vec<i64> = book
            .finished()
            .map(|r| r.details["i"].as_i64().unwrap())
            .collect();
        assert_eq!(kept, vec![2, 3, 4]);
    }

    #[test]
    fn query_filters_orders_newest_first_and_limits() {
        let mut book = OperationBook::new(10);
        let a = book.start(OperationKind::Analysis, json!({}), at(0));
        let b = book.start(OperationKind::Claim, json!({}), at(1));
        let _c = book.start(OperationKind::Claim, json!({}), at(2));
        book.finish(&a, Outcome::succeeded(json!(null)), at(3));
        book.finish(&b, Outcome::failed("x", "y"), at(3));

        let all = book.query(&OperationQuery::default());
        let starts: Vec<Timestamp> = all.iter().map(|r| r.started_at).collect();
        assert_eq!(starts, vec![at(2), at(1), at(0)]);

        let claims = book.query(&OperationQuery {
            kind: Some(OperationKind::Claim),
            ..Default::default()
        });
        assert_eq!(claims.len(), 2);

        let failed = book.query(&OperationQuery {
            status: Some(OperationStatus::Failed),
            ..Default::default()
        });
        assert_eq!(failed.len(), 1);
        assert_eq!(failed[0].id, b);

        let active = book.query(&OperationQuery {
            status: Some(OperationStatus::Active),
            limit: 5,
            ..Default::default()
        });
        assert_eq!(active.len(), 1);

        let one = book.query(&OperationQuery {
            limit: 1,
            ..Default::default()
        });
        assert_eq!(one.len(), 1);
        assert_eq!(one[0].started_at, at(2));
    }

    #[test]
    fn record_serializes_camel_case_with_type() {
        let mut book = OperationBook::new(10);
        let id = book.start(OperationKind::ConfigSync, json!({"keys": ["A"]}), at(0));
        let rec = book
            .finish(&id, Outcome::succeeded(json!({"ok": true})), at(1))
            .unwrap();
        let value = serde_json::to_value(&rec).unwrap();
        assert_eq!(value["type"], json!("config_sync"));
        assert_eq!(value["status"], json!("completed"));
        assert_eq!(value["durationMs"], json!(1000.0));
        assert!(value["startedAt"].as_str().unwrap().ends_with('Z'));
        assert!(value.get("endedAt").is_some());
        let back: OperationRecord = serde_json::from_value(value).unwrap();
        assert_eq!(back, rec);
    }
}
