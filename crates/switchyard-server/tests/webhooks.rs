//! `POST /api/webhooks/github`: signatures (good, wrong, missing, malformed, no secret), ping,
//! ignored events, malformed JSON, and a push that re-reads one edited repository, changes the
//! dependency graph and reaches WebSocket subscribers as `repository.changed`.

mod common;

use std::time::Duration;

use common::{TestServer, assert_error, read, ws};
use hmac::{Hmac, Mac};
use serde_json::{Value, json};
use sha2::Sha256;

const SECRET: &str = "webhook-test-secret";
const TOKEN: &str = "webhooks-test-token-0123456789";
const PATH: &str = "/api/webhooks/github";

fn sign(secret: &str, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("any key length");
    mac.update(body);
    let hex: String = mac
        .finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    format!("sha256={hex}")
}

/// Sends a webhook without any bearer token (the route's auth is the signature).
async fn deliver(
    server: &TestServer,
    event: &str,
    body: &[u8],
    signature: Option<&str>,
) -> (u16, Value) {
    let mut request = reqwest::Client::new()
        .post(server.url(PATH))
        .header("content-type", "application/json")
        .header("x-github-event", event)
        .body(body.to_vec());
    if let Some(signature) = signature {
        request = request.header("x-hub-signature-256", signature);
    }
    read(request.send().await.expect("POST webhook")).await
}

async fn signed(server: &TestServer, event: &str, payload: &Value) -> (u16, Value) {
    let body = payload.to_string();
    deliver(
        server,
        event,
        body.as_bytes(),
        Some(&sign(SECRET, body.as_bytes())),
    )
    .await
}

/// A server with a webhook secret and bearer tokens; its `http` client carries the token.
async fn start() -> TestServer {
    let mut server = TestServer::start_with("homelab", |config| {
        config.webhooks.secret = Some(SECRET.into());
        config.tokens = vec![switchyard_server::config::TokenConfig {
            token: TOKEN.into(),
            scopes: vec![switchyard_server::config::Scope::Write],
            name: None,
        }];
    })
    .await;
    server.authorize(TOKEN);
    server
}

fn depends_on(dependencies: &Value, repository: &str, on: &str) -> bool {
    dependencies["directDependencies"][repository]
        .as_array()
        .is_some_and(|deps| deps.iter().any(|d| d["repository"] == on))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn push_reanalyses_the_edited_repository() {
    let server = start().await;
    let (status, before) = server.get("/api/coordination/dependencies").await;
    assert_eq!(status, 200, "{before}");
    assert!(!depends_on(&before, "api", "monitoring"), "{before}");
    let mut subscriber = ws::connect(
        &server.base,
        &format!("topics=repository.changed&token={TOKEN}"),
    )
    .await;

    // The API starts calling Prometheus (published on the box's port 9090 by `monitoring`).
    let env = server.fleet_root.join("api/.env.example");
    let mut text = std::fs::read_to_string(&env).expect("read .env.example");
    text.push_str("METRICS_URL=http://localhost:9090/api/v1/query\n");
    std::fs::write(&env, text).expect("write .env.example");

    let push = json!({
        "ref": "refs/heads/main",
        "repository": { "name": "homelab-api", "full_name": "me/api", "clone_url": "https://github.com/me/api.git" },
        "commits": [],
    });
    let (status, body) = signed(&server, "push", &push).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["repository"], "api", "{body}");
    assert_eq!(body["changed"], true, "{body}");
    assert_eq!(body["summary"]["repositories"], json!(["api"]), "{body}");
    let added = body["summary"]["edgesAdded"]
        .as_array()
        .expect("edgesAdded");
    assert!(
        added
            .iter()
            .any(|e| e.as_str().is_some_and(|e| e.contains("monitoring"))),
        "{body}"
    );

    let (status, after) = server.get("/api/coordination/dependencies").await;
    assert_eq!(status, 200, "{after}");
    assert!(depends_on(&after, "api", "monitoring"), "{after}");

    let seen = subscriber
        .until("repository.changed", Duration::from_secs(10))
        .await;
    let changed = seen.last().expect("event");
    assert_eq!(changed["data"]["repository"], "api", "{changed}");
    assert_eq!(
        changed["data"]["summary"]["edgesAdded"], body["summary"]["edgesAdded"],
        "{changed}"
    );

    // A second push without changes re-reads again and reports nothing changed.
    let (status, body) = signed(&server, "push", &push).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["changed"], false, "{body}");

    subscriber.close().await;
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signatures_and_event_kinds() {
    let server = start().await;
    let ping = json!({ "zen": "Keep it logically awesome.", "hook_id": 7 });
    let body = ping.to_string();
    let good = sign(SECRET, body.as_bytes());

    let (status, answer) = deliver(&server, "ping", body.as_bytes(), Some(&good)).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["event"], "ping");
    assert_eq!(answer["hookId"], 7);

    let wrong = sign("another-secret", body.as_bytes());
    let (status, answer) = deliver(&server, "ping", body.as_bytes(), Some(&wrong)).await;
    assert_error(status, &answer, 401, "UNAUTHORIZED");
    // The right signature of another body.
    let (status, answer) = deliver(&server, "ping", b"{\"zen\":\"x\"}", Some(&good)).await;
    assert_error(status, &answer, 401, "UNAUTHORIZED");
    let (status, answer) = deliver(&server, "ping", body.as_bytes(), None).await;
    assert_error(status, &answer, 401, "UNAUTHORIZED");
    for malformed in ["sha256=nothex", "sha1=0123", "sha256=", "0123abcd"] {
        let (status, answer) = deliver(&server, "ping", body.as_bytes(), Some(malformed)).await;
        assert_error(status, &answer, 401, "UNAUTHORIZED");
    }

    let broken = b"{\"repository\": ";
    let (status, answer) = deliver(&server, "push", broken, Some(&sign(SECRET, broken))).await;
    assert_error(status, &answer, 400, "VALIDATION_ERROR");
    let (status, answer) = signed(&server, "push", &json!({ "ref": "refs/heads/main" })).await;
    assert_error(status, &answer, 400, "VALIDATION_ERROR");

    let (status, answer) = signed(&server, "issues", &json!({ "action": "opened" })).await;
    assert_eq!(status, 202, "{answer}");
    assert_eq!(answer["ignored"], true);
    let unknown = json!({ "repository": { "name": "website", "full_name": "me/website" } });
    let (status, answer) = signed(&server, "push", &unknown).await;
    assert_eq!(status, 202, "{answer}");
    assert_eq!(answer["ignored"], true);

    let huge = vec![b' '; 2 * 1024 * 1024];
    let (status, answer) = deliver(&server, "push", &huge, Some(&sign(SECRET, &huge))).await;
    assert_error(status, &answer, 413, "PAYLOAD_TOO_LARGE");
    let (status, answer) = reqwest::Client::new()
        .post(server.url(PATH))
        .header("x-hub-signature-256", sign(SECRET, b"{}"))
        .body("{}")
        .send()
        .await
        .map(|r| (r.status().as_u16(), r))
        .expect("POST");
    let answer = read(answer).await.1;
    assert_error(status, &answer, 400, "VALIDATION_ERROR");

    // Everything else still needs the bearer token.
    let (status, answer) = read(
        reqwest::Client::new()
            .get(server.url("/api/coordination/dependencies"))
            .send()
            .await
            .expect("GET"),
    )
    .await;
    assert_error(status, &answer, 401, "UNAUTHORIZED");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_secret_means_no_webhooks() {
    let server = TestServer::start("homelab").await;
    let body = json!({ "zen": "hi" }).to_string();
    for secret in [SECRET, ""] {
        let signature = sign(secret, body.as_bytes());
        let (status, answer) = deliver(&server, "ping", body.as_bytes(), Some(&signature)).await;
        assert_error(status, &answer, 401, "UNAUTHORIZED");
    }
    server.stop().await;
}

/// GitHub may deliver `application/x-www-form-urlencoded` (`payload=<JSON>`) as well as JSON;
/// the browser checks' JSON-only rule leaves the signed webhook out, so both work, and a form
/// body is still only accepted with a valid signature of its raw bytes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn form_encoded_deliveries_are_accepted_when_signed() {
    let server = start().await;
    let payload = json!({ "zen": "Keep it logically awesome + simple.", "hook_id": 7 });
    let encoded: String = payload
        .to_string()
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            b' ' => "+".to_string(),
            other => format!("%{other:02X}"),
        })
        .collect();
    let body = format!("payload={encoded}");
    let send = |signature: String| {
        reqwest::Client::new()
            .post(server.url(PATH))
            .header("content-type", "application/x-www-form-urlencoded")
            .header("x-github-event", "ping")
            .header("x-hub-signature-256", signature)
            .body(body.clone())
            .send()
    };
    let (status, answer) = read(send(sign(SECRET, body.as_bytes())).await.expect("POST")).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(
        answer["zen"], "Keep it logically awesome + simple.",
        "{answer}"
    );
    assert_eq!(answer["hookId"], 7, "{answer}");
    let (status, answer) = read(send(sign("wrong", body.as_bytes())).await.expect("POST")).await;
    assert_error(status, &answer, 401, "UNAUTHORIZED");
    server.stop().await;
}
