//! The cluster-wide event log a shared store keeps, so an event published by one replica
//! reaches the subscribers of every replica. A store used by one process (SQLite) has none:
//! its events stay in that process's own bus.

use serde_json::Value;

use crate::error::StoreError;
use crate::store::BoxFuture;
use crate::time::Timestamp;

/// An event to append: what the publishing replica built.
#[derive(Debug, Clone, PartialEq)]
pub struct NewEvent {
    /// `evt_<ULID>`, the id subscribers see.
    pub id: String,
    pub name: String,
    /// The replica that published it.
    pub origin: String,
    pub data: Value,
    /// RFC 3339, the publisher's clock.
    pub timestamp: String,
}

/// An event read back from the log, with its place in the cluster's order.
#[derive(Debug, Clone, PartialEq)]
pub struct LoggedEvent {
    /// Monotonic over the whole cluster: a reader that saw `seq` has seen every event before it.
    pub seq: i64,
    pub event: NewEvent,
    /// When the database stored it.
    pub created_at: Timestamp,
}

/// What woke an event reader.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wakeup {
    /// An append was announced, with the last `seq` it wrote (a reader already past it need
    /// not read).
    Appended(i64),
    /// The notification channel was lost and re-opened: announcements may have been missed,
    /// read the log.
    Reconnected,
}

/// Announcements of appends (PostgreSQL `LISTEN`). Only a hint: readers also poll the log.
pub trait Wakeups: Send {
    fn next(&mut self) -> BoxFuture<'_, Result<Wakeup, StoreError>>;
}

/// The log itself. Appends are committed in `seq` order, so reading "after the last `seq` seen"
/// never skips an event that commits later with a smaller `seq`.
pub trait EventLog: Send + Sync {
    /// Appends `events` in order, in one transaction, and announces them; returns the last `seq`.
    fn append<'a>(&'a self, events: &'a [NewEvent]) -> BoxFuture<'a, Result<i64, StoreError>>;

    /// Up to `limit` events with `seq > after`, in order.
    fn after(&self, after: i64, limit: u32) -> BoxFuture<'_, Result<Vec<LoggedEvent>, StoreError>>;

    /// The last `seq` appended (0 when the log is empty): where a new reader starts.
    fn last_seq(&self) -> BoxFuture<'_, Result<i64, StoreError>>;

    /// Deletes events stored before `before` (retention); returns how many.
    fn purge(&self, before: Timestamp) -> BoxFuture<'_, Result<u64, StoreError>>;

    /// Starts listening for announcements of appends.
    fn wakeups(&self) -> BoxFuture<'_, Result<Box<dyn Wakeups>, StoreError>>;
}
