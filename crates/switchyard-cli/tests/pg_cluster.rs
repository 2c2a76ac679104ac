//! Several `switchyard serve` replicas on one PostgreSQL behave as one coordinator:
//!
//! * an event caused through replica A reaches a WebSocket client of replica B, once, with the
//!   same id and cluster-wide `seq` as A's own clients get, and a client resuming with
//!   `?after=` is sent it again from the log;
//! * an alert raised by the leading replica is listed by the other, acknowledged through it,
//!   and stays acknowledged when the leader clears it;
//! * a webhook push received by A makes B re-read the repository from its checkout;
//! * killing the leading replica with SIGKILL hands the background work (here the expired-claim
//!   sweep) to the other within the default leadership check.
//!
//! Needs `SWITCHYARD_TEST_PG_URL` (`eval $(scripts/pg-test-cluster.sh start)`); skips loudly
//! without it, fails instead when `SWITCHYARD_REQUIRE_POSTGRES=1` (CI).

mod common;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use common::replicas::{EventStream, http, http_with, pg_url, schema_store, start_replica};
use hmac::{Hmac, Mac};
use serde_json::{Value, json};

/// A copy of the homelab fleet with `server` appended to its switchyard.toml.
fn fleet_copy(server: &str) -> tempfile::TempDir {
    fn copy(from: &Path, to: &Path) {
        std::fs::create_dir_all(to).unwrap();
        for entry in std::fs::read_dir(from).unwrap() {
            let entry = entry.unwrap();
            let target = to.join(entry.file_name());
            if entry.file_type().unwrap().is_dir() {
                copy(&entry.path(), &target);
            } else {
                std::fs::copy(entry.path(), &target).unwrap();
            }
        }
    }
    let dir = tempfile::tempdir().unwrap();
    copy(
        &common::workspace_root().join("examples/fleets/homelab"),
        dir.path(),
    );
    let config = dir.path().join("switchyard.toml");
    let mut text = std::fs::read_to_string(&config).unwrap();
    text.push_str(server);
    std::fs::write(&config, text).unwrap();
    dir
}

fn post(address: &str, path: &str, body: &Value) -> (u16, Value) {
    http(address, "POST", path, Some(body)).expect("answered")
}

fn get(address: &str, path: &str) -> Value {
    let (status, body) = http(address, "GET", path, None).expect("answered");
    assert_eq!(status, 200, "GET {path}: {body}");
    body
}

/// Polls `probe` every 100 ms until it gives a value or `wait` has passed.
fn eventually<T>(wait: Duration, mut probe: impl FnMut() -> Option<T>) -> Option<T> {
    let deadline = Instant::now() + wait;
    loop {
        if let Some(value) = probe() {
            return Some(value);
        }
        if Instant::now() > deadline {
            return None;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn alert_on(address: &str, subject: &str) -> Option<Value> {
    get(address, "/api/coordination/alerts?limit=100")["alerts"]
        .as_array()?
        .iter()
        .find(|a| a["subject"] == subject)
        .cloned()
}

fn service_count(address: &str, repository: &str) -> u64 {
    get(address, "/api/coordination/repositories?limit=100")["repositories"]
        .as_array()
        .and_then(|list| list.iter().find(|r| r["name"] == repository))
        .and_then(|r| r["serviceCount"].as_u64())
        .expect("repository listed")
}

const SECRET: &str = "cluster-test-webhook-secret";

fn push_webhook(address: &str, repository: &str) -> (u16, Value) {
    let payload = json!({ "ref": "refs/heads/main", "repository": { "name": repository, "full_name": format!("homelab/{repository}") } });
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(SECRET.as_bytes()).unwrap();
    mac.update(payload.to_string().as_bytes());
    let signature: String = mac
        .finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let signature = format!("sha256={signature}");
    http_with(
        address,
        "POST",
        "/api/webhooks/github",
        Some(&payload),
        &[
            ("X-GitHub-Event", "push"),
            ("X-Hub-Signature-256", &signature),
        ],
    )
    .expect("webhook answered")
}

#[test]
fn events_alerts_and_pushes_reach_every_replica() {
    let Some(url) = pg_url("pg_cluster events") else {
        return;
    };
    let store = schema_store(&url, &format!("e2e_events_{}", std::process::id()));
    let fleet = fleet_copy(
        "\n[server]\nevaluate_every_seconds = 1\nleader_check_seconds = 1\n[server.alerts]\ncapacity_seconds = 1\n",
    );
    let env = [("SWITCHYARD_WEBHOOK_SECRET", SECRET)];
    let a = start_replica(&store, fleet.path(), &env);
    let b = start_replica(&store, fleet.path(), &env);

    // A claim through A reaches the clients of both replicas, once, with one id and one seq.
    let mut on_a = EventStream::open(&a.address, "topics=resource.*");
    let mut on_b = EventStream::open(&b.address, "topics=resource.*");
    let (status, body) = post(
        &a.address,
        "/api/coordination/resources/register",
        &json!({ "type": "volume", "identifier": "pool", "capacity": 2 }),
    );
    assert_eq!(status, 201, "{body}");
    let (status, first) = post(
        &a.address,
        "/api/coordination/resources/volume:pool/claim",
        &json!({ "repository": "api", "operation": { "type": "read" } }),
    );
    assert_eq!(status, 201, "{first}");
    let claim_id = first["claimId"].as_str().unwrap().to_string();
    let is_our_claim =
        |m: &Value| m["event"] == "resource.claimed" && m["data"]["claimId"] == claim_id;
    let seen_b = on_b
        .until(Duration::from_secs(10), is_our_claim)
        .expect("B's client gets the claim made through A");
    let seen_a = on_a
        .until(Duration::from_secs(10), is_our_claim)
        .expect("A's client gets it too");
    assert_eq!(seen_a["id"], seen_b["id"]);
    assert_eq!(seen_a["seq"], seen_b["seq"]);
    let seq = seen_b["seq"].as_i64().expect("a cluster-wide seq");
    // Delivered once: nothing else about this claim follows on B.
    assert!(
        on_b.until(Duration::from_millis(1500), is_our_claim)
            .is_none(),
        "duplicate delivery on B"
    );
    // A client that reconnects (to either replica) resumes from the log.
    let mut resumed = EventStream::open(
        &b.address,
        &format!("topics=resource.claimed&after={}", seq - 1),
    );
    let again = resumed
        .next(Duration::from_secs(10))
        .expect("the resumed stream starts with the logged event");
    assert_eq!(again["id"], seen_b["id"]);
    assert_eq!(again["seq"], seq);

    // The pool is full once B grants the second claim: the leader (A, started first) raises
    // the alert; B lists it and acknowledges it; A sees the acknowledgement.
    let (status, second) = post(
        &b.address,
        "/api/coordination/resources/volume:pool/claim",
        &json!({ "repository": "auth", "operation": { "type": "read" } }),
    );
    assert_eq!(status, 201, "{second}");
    let raised = eventually(Duration::from_secs(15), || {
        alert_on(&b.address, "volume:pool").filter(|a| a["active"] == true)
    })
    .expect("B lists the alert the leader raised");
    let id = raised["id"].as_str().unwrap();
    let (status, acked) = post(
        &b.address,
        &format!("/api/coordination/alerts/{id}/acknowledge"),
        &json!({}),
    );
    assert_eq!(status, 200, "{acked}");
    let on_a_alert = alert_on(&a.address, "volume:pool").expect("A lists it");
    assert_eq!(on_a_alert["id"], raised["id"]);
    assert_eq!(on_a_alert["acknowledged"], true, "{on_a_alert}");
    // The leader clears it once a claim is released; the acknowledgement made through B stays.
    let (status, _) = http(
        &a.address,
        "DELETE",
        &format!("/api/coordination/resources/volume:pool/claims/{claim_id}"),
        None,
    )
    .expect("release answered");
    assert_eq!(status, 200);
    let cleared = eventually(Duration::from_secs(15), || {
        alert_on(&b.address, "volume:pool").filter(|a| a["active"] == false)
    })
    .expect("the leader clears it");
    assert_eq!(cleared["acknowledged"], true, "{cleared}");
    assert_eq!(cleared["id"], raised["id"], "raised once, fleet-wide");

    // A push received by A makes B re-read the repository from its own checkout.
    let before = service_count(&b.address, "monitoring");
    let compose: PathBuf = fleet.path().join("monitoring/docker-compose.yml");
    let text = std::fs::read_to_string(&compose).unwrap();
    let text = text.replacen(
        "services:\n",
        "services:\n  probe:\n    image: busybox:1.36\n",
        1,
    );
    std::fs::write(&compose, text).unwrap();
    let (status, body) = push_webhook(&a.address, "monitoring");
    assert_eq!(status, 200, "{body}");
    assert_eq!(service_count(&a.address, "monitoring"), before + 1);
    let reread = eventually(Duration::from_secs(10), || {
        (service_count(&b.address, "monitoring") == before + 1).then_some(())
    });
    assert!(
        reread.is_some(),
        "B did not re-read monitoring after A's push"
    );
}

#[test]
fn the_other_replica_takes_over_when_the_leader_is_killed() {
    let Some(url) = pg_url("pg_cluster takeover") else {
        return;
    };
    let store = schema_store(&url, &format!("e2e_takeover_{}", std::process::id()));
    // Rounds only at start and on takeover (once an hour otherwise); leadership is checked
    // at the default pace (leader_check_seconds = 5).
    let fleet = fleet_copy("\n[server]\nevaluate_every_seconds = 3600\n");
    // A starts first and so leads (it runs the start-up round before it prints its address).
    let mut a = start_replica(&store, fleet.path(), &[]);
    let b = start_replica(&store, fleet.path(), &[]);
    let (status, body) = post(
        &a.address,
        "/api/coordination/resources/register",
        &json!({ "type": "custom", "identifier": "short-lived", "capacity": 1 }),
    );
    assert_eq!(status, 201, "{body}");
    let (status, body) = post(
        &a.address,
        "/api/coordination/resources/custom:short-lived/claim",
        &json!({ "repository": "api", "operation": { "type": "deploy", "ttl": 1 } }),
    );
    assert_eq!(status, 201, "{body}");
    let mut on_b = EventStream::open(&b.address, "topics=claims.expired");
    std::thread::sleep(Duration::from_millis(1500));
    // Expired, but nobody has swept it: the leader's next round is an hour away.
    assert!(on_b.next(Duration::from_millis(500)).is_none());
    a.kill();
    let killed = Instant::now();
    let swept = on_b
        .until(Duration::from_secs(30), |m| m["event"] == "claims.expired")
        .expect("B swept the expired claim after taking over");
    let took = killed.elapsed();
    eprintln!(
        "takeover: B swept {} s after A was killed",
        took.as_secs_f64()
    );
    assert!(swept["data"]["count"].as_u64() >= Some(1), "{swept}");
    assert!(
        took <= Duration::from_secs(15),
        "takeover took {took:?}, more than 15 s"
    );
}

/// Two repositories of one parallel phase report through different replicas at the same
/// instant, many times over: every report is kept (the deployment completes each time).
#[test]
fn concurrent_reports_through_two_replicas_lose_no_update() {
    let Some(url) = pg_url("pg_cluster concurrent reports") else {
        return;
    };
    let store = schema_store(&url, &format!("e2e_reports_{}", std::process::id()));
    let fleet = Path::new("examples/fleets/homelab");
    let a = start_replica(&store, fleet, &[]);
    let b = start_replica(&store, fleet, &[]);
    let rounds = 12;
    let mut retried = 0;
    for round in 0..rounds {
        let (status, planned) = post(
            &a.address,
            "/api/coordination/coordinate-deployment",
            &json!({ "repositories": ["dashboard", "monitoring"], "options": { "ignoreConflicts": true } }),
        );
        assert!(status == 200 || status == 201, "plan: {status} {planned}");
        let id = planned["coordination"]["id"].as_str().unwrap().to_string();
        for step in ["started", "succeeded"] {
            let barrier = std::sync::Arc::new(std::sync::Barrier::new(2));
            let reports: Vec<_> = [(&a.address, "dashboard"), (&b.address, "monitoring")]
                .into_iter()
                .map(|(address, repository)| {
                    let (address, id, barrier) = (address.clone(), id.clone(), barrier.clone());
                    std::thread::spawn(move || {
                        barrier.wait();
                        post(
                            &address,
                            &format!("/api/coordination/deployments/{id}/events"),
                            &json!({ "repository": repository, "status": step }),
                        )
                    })
                })
                .collect();
            for report in reports {
                let (status, body) = report.join().unwrap();
                if status == 409 && body["error"] == "CONCURRENT_UPDATE" {
                    retried += 1;
                    continue;
                }
                assert_eq!(status, 200, "round {round} {step}: {body}");
            }
        }
        let (_, done) = http(
            &b.address,
            "GET",
            &format!("/api/coordination/deployments/{id}"),
            None,
        )
        .expect("get answered");
        assert_eq!(
            done["coordination"]["status"], "completed",
            "round {round}: a report was lost: {done}"
        );
    }
    assert_eq!(retried, 0, "two writers never exhaust the retries");
}
