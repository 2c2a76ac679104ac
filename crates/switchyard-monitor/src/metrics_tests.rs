//! Tests of the Prometheus output: valid text exposition (checked by [`crate::exposition`]),
//! the values the monitor fed in, and one recorder per monitor.

use serde_json::json;
use switchyard_store::Timestamp;

use crate::exposition::{self, Exposition};
use crate::metrics::{
    CONFLICTS_DETECTED, HTTP_DURATION, HTTP_REQUESTS, LOG_ERRORS, OPERATION_DURATION,
    OPERATIONS_ACTIVE, OPERATIONS_TOTAL, RESIDENT_MEMORY,
};
use crate::{Monitor, MonitorConfig, OperationKind, Outcome};

fn at(millis: i64) -> Timestamp {
    Timestamp::from_unix_millis(1_700_000_000_000 + millis)
}

fn scrape(monitor: &Monitor) -> Exposition {
    let text = monitor.render_prometheus();
    match exposition::parse(&text) {
        Ok(parsed) => parsed,
        Err(errors) => panic!("invalid exposition:\n{}\n---\n{text}", errors.join("\n")),
    }
}

fn busy_monitor() -> Monitor {
    let m = Monitor::new(MonitorConfig::default(), at(0)).expect("monitor");
    let durations = [3, 40, 700, 2_000, 65_000];
    for (i, ms) in durations.into_iter().enumerate() {
        let id = m.start(OperationKind::Analysis, json!({}), at(0));
        let outcome = if i == 1 {
            Outcome::failed("x", "y")
        } else {
            Outcome::Succeeded {
                result: json!({}),
                conflicts: i,
            }
        };
        m.finish(&id, outcome, at(ms));
    }
    let claim = m.start(OperationKind::Claim, json!({}), at(0));
    m.finish(&claim, Outcome::failed("held", "port:1"), at(1));
    m.start(OperationKind::Deployment, json!({}), at(5)); // stays active
    m.record_http("get", "/api/coordination/resources/{id}/status", 200, 0.004);
    m.record_http("GET", "/api/coordination/resources/{id}/status", 404, 0.2);
    m.record_http("POST", "/api/coordination/cleanup", 500, 12.0);
    m.record_http("GET", "/health", 200, f64::NAN);
    m.record_http("GET", "/health", 200, -1.0);
    m.set_gauge(
        "switchyard_resources",
        "Registered resources by status",
        &[("status", "claimed".into())],
        3.0,
    );
    m.set_gauge(
        "switchyard_resources",
        "Registered resources by status",
        &[("status", "free \"quoted\" \\ and\nnewline".into())],
        1.0,
    );
    m
}

#[test]
fn a_fresh_monitor_already_exposes_every_family_at_zero() {
    let m = Monitor::new(MonitorConfig::default(), at(0)).expect("monitor");
    let e = scrape(&m);
    for family in [
        OPERATIONS_TOTAL,
        OPERATIONS_ACTIVE,
        CONFLICTS_DETECTED,
        LOG_ERRORS,
    ] {
        assert!(e.families.contains_key(family), "{family} missing");
    }
    assert_eq!(
        e.samples(OPERATIONS_TOTAL).count(),
        2 * OperationKind::ALL.len()
    );
    assert!(e.samples(OPERATIONS_TOTAL).all(|s| s.value == 0.0));
    assert_eq!(e.value(OPERATIONS_ACTIVE, &[]), Some(0.0));
    assert_eq!(e.value(CONFLICTS_DETECTED, &[]), Some(0.0));
    assert_eq!(
        e.families[OPERATIONS_TOTAL].kind.as_deref(),
        Some("counter")
    );
}

#[test]
fn the_output_is_valid_prometheus_text_with_help_and_type_for_every_family() {
    let m = busy_monitor();
    let text = m.render_prometheus();
    let e = scrape(&m);
    for (name, family) in &e.families {
        assert!(
            family.help.as_deref().is_some_and(|h| !h.is_empty()),
            "{name}"
        );
        assert!(family.kind.is_some(), "{name}");
    }
    assert_eq!(
        e.families[OPERATION_DURATION].kind.as_deref(),
        Some("histogram")
    );
    assert_eq!(e.families[HTTP_DURATION].kind.as_deref(), Some("histogram"));
    assert_eq!(e.families[OPERATIONS_ACTIVE].kind.as_deref(), Some("gauge"));
    // Every line is a comment, blank, or a sample of a family seen above.
    for line in text
        .lines()
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
    {
        assert!(
            e.families.keys().any(|f| line.starts_with(f.as_str())),
            "{line}"
        );
    }
    // A second render (after more work) is still valid.
    m.record_http("GET", "/metrics", 200, 0.001);
    scrape(&m);
}

#[test]
fn operation_counters_and_histograms_hold_what_was_recorded() {
    let e = scrape(&busy_monitor());
    let ops =
        |kind: &str, result: &str| e.value(OPERATIONS_TOTAL, &[("kind", kind), ("result", result)]);
    assert_eq!(ops("analysis", "succeeded"), Some(4.0));
    assert_eq!(ops("analysis", "failed"), Some(1.0));
    assert_eq!(ops("claim", "failed"), Some(1.0));
    assert_eq!(ops("deployment", "succeeded"), Some(0.0));
    assert_eq!(e.value(OPERATIONS_ACTIVE, &[]), Some(1.0));
    // Conflicts 0 + 2 + 3 + 4 from the succeeded analyses (the failed one reports none).
    assert_eq!(e.value(CONFLICTS_DETECTED, &[]), Some(9.0));

    let count = format!("{OPERATION_DURATION}_count");
    let sum = format!("{OPERATION_DURATION}_sum");
    let bucket = format!("{OPERATION_DURATION}_bucket");
    assert_eq!(e.value(&count, &[("kind", "analysis")]), Some(5.0));
    let total = e.value(&sum, &[("kind", "analysis")]).expect("sum");
    assert!((total - 67.743).abs() < 1e-6, "{total}");
    let le = |bound: &str| e.value(&bucket, &[("kind", "analysis"), ("le", bound)]);
    assert_eq!(le("0.005"), Some(1.0));
    assert_eq!(le("0.05"), Some(2.0));
    assert_eq!(le("1"), Some(3.0));
    assert_eq!(le("60"), Some(4.0));
    assert_eq!(le("300"), Some(5.0));
    assert_eq!(le("+Inf"), Some(5.0));
}

#[test]
fn http_series_use_upper_case_methods_and_clamp_bad_durations() {
    let e = scrape(&busy_monitor());
    let status = "/api/coordination/resources/{id}/status";
    let requests = |method: &str, route: &str, code: &str| {
        e.value(
            HTTP_REQUESTS,
            &[("method", method), ("route", route), ("status", code)],
        )
    };
    assert_eq!(requests("GET", status, "200"), Some(1.0));
    assert_eq!(requests("GET", status, "404"), Some(1.0));
    assert_eq!(
        requests("POST", "/api/coordination/cleanup", "500"),
        Some(1.0)
    );
    assert_eq!(requests("GET", "/health", "200"), Some(2.0));
    assert_eq!(
        e.samples(HTTP_REQUESTS)
            .filter(|s| s.label("method") == Some("get"))
            .count(),
        0
    );
    let count = format!("{HTTP_DURATION}_count");
    let sum = format!("{HTTP_DURATION}_sum");
    assert_eq!(
        e.value(&count, &[("method", "GET"), ("route", status)]),
        Some(2.0)
    );
    // NaN and negative durations were recorded as zero.
    assert_eq!(
        e.value(&sum, &[("method", "GET"), ("route", "/health")]),
        Some(0.0)
    );
    assert_eq!(
        e.value(&count, &[("method", "GET"), ("route", "/health")]),
        Some(2.0)
    );
}

#[test]
fn server_gauges_escape_label_values_and_resident_memory_is_reported() {
    let e = scrape(&busy_monitor());
    let family = &e.families["switchyard_resources"];
    assert_eq!(
        family.help.as_deref(),
        Some("Registered resources by status")
    );
    assert_eq!(family.kind.as_deref(), Some("gauge"));
    assert_eq!(
        e.value("switchyard_resources", &[("status", "claimed")]),
        Some(3.0)
    );
    assert_eq!(
        e.value(
            "switchyard_resources",
            &[("status", "free \"quoted\" \\ and\nnewline")]
        ),
        Some(1.0),
        "label value survives escaping"
    );
    if cfg!(target_os = "linux") {
        let bytes = e.value(RESIDENT_MEMORY, &[]).expect("resident memory");
        assert!(bytes > 1024.0 * 1024.0, "{bytes}");
    }
}

#[test]
fn each_monitor_has_its_own_recorder() {
    let a = busy_monitor();
    let b = Monitor::new(MonitorConfig::default(), at(0)).expect("monitor");
    let (ea, eb) = (scrape(&a), scrape(&b));
    let failed = [("kind", "claim"), ("result", "failed")];
    assert_eq!(ea.value(OPERATIONS_TOTAL, &failed), Some(1.0));
    assert_eq!(eb.value(OPERATIONS_TOTAL, &failed), Some(0.0));
    assert!(eb.samples(HTTP_REQUESTS).next().is_none());
}

#[test]
fn non_finite_gauge_values_are_ignored() {
    let m = busy_monitor();
    let claimed = [("status", "claimed".to_string())];
    m.set_gauge(
        "switchyard_resources",
        "Registered resources by status",
        &claimed,
        f64::INFINITY,
    );
    m.set_gauge(
        "switchyard_resources",
        "Registered resources by status",
        &claimed,
        f64::NAN,
    );
    let e = scrape(&m);
    assert_eq!(
        e.value("switchyard_resources", &[("status", "claimed")]),
        Some(3.0)
    );
}

#[test]
fn unknown_http_methods_share_one_series() {
    let m = Monitor::new(MonitorConfig::default(), at(0)).expect("monitor");
    for method in ["FOO", "BAR", "brew"] {
        m.record_http(method, "unmatched", 405, 0.001);
    }
    let e = scrape(&m);
    let other = [
        ("method", "OTHER"),
        ("route", "unmatched"),
        ("status", "405"),
    ];
    assert_eq!(e.value(HTTP_REQUESTS, &other), Some(3.0));
    assert_eq!(e.samples(HTTP_REQUESTS).count(), 1);
}
