//! The ledger's rules through the real SQLite store, with a manual clock: registration,
//! claims and refusals, TTL expiry without sleeping, renew, release, delete, list, history.
//! Every case runs against both write engines.

mod batched {
    const ENGINE: switchyard_store::Engine = switchyard_store::Engine::Batched;
    include!("cases/ledger.rs");
}

mod per_call {
    const ENGINE: switchyard_store::Engine = switchyard_store::Engine::PerCall;
    include!("cases/ledger.rs");
}
