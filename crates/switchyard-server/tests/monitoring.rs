//! The monitoring routes on a real server: metrics as JSON and Prometheus text (checked by a
//! strict reader, and by promtool when installed), alerts raised through the real pipeline
//! (failing claims, a resource held at capacity, memory), acknowledged, persisted across a
//! restart; operations with filters; health; cleanup.

mod common;
#[path = "common/prometheus.rs"]
mod prometheus;

use common::{TestServer, assert_error};
use serde_json::{Value, json};
use switchyard_monitor::{AlertChange, AlertRule};
use switchyard_server::ServerConfig;

/// `start` runs one housekeeping round before it returns; after that the background loop stays
/// out of the way and the tests drive the rounds themselves.
fn quiet(config: &mut ServerConfig) {
    config.evaluate_every_seconds = 3600;
}

async fn evaluate(server: &TestServer) -> Vec<AlertChange> {
    server.housekeeping().await
}

fn raised(changes: &[AlertChange]) -> Vec<AlertRule> {
    changes
        .iter()
        .filter_map(|c| match c {
            AlertChange::Raised(a) => Some(a.rule),
            AlertChange::Cleared(_) => None,
        })
        .collect()
}

fn cleared(changes: &[AlertChange]) -> Vec<AlertRule> {
    changes
        .iter()
        .filter_map(|c| match c {
            AlertChange::Cleared(a) => Some(a.rule),
            AlertChange::Raised(_) => None,
        })
        .collect()
}

async fn text(server: &TestServer, path: &str) -> (u16, String, String) {
    let response = server.http.get(server.url(path)).send().await.expect("GET");
    let status = response.status().as_u16();
    let content_type = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    (status, content_type, response.text().await.expect("body"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_as_json_and_prometheus_text() {
    let server = TestServer::start_with("homelab", quiet).await;

    let (status, body) = server.get("/api/coordination/metrics").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["timeRangeHours"], 24.0);
    assert_eq!(body["fleet"]["repositories"], 6);
    let ops = &body["operations"];
    assert_eq!(ops["totals"]["total"], 1, "the start-up analysis: {body}");
    assert_eq!(ops["byKind"]["analysis"]["succeeded"], 1);
    assert_eq!(ops["failureRate"], 0.0);
    assert!(ops["from"].is_string() && ops["to"].is_string(), "{ops}");

    server.failing_claims(3).await;
    let (status, body) = server
        .get("/api/coordination/metrics?format=json&timeRange=1")
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["timeRangeHours"], 1.0);
    assert_eq!(body["operations"]["byKind"]["claim"]["failed"], 3);
    assert_eq!(body["operations"]["failureRate"], 0.75);
    // Two hours later, a one-hour range holds none of them.
    server.advance(2 * 3600);
    let (_, body) = server.get("/api/coordination/metrics?timeRange=1").await;
    assert_eq!(body["operations"]["totals"]["total"], 0, "{body}");
    let (_, body) = server.get("/api/coordination/metrics?timeRange=2.5").await;
    assert_eq!(body["operations"]["totals"]["total"], 4, "{body}");

    let (status, content_type, scrape) =
        text(&server, "/api/coordination/metrics?format=prometheus").await;
    assert_eq!(status, 200);
    assert!(content_type.starts_with("text/plain"), "{content_type}");
    let e = prometheus::parse_valid(&scrape);
    assert_eq!(
        e.value(
            "switchyard_operations_total",
            &[("kind", "claim"), ("result", "failed")]
        ),
        Some(3.0)
    );

    for bad in [
        "format=xml",
        "format=",
        "timeRange=abc",
        "timeRange=0",
        "timeRange=-1",
        "timeRange=NaN",
        "timeRange=100000",
    ] {
        let (status, body) = server
            .get(&format!("/api/coordination/metrics?{bad}"))
            .await;
        assert_error(status, &body, 400, "VALIDATION_ERROR");
    }
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn top_level_metrics_is_valid_prometheus_text() {
    let server = TestServer::start_with("homelab", quiet).await;
    server.failing_claims(2).await;
    let (status, _) = server.get("/api/coordination/alerts").await;
    assert_eq!(status, 200);
    let (status, _) = server.get("/api/coordination/no-such-route").await;
    assert_eq!(status, 404);

    let (status, content_type, scrape) = text(&server, "/metrics").await;
    assert_eq!(status, 200);
    assert!(content_type.starts_with("text/plain"), "{content_type}");
    assert!(content_type.contains("version=0.0.4"), "{content_type}");
    let e = prometheus::parse_valid(&scrape);
    assert_eq!(e.value("switchyard_fleet_repositories", &[]), Some(6.0));
    assert!(
        e.value("switchyard_fleet_services", &[])
            .is_some_and(|n| n > 0.0)
    );
    assert_eq!(e.value("switchyard_alerts_active", &[]), Some(0.0));
    assert!(
        e.families
            .contains_key("switchyard_http_request_duration_seconds")
    );
    // Requests are counted by route template, never by raw path.
    let requests = |route: &str, status: &str| {
        e.value(
            "switchyard_http_requests_total",
            &[("method", "GET"), ("route", route), ("status", status)],
        )
    };
    assert_eq!(requests("/api/coordination/alerts", "200"), Some(1.0));
    assert_eq!(
        e.value(
            "switchyard_http_requests_total",
            &[
                ("method", "POST"),
                ("route", "/api/coordination/resources/{id}/claim"),
                ("status", "404")
            ]
        ),
        Some(2.0),
        "{scrape}"
    );
    assert!(
        e.samples("switchyard_http_requests_total")
            .all(|s| !s.label("route").is_some_and(|r| r.contains("port:9"))),
        "{scrape}"
    );

    match prometheus::promtool_check(&scrape) {
        None => eprintln!("promtool not on PATH: skipping `promtool check metrics`"),
        Some(Ok(_)) => {}
        Some(Err(printed)) => panic!("promtool check metrics failed:\n{printed}\n{scrape}"),
    }
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failure_rate_alert_is_raised_once_acknowledged_and_persisted() {
    let mut server = TestServer::start_with("homelab", quiet).await;
    assert!(
        evaluate(&server).await.is_empty(),
        "nothing to alert on yet"
    );
    let (status, body) = server.get("/api/coordination/alerts").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["summary"]["total"], 0);

    let mut events = server.state().events.subscribe();
    server.failing_claims(6).await; // 6 failed of 7 operations
    assert_eq!(
        raised(&evaluate(&server).await),
        vec![AlertRule::HighFailureRate]
    );
    assert!(evaluate(&server).await.is_empty(), "raised once");
    let published: Vec<_> = std::iter::from_fn(|| events.try_recv().ok())
        .filter(|e| e.event.starts_with("alert."))
        .collect();
    assert_eq!(published.len(), 1, "one alert.raised event: {published:?}");
    assert_eq!(published[0].event, "alert.raised");
    assert_eq!(published[0].data["rule"], "high_failure_rate");

    let (status, body) = server.get("/api/coordination/alerts").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["summary"]["total"], 1, "{body}");
    assert_eq!(body["summary"]["unacknowledged"], 1);
    assert_eq!(body["summary"]["bySeverity"]["high"], 1);
    let alert = &body["alerts"][0];
    assert_eq!(alert["rule"], "high_failure_rate");
    assert_eq!(alert["severity"], "high");
    assert_eq!(alert["active"], true);
    assert_eq!(alert["threshold"], 0.1);
    let id = alert["id"].as_str().expect("id").to_string();
    assert!(id.starts_with("alert_"), "{id}");

    for (query, expected) in [
        ("severity=high", 1),
        ("severity=critical", 0),
        ("acknowledged=false", 1),
        ("acknowledged=0", 1),
        ("acknowledged=true", 0),
        ("hours=1", 1),
        ("hours=24&severity=high&acknowledged=false", 1),
    ] {
        let (status, body) = server
            .get(&format!("/api/coordination/alerts?{query}"))
            .await;
        assert_eq!(status, 200, "{query}: {body}");
        assert_eq!(body["summary"]["total"], expected, "{query}: {body}");
        assert_eq!(body["alerts"].as_array().map(Vec::len), Some(expected));
    }
    for bad in [
        "severity=urgent",
        "acknowledged=maybe",
        "hours=0",
        "hours=x",
    ] {
        let (status, body) = server.get(&format!("/api/coordination/alerts?{bad}")).await;
        assert_error(status, &body, 400, "VALIDATION_ERROR");
    }

    // A high alert degrades health.
    let (status, body) = server.get("/api/coordination/health/detailed").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["status"], "degraded", "{body}");

    let (status, body) = server
        .post("/api/coordination/alerts/alert_nope/acknowledge", json!({}))
        .await;
    assert_error(status, &body, 404, "NOT_FOUND");
    let (status, body) = server
        .post(
            &format!("/api/coordination/alerts/{id}/acknowledge"),
            json!({}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["alert"]["acknowledged"], true);
    assert_eq!(body["alert"]["active"], true, "acknowledged, still raised");
    let acknowledged_at = body["alert"]["acknowledgedAt"].clone();
    assert!(acknowledged_at.is_string(), "{body}");
    let event =
        std::iter::from_fn(|| events.try_recv().ok()).find(|e| e.event.starts_with("alert."));
    assert_eq!(
        event.map(|e| e.event),
        Some("alert.acknowledged".to_string())
    );
    let (_, body) = server
        .get("/api/coordination/alerts?acknowledged=true")
        .await;
    assert_eq!(body["summary"]["total"], 1, "{body}");
    assert!(evaluate(&server).await.is_empty());

    // A restart reads the alert back from the store, acknowledgement included. Its operations
    // are not kept, so the rule no longer holds and the alert is cleared (once), not raised.
    server.restart(server_config()).await;
    let changes = evaluate(&server).await;
    assert!(raised(&changes).is_empty(), "{changes:?}");
    let (_, body) = server.get("/api/coordination/alerts").await;
    assert_eq!(body["summary"]["total"], 1, "{body}");
    let alert = &body["alerts"][0];
    assert_eq!(alert["id"], id.as_str());
    assert_eq!(alert["acknowledged"], true);
    assert_eq!(alert["acknowledgedAt"], acknowledged_at);
    assert_eq!(alert["active"], false, "{alert}");

    // Alerts cleared more than `hours` ago are filtered out.
    server.advance(2 * 3600);
    let (_, body) = server.get("/api/coordination/alerts?hours=1").await;
    assert_eq!(body["summary"]["total"], 0, "{body}");

    // Cleared alerts older than the retention go with the next cleanup.
    server.advance(31 * 86_400);
    let (status, body) = server.post("/api/coordination/cleanup", json!({})).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["removed"]["alerts"], 1, "{body}");
    let (_, body) = server.get("/api/coordination/alerts").await;
    assert_eq!(body["summary"]["total"], 0, "{body}");
    server.stop().await;
}

fn server_config() -> ServerConfig {
    let mut config = common::test_config();
    quiet(&mut config);
    config
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_an_operation_log_a_failure_alert_holds_across_a_restart() {
    let logged = |c: &mut ServerConfig| {
        quiet(c);
        c.operation_log = Some("ops/operations.jsonl".into());
    };
    let mut server = TestServer::start_with("homelab", logged).await;
    server.failing_claims(6).await;
    assert_eq!(
        raised(&evaluate(&server).await),
        vec![AlertRule::HighFailureRate]
    );
    let log = server.fleet_root.join("ops/operations.jsonl");
    let lines = std::fs::read_to_string(&log).expect("operation log");
    assert_eq!(lines.lines().count(), 7, "{lines}");

    let mut config = server_config();
    logged(&mut config);
    server.restart(config).await;
    assert!(
        evaluate(&server).await.is_empty(),
        "neither cleared nor raised again"
    );
    let (_, body) = server.get("/api/coordination/alerts").await;
    assert_eq!(body["summary"]["total"], 1, "{body}");
    assert_eq!(body["alerts"][0]["active"], true, "{body}");
    let (_, body) = server
        .get("/api/coordination/operations?status=failed")
        .await;
    assert_eq!(body["count"], 6, "history read back: {body}");
    server.stop().await;
}

/// Needs the resident memory (`/proc/self/status`), which only Linux reports.
#[cfg(target_os = "linux")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn memory_alert_survives_a_restart_without_being_raised_again() {
    let degraded = || {
        let mut config = server_config();
        config.alerts.memory_bytes = 1; // any process is above one byte
        config
    };
    let mut server = TestServer::start_with("homelab", |c| {
        quiet(c);
        c.alerts.memory_bytes = 1;
    })
    .await;
    // The round `start` runs before returning has raised it already.
    assert!(evaluate(&server).await.is_empty());
    let (_, body) = server
        .get("/api/coordination/alerts?severity=critical")
        .await;
    assert_eq!(body["summary"]["total"], 1, "{body}");
    assert_eq!(body["alerts"][0]["rule"], "system_degradation");
    let id = body["alerts"][0]["id"].clone();

    let (status, body) = server.get("/api/coordination/health/detailed").await;
    assert_eq!(status, 503, "critical health is 503: {body}");
    assert_eq!(body["status"], "critical");
    let (status, body) = server.get("/health").await;
    assert_eq!(status, 503, "{body}");
    assert_eq!(body["status"], "critical");

    server.restart(degraded()).await;
    let changes = evaluate(&server).await;
    assert!(changes.is_empty(), "{changes:?}");
    let (_, body) = server.get("/api/coordination/alerts").await;
    assert_eq!(
        body["summary"]["total"], 1,
        "not raised a second time: {body}"
    );
    assert_eq!(body["alerts"][0]["id"], id);
    assert_eq!(body["alerts"][0]["active"], true);
    // Raised long ago but still holding: a recent alert for any `hours`.
    server.advance(3 * 3600);
    let (_, body) = server.get("/api/coordination/alerts?hours=1").await;
    assert_eq!(body["summary"]["total"], 1, "{body}");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resource_at_capacity_too_long_raises_exhaustion_across_a_restart() {
    let mut server = TestServer::start_with("homelab", quiet).await;
    // A held capacity-1 resource is a lock, not a pool running dry: it never raises exhaustion.
    for (identifier, capacity) in [("7000", 2), ("7100", 1)] {
        let (status, body) = server
            .post(
                "/api/coordination/resources/register",
                json!({ "type": "port", "identifier": identifier, "capacity": capacity }),
            )
            .await;
        assert_eq!(status, 201, "{body}");
    }
    let (status, body) = server
        .post(
            "/api/coordination/resources/port:7100/claim",
            json!({ "repository": "api", "operation": { "type": "deploy", "ttl": 7200 } }),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let mut claim_id = String::new();
    for repository in ["auth", "api"] {
        let (status, body) = server
            .post(
                "/api/coordination/resources/port:7000/claim",
                json!({ "repository": repository, "operation": { "type": "read", "ttl": 7200 } }),
            )
            .await;
        assert_eq!(status, 201, "{body}");
        claim_id = body["claimId"].as_str().expect("claim id").to_string();
    }

    assert!(evaluate(&server).await.is_empty(), "just got full");
    server.advance(200);
    assert!(evaluate(&server).await.is_empty(), "200 s is within 300 s");
    server.advance(101);
    let changes = evaluate(&server).await;
    assert_eq!(raised(&changes), vec![AlertRule::ResourceExhaustion]);
    assert_eq!(changes[0].alert().subject.as_deref(), Some("port:7000"));

    // After a restart the server still knows since when the port has been full.
    server.restart(server_config()).await;
    let changes = evaluate(&server).await;
    assert!(changes.is_empty(), "{changes:?}");
    let (_, body) = server.get("/api/coordination/alerts?severity=high").await;
    assert_eq!(body["summary"]["total"], 1, "{body}");
    assert_eq!(
        body["pagination"],
        json!({ "total": 1, "limit": 20, "offset": 0, "hasMore": false })
    );
    assert_eq!(body["alerts"][0]["subject"], "port:7000");
    assert_eq!(body["alerts"][0]["active"], true);

    let (status, body) = server
        .delete(&format!(
            "/api/coordination/resources/port:7000/claims/{claim_id}"
        ))
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        cleared(&evaluate(&server).await),
        vec![AlertRule::ResourceExhaustion]
    );
    assert!(evaluate(&server).await.is_empty(), "cleared once");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn operations_are_listed_with_filters() {
    let server = TestServer::start_with("homelab", quiet).await;
    server.failing_claims(3).await;
    server
        .post(
            "/api/coordination/resources/register",
            json!({ "type": "port", "identifier": "7001" }),
        )
        .await;
    let (status, _) = server
        .post(
            "/api/coordination/resources/port:7001/claim",
            json!({ "repository": "api", "operation": { "type": "read" } }),
        )
        .await;
    assert_eq!(status, 201);

    let (status, body) = server.get("/api/coordination/operations").await;
    assert_eq!(status, 200, "{body}");
    let ops = body["operations"].as_array().expect("operations");
    assert_eq!(ops.len(), 5, "analysis + 4 claims: {body}");
    assert_eq!(body["count"], 5);
    let analysis = ops
        .iter()
        .find(|o| o["type"] == "analysis")
        .expect("analysis");
    assert_eq!(analysis["status"], "completed");
    assert!(analysis["durationMs"].is_number(), "{analysis}");

    let list = |body: &Value| body["operations"].as_array().cloned().unwrap_or_default();
    let (_, body) = server
        .get("/api/coordination/operations?status=failed")
        .await;
    let failed = list(&body);
    assert_eq!(failed.len(), 3, "{body}");
    assert!(failed.iter().all(|o| {
        o["type"] == "claim"
            && o["error"]
                .as_str()
                .is_some_and(|e| e.starts_with("NOT_FOUND"))
    }));
    let (_, body) = server
        .get("/api/coordination/operations?type=claim&status=completed")
        .await;
    assert_eq!(list(&body).len(), 1, "{body}");
    let (_, body) = server
        .get("/api/coordination/operations?type=claim&limit=2")
        .await;
    assert_eq!(list(&body).len(), 2, "{body}");
    assert_eq!(
        body["pagination"],
        json!({ "total": 4, "limit": 2, "offset": 0, "hasMore": true })
    );
    let first_page_ids: Vec<Value> = list(&body).iter().map(|o| o["id"].clone()).collect();
    let (_, body) = server
        .get("/api/coordination/operations?type=claim&limit=2&offset=2")
        .await;
    assert_eq!(list(&body).len(), 2, "{body}");
    assert_eq!(body["pagination"]["hasMore"], false, "{body}");
    assert!(
        list(&body)
            .iter()
            .all(|o| !first_page_ids.contains(&o["id"])),
        "pages do not overlap: {body}"
    );
    let (_, body) = server
        .get("/api/coordination/operations?status=active")
        .await;
    assert_eq!(list(&body).len(), 0, "{body}");
    let (_, body) = server
        .get("/api/coordination/operations?type=deployment")
        .await;
    assert_eq!(list(&body).len(), 0, "{body}");

    for bad in [
        "status=running",
        "type=deploy",
        "limit=0",
        "limit=101",
        "limit=ten",
    ] {
        let (status, body) = server
            .get(&format!("/api/coordination/operations?{bad}"))
            .await;
        assert_error(status, &body, 400, "VALIDATION_ERROR");
    }
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_reports_components_uptime_and_version() {
    let server = TestServer::start_with("homelab", quiet).await;
    server.advance(120);
    for path in ["/api/coordination/health", "/health"] {
        let (status, body) = server.get(path).await;
        assert_eq!(status, 200, "{path}: {body}");
        assert_eq!(body["status"], "healthy", "{path}: {body}");
        assert_eq!(body["uptimeSeconds"], 120, "{path}: {body}");
        assert_eq!(body["version"], env!("CARGO_PKG_VERSION"));
    }
    let (status, body) = server.get("/api/coordination/health/detailed").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["status"], "healthy");
    let components = body["components"].as_array().expect("components");
    let names: Vec<&str> = components
        .iter()
        .filter_map(|c| c["name"].as_str())
        .collect();
    assert_eq!(names, vec!["store", "fleet", "alerts"]);
    assert!(
        components.iter().all(|c| c["status"] == "healthy"),
        "{body}"
    );
    assert!(components[0]["latencyMs"].is_number());
    assert!(
        components[1]["message"]
            .as_str()
            .is_some_and(|m| m.starts_with("6 repositories")),
        "{body}"
    );
    assert!(body["checkedAt"].is_string());
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cleanup_removes_expired_claims_and_returns_counts() {
    let server = TestServer::start_with("homelab", quiet).await;
    server
        .post(
            "/api/coordination/resources/register",
            json!({ "type": "port", "identifier": "7002", "capacity": 2 }),
        )
        .await;
    for ttl in [10, 10_000] {
        let (status, body) = server
            .post(
                "/api/coordination/resources/port:7002/claim",
                json!({ "repository": "api", "operation": { "type": "read", "ttl": ttl } }),
            )
            .await;
        assert_eq!(status, 201, "{body}");
    }
    server.advance(60);
    let (status, body) = server.post("/api/coordination/cleanup", json!({})).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["success"], true);
    assert_eq!(body["removed"]["expiredClaims"], 1, "{body}");
    assert!(body["removed"]["history"].is_number(), "{body}");
    assert_eq!(body["removed"]["alerts"], 0);
    let (status, body) = server.post_raw("/api/coordination/cleanup", "").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["removed"]["expiredClaims"], 0, "{body}");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refused_claims_are_decisions_not_failures() {
    let server = TestServer::start_with("homelab", quiet).await;
    let (status, body) = server
        .post(
            "/api/coordination/resources/register",
            json!({ "type": "port", "identifier": "7003" }),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let claim = |repository: &'static str| {
        let server = &server;
        async move {
            server
                .post(
                    "/api/coordination/resources/port:7003/claim",
                    json!({ "repository": repository, "operation": { "type": "deploy", "exclusive": true } }),
                )
                .await
        }
    };
    let (status, body) = claim("api").await;
    assert_eq!(status, 201, "{body}");
    // Six refusals of eight operations: contention, not a failing coordinator.
    for _ in 0..6 {
        let (status, body) = claim("auth").await;
        assert_eq!(status, 409, "{body}");
    }
    assert!(
        evaluate(&server).await.is_empty(),
        "refusals raise no failure-rate alert"
    );
    let (_, body) = server
        .get("/api/coordination/operations?type=claim&status=completed")
        .await;
    let ops = body["operations"].as_array().cloned().unwrap_or_default();
    assert_eq!(ops.len(), 7, "{body}");
    let refused: Vec<&Value> = ops
        .iter()
        .filter(|o| o["result"]["refused"].is_object())
        .collect();
    assert_eq!(refused.len(), 6, "{body}");
    assert!(
        refused[0]["result"]["refused"]["error"]
            .as_str()
            .is_some_and(|code| !code.is_empty()),
        "{body}"
    );
    let (_, body) = server
        .get("/api/coordination/operations?status=failed")
        .await;
    assert_eq!(body["count"], 0, "{body}");
    server.stop().await;
}
