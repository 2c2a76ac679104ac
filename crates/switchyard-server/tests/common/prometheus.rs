//! Checks of a Prometheus scrape shared by the server's tests: the strict reader of
//! `switchyard_monitor::exposition`, and `promtool check metrics` when promtool is installed.
//! Included with `#[path = "common/prometheus.rs"] mod prometheus;`.
#![allow(dead_code)]

use std::io::Write;
use std::process::{Command, Stdio};

use switchyard_monitor::exposition::{self, Exposition};

/// Parses `text`, panicking with every problem found (and the text) when it is not valid.
pub fn parse_valid(text: &str) -> Exposition {
    match exposition::parse(text) {
        Ok(parsed) => parsed,
        Err(errors) => panic!(
            "invalid Prometheus exposition:\n{}\n--- text ---\n{text}",
            errors.join("\n")
        ),
    }
}

/// Runs `promtool check metrics` on `text`: `None` when promtool is not on PATH, else its
/// verdict with what it printed.
pub fn promtool_check(text: &str) -> Option<Result<String, String>> {
    let mut child = Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .ok()?;
    if let Some(mut stdin) = child.stdin.take() {
        stdin.write_all(text.as_bytes()).expect("write to promtool");
    }
    let output = child.wait_with_output().expect("promtool runs");
    let printed = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    Some(if output.status.success() {
        Ok(printed)
    } else {
        Err(printed)
    })
}
