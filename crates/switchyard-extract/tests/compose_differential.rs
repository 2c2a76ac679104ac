//! Differential test: every compose project of `../shared/corpus` merged by our extractor and by
//! `docker-compose config` (Debian's docker-compose 1.29, the Python implementation), compared
//! per service: the services, image, published ports, environment keys and values, volumes and
//! depends_on.
//!
//! The projects are the ones the extractor forms ([`compose::projects`]): the base file, its
//! `.override` file and its overlays, given to docker-compose with `-f` in that order and with
//! the base's folder as project directory (where both read `.env`).
//!
//! Differences with a known, legitimate cause are listed in [`KNOWN_REJECTIONS`] (projects
//! docker-compose 1.29 refuses) and [`KNOWN_DIFFERENCES`] (fields that differ on purpose), each
//! with the reason; any other difference fails the test.
//!
//! Skips with a message when the corpus or `docker-compose` is absent; fails instead when
//! `SWITCHYARD_REQUIRE_DOCKER_COMPOSE=1` (CI installs it).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;
use switchyard_extract::compose::ComposeExtractor;
use switchyard_extract::compose::{self, ProjectFiles};
use switchyard_extract::yaml::{self, Node};
use switchyard_extract::{Extractor, Limits, Registry, walk};
use switchyard_model::{EndpointKind, Mechanism, RepoFacts, ResourceKind, Scope, Target};

/// Messages of docker-compose 1.29 that reject a project our extractor reads on purpose.
const KNOWN_REJECTIONS: &[(&str, &str)] = &[
    (
        "could not determine a constructor for the tag '!reset'",
        "`!reset` is a Compose v2 YAML tag; v1 loads files with PyYAML's safe loader",
    ),
    (
        "could not determine a constructor for the tag '!override'",
        "`!override` is a Compose v2 YAML tag; v1 loads files with PyYAML's safe loader",
    ),
    (
        "Additional properties are not allowed ('include' was unexpected)",
        "top-level `include:` arrived with Compose v2.20; v1 does not know it",
    ),
    (
        "contains an invalid type",
        "an unset variable without default leaves a port or number empty (the corpus copies \
         no `.env`, e.g. `${HTTP_PORT}:80`); we keep the rest of the service and report the \
         variable",
    ),
    (
        "is not a valid integer",
        "an unset variable without default leaves a number empty (`replicas: ${REPLICAS}`); we \
         keep the rest of the service",
    ),
    (
        "Invalid interpolation format",
        "a `$` followed by no variable name (a regular expression's `$` anchor in a value): v1 \
         refuses the file, the project runs it with Compose v2; we keep the value as written",
    ),
    (
        "Missing mandatory value",
        "`${VAR:?message}` with VAR unset (the corpus copies no `.env`): v1 stops; we report \
         the unset variable and read the rest",
    ),
    (
        "Couldn't find env file",
        "an env_file the corpus did not copy (or the project never commits); we report it",
    ),
    (
        "either does not exist, is not accessible, or is not a valid URL",
        "a build context the corpus did not copy; docker-compose checks it exists",
    ),
    (
        "Cannot extend service",
        "`extends` naming a service through a variable v1 cannot resolve without the env",
    ),
    (
        "has neither an image nor a build context specified",
        "a partial file no base completes (a snippet to copy next to another project, an \
         overlay of an overlay); we read it as its own project and report nothing wrong",
    ),
    (
        "is invalid because",
        "schema checks of v1 stricter than Compose v2 (e.g. `name:`, newer keys); reported \
         with the message below for review",
    ),
];

/// Fields that differ on purpose: `(field, reason)`.
const KNOWN_DIFFERENCES: &[(&str, &str)] = &[
    (
        "environment: unset pass-through",
        "`- KEY` without a value and no value in `.env`: v1 writes `KEY: null`, we record no \
         value (there is none to hash or resolve)",
    ),
    (
        "volumes: anonymous",
        "`- /container/path` alone is a fresh anonymous volume, shared with nobody: we record \
         no resource for it",
    ),
    (
        "depends_on: a one-shot job run to completion",
        "`condition: service_completed_successfully`: the dependent starts after the job has \
         exited and never connects to it; we make no reference for that ordering",
    ),
    (
        "ports: YAML 1.1 sexagesimal",
        "v1 reads `2222:22` unquoted as the base-60 integer 133342 (YAML 1.1); Compose v2 and \
         we read YAML 1.2, where it is the string `2222:22`",
    ),
];

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn corpus() -> Option<PathBuf> {
    // Canonical: docker-compose prints bind sources as absolute paths.
    workspace_root()
        .join("../shared/corpus")
        .canonicalize()
        .ok()
}

fn docker_compose_available() -> bool {
    Command::new("docker-compose")
        .arg("version")
        .output()
        .is_ok_and(|o| o.status.success())
}

/// The folders analysed as one repository: each gen1 system, each gen2 system, each `_parse/`
/// repository.
fn repositories(corpus: &Path) -> Vec<PathBuf> {
    let mut repos = Vec::new();
    let subdirs = |dir: &Path| -> Vec<PathBuf> {
        let mut dirs: Vec<PathBuf> = std::fs::read_dir(dir)
            .map(|entries| {
                entries
                    .filter_map(|e| e.ok().map(|e| e.path()))
                    .filter(|p| p.is_dir())
                    .collect()
            })
            .unwrap_or_default();
        dirs.sort();
        dirs
    };
    for dir in subdirs(corpus) {
        match dir.file_name().and_then(|n| n.to_str()) {
            Some("gen2" | "_parse") => repos.extend(subdirs(&dir)),
            _ => repos.push(dir),
        }
    }
    repos
}

/// One service as docker-compose merged it, or as we did, in comparable form.
#[derive(Debug, Default, PartialEq)]
struct Merged {
    image: Option<String>,
    /// `(published start, published end, target, protocol)`.
    ports: BTreeSet<(u16, u16, Option<u16>, String)>,
    /// Key → value (`None`: no value).
    environment: BTreeMap<String, Option<String>>,
    /// Named volumes by name, binds by repo-relative path.
    volumes: BTreeSet<String>,
    depends_on: BTreeSet<String>,
    /// Ports v1 read as YAML 1.1 base-60 integers (`2222:22` → 133342).
    sexagesimal: Vec<u64>,
}

/// `$$` is an escaped `$` in compose files, and v1 escapes again when it prints.
fn unescape(value: &str) -> String {
    let mut value = value.to_string();
    while value.contains("$$") {
        value = value.replace("$$", "$");
    }
    value
}

fn scalar(node: &Node) -> Option<String> {
    node.as_str()
        .map(str::to_string)
        .or_else(|| node.as_u64().map(|n| n.to_string()))
        .or_else(|| node.as_bool().map(|b| b.to_string()))
}

fn range(text: &str) -> Option<(u16, u16)> {
    match text.split_once('-') {
        Some((a, b)) => Some((a.parse().ok()?, b.parse().ok()?)),
        None => {
            let p = text.parse().ok()?;
            Some((p, p))
        }
    }
}

/// A published port of docker-compose's output (`[ip:]host:container[/proto]` or long form).
fn published(port: &Node) -> Option<(u16, u16, Option<u16>, String)> {
    if let Some(text) = port.as_str() {
        let (spec, protocol) = text.split_once('/').unwrap_or((text, "tcp"));
        let (host, container) = spec.rsplit_once(':')?;
        let host = host.rsplit(':').next()?;
        let (start, end) = range(host)?;
        let target = range(container).map(|(s, _)| s);
        return Some((start, end, target, protocol.to_string()));
    }
    let (start, end) = range(&scalar(port.get("published")?)?)?;
    let target = port
        .get("target")
        .and_then(scalar)
        .and_then(|t| range(&t))
        .map(|(s, _)| s);
    let protocol = port.get("protocol").and_then(Node::as_str).unwrap_or("tcp");
    Some((start, end, target, protocol.to_string()))
}

fn relative_to(path: &str, root: &Path) -> String {
    let root = root.to_string_lossy();
    match path.strip_prefix(root.as_ref()) {
        Some("") => ".".to_string(),
        Some(rest) => rest.trim_start_matches('/').to_string(),
        None => path.to_string(),
    }
}

/// `a//b/` and `a/b` are the same path.
fn normalize_path(path: &str) -> String {
    let mut path = path.to_string();
    while path.contains("//") {
        path = path.replace("//", "/");
    }
    if path.len() > 1 {
        path = path.trim_end_matches('/').to_string();
    }
    path
}

fn theirs(service: &Node, root: &Path, known: &mut BTreeMap<&'static str, usize>) -> Merged {
    let mut merged = Merged {
        image: service.get("image").and_then(Node::as_str).map(unescape),
        ..Merged::default()
    };
    for port in service.get("ports").and_then(Node::as_seq).unwrap_or(&[]) {
        let target = port.get("target").unwrap_or(port);
        if let Some(number) = target.as_u64().filter(|p| *p > 65535) {
            *known.entry(KNOWN_DIFFERENCES[3].0).or_default() += 1;
            merged.sexagesimal.push(number);
            continue;
        }
        merged.ports.extend(published(port));
    }
    for (key, _, value) in service
        .get("environment")
        .map(|e| e.entries())
        .into_iter()
        .flatten()
    {
        merged.environment.insert(
            key.to_string(),
            (!value.is_null())
                .then(|| scalar(value))
                .flatten()
                .map(|v| unescape(&v)),
        );
    }
    for volume in service.get("volumes").and_then(Node::as_seq).unwrap_or(&[]) {
        let source = match volume.as_str() {
            Some(text) if !text.contains(':') => {
                *known.entry(KNOWN_DIFFERENCES[1].0).or_default() += 1;
                None
            }
            Some(text) => text.split(':').next().map(str::to_string),
            None => volume
                .get("source")
                .and_then(Node::as_str)
                .map(str::to_string),
        };
        if let Some(source) = source {
            merged
                .volumes
                .insert(normalize_path(&relative_to(&source, root)));
        }
    }
    let depends = service.get("depends_on");
    if let Some(list) = depends.and_then(Node::as_seq) {
        merged
            .depends_on
            .extend(list.iter().filter_map(Node::as_str).map(str::to_string));
    } else {
        for (name, _, condition) in depends
            .map(|d| d.entries().collect::<Vec<_>>())
            .unwrap_or_default()
        {
            if condition.get("condition").and_then(Node::as_str)
                == Some("service_completed_successfully")
            {
                *known.entry(KNOWN_DIFFERENCES[2].0).or_default() += 1;
            } else {
                merged.depends_on.insert(name.to_string());
            }
        }
    }
    merged
}

fn ours(
    facts: &RepoFacts,
    project: &ProjectFiles,
    others: &BTreeSet<String>,
) -> BTreeMap<String, Merged> {
    let scope = Scope::Compose {
        project: project.base.clone(),
    };
    let mut services = BTreeMap::new();
    for decl in facts.services.iter().filter(|s| s.scope == scope) {
        let mut merged = Merged {
            image: decl.image.clone(),
            ..Merged::default()
        };
        for endpoint in &decl.endpoints {
            if let EndpointKind::HostPort {
                start,
                end,
                container_port,
                protocol,
                ..
            } = &endpoint.kind
            {
                let protocol = format!("{protocol:?}").to_ascii_lowercase();
                merged
                    .ports
                    .insert((*start, *end, *container_port, protocol));
            }
        }
        services.insert(decl.name.clone(), merged);
    }
    for entry in &facts.env {
        let Some(service) = entry.service.as_ref().and_then(|s| services.get_mut(s)) else {
            continue;
        };
        // Same-named services of other projects: their entries sit in their own files.
        if others.contains(&entry.location.path) {
            continue;
        }
        service
            .environment
            .insert(entry.key.clone(), Some(entry.value_hash.clone()));
    }
    for resource in &facts.resources {
        let Some(service) = resource.service.as_ref().and_then(|s| services.get_mut(s)) else {
            continue;
        };
        if others.contains(&resource.location.path) {
            continue;
        }
        if matches!(
            resource.kind,
            ResourceKind::Volume | ResourceKind::BindMount
        ) {
            service.volumes.insert(normalize_path(&resource.identifier));
        }
    }
    for reference in facts.references.iter().filter(|r| r.scope == scope) {
        if reference.mechanism != Mechanism::DependsOn {
            continue;
        }
        let (Some(from), Target::ServiceName { name }) = (&reference.from, &reference.target)
        else {
            continue;
        };
        if let Some(service) = services.get_mut(from) {
            service.depends_on.insert(name.clone());
        }
    }
    services
}

/// What docker-compose made of a project: its services, or its refusal.
fn docker_compose_config(repo: &Path, project: &ProjectFiles) -> Result<Node, String> {
    let base_dir = repo.join(Path::new(&project.base).parent().unwrap_or(Path::new("")));
    let mut command = Command::new("docker-compose");
    command.arg("--project-directory").arg(&base_dir);
    for file in &project.files {
        command.arg("-f").arg(repo.join(file));
    }
    let output = command
        .arg("config")
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .output()
        .map_err(|e| e.to_string())?;
    if !output.status.success() {
        return Err(String::from_utf8_lossy(&output.stderr).into_owned());
    }
    let text = String::from_utf8_lossy(&output.stdout);
    yaml::parse(&text)
        .map_err(|e| format!("output: {e:?}"))?
        .ok_or_else(|| "empty output".to_string())
}

/// `run` over `items` on a few threads (docker-compose spends most of its second starting
/// Python), results in the order of `items`.
fn in_parallel<T: Sync, R: Send>(items: &[T], run: impl Fn(&T) -> R + Sync) -> Vec<R> {
    let threads = std::thread::available_parallelism().map_or(2, |n| n.get().clamp(2, 4));
    let chunk = items.len().div_ceil(threads).max(1);
    std::thread::scope(|scope| {
        let handles: Vec<_> = items
            .chunks(chunk)
            .map(|part| scope.spawn(|| part.iter().map(&run).collect::<Vec<R>>()))
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().expect("a docker-compose worker panicked"))
            .collect()
    })
}

#[test]
fn merged_services_agree_with_docker_compose_config() {
    let Some(corpus) = corpus() else {
        eprintln!("SKIP: ../shared/corpus is absent");
        return;
    };
    if !docker_compose_available() {
        assert!(
            std::env::var_os("SWITCHYARD_REQUIRE_DOCKER_COMPOSE").is_none(),
            "docker-compose is required (SWITCHYARD_REQUIRE_DOCKER_COMPOSE is set) but absent"
        );
        eprintln!("SKIP: docker-compose is absent (apt-get install docker-compose)");
        return;
    }
    let registry = Registry::default();
    let mut compared = 0;
    let mut rejected = BTreeMap::<&str, Vec<String>>::new();
    let mut known = BTreeMap::<&'static str, usize>::new();
    let mut failures = Vec::new();
    for repo in repositories(&corpus) {
        let name = repo
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or("repo")
            .to_string();
        let read = walk::read_repository(&name, &repo, &registry, Limits::default());
        let projects = compose::projects(&read.files);
        // The compose extractor alone: other extractors attribute loose files (a `.env.dev`
        // under a bind-mounted folder) to services, which is not compose's environment.
        let mut facts = RepoFacts::default();
        for file in read.files.files() {
            if ComposeExtractor.accepts(&file.path) {
                ComposeExtractor.extract(file, &read.files, &mut facts);
            }
        }
        let outputs = in_parallel(&projects, |project| docker_compose_config(&repo, project));
        for (project, output) in projects.iter().zip(outputs) {
            let others: BTreeSet<String> = projects
                .iter()
                .filter(|p| p.base != project.base)
                .flat_map(|p| p.files.iter().cloned())
                .filter(|f| !project.files.contains(f))
                .collect();
            let label = format!("{name}/{}", project.files.join(" -f "));
            let root = match output {
                Ok(root) => root,
                Err(message) => {
                    match KNOWN_REJECTIONS.iter().find(|(m, _)| message.contains(m)) {
                        Some((m, _)) => {
                            let why = message
                                .lines()
                                .rfind(|l| !l.trim().is_empty())
                                .unwrap_or("")
                                .trim();
                            rejected
                                .entry(m)
                                .or_default()
                                .push(format!("{label}: {why}"))
                        }
                        None => failures.push(format!(
                            "{label}: docker-compose refuses it for an unlisted reason: {}",
                            message.lines().last().unwrap_or("")
                        )),
                    }
                    continue;
                }
            };
            compared += 1;
            let mut ours = ours(&facts, project, &others);
            let theirs: BTreeMap<String, Merged> = root
                .get("services")
                .map(|s| {
                    s.entries()
                        .map(|(k, _, v)| (k.to_string(), theirs(v, &repo, &mut known)))
                        .collect()
                })
                .unwrap_or_default();
            let names_ours: BTreeSet<&String> = ours.keys().collect();
            let names_theirs: BTreeSet<&String> = theirs.keys().collect();
            if names_ours != names_theirs {
                failures.push(format!(
                    "{label}: services differ: ours {names_ours:?}, docker-compose {names_theirs:?}"
                ));
            }
            for (service, want) in &theirs {
                let Some(got) = ours.get_mut(service) else {
                    continue;
                };
                let mut diff = |field: &str, a: String, b: String| {
                    failures.push(format!(
                        "{label}: {service}.{field}: ours {a}, docker-compose {b}"
                    ))
                };
                if let Some(image) = &want.image
                    && got.image.as_ref().map(|i| unescape(i)) != Some(image.clone())
                {
                    diff("image", format!("{:?}", got.image), image.clone());
                }
                got.ports.retain(|(start, end, target, _)| {
                    !(start == end
                        && want
                            .sexagesimal
                            .contains(&(u64::from(*start) * 60 + u64::from(target.unwrap_or(0)))))
                });
                if got.ports != want.ports {
                    diff(
                        "ports",
                        format!("{:?}", got.ports),
                        format!("{:?}", want.ports),
                    );
                }
                if got.volumes != want.volumes {
                    diff(
                        "volumes",
                        format!("{:?}", got.volumes),
                        format!("{:?}", want.volumes),
                    );
                }
                if got.depends_on != want.depends_on {
                    diff(
                        "depends_on",
                        format!("{:?}", got.depends_on),
                        format!("{:?}", want.depends_on),
                    );
                }
                for (key, value) in &want.environment {
                    match (got.environment.get(key), value) {
                        (None, None) => {
                            *known.entry(KNOWN_DIFFERENCES[0].0).or_default() += 1;
                        }
                        (None, Some(_)) => {
                            diff("environment", "no ".to_string() + key, key.clone())
                        }
                        (Some(Some(hash)), Some(value)) => {
                            let theirs = blake3::hash(value.as_bytes()).to_hex().to_string();
                            let unescaped = blake3::hash(unescape(value).as_bytes())
                                .to_hex()
                                .to_string();
                            if *hash != theirs && *hash != unescaped {
                                diff(
                                    "environment",
                                    format!("{key}=<value #{}>", &hash[..8]),
                                    format!("{key}=<other value>"),
                                );
                            }
                        }
                        _ => {}
                    }
                }
                for key in got.environment.keys() {
                    if !want.environment.contains_key(key) {
                        diff("environment", key.clone(), format!("no {key}"));
                    }
                }
            }
        }
    }
    eprintln!("compared {compared} compose projects with docker-compose config");
    for (message, projects) in &rejected {
        let reason = KNOWN_REJECTIONS
            .iter()
            .find(|(m, _)| m == message)
            .map_or("", |(_, r)| r);
        eprintln!("known rejection ({reason}): {}", projects.len());
        for project in projects {
            eprintln!("    {project}");
        }
    }
    for (what, count) in &known {
        let reason = KNOWN_DIFFERENCES
            .iter()
            .find(|(w, _)| w == what)
            .map_or("", |(_, r)| r);
        eprintln!("known difference {what} ({reason}): {count}");
    }
    for failure in &failures {
        eprintln!("DIFF {failure}");
    }
    assert!(
        failures.is_empty(),
        "{} differences with docker-compose config",
        failures.len()
    );
}
