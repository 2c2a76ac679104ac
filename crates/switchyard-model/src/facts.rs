//! Facts about one repository, as `extract` produces them (pure, cacheable).

use crate::{ByteSpan, Location};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Everything extracted from one repository.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RepoFacts {
    pub repository: String,
    pub services: Vec<ServiceDecl>,
    pub references: Vec<Reference>,
    pub env: Vec<EnvEntry>,
    pub resources: Vec<ResourceUse>,
    /// Module Federation `shared` dependencies, for singleton version checks.
    #[serde(default)]
    pub shared: Vec<SharedDependency>,
    /// Module Federation details of bundler configs the graph does not carry (the remote
    /// entry's file name, which `remotes` entries name the container they load).
    #[serde(default)]
    pub federation: Vec<FederationSettings>,
    /// What a repository's packages say about real-time sockets: WebSocket and Socket.IO
    /// libraries they depend on, socket paths their code configures, nginx locations that
    /// upgrade connections. (Always written: the cache's MessagePack is positional.)
    #[serde(default)]
    pub sockets: Vec<SocketFact>,
    /// Routers of a reverse proxy's dynamic configuration: Traefik docker labels (the labelled
    /// container's) and file-provider routers (the proxy's that reads the file). (Always
    /// written: the cache's MessagePack is positional.)
    #[serde(default)]
    pub proxy_routes: Vec<ProxyRoute>,
    /// Task definitions of a monorepo's task runner (`turbo.json`, `nx.json`, `project.json`).
    /// (Always written: the cache's MessagePack is positional.)
    #[serde(default)]
    pub tasks: Vec<TaskDecl>,
    pub diagnostics: Vec<Diagnostic>,
    /// Number of files read (not skipped) for this repository.
    pub files_scanned: usize,
    /// The alternative deployments the repository holds (empty when it holds one).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub variants: Vec<Variant>,
}

/// One alternative deployment of a repository: a standalone compose project, a Kubernetes
/// manifest tree (a kustomize base with its overlays, an `extras/` folder, a chart…), or a set of
/// paths `switchyard.toml` names. Services and references belong to the variant whose `files`
/// hold their declaration; same-named services of two variants are alternatives, never peers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Variant {
    /// The compose project's file, the manifest tree's directory (or file), or the configured name.
    pub name: String,
    /// Repo-relative files (or directories, ending in `/`) that make up the variant.
    pub files: Vec<String>,
}

impl Variant {
    /// Whether the repo-relative `path` belongs to this variant.
    pub fn holds(&self, path: &str) -> bool {
        self.files.iter().any(|f| {
            if f.is_empty() || f == "/" {
                true
            } else if let Some(dir) = f.strip_suffix('/') {
                path.strip_prefix(dir)
                    .is_some_and(|rest| rest.starts_with('/'))
            } else {
                f == path
            }
        })
    }
}

/// What kind of thing declares a service.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ServiceKind {
    /// A docker-compose (or swarm stack) service.
    Compose,
    /// A Kubernetes workload (Deployment, StatefulSet, DaemonSet, Job, CronJob, Pod).
    Kubernetes,
    /// A Kubernetes Service with no workload in the same repository.
    KubernetesService,
    /// An nginx server (reverse proxy).
    Nginx,
    /// A package of a JavaScript workspace.
    Package,
    /// A Module Federation application (host or remote).
    Federation,
    /// A repository without declared services, seen as one application.
    Application,
}

impl ServiceKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Compose => "compose",
            Self::Kubernetes => "kubernetes",
            Self::KubernetesService => "kubernetes-service",
            Self::Nginx => "nginx",
            Self::Package => "package",
            Self::Federation => "federation",
            Self::Application => "application",
        }
    }
}

/// The naming scope a service's hostnames live in (see ARCHITECTURE principle 5).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "kebab-case")]
pub enum Scope {
    /// A compose project: hostnames resolve between services of one project (a compose file
    /// together with its overrides and includes). `project` is the compose file's repo path.
    Compose { project: String },
    /// A Kubernetes namespace (`default` when none is given).
    Kubernetes { namespace: String },
    /// Processes on the host itself (dev servers, nginx, packages).
    Host,
}

/// A service declared by a repository. Declarations with the same name in one repository
/// (compose and k8s variants of one app) are merged into one service by `link`, which keeps the
/// [`Variant`]s it is declared in: the variants stay apart in edges, views and conflicts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ServiceDecl {
    pub name: String,
    pub kind: ServiceKind,
    pub scope: Scope,
    pub source: Location,
    /// Other names this service answers to (container_name, hostname, network aliases…).
    pub aliases: Vec<Alias>,
    pub endpoints: Vec<Endpoint>,
    /// Compose networks (or other shared segments) the service is attached to.
    pub networks: Vec<NetworkAttachment>,
    /// Repo-relative directories and files that belong to this service: build context,
    /// bind-mounted config files, env_files. Used to attribute loose files' references.
    pub owned_paths: Vec<String>,
    pub image: Option<String>,
    /// True when declared only in a test harness (e.g. `docker-compose.test.yml`).
    #[serde(default)]
    pub test_harness: bool,
    /// Compose `profiles`: the service starts only when one of them is enabled; empty means
    /// it always starts.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub profiles: Vec<String>,
}

impl ServiceDecl {
    pub fn new(name: impl Into<String>, kind: ServiceKind, scope: Scope, source: Location) -> Self {
        Self {
            name: name.into(),
            kind,
            scope,
            source,
            aliases: Vec::new(),
            endpoints: Vec::new(),
            networks: Vec::new(),
            owned_paths: Vec::new(),
            image: None,
            test_harness: false,
            profiles: Vec::new(),
        }
    }
}

/// Another name of a service, with where it was declared.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Alias {
    pub name: String,
    pub kind: AliasKind,
    pub location: Location,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AliasKind {
    ContainerName,
    Hostname,
    NetworkAlias,
    LinkAlias,
    /// A Kubernetes Service selecting this workload.
    KubernetesService,
    /// A static IP address on a network.
    IpAddress,
    /// A package or application name (package.json `name`, federation `name`).
    PackageName,
}

/// A network a service is attached to.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct NetworkAttachment {
    /// The network's key in the compose file.
    pub name: String,
    /// The real network name when `external` (or `name:` is set), shared across projects.
    pub external_name: Option<String>,
    pub aliases: Vec<String>,
    pub location: Location,
}

/// Something a service serves.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Endpoint {
    pub kind: EndpointKind,
    pub location: Location,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "kebab-case")]
pub enum EndpointKind {
    /// A port published on the host (`ports:` in compose). `end` > `start` for ranges.
    HostPort {
        host_ip: Option<String>,
        start: u16,
        end: u16,
        container_port: Option<u16>,
        protocol: Protocol,
    },
    /// A port the service listens on inside its network (expose, containerPort, Service port).
    ContainerPort { port: u16, protocol: Protocol },
    /// A Kubernetes NodePort, open on every node.
    NodePort { port: u16, protocol: Protocol },
    /// A port a process listens on directly on the host (dev server, nginx `listen`).
    HostProcessPort { port: u16 },
    /// A domain (and optional path prefix) routed to the service: Ingress, nginx, Traefik.
    Domain { host: String, path: Option<String> },
    /// A package published by a workspace (`name` in package.json) with its version.
    Package {
        name: String,
        version: Option<String>,
    },
    /// A Module Federation container name this application exposes.
    FederationContainer { name: String },
    /// Container labels asking a reverse proxy's docker provider to route to this service
    /// (`traefik.*`); the proxy may run in another compose project on the same host.
    ProxyLabels { provider: String },
}

/// The form people write an endpoint in, shown by the CLI and the dashboard alike:
/// `0.0.0.0:8080->80/tcp`, `80/tcp`, `nodePort 30080`, `localhost:3000`, `app.example.com/api`,
/// `@acme/ui@1.2.0`, `federation shell`, `traefik labels`.
impl std::fmt::Display for EndpointKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            EndpointKind::HostPort {
                host_ip,
                start,
                end,
                container_port,
                protocol,
            } => {
                write!(f, "{}:{start}", host_ip.as_deref().unwrap_or("0.0.0.0"))?;
                if end > start {
                    write!(f, "-{end}")?;
                }
                if let Some(port) = container_port {
                    write!(f, "->{port}")?;
                }
                write!(f, "/{}", protocol.as_str())
            }
            EndpointKind::ContainerPort { port, protocol } => {
                write!(f, "{port}/{}", protocol.as_str())
            }
            EndpointKind::NodePort { port, .. } => write!(f, "nodePort {port}"),
            EndpointKind::HostProcessPort { port } => write!(f, "localhost:{port}"),
            EndpointKind::Domain { host, path } => {
                write!(f, "{host}{}", path.as_deref().unwrap_or(""))
            }
            EndpointKind::Package { name, version } => match version {
                Some(v) => write!(f, "{name}@{v}"),
                None => write!(f, "{name}"),
            },
            EndpointKind::FederationContainer { name } => write!(f, "federation {name}"),
            EndpointKind::ProxyLabels { provider } => write!(f, "{provider} labels"),
        }
    }
}

#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Protocol {
    #[default]
    Tcp,
    Udp,
    Sctp,
}

impl Protocol {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Tcp => "tcp",
            Self::Udp => "udp",
            Self::Sctp => "sctp",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s.to_ascii_lowercase().as_str() {
            "tcp" => Some(Self::Tcp),
            "udp" => Some(Self::Udp),
            "sctp" => Some(Self::Sctp),
            _ => None,
        }
    }
}

/// How a reference was expressed; also the `mechanism` of the edge it becomes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Mechanism {
    DependsOn,
    Link,
    Env,
    /// A URL or address inside a config file.
    Url,
    Command,
    Label,
    ProxyPass,
    /// A Kubernetes Service selecting a workload, or an Ingress backend.
    Selector,
    Federation,
    Workspace,
    /// A package installed from a registry (an npm version range): an edge only when a
    /// repository of the fleet publishes that package.
    Registry,
    VolumesFrom,
    /// An address in an env set imported whole (`envFrom` of a ConfigMap that several workloads
    /// import): an address book, whose entries the consumer may or may not read.
    EnvFrom,
}

impl Mechanism {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::DependsOn => "depends_on",
            Self::Link => "link",
            Self::Env => "env",
            Self::Url => "url",
            Self::Command => "command",
            Self::Label => "label",
            Self::ProxyPass => "proxy_pass",
            Self::Selector => "selector",
            Self::Federation => "federation",
            Self::Workspace => "workspace",
            Self::Registry => "registry",
            Self::VolumesFrom => "volumes_from",
            Self::EnvFrom => "env_from",
        }
    }
}

/// What a reference points at, before resolution.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "kebab-case")]
pub enum Target {
    /// A service name in the referrer's own scope (depends_on, links, volumes_from).
    ServiceName { name: String },
    /// Free text that may be an address: URL, DSN, `host:port`, bare host, `Server=…;`.
    /// Passwords are already redacted; host and port are intact.
    Address { text: String },
    /// A workspace package dependency.
    Package { name: String, spec: String },
    /// A Module Federation remote: `name@url` or a remote name plus URL.
    FederationRemote { name: String, url: Option<String> },
    /// Kubernetes label selector (Service → workloads) in a namespace.
    Selector {
        namespace: String,
        labels: BTreeMap<String, String>,
    },
}

/// Something a service (or a loose file) refers to.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Reference {
    /// The referring service's name in this repository; `None` for a loose file that `extract`
    /// attributes later (or the repository's application service).
    pub from: Option<String>,
    pub target: Target,
    pub mechanism: Mechanism,
    /// The env key or config path the value sits under (`REACT_APP_API_URL`, `datasources[0].url`).
    pub key: Option<String>,
    pub location: Location,
    /// Scope of the referrer, for scoped resolution of bare names.
    pub scope: Scope,
}

/// One environment or config value, kept for drift and redaction-aware display.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EnvEntry {
    pub service: Option<String>,
    pub key: String,
    /// The value as safe to print (secret values and URL passwords redacted).
    pub display: String,
    /// blake3 hex of the real value, for comparisons without keeping the value.
    pub value_hash: String,
    pub location: Location,
}

/// A Module Federation `shared` dependency (`react: { singleton: true, requiredVersion }`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SharedDependency {
    pub service: Option<String>,
    pub name: String,
    pub singleton: bool,
    /// The required version range: written in the config (`requiredVersion: '^18.2.0'`),
    /// or read from package.json (`requiredVersion: deps.react`, or no `requiredVersion` at
    /// all, which makes webpack read the app's package.json).
    pub required_version: Option<String>,
    pub location: Location,
    /// Where `required_version` was read when not at `location`: the package.json dependency
    /// line.
    #[serde(default)]
    pub version_location: Option<Location>,
}

/// What one bundler config says about Module Federation beyond its services and references.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FederationSettings {
    /// The container the config builds (`name`), if it names one.
    pub container: Option<String>,
    /// `filename`: the remote entry file hosts load, as written, with its location.
    pub filename: Option<String>,
    pub filename_location: Option<Location>,
    /// Locations of the `remotes` entries that state the container they load (`name@url`,
    /// `{ name, entry }`); other entries (a bare URL, as vite writes them) load whatever the
    /// URL serves, under any name.
    pub named_remotes: Vec<Location>,
}

/// One fact about real-time sockets, with the service it belongs to (loose until `attribute`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SocketFact {
    pub service: Option<String>,
    pub kind: SocketFactKind,
    /// The dependency line, the path literal, the nginx `location` argument.
    pub location: Location,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "kebab-case")]
pub enum SocketFactKind {
    /// A dependency on a socket library (package.json, requirements*.txt, pyproject.toml,
    /// Pipfile, go.mod), or native `new WebSocket(...)` in source code.
    Library {
        name: String,
        protocol: SocketProtocol,
        role: SocketRole,
    },
    /// A socket path written in code (`io(url, { path: '/rt' })`, `SocketIO(app, path=...)`,
    /// `new WebSocketServer({ path: '/ws' })`), normalized to `/x` (no trailing slash).
    Path {
        path: String,
        protocol: SocketProtocol,
        role: SocketRole,
    },
    /// An nginx `location` whose proxied requests keep the `Upgrade` header
    /// (`proxy_set_header Upgrade $http_upgrade`), directly or inherited from its `server`.
    /// `block` is the byte span of the location's block: `proxy_pass` references inside it
    /// are where the upgraded connections go.
    UpgradeLocation {
        prefix: String,
        /// A regular-expression location (`~`, `~*`): its prefix is the pattern.
        regex: bool,
        block: ByteSpan,
    },
}

/// The wire protocol a socket library speaks. Socket.IO runs over its own handshake
/// (`/socket.io/?EIO=4…`), so a plain WebSocket client and a Socket.IO server do not talk.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SocketProtocol {
    SocketIo,
    WebSocket,
}

impl SocketProtocol {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::SocketIo => "Socket.IO",
            Self::WebSocket => "plain WebSocket",
        }
    }
}

/// Which side of a connection a library (or a path option) is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SocketRole {
    Client,
    Server,
    Both,
}

impl SocketRole {
    pub fn client(self) -> bool {
        matches!(self, Self::Client | Self::Both)
    }

    pub fn server(self) -> bool {
        matches!(self, Self::Server | Self::Both)
    }
}

/// One router of a reverse proxy (Traefik): the names and paths it matches, the entry points
/// it listens on and, for a file-provider router, where its service sends the requests.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProxyRoute {
    /// Labels: the labelled container. File provider: the proxy that reads the file (loose
    /// until `attribute`, which gives it to the services mounting the file).
    pub service: Option<String>,
    pub provider: RouteProvider,
    /// The router's name (`traefik.http.routers.<name>.rule`, `http.routers.<name>`).
    pub router: String,
    /// `(host, optional path prefix)` pairs the rule matches.
    pub domains: Vec<(String, Option<String>)>,
    /// `entryPoints` of the router; empty: every default entry point.
    pub entrypoints: Vec<String>,
    /// The router's `service`, as written (`uptime-kuma`, `api@internal`), when given.
    pub target: Option<String>,
    /// File provider: the first server URL of that service in the same configuration, which
    /// is the evidence of the proxy's edge to the backend.
    pub backend: Option<Location>,
    /// The rule's value.
    pub location: Location,
}

/// Where a proxy router is declared.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RouteProvider {
    /// Container labels read by the proxy's docker provider.
    Labels,
    /// A dynamic configuration file read by the proxy's file provider.
    File,
}

/// One task as a monorepo's task runner defines it: `tasks.build` of a root `turbo.json` (for
/// every package), of a package's own `turbo.json` or `project.json` (for that package), or
/// `targetDefaults.build` of `nx.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaskDecl {
    /// `turbo` or `nx`.
    pub runner: String,
    /// The package the definition is for (`None`: every package of the workspace).
    pub package: Option<String>,
    /// The workspace root (repo-relative folder) the definition belongs to.
    pub workspace: String,
    pub task: String,
    /// `dependsOn` entries as written: `^build` (the task in the package's dependencies),
    /// `test` (the package's own task), `web#build` (one package's task).
    pub depends_on: Vec<TaskDependency>,
    /// Nx `implicitDependencies`: packages this package depends on without a package.json entry.
    pub implicit_dependencies: Vec<String>,
    /// The task's key.
    pub location: Location,
}

/// One `dependsOn` entry of a task, with its place.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaskDependency {
    pub target: String,
    pub location: Location,
}

/// A shared resource a service uses (volumes, networks, container names).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ResourceUse {
    pub service: Option<String>,
    pub kind: ResourceKind,
    pub identifier: String,
    /// For volumes and binds: mounted read-only.
    #[serde(default)]
    pub read_only: bool,
    /// For networks: declared external (shared on purpose).
    #[serde(default)]
    pub external: bool,
    /// Free-form settings that must agree (subnet, driver), sorted by key.
    #[serde(default)]
    pub settings: BTreeMap<String, String>,
    pub location: Location,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ResourceKind {
    Volume,
    BindMount,
    Network,
    ContainerName,
}

/// A problem reading or understanding a file. Analysis of everything else continues.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Diagnostic {
    pub code: DiagnosticCode,
    pub message: String,
    pub location: Location,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum DiagnosticCode {
    /// The file is not valid YAML/JSON/TOML/nginx syntax.
    ParseError,
    /// YAML alias expansion or node count exceeded the budget.
    YamlBudgetExceeded,
    /// Larger than the per-file size limit.
    FileTooLarge,
    /// Contains NUL bytes or is otherwise binary.
    BinaryFile,
    /// Not valid UTF-8.
    NotUtf8,
    /// Could not be read (permissions, I/O error).
    Unreadable,
    /// A symlink cycle.
    SymlinkLoop,
    /// A symlink whose target lies outside the repository; never followed nor read.
    SymlinkOutsideRepository,
    /// A Helm/Go template that is not valid YAML until rendered.
    TemplateNotRendered,
    /// A `${VAR}` with no value and no default, or `${VAR:?err}` unset.
    UnsetVariable,
    /// A file named by `extends`, `include`, `env_file` that does not exist.
    MissingFile,
    /// A construct that was understood but is not valid for its format.
    InvalidValue,
    /// Too many files in one repository; the rest were skipped.
    TooManyFiles,
    /// Folders nested deeper than the depth limit; what lies below was skipped.
    TooDeep,
    /// The repository's files add up to more bytes than its limit; the rest were skipped.
    RepositoryTooLarge,
    /// Reading the repository took longer than its time limit; the rest was skipped.
    WalkTimeout,
    /// Reading the repository was cancelled (the server is shutting down).
    Cancelled,
    /// The repository path does not exist or is not a directory.
    RepositoryMissing,
    /// A dependency on a workspace member's name that the package manager would not link (its
    /// range misses the member's version, or pnpm links only `workspace:` specs): it would
    /// install a package of that name from the registry instead.
    RegistryInstall,
}

impl Diagnostic {
    pub fn new(code: DiagnosticCode, message: impl Into<String>, location: Location) -> Self {
        Self {
            code,
            message: message.into(),
            location,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{EndpointKind, Protocol, Variant};

    #[test]
    fn endpoints_read_as_people_write_them() {
        let published = EndpointKind::HostPort {
            host_ip: Some("127.0.0.1".into()),
            start: 8080,
            end: 8080,
            container_port: Some(80),
            protocol: Protocol::Tcp,
        };
        assert_eq!(published.to_string(), "127.0.0.1:8080->80/tcp");
        let range = EndpointKind::HostPort {
            host_ip: None,
            start: 9000,
            end: 9009,
            container_port: None,
            protocol: Protocol::Udp,
        };
        assert_eq!(range.to_string(), "0.0.0.0:9000-9009/udp");
        let domain = EndpointKind::Domain {
            host: "app.example.com".into(),
            path: Some("/api".into()),
        };
        assert_eq!(domain.to_string(), "app.example.com/api");
        let process = EndpointKind::HostProcessPort { port: 5173 };
        assert_eq!(process.to_string(), "localhost:5173");
    }

    #[test]
    fn a_variant_holds_its_files_and_the_files_under_its_directories() {
        let overlay = Variant {
            name: "deploy/overlays/prod".into(),
            files: vec![
                "deploy/base/".into(),
                "deploy/overlays/prod/patch.yaml".into(),
            ],
        };
        assert!(overlay.holds("deploy/base/api.yaml"));
        assert!(overlay.holds("deploy/base/db/statefulset.yaml"));
        assert!(overlay.holds("deploy/overlays/prod/patch.yaml"));
        // A sibling directory that only starts with the same letters is not inside.
        assert!(!overlay.holds("deploy/base-old/api.yaml"));
        assert!(!overlay.holds("deploy/overlays/dev/patch.yaml"));
        let whole = Variant {
            name: "all".into(),
            files: vec!["/".into()],
        };
        assert!(whole.holds("docker-compose.yml"));
    }
}
