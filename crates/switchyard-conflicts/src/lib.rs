//! Cross-repository conflicts and their resolutions.
//!
//! Detectors (one per [`ConflictKind`], one file each under `detect/`) read the linked
//! [`FleetModel`] and every repository's [`RepoFacts`] and report [`Conflict`]s with every
//! occurrence's location. Strategies (one file each under `strategies/`) turn a conflict into a
//! [`Resolution`]: byte-exact [`Edit`]s at source spans, so comments and formatting survive.
//! Detection and proposals are pure (file texts come through [`strategies::FileSource`]);
//! [`disk::DiskFiles`] is that source for checkouts on disk, and [`patch::apply_to_disk`] is the
//! one function that writes, atomically and only inside the repositories.
//!
//! Not for: finding references or edges (that is `switchyard-link`).

pub mod detect;
pub mod disk;
pub mod explain;
mod lookup;
pub mod patch;
pub mod sarif;
pub mod strategies;

use serde::Serialize;
use std::sync::Arc;
use switchyard_model::{ByteSpan, FleetModel, Location, RepoFacts};

pub use lookup::Lookup;

/// What detectors and strategies read: the linked model and each repository's facts.
#[derive(Clone, Copy)]
pub struct FleetInput<'a> {
    pub model: &'a FleetModel,
    /// Shared, so a long-lived holder (the server's snapshot) can replace one repository's
    /// facts without copying the others.
    pub facts: &'a [Arc<RepoFacts>],
    /// Indexes over `model` and `facts`, built on first use and shared by every copy of this
    /// input: give each `(model, facts)` pair its own.
    pub lookup: &'a Lookup,
}

/// The kinds of conflict, named as in JSON and SARIF rule ids.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ConflictKind {
    Port,
    Domain,
    Volume,
    Network,
    ContainerName,
    EnvDrift,
    UnreachableUrl,
    CorsMissingOrigin,
    WebsocketMismatch,
    SharedDependencyVersion,
    DanglingPackage,
}

impl ConflictKind {
    pub const ALL: [ConflictKind; 11] = [
        Self::Port,
        Self::Domain,
        Self::Volume,
        Self::Network,
        Self::ContainerName,
        Self::EnvDrift,
        Self::UnreachableUrl,
        Self::CorsMissingOrigin,
        Self::WebsocketMismatch,
        Self::SharedDependencyVersion,
        Self::DanglingPackage,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Port => "port",
            Self::Domain => "domain",
            Self::Volume => "volume",
            Self::Network => "network",
            Self::ContainerName => "container_name",
            Self::EnvDrift => "env_drift",
            Self::UnreachableUrl => "unreachable_url",
            Self::CorsMissingOrigin => "cors_missing_origin",
            Self::WebsocketMismatch => "websocket_mismatch",
            Self::SharedDependencyVersion => "shared_dependency_version",
            Self::DanglingPackage => "dangling_package",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Low,
    Medium,
    High,
}

/// One place a conflicting resource is used.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Occurrence {
    pub repository: String,
    pub service: Option<String>,
    pub location: Location,
    /// What is used there, as safe to print (`0.0.0.0:8080/tcp`, `app.example.com/api`).
    pub detail: String,
}

/// A conflict between repositories (or an integration mismatch).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Conflict {
    /// Stable across runs for the same conflict: kind + host/environment + resource + the
    /// sorted occurrences' repositories (see [`conflict_id`]).
    pub id: String,
    #[serde(rename = "type")]
    pub kind: ConflictKind,
    /// The contested thing: `port:8080/tcp`, `domain:app.example.com`, `env:DATABASE_URL`…
    pub resource: String,
    pub severity: Severity,
    pub host: String,
    pub environment: String,
    /// Sorted, unique.
    pub repositories: Vec<String>,
    pub occurrences: Vec<Occurrence>,
    /// One sentence for a person.
    pub message: String,
    /// The evidence chain behind the finding, for `--explain` (reference → address → resolved
    /// service → what it serves → the fix); empty for kinds that record none.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub chain: Vec<Step>,
}

/// What one link of an evidence chain is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum StepRole {
    /// The client side: the reference as written (`ORDERS_URL=http://orders:8081`).
    Reference,
    /// The address the reference names, as the linker reads it (`orders:8081`).
    Address,
    /// The service the address resolved to (or, when nothing did, why not).
    Resolved,
    /// The server side: what that service serves, with where it says so.
    Serves,
    /// Why the finding has its severity.
    Severity,
    /// What to change.
    Fix,
}

impl StepRole {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Reference => "reference",
            Self::Address => "address",
            Self::Resolved => "resolved",
            Self::Serves => "serves",
            Self::Severity => "severity",
            Self::Fix => "fix",
        }
    }
}

/// One link of a finding's evidence chain.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Step {
    pub role: StepRole,
    /// As safe to print.
    pub text: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub location: Option<Location>,
}

impl Step {
    pub fn new(role: StepRole, text: impl Into<String>, location: Option<&Location>) -> Self {
        Self {
            role,
            text: text.into(),
            location: location.cloned(),
        }
    }
}

/// The stable id of a conflict: `kind-` + 12 hex digits of a hash of its identity.
pub fn conflict_id(
    kind: ConflictKind,
    host: &str,
    environment: &str,
    resource: &str,
    repositories: &[String],
) -> String {
    let mut h = blake3::Hasher::new();
    for part in [kind.as_str(), host, environment, resource] {
        h.update(part.as_bytes());
        h.update(&[0]);
    }
    for r in repositories {
        h.update(r.as_bytes());
        h.update(&[0]);
    }
    let hex = h.finalize().to_hex();
    format!("{}-{}", kind.as_str(), &hex[..12])
}

/// A replacement of the bytes `span` of one file. `expected` is the text currently there,
/// checked before applying so a file changed since analysis is refused.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Edit {
    pub repository: String,
    /// Repo-relative path.
    pub path: String,
    pub span: ByteSpan,
    pub expected: String,
    pub replacement: String,
}

/// A proposed fix for one conflict.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Resolution {
    pub conflict_id: String,
    pub strategy: &'static str,
    /// 0.0–1.0: how likely the change is right without a person looking.
    pub confidence: f32,
    /// Whether it may be applied without review (`--apply` picks these by default).
    pub automatic: bool,
    pub description: String,
    /// Empty for manual suggestions (service consolidation).
    pub edits: Vec<Edit>,
}

impl Conflict {
    /// Builds a conflict with its stable id, sorting and deduplicating repositories.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        kind: ConflictKind,
        severity: Severity,
        host: &str,
        environment: &str,
        resource: String,
        occurrences: Vec<Occurrence>,
        message: String,
    ) -> Self {
        let mut repositories: Vec<String> =
            occurrences.iter().map(|o| o.repository.clone()).collect();
        repositories.sort();
        repositories.dedup();
        Self {
            id: conflict_id(kind, host, environment, &resource, &repositories),
            kind,
            resource,
            severity,
            host: host.to_string(),
            environment: environment.to_string(),
            repositories,
            occurrences,
            message,
            chain: Vec::new(),
        }
    }

    /// The conflict with its evidence chain.
    pub fn with_chain(mut self, chain: Vec<Step>) -> Self {
        self.chain = chain;
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_stable_and_distinct() {
        let a = conflict_id(
            ConflictKind::Port,
            "local",
            "default",
            "port:8080/tcp",
            &["a".into(), "b".into()],
        );
        let b = conflict_id(
            ConflictKind::Port,
            "local",
            "default",
            "port:8080/tcp",
            &["a".into(), "b".into()],
        );
        let c = conflict_id(
            ConflictKind::Port,
            "nas",
            "default",
            "port:8080/tcp",
            &["a".into(), "b".into()],
        );
        assert_eq!(a, b);
        assert_ne!(a, c);
        assert!(a.starts_with("port-") && a.len() == "port-".len() + 12);
        assert_eq!(
            ConflictKind::parse("env_drift"),
            Some(ConflictKind::EnvDrift)
        );
    }
}
