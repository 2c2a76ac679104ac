//! `unreachable_url`: a URL or `host:port` aimed at the fleet that nothing serves (no provider,
//! or several), or that reaches a service on a port the service does not listen on; Module
//! Federation remotes a host cannot load are found by [`super::federation_remotes`].
//!
//! Every finding names both sides: the reference (key, value and location) and the service it
//! was meant for with the location of what that service serves, or says that nothing serves it;
//! and it says what to change. The evidence chain (reference → address → resolved service →
//! what it serves → fix) is kept on the conflict for `--explain`. A reference read only in
//! development or tests (`.env.development`, `docker-compose.test.yml`, an environment named
//! `dev`) is medium: it does not break a deployment.

use super::Detector;
use super::env_drift::is_template;
use super::index::{FleetIndex, and_list, finish};
use super::reach::{
    Answerers, address_key, address_text, ambiguous_by_port_clash, is_call, is_websocket,
    port_list, reference_mismatch,
};
use crate::{Conflict, ConflictKind, Occurrence, Severity, Step, StepRole};
use std::collections::{BTreeMap, HashMap, HashSet};
use switchyard_link::address::is_loopback;
use switchyard_model::{EndpointKind, Location, Service, Unresolved, UnresolvedReason};

/// Most references an evidence chain lists one by one.
const CHAIN_REFERENCES: usize = 5;

/// Environment names (`switchyard.toml`) that are not a deployment users depend on.
const DEV_ENVIRONMENTS: [&str; 7] = [
    "dev",
    "development",
    "local",
    "test",
    "testing",
    "ci",
    "sandbox",
];

pub struct UnreachableUrlDetector;

impl Detector for UnreachableUrlDetector {
    fn kind(&self) -> ConflictKind {
        ConflictKind::UnreachableUrl
    }

    fn detect_in(&self, fleet: &FleetIndex<'_>) -> Vec<Conflict> {
        let mut remotes = Vec::new();
        super::federation_remotes::check(fleet, &mut remotes);
        // A remotes entry judged as a federation finding (it names both sides and the fix) is
        // not also a plain dead URL.
        let judged: HashSet<&Location> = remotes
            .iter()
            .filter_map(|c| c.occurrences.first().map(|o| &o.location))
            .collect();
        let mut out = Vec::new();
        unserved(fleet, &judged, &mut out);
        wrong_ports(fleet, &mut out);
        out.extend(remotes);
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

/// Whether a file is read only in development or tests: `.env.development`, `.env.test`,
/// `docker-compose.dev.yml`, `compose.test.yaml`, or anything under a test directory.
pub fn dev_only_file(path: &str) -> bool {
    let lower = path.to_ascii_lowercase();
    let mut parts: Vec<&str> = lower.split('/').collect();
    let name = parts.pop().unwrap_or("");
    const TEST_DIRS: [&str; 9] = [
        "test",
        "tests",
        "__tests__",
        "e2e",
        "cypress",
        "playwright",
        "fixtures",
        "testdata",
        "spec",
    ];
    if parts.iter().any(|p| TEST_DIRS.contains(p)) {
        return true;
    }
    const DEV_WORDS: [&str; 6] = ["dev", "development", "test", "testing", "e2e", "ci"];
    if let Some(rest) = name.strip_prefix(".env.") {
        return rest.split('.').any(|w| DEV_WORDS.contains(&w));
    }
    if name.contains("compose") {
        return name.split(['.', '-', '_']).any(|w| DEV_WORDS.contains(&w));
    }
    false
}

fn dev_environment(env: &str) -> bool {
    DEV_ENVIRONMENTS.contains(&env.to_ascii_lowercase().as_str())
}

/// `repo/service` of a reference's owner (the repository alone for loose files).
fn owner(repository: &str, service: Option<&str>) -> String {
    match service {
        Some(s) => format!("{repository}/{s}"),
        None => repository.to_string(),
    }
}

/// The key a reference is written under, if any (`ORDERS_URL`).
fn key_at<'a>(fleet: &FleetIndex<'a>, u: &Unresolved) -> Option<&'a str> {
    fleet
        .references_at(&u.repository, u.service.as_deref(), &u.location)
        .find_map(|r| r.key.as_deref())
}

/// `KEY=value` when the reference has a key, else the value.
fn written(key: Option<&str>, text: &str) -> String {
    match key {
        Some(k) => format!("{k}={text}"),
        None => text.to_string(),
    }
}

/// The reference steps of a chain: the first few references, then how many more.
fn reference_steps(items: &[(String, &Location)]) -> Vec<Step> {
    let mut steps: Vec<Step> = items
        .iter()
        .take(CHAIN_REFERENCES)
        .map(|(text, location)| Step::new(StepRole::Reference, text.clone(), Some(location)))
        .collect();
    if items.len() > CHAIN_REFERENCES {
        steps.push(Step::new(
            StepRole::Reference,
            format!("and {} more", items.len() - CHAIN_REFERENCES),
            None,
        ));
    }
    steps
}

/// Host name and port of an address key (`api:8080` → `("api", Some(8080))`).
fn split_address(address: &str) -> (&str, Option<u16>) {
    match address.rsplit_once(':') {
        Some((host, port)) => match port.parse() {
            Ok(p) => (host, Some(p)),
            Err(_) => (address, None),
        },
        None => (address, None),
    }
}

/// Services answering to `name` (and `port`): by service name, alias or routed domain, or,
/// for a loopback name, by publishing that host port; with the place that says so. In the
/// fleet's order.
fn answering<'a>(
    answerers: &Answerers,
    fleet: &FleetIndex<'a>,
    name: &str,
    port: Option<u16>,
) -> Vec<(&'a Service, &'a Location, String)> {
    let services = &fleet.input.model.services;
    let name = name.to_ascii_lowercase();
    answerers
        .candidates(&name, port)
        .into_iter()
        .filter_map(|i| {
            let s = services.get(i)?;
            answer(s, &name, port).map(|(location, what)| (s, location, what))
        })
        .collect()
}

/// How `s` answers to `name` (lower case) and `port`, if it does.
fn answer<'a>(s: &'a Service, name: &str, port: Option<u16>) -> Option<(&'a Location, String)> {
    if is_loopback(name) {
        let port = port?;
        return s.endpoints.iter().find_map(|e| match &e.kind {
            EndpointKind::HostPort { start, end, .. }
                if (*start..=(*end).max(*start)).contains(&port) =>
            {
                Some((&e.location, format!("publishes host port {port}")))
            }
            EndpointKind::HostProcessPort { port: p } if *p == port => {
                Some((&e.location, format!("listens on port {port} of its host")))
            }
            _ => None,
        });
    }
    if s.name.eq_ignore_ascii_case(name) {
        Some((&s.source, format!("is named {name}")))
    } else if let Some(a) = s.aliases.iter().find(|a| a.name.eq_ignore_ascii_case(name)) {
        Some((&a.location, format!("answers to {name}")))
    } else {
        s.endpoints.iter().find_map(|e| match &e.kind {
            EndpointKind::Domain { host, .. } if host.eq_ignore_ascii_case(name) => {
                Some((&e.location, format!("serves {name}")))
            }
            _ => None,
        })
    }
}

/// References with no provider (high) or several (medium), grouped by the address they name.
fn unserved(fleet: &FleetIndex<'_>, judged: &HashSet<&Location>, out: &mut Vec<Conflict>) {
    let mut groups: BTreeMap<(&str, &str, String), Vec<&Unresolved>> = BTreeMap::new();
    for u in &fleet.input.model.unresolved {
        let relevant = matches!(
            u.reason,
            UnresolvedReason::NoProvider
                | UnresolvedReason::Ambiguous
                | UnresolvedReason::ContainerLoopback
        ) && is_call(u.mechanism);
        // A template (`.env.production.template`) documents an address, deploys none.
        if !relevant
            || is_template(&u.location.path)
            || judged.contains(&u.location)
            || websocket(fleet, u)
            || ambiguous_by_port_clash(u)
        {
            continue;
        }
        let (host, env) = fleet.place(&u.repository);
        groups
            .entry((host, env, address_key(&u.reference)))
            .or_default()
            .push(u);
    }
    let mut publishers = None;
    let answerers = Answerers::new(&fleet.input.model.services);
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
            .map(|u| owner(&u.repository, u.service.as_deref()))
            .collect();
        from.sort();
        from.dedup();
        let callers = and_list(&from);
        let (name, port) = split_address(&address);
        let mut written_refs: Vec<(String, &Location)> = list
            .iter()
            .map(|u| {
                let who = owner(&u.repository, u.service.as_deref());
                (
                    format!("{who}: {}", written(key_at(fleet, u), &u.reference)),
                    &u.location,
                )
            })
            .collect();
        written_refs.sort_by(|a, b| a.1.cmp(b.1));
        let mut chain = reference_steps(&written_refs);
        let (severity, message, fix, why) = if in_container {
            let port_text = port.map_or_else(|| "that port".to_string(), |p| p.to_string());
            chain.push(Step::new(
                StepRole::Address,
                format!(
                    "{address}: localhost inside the container of {callers} is that container, \
                     which does not listen on {port_text}"
                ),
                None,
            ));
            let publishers = publishers.get_or_insert_with(|| host_publishers(fleet));
            let publisher = port.and_then(|port| Some((port, publishers.get(&(host, port))?)));
            match publisher {
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
                    chain.push(Step::new(
                        StepRole::Resolved,
                        format!(
                            "not reached: host port {port} on host {host} belongs to {}",
                            service.id
                        ),
                        Some(&service.source),
                    ));
                    chain.push(Step::new(
                        StepRole::Serves,
                        format!(
                            "{} publishes host port {port}{}",
                            service.id,
                            container_port
                                .map(|p| format!(" (container port {p})"))
                                .unwrap_or_default()
                        ),
                        Some(&endpoint.location),
                    ));
                    let fix = format!(
                        "call {target} over a network both containers join, or \
                         host.docker.internal:{port} to go through the host"
                    );
                    let message = format!(
                        "{address} is called from inside a container by {callers}, where \
                         localhost is the container itself; the port is published on the host by \
                         {} ({}). Call {target} over a network both containers join, or \
                         host.docker.internal:{port} to go through the host",
                        service.id, endpoint.location,
                    );
                    (
                        Severity::High,
                        message,
                        fix,
                        "every call fails: nothing listens on that port inside the calling \
                         container, and the service meant is not reached through localhost"
                            .to_string(),
                    )
                }
                None => {
                    chain.push(Step::new(
                        StepRole::Resolved,
                        format!("nothing: no service on host {host} publishes {port_text} either"),
                        None,
                    ));
                    let fix = "call the service that should serve it by its name".to_string();
                    let message = format!(
                        "{address} is called from inside a container by {callers}, where localhost \
                         is the container itself, and nothing on host {host} publishes that port \
                         either; {fix}"
                    );
                    (
                        Severity::High,
                        message,
                        fix,
                        "every call fails: nothing listens on that port inside the calling \
                         container or on the host"
                            .to_string(),
                    )
                }
            }
        } else if nobody {
            chain.push(Step::new(StepRole::Address, address.clone(), None));
            let elsewhere: Vec<_> = answering(&answerers, fleet, name, port)
                .into_iter()
                .filter(|(s, ..)| fleet.place(&s.repository) != (host, env))
                .collect();
            chain.push(Step::new(
                StepRole::Resolved,
                format!("nothing: no service on host {host} (environment {env}) answers to it"),
                None,
            ));
            let mut also = String::new();
            for (s, location, what) in &elsewhere {
                let (h, e) = fleet.place(&s.repository);
                chain.push(Step::new(
                    StepRole::Serves,
                    format!("{} {what}, but runs on host {h} (environment {e})", s.id),
                    Some(location),
                ));
            }
            if let Some((s, location, what)) = elsewhere.first() {
                let (h, e) = fleet.place(&s.repository);
                also = format!(
                    "; only {} {what} ({location}), on host {h} in environment {e}",
                    s.id
                );
            }
            let fix = "point it at the service that should serve it, or add that service to \
                       the fleet"
                .to_string();
            let message = format!(
                "{address} is called by {callers} but nothing in the fleet on host {host} serves \
                 it{also}; {fix}"
            );
            (
                Severity::High,
                message,
                fix,
                "the call fails every time it is made: nothing in the fleet answers there"
                    .to_string(),
            )
        } else {
            chain.push(Step::new(StepRole::Address, address.clone(), None));
            let candidates: Vec<_> = answering(&answerers, fleet, name, port)
                .into_iter()
                .filter(|(s, ..)| fleet.place(&s.repository) == (host, env))
                .collect();
            chain.push(Step::new(
                StepRole::Resolved,
                format!(
                    "ambiguous: {} services on host {host} answer to it",
                    candidates.len().max(2)
                ),
                None,
            ));
            let mut named = Vec::new();
            for (s, location, what) in &candidates {
                chain.push(Step::new(
                    StepRole::Serves,
                    format!("{} {what}", s.id),
                    Some(location),
                ));
                occurrences.push(Occurrence {
                    repository: s.repository.clone(),
                    service: Some(s.name.clone()),
                    location: (*location).clone(),
                    detail: format!("{} {what}", s.id),
                });
                named.push(format!("{} ({location})", s.id));
            }
            let answer = if named.is_empty() {
                "more than one service answers to it".to_string()
            } else {
                format!("{} all answer to it", and_list(&named))
            };
            let fix = "name the one meant unambiguously (a network alias, container name or \
                       fully qualified name), or rename the others"
                .to_string();
            let message = format!("{address} is called by {callers} and {answer}; {fix}");
            (
                Severity::Medium,
                message,
                fix,
                "which service answers depends on the network and start order: calls may reach \
                 the wrong one"
                    .to_string(),
            )
        };
        let dev_files = list.iter().all(|u| dev_only_file(&u.location.path));
        let (severity, why) = if severity == Severity::High && (dev_files || dev_environment(env)) {
            let place = if dev_files {
                "in development or test files only"
            } else {
                "in a development environment"
            };
            (
                Severity::Medium,
                format!("{why}, but the reference is read {place}, not by a deployment"),
            )
        } else {
            (severity, why)
        };
        chain.push(Step::new(StepRole::Fix, fix, None));
        chain.push(Step::new(StepRole::Severity, why, None));
        out.push(
            Conflict::new(
                ConflictKind::UnreachableUrl,
                severity,
                host,
                env,
                format!("url:{address}"),
                occurrences,
                message,
            )
            .with_chain(chain),
        );
    }
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

/// The container port a published host port of `target` maps to (`8080:80` → 80 for 8080).
fn published_as(target: &Service, port: u16) -> Option<u16> {
    target.endpoints.iter().find_map(|e| match &e.kind {
        EndpointKind::HostPort {
            start,
            end,
            container_port: Some(c),
            ..
        } if *start == port && *end <= *start && *c != port => Some(*c),
        _ => None,
    })
}

/// Edges whose reference names a port the target does not listen on.
fn wrong_ports(fleet: &FleetIndex<'_>, out: &mut Vec<Conflict>) {
    // (host, env, target, host:port) → (served ports, referring occurrences with their keys)
    type Key<'a> = (&'a str, &'a str, &'a str, String);
    type Callers<'a> = Vec<(Occurrence, Option<&'a str>)>;
    let mut groups: BTreeMap<Key<'_>, (String, Callers<'_>)> = BTreeMap::new();
    for call in fleet.calls() {
        let (from, target, r, text) = (call.from, call.to, call.reference, call.text);
        if is_websocket(r.key.as_deref(), text) || is_template(&r.location.path) {
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
        entry.1.push((
            Occurrence {
                repository: from.repository.clone(),
                service: Some(from.name.clone()),
                location: r.location.clone(),
                detail: text.to_string(),
            },
            r.key.as_deref(),
        ));
    }
    for ((host, env, target_id, address), (served, mut callers)) in groups {
        callers.sort_by(|a, b| a.0.location.cmp(&b.0.location));
        callers.dedup_by(|a, b| a.0 == b.0);
        let (name, port) = split_address(&address);
        let who: Vec<String> = callers
            .iter()
            .map(|(o, key)| {
                let svc = owner(&o.repository, o.service.as_deref());
                match key {
                    Some(k) => format!("{k} of {svc} ({})", o.location),
                    None => format!("{svc} ({})", o.location),
                }
            })
            .collect();
        let refs: Vec<(String, &Location)> = callers
            .iter()
            .map(|(o, key)| {
                let svc = owner(&o.repository, o.service.as_deref());
                (format!("{svc}: {}", written(*key, &o.detail)), &o.location)
            })
            .collect();
        let mut chain = reference_steps(&refs);
        chain.push(Step::new(StepRole::Address, address.clone(), None));
        let target = fleet.service_by_id(target_id);
        let listening = target.map(served_occurrences).unwrap_or_default();
        if let Some(t) = target {
            chain.push(Step::new(
                StepRole::Resolved,
                format!("{target_id} (by its name {name})"),
                Some(&t.source),
            ));
        }
        for o in &listening {
            chain.push(Step::new(
                StepRole::Serves,
                o.detail.clone(),
                Some(&o.location),
            ));
        }
        let served_at: Vec<String> = listening
            .iter()
            .map(|o| {
                let p = o.detail.rsplit(' ').next().unwrap_or("");
                format!("{p} ({})", o.location)
            })
            .collect();
        let served_text = if served_at.is_empty() {
            served.clone()
        } else {
            and_list(&served_at)
        };
        let ports: Vec<&str> = served.split(", ").collect();
        let mut fix = match ports.as_slice() {
            [one] => format!("use {name}:{one}"),
            many => format!(
                "use one of {}",
                many.iter()
                    .map(|p| format!("{name}:{p}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        };
        if let Some(c) = port.and_then(|p| target.and_then(|t| published_as(t, p))) {
            fix.push_str(&format!(
                " ({} is the port published on the host; by name, inside the network, the \
                 container port {c} counts)",
                port.unwrap_or_default()
            ));
        }
        let verb = if callers.len() == 1 { "uses" } else { "use" };
        let message = format!(
            "{} {verb} port {} of {name}, but {target_id} listens on {served_text} there; {fix}",
            and_list(&who),
            port.map(|p| p.to_string()).unwrap_or_default(),
        );
        chain.push(Step::new(StepRole::Fix, fix, None));
        let refused =
            format!("every call to {address} is refused: {target_id} does not listen on that port");
        let dev_files = callers.iter().all(|(o, _)| dev_only_file(&o.location.path));
        let (severity, why) = if dev_files || dev_environment(env) {
            (
                Severity::Medium,
                format!("{refused}, but the reference is read only in development or tests"),
            )
        } else {
            (Severity::High, refused)
        };
        chain.push(Step::new(StepRole::Severity, why, None));
        let mut occurrences: Vec<Occurrence> = callers.into_iter().map(|(o, _)| o).collect();
        occurrences.extend(listening);
        out.push(
            Conflict::new(
                ConflictKind::UnreachableUrl,
                severity,
                host,
                env,
                format!("url:{address}@{target_id}"),
                occurrences,
                message,
            )
            .with_chain(chain),
        );
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
            unresolved("a", "http://api:8080", UnresolvedReason::Ambiguous, 3),
            unresolved("a", "https://api.stripe.com", UnresolvedReason::External, 4),
            // Two stacks publish host port 5000: the port conflict is the finding, not this.
            unresolved("a", "http://localhost:5000", UnresolvedReason::Ambiguous, 5),
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
        assert_eq!(medium.resource, "url:api:8080");
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
        // Both sides with their locations, and the fix.
        assert_eq!(
            c[0].message,
            "API_URL of a/web (a/docker-compose.yml:8:17) uses port 3001 of api, but b/api \
             listens on 3000 (b/docker-compose.yml:10:5) there; use api:3000"
        );
        let roles: Vec<&str> = c[0].chain.iter().map(|s| s.role.as_str()).collect();
        assert_eq!(
            roles,
            [
                "reference",
                "address",
                "resolved",
                "serves",
                "fix",
                "severity"
            ]
        );
        assert_eq!(c[0].chain[0].text, "a/web: API_URL=http://api:3001/v1");
        assert!(run(&wrong_port_fixture("http://api:3000/v1")).is_empty());
        assert!(run(&wrong_port_fixture("http://api/v1")).is_empty());
    }

    #[test]
    fn the_published_host_port_used_by_name_says_the_container_port_counts() {
        let mut fx = wrong_port_fixture("http://api:8080/v1");
        fx.model.services[1].endpoints = vec![switchyard_model::Endpoint {
            kind: host_port(None, 8080, 8080),
            location: loc("b", "docker-compose.yml", 12),
        }];
        let c = run(&fx);
        assert_eq!(c.len(), 1, "{c:#?}");
        assert!(
            c[0].message.ends_with(
                "use api:80 (8080 is the port published on the host; by name, inside the \
                 network, the container port 80 counts)"
            ),
            "{}",
            c[0].message
        );
    }

    #[test]
    fn dead_urls_read_only_in_development_are_medium() {
        let mut fx = base();
        let mut dev = unresolved("a", "http://orders:9000", UnresolvedReason::NoProvider, 1);
        dev.location = loc("a", ".env.development", 1);
        fx.model.unresolved = vec![dev];
        let c = run(&fx);
        assert_eq!(c[0].severity, Severity::Medium);
        assert!(
            crate::explain::severity_reason(&c[0]).contains("development or test files"),
            "{:?}",
            c[0].chain
        );
        // The same in the production `.env` is high; in an environment named `dev`, medium.
        fx.model.unresolved[0].location = loc("a", ".env", 1);
        assert_eq!(run(&fx)[0].severity, Severity::High);
        fx.model.repositories[0].environment = "dev".into();
        assert_eq!(run(&fx)[0].severity, Severity::Medium);
    }

    #[test]
    fn dev_only_files() {
        for dev in [
            ".env.development",
            ".env.development.local",
            ".env.test",
            "apps/web/.env.dev",
            "docker-compose.dev.yml",
            "compose.test.yaml",
            "docker-compose-e2e.yml",
            "tests/fixtures/config.json",
            "e2e/.env",
        ] {
            assert!(dev_only_file(dev), "{dev}");
        }
        for prod in [
            ".env",
            ".env.local",
            ".env.production",
            "docker-compose.yml",
            "docker-compose.override.yml",
            "deploy/compose.prod.yaml",
            "src/devices/config.json",
        ] {
            assert!(!dev_only_file(prod), "{prod}");
        }
    }

    #[test]
    fn nothing_here_names_the_service_that_answers_on_another_host() {
        let mut fx = base();
        fx.model.repositories[1].host = "pi".into();
        fx.model.services = vec![service(
            "b",
            "orders",
            vec![compose_scope("docker-compose.yml")],
            vec![],
        )];
        fx.model.unresolved = vec![unresolved(
            "a",
            "http://orders:8080",
            UnresolvedReason::NoProvider,
            1,
        )];
        let c = run(&fx);
        assert_eq!(c.len(), 1);
        assert!(
            c[0].message.contains(
                "nothing in the fleet on host local serves it; only b/orders is named orders \
                 (b/docker-compose.yml:1:5), on host pi in environment default"
            ),
            "{}",
            c[0].message
        );
        assert!(
            c[0].chain
                .iter()
                .any(|s| s.role == crate::StepRole::Serves && s.location.is_some())
        );
    }

    #[test]
    fn ambiguous_names_the_services_that_answer() {
        let mut fx = base();
        let scope = compose_scope("docker-compose.yml");
        fx.model.services = vec![
            service("a", "cache", vec![scope.clone()], vec![]),
            service("b", "cache", vec![scope], vec![]),
        ];
        fx.model.unresolved = vec![unresolved(
            "a",
            "redis://cache:6379",
            UnresolvedReason::Ambiguous,
            1,
        )];
        let c = run(&fx);
        assert_eq!(c.len(), 1);
        assert_eq!(c[0].severity, Severity::Medium);
        assert_eq!(c[0].occurrences.len(), 3, "{:#?}", c[0].occurrences);
        assert!(
            c[0].message.contains(
                "a/cache (a/docker-compose.yml:1:5) and b/cache (b/docker-compose.yml:1:5) all \
                 answer to it; name the one meant unambiguously"
            ),
            "{}",
            c[0].message
        );
    }
}
