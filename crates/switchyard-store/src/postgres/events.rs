//! The event log on PostgreSQL: the `events` table (`seq` a BIGSERIAL), appends serialized by a
//! transaction-level advisory lock so rows commit in `seq` order, and `pg_notify` on a channel
//! of the schema so other replicas' listeners wake at once.

use serde_json::Value;
use sqlx::Row;
use sqlx::postgres::{PgListener, PgPoolOptions};

use super::PgStore;
use crate::error::StoreError;
use crate::events::{EventLog, LoggedEvent, NewEvent, Wakeup, Wakeups};
use crate::store::BoxFuture;
use crate::time::Timestamp;

/// Held by each append until it commits: the next append takes its `seq` only after this one
/// is visible, so a reader that saw `seq` n has seen everything below n.
const APPEND_LOCK: i32 = 0x5359_4556; // "SYEV"

/// The notification channel of events in `schema` (replicas on other schemas of the same
/// database do not wake each other).
pub(super) fn channel(schema: &str) -> String {
    format!("switchyard_events:{schema}")
}

impl PgStore {
    async fn append_now(&self, events: &[NewEvent]) -> Result<i64, StoreError> {
        if events.is_empty() {
            return self.last_seq_now().await;
        }
        let column = |f: fn(&NewEvent) -> String| events.iter().map(f).collect::<Vec<String>>();
        let (ids, names, origins, data, stamps) = (
            column(|e| e.id.clone()),
            column(|e| e.name.clone()),
            column(|e| e.origin.clone()),
            column(|e| e.data.to_string()),
            column(|e| e.timestamp.clone()),
        );
        self.bounded(async {
            let mut tx = self.pool.begin().await?;
            sqlx::query("SELECT pg_advisory_xact_lock($1, hashtext(current_schema()))")
                .bind(APPEND_LOCK)
                .execute(&mut *tx)
                .await?;
            let last: Option<i64> = sqlx::query_scalar(
                "WITH input AS (
                     SELECT * FROM UNNEST($1::text[], $2::text[], $3::text[], $4::text[], $5::text[])
                         WITH ORDINALITY AS t(event_id, name, origin, data, published_at, ord)
                 ), inserted AS (
                     INSERT INTO events (event_id, name, origin, data, published_at, created_at_ms)
                     SELECT event_id, name, origin, data::jsonb, published_at,
                            (extract(epoch FROM clock_timestamp()) * 1000)::bigint
                     FROM input ORDER BY ord
                     RETURNING seq
                 )
                 SELECT max(seq) FROM inserted",
            )
            .bind(&ids)
            .bind(&names)
            .bind(&origins)
            .bind(&data)
            .bind(&stamps)
            .fetch_one(&mut *tx)
            .await?;
            let last = last.unwrap_or(0);
            // Delivered at commit, to every listener of the channel (this replica's too).
            sqlx::query("SELECT pg_notify($1, $2)")
                .bind(&self.events_channel)
                .bind(last.to_string())
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
            Ok(last)
        })
        .await
    }

    async fn after_now(&self, after: i64, limit: u32) -> Result<Vec<LoggedEvent>, StoreError> {
        let rows = self
            .bounded(async {
                Ok(sqlx::query(
                    "SELECT seq, event_id, name, origin, data::text AS data, published_at,
                            created_at_ms
                     FROM events WHERE seq > $1 ORDER BY seq LIMIT $2",
                )
                .bind(after)
                .bind(i64::from(limit.max(1)))
                .fetch_all(&self.pool)
                .await?)
            })
            .await?;
        rows.iter()
            .map(|row| {
                let seq: i64 = row.try_get("seq")?;
                let text: String = row.try_get("data")?;
                let data: Value = serde_json::from_str(&text)
                    .map_err(|error| StoreError::Corrupt(format!("event {seq}: {error}")))?;
                Ok(LoggedEvent {
                    seq,
                    event: NewEvent {
                        id: row.try_get("event_id")?,
                        name: row.try_get("name")?,
                        origin: row.try_get("origin")?,
                        data,
                        timestamp: row.try_get("published_at")?,
                    },
                    created_at: Timestamp::from_unix_millis(row.try_get("created_at_ms")?),
                })
            })
            .collect()
    }

    async fn last_seq_now(&self) -> Result<i64, StoreError> {
        self.bounded(async {
            Ok(
                sqlx::query_scalar("SELECT coalesce(max(seq), 0)::bigint FROM events")
                    .fetch_one(&self.pool)
                    .await?,
            )
        })
        .await
    }

    async fn purge_events_now(&self, before: Timestamp) -> Result<u64, StoreError> {
        self.bounded(async {
            let done = sqlx::query("DELETE FROM events WHERE created_at_ms < $1")
                .bind(before.unix_millis())
                .execute(&self.pool)
                .await?;
            Ok(done.rows_affected())
        })
        .await
    }

    async fn listen_now(&self) -> Result<Box<dyn Wakeups>, StoreError> {
        // A pool of one connection of its own: the listener re-opens it after a loss.
        let pool = PgPoolOptions::new()
            .max_connections(1)
            .acquire_timeout(self.acquire_timeout)
            .max_lifetime(None)
            .idle_timeout(None)
            .connect_lazy_with(self.connect.clone());
        let mut listener = self
            .bounded(async { Ok(PgListener::connect_with(&pool).await?) })
            .await?;
        self.bounded(async { Ok(listener.listen(&self.events_channel).await?) })
            .await?;
        Ok(Box::new(PgWakeups { listener }))
    }
}

struct PgWakeups {
    listener: PgListener,
}

impl Wakeups for PgWakeups {
    fn next(&mut self) -> BoxFuture<'_, Result<Wakeup, StoreError>> {
        Box::pin(async move {
            // `None`: the connection was lost and (eagerly) re-opened; notifications sent
            // meanwhile are gone.
            match self.listener.try_recv().await? {
                // An unreadable payload makes the reader read (0 is never past its cursor).
                Some(notification) => Ok(Wakeup::Appended(
                    notification.payload().parse().unwrap_or(i64::MAX),
                )),
                None => Ok(Wakeup::Reconnected),
            }
        })
    }
}

impl EventLog for PgStore {
    fn append<'a>(&'a self, events: &'a [NewEvent]) -> BoxFuture<'a, Result<i64, StoreError>> {
        Box::pin(self.append_now(events))
    }

    fn after(&self, after: i64, limit: u32) -> BoxFuture<'_, Result<Vec<LoggedEvent>, StoreError>> {
        Box::pin(self.after_now(after, limit))
    }

    fn last_seq(&self) -> BoxFuture<'_, Result<i64, StoreError>> {
        Box::pin(self.last_seq_now())
    }

    fn purge(&self, before: Timestamp) -> BoxFuture<'_, Result<u64, StoreError>> {
        Box::pin(self.purge_events_now(before))
    }

    fn wakeups(&self) -> BoxFuture<'_, Result<Box<dyn Wakeups>, StoreError>> {
        Box::pin(self.listen_now())
    }
}
