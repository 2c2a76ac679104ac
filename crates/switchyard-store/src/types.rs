//! The ledger's nouns: resources, claims, operations, history entries and the queries over them.
//! Field names serialize in camelCase as in the HTTP API (`claimId`, `expiresAt`, `currentUsage`).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::StoreError;
use crate::time::Timestamp;

/// The kinds of shared resource the ledger tracks. Anything else is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ResourceType {
    Port,
    Domain,
    Volume,
    Network,
    Database,
    Certificate,
    Custom,
}

impl ResourceType {
    pub const ALL: [ResourceType; 7] = [
        ResourceType::Port,
        ResourceType::Domain,
        ResourceType::Volume,
        ResourceType::Network,
        ResourceType::Database,
        ResourceType::Certificate,
        ResourceType::Custom,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ResourceType::Port => "port",
            ResourceType::Domain => "domain",
            ResourceType::Volume => "volume",
            ResourceType::Network => "network",
            ResourceType::Database => "database",
            ResourceType::Certificate => "certificate",
            ResourceType::Custom => "custom",
        }
    }
}

impl fmt::Display for ResourceType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for ResourceType {
    type Err = StoreError;

    fn from_str(text: &str) -> Result<Self, StoreError> {
        ResourceType::ALL
            .into_iter()
            .find(|t| t.as_str() == text)
            .ok_or_else(|| StoreError::UnknownResourceType {
                given: text.to_string(),
            })
    }
}

/// `type:identifier`, e.g. `port:8080`. The identifier may itself contain `:`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ResourceId {
    pub resource_type: ResourceType,
    pub identifier: String,
}

impl ResourceId {
    /// Builds an id after validating the identifier (non-empty, at most 255 bytes, no whitespace
    /// or control characters).
    pub fn new(resource_type: ResourceType, identifier: &str) -> Result<Self, StoreError> {
        crate::rules::validate_identifier(identifier)?;
        Ok(ResourceId {
            resource_type,
            identifier: identifier.to_string(),
        })
    }

    pub fn parse(text: &str) -> Result<Self, StoreError> {
        let Some((kind, identifier)) = text.split_once(':') else {
            return Err(StoreError::Validation {
                message: format!("resource id `{text}` is not of the form type:identifier"),
            });
        };
        ResourceId::new(kind.parse()?, identifier)
    }
}

impl fmt::Display for ResourceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.resource_type, self.identifier)
    }
}

/// What a registration asks for. `metadata: None` keeps what is stored (`{}` for a new resource).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Registration {
    #[serde(rename = "type")]
    pub resource_type: ResourceType,
    pub identifier: String,
    pub capacity: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<Value>,
}

impl Registration {
    pub fn new(resource_type: ResourceType, identifier: impl Into<String>) -> Self {
        Registration {
            resource_type,
            identifier: identifier.into(),
            capacity: 1,
            metadata: None,
        }
    }

    pub fn with_capacity(mut self, capacity: u32) -> Self {
        self.capacity = capacity;
        self
    }

    pub fn with_metadata(mut self, metadata: Value) -> Self {
        self.metadata = Some(metadata);
        self
    }
}

/// What `register` did: the API answers 201 for `Created`, 200 otherwise.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RegisterOutcome {
    Created,
    /// Identical to what was stored; nothing changed.
    Exists,
    /// Capacity and/or metadata changed; claims kept.
    Updated,
}

impl RegisterOutcome {
    pub fn http_status(self) -> u16 {
        match self {
            RegisterOutcome::Created => 201,
            RegisterOutcome::Exists | RegisterOutcome::Updated => 200,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Registered {
    pub outcome: RegisterOutcome,
    pub resource: Resource,
}

/// A registered resource, without its claims.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Resource {
    pub id: String,
    #[serde(rename = "type")]
    pub resource_type: ResourceType,
    pub identifier: String,
    pub capacity: u32,
    pub metadata: Value,
    pub registered_at: Timestamp,
}

/// A resource with its live (non-expired) claims at a given instant.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ResourceStatus {
    #[serde(flatten)]
    pub resource: Resource,
    pub current_usage: u32,
    pub available: u32,
    /// Repositories holding a live claim, sorted, each once.
    pub owners: Vec<String>,
    /// Live claims, oldest first.
    pub claims: Vec<Claim>,
}

/// What a claimant intends to do. `kind` is lowercased on the way in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Operation {
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default)]
    pub exclusive: bool,
    /// Seconds until the claim lapses; `None` holds until released.
    #[serde(rename = "ttl", default, skip_serializing_if = "Option::is_none")]
    pub ttl_seconds: Option<u64>,
}

impl Operation {
    pub fn new(kind: &str) -> Self {
        Operation {
            kind: kind.to_string(),
            exclusive: false,
            ttl_seconds: None,
        }
    }

    pub fn exclusive(mut self) -> Self {
        self.exclusive = true;
        self
    }

    pub fn ttl(mut self, seconds: u64) -> Self {
        self.ttl_seconds = Some(seconds);
        self
    }
}

/// A granted claim. `claim_id` is `claim_` + a ULID.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Claim {
    pub claim_id: String,
    pub resource_id: String,
    pub repository: String,
    pub operation: Operation,
    pub claimed_at: Timestamp,
    pub expires_at: Option<Timestamp>,
}

impl Claim {
    /// Live at `now`: expiry is a condition, not an event, so an unswept expired claim is not live.
    pub fn is_live(&self, now: Timestamp) -> bool {
        self.expires_at.is_none_or(|at| at > now)
    }
}

/// Filters of `list`; `None` means any.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ListFilter {
    #[serde(rename = "type", default)]
    pub resource_type: Option<ResourceType>,
    /// Only resources on which this repository holds a live claim.
    #[serde(default)]
    pub repository: Option<String>,
}

/// Every change the ledger records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HistoryAction {
    Registered,
    CapacityChanged,
    MetadataChanged,
    Claimed,
    Renewed,
    Released,
    Expired,
    Deleted,
}

impl HistoryAction {
    pub const ALL: [HistoryAction; 8] = [
        HistoryAction::Registered,
        HistoryAction::CapacityChanged,
        HistoryAction::MetadataChanged,
        HistoryAction::Claimed,
        HistoryAction::Renewed,
        HistoryAction::Released,
        HistoryAction::Expired,
        HistoryAction::Deleted,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            HistoryAction::Registered => "registered",
            HistoryAction::CapacityChanged => "capacity_changed",
            HistoryAction::MetadataChanged => "metadata_changed",
            HistoryAction::Claimed => "claimed",
            HistoryAction::Renewed => "renewed",
            HistoryAction::Released => "released",
            HistoryAction::Expired => "expired",
            HistoryAction::Deleted => "deleted",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        HistoryAction::ALL.into_iter().find(|a| a.as_str() == text)
    }
}

/// One recorded change. `seq` orders entries; `at` is the `now` of the call that made the change.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HistoryEntry {
    pub seq: i64,
    pub at: Timestamp,
    pub resource_id: String,
    pub action: HistoryAction,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub claim_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub repository: Option<String>,
    /// Action-specific facts: old/new capacity, operation, expiry.
    pub details: Value,
}

/// A page of history, newest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HistoryQuery {
    #[serde(default)]
    pub resource_id: Option<String>,
    pub limit: u32,
    #[serde(default)]
    pub offset: u64,
}

impl HistoryQuery {
    pub const MAX_LIMIT: u32 = 1000;

    pub fn all(limit: u32) -> Self {
        HistoryQuery {
            resource_id: None,
            limit,
            offset: 0,
        }
    }

    pub fn of(resource_id: &str, limit: u32) -> Self {
        HistoryQuery {
            resource_id: Some(resource_id.to_string()),
            limit,
            offset: 0,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HistoryPage {
    pub entries: Vec<HistoryEntry>,
    /// Entries matching the filter, over all pages.
    pub total: u64,
    pub limit: u32,
    pub offset: u64,
}

impl HistoryPage {
    pub fn has_more(&self) -> bool {
        self.offset.saturating_add(self.entries.len() as u64) < self.total
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resource_ids_parse_and_print() {
        let id = ResourceId::parse("port:8080").unwrap();
        assert_eq!(id.resource_type, ResourceType::Port);
        assert_eq!(id.identifier, "8080");
        assert_eq!(id.to_string(), "port:8080");
        // Only the first colon separates.
        let id = ResourceId::parse("custom:lock:nightly").unwrap();
        assert_eq!(id.identifier, "lock:nightly");
    }

    #[test]
    fn bad_resource_ids_are_typed_errors() {
        assert_eq!(
            ResourceId::parse("printer:lp0").unwrap_err().code(),
            "VALIDATION_ERROR"
        );
        assert!(matches!(
            ResourceId::parse("printer:lp0"),
            Err(StoreError::UnknownResourceType { given }) if given == "printer"
        ));
        assert!(matches!(
            ResourceId::parse("port8080"),
            Err(StoreError::Validation { .. })
        ));
        assert!(matches!(
            ResourceId::parse("port:"),
            Err(StoreError::Validation { .. })
        ));
        assert!(ResourceId::parse("Port:80").is_err(), "types are lowercase");
    }

    #[test]
    fn claim_serializes_like_the_api() {
        let claim = Claim {
            claim_id: "claim_01".into(),
            resource_id: "port:8080".into(),
            repository: "web".into(),
            operation: Operation::new("deploy").exclusive().ttl(60),
            claimed_at: Timestamp::from_unix_millis(0),
            expires_at: Some(Timestamp::from_unix_millis(60_000)),
        };
        let json = serde_json::to_value(&claim).unwrap();
        assert_eq!(
            json,
            serde_json::json!({
                "claimId": "claim_01",
                "resourceId": "port:8080",
                "repository": "web",
                "operation": {"type": "deploy", "exclusive": true, "ttl": 60},
                "claimedAt": "1970-01-01T00:00:00.000Z",
                "expiresAt": "1970-01-01T00:01:00.000Z",
            })
        );
        let back: Claim = serde_json::from_value(json).unwrap();
        assert_eq!(back, claim);
        assert!(claim.is_live(Timestamp::from_unix_millis(59_999)));
        assert!(!claim.is_live(Timestamp::from_unix_millis(60_000)));
    }

    #[test]
    fn operation_defaults_when_fields_are_missing() {
        let op: Operation = serde_json::from_str(r#"{"type":"read"}"#).unwrap();
        assert_eq!(op, Operation::new("read"));
    }
}
