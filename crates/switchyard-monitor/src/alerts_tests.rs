//! Tests of the alert rules (seed 001's thresholds: conflict rate 0.3, failure rate 0.1, mean
//! resolution 300 s; resource exhaustion; system degradation) and of the alert book's life cycle.

use std::time::Duration;

use serde_json::json;
use switchyard_store::Timestamp;

use crate::{
    Alert, AlertChange, AlertInputs, AlertQuery, AlertRule, AlertSeverity, AlertThresholds,
    Monitor, MonitorConfig, OperationKind, Outcome,
};

fn at(seconds: i64) -> Timestamp {
    Timestamp::from_unix_millis(1_700_000_000_000 + seconds * 1000)
}

fn monitor() -> Monitor {
    Monitor::new(MonitorConfig::default(), at(0)).expect("monitor")
}

/// Runs one operation of `kind` from `start` for `seconds`: failed, or succeeded with `conflicts`.
fn run(
    monitor: &Monitor,
    kind: OperationKind,
    start: i64,
    seconds: i64,
    failed: bool,
    conflicts: usize,
) {
    let id = monitor.start(kind, json!({}), at(start));
    let outcome = if failed {
        Outcome::failed("boom", "it failed")
    } else {
        Outcome::Succeeded {
            result: json!({}),
            conflicts,
        }
    };
    assert!(monitor.finish(&id, outcome, at(start + seconds)).is_some());
}

/// `ok` succeeded and `bad` failed claims, all finishing at `end`.
fn claims(monitor: &Monitor, end: i64, ok: usize, bad: usize) {
    for _ in 0..ok {
        run(monitor, OperationKind::Claim, end, 0, false, 0);
    }
    for _ in 0..bad {
        run(monitor, OperationKind::Claim, end, 0, true, 0);
    }
}

fn raised(changes: &[AlertChange]) -> Vec<&Alert> {
    changes
        .iter()
        .filter_map(|c| match c {
            AlertChange::Raised(a) => Some(a),
            AlertChange::Cleared(_) => None,
        })
        .collect()
}

fn cleared(changes: &[AlertChange]) -> Vec<&Alert> {
    changes
        .iter()
        .filter_map(|c| match c {
            AlertChange::Cleared(a) => Some(a),
            AlertChange::Raised(_) => None,
        })
        .collect()
}

fn rules(changes: &[AlertChange]) -> Vec<AlertRule> {
    raised(changes).iter().map(|a| a.rule).collect()
}

fn none() -> AlertInputs {
    AlertInputs::default()
}

#[test]
fn seed_defaults() {
    let t = AlertThresholds::default();
    assert_eq!(t.conflict_rate, 0.3);
    assert_eq!(t.failure_rate, 0.1);
    assert_eq!(t.avg_resolution_seconds, 300.0);
    let config = MonitorConfig::default();
    assert_eq!(config.window, Duration::from_secs(900));
    assert_eq!(config.min_operations, 5);
}

#[test]
fn failure_rate_fires_only_above_ten_percent() {
    let m = monitor();
    claims(&m, 10, 9, 1); // exactly 0.1: not above
    assert!(m.evaluate(&none(), at(10)).is_empty());
    claims(&m, 11, 0, 1); // 2 of 11 = 0.18
    let changes = m.evaluate(&none(), at(11));
    assert_eq!(rules(&changes), vec![AlertRule::HighFailureRate]);
    let alert = raised(&changes)[0];
    assert_eq!(alert.severity, AlertSeverity::High);
    assert!((alert.value - 2.0 / 11.0).abs() < 1e-9, "{}", alert.value);
    assert_eq!(alert.threshold, 0.1);
    assert_eq!(alert.subject, None);
    assert!(alert.message.contains("2 of 11"), "{}", alert.message);
    assert!(alert.active && !alert.acknowledged);
    assert_eq!(alert.raised_at, at(11));
    assert!(
        alert.id.starts_with("alert_") && alert.id.len() == 32,
        "{}",
        alert.id
    );
}

#[test]
fn failure_rate_needs_min_operations_in_the_window() {
    let m = monitor();
    claims(&m, 5, 0, 4); // 4 of 4 failed, but 4 < min_operations (5)
    assert!(m.evaluate(&none(), at(5)).is_empty());
    claims(&m, 6, 0, 1);
    assert_eq!(
        rules(&m.evaluate(&none(), at(6))),
        vec![AlertRule::HighFailureRate]
    );
}

#[test]
fn failure_rate_uses_only_the_sliding_window() {
    let m = monitor();
    claims(&m, 0, 0, 5); // all failed at t=0
    claims(&m, 600, 5, 0); // 5 ok at t=600: 5 of 10 failed while both are in the window
    assert_eq!(
        rules(&m.evaluate(&none(), at(600))),
        vec![AlertRule::HighFailureRate]
    );
    // At t=900 the window is (0, 900]: the failures at exactly t=0 have left it.
    let changes = m.evaluate(&none(), at(900));
    assert_eq!(cleared(&changes).len(), 1, "{changes:?}");
    assert!(raised(&changes).is_empty());
    // Failures long ago plus too few operations now: nothing fires.
    claims(&m, 2000, 0, 2);
    assert!(m.evaluate(&none(), at(2000)).is_empty());
}

#[test]
fn operations_still_running_do_not_count() {
    let m = monitor();
    for _ in 0..10 {
        m.start(OperationKind::Claim, json!({}), at(0));
    }
    claims(&m, 1, 0, 1);
    assert!(m.evaluate(&none(), at(1)).is_empty());
}

#[test]
fn conflict_rate_fires_above_thirty_percent_of_conflict_checking_operations() {
    let m = monitor();
    for i in 0..10 {
        run(
            &m,
            OperationKind::ConflictCheck,
            1,
            1,
            false,
            usize::from(i < 3),
        );
    }
    // 3 of 10 exactly: not above 0.3.
    assert!(m.evaluate(&none(), at(2)).is_empty());
    run(&m, OperationKind::Analysis, 2, 1, false, 4); // 4 of 11 = 0.36
    let changes = m.evaluate(&none(), at(3));
    assert_eq!(rules(&changes), vec![AlertRule::HighConflictRate]);
    let alert = raised(&changes)[0];
    assert_eq!(alert.severity, AlertSeverity::Medium);
    assert!((alert.value - 4.0 / 11.0).abs() < 1e-9);
    assert_eq!(alert.threshold, 0.3);
    assert!(alert.message.contains("4 of 11"), "{}", alert.message);
}

#[test]
fn conflict_rate_counts_only_conflict_checking_kinds() {
    let m = monitor();
    // Many claims (which cannot find conflicts) must not dilute the rate.
    claims(&m, 1, 20, 0);
    for i in 0..5 {
        let kind = [
            OperationKind::Analysis,
            OperationKind::Refresh,
            OperationKind::ConflictCheck,
            OperationKind::Plan,
            OperationKind::ConflictCheck,
        ][i];
        run(&m, kind, 1, 0, false, usize::from(i < 2));
    }
    // 2 of 5 detecting operations = 0.4.
    assert_eq!(
        rules(&m.evaluate(&none(), at(1))),
        vec![AlertRule::HighConflictRate]
    );
}

#[test]
fn conflict_rate_needs_min_operations() {
    let m = monitor();
    for _ in 0..4 {
        run(&m, OperationKind::ConflictCheck, 1, 0, false, 2);
    }
    claims(&m, 1, 10, 0);
    assert!(m.evaluate(&none(), at(1)).is_empty());
}

#[test]
fn slow_resolution_fires_when_the_mean_is_above_300_seconds() {
    let m = monitor();
    run(&m, OperationKind::Resolution, 0, 300, false, 0);
    assert!(
        m.evaluate(&none(), at(300)).is_empty(),
        "300 s is not above"
    );
    run(&m, OperationKind::Resolution, 0, 302, false, 0); // mean 301
    let changes = m.evaluate(&none(), at(302));
    assert_eq!(rules(&changes), vec![AlertRule::SlowResolution]);
    let alert = raised(&changes)[0];
    assert_eq!(alert.severity, AlertSeverity::Medium);
    assert!((alert.value - 301.0).abs() < 1e-9, "{}", alert.value);
    assert_eq!(alert.threshold, 300.0);
    // Fast resolutions bring the mean down and clear it.
    for _ in 0..2 {
        run(&m, OperationKind::Resolution, 310, 10, false, 0);
    }
    let changes = m.evaluate(&none(), at(320));
    assert_eq!(cleared(&changes).len(), 1, "{changes:?}");
}

#[test]
fn resource_exhaustion_fires_per_resource_held_at_capacity_too_long() {
    let m = monitor();
    let now = 1000;
    let inputs = AlertInputs {
        resources_at_capacity: vec![
            ("port:8080".into(), at(now - 300)), // exactly the limit: not above
            ("port:9090".into(), at(now - 301)),
            ("volume:data".into(), at(now - 400)),
            ("volume:data".into(), at(now - 10)), // duplicate: the earliest counts
        ],
        memory_bytes: None,
    };
    let changes = m.evaluate(&inputs, at(now));
    let mut subjects: Vec<(AlertRule, Option<String>)> = raised(&changes)
        .iter()
        .map(|a| (a.rule, a.subject.clone()))
        .collect();
    subjects.sort();
    assert_eq!(
        subjects,
        vec![
            (AlertRule::ResourceExhaustion, Some("port:9090".into())),
            (AlertRule::ResourceExhaustion, Some("volume:data".into())),
        ]
    );
    for alert in raised(&changes) {
        assert_eq!(alert.severity, AlertSeverity::High);
        assert_eq!(alert.threshold, 300.0);
    }
    let data = raised(&changes)
        .into_iter()
        .find(|a| a.subject.as_deref() == Some("volume:data"))
        .expect("volume alert");
    assert_eq!(data.value, 400.0);
    assert!(data.message.contains("volume:data"), "{}", data.message);

    // One resource is released: only its alert clears; the other stays raised, not re-raised.
    let inputs = AlertInputs {
        resources_at_capacity: vec![("volume:data".into(), at(now - 400))],
        memory_bytes: None,
    };
    let changes = m.evaluate(&inputs, at(now + 1));
    assert!(raised(&changes).is_empty(), "{changes:?}");
    let gone = cleared(&changes);
    assert_eq!(gone.len(), 1);
    assert_eq!(gone[0].subject.as_deref(), Some("port:9090"));
    assert_eq!(m.active_alerts(), 1);
}

#[test]
fn system_degradation_fires_on_memory_above_the_threshold() {
    let m = monitor();
    let limit = AlertThresholds::default().memory_bytes;
    let with = |bytes| AlertInputs {
        resources_at_capacity: vec![],
        memory_bytes: bytes,
    };
    assert!(m.evaluate(&with(None), at(1)).is_empty(), "unknown memory");
    assert!(m.evaluate(&with(Some(limit)), at(2)).is_empty());
    let changes = m.evaluate(&with(Some(limit + 1)), at(3));
    assert_eq!(rules(&changes), vec![AlertRule::SystemDegradation]);
    assert_eq!(raised(&changes)[0].severity, AlertSeverity::Critical);
    assert!(raised(&changes)[0].message.contains("MiB"));
    let changes = m.evaluate(&with(Some(limit / 2)), at(4));
    assert_eq!(cleared(&changes).len(), 1);
}

#[test]
fn configured_thresholds_and_window_are_used() {
    let config = MonitorConfig {
        thresholds: AlertThresholds {
            failure_rate: 0.5,
            ..AlertThresholds::default()
        },
        window: Duration::from_secs(60),
        min_operations: 2,
        ..MonitorConfig::default()
    };
    let m = Monitor::new(config, at(0)).expect("monitor");
    claims(&m, 10, 1, 1); // 0.5: not above
    assert!(m.evaluate(&none(), at(10)).is_empty());
    claims(&m, 11, 0, 1); // 2 of 3
    assert_eq!(
        rules(&m.evaluate(&none(), at(11))),
        vec![AlertRule::HighFailureRate]
    );
    // 60 s later all of them have left the one-minute window.
    assert_eq!(cleared(&m.evaluate(&none(), at(71))).len(), 1);
}

#[test]
fn an_alert_is_raised_once_while_the_condition_holds_and_cleared_once() {
    let m = monitor();
    claims(&m, 1, 0, 5);
    let first = m.evaluate(&none(), at(1));
    assert_eq!(raised(&first).len(), 1);
    let id = raised(&first)[0].id.clone();
    assert!(
        m.evaluate(&none(), at(2)).is_empty(),
        "still firing: no change"
    );
    claims(&m, 3, 0, 5);
    assert!(m.evaluate(&none(), at(3)).is_empty());
    assert_eq!(m.active_alerts(), 1);
    assert_eq!(m.alerts(&AlertQuery::default()).alerts.len(), 1);

    // The condition stops (100 good operations): cleared exactly once.
    claims(&m, 4, 100, 0);
    let changes = m.evaluate(&none(), at(4));
    let gone = cleared(&changes);
    assert_eq!(gone.len(), 1);
    assert_eq!(gone[0].id, id);
    assert!(!gone[0].active);
    assert_eq!(gone[0].cleared_at, Some(at(4)));
    assert_eq!(changes[0].event(), "alert.cleared");
    assert!(m.evaluate(&none(), at(5)).is_empty());
    assert_eq!(m.active_alerts(), 0);

    // It fires again later: a new alert, the cleared one stays in the list.
    claims(&m, 1000, 0, 10);
    let again = m.evaluate(&none(), at(1000));
    assert_eq!(raised(&again).len(), 1);
    assert_ne!(raised(&again)[0].id, id);
    assert_eq!(again[0].event(), "alert.raised");
    assert_eq!(m.alerts(&AlertQuery::default()).alerts.len(), 2);
}

#[test]
fn acknowledge_marks_once_and_unknown_ids_are_none() {
    let m = monitor();
    assert!(m.acknowledge("alert_nope", at(1)).is_none());
    claims(&m, 1, 0, 5);
    let id = raised(&m.evaluate(&none(), at(1)))[0].id.clone();

    let acked = m.acknowledge(&id, at(5)).expect("known alert");
    assert!(acked.acknowledged);
    assert_eq!(acked.acknowledged_at, Some(at(5)));
    assert!(acked.active, "acknowledging does not clear");
    let again = m.acknowledge(&id, at(9)).expect("known alert");
    assert_eq!(again.acknowledged_at, Some(at(5)), "first instant kept");

    let unacked = m.alerts(&AlertQuery {
        acknowledged: Some(false),
        ..AlertQuery::default()
    });
    assert!(unacked.alerts.is_empty());
    let list = m.alerts(&AlertQuery::default());
    assert_eq!(list.summary.acknowledged, 1);
    assert_eq!(list.summary.unacknowledged, 0);
    // Still firing: no new alert because it was acknowledged.
    assert!(m.evaluate(&none(), at(10)).is_empty());
}

#[test]
fn restored_active_alert_is_not_raised_again() {
    let before = monitor();
    claims(&before, 1, 0, 5);
    let stored: Vec<Alert> = raised(&before.evaluate(&none(), at(1)))
        .into_iter()
        .cloned()
        .collect();
    // Persisted as JSON and read back by the next run.
    let json = serde_json::to_value(&stored).expect("json");
    let stored: Vec<Alert> = serde_json::from_value(json).expect("alerts");

    let after = monitor();
    after.restore(stored.clone());
    assert_eq!(after.active_alerts(), 1);
    claims(&after, 2, 0, 5);
    assert!(after.evaluate(&none(), at(2)).is_empty(), "not re-raised");
    assert_eq!(after.alerts(&AlertQuery::default()).alerts, stored);

    // Restoring the same id twice replaces instead of duplicating.
    after.restore(stored);
    assert_eq!(after.alerts(&AlertQuery::default()).alerts.len(), 1);

    // When the condition no longer holds after the restart, the restored alert clears once.
    claims(&after, 3, 100, 0);
    assert_eq!(cleared(&after.evaluate(&none(), at(3))).len(), 1);
}

#[test]
fn restored_cleared_alert_does_not_block_a_new_one() {
    let m = monitor();
    m.restore(vec![Alert {
        id: "alert_old".into(),
        rule: AlertRule::HighFailureRate,
        severity: AlertSeverity::High,
        subject: None,
        message: "old".into(),
        value: 0.5,
        threshold: 0.1,
        raised_at: at(-5000),
        cleared_at: Some(at(-4000)),
        active: false,
        acknowledged: true,
        acknowledged_at: Some(at(-4500)),
    }]);
    assert_eq!(m.active_alerts(), 0);
    claims(&m, 1, 0, 5);
    let changes = m.evaluate(&none(), at(1));
    assert_eq!(raised(&changes).len(), 1);
    assert_ne!(raised(&changes)[0].id, "alert_old");
}

#[test]
fn prune_forgets_only_old_cleared_alerts() {
    let m = monitor();
    claims(&m, 1, 0, 5);
    let old = raised(&m.evaluate(&none(), at(1)))[0].id.clone();
    claims(&m, 2, 100, 0);
    assert_eq!(cleared(&m.evaluate(&none(), at(2))).len(), 1);
    let memory = AlertInputs {
        resources_at_capacity: vec![],
        memory_bytes: Some(u64::MAX),
    };
    let active = raised(&m.evaluate(&memory, at(3)))[0].id.clone();

    assert!(
        m.prune_alerts(at(2)).is_empty(),
        "cleared at 2 is not before 2"
    );
    assert_eq!(m.prune_alerts(at(100)), vec![old]);
    let left: Vec<String> = m
        .alerts(&AlertQuery::default())
        .alerts
        .into_iter()
        .map(|a| a.id)
        .collect();
    assert_eq!(left, vec![active], "active alerts are never pruned");
    assert!(m.prune_alerts(at(100_000)).is_empty());
}

#[test]
fn list_filters_and_summarizes() {
    let m = monitor();
    claims(&m, 10, 0, 5);
    let memory = AlertInputs {
        resources_at_capacity: vec![],
        memory_bytes: Some(u64::MAX),
    };
    assert_eq!(m.evaluate(&memory, at(10)).len(), 2);
    run(&m, OperationKind::Resolution, 0, 3600, false, 0);
    let slow = raised(&m.evaluate(&memory, at(3600)))[0].id.clone();

    let all = m.alerts(&AlertQuery::default());
    assert_eq!(all.summary.total, 3);
    assert_eq!(all.alerts[0].id, slow, "newest first");
    assert_eq!(all.summary.by_severity.len(), 4, "every severity listed");
    assert_eq!(all.summary.by_severity["low"], 0);
    assert_eq!(all.summary.by_severity["medium"], 1);
    assert_eq!(all.summary.by_severity["high"], 1);
    assert_eq!(all.summary.by_severity["critical"], 1);
    assert_eq!(all.summary.unacknowledged, 3);

    // `since`: what was active from then on. The failure alert cleared at 3600 (inclusive);
    // the memory alert, raised at 10, still holds.
    let since = |t| {
        let list = m.alerts(&AlertQuery {
            since: Some(at(t)),
            ..AlertQuery::default()
        });
        let mut rules: Vec<AlertRule> = list.alerts.iter().map(|a| a.rule).collect();
        rules.sort();
        rules
    };
    assert_eq!(
        since(3600),
        vec![
            AlertRule::HighFailureRate,
            AlertRule::SlowResolution,
            AlertRule::SystemDegradation
        ]
    );
    assert_eq!(
        since(3601),
        vec![AlertRule::SlowResolution, AlertRule::SystemDegradation]
    );
    let critical = m.alerts(&AlertQuery {
        severity: Some(AlertSeverity::Critical),
        ..AlertQuery::default()
    });
    assert_eq!(critical.alerts.len(), 1);
    assert_eq!(critical.alerts[0].rule, AlertRule::SystemDegradation);
    assert_eq!(
        critical.summary.by_severity["high"], 0,
        "counts follow the filter"
    );

    let value = serde_json::to_value(&all).expect("json");
    assert!(value["alerts"][0].get("raisedAt").is_some());
    assert_eq!(value["alerts"][0]["rule"], "slow_resolution");
    assert!(value["summary"].get("bySeverity").is_some());
}

#[test]
fn rule_and_severity_names_parse() {
    for rule in AlertRule::ALL {
        assert_eq!(rule.as_str().parse::<AlertRule>(), Ok(rule));
        assert_eq!(rule.to_string(), rule.as_str());
    }
    assert_eq!(
        "high-failure-rate".parse::<AlertRule>(),
        Ok(AlertRule::HighFailureRate)
    );
    assert!("nope".parse::<AlertRule>().is_err());
    for severity in AlertSeverity::ALL {
        assert_eq!(severity.as_str().parse::<AlertSeverity>(), Ok(severity));
    }
    assert!("HIGH".parse::<AlertSeverity>().is_err());
}

#[test]
fn thresholds_read_from_toml_with_defaults_and_no_unknown_keys() {
    let t: AlertThresholds = toml::from_str("failure_rate = 0.25\n").expect("toml");
    assert_eq!(t.failure_rate, 0.25);
    assert_eq!(t.conflict_rate, 0.3);
    assert!(toml::from_str::<AlertThresholds>("failure_rat = 0.2\n").is_err());
}

#[test]
fn history_from_the_operation_log_keeps_a_rate_alert_across_a_restart() {
    let dir = tempfile::tempdir().expect("temp dir");
    let config = MonitorConfig {
        log: Some(crate::OperationLogConfig::new(dir.path().join("ops.jsonl"))),
        ..MonitorConfig::default()
    };
    let before = Monitor::new(config.clone(), at(0)).expect("monitor");
    claims(&before, 10, 1, 5);
    let stored: Vec<Alert> = raised(&before.evaluate(&none(), at(10)))
        .into_iter()
        .cloned()
        .collect();
    assert_eq!(stored.len(), 1);
    drop(before);

    let after = Monitor::new(config, at(20)).expect("monitor");
    after.restore(stored);
    assert_eq!(
        after.operations(&crate::OperationQuery::default()).len(),
        6,
        "history read back from the log"
    );
    assert!(
        after.evaluate(&none(), at(30)).is_empty(),
        "still holds: not cleared, not re-raised"
    );
    assert_eq!(after.active_alerts(), 1);
    // The window still moves on: 15 minutes later the old failures no longer count.
    claims(&after, 1000, 5, 0);
    assert_eq!(cleared(&after.evaluate(&none(), at(1000))).len(), 1);
}
