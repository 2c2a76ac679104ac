//! One compose service (its merged parts) → a `ServiceDecl`, references, env values and
//! resources. Multi-value keys merge across parts the way compose does (later parts win by key).

use super::endpoints::{labels, ports};
use super::environment::{command, environment};
use super::project::{Decl, Doc, Part, Project, ServiceParts, Text};
use super::volumes;
use crate::source::join_repo_path;
use crate::traefik::{enables_docker_provider, is_traefik_image};
use crate::yaml::Node;
use std::collections::{BTreeMap, HashSet};
use switchyard_model::{
    Alias, AliasKind, Diagnostic, DiagnosticCode, Endpoint, EndpointKind, Location, Mechanism,
    NetworkAttachment, Reference, RepoFacts, ResourceKind, ResourceUse, Scope, ServiceDecl,
    ServiceKind, Target,
};

/// Shared state while extracting the services of one project.
pub(crate) struct Cx<'p> {
    pub project: &'p Project<'p>,
    pub scope: Scope,
    pub test_harness: bool,
    pub networks: BTreeMap<String, Decl<'p>>,
    pub volumes: BTreeMap<String, Decl<'p>>,
    pub secrets: BTreeMap<String, Decl<'p>>,
    pub configs: BTreeMap<String, Decl<'p>>,
    pub repo: &'p crate::source::RepoFiles,
    /// `(file, variable)` pairs already reported as unset.
    pub reported: HashSet<(String, String)>,
    /// Env files whose malformed lines were already reported.
    pub env_files_checked: HashSet<String>,
}

/// What the project-level pass needs besides the declaration.
pub(crate) struct ServiceInfo {
    pub decl: ServiceDecl,
    /// `(target service, alias, location)` from `links: ["db:database"]`.
    pub link_aliases: Vec<(String, String, Location)>,
    /// The service is a Traefik proxy reading docker labels.
    pub is_traefik: bool,
    /// The `traefik.*` label to cite for this service (a router rule when there is one).
    pub traefik_label: Option<(String, Location)>,
    pub traefik_enabled: Option<bool>,
}

impl<'p> Cx<'p> {
    pub(super) fn text(
        &mut self,
        part: &Part<'p>,
        node: &Node,
        out: &mut RepoFacts,
    ) -> Option<Text<'p>> {
        self.project.text(part.doc, node, &mut self.reported, out)
    }

    pub(super) fn reference(
        &self,
        from: &str,
        target: Target,
        mechanism: Mechanism,
        key: Option<String>,
        location: Location,
    ) -> Reference {
        Reference {
            from: Some(from.to_string()),
            target,
            mechanism,
            key,
            location,
            scope: self.scope.clone(),
        }
    }
}

/// The value of `key` in the highest-precedence part that sets it.
pub(super) fn last<'p>(svc: &ServiceParts<'p>, key: &str) -> Option<(Part<'p>, &'p Node)> {
    svc.parts
        .iter()
        .rev()
        .find_map(|p| p.map.get(key).map(|v| (*p, v)))
}

/// `(part, item)` for every item of a list-valued key, over all parts, lowest precedence first.
/// A scalar value counts as a one-item list.
pub(super) fn items<'p>(svc: &ServiceParts<'p>, key: &str) -> Vec<(Part<'p>, &'p Node)> {
    let mut result = Vec::new();
    for part in &svc.parts {
        match part.map.get(key) {
            Some(v) if v.as_seq().is_some() => {
                result.extend(v.as_seq().unwrap_or(&[]).iter().map(|i| (*part, i)))
            }
            Some(v) if v.as_str().is_some() && !v.is_null() => result.push((*part, v)),
            _ => {}
        }
    }
    result
}

/// A relative path of a compose file resolved against its directory (the project directory
/// for overlays).
pub(super) fn resolve(doc: &Doc<'_>, path: &str) -> Option<String> {
    join_repo_path(doc.dir(), path)
}

pub(super) fn push_unique<T: PartialEq>(list: &mut Vec<T>, item: T) {
    if !list.contains(&item) {
        list.push(item);
    }
}

pub(super) fn invalid(part: &Part<'_>, node: &Node, message: String) -> Diagnostic {
    Diagnostic::new(
        DiagnosticCode::InvalidValue,
        message,
        node.location(part.doc.file),
    )
}

pub(crate) fn extract_service<'p>(
    cx: &mut Cx<'p>,
    svc: &ServiceParts<'p>,
    out: &mut RepoFacts,
) -> ServiceInfo {
    let mut decl = ServiceDecl::new(
        svc.name.clone(),
        ServiceKind::Compose,
        cx.scope.clone(),
        svc.location.clone(),
    );
    decl.test_harness = cx.test_harness;
    decl.profiles = profiles(svc);
    let mut info = ServiceInfo {
        decl,
        link_aliases: Vec::new(),
        is_traefik: false,
        traefik_label: None,
        traefik_enabled: None,
    };
    let first_reference = out.references.len();
    if let Some((part, node)) = last(svc, "image") {
        info.decl.image = cx.text(&part, node, out).map(|t| t.value);
    }
    build_context(cx, svc, &mut info.decl, out);
    volumes::mounts(cx, svc, &mut info.decl, out);
    secret_files(cx, svc, &mut info.decl);
    ports(cx, svc, &mut info.decl, out);
    labels(cx, svc, &mut info, out);
    names(cx, svc, &mut info.decl, out);
    networks(cx, svc, &mut info.decl);
    service_refs(cx, svc, &mut info, out);
    environment(cx, svc, &mut info.decl, out);
    let command = command(cx, svc, out);
    info.is_traefik = info.decl.image.as_deref().is_some_and(is_traefik_image)
        || enables_docker_provider(&command);
    drop_self_references(svc, &info.decl, out, first_reference);
    info
}

/// The service's compose `profiles` (the highest-precedence part's list), sorted.
fn profiles(svc: &ServiceParts<'_>) -> Vec<String> {
    let Some((_, node)) = last(svc, "profiles") else {
        return Vec::new();
    };
    let mut names: Vec<String> = node
        .as_seq()
        .unwrap_or(&[])
        .iter()
        .filter_map(Node::as_str)
        .map(str::to_string)
        .collect();
    names.sort();
    names.dedup();
    names
}

fn build_context<'p>(
    cx: &mut Cx<'p>,
    svc: &ServiceParts<'p>,
    decl: &mut ServiceDecl,
    out: &mut RepoFacts,
) {
    let Some((part, build)) = last(svc, "build") else {
        return;
    };
    let context = if build.as_str().is_some() {
        cx.text(&part, build, out).map(|t| t.value)
    } else if build.as_map().is_some() {
        match build.get("context") {
            Some(node) => cx.text(&part, node, out).map(|t| t.value),
            None => Some(".".to_string()),
        }
    } else {
        None
    };
    let Some(context) = context else { return };
    // Remote contexts (git URLs, tarballs) are not part of the repository.
    if context.contains("://") || context.starts_with("git@") {
        return;
    }
    if let Some(path) = resolve(part.doc, &context) {
        push_unique(&mut decl.owned_paths, path);
    }
}

/// Files behind the service's `secrets:` and `configs:` (top-level `file:` sources).
fn secret_files<'p>(cx: &mut Cx<'p>, svc: &ServiceParts<'p>, decl: &mut ServiceDecl) {
    for kind in ["secrets", "configs"] {
        for (_, item) in items(svc, kind) {
            let name = item
                .as_str()
                .or_else(|| item.get("source").and_then(Node::as_str));
            let Some(name) = name else { continue };
            let decls = if kind == "secrets" {
                &cx.secrets
            } else {
                &cx.configs
            };
            let Some(d) = decls.get(name) else { continue };
            if let Some(file) = d.value.get("file").and_then(Node::as_str)
                && let Some(path) = resolve(d.doc, file)
            {
                push_unique(&mut decl.owned_paths, path);
            }
        }
    }
}

pub(super) fn push_endpoint(decl: &mut ServiceDecl, kind: EndpointKind, location: Location) {
    if !decl.endpoints.iter().any(|e| e.kind == kind) {
        decl.endpoints.push(Endpoint { kind, location });
    }
}

/// `container_name` and `hostname`.
fn names<'p>(cx: &mut Cx<'p>, svc: &ServiceParts<'p>, decl: &mut ServiceDecl, out: &mut RepoFacts) {
    for (key, kind) in [
        ("container_name", AliasKind::ContainerName),
        ("hostname", AliasKind::Hostname),
    ] {
        let Some((part, node)) = last(svc, key) else {
            continue;
        };
        let Some(text) = cx.text(&part, node, out) else {
            continue;
        };
        if text.value.is_empty() {
            continue;
        }
        if kind == AliasKind::ContainerName {
            out.resources.push(ResourceUse {
                service: Some(svc.name.clone()),
                kind: ResourceKind::ContainerName,
                identifier: text.value.clone(),
                read_only: false,
                external: false,
                settings: BTreeMap::new(),
                location: text.location(),
            });
        }
        decl.aliases.push(Alias {
            name: text.value.clone(),
            kind,
            location: text.location(),
        });
    }
}

/// The real name of a top-level network or volume: `name:`, legacy `external: {name:}`.
pub(crate) fn declared_name(decl: &Decl<'_>) -> (Option<String>, bool) {
    let external = decl.value.get("external");
    let is_external = external.is_some_and(|e| e.as_bool() == Some(true) || e.as_map().is_some());
    let name = decl
        .value
        .get("name")
        .and_then(Node::as_str)
        .or_else(|| external.and_then(|e| e.get("name")).and_then(Node::as_str))
        .map(str::to_string);
    (name, is_external)
}

fn networks<'p>(cx: &mut Cx<'p>, svc: &ServiceParts<'p>, decl: &mut ServiceDecl) {
    let mut attachments: Vec<NetworkAttachment> = Vec::new();
    let mut any = false;
    for part in &svc.parts {
        let Some(node) = part.map.get("networks") else {
            continue;
        };
        any = true;
        let file = part.doc.file;
        let mut entries: Vec<(&str, &Node, Option<&Node>)> = Vec::new();
        if let Some(list) = node.as_seq() {
            entries.extend(list.iter().filter_map(|i| Some((i.as_str()?, i, None))));
        } else {
            entries.extend(
                node.entries()
                    .map(|(name, key, value)| (name, key, Some(value))),
            );
        }
        for (name, at, config) in entries {
            let (start, end) = at.content_span(file);
            let mut attachment = NetworkAttachment {
                name: name.to_string(),
                external_name: None,
                aliases: Vec::new(),
                location: file.location(start, end),
            };
            if let Some(config) = config {
                for alias in config.get("aliases").and_then(Node::as_seq).unwrap_or(&[]) {
                    let Some(a) = alias.as_str() else { continue };
                    push_unique(&mut attachment.aliases, a.to_string());
                    let (s, e) = alias.content_span(file);
                    decl.aliases.push(Alias {
                        name: a.to_string(),
                        kind: AliasKind::NetworkAlias,
                        location: file.location(s, e),
                    });
                }
                for key in ["ipv4_address", "ipv6_address"] {
                    if let Some(ip) = config.get(key).and_then(|n| Some((n.as_str()?, n))) {
                        let (s, e) = ip.1.content_span(file);
                        decl.aliases.push(Alias {
                            name: ip.0.to_string(),
                            kind: AliasKind::IpAddress,
                            location: file.location(s, e),
                        });
                    }
                }
            }
            match attachments.iter_mut().find(|a| a.name == attachment.name) {
                Some(existing) => *existing = attachment,
                None => attachments.push(attachment),
            }
        }
    }
    let has_mode = last(svc, "network_mode").is_some();
    if !any && !has_mode {
        attachments.push(NetworkAttachment {
            name: "default".into(),
            external_name: None,
            aliases: Vec::new(),
            location: svc.location.clone(),
        });
    }
    for attachment in &mut attachments {
        if let Some(d) = cx.networks.get(&attachment.name) {
            let (name, external) = declared_name(d);
            attachment.external_name = match name {
                Some(n) => Some(n),
                None if external => Some(attachment.name.clone()),
                None => None,
            };
        }
    }
    decl.networks = attachments;
}

/// `depends_on`, `links`, `volumes_from`, `network_mode: service:x` → service-name references.
fn service_refs<'p>(
    cx: &mut Cx<'p>,
    svc: &ServiceParts<'p>,
    info: &mut ServiceInfo,
    out: &mut RepoFacts,
) {
    let mut seen: HashSet<(Mechanism, String)> = HashSet::new();
    let mut targets: Vec<(Mechanism, String, Location)> = Vec::new();
    for part in &svc.parts {
        let file = part.doc.file;
        let Some(node) = part.map.get("depends_on") else {
            continue;
        };
        let names: Vec<&Node> = match node.as_seq() {
            Some(list) => list.iter().collect(),
            None => node
                .as_map()
                .unwrap_or(&[])
                .iter()
                .map(|(k, _)| k)
                .collect(),
        };
        for n in names {
            let Some(name) = n.as_str() else { continue };
            // Waiting for a one-shot job to finish is no connection to it.
            if super::one_shot::waits_for_completion(node, name) {
                continue;
            }
            let (s, e) = n.content_span(file);
            targets.push((Mechanism::DependsOn, name.to_string(), file.location(s, e)));
        }
    }
    for (part, item) in items(svc, "links") {
        let Some(text) = cx.text(&part, item, out) else {
            continue;
        };
        let (name, alias) = match text.value.split_once(':') {
            Some((n, a)) => (n.trim().to_string(), Some(a.trim().to_string())),
            None => (text.value.trim().to_string(), None),
        };
        let location = text.sub_location(0, name.len());
        if let Some(alias) = alias.filter(|a| !a.is_empty() && *a != name) {
            info.link_aliases
                .push((name.clone(), alias, text.location()));
        }
        targets.push((Mechanism::Link, name, location));
    }
    // `network_mode: service:vpn` runs inside vpn's network namespace and starts after it.
    if let Some((part, node)) = last(svc, "network_mode")
        && let Some(text) = cx.text(&part, node, out)
        && let Some(name) = text.value.strip_prefix("service:")
    {
        let location = text.sub_location(8, text.value.len());
        targets.push((Mechanism::DependsOn, name.trim().to_string(), location));
    }
    for (part, item) in items(svc, "volumes_from") {
        let Some(text) = cx.text(&part, item, out) else {
            continue;
        };
        if text.value.starts_with("container:") {
            continue;
        }
        let name = text.value.strip_prefix("service:").unwrap_or(&text.value);
        let name = name.split(':').next().unwrap_or("").trim().to_string();
        targets.push((
            Mechanism::VolumesFrom,
            name.clone(),
            text.sub_location(0, name.len()),
        ));
    }
    for (mechanism, name, location) in targets {
        if name.is_empty() || !seen.insert((mechanism, name.clone())) {
            continue;
        }
        out.references.push(cx.reference(
            &svc.name,
            Target::ServiceName { name },
            mechanism,
            None,
            location,
        ));
    }
}

/// Drops address references of this service that name the service itself (its name,
/// container_name or hostname), listen-on-all addresses (`0.0.0.0`), and `localhost` in its
/// own command line: a container reaching itself is not a dependency.
fn drop_self_references(
    svc: &ServiceParts<'_>,
    decl: &ServiceDecl,
    out: &mut RepoFacts,
    first: usize,
) {
    let host_network = last(svc, "network_mode").and_then(|(_, n)| n.as_str()) == Some("host");
    let own = |host: &str| {
        host.eq_ignore_ascii_case(&decl.name)
            || decl.aliases.iter().any(|a| {
                matches!(a.kind, AliasKind::ContainerName | AliasKind::Hostname)
                    && a.name.eq_ignore_ascii_case(host)
            })
    };
    let mut index = 0;
    out.references.retain(|r| {
        index += 1;
        if index <= first {
            return true;
        }
        let Target::Address { text } = &r.target else {
            return true;
        };
        let host = super::args::host_of(text);
        let loopback = matches!(host, "localhost" | "127.0.0.1" | "::1" | "[::1]");
        let wildcard = matches!(host, "0.0.0.0" | "::" | "[::]");
        !(own(host) || wildcard || (r.mechanism == Mechanism::Command && loopback && !host_network))
    });
}
