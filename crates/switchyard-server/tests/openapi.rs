//! `GET /api/openapi.json` is an OpenAPI 3.1 document that lists every route: each operation
//! in the document is really routed, and each route of API.md is routed and in the document.

mod common;

use std::collections::BTreeSet;

use common::TestServer;
use reqwest::Method;
use serde_json::Value;

/// Every route of API.md's tables and top-level list, as (method, path) with `{}` for a path
/// parameter. The Socket.IO endpoint (`/socket.io/`) is a transport, not a REST operation.
const API_MD: &[(&str, &str)] = &[
    ("GET", "/api/coordination/dependencies"),
    ("POST", "/api/coordination/dependencies/refresh"),
    ("GET", "/api/coordination/repositories"),
    ("POST", "/api/coordination/coordinate-deployment"),
    ("GET", "/api/coordination/deployments/{}"),
    ("POST", "/api/coordination/deployments/{}/events"),
    ("POST", "/api/coordination/deployments/{}/complete"),
    ("POST", "/api/coordination/deployments/{}/cancel"),
    ("POST", "/api/coordination/resources/register"),
    ("GET", "/api/coordination/resources"),
    ("GET", "/api/coordination/resources/{}/status"),
    ("POST", "/api/coordination/resources/{}/claim"),
    ("POST", "/api/coordination/resources/{}/claims/{}/renew"),
    ("DELETE", "/api/coordination/resources/{}/claims/{}"),
    ("DELETE", "/api/coordination/resources/{}"),
    ("GET", "/api/coordination/resource-conflicts"),
    ("POST", "/api/coordination/resolve-conflicts"),
    ("POST", "/api/coordination/coordinate-configuration"),
    ("GET", "/api/coordination/conflicts/history"),
    ("GET", "/api/coordination/metrics"),
    ("GET", "/api/coordination/alerts"),
    ("POST", "/api/coordination/alerts/{}/acknowledge"),
    ("GET", "/api/coordination/operations"),
    ("GET", "/api/coordination/health"),
    ("GET", "/api/coordination/health/detailed"),
    ("POST", "/api/coordination/cleanup"),
    ("GET", "/api/coordination/events"),
    ("POST", "/api/webhooks/github"),
    ("POST", "/api/config-sync/sync"),
    ("POST", "/api/config-sync/set"),
    ("POST", "/api/config-sync/remove"),
    ("POST", "/api/config-sync/clear"),
    ("GET", "/health"),
    ("GET", "/metrics"),
    ("GET", "/"),
    ("GET", "/api/openapi.json"),
];

/// Routes of API.md that other branches are implementing right now: they may be missing here.
/// Empty this list once those branches are merged (the test prints which entries already exist).
/// `/a/{id}/b` → `/a/{}/b`, so parameter names do not matter.
/// `/a/${expression}/b` as `/a/{}/b`.
fn template_to_braces(path: &str) -> String {
    let mut out = String::new();
    let mut rest = path;
    while let Some(start) = rest.find("${") {
        out.push_str(&rest[..start]);
        out.push_str("{}");
        rest = rest[start..]
            .find('}')
            .map_or("", |end| &rest[start + end + 1..]);
    }
    out.push_str(rest);
    out
}

async fn get_text(server: &TestServer, path: &str) -> (u16, String) {
    let response = server.http.get(server.url(path)).send().await.expect("GET");
    let status = response.status().as_u16();
    (status, response.text().await.unwrap_or_default())
}

fn normalize(path: &str) -> String {
    path.split('/')
        .map(|part| {
            if part.starts_with('{') && part.ends_with('}') {
                "{}"
            } else {
                part
            }
        })
        .collect::<Vec<_>>()
        .join("/")
}

/// The (method, normalized path) pairs of the document.
fn documented(spec: &Value) -> BTreeSet<(String, String)> {
    let mut out = BTreeSet::new();
    let paths = spec["paths"].as_object().expect("paths object");
    for (path, item) in paths {
        let item = item.as_object().expect("path item");
        for method in ["get", "post", "put", "patch", "delete", "head", "options"] {
            if item.contains_key(method) {
                out.insert((method.to_uppercase(), normalize(path)));
            }
        }
    }
    out
}

/// Whether the server routes `method path` (parameters filled with sample values): anything but
/// the fallback's 404 and a 405 counts. A WebSocket route answers a plain GET with 4xx too,
/// never with the fallback.
async fn routed(server: &TestServer, method: &str, path: &str) -> bool {
    let concrete = path
        .replacen("{}", "port:1", 1)
        .replace("{}", "claim_01J0000000000000000000000");
    let method = Method::from_bytes(method.as_bytes()).expect("method");
    let response = server
        .http
        .request(method, server.url(&concrete))
        .header("content-type", "application/json")
        .body("{}")
        .send()
        .await
        .expect("request");
    let status = response.status().as_u16();
    let body: Value = response.json().await.unwrap_or(Value::Null);
    let fallback = status == 404
        && body["message"]
            .as_str()
            .is_some_and(|m| m.starts_with("no route for"));
    !(fallback || status == 405)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_document_is_openapi_3_1_and_lists_every_route() {
    let server = TestServer::start("homelab").await;
    let (status, spec) = server.get("/api/openapi.json").await;
    assert_eq!(status, 200, "{spec}");
    let version = spec["openapi"].as_str().expect("openapi field");
    assert!(version.starts_with("3.1"), "{version}");
    assert!(spec["info"]["title"].is_string());
    assert!(
        spec["components"]["securitySchemes"]["bearer"].is_object(),
        "{spec}"
    );

    let in_document = documented(&spec);
    assert!(!in_document.is_empty());

    // Every documented operation is served.
    let mut not_served = Vec::new();
    for (method, path) in &in_document {
        if !routed(&server, method, path).await {
            not_served.push(format!("{method} {path}"));
        }
    }
    assert!(
        not_served.is_empty(),
        "documented but not routed: {not_served:?}"
    );

    // Every route of API.md is served and documented.
    let mut missing = Vec::new();
    let mut undocumented = Vec::new();
    for &(method, path) in API_MD {
        let key = (method.to_string(), path.to_string());
        let is_routed = routed(&server, method, path).await;
        let is_documented = in_document.contains(&key);
        if is_routed && !is_documented {
            undocumented.push(format!("{method} {path}"));
        }
        if !(is_routed && is_documented) {
            missing.push(format!("{method} {path}"));
        }
    }
    assert!(
        undocumented.is_empty(),
        "routed but not in the document: {undocumented:?}"
    );
    assert!(missing.is_empty(), "API.md routes missing: {missing:?}");

    // Operations are tagged and documented with at least one response.
    for (path, item) in spec["paths"].as_object().expect("paths") {
        for (method, operation) in item.as_object().expect("item") {
            if operation.get("responses").is_none() {
                continue; // `parameters` and other non-operation keys
            }
            assert!(
                operation["responses"]
                    .as_object()
                    .is_some_and(|r| !r.is_empty()),
                "{method} {path} has no responses"
            );
            assert!(operation["tags"].is_array(), "{method} {path} has no tag");
        }
    }
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_dashboard_is_html_that_only_calls_documented_routes() {
    let server = TestServer::start("homelab").await;
    let response = server
        .http
        .get(server.url("/"))
        .send()
        .await
        .expect("GET /");
    assert_eq!(response.status().as_u16(), 200);
    let content_type = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    assert!(content_type.starts_with("text/html"), "{content_type}");
    let page = response.text().await.expect("page");
    assert!(
        page.contains("src=\"/dashboard/app.js\""),
        "the dashboard's entry module"
    );
    assert!(!page.contains("src=\"http"), "no external assets");
    // The page and every module it loads.
    let mut sources = vec![page];
    for file in [
        "app.js",
        "core.js",
        "graph.js",
        "views.js",
        "deployments.js",
    ] {
        let (status, text) = get_text(&server, &format!("/dashboard/{file}")).await;
        assert_eq!(status, 200, "{file}");
        sources.push(text);
    }
    let (_, spec) = server.get("/api/openapi.json").await;
    let in_document = documented(&spec);
    let mut called = 0;
    for source in &sources {
        for piece in source
            .split("api(\"")
            .skip(1)
            .chain(source.split("api(`").skip(1))
            .chain(source.split("pages(\"").skip(1))
        {
            // `api(`${path}…`)` is the pager calling on behalf of a call counted where it is made.
            if piece.starts_with("${") {
                continue;
            }
            let end = piece.find(['"', '`', '?']).unwrap_or(piece.len());
            let path = normalize(&template_to_braces(&piece[..end]));
            let call: String = piece.chars().take(160).collect();
            let call = call.split(");").next().unwrap_or_default();
            let method = if call.contains("method: \"POST\"") {
                "POST"
            } else {
                "GET"
            };
            assert!(
                in_document.contains(&(method.to_string(), path.clone())),
                "the dashboard calls {method} {path}, which is not in the document"
            );
            called += 1;
        }
    }
    assert!(called >= 12, "{called} calls found");
    server.stop().await;
}

/// openapi-spec-validator (and code generators) refuse two operations with one operationId;
/// `list` was used twice (resources and resource conflicts).
#[test]
fn every_operation_has_a_unique_operation_id() {
    let text = switchyard_server::openapi::document_json().expect("document");
    let spec: Value = serde_json::from_str(&text).expect("JSON");
    let mut seen = std::collections::BTreeMap::new();
    for (path, item) in spec["paths"].as_object().expect("paths") {
        for (method, operation) in item.as_object().expect("item") {
            if operation.get("responses").is_none() {
                continue;
            }
            let id = operation["operationId"]
                .as_str()
                .unwrap_or_else(|| panic!("{method} {path} has no operationId"))
                .to_string();
            if let Some(other) = seen.insert(id.clone(), format!("{method} {path}")) {
                panic!("operationId `{id}` is used by {other} and {method} {path}");
            }
        }
    }
    assert!(seen.len() > 30, "{} operations", seen.len());
}
