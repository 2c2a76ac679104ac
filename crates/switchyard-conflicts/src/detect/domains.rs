//! `domain`: one host name (and overlapping path prefix) routed to services of two repositories
//! by nginx `server_name`, Ingress rules or Traefik `Host()`; wildcards shadowing names are medium.
//!
//! Layered proxies are not reported: when one route's service forwards to the other's and that
//! one answers the name in its own server config (a Traefik or edge nginx in front of an app's
//! nginx), both serve the name on purpose. When the downstream service only claims the name for
//! another router (a label, an Ingress rule), both routes end at one service: medium.

use super::Detector;
use super::index::{FleetIndex, and_list, finish};
use crate::{Conflict, ConflictKind, Occurrence, Severity, Step, StepRole};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use switchyard_model::{
    EdgeKind, EndpointKind, Location, Mechanism, ProxyRoute, RouteProvider, Service,
};

pub struct DomainDetector;

/// One routed domain.
struct Route<'a> {
    service: &'a Service,
    host: String,
    /// Normalized path prefix: `/`, `/api`.
    path: String,
    location: &'a Location,
}

impl Route<'_> {
    fn detail(&self) -> String {
        if self.path == "/" {
            self.host.clone()
        } else {
            format!("{}{}", self.host, self.path)
        }
    }
}

/// Names that are not a real virtual host (`server_name _`, `localhost`, IPs).
fn is_real_domain(host: &str) -> bool {
    !(host.is_empty()
        || host == "_"
        || host == "*"
        || host == "localhost"
        || host.ends_with(".localhost")
        || host.starts_with('~')
        || host.contains(['$', '{', '/', ' ', '`'])
        || host.parse::<std::net::IpAddr>().is_ok())
}

fn normalize_path(path: Option<&str>) -> String {
    let p = path.unwrap_or("/").trim();
    let p = p.trim_end_matches('*').trim_end_matches('/');
    if p.is_empty() || !p.starts_with('/') {
        "/".to_string()
    } else {
        p.to_string()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Overlap {
    /// The same prefix: the router picks one of them arbitrarily.
    Same,
    /// One prefix contains the other: the longer one shadows part of the shorter one's tree.
    Nested,
}

/// How two path prefixes overlap, by whole path segments.
fn overlap(a: &str, b: &str) -> Option<Overlap> {
    if a == b {
        return Some(Overlap::Same);
    }
    let nested = |short: &str, long: &str| short == "/" || long.starts_with(&format!("{short}/"));
    (nested(a, b) || nested(b, a)).then_some(Overlap::Nested)
}

/// `*.example.com` matches `a.example.com` (one label), not `a.b.example.com`.
fn wildcard_matches(wildcard: &str, host: &str) -> bool {
    let Some(parent) = wildcard.strip_prefix("*.") else {
        return false;
    };
    host.split_once('.')
        .is_some_and(|(label, rest)| !label.is_empty() && label != "*" && rest == parent)
}

impl Detector for DomainDetector {
    fn kind(&self) -> ConflictKind {
        ConflictKind::Domain
    }

    /// Per environment: DNS names are shared by every host of an environment.
    fn detect_in(&self, fleet: &FleetIndex<'_>) -> Vec<Conflict> {
        let mut out = Vec::new();
        for (&env, repos) in fleet.by_environment() {
            let routes: Vec<Route<'_>> = fleet
                .services_of(repos)
                .filter(|s| !s.test_harness)
                .flat_map(|s| {
                    s.endpoints.iter().filter_map(move |e| match &e.kind {
                        EndpointKind::Domain { host, path } => {
                            let host = host.trim().trim_end_matches('.').to_ascii_lowercase();
                            is_real_domain(&host).then(|| Route {
                                service: s,
                                host,
                                path: normalize_path(path.as_deref()),
                                location: &e.location,
                            })
                        }
                        _ => None,
                    })
                })
                .collect();
            detect_in(fleet, env, &routes, &mut out);
        }
        router_clashes(fleet, &mut out);
        finish(out)
    }
}

/// The proxy routers of a service, of one provider.
fn routers_of<'a>(
    fleet: &FleetIndex<'a>,
    service: &'a Service,
    provider: RouteProvider,
) -> impl Iterator<Item = &'a ProxyRoute> {
    fleet
        .facts(&service.repository)
        .map(|f| f.proxy_routes.as_slice())
        .unwrap_or_default()
        .iter()
        .filter(move |r| r.provider == provider && r.service.as_deref() == Some(&service.name))
}

/// Whether two routers listen on a common entry point (none listed: every default one).
fn entrypoints_meet(a: &ProxyRoute, b: &ProxyRoute) -> bool {
    a.entrypoints.is_empty()
        || b.entrypoints.is_empty()
        || a.entrypoints
            .iter()
            .any(|x| b.entrypoints.iter().any(|y| x.eq_ignore_ascii_case(y)))
}

/// `(host, path)` pairs two routers both match, normalized (`a.io`, `/`).
fn shared_domains(a: &ProxyRoute, b: &ProxyRoute) -> Vec<(String, String)> {
    let norm = |(h, p): &(String, Option<String>)| {
        let host = h.trim().trim_end_matches('.').to_ascii_lowercase();
        (host, normalize_path(p.as_deref()))
    };
    let theirs: Vec<(String, String)> = b.domains.iter().map(norm).collect();
    let mut out: Vec<(String, String)> = Vec::new();
    for pair in a.domains.iter().map(norm) {
        if is_real_domain(&pair.0) && theirs.contains(&pair) && !out.contains(&pair) {
            out.push(pair);
        }
    }
    out
}

/// One Traefik reads a router from its file provider and another from a container's docker
/// labels, both for the same `Host()` (and path) on a common entry point, sending the requests
/// to two different services: Traefik keeps one router per request, so one service is never
/// reached. A file router that forwards to the labelled container itself, other paths, other
/// entry points, or labels another Traefik reads, are fine.
fn router_clashes(fleet: &FleetIndex<'_>, out: &mut Vec<Conflict>) {
    for proxy in &fleet.input.model.services {
        let files: Vec<&ProxyRoute> = routers_of(fleet, proxy, RouteProvider::File).collect();
        if files.is_empty() {
            continue;
        }
        // The containers whose labels this proxy's docker provider reads.
        let labelled: Vec<(&Service, &ProxyRoute)> = fleet
            .edges_from(proxy)
            .iter()
            .filter(|e| e.mechanisms.contains(&Mechanism::Label))
            .filter_map(|e| fleet.service_by_id(&e.to))
            .flat_map(|s| routers_of(fleet, s, RouteProvider::Labels).map(move |r| (s, r)))
            .collect();
        for file in files {
            // Where the file router sends requests: the service its server URL reached.
            let Some(backend) = file
                .backend
                .as_ref()
                .and_then(|l| fleet.targets_at(proxy, l).into_iter().next())
            else {
                continue;
            };
            for &(service, label) in &labelled {
                if service.repository == proxy.repository
                    || service.id == backend.id
                    || !entrypoints_meet(file, label)
                {
                    continue;
                }
                for (host, path) in shared_domains(file, label) {
                    out.push(router_clash(
                        fleet, proxy, file, backend, service, label, &host, &path,
                    ));
                }
            }
        }
    }
}

#[allow(clippy::too_many_arguments)]
fn router_clash(
    fleet: &FleetIndex<'_>,
    proxy: &Service,
    file: &ProxyRoute,
    backend: &Service,
    service: &Service,
    label: &ProxyRoute,
    host: &str,
    path: &str,
) -> Conflict {
    let (place, env) = fleet.place(&proxy.repository);
    let what = if path == "/" {
        host.to_string()
    } else {
        format!("{host}{path}")
    };
    let occurrences = vec![
        Occurrence {
            repository: proxy.repository.clone(),
            service: Some(proxy.name.clone()),
            location: file.location.clone(),
            detail: format!("router {} (file provider) -> {}", file.router, backend.id),
        },
        Occurrence {
            repository: service.repository.clone(),
            service: Some(service.name.clone()),
            location: label.location.clone(),
            detail: format!("router {} (docker labels) -> {}", label.router, service.id),
        },
    ];
    let fix = format!(
        "keep one route for {what}: remove the file router {} or the labels of {}, or give one \
         of the services its own name (a subdomain) or path prefix",
        file.router, service.id
    );
    let message = format!(
        "{what} is routed by {} twice: its file provider's router {} ({}) sends it to {}, and the \
         docker labels of {} ({}) claim it for router {}; Traefik serves only one of them; {fix}",
        proxy.id, file.router, file.location, backend.id, service.id, label.location, label.router,
    );
    let chain = vec![
        Step::new(
            StepRole::Serves,
            format!(
                "{} routes {what} to {} (file provider router {})",
                proxy.id, backend.id, file.router
            ),
            Some(&file.location),
        ),
        Step::new(
            StepRole::Serves,
            format!(
                "{} asks {} to route {what} to it (docker labels, router {})",
                service.id, proxy.id, label.router
            ),
            Some(&label.location),
        ),
        Step::new(StepRole::Fix, fix, None),
        Step::new(
            StepRole::Severity,
            "two routers of one Traefik match the same requests: one of them takes every \
             request, and the other service is never reached",
            None,
        ),
    ];
    Conflict::new(
        ConflictKind::Domain,
        Severity::High,
        place,
        env,
        resource(host, path),
        occurrences,
        message,
    )
    .with_chain(chain)
}

/// What kind of overlap a domain conflict is, from the worst pair of routes it holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Flavor {
    /// Nested path prefixes (low).
    Nested,
    /// One route forwards to the service that claims the name too, for another router (medium).
    SameBackend,
    /// A wildcard of another repository matches the name (medium).
    Wildcard,
    /// The same name and path routed to two services (high).
    Same,
}

impl Flavor {
    fn severity(self) -> Severity {
        match self {
            Self::Nested => Severity::Low,
            Self::SameBackend | Self::Wildcard => Severity::Medium,
            Self::Same => Severity::High,
        }
    }
}

/// Whether a route is the service's own server config (an nginx `server_name`), rather than a
/// claim made for another router (a Traefik label, an Ingress rule, both in YAML).
fn own_server(route: &Route<'_>) -> bool {
    let path = route.location.path.to_ascii_lowercase();
    !(path.ends_with(".yml") || path.ends_with(".yaml") || path.ends_with(".json"))
}

/// Whether `a` forwards requests to `b` (a proxy upstream, a call edge).
fn forwards(fleet: &FleetIndex<'_>, a: &Service, b: &Service) -> bool {
    fleet
        .edges_from(a)
        .iter()
        .any(|e| e.to == b.id && e.kind == EdgeKind::Call)
}

/// How two routes of one name with overlapping paths relate when one forwards to the other:
/// `None` when neither does, `Some(true)` for layered proxies (the downstream one answers the
/// name in its own server config: a Traefik in front of nginx, an edge nginx in front of an
/// app's nginx), `Some(false)` when the downstream one only claims the name for another router.
fn layering(fleet: &FleetIndex<'_>, a: &Route<'_>, b: &Route<'_>) -> Option<bool> {
    if forwards(fleet, a.service, b.service) {
        Some(own_server(b))
    } else if forwards(fleet, b.service, a.service) {
        Some(own_server(a))
    } else {
        None
    }
}

fn detect_in(fleet: &FleetIndex<'_>, env: &str, routes: &[Route<'_>], out: &mut Vec<Conflict>) {
    let mut by_host: HashMap<&str, Vec<usize>> = HashMap::new();
    for (i, r) in routes.iter().enumerate() {
        by_host.entry(r.host.as_str()).or_default().push(i);
    }
    // resource → (worst overlap, routes involved)
    let mut found: BTreeMap<String, (Flavor, BTreeSet<usize>)> = BTreeMap::new();
    let mut add = |resource: String, flavor: Flavor, i: usize, j: usize| {
        let entry = found
            .entry(resource)
            .or_insert_with(|| (flavor, BTreeSet::new()));
        entry.0 = entry.0.max(flavor);
        entry.1.insert(i);
        entry.1.insert(j);
    };
    let mut hosts: Vec<&&str> = by_host.keys().collect();
    hosts.sort();
    for host in hosts {
        let list = &by_host[*host];
        for (x, &i) in list.iter().enumerate() {
            for &j in &list[x + 1..] {
                let (a, b) = (&routes[i], &routes[j]);
                if a.service.repository == b.service.repository {
                    continue;
                }
                let Some(overlap) = overlap(&a.path, &b.path) else {
                    continue;
                };
                match (layering(fleet, a, b), overlap) {
                    // Layered proxies serve one name on purpose: the outer one forwards it to
                    // the inner one, which answers it.
                    (Some(true), _) => {}
                    (Some(false), Overlap::Same) => {
                        add(resource(host, &a.path), Flavor::SameBackend, i, j)
                    }
                    (_, Overlap::Same) => add(resource(host, &a.path), Flavor::Same, i, j),
                    // `/` and `/api` in two repositories is often deliberate path routing; it
                    // is reported so a person can confirm, but it does not fail a build.
                    (_, Overlap::Nested) => add(format!("domain:{host}"), Flavor::Nested, i, j),
                }
            }
        }
        if host.starts_with("*.") {
            continue;
        }
        let Some((_, parent)) = host.split_once('.') else {
            continue;
        };
        let Some(wild) = by_host.get(format!("*.{parent}").as_str()) else {
            continue;
        };
        for &i in list {
            for &j in wild {
                let (a, b) = (&routes[i], &routes[j]);
                if a.service.repository != b.service.repository
                    && wildcard_matches(&b.host, &a.host)
                    && overlap(&a.path, &b.path).is_some()
                    && layering(fleet, a, b) != Some(true)
                {
                    add(format!("domain:{host}"), Flavor::Wildcard, i, j);
                }
            }
        }
    }
    for (resource, (flavor, members)) in found {
        out.push(conflict(fleet, env, resource, flavor, &members, routes));
    }
}

fn resource(host: &str, path: &str) -> String {
    if path == "/" {
        format!("domain:{host}")
    } else {
        format!("domain:{host}{path}")
    }
}

fn conflict(
    fleet: &FleetIndex<'_>,
    env: &str,
    resource: String,
    flavor: Flavor,
    members: &BTreeSet<usize>,
    routes: &[Route<'_>],
) -> Conflict {
    let hosts: BTreeSet<&str> = members
        .iter()
        .map(|&i| fleet.place(&routes[i].service.repository).0)
        .collect();
    let host = hosts.into_iter().collect::<Vec<_>>().join(",");
    let occurrences: Vec<Occurrence> = members
        .iter()
        .map(|&i| Occurrence {
            repository: routes[i].service.repository.clone(),
            service: Some(routes[i].service.name.clone()),
            location: routes[i].location.clone(),
            detail: routes[i].detail(),
        })
        .collect();
    // Each service once, with the place of its first route: `a/web (a/k8s.yaml:3:5)`.
    let mut who: BTreeMap<&str, &Location> = BTreeMap::new();
    for &i in members {
        let r = &routes[i];
        let entry = who.entry(r.service.id.as_str()).or_insert(r.location);
        if r.location < *entry {
            *entry = r.location;
        }
    }
    let named: Vec<String> = who.iter().map(|(id, l)| format!("{id} ({l})")).collect();
    let what = resource.trim_start_matches("domain:");
    let (message, fix, why) = match flavor {
        Flavor::Same => (
            format!(
                "{what} is routed to {} in environment {env}; requests go to only one of them",
                and_list(&named)
            ),
            "keep one route and give the other service its own name (a subdomain) or path \
             prefix"
                .to_string(),
            "two repositories route the same name and path: one of them gets every request, \
             and the other's users land on the wrong service",
        ),
        Flavor::SameBackend => {
            let (outer, inner) = same_backend_pair(fleet, members, routes);
            (
                format!(
                    "{what} is routed by {outer} to {inner}, which claims the name again for \
                     another router; both routes end at the same service, so one is stale or a \
                     second entry point",
                ),
                "remove the route that is not in use (often a label or Ingress left over from \
                 an earlier proxy)"
                    .to_string(),
                "both routes reach the same service, but whichever router the name resolves to \
                 answers, and the other route hides a mistake",
            )
        }
        Flavor::Wildcard => (
            format!(
                "{what} is served by {} while a wildcard of another repository also matches it",
                and_list(&named)
            ),
            "confirm the exact name should win over the wildcard, or route it in one place"
                .to_string(),
            "a wildcard of another repository also matches the name: the exact route wins in \
             most routers, but a change of router or rule order flips it",
        ),
        Flavor::Nested => (
            format!(
                "path prefixes of {what} routed to {} contain one another; the longer prefix takes that part of the site",
                and_list(&named)
            ),
            "confirm the split is deliberate path routing, or give one of them its own name"
                .to_string(),
            "nested path prefixes are often deliberate path routing: it needs a look, not a \
             fix",
        ),
    };
    let mut chain: Vec<Step> = members
        .iter()
        .map(|&i| {
            let r = &routes[i];
            Step::new(
                StepRole::Serves,
                format!("{} routes {}", r.service.id, r.detail()),
                Some(r.location),
            )
        })
        .collect();
    chain.push(Step::new(StepRole::Fix, fix.clone(), None));
    chain.push(Step::new(StepRole::Severity, why, None));
    Conflict::new(
        ConflictKind::Domain,
        flavor.severity(),
        &host,
        env,
        resource,
        occurrences,
        format!("{message}; {fix}"),
    )
    .with_chain(chain)
}

/// `outer (location)` and `inner (location)` of a same-backend pair: the route that forwards,
/// and the service it forwards to.
fn same_backend_pair(
    fleet: &FleetIndex<'_>,
    members: &BTreeSet<usize>,
    routes: &[Route<'_>],
) -> (String, String) {
    let show = |r: &Route<'_>| format!("{} ({})", r.service.id, r.location);
    for &i in members {
        for &j in members {
            if i != j && forwards(fleet, routes[i].service, routes[j].service) {
                return (show(&routes[i]), show(&routes[j]));
            }
        }
    }
    let mut it = members.iter().map(|&i| show(&routes[i]));
    (it.next().unwrap_or_default(), it.next().unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detect::index::testing::*;
    use switchyard_model::Scope;

    fn domain(host: &str, path: Option<&str>) -> EndpointKind {
        EndpointKind::Domain {
            host: host.into(),
            path: path.map(str::to_string),
        }
    }

    fn fleet(a: EndpointKind, b: EndpointKind) -> Fixture {
        let mut fx = Fixture::default();
        fx.model.repositories = vec![repo("a", "local", "prod"), repo("b", "nas", "prod")];
        let k8s = Scope::Kubernetes {
            namespace: "default".into(),
        };
        fx.model.services = vec![
            service("a", "web", vec![k8s.clone()], vec![a]),
            service("b", "site", vec![k8s], vec![b]),
        ];
        fx
    }

    fn run(fx: &Fixture) -> Vec<Conflict> {
        DomainDetector.detect(fx.input())
    }

    #[test]
    fn same_domain_in_two_repositories() {
        let c = run(&fleet(
            domain("App.Example.com", None),
            domain("app.example.com.", Some("/")),
        ));
        assert_eq!(c.len(), 1);
        assert_eq!(c[0].resource, "domain:app.example.com");
        assert_eq!(c[0].severity, Severity::High);
        assert_eq!(c[0].host, "local,nas");
        assert_eq!(c[0].environment, "prod");
        assert_eq!(c[0].occurrences[0].detail, "app.example.com");
        assert!(
            c[0].message
                .contains("a/web (a/docker-compose.yml:10:5) and b/site"),
            "{}",
            c[0].message
        );
    }

    #[test]
    fn same_path_prefix_is_high_nested_is_low_disjoint_is_fine() {
        let c = run(&fleet(
            domain("x.com", Some("/api/")),
            domain("x.com", Some("/api")),
        ));
        assert_eq!(
            (c[0].resource.as_str(), c[0].severity),
            ("domain:x.com/api", Severity::High)
        );
        let c = run(&fleet(domain("x.com", None), domain("x.com", Some("/api"))));
        assert_eq!((c.len(), c[0].severity), (1, Severity::Low));
        assert!(
            run(&fleet(
                domain("x.com", Some("/api")),
                domain("x.com", Some("/apiv2"))
            ))
            .is_empty()
        );
        assert!(
            run(&fleet(
                domain("x.com", Some("/a")),
                domain("x.com", Some("/b"))
            ))
            .is_empty()
        );
    }

    #[test]
    fn wildcards_are_medium() {
        let c = run(&fleet(domain("*.x.com", None), domain("a.x.com", None)));
        assert_eq!(c.len(), 1);
        assert_eq!(
            (c[0].resource.as_str(), c[0].severity),
            ("domain:a.x.com", Severity::Medium)
        );
        assert!(run(&fleet(domain("*.x.com", None), domain("a.b.x.com", None))).is_empty());
    }

    #[test]
    fn negatives() {
        // Different domains, placeholders, other environments, one repository.
        assert!(run(&fleet(domain("a.x.com", None), domain("b.x.com", None))).is_empty());
        assert!(run(&fleet(domain("_", None), domain("_", None))).is_empty());
        assert!(run(&fleet(domain("localhost", None), domain("localhost", None))).is_empty());
        let mut fx = fleet(domain("a.x.com", None), domain("a.x.com", None));
        fx.model.repositories[1].environment = "staging".into();
        assert!(run(&fx).is_empty());
        let mut fx = fleet(domain("a.x.com", None), domain("a.x.com", None));
        fx.model.services[1].repository = "a".into();
        fx.model.services[1].id = "a/site".into();
        assert!(run(&fx).is_empty());
    }

    /// `a/edge` (nginx, in `a`) forwards `app.x.com` to `b/app`, which routes the same name in
    /// the file `b_file` (`nginx.conf`: its own server; `docker-compose.yml`: a Traefik label).
    fn forwarded(b_file: &str) -> Fixture {
        let mut fx = fleet(domain("app.x.com", None), domain("app.x.com", None));
        fx.model.services[0].endpoints[0].location = loc("a", "nginx/conf.d/app.conf", 3);
        fx.model.services[1].endpoints[0].location = loc("b", b_file, 7);
        fx.model.edges.push(switchyard_model::Edge {
            evidence: vec![loc("a", "nginx/conf.d/app.conf", 6)],
            ..switchyard_model::Edge::new("a/web", "b/site")
        });
        fx
    }

    #[test]
    fn layered_proxies_are_quiet() {
        // An edge proxy in front of an app's nginx that answers the same name: on purpose.
        assert!(run(&forwarded("nginx/default.conf")).is_empty());
        // The same with a wildcard in front.
        let mut fx = forwarded("nginx/default.conf");
        if let EndpointKind::Domain { host, .. } = &mut fx.model.services[0].endpoints[0].kind {
            *host = "*.x.com".into();
        }
        assert!(run(&fx).is_empty());
    }

    #[test]
    fn a_route_to_a_service_that_claims_the_name_for_another_router_is_medium() {
        let c = run(&forwarded("docker-compose.yml"));
        assert_eq!(c.len(), 1, "{c:#?}");
        assert_eq!(c[0].severity, Severity::Medium);
        assert_eq!(c[0].resource, "domain:app.x.com");
        assert!(
            c[0].message.starts_with(
                "app.x.com is routed by a/web (a/nginx/conf.d/app.conf:3:5) to b/site \
                 (b/docker-compose.yml:7:5)"
            ),
            "{}",
            c[0].message
        );
        // Without the forwarding edge, the same two routes are two services for one name.
        let mut fx = forwarded("docker-compose.yml");
        fx.model.edges.clear();
        assert_eq!(run(&fx)[0].severity, Severity::High);
    }

    #[test]
    fn messages_name_both_routes_with_their_places_and_the_fix() {
        let c = run(&fleet(domain("app.x.com", None), domain("app.x.com", None)));
        assert_eq!(
            c[0].message,
            "app.x.com is routed to a/web (a/docker-compose.yml:10:5) and b/site \
             (b/docker-compose.yml:10:5) in environment prod; requests go to only one of them; \
             keep one route and give the other service its own name (a subdomain) or path prefix"
        );
        let roles: Vec<&str> = c[0].chain.iter().map(|s| s.role.as_str()).collect();
        assert_eq!(roles, ["serves", "serves", "fix", "severity"]);
    }

    /// `proxy/traefik` reads `traefik/dynamic/status.yml` (router `status` for `host`, sent to
    /// `monitoring/kuma` by the server URL at line 13) and the labels of `auditor/dashboard`
    /// (router `auditor` for `label_host`).
    fn traefik_fleet(host: &str, label_host: &str) -> Fixture {
        let mut fx = Fixture::default();
        fx.model.repositories = ["proxy", "monitoring", "auditor"]
            .map(|r| repo(r, "nas", "prod"))
            .to_vec();
        let scope = compose_scope("docker-compose.yml");
        fx.model.services = vec![
            service("proxy", "traefik", vec![scope.clone()], vec![]),
            service("monitoring", "kuma", vec![scope.clone()], vec![]),
            service(
                "auditor",
                "dashboard",
                vec![scope],
                vec![domain(label_host, None)],
            ),
        ];
        let url = loc("proxy", "traefik/dynamic/status.yml", 13);
        let label = loc("auditor", "docker-compose.yml", 18);
        fx.model.edges = vec![
            switchyard_model::Edge {
                mechanisms: vec![Mechanism::Url],
                evidence: vec![url.clone()],
                ..switchyard_model::Edge::new("proxy/traefik", "monitoring/kuma")
            },
            switchyard_model::Edge {
                mechanisms: vec![Mechanism::Label],
                evidence: vec![label.clone()],
                ..switchyard_model::Edge::new("proxy/traefik", "auditor/dashboard")
            },
        ];
        fx.facts_mut("proxy").proxy_routes.push(ProxyRoute {
            service: Some("traefik".into()),
            provider: RouteProvider::File,
            router: "status".into(),
            domains: vec![(host.into(), None)],
            entrypoints: vec!["websecure".into()],
            target: Some("uptime-kuma".into()),
            backend: Some(url),
            location: loc("proxy", "traefik/dynamic/status.yml", 5),
        });
        fx.facts_mut("auditor").proxy_routes.push(ProxyRoute {
            service: Some("dashboard".into()),
            provider: RouteProvider::Labels,
            router: "auditor".into(),
            domains: vec![(label_host.into(), None)],
            entrypoints: vec!["websecure".into()],
            target: None,
            backend: None,
            location: label,
        });
        fx
    }

    fn label_route(fx: &mut Fixture) -> &mut ProxyRoute {
        &mut fx.facts_mut("auditor").proxy_routes[0]
    }

    #[test]
    fn a_file_router_and_a_label_router_of_one_traefik_for_one_host() {
        let c = run(&traefik_fleet("status.home.arpa", "Status.Home.Arpa."));
        assert_eq!(c.len(), 1, "{c:#?}");
        assert_eq!(c[0].resource, "domain:status.home.arpa");
        assert_eq!(c[0].severity, Severity::High);
        let places: Vec<String> = c[0]
            .occurrences
            .iter()
            .map(|o| o.location.to_string())
            .collect();
        assert_eq!(
            places,
            [
                "auditor/docker-compose.yml:18:5",
                "proxy/traefik/dynamic/status.yml:5:5"
            ]
        );
        assert_eq!(
            c[0].message,
            "status.home.arpa is routed by proxy/traefik twice: its file provider's router \
             status (proxy/traefik/dynamic/status.yml:5:5) sends it to monitoring/kuma, and the \
             docker labels of auditor/dashboard (auditor/docker-compose.yml:18:5) claim it for \
             router auditor; Traefik serves only one of them; keep one route for \
             status.home.arpa: remove the file router status or the labels of \
             auditor/dashboard, or give one of the services its own name (a subdomain) or path \
             prefix"
        );
        // Entry points not listed on one side: every default one, which includes the other's.
        let mut fx = traefik_fleet("status.home.arpa", "status.home.arpa");
        label_route(&mut fx).entrypoints.clear();
        assert_eq!(run(&fx).len(), 1);
    }

    #[test]
    fn routers_that_do_not_compete_are_quiet() {
        // Other names.
        assert!(run(&traefik_fleet("status.home.arpa", "audit.home.arpa")).is_empty());
        // The file router forwards to the labelled container itself.
        let mut fx = traefik_fleet("status.home.arpa", "status.home.arpa");
        fx.model.edges[0].to = "auditor/dashboard".into();
        assert!(run(&fx).is_empty());
        // The same name on other paths.
        let mut fx = traefik_fleet("status.home.arpa", "status.home.arpa");
        label_route(&mut fx).domains = vec![("status.home.arpa".into(), Some("/audit".into()))];
        assert!(run(&fx).is_empty());
        // Other entry points.
        let mut fx = traefik_fleet("status.home.arpa", "status.home.arpa");
        label_route(&mut fx).entrypoints = vec!["internal".into()];
        assert!(run(&fx).is_empty());
        // Labels another Traefik reads (no label edge from this one).
        let mut fx = traefik_fleet("status.home.arpa", "status.home.arpa");
        fx.model.edges.pop();
        assert!(run(&fx).is_empty());
        // A backend the proxy's URL did not resolve to: not judged.
        let mut fx = traefik_fleet("status.home.arpa", "status.home.arpa");
        fx.model.edges.remove(0);
        assert!(run(&fx).is_empty());
    }
}
