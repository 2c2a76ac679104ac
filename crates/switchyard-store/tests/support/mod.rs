//! PostgreSQL for the store's tests: the server named by `SWITCHYARD_TEST_PG_URL` (started by
//! `scripts/pg-test-cluster.sh start`), one fresh schema per test so tests run in parallel on
//! one database. Without the variable the PostgreSQL cases skip loudly, unless
//! `SWITCHYARD_REQUIRE_POSTGRES=1` (CI), where a missing server is a failure.

#![allow(dead_code)]

use switchyard_store::{PgClock, PgOptions, PgStore};

pub const URL_ENV: &str = "SWITCHYARD_TEST_PG_URL";
pub const REQUIRE_ENV: &str = "SWITCHYARD_REQUIRE_POSTGRES";

/// The test server's URL, or `None` after a loud skip message.
pub fn pg_url(test: &str) -> Option<String> {
    match std::env::var(URL_ENV) {
        Ok(url) if !url.is_empty() => Some(url),
        _ => {
            assert!(
                std::env::var(REQUIRE_ENV).as_deref() != Ok("1"),
                "{REQUIRE_ENV}=1 but {URL_ENV} is not set: start PostgreSQL with \
                 scripts/pg-test-cluster.sh start"
            );
            eprintln!(
                "SKIPPED {test}: no PostgreSQL ({URL_ENV} unset; run `eval $(scripts/pg-test-cluster.sh start)`)"
            );
            None
        }
    }
}

/// A schema that exists for one test and is dropped after it.
pub struct PgSchema {
    pub url: String,
    pub name: String,
}

impl PgSchema {
    pub fn new(url: String) -> Self {
        let name = format!("t_{}", ulid::Ulid::generate().to_string().to_lowercase());
        PgSchema { url, name }
    }

    pub fn options(&self, clock: PgClock) -> PgOptions {
        PgOptions::from_url(&self.url)
            .unwrap()
            .schema(self.name.clone())
            .clock(clock)
    }
}

impl Drop for PgSchema {
    fn drop(&mut self) {
        // Drop runs inside the test's runtime: do the async work on a thread of its own.
        let url = self.url.clone();
        let name = self.name.clone();
        let _ = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .ok()?;
            runtime.block_on(async move {
                use sqlx::Connection;
                let mut conn = sqlx::PgConnection::connect(&url).await.ok()?;
                // A connection the test left inside a transaction must not hang the test: give
                // up (the throwaway cluster is deleted by `pg-test-cluster.sh stop` anyway).
                sqlx::query("SET lock_timeout = '2s'")
                    .execute(&mut conn)
                    .await
                    .ok()?;
                sqlx::query(sqlx::AssertSqlSafe(format!(
                    "DROP SCHEMA IF EXISTS {name} CASCADE"
                )))
                .execute(&mut conn)
                .await
                .ok()?;
                conn.close().await.ok()
            })
        })
        .join();
    }
}

/// A migrated PostgreSQL store in a fresh schema, or `None` (skipped).
pub async fn fresh_pg(test: &str, clock: PgClock) -> Option<(PgSchema, PgStore)> {
    let schema = PgSchema::new(pg_url(test)?);
    let store = PgStore::open(schema.options(clock)).await.unwrap();
    Some((schema, store))
}
