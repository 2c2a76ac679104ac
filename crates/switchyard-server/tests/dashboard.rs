//! The dashboard (`GET /`) in a real headless Chromium, driven by playwright-core
//! (tests/browser/dashboard.mjs): with a bearer token it draws the homelab graph and deployment
//! order, health, a claimed resource and recent operations without a console error, and its
//! "acknowledge" button acknowledges a raised alert through the API.
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

fn chromium() -> Option<PathBuf> {
    let path = std::env::var_os("CHROMIUM")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/usr/bin/chromium"));
    path.is_file().then_some(path)
}

/// Runs dashboard.mjs against the server; the JSON line it printed.
async fn open_dashboard(server: &TestServer, chromium: &Path, acknowledge: bool) -> Value {
    common::npm::ensure_package(&browser_dir(), "playwright-core");
    let output = tokio::process::Command::new("node")
        .arg("dashboard.mjs")
        .arg(&server.base)
        .arg(TOKEN)
        .current_dir(browser_dir())
        .env("CHROMIUM", chromium)
        .env("ACKNOWLEDGE", if acknowledge { "1" } else { "0" })
        .kill_on_drop(true)
        .output();
    let output = tokio::time::timeout(std::time::Duration::from_secs(60), output)
        .await
        .expect("the browser finished within 60 s")
        .expect("run node dashboard.mjs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "dashboard.mjs failed: {}\n{stdout}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_str(stdout.trim()).unwrap_or_else(|e| panic!("not JSON ({e}): {stdout}"))
}

fn rows(page: &Value, table: &str) -> Vec<Vec<String>> {
    serde_json::from_value(page[table].clone()).unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_dashboard_shows_the_fleet_and_acknowledges_an_alert() {
    let Some(chromium) = chromium() else {
        assert!(
            std::env::var("SWITCHYARD_REQUIRE_BROWSER").as_deref() != Ok("1"),
            "SWITCHYARD_REQUIRE_BROWSER=1 but no Chromium at /usr/bin/chromium or $CHROMIUM"
        );
        eprintln!("skipped: no Chromium (apt-get install chromium, or set CHROMIUM)");
        return;
    };
    let mut server = TestServer::start_with("homelab", |config| {
        config.tokens = vec![TokenConfig {
            token: TOKEN.into(),
            scopes: vec![Scope::Admin],
            name: None,
        }];
    })
    .await;
    server.authorize(TOKEN);
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

    let page = open_dashboard(&server, &chromium, false).await;
    assert_eq!(page["errors"], json!([]), "{page}");
    assert_eq!(page["message"], "", "{page}");
    let mut nodes: Vec<String> = serde_json::from_value(page["nodes"].clone()).unwrap_or_default();
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
    assert_eq!(page["cycleNodes"], json!([]), "{page}");
    assert!(page["edges"].as_u64().is_some_and(|n| n >= 5), "{page}");
    let order = page["order"].as_str().unwrap_or("");
    assert!(
        order.starts_with("Deployment order: postgres → auth"),
        "{page}"
    );
    assert_eq!(page["health"], "healthy", "{page}");
    assert!(
        rows(&page, "components")
            .iter()
            .any(|r| r[0] == "store" && r[1] == "healthy"),
        "{page}"
    );
    assert!(
        rows(&page, "resources").contains(&vec![
            "port:5432".into(),
            "1/1".into(),
            "postgres".into()
        ]),
        "{page}"
    );
    assert!(
        rows(&page, "operations")
            .iter()
            .any(|r| r[1] == "claim" && r[2] == "completed"),
        "{page}"
    );
    assert!(
        rows(&page, "alerts").iter().any(|r| r[1] == "no alerts"),
        "{page}"
    );

    // Six failed claims of seven operations: a high failure rate alert.
    server.failing_claims(6).await;
    let raised = server.housekeeping().await;
    assert_eq!(raised.len(), 1, "{raised:?}");

    let page = open_dashboard(&server, &chromium, true).await;
    assert_eq!(page["errors"], json!([]), "{page}");
    let before = rows(&page, "alerts");
    assert!(before.iter().any(|r| r[0] == "high"), "{page}");
    let after = rows(&page, "alertsAfterAcknowledge");
    assert!(after.iter().any(|r| r[3] == "acknowledged"), "{page}");
    let (status, alerts) = server.get("/api/coordination/alerts").await;
    assert_eq!(status, 200, "{alerts}");
    assert_eq!(alerts["summary"]["acknowledged"], 1, "{alerts}");
    server.stop().await;
}
