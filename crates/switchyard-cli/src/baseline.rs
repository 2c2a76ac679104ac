//! `check --baseline FILE`: today's findings recorded as waivers, so a later `check` reports only
//! new ones. Each waiver has a reason and an optional expiry (`YYYY-MM-DD`), as kube-linter
//! ignores and SARIF suppressions do; an expired waiver stops waiving.

use crate::Failure;
use serde::{Deserialize, Serialize};
use std::path::Path;

/// The baseline file.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Baseline {
    pub version: u32,
    pub waivers: Vec<Waiver>,
}

/// One waived finding: a conflict id, `cycle:a -> b -> a`, or `package-cycle:repo:a -> b -> a`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Waiver {
    pub id: String,
    /// What the finding was, for the reader of the file.
    #[serde(default)]
    pub finding: String,
    pub reason: String,
    /// Last day the waiver holds (`YYYY-MM-DD`); none: no expiry.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires: Option<String>,
}

/// A finding `check` can waive: its stable id and a one-line description.
pub struct Finding {
    pub id: String,
    pub description: String,
}

impl Baseline {
    /// Reads `path`; `None` when it does not exist yet.
    pub fn read(path: &Path) -> Result<Option<Baseline>, Failure> {
        let text = match std::fs::read_to_string(path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => {
                return Err(Failure {
                    code: 2,
                    message: format!("cannot read baseline {}: {e}", path.display()),
                });
            }
        };
        let baseline: Baseline = serde_json::from_str(&text).map_err(|e| Failure {
            code: 2,
            message: format!("invalid baseline {}: {e}", path.display()),
        })?;
        for w in &baseline.waivers {
            if let Some(date) = &w.expires
                && !is_date(date)
            {
                return Err(Failure {
                    code: 2,
                    message: format!(
                        "invalid baseline {}: waiver {} expires {date:?}, expected YYYY-MM-DD",
                        path.display(),
                        w.id
                    ),
                });
            }
        }
        Ok(Some(baseline))
    }

    /// A baseline waiving every finding of today, without expiry.
    pub fn record(findings: &[Finding]) -> Baseline {
        Baseline {
            version: 1,
            waivers: findings
                .iter()
                .map(|f| Waiver {
                    id: f.id.clone(),
                    finding: f.description.clone(),
                    reason: "present when the baseline was recorded".to_string(),
                    expires: None,
                })
                .collect(),
        }
    }

    pub fn write(&self, path: &Path) -> Result<(), Failure> {
        std::fs::write(path, crate::json(self)).map_err(|e| Failure {
            code: 2,
            message: format!("cannot write baseline {}: {e}", path.display()),
        })
    }

    /// Whether `id` is waived on `today` (`YYYY-MM-DD`).
    pub fn waives(&self, id: &str, today: &str) -> bool {
        self.waivers
            .iter()
            .any(|w| w.id == id && w.expires.as_deref().is_none_or(|e| e >= today))
    }
}

fn is_date(text: &str) -> bool {
    let b = text.as_bytes();
    b.len() == 10
        && b[4] == b'-'
        && b[7] == b'-'
        && b.iter()
            .enumerate()
            .all(|(i, c)| i == 4 || i == 7 || c.is_ascii_digit())
}

/// Today's date in UTC as `YYYY-MM-DD`.
pub fn today() -> String {
    civil_date(switchyard_store::Timestamp::now_utc())
}

/// The date of an instant, `YYYY-MM-DD` (the date part of its RFC 3339 form).
fn civil_date(at: switchyard_store::Timestamp) -> String {
    at.to_rfc3339().chars().take(10).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_and_expiry() {
        let day = |days: i64| switchyard_store::Timestamp::from_unix_millis(days * 86_400_000);
        assert_eq!(civil_date(day(0)), "1970-01-01");
        assert_eq!(civil_date(day(20_430)), "2025-12-08");
        assert_eq!(civil_date(day(11_016)), "2000-02-29");
        let b = Baseline {
            version: 1,
            waivers: vec![
                Waiver {
                    id: "a".into(),
                    finding: String::new(),
                    reason: "known".into(),
                    expires: Some("2026-01-31".into()),
                },
                Waiver {
                    id: "b".into(),
                    finding: String::new(),
                    reason: "known".into(),
                    expires: None,
                },
            ],
        };
        assert!(b.waives("a", "2026-01-31"));
        assert!(!b.waives("a", "2026-02-01"));
        assert!(b.waives("b", "2999-01-01"));
        assert!(!b.waives("c", "2000-01-01"));
        assert!(is_date("2026-12-07"));
        assert!(!is_date("2026-12-7"));
    }
}
