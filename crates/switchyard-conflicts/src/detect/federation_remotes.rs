//! Module Federation remotes a host cannot load (reported as `unreachable_url`, from
//! [`super::unreachable_url`]):
//!
//! - a dead remote: the entry's `localhost` port is served by nothing on the host, while the
//!   remote of that name listens elsewhere (the linker found it by name, so no other detector
//!   sees the URL);
//! - a name mismatch: the entry states a container (`shop@http://…`) but the app serving that
//!   URL is built with another `name` (the host finds no such container at runtime);
//! - the URL reaches another app while the named remote listens on another port;
//! - a file name mismatch: the URL's file is not the remote's `filename` (a 404).
//!
//! Not judged: URLs with `${…}` parts (their env values are URLs `unreachable_url` checks),
//! bare-URL entries for names (vite loads the entry under any name), remotes whose ports are
//! unknown, domains that reach a proxy rather than the app.

use super::index::FleetIndex;
use super::unreachable_url::served_occurrences;
use crate::{Conflict, ConflictKind, Occurrence, Severity};
use std::collections::{BTreeSet, HashMap};
use switchyard_link::address::{self, is_loopback};
use switchyard_model::{
    EndpointKind, FederationSettings, Location, Mechanism, Reference, Service, Target,
};

/// Findings about federation remotes, appended to `out`.
pub fn check(fleet: &FleetIndex<'_>, out: &mut Vec<Conflict>) {
    let served = host_ports(fleet);
    for facts in fleet.input.facts {
        let named: BTreeSet<&Location> = facts
            .federation
            .iter()
            .flat_map(|f| &f.named_remotes)
            .collect();
        for r in &facts.references {
            let Target::FederationRemote {
                name,
                url: Some(url),
            } = &r.target
            else {
                continue;
            };
            if r.mechanism != Mechanism::Federation || url.contains("${") {
                continue;
            }
            let Some(from) = r
                .from
                .as_deref()
                .and_then(|f| fleet.service(&facts.repository, f))
            else {
                continue;
            };
            let entry = Entry {
                from,
                reference: r,
                name,
                url,
                named: named.contains(&r.location),
            };
            if let Some(conflict) = judge(fleet, &served, &entry) {
                out.push(conflict);
            }
        }
    }
}

/// One `remotes` entry of a host.
struct Entry<'a> {
    from: &'a Service,
    reference: &'a Reference,
    /// The container name the entry loads (the key when it states none).
    name: &'a str,
    url: &'a str,
    /// Whether the entry states the container name (`name@url`, `{ name }`).
    named: bool,
}

/// Services listening on each host port, by host (published ports, dev servers, NodePorts).
fn host_ports<'a>(fleet: &FleetIndex<'a>) -> HashMap<(&'a str, u16), Vec<&'a Service>> {
    let mut out: HashMap<(&'a str, u16), Vec<&'a Service>> = HashMap::new();
    for (&(host, _), repos) in fleet.by_place() {
        for s in fleet.services_of(repos) {
            for e in &s.endpoints {
                let (start, end) = match &e.kind {
                    EndpointKind::HostPort { start, end, .. } => {
                        (*start, (*end).max(*start).min(start.saturating_add(1023)))
                    }
                    EndpointKind::HostProcessPort { port }
                    | EndpointKind::NodePort { port, .. } => (*port, *port),
                    _ => continue,
                };
                for port in start..=end {
                    let list = out.entry((host, port)).or_default();
                    if !list.iter().any(|x| x.id == s.id) {
                        list.push(s);
                    }
                }
            }
        }
    }
    out
}

/// The Module Federation container names a service is built with, with their locations.
fn containers(service: &Service) -> Vec<(&str, &Location)> {
    service
        .endpoints
        .iter()
        .filter_map(|e| match &e.kind {
            EndpointKind::FederationContainer { name } => Some((name.as_str(), &e.location)),
            _ => None,
        })
        .collect()
}

fn judge(
    fleet: &FleetIndex<'_>,
    served: &HashMap<(&str, u16), Vec<&Service>>,
    entry: &Entry<'_>,
) -> Option<Conflict> {
    let address = address::parse(entry.url).into_iter().next()?;
    let port = address.port?;
    let (host, _) = fleet.place(&entry.from.repository);
    let servers: Vec<&Service> = if is_loopback(&address.host) {
        match served.get(&(host, port)) {
            Some(list) => list.clone(),
            None => return dead_remote(fleet, entry, port),
        }
    } else {
        // A domain or service name: the app the linker reached, when it is the app itself
        // (not an nginx or ingress in front of it, which may route anywhere).
        fleet
            .targets_at(entry.from, &entry.reference.location)
            .into_iter()
            .filter(|t| !containers(t).is_empty())
            .collect()
    };
    let mut servers: Vec<&Service> = servers
        .into_iter()
        .filter(|s| s.id != entry.from.id)
        .collect();
    // Several processes on the port (a clash reported as `port`): the remote entry is served by
    // the federation app whose bundler dev server is configured on it, not by a mock server a
    // script starts there.
    if servers.len() > 1 {
        let bundlers: Vec<&Service> = servers
            .iter()
            .copied()
            .filter(|s| bundles_on(s, port))
            .collect();
        if let [one] = bundlers.as_slice() {
            servers = vec![*one];
        }
    }
    if servers.iter().any(|s| has_container(s, entry.name)) {
        let server = servers.iter().find(|s| has_container(s, entry.name))?;
        return wrong_filename(fleet, entry, server, entry.name);
    }
    // The URL reaches apps built under other names.
    let [server] = servers.as_slice() else {
        return None;
    };
    let built = containers(server);
    if !entry.named {
        // A bare URL (vite) loads whatever container that file is.
        return match built.as_slice() {
            [(only, _)] => wrong_filename(fleet, entry, server, only),
            _ => None,
        };
    }
    let owners: Vec<&Service> = named_apps(fleet, host, entry.name)
        .into_iter()
        .filter(|s| s.id != server.id)
        .collect();
    if let [owner] = owners.as_slice() {
        return wrong_app(fleet, entry, server, owner, port);
    }
    match built.as_slice() {
        [(other, location)] => Some(name_mismatch(fleet, entry, server, other, location)),
        _ => None,
    }
}

/// Whether `service` is a federation app whose bundler's dev server (`devServer.port` in
/// `webpack.config.js`, `server.port` in `vite.config.ts`, `rspack.config.*`…) listens on `port`.
fn bundles_on(service: &Service, port: u16) -> bool {
    !containers(service).is_empty()
        && service.endpoints.iter().any(|e| {
            matches!(e.kind, EndpointKind::HostProcessPort { port: p } if p == port) && {
                let name = e.location.path.rsplit('/').next().unwrap_or("");
                name.contains(".config.") || name == "angular.json" || name == "project.json"
            }
        })
}

fn has_container(service: &Service, name: &str) -> bool {
    containers(service).iter().any(|(n, _)| *n == name)
}

/// Apps on `host` built as container `name`.
fn named_apps<'a>(fleet: &FleetIndex<'a>, host: &str, name: &str) -> Vec<&'a Service> {
    fleet
        .by_place()
        .iter()
        .filter(|((h, _), _)| *h == host)
        .flat_map(|(_, repos)| fleet.services_of(repos).collect::<Vec<_>>())
        .filter(|s| has_container(s, name))
        .collect()
}

/// The host's side of a finding: its `remotes` entry.
fn host_occurrence(entry: &Entry<'_>) -> Occurrence {
    Occurrence {
        repository: entry.from.repository.clone(),
        service: Some(entry.from.name.clone()),
        location: entry.reference.location.clone(),
        detail: format!(
            "{} = {}@{}",
            entry.reference.key.as_deref().unwrap_or("remotes"),
            entry.name,
            entry.url
        ),
    }
}

fn container_occurrence(service: &Service, name: &str, location: &Location) -> Occurrence {
    Occurrence {
        repository: service.repository.clone(),
        service: Some(service.name.clone()),
        location: location.clone(),
        detail: format!("name: '{name}'"),
    }
}

fn finding(
    fleet: &FleetIndex<'_>,
    entry: &Entry<'_>,
    occurrences: Vec<Occurrence>,
    message: String,
) -> Conflict {
    let (host, env) = fleet.place(&entry.from.repository);
    let key = entry
        .reference
        .key
        .as_deref()
        .and_then(|k| k.strip_prefix("remotes."))
        .unwrap_or(entry.name);
    Conflict::new(
        ConflictKind::UnreachableUrl,
        Severity::High,
        host,
        env,
        format!("remote:{key}@{}", entry.from.id),
        occurrences,
        message,
    )
}

/// `url` with its port replaced (only where it is written as `:port`).
fn with_port(url: &str, from: u16, to: u16) -> String {
    url.replacen(&format!(":{from}"), &format!(":{to}"), 1)
}

/// Nothing on the host serves the entry's port, but the remote of that name (the linker found
/// it by name) listens on known other ports.
fn dead_remote(fleet: &FleetIndex<'_>, entry: &Entry<'_>, port: u16) -> Option<Conflict> {
    let targets = fleet.targets_at(entry.from, &entry.reference.location);
    let remote = targets.into_iter().find(|t| has_container(t, entry.name))?;
    let listens = served_occurrences(remote);
    let ports: Vec<u16> = remote
        .endpoints
        .iter()
        .filter_map(|e| match &e.kind {
            EndpointKind::HostProcessPort { port } => Some(*port),
            EndpointKind::HostPort { start, .. } => Some(*start),
            EndpointKind::NodePort { port, .. } => Some(*port),
            _ => None,
        })
        .collect::<BTreeSet<u16>>()
        .into_iter()
        .collect();
    // The port its bundler serves the remote entry on, before a mock server's.
    let first = ports
        .iter()
        .copied()
        .find(|p| bundles_on(remote, *p))
        .or_else(|| ports.first().copied())?;
    let (host, _) = fleet.place(&entry.from.repository);
    let mut occurrences = vec![host_occurrence(entry)];
    for (name, location) in containers(remote) {
        if name == entry.name {
            occurrences.push(container_occurrence(remote, name, location));
        }
    }
    occurrences.extend(listens);
    let port_text = ports
        .iter()
        .map(u16::to_string)
        .collect::<Vec<_>>()
        .join(", ");
    let message = format!(
        "{} loads remote {} from {} ({}), but nothing on host {host} serves port {port}: a dead \
         remote. {} (container {}) listens on {port_text}; point the entry at {} or move {}'s \
         dev server to port {port}",
        entry.from.id,
        entry.name,
        entry.url,
        entry.reference.location,
        remote.id,
        entry.name,
        with_port(entry.url, port, first),
        remote.id,
    );
    Some(finding(fleet, entry, occurrences, message))
}

/// The entry names container `name`, but the app serving its URL is built as `other`.
fn name_mismatch(
    fleet: &FleetIndex<'_>,
    entry: &Entry<'_>,
    server: &Service,
    other: &str,
    location: &Location,
) -> Conflict {
    let occurrences = vec![
        host_occurrence(entry),
        container_occurrence(server, other, location),
    ];
    let message = format!(
        "{} loads container {} from {} ({}), but {}, which serves that URL, is built as {other} \
         ({location}); the host finds no container named {} at runtime. Write {other}@{} in \
         the host's remotes entry, or set name: '{}' in {}",
        entry.from.id,
        entry.name,
        entry.url,
        entry.reference.location,
        server.id,
        entry.name,
        entry.url,
        entry.name,
        server.id,
    );
    finding(fleet, entry, occurrences, message)
}

/// The URL reaches `server`, built under another name, while `owner` is the named container.
fn wrong_app(
    fleet: &FleetIndex<'_>,
    entry: &Entry<'_>,
    server: &Service,
    owner: &Service,
    port: u16,
) -> Option<Conflict> {
    let listens = served_occurrences(owner);
    let ports: BTreeSet<u16> = owner
        .endpoints
        .iter()
        .filter_map(|e| match &e.kind {
            EndpointKind::HostProcessPort { port } | EndpointKind::NodePort { port, .. } => {
                Some(*port)
            }
            EndpointKind::HostPort { start, .. } => Some(*start),
            _ => None,
        })
        .collect();
    let first = ports
        .iter()
        .copied()
        .find(|p| bundles_on(owner, *p))
        .or_else(|| ports.iter().next().copied())?;
    let mut occurrences = vec![host_occurrence(entry)];
    for (name, location) in containers(owner) {
        if name == entry.name {
            occurrences.push(container_occurrence(owner, name, location));
        }
    }
    occurrences.extend(listens);
    let port_text = ports
        .iter()
        .map(u16::to_string)
        .collect::<Vec<_>>()
        .join(", ");
    let message = format!(
        "{} loads container {} from {} ({}), but port {port} is served by {}; {} is {} and \
         listens on {port_text}. Point the entry at {}",
        entry.from.id,
        entry.name,
        entry.url,
        entry.reference.location,
        server.id,
        entry.name,
        owner.id,
        with_port(entry.url, port, first),
    );
    Some(finding(fleet, entry, occurrences, message))
}

/// The URL's file is not the remote entry `server` emits (`filename`).
fn wrong_filename(
    fleet: &FleetIndex<'_>,
    entry: &Entry<'_>,
    server: &Service,
    container: &str,
) -> Option<Conflict> {
    let requested = requested_file(entry.url)?;
    let settings: &FederationSettings = fleet
        .facts(&server.repository)?
        .federation
        .iter()
        .find(|f| f.container.as_deref() == Some(container) && f.filename.is_some())?;
    let filename = settings.filename.as_deref()?;
    let emitted = filename.rsplit('/').next().unwrap_or(filename);
    if emitted == requested || emitted.contains('[') || emitted.is_empty() {
        return None;
    }
    let location = settings.filename_location.clone()?;
    let occurrences = vec![
        host_occurrence(entry),
        Occurrence {
            repository: server.repository.clone(),
            service: Some(server.name.clone()),
            location: location.clone(),
            detail: format!("filename: '{filename}'"),
        },
    ];
    let message = format!(
        "{} loads {requested} from {} ({}), but {} (container {container}) emits its remote \
         entry as {filename} ({location}); the request finds no such file. Load {} in the host, \
         or set filename: '{requested}' in {}",
        entry.from.id,
        entry.url,
        entry.reference.location,
        server.id,
        entry.url.replacen(requested, emitted, 1),
        server.id,
    );
    Some(finding(fleet, entry, occurrences, message))
}

/// The file a remote URL asks for (`remoteEntry.js`), when it names a script; manifests
/// (`mf-manifest.json`) and directory URLs are not judged.
fn requested_file(url: &str) -> Option<&str> {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let path = rest.split_once('/')?.1;
    let path = path.split(['?', '#']).next().unwrap_or(path);
    let file = path.rsplit('/').next()?;
    (file.ends_with(".js") || file.ends_with(".mjs")).then_some(file)
}

#[cfg(test)]
#[path = "federation_remotes_tests.rs"]
mod tests;
