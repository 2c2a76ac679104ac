//! Docker compose (and swarm stack) files → services, endpoints, references, env and resources
//! of one compose project (base file + override + overlays + includes), every fact with its
//! location.
//!
//! A project is named by its base file's repo path ([`Scope::Compose`]). Overrides beside a base
//! and overlays (`COMPOSE_FILE`, or files that only run on top of a base: see `layering`) are
//! merged into it (the extractor answers `Handled::Yes` with no facts for them), `include:`d
//! files and `extends` targets are read through [`RepoFiles`], and `${VAR}` takes values from the
//! project's `.env` only, never the process environment. [`projects`] lists each project's files.

mod args;
mod endpoints;
mod environment;
mod layering;
mod one_shot;
mod ports;
mod project;
mod service;
mod volumes;

#[cfg(test)]
mod corpus_tests;
#[cfg(test)]
mod layering_tests;
#[cfg(test)]
mod one_shot_tests;
#[cfg(test)]
mod service_tests;
#[cfg(test)]
mod tests;

use crate::extractor::{Extractor, Handled};
use crate::source::{RepoFiles, SourceFile, file_name, join_repo_path, parent_dir};
use crate::yaml::{self, Node};
pub(crate) use project::interpolation_env;
use project::{Project, include_entries, services_of};
use service::{Cx, ServiceInfo, declared_name, extract_service};
use std::collections::{BTreeMap, HashSet};
use switchyard_model::{
    Alias, AliasKind, Diagnostic, DiagnosticCode, Mechanism, Reference, RepoFacts, ResourceKind,
    ResourceUse, Scope, Target,
};

const COMPOSE_PREFIXES: [&str; 3] = ["docker-compose", "compose", "docker-stack"];

/// Whether a file name is a compose file: `docker-compose*.yml|yaml`, `compose*.yml|yaml`,
/// `docker-stack*.yml|yaml` (the prefix followed by the extension, `.`, `-` or `_`).
pub fn is_compose_file_name(name: &str) -> bool {
    let Some(stem) = name
        .strip_suffix(".yml")
        .or_else(|| name.strip_suffix(".yaml"))
    else {
        return false;
    };
    COMPOSE_PREFIXES.iter().any(|prefix| {
        stem.strip_prefix(prefix)
            .is_some_and(|rest| rest.is_empty() || rest.starts_with(['.', '-', '_']))
    })
}

/// Top-level keys of the compose specification (`x-*` extensions aside).
const COMPOSE_TOP_LEVEL: [&str; 8] = [
    "version", "name", "services", "networks", "volumes", "configs", "secrets", "include",
];

/// Whether a YAML file with another name (`pwd.yml`, `relay-compose.yaml`, `base.yaml`, run
/// with `docker compose -f`) is a compose file by its content: a `services:` mapping in which a
/// service has an `image` or `build`, and no top-level key the compose specification does not
/// define (a CI pipeline's `services:` list, a Kubernetes `kind`, a workflow's `jobs` never
/// pass).
pub fn is_compose_by_content(text: &str) -> bool {
    if !text.lines().any(|l| l.trim_end() == "services:") {
        return false;
    }
    let Some(root) = yaml::parse(text).ok().flatten() else {
        return false;
    };
    let Some(top) = root.as_map() else {
        return false;
    };
    let known = top.iter().all(|(k, _)| {
        k.as_str()
            .is_some_and(|k| k.starts_with("x-") || COMPOSE_TOP_LEVEL.contains(&k))
    });
    known
        && root.get("services").is_some_and(|services| {
            services
                .entries()
                .any(|(_, _, v)| v.get("image").is_some() || v.get("build").is_some())
        })
}

/// Whether a compose file is a test harness: `test`, `tests`, `ci` or `e2e` as a word of the
/// name before the extension (`docker-compose.test.yml`, `docker-compose-test.yml`).
pub fn is_test_harness_name(name: &str) -> bool {
    let stem = name
        .strip_suffix(".yml")
        .or_else(|| name.strip_suffix(".yaml"))
        .unwrap_or(name)
        .to_ascii_lowercase();
    stem.split(|c: char| !c.is_ascii_alphanumeric())
        .any(|w| matches!(w, "test" | "tests" | "ci" | "e2e"))
}

/// For an override file (`compose.override.yaml`), the path of its base when the repository
/// has it.
fn base_of_override(file: &SourceFile, repo: &RepoFiles) -> Option<String> {
    let name = file.file_name();
    let stem = name
        .strip_suffix(".yml")
        .or_else(|| name.strip_suffix(".yaml"))?;
    let base_stem = stem.strip_suffix(".override")?;
    if base_stem != "docker-compose" && base_stem != "compose" {
        return None;
    }
    [".yml", ".yaml"]
        .iter()
        .filter_map(|ext| join_repo_path(file.dir(), &format!("{base_stem}{ext}")))
        .find(|p| repo.get(p).is_some())
}

/// Other compose files of the repository that may mention `name` (cheap text filter first).
fn compose_files_mentioning<'r>(
    repo: &'r RepoFiles,
    name: &'r str,
) -> impl Iterator<Item = (&'r SourceFile, Node)> + 'r {
    repo.files()
        .iter()
        .filter(move |f| is_compose_file_name(f.file_name()) && f.text.contains(name))
        .filter_map(|f| Some((f, yaml::parse(&f.text).ok()??)))
}

/// Whether another compose file of the repository `include:`s this one (its project reads it).
fn included_by_other(file: &SourceFile, repo: &RepoFiles) -> bool {
    compose_files_mentioning(repo, file.file_name()).any(|(other, root)| {
        other.path != file.path
            && include_entries(&root).iter().any(|n| {
                n.as_str()
                    .and_then(|rel| join_repo_path(other.dir(), rel))
                    .is_some_and(|p| p == file.path)
            })
    })
}

/// Whether this file is a library of service templates: another compose file of the repository
/// names it in `extends: {file: …}`, and it is not a file `docker compose` picks up on its own
/// (`compose.yaml`, `docker-compose.yml`…). Compose reads an extended file only for the service
/// it names, so its other entries (`default`, `traefik`, `databases` for each value a
/// `${COMPOSE_VARIANT}` may take) are never containers; the extending project reads it.
fn extended_by_other(file: &SourceFile, repo: &RepoFiles) -> bool {
    if is_default_project_name(file.file_name()) {
        return false;
    }
    compose_files_mentioning(repo, file.file_name()).any(|(other, root)| {
        other.path != file.path
            && services_of(&root).is_some_and(|services| {
                services.entries().any(|(_, _, service)| {
                    service
                        .get("extends")
                        .and_then(|e| e.get("file"))
                        .and_then(Node::as_str)
                        .map(default_of_variable)
                        .and_then(|rel| join_repo_path(other.dir(), rel))
                        .is_some_and(|p| p == file.path)
                })
            })
    })
}

/// `${VAR:-value}` (or `${VAR-value}`) alone → `value`; any other text as it is.
fn default_of_variable(text: &str) -> &str {
    text.strip_prefix("${")
        .and_then(|t| t.strip_suffix('}'))
        .and_then(|t| t.split_once('-'))
        .map_or(text, |(_, value)| value.strip_prefix('-').unwrap_or(value))
}

/// The file names `docker compose` reads without `-f`.
fn is_default_project_name(name: &str) -> bool {
    matches!(
        name,
        "compose.yaml" | "compose.yml" | "docker-compose.yaml" | "docker-compose.yml"
    )
}

/// Whether a compose service of the repository reads `path` as its `env_file` (the compose
/// extractor then records its values under that service).
pub fn is_env_file_of_compose(repo: &RepoFiles, path: &str) -> bool {
    // Every `.env` of the repository asks; the compose files are read for it once.
    repo.memo("compose.env_files", || {
        let mut env_files = std::collections::HashSet::new();
        for compose in repo
            .files()
            .iter()
            .filter(|f| is_compose_file_name(f.file_name()) && f.text.contains("env_file"))
        {
            let Some(services) = yaml::parse(&compose.text)
                .ok()
                .flatten()
                .and_then(|root| services_of(&root).cloned())
            else {
                continue;
            };
            for (_, _, service) in services.entries() {
                let Some(env_file) = service.get("env_file") else {
                    continue;
                };
                let items: Vec<&Node> = match env_file.as_seq() {
                    Some(list) => list.iter().collect(),
                    None => vec![env_file],
                };
                env_files.extend(items.into_iter().filter_map(|item| {
                    item.get("path")
                        .unwrap_or(item)
                        .as_str()
                        .and_then(|rel| join_repo_path(parent_dir(&compose.path), rel))
                }));
            }
        }
        env_files
    })
    .contains(path)
}

/// The files of one compose project in `docker compose -f` order: the base (the project's
/// identity, [`Scope::Compose`]), its `.override` file, then its overlays. Files it reads
/// through `include:` and `extends` are not listed (compose follows those itself).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProjectFiles {
    pub base: String,
    pub files: Vec<String>,
}

/// The compose projects of a repository as the extractor forms them.
pub fn projects(repo: &RepoFiles) -> Vec<ProjectFiles> {
    let layers = layering::layering(repo);
    let mut result = Vec::new();
    for file in repo.files() {
        let compose_named = is_compose_file_name(file.file_name());
        let named_base = !layers.overlays_of(&file.path).is_empty();
        let by_content = || {
            layering::may_be_overlay(&file.path)
                && layers.base_of(&file.path).is_none()
                && is_compose_by_content(&file.text)
        };
        if !(compose_named || named_base || by_content())
            || layers.base_of(&file.path).is_some()
            || layers.is_fragment_library(&file.path)
            || base_of_override(file, repo).is_some()
            || included_by_other(file, repo)
        {
            continue;
        }
        let Some(root) = yaml::parse(&file.text).ok().flatten() else {
            continue;
        };
        if services_of(&root).is_none() {
            continue;
        }
        let mut files = vec![file.path.clone()];
        files.extend(
            project::override_paths(&file.path)
                .into_iter()
                .find(|p| repo.get(p).is_some()),
        );
        files.extend(layers.overlays_of(&file.path).iter().cloned());
        result.push(ProjectFiles {
            base: file.path.clone(),
            files,
        });
    }
    result
}

/// Reads compose projects. See the module documentation.
pub struct ComposeExtractor;

impl Extractor for ComposeExtractor {
    fn name(&self) -> &'static str {
        "compose"
    }

    fn accepts(&self, path: &str) -> bool {
        is_compose_file_name(file_name(path)) || layering::may_be_overlay(path)
    }

    fn extract(&self, file: &SourceFile, repo: &RepoFiles, out: &mut RepoFacts) -> Handled {
        // Another name (`jibri.yml`) is compose only as an overlay of a base, or as the base
        // `COMPOSE_FILE` names first.
        if !is_compose_file_name(file.file_name()) {
            let layers = layering::layering(repo);
            if layers.base_of(&file.path).is_some() {
                return Handled::Yes;
            }
            if layers.overlays_of(&file.path).is_empty() && !is_compose_by_content(&file.text) {
                return Handled::NotMine;
            }
        }
        // Overrides, overlays and included files are read as part of their base's project,
        // fragment libraries through the `extends` of the services using them.
        if base_of_override(file, repo).is_some()
            || layering::is_overlay(repo, &file.path)
            || layering::layering(repo).is_fragment_library(&file.path)
            || included_by_other(file, repo)
            || extended_by_other(file, repo)
        {
            return Handled::Yes;
        }
        let root = match yaml::parse_with_warnings(&file.text) {
            Err(e) => {
                out.diagnostics.push(e.diagnostic(file));
                return Handled::Yes;
            }
            Ok((root, warnings)) => {
                out.diagnostics
                    .extend(warnings.iter().map(|w| w.diagnostic(file)));
                match root {
                    Some(root) => root,
                    None => return Handled::Yes,
                }
            }
        };
        if root.as_map().is_none() {
            out.diagnostics.push(Diagnostic::new(
                DiagnosticCode::InvalidValue,
                "compose file: the top level must be a mapping",
                root.location(file),
            ));
            return Handled::Yes;
        }
        // A Kubernetes manifest that happens to be called compose.yaml.
        if root.get("services").is_none()
            && root.get("apiVersion").is_some()
            && root.get("kind").is_some()
        {
            return Handled::NotMine;
        }
        let project = Project::load(file, root, repo, out);
        extract_project(&project, file, repo, out);
        Handled::Yes
    }
}

fn extract_project(
    project: &Project<'_>,
    base: &SourceFile,
    repo: &RepoFiles,
    out: &mut RepoFacts,
) {
    let scope = Scope::Compose {
        project: base.path.clone(),
    };
    let mut cx = Cx {
        project,
        scope: scope.clone(),
        test_harness: is_test_harness_name(base.file_name()),
        networks: project.decls("networks"),
        volumes: project.decls("volumes"),
        secrets: project.decls("secrets"),
        configs: project.decls("configs"),
        repo,
        reported: HashSet::new(),
        env_files_checked: HashSet::new(),
    };
    let services = project.services(out);
    let (first_reference, first_resource) = (out.references.len(), out.resources.len());
    let mut infos: Vec<ServiceInfo> = services
        .iter()
        .map(|s| extract_service(&mut cx, s, out))
        .collect();
    one_shot::hand_over(&services, first_reference, first_resource, out);
    network_resources(&cx, out);
    link_aliases(&mut infos);
    traefik_references(&infos, &scope, out);
    out.services.extend(infos.into_iter().map(|i| i.decl));
}

/// One `Network` resource per top-level network, with the settings that must agree.
fn network_resources(cx: &Cx<'_>, out: &mut RepoFacts) {
    for (key, decl) in &cx.networks {
        let (name, external) = declared_name(decl);
        let mut settings = BTreeMap::new();
        if let Some(driver) = decl.value.get("driver").and_then(Node::as_str) {
            settings.insert("driver".to_string(), driver.to_string());
        }
        let mut subnets: Vec<&str> = decl
            .value
            .get("ipam")
            .and_then(|i| i.get("config"))
            .and_then(Node::as_seq)
            .unwrap_or(&[])
            .iter()
            .filter_map(|c| c.get("subnet").and_then(Node::as_str))
            .collect();
        subnets.sort_unstable();
        if !subnets.is_empty() {
            settings.insert("subnet".to_string(), subnets.join(","));
        }
        let (start, end) = decl.key.content_span(decl.doc.file);
        out.resources.push(ResourceUse {
            service: None,
            kind: ResourceKind::Network,
            identifier: name.unwrap_or_else(|| key.clone()),
            read_only: false,
            external,
            settings,
            location: decl.doc.file.location(start, end),
        });
    }
}

/// `links: ["db:database"]` makes `database` a name of `db`.
fn link_aliases(infos: &mut [ServiceInfo]) {
    let pending: Vec<(String, String, switchyard_model::Location)> = infos
        .iter()
        .flat_map(|i| i.link_aliases.iter().cloned())
        .collect();
    for (target, alias, location) in pending {
        let Some(info) = infos.iter_mut().find(|i| i.decl.name == target) else {
            continue;
        };
        if !info
            .decl
            .aliases
            .iter()
            .any(|a| a.name == alias && a.kind == AliasKind::LinkAlias)
        {
            info.decl.aliases.push(Alias {
                name: alias,
                kind: AliasKind::LinkAlias,
                location,
            });
        }
    }
}

/// A Traefik proxy with the docker provider routes to every service carrying `traefik.*`
/// labels (unless `traefik.enable=false`): a reference from the proxy, cited at the label.
fn traefik_references(infos: &[ServiceInfo], scope: &Scope, out: &mut RepoFacts) {
    for proxy in infos.iter().filter(|i| i.is_traefik) {
        for target in infos {
            if target.decl.name == proxy.decl.name || target.traefik_enabled == Some(false) {
                continue;
            }
            let Some((key, location)) = &target.traefik_label else {
                continue;
            };
            out.references.push(Reference {
                from: Some(proxy.decl.name.clone()),
                target: Target::ServiceName {
                    name: target.decl.name.clone(),
                },
                mechanism: Mechanism::Label,
                key: Some(key.clone()),
                location: location.clone(),
                scope: scope.clone(),
            });
        }
    }
}
