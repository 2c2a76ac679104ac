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
    /// The repository's variants (alternative deployments) that declare this service; empty
    /// when the repository holds one deployment.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub variants: Vec<String>,
    /// Compose profiles that start this service (any of them); empty when it always starts.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub profiles: Vec<String>,
}

/// What kind of dependency an edge is (docs/LINKING.md, "Edge kinds").
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum EdgeKind {
    /// The process of `from` connects to `to`: an address in env, config or a command, a proxy
    /// upstream, a federation remote, a scrape or exporter target.
    #[default]
    Call,
    /// Only start-up order is declared (`depends_on`, `links`, `volumes_from`): no address of
    /// `to` was seen anywhere in `from`.
    Startup,
    /// A package dependency: it orders builds, it is not a network call.
    Build,
    /// The address is used by code that runs in the user's browser (`VITE_*`, `REACT_APP_*`,
    /// a static web client's config file): the browser calls `to`, not the container.
    Browser,
    /// A `peerDependencies` entry: the dependent expects its host to install `to`; it orders
    /// nothing (package managers and Turborepo's `^build` do not follow it).
    Peer,
}

impl EdgeKind {
    pub const ALL: [EdgeKind; 5] = [
        Self::Call,
        Self::Startup,
        Self::Build,
        Self::Browser,
        Self::Peer,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Call => "call",
            Self::Startup => "startup",
            Self::Build => "build",
            Self::Browser => "browser",
            Self::Peer => "peer",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == text)
    }
}

/// How sure the linker is of an edge.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Confidence {
    /// A heuristic: a repository-level file read as the repository's application.
    Low,
    /// Inferred: an address in a file the service mounts or builds from, or `localhost:PORT`
    /// resolved to whoever publishes that port.
    Medium,
    /// Explicit: an address or `depends_on` in the service's own declaration, a package
    /// dependency.
    #[default]
    High,
}

impl Confidence {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Low => "low",
            Self::Medium => "medium",
            Self::High => "high",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        [Self::Low, Self::Medium, Self::High]
            .into_iter()
            .find(|c| c.as_str() == text)
    }
}

/// A resolved dependency: `from` calls or depends on `to`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Edge {
    pub from: String,
    pub to: String,
    /// Every mechanism that produced this edge, sorted.
    pub mechanisms: Vec<Mechanism>,
    pub evidence: Vec<Location>,
    #[serde(default)]
    pub kind: EdgeKind,
    /// The call carries metrics, traces or logs (a scrape target, an OTLP/Jaeger/Zipkin
    /// exporter, a logging driver).
    #[serde(default)]
    pub telemetry: bool,
    #[serde(default)]
    pub confidence: Confidence,
    /// The variants of `from`'s repository this edge was seen in, sorted; empty when the
    /// repository holds one deployment (or the evidence is shared by all its variants).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub variants: Vec<String>,
    /// For package dependencies: the package.json sections the edge was declared in
    /// (`dependencies`, `devDependencies`, `peerDependencies`, `optionalDependencies`), sorted.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sections: Vec<String>,
}

impl Edge {
    /// An edge with no mechanism or evidence yet: a high-confidence call until told otherwise.
    pub fn new(from: impl Into<String>, to: impl Into<String>) -> Self {
        Edge {
            from: from.into(),
            to: to.into(),
            mechanisms: Vec::new(),
            evidence: Vec::new(),
            kind: EdgeKind::Call,
            telemetry: false,
            confidence: Confidence::High,
            variants: Vec::new(),
            sections: Vec::new(),
        }
    }

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
    /// `localhost:PORT` inside a container names the container itself, which does not listen
    /// on that port (whoever publishes the port on the host is not reached this way).
    ContainerLoopback,
    /// An allow-list (CORS origins, allowed hosts, cookie domains): origins the service accepts,
    /// not addresses it calls.
    AllowList,
    /// The service's own public URL or published domain (`ROOT_URL`, `VIRTUAL_HOST`), reached
    /// back through the proxy that serves it.
    SelfUrl,
    /// An OAuth/OIDC client registration (redirect, callback, post-logout and home URLs of a
    /// client in an identity provider's config, or an app's own callback URL): the provider
    /// sends the browser there, nobody calls it.
    ClientRegistration,
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
    /// Fleet-wide conventions declared in `switchyard.toml` (`[conventions]`).
    #[serde(default, skip_serializing_if = "Conventions::is_empty")]
    pub conventions: Conventions,
}

/// `[conventions]` of `switchyard.toml`: env keys that must agree across the fleet.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Conventions {
    /// Keys (case-insensitive, `*` wildcards) whose values must be one across the repositories
    /// of an environment, whatever their host.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub agree: Vec<String>,
    /// Keys (same patterns) never reported as drift: values that differ on purpose.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ignore: Vec<String>,
    /// Keys with the one value every repository must use.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub values: Vec<ConventionValue>,
}

impl Conventions {
    pub fn is_empty(&self) -> bool {
        self.agree.is_empty() && self.ignore.is_empty() && self.values.is_empty()
    }
}

/// One `KEY = "value"` of `[conventions.values]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConventionValue {
    pub key: String,
    /// The expected value; print it through [`crate::redact::redact_value`].
    pub value: String,
    /// Its line in `switchyard.toml` (1-based; 0 when unknown).
    #[serde(default)]
    pub line: u32,
}
