//! Helpers shared by the deployment tests: planning, reporting events, reading claims.
#![allow(dead_code)]

use serde_json::{Value, json};

use crate::common::TestServer;

pub const PLAN: &str = "/api/coordination/coordinate-deployment";

pub fn deployment_path(id: &str, tail: &str) -> String {
    format!("/api/coordination/deployments/{id}{tail}")
}

/// Plans `repositories` and returns the `coordination` id, asserting 201. Conflicts are
/// ignored: homelab's api and auth drift on `DATABASE_URL` (see `conflicts_block_unless_ignored`).
pub async fn plan(server: &TestServer, repositories: &[&str]) -> (String, Value) {
    let (status, body) = server
        .post(
            PLAN,
            json!({ "repositories": repositories, "options": { "ignoreConflicts": true } }),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let id = body["coordination"]["id"]
        .as_str()
        .expect("coordination id")
        .to_string();
    (id, body)
}

pub async fn event(server: &TestServer, id: &str, body: Value) -> (u16, Value) {
    server.post(&deployment_path(id, "/events"), body).await
}

pub async fn ok_event(server: &TestServer, id: &str, repository: &str, status: &str) -> Value {
    let (code, body) = event(
        server,
        id,
        json!({ "repository": repository, "status": status }),
    )
    .await;
    assert_eq!(code, 200, "{repository} {status}: {body}");
    body
}

pub fn phase_members(body: &Value) -> Vec<Vec<String>> {
    body["coordination"]["phases"]
        .as_array()
        .expect("phases")
        .iter()
        .map(|p| {
            p["repositories"]
                .as_array()
                .expect("members")
                .iter()
                .filter_map(|r| r.as_str().map(str::to_string))
                .collect()
        })
        .collect()
}

pub async fn live_claims(server: &TestServer, resource: &str) -> Vec<Value> {
    let (status, body) = server
        .get(&format!("/api/coordination/resources/{resource}/status"))
        .await;
    assert_eq!(status, 200, "{resource}: {body}");
    body["claims"].as_array().cloned().unwrap_or_default()
}
