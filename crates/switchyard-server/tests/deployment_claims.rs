//! The claims of deployment plans: overlapping plans refused naming the holder, concurrent
//! plans, claims taken by hand, restarts, retention of finished deployments.

mod common;
mod deploy_support;

use common::{TestServer, assert_error, test_config};
use deploy_support::*;
use serde_json::{Value, json};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn overlapping_deployment_is_refused_naming_the_holder() {
    let server = TestServer::start("homelab").await;
    let (first, _) = plan(&server, &["postgres", "auth"]).await;

    // api's domain comes before postgres' port: it is claimed, then given back.
    let (status, body) = server
        .post(
            PLAN,
            json!({ "repositories": ["api", "postgres"], "options": { "ignoreConflicts": true } }),
        )
        .await;
    assert_error(status, &body, 409, "RESOURCE_LOCKED");
    assert!(
        body["message"].as_str().is_some_and(|m| m.contains(&first)),
        "{body}"
    );
    assert_eq!(body["details"]["deployments"], json!([first]));
    assert_eq!(body["details"]["resourceId"], "port:5432");
    assert_eq!(
        live_claims(&server, "domain:api.homelab.lan").await,
        Vec::<Value>::new(),
        "claims of the refused plan are released"
    );

    // A plan that needs none of the first one's exclusive resources is fine (the shared
    // network is joined by both).
    let (other, _) = plan(&server, &["dashboard"]).await;
    assert_eq!(live_claims(&server, "network:homelab").await.len(), 2);

    let (status, body) = server
        .post(&deployment_path(&first, "/complete"), json!({}))
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["coordination"]["status"], "completed");
    plan(&server, &["api", "postgres"]).await;
    let (status, _) = server
        .post(&deployment_path(&other, "/cancel"), json!({}))
        .await;
    assert_eq!(status, 200);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deployments_and_their_claims_survive_a_restart() {
    let mut server = TestServer::start("homelab").await;
    let (id, body) = plan(&server, &["postgres", "auth"]).await;
    let pg_claim = body["coordination"]["claims"]
        .as_array()
        .and_then(|claims| claims.iter().find(|c| c["resourceId"] == "port:5432"))
        .map(|c| c["claimId"].clone())
        .expect("claim on port:5432");
    ok_event(&server, &id, "postgres", "started").await;

    server.restart(test_config()).await;

    let (status, body) = server.get(&deployment_path(&id, "")).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["coordination"]["status"], "in_progress");
    assert_eq!(
        body["coordination"]["progress"]["postgres"]["status"],
        "started"
    );
    let claims = live_claims(&server, "port:5432").await;
    assert_eq!(claims.len(), 1);
    assert_eq!(claims[0]["claimId"], pg_claim);
    let (status, refused) = server
        .post(PLAN, json!({ "repositories": ["postgres"] }))
        .await;
    assert_error(status, &refused, 409, "RESOURCE_LOCKED");
    assert_eq!(refused["details"]["deployments"], json!([id]));

    let body = ok_event(&server, &id, "postgres", "succeeded").await;
    assert_eq!(body["coordination"]["currentPhase"], 2);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_plans_for_the_same_resources_get_one_winner() {
    let server = TestServer::start("homelab").await;
    let body = json!({ "repositories": ["postgres"] });
    let (a, b) = tokio::join!(server.post(PLAN, body.clone()), server.post(PLAN, body));
    let mut statuses = [a.0, b.0];
    statuses.sort_unstable();
    assert_eq!(statuses, [201, 409], "{} / {}", a.1, b.1);
    assert_eq!(live_claims(&server, "port:5432").await.len(), 1);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retention_removes_only_finished_deployments() {
    let server = TestServer::start("homelab").await;
    let (done, _) = plan(&server, &["postgres"]).await;
    ok_event(&server, &done, "postgres", "succeeded").await;
    let (open, _) = plan(&server, &["dashboard"]).await;
    server.advance(31 * 86_400);
    let (status, body) = server.post("/api/coordination/cleanup", json!({})).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["removed"]["deployments"], 1, "{body}");
    let (status, _) = server.get(&deployment_path(&done, "")).await;
    assert_eq!(status, 404);
    let (status, body) = server.get(&deployment_path(&open, "")).await;
    assert_eq!(status, 200, "{body}");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_claim_taken_by_hand_blocks_the_plan_and_is_named() {
    let server = TestServer::start("homelab").await;
    let (status, body) = server
        .post(
            "/api/coordination/resources/register",
            json!({ "type": "port", "identifier": "5432" }),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let (status, held) = server
        .post(
            "/api/coordination/resources/port:5432/claim",
            json!({ "repository": "backup-job", "operation": { "type": "maintenance" } }),
        )
        .await;
    assert_eq!(status, 201, "{held}");
    let (status, body) = server
        .post(PLAN, json!({ "repositories": ["postgres"] }))
        .await;
    assert_eq!(status, 409, "{body}");
    assert_eq!(body["details"]["deployments"], json!([]));
    assert_eq!(body["details"]["heldBy"][0]["repository"], "backup-job");
    assert_eq!(body["details"]["heldBy"][0]["claimId"], held["claimId"]);
    assert!(
        body["message"]
            .as_str()
            .is_some_and(|m| m.contains("backup-job")),
        "{body}"
    );
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deployment_past_its_timeout_is_ended_and_its_claims_released() {
    let server = TestServer::start("homelab").await;
    let plan_with_timeout = |repositories: Vec<&'static str>, timeout: u64| {
        let server = &server;
        async move {
            let (status, body) = server
                .post(
                    PLAN,
                    json!({ "repositories": repositories, "options": { "ignoreConflicts": true, "timeout": timeout } }),
                )
                .await;
            assert_eq!(status, 201, "{body}");
            body["coordination"]["id"].as_str().expect("id").to_string()
        }
    };
    let short = plan_with_timeout(vec!["postgres"], 60).await;
    let long = plan_with_timeout(vec!["monitoring"], 3600).await;
    ok_event(&server, &short, "postgres", "started").await;
    assert_eq!(live_claims(&server, "port:5432").await.len(), 1);

    server.advance(30);
    server.housekeeping().await;
    let (_, body) = server.get(&deployment_path(&short, "")).await;
    assert_eq!(body["coordination"]["status"], "in_progress", "{body}");

    server.advance(31);
    server.housekeeping().await;
    let (status, body) = server.get(&deployment_path(&short, "")).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["coordination"]["status"], "timed_out", "{body}");
    assert!(body["coordination"]["finishedAt"].is_string(), "{body}");
    assert_eq!(live_claims(&server, "port:5432").await, Vec::<Value>::new());
    let (status, body) = event(
        &server,
        &short,
        json!({ "repository": "postgres", "status": "succeeded" }),
    )
    .await;
    assert_error(status, &body, 409, "DEPLOYMENT_FINISHED");
    // The other plan's timeout has not run out.
    let (_, body) = server.get(&deployment_path(&long, "")).await;
    assert_eq!(body["coordination"]["status"], "ready", "{body}");
    server.stop().await;
}
