//! Two real `switchyard serve` replicas on one PostgreSQL, 64 concurrent clients spread over
//! both, claiming and releasing an exclusive resource and a capacity-3 shared one. A checker
//! over the clients' own history (a claim is surely held from the acknowledgement of its grant
//! to the start of its release) proves no instant had more holders than capacity. Midway one
//! replica is killed with SIGKILL: its clients fail over to the other, and every acknowledged
//! claim that was not released is still in the ledger. Before the load, a deployment planned
//! through one replica is read and cancelled through the other.
//!
//! Needs `SWITCHYARD_TEST_PG_URL` (`eval $(scripts/pg-test-cluster.sh start)`); skips loudly
//! without it, fails instead when `SWITCHYARD_REQUIRE_POSTGRES=1` (CI).

mod common;

use std::collections::BTreeSet;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::replicas::{http, schema_store, start_replica};
use serde_json::{Value, json};

const CLIENTS: usize = 64;

/// What one client saw: grants with the instant they were acknowledged and the instant their
/// release started (µs since the test's origin).
#[derive(Default)]
struct Seen {
    held: Vec<(&'static str, u128, u128)>,
    kept: Vec<String>,
    refused: usize,
    unavailable: usize,
}

fn register(address: &str, kind: &str, identifier: &str, capacity: u32) {
    let (status, body) = http(
        address,
        "POST",
        "/api/coordination/resources/register",
        Some(&json!({ "type": kind, "identifier": identifier, "capacity": capacity })),
    )
    .expect("register answered");
    assert!(status == 201 || status == 200, "register: {status} {body}");
}

#[test]
fn two_replicas_never_exceed_capacity_and_survive_a_kill() {
    let Some(url) = common::replicas::pg_url("pg_replicas") else {
        return;
    };
    // A schema of its own, created and migrated first, so the test can run beside others.
    let store = schema_store(&url, &format!("e2e_{}", std::process::id()));

    let homelab = Path::new("examples/fleets/homelab");
    let a = start_replica(&store, homelab, &[]);
    let mut b = start_replica(&store, homelab, &[]);
    register(&a.address, "port", "9100", 1);
    register(&b.address, "volume", "shared", 3);
    register(&a.address, "custom", "kept", 100_000);
    let addresses = [a.address.clone(), b.address.clone()];

    // A deployment planned through A is read and cancelled through B; A sees the cancellation.
    let (status, planned) = http(
        &a.address,
        "POST",
        "/api/coordination/coordinate-deployment",
        Some(&json!({ "repositories": ["postgres", "auth", "api"], "options": { "ignoreConflicts": true } })),
    )
    .expect("plan answered");
    assert!(status == 200 || status == 201, "plan: {status} {planned}");
    let id = planned["coordination"]["id"]
        .as_str()
        .expect("coordination id")
        .to_string();
    let (status, seen_on_b) = http(
        &b.address,
        "GET",
        &format!("/api/coordination/deployments/{id}"),
        None,
    )
    .expect("get answered");
    assert_eq!(status, 200, "{seen_on_b}");
    let (status, cancelled) = http(
        &b.address,
        "POST",
        &format!("/api/coordination/deployments/{id}/cancel"),
        None,
    )
    .expect("cancel answered");
    assert_eq!(status, 200, "{cancelled}");
    let (_, on_a) = http(
        &a.address,
        "GET",
        &format!("/api/coordination/deployments/{id}"),
        None,
    )
    .expect("get answered");
    assert_eq!(on_a["coordination"]["status"], "cancelled", "{on_a}");

    let origin = Instant::now();
    let b_dead = Arc::new(AtomicBool::new(false));
    let seen: Arc<Mutex<Seen>> = Arc::default();
    let run_for = Duration::from_secs(6);
    let mut clients = Vec::new();
    for client in 0..CLIENTS {
        let addresses = addresses.clone();
        let seen = seen.clone();
        let b_dead = b_dead.clone();
        clients.push(std::thread::spawn(move || {
            let mut mine = Seen::default();
            let mut round = 0usize;
            // Sends through this client's replica; once that is gone, through the other.
            let send = |method: &str, path: &str, body: Option<&Value>| {
                let first = if b_dead.load(Ordering::SeqCst) { 0 } else { client % 2 };
                http(&addresses[first], method, path, body)
                    .or_else(|| http(&addresses[0], method, path, body))
            };
            while origin.elapsed() < run_for {
                round += 1;
                let (resource, operation) = if (client + round).is_multiple_of(2) {
                    ("port:9100", json!({ "type": "deploy", "exclusive": true, "ttl": 5 }))
                } else {
                    ("volume:shared", json!({ "type": "read", "ttl": 5 }))
                };
                let path = format!("/api/coordination/resources/{resource}/claim");
                let body = json!({ "repository": format!("client-{client}"), "operation": operation });
                match send("POST", &path, Some(&body)) {
                    Some((201, answer)) => {
                        let granted = origin.elapsed().as_micros();
                        let claim_id = answer["claimId"].as_str().unwrap().to_string();
                        std::thread::sleep(Duration::from_millis(15));
                        let releasing = origin.elapsed().as_micros();
                        let path =
                            format!("/api/coordination/resources/{resource}/claims/{claim_id}");
                        // Retried while the answer is unknown or the per-address connection cap
                        // (429) refuses it; 404: an earlier attempt through the killed replica
                        // committed it.
                        let mut attempts = 0;
                        loop {
                            match send("DELETE", &path, None) {
                                Some((200 | 404, _)) => break,
                                Some((429 | 503, _)) | None if attempts < 200 => {
                                    attempts += 1;
                                    std::thread::sleep(Duration::from_millis(10));
                                }
                                other => panic!("release of {claim_id}: {other:?}"),
                            }
                        }
                        mine.held.push((resource, granted, releasing));
                    }
                    Some((409, _)) => mine.refused += 1,
                    // 429: the survivor's cap of 64 open connections per address, once all 64
                    // clients are on it.
                    Some((429 | 503, _)) | None => mine.unavailable += 1,
                    Some(other) => panic!("claim: {other:?}"),
                }
                if round.is_multiple_of(8) {
                    let body = json!({ "repository": format!("client-{client}"), "operation": { "type": "read" } });
                    if let Some((201, answer)) =
                        send("POST", "/api/coordination/resources/custom:kept/claim", Some(&body))
                    {
                        mine.kept.push(answer["claimId"].as_str().unwrap().to_string());
                    }
                }
            }
            let mut all = seen.lock().unwrap();
            all.held.extend(mine.held);
            all.kept.extend(mine.kept);
            all.refused += mine.refused;
            all.unavailable += mine.unavailable;
        }));
    }
    std::thread::sleep(Duration::from_secs(3));
    b.child.kill().expect("SIGKILL replica B"); // Child::kill sends SIGKILL on Unix
    let _ = b.child.wait();
    b_dead.store(true, Ordering::SeqCst);
    for client in clients {
        client.join().expect("client thread");
    }
    let seen = seen.lock().unwrap();
    eprintln!(
        "grants {} refusals {} unavailable {} kept {}",
        seen.held.len(),
        seen.refused,
        seen.unavailable,
        seen.kept.len()
    );
    assert!(seen.held.len() >= 100, "enough grants to mean something");

    for (resource, capacity) in [("port:9100", 1i64), ("volume:shared", 3)] {
        let mut events: Vec<(u128, i64)> = Vec::new();
        for (r, start, end) in &seen.held {
            if *r == resource && start < end {
                events.push((*start, 1));
                events.push((*end, -1));
            }
        }
        events.sort();
        let mut holders = 0;
        let mut peak = 0;
        for (at, delta) in events {
            holders += delta;
            peak = peak.max(holders);
            assert!(
                holders <= capacity,
                "{resource}: {holders} holders at {at} µs"
            );
        }
        eprintln!("{resource}: peak {peak} of capacity {capacity}");
    }

    // Every acknowledged claim that was kept is in the ledger, read through the survivor.
    let (status, body) = http(
        &a.address,
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
    for claim in &seen.kept {
        assert!(
            present.contains(claim.as_str()),
            "acknowledged claim {claim} lost"
        );
    }
    let mut a = a;
    let _ = a.child.kill();
    let _ = a.child.wait();
}

/// A store URL that is not one is bad input (exit 2); an unreachable PostgreSQL is a failure
/// (exit 1) reported without the password.
#[test]
fn bad_and_unreachable_store_urls() {
    let run = common::switchyard(
        &[
            "serve",
            "--fleet",
            "examples/fleets/homelab",
            "--no-cache",
            "--bind",
            "127.0.0.1:0",
            "--store",
            "mysql://root:hunter2@db/sy",
        ],
        None,
    );
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr.contains("expected sqlite://PATH or postgres://"),
        "{}",
        run.stderr
    );
    assert!(!run.stderr.contains("hunter2"), "{}", run.stderr);

    // Port 1 on loopback: nothing listens, the connection is refused at once.
    let run = common::switchyard(
        &[
            "serve",
            "--fleet",
            "examples/fleets/homelab",
            "--no-cache",
            "--bind",
            "127.0.0.1:0",
            "--store",
            "postgres://sy:hunter2@127.0.0.1:1/sy",
        ],
        None,
    );
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(run.stderr.contains("unavailable"), "{}", run.stderr);
    assert!(!run.stderr.contains("hunter2"), "{}", run.stderr);
}
