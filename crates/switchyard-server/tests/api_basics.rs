//! The server answers the routes that exist with real data from the homelab fleet, and bad input
//! with the error model.

mod common;

use common::{TestServer, assert_error};
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dependencies_repositories_and_errors() {
    let server = TestServer::start("homelab").await;

    let (status, body) = server.get("/api/coordination/dependencies").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["metadata"]["repositoryCount"], 6, "{body}");
    assert_eq!(body["circularDependencies"], json!([]));
    let order = body["deploymentOrder"].as_array().expect("order");
    assert_eq!(order.first(), Some(&json!("postgres")));
    let api = body["directDependencies"]["api"]
        .as_array()
        .expect("api deps");
    assert!(
        api.iter().any(|d| d["repository"] == "postgres"
            && d["dependsOnService"] == "db"
            && d["evidenceText"][0] == "api/.env.example:3:14"),
        "{api:?}"
    );

    let (status, body) = server
        .get("/api/coordination/dependencies?repositories=api,nope")
        .await;
    assert_error(status, &body, 404, "NOT_FOUND");
    assert_eq!(body["details"]["unknownRepositories"], json!(["nope"]));

    let (status, body) = server
        .get("/api/coordination/dependencies?includeTransitive=maybe")
        .await;
    assert_error(status, &body, 400, "VALIDATION_ERROR");

    let (status, body) = server.get("/api/coordination/repositories").await;
    assert_eq!(status, 200, "{body}");

    let (status, body) = server.get("/api/coordination/no-such-route").await;
    assert_error(status, &body, 404, "NOT_FOUND");

    server.stop().await;
}

/// API.md's pagination convention on every list: `limit` 1–100 (default 20), `offset` ≥ 0,
/// and a `pagination { total, limit, offset, hasMore }` block.
#[tokio::test]
async fn lists_are_paginated() {
    let server = TestServer::start("homelab").await;
    for (path, key) in [
        ("/api/coordination/repositories", "repositories"),
        ("/api/coordination/resource-conflicts", "conflicts"),
        ("/api/coordination/resources", "resources"),
        ("/api/coordination/conflicts/history", "history"),
    ] {
        let (status, all) = server.get(path).await;
        assert_eq!(status, 200, "{path}: {all}");
        let total = all["pagination"]["total"].as_u64().expect("total");
        assert_eq!(all["pagination"]["limit"], 20, "{path}");
        assert_eq!(all["pagination"]["offset"], 0, "{path}");
        let (status, first) = server.get(&format!("{path}?limit=1")).await;
        assert_eq!(status, 200, "{path}: {first}");
        let items = first[key].as_array().expect("items").len() as u64;
        assert_eq!(items, total.min(1), "{path}: {first}");
        assert_eq!(first["pagination"]["hasMore"], total > 1, "{path}");
        let (_, rest) = server.get(&format!("{path}?limit=100&offset=1")).await;
        let rest = rest[key].as_array().expect("items").len() as u64;
        assert_eq!(rest, total.saturating_sub(1), "{path}");
        for bad in ["limit=0", "limit=101", "limit=ten", "offset=-1"] {
            let (status, body) = server.get(&format!("{path}?{bad}")).await;
            common::assert_error(status, &body, 400, "VALIDATION_ERROR");
        }
    }
    // The conflict summary counts every matching conflict, not just the page.
    let (_, page) = server
        .get("/api/coordination/resource-conflicts?limit=1")
        .await;
    assert_eq!(page["summary"]["total"], page["pagination"]["total"]);
    server.stop().await;
}

/// Every route that takes repository names answers unknown ones with a 404 listing exactly the
/// unknown names (the known ones in the same request are not listed).
#[tokio::test]
async fn unknown_repositories_are_a_404_listing_them() {
    let server = TestServer::start("homelab").await;
    let expect = |status: u16, body: &serde_json::Value, what: &str| {
        assert_error(status, body, 404, "NOT_FOUND");
        assert_eq!(
            body["details"]["unknownRepositories"],
            json!(["nope", "ghost"]),
            "{what}: {body}"
        );
        let message = body["message"].as_str().unwrap_or_default();
        assert!(
            message.contains("nope") && message.contains("ghost"),
            "{what}: {body}"
        );
    };
    for path in [
        "/api/coordination/dependencies?repositories=api,nope,ghost",
        "/api/coordination/resource-conflicts?repositories=api,nope,ghost",
    ] {
        let (status, body) = server.get(path).await;
        expect(status, &body, path);
    }
    let names = json!(["api", "nope", "ghost"]);
    for path in [
        "/api/coordination/dependencies/refresh",
        "/api/coordination/coordinate-configuration",
        "/api/coordination/coordinate-deployment",
    ] {
        let (status, body) = server.post(path, json!({ "repositories": names })).await;
        expect(status, &body, path);
    }
    let (status, body) = server
        .get("/api/coordination/resources?repository=nope")
        .await;
    assert_error(status, &body, 404, "NOT_FOUND");
    assert_eq!(body["details"]["unknownRepositories"], json!(["nope"]));
    server.stop().await;
}

#[tokio::test]
async fn packages_give_the_build_phases_and_cycles_of_workspace_packages() {
    let server = TestServer::start("threadly-cycle").await;
    let (status, body) = server.get("/api/coordination/packages").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["level"], "package");
    let cycles = body["cycles"].as_array().expect("cycles");
    assert_eq!(cycles.len(), 1, "{body}");
    let mut members: Vec<&str> = cycles[0]["path"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|p| p.as_str())
        .collect();
    members.sort_unstable();
    members.dedup();
    assert_eq!(members, ["@repo/error-handling", "@repo/observability"]);
    assert!(
        cycles[0]["evidence"]
            .as_array()
            .is_some_and(|e| e.iter().all(|l| l["path"]
                .as_str()
                .is_some_and(|p| p.ends_with("package.json")))),
        "{body}"
    );
    assert!(!body["cycleCut"].as_array().unwrap().is_empty());
    let repos = body["repositories"].as_array().unwrap();
    assert!(
        repos.iter().any(|r| r["repository"] == "threadly"
            && r["phases"].as_array().is_some_and(|p| p.len() > 1)),
        "{body}"
    );

    let (status, body) = server
        .get("/api/coordination/packages?repositories=nope")
        .await;
    assert_error(status, &body, 404, "NOT_FOUND");
}
