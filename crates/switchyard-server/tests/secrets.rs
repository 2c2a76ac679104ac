//! Secret values of the example fleets (`.env` values of secret-looking keys, passwords inside
//! connection URLs) never leave the server: not in any response, not in a WebSocket event
//! during a refresh, not in the operation log.

mod common;

use std::collections::BTreeSet;
use std::path::Path;
use std::time::Duration;

use common::TestServer;
use common::ws::{self, Next};
use serde_json::{Value, json};

const SECRET_WORDS: &[&str] = &[
    "PASSWORD", "PASSWD", "SECRET", "TOKEN", "API_KEY", "APIKEY", "ANON_KEY", "PRIVATE",
];

/// `scheme://user:password@host` → `password` (unless it merely repeats the user name).
fn url_password(value: &str) -> Option<String> {
    let rest = value.split_once("://")?.1;
    let userinfo = rest.split_once('@')?.0;
    let (user, password) = userinfo.split_once(':')?;
    (password != user).then(|| password.to_string())
}

/// Every secret value in the fleet's `.env*` files.
fn fleet_secrets(root: &Path, out: &mut BTreeSet<String>) {
    for entry in std::fs::read_dir(root).expect("read dir").flatten() {
        let path = entry.path();
        if path.is_dir() {
            if entry.file_name() != "node_modules" && entry.file_name() != ".git" {
                fleet_secrets(&path, out);
            }
            continue;
        }
        let name = entry.file_name().to_string_lossy().to_string();
        if !name.starts_with(".env") {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap_or_default();
        for line in text.lines() {
            let line = line.trim().trim_start_matches("export ");
            let Some((key, value)) = line.split_once('=') else {
                continue;
            };
            if key.starts_with('#') {
                continue;
            }
            let value = value.trim().trim_matches('"').trim_matches('\'');
            let upper = key.trim().to_ascii_uppercase();
            let candidate = if SECRET_WORDS.iter().any(|w| upper.contains(w)) {
                Some(value.to_string())
            } else {
                url_password(value)
            };
            if let Some(secret) = candidate
                && secret.len() >= 6
                && !secret.contains('$')
                && !secret.contains("://")
            {
                out.insert(secret);
            }
        }
    }
}

fn leaks<'a>(secrets: &'a BTreeSet<String>, text: &str) -> Vec<&'a str> {
    secrets
        .iter()
        .filter(|s| text.contains(s.as_str()))
        .map(String::as_str)
        .collect()
}

/// `diffed`: keys whose values the resolve dry-run must really rewrite (so the diffs are
/// checked with secrets in them, not vacuously).
/// `expect_events`: events the refresh after planting must publish.
async fn sweep(fleet: &str, diffed: &[&str], expect_events: &[&str], plant: impl FnOnce(&Path)) {
    let server = TestServer::start_with(fleet, |config| {
        config.operation_log = Some("operations.jsonl".into());
    })
    .await;
    let mut events = ws::connect(&server.base, "").await;
    plant(&server.fleet_root);
    let mut secrets = BTreeSet::new();
    fleet_secrets(&server.fleet_root, &mut secrets);
    assert!(!secrets.is_empty(), "{fleet} has no secrets to look for");

    let mut answers: Vec<(String, String)> = Vec::new();
    let (status, body) = server
        .post("/api/coordination/dependencies/refresh", json!({}))
        .await;
    assert_eq!(status, 200, "{body}");
    answers.push(("refresh".into(), body.to_string()));
    // Every event of the refresh (analysis.completed, repository.changed, conflicts, ...).
    let mut streamed = Vec::new();
    while let Next::Event(event) = events.next(Duration::from_secs(2)).await {
        streamed.push(event);
    }
    for event in expect_events {
        assert!(
            streamed.iter().any(|e| e["event"] == *event),
            "the refresh published no {event}: {streamed:?}"
        );
    }
    assert!(
        streamed.iter().any(|e| e["event"] == "analysis.completed"),
        "the refresh published no analysis.completed: {streamed:?}"
    );

    for path in [
        "/api/coordination/dependencies",
        "/api/coordination/dependencies?includeTransitive=false",
        "/api/coordination/repositories",
        "/api/coordination/resource-conflicts?limit=100",
        "/api/coordination/conflicts/history?limit=100",
        "/api/coordination/operations?limit=100",
        "/api/coordination/health/detailed",
        "/api/coordination/metrics",
        "/metrics",
    ] {
        let response = server.http.get(server.url(path)).send().await.expect("GET");
        assert!(
            response.status().is_success(),
            "{path}: {}",
            response.status()
        );
        answers.push((path.into(), response.text().await.unwrap_or_default()));
    }
    let (status, configuration) = server
        .post("/api/coordination/coordinate-configuration", json!({}))
        .await;
    assert_eq!(status, 200, "{configuration}");
    answers.push(("coordinate-configuration".into(), configuration.to_string()));
    // The plain value hashes of secrets (a guess could be confirmed against them) are not shown.
    let snapshot = server.state().snapshot();
    let plain: BTreeSet<&str> = snapshot
        .facts
        .iter()
        .flat_map(|f| f.env.iter())
        .filter(|e| {
            let upper = e.key.to_ascii_uppercase();
            e.display.contains("***") || SECRET_WORDS.iter().any(|w| upper.contains(w))
        })
        .map(|e| e.value_hash.as_str())
        .collect();
    for key in configuration["configurations"]
        .as_array()
        .into_iter()
        .flatten()
    {
        for value in key["values"].as_array().into_iter().flatten() {
            let hash = value["valueHash"].as_str().unwrap_or_default();
            assert!(
                !plain.contains(hash),
                "{}: the plain hash of a secret value is shown: {value}",
                key["key"]
            );
        }
    }

    // Dry-run diffs of every conflict (the env-drift ones rewrite values).
    let (_, conflicts) = server
        .get("/api/coordination/resource-conflicts?limit=100")
        .await;
    let ids: Vec<Value> = conflicts["conflicts"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|c| json!({ "id": c["id"] }))
        .collect();
    let strategies: BTreeSet<String> = conflicts["conflicts"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|c| c["strategies"].as_array().cloned().unwrap_or_default())
        .filter_map(|s| s["name"].as_str().map(str::to_string))
        .collect();
    for chunk in ids.chunks(100) {
        let (status, body) = server
            .post(
                "/api/coordination/resolve-conflicts",
                json!({ "conflicts": chunk, "dryRun": true }),
            )
            .await;
        assert_eq!(status, 200, "{body}");
        answers.push(("resolve dry-run".into(), body.to_string()));
        for strategy in &strategies {
            let (_, body) = server
                .post(
                    "/api/coordination/resolve-conflicts",
                    json!({ "conflicts": chunk, "dryRun": true, "resolutionStrategy": strategy }),
                )
                .await;
            answers.push((format!("resolve dry-run {strategy}"), body.to_string()));
        }
    }
    for key in diffed {
        let rewritten = answers.iter().any(|(what, text)| {
            what.starts_with("resolve") && text.contains("\"diff\"") && text.contains(key)
        });
        assert!(rewritten, "no dry-run diff touches {key}");
    }
    // Events published by the calls above, too.
    while let Next::Event(event) = events.next(Duration::from_millis(500)).await {
        streamed.push(event);
    }
    events.close().await;

    let mut found = Vec::new();
    for (what, text) in &answers {
        for secret in leaks(&secrets, text) {
            found.push(format!("{what} leaks `{secret}`"));
        }
    }
    for event in &streamed {
        for secret in leaks(&secrets, &event.to_string()) {
            found.push(format!("event {} leaks `{secret}`", event["event"]));
        }
    }
    // Read before `stop`, which removes the temporary folder; every line is written whole.
    let log_path = server.fleet_root.join("operations.jsonl");
    let log = std::fs::read_to_string(&log_path).unwrap_or_default();
    server.stop().await;
    assert!(
        !log.is_empty(),
        "no operation log at {}",
        log_path.display()
    );
    for (number, line) in log.lines().enumerate() {
        for secret in leaks(&secrets, line) {
            found.push(format!(
                "operation log line {} leaks `{secret}`",
                number + 1
            ));
        }
    }
    assert!(
        found.is_empty(),
        "{fleet}: secrets {secrets:?} leaked:\n{}",
        found.join("\n")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn codejoin_secrets_never_leave_the_server() {
    sweep("codejoin", &[], &[], |_| {}).await;
}

/// homelab keeps its secrets in files (`*_FILE`); plant real values: in two repositories, and
/// in `api/.env` (copied from `api/.env.example`, as a deployment does; the template itself never
/// drifts) right next to the `DATABASE_URL` line (itself with a password) that the
/// value-standardization diff rewrites, so the diff's removed and context lines carry secrets;
/// two different `REDIS_URL`s with passwords make a new conflict, so `conflict.detected` carries
/// them too.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn homelab_secrets_never_leave_the_server() {
    let diffed = ["DATABASE_URL", "API_TOKEN=***"];
    sweep("homelab", &diffed, &["conflict.detected"], |root| {
        let append = |repo: &str, text: &str| {
            let path = root.join(repo).join(".env");
            let mut existing = std::fs::read_to_string(&path).unwrap_or_default();
            existing.push_str(text);
            std::fs::write(&path, existing).expect("write .env");
        };
        append(
            "postgres",
            "POSTGRES_PASSWORD=Zq7-pg-password-one\nSESSION_SECRET=Zq7-session-one\nREDIS_URL=redis://:Zq7-redis-one@cache:6379/0\n",
        );
        append(
            "auth",
            "POSTGRES_PASSWORD=Zq7-pg-password-two\nSESSION_SECRET=Zq7-session-two\nREDIS_URL=redis://:Zq7-redis-two@cache:6379/0\n",
        );
        let example = root.join("api/.env.example");
        let text = std::fs::read_to_string(&example).expect("api/.env.example");
        let text = text
            .replace(
                "PORT=8080\n",
                "PORT=8080\nAPI_TOKEN=Zq7-api-token-next-door\n",
            )
            .replace("api:changeme@", "api:Zq7-url-password@");
        std::fs::write(root.join("api/.env"), text).expect("write api/.env");
    })
    .await;
}

/// Secrets a client sends in resource metadata, in every shape, never come back: not in the
/// answer to the write, not in lists, status or the operations list, not in any event (nor in
/// the `config.changed` event of a config-sync write), not in the operation log.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn secrets_sent_by_clients_never_come_back() {
    let server = TestServer::start_with("codejoin", |config| {
        config.operation_log = Some("operations.jsonl".into());
    })
    .await;
    let mut events = ws::connect(&server.base, "").await;
    let metadata = json!({
        "password": "sy-planted-meta-password",
        "dsn": "host=db port=5432 password=sy-planted-meta-libpq",
        "url": "postgres://app:sy-planted-meta-url@db:5432/app",
        "ado": "Server=db;User Id=sa;Password=sy-planted-meta-ado;",
        "header": "Authorization: Bearer sy-planted-meta-bearer-0123",
        "hook": "https://hooks.example/x?token=sy-planted-meta-query",
        "nested": { "apiToken": "sy-planted-meta-nested", "list": ["redis://:sy-planted-meta-list@r:6379"] },
    });
    let mut answers = Vec::new();
    let (status, body) = server
        .post(
            "/api/coordination/resources/register",
            json!({ "type": "custom", "identifier": "vault", "metadata": metadata }),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(
        body["resource"]["metadata"]["dsn"], "host=db port=5432 password=***",
        "{body}"
    );
    answers.push(body);
    for path in [
        "/api/coordination/resources?type=custom",
        "/api/coordination/resources/custom:vault/status",
        "/api/coordination/operations?limit=100",
    ] {
        let (status, body) = server.get(path).await;
        assert_eq!(status, 200, "{path}: {body}");
        answers.push(body);
    }
    let (status, body) = server
        .post(
            "/api/config-sync/set",
            json!({ "key": "settings", "value": metadata, "timestamp": 1_700_000_000_000_u64 }),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    // The cache hands its clients back what they stored (docs/CONFIG_SYNC.md): only its event
    // is checked.
    let (_, body) = server.post("/api/config-sync/sync", json!({})).await;
    assert_eq!(
        body["updates"][0]["value"]["password"], "sy-planted-meta-password",
        "{body}"
    );
    let mut streamed = Vec::new();
    while let Next::Event(event) = events.next(Duration::from_millis(800)).await {
        streamed.push(event);
    }
    events.close().await;
    assert!(
        streamed.iter().any(|e| e["event"] == "resource.registered"),
        "no resource.registered event: {streamed:?}"
    );
    let log_path = server.fleet_root.join("operations.jsonl");
    let log = std::fs::read_to_string(&log_path).unwrap_or_default();
    server.stop().await;
    let mut found = Vec::new();
    for text in answers
        .iter()
        .chain(streamed.iter())
        .map(Value::to_string)
        .chain(log.lines().map(str::to_string))
    {
        if let Some(at) = text.find("sy-planted") {
            found.push(text[at.saturating_sub(60)..(at + 40).min(text.len())].to_string());
        }
    }
    assert!(
        found.is_empty(),
        "client secrets came back:\n{}",
        found.join("\n")
    );
}
