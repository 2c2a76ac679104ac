// Included by `tests/ledger.rs` once per engine, with `ENGINE` defined by the including module:
// imports and helpers shared by `claims.rs` and `resources.rs`.

use std::time::Duration;

use serde_json::json;
use switchyard_store::{
    Clock, Durability, HistoryAction, HistoryQuery, ListFilter, ManualClock, Operation,
    RegisterOutcome, Registration, ResourceType, SqliteOptions, SqliteStore, Store, StoreError,
    Timestamp,
};
use tempfile::TempDir;

const T0: Timestamp = Timestamp::from_unix_millis(1_714_564_800_000); // 2024-05-01T12:00:00Z

async fn fresh() -> (TempDir, SqliteStore, ManualClock) {
    let dir = tempfile::tempdir().unwrap();
    let options = SqliteOptions::new(dir.path().join("state.db"))
        .durability(Durability::Relaxed)
        .engine(ENGINE);
    let store = SqliteStore::open(options).await.unwrap();
    (dir, store, ManualClock::new(T0))
}

async fn register(store: &SqliteStore, kind: ResourceType, id: &str, capacity: u32) {
    let registration = Registration::new(kind, id).with_capacity(capacity);
    store.register(&registration, T0).await.unwrap();
}

fn code<T: std::fmt::Debug>(result: Result<T, StoreError>) -> &'static str {
    result.expect_err("expected a refusal").code()
}

