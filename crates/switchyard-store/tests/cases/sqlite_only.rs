// Included by `tests/ledger.rs` in the SQLite modules only: cases about the SQLite file
// itself (its lock, its WAL, reopening it by path).

use switchyard_store::{SqliteOptions, SqliteStore};

/// Another connection (as another process would) holds the write lock: calls wait for the busy
/// timeout, then fail as unavailable; nothing is granted behind the lock holder's back.
#[tokio::test]
async fn a_lock_held_elsewhere_makes_calls_busy_not_wrong() {
    use sqlx::Connection;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state.db");
    let options = SqliteOptions::new(&path)
        .engine(ENGINE)
        .busy_timeout(Duration::from_millis(200));
    let store = SqliteStore::open(options).await.unwrap();
    register(&store, ResourceType::Port, "8443", 1).await;

    let mut other = sqlx::SqliteConnection::connect(&format!("sqlite://{}", path.display()))
        .await
        .unwrap();
    sqlx::query("BEGIN IMMEDIATE").execute(&mut other).await.unwrap();
    let started = std::time::Instant::now();
    let error = store
        .claim("port:8443", "web", &Operation::new("deploy"), T0)
        .await
        .unwrap_err();
    assert_eq!(error.code(), "STORE_UNAVAILABLE", "{error}");
    assert_eq!(error.http_status(), 503);
    assert!(started.elapsed() >= Duration::from_millis(150), "waited for the lock");

    sqlx::query("ROLLBACK").execute(&mut other).await.unwrap();
    store
        .claim("port:8443", "web", &Operation::new("deploy"), T0)
        .await
        .unwrap();
    let status = store.status("port:8443", T0).await.unwrap();
    assert_eq!(status.current_usage, 1, "the refused attempt left nothing behind");
}

#[tokio::test]
async fn state_survives_reopening_and_the_file_is_in_wal_mode() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open_in(dir.path()).await.unwrap();
    assert!(store.path().ends_with(".switchyard/state.db"));
    register(&store, ResourceType::Port, "7000", 1).await;
    let claim = store
        .claim("port:7000", "a", &Operation::new("deploy"), T0)
        .await
        .unwrap();
    assert!(
        dir.path().join(".switchyard/state.db-wal").exists(),
        "WAL journal"
    );
    store.close().await;

    let url = format!(
        "sqlite://{}",
        dir.path().join(".switchyard/state.db").display()
    );
    let store = SqliteStore::open(SqliteOptions::from_url(&url).unwrap())
        .await
        .unwrap();
    let status = store.status("port:7000", T0).await.unwrap();
    assert_eq!(status.claims, [claim]);
}
