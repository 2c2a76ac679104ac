//! Prometheus metrics for one server: a private `PrometheusRecorder` (never the global one, since
//! several servers can share a process) fed through the `metrics::Recorder` trait, rendered as text.

use std::collections::HashSet;
use std::sync::Mutex;

use metrics::{Key, Label, Level, Metadata, Recorder, SharedString};
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle, PrometheusRecorder};

use crate::MonitorError;
use crate::operations::{OperationKind, OperationRecord, OperationStatus};

pub const OPERATIONS_TOTAL: &str = "switchyard_operations_total";
pub const OPERATION_DURATION: &str = "switchyard_operation_duration_seconds";
pub const OPERATIONS_ACTIVE: &str = "switchyard_operations_active";
pub const CONFLICTS_DETECTED: &str = "switchyard_conflicts_detected_total";
pub const HTTP_REQUESTS: &str = "switchyard_http_requests_total";
pub const HTTP_DURATION: &str = "switchyard_http_request_duration_seconds";
pub const RESIDENT_MEMORY: &str = "switchyard_process_resident_memory_bytes";
pub const LOG_ERRORS: &str = "switchyard_operation_log_errors_total";

/// Upper bounds (seconds) for every duration histogram: 5 ms HTTP calls up to 10-minute analyses.
const DURATION_BUCKETS: &[f64] = &[
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0, 600.0,
];

static METADATA: Metadata<'static> =
    Metadata::new(module_path!(), Level::INFO, Some(module_path!()));

pub(crate) struct Metrics {
    recorder: PrometheusRecorder,
    handle: PrometheusHandle,
    /// Gauge families already given `# HELP` through [`Metrics::set_gauge`].
    described: Mutex<HashSet<&'static str>>,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics").finish_non_exhaustive()
    }
}

impl Metrics {
    pub(crate) fn new() -> Result<Self, MonitorError> {
        let recorder = PrometheusBuilder::new()
            .set_buckets(DURATION_BUCKETS)
            .map_err(|e| MonitorError::Metrics(e.to_string()))?
            .build_recorder();
        let handle = recorder.handle();
        let metrics = Metrics {
            recorder,
            handle,
            described: Mutex::new(HashSet::new()),
        };
        metrics.describe();
        // Families without labels exist from the start, so a scrape before any work still lists them.
        metrics.counter(CONFLICTS_DETECTED, Vec::new()).increment(0);
        metrics.counter(LOG_ERRORS, Vec::new()).increment(0);
        metrics.set_active(0);
        Ok(metrics)
    }

    fn describe(&self) {
        let r = &self.recorder;
        r.describe_counter(
            OPERATIONS_TOTAL.into(),
            None,
            "Finished operations by type and result (succeeded, failed).".into(),
        );
        r.describe_histogram(
            OPERATION_DURATION.into(),
            None,
            "Duration of finished operations in seconds, by type.".into(),
        );
        r.describe_gauge(
            OPERATIONS_ACTIVE.into(),
            None,
            "Operations started and not yet finished.".into(),
        );
        r.describe_counter(
            CONFLICTS_DETECTED.into(),
            None,
            "Conflicts reported by finished operations.".into(),
        );
        r.describe_counter(
            HTTP_REQUESTS.into(),
            None,
            "HTTP requests served, by method, route template and status code.".into(),
        );
        r.describe_histogram(
            HTTP_DURATION.into(),
            None,
            "HTTP request duration in seconds, by method and route template.".into(),
        );
        r.describe_gauge(
            RESIDENT_MEMORY.into(),
            None,
            "Resident memory of the server process in bytes.".into(),
        );
        r.describe_counter(
            LOG_ERRORS.into(),
            None,
            "Operation log lines that could not be written.".into(),
        );
    }

    fn counter(&self, name: &'static str, labels: Vec<Label>) -> metrics::Counter {
        self.recorder
            .register_counter(&Key::from_parts(name, labels), &METADATA)
    }

    fn gauge(&self, name: &'static str, labels: Vec<Label>) -> metrics::Gauge {
        self.recorder
            .register_gauge(&Key::from_parts(name, labels), &METADATA)
    }

    fn histogram(&self, name: &'static str, labels: Vec<Label>) -> metrics::Histogram {
        self.recorder
            .register_histogram(&Key::from_parts(name, labels), &METADATA)
    }

    pub(crate) fn operation_finished(&self, record: &OperationRecord) {
        let kind = record.kind.as_str();
        let result = match record.status {
            OperationStatus::Failed => "failed",
            _ => "succeeded",
        };
        self.counter(
            OPERATIONS_TOTAL,
            vec![Label::new("kind", kind), Label::new("result", result)],
        )
        .increment(1);
        if let Some(seconds) = record.duration_seconds() {
            self.histogram(OPERATION_DURATION, vec![Label::new("kind", kind)])
                .record(seconds);
        }
        if record.conflicts > 0 {
            self.counter(CONFLICTS_DETECTED, Vec::new())
                .increment(record.conflicts as u64);
        }
    }

    /// Pre-registers the per-kind operation series at zero, so rates can be computed from the
    /// first scrape on.
    pub(crate) fn register_kinds(&self) {
        for kind in OperationKind::ALL {
            for result in ["succeeded", "failed"] {
                self.counter(
                    OPERATIONS_TOTAL,
                    vec![
                        Label::new("kind", kind.as_str()),
                        Label::new("result", result),
                    ],
                )
                .increment(0);
            }
        }
    }

    pub(crate) fn set_active(&self, active: usize) {
        self.gauge(OPERATIONS_ACTIVE, Vec::new()).set(active as f64);
    }

    pub(crate) fn log_error(&self) {
        self.counter(LOG_ERRORS, Vec::new()).increment(1);
    }

    pub(crate) fn http(&self, method: &str, route: &str, status: u16, seconds: f64) {
        // Clients may send any token as a method; only the standard ones get their own series.
        let method = method.to_ascii_uppercase();
        let method = match method.as_str() {
            "GET" | "HEAD" | "POST" | "PUT" | "PATCH" | "DELETE" | "OPTIONS" | "CONNECT"
            | "TRACE" => method,
            _ => "OTHER".to_string(),
        };
        self.counter(
            HTTP_REQUESTS,
            vec![
                Label::new("method", method.clone()),
                Label::new("route", route.to_owned()),
                Label::new("status", status.to_string()),
            ],
        )
        .increment(1);
        // A negative or NaN duration would corrupt `_sum`; clamp it to zero.
        let seconds = if seconds.is_finite() && seconds > 0.0 {
            seconds
        } else {
            0.0
        };
        self.histogram(
            HTTP_DURATION,
            vec![
                Label::new("method", method),
                Label::new("route", route.to_owned()),
            ],
        )
        .record(seconds);
    }

    pub(crate) fn set_gauge(
        &self,
        name: &'static str,
        help: &'static str,
        labels: &[(&'static str, String)],
        value: f64,
    ) {
        if !value.is_finite() {
            return;
        }
        let first = self
            .described
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .insert(name);
        if first {
            self.recorder
                .describe_gauge(name.into(), None, SharedString::const_str(help));
        }
        let labels = labels
            .iter()
            .map(|(key, value)| Label::new(*key, value.clone()))
            .collect();
        self.gauge(name, labels).set(value);
    }

    pub(crate) fn render(&self, memory_bytes: Option<u64>) -> String {
        if let Some(bytes) = memory_bytes {
            self.gauge(RESIDENT_MEMORY, Vec::new()).set(bytes as f64);
        }
        self.handle.render()
    }
}
