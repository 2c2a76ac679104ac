//! `StoreError`: every way a ledger call can fail, with the API error code and HTTP status.
//! Refusals carry the current holders so the caller can say who is in the way.

use serde_json::{Value, json};

use crate::types::Claim;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("{message}")]
    Validation { message: String },

    #[error(
        "unknown resource type `{given}` (expected port, domain, volume, network, database, certificate or custom)"
    )]
    UnknownResourceType { given: String },

    #[error("resource `{resource_id}` is not registered")]
    ResourceNotFound { resource_id: String },

    #[error("claim `{claim_id}` on `{resource_id}` does not exist or has expired")]
    ClaimNotFound {
        resource_id: String,
        claim_id: String,
    },

    #[error("resource `{resource_id}` is locked by {}", holder_list(holders))]
    Locked {
        resource_id: String,
        holders: Vec<Claim>,
    },

    #[error(
        "resource `{resource_id}` is at capacity ({capacity}) held by {}",
        holder_list(holders)
    )]
    AtCapacity {
        resource_id: String,
        capacity: u32,
        holders: Vec<Claim>,
    },

    #[error(
        "operation `{requested}` on `{resource_id}` is incompatible with {}",
        holder_list(holders)
    )]
    IncompatibleOperation {
        resource_id: String,
        requested: String,
        holders: Vec<Claim>,
    },

    #[error("cannot lower capacity of `{resource_id}` to {requested}: {usage} live claims")]
    CapacityBelowUsage {
        resource_id: String,
        requested: u32,
        usage: u32,
    },

    #[error(
        "resource `{resource_id}` is still claimed by {}",
        holder_list(holders)
    )]
    StillClaimed {
        resource_id: String,
        holders: Vec<Claim>,
    },

    /// The database stayed locked by another writer for longer than the busy timeout.
    #[error("the ledger database is busy: {message}")]
    Busy { message: String },

    /// The database cannot be reached (connection refused or lost, no connection free within
    /// the acquire timeout, no answer within the call timeout). Safe to retry.
    #[error("the ledger database is unavailable: {message}")]
    Unavailable { message: String },

    #[error("ledger database error: {0}")]
    Database(#[source] sqlx::Error),

    #[error("ledger migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),

    #[error("cannot prepare the ledger database at `{path}`: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },

    /// Stored data that this version cannot read (a bug or a hand-edited database).
    #[error("corrupt ledger row: {0}")]
    Corrupt(String),

    #[error("the ledger writer has stopped")]
    WriterStopped,
}

fn holder_list(holders: &[Claim]) -> String {
    if holders.is_empty() {
        return "nobody".to_string();
    }
    holders
        .iter()
        .map(|c| format!("{} ({} {})", c.repository, c.operation.kind, c.claim_id))
        .collect::<Vec<_>>()
        .join(", ")
}

impl From<sqlx::Error> for StoreError {
    fn from(error: sqlx::Error) -> Self {
        if is_busy(&error) {
            StoreError::Busy {
                message: error.to_string(),
            }
        } else if is_unreachable(&error) {
            StoreError::Unavailable {
                message: error.to_string(),
            }
        } else {
            StoreError::Database(error)
        }
    }
}

/// SQLITE_BUSY (5) and SQLITE_LOCKED (6) with their extended codes (`code & 0xff`).
fn is_busy(error: &sqlx::Error) -> bool {
    let sqlx::Error::Database(db) = error else {
        return false;
    };
    if db.try_downcast_ref::<sqlx::sqlite::SqliteError>().is_none() {
        return false;
    }
    db.code()
        .and_then(|code| code.parse::<i64>().ok())
        .is_some_and(|code| matches!(code & 0xff, 5 | 6))
}

/// The database is out of reach rather than refusing a statement: the pool found no connection
/// in time, the socket failed, or PostgreSQL is shutting down, starting, or out of connection
/// slots (SQLSTATE classes 08 and 57P01–57P03, 53300).
fn is_unreachable(error: &sqlx::Error) -> bool {
    match error {
        sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::WorkerCrashed => true,
        sqlx::Error::Database(db) => db.code().is_some_and(|code| {
            code.starts_with("08") || matches!(code.as_ref(), "57P01" | "57P02" | "57P03" | "53300")
        }),
        _ => false,
    }
}

impl StoreError {
    /// A transaction the database aborted to keep transactions serializable (SQLSTATE 40001)
    /// or to break a deadlock (40P01): nothing was written, running it again is correct.
    pub fn is_retryable(&self) -> bool {
        match self {
            StoreError::Database(sqlx::Error::Database(db)) => db
                .code()
                .is_some_and(|code| matches!(code.as_ref(), "40001" | "40P01")),
            _ => false,
        }
    }

    /// The API error code (`{"error": CODE}`).
    pub fn code(&self) -> &'static str {
        match self {
            StoreError::Validation { .. } | StoreError::UnknownResourceType { .. } => {
                "VALIDATION_ERROR"
            }
            StoreError::ResourceNotFound { .. } | StoreError::ClaimNotFound { .. } => "NOT_FOUND",
            StoreError::Locked { .. } => "RESOURCE_LOCKED",
            StoreError::AtCapacity { .. } => "AT_CAPACITY",
            StoreError::IncompatibleOperation { .. } => "INCOMPATIBLE_OPERATION",
            StoreError::CapacityBelowUsage { .. } | StoreError::StillClaimed { .. } => {
                "RESOURCE_CONFLICTS"
            }
            StoreError::Busy { .. } | StoreError::Unavailable { .. } => "STORE_UNAVAILABLE",
            StoreError::Database(_)
            | StoreError::Migrate(_)
            | StoreError::Io { .. }
            | StoreError::Corrupt(_)
            | StoreError::WriterStopped => "INTERNAL",
        }
    }

    pub fn http_status(&self) -> u16 {
        match self {
            StoreError::Validation { .. } | StoreError::UnknownResourceType { .. } => 400,
            StoreError::ResourceNotFound { .. } | StoreError::ClaimNotFound { .. } => 404,
            StoreError::Locked { .. }
            | StoreError::AtCapacity { .. }
            | StoreError::IncompatibleOperation { .. }
            | StoreError::CapacityBelowUsage { .. }
            | StoreError::StillClaimed { .. } => 409,
            StoreError::Busy { .. } | StoreError::Unavailable { .. } => 503,
            StoreError::Database(_)
            | StoreError::Migrate(_)
            | StoreError::Io { .. }
            | StoreError::Corrupt(_)
            | StoreError::WriterStopped => 500,
        }
    }

    /// A failure of the store itself rather than a refusal of the request.
    pub fn is_internal(&self) -> bool {
        self.http_status() >= 500
    }

    /// The live claims that caused a refusal (empty for other errors).
    pub fn holders(&self) -> &[Claim] {
        match self {
            StoreError::Locked { holders, .. }
            | StoreError::AtCapacity { holders, .. }
            | StoreError::IncompatibleOperation { holders, .. }
            | StoreError::StillClaimed { holders, .. } => holders,
            _ => &[],
        }
    }

    /// The API's `details` object. Internal errors expose nothing beyond the message.
    pub fn details(&self) -> Value {
        let holders = || serde_json::to_value(self.holders()).unwrap_or(Value::Null);
        match self {
            StoreError::UnknownResourceType { given } => json!({ "type": given }),
            StoreError::ResourceNotFound { resource_id } => json!({ "resourceId": resource_id }),
            StoreError::ClaimNotFound {
                resource_id,
                claim_id,
            } => json!({ "resourceId": resource_id, "claimId": claim_id }),
            StoreError::Locked { resource_id, .. }
            | StoreError::StillClaimed { resource_id, .. } => {
                json!({ "resourceId": resource_id, "holders": holders() })
            }
            StoreError::AtCapacity {
                resource_id,
                capacity,
                ..
            } => json!({ "resourceId": resource_id, "capacity": capacity, "holders": holders() }),
            StoreError::IncompatibleOperation {
                resource_id,
                requested,
                ..
            } => json!({ "resourceId": resource_id, "requested": requested, "holders": holders() }),
            StoreError::CapacityBelowUsage {
                resource_id,
                requested,
                usage,
            } => {
                json!({ "resourceId": resource_id, "requested": requested, "currentUsage": usage })
            }
            _ => json!({}),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::Timestamp;
    use crate::types::Operation;

    fn holder() -> Claim {
        Claim {
            claim_id: "claim_A".into(),
            resource_id: "port:80".into(),
            repository: "web".into(),
            operation: Operation::new("deploy"),
            claimed_at: Timestamp::from_unix_millis(0),
            expires_at: None,
        }
    }

    #[test]
    fn codes_and_statuses_match_the_api() {
        let cases: Vec<(StoreError, &str, u16)> = vec![
            (
                StoreError::Validation {
                    message: "x".into(),
                },
                "VALIDATION_ERROR",
                400,
            ),
            (
                StoreError::UnknownResourceType { given: "x".into() },
                "VALIDATION_ERROR",
                400,
            ),
            (
                StoreError::ResourceNotFound {
                    resource_id: "port:1".into(),
                },
                "NOT_FOUND",
                404,
            ),
            (
                StoreError::Locked {
                    resource_id: "port:80".into(),
                    holders: vec![holder()],
                },
                "RESOURCE_LOCKED",
                409,
            ),
            (
                StoreError::AtCapacity {
                    resource_id: "port:80".into(),
                    capacity: 1,
                    holders: vec![holder()],
                },
                "AT_CAPACITY",
                409,
            ),
            (
                StoreError::IncompatibleOperation {
                    resource_id: "port:80".into(),
                    requested: "write".into(),
                    holders: vec![holder()],
                },
                "INCOMPATIBLE_OPERATION",
                409,
            ),
            (
                StoreError::CapacityBelowUsage {
                    resource_id: "port:80".into(),
                    requested: 1,
                    usage: 2,
                },
                "RESOURCE_CONFLICTS",
                409,
            ),
            (
                StoreError::Unavailable {
                    message: "x".into(),
                },
                "STORE_UNAVAILABLE",
                503,
            ),
            (StoreError::WriterStopped, "INTERNAL", 500),
        ];
        for (error, code, status) in cases {
            assert_eq!(error.code(), code, "{error}");
            assert_eq!(error.http_status(), status, "{error}");
        }
    }

    #[test]
    fn refusals_name_the_holders() {
        let error = StoreError::Locked {
            resource_id: "port:80".into(),
            holders: vec![holder()],
        };
        assert_eq!(
            error.to_string(),
            "resource `port:80` is locked by web (deploy claim_A)"
        );
        assert_eq!(error.details()["holders"][0]["claimId"], "claim_A");
        assert_eq!(error.holders().len(), 1);
    }
}
