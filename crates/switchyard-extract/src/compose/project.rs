//! A compose project as files: the base file, its override, `include:`d files and files named by
//! `extends`, each parsed once; services as ordered parts (lowest precedence first) to merge.

use crate::dotenv::parse_dotenv;
use crate::interpolate::{InterpolationProblem, interpolate};
use crate::source::{RepoFiles, SourceFile, join_repo_path};
use crate::yaml::{self, Node};
use std::collections::{BTreeMap, HashMap, HashSet};
use switchyard_model::{Diagnostic, DiagnosticCode, Location, RepoFacts};

/// Most files one project may pull in through `include` and `extends`.
const MAX_DOCS: usize = 64;
/// Deepest `extends` chain followed.
const MAX_EXTENDS_DEPTH: usize = 32;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Role {
    Base,
    Override,
    /// A file layered after the base with `-f` (`COMPOSE_FILE`, or found by its content).
    Overlay,
    Include,
    /// Read only for the services other files `extends`.
    Extends,
}

/// One parsed file of the project.
pub(crate) struct Doc<'a> {
    pub file: &'a SourceFile,
    pub root: Node,
    pub role: Role,
    /// Directory whose `.env` supplies `${VAR}` values for this file.
    pub env_dir: String,
}

impl Doc<'_> {
    /// The directory relative paths of this file start from: the project directory (the
    /// base file's) for overrides and overlays, as with `docker compose -f base -f overlay`.
    pub fn dir(&self) -> &str {
        match self.role {
            Role::Override | Role::Overlay => &self.env_dir,
            _ => self.file.dir(),
        }
    }

    /// The `services` map (or the top level of a version-1 file).
    pub fn services(&self) -> Option<&Node> {
        services_of(&self.root)
    }
}

/// The services map of a compose document; version-1 files keep services at the top level.
pub(crate) fn services_of(root: &Node) -> Option<&Node> {
    if let Some(services) = root.get("services") {
        return Some(services);
    }
    let map = root.as_map()?;
    let v1 = root.get("version").is_none()
        && !map.is_empty()
        && root
            .entries()
            .all(|(_, _, v)| v.get("image").is_some() || v.get("build").is_some());
    v1.then_some(root)
}

/// A service's definitions, lowest precedence first: extended services, included files, the
/// base file, the override.
pub(crate) struct ServiceParts<'p> {
    pub name: String,
    /// Where the service is declared (its key in the base file when it has one).
    pub location: Location,
    pub parts: Vec<Part<'p>>,
}

#[derive(Clone, Copy)]
pub(crate) struct Part<'p> {
    pub doc: &'p Doc<'p>,
    pub map: &'p Node,
}

/// A top-level declaration (`networks:`, `volumes:`, `secrets:`, `configs:` entry).
#[derive(Clone, Copy)]
pub(crate) struct Decl<'p> {
    pub doc: &'p Doc<'p>,
    pub key: &'p Node,
    pub value: &'p Node,
}

pub(crate) struct Project<'a> {
    pub docs: Vec<Doc<'a>>,
    /// Parsed `.env` variables by directory.
    vars: HashMap<String, HashMap<String, String>>,
}

/// A scalar after interpolation, with where it sits in its file.
pub(crate) struct Text<'a> {
    pub value: String,
    pub file: &'a SourceFile,
    start: usize,
    end: usize,
    /// The value is the file's bytes verbatim, so offsets inside it map to the file.
    verbatim: bool,
    /// The file's bytes when they differ from `value` only by interpolation.
    raw: Option<String>,
}

impl<'a> Text<'a> {
    /// The location of the whole value (without quotes).
    pub fn location(&self) -> Location {
        self.file.location(self.start, self.end)
    }

    /// The location of `value[start..end]`, or of the whole value when the value is not the
    /// file's text verbatim (escapes, folding, interpolation).
    pub fn sub_location(&self, start: usize, end: usize) -> Location {
        if self.verbatim && start <= end && end <= self.value.len() {
            self.file.location(self.start + start, self.start + end)
        } else {
            self.location()
        }
    }

    /// The location of `value[at..]` (e.g. the part after `KEY=`), also when interpolation
    /// changed the value, as long as the text before `at` was written literally.
    pub fn tail_location(&self, at: usize) -> Location {
        match &self.raw {
            Some(raw) if raw.get(..at).is_some() && raw.get(..at) == self.value.get(..at) => {
                self.file.location(self.start + at, self.end)
            }
            _ => self.sub_location(at, self.value.len()),
        }
    }
}

/// Adds a file of the project once (bounded by `MAX_DOCS`), if it parses.
fn add_doc<'a>(
    docs: &mut Vec<Doc<'a>>,
    loaded: &mut HashSet<String>,
    file: &'a SourceFile,
    role: Role,
    env_dir: String,
    out: &mut RepoFacts,
) {
    if docs.len() >= MAX_DOCS || !loaded.insert(file.path.clone()) {
        return;
    }
    if let Some(root) = parse_into(file, out) {
        docs.push(Doc {
            file,
            root,
            role,
            env_dir,
        });
    }
}

fn parse_into(file: &SourceFile, out: &mut RepoFacts) -> Option<Node> {
    let parsed = yaml::parse_with_warnings(&file.text).map(|(root, warnings)| {
        out.diagnostics
            .extend(warnings.iter().map(|w| w.diagnostic(file)));
        root
    });
    match parsed {
        Ok(Some(root)) if root.as_map().is_some() => Some(root),
        Ok(Some(root)) => {
            out.diagnostics.push(Diagnostic::new(
                DiagnosticCode::InvalidValue,
                "compose file: the top level must be a mapping",
                root.location(file),
            ));
            None
        }
        Ok(None) => None,
        Err(e) => {
            out.diagnostics.push(e.diagnostic(file));
            None
        }
    }
}

/// Candidate override paths of a base compose file (`compose.yaml` → `compose.override.y*ml`).
pub(crate) fn override_paths(base_path: &str) -> Vec<String> {
    let dir = crate::source::parent_dir(base_path);
    let name = crate::source::file_name(base_path);
    let stem = name
        .strip_suffix(".yml")
        .or_else(|| name.strip_suffix(".yaml"))
        .unwrap_or(name);
    if stem != "docker-compose" && stem != "compose" {
        return Vec::new();
    }
    [".yml", ".yaml"]
        .iter()
        .filter_map(|ext| join_repo_path(dir, &format!("{stem}.override{ext}")))
        .collect()
}

/// The paths an `include:` entry names (string, `{path: …}` with a string or a list).
pub(crate) fn include_entries(root: &Node) -> Vec<&Node> {
    let mut nodes = Vec::new();
    for item in root.get("include").and_then(Node::as_seq).unwrap_or(&[]) {
        if item.as_str().is_some() {
            nodes.push(item);
        } else if let Some(path) = item.get("path") {
            match path.as_seq() {
                Some(list) => nodes.extend(list.iter().filter(|p| p.as_str().is_some())),
                None if path.as_str().is_some() => nodes.push(path),
                None => {}
            }
        }
    }
    nodes
}

/// The `(file, service)` an `extends` names, with the node to blame.
fn extends_target(ext: &Node) -> Option<(Option<&Node>, &Node)> {
    if ext.as_str().is_some() {
        return Some((None, ext));
    }
    let service = ext.get("service")?;
    service.as_str()?;
    Some((ext.get("file").filter(|f| f.as_str().is_some()), service))
}

impl<'a> Project<'a> {
    /// Loads the project of `base` (already parsed as `root`): override, includes, extends.
    pub fn load(
        base: &'a SourceFile,
        root: Node,
        repo: &'a RepoFiles,
        out: &mut RepoFacts,
    ) -> Self {
        let mut project = Project {
            docs: vec![Doc {
                file: base,
                root,
                role: Role::Base,
                env_dir: base.dir().to_string(),
            }],
            vars: HashMap::new(),
        };
        let mut loaded: HashSet<String> = HashSet::from([base.path.clone()]);
        for path in override_paths(&base.path) {
            if let Some(file) = repo.get(&path)
                && let Some(root) = parse_into(file, out)
            {
                loaded.insert(path);
                project.docs.push(Doc {
                    file,
                    root,
                    role: Role::Override,
                    env_dir: base.dir().to_string(),
                });
                break;
            }
        }
        for path in super::layering::layering(repo).overlays_of(&base.path) {
            if let Some(file) = repo.get(path) {
                add_doc(
                    &mut project.docs,
                    &mut loaded,
                    file,
                    Role::Overlay,
                    base.dir().to_string(),
                    out,
                );
            }
        }
        // Includes (breadth first; an included file may include more).
        let mut i = 0;
        while i < project.docs.len() {
            let mut found = Vec::new();
            let doc = &project.docs[i];
            for node in include_entries(&doc.root) {
                let Some(rel) = node.as_str() else { continue };
                match join_repo_path(doc.file.dir(), rel).and_then(|p| repo.get(&p)) {
                    Some(file) => found.push(file),
                    None => out
                        .diagnostics
                        .push(missing(doc.file, node, "included file", rel)),
                }
            }
            for file in found {
                let env_dir = file.dir().to_string();
                add_doc(
                    &mut project.docs,
                    &mut loaded,
                    file,
                    Role::Include,
                    env_dir,
                    out,
                );
            }
            i += 1;
        }
        // Files named by `extends: {file: …}`, from any loaded file (transitively). Compose
        // interpolates the whole file first, so `file:` may be `${VARIANT:-x}.yml`.
        let base_vars = dotenv_vars(repo, base.dir());
        let mut i = 0;
        while i < project.docs.len() {
            let mut found = Vec::new();
            let doc = &project.docs[i];
            for (_, _, service) in doc.services().map(|s| s.entries()).into_iter().flatten() {
                let Some((Some(file_node), _)) = service.get("extends").and_then(extends_target)
                else {
                    continue;
                };
                let rel = interpolated(file_node.as_str().unwrap_or(""), &base_vars);
                match join_repo_path(doc.file.dir(), &rel).and_then(|p| repo.get(&p)) {
                    Some(file) => found.push(file),
                    None => {
                        out.diagnostics
                            .push(missing(doc.file, file_node, "extended file", &rel))
                    }
                }
            }
            for file in found {
                let env_dir = base.dir().to_string();
                add_doc(
                    &mut project.docs,
                    &mut loaded,
                    file,
                    Role::Extends,
                    env_dir,
                    out,
                );
            }
            i += 1;
        }
        for doc in &project.docs {
            if project.vars.contains_key(&doc.env_dir) {
                continue;
            }
            project
                .vars
                .insert(doc.env_dir.clone(), dotenv_vars(repo, &doc.env_dir));
        }
        project
    }

    /// Indices of the files that declare the project, lowest precedence first.
    fn precedence(&self) -> Vec<usize> {
        let mut order = Vec::new();
        for role in [Role::Include, Role::Base, Role::Override, Role::Overlay] {
            order.extend((0..self.docs.len()).filter(|&i| self.docs[i].role == role));
        }
        order
    }

    /// Top-level declarations of one kind (`networks`, `volumes`…); later files win.
    pub fn decls(&self, kind: &str) -> BTreeMap<String, Decl<'_>> {
        let mut decls = BTreeMap::new();
        for i in self.precedence() {
            let doc = &self.docs[i];
            let Some(map) = doc.root.get(kind) else {
                continue;
            };
            for (name, key, value) in map.entries() {
                decls.insert(name.to_string(), Decl { doc, key, value });
            }
        }
        decls
    }

    /// The project's services in declaration order with their parts, `extends` expanded.
    pub fn services(&self, out: &mut RepoFacts) -> Vec<ServiceParts<'_>> {
        // Declaration order: base, then included files, then services only the override or
        // an overlay adds.
        let mut order: Vec<(String, usize)> = Vec::new();
        for role in [Role::Base, Role::Include, Role::Override, Role::Overlay] {
            for (i, doc) in self.docs.iter().enumerate().filter(|(_, d)| d.role == role) {
                let Some(services) = doc.services() else {
                    continue;
                };
                if services.as_map().is_none() {
                    if !services.is_null() {
                        out.diagnostics.push(Diagnostic::new(
                            DiagnosticCode::InvalidValue,
                            "compose file: `services` must be a mapping",
                            services.location(doc.file),
                        ));
                    }
                    continue;
                }
                for (name, _, _) in services.entries() {
                    if !order.iter().any(|(n, _)| n == name) {
                        order.push((name.to_string(), i));
                    }
                }
            }
        }
        let precedence = self.precedence();
        let mut result = Vec::new();
        for (name, declaring) in order {
            let doc = &self.docs[declaring];
            let Some((key, _)) = doc.services().and_then(|s| s.get_entry(&name)) else {
                continue;
            };
            let mut parts = Vec::new();
            let mut declared_null = false;
            for &i in &precedence {
                let doc = &self.docs[i];
                if let Some(map) = doc.services().and_then(|s| s.get(&name)) {
                    declared_null |= map.is_null();
                    let mut stack = vec![(i, name.clone())];
                    self.expand(i, map, &mut stack, &mut parts, out);
                }
            }
            // A definition that is not a mapping (`web: 5`) was reported; `web:` alone is kept.
            if parts.is_empty() && !declared_null {
                continue;
            }
            result.push(ServiceParts {
                location: key.location(doc.file),
                name,
                parts,
            });
        }
        result
    }

    /// Pushes the parts of a service definition: what it extends first, then itself.
    fn expand<'p>(
        &'p self,
        doc_index: usize,
        map: &'p Node,
        stack: &mut Vec<(usize, String)>,
        parts: &mut Vec<Part<'p>>,
        out: &mut RepoFacts,
    ) {
        let doc = &self.docs[doc_index];
        if map.as_map().is_none() {
            if !map.is_null() {
                out.diagnostics.push(Diagnostic::new(
                    DiagnosticCode::InvalidValue,
                    "compose service definition must be a mapping",
                    map.location(doc.file),
                ));
            }
            return;
        }
        if let Some((file_node, service_node)) = map.get("extends").and_then(extends_target) {
            let base_vars = self.vars.get(&self.docs[0].env_dir);
            let target_doc = match file_node.and_then(Node::as_str) {
                None => Some(doc_index),
                Some(rel) => {
                    let rel = base_vars.map_or_else(|| rel.to_string(), |v| interpolated(rel, v));
                    join_repo_path(doc.file.dir(), &rel)
                        .and_then(|p| self.docs.iter().position(|d| d.file.path == p))
                }
            };
            let empty = HashMap::new();
            let vars = self.vars.get(&doc.env_dir).unwrap_or(&empty);
            // `service: "${COMPOSE_VARIANT:-default}"` names the service after interpolation.
            let service = interpolated(service_node.as_str().unwrap_or(""), vars);
            let service = service.as_str();
            // A missing extended file was reported while loading.
            if let Some(t) = target_doc {
                let target_map = self.docs[t].services().and_then(|s| s.get(service));
                let key = (t, service.to_string());
                match target_map {
                    None => out.diagnostics.push(missing(
                        doc.file,
                        service_node,
                        "extended service",
                        service,
                    )),
                    Some(_) if stack.contains(&key) || stack.len() >= MAX_EXTENDS_DEPTH => {
                        out.diagnostics.push(Diagnostic::new(
                            DiagnosticCode::InvalidValue,
                            format!("`extends` of {service} loops back on itself; ignored"),
                            service_node.location(doc.file),
                        ));
                    }
                    Some(target_map) => {
                        stack.push(key);
                        self.expand(t, target_map, stack, parts, out);
                        stack.pop();
                    }
                }
            }
        }
        parts.push(Part { doc, map });
    }

    /// Interpolates a scalar node of `doc`. Unset variables are reported once per file.
    pub fn text<'p>(
        &self,
        doc: &Doc<'p>,
        node: &Node,
        reported: &mut HashSet<(String, String)>,
        out: &mut RepoFacts,
    ) -> Option<Text<'p>> {
        let raw = node.as_str()?;
        let file = doc.file;
        let (start, end) = node.content_span(file);
        let literal = file.text.get(start..end) == Some(raw);
        if !raw.contains('$') {
            return Some(Text {
                value: raw.to_string(),
                file,
                start,
                end,
                verbatim: literal,
                raw: None,
            });
        }
        let empty = HashMap::new();
        let vars = self.vars.get(&doc.env_dir).unwrap_or(&empty);
        let result = interpolate(raw, vars);
        for problem in &result.problems {
            if let Some(name) = problem.name()
                && !reported.insert((file.path.clone(), name.to_string()))
            {
                continue;
            }
            let at = if literal {
                start + problem.offset()
            } else {
                start
            };
            let code = match problem {
                InterpolationProblem::Malformed { .. } => DiagnosticCode::InvalidValue,
                _ => DiagnosticCode::UnsetVariable,
            };
            out.diagnostics.push(Diagnostic::new(
                code,
                problem.message(),
                file.location(at, at + 1),
            ));
        }
        Some(Text {
            verbatim: literal && result.value == raw,
            raw: (literal && result.value != raw).then(|| raw.to_string()),
            value: result.value,
            file,
            start,
            end,
        })
    }

    /// The value of a variable from the `.env` of `doc`'s project directory.
    pub fn var(&self, doc: &Doc<'_>, name: &str) -> Option<&str> {
        self.vars.get(&doc.env_dir)?.get(name).map(String::as_str)
    }
}

/// Env templates a project ships for `cp <template> .env`, in the order they are looked for.
const ENV_TEMPLATES: [&str; 6] = [
    ".env.example",
    "env.example",
    "example.env",
    ".env.sample",
    "sample.env",
    ".env.dist",
];

/// The variables of the `.env` in `dir` (compose's interpolation source). A checkout has no
/// `.env` when the project ships a template to copy instead (`cp env.example .env` is the
/// documented first step): the template's values stand for it, as they do on a machine set up
/// by the book.
fn dotenv_vars(repo: &RepoFiles, dir: &str) -> HashMap<String, String> {
    interpolation_env(repo, dir)
        .map(|f| project_env(&f.text))
        .unwrap_or_default()
}

/// The file compose reads `${VAR}` values from for a project in `dir`: its `.env`, else the
/// template that stands for it (see [`dotenv_vars`]).
pub(crate) fn interpolation_env<'r>(repo: &'r RepoFiles, dir: &str) -> Option<&'r SourceFile> {
    std::iter::once(".env")
        .chain(ENV_TEMPLATES)
        .find_map(|name| join_repo_path(dir, name).and_then(|p| repo.get(&p)))
}

/// A project `.env` as compose reads it: a value may use the variables set above it
/// (`DB_URL=postgres://${DB_HOST:-db}:5432`), except in single quotes, which are literal.
pub(crate) fn project_env(text: &str) -> HashMap<String, String> {
    let mut vars = HashMap::new();
    for entry in parse_dotenv(text).0 {
        let single_quoted = entry
            .value_start
            .checked_sub(1)
            .and_then(|i| text.as_bytes().get(i))
            == Some(&b'\'');
        let value = if single_quoted || !entry.value.contains('$') {
            entry.value
        } else {
            interpolate(&entry.value, &vars).value
        };
        vars.insert(entry.key, value);
    }
    vars
}

/// A name or path of `extends`, interpolated like the rest of the file (`${VARIANT:-default}`);
/// an unset variable without a default leaves the name empty, reported as a missing service.
fn interpolated(raw: &str, vars: &HashMap<String, String>) -> String {
    if raw.contains('$') {
        interpolate(raw, vars).value
    } else {
        raw.to_string()
    }
}

/// A `MissingFile` diagnostic at `node`.
pub(crate) fn missing(file: &SourceFile, node: &Node, what: &str, name: &str) -> Diagnostic {
    let (start, end) = node.content_span(file);
    Diagnostic::new(
        DiagnosticCode::MissingFile,
        format!("{what} {name} not found in the repository"),
        file.location(start, end),
    )
}
