//! The document records (deployments, alerts, config keys) and retention purges.

use serde_json::json;

use super::{SqliteOptions, SqliteStore};
use crate::store::Store;
use crate::time::Timestamp;
use crate::types::{HistoryQuery, Operation, Registration, ResourceType};

async fn open(dir: &tempfile::TempDir) -> SqliteStore {
    match SqliteStore::open(SqliteOptions::new(dir.path().join("state.db"))).await {
        Ok(store) => store,
        Err(error) => panic!("open: {error}"),
    }
}

#[tokio::test]
async fn records_round_trip_replace_list_delete_and_survive_reopen() -> Result<(), crate::StoreError>
{
    let dir = tempfile::tempdir().map_err(|source| crate::StoreError::Io {
        path: "tempdir".into(),
        source,
    })?;
    let t0 = Timestamp::from_unix_millis(1_000_000);
    let store = open(&dir).await;
    store
        .put_record("deployment", "coord_b", &json!({"status": "ready"}), t0)
        .await?;
    store
        .put_record("deployment", "coord_a", &json!({"status": "ready"}), t0)
        .await?;
    store
        .put_record("alert", "alert_1", &json!({"active": true}), t0)
        .await?;
    store
        .put_record("deployment", "coord_b", &json!({"status": "completed"}), t0)
        .await?;
    assert_eq!(
        store.get_record("deployment", "coord_b").await?,
        Some(json!({"status": "completed"}))
    );
    assert_eq!(store.get_record("deployment", "nope").await?, None);
    let listed = store.list_records("deployment").await?;
    let ids: Vec<_> = listed.iter().map(|r| r.id.as_str()).collect();
    assert_eq!(ids, ["coord_a", "coord_b"]);
    assert_eq!(listed[0].updated_at, t0);
    assert!(store.delete_record("deployment", "coord_a", t0).await?);
    assert!(!store.delete_record("deployment", "coord_a", t0).await?);
    store.close().await;

    let store = open(&dir).await;
    assert_eq!(store.list_records("deployment").await?.len(), 1);
    assert_eq!(store.list_records("alert").await?.len(), 1);
    store.ping().await?;
    Ok(())
}

#[tokio::test]
async fn purges_remove_only_old_rows() -> Result<(), crate::StoreError> {
    let dir = tempfile::tempdir().map_err(|source| crate::StoreError::Io {
        path: "tempdir".into(),
        source,
    })?;
    let store = open(&dir).await;
    let old = Timestamp::from_unix_millis(1_000_000);
    let new = Timestamp::from_unix_millis(9_000_000);
    store.put_record("alert", "a", &json!(1), old).await?;
    store.put_record("alert", "b", &json!(2), new).await?;
    assert_eq!(store.purge_records("alert", new, new).await?, 1);
    assert_eq!(store.list_records("alert").await?.len(), 1);

    store
        .register(&Registration::new(ResourceType::Port, "80"), old)
        .await?;
    let claim = store
        .claim("port:80", "web", &Operation::new("deploy"), new)
        .await?;
    store.release("port:80", &claim.claim_id, new).await?;
    assert_eq!(store.purge_history(new, new).await?, 1);
    let page = store.history(&HistoryQuery::all(100)).await?;
    assert_eq!(page.entries.len(), 2);
    Ok(())
}
