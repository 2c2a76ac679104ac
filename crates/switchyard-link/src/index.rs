//! Provider indexes: who answers to a name in a compose project, on an external network, in a
//! Kubernetes namespace, on a host port, for a domain, a package or a federation container.

use foldhash::HashMap;
use switchyard_model::{AliasKind, EndpointKind, Repository, Scope, Service, ServiceKind};

/// Index of a service in `FleetModel::services`.
pub type ServiceIdx = usize;

/// Most ports of one published range that are indexed (a `1-65535` range would be absurd).
const MAX_RANGE_PORTS: u32 = 1024;

/// Publishers of one host port, with the host IP each binds (None = all interfaces).
pub type Publishers<'a> = Vec<(ServiceIdx, Option<&'a str>)>;

/// Names (lowercased) → services.
pub type Names = HashMap<String, Vec<ServiceIdx>>;

/// Keys borrow from the services and repositories they were built from: building the index
/// for a 10,000-repository fleet allocates only the lowercased names.
#[derive(Default)]
pub struct Providers<'a> {
    /// (repository, compose project) → name → services.
    pub compose: HashMap<(&'a str, &'a str), Names>,
    /// (host, external network name) → name → services.
    pub networks: HashMap<(&'a str, &'a str), Names>,
    /// (environment, namespace) → name → services.
    pub kubernetes: HashMap<(&'a str, &'a str), Names>,
    /// (host, port) → publishers, with the host IP they bind (None = all interfaces).
    pub host_ports: HashMap<(&'a str, u16), Publishers<'a>>,
    /// domain → (path prefix, service); wildcard domains are stored with their `*.` prefix.
    pub domains: HashMap<String, Vec<(Option<&'a str>, ServiceIdx)>>,
    pub packages: HashMap<&'a str, Vec<ServiceIdx>>,
    pub federation: Names,
    /// repository → name (service name or any alias) → services, for same-repo fallbacks.
    pub repo_names: HashMap<&'a str, Names>,
}

fn add(map: &mut Names, name: &str, idx: ServiceIdx) {
    let entry = match map.get_mut(name) {
        // Most names are lowercase already: no allocation for them.
        Some(entry) => entry,
        None => map.entry(name.to_ascii_lowercase()).or_default(),
    };
    if !entry.contains(&idx) {
        entry.push(idx);
    }
}

impl<'a> Providers<'a> {
    pub fn build(repositories: &'a [Repository], services: &'a [Service]) -> Self {
        let repo_of: HashMap<&str, &Repository> =
            repositories.iter().map(|r| (r.name.as_str(), r)).collect();
        let mut p = Providers::default();
        for (idx, service) in services.iter().enumerate() {
            let (host, env): (&str, &str) = repo_of
                .get(service.repository.as_str())
                .map(|r| (r.host.as_str(), r.environment.as_str()))
                .unwrap_or(("local", "default"));
            let mut names: Vec<&str> = vec![&service.name];
            names.extend(
                service
                    .aliases
                    .iter()
                    .filter(|a| a.kind != AliasKind::KubernetesService)
                    .map(|a| a.name.as_str()),
            );
            let repo_names = p.repo_names.entry(service.repository.as_str()).or_default();
            for name in &names {
                add(repo_names, name, idx);
            }
            for alias in &service.aliases {
                add(repo_names, &alias.name, idx);
            }
            for scope in &service.scopes {
                match scope {
                    Scope::Compose { project } => {
                        let map = p
                            .compose
                            .entry((service.repository.as_str(), project.as_str()))
                            .or_default();
                        for name in &names {
                            add(map, name, idx);
                        }
                    }
                    Scope::Kubernetes { namespace } => {
                        let map = p.kubernetes.entry((env, namespace.as_str())).or_default();
                        if service.kind != ServiceKind::Compose {
                            add(map, &service.name, idx);
                        }
                        for alias in &service.aliases {
                            if alias.kind == AliasKind::KubernetesService {
                                add(map, &alias.name, idx);
                            }
                        }
                    }
                    Scope::Host => {}
                }
            }
            for network in &service.networks {
                if let Some(external) = &network.external_name {
                    let map = p.networks.entry((host, external.as_str())).or_default();
                    for name in &names {
                        add(map, name, idx);
                    }
                    for alias in &network.aliases {
                        add(map, alias, idx);
                    }
                }
            }
            for endpoint in &service.endpoints {
                match &endpoint.kind {
                    EndpointKind::HostPort {
                        host_ip,
                        start,
                        end,
                        ..
                    } => {
                        let last = (*end).max(*start);
                        let last = last.min((*start as u32 + MAX_RANGE_PORTS) as u16);
                        for port in *start..=last {
                            let list = p.host_ports.entry((host, port)).or_default();
                            if !list.iter().any(|(i, _)| *i == idx) {
                                list.push((idx, host_ip.as_deref()));
                            }
                        }
                    }
                    EndpointKind::HostProcessPort { port }
                    | EndpointKind::NodePort { port, .. } => {
                        let list = p.host_ports.entry((host, *port)).or_default();
                        if !list.iter().any(|(i, _)| *i == idx) {
                            list.push((idx, None));
                        }
                    }
                    EndpointKind::Domain { host: domain, path } => {
                        let list = p.domains.entry(domain.to_ascii_lowercase()).or_default();
                        let path = path.as_deref();
                        if !list.iter().any(|(pp, i)| *i == idx && *pp == path) {
                            list.push((path, idx));
                        }
                    }
                    EndpointKind::Package { name, .. } => {
                        let list = p.packages.entry(name.as_str()).or_default();
                        if !list.contains(&idx) {
                            list.push(idx);
                        }
                    }
                    EndpointKind::FederationContainer { name } => {
                        add(&mut p.federation, name, idx);
                    }
                    EndpointKind::ContainerPort { .. } | EndpointKind::ProxyLabels { .. } => {}
                }
            }
        }
        p
    }

    /// Services serving `domain` (exact, then `*.parent` wildcards), best path match first.
    pub fn domain(&self, domain: &str, path: Option<&str>) -> Vec<ServiceIdx> {
        let mut candidates = self.domains.get(domain);
        if candidates.is_none()
            && let Some((_, parent)) = domain.split_once('.')
        {
            candidates = self.domains.get(&format!("*.{parent}"));
        }
        let Some(list) = candidates else {
            return Vec::new();
        };
        let path = path.unwrap_or("/");
        // Longest matching path prefix wins; entries without a path match everything.
        let mut best: Vec<(usize, ServiceIdx)> = list
            .iter()
            .filter_map(|(prefix, idx)| match prefix {
                None => Some((0, *idx)),
                Some(p) if path.starts_with(p.trim_end_matches('*')) => Some((p.len(), *idx)),
                Some(_) => None,
            })
            .collect();
        best.sort_by_key(|b| std::cmp::Reverse(b.0));
        let top = best.first().map(|b| b.0);
        let mut out: Vec<ServiceIdx> = best
            .into_iter()
            .filter(|b| Some(b.0) == top)
            .map(|b| b.1)
            .collect();
        out.dedup();
        out
    }
}
