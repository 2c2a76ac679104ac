//! `unreachable_url`: a URL or `host:port` aimed at the fleet that nothing serves (no provider,
//! or several), or that reaches a service on a port the service does not listen on; Module
//! Federation remotes a host cannot load are found by [`super::federation_remotes`].

use super::Detector;
use super::index::{FleetIndex, and_list, finish};
use super::reach::{
    address_key, address_text, is_call, is_websocket, port_list, reference_mismatch,
};
use crate::{Conflict, ConflictKind, Occurrence, Severity};
use std::collections::{BTreeMap, HashMap};
use switchyard_model::{EndpointKind, Service, Unresolved, UnresolvedReason};

pub struct UnreachableUrlDetector;

impl Detector for UnreachableUrlDetector {
    fn kind(&self) -> ConflictKind {
        ConflictKind::UnreachableUrl
    }

    fn detect_in(&self, fleet: &FleetIndex<'_>) -> Vec<Conflict> {
        let mut out = Vec::new();
        unserved(fleet, &mut out);
        wrong_ports(fleet, &mut out);
        super::federation_remotes::check(fleet, &mut out);
        finish(out)
    }
}

/// Whether an unresolved reference is a websocket (reported by `websocket_mismatch` instead).
fn websocket(fleet: &FleetIndex<'_>, u: &Unresolved) -> bool {
    is_websocket(None, &u.reference)
        || fleet
            .references_at(&u.repository, u.service.as_deref(), &u.location)
            .any(|r| is_websocket(r.key.as_deref(), address_text(r).unwrap_or("")))
}

/// References with no provider (high) or several (medium), grouped by the address they name.
fn unserved(fleet: &FleetIndex<'_>, out: &mut Vec<Conflict>) {
    let mut groups: BTreeMap<(&str, &str, String), Vec<&Unresolved>> = BTreeMap::new();
    for u in &fleet.input.model.unresolved {
        let relevant = matches!(
            u.reason,
            UnresolvedReason::NoProvider
                | UnresolvedReason::Ambiguous
                | UnresolvedReason::ContainerLoopback
        ) && is_call(u.mechanism);
        if !relevant || websocket(fleet, u) {
            continue;
        }
        let (host, env) = fleet.place(&u.repository);
        groups
            .entry((host, env, address_key(&u.reference)))
            .or_default()
            .push(u);
    }
    let mut publishers = None;
    for ((host, env, address), list) in groups {
        let nobody = list.iter().any(|u| u.reason != UnresolvedReason::Ambiguous);
        let in_container = list
            .iter()
            .all(|u| u.reason == UnresolvedReason::ContainerLoopback);
        let mut occurrences: Vec<Occurrence> = list
            .iter()
            .map(|u| Occurrence {
                repository: u.repository.clone(),
                service: u.service.clone(),
                location: u.location.clone(),
                detail: format!(
                    "{} ({})",
                    u.reference,
                    match u.reason {
                        UnresolvedReason::Ambiguous => "ambiguous",
                        UnresolvedReason::ContainerLoopback => "localhost in a container",
                        _ => "no provider",
                    }
                ),
            })
            .collect();
        let mut from: Vec<String> = list
            .iter()
            .map(|u| match &u.service {
                Some(s) => format!("{}/{s}", u.repository),
                None => u.repository.clone(),
            })
            .collect();
        from.sort();
        from.dedup();
        let (severity, message) = if in_container {
            let callers = and_list(&from);
            let publishers = publishers.get_or_insert_with(|| host_publishers(fleet));
            let publisher =
                port_of(&address).and_then(|port| Some((port, publishers.get(&(host, port))?)));
            let message = match publisher {
                Some((port, &(service, endpoint, container_port))) => {
                    let target = match container_port {
                        Some(p) => format!("{}:{p}", service.name),
                        None => service.name.clone(),
                    };
                    occurrences.push(Occurrence {
                        repository: service.repository.clone(),
                        service: Some(service.name.clone()),
                        location: endpoint.location.clone(),
                        detail: format!("publishes host port {port}"),
                    });
                    format!(
                        "{address} is called from inside a container by {callers}, where \
                         localhost is the container itself; the port is published on the host by \
                         {} ({}). Call {target} over a network both containers join, or \
                         host.docker.internal:{port} to go through the host",
                        service.id, endpoint.location,
                    )
                }
                None => format!(
                    "{address} is called from inside a container by {callers}, where localhost \
                     is the container itself, and nothing on host {host} publishes that port \
                     either; call the service that should serve it by its name"
                ),
            };
            (Severity::High, message)
        } else if nobody {
            (
                Severity::High,
                format!(
                    "{address} is called by {} but nothing in the fleet on host {host} serves it",
                    and_list(&from)
                ),
            )
        } else {
            (
                Severity::Medium,
                format!(
                    "{address} is called by {} and more than one service answers to it",
                    and_list(&from)
                ),
            )
        };
        out.push(Conflict::new(
            ConflictKind::UnreachableUrl,
            severity,
            host,
            env,
            format!("url:{address}"),
            occurrences,
            message,
        ));
    }
}

/// The port of `host:port` (an address key).
fn port_of(address: &str) -> Option<u16> {
    address.rsplit_once(':')?.1.parse().ok()
}

/// A published host port: the service, its endpoint and the container port it maps to.
type Publisher<'a> = (&'a Service, &'a switchyard_model::Endpoint, Option<u16>);

/// Who publishes each host port, by host (the first publisher of a port wins); ranges count up
/// to 1,024 ports.
fn host_publishers<'a>(fleet: &FleetIndex<'a>) -> HashMap<(&'a str, u16), Publisher<'a>> {
    let mut out = HashMap::new();
    for (&(host, _), repos) in fleet.by_place() {
        for s in fleet.services_of(repos) {
            for e in &s.endpoints {
                if let EndpointKind::HostPort {
                    start,
                    end,
                    container_port,
                    ..
                } = &e.kind
                {
                    let last = (*end).max(*start).min(start.saturating_add(1023));
                    for port in *start..=last {
                        out.entry((host, port)).or_insert((s, e, *container_port));
                    }
                }
            }
        }
    }
    out
}

/// Where a service listens inside its network, as occurrences: one per port, the declaration
/// of the container port first (`expose`, `containerPort`), else the published mapping.
pub fn served_occurrences(target: &Service) -> Vec<Occurrence> {
    let mut by_port: BTreeMap<u16, (u8, &switchyard_model::Location)> = BTreeMap::new();
    for e in &target.endpoints {
        let (port, rank) = match &e.kind {
            EndpointKind::ContainerPort { port, .. } => (*port, 0),
            EndpointKind::HostProcessPort { port } => (*port, 0),
            EndpointKind::HostPort {
                container_port: Some(p),
                ..
            } => (*p, 1),
            _ => continue,
        };
        let entry = by_port.entry(port).or_insert((rank, &e.location));
        if rank < entry.0 {
            *entry = (rank, &e.location);
        }
    }
    by_port
        .into_iter()
        .map(|(port, (_, location))| Occurrence {
            repository: target.repository.clone(),
            service: Some(target.name.clone()),
            location: location.clone(),
            detail: format!("{} listens on {port}", target.id),
        })
        .collect()
}

/// Edges whose reference names a port the target does not listen on.
fn wrong_ports(fleet: &FleetIndex<'_>, out: &mut Vec<Conflict>) {
    // (host, env, target, host:port) → (mismatch, referring occurrences)
    type Key<'a> = (&'a str, &'a str, &'a str, String);
    let mut groups: BTreeMap<Key<'_>, (String, Vec<Occurrence>)> = BTreeMap::new();
    for call in fleet.calls() {
        let (from, target, r, text) = (call.from, call.to, call.reference, call.text);
        if is_websocket(r.key.as_deref(), text) {
            continue;
        }
        let Some(m) = reference_mismatch(target, text) else {
            continue;
        };
        let (host, env) = fleet.place(&from.repository);
        let entry = groups
            .entry((
                host,
                env,
                target.id.as_str(),
                format!("{}:{}", m.host, m.port),
            ))
            .or_insert_with(|| (port_list(&m.served), Vec::new()));
        entry.1.push(Occurrence {
            repository: from.repository.clone(),
            service: Some(from.name.clone()),
            location: r.location.clone(),
            detail: text.to_string(),
        });
    }
    for ((host, env, target_id, address), (served, mut occurrences)) in groups {
        let mut from: Vec<String> = occurrences
            .iter()
            .map(|o| format!("{}/{}", o.repository, o.service.as_deref().unwrap_or("")))
            .collect();
        from.sort();
        from.dedup();
        if let Some(target) = fleet.service_by_id(target_id) {
            occurrences.extend(served_occurrences(target));
        }
        out.push(Conflict::new(
            ConflictKind::UnreachableUrl,
            Severity::High,
            host,
            env,
            format!("url:{address}@{target_id}"),
            occurrences,
            format!(
                "{} calls {address}, but {target_id} listens on {served} there",
                and_list(&from)
            ),
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detect::index::testing::*;
    use switchyard_model::{
        Edge, Location, Mechanism, Protocol, Reference, Scope, Target, Unresolved,
    };

    fn unresolved(repo: &str, text: &str, reason: UnresolvedReason, line: u32) -> Unresolved {
        Unresolved {
            repository: repo.into(),
            service: Some("web".into()),
            reference: text.into(),
            mechanism: Mechanism::Env,
            reason,
            location: loc(repo, ".env", line),
        }
    }

    fn base() -> Fixture {
        let mut fx = Fixture::default();
        fx.model.repositories = vec![repo("a", "local", "default"), repo("b", "local", "default")];
        fx
    }

    fn run(fx: &Fixture) -> Vec<Conflict> {
        UnreachableUrlDetector.detect(fx.input())
    }

    #[test]
    fn no_provider_is_high_ambiguous_medium_external_ignored() {
        let mut fx = base();
        fx.model.unresolved = vec![
            unresolved(
                "a",
                "http://localhost:3001/api",
                UnresolvedReason::NoProvider,
                1,
            ),
            unresolved("b", "localhost:3001", UnresolvedReason::NoProvider, 2),
            unresolved("a", "http://localhost:8080", UnresolvedReason::Ambiguous, 3),
            unresolved("a", "https://api.stripe.com", UnresolvedReason::External, 4),
        ];
        let c = run(&fx);
        assert_eq!(c.len(), 2, "{c:#?}");
        let high = c.iter().find(|c| c.severity == Severity::High).unwrap();
        assert_eq!(high.resource, "url:localhost:3001");
        assert_eq!(high.repositories, vec!["a", "b"]);
        assert_eq!(
            high.occurrences[0].detail,
            "http://localhost:3001/api (no provider)"
        );
        assert_eq!(high.occurrences[0].location.to_string(), "a/.env:1:5");
        assert!(high.message.contains("nothing in the fleet"));
        let medium = c.iter().find(|c| c.severity == Severity::Medium).unwrap();
        assert_eq!(medium.resource, "url:localhost:8080");
    }

    #[test]
    fn localhost_in_a_container_names_the_host_port_publisher() {
        let mut fx = base();
        fx.model.services = vec![service(
            "b",
            "orders",
            vec![compose_scope("docker-compose.yml")],
            vec![host_port(None, 8081, 8081)],
        )];
        if let EndpointKind::HostPort { container_port, .. } =
            &mut fx.model.services[0].endpoints[0].kind
        {
            *container_port = Some(8080);
        }
        fx.model.unresolved = vec![
            unresolved(
                "a",
                "http://localhost:8081/orders",
                UnresolvedReason::ContainerLoopback,
                1,
            ),
            unresolved(
                "a",
                "localhost:9999",
                UnresolvedReason::ContainerLoopback,
                2,
            ),
        ];
        let c = run(&fx);
        assert_eq!(c.len(), 2, "{c:#?}");
        let served = c
            .iter()
            .find(|c| c.resource == "url:localhost:8081")
            .unwrap();
        assert_eq!(served.severity, Severity::High);
        // Both sides: the caller, and the service publishing the port with its location.
        assert_eq!(served.repositories, vec!["a", "b"]);
        assert_eq!(served.occurrences[1].service.as_deref(), Some("orders"));
        assert!(
            served.message.contains("published on the host by b/orders")
                && served.message.contains("Call orders:8080")
                && served.message.contains("host.docker.internal:8081"),
            "{}",
            served.message
        );
        let nobody = c
            .iter()
            .find(|c| c.resource == "url:localhost:9999")
            .unwrap();
        assert!(
            nobody
                .message
                .contains("nothing on host local publishes that port")
        );
    }

    #[test]
    fn start_up_order_and_websockets_are_not_urls() {
        let mut fx = base();
        let mut dep = unresolved("a", "db", UnresolvedReason::NoProvider, 1);
        dep.mechanism = Mechanism::DependsOn;
        let mut pkg = unresolved("a", "@x/y@workspace:*", UnresolvedReason::NoProvider, 2);
        pkg.mechanism = Mechanism::Workspace;
        fx.model.unresolved = vec![
            dep,
            pkg,
            unresolved("a", "ws://localhost:4000", UnresolvedReason::NoProvider, 3),
        ];
        assert!(run(&fx).is_empty());
    }

    fn wrong_port_fixture(text: &str) -> Fixture {
        let mut fx = base();
        let scope = compose_scope("docker-compose.yml");
        fx.model.services = vec![
            service("a", "web", vec![scope.clone()], vec![]),
            service(
                "b",
                "api",
                vec![scope.clone()],
                vec![EndpointKind::ContainerPort {
                    port: 3000,
                    protocol: Protocol::Tcp,
                }],
            ),
        ];
        let l = Location::new("a", "docker-compose.yml", 8, 17, Default::default());
        fx.facts_mut("a").references.push(Reference {
            from: Some("web".into()),
            target: Target::Address { text: text.into() },
            mechanism: Mechanism::Env,
            key: Some("API_URL".into()),
            location: l.clone(),
            scope: Scope::Host,
        });
        fx.model.edges.push(Edge {
            from: "a/web".into(),
            to: "b/api".into(),
            mechanisms: vec![Mechanism::Env],
            evidence: vec![l],
            ..Edge::new("", "")
        });
        fx
    }

    #[test]
    fn a_port_the_target_does_not_serve() {
        let c = run(&wrong_port_fixture("http://api:3001/v1"));
        assert_eq!(c.len(), 1);
        assert_eq!(c[0].resource, "url:api:3001@b/api");
        assert_eq!(c[0].severity, Severity::High);
        assert_eq!(c[0].repositories, vec!["a", "b"]);
        assert_eq!(
            c[0].occurrences[0].location.to_string(),
            "a/docker-compose.yml:8:17"
        );
        assert_eq!(c[0].occurrences[1].detail, "b/api listens on 3000");
        assert!(
            c[0].message
                .contains("a/web calls api:3001, but b/api listens on 3000")
        );
        assert!(run(&wrong_port_fixture("http://api:3000/v1")).is_empty());
        assert!(run(&wrong_port_fixture("http://api/v1")).is_empty());
    }
}
