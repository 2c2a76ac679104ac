//! A refresh reading a hostile checkout must not hold the server's shutdown: the walk is
//! cancelled at shutdown and the refresh answers 503 `SHUTTING_DOWN` (or its connection ends),
//! and the snapshot keeps the facts it had.

mod common;

use std::os::unix::fs::symlink;
use std::time::{Duration, Instant};

use switchyard_server::ServeOptions;

/// Links that fan out 4 ways over 14 levels inside `repo`: 4^13 paths, no cycle, nothing
/// outside the repository, so only the time limit or a cancel stops the walk.
fn link_fan(repo: &std::path::Path) {
    for level in 0..14 {
        let dir = repo.join(format!("fan/l{level}"));
        std::fs::create_dir_all(&dir).expect("dir");
        std::fs::write(dir.join(".env"), "A=1\n").expect("write");
        if level < 13 {
            for i in 0..4 {
                symlink(format!("../l{}", level + 1), dir.join(format!("n{i}"))).expect("link");
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_cancels_a_refresh_in_progress() {
    let dir = tempfile::tempdir().expect("temp dir");
    let root = common::copy_fleet("homelab", dir.path());
    let mut fleet = switchyard_extract::fleet::discover(&root).expect("fleet");
    // Limits that never stop this walk by themselves within the test.
    fleet.limits.walk_timeout = Duration::from_secs(3600);
    fleet.limits.max_files = usize::MAX;
    fleet.limits.max_depth = usize::MAX;
    fleet.limits.max_total_bytes = u64::MAX;
    let mut config = common::test_config();
    config.store = Some(format!("sqlite://{}", dir.path().join("s.db").display()));
    let running = switchyard_server::start(ServeOptions::new(config, fleet))
        .await
        .expect("server starts");
    let services_before = running.state.snapshot().model.services.len();
    link_fan(&root.join("api"));

    let url = format!(
        "http://{}/api/coordination/dependencies/refresh",
        running.address
    );
    let refresh = tokio::spawn(async move {
        let response = reqwest::Client::new()
            .post(url)
            .json(&serde_json::json!({ "repositories": ["api"] }))
            .send()
            .await;
        match response {
            Ok(response) => Some(common::read(response).await),
            Err(_) => None,
        }
    });
    // Let the refresh get into the walk.
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(!refresh.is_finished(), "the walk should still be running");

    let state = running.state.clone();
    let started = Instant::now();
    tokio::time::timeout(Duration::from_secs(10), running.shutdown())
        .await
        .expect("shutdown finishes while a refresh reads a huge checkout");
    assert!(started.elapsed() < Duration::from_secs(10));
    let answer = tokio::time::timeout(Duration::from_secs(10), refresh)
        .await
        .expect("the refresh ends")
        .expect("refresh task");
    if let Some((status, body)) = answer {
        common::assert_error(status, &body, 503, "SHUTTING_DOWN");
    }
    assert_eq!(state.snapshot().model.services.len(), services_before);
}
