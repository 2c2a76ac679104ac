//! The PostgreSQL ledger, for several coordinators on one database: a connection pool per
//! replica, one transaction per mutation, grant decisions serialized by the resource's row lock
//! (`SELECT ... FOR UPDATE`), migrations applied at start under an advisory lock.
//!
//! Time: with [`PgClock::Database`] (what `switchyard serve` uses) every call reads the
//! database's `now()` inside its transaction and ignores the caller's `now`, so replicas with
//! skewed clocks agree on expiry. [`PgClock::Caller`] uses the `now` passed in, as the SQLite
//! engine does (tests drive it with a manual clock).
//!
//! Failure: a database that cannot be reached makes calls fail within
//! [`PgOptions::acquire_timeout`] (or [`PgOptions::call_timeout`] for a call already under way)
//! with [`StoreError::Unavailable`]; the pool opens new connections when the database is back.

mod events;
mod ops;
mod reads;

use std::time::Duration;

use serde_json::Value;
use sqlx::migrate::Migrator;
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::{AssertSqlSafe, Connection, PgConnection, Row};

use crate::error::StoreError;
use crate::rules;
use crate::sqlite::{WriteDone, WriteOp};
use crate::store::{BoxFuture, Record, RecordVersion, Store};
use crate::time::Timestamp;
use crate::types::{
    Claim, HistoryPage, HistoryQuery, ListFilter, Operation, Registered, Registration, ResourceId,
    ResourceStatus,
};

static MIGRATOR: Migrator = sqlx::migrate!("./migrations-postgres");

/// Held while migrating (and creating the schema), on top of sqlx's own migration lock, so
/// replicas starting at once apply each migration once.
const MIGRATION_LOCK: i64 = 0x5357_5954_4152_4431; // "SWYTARD1"

/// Which clock decides expiry and stamps history.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PgClock {
    /// The database's `now()`, read in each call's transaction: one clock for every replica.
    #[default]
    Database,
    /// The `now` the caller passes (tests with a manual clock).
    Caller,
}

/// How to open a PostgreSQL ledger.
#[derive(Clone)]
pub struct PgOptions {
    connect: PgConnectOptions,
    /// Where the connection goes, without credentials (for messages).
    pub display: String,
    pub clock: PgClock,
    /// Tables live in this schema (created if missing) instead of the connection's default.
    pub schema: Option<String>,
    pub max_connections: u32,
    /// How long a call waits for a connection before failing with `STORE_UNAVAILABLE`.
    pub acquire_timeout: Duration,
    /// The longest a call may take once it has a connection (a database that stopped answering).
    pub call_timeout: Duration,
}

impl std::fmt::Debug for PgOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgOptions")
            .field("display", &self.display)
            .field("clock", &self.clock)
            .field("schema", &self.schema)
            .finish_non_exhaustive()
    }
}

/// Whether `url` names a PostgreSQL database (`postgres://` or `postgresql://`).
pub fn is_postgres_url(url: &str) -> bool {
    url.starts_with("postgres://") || url.starts_with("postgresql://")
}

impl PgOptions {
    /// `postgres://user:pass@host:port/db` (or `postgresql://`), with libpq-style parameters.
    pub fn from_url(url: &str) -> Result<Self, StoreError> {
        if !is_postgres_url(url) {
            return Err(StoreError::Validation {
                message: format!("`{}` is not a postgres:// URL", redact_url(url)),
            });
        }
        let connect: PgConnectOptions = url.parse().map_err(|error| StoreError::Validation {
            message: format!("invalid PostgreSQL URL `{}`: {error}", redact_url(url)),
        })?;
        Ok(PgOptions {
            connect,
            display: redact_url(url),
            clock: PgClock::default(),
            schema: None,
            max_connections: 16,
            acquire_timeout: Duration::from_secs(3),
            call_timeout: Duration::from_secs(10),
        })
    }

    pub fn clock(mut self, clock: PgClock) -> Self {
        self.clock = clock;
        self
    }

    pub fn schema(mut self, schema: impl Into<String>) -> Self {
        self.schema = Some(schema.into());
        self
    }

    pub fn max_connections(mut self, max: u32) -> Self {
        self.max_connections = max.max(1);
        self
    }

    pub fn acquire_timeout(mut self, timeout: Duration) -> Self {
        self.acquire_timeout = timeout;
        self
    }

    pub fn call_timeout(mut self, timeout: Duration) -> Self {
        self.call_timeout = timeout;
        self
    }

    fn connect_options(&self) -> PgConnectOptions {
        let mut connect = self.connect.clone().application_name("switchyard");
        if let Some(schema) = &self.schema {
            connect = connect.options([("search_path", schema.as_str())]);
        }
        connect
    }
}

/// `postgres://user:secret@host/db` → `postgres://user:***@host/db`.
pub fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    let (authority, tail) = match rest.find('/') {
        Some(at) => rest.split_at(at),
        None => (rest, ""),
    };
    let Some((userinfo, host)) = authority.rsplit_once('@') else {
        return url.to_string();
    };
    let user = userinfo.split_once(':').map_or(userinfo, |(user, _)| user);
    let masked = if userinfo.contains(':') {
        format!("{user}:***")
    } else {
        user.to_string()
    };
    // Parameters may carry a password too.
    let tail = match tail.split_once('?') {
        Some((path, query)) if query.contains("password") => format!("{path}?***"),
        _ => tail.to_string(),
    };
    format!("{scheme}://{masked}@{host}{tail}")
}

/// Leadership: a session-level advisory lock on (this key, the schema), held by a connection
/// of its own for as long as the replica leads.
const LEADER_LOCK: i32 = 0x5359_4C44; // "SYLD"

/// The PostgreSQL `Store`. Cheap to share behind an `Arc`.
pub struct PgStore {
    pool: PgPool,
    connect: PgConnectOptions,
    leader: tokio::sync::Mutex<Option<PgConnection>>,
    clock: PgClock,
    call_timeout: Duration,
    acquire_timeout: Duration,
    display: String,
    /// The NOTIFY channel of this schema's event log.
    events_channel: String,
}

impl std::fmt::Debug for PgStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgStore")
            .field("database", &self.display)
            .finish_non_exhaustive()
    }
}

fn is_valid_schema(schema: &str) -> bool {
    !schema.is_empty()
        && schema.len() <= 63
        && schema
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        && !schema.starts_with(|c: char| c.is_ascii_digit())
}

impl PgStore {
    /// Connects, then applies the embedded migrations under an advisory lock.
    pub async fn open(options: PgOptions) -> Result<Self, StoreError> {
        if let Some(schema) = &options.schema
            && !is_valid_schema(schema)
        {
            return Err(StoreError::Validation {
                message: format!("schema `{schema}`: lower-case letters, digits and _ only"),
            });
        }
        let connect = options.connect_options();
        let mut conn = PgConnection::connect_with(&connect).await?;
        migrate(&mut conn, options.schema.clone()).await?;
        let schema: String = sqlx::query_scalar("SELECT current_schema()::text")
            .fetch_one(&mut conn)
            .await?;
        let _ = conn.close().await;
        let pool = PgPoolOptions::new()
            .max_connections(options.max_connections)
            .acquire_timeout(options.acquire_timeout)
            .connect_lazy_with(connect.clone());
        Ok(PgStore {
            pool,
            connect,
            leader: tokio::sync::Mutex::new(None),
            clock: options.clock,
            call_timeout: options.call_timeout,
            acquire_timeout: options.acquire_timeout,
            display: options.display,
            events_channel: events::channel(&schema),
        })
    }

    /// The database, without credentials.
    pub fn display(&self) -> &str {
        &self.display
    }

    /// Closes the pool and gives up leadership (the advisory lock ends with its session).
    pub async fn close(self) {
        if let Some(conn) = self.leader.lock().await.take() {
            let _ = conn.close().await;
        }
        self.pool.close().await;
    }

    /// Keeps or takes the leader lock. The leader checks its session is alive each round (a
    /// lost session means PostgreSQL already released the lock); the others try to take it.
    async fn lead_now(&self) -> Result<bool, StoreError> {
        let mut leader = self.leader.lock().await;
        if let Some(conn) = leader.as_mut() {
            let alive = self
                .bounded(async { Ok(sqlx::query("SELECT 1").execute(&mut *conn).await?) })
                .await;
            if alive.is_ok() {
                return Ok(true);
            }
            *leader = None;
        }
        let mut conn = self
            .bounded(async { Ok(PgConnection::connect_with(&self.connect).await?) })
            .await?;
        let won: bool = self
            .bounded(async {
                Ok(sqlx::query_scalar(
                    "SELECT pg_try_advisory_lock($1, hashtext(current_schema()))",
                )
                .bind(LEADER_LOCK)
                .fetch_one(&mut conn)
                .await?)
            })
            .await?;
        if won {
            *leader = Some(conn);
        } else {
            let _ = conn.close().await;
        }
        Ok(won)
    }

    /// The instant a call decides with: the database's `now()` (start of the transaction) or
    /// the caller's. An instant read before the lock wait only makes claims look live longer,
    /// never grants more.
    async fn now(
        &self,
        conn: &mut PgConnection,
        given: Timestamp,
    ) -> Result<Timestamp, StoreError> {
        match self.clock {
            PgClock::Caller => Ok(given),
            PgClock::Database => {
                let millis: i64 =
                    sqlx::query_scalar("SELECT (extract(epoch FROM now()) * 1000)::bigint")
                        .fetch_one(&mut *conn)
                        .await?;
                Ok(Timestamp::from_unix_millis(millis))
            }
        }
    }

    /// Runs one mutation in its own transaction, retrying on serialization failures and
    /// deadlocks. A refusal commits too: it may have removed and recorded expired claims.
    async fn write(&self, op: WriteOp, now: Timestamp) -> Result<WriteDone, StoreError> {
        let mut attempt = 0u32;
        loop {
            let result = self.bounded(self.write_once(&op, now)).await;
            match result {
                Err(error) if error.is_retryable() && attempt < 8 => {
                    attempt += 1;
                    tokio::time::sleep(Duration::from_millis(2 << attempt.min(6))).await;
                }
                other => return other,
            }
        }
    }

    async fn write_once(&self, op: &WriteOp, now: Timestamp) -> Result<WriteDone, StoreError> {
        let mut tx = self.pool.begin().await?;
        let now = self.now(&mut tx, now).await?;
        match ops::apply(&mut tx, op, now).await {
            Err(error) if error.is_internal() => {
                let _ = tx.rollback().await;
                Err(error)
            }
            Err(refusal) => {
                tx.commit().await?;
                Err(refusal)
            }
            Ok(done) => {
                tx.commit().await?;
                Ok(done)
            }
        }
    }

    /// A call against a database that stopped answering fails instead of hanging.
    async fn bounded<T>(
        &self,
        call: impl std::future::Future<Output = Result<T, StoreError>>,
    ) -> Result<T, StoreError> {
        match tokio::time::timeout(self.call_timeout, call).await {
            Ok(result) => result,
            Err(_) => Err(StoreError::Unavailable {
                message: format!(
                    "no answer from {} within {:?}",
                    self.display, self.call_timeout
                ),
            }),
        }
    }

    /// A read-only snapshot (REPEATABLE READ) and the call's instant in it.
    async fn snapshot(
        &self,
        now: Timestamp,
    ) -> Result<(sqlx::Transaction<'static, sqlx::Postgres>, Timestamp), StoreError> {
        let mut tx = self
            .pool
            .begin_with("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
            .await?;
        let now = self.now(&mut tx, now).await?;
        Ok((tx, now))
    }
}

/// Ends a read: committed when it succeeded, rolled back now (not later, when the pool runs
/// the queued rollback) when it failed, so the connection goes back to the pool clean.
async fn finish<T>(
    tx: sqlx::Transaction<'static, sqlx::Postgres>,
    result: Result<T, StoreError>,
) -> Result<T, StoreError> {
    match result {
        Ok(value) => {
            tx.commit().await?;
            Ok(value)
        }
        Err(error) => {
            let _ = tx.rollback().await;
            Err(error)
        }
    }
}

/// Creates the schema if asked and applies the migrations, holding an advisory lock so that
/// replicas starting together take turns; the lock is released with the session even if a
/// migration fails.
async fn migrate(conn: &mut PgConnection, schema: Option<String>) -> Result<(), StoreError> {
    sqlx::query("SELECT pg_advisory_lock($1)")
        .bind(MIGRATION_LOCK)
        .execute(&mut *conn)
        .await?;
    let result = migrate_locked(conn, schema).await;
    let unlocked = sqlx::query("SELECT pg_advisory_unlock($1)")
        .bind(MIGRATION_LOCK)
        .execute(&mut *conn)
        .await;
    result?;
    unlocked?;
    Ok(())
}

async fn migrate_locked(conn: &mut PgConnection, schema: Option<String>) -> Result<(), StoreError> {
    if let Some(schema) = schema {
        // Validated by `open`: lower-case letters, digits and _ only.
        sqlx::query(AssertSqlSafe(format!(
            "CREATE SCHEMA IF NOT EXISTS {schema}"
        )))
        .execute(&mut *conn)
        .await?;
    }
    MIGRATOR.run_direct(None, conn, false).await?;
    Ok(())
}

fn unexpected(what: &str) -> StoreError {
    StoreError::Corrupt(format!("{what} answered with another kind of result"))
}

fn canonical_id(resource_id: &str) -> Result<String, StoreError> {
    Ok(ResourceId::parse(resource_id)?.to_string())
}

fn parse_body(kind: &str, id: &str, text: &str) -> Result<Value, StoreError> {
    serde_json::from_str(text)
        .map_err(|error| StoreError::Corrupt(format!("record {kind}/{id}: {error}")))
}

impl Store for PgStore {
    fn register<'a>(
        &'a self,
        registration: &'a Registration,
        now: Timestamp,
    ) -> BoxFuture<'a, Result<Registered, StoreError>> {
        Box::pin(async move {
            rules::validate_registration(registration)?;
            match self
                .write(WriteOp::Register(registration.clone()), now)
                .await?
            {
                WriteDone::Registered(registered) => Ok(registered),
                _ => Err(unexpected("register")),
            }
        })
    }

    fn claim<'a>(
        &'a self,
        resource_id: &'a str,
        repository: &'a str,
        operation: &'a Operation,
        now: Timestamp,
    ) -> BoxFuture<'a, Result<Claim, StoreError>> {
        Box::pin(async move {
            let resource_id = canonical_id(resource_id)?;
            rules::validate_repository(repository)?;
            let operation = rules::normalize_operation(operation)?;
            let op = WriteOp::Claim {
                resource_id,
                repository: repository.to_string(),
                operation,
                claim_id: rules::new_claim_id(now),
            };
            match self.write(op, now).await? {
                WriteDone::Claimed(claim) => Ok(claim),
                _ => Err(unexpected("claim")),
            }
        })
    }

    fn renew<'a>(
        &'a self,
        resource_id: &'a str,
        claim_id: &'a str,
        ttl_seconds: u64,
        now: Timestamp,
    ) -> BoxFuture<'a, Result<Claim, StoreError>> {
        Box::pin(async move {
            let resource_id = canonical_id(resource_id)?;
            rules::validate_ttl(ttl_seconds)?;
            let op = WriteOp::Renew {
                resource_id,
                claim_id: claim_id.to_string(),
                ttl_seconds,
            };
            match self.write(op, now).await? {
                WriteDone::Renewed(claim) => Ok(claim),
                _ => Err(unexpected("renew")),
            }
        })
    }

    fn release<'a>(
        &'a self,
        resource_id: &'a str,
        claim_id: &'a str,
        now: Timestamp,
    ) -> BoxFuture<'a, Result<(), StoreError>> {
        Box::pin(async move {
            let op = WriteOp::Release {
                resource_id: canonical_id(resource_id)?,
                claim_id: claim_id.to_string(),
            };
            match self.write(op, now).await? {
                WriteDone::Released => Ok(()),
                _ => Err(unexpected("release")),
            }
        })
    }

    fn delete_resource<'a>(
        &'a self,
        resource_id: &'a str,
        now: Timestamp,
    ) -> BoxFuture<'a, Result<(), StoreError>> {
        Box::pin(async move {
            let op = WriteOp::Delete {
                resource_id: canonical_id(resource_id)?,
            };
            match self.write(op, now).await? {
                WriteDone::Deleted => Ok(()),
                _ => Err(unexpected("delete")),
            }
        })
    }

    fn list<'a>(
        &'a self,
        filter: &'a ListFilter,
        now: Timestamp,
    ) -> BoxFuture<'a, Result<Vec<ResourceStatus>, StoreError>> {
        Box::pin(async move {
            self.bounded(async {
                let (mut tx, now) = self.snapshot(now).await?;
                let list = reads::list(&mut tx, filter, now).await;
                finish(tx, list).await
            })
            .await
        })
    }

    fn status<'a>(
        &'a self,
        resource_id: &'a str,
        now: Timestamp,
    ) -> BoxFuture<'a, Result<ResourceStatus, StoreError>> {
        Box::pin(async move {
            let resource_id = canonical_id(resource_id)?;
            self.bounded(async {
                let (mut tx, now) = self.snapshot(now).await?;
                let status = reads::status(&mut tx, &resource_id, now).await;
                finish(tx, status).await
            })
            .await
        })
    }

    fn sweep_expired(&self, now: Timestamp) -> BoxFuture<'_, Result<u64, StoreError>> {
        Box::pin(async move {
            match self.write(WriteOp::Sweep, now).await? {
                WriteDone::Swept(count) => Ok(count),
                _ => Err(unexpected("sweep")),
            }
        })
    }

    fn history<'a>(
        &'a self,
        query: &'a HistoryQuery,
    ) -> BoxFuture<'a, Result<HistoryPage, StoreError>> {
        Box::pin(async move {
            if query.limit == 0 || query.limit > HistoryQuery::MAX_LIMIT {
                return Err(StoreError::Validation {
                    message: format!(
                        "limit must be 1 to {}, got {}",
                        HistoryQuery::MAX_LIMIT,
                        query.limit
                    ),
                });
            }
            self.bounded(async {
                let (mut tx, _) = self.snapshot(Timestamp::UNIX_EPOCH).await?;
                let page = reads::history(&mut tx, query).await;
                finish(tx, page).await
            })
            .await
        })
    }

    fn put_record<'a>(
        &'a self,
        kind: &'a str,
        id: &'a str,
        body: &'a Value,
        now: Timestamp,
    ) -> BoxFuture<'a, Result<(), StoreError>> {
        Box::pin(async move {
            let op = WriteOp::PutRecord {
                kind: kind.to_string(),
                id: id.to_string(),
                body: body.to_string(),
            };
            match self.write(op, now).await? {
                WriteDone::RecordPut => Ok(()),
                _ => Err(unexpected("put_record")),
            }
        })
    }

    fn get_record_versioned<'a>(
        &'a self,
        kind: &'a str,
        id: &'a str,
    ) -> BoxFuture<'a, Result<Option<(Value, RecordVersion)>, StoreError>> {
        Box::pin(async move {
            let body: Option<String> = self
                .bounded(async {
                    Ok(
                        sqlx::query_scalar("SELECT body FROM records WHERE kind = $1 AND id = $2")
                            .bind(kind)
                            .bind(id)
                            .fetch_optional(&self.pool)
                            .await?,
                    )
                })
                .await?;
            body.map(|text| Ok((parse_body(kind, id, &text)?, RecordVersion(text))))
                .transpose()
        })
    }

    fn swap_record<'a>(
        &'a self,
        kind: &'a str,
        id: &'a str,
        expected: Option<&'a RecordVersion>,
        body: &'a Value,
        now: Timestamp,
    ) -> BoxFuture<'a, Result<bool, StoreError>> {
        Box::pin(async move {
            let op = WriteOp::SwapRecord {
                kind: kind.to_string(),
                id: id.to_string(),
                expected: expected.map(|v| v.0.clone()),
                body: body.to_string(),
            };
            match self.write(op, now).await? {
                WriteDone::Swapped(wrote) => Ok(wrote),
                _ => Err(unexpected("swap_record")),
            }
        })
    }

    fn list_records<'a>(&'a self, kind: &'a str) -> BoxFuture<'a, Result<Vec<Record>, StoreError>> {
        Box::pin(async move {
            let rows = self
                .bounded(async {
                    Ok(sqlx::query(
                        "SELECT id, body, updated_at_ms FROM records WHERE kind = $1 ORDER BY id",
                    )
                    .bind(kind)
                    .fetch_all(&self.pool)
                    .await?)
                })
                .await?;
            rows.iter()
                .map(|row| {
                    let id: String = row.try_get("id")?;
                    let text: String = row.try_get("body")?;
                    Ok(Record {
                        body: parse_body(kind, &id, &text)?,
                        id,
                        updated_at: Timestamp::from_unix_millis(row.try_get("updated_at_ms")?),
                    })
                })
                .collect()
        })
    }

    fn delete_record<'a>(
        &'a self,
        kind: &'a str,
        id: &'a str,
        now: Timestamp,
    ) -> BoxFuture<'a, Result<bool, StoreError>> {
        Box::pin(async move {
            let op = WriteOp::DeleteRecord {
                kind: kind.to_string(),
                id: id.to_string(),
            };
            match self.write(op, now).await? {
                WriteDone::Removed(count) => Ok(count > 0),
                _ => Err(unexpected("delete_record")),
            }
        })
    }

    fn purge_records<'a>(
        &'a self,
        kind: &'a str,
        before: Timestamp,
        now: Timestamp,
    ) -> BoxFuture<'a, Result<u64, StoreError>> {
        Box::pin(async move {
            let op = WriteOp::PurgeRecords {
                kind: kind.to_string(),
                before,
            };
            match self.write(op, now).await? {
                WriteDone::Removed(count) => Ok(count),
                _ => Err(unexpected("purge_records")),
            }
        })
    }

    fn purge_history(
        &self,
        before: Timestamp,
        now: Timestamp,
    ) -> BoxFuture<'_, Result<u64, StoreError>> {
        Box::pin(async move {
            match self.write(WriteOp::PurgeHistory { before }, now).await? {
                WriteDone::Removed(count) => Ok(count),
                _ => Err(unexpected("purge_history")),
            }
        })
    }

    fn lead(&self) -> BoxFuture<'_, Result<bool, StoreError>> {
        Box::pin(self.lead_now())
    }

    fn event_log(&self) -> Option<&dyn crate::events::EventLog> {
        Some(self)
    }

    fn ping(&self) -> BoxFuture<'_, Result<(), StoreError>> {
        Box::pin(async move {
            let one: i32 = self
                .bounded(async { Ok(sqlx::query_scalar("SELECT 1").fetch_one(&self.pool).await?) })
                .await?;
            if one == 1 {
                Ok(())
            } else {
                Err(unexpected("ping"))
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_checked_and_redacted() {
        assert!(PgOptions::from_url("sqlite://x.db").is_err());
        assert!(PgOptions::from_url("postgres://u:p@localhost:5432/db").is_ok());
        assert_eq!(
            redact_url("postgres://sy:hunter2@db.internal:5432/sy"),
            "postgres://sy:***@db.internal:5432/sy"
        );
        assert_eq!(
            redact_url("postgresql://sy@db/sy?password=hunter2"),
            "postgresql://sy@db/sy?***"
        );
        assert_eq!(redact_url("postgres://db/sy"), "postgres://db/sy");
        let error = PgOptions::from_url("postgres://u:hunter2@[bad/db").unwrap_err();
        assert!(!error.to_string().contains("hunter2"), "{error}");
    }

    #[test]
    fn schemas_are_plain_identifiers() {
        assert!(is_valid_schema("sy_test_01"));
        assert!(!is_valid_schema("Robert'); DROP"));
        assert!(!is_valid_schema("1abc"));
        assert!(!is_valid_schema(""));
    }
}
