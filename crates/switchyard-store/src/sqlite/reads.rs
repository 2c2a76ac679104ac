//! Queries that only read: rows → types, live claims, status, list and history.
//! Used by the writer inside its transactions and by the read pool for API reads.

use std::collections::BTreeMap;

use serde_json::Value;
use sqlx::sqlite::SqliteRow;
use sqlx::{Row, SqliteConnection};

use crate::error::StoreError;
use crate::time::Timestamp;
use crate::types::{
    Claim, HistoryAction, HistoryEntry, HistoryPage, HistoryQuery, ListFilter, Operation, Resource,
    ResourceStatus, ResourceType,
};

fn corrupt(what: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(what.to_string())
}

pub(crate) fn claim_from_row(row: &SqliteRow) -> Result<Claim, StoreError> {
    let ttl: Option<i64> = row.try_get("ttl_seconds")?;
    let ttl_seconds = match ttl {
        Some(t) => Some(u64::try_from(t).map_err(|_| corrupt(format!("negative ttl {t}")))?),
        None => None,
    };
    let expires: Option<i64> = row.try_get("expires_at_ms")?;
    Ok(Claim {
        claim_id: row.try_get("claim_id")?,
        resource_id: row.try_get("resource_id")?,
        repository: row.try_get("repository")?,
        operation: Operation {
            kind: row.try_get("operation")?,
            exclusive: row.try_get("exclusive")?,
            ttl_seconds,
        },
        claimed_at: Timestamp::from_unix_millis(row.try_get("claimed_at_ms")?),
        expires_at: expires.map(Timestamp::from_unix_millis),
    })
}

fn resource_from_row(row: &SqliteRow) -> Result<Resource, StoreError> {
    let kind: String = row.try_get("type")?;
    let resource_type: ResourceType = kind
        .parse()
        .map_err(|_| corrupt(format!("resource type `{kind}`")))?;
    let metadata: String = row.try_get("metadata")?;
    let capacity: i64 = row.try_get("capacity")?;
    Ok(Resource {
        id: row.try_get("id")?,
        resource_type,
        identifier: row.try_get("identifier")?,
        capacity: u32::try_from(capacity).map_err(|_| corrupt(format!("capacity {capacity}")))?,
        metadata: serde_json::from_str(&metadata).map_err(|e| corrupt(format!("metadata: {e}")))?,
        registered_at: Timestamp::from_unix_millis(row.try_get("registered_at_ms")?),
    })
}

pub(crate) async fn load_resource(
    conn: &mut SqliteConnection,
    resource_id: &str,
) -> Result<Option<Resource>, StoreError> {
    let row = sqlx::query(
        "SELECT id, type, identifier, capacity, metadata, registered_at_ms
         FROM resources WHERE id = ?1",
    )
    .bind(resource_id)
    .fetch_optional(&mut *conn)
    .await?;
    row.as_ref().map(resource_from_row).transpose()
}

/// Claims of a resource that are live at `now`, oldest first.
pub(crate) async fn live_claims(
    conn: &mut SqliteConnection,
    resource_id: &str,
    now: Timestamp,
) -> Result<Vec<Claim>, StoreError> {
    let rows = sqlx::query(
        "SELECT claim_id, resource_id, repository, operation, exclusive, ttl_seconds,
                claimed_at_ms, expires_at_ms
         FROM claims
         WHERE resource_id = ?1 AND (expires_at_ms IS NULL OR expires_at_ms > ?2)
         ORDER BY claimed_at_ms, claim_id",
    )
    .bind(resource_id)
    .bind(now.unix_millis())
    .fetch_all(&mut *conn)
    .await?;
    rows.iter().map(claim_from_row).collect()
}

pub(crate) fn status_of(resource: Resource, claims: Vec<Claim>) -> ResourceStatus {
    let usage = u32::try_from(claims.len()).unwrap_or(u32::MAX);
    let mut owners: Vec<String> = claims.iter().map(|c| c.repository.clone()).collect();
    owners.sort();
    owners.dedup();
    ResourceStatus {
        available: resource.capacity.saturating_sub(usage),
        current_usage: usage,
        owners,
        claims,
        resource,
    }
}

pub(crate) async fn status(
    conn: &mut SqliteConnection,
    resource_id: &str,
    now: Timestamp,
) -> Result<ResourceStatus, StoreError> {
    let resource =
        load_resource(conn, resource_id)
            .await?
            .ok_or_else(|| StoreError::ResourceNotFound {
                resource_id: resource_id.to_string(),
            })?;
    let claims = live_claims(conn, resource_id, now).await?;
    Ok(status_of(resource, claims))
}

pub(crate) async fn list(
    conn: &mut SqliteConnection,
    filter: &ListFilter,
    now: Timestamp,
) -> Result<Vec<ResourceStatus>, StoreError> {
    let kind = filter.resource_type.map(ResourceType::as_str);
    let repository = filter.repository.as_deref();
    // ?1 type, ?2 repository, ?3 now; a NULL filter matches everything.
    let resources = sqlx::query(
        "SELECT id, type, identifier, capacity, metadata, registered_at_ms
         FROM resources r
         WHERE (?1 IS NULL OR r.type = ?1)
           AND (?2 IS NULL OR EXISTS (
                SELECT 1 FROM claims c
                WHERE c.resource_id = r.id AND c.repository = ?2
                  AND (c.expires_at_ms IS NULL OR c.expires_at_ms > ?3)))
         ORDER BY r.id",
    )
    .bind(kind)
    .bind(repository)
    .bind(now.unix_millis())
    .fetch_all(&mut *conn)
    .await?;
    let claims = sqlx::query(
        "SELECT c.claim_id, c.resource_id, c.repository, c.operation, c.exclusive,
                c.ttl_seconds, c.claimed_at_ms, c.expires_at_ms
         FROM claims c JOIN resources r ON r.id = c.resource_id
         WHERE (c.expires_at_ms IS NULL OR c.expires_at_ms > ?3)
           AND (?1 IS NULL OR r.type = ?1)
         ORDER BY c.claimed_at_ms, c.claim_id",
    )
    .bind(kind)
    .bind(repository)
    .bind(now.unix_millis())
    .fetch_all(&mut *conn)
    .await?;
    let mut by_resource: BTreeMap<String, Vec<Claim>> = BTreeMap::new();
    for row in &claims {
        let claim = claim_from_row(row)?;
        by_resource
            .entry(claim.resource_id.clone())
            .or_default()
            .push(claim);
    }
    resources
        .iter()
        .map(|row| {
            let resource = resource_from_row(row)?;
            let claims = by_resource.remove(&resource.id).unwrap_or_default();
            Ok(status_of(resource, claims))
        })
        .collect()
}

pub(crate) async fn history(
    conn: &mut SqliteConnection,
    query: &HistoryQuery,
) -> Result<HistoryPage, StoreError> {
    let resource_id = query.resource_id.as_deref();
    let total: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM history WHERE (?1 IS NULL OR resource_id = ?1)")
            .bind(resource_id)
            .fetch_one(&mut *conn)
            .await?;
    let rows = sqlx::query(
        "SELECT seq, at_ms, resource_id, action, claim_id, repository, details
         FROM history WHERE (?1 IS NULL OR resource_id = ?1)
         ORDER BY seq DESC LIMIT ?2 OFFSET ?3",
    )
    .bind(resource_id)
    .bind(i64::from(query.limit))
    .bind(i64::try_from(query.offset).unwrap_or(i64::MAX))
    .fetch_all(&mut *conn)
    .await?;
    let entries = rows
        .iter()
        .map(|row| {
            let action: String = row.try_get("action")?;
            let details: String = row.try_get("details")?;
            Ok(HistoryEntry {
                seq: row.try_get("seq")?,
                at: Timestamp::from_unix_millis(row.try_get("at_ms")?),
                resource_id: row.try_get("resource_id")?,
                action: HistoryAction::parse(&action)
                    .ok_or_else(|| corrupt(format!("history action `{action}`")))?,
                claim_id: row.try_get("claim_id")?,
                repository: row.try_get("repository")?,
                details: serde_json::from_str::<Value>(&details)
                    .map_err(|e| corrupt(format!("history details: {e}")))?,
            })
        })
        .collect::<Result<Vec<_>, StoreError>>()?;
    Ok(HistoryPage {
        entries,
        total: u64::try_from(total).unwrap_or(0),
        limit: query.limit,
        offset: query.offset,
    })
}
