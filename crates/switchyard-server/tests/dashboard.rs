//! The dashboard (`GET /`) in a real headless Chromium, driven by playwright-core
//! (tests/browser/dashboard.mjs), on real servers: every view (graph, conflicts, deployments,
//! resources, alerts, health) renders without a console error; the graph has the fleet's
//! repositories in phase columns, a clicked node shows its services and dependencies, a clicked
//! edge its evidence; the conflicts view lists exactly the conflicts the API returns and a dry
//! run shows a diff; a deployment's progress arrives over the events socket without a reload;
//! cycle members are highlighted and inside the panel; an alert is acknowledged from the page.
//!
//! A screenshot of every view goes to `$SWITCHYARD_SCREENSHOTS` (default
//! `target/dashboard-screenshots`; CI keeps it as an artifact).
//!
//! Needs Node.js, npm and Chromium (`apt-get install chromium`, or `CHROMIUM=/path`). Without
//! Chromium the test says so and passes, unless `SWITCHYARD_REQUIRE_BROWSER=1` (CI sets it).

mod common;

use std::path::{Path, PathBuf};

use common::TestServer;
use serde_json::{Value, json};
use switchyard_server::config::{Scope, TokenConfig};

const TOKEN: &str = "dashboard-test-token-0123456789";

fn browser_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/browser")
}

fn screenshots() -> PathBuf {
    std::env::var_os("SWITCHYARD_SCREENSHOTS")
        .map(PathBuf::from)
        .unwrap_or_else(|| common::workspace_root().join("target/dashboard-screenshots"))
}

fn chromium() -> Option<PathBuf> {
    let path = std::env::var_os("CHROMIUM")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/usr/bin/chromium"));
    if path.is_file() {
        return Some(path);
    }
    assert!(
        std::env::var("SWITCHYARD_REQUIRE_BROWSER").as_deref() != Ok("1"),
        "SWITCHYARD_REQUIRE_BROWSER=1 but no Chromium at /usr/bin/chromium or $CHROMIUM"
    );
    eprintln!("skipped: no Chromium (apt-get install chromium, or set CHROMIUM)");
    None
}

fn admin_token(config: &mut switchyard_server::config::ServerConfig) {
    config.tokens = vec![TokenConfig {
        token: TOKEN.into(),
        scopes: vec![Scope::Admin],
        name: None,
    }];
}

async fn admin_server(fleet: &str) -> TestServer {
    let mut server = TestServer::start_with(fleet, admin_token).await;
    server.authorize(TOKEN);
    server
}

/// A fleet of `size` repositories on one host, each publishing a host port and calling one or
/// two earlier repositories through `host.docker.internal`: ten phases at 400.
fn write_large_fleet(root: &Path, size: usize) {
    let mut listing = String::new();
    for i in 0..size {
        let name = format!("r{i:04}");
        listing.push_str(&format!(
            "[[repository]]\nname = \"{name}\"\npath = \"{name}\"\nhost = \"box\"\n\n"
        ));
        let mut calls: Vec<usize> = Vec::new();
        if i > 0 {
            calls.push(i / 2);
        }
        if i > 2 && i % 3 == 0 {
            calls.push(i / 3);
        }
        let mut compose = format!(
            "services:\n  s{i}:\n    image: example/s{i}:1\n    ports:\n      - \"{}:8080\"\n",
            20000 + i
        );
        if !calls.is_empty() {
            compose.push_str("    environment:\n");
            for (k, j) in calls.iter().enumerate() {
                compose.push_str(&format!(
                    "      UP_{k}: http://host.docker.internal:{}\n",
                    20000 + j
                ));
            }
        }
        std::fs::create_dir_all(root.join(&name)).expect("repository folder");
        std::fs::write(root.join(&name).join("docker-compose.yml"), compose).expect("compose");
    }
    std::fs::write(root.join("switchyard.toml"), listing).expect("switchyard.toml");
}

/// Runs dashboard.mjs against the server with `settings` as its environment; the JSON line it
/// printed, after checking it saw no console or page error.
async fn open_dashboard(server: &TestServer, chromium: &Path, settings: &[(&str, &str)]) -> Value {
    common::npm::ensure_package(&browser_dir(), "playwright-core");
    let mut command = tokio::process::Command::new("node");
    command
        .arg("dashboard.mjs")
        .arg(&server.base)
        .arg(TOKEN)
        .current_dir(browser_dir())
        .env("CHROMIUM", chromium)
        .env("SCREENSHOTS", screenshots())
        .kill_on_drop(true);
    for (key, value) in settings {
        command.env(key, value);
    }
    let output = tokio::time::timeout(std::time::Duration::from_secs(180), command.output())
        .await
        .expect("the browser finished within 180 s")
        .expect("run node dashboard.mjs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "dashboard.mjs failed: {}\n{stdout}",
        String::from_utf8_lossy(&output.stderr)
    );
    let page: Value =
        serde_json::from_str(stdout.trim()).unwrap_or_else(|e| panic!("not JSON ({e}): {stdout}"));
    assert_eq!(page["errors"], json!([]), "{page}");
    page
}

fn strings(value: &Value) -> Vec<String> {
    serde_json::from_value(value.clone()).unwrap_or_default()
}

fn rows(value: &Value) -> Vec<Vec<String>> {
    serde_json::from_value(value.clone()).unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_view_of_the_homelab_dashboard_renders_and_acts() {
    let Some(chromium) = chromium() else {
        return;
    };
    let server = admin_server("homelab").await;
    let (status, body) = server
        .post(
            "/api/coordination/resources/register",
            json!({ "type": "port", "identifier": "5432" }),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let (status, body) = server
        .post(
            "/api/coordination/resources/port:5432/claim",
            json!({ "repository": "postgres", "operation": { "type": "deploy", "exclusive": true, "ttl": 600 } }),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let (status, planned) = server
        .post(
            "/api/coordination/coordinate-deployment",
            json!({ "repositories": ["api", "dashboard", "monitoring"], "options": { "ignoreConflicts": true } }),
        )
        .await;
    assert_eq!(status, 201, "{planned}");
    let deployment = planned["coordination"]["id"].as_str().unwrap_or_default();
    let first_phase = strings(&planned["coordination"]["phases"][0]["repositories"]);

    let page = open_dashboard(
        &server,
        &chromium,
        &[
            ("PREFIX", "homelab"),
            ("CLICK", "1"),
            ("CLICK_NODE", "api"),
            ("DRY_RUN", "1"),
            ("DEPLOYMENT", deployment),
        ],
    )
    .await;

    // Graph: every repository, phases as columns, nothing off the panel, a node's services and
    // dependencies with evidence, an edge's evidence.
    let graph = &page["graph"];
    let mut nodes = strings(&graph["nodes"]);
    nodes.sort();
    assert_eq!(
        nodes,
        [
            "api",
            "auth",
            "dashboard",
            "infra-network",
            "monitoring",
            "postgres"
        ],
        "{page}"
    );
    assert_eq!(graph["cycleNodes"], json!([]), "{page}");
    assert!(graph["edges"].as_u64().is_some_and(|n| n >= 5), "{page}");
    assert_eq!(graph["outside"], json!([]), "{page}");
    assert_eq!(
        strings(&graph["columns"]),
        [
            "Phase 1 · 1",
            "Phase 2 · 1",
            "Phase 3 · 1",
            "Phase 4 · 2",
            "Phase 5 · 1"
        ],
        "{page}"
    );
    let order = graph["order"].as_str().unwrap_or("");
    assert!(
        order.starts_with("Deployment phases — 1: postgres · 2: auth · 3: api"),
        "{page}"
    );
    assert_eq!(graph["headerConflicts"], "1", "{page}");
    let clicked = &graph["clicked"];
    assert_eq!(strings(&clicked["services"]), ["api"], "{page}");
    let dependencies = strings(&clicked["dependencies"]).join("\n");
    assert!(
        dependencies.contains("api → postgres/db")
            && dependencies.contains("api/.env.example:3:14"),
        "{page}"
    );
    assert_eq!(
        strings(&clicked["dependents"]).len(),
        2,
        "dashboard and monitoring call api: {page}"
    );
    let edge = &graph["edge"];
    assert!(
        !strings(&edge["evidence"]).is_empty(),
        "an edge's evidence: {page}"
    );

    // Conflicts: the API's one conflict, and a dry run that shows a diff and writes nothing.
    let (_, listed) = server
        .get("/api/coordination/resource-conflicts?limit=100")
        .await;
    let ids: Vec<Value> = listed["conflicts"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|c| c["id"].clone())
        .collect();
    assert_eq!(page["conflicts"]["ids"], json!(ids), "{page}");
    let dry_run = &page["conflicts"]["dryRun"];
    assert!(
        dry_run["title"]
            .as_str()
            .is_some_and(|t| t.contains("nothing written")),
        "{page}"
    );
    assert!(
        strings(&dry_run["diffs"])
            .iter()
            .any(|d| d.contains("+++ b/")),
        "{page}"
    );

    // Deployments: the plan in phase columns, its first phase reported started through the API
    // and shown without a reload (the events socket).
    let shown = &page["deployments"]["deployments"][0];
    assert_eq!(shown["id"], deployment, "{page}");
    assert_eq!(shown["phases"][0], json!(first_phase), "{page}");
    assert_eq!(
        page["deployments"]["live"]["started"],
        json!(first_phase),
        "{page}"
    );
    assert!(
        page["deployments"]["live"]["badge"]
            .as_str()
            .is_some_and(|b| b.starts_with("live ·")),
        "{page}"
    );

    // Resources, alerts, health.
    assert!(
        rows(&page["resources"]["rows"])
            .iter()
            .any(|r| r[0] == "port:5432" && r[1] == "1/1" && r[3].contains("postgres: deploy")),
        "{page}"
    );
    assert!(
        rows(&page["alerts"]["rows"])
            .iter()
            .any(|r| r[0] == "no alerts"),
        "{page}"
    );
    assert_eq!(page["health"]["health"], "healthy", "{page}");
    assert!(
        rows(&page["health"]["components"])
            .iter()
            .any(|r| r[0] == "store" && r[1] == "healthy"),
        "{page}"
    );
    assert!(
        rows(&page["health"]["fleet"]).contains(&vec!["conflicts".into(), "1".into()]),
        "{page}"
    );
    assert!(
        rows(&page["health"]["operations"])
            .iter()
            .any(|r| r[1] == "claim" && r[2] == "completed"),
        "{page}"
    );
    server.stop().await;
}

/// On a server of its own, so the conflict checks and plans of the test above cannot add a
/// conflict-rate alert to the one this test raises.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_alert_is_acknowledged_from_the_page() {
    let Some(chromium) = chromium() else {
        return;
    };
    let server = admin_server("homelab").await;
    // Six failed claims: a high failure rate alert.
    server.failing_claims(6).await;
    let raised = server.housekeeping().await;
    assert_eq!(raised.len(), 1, "{raised:?}");
    let page = open_dashboard(
        &server,
        &chromium,
        &[
            ("VIEWS", "alerts"),
            ("ACKNOWLEDGE", "1"),
            ("PREFIX", "homelab-alert"),
        ],
    )
    .await;
    assert!(
        rows(&page["alerts"]["rows"]).iter().any(|r| r[0] == "high"),
        "{page}"
    );
    assert!(
        rows(&page["alerts"]["afterAcknowledge"])
            .iter()
            .any(|r| r[3] == "acknowledged"),
        "{page}"
    );
    let (status, alerts) = server.get("/api/coordination/alerts").await;
    assert_eq!(status, 200, "{alerts}");
    assert_eq!(alerts["summary"]["acknowledged"], 1, "{alerts}");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_conflicts_view_shows_the_conflicts_the_api_returns() {
    let Some(chromium) = chromium() else {
        return;
    };
    let server = admin_server("conflicts").await;
    let (status, listed) = server
        .get("/api/coordination/resource-conflicts?limit=100")
        .await;
    assert_eq!(status, 200, "{listed}");
    let total = listed["summary"]["total"].as_u64().unwrap_or(0);
    assert!(
        total >= 5,
        "the conflicts fleet has many conflicts: {listed}"
    );
    let ids: Vec<Value> = listed["conflicts"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|c| c["id"].clone())
        .collect();
    let page = open_dashboard(
        &server,
        &chromium,
        &[
            ("PREFIX", "conflicts"),
            ("VIEWS", "conflicts,graph"),
            ("DRY_RUN", "1"),
        ],
    )
    .await;
    let view = &page["conflicts"];
    assert_eq!(view["ids"], json!(ids), "{page}");
    assert_eq!(
        view["meta"].as_str().unwrap_or_default(),
        format!(
            "{total} conflicts across {} repositories",
            listed["summary"]["repositories"]
        ),
        "{page}"
    );
    assert!(view["dryRun"]["title"].is_string(), "{page}");
    assert_eq!(
        page["graph"]["headerConflicts"],
        total.to_string(),
        "the header counts them on every view: {page}"
    );
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cycle_members_are_highlighted_inside_the_panel() {
    let Some(chromium) = chromium() else {
        return;
    };
    let server = admin_server("homelab-cycle").await;
    let (_, graph) = server.get("/api/coordination/graph").await;
    let mut on_cycles: Vec<String> = graph["nodes"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|n| !n["cycle"].is_null())
        .filter_map(|n| n["id"].as_str().map(str::to_string))
        .collect();
    on_cycles.sort();
    assert!(!on_cycles.is_empty(), "{graph}");
    let page = open_dashboard(
        &server,
        &chromium,
        &[("PREFIX", "homelab-cycle"), ("VIEWS", "graph")],
    )
    .await;
    let mut highlighted = strings(&page["graph"]["cycleNodes"]);
    highlighted.sort();
    assert_eq!(highlighted, on_cycles, "{page}");
    assert!(page["graph"]["cycleEdges"].as_u64() > Some(0), "{page}");
    assert_eq!(page["graph"]["outside"], json!([]), "{page}");
    assert!(
        page["graph"]["order"]
            .as_str()
            .is_some_and(|o| o.contains("Cycles")),
        "{page}"
    );
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_large_fleet_is_summarised_and_searchable_not_drawn_whole() {
    let Some(chromium) = chromium() else {
        return;
    };
    let dir = tempfile::tempdir().expect("temp dir");
    let root = dir.path().join("fleet");
    write_large_fleet(&root, 400);
    let mut server = TestServer::start_on(dir, root, admin_token).await;
    server.authorize(TOKEN);
    let (_, graph) = server.get("/api/coordination/graph").await;
    assert_eq!(
        graph["metadata"]["repositoryCount"], 400,
        "{}",
        graph["metadata"]
    );
    let phases = graph["phases"].as_array().map_or(0, Vec::len);
    assert!(phases >= 8, "{}", graph["phases"]);
    let page = open_dashboard(
        &server,
        &chromium,
        &[("PREFIX", "large"), ("VIEWS", "graph"), ("FOCUS", "r0011")],
    )
    .await;
    let view = &page["graph"];
    let shown = view["shown"].as_u64().unwrap_or(0);
    assert!(
        (20..=150).contains(&shown),
        "a summary, not 400 nodes: {page}"
    );
    assert_eq!(view["total"], 400, "{page}");
    assert_eq!(
        strings(&view["columns"]).len(),
        phases,
        "every phase is a column: {page}"
    );
    assert!(
        view["meta"]
            .as_str()
            .is_some_and(|m| m.starts_with(&format!("Showing {shown} of 400 repositories"))),
        "{page}"
    );
    assert_eq!(
        view["aggregate"], true,
        "per-phase counts and the most depended on: {page}"
    );
    assert_eq!(view["outside"], json!([]), "{page}");
    // r0011 calls r0005; r0022 and r0023 call r0011: its neighbourhood, with the focus marked.
    let focus = strings(&view["focus"]["nodes"]);
    for name in ["r0011", "r0005", "r0022", "r0023", "r0002"] {
        assert!(
            focus.contains(&name.to_string()),
            "{name} near r0011: {page}"
        );
    }
    assert!(focus.len() < 40, "{page}");
    server.stop().await;
}

/// Without a browser: the page and its files are served from the binary with a content security
/// policy that allows only the server itself (no CDN, no inline script), without a token; an
/// unknown file and bad graph requests are JSON 4xx answers.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_dashboard_files_come_from_the_binary() {
    let server = admin_server("homelab").await;
    let anonymous = reqwest::Client::new();
    for (path, kind) in [
        ("/", "text/html"),
        ("/dashboard/app.js", "text/javascript"),
        ("/dashboard/graph.js", "text/javascript"),
        ("/dashboard/style.css", "text/css"),
    ] {
        let response = anonymous.get(server.url(path)).send().await.expect("GET");
        assert_eq!(response.status(), 200, "{path}");
        let header = |name: &str| {
            response
                .headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_string()
        };
        assert!(header("content-type").starts_with(kind), "{path}");
        assert!(
            header("content-security-policy").starts_with("default-src 'self'"),
            "{path}"
        );
        // The SVG namespace is a name, not an address.
        let body = response.text().await.unwrap_or_default();
        let body = body.replace("http://www.w3.org/2000/svg", "");
        assert!(
            !body.contains("http://") && !body.contains("https://"),
            "{path} fetches from elsewhere"
        );
    }
    let (status, body) = server.get("/dashboard/nothing.js").await;
    assert_eq!(status, 404, "{body}");
    assert!(body["details"]["files"].is_array(), "{body}");
    let (status, body) = server.get("/api/coordination/graph?level=package").await;
    assert_eq!(status, 400, "{body}");
    let (status, body) = server.get("/api/coordination/repositories/nothing").await;
    assert_eq!(status, 404, "{body}");
    assert_eq!(
        body["details"]["unknownRepositories"],
        json!(["nothing"]),
        "{body}"
    );
    let (status, body) = server.get("/api/coordination/graph").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["metadata"]["repositoryCount"], 6, "{body}");
    let (status, body) = server.get("/api/coordination/graph").await;
    assert_eq!(
        status, 200,
        "the second answer is the rendered copy: {body}"
    );
    server.stop().await;
}
