//! Socket.IO at `/socket.io/` with the real npm `socket.io-client` (tests/socketio/client.mjs):
//! events reach it over long-polling (with a `read` token in the query) and over WebSocket,
//! `subscribe` narrows what it receives, and shutdown disconnects it without hanging.
//!
//! Needs `node` and `npm`; `node_modules` is installed with `npm ci` on first use (CI can do
//! it beforehand: `npm ci --prefix crates/switchyard-server/tests/socketio`).

mod common;

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use common::TestServer;
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, BufReader, Lines};
use tokio::process::{Child, ChildStdout, Command};

const TOKEN: &str = "socketio-test-token-0123456789";

fn client_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/socketio")
}

fn ensure_client() {
    common::npm::ensure_package(&client_dir(), "socket.io-client");
}

/// The node client and its stdout lines.
struct Client {
    child: Child,
    lines: Lines<BufReader<ChildStdout>>,
    seen: Vec<Value>,
}

async fn spawn_client(url: &str, args: &[&str], env: &[(&str, &str)]) -> Client {
    ensure_client();
    let mut command = Command::new("node");
    command
        .arg("client.mjs")
        .arg(url)
        .args(args)
        .current_dir(client_dir())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .kill_on_drop(true);
    for (key, value) in env {
        command.env(key, value);
    }
    let mut child = command.spawn().expect("spawn node client.mjs");
    let stdout = child.stdout.take().expect("piped stdout");
    let mut client = Client {
        child,
        lines: BufReader::new(stdout).lines(),
        seen: Vec::new(),
    };
    client.until(|line| line["status"] == "connected").await;
    client
}

impl Client {
    /// Reads lines until `done` holds for one; panics after 20 s or at end of output.
    async fn until(&mut self, done: impl Fn(&Value) -> bool) -> Value {
        loop {
            let line = tokio::time::timeout(Duration::from_secs(20), self.lines.next_line()).await;
            let line = match line {
                Ok(Ok(Some(line))) => line,
                other => panic!("node client output ended ({other:?}); seen {:?}", self.seen),
            };
            let value: Value = serde_json::from_str(&line)
                .unwrap_or_else(|e| panic!("client printed non-JSON ({e}): {line}"));
            self.seen.push(value.clone());
            if done(&value) {
                return value;
            }
        }
    }

    /// Waits for the awaited event and a clean exit; returns every line it printed.
    async fn finish(mut self) -> Vec<Value> {
        self.until(|line| line["status"] == "done").await;
        let status = tokio::time::timeout(Duration::from_secs(10), self.child.wait())
            .await
            .expect("node client exits")
            .expect("wait for node");
        assert!(
            status.success(),
            "node client failed: {status}; seen {:?}",
            self.seen
        );
        self.seen
    }

    fn events(&self) -> Vec<&str> {
        self.seen
            .iter()
            .filter_map(|l| l["event"].as_str())
            .collect()
    }
}

async fn register_and_claim(server: &TestServer, http: &reqwest::Client, port: u16) -> Value {
    let post = |path: String, body: Value| {
        let request = http.post(server.url(&path)).json(&body);
        async move { common::read(request.send().await.expect("POST")).await }
    };
    let (status, body) = post(
        "/api/coordination/resources/register".into(),
        json!({ "type": "port", "identifier": port.to_string() }),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    let (status, claim) = post(
        format!("/api/coordination/resources/port:{port}/claim"),
        json!({ "repository": "auth", "operation": { "type": "write" } }),
    )
    .await;
    assert_eq!(status, 201, "{claim}");
    claim
}

fn claimed_line<'a>(seen: &'a [Value], claim: &Value) -> &'a Value {
    let line = seen
        .iter()
        .find(|l| l["event"] == "resource.claimed")
        .unwrap_or_else(|| panic!("no resource.claimed in {seen:?}"));
    assert_eq!(line["data"]["resourceId"], claim["resourceId"], "{line}");
    assert_eq!(line["data"]["claimId"], claim["claimId"], "{line}");
    assert_eq!(line["data"]["repository"], "auth", "{line}");
    line
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn polling_client_with_a_read_token_gets_every_event() {
    let mut server = TestServer::start_with("homelab", |config| {
        config.tokens = vec![
            switchyard_server::config::TokenConfig {
                token: TOKEN.into(),
                scopes: vec![switchyard_server::config::Scope::Read],
                name: None,
            },
            switchyard_server::config::TokenConfig {
                token: format!("{TOKEN}-writer"),
                scopes: vec![switchyard_server::config::Scope::Write],
                name: None,
            },
        ];
    })
    .await;
    server.authorize(&format!("{TOKEN}-writer"));

    // Without a token the handshake is refused.
    let (status, body) = server.get("/socket.io/?EIO=4&transport=polling").await;
    assert_eq!(status, 200, "the writer token may connect: {body}");
    let (status, body) = common::read(
        reqwest::Client::new()
            .get(server.url("/socket.io/?EIO=4&transport=polling"))
            .send()
            .await
            .expect("GET"),
    )
    .await;
    common::assert_error(status, &body, 401, "UNAUTHORIZED");

    let client = spawn_client(
        &server.base,
        &["resource.claimed"],
        &[("SWITCHYARD_TOKEN", TOKEN), ("TRANSPORT", "polling")],
    )
    .await;
    assert_eq!(client.seen[0]["transport"], "polling");
    let claim = register_and_claim(&server, &server.http, 28080).await;
    let seen = client.finish().await;
    claimed_line(&seen, &claim);
    assert!(
        seen.iter().any(|l| l["event"] == "resource.registered"),
        "an unsubscribed client gets every event: {seen:?}"
    );
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn websocket_client_subscribed_to_a_topic() {
    let server = TestServer::start("homelab").await;
    let client = spawn_client(
        &server.base,
        &["resource.claimed", "resource.claimed"],
        &[("TRANSPORT", "websocket")],
    )
    .await;
    assert_eq!(client.seen[0]["transport"], "websocket");
    server
        .state()
        .publish("deployment.planned", json!({ "id": "coord_x" }));
    let claim = register_and_claim(&server, &server.http, 28081).await;
    let events = client.events();
    assert!(events.is_empty(), "{events:?}");
    let seen = client.finish().await;
    claimed_line(&seen, &claim);
    let events: Vec<&str> = seen.iter().filter_map(|l| l["event"].as_str()).collect();
    assert_eq!(events, vec!["resource.claimed"], "filtered by subscribe");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_disconnects_socket_io_clients() {
    let server = TestServer::start("homelab").await;
    // One long-polling client (an HTTP request held open) and one upgraded to WebSocket.
    let mut polling =
        spawn_client(&server.base, &["never.sent"], &[("TRANSPORT", "polling")]).await;
    let mut upgraded = spawn_client(&server.base, &["never.sent"], &[]).await;
    server
        .state()
        .publish("alert.raised", json!({ "id": "alert_1" }));
    for client in [&mut polling, &mut upgraded] {
        client.until(|line| line["event"] == "alert.raised").await;
    }
    let stopped = tokio::time::timeout(Duration::from_secs(10), server.stop()).await;
    assert!(
        stopped.is_ok(),
        "shutdown hung with Socket.IO clients connected"
    );
    // The clients notice the server went away and exit (1: they never got `never.sent`).
    for client in [&mut polling, &mut upgraded] {
        let status = tokio::time::timeout(Duration::from_secs(10), client.child.wait())
            .await
            .expect("node client exits after the server shut down")
            .expect("wait for node");
        assert_eq!(status.code(), Some(1));
    }
}
