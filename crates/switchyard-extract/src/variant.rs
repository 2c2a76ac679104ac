//! Finds a repository's alternative deployments ([`Variant`]s) from where its services are
//! declared: compose projects and Kubernetes layouts (a manifest tree, a kustomize overlay with
//! its bases, a multi-document file).
//!
//! The rule follows how deployments are applied. Two compose projects or manifests that declare
//! the same service are alternatives (`docker-compose.yml` and `docker-stack.yml`, compose and
//! `k8s/`), and ones that declare different services are parts of one deployment (`app1/` and
//! `app2/` of a monorepo run side by side). `kubectl apply -f dir/` applies the
//! files of one directory together, and a tree split by component (`deploy/app/backend`,
//! `deploy/app/frontend`) is applied as one; so a directory is one layout unless two of its parts
//! declare the same workload, which only alternatives do (`guestbook/` beside
//! `guestbook/all-in-one/`, `aks-store-all-in-one.yaml` beside `aks-store-quickstart.yaml`). Then
//! each part is a layout of its own. A kustomize overlay (`kustomization.yaml` whose `resources`
//! name directories holding workloads) is a variant built from its bases, one per overlay:
//! `overlays/dev` and `overlays/prod` are never one deployment.
//!
//! A repository with a single deployment gets no variants at all.

use crate::source::{RepoFiles, join_repo_path, parent_dir};
use crate::yaml;
use std::collections::{BTreeMap, BTreeSet};
use switchyard_model::{RepoFacts, Scope, ServiceKind, Variant};

const KUSTOMIZATION_NAMES: [&str; 3] = ["kustomization.yaml", "kustomization.yml", "Kustomization"];

/// Sets `facts.variants` from the services `facts` declares and the kustomizations in `files`.
pub fn assign(facts: &mut RepoFacts, files: &RepoFiles) {
    let mut parts: BTreeMap<&str, Part> = BTreeMap::new();
    for decl in &facts.services {
        match (&decl.kind, &decl.scope) {
            (_, Scope::Compose { project }) => {
                let part = parts.entry(project.as_str()).or_default();
                part.compose = true;
                part.names.insert(decl.name.clone());
                if decl.source.path != *project {
                    part.extra.insert(decl.source.path.clone());
                }
            }
            (
                ServiceKind::Kubernetes | ServiceKind::KubernetesService,
                Scope::Kubernetes { .. },
            ) => {
                let part = parts.entry(decl.source.path.as_str()).or_default();
                part.names.insert(decl.name.clone());
            }
            _ => {}
        }
    }
    if parts.len() < 2 {
        // One compose project or manifest is one deployment; no kustomization to read.
        facts.variants = Vec::new();
        return;
    }
    let variants = with_overlays(layouts_under("", &parts), &kustomizations(files));
    facts.variants = if variants.len() > 1 {
        variants
    } else {
        Vec::new()
    };
}

/// A file that deploys services: a compose project's base file (with the other files its
/// services are declared in) or a Kubernetes manifest.
#[derive(Debug, Default)]
struct Part {
    names: BTreeSet<String>,
    compose: bool,
    /// Override, included and extended files of a compose project.
    extra: BTreeSet<String>,
}

/// A manifest layout being built: the directory (or file) it is named by, its files and
/// directories (ending in `/`), and the workload names it declares.
#[derive(Debug, Clone)]
struct Layout {
    name: String,
    files: Vec<String>,
    names: BTreeSet<String>,
}

impl Layout {
    fn into_variant(self) -> Variant {
        Variant {
            name: self.name,
            files: self.files,
        }
    }
}

/// Whether no two layouts declare the same workload.
fn disjoint(layouts: &[Layout]) -> bool {
    let mut seen: BTreeSet<&str> = BTreeSet::new();
    layouts
        .iter()
        .all(|l| l.names.iter().all(|n| seen.insert(n.as_str())))
}

/// The layouts of the parts under `dir`, see the module documentation.
fn layouts_under(dir: &str, by_file: &BTreeMap<&str, Part>) -> Vec<Layout> {
    let prefix = if dir.is_empty() {
        String::new()
    } else {
        format!("{dir}/")
    };
    let mut loose: Vec<Layout> = Vec::new();
    let mut subdirs: BTreeSet<&str> = BTreeSet::new();
    let mut compose_only = true;
    for (path, part) in by_file {
        let Some(rest) = path.strip_prefix(&prefix) else {
            continue;
        };
        match rest.split_once('/') {
            None => {
                compose_only &= part.compose;
                loose.push(Layout {
                    name: (*path).to_string(),
                    files: std::iter::once((*path).to_string())
                        .chain(part.extra.iter().cloned())
                        .collect(),
                    names: part.names.clone(),
                })
            }
            Some((sub, _)) => {
                subdirs.insert(sub);
            }
        }
    }
    // The manifests of one directory are applied together, named by the directory; a compose
    // project alone keeps its file's name.
    let lone_manifest = loose.len() == 1 && !dir.is_empty() && !compose_only;
    let own: Vec<Layout> = if (loose.len() > 1 && disjoint(&loose)) || lone_manifest {
        vec![Layout {
            name: if dir.is_empty() {
                ".".into()
            } else {
                dir.into()
            },
            files: loose.iter().flat_map(|l| l.files.clone()).collect(),
            names: loose.iter().flat_map(|l| l.names.clone()).collect(),
        }]
    } else {
        loose
    };
    let mut parts = own;
    let mut split_below = false;
    for sub in subdirs {
        let child = layouts_under(&format!("{prefix}{sub}"), by_file);
        split_below |= child.len() > 1;
        parts.extend(child);
    }
    if split_below || parts.len() < 2 || !disjoint(&parts) {
        return parts;
    }
    // One layout split by component: the whole directory is applied as one.
    vec![Layout {
        name: if dir.is_empty() {
            ".".into()
        } else {
            dir.into()
        },
        files: vec![if dir.is_empty() { "/".into() } else { prefix }],
        names: parts.into_iter().flat_map(|l| l.names).collect(),
    }]
}

/// Kustomization directories and the repo paths their `resources` (and legacy `bases`) name.
fn kustomizations(files: &RepoFiles) -> Vec<(String, Vec<String>)> {
    let mut out = Vec::new();
    for file in files.files() {
        if !KUSTOMIZATION_NAMES.contains(&file.file_name()) {
            continue;
        }
        let Ok(Some(root)) = yaml::parse(&file.text) else {
            continue;
        };
        let dir = parent_dir(&file.path);
        let targets: Vec<String> = ["resources", "bases"]
            .iter()
            .filter_map(|key| root.get(key).and_then(|n| n.as_seq()))
            .flatten()
            .filter_map(|n| n.as_str())
            // Remote bases (`github.com/…?ref=`) are not in this repository.
            .filter(|rel| !rel.contains("://") && !rel.contains('?'))
            .filter_map(|rel| join_repo_path(dir, rel))
            .collect();
        out.push((dir.to_string(), targets));
    }
    out
}

/// Whether the repo path `target` (a file or directory) is inside layout `l`, or holds it.
fn touches(l: &Layout, target: &str) -> bool {
    let inside = |f: &str| match f.strip_suffix('/') {
        Some(d) => target == d || target.starts_with(f) || d.starts_with(&format!("{target}/")),
        None if f == "/" => true,
        None => f == target || f.starts_with(&format!("{target}/")),
    };
    l.files.iter().any(|f| f == "/" || inside(f))
}

/// Replaces each layout that kustomize overlays build on by one variant per overlay: the overlay
/// directory plus the resources it names.
fn with_overlays(layouts: Vec<Layout>, kustomizations: &[(String, Vec<String>)]) -> Vec<Variant> {
    let mut out: Vec<Variant> = Vec::new();
    for layout in layouts {
        // An overlay is a kustomization outside the layout that names something inside it.
        let overlays: Vec<&(String, Vec<String>)> = kustomizations
            .iter()
            .filter(|(dir, _)| !touches(&layout, dir))
            .filter(|(_, targets)| targets.iter().any(|t| touches(&layout, t)))
            .collect();
        if overlays.is_empty() {
            out.push(layout.into_variant());
            continue;
        }
        for (dir, targets) in overlays {
            let mut files = vec![format!("{dir}/")];
            files.extend(
                targets
                    .iter()
                    .filter(|t| touches(&layout, t))
                    .map(|t| target_entry(&layout, t)),
            );
            files.dedup();
            out.push(Variant {
                name: dir.clone(),
                files,
            });
        }
    }
    out
}

/// How a kustomize resource is recorded in a variant: a manifest file as itself, a directory
/// with a trailing `/`.
fn target_entry(layout: &Layout, target: &str) -> String {
    let is_file = layout.files.iter().any(|f| f == target);
    if is_file || target.ends_with(".yaml") || target.ends_with(".yml") {
        target.to_string()
    } else {
        format!("{target}/")
    }
}

#[cfg(test)]
#[path = "variant_tests.rs"]
mod tests;
