//! Which files form one compose project: a base file and the overlays `docker compose` is given
//! after it with `-f`, named by `COMPOSE_FILE` in the project's `.env` or found from their content.
//!
//! An overlay found by content is a YAML file with a `services:` map that cannot run on its own
//! but can on top of a base in its folder or a folder above: it completes a service the base
//! declares (no `image`/`build`), or it references a service, network or volume it does not
//! declare and the base does (`depends_on: [prosody]`, `networks: [meet.jitsi]`). A file that
//! declares everything it uses is a complete application and stays its own project.

use super::project::{include_entries, project_env, services_of};
use super::{is_compose_file_name, is_test_harness_name};
use crate::source::{RepoFiles, SourceFile, file_name, join_repo_path, parent_dir};
use crate::yaml::{self, Node};
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// Files a base compose file is layered with, and the reverse.
#[derive(Debug, Default)]
pub(crate) struct Layering {
    /// Base path → overlay paths in `-f` order (after the base and its `.override` file).
    overlays: BTreeMap<String, Vec<String>>,
    /// Overlay path → base path.
    base_of: HashMap<String, String>,
    /// Files other compose files read through `extends: {file: …}` whose services are all
    /// fragments (no image, no build): a library of settings, not a project.
    fragments: BTreeSet<String>,
}

impl Layering {
    /// The overlays of a base file, in `-f` order.
    pub fn overlays_of(&self, base: &str) -> &[String] {
        self.overlays.get(base).map_or(&[], Vec::as_slice)
    }

    /// Whether the file only holds fragments other files `extends`.
    pub fn is_fragment_library(&self, path: &str) -> bool {
        self.fragments.contains(path)
    }

    /// The base a file is an overlay of.
    pub fn base_of(&self, path: &str) -> Option<&str> {
        self.base_of.get(path).map(String::as_str)
    }
}

/// The repository's layering, computed once per repository.
pub(crate) fn layering(repo: &RepoFiles) -> std::sync::Arc<Layering> {
    repo.memo("compose.layering", || compute(repo))
}

/// A file that may be a compose file, parsed.
struct Candidate<'r> {
    file: &'r SourceFile,
    shape: Shape,
    /// Files it names in `include:`.
    includes: Vec<String>,
}

/// What a compose file declares and what it uses without declaring.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct Shape {
    pub services: BTreeSet<String>,
    pub networks: BTreeSet<String>,
    pub volumes: BTreeSet<String>,
    /// Services it defines only partly (no `image`, `build` or `extends`).
    pub partial: BTreeSet<String>,
    /// Names it uses and does not declare.
    pub needs_services: BTreeSet<String>,
    pub needs_networks: BTreeSet<String>,
    pub needs_volumes: BTreeSet<String>,
}

impl Shape {
    /// Reads the declarations and uses of a compose document.
    pub fn of(root: &Node) -> Option<Shape> {
        let services = services_of(root)?;
        services.as_map()?;
        let mut shape = Shape::default();
        let names = |key: &str| -> BTreeSet<String> {
            root.get(key)
                .map(|m| m.entries().map(|(n, _, _)| n.to_string()).collect())
                .unwrap_or_default()
        };
        shape.networks = names("networks");
        shape.volumes = names("volumes");
        for (name, _, service) in services.entries() {
            shape.services.insert(name.to_string());
            let defines_container = ["image", "build", "extends"]
                .iter()
                .any(|k| service.get(k).is_some());
            if !defines_container {
                shape.partial.insert(name.to_string());
            }
            for used in used_services(service) {
                shape.needs_services.insert(used);
            }
            for network in keys_or_items(service.get("networks")) {
                shape.needs_networks.insert(network);
            }
            for volume in service
                .get("volumes")
                .and_then(Node::as_seq)
                .unwrap_or(&[])
                .iter()
                .filter_map(named_volume)
            {
                shape.needs_volumes.insert(volume);
            }
        }
        shape.needs_services.retain(|s| !shape.services.contains(s));
        shape
            .needs_networks
            .retain(|n| n != "default" && !shape.networks.contains(n));
        shape.needs_volumes.retain(|v| !shape.volumes.contains(v));
        Some(shape)
    }

    /// Whether this file cannot be run alone (compose would reject it or run half a service).
    pub fn is_incomplete(&self) -> bool {
        !(self.partial.is_empty()
            && self.needs_services.is_empty()
            && self.needs_networks.is_empty()
            && self.needs_volumes.is_empty())
    }

    /// Whether `base` supplies something this file lacks: a service it completes or uses, a
    /// network or a volume it uses.
    pub fn completed_by(&self, base: &Shape) -> bool {
        self.partial.iter().any(|s| base.services.contains(s))
            || self
                .needs_services
                .iter()
                .any(|s| base.services.contains(s))
            || self
                .needs_networks
                .iter()
                .any(|n| base.networks.contains(n))
            || self.needs_volumes.iter().any(|v| base.volumes.contains(v))
    }
}

/// Services a definition names: `depends_on`, `links`, `volumes_from`, `network_mode: service:x`.
fn used_services(service: &Node) -> Vec<String> {
    let mut used = keys_or_items(service.get("depends_on"));
    used.extend(
        keys_or_items(service.get("links"))
            .into_iter()
            .filter_map(|l| l.split(':').next().map(str::to_string)),
    );
    for item in keys_or_items(service.get("volumes_from")) {
        if !item.starts_with("container:") {
            let name = item.strip_prefix("service:").unwrap_or(&item);
            if let Some(name) = name.split(':').next() {
                used.push(name.to_string());
            }
        }
    }
    if let Some(name) = service
        .get("network_mode")
        .and_then(Node::as_str)
        .and_then(|m| m.strip_prefix("service:"))
    {
        used.push(name.to_string());
    }
    used.retain(|u| !u.is_empty() && !u.contains('$'));
    used
}

/// The keys of a map or the strings of a list.
fn keys_or_items(node: Option<&Node>) -> Vec<String> {
    let Some(node) = node else {
        return Vec::new();
    };
    if let Some(list) = node.as_seq() {
        return list
            .iter()
            .filter_map(Node::as_str)
            .map(str::to_string)
            .collect();
    }
    node.entries().map(|(k, _, _)| k.to_string()).collect()
}

/// The named volume of a mount (`data:/var/lib/x`, `{type: volume, source: data}`), not a bind.
fn named_volume(mount: &Node) -> Option<String> {
    let source = match mount.as_str() {
        Some(short) => {
            let (source, _) = short.split_once(':')?;
            source.to_string()
        }
        None => {
            if mount.get("type").and_then(Node::as_str) != Some("volume") {
                return None;
            }
            mount.get("source")?.as_str()?.to_string()
        }
    };
    let named = source
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphanumeric())
        && source
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'));
    named.then_some(source)
}

/// Whether the file name is one `docker compose` reads by default (a project's base).
fn is_default_name(name: &str) -> bool {
    matches!(
        name,
        "compose.yaml" | "compose.yml" | "docker-compose.yml" | "docker-compose.yaml"
    )
}

fn is_yaml(path: &str) -> bool {
    path.ends_with(".yml") || path.ends_with(".yaml")
}

/// Whether a YAML text has a top-level `services:` key (cheap filter before parsing).
fn has_services_key(text: &str) -> bool {
    text.starts_with("services:") || text.contains("\nservices:")
}

/// `COMPOSE_FILE` of the `.env` in `dir`: the `-f` files, resolved against `dir`.
pub(crate) fn compose_file_list(repo: &RepoFiles, dir: &str) -> Option<Vec<String>> {
    let env = repo.get(&join_repo_path(dir, ".env")?)?;
    // `COMPOSE_FILE="${COMPOSE_FILE:-dev/compose.yaml}"`: the process environment is not
    // ours, so the default applies.
    let vars = project_env(&env.text);
    let value = vars.get("COMPOSE_FILE")?.clone();
    let separator = vars
        .get("COMPOSE_PATH_SEPARATOR")
        .filter(|s| !s.is_empty())
        .map_or(":", String::as_str);
    let files: Vec<String> = value
        .split(separator)
        .map(str::trim)
        .filter(|f| !f.is_empty())
        .filter_map(|f| join_repo_path(dir, f))
        .collect();
    (!files.is_empty()).then_some(files)
}

fn compute(repo: &RepoFiles) -> Layering {
    let mut layering = Layering::default();
    // 1. `COMPOSE_FILE` in a `.env`: the first file is the base, the others its overlays.
    for env in repo.files().iter().filter(|f| f.file_name() == ".env") {
        let Some(files) = compose_file_list(repo, env.dir()) else {
            continue;
        };
        let Some((base, overlays)) = files.split_first() else {
            continue;
        };
        if repo.get(base).is_none() {
            continue;
        }
        for overlay in overlays {
            if overlay == base || repo.get(overlay).is_none() {
                continue;
            }
            if layering.base_of.contains_key(overlay) {
                continue;
            }
            layering.base_of.insert(overlay.clone(), base.clone());
            layering
                .overlays
                .entry(base.clone())
                .or_default()
                .push(overlay.clone());
        }
    }
    // 2. Overlays found by content.
    let candidates: Vec<Candidate<'_>> = repo
        .files()
        .iter()
        .filter(|f| is_yaml(&f.path) && has_services_key(&f.text))
        .filter_map(|file| {
            let root = yaml::parse(&file.text).ok()??;
            let shape = Shape::of(&root)?;
            let includes = include_entries(&root)
                .into_iter()
                .filter_map(Node::as_str)
                .filter_map(|rel| join_repo_path(file.dir(), rel))
                .collect();
            Some(Candidate {
                file,
                shape,
                includes,
            })
        })
        .collect();
    let by_path: HashMap<&str, &Candidate<'_>> = candidates
        .iter()
        .map(|c| (c.file.path.as_str(), c))
        .collect();
    // A base's project also declares what its `include:`d files declare.
    let bases: HashMap<&str, Shape> = candidates
        .iter()
        .filter(|c| is_default_name(c.file.file_name()))
        .map(|c| {
            let mut shape = Shape {
                services: c.shape.services.clone(),
                networks: c.shape.networks.clone(),
                volumes: c.shape.volumes.clone(),
                ..Shape::default()
            };
            for included in c.includes.iter().filter_map(|p| by_path.get(p.as_str())) {
                shape
                    .services
                    .extend(included.shape.services.iter().cloned());
                shape
                    .networks
                    .extend(included.shape.networks.iter().cloned());
                shape.volumes.extend(included.shape.volumes.iter().cloned());
            }
            (c.file.path.as_str(), shape)
        })
        .collect();
    let referenced = referenced_files(&candidates);
    layering.fragments = candidates
        .iter()
        .filter(|c| referenced.extended.contains(&c.file.path))
        .filter(|c| c.shape.partial.len() == c.shape.services.len())
        .map(|c| c.file.path.clone())
        .collect();
    for candidate in &candidates {
        let path = candidate.file.path.as_str();
        let name = candidate.file.file_name();
        if bases.contains_key(path)
            || layering.base_of.contains_key(path)
            || layering.overlays.contains_key(path)
            || referenced.contains(path)
            || name.contains(".override.")
            || is_test_harness_name(name)
            || !candidate.shape.is_incomplete()
        {
            continue;
        }
        let Some(base) = nearest_base(path, &bases, &candidate.shape) else {
            continue;
        };
        layering.base_of.insert(path.to_string(), base.to_string());
        layering
            .overlays
            .entry(base.to_string())
            .or_default()
            .push(path.to_string());
    }
    layering
}

/// Files some candidate names in `include:` or `extends: {file: …}`: their services are read
/// by reference, they are not layered over anything.
fn referenced_files(candidates: &[Candidate<'_>]) -> Referenced {
    let mut referenced = Referenced::default();
    for candidate in candidates
        .iter()
        .filter(|c| c.file.text.contains("include") || c.file.text.contains("extends"))
    {
        let Some(root) = yaml::parse(&candidate.file.text).ok().flatten() else {
            continue;
        };
        let extended: Vec<&Node> = services_of(&root)
            .map(|s| s.entries().collect::<Vec<_>>())
            .unwrap_or_default()
            .into_iter()
            .filter_map(|(_, _, service)| service.get("extends")?.get("file"))
            .collect();
        let resolve = |n: &Node| {
            n.as_str()
                .and_then(|rel| join_repo_path(candidate.file.dir(), rel))
        };
        referenced
            .included
            .extend(include_entries(&root).into_iter().filter_map(resolve));
        referenced
            .extended
            .extend(extended.into_iter().filter_map(resolve));
    }
    referenced
}

/// Files named by `include:` and by `extends: {file: …}`.
#[derive(Default)]
struct Referenced {
    included: BTreeSet<String>,
    extended: BTreeSet<String>,
}

impl Referenced {
    fn contains(&self, path: &str) -> bool {
        self.included.contains(path) || self.extended.contains(path)
    }
}

/// The base in the overlay's folder or the nearest folder above that completes it.
fn nearest_base<'b>(path: &str, bases: &HashMap<&'b str, Shape>, shape: &Shape) -> Option<&'b str> {
    let mut dir = parent_dir(path);
    loop {
        let mut here: Vec<&&str> = bases.keys().filter(|b| parent_dir(b) == dir).collect();
        here.sort();
        if let Some(base) = here
            .into_iter()
            .find(|b| bases.get(**b).is_some_and(|base| shape.completed_by(base)))
        {
            return Some(base);
        }
        if dir.is_empty() {
            return None;
        }
        dir = parent_dir(dir);
    }
}

/// Whether the compose extractor should look at a file: compose-named, or any YAML file that
/// is an overlay of a base.
pub(crate) fn is_overlay(repo: &RepoFiles, path: &str) -> bool {
    is_yaml(path) && layering(repo).base_of(path).is_some()
}

/// Whether a non-compose-named file is worth the layering check at all.
pub(crate) fn may_be_overlay(path: &str) -> bool {
    is_yaml(path) && !is_compose_file_name(file_name(path))
}
