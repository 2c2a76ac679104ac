//! The ledger's rules through the real SQLite store, with a manual clock: registration,
//! claims and refusals, TTL expiry without sleeping, renew, release, delete, list, history.
//! Every case runs against both write engines.

mod batched {
    const ENGINE: switchyard_store::Engine = switchyard_store::Engine::Batched;
    include!("cases/common.rs");
    include!("cases/claims.rs");
    include!("cases/resources.rs");
}

mod per_call {
    const ENGINE: switchyard_store::Engine = switchyard_store::Engine::PerCall;
    include!("cases/common.rs");
    include!("cases/claims.rs");
    include!("cases/resources.rs");
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
