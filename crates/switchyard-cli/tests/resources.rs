//! End-to-end: the ledger through `switchyard resources`, on a temporary SQLite store.

mod common;

fn ledger(store: &str, args: &[&str]) -> common::Run {
    let mut all = vec!["resources", "--store", store];
    all.extend_from_slice(args);
    common::switchyard(&all, None)
}

fn json(run: &common::Run) -> serde_json::Value {
    assert_eq!(run.code, 0, "{}", run.stderr);
    serde_json::from_str(&run.stdout).expect("JSON output")
}

#[test]
fn register_claim_refuse_renew_release() {
    let dir = tempfile::tempdir().unwrap();
    let store = format!("sqlite://{}", dir.path().join("state.db").display());
    let reg = json(&ledger(&store, &["register", "port", "8080"]));
    assert_eq!(reg["outcome"], "created");
    assert_eq!(
        json(&ledger(&store, &["register", "port", "8080"]))["outcome"],
        "exists"
    );

    let claim = json(&ledger(
        &store,
        &[
            "claim",
            "port:8080",
            "--repository",
            "api",
            "--exclusive",
            "--ttl",
            "60",
        ],
    ));
    let claim_id = claim["claimId"].as_str().unwrap().to_string();
    assert!(claim_id.starts_with("claim_"));

    let refused = ledger(&store, &["claim", "port:8080", "--repository", "web"]);
    assert_eq!(refused.code, 3, "a refused claim exits with 3");
    assert!(
        refused.stderr.contains("RESOURCE_LOCKED") && refused.stderr.contains("api"),
        "{}",
        refused.stderr
    );

    let status = json(&ledger(&store, &["status", "port:8080"]));
    assert_eq!(status["currentUsage"], 1);
    let renewed = json(&ledger(
        &store,
        &["renew", "port:8080", &claim_id, "--ttl", "600"],
    ));
    assert_ne!(renewed["expiresAt"], claim["expiresAt"]);

    let busy = ledger(&store, &["delete", "port:8080"]);
    assert_eq!(
        busy.code, 1,
        "a claimed resource is not deleted: {}",
        busy.stderr
    );
    json(&ledger(&store, &["release", "port:8080", &claim_id]));
    assert_eq!(
        json(&ledger(&store, &["status", "port:8080"]))["currentUsage"],
        0
    );
    let gone = ledger(&store, &["release", "port:8080", &claim_id]);
    assert_ne!(gone.code, 0);
    json(&ledger(&store, &["delete", "port:8080"]));
    assert_eq!(json(&ledger(&store, &["list"])), serde_json::json!([]));

    let bad = ledger(&store, &["register", "teleporter", "x"]);
    assert_eq!(bad.code, 2, "{}", bad.stderr);
}

#[test]
fn sync_registers_what_the_fleet_uses() {
    let dir = tempfile::tempdir().unwrap();
    let store = format!("sqlite://{}", dir.path().join("state.db").display());
    let out = json(&ledger(
        &store,
        &["sync", "--no-cache", "--fleet", "examples/fleets/homelab"],
    ));
    let ids: Vec<&str> = out["registered"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["resource"]["id"].as_str().unwrap())
        .collect();
    for expected in [
        "port:5432",
        "port:9000",
        "domain:api.homelab.lan",
        "network:homelab",
    ] {
        assert!(ids.contains(&expected), "{expected} not in {ids:?}");
    }
    let network = out["registered"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["resource"]["id"] == "network:homelab")
        .unwrap();
    assert_eq!(network["resource"]["metadata"]["shared"], true);
    // Idempotent: a second sync creates nothing.
    let again = json(&ledger(
        &store,
        &["sync", "--no-cache", "--fleet", "examples/fleets/homelab"],
    ));
    assert!(
        again["registered"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["outcome"] == "exists")
    );
}
