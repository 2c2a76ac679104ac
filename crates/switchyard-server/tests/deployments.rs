//! Deployment coordination against a real server on the homelab fleets: planning, phases,
//! conflicts, cycles, bad input, progress events, rollback, cancel and estimates.

mod common;
mod deploy_support;

use common::{TestServer, assert_error};
use deploy_support::*;
use serde_json::{Value, json};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn walk_through_plan_progress_failure_rollback_and_cancel() {
    let server = TestServer::start("homelab").await;
    let all = [
        "infra-network",
        "postgres",
        "auth",
        "api",
        "dashboard",
        "monitoring",
    ];
    let (id, body) = plan(&server, &all).await;
    assert!(id.starts_with("coord_") && id.len() == 32, "{id}");
    assert_eq!(body["coordination"]["status"], "ready");
    assert_eq!(
        phase_members(&body),
        vec![
            vec!["postgres"],
            vec!["auth"],
            vec!["api"],
            vec!["dashboard", "monitoring"],
            vec!["infra-network"],
        ]
    );
    assert_eq!(body["deployment"]["totalPhases"], 5);
    assert_eq!(body["deployment"]["parallelizable"], true);
    assert_eq!(body["coordination"]["phases"][3]["parallel"], true);
    // No recorded durations yet: 45 s each, a parallel phase counts once.
    assert_eq!(body["deployment"]["estimatedDuration"], 225.0);

    // Every resource the fleet uses is claimed, exclusively for deploys, by its user.
    let claims = body["coordination"]["claims"].as_array().expect("claims");
    let claim_of = |resource: &str| {
        claims
            .iter()
            .find(|c| c["resourceId"] == resource)
            .cloned()
            .unwrap_or_else(|| panic!("no claim on {resource}: {claims:?}"))
    };
    let pg = claim_of("port:5432");
    assert_eq!(pg["repository"], "postgres");
    assert_eq!(pg["operation"]["type"], "deploy");
    assert_eq!(pg["operation"]["exclusive"], true);
    assert_eq!(pg["operation"]["ttl"], 3600);
    assert_eq!(claim_of("domain:api.homelab.lan")["repository"], "api");
    let network = claim_of("network:homelab");
    assert_eq!(network["operation"]["type"], "read", "shared network");
    let (status, listed) = server.get("/api/coordination/resources?limit=100").await;
    assert_eq!(status, 200, "{listed}");
    let listed = listed["resources"].as_array().expect("resources");
    for claim in claims {
        let resource = listed
            .iter()
            .find(|r| r["id"] == claim["resourceId"])
            .unwrap_or_else(|| panic!("{} not registered", claim["resourceId"]));
        assert_eq!(resource["currentUsage"], 1, "{resource}");
    }

    // Phase 1 and 2 succeed, phase 3 fails.
    ok_event(&server, &id, "postgres", "started").await;
    let body = ok_event(&server, &id, "postgres", "succeeded").await;
    assert_eq!(body["coordination"]["currentPhase"], 2);
    assert_eq!(body["coordination"]["status"], "in_progress");
    assert_eq!(body["coordination"]["phases"][0]["status"], "succeeded");
    let (status, early) = event(
        &server,
        &id,
        json!({ "repository": "dashboard", "status": "started" }),
    )
    .await;
    assert_error(status, &early, 409, "OUT_OF_PHASE");
    ok_event(&server, &id, "auth", "started").await;
    let body = ok_event(&server, &id, "auth", "succeeded").await;
    assert_eq!(body["coordination"]["currentPhase"], 3);
    assert_eq!(
        body["coordination"]["progress"]["auth"]["status"],
        "succeeded"
    );
    ok_event(&server, &id, "api", "started").await;
    let body = ok_event(&server, &id, "api", "failed").await;
    assert_eq!(body["coordination"]["status"], "rolling_back");
    assert_eq!(body["coordination"]["progress"]["api"]["status"], "failed");
    let rollback = &body["coordination"]["rollback"];
    assert_eq!(rollback["failedRepository"], "api");
    let order: Vec<&Value> = rollback["phases"]
        .as_array()
        .expect("rollback phases")
        .iter()
        .map(|p| &p["repositories"])
        .collect();
    assert_eq!(order, [&json!(["auth"]), &json!(["postgres"])]);
    let (status, refused) = event(
        &server,
        &id,
        json!({ "repository": "dashboard", "status": "started" }),
    )
    .await;
    assert_error(status, &refused, 409, "DEPLOYMENT_ROLLING_BACK");

    let (status, got) = server.get(&deployment_path(&id, "")).await;
    assert_eq!(status, 200, "{got}");
    assert_eq!(got["coordination"]["status"], "rolling_back");

    // Cancel releases every claim; a finished deployment refuses everything.
    let (status, cancelled) = server
        .post(&deployment_path(&id, "/cancel"), json!({}))
        .await;
    assert_eq!(status, 200, "{cancelled}");
    assert_eq!(cancelled["coordination"]["status"], "cancelled");
    for claim in claims {
        let resource = claim["resourceId"].as_str().expect("resource id");
        assert_eq!(live_claims(&server, resource).await, Vec::<Value>::new());
    }
    let (status, again) = server
        .post(&deployment_path(&id, "/cancel"), json!({}))
        .await;
    assert_error(status, &again, 409, "DEPLOYMENT_FINISHED");
    let (status, again) = server
        .post(&deployment_path(&id, "/complete"), json!({}))
        .await;
    assert_error(status, &again, 409, "DEPLOYMENT_FINISHED");
    let (status, late) = event(
        &server,
        &id,
        json!({ "repository": "dashboard", "status": "started" }),
    )
    .await;
    assert_error(status, &late, 409, "DEPLOYMENT_FINISHED");

    // Planning and progress are monitored operations.
    let (_, ops) = server
        .get("/api/coordination/operations?type=plan&limit=100")
        .await;
    assert!(ops["count"].as_u64().is_some_and(|n| n >= 1), "{ops}");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn conflicts_block_unless_ignored() {
    let server = TestServer::start("homelab").await;
    let (status, body) = server
        .post(PLAN, json!({ "repositories": ["postgres", "auth"] }))
        .await;
    assert_error(status, &body, 409, "RESOURCE_CONFLICTS");
    let conflicts = body["details"]["conflicts"].as_array().expect("conflicts");
    assert!(
        conflicts
            .iter()
            .any(|c| c["resource"] == "env:DATABASE_URL"),
        "{body}"
    );
    let (_, listed) = server.get("/api/coordination/resources").await;
    assert_eq!(
        listed["resources"],
        json!([]),
        "nothing registered or claimed"
    );
    // Conflicts not touching the plan do not block it.
    let (status, body) = server
        .post(PLAN, json!({ "repositories": ["postgres"] }))
        .await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["coordination"]["conflicts"], json!([]));
    let (_, body) = plan(&server, &["auth"]).await;
    assert_eq!(
        body["coordination"]["conflicts"][0]["resource"], "env:DATABASE_URL",
        "ignored conflicts are listed"
    );
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cycles_are_refused_with_their_paths() {
    let server = TestServer::start("homelab-cycle").await;
    let (status, body) = server
        .post(
            PLAN,
            json!({ "repositories": ["sso", "mailer", "audit", "dashboards"] }),
        )
        .await;
    assert_error(status, &body, 422, "CIRCULAR_DEPENDENCY");
    let cycles = body["details"]["cycles"].as_array().expect("cycles");
    assert!(!cycles.is_empty(), "{body}");
    let path: Vec<&str> = cycles[0]
        .as_array()
        .expect("cycle path")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert_eq!(path.first(), path.last(), "a closed path: {path:?}");
    for member in ["sso", "mailer", "audit"] {
        assert!(path.contains(&member), "{member} not in {path:?}");
    }
    assert!(!path.contains(&"dashboards"));
    // Without the whole cycle there is nothing circular to deploy.
    let (status, body) = server
        .post(
            PLAN,
            json!({ "repositories": ["dashboards", "sso"], "options": { "ignoreConflicts": true } }),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_is_answered_with_clear_errors() {
    let server = TestServer::start("homelab").await;
    for bad in [
        json!({}),
        json!({ "repositories": "api" }),
        json!({ "repositories": [] }),
        json!({ "repositories": [3] }),
        json!({ "repositories": ["api"], "options": { "timeout": 0 } }),
        json!({ "repositories": ["api"], "options": { "timeout": 86401 } }),
        json!({ "repositories": ["api"], "options": { "timeout": -5 } }),
        json!({ "repositories": ["api"], "options": { "timeout": "soon" } }),
        json!({ "repositories": ["api"], "options": { "maxParallel": 0 } }),
        json!({ "repositories": ["api"], "options": { "allowParallel": "yes" } }),
        json!({ "repositories": ["api"], "extra": true }),
    ] {
        let (status, body) = server.post(PLAN, bad.clone()).await;
        assert_error(status, &body, 400, "VALIDATION_ERROR");
    }
    let (status, body) = server.post_raw(PLAN, "{\"repositories\": [").await;
    assert_error(status, &body, 400, "VALIDATION_ERROR");

    let (status, body) = server
        .post(PLAN, json!({ "repositories": ["api", "nope", "gone"] }))
        .await;
    assert_error(status, &body, 404, "NOT_FOUND");
    assert_eq!(
        body["details"]["unknownRepositories"],
        json!(["nope", "gone"])
    );

    let (status, body) = server
        .post(
            PLAN,
            json!({
                "repositories": ["postgres", "auth", "api"],
                "options": { "timeout": 100, "ignoreConflicts": true }
            }),
        )
        .await;
    assert_error(status, &body, 422, "PLAN_EXCEEDS_TIMEOUT");
    assert_eq!(body["details"]["estimatedDuration"], 135.0);

    let (status, body) = server.get(&deployment_path("coord_nope", "")).await;
    assert_error(status, &body, 404, "NOT_FOUND");
    let (status, body) = server
        .post(&deployment_path("coord_nope", "/cancel"), json!({}))
        .await;
    assert_error(status, &body, 404, "NOT_FOUND");

    let (id, _) = plan(&server, &["postgres"]).await;
    for bad in [
        json!({ "repository": "postgres", "status": "exploded" }),
        json!({ "repository": "postgres" }),
        json!({ "status": "started" }),
        json!({ "repository": "postgres", "status": "succeeded", "durationSeconds": -1 }),
        json!({ "repository": "postgres", "status": "succeeded", "durationSeconds": "long" }),
    ] {
        let (status, body) = event(&server, &id, bad).await;
        assert_error(status, &body, 400, "VALIDATION_ERROR");
    }
    let (status, body) = event(
        &server,
        &id,
        json!({ "repository": "api", "status": "started" }),
    )
    .await;
    assert_error(status, &body, 404, "NOT_FOUND");
    assert_eq!(body["details"]["repository"], "api");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn recorded_durations_feed_the_median_estimate() {
    let server = TestServer::start("homelab").await;
    // 10 and 60 reported, 20 measured from the started event: median 20, mean 30.
    for seconds in [10.0, 60.0] {
        let (id, _) = plan(&server, &["postgres"]).await;
        let (status, body) = event(
            &server,
            &id,
            json!({ "repository": "postgres", "status": "succeeded", "durationSeconds": seconds }),
        )
        .await;
        assert_eq!(status, 200, "{body}");
        // The last phase succeeded: completed, claims released.
        assert_eq!(body["coordination"]["status"], "completed");
        assert_eq!(live_claims(&server, "port:5432").await, Vec::<Value>::new());
    }
    let (id, _) = plan(&server, &["postgres"]).await;
    ok_event(&server, &id, "postgres", "started").await;
    server.advance(20);
    let body = ok_event(&server, &id, "postgres", "succeeded").await;
    assert_eq!(
        body["coordination"]["progress"]["postgres"]["durationSeconds"],
        20.0
    );

    let (_, body) = plan(&server, &["postgres", "auth"]).await;
    assert_eq!(body["coordination"]["phases"][0]["estimatedDuration"], 20.0);
    assert_eq!(body["coordination"]["phases"][1]["estimatedDuration"], 45.0);
    assert_eq!(body["deployment"]["estimatedDuration"], 65.0);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn phase_options_split_and_serialize() {
    let server = TestServer::start("homelab").await;
    let (status, body) = server
        .post(
            PLAN,
            json!({ "repositories": ["api", "dashboard", "monitoring"], "options": { "allowParallel": false, "ignoreConflicts": true } }),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(
        phase_members(&body),
        vec![vec!["api"], vec!["dashboard", "monitoring"]]
    );
    assert_eq!(body["coordination"]["phases"][1]["parallel"], false);
    assert_eq!(body["deployment"]["estimatedDuration"], 135.0);
    assert_eq!(body["deployment"]["parallelizable"], false);
    let id = body["coordination"]["id"].as_str().unwrap_or_default();
    server
        .post(&deployment_path(id, "/cancel"), json!({}))
        .await;

    let (status, body) = server
        .post(
            PLAN,
            json!({ "repositories": ["api", "dashboard", "monitoring"], "options": { "maxParallel": 1, "ignoreConflicts": true } }),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(
        phase_members(&body),
        vec![vec!["api"], vec!["dashboard"], vec!["monitoring"]]
    );
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lifecycle_events_are_published_and_documented() {
    let server = TestServer::start("homelab").await;
    let mut events = server.state().events.subscribe();
    let (id, _) = plan(&server, &["postgres", "auth"]).await;
    ok_event(&server, &id, "postgres", "succeeded").await;
    ok_event(&server, &id, "auth", "started").await;
    let body = ok_event(&server, &id, "auth", "failed").await;
    assert_eq!(
        body["coordination"]["rollback"]["phases"][0]["repositories"],
        json!(["postgres"])
    );
    // Completing a rolled-back deployment ends it as failed.
    let (status, body) = server
        .post(&deployment_path(&id, "/complete"), json!({}))
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["coordination"]["status"], "failed");

    let mut seen = Vec::new();
    while let Ok(event) = events.try_recv() {
        if event.event.starts_with("deployment.") {
            seen.push((event.event, event.data));
        }
    }
    let names: Vec<&str> = seen.iter().map(|(name, _)| name.as_str()).collect();
    assert_eq!(
        names,
        [
            "deployment.planned",
            "deployment.progress",
            "deployment.progress",
            "deployment.progress",
            "deployment.rolling_back",
            "deployment.completed",
        ]
    );
    assert_eq!(seen[1].1["phaseCompleted"], 1);
    assert_eq!(seen[5].1, json!({ "id": id, "status": "failed" }));

    let (status, spec) = server.get("/api/openapi.json").await;
    assert_eq!(status, 200);
    for (path, method) in [
        ("/api/coordination/coordinate-deployment", "post"),
        ("/api/coordination/deployments/{id}", "get"),
        ("/api/coordination/deployments/{id}/events", "post"),
        ("/api/coordination/deployments/{id}/complete", "post"),
        ("/api/coordination/deployments/{id}/cancel", "post"),
    ] {
        let operation = &spec["paths"][path][method];
        assert_eq!(
            operation["tags"],
            json!(["deployments"]),
            "{path}: {operation}"
        );
    }
    server.stop().await;
}
