//! Conflicts over HTTP on `examples/fleets/conflicts` (one planted conflict of every type):
//! listing and filters, bad input, dry-run diffs, applying a fix to the temp fleet copy and
//! seeing the conflict disappear, error items, configuration coordination with secrets
//! redacted, and the paginated conflict history.

mod common;

use common::{TestServer, assert_error};
use serde_json::{Value, json};

const LIST: &str = "/api/coordination/resource-conflicts";
const RESOLVE: &str = "/api/coordination/resolve-conflicts";
const CONFIGURATION: &str = "/api/coordination/coordinate-configuration";
const HISTORY: &str = "/api/coordination/conflicts/history";

fn conflicts(body: &Value) -> &Vec<Value> {
    body["conflicts"].as_array().expect("conflicts array")
}

fn types(body: &Value) -> Vec<String> {
    let mut out: Vec<String> = conflicts(body)
        .iter()
        .filter_map(|c| c["type"].as_str().map(str::to_string))
        .collect();
    out.sort();
    out
}

fn id_of(body: &Value, kind: &str) -> String {
    conflicts(body)
        .iter()
        .find(|c| c["type"] == kind)
        .and_then(|c| c["id"].as_str())
        .unwrap_or_else(|| panic!("no {kind} conflict in {body}"))
        .to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn list_and_filter_conflicts() {
    let server = TestServer::start("conflicts").await;

    let (status, all) = server.get(LIST).await;
    assert_eq!(status, 200, "{all}");
    assert_eq!(all["summary"]["total"], 11, "{all}");
    assert_eq!(
        types(&all),
        [
            "container_name",
            "cors_missing_origin",
            "dangling_package",
            "domain",
            "env_drift",
            "network",
            "port",
            "shared_dependency_version",
            "unreachable_url",
            "volume",
            "websocket_mismatch"
        ]
    );
    assert_eq!(all["summary"]["byType"]["port"], 1);
    assert!(all["summary"]["analyzedAt"].is_string());
    let port = conflicts(&all)
        .iter()
        .find(|c| c["type"] == "port")
        .expect("port conflict");
    assert!(
        port["id"]
            .as_str()
            .is_some_and(|id| id.starts_with("port-"))
    );
    assert_eq!(port["repositories"], json!(["media", "monitoring"]));
    let places: Vec<&str> = port["occurrences"]
        .as_array()
        .expect("occurrences")
        .iter()
        .filter_map(|o| o["evidence"].as_str())
        .collect();
    assert!(
        places
            .iter()
            .any(|p| p.starts_with("monitoring/docker-compose.yml:29:")),
        "{places:?}"
    );
    assert_eq!(
        port["occurrences"][0]["location"]["path"],
        "docker-compose.yml"
    );
    assert_eq!(port["strategies"][0]["name"], "port-reassignment", "{port}");
    assert_eq!(port["strategies"][0]["automatic"], true);

    let (status, body) = server.get(&format!("{LIST}?types=port,domain")).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(types(&body), ["domain", "port"]);
    assert_eq!(body["summary"]["total"], 2);

    let (status, body) = server.get(&format!("{LIST}?repositories=api")).await;
    assert_eq!(status, 200, "{body}");
    let list = conflicts(&body);
    assert!(!list.is_empty());
    assert!(
        list.iter().all(|c| c["repositories"]
            .as_array()
            .is_some_and(|r| r.contains(&json!("api")))),
        "{body}"
    );
    assert!(types(&body).contains(&"env_drift".to_string()));
    assert!(!types(&body).contains(&"port".to_string()));

    let (status, body) = server.get(&format!("{LIST}?repositories=pi-dns")).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body["summary"]["total"], 0,
        "the look-alikes on pi are no conflicts"
    );

    let (status, body) = server.get(&format!("{LIST}?environment=staging")).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["summary"]["total"], 0);

    let (status, body) = server.get(&format!("{LIST}?types=port,bogus")).await;
    assert_error(status, &body, 400, "VALIDATION_ERROR");
    assert_eq!(
        body["details"]["validTypes"].as_array().map(Vec::len),
        Some(11),
        "{body}"
    );

    let (status, body) = server.get(&format!("{LIST}?repositories=api,nope")).await;
    assert_error(status, &body, 404, "NOT_FOUND");
    assert_eq!(body["details"]["unknownRepositories"], json!(["nope"]));

    // Every check is a monitored conflict-check operation with its conflict count.
    let (status, ops) = server
        .get("/api/coordination/operations?type=conflict_check&limit=100")
        .await;
    assert_eq!(status, 200, "{ops}");
    let counts: Vec<u64> = ops["operations"]
        .as_array()
        .expect("operations")
        .iter()
        .filter_map(|o| o["conflicts"].as_u64())
        .collect();
    assert!(counts.contains(&11) && counts.contains(&2), "{ops}");

    // Every route is in the OpenAPI document under its tag.
    let (status, spec) = server.get("/api/openapi.json").await;
    assert_eq!(status, 200);
    for path in [LIST, RESOLVE, CONFIGURATION, HISTORY] {
        let entry = &spec["paths"][path];
        let op = entry.get("get").or_else(|| entry.get("post"));
        assert_eq!(
            op.map(|o| o["tags"][0].clone()),
            Some(json!("conflicts")),
            "{path}"
        );
    }
    for path in [
        "/api/config-sync/sync",
        "/api/config-sync/set",
        "/api/config-sync/remove",
        "/api/config-sync/clear",
    ] {
        assert_eq!(
            spec["paths"][path]["post"]["tags"][0], "config-sync",
            "{path}"
        );
    }

    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resolve_dry_run_apply_and_error_items() {
    let server = TestServer::start("conflicts").await;
    let compose = server.fleet_root.join("monitoring/docker-compose.yml");
    let original = std::fs::read_to_string(&compose).expect("compose");
    let (_, all) = server.get(LIST).await;
    let port = id_of(&all, "port");
    let domain = id_of(&all, "domain");

    // Dry run (the default): the diff, nothing written.
    let (status, body) = server
        .post(
            RESOLVE,
            json!({ "conflicts": [{ "id": port }, { "id": "port-000000000000" }] }),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["dryRun"], true);
    let item = &body["resolutions"][0];
    assert_eq!(item["conflictId"], port.as_str());
    assert_eq!(item["strategy"], "port-reassignment", "{item}");
    assert_eq!(item["applied"], false);
    assert_eq!(item["changes"][0]["repository"], "monitoring", "{item}");
    assert_eq!(item["changes"][0]["path"], "docker-compose.yml");
    let diff = item["changes"][0]["diff"].as_str().expect("diff");
    assert!(
        diff.starts_with(
            "--- a/monitoring/docker-compose.yml\n+++ b/monitoring/docker-compose.yml\n"
        ),
        "{diff}"
    );
    assert!(
        diff.contains("\n-      - \"8080:8080\"\n+      - \"20000:8080\"\n"),
        "{diff}"
    );
    assert_eq!(
        std::fs::read_to_string(&compose).expect("compose"),
        original
    );
    let missing = &body["resolutions"][1];
    assert_eq!(missing["error"]["code"], "NOT_FOUND", "{missing}");
    assert_eq!(missing["applied"], false);
    assert_eq!(body["summary"]["errors"], 1);

    // Unknown strategy, a strategy that does not fit, no automatic strategy: error items.
    let (status, body) = server
        .post(
            RESOLVE,
            json!({ "conflicts": [{ "id": port }], "resolutionStrategy": "magic" }),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body["resolutions"][0]["error"]["code"], "UNKNOWN_STRATEGY",
        "{body}"
    );
    let (_, body) = server
        .post(
            RESOLVE,
            json!({ "conflicts": [{ "id": port }], "resolutionStrategy": "subdomain-separation" }),
        )
        .await;
    assert_eq!(
        body["resolutions"][0]["error"]["code"], "STRATEGY_NOT_APPLICABLE",
        "{body}"
    );
    let (_, body) = server
        .post(RESOLVE, json!({ "conflicts": [{ "id": domain }] }))
        .await;
    assert_eq!(
        body["resolutions"][0]["error"]["code"], "NO_AUTOMATIC_RESOLUTION",
        "{body}"
    );
    let (_, body) = server
        .post(RESOLVE, json!({ "conflicts": [{ "id": domain }], "resolutionStrategy": "subdomain-separation" }))
        .await;
    assert_eq!(
        body["resolutions"][0]["strategy"], "subdomain-separation",
        "{body}"
    );
    assert!(
        body["resolutions"][0]["changes"]
            .as_array()
            .is_some_and(|c| !c.is_empty())
    );

    // Bad bodies are 400s.
    for bad in [
        json!({ "conflicts": [] }),
        json!({ "conflicts": "port" }),
        json!({}),
        json!({ "conflicts": [{ "id": port }], "dryRun": "no" }),
    ] {
        let (status, body) = server.post(RESOLVE, bad).await;
        assert_error(status, &body, 400, "VALIDATION_ERROR");
    }

    // Apply: the file in the temp fleet copy changes, the conflict is gone and verified.
    let mut events = server.state().events.subscribe();
    let (status, body) = server
        .post(
            RESOLVE,
            json!({ "conflicts": [{ "id": port }], "dryRun": false }),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let item = &body["resolutions"][0];
    assert_eq!(item["applied"], true, "{item}");
    assert_eq!(item["verified"], true, "{item}");
    let now = std::fs::read_to_string(&compose).expect("compose");
    assert_eq!(
        now,
        original.replace("\"8080:8080\"", "\"20000:8080\""),
        "only the host port changes"
    );
    let (_, after) = server.get(LIST).await;
    assert_eq!(after["summary"]["total"], 10, "{after}");
    assert!(!types(&after).contains(&"port".to_string()));
    let mut resolved = false;
    while let Ok(event) = events.try_recv() {
        resolved |= event.event == "conflict.resolved"
            && event.data["conflictId"] == port.as_str()
            && event.data["strategy"] == "port-reassignment";
    }
    assert!(resolved, "conflict.resolved was published");

    // The history remembers how it ended.
    let (status, history) = server.get(&format!("{HISTORY}?type=port")).await;
    assert_eq!(status, 200, "{history}");
    let entry = &history["history"][0];
    assert_eq!(entry["id"], port.as_str(), "{history}");
    assert_eq!(
        entry["resolution"]["strategy"], "port-reassignment",
        "{entry}"
    );
    assert!(entry["resolvedAt"].is_string(), "{entry}");
    assert!(entry["firstSeen"].is_string(), "{entry}");

    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn coordinate_configuration_redacts_secrets() {
    let server = TestServer::start("conflicts").await;
    // Plant a secret with different values in two repositories and re-read them.
    let env = server.fleet_root.join("api/.env");
    let mut text = std::fs::read_to_string(&env).expect(".env");
    text.push_str("API_TOKEN=tok-alpha-1111\n");
    std::fs::write(&env, text).expect("write .env");
    std::fs::write(
        server.fleet_root.join("media/.env"),
        "API_TOKEN=tok-beta-2222\n",
    )
    .expect("write");
    let (status, body) = server
        .post(
            "/api/coordination/dependencies/refresh",
            json!({ "repositories": ["api", "media"] }),
        )
        .await;
    assert_eq!(status, 200, "{body}");

    let (status, body) = server
        .post(
            CONFIGURATION,
            json!({ "keys": ["API_TOKEN", "TZ", "NTFY_URL", "NOPE"] }),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let text = body.to_string();
    assert!(
        !text.contains("tok-alpha") && !text.contains("tok-beta"),
        "secret leaked: {text}"
    );
    let by_key = |key: &str| -> Value {
        body["configurations"]
            .as_array()
            .and_then(|c| c.iter().find(|c| c["key"] == key))
            .cloned()
            .unwrap_or_else(|| panic!("no {key} in {body}"))
    };
    let token = by_key("API_TOKEN");
    assert_eq!(token["consistent"], false, "{token}");
    assert_eq!(token["values"].as_array().map(Vec::len), Some(2));
    assert!(token["values"].as_array().is_some_and(|v| {
        v.iter()
            .all(|v| v["display"] == "***" && v["valueHash"].is_string())
    }));
    let tz = by_key("TZ");
    assert_eq!(tz["consistent"], true, "{tz}");
    assert_eq!(tz["values"][0]["display"], "Europe/Berlin");
    let tz_repos = tz["values"][0]["repositories"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert!(
        tz_repos.contains(&json!("api")) && tz_repos.contains(&json!("monitoring")),
        "{tz}"
    );
    let ntfy = by_key("NTFY_URL");
    assert_eq!(ntfy["consistent"], false, "{ntfy}");
    assert!(
        ntfy["values"][0]["locations"]
            .as_array()
            .is_some_and(|l| !l.is_empty())
    );
    assert_eq!(body["summary"]["missingKeys"], json!(["NOPE"]));
    assert_eq!(body["summary"]["secretKeys"], 1);
    // The env-drift conflict on NTFY_URL comes with its resolutions.
    assert_eq!(body["conflicts"][0]["type"], "env_drift", "{body}");
    assert_eq!(
        body["resolutions"][0]["recommended"], "value-standardization",
        "{body}"
    );

    // Without keys: keys two repositories define, restricted to the ones asked for.
    let (status, body) = server
        .post(CONFIGURATION, json!({ "repositories": ["api", "media"] }))
        .await;
    assert_eq!(status, 200, "{body}");
    assert!(!body.to_string().contains("tok-alpha"));
    let keys: Vec<&str> = body["configurations"]
        .as_array()
        .expect("configurations")
        .iter()
        .filter_map(|c| c["key"].as_str())
        .collect();
    assert!(keys.contains(&"API_TOKEN"), "{keys:?}");
    assert!(
        !keys.contains(&"NTFY_URL"),
        "media does not define it: {keys:?}"
    );

    let (status, body) = server
        .post(CONFIGURATION, json!({ "repositories": ["api", "nope"] }))
        .await;
    assert_error(status, &body, 404, "NOT_FOUND");
    let (status, body) = server.post(CONFIGURATION, json!({ "keys": "TZ" })).await;
    assert_error(status, &body, 400, "VALIDATION_ERROR");

    // Listing conflicts does not leak it either.
    let (_, list) = server.get(LIST).await;
    assert!(!list.to_string().contains("tok-alpha"));
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn history_is_paginated_and_filtered() {
    let server = TestServer::start("conflicts").await;
    // The analysis at start-up is the history's first observation.
    let (status, body) = server.get(HISTORY).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["pagination"]["total"], 11, "{body}");

    server.get(LIST).await;
    let (status, page) = server.get(&format!("{HISTORY}?limit=5")).await;
    assert_eq!(status, 200, "{page}");
    assert_eq!(page["history"].as_array().map(Vec::len), Some(5));
    assert_eq!(
        page["pagination"],
        json!({ "total": 11, "limit": 5, "offset": 0, "hasMore": true })
    );
    let (_, last) = server.get(&format!("{HISTORY}?limit=5&offset=10")).await;
    assert_eq!(last["history"].as_array().map(Vec::len), Some(1));
    assert_eq!(last["pagination"]["hasMore"], false);
    let (_, ports) = server.get(&format!("{HISTORY}?type=port")).await;
    assert_eq!(ports["pagination"]["total"], 1);
    let entry = &ports["history"][0];
    assert_eq!(entry["type"], "port");
    assert_eq!(entry["resolution"], Value::Null);
    assert_eq!(entry["firstSeen"], entry["lastSeen"]);

    // A later check moves lastSeen, not firstSeen.
    server.advance(60);
    server.get(&format!("{LIST}?types=port")).await;
    let (_, ports) = server.get(&format!("{HISTORY}?type=port")).await;
    let entry = &ports["history"][0];
    assert_ne!(entry["firstSeen"], entry["lastSeen"], "{entry}");

    // A re-analysis that no longer finds a conflict closes its entry.
    let compose = server.fleet_root.join("media/docker-compose.yml");
    let text = std::fs::read_to_string(&compose).expect("compose");
    let renamed = text.replace(
        "container_name: postgres\n",
        "container_name: photos-postgres\n",
    );
    assert_ne!(text, renamed);
    std::fs::write(&compose, renamed).expect("write");
    let (status, body) = server
        .post(
            "/api/coordination/dependencies/refresh",
            json!({ "repositories": ["media"] }),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let (_, names) = server.get(&format!("{HISTORY}?type=container_name")).await;
    let entry = &names["history"][0];
    assert_eq!(
        entry["resolution"]["reason"], "no longer detected",
        "{entry}"
    );
    assert!(entry["resolvedAt"].is_string(), "{entry}");
    let (_, ports) = server.get(&format!("{HISTORY}?type=port")).await;
    assert_eq!(ports["history"][0]["resolvedAt"], Value::Null);

    for bad in ["?type=bogus", "?limit=0", "?limit=101", "?offset=-1"] {
        let (status, body) = server.get(&format!("{HISTORY}{bad}")).await;
        assert_error(status, &body, 400, "VALIDATION_ERROR");
    }
    // The error names the parameter the client sent.
    let (_, body) = server.get(&format!("{HISTORY}?type=bogus")).await;
    assert_eq!(body["details"]["parameter"], "type", "{body}");
    let (_, body) = server.get(&format!("{LIST}?types=bogus")).await;
    assert_eq!(body["details"]["parameter"], "types", "{body}");
    server.stop().await;
}

#[tokio::test]
async fn one_conflict_is_explained_by_id_or_prefix() {
    let server = TestServer::start("conflicts").await;
    let (status, all) = server.get(LIST).await;
    assert_eq!(status, 200, "{all}");
    let port = conflicts(&all)
        .iter()
        .find(|c| c["type"] == "port")
        .expect("port conflict")
        .clone();
    let id = port["id"].as_str().expect("id").to_string();

    let (status, body) = server
        .get(&format!(
            "/api/coordination/resource-conflicts/{id}/explanation"
        ))
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["conflict"]["id"], id.as_str(), "{body}");
    assert!(
        body["severityReason"]
            .as_str()
            .is_some_and(|r| !r.is_empty()),
        "{body}"
    );
    let evidence = body["evidence"].as_array().expect("evidence");
    assert_eq!(
        evidence.len(),
        port["occurrences"].as_array().map_or(0, Vec::len)
    );
    assert!(
        evidence
            .iter()
            .all(|e| e["line"].as_str().is_some_and(|l| l.contains(':'))),
        "each occurrence shows its source line: {body}"
    );
    assert!(
        !body["resolutions"]
            .as_array()
            .expect("resolutions")
            .is_empty(),
        "{body}"
    );

    // An unambiguous prefix works; an unknown id is a 404 naming the nearest ids.
    let prefix: String = id.chars().take(id.len() - 2).collect();
    let (status, same) = server
        .get(&format!(
            "/api/coordination/resource-conflicts/{prefix}/explanation"
        ))
        .await;
    assert_eq!(status, 200, "{same}");
    assert_eq!(same["conflict"]["id"], id.as_str());
    let (status, missing) = server
        .get("/api/coordination/resource-conflicts/zz-no-such-conflict/explanation")
        .await;
    assert_eq!(status, 404, "{missing}");
    assert_eq!(missing["error"], "NOT_FOUND", "{missing}");
    assert!(missing["details"]["nearest"].is_array(), "{missing}");
    server.stop().await;
}
