//! The WebSocket event stream: topic filtering on real API calls, a slow subscriber that
//! survives a burst, bad requests as JSON errors, tokens in the query, and graceful shutdown
//! with clients connected.

mod common;

use std::time::Duration;

use common::ws::{self, Next};
use common::{TestServer, assert_error};
use serde_json::{Value, json};

const WAIT: Duration = Duration::from_secs(10);

fn names(events: &[Value]) -> Vec<&str> {
    events.iter().filter_map(|e| e["event"].as_str()).collect()
}

async fn register_and_claim(server: &TestServer, identifier: &str) -> Value {
    let (status, body) = server
        .post(
            "/api/coordination/resources/register",
            json!({ "type": "port", "identifier": identifier }),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let (status, claim) = server
        .post(
            &format!("/api/coordination/resources/port:{identifier}/claim"),
            json!({ "repository": "api", "operation": { "type": "deploy", "ttl": 60 } }),
        )
        .await;
    assert_eq!(status, 201, "{claim}");
    claim
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn topics_filter_the_stream() {
    let server = TestServer::start("homelab").await;
    let mut resources = ws::connect(&server.base, "topics=resource.*").await;
    let mut claims = ws::connect(&server.base, "topics=resource.claimed").await;
    let mut everything = ws::connect(&server.base, "").await;

    // Filtered out of both topic streams, delivered to the unfiltered one.
    server
        .state()
        .publish("deployment.planned", json!({ "id": "coord_test" }));
    let claim = register_and_claim(&server, "18080").await;

    let seen = resources.until("resource.claimed", WAIT).await;
    assert_eq!(
        names(&seen),
        vec!["resource.registered", "resource.claimed"],
        "{seen:?}"
    );
    let claimed = &seen[1];
    assert_eq!(claimed["data"]["resourceId"], "port:18080", "{claimed}");
    assert_eq!(claimed["data"]["repository"], "api");
    assert_eq!(claimed["data"]["claimId"], claim["claimId"]);
    assert!(
        claimed["id"]
            .as_str()
            .is_some_and(|id| id.starts_with("evt_")),
        "{claimed}"
    );
    assert_eq!(
        claimed["timestamp"], "2026-01-01T00:00:00.000Z",
        "{claimed}"
    );
    let keys: Vec<&String> = claimed
        .as_object()
        .map(|o| o.keys().collect())
        .unwrap_or_default();
    assert_eq!(keys.len(), 4, "{claimed}");

    let seen = claims.until("resource.claimed", WAIT).await;
    assert_eq!(names(&seen), vec!["resource.claimed"]);

    let seen = everything.until("resource.claimed", WAIT).await;
    assert_eq!(
        names(&seen),
        vec![
            "deployment.planned",
            "resource.registered",
            "resource.claimed"
        ]
    );

    // Nothing else is pending for the filtered streams.
    server
        .state()
        .publish("alert.raised", json!({ "id": "alert_x" }));
    assert!(
        matches!(
            resources.next(Duration::from_millis(300)).await,
            Next::Timeout
        ),
        "alert.raised leaked into resource.*"
    );
    resources.close().await;
    claims.close().await;
    everything.close().await;
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_requests_are_json_errors() {
    let server = TestServer::start("homelab").await;
    // A plain GET is not a WebSocket handshake.
    let (status, body) = server.get("/api/coordination/events").await;
    assert_error(status, &body, 400, "VALIDATION_ERROR");
    let (status, body) = server
        .get("/api/coordination/events?topics=resource.clamed")
        .await;
    assert_error(status, &body, 400, "VALIDATION_ERROR");
    assert_eq!(body["details"]["unknownTopics"], json!(["resource.clamed"]));
    let refused = ws::try_connect(&server.base, "topics=nothing.*").await;
    assert!(
        matches!(&refused, Err((400, body)) if body["error"] == "VALIDATION_ERROR"),
        "{:?}",
        refused.err()
    );
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokens_in_the_query() {
    let token = "events-test-token-0123456789";
    let server = TestServer::start_with("homelab", |config| {
        config.tokens = vec![switchyard_server::config::TokenConfig {
            token: token.into(),
            scopes: vec![switchyard_server::config::Scope::Read],
            name: None,
        }];
    })
    .await;
    let refused = ws::try_connect(&server.base, "topics=resource.*").await;
    assert!(
        matches!(&refused, Err((401, body)) if body["error"] == "UNAUTHORIZED"),
        "{:?}",
        refused.err()
    );
    let refused = ws::try_connect(&server.base, "token=wrong-token-0123456789").await;
    assert!(matches!(&refused, Err((401, _))), "{:?}", refused.err());
    let mut client = ws::connect(&server.base, &format!("topics=alert.*&token={token}")).await;
    server.state().publish("alert.raised", json!({ "id": "a" }));
    let seen = client.until("alert.raised", WAIT).await;
    assert_eq!(names(&seen), vec!["alert.raised"]);
    client.close().await;

    // The Authorization header works as well.
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;
    let mut request = ws::events_url(&server.base, "topics=alert.*")
        .into_client_request()
        .expect("request");
    request.headers_mut().insert(
        "authorization",
        format!("Bearer {token}").parse().expect("header"),
    );
    let (stream, _) = tokio_tungstenite::connect_async(request)
        .await
        .expect("bearer header accepted");
    let mut client = ws::WsClient { stream };
    server
        .state()
        .publish("alert.cleared", json!({ "id": "a" }));
    let seen = client.until("alert.cleared", WAIT).await;
    assert_eq!(names(&seen), vec!["alert.cleared"]);
    client.close().await;
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_burst_does_not_kill_the_stream() {
    let server = TestServer::start("homelab").await;
    let mut client = ws::connect(&server.base, "topics=alert.raised").await;
    let padding = "x".repeat(2048);
    let burst = 3000u64;
    for i in 0..burst {
        server
            .state()
            .publish("alert.raised", json!({ "n": i, "padding": padding }));
    }
    server
        .state()
        .publish("alert.raised", json!({ "n": "last" }));
    let (mut delivered, mut missed) = (0u64, 0u64);
    loop {
        match client.next(WAIT).await {
            Next::Event(event) if event["event"] == "stream.lagged" => {
                missed += event["data"]["missed"].as_u64().unwrap_or(0);
            }
            Next::Event(event) if event["data"]["n"] == "last" => break,
            Next::Event(_) => delivered += 1,
            other => panic!("stream ended during the burst: {other:?}"),
        }
    }
    assert_eq!(
        delivered + missed,
        burst,
        "every event delivered or counted as missed"
    );
    client.close().await;
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_closes_connected_clients() {
    let server = TestServer::start("homelab").await;
    let mut idle = ws::connect(&server.base, "topics=resource.*").await;
    let mut other = ws::connect(&server.base, "").await;
    // Connected and streaming before the shutdown starts.
    server
        .state()
        .publish("resource.registered", json!({ "id": "port:1" }));
    other.until("resource.registered", WAIT).await;

    let stopped = tokio::time::timeout(Duration::from_secs(10), server.stop()).await;
    assert!(
        stopped.is_ok(),
        "shutdown hung with WebSocket clients connected"
    );
    for client in [&mut idle, &mut other] {
        loop {
            match client.next(Duration::from_secs(5)).await {
                Next::Event(event) => assert_eq!(event["event"], "resource.registered"),
                Next::Closed(code) => {
                    assert!(matches!(code, Some(1001) | None), "{code:?}");
                    break;
                }
                Next::Timeout => panic!("client still open after shutdown"),
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn openapi_documents_the_stream_and_the_webhook() {
    let server = TestServer::start("homelab").await;
    let (status, spec) = server.get("/api/openapi.json").await;
    assert_eq!(status, 200, "{spec}");
    let events = &spec["paths"]["/api/coordination/events"]["get"];
    assert_eq!(events["tags"], json!(["events"]), "{events}");
    assert!(events["responses"]["101"].is_object(), "{events}");
    let params: Vec<&str> = events["parameters"]
        .as_array()
        .map(|p| p.iter().filter_map(|p| p["name"].as_str()).collect())
        .unwrap_or_default();
    assert!(params.contains(&"topics"), "{events}");
    let webhook = &spec["paths"]["/api/webhooks/github"]["post"];
    assert_eq!(webhook["tags"], json!(["webhooks"]), "{webhook}");
    assert!(webhook["responses"]["401"].is_object(), "{webhook}");
    server.stop().await;
}
