//! The batched engine: claims, releases and renewals of a whole batch are decided in memory
//! against one snapshot read inside `BEGIN IMMEDIATE`, then written with one multi-statement
//! query that ends in `COMMIT`: two round trips to SQLite per batch instead of four per call.

use std::collections::{BTreeSet, HashMap};

use serde_json::json;
use sqlx::{AssertSqlSafe, Row, SqliteConnection};

use super::ops::{self, WriteDone, WriteOp};
use super::reads::claim_from_row;
use super::writer::Job;
use crate::error::StoreError;
use crate::rules::decide_claim;
use crate::time::Timestamp;
use crate::types::{Claim, HistoryAction};

/// Runs the jobs in one transaction. An `Err` means nothing was committed.
pub(crate) async fn execute(
    conn: &mut SqliteConnection,
    jobs: &[Job],
) -> Result<Vec<Result<WriteDone, StoreError>>, StoreError> {
    let mut results = Vec::with_capacity(jobs.len());
    let mut open = false;
    match run(conn, jobs, &mut open, &mut results).await {
        Ok(()) => Ok(results),
        Err(error) => {
            if open {
                // Best effort: if BEGIN itself failed there is nothing to roll back.
                let _ = sqlx::query("ROLLBACK").execute(&mut *conn).await;
            }
            Err(error)
        }
    }
}

/// Splits the batch into runs of ledger calls (claim, release, renew), each done in memory,
/// and other calls (register, delete, sweep), each done by `ops::apply`, in order.
async fn run(
    conn: &mut SqliteConnection,
    jobs: &[Job],
    open: &mut bool,
    results: &mut Vec<Result<WriteDone, StoreError>>,
) -> Result<(), StoreError> {
    let mut start = 0;
    while start < jobs.len() {
        let ledger = is_ledger(&jobs[start].op);
        let end = if ledger {
            start
                + jobs[start..]
                    .iter()
                    .take_while(|job| is_ledger(&job.op))
                    .count()
        } else {
            start + 1
        };
        let last = end == jobs.len();
        if ledger {
            ledger_run(conn, &jobs[start..end], open, last, results).await?;
        } else {
            if !*open {
                *open = true;
                sqlx::query("BEGIN IMMEDIATE").execute(&mut *conn).await?;
            }
            let job = &jobs[start];
            match ops::apply(conn, &job.op, job.now).await {
                Err(error) if error.is_internal() => return Err(error),
                answer => results.push(answer),
            }
            if last {
                sqlx::query("COMMIT").execute(&mut *conn).await?;
                *open = false;
            }
        }
        start = end;
    }
    Ok(())
}

fn is_ledger(op: &WriteOp) -> bool {
    matches!(
        op,
        WriteOp::Claim { .. } | WriteOp::Release { .. } | WriteOp::Renew { .. }
    )
}

fn resource_of(op: &WriteOp) -> &str {
    match op {
        WriteOp::Claim { resource_id, .. }
        | WriteOp::Release { resource_id, .. }
        | WriteOp::Renew { resource_id, .. } => resource_id,
        _ => "",
    }
}

/// A claim as the batch sees it.
struct Held {
    claim: Claim,
    /// Granted in this batch: not in the table yet.
    fresh: bool,
    /// An existing row whose expiry this batch changed.
    renewed: bool,
}

struct Model {
    capacity: u32,
    /// Oldest first, like `live_claims`.
    claims: Vec<Held>,
}

struct HistoryRow {
    at: Timestamp,
    resource_id: String,
    action: HistoryAction,
    claim_id: String,
    repository: String,
    details: String,
}

#[derive(Default)]
struct Changes {
    deleted: Vec<String>,
    history: Vec<HistoryRow>,
}

impl Changes {
    fn record(&mut self, at: Timestamp, action: HistoryAction, claim: &Claim, details: String) {
        self.history.push(HistoryRow {
            at,
            resource_id: claim.resource_id.clone(),
            action,
            claim_id: claim.claim_id.clone(),
            repository: claim.repository.clone(),
            details,
        });
    }

    /// Takes a claim out of the model's world: a row to delete, unless it was never written.
    fn remove(&mut self, held: Held) -> Claim {
        if !held.fresh {
            self.deleted.push(held.claim.claim_id.clone());
        }
        held.claim
    }

    fn expired(&mut self, claim: &Claim, now: Timestamp) {
        let details = json!({ "operation": claim.operation, "expiresAt": claim.expires_at });
        self.record(now, HistoryAction::Expired, claim, details.to_string());
    }
}

async fn ledger_run(
    conn: &mut SqliteConnection,
    jobs: &[Job],
    open: &mut bool,
    last: bool,
    results: &mut Vec<Result<WriteDone, StoreError>>,
) -> Result<(), StoreError> {
    let mut models = load(conn, jobs, open).await?;
    let mut changes = Changes::default();
    for job in jobs {
        results.push(apply(&mut models, &mut changes, &job.op, job.now));
    }
    flush(conn, models, changes, last).await?;
    if last {
        *open = false;
    }
    Ok(())
}

/// One round trip: (`BEGIN IMMEDIATE;` when not yet in the transaction) + every resource the
/// run touches with all its claims, expired ones included (they are purged as in `ops`).
async fn load(
    conn: &mut SqliteConnection,
    jobs: &[Job],
    open: &mut bool,
) -> Result<HashMap<String, Model>, StoreError> {
    let ids: BTreeSet<&str> = jobs.iter().map(|job| resource_of(&job.op)).collect();
    let ids = json_array(&ids.into_iter().collect::<Vec<_>>());
    // Fixed SQL texts with the id list as one JSON parameter: prepared once, cached, and no
    // limit on the number of ids.
    let sql = if *open {
        LOAD
    } else {
        // Set first: if BEGIN succeeds and the SELECT fails, the caller must roll back.
        *open = true;
        BEGIN_AND_LOAD
    };
    let rows = sqlx::query(sql).bind(ids).fetch_all(&mut *conn).await?;
    let mut models: HashMap<String, Model> = HashMap::new();
    for row in &rows {
        let id: String = row.try_get("rid")?;
        let capacity: i64 = row.try_get("capacity")?;
        let capacity = u32::try_from(capacity)
            .map_err(|_| StoreError::Corrupt(format!("capacity {capacity} of {id}")))?;
        let has_claim = row.try_get::<Option<String>, _>("claim_id")?.is_some();
        let model = models.entry(id).or_insert_with(|| Model {
            capacity,
            claims: Vec::new(),
        });
        if has_claim {
            model.claims.push(Held {
                claim: claim_from_row(row)?,
                fresh: false,
                renewed: false,
            });
        }
    }
    Ok(models)
}

macro_rules! load_sql {
    () => {
        "SELECT r.id AS rid, r.capacity, c.claim_id, c.resource_id, c.repository, c.operation,
                c.exclusive, c.ttl_seconds, c.claimed_at_ms, c.expires_at_ms
         FROM resources r LEFT JOIN claims c ON c.resource_id = r.id
         WHERE r.id IN (SELECT value FROM json_each(?))
         ORDER BY r.id, c.claimed_at_ms, c.claim_id"
    };
}
const LOAD: &str = load_sql!();
const BEGIN_AND_LOAD: &str = concat!("BEGIN IMMEDIATE; ", load_sql!());

fn claim_not_found(resource_id: &str, claim_id: &str) -> StoreError {
    StoreError::ClaimNotFound {
        resource_id: resource_id.to_string(),
        claim_id: claim_id.to_string(),
    }
}

/// The same decisions as `ops::{claim, release, renew}`, on the in-memory snapshot.
fn apply(
    models: &mut HashMap<String, Model>,
    changes: &mut Changes,
    op: &WriteOp,
    now: Timestamp,
) -> Result<WriteDone, StoreError> {
    match op {
        WriteOp::Claim {
            resource_id,
            repository,
            operation,
            claim_id,
        } => {
            let model =
                models
                    .get_mut(resource_id)
                    .ok_or_else(|| StoreError::ResourceNotFound {
                        resource_id: resource_id.clone(),
                    })?;
            let (live, lapsed): (Vec<Held>, Vec<Held>) = std::mem::take(&mut model.claims)
                .into_iter()
                .partition(|held| held.claim.is_live(now));
            model.claims = live;
            for held in lapsed {
                let claim = changes.remove(held);
                changes.expired(&claim, now);
            }
            let live: Vec<Claim> = model.claims.iter().map(|h| h.claim.clone()).collect();
            decide_claim(resource_id, model.capacity, &live, operation)?;
            let claim = Claim {
                claim_id: claim_id.clone(),
                resource_id: resource_id.clone(),
                repository: repository.clone(),
                operation: operation.clone(),
                claimed_at: now,
                expires_at: operation.ttl_seconds.map(|ttl| now.plus_seconds(ttl)),
            };
            let details = json!({ "operation": claim.operation, "expiresAt": claim.expires_at });
            changes.record(now, HistoryAction::Claimed, &claim, details.to_string());
            model.claims.push(Held {
                claim: claim.clone(),
                fresh: true,
                renewed: false,
            });
            Ok(WriteDone::Claimed(claim))
        }
        WriteOp::Release {
            resource_id,
            claim_id,
        } => {
            let not_found = || claim_not_found(resource_id, claim_id);
            let model = models.get_mut(resource_id).ok_or_else(not_found)?;
            let at = model
                .claims
                .iter()
                .position(|h| &h.claim.claim_id == claim_id)
                .ok_or_else(not_found)?;
            let claim = changes.remove(model.claims.remove(at));
            if !claim.is_live(now) {
                changes.expired(&claim, now);
                return Err(not_found());
            }
            let details = json!({ "operation": claim.operation });
            changes.record(now, HistoryAction::Released, &claim, details.to_string());
            Ok(WriteDone::Released)
        }
        WriteOp::Renew {
            resource_id,
            claim_id,
            ttl_seconds,
        } => {
            let not_found = || claim_not_found(resource_id, claim_id);
            let model = models.get_mut(resource_id).ok_or_else(not_found)?;
            let at = model
                .claims
                .iter()
                .position(|h| &h.claim.claim_id == claim_id)
                .ok_or_else(not_found)?;
            if !model.claims[at].claim.is_live(now) {
                let claim = changes.remove(model.claims.remove(at));
                changes.expired(&claim, now);
                return Err(not_found());
            }
            let held = &mut model.claims[at];
            let expires_at = now.plus_seconds(*ttl_seconds);
            held.claim.expires_at = Some(expires_at);
            held.claim.operation.ttl_seconds = Some(*ttl_seconds);
            held.renewed = !held.fresh;
            let claim = held.claim.clone();
            let details = json!({ "ttl": ttl_seconds, "expiresAt": expires_at });
            changes.record(now, HistoryAction::Renewed, &claim, details.to_string());
            Ok(WriteDone::Renewed(claim))
        }
        _ => Err(StoreError::Corrupt(
            "a non-ledger call reached the batched engine".to_string(),
        )),
    }
}

/// One round trip: deletes, renewals, inserts and history, then `COMMIT` when `last`.
///
/// Values travel as bound parameters of multi-row statements built from constant fragments and
/// `?` only. (Passing the rows as one JSON array read with `json_each` keeps the SQL text fixed,
/// but extracting each column cost ~6 µs per row, three times the insert itself.)
async fn flush(
    conn: &mut SqliteConnection,
    models: HashMap<String, Model>,
    changes: Changes,
    last: bool,
) -> Result<(), StoreError> {
    let mut sql = Sql::default();
    for chunk in changes.deleted.chunks(ROWS_PER_STATEMENT) {
        sql.text.push_str("DELETE FROM claims WHERE claim_id IN (");
        for (i, id) in chunk.iter().enumerate() {
            if i > 0 {
                sql.text.push(',');
            }
            sql.arg(Arg::Text(id.clone()));
        }
        sql.text.push_str(");\n");
    }
    let mut fresh = Vec::new();
    for held in models.into_values().flat_map(|m| m.claims) {
        if held.fresh {
            fresh.push(held.claim);
        } else if held.renewed {
            sql.text.push_str("UPDATE claims SET expires_at_ms = ");
            sql.arg(Arg::OptInt(
                held.claim.expires_at.map(Timestamp::unix_millis),
            ));
            sql.text.push_str(", ttl_seconds = ");
            sql.arg(Arg::OptInt(ttl(&held.claim)));
            sql.text.push_str(" WHERE claim_id = ");
            sql.arg(Arg::Text(held.claim.claim_id));
            sql.text.push_str(";\n");
        }
    }
    for chunk in fresh.chunks(ROWS_PER_STATEMENT) {
        sql.text.push_str(
            "INSERT INTO claims (claim_id, resource_id, repository, operation, exclusive, \
             ttl_seconds, claimed_at_ms, expires_at_ms) VALUES ",
        );
        for (i, claim) in chunk.iter().enumerate() {
            sql.row(
                i,
                [
                    Arg::Text(claim.claim_id.clone()),
                    Arg::Text(claim.resource_id.clone()),
                    Arg::Text(claim.repository.clone()),
                    Arg::Text(claim.operation.kind.clone()),
                    Arg::Int(i64::from(claim.operation.exclusive)),
                    Arg::OptInt(ttl(claim)),
                    Arg::Int(claim.claimed_at.unix_millis()),
                    Arg::OptInt(claim.expires_at.map(Timestamp::unix_millis)),
                ],
            );
        }
        sql.text.push_str(";\n");
    }
    for chunk in changes.history.chunks(ROWS_PER_STATEMENT) {
        sql.text.push_str(
            "INSERT INTO history (at, at_ms, resource_id, action, claim_id, repository, details) \
             VALUES ",
        );
        for (i, row) in chunk.iter().enumerate() {
            sql.row(
                i,
                [
                    Arg::Text(row.at.to_rfc3339()),
                    Arg::Int(row.at.unix_millis()),
                    Arg::Text(row.resource_id.clone()),
                    Arg::Text(row.action.as_str().to_string()),
                    Arg::Text(row.claim_id.clone()),
                    Arg::Text(row.repository.clone()),
                    Arg::Text(row.details.clone()),
                ],
            );
        }
        sql.text.push_str(";\n");
    }
    if last {
        sql.text.push_str("COMMIT;");
    }
    if !sql.text.is_empty() {
        sql.execute(conn).await?;
    }
    Ok(())
}

/// A list as a JSON array string, for a `json_each` parameter.
fn json_array<T: serde::Serialize>(items: &[T]) -> String {
    serde_json::to_string(items).unwrap_or_else(|_| "[]".to_string())
}

/// Rows per multi-row statement: 8 columns × 500 stays far below SQLite's 32766 parameters.
const ROWS_PER_STATEMENT: usize = 500;

enum Arg {
    Int(i64),
    OptInt(Option<i64>),
    Text(String),
}

/// SQL built from constant fragments and anonymous `?` only; values never enter the text.
/// sqlx hands anonymous parameters out in order across the statements of one query.
#[derive(Default)]
struct Sql {
    text: String,
    args: Vec<Arg>,
}

impl Sql {
    fn arg(&mut self, arg: Arg) {
        self.text.push('?');
        self.args.push(arg);
    }

    fn row<const N: usize>(&mut self, index: usize, values: [Arg; N]) {
        self.text.push_str(if index > 0 { ",(" } else { "(" });
        for (i, value) in values.into_iter().enumerate() {
            if i > 0 {
                self.text.push(',');
            }
            self.arg(value);
        }
        self.text.push(')');
    }

    async fn execute(self, conn: &mut SqliteConnection) -> Result<(), StoreError> {
        // Small flushes repeat the same text (one claim, one release...): keep those prepared.
        // Large ones are nearly unique; caching them would only evict the useful statements.
        let persistent = self.args.len() <= 32;
        let mut query = sqlx::query(AssertSqlSafe(self.text)).persistent(persistent);
        for arg in self.args {
            query = match arg {
                Arg::Int(v) => query.bind(v),
                Arg::OptInt(v) => query.bind(v),
                Arg::Text(v) => query.bind(v),
            };
        }
        query.execute(&mut *conn).await?;
        Ok(())
    }
}

fn ttl(claim: &Claim) -> Option<i64> {
    claim
        .operation
        .ttl_seconds
        .map(|t| i64::try_from(t).unwrap_or(i64::MAX))
}
