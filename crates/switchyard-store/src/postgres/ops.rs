//! The mutations on PostgreSQL, each inside one transaction (READ COMMITTED) opened by
//! `PgStore::write`. Every decision about a resource first locks its row (`SELECT ... FOR
//! UPDATE`): the next decision on that resource, from any connection of any replica, waits for
//! this transaction to end, and its own statements then see everything this one committed.
//! Inputs were validated before they got here.

use serde_json::{Value, json};
use sqlx::{AssertSqlSafe, PgConnection};

use super::reads::{CLAIM_COLUMNS, claim_from_row, live_claims, load_resource};
use crate::error::StoreError;
use crate::rules::{decide_claim, metadata_or_empty};
use crate::sqlite::{WriteDone, WriteOp};
use crate::time::Timestamp;
use crate::types::{Claim, HistoryAction, Operation, RegisterOutcome, Registered, Registration};

pub(crate) async fn apply(
    conn: &mut PgConnection,
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
                "INSERT INTO records (kind, id, body, updated_at_ms) VALUES ($1, $2, $3, $4)
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
            // READ COMMITTED: an UPDATE that waited for a concurrent writer's row lock checks
            // `body = $5` again on the row that writer committed, so only one of them wins.
            let done = match expected {
                Some(expected) => {
                    sqlx::query(
                        "UPDATE records SET body = $3, updated_at_ms = $4
                         WHERE kind = $1 AND id = $2 AND body = $5",
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
                    "INSERT INTO records (kind, id, body, updated_at_ms) VALUES ($1, $2, $3, $4)
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
            let done = sqlx::query("DELETE FROM records WHERE kind = $1 AND id = $2")
                .bind(kind)
                .bind(id)
                .execute(&mut *conn)
                .await?;
            Ok(WriteDone::Removed(done.rows_affected()))
        }
        WriteOp::PurgeRecords { kind, before } => {
            let done = sqlx::query("DELETE FROM records WHERE kind = $1 AND updated_at_ms < $2")
                .bind(kind)
                .bind(before.unix_millis())
                .execute(&mut *conn)
                .await?;
            Ok(WriteDone::Removed(done.rows_affected()))
        }
        WriteOp::PurgeHistory { before } => {
            let done = sqlx::query("DELETE FROM history WHERE at_ms < $1")
                .bind(before.unix_millis())
                .execute(&mut *conn)
                .await?;
            Ok(WriteDone::Removed(done.rows_affected()))
        }
    }
}

struct Entry<'a> {
    resource_id: &'a str,
    action: HistoryAction,
    claim_id: Option<&'a str>,
    repository: Option<&'a str>,
    details: Value,
}

async fn record(
    conn: &mut PgConnection,
    now: Timestamp,
    entry: Entry<'_>,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO history (at, at_ms, resource_id, action, claim_id, repository, details)
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
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
/// Two sweeps racing delete disjoint rows: a row is returned by the one that deleted it.
async fn purge_expired(
    conn: &mut PgConnection,
    resource_id: Option<&str>,
    now: Timestamp,
) -> Result<u64, StoreError> {
    let rows = sqlx::query(AssertSqlSafe(format!(
        "DELETE FROM claims
         WHERE expires_at_ms <= $2 AND ($1::text IS NULL OR resource_id = $1)
         RETURNING {CLAIM_COLUMNS}"
    )))
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
    conn: &mut PgConnection,
    claim: &Claim,
    now: Timestamp,
) -> Result<(), StoreError> {
    record(
        conn,
        now,
        Entry {
            resource_id: &claim.resource_id,
            action: HistoryAction::Expired,
            claim_id: Some(&claim.claim_id),
            repository: Some(&claim.repository),
            details: json!({ "operation": claim.operation, "expiresAt": claim.expires_at }),
        },
    )
    .await
}

async fn register(
    conn: &mut PgConnection,
    registration: &Registration,
    now: Timestamp,
) -> Result<Registered, StoreError> {
    let id = format!("{}:{}", registration.resource_type, registration.identifier);
    let metadata = metadata_or_empty(registration.metadata.as_ref());
    // Two replicas registering the same new resource: one inserts, the other finds the row.
    let inserted = sqlx::query(
        "INSERT INTO resources (id, type, identifier, capacity, metadata, registered_at_ms)
         VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (id) DO NOTHING",
    )
    .bind(&id)
    .bind(registration.resource_type.as_str())
    .bind(&registration.identifier)
    .bind(i64::from(registration.capacity))
    .bind(metadata.to_string())
    .bind(now.unix_millis())
    .execute(&mut *conn)
    .await?;
    if inserted.rows_affected() == 1 {
        let details = json!({ "capacity": registration.capacity, "metadata": metadata });
        record(
            conn,
            now,
            Entry {
                resource_id: &id,
                action: HistoryAction::Registered,
                claim_id: None,
                repository: None,
                details,
            },
        )
        .await?;
        let resource = load_resource(conn, &id, false)
            .await?
            .ok_or_else(|| StoreError::Corrupt(format!("{id} vanished after insert")))?;
        return Ok(Registered {
            outcome: RegisterOutcome::Created,
            resource,
        });
    }
    let existing = load_resource(conn, &id, true).await?.ok_or_else(|| {
        // Deleted between our insert attempt and the lock: the caller may simply retry.
        StoreError::Corrupt(format!("{id} was deleted while being registered"))
    })?;
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
            let usage = u32::try_from(live_claims(conn, &id, now).await?.len()).unwrap_or(u32::MAX);
            if registration.capacity < usage {
                return Err(StoreError::CapacityBelowUsage {
                    resource_id: id,
                    requested: registration.capacity,
                    usage,
                });
            }
        }
        sqlx::query("UPDATE resources SET capacity = $2 WHERE id = $1")
            .bind(&id)
            .bind(i64::from(registration.capacity))
            .execute(&mut *conn)
            .await?;
        let details = json!({ "from": existing.capacity, "to": registration.capacity });
        record(
            conn,
            now,
            Entry {
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
        sqlx::query("UPDATE resources SET metadata = $2 WHERE id = $1")
            .bind(&id)
            .bind(metadata.to_string())
            .execute(&mut *conn)
            .await?;
        let details = json!({ "from": existing.metadata, "to": metadata });
        record(
            conn,
            now,
            Entry {
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
    conn: &mut PgConnection,
    resource_id: &str,
    repository: &str,
    operation: &Operation,
    claim_id: &str,
    now: Timestamp,
) -> Result<Claim, StoreError> {
    // The grant decision: lock the resource row, then read its claims. Every other grant on
    // this resource holds the same lock, so the claims read here are all that exist.
    let capacity: Option<i64> =
        sqlx::query_scalar("SELECT capacity FROM resources WHERE id = $1 FOR UPDATE")
            .bind(resource_id)
            .fetch_optional(&mut *conn)
            .await?;
    let Some(capacity) = capacity else {
        return Err(StoreError::ResourceNotFound {
            resource_id: resource_id.to_string(),
        });
    };
    let capacity = super::reads::capacity_from(capacity)?;
    purge_expired(conn, Some(resource_id), now).await?;
    let live = live_claims(conn, resource_id, now).await?;
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
    // Both inserts in one statement: one round trip.
    sqlx::query(
        "WITH granted AS (
             INSERT INTO claims (claim_id, resource_id, repository, operation, exclusive,
                                 ttl_seconds, claimed_at_ms, expires_at_ms)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
             RETURNING claim_id)
         INSERT INTO history (at, at_ms, resource_id, action, claim_id, repository, details)
         SELECT $9, $7, $2, 'claimed', claim_id, $3, $10 FROM granted",
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

fn claim_not_found(resource_id: &str, claim_id: &str) -> StoreError {
    StoreError::ClaimNotFound {
        resource_id: resource_id.to_string(),
        claim_id: claim_id.to_string(),
    }
}

async fn renew(
    conn: &mut PgConnection,
    resource_id: &str,
    claim_id: &str,
    ttl_seconds: u64,
    now: Timestamp,
) -> Result<Claim, StoreError> {
    let expires_at = now.plus_seconds(ttl_seconds);
    let ttl = i64::try_from(ttl_seconds).unwrap_or(i64::MAX);
    // Only a live claim is extended; the row lock the UPDATE takes orders it against a
    // concurrent release of the same claim.
    let row = sqlx::query(AssertSqlSafe(format!(
        "UPDATE claims SET expires_at_ms = $3, ttl_seconds = $4
         WHERE claim_id = $1 AND resource_id = $2
           AND (expires_at_ms IS NULL OR expires_at_ms > $5)
         RETURNING {CLAIM_COLUMNS}"
    )))
    .bind(claim_id)
    .bind(resource_id)
    .bind(expires_at.unix_millis())
    .bind(ttl)
    .bind(now.unix_millis())
    .fetch_optional(&mut *conn)
    .await?;
    let Some(row) = row else {
        // Unknown, or expired: an expired row is removed and recorded, as a sweep would.
        let lapsed = sqlx::query(AssertSqlSafe(format!(
            "DELETE FROM claims WHERE claim_id = $1 AND resource_id = $2 AND expires_at_ms <= $3
             RETURNING {CLAIM_COLUMNS}"
        )))
        .bind(claim_id)
        .bind(resource_id)
        .bind(now.unix_millis())
        .fetch_optional(&mut *conn)
        .await?;
        if let Some(row) = lapsed {
            record_expired(conn, &claim_from_row(&row)?, now).await?;
        }
        return Err(claim_not_found(resource_id, claim_id));
    };
    let claim = claim_from_row(&row)?;
    record(
        conn,
        now,
        Entry {
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
    conn: &mut PgConnection,
    resource_id: &str,
    claim_id: &str,
    now: Timestamp,
) -> Result<(), StoreError> {
    let row = sqlx::query(AssertSqlSafe(format!(
        "DELETE FROM claims WHERE claim_id = $1 AND resource_id = $2 RETURNING {CLAIM_COLUMNS}"
    )))
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
        record_expired(conn, &claim, now).await?;
        return Err(claim_not_found(resource_id, claim_id));
    }
    record(
        conn,
        now,
        Entry {
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
    conn: &mut PgConnection,
    resource_id: &str,
    now: Timestamp,
) -> Result<(), StoreError> {
    let resource = load_resource(conn, resource_id, true)
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
    sqlx::query("DELETE FROM resources WHERE id = $1")
        .bind(resource_id)
        .execute(&mut *conn)
        .await?;
    record(
        conn,
        now,
        Entry {
            resource_id,
            action: HistoryAction::Deleted,
            claim_id: None,
            repository: None,
            details: json!({ "capacity": resource.capacity, "metadata": resource.metadata }),
        },
    )
    .await
}
