//! The ledger's rules as pure functions: input validation, operation compatibility and the
//! claim decision. Every backend calls these inside its transaction, so the semantics live once.

use serde_json::Value;

use crate::error::StoreError;
use crate::time::Timestamp;
use crate::types::{Claim, Operation, Registration};

/// Longest accepted identifier or repository name, in bytes.
pub const MAX_NAME_BYTES: usize = 255;
/// Longest accepted operation type, in bytes.
pub const MAX_OPERATION_BYTES: usize = 64;
/// Longest TTL: one year.
pub const MAX_TTL_SECONDS: u64 = 365 * 24 * 3600;
/// Largest metadata object, serialized.
pub const MAX_METADATA_BYTES: usize = 16 * 1024;

fn invalid(message: String) -> StoreError {
    StoreError::Validation { message }
}

pub fn validate_identifier(identifier: &str) -> Result<(), StoreError> {
    if identifier.is_empty() || identifier.len() > MAX_NAME_BYTES {
        return Err(invalid(format!(
            "identifier must be 1 to {MAX_NAME_BYTES} bytes, got {}",
            identifier.len()
        )));
    }
    if identifier
        .chars()
        .any(|c| c.is_whitespace() || c.is_control())
    {
        return Err(invalid(format!(
            "identifier `{}` contains whitespace or control characters",
            identifier.escape_debug()
        )));
    }
    Ok(())
}

pub fn validate_repository(repository: &str) -> Result<(), StoreError> {
    if repository.trim().is_empty() || repository.len() > MAX_NAME_BYTES {
        return Err(invalid(format!(
            "repository must be 1 to {MAX_NAME_BYTES} bytes and not blank"
        )));
    }
    if repository.chars().any(char::is_control) {
        return Err(invalid(format!(
            "repository `{}` contains control characters",
            repository.escape_debug()
        )));
    }
    Ok(())
}

pub fn validate_ttl(ttl_seconds: u64) -> Result<(), StoreError> {
    if ttl_seconds == 0 || ttl_seconds > MAX_TTL_SECONDS {
        return Err(invalid(format!(
            "ttl must be 1 to {MAX_TTL_SECONDS} seconds, got {ttl_seconds}"
        )));
    }
    Ok(())
}

/// Checks an operation and returns it with its type lowercased (`READ` and `read` are one type).
pub fn normalize_operation(operation: &Operation) -> Result<Operation, StoreError> {
    let kind = operation.kind.trim().to_ascii_lowercase();
    let kind_ok = !kind.is_empty()
        && kind.len() <= MAX_OPERATION_BYTES
        && kind
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'));
    if !kind_ok {
        return Err(invalid(format!(
            "operation type `{}` must be 1 to {MAX_OPERATION_BYTES} of a-z, 0-9, `_`, `-`, `.`",
            operation.kind.escape_debug()
        )));
    }
    if let Some(ttl) = operation.ttl_seconds {
        validate_ttl(ttl)?;
    }
    Ok(Operation {
        kind,
        exclusive: operation.exclusive,
        ttl_seconds: operation.ttl_seconds,
    })
}

/// Checks a registration; returns the metadata to store when it is given (always an object).
pub fn validate_registration(registration: &Registration) -> Result<(), StoreError> {
    validate_identifier(&registration.identifier)?;
    if registration.capacity == 0 {
        return Err(invalid("capacity must be at least 1".to_string()));
    }
    if let Some(metadata) = &registration.metadata {
        if !metadata.is_object() {
            return Err(invalid("metadata must be a JSON object".to_string()));
        }
        let size = metadata.to_string().len();
        if size > MAX_METADATA_BYTES {
            return Err(invalid(format!(
                "metadata is {size} bytes; the limit is {MAX_METADATA_BYTES}"
            )));
        }
    }
    Ok(())
}

/// Metadata as stored: given metadata, or `{}`.
pub fn metadata_or_empty(metadata: Option<&Value>) -> Value {
    metadata
        .cloned()
        .unwrap_or_else(|| Value::Object(Default::default()))
}

/// Whether two shared claims may be held at once. `read` and `backup` coexist with each other;
/// `write`, `deploy`, `maintenance` and every unknown type coexist with nothing.
pub fn compatible(held: &str, wanted: &str) -> bool {
    let shareable = |kind: &str| matches!(kind, "read" | "backup");
    shareable(held) && shareable(wanted)
}

/// Decides a claim against the live claims of a resource. Order: an exclusive claim anywhere →
/// `Locked`; an incompatible holder → `IncompatibleOperation`; no room → `AtCapacity`.
/// Incompatibility comes before capacity so the caller learns the reason more room would not fix.
pub fn decide_claim(
    resource_id: &str,
    capacity: u32,
    live: &[Claim],
    wanted: &Operation,
) -> Result<(), StoreError> {
    let holders = || live.to_vec();
    if live.iter().any(|c| c.operation.exclusive) || (wanted.exclusive && !live.is_empty()) {
        return Err(StoreError::Locked {
            resource_id: resource_id.to_string(),
            holders: holders(),
        });
    }
    if live
        .iter()
        .any(|c| !compatible(&c.operation.kind, &wanted.kind))
    {
        return Err(StoreError::IncompatibleOperation {
            resource_id: resource_id.to_string(),
            requested: wanted.kind.clone(),
            holders: holders(),
        });
    }
    if live.len() >= capacity as usize {
        return Err(StoreError::AtCapacity {
            resource_id: resource_id.to_string(),
            capacity,
            holders: holders(),
        });
    }
    Ok(())
}

/// `claim_` + a ULID whose time part is `now` (ids sort roughly by creation).
pub fn new_claim_id(now: Timestamp) -> String {
    format!("claim_{}", ulid::Ulid::from_datetime(now.to_system_time()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn held(kind: &str, exclusive: bool) -> Claim {
        Claim {
            claim_id: format!("claim_{kind}"),
            resource_id: "volume:data".into(),
            repository: "repo".into(),
            operation: Operation {
                kind: kind.into(),
                exclusive,
                ttl_seconds: None,
            },
            claimed_at: Timestamp::from_unix_millis(0),
            expires_at: None,
        }
    }

    #[test]
    fn compatibility_matrix() {
        let kinds = [
            "read",
            "backup",
            "write",
            "deploy",
            "maintenance",
            "migrate",
        ];
        // Rows: held, columns: wanted. Only read/backup pairs coexist.
        let expected = [
            [true, true, false, false, false, false],
            [true, true, false, false, false, false],
            [false, false, false, false, false, false],
            [false, false, false, false, false, false],
            [false, false, false, false, false, false],
            [false, false, false, false, false, false],
        ];
        for (i, a) in kinds.iter().enumerate() {
            for (j, b) in kinds.iter().enumerate() {
                assert_eq!(compatible(a, b), expected[i][j], "held {a}, wanted {b}");
            }
        }
    }

    #[test]
    fn decision_order_and_codes() {
        let read = Operation::new("read");
        let write = Operation::new("write");
        // (capacity, live claims, wanted, expected code or None for granted)
        let cases: Vec<(u32, Vec<Claim>, Operation, Option<&str>)> = vec![
            (1, vec![], read.clone(), None),
            (1, vec![], write.clone().exclusive(), None),
            (3, vec![held("read", false)], read.clone(), None),
            (3, vec![held("read", false)], Operation::new("backup"), None),
            (
                1,
                vec![held("read", false)],
                read.clone(),
                Some("AT_CAPACITY"),
            ),
            (
                3,
                vec![held("read", false)],
                write.clone(),
                Some("INCOMPATIBLE_OPERATION"),
            ),
            (
                1,
                vec![held("read", false)],
                write.clone(),
                Some("INCOMPATIBLE_OPERATION"),
            ),
            (
                3,
                vec![held("read", true)],
                read.clone(),
                Some("RESOURCE_LOCKED"),
            ),
            (
                3,
                vec![held("read", false)],
                read.clone().exclusive(),
                Some("RESOURCE_LOCKED"),
            ),
            (
                3,
                vec![held("deploy", false)],
                Operation::new("deploy"),
                Some("INCOMPATIBLE_OPERATION"),
            ),
            (
                3,
                vec![held("vacuum", false)],
                read.clone(),
                Some("INCOMPATIBLE_OPERATION"),
            ),
            (
                2,
                vec![held("read", false), held("backup", false)],
                read.clone(),
                Some("AT_CAPACITY"),
            ),
        ];
        for (capacity, live, wanted, expected) in cases {
            let got = decide_claim("volume:data", capacity, &live, &wanted);
            assert_eq!(
                got.as_ref().err().map(StoreError::code),
                expected,
                "capacity {capacity}, live {:?}, wanted {wanted:?}",
                live.iter().map(|c| &c.operation.kind).collect::<Vec<_>>()
            );
            if let Err(e) = got {
                assert_eq!(e.holders().len(), live.len(), "refusals carry every holder");
            }
        }
    }

    #[test]
    fn operations_are_normalized_and_checked() {
        let op = normalize_operation(&Operation::new(" READ ")).unwrap();
        assert_eq!(op.kind, "read");
        assert!(normalize_operation(&Operation::new("")).is_err());
        assert!(normalize_operation(&Operation::new("drop table")).is_err());
        assert!(normalize_operation(&Operation::new("read").ttl(0)).is_err());
        assert!(normalize_operation(&Operation::new("read").ttl(MAX_TTL_SECONDS + 1)).is_err());
        assert!(normalize_operation(&Operation::new("db.migrate-v2").ttl(30)).is_ok());
    }

    #[test]
    fn registrations_are_checked() {
        use crate::types::ResourceType;
        let ok = Registration::new(ResourceType::Port, "8080");
        assert!(validate_registration(&ok).is_ok());
        assert!(validate_registration(&ok.clone().with_capacity(0)).is_err());
        assert!(validate_registration(&ok.clone().with_metadata(serde_json::json!([1]))).is_err());
        let huge = serde_json::json!({ "x": "y".repeat(MAX_METADATA_BYTES) });
        assert!(validate_registration(&ok.clone().with_metadata(huge)).is_err());
        assert!(validate_registration(&Registration::new(ResourceType::Port, "80 80")).is_err());
        assert!(validate_repository("  ").is_err());
        assert!(validate_repository("web\n").is_err());
        assert!(validate_repository("web-app").is_ok());
    }

    #[test]
    fn claim_ids_are_prefixed_ulids_and_unique() {
        let now = Timestamp::from_unix_millis(1_714_564_800_000);
        let a = new_claim_id(now);
        let b = new_claim_id(now);
        assert!(a.starts_with("claim_"));
        assert_eq!(a.len(), "claim_".len() + 26);
        assert_ne!(a, b);
        let ulid: ulid::Ulid = a["claim_".len()..].parse().unwrap();
        assert_eq!(ulid.timestamp_ms(), 1_714_564_800_000);
    }
}
