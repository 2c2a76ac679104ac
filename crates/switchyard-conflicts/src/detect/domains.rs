//! `domain`: one host name (and overlapping path prefix) routed to services of two repositories
//! by nginx `server_name`, Ingress rules or Traefik `Host()`; wildcards shadowing names are medium.

use super::Detector;
use super::index::{FleetIndex, and_list, finish};
use crate::{Conflict, ConflictKind, Occurrence, Severity};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use switchyard_model::{EndpointKind, Location, Service};

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
        finish(out)
    }
}

fn detect_in(fleet: &FleetIndex<'_>, env: &str, routes: &[Route<'_>], out: &mut Vec<Conflict>) {
    let mut by_host: HashMap<&str, Vec<usize>> = HashMap::new();
    for (i, r) in routes.iter().enumerate() {
        by_host.entry(r.host.as_str()).or_default().push(i);
    }
    // resource → (severity, routes involved)
    let mut found: BTreeMap<String, (Severity, BTreeSet<usize>)> = BTreeMap::new();
    let mut add = |resource: String, severity: Severity, i: usize, j: usize| {
        let entry = found
            .entry(resource)
            .or_insert_with(|| (severity, BTreeSet::new()));
        entry.0 = entry.0.max(severity);
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
                match overlap(&a.path, &b.path) {
                    Some(Overlap::Same) => add(resource(host, &a.path), Severity::High, i, j),
                    // `/` and `/api` in two repositories is often deliberate path routing; it
                    // is reported so a person can confirm, but it does not fail a build.
                    Some(Overlap::Nested) => add(format!("domain:{host}"), Severity::Low, i, j),
                    None => {}
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
                {
                    add(format!("domain:{host}"), Severity::Medium, i, j);
                }
            }
        }
    }
    for (resource, (severity, members)) in found {
        out.push(conflict(fleet, env, resource, severity, &members, routes));
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
    severity: Severity,
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
    let who: BTreeSet<String> = members
        .iter()
        .map(|&i| routes[i].service.id.clone())
        .collect();
    let who: Vec<String> = who.into_iter().collect();
    let what = resource.trim_start_matches("domain:");
    let message = match severity {
        Severity::High => format!(
            "{what} is routed to {} in environment {env}; requests go to only one of them",
            and_list(&who)
        ),
        Severity::Medium => format!(
            "{what} is served by {} while a wildcard of another repository also matches it",
            and_list(&who)
        ),
        Severity::Low => format!(
            "path prefixes of {what} routed to {} contain one another; the longer prefix takes that part of the site",
            and_list(&who)
        ),
    };
    Conflict::new(
        ConflictKind::Domain,
        severity,
        &host,
        env,
        resource,
        occurrences,
        message,
    )
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
            c[0].message.contains("a/web and b/site"),
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
}
