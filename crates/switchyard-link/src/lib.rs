//! Resolves every repository's references into service-to-service edges of one [`FleetModel`].
//!
//! Scope rules (ARCHITECTURE principle 5): a compose hostname resolves inside its compose project
//! (or on an external network shared on the same host); a Kubernetes name inside its namespace
//! (`svc`, `svc.ns`, `svc.ns.svc.cluster.local`) within one environment; `localhost:PORT` and
//! `host.docker.internal:PORT` to whoever publishes PORT on the same host; domains to whoever
//! serves them (Ingress, nginx `server_name`, Traefik `Host()`). References to a service itself
//! and to internet hosts never become edges; references that look like the fleet's but match
//! nobody are kept as [`Unresolved`].
//!
//! ```
//! use switchyard_link::link;
//! use switchyard_model::*;
//! let repo = Repository { name: "r".into(), path: "r".into(), host: "local".into(), environment: "default".into() };
//! let scope = Scope::Compose { project: "compose.yaml".into() };
//! let mut facts = RepoFacts { repository: "r".into(), ..Default::default() };
//! for name in ["web", "db"] {
//!     facts.services.push(ServiceDecl::new(name, ServiceKind::Compose, scope.clone(), Location::file("r", "compose.yaml")));
//! }
//! facts.references.push(Reference {
//!     from: Some("web".into()), target: Target::Address { text: "postgres://db:5432/app".into() },
//!     mechanism: Mechanism::Env, key: Some("DATABASE_URL".into()),
//!     location: Location::file("r", "compose.yaml"), scope: scope.clone(),
//! });
//! let model = link(&[repo], &[facts]);
//! assert_eq!((model.edges[0].from.as_str(), model.edges[0].to.as_str()), ("r/web", "r/db"));
//! ```

pub mod address;
mod index;
mod kind;
mod not_calls;
mod owners;
mod proxy_labels;
mod services;
#[cfg(test)]
mod tests;

use address::{Address, is_docker_host, is_loopback, kubernetes_dns};
use foldhash::{HashMap, HashSet};
use index::{Providers, ServiceIdx};
use std::borrow::Borrow;
use std::cell::Cell;
use std::collections::BTreeMap;
use switchyard_model::{
    Edge, EndpointKind, FleetModel, Mechanism, Reference, RepoDiagnostic, RepoFacts, Repository,
    Scope, Service, Target, Unresolved, UnresolvedReason,
};

pub use services::merge_services;

/// The outcome of resolving one reference.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Resolution {
    To(ServiceIdx),
    /// The referrer itself (health checks, self-advertised addresses).
    SelfReference,
    /// Not an address at all, or an external npm package: nothing to report.
    Ignore,
    Unresolved(UnresolvedReason),
}

/// Links the facts of every repository. `facts[i]` belongs to the repository named
/// `facts[i].repository`; repositories without facts are still part of the model.
pub fn link<F: Borrow<RepoFacts>>(repositories: &[Repository], facts: &[F]) -> FleetModel {
    let facts: Vec<&RepoFacts> = facts.iter().map(Borrow::borrow).collect();
    let mut services: Vec<Service> = Vec::new();
    let mut diagnostics = Vec::new();
    for &f in &facts {
        services.extend(merge_services(f));
        diagnostics.extend(f.diagnostics.iter().map(|d| RepoDiagnostic {
            repository: f.repository.clone(),
            diagnostic: d.clone(),
        }));
    }
    let providers = Providers::build(repositories, &services);
    let owners = owners::Owners::new(&services, &facts);
    let repo_of: HashMap<&str, &Repository> =
        repositories.iter().map(|r| (r.name.as_str(), r)).collect();
    let test_projects: HashSet<(&str, &str)> = facts
        .iter()
        .flat_map(|f| {
            f.services
                .iter()
                .filter(|d| d.test_harness)
                .filter_map(|d| match &d.scope {
                    Scope::Compose { project } => Some((f.repository.as_str(), project.as_str())),
                    _ => None,
                })
        })
        .collect();

    let resolver = Resolver {
        services: &services,
        providers: &providers,
        repo_of: &repo_of,
        route: Cell::new(kind::Route::Direct),
    };
    let mut edges: Edges = BTreeMap::new();
    let mut own_urls = Vec::new();
    let mut unresolved = Vec::new();
    for &f in &facts {
        for reference in &f.references {
            let Some(from_name) = &reference.from else {
                continue;
            };
            for from in owners.of(&f.repository, from_name, reference) {
                // A test harness over-declares start-up order for services that have a real
                // declaration elsewhere; only the harness's own services' dependencies count.
                if matches!(reference.mechanism, Mechanism::DependsOn | Mechanism::Link)
                    && !services[from].test_harness
                    && matches!(&reference.scope, Scope::Compose { project } if test_projects.contains(&(f.repository.as_str(), project.as_str())))
                {
                    continue;
                }
                let not_a_call = |reason| Unresolved {
                    repository: f.repository.clone(),
                    service: Some(from_name.clone()),
                    reference: display_target(&reference.target),
                    mechanism: reference.mechanism,
                    reason,
                    location: reference.location.clone(),
                };
                let role = match reference.target {
                    Target::Address { .. } => not_calls::role(reference),
                    _ => not_calls::Role::Call,
                };
                if role == not_calls::Role::AllowList {
                    unresolved.push(not_a_call(UnresolvedReason::AllowList));
                    continue;
                }
                if role == not_calls::Role::ClientRegistration {
                    unresolved.push(not_a_call(UnresolvedReason::ClientRegistration));
                    continue;
                }
                match resolver.resolve(from, reference) {
                    Resolution::To(to) if to == from => {}
                    Resolution::To(_) if role == not_calls::Role::OwnHost => {
                        unresolved.push(not_a_call(UnresolvedReason::SelfUrl));
                    }
                    // Decided once every proxy's routes are known.
                    Resolution::To(to) if role == not_calls::Role::OwnUrl => {
                        own_urls.push((from, to, reference, resolver.route.get(), f));
                    }
                    Resolution::To(to) => {
                        add_edge(
                            &mut edges,
                            &services,
                            (from, to),
                            (reference, f),
                            resolver.route.get(),
                        );
                    }
                    Resolution::SelfReference | Resolution::Ignore => {}
                    Resolution::Unresolved(reason) => unresolved.push(not_a_call(reason)),
                }
            }
        }
    }
    let label_routes = proxy_labels::routes(&services, &repo_of);
    let no_facts = RepoFacts::default();
    for (proxy, service, reference) in &label_routes {
        // The labels are the routed service's: its repository's variants apply.
        let labelled = facts
            .iter()
            .find(|f| f.repository == services[*service].repository)
            .map_or(&no_facts, |f| *f);
        add_edge(
            &mut edges,
            &services,
            (*proxy, *service),
            (reference, labelled),
            kind::Route::Direct,
        );
    }
    // A service's own public URL that leads, through the proxies serving its domain, back to
    // the service is a self-reference; any other target is a real call.
    for (from, to, reference, route, f) in own_urls {
        if leads_back(&edges, to, from) {
            unresolved.push(Unresolved {
                repository: f.repository.clone(),
                service: reference.from.clone(),
                reference: display_target(&reference.target),
                mechanism: reference.mechanism,
                reason: UnresolvedReason::SelfUrl,
                location: reference.location.clone(),
            });
        } else {
            add_edge(&mut edges, &services, (from, to), (reference, f), route);
        }
    }
    let mut edges: Vec<Edge> = edges
        .into_iter()
        .map(|((from, to), (mut edge, class, shared))| {
            edge.evidence.sort();
            (edge.kind, edge.telemetry, edge.confidence) = class.finish();
            if shared {
                edge.variants
                    .extend(shared_variants(&services[from], &services[to]));
            }
            edge.variants.sort();
            edge.variants.dedup();
            edge
        })
        .collect();
    edges.sort_by(|a, b| (&a.from, &a.to).cmp(&(&b.from, &b.to)));
    // A configuration repository's `<application>.yml` made a node for the name; its references
    // went to the application itself, so the node is nobody.
    let claimed: HashSet<String> = services
        .iter()
        .filter(|s| owners.is_claimed(s))
        .map(|s| s.id.clone())
        .filter(|id| !edges.iter().any(|e| &e.from == id || &e.to == id))
        .collect();
    services.retain(|s| !claimed.contains(&s.id));
    FleetModel {
        repositories: repositories.to_vec(),
        services,
        edges,
        unresolved,
        diagnostics,
        conventions: Default::default(),
    }
}

/// Edges by `(from, to)`, with the classification of the references behind each and whether
/// some evidence is shared by all the repository's variants (a file no variant holds).
type Edges = BTreeMap<(ServiceIdx, ServiceIdx), (Edge, kind::EdgeClass, bool)>;

fn add_edge(
    edges: &mut Edges,
    services: &[Service],
    (from, to): (ServiceIdx, ServiceIdx),
    (reference, facts): (&Reference, &RepoFacts),
    route: kind::Route,
) {
    let (edge, class, shared) = edges.entry((from, to)).or_insert_with(|| {
        let edge = Edge::new(services[from].id.clone(), services[to].id.clone());
        (edge, kind::EdgeClass::default(), false)
    });
    if !facts.variants.is_empty() {
        let seen_in = services::variants_of(&facts.variants, &reference.scope, &reference.location);
        *shared |= seen_in.is_empty();
        for name in seen_in {
            if !edge.variants.contains(&name) {
                edge.variants.push(name);
            }
        }
    }
    class.add(kind::contribution(reference, &services[from], route));
    if let Some(section) = kind::package_section(reference)
        && !edge.sections.iter().any(|s| s == section)
    {
        edge.sections.push(section.to_string());
        edge.sections.sort();
    }
    if !edge.mechanisms.contains(&reference.mechanism) {
        edge.mechanisms.push(reference.mechanism);
        edge.mechanisms.sort();
    }
    if !edge.evidence.contains(&reference.location) {
        edge.evidence.push(reference.location.clone());
    }
}

/// The variants an edge seen in a shared file (an nginx config, an `.env` every variant reads)
/// belongs to: those of its caller, and of its callee when both are in one repository.
fn shared_variants(from: &Service, to: &Service) -> Vec<String> {
    from.variants
        .iter()
        .filter(|v| {
            from.repository != to.repository || to.variants.is_empty() || to.variants.contains(v)
        })
        .cloned()
        .collect()
}

/// Whether `proxy` reaches `service` in at most three hops (a CDN tunnel, an edge proxy and an
/// inner proxy in front of an app).
fn leads_back(edges: &Edges, proxy: ServiceIdx, service: ServiceIdx) -> bool {
    let mut frontier = vec![proxy];
    let mut seen = vec![proxy];
    for _ in 0..3 {
        let mut next = Vec::new();
        for &at in &frontier {
            for &(_, to) in edges.range((at, 0)..=(at, ServiceIdx::MAX)).map(|(k, _)| k) {
                if to == service {
                    return true;
                }
                if !seen.contains(&to) {
                    seen.push(to);
                    next.push(to);
                }
            }
        }
        frontier = next;
    }
    false
}

/// The printable text of a reference target (already redacted by `extract`).
pub fn display_target(target: &Target) -> String {
    match target {
        Target::ServiceName { name } => name.clone(),
        Target::Address { text } => text.clone(),
        Target::Package { name, spec } => format!("{name}@{spec}"),
        Target::FederationRemote { name, url } => match url {
            Some(url) => format!("{name}@{url}"),
            None => name.clone(),
        },
        Target::Selector { namespace, labels } => {
            let labels: Vec<String> = labels.iter().map(|(k, v)| format!("{k}={v}")).collect();
            format!("{namespace}/{}", labels.join(","))
        }
    }
}

struct Resolver<'a> {
    services: &'a [Service],
    providers: &'a Providers<'a>,
    repo_of: &'a HashMap<&'a str, &'a Repository>,
    /// How the last [`Resolver::resolve`] found its target (inferred and heuristic routes
    /// lower an edge's confidence).
    route: Cell<kind::Route>,
}

impl Resolver<'_> {
    fn host_env(&self, idx: ServiceIdx) -> (&str, &str) {
        self.repo_of
            .get(self.services[idx].repository.as_str())
            .map(|r| (r.host.as_str(), r.environment.as_str()))
            .unwrap_or(("local", "default"))
    }

    /// Scopes a reference is resolved in: its own and those of the referring service.
    fn scopes<'s>(&'s self, from: ServiceIdx, reference: &'s Reference) -> Vec<&'s Scope> {
        let mut scopes = vec![&reference.scope];
        for s in &self.services[from].scopes {
            if !scopes.contains(&s) {
                scopes.push(s);
            }
        }
        scopes
    }

    fn resolve(&self, from: ServiceIdx, reference: &Reference) -> Resolution {
        self.route.set(kind::Route::Direct);
        match &reference.target {
            Target::ServiceName { name } => self
                .resolve_name(from, reference, name)
                .map_or(Resolution::Unresolved(UnresolvedReason::NoProvider), pick),
            Target::Address { text } => {
                let addresses = address::parse(text);
                if addresses.is_empty() {
                    return Resolution::Ignore;
                }
                // A list of hosts (a cluster) resolves to the first one that resolves.
                let mut first_failure = None;
                for a in &addresses {
                    match self.resolve_address(from, reference, a) {
                        r @ (Resolution::To(_) | Resolution::SelfReference) => return r,
                        other => {
                            first_failure.get_or_insert(other);
                        }
                    }
                }
                first_failure.unwrap_or(Resolution::Ignore)
            }
            Target::Package { name, spec } => {
                let own_repo = &self.services[from].repository;
                match self.providers.packages.get(name.as_str()) {
                    Some(list) => pick(prefer_repo(self.services, list, own_repo)),
                    None if spec.starts_with("workspace:") => {
                        Resolution::Unresolved(UnresolvedReason::NoProvider)
                    }
                    None => Resolution::Ignore,
                }
            }
            Target::FederationRemote { name, url } => {
                if let Some(url) = url {
                    for a in address::parse(url) {
                        if let r @ Resolution::To(_) = self.resolve_address(from, reference, &a) {
                            return r;
                        }
                    }
                }
                match self.providers.federation.get(&name.to_ascii_lowercase()) {
                    Some(list) => pick(list.clone()),
                    None => Resolution::Unresolved(UnresolvedReason::NoProvider),
                }
            }
            // Selectors are matched to workloads inside `extract` (same repository).
            Target::Selector { .. } => Resolution::Ignore,
        }
    }

    /// A bare name in the referrer's scopes: compose project, external networks, namespace.
    /// The providers of a hostname, those in the referrer's own variants first: a name two
    /// alternative deployments of one repository give to different services means the one
    /// deployed beside the referrer.
    fn resolve_name(
        &self,
        from: ServiceIdx,
        reference: &Reference,
        name: &str,
    ) -> Option<Vec<ServiceIdx>> {
        let list = self.resolve_name_in_scopes(from, reference, name)?;
        let own = &self.services[from];
        if list.len() < 2 || own.variants.is_empty() {
            return Some(list);
        }
        let beside: Vec<ServiceIdx> = list
            .iter()
            .copied()
            .filter(|&i| {
                let s = &self.services[i];
                s.repository == own.repository
                    && s.variants.iter().any(|v| own.variants.contains(v))
            })
            .collect();
        Some(if beside.is_empty() { list } else { beside })
    }

    fn resolve_name_in_scopes(
        &self,
        from: ServiceIdx,
        reference: &Reference,
        name: &str,
    ) -> Option<Vec<ServiceIdx>> {
        let name = name.to_ascii_lowercase();
        let service = &self.services[from];
        let (host, env) = self.host_env(from);
        for scope in self.scopes(from, reference) {
            let found = match scope {
                Scope::Compose { project } => self
                    .providers
                    .compose
                    .get(&(service.repository.as_str(), project.as_str()))
                    .and_then(|m| m.get(name.as_str())),
                Scope::Kubernetes { namespace } => self
                    .providers
                    .kubernetes
                    .get(&(env, namespace.as_str()))
                    .and_then(|m| m.get(name.as_str())),
                Scope::Host => None,
            };
            if let Some(list) = found {
                return Some(list.clone());
            }
        }
        for network in &service.networks {
            if let Some(external) = &network.external_name
                && let Some(list) = self
                    .providers
                    .networks
                    .get(&(host, external.as_str()))
                    .and_then(|m| m.get(name.as_str()))
            {
                return Some(list.clone());
            }
        }
        // Loose files of a repository (config JSON, .env) name services of their repository.
        if (reference.scope == Scope::Host || service.scopes.iter().all(|s| *s == Scope::Host))
            && let Some(list) = self
                .providers
                .repo_names
                .get(service.repository.as_str())
                .and_then(|m| m.get(name.as_str()))
        {
            self.route.set(kind::Route::LooseName);
            return Some(list.clone());
        }
        None
    }

    fn resolve_address(&self, from: ServiceIdx, reference: &Reference, a: &Address) -> Resolution {
        let host = a.host.as_str();
        let (machine, env) = self.host_env(from);
        if is_loopback(host) || is_docker_host(host) {
            let Some(port) = a.port else {
                return Resolution::SelfReference;
            };
            if serves_port(&self.services[from], port) {
                return Resolution::SelfReference;
            }
            // An address written into a container's own declaration (compose `environment`,
            // `command`, a Kubernetes manifest): there `localhost` is that container (its pod),
            // never whoever publishes the port on the host. Loose files (`.env`, config JSON)
            // may be read by the same code run on the host, and code running in the browser
            // reaches the host's published ports, so those keep the host-port rule.
            if is_loopback(host)
                && reference.scope != Scope::Host
                && is_container(&self.services[from])
                && !kind::is_browser(reference)
            {
                return Resolution::Unresolved(UnresolvedReason::ContainerLoopback);
            }
            return match self.providers.host_ports.get(&(machine, port)) {
                Some(list) => {
                    let ids: Vec<ServiceIdx> = list.iter().map(|(i, _)| *i).collect();
                    if ids.contains(&from) {
                        Resolution::SelfReference
                    } else {
                        let resolution = pick(ids);
                        if matches!(resolution, Resolution::To(_)) {
                            self.route.set(kind::Route::HostPort);
                        }
                        resolution
                    }
                }
                None => Resolution::Unresolved(UnresolvedReason::NoProvider),
            };
        }
        if host.parse::<std::net::IpAddr>().is_ok() {
            return match self.resolve_name(from, reference, host) {
                Some(list) => pick(list),
                None => Resolution::Unresolved(UnresolvedReason::External),
            };
        }
        if let Some(list) = self.resolve_name(from, reference, host) {
            return pick(list);
        }
        let domain = self.providers.domain(host, a.path.as_deref());
        if !domain.is_empty() {
            return pick(domain);
        }
        if let Some((name, namespace)) = kubernetes_dns(host) {
            if let Some(ns) = namespace
                && let Some(list) = self
                    .providers
                    .kubernetes
                    .get(&(env, ns))
                    .and_then(|m| m.get(name))
            {
                return pick(list.clone());
            }
            if namespace.is_none() || host.ends_with(".svc") || host.ends_with(".cluster.local") {
                return Resolution::Unresolved(UnresolvedReason::NoProvider);
            }
        }
        if is_internal_domain(host) {
            Resolution::Unresolved(UnresolvedReason::NoProvider)
        } else {
            Resolution::Unresolved(UnresolvedReason::External)
        }
    }
}

/// Whether a service runs in a container (a compose service or a Kubernetes workload), where
/// `localhost` is the container itself. A compose service with `network_mode` (`host`,
/// `service:x`, `container:x`) has no networks of its own: its `localhost` is the host's or
/// another container's, where whoever publishes the port is the best reading.
fn is_container(service: &Service) -> bool {
    let shares_a_namespace = service.networks.is_empty()
        && service
            .scopes
            .iter()
            .any(|s| matches!(s, Scope::Compose { .. }));
    !service.scopes.is_empty()
        && service.scopes.iter().all(|s| *s != Scope::Host)
        && !shares_a_namespace
}

/// Whether a service itself listens on `port` (a self-check like `curl localhost:80`).
fn serves_port(service: &Service, port: u16) -> bool {
    service.endpoints.iter().any(|e| match &e.kind {
        EndpointKind::ContainerPort { port: p, .. } | EndpointKind::HostProcessPort { port: p } => {
            *p == port
        }
        EndpointKind::HostPort {
            start,
            end,
            container_port,
            ..
        } => (*start..=(*end).max(*start)).contains(&port) || *container_port == Some(port),
        _ => false,
    })
}

/// Domains that cannot be on the internet: they target the fleet.
fn is_internal_domain(host: &str) -> bool {
    const SUFFIXES: [&str; 9] = [
        ".local",
        ".internal",
        ".test",
        ".lan",
        ".home",
        ".localhost",
        ".svc",
        ".corp",
        ".intranet",
    ];
    SUFFIXES.iter().any(|s| host.ends_with(s)) || host.ends_with(".home.arpa")
}

fn prefer_repo(services: &[Service], list: &[ServiceIdx], repo: &str) -> Vec<ServiceIdx> {
    let own: Vec<ServiceIdx> = list
        .iter()
        .copied()
        .filter(|&i| services[i].repository == repo)
        .collect();
    if own.is_empty() { list.to_vec() } else { own }
}

/// One provider → an edge; several → ambiguous.
fn pick(list: Vec<ServiceIdx>) -> Resolution {
    match list.as_slice() {
        [one] => Resolution::To(*one),
        [] => Resolution::Unresolved(UnresolvedReason::NoProvider),
        _ => Resolution::Unresolved(UnresolvedReason::Ambiguous),
    }
}
