//! JavaScript workspaces (npm/yarn `workspaces`, `pnpm-workspace.yaml`, `lerna.json`): members become
//! services with their internal dependencies; any package.json also gives its dev proxy and ports.
//!
//! A package.json is a member when the nearest enclosing workspace root lists its directory in
//! its globs. Non-members (plain apps) get loose facts only: the CRA `proxy` URL and the port
//! their `dev`/`start` scripts listen on, attributed later to whoever owns the file.
//!
//! For frontends it also records where the page is served, for CORS checks: the dev server a
//! script runs (`scripts.dev=vite`), the `vite preview` port (`PREVIEW_PORT`), the deployed
//! URL in `homepage` (as `PUBLIC_URL`, which CRA derives from it), and the dev-server port of `angular.json` / Nx `project.json`
//! (`serve.options.port`).

pub mod glob;
pub mod range;
pub mod scripts;
pub mod tasks;

use crate::config_urls::json::{self, parse_json};
use crate::emit;
use crate::extractor::{Extractor, Handled};
use crate::source::{RepoFiles, SourceFile, file_name, join_repo_path, parent_dir};
use crate::yaml::{self, Node};
use glob::Globs;
use scripts::PortOrigin;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use switchyard_model::{
    Diagnostic, DiagnosticCode, Endpoint, EndpointKind, Mechanism, Reference, RepoFacts, Scope,
    ServiceDecl, ServiceKind, Target,
};

pub struct WorkspaceExtractor;

/// Dependency sections whose workspace entries are edges between packages.
const DEPENDENCY_SECTIONS: [&str; 4] = [
    "dependencies",
    "devDependencies",
    "peerDependencies",
    "optionalDependencies",
];

/// Version specs that point at a local package rather than the registry.
const LOCAL_SPEC_PREFIXES: [&str; 4] = ["workspace:", "link:", "file:", "portal:"];

/// Scopes shared with the public registry, never a sign of an internal package.
const PUBLIC_SCOPES: [&str; 1] = ["@types"];

/// A workspace: its root directory, member globs and how its package manager links members.
#[derive(Debug, Clone)]
pub struct Workspace {
    pub root: String,
    pub globs: Globs,
    pub manager: PackageManager,
    /// pnpm's `link-workspace-packages` (`.npmrc`, or `linkWorkspacePackages` in
    /// `pnpm-workspace.yaml`): a plain version range on a member's name links the member.
    pub link_workspace_packages: bool,
}

/// Which package manager installs a workspace: pnpm when the root has a `pnpm-workspace.yaml`,
/// else npm, yarn or bun, which all link a member when the range admits its version.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PackageManager {
    Pnpm,
    /// npm, yarn and bun.
    Npm,
}

/// The members of a workspace by name (with their `version`), and the scopes of their names.
#[derive(Debug, Default)]
pub struct Members {
    pub versions: BTreeMap<String, Option<String>>,
    /// Scopes of member names (`@repo`), without scopes shared with the public registry.
    pub scopes: BTreeSet<String>,
}

impl Workspace {
    /// Whether a package directory belongs to this workspace's members.
    pub fn has_member(&self, dir: &str) -> bool {
        let relative = if self.root.is_empty() {
            Some(dir)
        } else if dir == self.root {
            Some("")
        } else {
            dir.strip_prefix(&self.root)
                .and_then(|rest| rest.strip_prefix('/'))
        };
        relative.is_some_and(|r| self.globs.matches(r))
    }

    /// The member packages (read cheaply, without a full parse), computed once per workspace
    /// root and repository.
    pub fn members(&self, repo: &RepoFiles) -> Arc<Members> {
        let key = format!("workspace.members:{}", self.root);
        repo.memo(&key, || {
            let versions: BTreeMap<String, Option<String>> = repo
                .files()
                .iter()
                .filter(|f| f.file_name() == "package.json" && self.has_member(f.dir()))
                .filter_map(|f| {
                    let [name, version] = top_level_strings(&f.text, ["name", "version"]);
                    Some((name?, version))
                })
                .collect();
            let scopes = versions
                .keys()
                .filter_map(|m| scope_of(m))
                .filter(|s| !PUBLIC_SCOPES.contains(s))
                .map(str::to_string)
                .collect();
            Members { versions, scopes }
        })
    }

    /// Names of all member packages.
    pub fn member_names(&self, repo: &RepoFiles) -> BTreeSet<String> {
        self.members(repo).versions.keys().cloned().collect()
    }
}

/// The workspace enclosing `dir` (nearest root first). `own` is the already parsed
/// package.json of `dir`, so it is not read twice.
pub fn find_workspace(repo: &RepoFiles, dir: &str, own: Option<&Node>) -> Option<Workspace> {
    let mut current = Some(dir.to_string());
    while let Some(candidate) = current {
        // Every member asks about the same few roots: each folder is read once per repository.
        let key = format!("workspace.root:{candidate}");
        let found = repo.memo(&key, || {
            workspace_at(
                repo,
                &candidate,
                (candidate == dir).then_some(own).flatten(),
            )
        });
        if let Some(workspace) = found.as_ref() {
            return Some(workspace.clone());
        }
        current = (!candidate.is_empty()).then(|| parent_dir(&candidate).to_string());
    }
    None
}

/// The workspace whose root is `candidate`, if its files declare one.
fn workspace_at(repo: &RepoFiles, candidate: &str, own: Option<&Node>) -> Option<Workspace> {
    let mut patterns: Vec<String> = Vec::new();
    let mut manager = PackageManager::Npm;
    let mut link_workspace_packages = false;
    if let Some(pnpm) = repo.get(&join(candidate, "pnpm-workspace.yaml")) {
        manager = PackageManager::Pnpm;
        if let Ok(Some(doc)) = yaml::parse(&pnpm.text) {
            patterns.extend(string_list(doc.get("packages")));
            link_workspace_packages |= doc
                .get("linkWorkspacePackages")
                .is_some_and(|v| v.as_bool() == Some(true) || v.as_str() == Some("deep"));
        }
    }
    let manifest = match own {
        Some(own) => Some(own.clone()),
        None => repo
            .get(&join(candidate, "package.json"))
            .and_then(|f| parse_json(f).ok().flatten()),
    };
    if let Some(manifest) = manifest {
        patterns.extend(workspace_patterns(&manifest));
    }
    if patterns.is_empty()
        && let Some(lerna) = repo.get(&join(candidate, "lerna.json"))
        && let Ok(Some(doc)) = parse_json(lerna)
    {
        // Lerna's own package list; `packages/*` is its default.
        patterns = string_list(doc.get("packages"));
        if patterns.is_empty() {
            patterns.push("packages/*".to_string());
        }
    }
    if patterns.is_empty() {
        return None;
    }
    if manager == PackageManager::Pnpm {
        link_workspace_packages |= npmrc_links_workspace_packages(repo, candidate);
    }
    Some(Workspace {
        root: candidate.to_string(),
        globs: Globs::new(patterns.iter().map(String::as_str)),
        manager,
        link_workspace_packages,
    })
}

/// `link-workspace-packages=true` (or `deep`) in the `.npmrc` of the workspace root.
fn npmrc_links_workspace_packages(repo: &RepoFiles, root: &str) -> bool {
    let Some(npmrc) = repo.get(&join(root, ".npmrc")) else {
        return false;
    };
    npmrc.text.lines().any(|line| {
        let line = line.trim();
        let Some((key, value)) = line.split_once('=') else {
            return false;
        };
        key.trim() == "link-workspace-packages"
            && matches!(value.trim().trim_matches('"'), "true" | "deep")
    })
}

/// The `name` of the package.json in `dir`, if there is one.
pub fn package_name_in(repo: &RepoFiles, dir: &str) -> Option<String> {
    let file = repo.get(&join(dir, "package.json"))?;
    let doc = parse_json(file).ok().flatten()?;
    doc.get("name")?.as_str().map(str::to_string)
}

fn join(dir: &str, name: &str) -> String {
    join_repo_path(dir, name).unwrap_or_else(|| name.to_string())
}

/// `workspaces: [...]` or `workspaces: { packages: [...] }` (yarn).
fn workspace_patterns(manifest: &Node) -> Vec<String> {
    match manifest.get("workspaces") {
        Some(w) if w.as_seq().is_some() => string_list(Some(w)),
        Some(w) => string_list(w.get("packages")),
        None => Vec::new(),
    }
}

fn string_list(node: Option<&Node>) -> Vec<String> {
    node.and_then(Node::as_seq)
        .unwrap_or(&[])
        .iter()
        .filter_map(|n| n.as_str().map(str::to_string))
        .collect()
}

/// The top-level `"name"` string of a package.json, by a light scan (no tree built).
fn top_level_name(text: &str) -> Option<String> {
    let [name] = top_level_strings(text, ["name"]);
    name
}

/// Top-level string members of a package.json by a light scan (no tree built): member names
/// and versions are needed for every package of a workspace, so this must stay cheap. A key
/// whose value is not a string gives `None`.
fn top_level_strings<const N: usize>(text: &str, keys: [&str; N]) -> [Option<String>; N] {
    let mut found: [Option<String>; N] = std::array::from_fn(|_| None);
    let mut done = [false; N];
    let bytes = text.as_bytes();
    let mut depth = 0usize;
    let mut i = 0;
    let mut expecting: Option<usize> = None;
    while i < bytes.len() && done.iter().any(|d| !d) {
        let b = bytes[i];
        if let Some(k) = expecting
            && !matches!(b, b'"' | b':' | b' ' | b'\t' | b'\r' | b'\n')
        {
            done[k] = true;
            expecting = None;
        }
        match b {
            b'{' | b'[' => depth += 1,
            b'}' | b']' => depth = depth.saturating_sub(1),
            b'"' => {
                let start = i;
                i += 1;
                while i < bytes.len() && bytes[i] != b'"' {
                    i += if bytes[i] == b'\\' { 2 } else { 1 };
                }
                let Some(raw) = text.get(start..(i + 1).min(text.len())) else {
                    break;
                };
                if let Some(k) = expecting.take() {
                    found[k] = serde_json::from_str::<String>(raw).ok();
                    done[k] = true;
                } else if depth == 1
                    && let Some(k) = keys.iter().position(|key| {
                        raw.len() == key.len() + 2 && raw.get(1..raw.len() - 1) == Some(*key)
                    })
                    && !done[k]
                {
                    let rest = text.get(i + 1..).unwrap_or_default().trim_start();
                    if rest.starts_with(':') {
                        expecting = Some(k);
                    }
                }
            }
            _ => {}
        }
        i += 1;
    }
    found
}

fn scope_of(name: &str) -> Option<&str> {
    name.starts_with('@')
        .then(|| name.split('/').next())
        .flatten()
}

impl Extractor for WorkspaceExtractor {
    fn name(&self) -> &'static str {
        "workspace"
    }

    fn accepts(&self, path: &str) -> bool {
        matches!(
            file_name(path),
            "package.json"
                | "pnpm-workspace.yaml"
                | "lerna.json"
                | "angular.json"
                | "project.json"
                | ".npmrc"
                | "turbo.json"
                | "nx.json"
        ) && !path.split('/').any(|d| d == "node_modules")
    }

    fn extract(&self, file: &SourceFile, repo: &RepoFiles, out: &mut RepoFacts) -> Handled {
        match file.file_name() {
            // Read by package.json files for `link-workspace-packages`; others may read it too.
            ".npmrc" => return Handled::NotMine,
            "turbo.json" => {
                tasks::read_turbo(file, repo, out);
                return Handled::Yes;
            }
            "nx.json" => {
                tasks::read_nx(file, repo, out);
                return Handled::Yes;
            }
            // Read for their globs by package.json files; only their syntax is checked here.
            "pnpm-workspace.yaml" => {
                if let Err(e) = yaml::parse(&file.text) {
                    out.diagnostics.push(e.diagnostic(file));
                }
                return Handled::Yes;
            }
            "lerna.json" => {
                if let Err(diagnostic) = parse_json(file) {
                    out.diagnostics.push(diagnostic);
                }
                return Handled::Yes;
            }
            "angular.json" | "project.json" => {
                match parse_json(file) {
                    Ok(Some(doc)) => {
                        if file.file_name() == "project.json" {
                            tasks::read_project(&doc, file, repo, out);
                        }
                        if let Some(host) = serve_option(&doc, "host")
                            && let Some(value) = host.as_str()
                        {
                            emit::record_setting(
                                out,
                                None,
                                "HOST",
                                value,
                                json::value_location(host, file),
                            );
                        }
                        if let Some(port) = serve_port(&doc) {
                            emit::record_env(
                                out,
                                None,
                                &Scope::Host,
                                "PORT",
                                &port.1.to_string(),
                                json::value_location(port.0, file),
                                Mechanism::Env,
                            );
                        }
                    }
                    Ok(None) => {}
                    Err(diagnostic) => out.diagnostics.push(diagnostic),
                }
                return Handled::Yes;
            }
            _ => {}
        }
        let manifest = match parse_json(file) {
            Ok(Some(doc)) => doc,
            Ok(None) => return Handled::Yes,
            Err(diagnostic) => {
                out.diagnostics.push(diagnostic);
                return Handled::Yes;
            }
        };
        if manifest.as_map().is_none() {
            return Handled::Yes;
        }
        let dir = file.dir();
        let workspace = find_workspace(repo, dir, Some(&manifest));
        let member = workspace.as_ref().filter(|w| w.has_member(dir));
        let name = manifest
            .get("name")
            .filter(|n| n.as_str().is_some_and(|s| !s.trim().is_empty()));
        let owner = match (member, name) {
            (Some(workspace), Some(name_node)) => {
                let name = name_node.as_str().unwrap_or_default().to_string();
                declare_package(file, &manifest, name_node, &name, out);
                decl_owns_dir(out, file);
                package_references(file, repo, workspace, &manifest, &name, out);
                Some(name)
            }
            // A package outside any workspace that is published (another repository can install
            // it) is a package of the fleet; it owns no files, its repository's services do.
            (None, Some(name_node)) if is_published(&manifest) => {
                let name = name_node.as_str().unwrap_or_default().to_string();
                declare_package(file, &manifest, name_node, &name, out);
                registry_references(file, &manifest, Some(&name), out);
                Some(name)
            }
            (None, _) => {
                registry_references(file, &manifest, None, out);
                None
            }
            (Some(_), None) => None,
        };
        record_proxy(file, &manifest, owner.as_deref(), out);
        record_script_ports(file, repo, &manifest, owner.as_deref(), out);
        record_homepage(file, &manifest, owner.as_deref(), out);
        Handled::Yes
    }
}

fn declare_package(
    file: &SourceFile,
    manifest: &Node,
    name_node: &Node,
    name: &str,
    out: &mut RepoFacts,
) {
    let location = json::value_location(name_node, file);
    let mut decl = ServiceDecl::new(name, ServiceKind::Package, Scope::Host, location.clone());
    decl.endpoints.push(Endpoint {
        kind: EndpointKind::Package {
            name: name.to_string(),
            version: manifest
                .get("version")
                .and_then(Node::as_str)
                .map(str::to_string),
        },
        location,
    });
    out.services.push(decl);
}

/// A workspace member owns its folder: loose files in it are the package's.
fn decl_owns_dir(out: &mut RepoFacts, file: &SourceFile) {
    if let Some(decl) = out.services.last_mut() {
        decl.owned_paths.push(file.dir().to_string());
    }
}

/// Whether another repository can install this package from a registry: not `private`, with a
/// version and what only a library ships (an export map, types, a file list, publish settings,
/// a `bin`), or a `main` without a `start` script (an application's package.json has a
/// `main` to start, not to import).
fn is_published(manifest: &Node) -> bool {
    const LIBRARY_KEYS: [&str; 7] = [
        "module",
        "exports",
        "types",
        "typings",
        "files",
        "bin",
        "publishConfig",
    ];
    let starts = manifest
        .get("scripts")
        .is_some_and(|s| s.get("start").is_some());
    manifest.get("private").and_then(Node::as_bool) != Some(true)
        && manifest.get("version").and_then(Node::as_str).is_some()
        && (LIBRARY_KEYS.iter().any(|k| manifest.get(k).is_some())
            || (manifest.get("main").is_some() && !starts))
}

/// One [`Mechanism::Registry`] reference per dependency of an application or a published
/// package outside any workspace (see [`registry_reference`]). `from` is the declared package,
/// or `None` for an application's package.json (its owner is found later by the file's folder).
fn registry_references(
    file: &SourceFile,
    manifest: &Node,
    from: Option<&str>,
    out: &mut RepoFacts,
) {
    for section in DEPENDENCY_SECTIONS {
        let Some(deps) = manifest.get(section) else {
            continue;
        };
        for (dep, key_node, spec_node) in deps.entries() {
            let spec = spec_node.as_str().unwrap_or("").trim();
            if LOCAL_SPEC_PREFIXES.iter().any(|p| spec.starts_with(p)) {
                continue;
            }
            out.references
                .extend(registry_reference(file, section, dep, key_node, spec, from));
        }
    }
}

/// A dependency installed from a registry (any version range, a git URL, an `npm:` alias): it
/// becomes a build edge when a repository of the fleet publishes that package, and is ignored
/// otherwise. `None` for a dependency on the package itself.
fn registry_reference(
    file: &SourceFile,
    section: &str,
    dep: &str,
    key_node: &Node,
    spec: &str,
    from: Option<&str>,
) -> Option<Reference> {
    // `"alias": "npm:real-name@^1"` installs `real-name`.
    let target = spec
        .strip_prefix("npm:")
        .map(|rest| match rest.get(1..).and_then(|r| r.find('@')) {
            Some(at) => &rest[..at + 1],
            None => rest,
        })
        .filter(|n| !n.is_empty())
        .unwrap_or(dep);
    if from == Some(target) {
        return None;
    }
    Some(Reference {
        from: from.map(str::to_string),
        target: Target::Package {
            name: target.to_string(),
            spec: spec.to_string(),
        },
        mechanism: Mechanism::Registry,
        key: Some(format!("{section}.{dep}")),
        location: json::value_location(key_node, file),
        scope: Scope::Host,
    })
}

/// One reference per dependency on another package of the workspace, as its package manager
/// links them: `workspace:` (or other local) specs always; a member's name with a plain range
/// when npm, yarn or bun would link it (the range admits the member's `version`) or pnpm with
/// `link-workspace-packages`; names in the members' own scopes (`@repo/*`) that no member has,
/// as dangling internal dependencies. A member's name the package manager would not link is a
/// [`DiagnosticCode::RegistryInstall`] finding and no edge: the registry's package of that name
/// would be installed.
fn package_references(
    file: &SourceFile,
    repo: &RepoFiles,
    workspace: &Workspace,
    manifest: &Node,
    own_name: &str,
    out: &mut RepoFacts,
) {
    let mut members: Option<Arc<Members>> = None;
    for section in DEPENDENCY_SECTIONS {
        let Some(deps) = manifest.get(section) else {
            continue;
        };
        for (dep, key_node, spec_node) in deps.entries() {
            if dep == own_name {
                continue;
            }
            let spec = spec_node.as_str().unwrap_or("").trim();
            let local_spec =
                LOCAL_SPEC_PREFIXES.iter().any(|p| spec.starts_with(p)) && !spec.ends_with(".tgz");
            if !local_spec {
                let members = members.get_or_insert_with(|| workspace.members(repo));
                if let Some(version) = members.versions.get(dep) {
                    let links = (workspace.manager == PackageManager::Npm
                        || workspace.link_workspace_packages)
                        && range::satisfies(spec, version.as_deref());
                    if !links {
                        out.diagnostics.push(registry_install(
                            file, workspace, section, dep, key_node, spec, version,
                        ));
                        continue;
                    }
                } else if !scope_of(dep).is_some_and(|s| members.scopes.contains(s)) {
                    out.references.extend(registry_reference(
                        file,
                        section,
                        dep,
                        key_node,
                        spec,
                        Some(own_name),
                    ));
                    continue;
                }
            }
            // `"alias": "file:../lib"` installs the package in that folder under the alias:
            // the dependency is on the package named there.
            let target = linked_package_name(file, repo, spec).unwrap_or_else(|| dep.to_string());
            if target == own_name {
                continue;
            }
            out.references.push(Reference {
                from: Some(own_name.to_string()),
                target: Target::Package {
                    name: target,
                    spec: spec.to_string(),
                },
                mechanism: Mechanism::Workspace,
                key: Some(format!("{section}.{dep}")),
                location: json::value_location(key_node, file),
                scope: Scope::Host,
            });
        }
    }
}

/// The finding for a member's name the package manager would fetch from the registry.
fn registry_install(
    file: &SourceFile,
    workspace: &Workspace,
    section: &str,
    dep: &str,
    key_node: &Node,
    spec: &str,
    version: &Option<String>,
) -> Diagnostic {
    let why = if workspace.manager == PackageManager::Pnpm && !workspace.link_workspace_packages {
        "pnpm links workspace packages only for `workspace:` specs (link-workspace-packages is off)"
            .to_string()
    } else {
        match version {
            Some(v) => format!("the range does not admit the workspace package's version {v}"),
            None => "the workspace package has no version".to_string(),
        }
    };
    Diagnostic::new(
        DiagnosticCode::RegistryInstall,
        format!(
            "{section}.{dep} \"{spec}\" would install from the registry, not the workspace package {dep}: {why}"
        ),
        json::value_location(key_node, file),
    )
}

/// The `name` of the package a `file:`/`link:` spec points at, when its package.json is in
/// the repository (a tarball or a folder outside it gives `None`).
fn linked_package_name(file: &SourceFile, repo: &RepoFiles, spec: &str) -> Option<String> {
    let path = spec
        .strip_prefix("file:")
        .or_else(|| spec.strip_prefix("link:"))?
        .trim();
    if path.ends_with(".tgz") || path.ends_with(".tar.gz") {
        return None;
    }
    let dir = crate::source::join_repo_path(file.dir(), path)?;
    let manifest = repo.get(&join(&dir, "package.json"))?;
    top_level_name(&manifest.text)
}

/// Create React App's `proxy`: the dev server forwards API calls to this address.
fn record_proxy(file: &SourceFile, manifest: &Node, owner: Option<&str>, out: &mut RepoFacts) {
    let Some(proxy) = manifest.get("proxy") else {
        return;
    };
    let mut record = |node: &Node| {
        if let Some(value) = node.as_str() {
            emit::record_address(
                out,
                owner,
                &Scope::Host,
                "proxy",
                value,
                json::value_location(node, file),
                Mechanism::Url,
            );
        }
    };
    if proxy.as_map().is_some() {
        // CRA 1.x: `"proxy": { "/api": { "target": "http://…" } }`.
        for (_, _, route) in proxy.entries() {
            if let Some(target) = route.get("target") {
                record(target);
            } else {
                record(route);
            }
        }
    } else {
        record(proxy);
    }
}

/// `PORT` env entries for the ports the scripts listen on (attribute turns them into the
/// owner's listening ports; `PREVIEW_PORT` for `vite preview`, which is no dev server). Defaults
/// are skipped when a config or `.env` sets the port. The first script that runs a frontend
/// server is recorded as `scripts.<name>=<command>`: the package is a browser app.
fn record_script_ports(
    file: &SourceFile,
    repo: &RepoFiles,
    manifest: &Node,
    owner: Option<&str>,
    out: &mut RepoFacts,
) {
    let Some(scripts) = manifest.get("scripts") else {
        return;
    };
    let mut seen: Vec<(u16, bool)> = Vec::new();
    let mut frontend = false;
    let mut host_seen = false;
    for (name, _, value) in scripts.entries() {
        let Some(script) = value.as_str() else {
            continue;
        };
        for port in scripts::script_ports(name, script) {
            let (number, location) = match port.origin {
                PortOrigin::Explicit { start, end } => {
                    (port.port, json::sub_location(value, file, start, end))
                }
                PortOrigin::Default(server) => match configured_port(repo, file.dir(), server) {
                    Configured::No => (port.port, json::value_location(value, file)),
                    Configured::Recorded => continue,
                    // `preview.port` of vite.config: recorded here, as nobody else does.
                    Configured::At(number, location) => (number, location),
                },
            };
            if seen.contains(&(number, port.preview)) {
                continue;
            }
            seen.push((number, port.preview));
            emit::record_env(
                out,
                owner,
                &Scope::Host,
                if port.preview { "PREVIEW_PORT" } else { "PORT" },
                &number.to_string(),
                location,
                Mechanism::Env,
            );
        }
        if !host_seen && let Some((host, start, end)) = scripts::script_host(name, script) {
            host_seen = true;
            emit::record_setting(
                out,
                owner,
                "HOST",
                &host,
                json::sub_location(value, file, start, end),
            );
        }
        if !frontend
            && (scripts::is_server_script(name) || name == "preview")
            && let Some(command) = scripts::frontend_server(script)
        {
            frontend = true;
            emit::record_env(
                out,
                owner,
                &Scope::Host,
                &format!("scripts.{name}"),
                command,
                json::value_location(value, file),
                Mechanism::Env,
            );
        }
    }
}

/// Whether a config replaces a dev server's default port.
enum Configured {
    No,
    /// Yes, and another extractor records that port.
    Recorded,
    /// Yes: this port at this place.
    At(u16, switchyard_model::Location),
}

/// Whether the default port of `server` is replaced by a bundler config of `dir` that sets a
/// dev port (the federation extractor records that one), by `preview.port` of a vite config,
/// by `serve.options.port` of an `angular.json` (recorded when that file is read), or by
/// `PORT` in a `.env` of `dir`.
fn configured_port(repo: &RepoFiles, dir: &str, server: &scripts::DevServer) -> Configured {
    for f in repo.files() {
        if f.dir() != dir {
            continue;
        }
        let name = f.file_name();
        if server.config == Some("angular") && name == "angular.json" {
            if parse_json(f)
                .ok()
                .flatten()
                .is_some_and(|d| serve_port(&d).is_some())
            {
                return Configured::Recorded;
            }
            continue;
        }
        if let Some(tool) = server.config
            && crate::federation::is_port_config_for(tool, name)
        {
            let config = crate::federation::parse_federation(&f.text);
            if server.preview {
                if let Some(port) = config.preview_port {
                    return Configured::At(port.value, f.location(port.span.start, port.span.end));
                }
            } else if config.dev_port.is_some()
                || config.dev_port_variable.as_ref().is_some_and(|name| {
                    crate::federation::dev_env_port(repo, dir, &name.value).is_some()
                })
            {
                return Configured::Recorded;
            }
            continue;
        }
        if server.honors_port_env
            && name.starts_with(".env")
            && f.text.lines().any(|l| {
                l.trim_start()
                    .trim_start_matches("export ")
                    .starts_with("PORT=")
            })
        {
            return Configured::Recorded;
        }
    }
    Configured::No
}

/// `serve.options.<key>` of an Angular workspace's first project with one, or of an Nx
/// `project.json` (`targets.serve`).
fn serve_option<'d>(doc: &'d Node, key: &str) -> Option<&'d Node> {
    let of = |project: &'d Node| {
        ["architect", "targets"]
            .iter()
            .find_map(|k| project.get(k)?.get("serve")?.get("options")?.get(key))
    };
    if let Some(projects) = doc.get("projects").filter(|p| p.as_map().is_some()) {
        return projects.entries().find_map(|(_, _, p)| of(p));
    }
    of(doc)
}

/// `serve.options.port` of an Angular workspace (`projects.<p>.architect.serve`) or an Nx
/// `project.json` (`targets.serve`): the node holding the port, and the port.
fn serve_port(doc: &Node) -> Option<(&Node, u16)> {
    fn port_of(target: Option<&Node>) -> Option<(&Node, u16)> {
        let node = target?.get("options")?.get("port")?;
        let port = node
            .as_str()
            .and_then(|p| p.trim().parse::<u16>().ok())
            .filter(|p| *p > 0)?;
        Some((node, port))
    }
    fn serve_of(project: &Node) -> Option<(&Node, u16)> {
        ["architect", "targets"]
            .iter()
            .find_map(|k| port_of(project.get(k).and_then(|t| t.get("serve"))))
    }
    if let Some(projects) = doc.get("projects").filter(|p| p.as_map().is_some()) {
        return projects.entries().find_map(|(_, _, p)| serve_of(p));
    }
    serve_of(doc)
}

/// `homepage` (Create React App: where the built app is served, its `PUBLIC_URL`) as a
/// `PUBLIC_URL` env entry at the `homepage` value, when it is an absolute URL: the deployed
/// origin of the page. No reference: the app does not call it.
fn record_homepage(file: &SourceFile, manifest: &Node, owner: Option<&str>, out: &mut RepoFacts) {
    let Some(node) = manifest.get("homepage") else {
        return;
    };
    let Some(url) = node.as_str().map(str::trim) else {
        return;
    };
    if !(url.starts_with("https://") || url.starts_with("http://")) {
        return;
    }
    out.env.push(switchyard_model::EnvEntry {
        service: owner.map(str::to_string),
        key: "PUBLIC_URL".to_string(),
        display: switchyard_model::redact::redact_value("PUBLIC_URL", url),
        value_hash: blake3::hash(url.as_bytes()).to_hex().to_string(),
        location: json::value_location(node, file),
    });
}

#[cfg(test)]
mod tests;
