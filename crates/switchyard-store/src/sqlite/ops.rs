//! The mutations, each run by the writer inside a `BEGIN IMMEDIATE` transaction: read the
//! state, decide with `rules`, write, record history. Inputs were validated before they got here.

use serde_json::{Value, json};
use sqlx::{Row, SqliteConnection};

use super::reads::{claim_from_row, live_claims, load_resource};
use crate::error::StoreError;
use crate::rules::{decide_claim, metadata_or_empty};
use crate::time::Timestamp;
use crate::types::{Claim, HistoryAction, Operation, RegisterOutcome, Registered, Registration};

/// A validated mutation, queued for the writer.
#[derive(Debug, Clone)]
pub(crate) enum WriteOp {
    Register(Registration),
    Claim {
        resource_id: String,
        repository: String,
        operation: Operation,
        claim_id: String,
    },
    Renew {
        resource_id: String,
        claim_id: String,
        ttl_seconds: u64,
    },
    Release {
        resource_id: String,
        claim_id: String,
    },
    Delete {
        resource_id: String,
    },
    Sweep,
    PutRecord {
        kind: String,
        id: String,
        body: String,
    },
    /// Writes a record only if its stored text is still `expected` (`None`: absent).
    SwapRecord {
        kind: String,
        id: String,
        expected: Option<String>,
        body: String,
    },
    DeleteRecord {
        kind: String,
        id: String,
    },
    /// Deletes records of `kind` last written before `before`.
    PurgeRecords {
        kind: String,
        before: Timestamp,
    },
    /// Deletes history entries recorded before `before`.
    PurgeHistory {
        before: Timestamp,
    },
}

impl WriteOp {
    /// Whether losing this commit in a power cut could let someone else in: grants and
    /// extensions must be on disk before they are acknowledged; a lost release, delete or
    /// sweep only keeps a resource held longer.
    pub(crate) fn grants(&self) -> bool {
        matches!(
            self,
            WriteOp::Register(_)
                | WriteOp::Claim { .. }
                | WriteOp::Renew { .. }
                | WriteOp::PutRecord { .. }
                | WriteOp::SwapRecord { .. }
        )
    }
}

#[derive(Debug)]
pub(crate) enum WriteDone {
    Registered(Registered),
    Claimed(Claim),
    Renewed(Claim),
    Released,
    Deleted,
    Swept(u64),
    RecordPut,
    /// Whether a compare-and-swap wrote.
    Swapped(bool),
    /// Rows removed by a delete or purge.
    Removed(u64),
}

pub(crate) async fn apply(
    conn: &mut SqliteConnection,
    op: &WriteOp,
    now: Timestamp,
) -> Result<WriteDone, StoreError> {
    match op {
        WriteOp::Register(registration) => register(conn, registration, now)
            .await
            .map(WriteDone::Registered),
        WriteOp::Claim {
            resource_id,
            repository,
            operation,
            claim_id,
        } => claim(conn, resource_id, repository, operation, claim_id, now)
            .await
            .map(WriteDone::Claimed),
        WriteOp::Renew {
            resource_id,
            claim_id,
            ttl_seconds,
        } => renew(conn, resource_id, claim_id, *ttl_seconds, now)
            .await
            .map(WriteDone::Renewed),
        WriteOp::Release {
            resource_id,
            claim_id,
        } => release(conn, resource_id, claim_id, now)
            .await
            .map(|()| WriteDone::Released),
        WriteOp::Delete { resource_id } => delete(conn, resource_id, now)
            .await
            .map(|()| WriteDone::Deleted),
        WriteOp::Sweep => purge_expired(conn, None, now).await.map(WriteDone::Swept),
        WriteOp::PutRecord { kind, id, body } => {
            sqlx::query(
                "INSERT INTO records (kind, id, body, updated_at_ms) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (kind, id) DO UPDATE SET body = excluded.body,
                                                      updated_at_ms = excluded.updated_at_ms",
            )
            .bind(kind)
            .bind(id)
            .bind(body)
            .bind(now.unix_millis())
            .execute(&mut *conn)
            .await?;
            Ok(WriteDone::RecordPut)
        }
        WriteOp::SwapRecord {
            kind,
            id,
            expected,
            body,
        } => {
            let done = match expected {
                Some(expected) => {
                    sqlx::query(
                        "UPDATE records SET body = ?3, updated_at_ms = ?4
                         WHERE kind = ?1 AND id = ?2 AND body = ?5",
                    )
                    .bind(kind)
                    .bind(id)
                    .bind(body)
                    .bind(now.unix_millis())
                    .bind(expected)
                    .execute(&mut *conn)
                    .await?
                }
                None => sqlx::query(
                    "INSERT INTO records (kind, id, body, updated_at_ms) VALUES (?1, ?2, ?3, ?4)
                         ON CONFLICT (kind, id) DO NOTHING",
                )
                .bind(kind)
                .bind(id)
                .bind(body)
                .bind(now.unix_millis())
                .execute(&mut *conn)
                .await?,
            };
            Ok(WriteDone::Swapped(done.rows_affected() == 1))
        }
        WriteOp::DeleteRecord { kind, id } => {
            let done = sqlx::query("DELETE FROM records WHERE kind = ?1 AND id = ?2")
                .bind(kind)
                .bind(id)
                .execute(&mut *conn)
                .await?;
            Ok(WriteDone::Removed(done.rows_affected()))
        }
        WriteOp::PurgeRecords { kind, before } => {
            let done = sqlx::query("DELETE FROM records WHERE kind = ?1 AND updated_at_ms < ?2")
                .bind(kind)
                .bind(before.unix_millis())
                .execute(&mut *conn)
                .await?;
            Ok(WriteDone::Removed(done.rows_affected()))
        }
        WriteOp::PurgeHistory { before } => {
            let done = sqlx::query("DELETE FROM history WHERE at_ms < ?1")
                .bind(before.unix_millis())
                .execute(&mut *conn)
                .await?;
            Ok(WriteDone::Removed(done.rows_affected()))
        }
    }
}

struct Record<'a> {
    resource_id: &'a str,
    action: HistoryAction,
    claim_id: Option<&'a str>,
    repository: Option<&'a str>,
    details: Value,
}

async fn record(
    conn: &mut SqliteConnection,
    now: Timestamp,
    entry: Record<'_>,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO history (at, at_ms, resource_id, action, claim_id, repository, details)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )
    .bind(now.to_rfc3339())
    .bind(now.unix_millis())
    .bind(entry.resource_id)
    .bind(entry.action.as_str())
    .bind(entry.claim_id)
    .bind(entry.repository)
    .bind(entry.details.to_string())
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Deletes claims expired at `now` (of one resource, or all) and records each as `expired`.
/// Correctness never depends on this: every query also filters on `expires_at_ms`.
async fn purge_expired(
    conn: &mut SqliteConnection,
    resource_id: Option<&str>,
    now: Timestamp,
) -> Result<u64, StoreError> {
    let rows = sqlx::query(
        "DELETE FROM claims
         WHERE expires_at_ms <= ?2 AND (?1 IS NULL OR resource_id = ?1)
         RETURNING claim_id, resource_id, repository, operation, exclusive, ttl_seconds,
                   claimed_at_ms, expires_at_ms",
    )
    .bind(resource_id)
    .bind(now.unix_millis())
    .fetch_all(&mut *conn)
    .await?;
    for row in &rows {
        let claim = claim_from_row(row)?;
        record_expired(conn, &claim, now).await?;
    }
    Ok(rows.len() as u64)
}

async fn record_expired(
    conn: &mut SqliteConnection,
    claim: &Claim,
    now: Timestamp,
) -> Result<(), StoreError> {
    record(
        conn,
        now,
        Record {
            resource_id: &claim.resource_id,
            action: HistoryAction::Expired,
            claim_id: Some(&claim.claim_id),
            repository: Some(&claim.repository),
            details: json!({ "operation": claim.operation, "expiresAt": claim.expires_at }),
        },
    )
    .await
}

async fn live_usage(
    conn: &mut SqliteConnection,
    resource_id: &str,
    now: Timestamp,
) -> Result<u32, StoreError> {
    let count: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM claims
         WHERE resource_id = ?1 AND (expires_at_ms IS NULL OR expires_at_ms > ?2)",
    )
    .bind(resource_id)
    .bind(now.unix_millis())
    .fetch_one(&mut *conn)
    .await?;
    Ok(u32::try_from(count).unwrap_or(u32::MAX))
}

async fn register(
    conn: &mut SqliteConnection,
    registration: &Registration,
    now: Timestamp,
) -> Result<Registered, StoreError> {
    let id = format!("{}:{}", registration.resource_type, registration.identifier);
    let Some(existing) = load_resource(conn, &id).await? else {
        let metadata = metadata_or_empty(registration.metadata.as_ref());
        sqlx::query(
            "INSERT INTO resources (id, type, identifier, capacity, metadata, registered_at_ms)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        )
        .bind(&id)
        .bind(registration.resource_type.as_str())
        .bind(&registration.identifier)
        .bind(i64::from(registration.capacity))
        .bind(metadata.to_string())
        .bind(now.unix_millis())
        .execute(&mut *conn)
        .await?;
        let details = json!({ "capacity": registration.capacity, "metadata": metadata });
        record(
            conn,
            now,
            Record {
                resource_id: &id,
                action: HistoryAction::Registered,
                claim_id: None,
                repository: None,
                details,
            },
        )
        .await?;
        let resource = load_resource(conn, &id)
            .await?
            .ok_or_else(|| StoreError::Corrupt(format!("{id} vanished after insert")))?;
        return Ok(Registered {
            outcome: RegisterOutcome::Created,
            resource,
        });
    };

    let metadata = registration
        .metadata
        .clone()
        .unwrap_or_else(|| existing.metadata.clone());
    let capacity_changed = registration.capacity != existing.capacity;
    let metadata_changed = metadata != existing.metadata;
    if !capacity_changed && !metadata_changed {
        return Ok(Registered {
            outcome: RegisterOutcome::Exists,
            resource: existing,
        });
    }
    if capacity_changed {
        if registration.capacity < existing.capacity {
            let usage = live_usage(conn, &id, now).await?;
            if registration.capacity < usage {
                return Err(StoreError::CapacityBelowUsage {
                    resource_id: id,
                    requested: registration.capacity,
                    usage,
                });
            }
        }
        sqlx::query("UPDATE resources SET capacity = ?2 WHERE id = ?1")
            .bind(&id)
            .bind(i64::from(registration.capacity))
            .execute(&mut *conn)
            .await?;
        let details = json!({ "from": existing.capacity, "to": registration.capacity });
        record(
            conn,
            now,
            Record {
                resource_id: &id,
                action: HistoryAction::CapacityChanged,
                claim_id: None,
                repository: None,
                details,
            },
        )
        .await?;
    }
    if metadata_changed {
        sqlx::query("UPDATE resources SET metadata = ?2 WHERE id = ?1")
            .bind(&id)
            .bind(metadata.to_string())
            .execute(&mut *conn)
            .await?;
        let details = json!({ "from": existing.metadata, "to": metadata });
        record(
            conn,
            now,
            Record {
                resource_id: &id,
                action: HistoryAction::MetadataChanged,
                claim_id: None,
                repository: None,
                details,
            },
        )
        .await?;
    }
    let mut resource = existing;
    resource.capacity = registration.capacity;
    resource.metadata = metadata;
    Ok(Registered {
        outcome: RegisterOutcome::Updated,
        resource,
    })
}

async fn claim(
    conn: &mut SqliteConnection,
    resource_id: &str,
    repository: &str,
    operation: &Operation,
    claim_id: &str,
    now: Timestamp,
) -> Result<Claim, StoreError> {
    // The hot path: one query for the capacity and every claim, one for both inserts. Each
    // statement is a round trip to sqlx's connection thread, so fewer statements, more claims/s.
    let rows = sqlx::query(
        "SELECT r.capacity, c.claim_id, c.resource_id, c.repository, c.operation, c.exclusive,
                c.ttl_seconds, c.claimed_at_ms, c.expires_at_ms
         FROM resources r LEFT JOIN claims c ON c.resource_id = r.id
         WHERE r.id = ?1
         ORDER BY c.claimed_at_ms, c.claim_id",
    )
    .bind(resource_id)
    .fetch_all(&mut *conn)
    .await?;
    let Some(first) = rows.first() else {
        return Err(StoreError::ResourceNotFound {
            resource_id: resource_id.to_string(),
        });
    };
    let capacity: i64 = first.try_get("capacity")?;
    let capacity = u32::try_from(capacity)
        .map_err(|_| StoreError::Corrupt(format!("capacity {capacity} of {resource_id}")))?;
    let mut live = Vec::with_capacity(rows.len());
    for row in &rows {
        let present: Option<String> = row.try_get("claim_id")?;
        if present.is_none() {
            continue; // the LEFT JOIN row of a resource without claims
        }
        let held = claim_from_row(row)?;
        if held.is_live(now) {
            live.push(held);
        } else {
            delete_claim(conn, &held.claim_id).await?;
            record_expired(conn, &held, now).await?;
        }
    }
    decide_claim(resource_id, capacity, &live, operation)?;
    let claim = Claim {
        claim_id: claim_id.to_string(),
        resource_id: resource_id.to_string(),
        repository: repository.to_string(),
        operation: operation.clone(),
        claimed_at: now,
        expires_at: operation.ttl_seconds.map(|ttl| now.plus_seconds(ttl)),
    };
    let details = json!({ "operation": claim.operation, "expiresAt": claim.expires_at });
    // Two statements, one round trip: sqlx binds the numbered parameters in each. The second
    // leaves ?4 ?5 ?6 ?8 unused; sqlx fills such gaps with leading values, which is harmless
    // here because every slot up to ?10 has a value to take.
    sqlx::query(
        "INSERT INTO claims (claim_id, resource_id, repository, operation, exclusive,
                             ttl_seconds, claimed_at_ms, expires_at_ms)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8);
         INSERT INTO history (at, at_ms, resource_id, action, claim_id, repository, details)
         VALUES (?9, ?7, ?2, 'claimed', ?1, ?3, ?10);",
    )
    .bind(&claim.claim_id)
    .bind(&claim.resource_id)
    .bind(&claim.repository)
    .bind(&claim.operation.kind)
    .bind(claim.operation.exclusive)
    .bind(
        claim
            .operation
            .ttl_seconds
            .map(|t| i64::try_from(t).unwrap_or(i64::MAX)),
    )
    .bind(now.unix_millis())
    .bind(claim.expires_at.map(Timestamp::unix_millis))
    .bind(now.to_rfc3339())
    .bind(details.to_string())
    .execute(&mut *conn)
    .await?;
    Ok(claim)
}

async fn load_claim(
    conn: &mut SqliteConnection,
    resource_id: &str,
    claim_id: &str,
) -> Result<Option<Claim>, StoreError> {
    let row = sqlx::query(
        "SELECT claim_id, resource_id, repository, operation, exclusive, ttl_seconds,
                claimed_at_ms, expires_at_ms
         FROM claims WHERE claim_id = ?1 AND resource_id = ?2",
    )
    .bind(claim_id)
    .bind(resource_id)
    .fetch_optional(&mut *conn)
    .await?;
    row.as_ref().map(claim_from_row).transpose()
}

async fn delete_claim(conn: &mut SqliteConnection, claim_id: &str) -> Result<(), StoreError> {
    sqlx::query("DELETE FROM claims WHERE claim_id = ?1")
        .bind(claim_id)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

fn claim_not_found(resource_id: &str, claim_id: &str) -> StoreError {
    StoreError::ClaimNotFound {
        resource_id: resource_id.to_string(),
        claim_id: claim_id.to_string(),
    }
}

/// Loads a claim that must be live. An expired one is deleted (recorded as `expired`) and
/// reported as not found: it holds nothing any more.
async fn live_claim(
    conn: &mut SqliteConnection,
    resource_id: &str,
    claim_id: &str,
    now: Timestamp,
) -> Result<Claim, StoreError> {
    let claim = load_claim(conn, resource_id, claim_id)
        .await?
        .ok_or_else(|| claim_not_found(resource_id, claim_id))?;
    if !claim.is_live(now) {
        delete_claim(conn, claim_id).await?;
        record_expired(conn, &claim, now).await?;
        return Err(claim_not_found(resource_id, claim_id));
    }
    Ok(claim)
}

async fn renew(
    conn: &mut SqliteConnection,
    resource_id: &str,
    claim_id: &str,
    ttl_seconds: u64,
    now: Timestamp,
) -> Result<Claim, StoreError> {
    let mut claim = live_claim(conn, resource_id, claim_id, now).await?;
    let expires_at = now.plus_seconds(ttl_seconds);
    let ttl = i64::try_from(ttl_seconds).unwrap_or(i64::MAX);
    sqlx::query("UPDATE claims SET expires_at_ms = ?2, ttl_seconds = ?3 WHERE claim_id = ?1")
        .bind(claim_id)
        .bind(expires_at.unix_millis())
        .bind(ttl)
        .execute(&mut *conn)
        .await?;
    claim.expires_at = Some(expires_at);
    claim.operation.ttl_seconds = Some(ttl_seconds);
    record(
        conn,
        now,
        Record {
            resource_id,
            action: HistoryAction::Renewed,
            claim_id: Some(claim_id),
            repository: Some(&claim.repository),
            details: json!({ "ttl": ttl_seconds, "expiresAt": expires_at }),
        },
    )
    .await?;
    Ok(claim)
}

async fn release(
    conn: &mut SqliteConnection,
    resource_id: &str,
    claim_id: &str,
    now: Timestamp,
) -> Result<(), StoreError> {
    let row = sqlx::query(
        "DELETE FROM claims WHERE claim_id = ?1 AND resource_id = ?2
         RETURNING claim_id, resource_id, repository, operation, exclusive, ttl_seconds,
                   claimed_at_ms, expires_at_ms",
    )
    .bind(claim_id)
    .bind(resource_id)
    .fetch_optional(&mut *conn)
    .await?;
    let claim = row
        .as_ref()
        .map(claim_from_row)
        .transpose()?
        .ok_or_else(|| claim_not_found(resource_id, claim_id))?;
    if !claim.is_live(now) {
        // It lapsed before the release: it held nothing any more.
        record_expired(conn, &claim, now).await?;
        return Err(claim_not_found(resource_id, claim_id));
    }
    record(
        conn,
        now,
        Record {
            resource_id,
            action: HistoryAction::Released,
            claim_id: Some(claim_id),
            repository: Some(&claim.repository),
            details: json!({ "operation": claim.operation }),
        },
    )
    .await
}

async fn delete(
    conn: &mut SqliteConnection,
    resource_id: &str,
    now: Timestamp,
) -> Result<(), StoreError> {
    let resource =
        load_resource(conn, resource_id)
            .await?
            .ok_or_else(|| StoreError::ResourceNotFound {
                resource_id: resource_id.to_string(),
            })?;
    purge_expired(conn, Some(resource_id), now).await?;
    let holders = live_claims(conn, resource_id, now).await?;
    if !holders.is_empty() {
        return Err(StoreError::StillClaimed {
            resource_id: resource_id.to_string(),
            holders,
        });
    }
    let deleted = sqlx::query("DELETE FROM resources WHERE id = ?1")
        .bind(resource_id)
        .execute(&mut *conn)
        .await?;
    debug_assert_eq!(deleted.rows_affected(), 1);
    record(
        conn,
        now,
        Record {
            resource_id,
            action: HistoryAction::Deleted,
            claim_id: None,
            repository: None,
            details: json!({ "capacity": resource.capacity, "metadata": resource.metadata }),
        },
    )
    .await
}
