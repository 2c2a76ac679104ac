//! Queries that only read: rows → types, live claims, status, list and history. Used inside the
//! write transactions and, in a read-only snapshot transaction, for API reads.

use std::collections::BTreeMap;

use serde_json::Value;
use sqlx::postgres::PgRow;
use sqlx::{AssertSqlSafe, PgConnection, Row};

use crate::error::StoreError;
use crate::time::Timestamp;
use crate::types::{
    Claim, HistoryAction, HistoryEntry, HistoryPage, HistoryQuery, ListFilter, Operation, Resource,
    ResourceStatus, ResourceType,
};

pub(crate) const CLAIM_COLUMNS: &str = "claim_id, resource_id, repository, operation, exclusive, \
     ttl_seconds, claimed_at_ms, expires_at_ms";

fn corrupt(what: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(what.to_string())
}

pub(crate) fn claim_from_row(row: &PgRow) -> Result<Claim, StoreError> {
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

pub(crate) fn capacity_from(value: i64) -> Result<u32, StoreError> {
    u32::try_from(value).map_err(|_| corrupt(format!("capacity {value}")))
}

fn resource_from_row(row: &PgRow) -> Result<Resource, StoreError> {
    let kind: String = row.try_get("type")?;
    let resource_type: ResourceType = kind
        .parse()
        .map_err(|_| corrupt(format!("resource type `{kind}`")))?;
    let metadata: String = row.try_get("metadata")?;
    Ok(Resource {
        id: row.try_get("id")?,
        resource_type,
        identifier: row.try_get("identifier")?,
        capacity: capacity_from(row.try_get("capacity")?)?,
        metadata: serde_json::from_str(&metadata).map_err(|e| corrupt(format!("metadata: {e}")))?,
        registered_at: Timestamp::from_unix_millis(row.try_get("registered_at_ms")?),
    })
}

/// The resource row; `lock` takes its row lock (`FOR UPDATE`) until the transaction ends, which
/// serializes every decision about this resource across connections and replicas.
pub(crate) async fn load_resource(
    conn: &mut PgConnection,
    resource_id: &str,
    lock: bool,
) -> Result<Option<Resource>, StoreError> {
    let sql = if lock {
        "SELECT id, type, identifier, capacity, metadata, registered_at_ms
         FROM resources WHERE id = $1 FOR UPDATE"
    } else {
        "SELECT id, type, identifier, capacity, metadata, registered_at_ms
         FROM resources WHERE id = $1"
    };
    let row = sqlx::query(sql)
        .bind(resource_id)
        .fetch_optional(&mut *conn)
        .await?;
    row.as_ref().map(resource_from_row).transpose()
}

/// Claims of a resource that are live at `now`, oldest first.
pub(crate) async fn live_claims(
    conn: &mut PgConnection,
    resource_id: &str,
    now: Timestamp,
) -> Result<Vec<Claim>, StoreError> {
    let rows = sqlx::query(AssertSqlSafe(format!(
        "SELECT {CLAIM_COLUMNS} FROM claims
         WHERE resource_id = $1 AND (expires_at_ms IS NULL OR expires_at_ms > $2)
         ORDER BY claimed_at_ms, claim_id"
    )))
    .bind(resource_id)
    .bind(now.unix_millis())
    .fetch_all(&mut *conn)
    .await?;
    rows.iter().map(claim_from_row).collect()
}

pub(crate) async fn status(
    conn: &mut PgConnection,
    resource_id: &str,
    now: Timestamp,
) -> Result<ResourceStatus, StoreError> {
    let resource = load_resource(conn, resource_id, false)
        .await?
        .ok_or_else(|| StoreError::ResourceNotFound {
            resource_id: resource_id.to_string(),
        })?;
    let claims = live_claims(conn, resource_id, now).await?;
    Ok(crate::sqlite::status_of(resource, claims))
}

pub(crate) async fn list(
    conn: &mut PgConnection,
    filter: &ListFilter,
    now: Timestamp,
) -> Result<Vec<ResourceStatus>, StoreError> {
    let kind = filter.resource_type.map(ResourceType::as_str);
    let repository = filter.repository.as_deref();
    // $1 type, $2 repository, $3 now; a NULL filter matches everything.
    let resources = sqlx::query(
        "SELECT id, type, identifier, capacity, metadata, registered_at_ms
         FROM resources r
         WHERE ($1::text IS NULL OR r.type = $1)
           AND ($2::text IS NULL OR EXISTS (
                SELECT 1 FROM claims c
                WHERE c.resource_id = r.id AND c.repository = $2
                  AND (c.expires_at_ms IS NULL OR c.expires_at_ms > $3)))
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
         WHERE (c.expires_at_ms IS NULL OR c.expires_at_ms > $2)
           AND ($1::text IS NULL OR r.type = $1)
         ORDER BY c.claimed_at_ms, c.claim_id",
    )
    .bind(kind)
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
            Ok(crate::sqlite::status_of(resource, claims))
        })
        .collect()
}

pub(crate) async fn history(
    conn: &mut PgConnection,
    query: &HistoryQuery,
) -> Result<HistoryPage, StoreError> {
    let resource_id = query.resource_id.as_deref();
    let total: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM history WHERE ($1::text IS NULL OR resource_id = $1)",
    )
    .bind(resource_id)
    .fetch_one(&mut *conn)
    .await?;
    let rows = sqlx::query(
        "SELECT seq, at_ms, resource_id, action, claim_id, repository, details
         FROM history WHERE ($1::text IS NULL OR resource_id = $1)
         ORDER BY seq DESC LIMIT $2 OFFSET $3",
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
