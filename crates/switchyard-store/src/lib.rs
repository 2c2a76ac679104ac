//! The shared-resource ledger: registered resources (ports, domains, volumes, ...), claims on
//! them with TTLs and operation compatibility, and a history of every change.
//!
//! [`Store`] is the backend-neutral interface; [`SqliteStore`] is the embedded implementation
//! (`.switchyard/state.db`), [`PgStore`] the shared one for several coordinators on one
//! PostgreSQL (`postgres://...`). Time is always passed in (`now`), so expiry is testable without
//! sleeping; [`Clock`] gives callers a [`SystemClock`] or a [`ManualClock`].
//!
//! ```no_run
//! # async fn demo() -> Result<(), switchyard_store::StoreError> {
//! use switchyard_store::{Operation, Registration, ResourceType, SqliteOptions, SqliteStore, Store, Timestamp};
//!
//! let store = SqliteStore::open(SqliteOptions::from_url("sqlite://.switchyard/state.db")?).await?;
//! let now = Timestamp::now_utc();
//! store.register(&Registration::new(ResourceType::Port, "8080"), now).await?;
//! let claim = store
//!     .claim("port:8080", "web", &Operation::new("deploy").exclusive().ttl(600), now)
//!     .await?;
//! store.release("port:8080", &claim.claim_id, now).await?;
//! # Ok(()) }
//! ```
//!
//! Not here: HTTP routing, auth, event fan-out (the server does those).

mod error;
pub mod events;
mod open;
mod postgres;
pub mod rules;
mod sqlite;
mod store;
pub mod sync;
mod time;
mod types;

pub use error::StoreError;
pub use events::{EventLog, LoggedEvent, NewEvent, Wakeup, Wakeups};
pub use open::open_url;
pub use postgres::{PgClock, PgOptions, PgStore, is_postgres_url, redact_url};
pub use sqlite::{DEFAULT_PATH, Durability, Engine, SqliteOptions, SqliteStore};
pub use store::{BoxFuture, Record, RecordVersion, Store};
pub use time::{Clock, ManualClock, SystemClock, Timestamp};
pub use types::{
    Claim, HistoryAction, HistoryEntry, HistoryPage, HistoryQuery, ListFilter, Operation,
    RegisterOutcome, Registered, Registration, Resource, ResourceId, ResourceStatus, ResourceType,
};
