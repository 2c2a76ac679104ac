//! The single writer: one thread, one connection, every mutation of this process goes through it.
//! Queued mutations are applied in one `BEGIN IMMEDIATE` transaction (group commit) and each is
//! acknowledged only after that transaction committed.

use sqlx::{Connection, SqliteConnection};
use tokio::sync::{mpsc, oneshot};

use super::ops::{self, WriteDone, WriteOp};
use super::{Durability, Engine, batch};
use crate::error::StoreError;
use crate::time::Timestamp;

pub(crate) type Reply = oneshot::Sender<Result<WriteDone, StoreError>>;

pub(crate) struct Job {
    pub op: WriteOp,
    pub now: Timestamp,
    pub reply: Reply,
}

#[derive(Debug, Clone, Copy)]
pub(crate) struct WriterConfig {
    pub max_batch: usize,
    pub durability: Durability,
    pub engine: Engine,
}

/// Serves the queue until every sender is gone, then closes the connection.
pub(crate) async fn run(
    mut conn: SqliteConnection,
    mut queue: mpsc::Receiver<Job>,
    config: WriterConfig,
) {
    let mut synchronous_full: Option<bool> = None;
    let mut batch: Vec<Job> = Vec::with_capacity(config.max_batch);
    // `recv_many` waits for one job, then takes whatever else is already queued: a lone
    // request is never delayed, and requests that arrive during a commit share the next one.
    while queue.recv_many(&mut batch, config.max_batch.max(1)).await > 0 {
        let full = match config.durability {
            Durability::Always => true,
            Durability::Grants => batch.iter().any(|job| job.op.grants()),
            Durability::Relaxed => false,
        };
        if synchronous_full != Some(full) {
            let pragma = if full {
                "PRAGMA synchronous = FULL"
            } else {
                "PRAGMA synchronous = NORMAL"
            };
            match sqlx::query(pragma).execute(&mut conn).await {
                Ok(_) => synchronous_full = Some(full),
                Err(error) => {
                    // Without the sync level we promised, acknowledge nothing.
                    let message = error.to_string();
                    for job in batch.drain(..) {
                        let _ = job
                            .reply
                            .send(Err(StoreError::Database(sqlx::Error::Protocol(format!(
                                "cannot set synchronous mode: {message}"
                            )))));
                    }
                    continue;
                }
            }
        }
        run_batch(&mut conn, &mut batch, config.engine).await;
    }
    let _ = conn.close().await;
}

async fn execute(
    conn: &mut SqliteConnection,
    jobs: &[Job],
    engine: Engine,
) -> Result<Vec<Result<WriteDone, StoreError>>, StoreError> {
    match engine {
        Engine::Batched => batch::execute(conn, jobs).await,
        Engine::PerCall => execute_per_call(conn, jobs).await,
    }
}

async fn run_batch(conn: &mut SqliteConnection, batch: &mut Vec<Job>, engine: Engine) {
    match execute(conn, batch, engine).await {
        Ok(results) => {
            for (job, result) in batch.drain(..).zip(results) {
                // A caller that stopped waiting is not an error: its change is committed.
                let _ = job.reply.send(result);
            }
        }
        Err(error) if batch.len() == 1 => {
            if let Some(job) = batch.pop() {
                let _ = job.reply.send(Err(error));
            }
        }
        Err(StoreError::Busy { message }) => {
            // Another process held the lock for the whole busy timeout: retrying each job
            // would wait that long again per job.
            for job in batch.drain(..) {
                let message = message.clone();
                let _ = job.reply.send(Err(StoreError::Busy { message }));
            }
        }
        Err(_) => {
            // The batch left no trace (rolled back or never began). Run each job alone so every
            // caller gets its own outcome, and one bad job cannot fail the others.
            for job in batch.drain(..) {
                let result = match execute(conn, std::slice::from_ref(&job), engine).await {
                    Ok(mut results) => results.pop().unwrap_or(Err(StoreError::WriterStopped)),
                    Err(error) => Err(error),
                };
                let _ = job.reply.send(result);
            }
        }
    }
}

/// The per-call engine: applies the jobs one after the other with `ops`, in one transaction. An `Err` means nothing was committed. Refusals (locked,
/// not found, ...) are results, not failures: they wrote nothing that needs undoing beyond the
/// expired-claim cleanup, which is valid on its own. A failure of the store inside a batch
/// rolls the whole batch back; the caller then runs each job alone (no savepoint per job:
/// two statements more per job on the hot path, for a case that should never happen).
pub(crate) async fn execute_per_call(
    conn: &mut SqliteConnection,
    jobs: &[Job],
) -> Result<Vec<Result<WriteDone, StoreError>>, StoreError> {
    let mut tx = conn.begin_with("BEGIN IMMEDIATE").await?;
    let mut results = Vec::with_capacity(jobs.len());
    for job in jobs {
        match ops::apply(&mut tx, &job.op, job.now).await {
            Err(error) if error.is_internal() => {
                // Dropping the transaction would roll back too; say it explicitly.
                let _ = tx.rollback().await;
                return Err(error);
            }
            answer => results.push(answer),
        }
    }
    tx.commit().await?;
    Ok(results)
}
