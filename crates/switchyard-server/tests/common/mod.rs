//! Helpers for the server's integration tests: a real server on an ephemeral loopback port with
//! a temporary SQLite store and a copy of an example fleet, and a small JSON client for it.
#![allow(dead_code)]

pub mod npm;
pub mod ws;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde_json::Value;
use switchyard_server::{RunningServer, ServeOptions, ServerConfig};
use switchyard_store::{Clock, ManualClock, Timestamp};

pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .expect("workspace root")
}

/// Copies `examples/fleets/<name>` into `into` (so tests may edit files) and returns the copy.
pub fn copy_fleet(name: &str, into: &Path) -> PathBuf {
    let from = workspace_root().join("examples/fleets").join(name);
    let to = into.join(name);
    copy_dir(&from, &to);
    to
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("create dir");
    for entry in std::fs::read_dir(from).expect("read dir") {
        let entry = entry.expect("dir entry");
        let target = to.join(entry.file_name());
        let kind = entry.file_type().expect("file type");
        if kind.is_dir() {
            copy_dir(&entry.path(), &target);
        } else if kind.is_file() {
            std::fs::copy(entry.path(), &target).expect("copy file");
        }
    }
}

/// A running test server with its temporary folder (fleet copy + store), its clock and a client.
pub struct TestServer {
    pub dir: tempfile::TempDir,
    pub fleet_root: PathBuf,
    pub store_url: String,
    pub clock: ManualClock,
    pub server: Option<RunningServer>,
    pub base: String,
    pub http: reqwest::Client,
}

/// The instant every test clock starts at.
pub fn t0() -> Timestamp {
    Timestamp::from_unix_millis(1_767_225_600_000) // 2026-01-01T00:00:00Z
}

/// A config suitable for tests: ephemeral loopback port, no rate limit.
pub fn test_config() -> ServerConfig {
    let mut config = ServerConfig {
        bind: "127.0.0.1:0".parse().expect("address"),
        ..ServerConfig::default()
    };
    config.rate_limit.per_second = 0.0;
    config
}

impl TestServer {
    /// Starts a server on `examples/fleets/<fleet>` with the default test config.
    pub async fn start(fleet: &str) -> TestServer {
        TestServer::start_with(fleet, |_| {}).await
    }

    /// Starts a server after `adjust` changed the test config.
    pub async fn start_with(fleet: &str, adjust: impl FnOnce(&mut ServerConfig)) -> TestServer {
        let dir = tempfile::tempdir().expect("temp dir");
        let fleet_root = copy_fleet(fleet, dir.path());
        TestServer::start_on(dir, fleet_root, adjust).await
    }

    /// Starts a server on a fleet already written to `fleet_root` (inside `dir`, which the
    /// server keeps and deletes when dropped).
    pub async fn start_on(
        dir: tempfile::TempDir,
        fleet_root: PathBuf,
        adjust: impl FnOnce(&mut ServerConfig),
    ) -> TestServer {
        let store_url = format!("sqlite://{}", dir.path().join("state.db").display());
        let mut config = test_config();
        config.store = Some(store_url.clone());
        adjust(&mut config);
        let clock = ManualClock::new(t0());
        let mut server = TestServer {
            dir,
            fleet_root,
            store_url,
            clock,
            server: None,
            base: String::new(),
            http: reqwest::Client::new(),
        };
        server.boot(config).await;
        server
    }

    async fn boot(&mut self, config: ServerConfig) {
        let fleet = switchyard_extract::fleet::discover(&self.fleet_root).expect("fleet");
        let mut options = ServeOptions::new(config, fleet);
        options.clock = Some(Arc::new(self.clock.clone()) as Arc<dyn Clock>);
        let running = switchyard_server::start(options)
            .await
            .expect("server starts");
        self.base = format!("http://{}", running.address);
        self.server = Some(running);
    }

    /// Stops the server gracefully and starts a new one on the same fleet and store.
    pub async fn restart(&mut self, config: ServerConfig) {
        if let Some(server) = self.server.take() {
            server.shutdown().await;
        }
        let mut config = config;
        config.store = Some(self.store_url.clone());
        self.boot(config).await;
    }

    /// Sends `Authorization: Bearer <token>` with every later request of `self.http`.
    pub fn authorize(&mut self, token: &str) {
        let mut headers = reqwest::header::HeaderMap::new();
        headers.insert(
            reqwest::header::AUTHORIZATION,
            format!("Bearer {token}").parse().expect("header"),
        );
        self.http = reqwest::Client::builder()
            .default_headers(headers)
            .build()
            .expect("client");
    }

    pub fn state(&self) -> &switchyard_server::state::AppState {
        &self.server.as_ref().expect("running").state
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    /// Moves the test clock forward.
    pub fn advance(&self, seconds: u64) {
        self.clock.advance(std::time::Duration::from_secs(seconds));
    }

    pub async fn get(&self, path: &str) -> (u16, Value) {
        let response = self.http.get(self.url(path)).send().await.expect("GET");
        read(response).await
    }

    pub async fn post(&self, path: &str, body: Value) -> (u16, Value) {
        let response = self
            .http
            .post(self.url(path))
            .json(&body)
            .send()
            .await
            .expect("POST");
        read(response).await
    }

    /// POST with a raw body (malformed JSON, oversize bodies).
    pub async fn post_raw(&self, path: &str, body: impl Into<reqwest::Body>) -> (u16, Value) {
        let response = self
            .http
            .post(self.url(path))
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .expect("POST");
        read(response).await
    }

    pub async fn delete(&self, path: &str) -> (u16, Value) {
        let response = self
            .http
            .delete(self.url(path))
            .send()
            .await
            .expect("DELETE");
        read(response).await
    }

    /// One housekeeping round now (expired claims, deployment timeouts, alert rules), as the
    /// background loop runs it; the alerts it raised and cleared.
    pub async fn housekeeping(&self) -> Vec<switchyard_monitor::AlertChange> {
        self.server.as_ref().expect("running").evaluate_now().await
    }

    /// Claims of an unregistered resource: each is a failed `claim` operation (404).
    pub async fn failing_claims(&self, count: usize) {
        for _ in 0..count {
            let (status, body) = self
                .post(
                    "/api/coordination/resources/port:9/claim",
                    serde_json::json!({ "repository": "api", "operation": { "type": "write" } }),
                )
                .await;
            assert_error(status, &body, 404, "NOT_FOUND");
        }
    }

    pub async fn stop(mut self) {
        if let Some(server) = self.server.take() {
            server.shutdown().await;
        }
    }
}

/// Status and JSON body (`Value::Null` for a non-JSON body).
pub async fn read(response: reqwest::Response) -> (u16, Value) {
    let status = response.status().as_u16();
    let text = response.text().await.unwrap_or_default();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

/// Asserts the API's error model: 4xx, `success:false`, the code, a message and a request id.
pub fn assert_error(status: u16, body: &Value, expected_status: u16, code: &str) {
    assert_eq!(status, expected_status, "status for {body}");
    assert_eq!(body["success"], false, "{body}");
    assert_eq!(body["error"], code, "{body}");
    assert!(
        body["message"].as_str().is_some_and(|m| !m.is_empty()),
        "{body}"
    );
    assert!(
        body["requestId"].as_str().is_some_and(|m| !m.is_empty()),
        "{body}"
    );
}
