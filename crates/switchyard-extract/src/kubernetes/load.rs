//! Reads one manifest file into [`Objects`]: decides whether it is a manifest at all, a template
//! or broken, then reads workloads, Services, Ingress/IngressRoute routes and ConfigMaps.

use super::model::{ConfigMap, DataEntry, EnvSource, KService, Objects, Route, Workload};
use super::template;
use crate::extractor::Extractor;
use crate::source::{RepoFiles, SourceFile};
use crate::yaml::{self, Node, YamlError};
use regex::Regex;
use std::collections::BTreeMap;
use std::sync::OnceLock;
use switchyard_model::{
    Diagnostic, DiagnosticCode, EndpointKind, Location, Protocol, Reference, RepoFacts,
};

/// What one file turned out to be.
#[derive(Debug, Clone)]
pub(super) enum Loaded {
    /// No document with `apiVersion` and `kind`: another extractor may read it.
    NotMine,
    /// A manifest we refuse to read (unrendered template, syntax error): one diagnostic.
    Skipped(Diagnostic),
    Manifest(Objects),
}

const WORKLOAD_KINDS: [&str; 8] = [
    "Deployment",
    "StatefulSet",
    "DaemonSet",
    "ReplicaSet",
    "ReplicationController",
    "Job",
    "Pod",
    "Rollout",
];

/// Kinds whose content this extractor reads (the rest of a manifest is accepted and ignored).
pub(super) fn is_read_kind(kind: &str) -> bool {
    WORKLOAD_KINDS.contains(&kind)
        || matches!(
            kind,
            "CronJob" | "Service" | "Ingress" | "IngressRoute" | "ConfigMap"
        )
}

/// Loads a file. `default_namespace` applies to objects without `metadata.namespace`.
/// `charts` caches the Helm charts whose templates were met.
pub(super) fn load(
    file: &SourceFile,
    repo: &RepoFiles,
    default_namespace: &str,
    charts: &mut crate::helm::Charts,
) -> Loaded {
    let marker = template::first_marker(&file.text);
    if marker.is_some() && template::in_chart_templates(&file.path, repo) {
        return chart_template(file, repo, default_namespace, charts);
    }
    load_text(file, marker, default_namespace)
}

/// A template of a Helm chart: rendered with the chart's values, read, and every location
/// moved back to the template line that produced it.
fn chart_template(
    file: &SourceFile,
    repo: &RepoFiles,
    default_namespace: &str,
    charts: &mut crate::helm::Charts,
) -> Loaded {
    let rendered = match crate::helm::render(file, repo, charts) {
        None => return Loaded::Manifest(Objects::default()),
        Some(Err(diagnostic)) => return Loaded::Skipped(diagnostic),
        Some(Ok(r)) => r,
    };
    let text = SourceFile::new(file.repository.clone(), file.path.clone(), rendered.text);
    let marker = template::first_marker(&text.text);
    let mut objects = match load_text(&text, marker, default_namespace) {
        Loaded::NotMine => Objects::default(),
        Loaded::Skipped(d) => Objects {
            diagnostics: vec![d],
            ..Objects::default()
        },
        Loaded::Manifest(objects) => objects,
    };
    objects.for_each_location(&mut |loc| crate::helm::remap(loc, &text, file, &rendered.lines));
    objects.diagnostics.splice(0..0, rendered.diagnostics);
    Loaded::Manifest(objects)
}

/// Reads a file's text as manifests (`marker`: its first `{{`, if any).
fn load_text(file: &SourceFile, marker: Option<usize>, default_namespace: &str) -> Loaded {
    // A broken document loses only itself: the others are read and it gets a diagnostic.
    let stream = yaml::parse_stream(&file.text);
    let docs: Vec<&Node> = stream.nodes().collect();
    if let Some(e) = stream.errors().next() {
        let templated = matches!((marker, e), (Some(_), YamlError::Syntax { .. }));
        if (docs.is_empty() || templated) && template::looks_like_manifest(&file.text) {
            return Loaded::Skipped(match (marker, e) {
                (Some(m), YamlError::Syntax { .. }) => template::diagnostic(file, m),
                _ => e.diagnostic(file),
            });
        }
        if docs.is_empty() {
            return Loaded::NotMine;
        }
    }
    let mut manifests = Vec::new();
    for doc in docs {
        flatten(doc, &mut manifests);
    }
    if manifests.is_empty() {
        return Loaded::NotMine;
    }
    if let Some(m) = marker
        && manifests.iter().any(|d| template::is_templated(d))
    {
        return Loaded::Skipped(template::diagnostic(file, m));
    }
    let mut objects = Objects {
        diagnostics: stream.diagnostics(file),
        ..Objects::default()
    };
    let mut reader = Reader {
        file,
        default_namespace,
        out: &mut objects,
    };
    for doc in manifests {
        reader.document(doc);
    }
    Loaded::Manifest(objects)
}

/// Collects manifest documents, opening `kind: List` (and `*List`) `items`.
fn flatten<'a>(doc: &'a Node, out: &mut Vec<&'a Node>) {
    let (Some(_), Some(kind)) = (
        doc.get("apiVersion").and_then(Node::as_str),
        doc.get("kind").and_then(Node::as_str),
    ) else {
        return;
    };
    out.push(doc);
    if kind.ends_with("List") {
        for item in doc.get("items").and_then(Node::as_seq).unwrap_or(&[]) {
            flatten(item, out);
        }
    }
}

fn text(node: Option<&Node>) -> Option<&str> {
    node.and_then(Node::as_str)
        .map(str::trim)
        .filter(|s| !s.is_empty())
}

fn labels(node: Option<&Node>) -> BTreeMap<String, String> {
    node.map(|n| {
        n.entries()
            .filter_map(|(k, _, v)| Some((k.to_string(), v.as_str()?.to_string())))
            .collect()
    })
    .unwrap_or_default()
}

fn seq(node: Option<&Node>) -> &[Node] {
    node.and_then(Node::as_seq).unwrap_or(&[])
}

fn protocol(node: &Node) -> Protocol {
    text(node.get("protocol"))
        .and_then(Protocol::parse)
        .unwrap_or_default()
}

/// The location of `part` (a sub-slice found at `offset` of the scalar's text) when the scalar
/// is written verbatim in the source, else of the whole node.
fn part_location(file: &SourceFile, node: &Node, offset: usize, part: &str) -> Location {
    let (start, end) = node.content_span(file);
    let verbatim = file.text.get(start..end) == node.as_str();
    if verbatim {
        let s = start + offset;
        if file.text.get(s..s + part.len()) == Some(part) {
            return file.location(s, s + part.len());
        }
    }
    node.location(file)
}

fn url_regex() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        Regex::new(r#"[A-Za-z][A-Za-z0-9+.\-]*://[^\s"'<>;,)\]}`]+"#).expect("static regex")
    })
}

struct Reader<'a> {
    file: &'a SourceFile,
    default_namespace: &'a str,
    out: &'a mut Objects,
}

impl Reader<'_> {
    fn document(&mut self, doc: &Node) {
        let kind = text(doc.get("kind")).unwrap_or("");
        let api = text(doc.get("apiVersion")).unwrap_or("");
        let metadata = doc.get("metadata");
        let Some(name_node) = metadata.and_then(|m| m.get("name")) else {
            return;
        };
        let Some(name) = text(Some(name_node)) else {
            return;
        };
        let namespace = text(metadata.and_then(|m| m.get("namespace")))
            .unwrap_or(self.default_namespace)
            .to_string();
        let spec = doc.get("spec");
        let template = match kind {
            "CronJob" => spec
                .and_then(|s| s.get("jobTemplate"))
                .and_then(|j| j.get("spec"))
                .and_then(|s| s.get("template")),
            "Pod" => Some(doc),
            k if WORKLOAD_KINDS.contains(&k) => spec.and_then(|s| s.get("template")),
            _ => None,
        };
        if let Some(template) = template {
            let pod_spec = template.get("spec");
            let labels = labels(template.get("metadata").and_then(|m| m.get("labels")));
            self.workload(name, name_node, namespace, labels, pod_spec);
            return;
        }
        match kind {
            "Service" => self.service(name, name_node, namespace, spec),
            "Ingress" => self.ingress(&namespace, spec),
            "IngressRoute" if api.starts_with("traefik.") => self.ingress_route(&namespace, spec),
            "ConfigMap" => self.config_map(name, namespace, doc.get("data")),
            _ => {}
        }
    }

    fn port(&mut self, node: Option<&Node>, field: &str) -> Option<u16> {
        let node = node?;
        match node.as_u64().and_then(|p| u16::try_from(p).ok()) {
            Some(p) if p > 0 => Some(p),
            _ => {
                self.out.diagnostics.push(Diagnostic::new(
                    DiagnosticCode::InvalidValue,
                    format!(
                        "{field} `{}` is not a port number",
                        node.as_str().unwrap_or("…")
                    ),
                    node.location(self.file),
                ));
                None
            }
        }
    }

    fn workload(
        &mut self,
        name: &str,
        name_node: &Node,
        namespace: String,
        labels: BTreeMap<String, String>,
        pod_spec: Option<&Node>,
    ) {
        let mut w = Workload {
            path: self.file.path.clone(),
            name: name.to_string(),
            namespace,
            name_location: name_node.location(self.file),
            labels,
            image: None,
            ports: Vec::new(),
            env: Vec::new(),
            commands: Vec::new(),
            mounted_config_maps: Vec::new(),
        };
        let containers = seq(pod_spec.and_then(|s| s.get("containers")));
        let init = seq(pod_spec.and_then(|s| s.get("initContainers")));
        w.image = containers
            .iter()
            .find_map(|c| text(c.get("image")))
            .map(str::to_string);
        for container in containers {
            for port in seq(container.get("ports")) {
                self.container_port(port, &mut w);
            }
        }
        // Init containers run migrations and wait-for loops: what they call matters too.
        for container in containers.iter().chain(init) {
            self.container_env(container, &mut w);
            for field in ["command", "args"] {
                for arg in seq(container.get(field)) {
                    self.command_tokens(arg, &mut w.commands);
                }
            }
        }
        for volume in seq(pod_spec.and_then(|s| s.get("volumes"))) {
            if let Some(cm) = text(volume.get("configMap").and_then(|c| c.get("name"))) {
                w.mounted_config_maps.push(cm.to_string());
            }
            let projected = volume.get("projected").and_then(|p| p.get("sources"));
            for source in seq(projected) {
                if let Some(cm) = text(source.get("configMap").and_then(|c| c.get("name"))) {
                    w.mounted_config_maps.push(cm.to_string());
                }
            }
        }
        self.out.workloads.push(w);
    }

    fn container_port(&mut self, port: &Node, w: &mut Workload) {
        let Some(cp_node) = port.get("containerPort") else {
            return;
        };
        let Some(cp) = self.port(Some(cp_node), "containerPort") else {
            return;
        };
        let protocol = protocol(port);
        w.ports.push((
            EndpointKind::ContainerPort { port: cp, protocol },
            cp_node.location(self.file),
        ));
        if let Some(hp_node) = port.get("hostPort")
            && let Some(hp) = self.port(Some(hp_node), "hostPort")
        {
            w.ports.push((
                EndpointKind::HostPort {
                    host_ip: text(port.get("hostIP")).map(str::to_string),
                    start: hp,
                    end: hp,
                    container_port: Some(cp),
                    protocol,
                },
                hp_node.location(self.file),
            ));
        }
    }

    fn container_env(&mut self, container: &Node, w: &mut Workload) {
        for var in seq(container.get("env")) {
            let Some(key) = text(var.get("name")) else {
                continue;
            };
            if let Some(value) = var.get("value").filter(|v| !v.is_null()) {
                if let Some(v) = value.as_str() {
                    w.env.push(EnvSource::Value {
                        key: key.to_string(),
                        value: v.to_string(),
                        location: value.location(self.file),
                    });
                }
                continue;
            }
            // secretKeyRef, fieldRef, resourceFieldRef: nothing to record.
            let cm_ref = var.get("valueFrom").and_then(|v| v.get("configMapKeyRef"));
            if let (Some(cm), Some(cm_key)) = (
                text(cm_ref.and_then(|r| r.get("name"))),
                text(cm_ref.and_then(|r| r.get("key"))),
            ) {
                w.env.push(EnvSource::ConfigMapKey {
                    key: key.to_string(),
                    config_map: cm.to_string(),
                    config_key: cm_key.to_string(),
                });
            }
        }
        for source in seq(container.get("envFrom")) {
            if let Some(cm) = text(source.get("configMapRef").and_then(|r| r.get("name"))) {
                w.env.push(EnvSource::ConfigMap {
                    config_map: cm.to_string(),
                    prefix: text(source.get("prefix")).unwrap_or("").to_string(),
                });
            }
        }
    }

    /// Splits one `command`/`args` string into tokens and keeps the value part of each
    /// (`--db=postgres:5432` → `postgres:5432`), skipping listen/bind addresses.
    fn command_tokens(&self, arg: &Node, out: &mut Vec<(String, Location)>) {
        let Some(arg_text) = arg.as_str() else {
            return;
        };
        let mut offset = 0;
        for raw in arg_text.split(|c: char| c.is_whitespace()) {
            let start = offset;
            offset += raw.len() + 1;
            let lead = raw.len() - raw.trim_start_matches(['"', '\'', '(']).len();
            let token = raw
                .trim_start_matches(['"', '\'', '('])
                .trim_end_matches(['"', '\'', ';', ',', ')', '&', '|']);
            let (flag, value, value_at) = match token.split_once('=') {
                Some((f, v)) if f.starts_with('-') => (f, v, f.len() + 1),
                _ => ("", token, 0),
            };
            let flag = flag.to_ascii_lowercase();
            if value.is_empty()
                || flag.contains("listen")
                || flag.contains("bind")
                || value.starts_with("0.0.0.0")
                || value.starts_with("[::]")
            {
                continue;
            }
            let at = start + lead + value_at;
            out.push((value.to_string(), part_location(self.file, arg, at, value)));
        }
    }

    fn service(&mut self, name: &str, name_node: &Node, namespace: String, spec: Option<&Node>) {
        let mut s = KService {
            path: self.file.path.clone(),
            name: name.to_string(),
            namespace,
            name_location: name_node.location(self.file),
            selector: labels(spec.and_then(|s| s.get("selector"))),
            ports: Vec::new(),
            external_name: None,
        };
        for port in seq(spec.and_then(|s| s.get("ports"))) {
            let protocol = protocol(port);
            if let Some(p) = self.port(port.get("port"), "port") {
                let loc = port.get("port").map(|n| n.location(self.file));
                s.ports.push((
                    EndpointKind::ContainerPort { port: p, protocol },
                    loc.unwrap_or_else(|| s.name_location.clone()),
                ));
            }
            if let Some(np_node) = port.get("nodePort")
                && let Some(p) = self.port(Some(np_node), "nodePort")
            {
                s.ports.push((
                    EndpointKind::NodePort { port: p, protocol },
                    np_node.location(self.file),
                ));
            }
        }
        if let Some(ext) = spec.and_then(|s| s.get("externalName"))
            && let Some(host) = text(Some(ext))
        {
            s.external_name = Some((host.to_string(), ext.location(self.file)));
        }
        self.out.services.push(s);
    }

    fn route(
        &mut self,
        namespace: &str,
        host: (&str, Location),
        path: Option<&str>,
        backend: &Node,
    ) {
        let Some(service) = text(Some(backend)) else {
            return;
        };
        let url_path = path
            .filter(|p| !p.is_empty() && *p != "/")
            .map(str::to_string);
        self.out.routes.push(Route {
            path: self.file.path.clone(),
            namespace: namespace.to_string(),
            host: host.0.to_string(),
            url_path,
            service: service.to_string(),
            host_location: host.1,
            service_location: backend.location(self.file),
        });
    }

    /// `networking.k8s.io/v1` (`backend.service.name`) and `v1beta1` (`backend.serviceName`).
    fn ingress(&mut self, namespace: &str, spec: Option<&Node>) {
        let backend_name = |backend: Option<&Node>| -> Option<Node> {
            let b = backend?;
            b.get("service")
                .and_then(|s| s.get("name"))
                .or_else(|| b.get("serviceName"))
                .cloned()
        };
        let default_backend =
            backend_name(spec.and_then(|s| s.get("defaultBackend").or_else(|| s.get("backend"))));
        let mut rule_hosts = Vec::new();
        let mut backends: Vec<Node> = default_backend.iter().cloned().collect();
        for rule in seq(spec.and_then(|s| s.get("rules"))) {
            let Some(host_node) = rule.get("host") else {
                continue;
            };
            let Some(host) = text(Some(host_node)) else {
                continue;
            };
            rule_hosts.push(host.to_string());
            for path in seq(rule.get("http").and_then(|h| h.get("paths"))) {
                let Some(backend) = backend_name(path.get("backend")) else {
                    continue;
                };
                let loc = host_node.location(self.file);
                self.route(namespace, (host, loc), text(path.get("path")), &backend);
                backends.push(backend);
            }
        }
        // A TLS host without a rule routes to the only backend there is, if there is one.
        let only = {
            let mut names: Vec<&str> = backends.iter().filter_map(Node::as_str).collect();
            names.sort_unstable();
            names.dedup();
            (names.len() == 1)
                .then(|| backends.first().cloned())
                .flatten()
        };
        for tls in seq(spec.and_then(|s| s.get("tls"))) {
            for host_node in seq(tls.get("hosts")) {
                let Some(host) = text(Some(host_node)) else {
                    continue;
                };
                if rule_hosts.iter().any(|h| h == host) {
                    continue;
                }
                if let Some(backend) = &only {
                    let loc = host_node.location(self.file);
                    self.route(namespace, (host, loc), None, backend);
                }
            }
        }
    }

    /// Traefik `IngressRoute`: hosts from `Host(`a`, `b`)` in `routes[].match` (a local parse;
    /// the traefik module owns the full rule grammar).
    fn ingress_route(&mut self, namespace: &str, spec: Option<&Node>) {
        static HOST: OnceLock<Regex> = OnceLock::new();
        static PATH: OnceLock<Regex> = OnceLock::new();
        static QUOTED: OnceLock<Regex> = OnceLock::new();
        let host_re = HOST.get_or_init(|| Regex::new(r"\bHost\(([^)]*)\)").expect("static regex"));
        let path_re = PATH.get_or_init(|| {
            Regex::new(r"\b(?:PathPrefix|Path)\(\s*`([^`]*)`").expect("static regex")
        });
        let quoted = QUOTED.get_or_init(|| Regex::new(r"`([^`]*)`").expect("static regex"));
        for route in seq(spec.and_then(|s| s.get("routes"))) {
            let Some(match_node) = route.get("match") else {
                continue;
            };
            let Some(rule) = match_node.as_str() else {
                continue;
            };
            let path = path_re
                .captures(rule)
                .and_then(|c| c.get(1))
                .map(|m| m.as_str().to_string());
            let mut hosts = Vec::new();
            for host_call in host_re.captures_iter(rule).filter_map(|c| c.get(1)) {
                for q in quoted
                    .captures_iter(host_call.as_str())
                    .filter_map(|c| c.get(1))
                {
                    let at = host_call.start() + q.start();
                    hosts.push((
                        q.as_str(),
                        part_location(self.file, match_node, at, q.as_str()),
                    ));
                }
            }
            for service in seq(route.get("services")) {
                if text(service.get("kind")).is_some_and(|k| k != "Service") {
                    continue;
                }
                let Some(name) = service.get("name") else {
                    continue;
                };
                let ns = text(service.get("namespace"))
                    .unwrap_or(namespace)
                    .to_string();
                for (host, loc) in &hosts {
                    self.route(&ns, (host, loc.clone()), path.as_deref(), name);
                }
            }
        }
    }

    fn config_map(&mut self, name: &str, namespace: String, data: Option<&Node>) {
        let mut cm = ConfigMap {
            path: self.file.path.clone(),
            name: name.to_string(),
            namespace,
            data: Vec::new(),
            files: Vec::new(),
        };
        for (key, _, value_node) in data.into_iter().flat_map(Node::entries) {
            let Some(value) = value_node.as_str() else {
                continue;
            };
            let mut urls = Vec::new();
            if value.trim_end().contains('\n') {
                // A config file: find each URL in the source bytes to locate it exactly.
                let source = self
                    .file
                    .text
                    .get(value_node.start..value_node.end)
                    .unwrap_or("");
                let mut cursor = 0;
                for m in url_regex().find_iter(value) {
                    let found = source.get(cursor..).and_then(|s| s.find(m.as_str()));
                    let loc = match found {
                        Some(i) => {
                            let at = value_node.start + cursor + i;
                            cursor += i + m.as_str().len();
                            self.file.location(at, at + m.as_str().len())
                        }
                        None => value_node.location(self.file),
                    };
                    urls.push((m.as_str().to_string(), loc));
                }
            }
            let settings = self.embedded_config(key, value, value_node);
            cm.data.push(DataEntry {
                key: key.to_string(),
                value: value.to_string(),
                location: value_node.location(self.file),
                urls,
                settings,
            });
        }
        self.out.config_maps.push(cm);
    }

    /// Reads a multi-line ConfigMap value that is a YAML/JSON config file (`prometheus.yml: |`)
    /// the way a config file of the repository is read, and locates what it finds in the
    /// manifest: each line of the value is found, in order, in the node's source text.
    fn embedded_config(&self, key: &str, value: &str, node: &Node) -> Vec<Reference> {
        if !is_structured_config(key) || !value.trim_end().contains('\n') {
            return Vec::new();
        }
        let inner = SourceFile::new(self.file.repository.clone(), key, value);
        let mut found = RepoFacts::default();
        crate::config_urls::ConfigUrlsExtractor.extract(
            &inner,
            &RepoFiles::new(self.file.repository.clone()),
            &mut found,
        );
        // Byte offset in the manifest of the start of each line of the value.
        let source = self.file.text.get(node.start..node.end).unwrap_or("");
        let mut starts: Vec<(usize, Option<usize>)> = Vec::new();
        let (mut at, mut cursor) = (0, 0);
        for line in value.split_inclusive('\n') {
            let text = line.trim_end_matches(['\n', '\r']);
            let in_file = if text.trim().is_empty() {
                None
            } else {
                source.get(cursor..).and_then(|s| s.find(text)).map(|i| {
                    cursor += i + text.len();
                    node.start + cursor - text.len()
                })
            };
            starts.push((at, in_file));
            at += line.len();
        }
        let locate = |byte: usize| -> Option<usize> {
            let (line_start, in_file) = starts.iter().rev().find(|(s, _)| *s <= byte)?;
            Some((*in_file)? + (byte - line_start))
        };
        found
            .references
            .into_iter()
            .map(|mut r| {
                let span = r.location.span;
                r.location = match locate(span.start) {
                    // A scalar on one line: its length is the same in the manifest.
                    Some(start) => self.file.location(start, start + (span.end - span.start)),
                    None => node.location(self.file),
                };
                r
            })
            .collect()
    }
}

/// ConfigMap keys that are YAML/JSON config files (`prometheus.yml`, `config.json`).
fn is_structured_config(key: &str) -> bool {
    let key = key.to_ascii_lowercase();
    key.ends_with(".yml") || key.ends_with(".yaml") || key.ends_with(".json")
}
