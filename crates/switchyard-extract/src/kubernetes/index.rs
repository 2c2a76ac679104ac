//! All manifests of a repository read once and matched: Service selectors to workload labels,
//! Ingress backends to Services or workloads, ConfigMaps to the workloads that use them.

use super::load::{self, Loaded};
use super::model::{ConfigMap, DataEntry, EnvSource, KService, Route, Workload};
use crate::source::{RepoFiles, SourceFile, file_name, parent_dir};
use crate::yaml;
use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use switchyard_model::Diagnostic;

/// What a route's backend Service name resolves to in the repository.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Backend {
    /// Indices into `workloads` selected by the Service (or named like it when no Service exists).
    Workloads(Vec<usize>),
    /// A Service of the repository that selects no workload of it.
    Service(usize),
    /// No Service or workload of that name in the namespace.
    Missing,
}

/// How a file was read.
#[derive(Debug, Clone)]
pub(super) enum FileStatus {
    NotMine,
    Skipped(Diagnostic),
    Manifest(Vec<Diagnostic>),
}

#[derive(Debug, Default)]
pub(super) struct RepoIndex {
    pub status: HashMap<String, FileStatus>,
    pub workloads: Vec<Workload>,
    pub services: Vec<KService>,
    pub routes: Vec<Route>,
    pub config_maps: Vec<ConfigMap>,
    /// Per Service: the workloads its selector matches (same namespace).
    pub selected: Vec<Vec<usize>>,
    /// Per route: where its backend goes.
    pub backends: Vec<Backend>,
    /// Per ConfigMap: whether some workload reads it (env, envFrom or volume).
    pub config_map_used: Vec<bool>,
}

const KUSTOMIZATION_NAMES: [&str; 3] = ["kustomization.yaml", "kustomization.yml", "Kustomization"];

/// Whether a file can hold a manifest; cheap, so the index skips most non-k8s YAML unparsed.
pub(super) fn is_candidate(file: &SourceFile) -> bool {
    super::accepts_path(&file.path)
        && (file.text.contains("kind")
            || KUSTOMIZATION_NAMES.contains(&file_name(&file.path))
            || (file.path.contains("templates/") && file.text.contains("{{")))
}

impl RepoIndex {
    fn build(files: &[&SourceFile], repo: &RepoFiles) -> Self {
        let mut index = RepoIndex::default();
        let mut namespaces: HashMap<&str, String> = HashMap::new();
        let mut patches: HashSet<String> = HashSet::new();
        let mut generated: Vec<ConfigMap> = Vec::new();
        for file in files {
            if KUSTOMIZATION_NAMES.contains(&file_name(&file.path)) {
                read_kustomization(file, &mut namespaces, &mut patches, &mut generated);
            }
        }
        index.config_maps.extend(generated);
        let mut charts = crate::helm::Charts::new();
        for file in files {
            let ns = namespaces
                .get(parent_dir(&file.path))
                .map(String::as_str)
                .unwrap_or("default");
            let status = match load::load(file, repo, ns, &mut charts) {
                Loaded::NotMine => FileStatus::NotMine,
                Loaded::Skipped(d) => FileStatus::Skipped(d),
                // Kustomize patches are partial objects: they are the base's, not new ones.
                Loaded::Manifest(_) if patches.contains(&file.path) => {
                    FileStatus::Manifest(Vec::new())
                }
                Loaded::Manifest(objects) => {
                    index.workloads.extend(objects.workloads);
                    index.services.extend(objects.services);
                    index.routes.extend(objects.routes);
                    index.config_maps.extend(objects.config_maps);
                    FileStatus::Manifest(objects.diagnostics)
                }
            };
            index.status.insert(file.path.clone(), status);
        }
        index.link();
        index
    }

    fn link(&mut self) {
        self.selected = self
            .services
            .iter()
            .map(|s| {
                (0..self.workloads.len())
                    .filter(|&i| self.workloads.get(i).is_some_and(|w| selects(s, w)))
                    .collect()
            })
            .collect();
        self.backends = self
            .routes
            .iter()
            .map(|r| self.resolve(&r.namespace, &r.service))
            .collect();
        self.config_map_used = self
            .config_maps
            .iter()
            .map(|cm| {
                self.workloads
                    .iter()
                    .any(|w| w.namespace == cm.namespace && uses_config_map(w, &cm.name))
            })
            .collect();
    }

    fn resolve(&self, namespace: &str, service: &str) -> Backend {
        let found = self
            .services
            .iter()
            .position(|s| s.namespace == namespace && s.name == service);
        if let Some(i) = found {
            let selected = self.selected.get(i).cloned().unwrap_or_default();
            return if selected.is_empty() {
                Backend::Service(i)
            } else {
                Backend::Workloads(selected)
            };
        }
        // The Service lives elsewhere (another repo, a chart): by convention it is named
        // after its workload.
        let named: Vec<usize> = (0..self.workloads.len())
            .filter(|&i| {
                self.workloads
                    .get(i)
                    .is_some_and(|w| w.namespace == namespace && w.name == service)
            })
            .collect();
        if named.is_empty() {
            Backend::Missing
        } else {
            Backend::Workloads(named)
        }
    }

    /// The ConfigMap `name` in `namespace` that a workload declared in `near` gets: the one of
    /// the same file, else the one whose folder shares the most with `near`'s (alternative
    /// manifests of one repository, such as an all-in-one file and a quickstart file, each
    /// declare their own), else the first.
    pub fn config_map(&self, namespace: &str, name: &str, near: &str) -> Option<&ConfigMap> {
        let shared = |path: &str| {
            path.split('/')
                .zip(near.split('/'))
                .take_while(|(a, b)| a == b)
                .count()
        };
        self.config_maps
            .iter()
            .filter(|c| c.namespace == namespace && c.name == name)
            .enumerate()
            .max_by_key(|(i, c)| (c.path == near, shared(&c.path), std::cmp::Reverse(*i)))
            .map(|(_, c)| c)
    }
}

fn selects(service: &KService, workload: &Workload) -> bool {
    service.namespace == workload.namespace
        && !service.selector.is_empty()
        && service
            .selector
            .iter()
            .all(|(k, v)| workload.labels.get(k) == Some(v))
}

fn uses_config_map(w: &Workload, name: &str) -> bool {
    w.mounted_config_maps.iter().any(|m| m == name)
        || w.env.iter().any(|e| match e {
            EnvSource::ConfigMapKey { config_map, .. }
            | EnvSource::ConfigMap { config_map, .. } => config_map == name,
            EnvSource::Value { .. } => false,
        })
}

/// Reads a kustomization's `namespace` (default for its directory), its patch files and the
/// ConfigMaps its `configMapGenerator` builds.
fn read_kustomization<'a>(
    file: &'a SourceFile,
    namespaces: &mut HashMap<&'a str, String>,
    patches: &mut HashSet<String>,
    generated: &mut Vec<ConfigMap>,
) {
    let Ok(Some(doc)) = yaml::parse(&file.text) else {
        return;
    };
    let dir = parent_dir(&file.path);
    let namespace = doc.get("namespace").and_then(|n| n.as_str());
    if let Some(ns) = namespace {
        namespaces.insert(dir, ns.to_string());
    }
    read_config_map_generators(file, &doc, namespace.unwrap_or("default"), generated);
    let mut add = |p: &str| {
        if let Some(path) = crate::source::join_repo_path(dir, p) {
            patches.insert(path);
        }
    };
    for key in ["patchesStrategicMerge", "patches", "patchesJson6902"] {
        for item in doc.get(key).and_then(|n| n.as_seq()).unwrap_or(&[]) {
            if let Some(p) = item
                .as_str()
                .or_else(|| item.get("path").and_then(|n| n.as_str()))
            {
                add(p);
            }
        }
    }
}

/// `configMapGenerator` entries: a ConfigMap `name` built from `files` (`path` or `key=path`)
/// and `envs` (dotenv files), whose paths the consumers read, and `literals` (`KEY=value`), its
/// data. With `disableNameSuffixHash: false` (the default) kustomize appends a hash to the name
/// and rewrites the references to it, so workloads still name it `name`.
fn read_config_map_generators(
    file: &SourceFile,
    doc: &yaml::Node,
    namespace: &str,
    out: &mut Vec<ConfigMap>,
) {
    let dir = parent_dir(&file.path);
    for generator in seq(doc.get("configMapGenerator")) {
        let Some(name) = generator.get("name").and_then(yaml::Node::as_str) else {
            continue;
        };
        let namespace = generator
            .get("namespace")
            .and_then(yaml::Node::as_str)
            .unwrap_or(namespace);
        let mut cm = ConfigMap {
            path: file.path.clone(),
            name: name.trim().to_string(),
            namespace: namespace.to_string(),
            data: Vec::new(),
            files: Vec::new(),
        };
        for item in seq(generator.get("files"))
            .iter()
            .chain(seq(generator.get("envs")))
        {
            let Some(spec) = item.as_str() else {
                continue;
            };
            let relative = spec.split_once('=').map_or(spec, |(_, path)| path).trim();
            if let Some(path) = crate::source::join_repo_path(dir, relative) {
                cm.files.push(path);
            }
        }
        for literal in seq(generator.get("literals")) {
            let Some((key, value)) = literal.as_str().and_then(|l| l.split_once('=')) else {
                continue;
            };
            cm.data.push(DataEntry {
                key: key.trim().to_string(),
                value: value.to_string(),
                location: literal.location(file),
                urls: Vec::new(),
                settings: Vec::new(),
            });
        }
        out.push(cm);
    }
}

fn seq(node: Option<&yaml::Node>) -> &[yaml::Node] {
    node.and_then(yaml::Node::as_seq).unwrap_or(&[])
}

/// The index of `repo`, with `file` as given. In a real run `file` is one of `repo`'s files and
/// the index is built once per repository (a memo on `repo`); a file that is not part of `repo`
/// (tests, or edited text) gets an index of its own.
pub(super) fn index_for(file: &SourceFile, repo: &RepoFiles) -> Arc<RepoIndex> {
    let build = || {
        let mut files: Vec<&SourceFile> = repo
            .files()
            .iter()
            .filter(|f| f.path != file.path && is_candidate(f))
            .collect();
        files.push(file);
        files.sort_by(|a, b| a.path.cmp(&b.path));
        RepoIndex::build(&files, repo)
    };
    match repo.get(&file.path) {
        Some(same) if std::ptr::eq(same, file) => repo.memo("kubernetes.index", build),
        _ => Arc::new(build()),
    }
}

#[cfg(test)]
mod tests {
    use crate::extractor::Handled;
    use crate::kubernetes::tests::{endpoint, run, service, tcp};
    use switchyard_model::{EndpointKind, Protocol, ServiceKind};

    #[test]
    fn example_voting_app_k8s_specifications() {
        // `../shared/corpus` beside the checkout.
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../../shared/corpus/example-voting-app/k8s-specifications");
        let dir = dir.as_path();
        let Ok(entries) = std::fs::read_dir(dir) else {
            eprintln!("skipped: corpus not found at {}", dir.display());
            return;
        };
        let mut files: Vec<(String, String)> = entries
            .filter_map(Result::ok)
            .filter_map(|e| {
                let name = e.file_name().to_string_lossy().to_string();
                let text = std::fs::read_to_string(e.path()).ok()?;
                Some((format!("k8s-specifications/{name}"), text))
            })
            .collect();
        files.sort();
        let borrowed: Vec<(&str, &str)> = files
            .iter()
            .map(|(p, t)| (p.as_str(), t.as_str()))
            .collect();
        let (facts, handled) = run(&borrowed);
        assert!(handled.iter().all(|h| *h == Handled::Yes));
        assert!(facts.diagnostics.is_empty(), "{:#?}", facts.diagnostics);
        let mut names: Vec<&str> = facts.services.iter().map(|s| s.name.as_str()).collect();
        names.sort_unstable();
        assert_eq!(names, vec!["db", "redis", "result", "vote", "worker"]);
        assert!(
            facts
                .services
                .iter()
                .all(|s| s.kind == ServiceKind::Kubernetes)
        );
        for (name, node_port, port) in [("vote", 31000, 8080), ("result", 31001, 8081)] {
            let decl = service(&facts, name);
            let np = EndpointKind::NodePort {
                port: node_port,
                protocol: Protocol::Tcp,
            };
            let loc = decl
                .endpoints
                .iter()
                .find(|e| e.kind == np)
                .map(|e| &e.location);
            assert_eq!(
                loc.map(|l| l.path.as_str()),
                Some(format!("k8s-specifications/{name}-service.yaml").as_str())
            );
            endpoint(decl, &tcp(port));
            endpoint(decl, &tcp(80));
        }
        // redis and db Services select their workloads: no KubernetesService decl is left over
        // (checked above), and their port is served by the workload.
        for (name, port) in [("redis", 6379), ("db", 5432)] {
            let decl = service(&facts, name);
            assert!(decl.aliases.is_empty());
            endpoint(decl, &tcp(port));
        }
        assert_eq!(
            service(&facts, "db").image.as_deref(),
            Some("postgres:15-alpine")
        );
    }
}
