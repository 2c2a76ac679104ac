//! The ledger's rules through the real stores, with a manual clock: registration, claims and
//! refusals, TTL expiry without sleeping, renew, release, delete, list, history. Every case
//! runs against both SQLite write engines and against PostgreSQL (skipped loudly without
//! `SWITCHYARD_TEST_PG_URL`, failing instead when `SWITCHYARD_REQUIRE_POSTGRES=1`).

mod support;

#[derive(Clone, Copy)]
pub enum Backend {
    Sqlite(switchyard_store::Engine),
    Postgres,
}

mod batched {
    const BACKEND: crate::Backend = crate::Backend::Sqlite(switchyard_store::Engine::Batched);
    const ENGINE: switchyard_store::Engine = switchyard_store::Engine::Batched;
    include!("cases/common.rs");
    include!("cases/claims.rs");
    include!("cases/resources.rs");
    include!("cases/records.rs");
    include!("cases/sqlite_only.rs");
}

mod per_call {
    const BACKEND: crate::Backend = crate::Backend::Sqlite(switchyard_store::Engine::PerCall);
    const ENGINE: switchyard_store::Engine = switchyard_store::Engine::PerCall;
    include!("cases/common.rs");
    include!("cases/claims.rs");
    include!("cases/resources.rs");
    include!("cases/records.rs");
    include!("cases/sqlite_only.rs");
}

mod postgres {
    const BACKEND: crate::Backend = crate::Backend::Postgres;
    include!("cases/common.rs");
    include!("cases/claims.rs");
    include!("cases/resources.rs");
    include!("cases/records.rs");
    include!("cases/postgres_only.rs");
}

use switchyard_store::SqliteOptions;

#[test]
fn sqlite_urls() {
    let options = SqliteOptions::from_url("sqlite://.switchyard/state.db").unwrap();
    assert_eq!(options.path, std::path::Path::new(".switchyard/state.db"));
    let options = SqliteOptions::from_url("sqlite:///var/lib/sy/state.db").unwrap();
    assert_eq!(options.path, std::path::Path::new("/var/lib/sy/state.db"));
    assert!(SqliteOptions::from_url("postgres://db/sy").is_err());
    assert!(SqliteOptions::from_url("sqlite://").is_err());
    assert!(SqliteOptions::from_url("sqlite://x.db?mode=ro").is_err());
}
