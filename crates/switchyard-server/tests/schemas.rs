//! Real answers match the response schemas of `GET /api/openapi.json`: every property a schema
//! requires is there, with the documented JSON type, recursively through objects and arrays.

mod common;

use common::TestServer;
use serde_json::{Value, json};

fn resolve<'a>(spec: &'a Value, schema: &'a Value) -> &'a Value {
    match schema["$ref"].as_str() {
        Some(reference) => {
            let name = reference.rsplit('/').next().unwrap_or_default();
            let target = &spec["components"]["schemas"][name];
            assert!(
                target.is_object(),
                "{reference} is not in components.schemas"
            );
            resolve(spec, target)
        }
        None => schema,
    }
}

fn type_matches(kind: &str, value: &Value) -> bool {
    match kind {
        "null" => value.is_null(),
        "string" => value.is_string(),
        "boolean" => value.is_boolean(),
        "integer" => value.is_i64() || value.is_u64(),
        "number" => value.is_number(),
        "array" => value.is_array(),
        "object" => value.is_object(),
        _ => true,
    }
}

/// Where `value` does not match `schema`, as `at: problem` lines.
fn conforms(spec: &Value, schema: &Value, value: &Value, at: &str) -> Vec<String> {
    let schema = resolve(spec, schema);
    for key in ["oneOf", "anyOf"] {
        if let Some(branches) = schema[key].as_array() {
            let fits = branches
                .iter()
                .any(|b| conforms(spec, b, value, at).is_empty());
            return if fits {
                Vec::new()
            } else {
                vec![format!("{at}: fits no branch of {key}: {value}")]
            };
        }
    }
    let kinds: Vec<&str> = match &schema["type"] {
        Value::String(kind) => vec![kind.as_str()],
        Value::Array(kinds) => kinds.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    };
    if !kinds.is_empty() && !kinds.iter().any(|k| type_matches(k, value)) {
        let shown: String = value.to_string().chars().take(80).collect();
        return vec![format!("{at}: expected {kinds:?}, got {shown}")];
    }
    let mut problems = Vec::new();
    if let Some(object) = value.as_object() {
        for name in schema["required"].as_array().into_iter().flatten() {
            let name = name.as_str().unwrap_or_default();
            if !object.contains_key(name) {
                problems.push(format!("{at}: missing required `{name}`"));
            }
        }
        if let Some(properties) = schema["properties"].as_object() {
            for (name, property) in properties {
                if let Some(inner) = object.get(name) {
                    problems.extend(conforms(spec, property, inner, &format!("{at}.{name}")));
                }
            }
        }
    }
    if let (Some(items), Some(array)) = (schema.get("items"), value.as_array()) {
        for (i, inner) in array.iter().enumerate() {
            problems.extend(conforms(spec, items, inner, &format!("{at}[{i}]")));
        }
    }
    problems
}

/// The documented schema of `method template`'s `status` answer.
fn response_schema<'a>(spec: &'a Value, method: &str, template: &str, status: u16) -> &'a Value {
    let schema = &spec["paths"][template][method]["responses"][status.to_string()]["content"]["application/json"]
        ["schema"];
    assert!(
        schema.is_object(),
        "{method} {template} {status} has no documented schema"
    );
    let required = resolve(spec, schema)["required"]
        .as_array()
        .map_or(0, Vec::len);
    assert!(
        required > 0,
        "{method} {template} {status}: a schema that requires nothing"
    );
    schema
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn answers_match_their_documented_schemas() {
    let server = TestServer::start("homelab").await;
    let (_, spec) = server.get("/api/openapi.json").await;
    let mut problems = Vec::new();
    let mut check = |method: &str, template: &str, status: u16, body: &Value| {
        let schema = response_schema(&spec, method, template, status);
        let found = conforms(&spec, schema, body, &format!("{method} {template}"));
        problems.extend(found);
    };

    let (status, body) = server
        .post(
            "/api/coordination/resources/register",
            json!({ "type": "port", "identifier": "8443", "capacity": 2, "metadata": { "owner": "ops" } }),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    check("post", "/api/coordination/resources/register", 201, &body);
    let (status, body) = server
        .post(
            "/api/coordination/resources/register",
            json!({ "type": "port", "identifier": "8443", "capacity": 2, "metadata": { "owner": "ops" } }),
        )
        .await;
    check(
        "post",
        "/api/coordination/resources/register",
        status,
        &body,
    );

    let claim = "/api/coordination/resources/{id}/claim";
    let (status, held) = server
        .post(
            "/api/coordination/resources/port:8443/claim",
            json!({ "repository": "api", "operation": { "type": "read", "ttl": 60 } }),
        )
        .await;
    assert_eq!(status, 201, "{held}");
    check("post", claim, 201, &held);
    let (status, forever) = server
        .post(
            "/api/coordination/resources/port:8443/claim",
            json!({ "repository": "auth", "operation": { "type": "backup" } }),
        )
        .await;
    assert_eq!(status, 201, "{forever}");
    check("post", claim, 201, &forever);
    let renew = format!(
        "/api/coordination/resources/port:8443/claims/{}/renew",
        held["claimId"].as_str().expect("claim id")
    );
    let (status, body) = server.post(&renew, json!({ "ttl": 120 })).await;
    assert_eq!(status, 200, "{body}");
    check(
        "post",
        "/api/coordination/resources/{id}/claims/{claim_id}/renew",
        200,
        &body,
    );
    let (status, body) = server
        .get("/api/coordination/resources/port:8443/status")
        .await;
    assert_eq!(status, 200, "{body}");
    check("get", "/api/coordination/resources/{id}/status", 200, &body);
    let (status, body) = server.get("/api/coordination/resources").await;
    assert_eq!(status, 200, "{body}");
    check("get", "/api/coordination/resources", 200, &body);

    let (status, body) = server.get("/api/coordination/repositories").await;
    assert_eq!(status, 200, "{body}");
    check("get", "/api/coordination/repositories", 200, &body);
    let (status, body) = server
        .get("/api/coordination/resource-conflicts?limit=100")
        .await;
    assert_eq!(status, 200, "{body}");
    assert!(body["summary"]["total"].as_u64() > Some(0), "{body}");
    check("get", "/api/coordination/resource-conflicts", 200, &body);

    let (status, body) = server.get("/api/coordination/dependencies").await;
    assert_eq!(status, 200, "{body}");
    check("get", "/api/coordination/dependencies", 200, &body);
    for level in ["repository", "service"] {
        let (status, body) = server
            .get(&format!("/api/coordination/graph?level={level}"))
            .await;
        assert_eq!(status, 200, "{body}");
        assert!(
            body["edges"].as_array().is_some_and(|e| !e.is_empty()),
            "{body}"
        );
        check("get", "/api/coordination/graph", 200, &body);
    }
    let (status, body) = server.get("/api/coordination/repositories/api").await;
    assert_eq!(status, 200, "{body}");
    assert!(
        body["dependents"].as_array().is_some_and(|e| !e.is_empty()),
        "{body}"
    );
    check("get", "/api/coordination/repositories/{name}", 200, &body);
    let (status, body) = server
        .get("/api/coordination/dependencies?repositories=api&includeTransitive=false")
        .await;
    check("get", "/api/coordination/dependencies", status, &body);
    let (status, body) = server
        .post(
            "/api/coordination/dependencies/refresh",
            json!({ "repositories": ["api"] }),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    check("post", "/api/coordination/dependencies/refresh", 200, &body);
    let (status, body) = server.get("/api/coordination/conflicts/history").await;
    assert_eq!(status, 200, "{body}");
    assert!(body["pagination"]["total"].as_u64() > Some(0), "{body}");
    check("get", "/api/coordination/conflicts/history", 200, &body);
    let (_, conflicts) = server.get("/api/coordination/resource-conflicts").await;
    let mut ids: Vec<Value> = conflicts["conflicts"]
        .as_array()
        .expect("conflicts")
        .iter()
        .map(|c| json!({ "id": c["id"] }))
        .collect();
    ids.push(json!({ "id": "no-such-conflict" }));
    let (status, body) = server
        .post(
            "/api/coordination/resolve-conflicts",
            // Named: homelab's only conflict (a DATABASE_URL drift whose values carry accounts)
            // has no automatic resolution.
            json!({ "conflicts": ids, "dryRun": true, "resolutionStrategy": "value-standardization" }),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert!(body["summary"]["proposed"].as_u64() > Some(0), "{body}");
    check("post", "/api/coordination/resolve-conflicts", 200, &body);
    let (status, body) = server
        .post("/api/coordination/coordinate-configuration", json!({}))
        .await;
    assert_eq!(status, 200, "{body}");
    check(
        "post",
        "/api/coordination/coordinate-configuration",
        200,
        &body,
    );

    // The ledger's deletes.
    let release = format!(
        "/api/coordination/resources/port:8443/claims/{}",
        forever["claimId"].as_str().expect("claim id")
    );
    let (status, body) = server.delete(&release).await;
    assert_eq!(status, 200, "{body}");
    check(
        "delete",
        "/api/coordination/resources/{id}/claims/{claim_id}",
        200,
        &body,
    );
    let held_path = format!(
        "/api/coordination/resources/port:8443/claims/{}",
        held["claimId"].as_str().expect("claim id")
    );
    server.delete(&held_path).await;
    let (status, body) = server.delete("/api/coordination/resources/port:8443").await;
    assert_eq!(status, 200, "{body}");
    check("delete", "/api/coordination/resources/{id}", 200, &body);

    // Config sync, with a TTL (expiresAt) and a removal (tombstone).
    let (status, body) = server
        .post(
            "/api/config-sync/set",
            json!({ "key": "theme", "value": { "dark": true }, "ttl": 60, "timestamp": 1000 }),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    check("post", "/api/config-sync/set", 200, &body);
    let (status, body) = server
        .post(
            "/api/config-sync/remove",
            json!({ "key": "theme", "timestamp": 2000 }),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    check("post", "/api/config-sync/remove", 200, &body);
    let (status, body) = server
        .post(
            "/api/config-sync/sync",
            json!({ "lastSync": 0, "changes": [{ "key": "lang", "value": "en", "timestamp": 3000 }] }),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    check("post", "/api/config-sync/sync", 200, &body);
    let (status, body) = server
        .post("/api/config-sync/clear", json!({ "timestamp": 4000 }))
        .await;
    assert_eq!(status, 200, "{body}");
    check("post", "/api/config-sync/clear", 200, &body);

    // Errors match the error model of the document.
    let (status, body) = server
        .get("/api/coordination/resources/port:1/status")
        .await;
    assert_eq!(status, 404);
    check("get", "/api/coordination/resources/{id}/status", 404, &body);

    assert!(problems.is_empty(), "{}", problems.join("\n"));
    server.stop().await;
}

#[tokio::test]
async fn conflicts_of_every_example_fleet_match_the_schema() {
    for fleet in [
        "conflicts",
        "codejoin",
        "mfe",
        "podplay",
        "threadly",
        "homelab-cycle",
    ] {
        let server = TestServer::start(fleet).await;
        let (_, spec) = server.get("/api/openapi.json").await;
        let schema = response_schema(&spec, "get", "/api/coordination/resource-conflicts", 200);
        let (status, body) = server
            .get("/api/coordination/resource-conflicts?limit=100")
            .await;
        assert_eq!(status, 200, "{fleet}: {body}");
        let problems = conforms(&spec, schema, &body, fleet);
        assert!(problems.is_empty(), "{}", problems.join("\n"));
        let schema = response_schema(&spec, "get", "/api/coordination/dependencies", 200);
        let (_, body) = server.get("/api/coordination/dependencies").await;
        let problems = conforms(&spec, schema, &body, fleet);
        assert!(problems.is_empty(), "{}", problems.join("\n"));
        let schema = response_schema(
            &spec,
            "post",
            "/api/coordination/coordinate-configuration",
            200,
        );
        let (_, body) = server
            .post("/api/coordination/coordinate-configuration", json!({}))
            .await;
        let problems = conforms(&spec, schema, &body, fleet);
        assert!(problems.is_empty(), "{}", problems.join("\n"));
        let schema = response_schema(&spec, "get", "/api/coordination/repositories", 200);
        let (_, body) = server.get("/api/coordination/repositories").await;
        let problems = conforms(&spec, schema, &body, fleet);
        assert!(problems.is_empty(), "{}", problems.join("\n"));
        server.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn monitoring_and_deployment_answers_match_their_documented_schemas() {
    let server = TestServer::start("homelab").await;
    let (_, spec) = server.get("/api/openapi.json").await;
    let mut problems = Vec::new();
    let mut check = |method: &str, template: &str, status: u16, body: &Value| {
        let schema = response_schema(&spec, method, template, status);
        problems.extend(conforms(
            &spec,
            schema,
            body,
            &format!("{method} {template}"),
        ));
    };

    for path in ["/health", "/api/coordination/health"] {
        let (status, body) = server.get(path).await;
        assert_eq!(status, 200, "{body}");
        check("get", path, 200, &body);
    }
    let (status, body) = server.get("/api/coordination/health/detailed").await;
    assert_eq!(status, 200, "{body}");
    check("get", "/api/coordination/health/detailed", 200, &body);

    // Six failed claims of seven operations raise a high failure rate alert.
    server.failing_claims(6).await;
    let raised = server.housekeeping().await;
    assert_eq!(raised.len(), 1, "{raised:?}");
    let (status, alerts) = server.get("/api/coordination/alerts").await;
    assert_eq!(status, 200, "{alerts}");
    assert_eq!(
        alerts["alerts"].as_array().map(Vec::len),
        Some(1),
        "{alerts}"
    );
    check("get", "/api/coordination/alerts", 200, &alerts);
    let id = alerts["alerts"][0]["id"].as_str().expect("alert id");
    let (status, body) = server
        .post(
            &format!("/api/coordination/alerts/{id}/acknowledge"),
            json!({}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    check(
        "post",
        "/api/coordination/alerts/{id}/acknowledge",
        200,
        &body,
    );
    let (status, body) = server.get("/api/coordination/operations").await;
    assert_eq!(status, 200, "{body}");
    check("get", "/api/coordination/operations", 200, &body);
    let (status, body) = server.post("/api/coordination/cleanup", json!({})).await;
    assert_eq!(status, 200, "{body}");
    check("post", "/api/coordination/cleanup", 200, &body);

    // A deployment's whole life: planned, shown, an event, completed; another cancelled.
    let plan = |repositories: Value| {
        let server = &server;
        async move {
            server
                .post(
                    "/api/coordination/coordinate-deployment",
                    json!({ "repositories": repositories, "options": { "ignoreConflicts": true } }),
                )
                .await
        }
    };
    let (status, body) = plan(json!(["postgres", "auth"])).await;
    assert_eq!(status, 201, "{body}");
    check(
        "post",
        "/api/coordination/coordinate-deployment",
        201,
        &body,
    );
    let id = body["coordination"]["id"].as_str().expect("id").to_string();
    let (status, body) = server
        .get(&format!("/api/coordination/deployments/{id}"))
        .await;
    assert_eq!(status, 200, "{body}");
    check("get", "/api/coordination/deployments/{id}", 200, &body);
    let (status, body) = server.get("/api/coordination/deployments").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["deployments"][0]["coordination"]["id"], id, "{body}");
    check("get", "/api/coordination/deployments", 200, &body);
    let (status, body) = server
        .post(
            &format!("/api/coordination/deployments/{id}/events"),
            json!({ "repository": "postgres", "status": "failed" }),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["coordination"]["status"], "rolling_back", "{body}");
    check(
        "post",
        "/api/coordination/deployments/{id}/events",
        200,
        &body,
    );
    let (status, body) = server
        .post(
            &format!("/api/coordination/deployments/{id}/complete"),
            json!({}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    check(
        "post",
        "/api/coordination/deployments/{id}/complete",
        200,
        &body,
    );
    let (status, body) = plan(json!(["monitoring"])).await;
    assert_eq!(status, 201, "{body}");
    let id = body["coordination"]["id"].as_str().expect("id").to_string();
    let (status, body) = server
        .post(
            &format!("/api/coordination/deployments/{id}/cancel"),
            json!({}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    check(
        "post",
        "/api/coordination/deployments/{id}/cancel",
        200,
        &body,
    );

    assert!(problems.is_empty(), "{}", problems.join("\n"));
    server.stop().await;
}

#[tokio::test]
async fn package_plans_match_their_documented_schema() {
    for fleet in ["threadly", "threadly-cycle", "homelab"] {
        let server = TestServer::start(fleet).await;
        let (_, spec) = server.get("/api/openapi.json").await;
        let (status, body) = server.get("/api/coordination/packages").await;
        assert_eq!(status, 200, "{fleet}: {body}");
        let schema = response_schema(&spec, "get", "/api/coordination/packages", 200);
        let problems = conforms(&spec, schema, &body, &format!("{fleet} GET /packages"));
        assert!(problems.is_empty(), "{problems:#?}");
    }
}
