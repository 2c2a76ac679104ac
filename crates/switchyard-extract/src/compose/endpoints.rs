//! A service's endpoints from `ports:`, `expose:` and Traefik labels (`labels:` and swarm
//! `deploy.labels:`): published host ports, container ports and routed domains.

use super::ports::{PortRange, parse_expose, parse_range, parse_short};
use super::project::{Part, ServiceParts};
use super::service::{Cx, ServiceInfo, invalid, items, push_endpoint};
use crate::traefik::{TraefikLabel, classify_label};
use crate::yaml::Node;
use switchyard_model::{
    Diagnostic, DiagnosticCode, EndpointKind, Location, Protocol, ProxyRoute, RepoFacts,
    RouteProvider, ServiceDecl,
};

/// Most container ports one range expands to.
const MAX_RANGE_PORTS: u32 = 256;

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

pub(super) fn ports<'p>(
    cx: &mut Cx<'p>,
    svc: &ServiceParts<'p>,
    decl: &mut ServiceDecl,
    out: &mut RepoFacts,
) {
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
    let target_range = match parse_range(target.value.trim(), 0) {
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
        match parse_range(published.value.trim(), 0) {
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
                        value_location: text.tail_location(at),
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

pub(super) fn labels<'p>(
    cx: &mut Cx<'p>,
    svc: &ServiceParts<'p>,
    info: &mut ServiceInfo,
    out: &mut RepoFacts,
) {
    let decl = &mut info.decl;
    let mut routes: Vec<ProxyRoute> = Vec::new();
    let mut entrypoints: Vec<(String, Vec<String>)> = Vec::new();
    let mut targets: Vec<(String, String)> = Vec::new();
    for label in collect_labels(cx, svc, out) {
        let Some(kind) = classify_label(&label.key, &label.value) else {
            continue;
        };
        match kind {
            TraefikLabel::Rule { domains, router } => {
                if !domains.is_empty() {
                    routes.push(ProxyRoute {
                        service: Some(decl.name.clone()),
                        provider: RouteProvider::Labels,
                        router,
                        domains: domains.clone(),
                        entrypoints: Vec::new(),
                        target: None,
                        backend: None,
                        location: label.value_location.clone(),
                    });
                }
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
            TraefikLabel::EntryPoints { router, names } => entrypoints.push((router, names)),
            TraefikLabel::Service { router, service } => targets.push((router, service)),
            TraefikLabel::Other => {}
        }
        if info.traefik_label.is_none() {
            info.traefik_label = Some((label.key.clone(), label.location.clone()));
        }
    }
    // A Traefik of another compose project (or repository) on the host routes here too, when
    // this runs a container at all: a definition without `image` or `build` in a file other
    // compose files `extends` from is only a base for them.
    let runs = ["image", "build"]
        .iter()
        .any(|k| super::service::last(svc, k).is_some())
        || !svc
            .parts
            .iter()
            .all(|part| is_extends_source(cx.repo, part.doc.file));
    if let Some((_, location)) = &info.traefik_label
        && info.traefik_enabled != Some(false)
        && runs
    {
        push_endpoint(
            &mut info.decl,
            EndpointKind::ProxyLabels {
                provider: "traefik".to_string(),
            },
            location.clone(),
        );
        for mut route in routes {
            if let Some((_, names)) = entrypoints.iter().find(|(r, _)| *r == route.router) {
                route.entrypoints = names.clone();
            }
            if let Some((_, service)) = targets.iter().find(|(r, _)| *r == route.router) {
                route.target = Some(service.clone());
            }
            out.proxy_routes.push(route);
        }
    }
}

/// Whether another compose file of the repository names `file` in an `extends:` (a textual
/// test, enough to tell a file of extends bases from a deployable one).
fn is_extends_source(repo: &crate::source::RepoFiles, file: &crate::source::SourceFile) -> bool {
    let name = file.file_name();
    repo.files().iter().any(|f| {
        f.path != file.path
            && super::is_compose_file_name(f.file_name())
            && f.text.contains("extends")
            && f.text.contains(name)
    })
}
