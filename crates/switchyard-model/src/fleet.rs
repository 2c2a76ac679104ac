//! The linked fleet: services of all repositories and the edges between them.

use crate::{
    Alias, Diagnostic, Endpoint, Location, Mechanism, NetworkAttachment, Scope, ServiceKind,
};
use serde::{Deserialize, Serialize};

/// One repository of the fleet, as declared in `switchyard.toml` or discovered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Repository {
    pub name: String,
    /// Path as given (absolute or relative to the working directory).
    pub path: String,
    /// Host the repository deploys to; repositories on one host share host ports.
    pub host: String,
    pub environment: String,
}

/// A service `id` is `repository/name`.
pub fn service_id(repository: &str, name: &str) -> String {
    format!("{repository}/{name}")
}

/// A service of the fleet: the merge of a repository's declarations with one name.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Service {
    pub id: String,
    pub repository: String,
    pub name: String,
    /// Kind of the first declaration (compose before kubernetes before others).
    pub kind: ServiceKind,
    pub source: Location,
    /// Every declaration (compose file, manifest…) of this service.
    pub sources: Vec<Location>,
    pub scopes: Vec<Scope>,
    pub aliases: Vec<Alias>,
    pub endpoints: Vec<Endpoint>,
    pub networks: Vec<NetworkAttachment>,
    pub image: Option<String>,
    /// Declared only in test harness compose files.
    pub test_harness: bool,
}

/// A resolved dependency: `from` calls or depends on `to`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Edge {
    pub from: String,
    pub to: String,
    /// Every mechanism that produced this edge, sorted.
    pub mechanisms: Vec<Mechanism>,
    pub evidence: Vec<Location>,
}

impl Edge {
    /// Mechanisms joined with `+`, e.g. `depends_on+env`.
    pub fn mechanism_label(&self) -> String {
        self.mechanisms
            .iter()
            .map(|m| m.as_str())
            .collect::<Vec<_>>()
            .join("+")
    }
}

/// Why a reference did not become an edge.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum UnresolvedReason {
    /// Looks like it targets the fleet, but nothing in the fleet serves it.
    NoProvider,
    /// An internet host or address outside the fleet.
    External,
    /// A name in scope matches more than one service.
    Ambiguous,
}

/// A reference that did not resolve to a service of the fleet.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Unresolved {
    pub repository: String,
    pub service: Option<String>,
    /// The reference as safe to print.
    pub reference: String,
    pub mechanism: Mechanism,
    pub reason: UnresolvedReason,
    pub location: Location,
}

/// A diagnostic tagged with its repository.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RepoDiagnostic {
    pub repository: String,
    #[serde(flatten)]
    pub diagnostic: Diagnostic,
}

/// The linked model of a fleet.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct FleetModel {
    pub repositories: Vec<Repository>,
    pub services: Vec<Service>,
    pub edges: Vec<Edge>,
    pub unresolved: Vec<Unresolved>,
    pub diagnostics: Vec<RepoDiagnostic>,
}
