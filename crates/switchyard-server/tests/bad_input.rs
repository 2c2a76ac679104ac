//! The bad-input sweep: every operation of `GET /api/openapi.json` is called with malformed
//! JSON, a JSON array instead of an object, wrong-typed and unknown-valued fields, and garbage
//! path ids and query values. No answer may be a 5xx, and every non-2xx answer must be the
//! API's JSON error model with an `X-Correlation-ID` header.

mod common;

use common::TestServer;
use reqwest::Method;
use serde_json::{Map, Value, json};

/// Follows `$ref: #/components/schemas/X` (one level is enough for request bodies).
fn resolve<'a>(spec: &'a Value, schema: &'a Value) -> &'a Value {
    match schema["$ref"].as_str() {
        Some(reference) => {
            let name = reference.rsplit('/').next().unwrap_or_default();
            resolve(spec, &spec["components"]["schemas"][name])
        }
        None => schema,
    }
}

/// The `type` of a schema (`["string","null"]` reads as `string`).
fn schema_type(schema: &Value) -> Option<String> {
    match &schema["type"] {
        Value::String(kind) => Some(kind.clone()),
        Value::Array(kinds) => kinds
            .iter()
            .filter_map(Value::as_str)
            .find(|k| *k != "null")
            .map(str::to_string),
        _ => None,
    }
}

/// A value that is certainly not of `schema`'s type.
fn wrong_value(schema: &Value) -> Value {
    match schema_type(schema).as_deref() {
        Some("string") => json!(12345),
        Some("integer") | Some("number") => json!("not a number"),
        Some("boolean") => json!("yes"),
        Some("array") => json!("not an array"),
        Some("object") => json!(7),
        _ => json!([[{}]]),
    }
}

/// A value of the right type whose content is nonsense (unknown names, out-of-range numbers).
fn garbage_value(schema: &Value) -> Value {
    match schema_type(schema).as_deref() {
        Some("string") => json!("no-such-thing/../../\u{0}\u{202e}"),
        Some("integer") => json!(-99_999_999_999i64),
        Some("number") => json!(-1e300),
        Some("boolean") => json!(true),
        Some("array") => json!(["no-such-repository", "", "x:y:z"]),
        Some("object") => json!({ "unexpected": [1, 2, 3] }),
        _ => json!(null),
    }
}

/// The request bodies to try for an operation with `body_schema` (resolved).
fn bodies(spec: &Value, body_schema: Option<&Value>) -> Vec<(String, Vec<u8>)> {
    let mut out: Vec<(String, Vec<u8>)> = vec![
        ("malformed".into(), b"{\"repositories\": [".to_vec()),
        ("trailing garbage".into(), b"{} }".to_vec()),
        ("array".into(), b"[{\"id\": 1}, 2]".to_vec()),
        ("string".into(), b"\"hello\"".to_vec()),
        ("null".into(), b"null".to_vec()),
        ("not utf-8".into(), vec![0xff, 0xfe, b'{', b'}']),
        ("empty object".into(), b"{}".to_vec()),
        (
            "deeply nested".into(),
            format!("{}{}", "[".repeat(2000), "]".repeat(2000)).into_bytes(),
        ),
    ];
    let Some(schema) = body_schema else {
        return out;
    };
    let properties = schema["properties"]
        .as_object()
        .cloned()
        .unwrap_or_default();
    for (name, property) in &properties {
        let property = resolve(spec, property);
        let mut body = Map::new();
        body.insert(name.clone(), wrong_value(property));
        out.push((
            format!("wrong type `{name}`"),
            Value::Object(body).to_string().into(),
        ));
    }
    let all_wrong: Map<String, Value> = properties
        .iter()
        .map(|(name, p)| (name.clone(), wrong_value(resolve(spec, p))))
        .collect();
    out.push((
        "all wrong types".into(),
        Value::Object(all_wrong).to_string().into(),
    ));
    let all_garbage: Map<String, Value> = properties
        .iter()
        .map(|(name, p)| (name.clone(), garbage_value(resolve(spec, p))))
        .collect();
    out.push((
        "garbage values".into(),
        Value::Object(all_garbage.clone()).to_string().into(),
    ));
    // Right types with extreme sizes: the largest integers, huge floats, long strings.
    let extreme: Map<String, Value> = properties
        .iter()
        .map(|(name, p)| {
            let value = match schema_type(resolve(spec, p)).as_deref() {
                Some("integer") => json!(u64::MAX),
                Some("number") => json!(1e308),
                Some("string") => json!("x".repeat(10_000)),
                _ => garbage_value(resolve(spec, p)),
            };
            (name.clone(), value)
        })
        .collect();
    out.push((
        "extreme values".into(),
        Value::Object(extreme).to_string().into(),
    ));
    let mut unknown = all_garbage;
    unknown.insert("noSuchField".into(), json!(1));
    out.push((
        "unknown field".into(),
        Value::Object(unknown).to_string().into(),
    ));
    out
}

const GARBAGE_IDS: &[&str] = &[
    "nope",
    "%00",
    "%ff%fe",
    "..%2F..%2Fetc%2Fpasswd",
    "port:99999999999999999999",
    "a%20b%3Cscript%3E",
    "%E2%80%AE",
];

/// Which ids to put into the path: garbage, and one very long id.
fn paths(template: &str) -> Vec<String> {
    if !template.contains('{') {
        return vec![template.to_string()];
    }
    let long = "x".repeat(5000);
    GARBAGE_IDS
        .iter()
        .copied()
        .chain(std::iter::once(long.as_str()))
        .map(|id| {
            template
                .split('/')
                .map(|part| if part.starts_with('{') { id } else { part })
                .collect::<Vec<_>>()
                .join("/")
        })
        .collect()
}

const GARBAGE_QUERY: &[&str] = &[
    "",
    "maybe",
    "-1",
    "1e999",
    "%zz",
    "18446744073709551616",
    "NaN",
    "no-such-repository,,x",
];

/// The query parameter names to try: the documented ones plus the API's common ones.
fn query_names(operation: &Value) -> Vec<String> {
    let mut names: Vec<String> = operation["parameters"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|p| p["in"] == "query")
        .filter_map(|p| p["name"].as_str().map(str::to_string))
        .collect();
    for common in ["limit", "offset", "repositories", "topics"] {
        if !names.iter().any(|n| n == common) {
            names.push(common.to_string());
        }
    }
    names
}

struct Failure(String);

async fn check(
    server: &TestServer,
    method: &Method,
    url: &str,
    body: Option<Vec<u8>>,
    what: &str,
    failures: &mut Vec<Failure>,
) {
    let mut request = server.http.request(method.clone(), server.url(url));
    if let Some(body) = body {
        request = request
            .header("content-type", "application/json")
            .body(body);
    }
    let response = match request.send().await {
        Ok(response) => response,
        Err(error) => {
            failures.push(Failure(format!(
                "{method} {url} ({what}): no answer: {error}"
            )));
            return;
        }
    };
    let status = response.status().as_u16();
    let correlation = response.headers().get("x-correlation-id").is_some();
    let text = response.text().await.unwrap_or_default();
    let body: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
    let short: String = text.chars().take(300).collect();
    if status >= 500 {
        failures.push(Failure(format!(
            "{method} {url} ({what}): {status} {short}"
        )));
        return;
    }
    if !correlation {
        failures.push(Failure(format!(
            "{method} {url} ({what}): {status} without X-Correlation-ID"
        )));
    }
    if (200..300).contains(&status) {
        if std::env::var("SWEEP_DEBUG").is_ok() {
            eprintln!("2xx: {method} {url} ({what}): {status} {short}");
        }
        return;
    }
    let model = body["success"] == false
        && body["error"].as_str().is_some_and(|e| !e.is_empty())
        && body["message"].as_str().is_some_and(|m| !m.is_empty())
        && body["requestId"].as_str().is_some_and(|r| !r.is_empty());
    if !model {
        failures.push(Failure(format!(
            "{method} {url} ({what}): {status} is not the error model: {short}"
        )));
    }
}

#[tokio::test]
async fn every_documented_route_answers_bad_input_with_a_json_4xx() {
    let server = TestServer::start_with("homelab", |config| {
        config.webhooks.secret = Some("sweep-secret".into());
    })
    .await;
    let (status, spec) = server.get("/api/openapi.json").await;
    assert_eq!(status, 200);
    let mut failures = Vec::new();
    // The error model is in the document, and every operation points its errors at it.
    let model = &spec["components"]["schemas"]["ErrorResponse"]["properties"];
    for field in [
        "success",
        "error",
        "message",
        "details",
        "requestId",
        "timestamp",
    ] {
        assert!(
            model.get(field).is_some(),
            "ErrorResponse lacks {field}: {model}"
        );
    }
    for (template, item) in spec["paths"].as_object().expect("paths") {
        for (method, operation) in item.as_object().expect("path item") {
            let reference =
                &operation["responses"]["default"]["content"]["application/json"]["schema"]["$ref"];
            if reference != "#/components/schemas/ErrorResponse" {
                failures.push(Failure(format!(
                    "{method} {template}: no default error response in the document"
                )));
            }
        }
    }
    let mut calls = 0usize;
    let paths_object = spec["paths"].as_object().expect("paths").clone();
    for (template, item) in &paths_object {
        for (method_name, operation) in item.as_object().expect("path item") {
            let Ok(method) = method_name.to_uppercase().parse::<Method>() else {
                continue;
            };
            if !matches!(
                method_name.as_str(),
                "get" | "post" | "put" | "patch" | "delete"
            ) {
                continue;
            }
            let body_schema = operation["requestBody"]["content"]["application/json"]["schema"]
                .as_object()
                .map(|_| {
                    resolve(
                        &spec,
                        &operation["requestBody"]["content"]["application/json"]["schema"],
                    )
                });
            for url in paths(template) {
                // Garbage in every query parameter, one at a time.
                for name in query_names(operation) {
                    for value in GARBAGE_QUERY {
                        let url = format!("{url}?{name}={value}");
                        check(&server, &method, &url, None, "query", &mut failures).await;
                        calls += 1;
                    }
                }
                // A broken query string as a whole.
                for query in ["?&&=&%", "?limit=5&limit=abc", "?a=%E2%82"] {
                    let url = format!("{url}{query}");
                    check(&server, &method, &url, None, "query string", &mut failures).await;
                    calls += 1;
                }
                if method == Method::GET || method == Method::DELETE {
                    continue;
                }
                for (what, body) in bodies(&spec, body_schema) {
                    check(&server, &method, &url, Some(body), &what, &mut failures).await;
                    calls += 1;
                }
            }
        }
    }
    // A few routes that are not documented at all, and wrong methods on documented ones.
    for (method, url) in [
        (Method::GET, "/api/coordination/no-such-route"),
        (Method::PUT, "/api/coordination/resources/register"),
        (Method::PATCH, "/api/coordination/dependencies"),
        (Method::DELETE, "/api/config-sync/set"),
        (Method::POST, "/health"),
    ] {
        check(&server, &method, url, None, "undocumented", &mut failures).await;
    }
    strict_query_checks(&server, &spec, &mut failures).await;
    let messages: Vec<String> = failures.into_iter().map(|f| f.0).collect();
    assert!(
        messages.is_empty(),
        "{} of {calls} calls failed:\n{}",
        messages.len(),
        messages.join("\n")
    );
    assert!(calls > 500, "the sweep made only {calls} calls");
    server.stop().await;
}

/// Documented query parameters: a non-number for a number, a non-boolean for a boolean and an
/// unknown repository name are refused (400 and 404), not silently ignored.
async fn strict_query_checks(server: &TestServer, spec: &Value, failures: &mut Vec<Failure>) {
    for (template, item) in spec["paths"].as_object().expect("paths") {
        if template.contains('{') {
            continue;
        }
        let Some(operation) = item.get("get") else {
            continue;
        };
        for parameter in operation["parameters"].as_array().into_iter().flatten() {
            if parameter["in"] != "query" {
                continue;
            }
            let name = parameter["name"].as_str().unwrap_or_default();
            let kind = schema_type(&parameter["schema"]);
            let (value, expected) = match (name, kind.as_deref()) {
                ("repositories" | "repository", _) => ("no-such-repository", 404),
                (_, Some("integer" | "number")) => ("maybe", 400),
                (_, Some("boolean")) => ("maybe", 400),
                _ => continue,
            };
            let url = format!("{template}?{name}={value}");
            let response = server.http.get(server.url(&url)).send().await;
            let Ok(response) = response else {
                failures.push(Failure(format!("GET {url}: no answer")));
                continue;
            };
            let status = response.status().as_u16();
            if status != expected {
                let text: String = response
                    .text()
                    .await
                    .unwrap_or_default()
                    .chars()
                    .take(200)
                    .collect();
                failures.push(Failure(format!(
                    "GET {url}: expected {expected}, got {status} {text}"
                )));
            }
        }
    }
}

/// Bodies that are right for a real resource and claim, with values at the edges: the largest
/// TTLs and capacities must not overflow into a 500.
#[tokio::test]
async fn extreme_numbers_on_real_resources_are_not_5xx() {
    let server = TestServer::start("homelab").await;
    let mut failures = Vec::new();
    let (status, body) = server
        .post(
            "/api/coordination/resources/register",
            json!({ "type": "port", "identifier": "9999" }),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let claim_path = "/api/coordination/resources/port:9999/claim";
    for ttl in [
        json!(u64::MAX),
        json!(u64::MAX / 1000),
        json!(0),
        json!(i64::MAX),
    ] {
        let body = json!({ "repository": "api", "operation": { "type": "read", "ttl": ttl } });
        check(
            &server,
            &Method::POST,
            claim_path,
            Some(body.to_string().into_bytes()),
            &format!("claim ttl {ttl}"),
            &mut failures,
        )
        .await;
    }
    let (status, claim) = server
        .post(
            claim_path,
            json!({ "repository": "api", "operation": { "type": "read", "ttl": 60 } }),
        )
        .await;
    assert_eq!(status, 201, "{claim}");
    let claim_id = claim["claimId"].as_str().expect("claim id");
    let renew = format!("/api/coordination/resources/port:9999/claims/{claim_id}/renew");
    for ttl in [
        json!(u64::MAX),
        json!(i64::MAX),
        json!(0),
        json!(-1),
        json!(1.5),
    ] {
        let body = json!({ "ttl": ttl }).to_string().into_bytes();
        let what = format!("renew ttl {ttl}");
        check(
            &server,
            &Method::POST,
            &renew,
            Some(body),
            &what,
            &mut failures,
        )
        .await;
    }
    for capacity in [json!(u32::MAX), json!(u64::MAX), json!(0), json!(-1)] {
        let body = json!({ "type": "port", "identifier": "9999", "capacity": capacity });
        check(
            &server,
            &Method::POST,
            "/api/coordination/resources/register",
            Some(body.to_string().into_bytes()),
            &format!("capacity {capacity}"),
            &mut failures,
        )
        .await;
    }
    let plan = "/api/coordination/coordinate-deployment";
    for timeout in [json!(u64::MAX), json!(0), json!(86_401), json!(1e308)] {
        let body = json!({ "repositories": ["api"], "options": { "timeout": timeout, "maxParallel": timeout } });
        let what = format!("plan timeout {timeout}");
        check(
            &server,
            &Method::POST,
            plan,
            Some(body.to_string().into_bytes()),
            &what,
            &mut failures,
        )
        .await;
    }
    let messages: Vec<String> = failures.into_iter().map(|f| f.0).collect();
    assert!(messages.is_empty(), "{}", messages.join("\n"));
    server.stop().await;
}

/// With tokens configured, every documented operation that is not public answers a missing or
/// wrong token with 401 and a read-only token on a write with 403, in the error model with a
/// correlation id (before any body or id is looked at).
#[tokio::test]
async fn every_protected_route_refuses_bad_tokens_with_the_error_model() {
    use switchyard_server::config::{Scope, TokenConfig};
    const READ: &str = "sweep-read-token-0123456789";
    let server = TestServer::start_with("homelab", |config| {
        config.tokens = vec![TokenConfig {
            token: READ.into(),
            scopes: vec![Scope::Read],
            name: None,
        }];
    })
    .await;
    let (status, spec) = server.get("/api/openapi.json").await;
    assert_eq!(status, 200);
    let public = ["/health", "/api/webhooks/github", "/", "/api/openapi.json"];
    let mut failures = Vec::new();
    let mut checked = 0;
    for (template, item) in spec["paths"].as_object().expect("paths") {
        if public.contains(&template.as_str()) {
            continue;
        }
        let url = template
            .split('/')
            .map(|part| if part.starts_with('{') { "nope" } else { part })
            .collect::<Vec<_>>()
            .join("/");
        for method_name in item.as_object().expect("path item").keys() {
            let Ok(method) = method_name.to_uppercase().parse::<Method>() else {
                continue;
            };
            let mut cases: Vec<(Option<String>, u16)> = vec![
                (None, 401),
                (Some("Bearer not-a-token-at-all-000000".into()), 401),
                (Some(format!("Basic {READ}")), 401),
                (Some(format!("Bearer {READ}x")), 401),
            ];
            if method != Method::GET {
                cases.push((Some(format!("Bearer {READ}")), 403));
            }
            for (authorization, expected) in cases {
                let mut request = server
                    .http
                    .request(method.clone(), server.url(&url))
                    .header("content-type", "application/json")
                    .body("{");
                if let Some(value) = &authorization {
                    request = request.header("authorization", value);
                }
                let response = request.send().await.expect("request");
                let status = response.status().as_u16();
                let correlation = response.headers().get("x-correlation-id").is_some();
                let body: Value = serde_json::from_str(&response.text().await.unwrap_or_default())
                    .unwrap_or(Value::Null);
                checked += 1;
                let code = if expected == 401 {
                    "UNAUTHORIZED"
                } else {
                    "FORBIDDEN"
                };
                if status != expected
                    || !correlation
                    || body["success"] != false
                    || body["error"] != code
                    || !body["requestId"].is_string()
                {
                    failures.push(format!(
                        "{method} {url} with {authorization:?}: {status} (expected {expected}) {body}"
                    ));
                }
            }
        }
    }
    assert!(checked > 100, "only {checked} calls");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    server.stop().await;
}

/// Every documented operation that takes a body answers one over the configured limit with 413
/// `PAYLOAD_TOO_LARGE` (the webhook too, before its signature is checked).
#[tokio::test]
async fn every_body_over_the_limit_is_a_json_413() {
    let server = TestServer::start_with("homelab", |config| {
        config.body_limit_bytes = 4096;
        config.webhooks.secret = Some("sweep-secret".into());
    })
    .await;
    let (_, spec) = server.get("/api/openapi.json").await;
    let big = format!("{{\"repositories\": [\"{}\"]}}", "x".repeat(8192));
    let mut failures = Vec::new();
    for (template, item) in spec["paths"].as_object().expect("paths") {
        let Some(operation) = item.get("post") else {
            continue;
        };
        if operation.get("requestBody").is_none() {
            continue;
        }
        let url = template
            .split('/')
            .map(|part| if part.starts_with('{') { "nope" } else { part })
            .collect::<Vec<_>>()
            .join("/");
        let response = server
            .http
            .post(server.url(&url))
            .header("content-type", "application/json")
            .header("x-github-event", "push")
            .header("x-hub-signature-256", format!("sha256={}", "0".repeat(64)))
            .body(big.clone())
            .send()
            .await
            .expect("POST");
        let status = response.status().as_u16();
        let correlation = response.headers().get("x-correlation-id").is_some();
        let body: Value =
            serde_json::from_str(&response.text().await.unwrap_or_default()).unwrap_or(Value::Null);
        if status != 413 || body["error"] != "PAYLOAD_TOO_LARGE" || !correlation {
            failures.push(format!("POST {url}: {status} {body}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    server.stop().await;
}
