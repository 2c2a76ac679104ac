//! The backend-neutral `Store` trait, implemented by SQLite (one process, `BEGIN IMMEDIATE`)
//! and PostgreSQL (several replicas, row locks, an event log and a leader lock).

use std::future::Future;
use std::pin::Pin;

use serde_json::Value;

use crate::error::StoreError;
use crate::time::Timestamp;
use crate::types::{
    Claim, HistoryPage, HistoryQuery, ListFilter, Operation, Registered, Registration,
    ResourceStatus,
};

/// A boxed, `Send` future, so `Store` stays object-safe (`Arc<dyn Store>` picked at run time).
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// The shared-resource ledger.
///
/// Every call takes `now`: the store never reads a clock, so TTL behaviour is testable without
/// sleeping. A claim is live while `now < expires_at`; expired claims never count, whether or
/// not `sweep_expired` ran. Mutations are linearizable: at no instant do two holders share an
/// exclusive resource or do more holders than `capacity` hold it, across threads and processes.
/// Every mutation is recorded in the history with `now`.
pub trait Store: Send + Sync {
    /// Registers `type:identifier`. Identical → `Exists`; new → `Created`; a changed capacity or
    /// metadata → `Updated`, keeping claims. Lowering capacity below the live usage →
    /// `CapacityBelowUsage`.
    fn register<'a>(
        &'a self,
        registration: &'a Registration,
        now: Timestamp,
    ) -> BoxFuture<'a, Result<Registered, StoreError>>;

    /// Claims a registered resource for `repository`. Refusals (`Locked`, `AtCapacity`,
    /// `IncompatibleOperation`) carry the live holders.
    fn claim<'a>(
        &'a self,
        resource_id: &'a str,
        repository: &'a str,
        operation: &'a Operation,
        now: Timestamp,
    ) -> BoxFuture<'a, Result<Claim, StoreError>>;

    /// Sets a live claim to expire `ttl_seconds` after `now`; returns the renewed claim.
    /// Unknown or already expired → `ClaimNotFound`.
    fn renew<'a>(
        &'a self,
        resource_id: &'a str,
        claim_id: &'a str,
        ttl_seconds: u64,
        now: Timestamp,
    ) -> BoxFuture<'a, Result<Claim, StoreError>>;

    /// Releases a live claim. Unknown or already expired → `ClaimNotFound`.
    fn release<'a>(
        &'a self,
        resource_id: &'a str,
        claim_id: &'a str,
        now: Timestamp,
    ) -> BoxFuture<'a, Result<(), StoreError>>;

    /// Deletes a resource; `StillClaimed` while it has live claims.
    fn delete_resource<'a>(
        &'a self,
        resource_id: &'a str,
        now: Timestamp,
    ) -> BoxFuture<'a, Result<(), StoreError>>;

    /// Resources (sorted by id) with their usage at `now`.
    fn list<'a>(
        &'a self,
        filter: &'a ListFilter,
        now: Timestamp,
    ) -> BoxFuture<'a, Result<Vec<ResourceStatus>, StoreError>>;

    /// One resource with its live claims at `now`.
    fn status<'a>(
        &'a self,
        resource_id: &'a str,
        now: Timestamp,
    ) -> BoxFuture<'a, Result<ResourceStatus, StoreError>>;

    /// Deletes claims expired at `now`, recording an `expired` entry for each; returns how many.
    /// Only housekeeping: correctness never depends on it.
    fn sweep_expired(&self, now: Timestamp) -> BoxFuture<'_, Result<u64, StoreError>>;

    /// Recorded changes, newest first.
    fn history<'a>(
        &'a self,
        query: &'a HistoryQuery,
    ) -> BoxFuture<'a, Result<HistoryPage, StoreError>>;

    /// Writes (inserts or replaces) the JSON document `kind/id`. Durable when acknowledged.
    fn put_record<'a>(
        &'a self,
        kind: &'a str,
        id: &'a str,
        body: &'a Value,
        now: Timestamp,
    ) -> BoxFuture<'a, Result<(), StoreError>>;

    /// The document `kind/id`, if any.
    fn get_record<'a>(
        &'a self,
        kind: &'a str,
        id: &'a str,
    ) -> BoxFuture<'a, Result<Option<Value>, StoreError>> {
        Box::pin(async move {
            Ok(self
                .get_record_versioned(kind, id)
                .await?
                .map(|(body, _)| body))
        })
    }

    /// The document `kind/id` and its version, for a later [`Store::swap_record`].
    fn get_record_versioned<'a>(
        &'a self,
        kind: &'a str,
        id: &'a str,
    ) -> BoxFuture<'a, Result<Option<(Value, RecordVersion)>, StoreError>>;

    /// Compare-and-swap: writes `kind/id` only if it is still at `expected` (`None`: only if
    /// it does not exist); whether it wrote. Two replicas updating one document from the same
    /// read cannot both succeed, so neither update is lost.
    fn swap_record<'a>(
        &'a self,
        kind: &'a str,
        id: &'a str,
        expected: Option<&'a RecordVersion>,
        body: &'a Value,
        now: Timestamp,
    ) -> BoxFuture<'a, Result<bool, StoreError>>;

    /// All documents of `kind`, sorted by id.
    fn list_records<'a>(&'a self, kind: &'a str) -> BoxFuture<'a, Result<Vec<Record>, StoreError>>;

    /// Deletes `kind/id`; whether it existed.
    fn delete_record<'a>(
        &'a self,
        kind: &'a str,
        id: &'a str,
        now: Timestamp,
    ) -> BoxFuture<'a, Result<bool, StoreError>>;

    /// Deletes documents of `kind` last written before `before`; returns how many.
    fn purge_records<'a>(
        &'a self,
        kind: &'a str,
        before: Timestamp,
        now: Timestamp,
    ) -> BoxFuture<'a, Result<u64, StoreError>>;

    /// Deletes ledger history entries recorded before `before` (retention); returns how many.
    fn purge_history(
        &self,
        before: Timestamp,
        now: Timestamp,
    ) -> BoxFuture<'_, Result<u64, StoreError>>;

    /// A read round trip, for health checks.
    fn ping(&self) -> BoxFuture<'_, Result<(), StoreError>>;

    /// Whether this process should run the background work (sweeps, alert evaluation,
    /// retention, deployment timeouts) now. Called before each round. A store used by one
    /// process (SQLite) always leads; a shared one lets one replica lead at a time.
    fn lead(&self) -> BoxFuture<'_, Result<bool, StoreError>> {
        Box::pin(async { Ok(true) })
    }

    /// The cluster-wide event log of a store shared by several replicas; `None` for a store
    /// used by one process (its events stay in that process).
    fn event_log(&self) -> Option<&dyn crate::events::EventLog> {
        None
    }
}

/// What a document was when read: its stored text, compared exactly by
/// [`Store::swap_record`] (no re-serialization involved).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordVersion(pub(crate) String);

/// One stored document (see [`Store::put_record`]).
#[derive(Debug, Clone, PartialEq)]
pub struct Record {
    pub id: String,
    pub body: Value,
    pub updated_at: Timestamp,
}
