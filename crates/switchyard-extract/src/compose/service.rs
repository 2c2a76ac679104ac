//! One compose service (its merged parts) → a `ServiceDecl`, references, env values and
//! resources. Multi-value keys merge across parts the way compose does (later parts win by key).

use super::ports::{PortRange, parse_expose, parse_short};
use super::project::{Decl, Part, Project, ServiceParts, Text};
use super::volumes;
use crate::dotenv::parse_dotenv;
use crate::emit;
use crate::source::{SourceFile, join_repo_path};
use crate::traefik::{TraefikLabel, classify_label, enables_docker_provider, is_traefik_image};
use crate::yaml::Node;
use std::collections::{BTreeMap, HashSet};
use switchyard_model::{
    Alias, AliasKind, Diagnostic, DiagnosticCode, Endpoint, EndpointKind, Location, Mechanism,
    NetworkAttachment, Protocol, Reference, RepoFacts, ResourceKind, ResourceUse, Scope,
    ServiceDecl, ServiceKind, Target,
};

/// Most container ports one range expands to.
const MAX_RANGE_PORTS: u32 = 256;

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
    fn text(&mut self, part: &Part<'p>, node: &Node, out: &mut RepoFacts) -> Option<Text<'p>> {
        self.project.text(part.doc, node, &mut self.reported, out)
    }

    fn reference(
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
fn last<'p>(svc: &ServiceParts<'p>, key: &str) -> Option<(Part<'p>, &'p Node)> {
    svc.parts
        .iter()
        .rev()
        .find_map(|p| p.map.get(key).map(|v| (*p, v)))
}

/// `(part, item)` for every item of a list-valued key, over all parts, lowest precedence first.
/// A scalar value counts as a one-item list.
fn items<'p>(svc: &ServiceParts<'p>, key: &str) -> Vec<(Part<'p>, &'p Node)> {
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

/// A relative path of a compose file resolved against the file's directory.
fn resolve(file: &SourceFile, path: &str) -> Option<String> {
    join_repo_path(file.dir(), path)
}

fn push_unique<T: PartialEq>(list: &mut Vec<T>, item: T) {
    if !list.contains(&item) {
        list.push(item);
    }
}

fn invalid(part: &Part<'_>, node: &Node, message: String) -> Diagnostic {
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
    let mut info = ServiceInfo {
        decl: ServiceDecl::new(
            "",
            ServiceKind::Compose,
            cx.scope.clone(),
            svc.location.clone(),
        ),
        link_aliases: Vec::new(),
        is_traefik: false,
        traefik_label: None,
        traefik_enabled: None,
    };
    if let Some((part, node)) = last(svc, "image") {
        decl.image = cx.text(&part, node, out).map(|t| t.value);
    }
    build_context(cx, svc, &mut decl, out);
    volumes::mounts(cx, svc, &mut decl, out);
    secret_files(cx, svc, &mut decl);
    ports(cx, svc, &mut decl, out);
    labels(cx, svc, &mut decl, &mut info, out);
    names(cx, svc, &mut decl, out);
    networks(cx, svc, &mut decl);
    service_refs(cx, svc, &mut info, out);
    environment(cx, svc, &mut decl, out);
    let command = command(cx, svc, out);
    info.is_traefik =
        decl.image.as_deref().is_some_and(is_traefik_image) || enables_docker_provider(&command);
    info.decl = decl;
    info
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
    if let Some(path) = resolve(part.doc.file, &context) {
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
                && let Some(path) = resolve(d.doc.file, file)
            {
                push_unique(&mut decl.owned_paths, path);
            }
        }
    }
}

fn push_endpoint(decl: &mut ServiceDecl, kind: EndpointKind, location: Location) {
    if !decl.endpoints.iter().any(|e| e.kind == kind) {
        decl.endpoints.push(Endpoint { kind, location });
    }
}

fn container_ports(
    decl: &mut ServiceDecl,
    range: &PortRange,
    protocol: Protocol,
    location: Location,
) {
    let last = u32::from(range.end).min(u32::from(range.start) + MAX_RANGE_PORTS - 1);
    for port in u32::from(range.start)..=last {
        let Ok(port) = u16::try_from(port) else { break };
        push_endpoint(
            decl,
            EndpointKind::ContainerPort { port, protocol },
            location.clone(),
        );
    }
}

fn ports<'p>(cx: &mut Cx<'p>, svc: &ServiceParts<'p>, decl: &mut ServiceDecl, out: &mut RepoFacts) {
    for (part, item) in items(svc, "ports") {
        if item.as_map().is_some() {
            long_port(cx, &part, item, decl, out);
            continue;
        }
        let Some(text) = cx.text(&part, item, out) else {
            continue;
        };
        match parse_short(text.value.trim()) {
            Ok(spec) => {
                // Offsets are relative to the trimmed value.
                let lead = text.value.len() - text.value.trim_start().len();
                let target_loc =
                    text.sub_location(spec.target.span.start + lead, spec.target.span.end + lead);
                if let Some(published) = &spec.published {
                    push_endpoint(
                        decl,
                        EndpointKind::HostPort {
                            host_ip: spec.host_ip.clone(),
                            start: published.start,
                            end: published.end,
                            container_port: Some(spec.target.start),
                            protocol: spec.protocol,
                        },
                        text.sub_location(published.span.start + lead, published.span.end + lead),
                    );
                }
                container_ports(decl, &spec.target, spec.protocol, target_loc);
            }
            Err(e) => out.diagnostics.push(Diagnostic::new(
                DiagnosticCode::InvalidValue,
                format!("invalid port `{}`: {e}", text.value),
                text.location(),
            )),
        }
    }
    for (part, item) in items(svc, "expose") {
        let Some(text) = cx.text(&part, item, out) else {
            continue;
        };
        match parse_expose(text.value.trim()) {
            Ok((range, protocol)) => container_ports(decl, &range, protocol, text.location()),
            Err(e) => out.diagnostics.push(Diagnostic::new(
                DiagnosticCode::InvalidValue,
                format!("invalid expose `{}`: {e}", text.value),
                text.location(),
            )),
        }
    }
}

/// `ports:` long syntax: `target`, `published` (int, string or range), `host_ip`, `protocol`.
fn long_port<'p>(
    cx: &mut Cx<'p>,
    part: &Part<'p>,
    item: &Node,
    decl: &mut ServiceDecl,
    out: &mut RepoFacts,
) {
    let field = |cx: &mut Cx<'p>, key: &str, out: &mut RepoFacts| {
        item.get(key).and_then(|n| cx.text(part, n, out))
    };
    let Some(target) = field(cx, "target", out) else {
        out.diagnostics
            .push(invalid(part, item, "port without `target`".into()));
        return;
    };
    let protocol = match field(cx, "protocol", out) {
        None => Protocol::Tcp,
        Some(p) => match Protocol::parse(&p.value) {
            Some(p) => p,
            None => {
                out.diagnostics.push(Diagnostic::new(
                    DiagnosticCode::InvalidValue,
                    format!("unknown protocol `{}`", p.value),
                    p.location(),
                ));
                return;
            }
        },
    };
    let target_range = match super::ports::parse_range(target.value.trim(), 0) {
        Ok(r) => r,
        Err(e) => {
            out.diagnostics.push(Diagnostic::new(
                DiagnosticCode::InvalidValue,
                format!("invalid port target: {e}"),
                target.location(),
            ));
            return;
        }
    };
    let host_ip = field(cx, "host_ip", out)
        .map(|t| t.value)
        .filter(|ip| !ip.is_empty());
    if let Some(published) = field(cx, "published", out)
        && !published.value.trim().is_empty()
        && published.value.trim() != "0"
    {
        match super::ports::parse_range(published.value.trim(), 0) {
            Ok(range) => push_endpoint(
                decl,
                EndpointKind::HostPort {
                    host_ip,
                    start: range.start,
                    end: range.end,
                    container_port: Some(target_range.start),
                    protocol,
                },
                published.location(),
            ),
            Err(e) => out.diagnostics.push(Diagnostic::new(
                DiagnosticCode::InvalidValue,
                format!("invalid published port: {e}"),
                published.location(),
            )),
        }
    }
    container_ports(decl, &target_range, protocol, target.location());
}

/// One label: key, value, the label's own location and its value's.
struct Label {
    key: String,
    value: String,
    location: Location,
    value_location: Location,
}

/// Labels of `labels:` and swarm `deploy.labels:`, list or map form, later parts winning.
fn collect_labels<'p>(cx: &mut Cx<'p>, svc: &ServiceParts<'p>, out: &mut RepoFacts) -> Vec<Label> {
    let mut labels: Vec<Label> = Vec::new();
    let mut put = |label: Label| match labels.iter_mut().find(|l| l.key == label.key) {
        Some(existing) => *existing = label,
        None => labels.push(label),
    };
    for part in svc.parts.clone() {
        let sources = [
            part.map.get("labels"),
            part.map.get("deploy").and_then(|d| d.get("labels")),
        ];
        for node in sources.into_iter().flatten() {
            if let Some(list) = node.as_seq() {
                for item in list {
                    let Some(text) = cx.text(&part, item, out) else {
                        continue;
                    };
                    let (key, value, at) = match text.value.split_once('=') {
                        Some((k, v)) => (k.trim().to_string(), v.to_string(), k.len() + 1),
                        None => (
                            text.value.trim().to_string(),
                            String::new(),
                            text.value.len(),
                        ),
                    };
                    put(Label {
                        key,
                        location: text.location(),
                        value_location: text.sub_location(at, text.value.len()),
                        value,
                    });
                }
            } else {
                for (key, key_node, value_node) in node.entries() {
                    let Some(text) = cx.text(&part, value_node, out) else {
                        continue;
                    };
                    let (start, _) = key_node.content_span(part.doc.file);
                    put(Label {
                        key: key.to_string(),
                        location: part.doc.file.location(start, value_node.end.max(start)),
                        value_location: text.location(),
                        value: text.value,
                    });
                }
            }
        }
    }
    labels
}

fn labels<'p>(
    cx: &mut Cx<'p>,
    svc: &ServiceParts<'p>,
    decl: &mut ServiceDecl,
    info: &mut ServiceInfo,
    out: &mut RepoFacts,
) {
    for label in collect_labels(cx, svc, out) {
        let Some(kind) = classify_label(&label.key, &label.value) else {
            continue;
        };
        match kind {
            TraefikLabel::Rule { domains, .. } => {
                for (host, path) in domains {
                    push_endpoint(
                        decl,
                        EndpointKind::Domain { host, path },
                        label.value_location.clone(),
                    );
                }
                if !info
                    .traefik_label
                    .as_ref()
                    .is_some_and(|(k, _)| k.ends_with(".rule"))
                {
                    info.traefik_label = Some((label.key.clone(), label.location.clone()));
                }
            }
            TraefikLabel::ServicePort { port } => push_endpoint(
                decl,
                EndpointKind::ContainerPort {
                    port,
                    protocol: Protocol::Tcp,
                },
                label.value_location.clone(),
            ),
            TraefikLabel::Enable(enabled) => info.traefik_enabled = Some(enabled),
            TraefikLabel::Other => {}
        }
        if info.traefik_label.is_none() {
            info.traefik_label = Some((label.key.clone(), label.location.clone()));
        }
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

/// `depends_on`, `links`, `volumes_from` → service-name references.
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

/// `env_file:` then `environment:` (which wins per key), recorded under the service.
fn environment<'p>(
    cx: &mut Cx<'p>,
    svc: &ServiceParts<'p>,
    decl: &mut ServiceDecl,
    out: &mut RepoFacts,
) {
    let mut values: Vec<(String, String, Location)> = Vec::new();
    let mut put = |key: String, value: String, location: Location| match values
        .iter_mut()
        .find(|(k, _, _)| *k == key)
    {
        Some(slot) => *slot = (key, value, location),
        None => values.push((key, value, location)),
    };
    for (part, item) in items(svc, "env_file") {
        let (path_node, required) = match item.get("path") {
            Some(p) => (
                p,
                item.get("required").and_then(Node::as_bool).unwrap_or(true),
            ),
            None => (item, true),
        };
        let Some(text) = cx.text(&part, path_node, out) else {
            continue;
        };
        let Some(path) = resolve(part.doc.file, &text.value) else {
            continue;
        };
        push_unique(&mut decl.owned_paths, path.clone());
        let Some(env_file) = cx.repo.get(&path) else {
            if required {
                out.diagnostics.push(Diagnostic::new(
                    DiagnosticCode::MissingFile,
                    format!("env_file {} not found in the repository", text.value),
                    text.location(),
                ));
            }
            continue;
        };
        let (entries, problems) = parse_dotenv(&env_file.text);
        if cx.env_files_checked.insert(path) {
            for (offset, message) in problems {
                out.diagnostics.push(Diagnostic::new(
                    DiagnosticCode::InvalidValue,
                    message,
                    env_file.location(offset, offset),
                ));
            }
        }
        for entry in entries {
            put(
                entry.key,
                entry.value,
                env_file.location(entry.value_start, entry.value_end),
            );
        }
    }
    for part in svc.parts.clone() {
        let Some(node) = part.map.get("environment") else {
            continue;
        };
        if let Some(list) = node.as_seq() {
            for item in list {
                let Some(text) = cx.text(&part, item, out) else {
                    continue;
                };
                match text.value.split_once('=') {
                    Some((key, value)) => {
                        let at = key.len() + 1;
                        put(
                            key.trim().to_string(),
                            value.to_string(),
                            text.sub_location(at, text.value.len()),
                        );
                    }
                    None => {
                        let key = text.value.trim();
                        if let Some(value) = cx.project.var(part.doc, key) {
                            put(key.to_string(), value.to_string(), text.location());
                        }
                    }
                }
            }
        } else if node.as_map().is_some() {
            for (key, _, value_node) in node.entries() {
                if value_node.is_null() {
                    if let Some(value) = cx.project.var(part.doc, key) {
                        put(
                            key.to_string(),
                            value.to_string(),
                            value_node.location(part.doc.file),
                        );
                    }
                    continue;
                }
                let Some(text) = cx.text(&part, value_node, out) else {
                    out.diagnostics.push(invalid(
                        &part,
                        value_node,
                        format!("environment {key}: value must be a scalar"),
                    ));
                    continue;
                };
                put(key.to_string(), text.value.clone(), text.location());
            }
        } else if !node.is_null() {
            out.diagnostics.push(invalid(
                &part,
                node,
                "environment must be a list or a mapping".into(),
            ));
        }
    }
    for (key, value, location) in values {
        emit::record_env(
            out,
            Some(&svc.name),
            &cx.scope,
            &key,
            &value,
            location,
            Mechanism::Env,
        );
    }
}

/// `command` and `entrypoint`: address-looking arguments become references. Returns the
/// arguments joined, for provider detection.
fn command<'p>(cx: &mut Cx<'p>, svc: &ServiceParts<'p>, out: &mut RepoFacts) -> String {
    let mut all = String::new();
    for key in ["entrypoint", "command"] {
        let Some((part, node)) = last(svc, key) else {
            continue;
        };
        let nodes: Vec<&Node> = match node.as_seq() {
            Some(list) => list.iter().collect(),
            None => vec![node],
        };
        for n in nodes {
            let Some(text) = cx.text(&part, n, out) else {
                continue;
            };
            all.push_str(&text.value);
            all.push(' ');
            for (start, token) in super::args::tokens(&text.value) {
                for (offset, address) in super::args::addresses(&token) {
                    // Quoted tokens shift offsets; fall back to the whole value then.
                    let location = if text
                        .value
                        .get(start + offset..start + offset + address.len())
                        == Some(address.as_str())
                    {
                        text.sub_location(start + offset, start + offset + address.len())
                    } else {
                        text.location()
                    };
                    emit::record_address(
                        out,
                        Some(&svc.name),
                        &cx.scope,
                        "command",
                        &address,
                        location,
                        Mechanism::Command,
                    );
                }
            }
        }
    }
    all
}
