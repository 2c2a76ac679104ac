//! `watch = true`: editing files in a repository folder re-analyses that repository (a burst
//! over two repositories in one debounced pass); changes under `.git/` are ignored; without
//! the flag nothing is watched.

mod common;

use std::time::Duration;

use common::TestServer;
use serde_json::json;
use switchyard_server::events::Event;
use tokio::sync::broadcast::Receiver;

/// The next `repository.changed` within `within`, or `None`.
async fn next_change(events: &mut Receiver<Event>, within: Duration) -> Option<Event> {
    let deadline = tokio::time::Instant::now() + within;
    loop {
        match tokio::time::timeout_at(deadline, events.recv()).await {
            Ok(Ok(event)) if event.event == "repository.changed" => return Some(event),
            Ok(Ok(_)) => {}
            Ok(Err(error)) => panic!("bus: {error}"),
            Err(_) => return None,
        }
    }
}

fn append(path: &std::path::Path, line: &str) {
    let mut text = std::fs::read_to_string(path).expect("read");
    text.push_str(line);
    std::fs::write(path, text).expect("write");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn edits_trigger_one_debounced_reanalysis() {
    let server = TestServer::start_with("homelab", |config| config.watch = true).await;
    let mut events = server.state().events.subscribe();
    // Give inotify a moment to have every folder registered.
    tokio::time::sleep(Duration::from_millis(200)).await;

    // Ignored: the repository's git folder.
    let git = server.fleet_root.join("api/.git");
    std::fs::create_dir_all(&git).expect("mkdir .git");
    std::fs::write(git.join("HEAD"), "ref: refs/heads/main\n").expect("write HEAD");
    assert!(
        next_change(&mut events, Duration::from_secs(1))
            .await
            .is_none(),
        ".git changes must not re-analyse"
    );

    append(
        &server.fleet_root.join("api/.env.example"),
        "METRICS_URL=http://localhost:9090\n",
    );
    append(&server.fleet_root.join("auth/.env"), "# touched\n");
    let first = next_change(&mut events, Duration::from_secs(10))
        .await
        .expect("repository.changed after an edit");
    assert_eq!(
        first.data["summary"]["repositories"],
        json!(["api", "auth"]),
        "one pass for the burst: {:?}",
        first.data
    );
    let second = next_change(&mut events, Duration::from_secs(5))
        .await
        .expect("an event per repository");
    let mut names = vec![
        first.data["repository"].clone(),
        second.data["repository"].clone(),
    ];
    names.sort_by_key(|v| v.to_string());
    assert_eq!(names, vec![json!("api"), json!("auth")]);
    let (status, body) = server.get("/api/coordination/dependencies").await;
    assert_eq!(status, 200, "{body}");
    let api = body["directDependencies"]["api"].as_array().expect("api");
    assert!(
        api.iter().any(|d| d["repository"] == "monitoring"),
        "{api:?}"
    );
    // Re-reading the files did not trigger another pass.
    assert!(
        next_change(&mut events, Duration::from_secs(1))
            .await
            .is_none(),
        "re-analysis must not re-trigger itself"
    );
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_the_flag_nothing_is_watched() {
    let server = TestServer::start("homelab").await;
    let mut events = server.state().events.subscribe();
    append(
        &server.fleet_root.join("api/.env.example"),
        "METRICS_URL=http://localhost:9090\n",
    );
    assert!(
        next_change(&mut events, Duration::from_secs(1))
            .await
            .is_none()
    );
    server.stop().await;
}

/// The server's own files inside a watched repository (an operation log, a SQLite store) do
/// not trigger re-analysis: otherwise each re-analysis writes them, which triggers the next.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_servers_own_files_do_not_retrigger_analysis() {
    let server = TestServer::start_with("homelab", |config| {
        config.watch = true;
        config.operation_log = Some("api/operations.jsonl".into());
    })
    .await;
    let mut events = server.state().events.subscribe();
    tokio::time::sleep(Duration::from_millis(200)).await;
    let (status, body) = server
        .post(
            "/api/coordination/dependencies/refresh",
            json!({ "repositories": ["api"] }),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert!(server.fleet_root.join("api/operations.jsonl").exists());
    // The refresh's own repository.changed, then nothing: the log line it wrote is ignored.
    assert!(
        next_change(&mut events, Duration::from_secs(1))
            .await
            .is_some()
    );
    let again = next_change(&mut events, Duration::from_secs(2)).await;
    assert!(again.is_none(), "the operation log re-triggered: {again:?}");
    server.stop().await;
}
