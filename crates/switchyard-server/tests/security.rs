//! The layers every request passes, on a real server: bearer tokens with scopes, the refusal to
//! listen publicly without tokens, CORS allow-list and preflight, the browser checks (Host,
//! Origin, JSON bodies), rate limit, body limit, `X-Correlation-ID`, and the JSON error model on
//! every 4xx.

mod common;

use common::{TestServer, assert_error};
use reqwest::{Method, RequestBuilder};
use serde_json::{Value, json};
use switchyard_server::config::{Scope, TokenConfig};
use switchyard_server::{ServeError, ServeOptions, ServerConfig};

const READ: &str = "read-token-0123456789";
const WRITE: &str = "write-token-0123456789";
const ADMIN: &str = "admin-token-0123456789";

fn with_tokens(config: &mut ServerConfig) {
    let token = |token: &str, scopes: Vec<Scope>| TokenConfig {
        token: token.into(),
        scopes,
        name: None,
    };
    config.tokens = vec![
        token(READ, vec![Scope::Read]),
        token(WRITE, vec![Scope::Read, Scope::Write]),
        token(ADMIN, vec![Scope::Admin]),
    ];
}

async fn send(request: RequestBuilder) -> (u16, reqwest::header::HeaderMap, Value) {
    let response = request.send().await.expect("request");
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let text = response.text().await.unwrap_or_default();
    (
        status,
        headers,
        serde_json::from_str(&text).unwrap_or(Value::Null),
    )
}

fn header<'a>(headers: &'a reqwest::header::HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bearer_tokens_and_scopes() {
    let server = TestServer::start_with("homelab", with_tokens).await;
    let get = |path: &str| server.http.get(server.url(path));
    let post = |path: &str, body: Value| server.http.post(server.url(path)).json(&body);
    let register = json!({ "type": "port", "identifier": "7300" });

    let (status, _, body) = send(get("/api/coordination/alerts")).await;
    assert_error(status, &body, 401, "UNAUTHORIZED");
    let (status, _, body) =
        send(get("/api/coordination/alerts").bearer_auth("wrong-token-0123456789")).await;
    assert_error(status, &body, 401, "UNAUTHORIZED");
    let prefix = &READ[..READ.len() - 1];
    let (status, _, body) = send(get("/api/coordination/alerts").bearer_auth(prefix)).await;
    assert_error(status, &body, 401, "UNAUTHORIZED");
    let (status, _, body) = send(get("/api/coordination/alerts").basic_auth("u", Some(READ))).await;
    assert_error(status, &body, 401, "UNAUTHORIZED");

    for token in [READ, WRITE, ADMIN] {
        let (status, _, body) = send(get("/api/coordination/alerts").bearer_auth(token)).await;
        assert_eq!(status, 200, "{token}: {body}");
    }
    let (status, _, body) = send(get(&format!(
        "/api/coordination/alerts?access_token={READ}"
    )))
    .await;
    assert_eq!(
        status, 200,
        "token in the query (WebSocket clients): {body}"
    );

    // Writes need `write`.
    let (status, _, body) =
        send(post("/api/coordination/resources/register", register.clone()).bearer_auth(READ))
            .await;
    assert_error(status, &body, 403, "FORBIDDEN");
    let (status, _, body) =
        send(post("/api/coordination/resources/register", register.clone()).bearer_auth(WRITE))
            .await;
    assert_eq!(status, 201, "{body}");
    let (status, _, body) =
        send(post("/api/coordination/resources/register", register).bearer_auth(ADMIN)).await;
    assert_eq!(status, 200, "admin includes write: {body}");
    let (status, _, body) = send(
        server
            .http
            .delete(server.url("/api/coordination/resources/port:7300"))
            .bearer_auth(READ),
    )
    .await;
    assert_error(status, &body, 403, "FORBIDDEN");

    // Housekeeping needs `admin`.
    for token in [READ, WRITE] {
        let (status, _, body) =
            send(post("/api/coordination/cleanup", json!({})).bearer_auth(token)).await;
        assert_error(status, &body, 403, "FORBIDDEN");
    }
    let (status, _, body) =
        send(post("/api/coordination/cleanup", json!({})).bearer_auth(ADMIN)).await;
    assert_eq!(status, 200, "{body}");

    // Public: load-balancer health, the OpenAPI document and the dashboard shell.
    for path in ["/health", "/api/openapi.json", "/"] {
        let (status, _, _) = send(get(path)).await;
        assert_eq!(status, 200, "{path} is public");
    }
    // Everything else needs a token, the scrape endpoint and the detailed health included.
    for path in [
        "/metrics",
        "/api/coordination/health/detailed",
        "/api/coordination/health",
    ] {
        let (status, _, body) = send(get(path)).await;
        assert_error(status, &body, 401, "UNAUTHORIZED");
    }
    server.stop().await;
}

fn fleet(dir: &std::path::Path) -> switchyard_extract::fleet::Fleet {
    let root = common::copy_fleet("homelab", dir);
    switchyard_extract::fleet::discover(&root).expect("fleet")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_public_bind_without_tokens_is_refused_unless_insecure() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut config = common::test_config();
    config.bind = "0.0.0.0:0".parse().expect("address");
    config.store = Some(format!("sqlite://{}", dir.path().join("s.db").display()));
    let refused =
        switchyard_server::start(ServeOptions::new(config.clone(), fleet(dir.path()))).await;
    match refused {
        Err(ServeError::Config(e)) => {
            let message = e.to_string();
            assert!(
                message.contains("refusing to listen on 0.0.0.0"),
                "{message}"
            );
            assert!(message.contains("--insecure"), "{message}");
        }
        Err(other) => panic!("refused for the wrong reason: {other}"),
        Ok(running) => {
            running.shutdown().await;
            panic!("listened publicly without tokens");
        }
    }
    // With --insecure, or with tokens, the same settings are accepted (checked without
    // actually listening on every interface).
    let mut insecure = config.clone();
    insecure.insecure = true;
    assert!(insecure.validate().is_ok());
    let mut tokens = config;
    with_tokens(&mut tokens);
    assert!(tokens.validate().is_ok());
    // Loopback without tokens is fine (the tests' own servers).
    assert!(common::test_config().validate().is_ok());
}

fn with_cors(config: &mut ServerConfig) {
    config.cors.origins = vec!["https://app.example.com".into()];
    config.cors.origin_patterns = vec!["https://*.example.org".into()];
    with_tokens(config);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cors_allows_listed_origins_and_answers_preflight() {
    let server = TestServer::start_with("homelab", with_cors).await;
    let get = |origin: &str| {
        server
            .http
            .get(server.url("/api/coordination/alerts"))
            .bearer_auth(READ)
            .header("origin", origin)
    };
    for origin in ["https://app.example.com", "https://dash.example.org"] {
        let (status, headers, _) = send(get(origin)).await;
        assert_eq!(status, 200);
        assert_eq!(
            header(&headers, "access-control-allow-origin"),
            Some(origin)
        );
        assert_eq!(
            header(&headers, "access-control-allow-credentials"),
            Some("true")
        );
        let exposed = header(&headers, "access-control-expose-headers").unwrap_or("");
        assert!(exposed.contains("x-correlation-id"), "{exposed}");
    }
    for origin in [
        "https://evil.com",
        "https://example.org",
        "https://app.example.com.evil.net",
        "https://a.b.example.org",
    ] {
        let (status, headers, body) = send(get(origin)).await;
        assert_error(status, &body, 403, "FORBIDDEN");
        assert_eq!(
            header(&headers, "access-control-allow-origin"),
            None,
            "{origin}"
        );
        assert_eq!(header(&headers, "access-control-allow-credentials"), None);
    }
    // Error answers carry the CORS headers too, so a browser can read them.
    let (status, headers, body) = send(
        server
            .http
            .get(server.url("/api/coordination/alerts"))
            .header("origin", "https://app.example.com"),
    )
    .await;
    assert_error(status, &body, 401, "UNAUTHORIZED");
    assert_eq!(
        header(&headers, "access-control-allow-origin"),
        Some("https://app.example.com")
    );

    // Preflight: no token needed, methods, headers and max-age.
    let preflight = |origin: &str| {
        server
            .http
            .request(
                Method::OPTIONS,
                server.url("/api/coordination/resources/register"),
            )
            .header("origin", origin)
            .header("access-control-request-method", "POST")
            .header(
                "access-control-request-headers",
                "authorization,content-type",
            )
    };
    let (status, headers, _) = send(preflight("https://dash.example.org")).await;
    assert!(status == 200 || status == 204, "{status}");
    assert_eq!(
        header(&headers, "access-control-allow-origin"),
        Some("https://dash.example.org")
    );
    let methods = header(&headers, "access-control-allow-methods").unwrap_or("");
    for method in ["GET", "POST", "DELETE"] {
        assert!(methods.contains(method), "{methods}");
    }
    let allowed = header(&headers, "access-control-allow-headers")
        .unwrap_or("")
        .to_lowercase();
    assert!(
        allowed.contains("authorization") && allowed.contains("content-type"),
        "{allowed}"
    );
    assert_eq!(header(&headers, "access-control-max-age"), Some("600"));
    let (_, headers, _) = send(preflight("https://evil.com")).await;
    assert_eq!(header(&headers, "access-control-allow-origin"), None);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_request_after_the_burst_is_rate_limited() {
    // One token per 100 s: the refill cannot make the test flaky on a slow machine.
    let server = TestServer::start_with("homelab", |c| {
        c.rate_limit.per_second = 0.01;
        c.rate_limit.burst = 3;
    })
    .await;
    for _ in 0..3 {
        let (status, body) = server.get("/api/coordination/alerts").await;
        assert_eq!(status, 200, "{body}");
    }
    let (status, headers, body) = send(
        server
            .http
            .get(server.url("/api/coordination/alerts"))
            .header("x-correlation-id", "burst-4"),
    )
    .await;
    assert_error(status, &body, 429, "RATE_LIMITED");
    let retry: u64 = header(&headers, "retry-after")
        .and_then(|v| v.parse().ok())
        .expect("Retry-After in whole seconds");
    assert!((1..=100).contains(&retry), "{retry}");
    assert_eq!(body["details"]["retryAfterSeconds"], retry);
    assert_eq!(body["requestId"], "burst-4");
    assert_eq!(header(&headers, "x-correlation-id"), Some("burst-4"));
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_body_above_the_limit_is_413_json() {
    let server = TestServer::start_with("homelab", |c| c.body_limit_bytes = 1024).await;
    let padding = "x".repeat(2000);
    let big = json!({ "type": "port", "identifier": "7400", "metadata": { "padding": padding } });
    let (status, body) = server
        .post("/api/coordination/resources/register", big)
        .await;
    assert_error(status, &body, 413, "PAYLOAD_TOO_LARGE");
    let small = json!({ "type": "port", "identifier": "7400", "metadata": { "note": "ok" } });
    let (status, body) = server
        .post("/api/coordination/resources/register", small)
        .await;
    assert_eq!(status, 201, "{body}");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn correlation_ids_are_echoed_or_generated_and_every_4xx_is_json() {
    let server = TestServer::start("homelab").await;
    let get = |path: &str| server.http.get(server.url(path));

    let (status, headers, _) =
        send(get("/api/coordination/alerts").header("x-correlation-id", "given-123")).await;
    assert_eq!(status, 200);
    assert_eq!(header(&headers, "x-correlation-id"), Some("given-123"));
    let (status, headers, body) =
        send(get("/api/coordination/alerts?severity=x").header("x-correlation-id", "given-456"))
            .await;
    assert_error(status, &body, 400, "VALIDATION_ERROR");
    assert_eq!(header(&headers, "x-correlation-id"), Some("given-456"));
    assert_eq!(body["requestId"], "given-456");

    let (_, headers, _) = send(get("/health")).await;
    let generated = header(&headers, "x-correlation-id").expect("generated id");
    assert!(generated.starts_with("req_"), "{generated}");
    let (status, headers, body) = send(get("/api/coordination/operations?limit=0")).await;
    assert_error(status, &body, 400, "VALIDATION_ERROR");
    assert_eq!(
        Some(body["requestId"].as_str().unwrap_or("")),
        header(&headers, "x-correlation-id")
    );
    // An unusable id (spaces, too long) is replaced.
    let (_, headers, _) = send(get("/health").header("x-correlation-id", "two words")).await;
    assert!(header(&headers, "x-correlation-id").is_some_and(|id| id.starts_with("req_")));

    // 4xx answers that axum produces itself are JSON in the error model too.
    let cases: Vec<(RequestBuilder, u16, &str)> = vec![
        (get("/no/such/route"), 404, "NOT_FOUND"),
        (
            server.http.delete(server.url("/api/coordination/alerts")),
            405,
            "METHOD_NOT_ALLOWED",
        ),
        (
            server.http.put(server.url("/api/coordination/cleanup")),
            405,
            "METHOD_NOT_ALLOWED",
        ),
        (
            get("/api/coordination/resources/port%FF/status"),
            400,
            "VALIDATION_ERROR",
        ),
        (
            get("/api/coordination/operations?status=%zz"),
            400,
            "VALIDATION_ERROR",
        ),
        (
            server
                .http
                .post(server.url("/api/coordination/resources/register"))
                .header("content-type", "application/json")
                .body("{not json"),
            400,
            "VALIDATION_ERROR",
        ),
    ];
    for (request, expected, code) in cases {
        let (status, headers, body) = send(request.header("x-correlation-id", "case")).await;
        assert_error(status, &body, expected, code);
        assert_eq!(body["requestId"], "case", "{body}");
        assert_eq!(
            body["timestamp"], "2026-01-01T00:00:00.000Z",
            "the server's clock: {body}"
        );
        assert!(
            header(&headers, "content-type").is_some_and(|t| t.starts_with("application/json")),
            "{headers:?}"
        );
        assert_eq!(header(&headers, "x-correlation-id"), Some("case"));
    }
    server.stop().await;
}

/// What a page in the user's browser can send to the default server (loopback, no tokens):
/// a "simple" cross-site POST (text/plain, no preflight), and, after DNS rebinding, requests
/// whose Host is the page's own name. None of them reach a handler.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_web_page_cannot_drive_the_default_server() {
    let server = TestServer::start("homelab").await;
    let register = r#"{"type":"port","identifier":"7311"}"#;
    let post = |content_type: Option<&str>, origin: Option<&str>| {
        let mut request = server
            .http
            .post(server.url("/api/coordination/resources/register"))
            .body(register);
        if let Some(content_type) = content_type {
            request = request.header("content-type", content_type);
        }
        if let Some(origin) = origin {
            request = request.header("origin", origin);
        }
        request
    };
    // The browser's simple request: foreign Origin, text/plain.
    let (status, headers, body) = send(post(
        Some("text/plain;charset=UTF-8"),
        Some("https://evil.example"),
    ))
    .await;
    assert_error(status, &body, 403, "FORBIDDEN");
    assert_eq!(body["details"]["origin"], "https://evil.example", "{body}");
    assert_eq!(header(&headers, "access-control-allow-origin"), None);
    // A foreign Origin is refused whatever the content type and method.
    let (status, _, body) =
        send(post(Some("application/json"), Some("https://evil.example"))).await;
    assert_error(status, &body, 403, "FORBIDDEN");
    let (status, _, body) = send(post(Some("application/json"), Some("null"))).await;
    assert_error(status, &body, 403, "FORBIDDEN");
    let (status, _, body) = send(
        server
            .http
            .get(server.url("/api/coordination/dependencies"))
            .header("origin", "https://evil.example"),
    )
    .await;
    assert_error(status, &body, 403, "FORBIDDEN");
    // Bodies that are not JSON are refused, with or without an Origin.
    for content_type in [
        Some("text/plain"),
        Some("application/x-www-form-urlencoded"),
        Some("multipart/form-data; boundary=x"),
        None,
    ] {
        let (status, _, body) = send(post(content_type, None)).await;
        assert_error(status, &body, 415, "UNSUPPORTED_MEDIA_TYPE");
    }
    let (status, body) = server
        .get("/api/coordination/resources/port:7311/status")
        .await;
    assert_error(status, &body, 404, "NOT_FOUND");
    // The server's own pages (same origin) and tools without an Origin still work.
    let own = server.base.clone();
    let (status, _, body) = send(post(Some("application/json"), Some(&own))).await;
    assert_eq!(status, 201, "same origin: {body}");
    let (status, _, body) = send(
        server
            .http
            .post(server.url("/api/coordination/cleanup"))
            .header("origin", own.as_str()),
    )
    .await;
    assert_eq!(
        status, 200,
        "a POST without a body needs no content type: {body}"
    );

    // DNS rebinding: the page's host name now points at 127.0.0.1, so the browser connects
    // here but sends its own Host.
    let port = server.server.as_ref().expect("running").address.port();
    for host in [
        "evil.example".to_string(),
        format!("rebind.evil.example:{port}"),
        format!("127.0.0.1.nip.io:{port}"),
        format!("localhost.evil.example:{port}"),
    ] {
        let (status, _, body) = send(
            server
                .http
                .get(server.url("/api/coordination/dependencies"))
                .header("host", host.as_str()),
        )
        .await;
        assert_error(status, &body, 421, "MISDIRECTED_REQUEST");
        assert_eq!(body["details"]["host"], host.as_str(), "{body}");
    }
    for host in [
        format!("127.0.0.1:{port}"),
        format!("localhost:{port}"),
        "localhost".to_string(),
    ] {
        let (status, _, body) = send(
            server
                .http
                .get(server.url("/api/coordination/dependencies"))
                .header("host", host.as_str()),
        )
        .await;
        assert_eq!(status, 200, "{host}: {body}");
    }
    server.stop().await;
}

/// Names of the server listed in `allowed_hosts` pass the Host check; listed CORS origins pass
/// the Origin check but still have to send JSON; the signed webhook and the Socket.IO transport
/// keep their own content types.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn allowed_hosts_cors_origins_and_exempt_routes() {
    let server = TestServer::start_with("homelab", |c| {
        c.allowed_hosts = vec!["Switchyard.Example.NET".into()];
        c.cors.origins = vec!["https://app.example.com".into()];
    })
    .await;
    let get = |host: &str| {
        server
            .http
            .get(server.url("/api/coordination/dependencies"))
            .header("host", host)
    };
    let (status, _, body) = send(get("switchyard.example.net:443")).await;
    assert_eq!(status, 200, "{body}");
    let (status, _, body) = send(get("other.example.net")).await;
    assert_error(status, &body, 421, "MISDIRECTED_REQUEST");

    let post = |content_type: &str| {
        server
            .http
            .post(server.url("/api/coordination/resources/register"))
            .header("origin", "https://app.example.com")
            .header("content-type", content_type)
            .body(r#"{"type":"port","identifier":"7312"}"#)
    };
    let (status, _, body) = send(post("text/plain")).await;
    assert_error(status, &body, 415, "UNSUPPORTED_MEDIA_TYPE");
    let (status, headers, body) = send(post("application/json; charset=utf-8")).await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(
        header(&headers, "access-control-allow-origin"),
        Some("https://app.example.com")
    );

    // The webhook is signed, not JSON-typed: a wrong signature is its 401, not a 415.
    let (status, _, body) = send(
        server
            .http
            .post(server.url("/api/webhooks/github"))
            .header("content-type", "application/x-www-form-urlencoded")
            .header("x-github-event", "ping")
            .body("payload=%7B%7D"),
    )
    .await;
    assert_error(status, &body, 401, "UNAUTHORIZED");
    // Socket.IO's polling transport POSTs text/plain.
    let (status, _, body) = send(
        server
            .http
            .post(server.url("/socket.io/?EIO=4&transport=polling&sid=unknown"))
            .header("content-type", "text/plain;charset=UTF-8")
            .body("40"),
    )
    .await;
    assert_ne!(status, 415, "{body}");
    server.stop().await;
}
