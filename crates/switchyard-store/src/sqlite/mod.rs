//! The embedded SQLite ledger: WAL, one writer thread per process with group commit, a small
//! read pool, `BEGIN IMMEDIATE` so several processes on one file still serialize their claims.

mod batch;
#[cfg(test)]
mod engine_tests;
mod ops;
mod reads;
#[cfg(test)]
mod records_tests;
mod writer;

use std::path::{Path, PathBuf};
use std::time::Duration;

use sqlx::migrate::Migrator;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use sqlx::{Connection, SqliteConnection};
use tokio::sync::{mpsc, oneshot};

pub(crate) use self::ops::{WriteDone, WriteOp};
pub(crate) use self::reads::status_of;
use self::writer::{Job, WriterConfig};
use crate::error::StoreError;
use crate::rules;
use crate::store::{BoxFuture, Record, RecordVersion, Store};
use crate::time::Timestamp;
use crate::types::{
    Claim, HistoryPage, HistoryQuery, ListFilter, Operation, Registered, Registration, ResourceId,
    ResourceStatus,
};
use serde_json::Value;
use sqlx::Row;

static MIGRATOR: Migrator = sqlx::migrate!("./migrations");

/// Where `switchyard serve` keeps its state when no store is given.
pub const DEFAULT_PATH: &str = ".switchyard/state.db";

/// Which commits wait for the disk (`PRAGMA synchronous`, WAL mode).
///
/// Every level survives a crash of the process: a commit is in the WAL before it is
/// acknowledged. The levels differ on power loss or a kernel crash.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Durability {
    /// Every commit is fsynced (`FULL`).
    Always,
    /// Commits that grant or extend a hold (claim, renew, register) are fsynced; commits with
    /// only releases, deletes and sweeps are not (`NORMAL`). A release lost in a power cut keeps
    /// the resource held until its TTL, which is safe; a lost claim could be granted twice. A
    /// later fsynced commit also persists the releases written before it.
    #[default]
    Grants,
    /// Nothing is fsynced at commit (`NORMAL`); the last commits may be lost in a power cut.
    Relaxed,
}

/// How the writer turns a batch of calls into SQL.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Engine {
    /// Claims, releases and renewals of a batch are decided in memory on one snapshot read in
    /// the transaction, then written by one multi-statement query: two round trips per batch.
    #[default]
    Batched,
    /// Each call runs its own statements (four to five round trips per call); the reference
    /// implementation the batched engine is tested against.
    PerCall,
}

/// How to open a SQLite ledger.
#[derive(Debug, Clone)]
pub struct SqliteOptions {
    pub path: PathBuf,
    pub durability: Durability,
    pub engine: Engine,
    /// Most mutations committed together; 1 turns group commit off.
    pub max_batch: usize,
    /// How long a writer waits for another process holding the database lock.
    pub busy_timeout: Duration,
    pub read_connections: u32,
}

impl SqliteOptions {
    pub fn new(path: impl Into<PathBuf>) -> Self {
        SqliteOptions {
            path: path.into(),
            durability: Durability::default(),
            engine: Engine::default(),
            max_batch: 256,
            busy_timeout: Duration::from_secs(10),
            read_connections: 4,
        }
    }

    /// `sqlite://PATH` (relative), `sqlite:///ABSOLUTE/PATH` or `sqlite:PATH`.
    pub fn from_url(url: &str) -> Result<Self, StoreError> {
        let path = url
            .strip_prefix("sqlite://")
            .or_else(|| url.strip_prefix("sqlite:"))
            .ok_or_else(|| StoreError::Validation {
                message: format!("`{url}` is not a sqlite:// URL"),
            })?;
        if path.is_empty() || path.contains('?') || path == ":memory:" {
            return Err(StoreError::Validation {
                message: format!("`{url}` must name a database file, without parameters"),
            });
        }
        Ok(SqliteOptions::new(path))
    }

    pub fn durability(mut self, durability: Durability) -> Self {
        self.durability = durability;
        self
    }

    pub fn busy_timeout(mut self, timeout: Duration) -> Self {
        self.busy_timeout = timeout;
        self
    }

    pub fn engine(mut self, engine: Engine) -> Self {
        self.engine = engine;
        self
    }

    pub fn max_batch(mut self, max_batch: usize) -> Self {
        self.max_batch = max_batch.max(1);
        self
    }

    fn connect_options(&self) -> SqliteConnectOptions {
        SqliteConnectOptions::new()
            .filename(&self.path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .busy_timeout(self.busy_timeout)
            .foreign_keys(true)
            // Statement journals of multi-row statements stay in memory, not in temp files.
            .pragma("temp_store", "MEMORY")
    }
}

/// The SQLite `Store`. Cheap to share behind an `Arc`; dropping it stops the writer thread.
pub struct SqliteStore {
    writer: mpsc::Sender<Job>,
    writer_done: oneshot::Receiver<()>,
    reader: SqlitePool,
    path: PathBuf,
}

impl std::fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteStore")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

impl SqliteStore {
    /// Opens (creating the file and its directory if missing) and migrates the database.
    /// Must be called inside a tokio runtime; the writer runs on its own thread.
    pub async fn open(options: SqliteOptions) -> Result<Self, StoreError> {
        if let Some(dir) = options.path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|source| StoreError::Io {
                path: dir.display().to_string(),
                source,
            })?;
        }
        let connect = options.connect_options();
        let (queue_tx, queue_rx) = mpsc::channel::<Job>(options.max_batch.max(1) * 8);
        let (ready_tx, ready_rx) = oneshot::channel::<Result<(), StoreError>>();
        let (done_tx, done_rx) = oneshot::channel::<()>();
        let config = WriterConfig {
            max_batch: options.max_batch.max(1),
            durability: options.durability,
            engine: options.engine,
        };
        let writer_connect = connect.clone();
        std::thread::Builder::new()
            .name("switchyard-store-writer".to_string())
            .spawn(move || {
                let runtime = match tokio::runtime::Builder::new_current_thread()
                    .enable_time()
                    .build()
                {
                    Ok(rt) => rt,
                    Err(source) => {
                        let _ = ready_tx.send(Err(StoreError::Io {
                            path: "writer runtime".to_string(),
                            source,
                        }));
                        return;
                    }
                };
                runtime.block_on(async move {
                    match connect_and_migrate(&writer_connect).await {
                        Ok(conn) => {
                            let _ = ready_tx.send(Ok(()));
                            writer::run(conn, queue_rx, config).await;
                        }
                        Err(error) => {
                            let _ = ready_tx.send(Err(error));
                        }
                    }
                });
                let _ = done_tx.send(());
            })
            .map_err(|source| StoreError::Io {
                path: "writer thread".to_string(),
                source,
            })?;
        ready_rx.await.map_err(|_| StoreError::WriterStopped)??;

        // Readers never write: `query_only` makes a bug here an error instead of a race.
        let reader = SqlitePoolOptions::new()
            .max_connections(options.read_connections.max(1))
            .connect_with(connect.create_if_missing(false).pragma("query_only", "ON"))
            .await?;
        Ok(SqliteStore {
            writer: queue_tx,
            writer_done: done_rx,
            reader,
            path: options.path,
        })
    }

    /// Opens the default database, `.switchyard/state.db` under `dir`.
    pub async fn open_in(dir: &Path) -> Result<Self, StoreError> {
        SqliteStore::open(SqliteOptions::new(dir.join(DEFAULT_PATH))).await
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Stops the writer after it finished the queued mutations, and closes the readers.
    pub async fn close(self) {
        let SqliteStore {
            writer,
            writer_done,
            reader,
            ..
        } = self;
        drop(writer);
        let _ = writer_done.await;
        reader.close().await;
    }

    async fn submit(&self, op: WriteOp, now: Timestamp) -> Result<WriteDone, StoreError> {
        let (reply, answer) = oneshot::channel();
        self.writer
            .send(Job { op, now, reply })
            .await
            .map_err(|_| StoreError::WriterStopped)?;
        answer.await.map_err(|_| StoreError::WriterStopped)?
    }
}

/// Connects the writer and applies the embedded migrations. Several processes may open a fresh
/// file at once; a loser of that race sees a busy or "already applied" error and retries.
async fn connect_and_migrate(
    options: &SqliteConnectOptions,
) -> Result<SqliteConnection, StoreError> {
    let mut conn = SqliteConnection::connect_with(options).await?;
    let mut attempt = 0;
    loop {
        match MIGRATOR.run(&mut conn).await {
            Ok(()) => return Ok(conn),
            Err(_) if attempt < 5 => {
                attempt += 1;
                tokio::time::sleep(Duration::from_millis(20 * attempt)).await;
            }
            Err(error) => return Err(error.into()),
        }
    }
}

fn unexpected(what: &str) -> StoreError {
    StoreError::Corrupt(format!(
        "writer answered {what} with another kind of result"
    ))
}

fn canonical_id(resource_id: &str) -> Result<String, StoreError> {
    Ok(ResourceId::parse(resource_id)?.to_string())
}

impl Store for SqliteStore {
    fn register<'a>(
        &'a self,
        registration: &'a Registration,
        now: Timestamp,
    ) -> BoxFuture<'a, Result<Registered, StoreError>> {
        Box::pin(async move {
            rules::validate_registration(registration)?;
            match self
                .submit(WriteOp::Register(registration.clone()), now)
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
            match self.submit(op, now).await? {
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
            match self.submit(op, now).await? {
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
            match self.submit(op, now).await? {
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
            match self.submit(op, now).await? {
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
            // One read transaction: resources and claims come from the same snapshot.
            let mut tx = self.reader.begin().await?;
            let list = reads::list(&mut tx, filter, now).await?;
            tx.commit().await?;
            Ok(list)
        })
    }

    fn status<'a>(
        &'a self,
        resource_id: &'a str,
        now: Timestamp,
    ) -> BoxFuture<'a, Result<ResourceStatus, StoreError>> {
        Box::pin(async move {
            let resource_id = canonical_id(resource_id)?;
            let mut tx = self.reader.begin().await?;
            let status = reads::status(&mut tx, &resource_id, now).await?;
            tx.commit().await?;
            Ok(status)
        })
    }

    fn sweep_expired(&self, now: Timestamp) -> BoxFuture<'_, Result<u64, StoreError>> {
        Box::pin(async move {
            match self.submit(WriteOp::Sweep, now).await? {
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
            let mut tx = self.reader.begin().await?;
            let page = reads::history(&mut tx, query).await?;
            tx.commit().await?;
            Ok(page)
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
            match self.submit(op, now).await? {
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
            let body: Option<String> =
                sqlx::query_scalar("SELECT body FROM records WHERE kind = ?1 AND id = ?2")
                    .bind(kind)
                    .bind(id)
                    .fetch_optional(&self.reader)
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
            match self.submit(op, now).await? {
                WriteDone::Swapped(wrote) => Ok(wrote),
                _ => Err(unexpected("swap_record")),
            }
        })
    }

    fn list_records<'a>(&'a self, kind: &'a str) -> BoxFuture<'a, Result<Vec<Record>, StoreError>> {
        Box::pin(async move {
            let rows = sqlx::query(
                "SELECT id, body, updated_at_ms FROM records WHERE kind = ?1 ORDER BY id",
            )
            .bind(kind)
            .fetch_all(&self.reader)
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
            match self.submit(op, now).await? {
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
            match self.submit(op, now).await? {
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
            match self.submit(WriteOp::PurgeHistory { before }, now).await? {
                WriteDone::Removed(count) => Ok(count),
                _ => Err(unexpected("purge_history")),
            }
        })
    }

    fn ping(&self) -> BoxFuture<'_, Result<(), StoreError>> {
        Box::pin(async move {
            let one: i64 = sqlx::query_scalar("SELECT 1")
                .fetch_one(&self.reader)
                .await?;
            if one == 1 {
                Ok(())
            } else {
                Err(unexpected("ping"))
            }
        })
    }
}

fn parse_body(kind: &str, id: &str, text: &str) -> Result<Value, StoreError> {
    serde_json::from_str(text)
        .map_err(|error| StoreError::Corrupt(format!("record {kind}/{id}: {error}")))
}
