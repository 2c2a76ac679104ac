//! Store selection by URL: `sqlite://PATH` opens the embedded engine, `postgres://…` (or
//! `postgresql://…`) the shared one, with the database's clock so replicas agree on expiry.

use std::sync::Arc;

use crate::error::StoreError;
use crate::postgres::{PgOptions, PgStore, is_postgres_url, redact_url};
use crate::sqlite::{Durability, SqliteOptions, SqliteStore};
use crate::store::Store;

/// Opens (and migrates) the store a URL names. `durability` applies to SQLite only: PostgreSQL
/// acknowledges a commit once it is durable by its own settings (`synchronous_commit`).
pub async fn open_url(url: &str, durability: Durability) -> Result<Arc<dyn Store>, StoreError> {
    if is_postgres_url(url) {
        return Ok(Arc::new(PgStore::open(PgOptions::from_url(url)?).await?));
    }
    if url.starts_with("sqlite:") {
        let options = SqliteOptions::from_url(url)?.durability(durability);
        return Ok(Arc::new(SqliteStore::open(options).await?));
    }
    Err(StoreError::Validation {
        message: format!(
            "store `{}`: expected sqlite://PATH or postgres://USER:PASSWORD@HOST:PORT/DB",
            redact_url(url)
        ),
    })
}
