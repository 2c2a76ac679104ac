//! Health: the server checks its components (store, fleet, alerts) and this module folds them into
//! one status, the worst of them, with uptime and version; plus the process's resident memory.

use std::fmt;

use serde::{Deserialize, Serialize};
use switchyard_store::Timestamp;

/// Ordered from best to worst, so the overall status is the `max` of the components.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum HealthStatus {
    Healthy,
    Degraded,
    Critical,
}

impl HealthStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            HealthStatus::Healthy => "healthy",
            HealthStatus::Degraded => "degraded",
            HealthStatus::Critical => "critical",
        }
    }
}

impl fmt::Display for HealthStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ComponentCheck {
    pub name: String,
    pub status: HealthStatus,
    pub message: String,
    pub latency_ms: Option<f64>,
}

impl ComponentCheck {
    pub fn new(name: impl Into<String>, status: HealthStatus, message: impl Into<String>) -> Self {
        ComponentCheck {
            name: name.into(),
            status,
            message: message.into(),
            latency_ms: None,
        }
    }

    pub fn with_latency_ms(mut self, latency_ms: f64) -> Self {
        self.latency_ms = Some(latency_ms);
        self
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Health {
    pub status: HealthStatus,
    pub components: Vec<ComponentCheck>,
    pub uptime_seconds: u64,
    pub version: String,
    pub checked_at: Timestamp,
}

/// Folds component checks into one report; no components means healthy.
pub fn health(components: Vec<ComponentCheck>, uptime_seconds: u64, now: Timestamp) -> Health {
    let status = components
        .iter()
        .map(|c| c.status)
        .max()
        .unwrap_or(HealthStatus::Healthy);
    Health {
        status,
        components,
        uptime_seconds,
        version: env!("CARGO_PKG_VERSION").to_owned(),
        checked_at: now,
    }
}

/// Resident set size of this process: `VmRSS` from `/proc/self/status` on Linux (the same figure as
/// `statm`'s second field, but in kB, so no page-size lookup is needed); `None` elsewhere or when unreadable.
pub fn process_memory_bytes() -> Option<u64> {
    if !cfg!(target_os = "linux") {
        return None;
    }
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    parse_vm_rss(&status)
}

fn parse_vm_rss(status: &str) -> Option<u64> {
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let mut words = line.split_whitespace().skip(1);
    let amount: u64 = words.next()?.parse().ok()?;
    let factor = match words.next() {
        Some("kB") | None => 1024,
        Some(_) => return None,
    };
    amount.checked_mul(factor)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(name: &str, status: HealthStatus) -> ComponentCheck {
        ComponentCheck::new(name, status, "ok")
    }

    #[test]
    fn status_is_the_worst_component() {
        let now = Timestamp::from_unix_millis(0);
        assert_eq!(health(vec![], 0, now).status, HealthStatus::Healthy);
        let h = health(
            vec![
                check("store", HealthStatus::Healthy),
                check("fleet", HealthStatus::Degraded),
            ],
            12,
            now,
        );
        assert_eq!(h.status, HealthStatus::Degraded);
        let h = health(
            vec![
                check("store", HealthStatus::Critical),
                check("fleet", HealthStatus::Degraded),
            ],
            12,
            now,
        );
        assert_eq!(h.status, HealthStatus::Critical);
        assert_eq!(h.uptime_seconds, 12);
        assert_eq!(h.version, env!("CARGO_PKG_VERSION"));
    }

    #[test]
    fn health_serializes_camel_case_lowercase_status() {
        let h = health(
            vec![check("store", HealthStatus::Healthy).with_latency_ms(1.5)],
            3,
            Timestamp::from_unix_millis(0),
        );
        let v = serde_json::to_value(&h).unwrap();
        assert_eq!(v["status"], "healthy");
        assert_eq!(v["uptimeSeconds"], 3);
        assert_eq!(v["checkedAt"], "1970-01-01T00:00:00.000Z");
        assert_eq!(v["components"][0]["latencyMs"], 1.5);
    }

    #[test]
    fn vm_rss_is_parsed_in_bytes() {
        let status = "Name:\tcat\nVmPeak:\t  9000 kB\nVmRSS:\t    1234 kB\nThreads: 1\n";
        assert_eq!(parse_vm_rss(status), Some(1234 * 1024));
        assert_eq!(parse_vm_rss("Name: x\n"), None);
        assert_eq!(parse_vm_rss("VmRSS: lots kB\n"), None);
    }

    #[test]
    #[cfg(target_os = "linux")]
    fn this_process_has_resident_memory() {
        let bytes = process_memory_bytes().unwrap();
        assert!(bytes > 1024 * 1024, "{bytes}");
    }
}
