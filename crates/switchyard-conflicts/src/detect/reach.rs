//! What a resolved or unresolved reference actually asks for: the references behind an edge's
//! evidence, the port it names, and whether its target serves that port.

use super::index::FleetIndex;
use std::collections::{BTreeSet, HashMap};
use switchyard_link::address::{self, Address, is_docker_host, is_loopback, kubernetes_dns};
use switchyard_model::{
    EndpointKind, Mechanism, Reference, Service, Target, Unresolved, UnresolvedReason,
};

/// An address reference that became an edge: who calls what, written where.
#[derive(Debug, Clone, Copy)]
pub struct Call<'a> {
    pub from: &'a Service,
    pub to: &'a Service,
    pub reference: &'a Reference,
    /// The address text (URL, `host:port`…), already redacted.
    pub text: &'a str,
}

/// Every address reference of the fleet that resolved to a service, in facts order.
pub fn calls<'a>(fleet: &FleetIndex<'a>) -> Vec<Call<'a>> {
    let mut out = Vec::new();
    for facts in fleet.input.facts {
        for r in &facts.references {
            let (Some(text), Some(from)) = (address_text(r), r.from.as_deref()) else {
                continue;
            };
            let Some(from) = fleet.service(&facts.repository, from) else {
                continue;
            };
            for to in fleet.targets_at(from, &r.location) {
                out.push(Call {
                    from,
                    to,
                    reference: r,
                    text,
                });
            }
        }
    }
    out
}

/// An address reference the linker found several services answering to (two stacks publishing
/// one host port, two services of one name), with those services.
#[derive(Debug, Clone)]
pub struct AmbiguousCall<'a> {
    pub from: &'a Service,
    pub reference: &'a Reference,
    pub text: &'a str,
    pub candidates: Vec<&'a Service>,
}

/// Which services may answer to a name or a loopback port, built once per run so that each
/// address looks up its few candidates instead of scanning every service of the fleet.
pub struct Answerers {
    /// Lower-case service name, alias or routed domain → indexes into the fleet's services.
    by_name: HashMap<String, Vec<usize>>,
    /// Published host port (every port of a range) or host-process port → indexes.
    by_port: HashMap<u16, Vec<usize>>,
}

impl Answerers {
    /// The index of `services` (test harnesses answer to nobody).
    pub fn new(services: &[Service]) -> Self {
        let mut by_name: HashMap<String, Vec<usize>> = HashMap::new();
        let mut by_port: HashMap<u16, Vec<usize>> = HashMap::new();
        for (i, s) in services.iter().enumerate() {
            if s.test_harness {
                continue;
            }
            let mut names = vec![s.name.to_ascii_lowercase()];
            names.extend(s.aliases.iter().map(|a| a.name.to_ascii_lowercase()));
            for e in &s.endpoints {
                match &e.kind {
                    EndpointKind::Domain { host, .. } => names.push(host.to_ascii_lowercase()),
                    EndpointKind::HostPort { start, end, .. } => {
                        for port in *start..=(*end).max(*start) {
                            by_port.entry(port).or_default().push(i);
                        }
                    }
                    EndpointKind::HostProcessPort { port } => {
                        by_port.entry(*port).or_default().push(i);
                    }
                    _ => {}
                }
            }
            names.sort();
            names.dedup();
            for name in names {
                by_name.entry(name).or_default().push(i);
            }
        }
        for list in by_port.values_mut() {
            list.dedup();
        }
        Self { by_name, by_port }
    }

    /// Indexes of the services that may answer to `name` (lower case): for a loopback name
    /// those using `port` on a host, else those so named, aliased or routed; in fleet order.
    pub fn candidates(&self, name: &str, port: Option<u16>) -> Vec<usize> {
        let found = if is_loopback(name) {
            port.and_then(|p| self.by_port.get(&p))
        } else {
            self.by_name.get(name)
        };
        found.cloned().unwrap_or_default()
    }
}

/// Every ambiguous address reference with the services answering to it: for a loopback name,
/// those on the caller's host publishing (or listening on) the port; for another name, those
/// of the caller's environment so named. A detector may judge the call against the one
/// candidate that can be its target (the only one with a CORS allow-list, the only socket
/// server), as whichever of them wins the port, the call was meant for that one.
pub fn ambiguous_calls<'a>(fleet: &FleetIndex<'a>) -> Vec<AmbiguousCall<'a>> {
    let mut out = Vec::new();
    let services = &fleet.input.model.services;
    let answerers = Answerers::new(services);
    for u in &fleet.input.model.unresolved {
        if u.reason != UnresolvedReason::Ambiguous {
            continue;
        }
        let Some(from) = u
            .service
            .as_deref()
            .and_then(|s| fleet.service(&u.repository, s))
        else {
            continue;
        };
        let (host, env) = fleet.place(&from.repository);
        for r in fleet.references_at(&u.repository, Some(&from.name), &u.location) {
            let Some(text) = address_text(r) else {
                continue;
            };
            let Some(a) = address::parse(text).into_iter().next() else {
                continue;
            };
            let name = a.host.to_ascii_lowercase();
            let mut found = answerers.candidates(&name, a.port);
            if let Some((short, _)) = kubernetes_dns(&name) {
                found.extend(answerers.candidates(short, a.port));
                found.sort_unstable();
                found.dedup();
            }
            let candidates: Vec<&'a Service> = found
                .into_iter()
                .filter_map(|i| services.get(i))
                .filter(|s| s.id != from.id && !s.test_harness)
                .filter(|s| {
                    let (s_host, s_env) = fleet.place(&s.repository);
                    if is_loopback(&a.host) {
                        s_host == host && a.port.is_some_and(|p| listens_on_host(s, p))
                    } else {
                        s_env == env && names_target(s, &a.host)
                    }
                })
                .collect();
            if candidates.len() > 1 {
                out.push(AmbiguousCall {
                    from,
                    reference: r,
                    text,
                    candidates,
                });
            }
        }
    }
    out
}

/// Whether a service publishes `port` on its host or listens on it there.
fn listens_on_host(service: &Service, port: u16) -> bool {
    service.endpoints.iter().any(|e| match &e.kind {
        EndpointKind::HostPort { start, end, .. } => (*start..=(*end).max(*start)).contains(&port),
        EndpointKind::HostProcessPort { port: p } => *p == port,
        _ => false,
    })
}

/// The address text of a reference, if it has one.
pub fn address_text(r: &Reference) -> Option<&str> {
    match &r.target {
        Target::Address { text } => Some(text),
        Target::FederationRemote { url: Some(url), .. } => Some(url),
        _ => None,
    }
}

/// `ws://`, `wss://`, or a value under a socket-ish key (`SOCKET_URL`, `WS_URL`).
pub fn is_websocket(key: Option<&str>, text: &str) -> bool {
    let t = text.trim().to_ascii_lowercase();
    if t.starts_with("ws://") || t.starts_with("wss://") {
        return true;
    }
    key_words(key.unwrap_or(""))
        .iter()
        .any(|w| w.contains("SOCKET") || w == "WS" || w == "WSS")
}

/// Upper-cased words of a key: `REACT_APP_WS_URL` → `[REACT, APP, WS, URL]`, `wsUrl` → `[WS, URL]`.
pub fn key_words(key: &str) -> Vec<String> {
    let mut words: Vec<String> = Vec::new();
    let mut current = String::new();
    let mut prev_lower = false;
    for c in key.chars() {
        if !c.is_ascii_alphanumeric() {
            words.extend((!current.is_empty()).then(|| std::mem::take(&mut current)));
            prev_lower = false;
            continue;
        }
        if c.is_ascii_uppercase() && prev_lower {
            words.extend((!current.is_empty()).then(|| std::mem::take(&mut current)));
        }
        prev_lower = c.is_ascii_lowercase() || c.is_ascii_digit();
        current.push(c.to_ascii_uppercase());
    }
    words.extend((!current.is_empty()).then_some(current));
    words
}

/// Mechanisms whose unresolved references are addresses someone will call (not start-up order).
pub fn is_call(mechanism: Mechanism) -> bool {
    matches!(
        mechanism,
        Mechanism::Env
            | Mechanism::Url
            | Mechanism::Command
            | Mechanism::Label
            | Mechanism::ProxyPass
            | Mechanism::Federation
    )
}

/// Whether the text writes the port out (`:8080`), rather than it being the scheme's default.
fn explicit_port(text: &str, port: u16) -> bool {
    let t = text.to_ascii_lowercase();
    [":", "#", ","].iter().any(|sep| {
        let needle = format!("{sep}{port}");
        t.match_indices(&needle).any(|(i, _)| {
            !t[i + needle.len()..]
                .chars()
                .next()
                .is_some_and(|c| c.is_ascii_digit())
        })
    })
}

/// Whether an unresolved reference is ambiguous only because one host port is published twice
/// (`localhost:5000` with two stacks publishing 5000): the `port` detector reports that clash,
/// and the reference is right once the clash is gone, so it is not a finding of its own.
pub fn ambiguous_by_port_clash(u: &Unresolved) -> bool {
    u.reason == UnresolvedReason::Ambiguous
        && address::parse(&u.reference)
            .first()
            .is_some_and(|a| is_loopback(&a.host) && a.port.is_some())
}

/// `host:port` (or the host alone) of the first address in a text; the text itself otherwise.
/// A federation remote `name@url` is keyed by its URL.
pub fn address_key(text: &str) -> String {
    let mut addresses = address::parse(text);
    if addresses.is_empty()
        && let Some((_, url)) = text.split_once('@')
    {
        addresses = address::parse(url);
    }
    match addresses.first() {
        Some(a) => match a.port {
            Some(p) => format!("{}:{p}", a.host),
            None => a.host.clone(),
        },
        None => text.trim().to_string(),
    }
}

/// A reference naming a port its target does not serve.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PortMismatch {
    pub host: String,
    pub port: u16,
    /// Ports the target listens on where the reference reaches it.
    pub served: BTreeSet<u16>,
}

fn names_target(target: &Service, host: &str) -> bool {
    let host = host.to_ascii_lowercase();
    let k8s = kubernetes_dns(&host).map(|(n, _)| n.to_string());
    let matches = |name: &str| {
        let name = name.to_ascii_lowercase();
        name == host || k8s.as_deref() == Some(name.as_str())
    };
    matches(&target.name) || target.aliases.iter().any(|a| matches(&a.name))
}

/// Ports a service listens on inside its network (what a name like `api:PORT` reaches).
fn network_ports(target: &Service) -> BTreeSet<u16> {
    let mut ports = BTreeSet::new();
    for e in &target.endpoints {
        match &e.kind {
            EndpointKind::ContainerPort { port, .. } | EndpointKind::HostProcessPort { port } => {
                ports.insert(*port);
            }
            EndpointKind::HostPort {
                container_port: Some(p),
                ..
            } => {
                ports.insert(*p);
            }
            _ => {}
        }
    }
    ports
}

/// Whether `a` (one address of a resolved reference) names a port its target does not serve.
/// Only names of the target with a written-out port are judged: `localhost:PORT` resolved by
/// that very port, domains go through a proxy, and a target with no known ports is unknown.
pub fn port_mismatch(target: &Service, text: &str, a: &Address) -> Option<PortMismatch> {
    let port = a.port?;
    if is_loopback(&a.host) || is_docker_host(&a.host) || !explicit_port(text, port) {
        return None;
    }
    if !names_target(target, &a.host) {
        return None;
    }
    let served = network_ports(target);
    if served.is_empty() || served.contains(&port) {
        return None;
    }
    Some(PortMismatch {
        host: a.host.clone(),
        port,
        served,
    })
}

/// The first mismatch of a reference's addresses against its target, if every address that
/// names the target names a wrong port.
pub fn reference_mismatch(target: &Service, text: &str) -> Option<PortMismatch> {
    let addresses = address::parse(text);
    let naming: Vec<&Address> = addresses
        .iter()
        .filter(|a| names_target(target, &a.host))
        .collect();
    let mismatches: Vec<PortMismatch> = naming
        .iter()
        .filter_map(|a| port_mismatch(target, text, a))
        .collect();
    if mismatches.is_empty() || mismatches.len() < naming.len() {
        return None;
    }
    mismatches.into_iter().next()
}

/// Ports as text: `80, 443`.
pub fn port_list(ports: &BTreeSet<u16>) -> String {
    ports
        .iter()
        .map(|p| p.to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detect::index::testing::*;
    use switchyard_model::{Alias, AliasKind, Protocol};

    #[test]
    fn explicit_ports() {
        assert!(explicit_port("http://api:8080/x", 8080));
        assert!(!explicit_port("http://api/x", 80));
        assert!(!explicit_port("http://api:80801", 8080));
        assert!(explicit_port("Server=db,1433;", 1433));
    }

    #[test]
    fn address_keys() {
        assert_eq!(address_key("http://localhost:3001/api"), "localhost:3001");
        assert_eq!(address_key("postgres://u:***@db/x"), "db:5432");
        assert_eq!(
            address_key("cart@http://localhost:3001/remoteEntry.js"),
            "localhost:3001"
        );
        assert_eq!(address_key("redis"), "redis");
        assert_eq!(address_key("not an address"), "not an address");
    }

    #[test]
    fn websockets() {
        assert!(is_websocket(None, "wss://x/ws"));
        assert!(is_websocket(
            Some("REACT_APP_SOCKET_URL"),
            "http://localhost:4000"
        ));
        assert!(is_websocket(Some("WS_URL"), "http://x"));
        assert!(!is_websocket(Some("API_URL"), "http://x"));
        assert!(!is_websocket(Some("NEWS_URL"), "http://x"));
        assert!(is_websocket(Some("wsUrl"), "http://x"));
        assert!(is_websocket(Some("socketServer"), "http://x"));
    }

    #[test]
    fn mismatches() {
        let mut api = service(
            "b",
            "api",
            vec![compose_scope("docker-compose.yml")],
            vec![EndpointKind::HostPort {
                host_ip: None,
                start: 8080,
                end: 8080,
                container_port: Some(80),
                protocol: Protocol::Tcp,
            }],
        );
        api.aliases.push(Alias {
            name: "api-svc".into(),
            kind: AliasKind::KubernetesService,
            location: loc("b", "k8s.yaml", 3),
        });
        // Inside the network the container port counts, not the published one.
        let m = reference_mismatch(&api, "http://api:8080/v1").unwrap();
        assert_eq!((m.host.as_str(), m.port), ("api", 8080));
        assert_eq!(port_list(&m.served), "80");
        assert!(reference_mismatch(&api, "http://api:80").is_none());
        assert!(reference_mismatch(&api, "http://api").is_none());
        assert!(reference_mismatch(&api, "api-svc.prod.svc.cluster.local:9000").is_some());
        assert!(reference_mismatch(&api, "http://localhost:9999").is_none());
        assert!(reference_mismatch(&api, "http://other:9999").is_none());
        // A target with no known ports is not judged.
        let bare = service("b", "db", vec![], vec![]);
        assert!(reference_mismatch(&bare, "db:5433").is_none());
    }
}
