//! The resource ledger over HTTP, as API.md describes it: register (201 new, 200 identical,
//! capacity changes keep claims, 409 below usage), list with filters and usage, status, claims
//! with the compatibility rules and the 409 codes naming the holders, renew, release, delete,
//! and expired claims not counting whether or not a sweeper ran.

mod common;

use common::{TestServer, assert_error};
use serde_json::{Value, json};

const REGISTER: &str = "/api/coordination/resources/register";

async fn claim(server: &TestServer, id: &str, repository: &str, kind: &str) -> (u16, Value) {
    claim_with(
        server,
        id,
        json!({ "repository": repository, "operation": { "type": kind } }),
    )
    .await
}

async fn claim_with(server: &TestServer, id: &str, body: Value) -> (u16, Value) {
    server
        .post(&format!("/api/coordination/resources/{id}/claim"), body)
        .await
}

async fn status(server: &TestServer, id: &str) -> Value {
    let (code, body) = server
        .get(&format!("/api/coordination/resources/{id}/status"))
        .await;
    assert_eq!(code, 200, "{body}");
    body
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn register_list_and_status() {
    let server = TestServer::start("homelab").await;
    let (code, body) = server
        .post(
            REGISTER,
            json!({ "type": "port", "identifier": "8080", "capacity": 2 }),
        )
        .await;
    assert_eq!(code, 201, "{body}");
    assert_eq!(body["resource"]["id"], "port:8080", "{body}");
    let (code, body) = server
        .post(
            REGISTER,
            json!({ "type": "port", "identifier": "8080", "capacity": 2 }),
        )
        .await;
    assert_eq!(code, 200, "identical registration: {body}");
    let (code, body) = server
        .post(
            REGISTER,
            json!({ "type": "volume", "identifier": "pgdata" }),
        )
        .await;
    assert_eq!(code, 201, "{body}");
    let (code, body) = server
        .post(REGISTER, json!({ "type": "spaceship", "identifier": "x" }))
        .await;
    assert_error(code, &body, 400, "VALIDATION_ERROR");
    let (code, body) = server.post(REGISTER, json!({ "type": "port" })).await;
    assert_error(code, &body, 400, "VALIDATION_ERROR");

    let (code, held) = claim(&server, "port:8080", "api", "read").await;
    assert_eq!(code, 201, "{held}");
    for key in [
        "claimId",
        "resourceId",
        "repository",
        "operation",
        "claimedAt",
    ] {
        assert!(!held[key].is_null(), "claim lacks {key}: {held}");
    }
    assert!(
        held.get("expiresAt").is_some(),
        "claim lacks expiresAt: {held}"
    );
    assert_eq!(held["resourceId"], "port:8080");

    let port = status(&server, "port:8080").await;
    for key in [
        "id",
        "type",
        "identifier",
        "capacity",
        "currentUsage",
        "available",
        "owners",
        "claims",
        "registeredAt",
    ] {
        assert!(!port[key].is_null(), "status lacks {key}: {port}");
    }
    assert_eq!(port["currentUsage"], 1, "{port}");
    assert_eq!(port["available"], 1, "{port}");
    assert_eq!(port["owners"], json!(["api"]), "{port}");

    let (code, list) = server.get("/api/coordination/resources?type=port").await;
    assert_eq!(code, 200, "{list}");
    let ids: Vec<&str> = list["resources"]
        .as_array()
        .expect("resources")
        .iter()
        .filter_map(|r| r["id"].as_str())
        .collect();
    assert_eq!(ids, vec!["port:8080"], "{list}");
    let (_, mine) = server
        .get("/api/coordination/resources?repository=api")
        .await;
    assert_eq!(mine["pagination"]["total"], 1, "{mine}");
    assert_eq!(mine["resources"][0]["currentUsage"], 1, "{mine}");
    let (code, body) = server
        .get("/api/coordination/resources?type=spaceship")
        .await;
    assert_error(code, &body, 400, "VALIDATION_ERROR");
    let (code, body) = server
        .get("/api/coordination/resources/port:1/status")
        .await;
    assert_error(code, &body, 404, "NOT_FOUND");

    // Capacity changes keep the claims; below the current usage is a 409.
    let (code, body) = server
        .post(
            REGISTER,
            json!({ "type": "port", "identifier": "8080", "capacity": 3 }),
        )
        .await;
    assert_eq!(code, 200, "{body}");
    assert_eq!(status(&server, "port:8080").await["currentUsage"], 1);
    let (_, _) = claim(&server, "port:8080", "auth", "read").await;
    let (code, body) = server
        .post(
            REGISTER,
            json!({ "type": "port", "identifier": "8080", "capacity": 1 }),
        )
        .await;
    assert_eq!(code, 409, "{body}");
    assert_eq!(body["success"], false, "{body}");
    assert_eq!(status(&server, "port:8080").await["capacity"], 3);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn claims_follow_the_compatibility_rules() {
    let server = TestServer::start("homelab").await;
    for identifier in ["5432", "6379", "9000"] {
        let (code, body) = server
            .post(
                REGISTER,
                json!({ "type": "port", "identifier": identifier, "capacity": 3 }),
            )
            .await;
        assert_eq!(code, 201, "{body}");
    }
    // read and backup share; write does not join them.
    assert_eq!(claim(&server, "port:5432", "api", "read").await.0, 201);
    assert_eq!(claim(&server, "port:5432", "auth", "backup").await.0, 201);
    let (code, body) = claim(&server, "port:5432", "dashboard", "write").await;
    assert_eq!(code, 409, "{body}");
    assert_eq!(body["error"], "INCOMPATIBLE_OPERATION", "{body}");
    let holders = body["details"]["holders"].as_array().expect("holders");
    assert_eq!(holders.len(), 2, "{body}");

    // deploy holds alone; anything after it is refused, naming the holder.
    assert_eq!(claim(&server, "port:6379", "api", "deploy").await.0, 201);
    let (code, body) = claim(&server, "port:6379", "auth", "read").await;
    assert_eq!(code, 409, "{body}");
    assert!(
        ["RESOURCE_LOCKED", "INCOMPATIBLE_OPERATION"]
            .contains(&body["error"].as_str().unwrap_or_default()),
        "{body}"
    );
    assert_eq!(body["details"]["holders"][0]["repository"], "api", "{body}");

    // An unknown operation type is exclusive; an exclusive read locks out other reads.
    assert_eq!(claim(&server, "port:9000", "api", "read").await.0, 201);
    let (code, body) = claim(&server, "port:9000", "auth", "migrate").await;
    assert_eq!(code, 409, "{body}");
    let (code, body) = claim_with(
        &server,
        "port:9000",
        json!({ "repository": "auth", "operation": { "type": "read", "exclusive": true } }),
    )
    .await;
    assert_eq!(code, 409, "{body}");

    // Capacity: a third shared claim fits a capacity of 3 with two taken, a fourth does not.
    assert_eq!(claim(&server, "port:9000", "auth", "read").await.0, 201);
    assert_eq!(
        claim(&server, "port:9000", "dashboard", "backup").await.0,
        201
    );
    let (code, body) = claim(&server, "port:9000", "monitoring", "read").await;
    assert_eq!(code, 409, "{body}");
    assert_eq!(body["error"], "AT_CAPACITY", "{body}");

    // Bad claim bodies.
    for bad in [
        json!({ "operation": { "type": "read" } }),
        json!({ "repository": "api" }),
        json!({ "repository": "api", "operation": { "type": 3 } }),
        json!({ "repository": "api", "operation": { "type": "read", "ttl": "soon" } }),
        json!({ "repository": "api", "operation": { "type": "read", "exclusive": "yes" } }),
    ] {
        let (code, body) = claim_with(&server, "port:9000", bad.clone()).await;
        assert_error(code, &body, 400, "VALIDATION_ERROR");
    }
    let (code, body) = claim(&server, "port:1", "api", "read").await;
    assert_error(code, &body, 404, "NOT_FOUND");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn renew_release_delete_and_expiry() {
    let server = TestServer::start("homelab").await;
    let (code, body) = server
        .post(
            REGISTER,
            json!({ "type": "domain", "identifier": "api.homelab.lan" }),
        )
        .await;
    assert_eq!(code, 201, "{body}");
    let id = "domain:api.homelab.lan";
    let (code, held) = claim_with(
        &server,
        id,
        json!({ "repository": "api", "operation": { "type": "deploy", "ttl": 60 } }),
    )
    .await;
    assert_eq!(code, 201, "{held}");
    let claim_id = held["claimId"].as_str().expect("claim id").to_string();
    let claim_path = format!("/api/coordination/resources/{id}/claims/{claim_id}");

    // Deleting a claimed resource is a 409.
    let (code, body) = server
        .delete(&format!("/api/coordination/resources/{id}"))
        .await;
    assert_eq!(code, 409, "{body}");
    assert_eq!(body["success"], false, "{body}");

    // Renew moves expiresAt.
    server.advance(30);
    let (code, renewed) = server
        .post(&format!("{claim_path}/renew"), json!({ "ttl": 600 }))
        .await;
    assert_eq!(code, 200, "{renewed}");
    assert_ne!(renewed["expiresAt"], held["expiresAt"], "{renewed}");
    let (code, body) = server.post(&format!("{claim_path}/renew"), json!({})).await;
    assert_error(code, &body, 400, "VALIDATION_ERROR");
    let (code, body) = server
        .post(
            &format!("/api/coordination/resources/{id}/claims/claim_nope/renew"),
            json!({ "ttl": 5 }),
        )
        .await;
    assert_error(code, &body, 404, "NOT_FOUND");

    // Release: 200, then 404.
    let (code, body) = server.delete(&claim_path).await;
    assert_eq!(code, 200, "{body}");
    let (code, body) = server.delete(&claim_path).await;
    assert_error(code, &body, 404, "NOT_FOUND");

    // An expired claim does not count even before any sweeper ran.
    let (code, short) = claim_with(
        &server,
        id,
        json!({ "repository": "auth", "operation": { "type": "write", "ttl": 10 } }),
    )
    .await;
    assert_eq!(code, 201, "{short}");
    server.advance(11);
    assert_eq!(status(&server, id).await["currentUsage"], 0);
    let (code, body) = claim(&server, id, "dashboard", "write").await;
    assert_eq!(code, 201, "an expired claim still blocks: {body}");
    let taken = body["claimId"].as_str().expect("claim id").to_string();
    let (code, body) = server
        .delete(&format!("/api/coordination/resources/{id}/claims/{taken}"))
        .await;
    assert_eq!(code, 200, "{body}");

    // Unclaimed: delete is 200, then the resource is gone.
    let (code, body) = server
        .delete(&format!("/api/coordination/resources/{id}"))
        .await;
    assert_eq!(code, 200, "{body}");
    let (code, body) = server
        .delete(&format!("/api/coordination/resources/{id}"))
        .await;
    assert_error(code, &body, 404, "NOT_FOUND");
    server.stop().await;
}
