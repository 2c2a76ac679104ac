//! PostgreSQL restarted under load: a `switchyard serve` on a PostgreSQL cluster of this test's
//! own (started with `scripts/pg-test-cluster.sh` on a private directory and port, so other
//! tests on the shared test database are not disturbed), 16 clients claiming continuously,
//! and a `restart` (fast stop, start) in the middle. While the database is down the replica
//! answers `503 STORE_UNAVAILABLE`, never 500 and never hangs; afterwards claims are granted
//! again, every acknowledged claim is in the ledger, and the event stream recovers (its
//! listener reconnects).
//!
//! Gated like the other PostgreSQL tests: skips loudly without `SWITCHYARD_TEST_PG_URL` (the
//! sign that PostgreSQL is installed), fails instead when `SWITCHYARD_REQUIRE_POSTGRES=1`.

mod common;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::replicas::{EventStream, http, pg_url, start_replica};
use serde_json::json;

/// A private cluster, stopped (and its directory removed) when the test ends.
struct Cluster {
    dir: PathBuf,
    port: u16,
}

impl Cluster {
    fn run(&self, action: &str) -> String {
        let output = Command::new("bash")
            .arg(common::workspace_root().join("scripts/pg-test-cluster.sh"))
            .arg(action)
            .env("SWITCHYARD_PG_DIR", &self.dir)
            .env("SWITCHYARD_PG_PORT", self.port.to_string())
            .output()
            .expect("pg-test-cluster.sh runs");
        assert!(
            output.status.success(),
            "pg-test-cluster.sh {action}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8_lossy(&output.stdout).trim().to_string()
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let _ = Command::new("bash")
            .arg(common::workspace_root().join("scripts/pg-test-cluster.sh"))
            .arg("stop")
            .env("SWITCHYARD_PG_DIR", &self.dir)
            .env("SWITCHYARD_PG_PORT", self.port.to_string())
            .output();
    }
}

#[derive(Default)]
struct Seen {
    kept: Vec<String>,
    unavailable: usize,
    granted_after_restart: usize,
}

#[test]
fn a_postgresql_restart_mid_load_loses_nothing_acknowledged() {
    if pg_url("pg_restart").is_none() {
        return;
    }
    let cluster = Cluster {
        dir: std::env::temp_dir().join(format!("sy-pg-restart-{}", std::process::id())),
        port: 56000 + (std::process::id() % 1000) as u16,
    };
    let exported = cluster.run("start");
    let url = exported
        .rsplit("SWITCHYARD_TEST_PG_URL=")
        .next()
        .expect("the start line names the URL")
        .to_string();
    let replica = start_replica(&url, Path::new("examples/fleets/homelab"), &[]);
    let address = replica.address.clone();
    let (status, body) = http(
        &address,
        "POST",
        "/api/coordination/resources/register",
        Some(&json!({ "type": "custom", "identifier": "kept", "capacity": 1_000_000 })),
    )
    .expect("register answered");
    assert_eq!(status, 201, "{body}");

    let restarted = Arc::new(AtomicBool::new(false));
    let seen: Arc<Mutex<Seen>> = Arc::default();
    let origin = Instant::now();
    let clients: Vec<_> = (0..16)
        .map(|client| {
            let (address, restarted, seen) = (address.clone(), restarted.clone(), seen.clone());
            std::thread::spawn(move || {
                let mut mine = Seen::default();
                while origin.elapsed() < Duration::from_secs(10) {
                    let body = json!({ "repository": format!("client-{client}"), "operation": { "type": "read" } });
                    let started = Instant::now();
                    let answer = http(
                        &address,
                        "POST",
                        "/api/coordination/resources/custom:kept/claim",
                        Some(&body),
                    );
                    // Bounded: the pool's acquire timeout (3 s) plus the call timeout (10 s).
                    assert!(started.elapsed() < Duration::from_secs(15), "a call hung");
                    match answer {
                        Some((201, granted)) => {
                            mine.kept.push(granted["claimId"].as_str().unwrap().to_string());
                            if restarted.load(Ordering::SeqCst) {
                                mine.granted_after_restart += 1;
                            }
                        }
                        Some((503, refused)) => {
                            assert_eq!(refused["error"], "STORE_UNAVAILABLE", "{refused}");
                            mine.unavailable += 1;
                            std::thread::sleep(Duration::from_millis(50));
                        }
                        other => panic!("claim during a restart: {other:?}"),
                    }
                }
                let mut all = seen.lock().unwrap();
                all.kept.extend(mine.kept);
                all.unavailable += mine.unavailable;
                all.granted_after_restart += mine.granted_after_restart;
            })
        })
        .collect();
    std::thread::sleep(Duration::from_secs(2));
    cluster.run("restart");
    restarted.store(true, Ordering::SeqCst);
    let restarted_at = origin.elapsed();
    for client in clients {
        client.join().expect("client thread");
    }
    let seen = seen.lock().unwrap();
    eprintln!(
        "restart done at {:.1} s; acknowledged {}, 503s {}, granted after the restart {}",
        restarted_at.as_secs_f64(),
        seen.kept.len(),
        seen.unavailable,
        seen.granted_after_restart
    );
    assert!(seen.unavailable > 0, "the restart was noticed (503s)");
    assert!(seen.granted_after_restart > 0, "claims are granted again");

    let (status, body) = http(
        &address,
        "GET",
        "/api/coordination/resources/custom:kept/status",
        None,
    )
    .expect("status answered");
    assert_eq!(status, 200, "{body}");
    let present: BTreeSet<&str> = body["claims"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|c| c["claimId"].as_str())
        .collect();
    let lost: Vec<&String> = seen
        .kept
        .iter()
        .filter(|c| !present.contains(c.as_str()))
        .collect();
    assert!(lost.is_empty(), "acknowledged claims lost: {lost:?}");

    // The event feed recovered: a claim now reaches a new subscriber.
    let mut stream = EventStream::open(&address, "topics=resource.claimed");
    let (status, claim) = http(
        &address,
        "POST",
        "/api/coordination/resources/custom:kept/claim",
        Some(&json!({ "repository": "after", "operation": { "type": "read" } })),
    )
    .expect("claim answered");
    assert_eq!(status, 201, "{claim}");
    let event = stream.until(Duration::from_secs(10), |m| {
        m["data"]["claimId"] == claim["claimId"]
    });
    assert!(event.is_some(), "no event after the restart");
}
