// Included by `tests/ledger.rs` once per engine, with `BACKEND` defined by the including module:
// imports and helpers shared by `claims.rs` and `resources.rs`.

use std::time::Duration;

use serde_json::json;
use switchyard_store::{
    Clock, Durability, HistoryAction, HistoryQuery, ListFilter, ManualClock, Operation, PgClock,
    RegisterOutcome, Registration, ResourceType, Store, StoreError, Timestamp,
};

const T0: Timestamp = Timestamp::from_unix_millis(1_714_564_800_000); // 2024-05-01T12:00:00Z

/// Keeps a test's database alive: a temporary directory or a PostgreSQL schema.
#[allow(dead_code)]
enum Guard {
    Dir(tempfile::TempDir),
    Schema(crate::support::PgSchema),
}

/// A fresh store of this module's backend, driven by the manual clock; `None` when the backend
/// is PostgreSQL and none is available (the skip is printed).
async fn fresh() -> Option<(Guard, Box<dyn Store>, ManualClock)> {
    let clock = ManualClock::new(T0);
    match BACKEND {
        crate::Backend::Sqlite(engine) => {
            let dir = tempfile::tempdir().unwrap();
            let options = switchyard_store::SqliteOptions::new(dir.path().join("state.db"))
                .durability(Durability::Relaxed)
                .engine(engine);
            let store = switchyard_store::SqliteStore::open(options).await.unwrap();
            Some((Guard::Dir(dir), Box::new(store), clock))
        }
        crate::Backend::Postgres => {
            let (schema, store) = crate::support::fresh_pg("ledger", PgClock::Caller).await?;
            Some((Guard::Schema(schema), Box::new(store), clock))
        }
    }
}

/// Any store of these tests, boxed or concrete.
trait AsStore {
    fn as_store(&self) -> &dyn Store;
}

impl AsStore for Box<dyn Store> {
    fn as_store(&self) -> &dyn Store {
        &**self
    }
}

impl AsStore for switchyard_store::SqliteStore {
    fn as_store(&self) -> &dyn Store {
        self
    }
}

impl AsStore for switchyard_store::PgStore {
    fn as_store(&self) -> &dyn Store {
        self
    }
}

impl AsStore for std::sync::Arc<dyn Store> {
    fn as_store(&self) -> &dyn Store {
        &**self
    }
}

async fn register(store: &impl AsStore, kind: ResourceType, id: &str, capacity: u32) {
    let registration = Registration::new(kind, id).with_capacity(capacity);
    store.as_store().register(&registration, T0).await.unwrap();
}

fn code<T: std::fmt::Debug>(result: Result<T, StoreError>) -> &'static str {
    result.expect_err("expected a refusal").code()
}
