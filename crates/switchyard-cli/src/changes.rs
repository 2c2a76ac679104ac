//! Change-based CI: changed files (given, read from stdin, or from `git diff` in each
//! repository) mapped to the packages and services that own them, and everything that depends
//! on those, transitively.
//!
//! A file belongs to the deepest package or service folder holding it; a file that declares
//! services (a compose file, a manifest) belongs to those services; a workspace root's own
//! configuration (lockfile, `turbo.json`, `.npmrc`…) to every package of the workspace; any
//! other file changes its repository only.

use crate::Failure;
use crate::inputs::Analysis;
use serde::Serialize;
use std::collections::BTreeSet;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::Command;
use switchyard_graph::Digraph;
use switchyard_model::{ServiceKind, service_id};

/// Files at a workspace root that configure all its packages.
const WORKSPACE_FILES: [&str; 11] = [
    "package.json",
    "pnpm-workspace.yaml",
    "pnpm-lock.yaml",
    "package-lock.json",
    "yarn.lock",
    "bun.lockb",
    "bun.lock",
    ".npmrc",
    "turbo.json",
    "nx.json",
    "lerna.json",
];

/// A changed file, by repository and repo-relative path.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct ChangedFile {
    pub repository: String,
    pub path: String,
    /// The packages or services the file belongs to (ids); empty: the repository only.
    pub owners: Vec<String>,
}

/// What a change touches and what it affects.
#[derive(Debug, Default, Serialize)]
pub struct Impact {
    pub files: Vec<ChangedFile>,
    pub changed: Sets,
    /// Dependents of the changed ones, transitively (the changed ones not included).
    pub affected: Sets,
}

#[derive(Debug, Default, Serialize)]
pub struct Sets {
    pub packages: Vec<String>,
    pub services: Vec<String>,
    pub repositories: Vec<String>,
}

/// The files of `--files` (comma-separated, `-` for one path a line on stdin).
pub fn listed_files(files: &[String]) -> Result<Vec<String>, Failure> {
    if files.iter().any(|f| f == "-") {
        let mut text = String::new();
        std::io::stdin()
            .read_to_string(&mut text)
            .map_err(|e| Failure {
                code: 2,
                message: format!("cannot read the changed files from stdin: {e}"),
            })?;
        return Ok(text
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .map(str::to_string)
            .collect());
    }
    Ok(files
        .iter()
        .map(|f| f.trim().to_string())
        .filter(|f| !f.is_empty())
        .collect())
}

/// Places `file` in a repository of the fleet: a path on disk (relative to the working folder
/// or absolute) inside a repository's folder, else `repository/path` by name.
fn locate(analysis: &Analysis, file: &str) -> Result<(String, String), Failure> {
    let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."));
    let on_disk = cwd.join(file);
    let canonical = canonical_path(&on_disk);
    for repo in &analysis.fleet.repositories {
        let root = canonical_path(&repo.path);
        if let Ok(rest) = canonical.strip_prefix(&root) {
            let path = rest
                .components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect::<Vec<_>>()
                .join("/");
            return Ok((repo.name.clone(), path));
        }
    }
    let named = analysis.fleet.repositories.iter().find_map(|r| {
        file.strip_prefix(r.name.as_str())
            .and_then(|rest| rest.strip_prefix('/'))
            .map(|rest| (r.name.clone(), rest.trim_start_matches("./").to_string()))
    });
    named.ok_or_else(|| Failure {
        code: 2,
        message: format!(
            "changed file {file} is in no repository of the fleet (give a path inside a repository folder, or repository/path)"
        ),
    })
}

/// The path made absolute and with its existing part resolved (symbolic links, `..`); the
/// missing tail (a deleted file) is appended as given.
fn canonical_path(path: &Path) -> PathBuf {
    let mut existing = path.to_path_buf();
    let mut tail = Vec::new();
    while !existing.exists() {
        match (existing.file_name(), existing.parent()) {
            (Some(name), Some(parent)) => {
                tail.push(name.to_os_string());
                existing = parent.to_path_buf();
            }
            _ => return path.to_path_buf(),
        }
    }
    let mut out = existing.canonicalize().unwrap_or(existing);
    for name in tail.into_iter().rev() {
        out.push(name);
    }
    out
}

/// Changed files of every repository between `base` and `head` (`base...head`, as a pull
/// request sees them), or between `base` and the working tree when `head` is not given, by the
/// `git` command in each repository. Paths are repo-relative.
pub fn git_changes(
    analysis: &Analysis,
    base: &str,
    head: Option<&str>,
) -> Result<Vec<(String, String)>, Failure> {
    for rev in std::iter::once(base).chain(head) {
        if rev.starts_with('-') || rev.is_empty() {
            return Err(Failure {
                code: 2,
                message: format!("not a git revision: {rev:?}"),
            });
        }
    }
    let range = match head {
        Some(head) => format!("{base}...{head}"),
        None => base.to_string(),
    };
    let mut out = Vec::new();
    for repo in &analysis.fleet.repositories {
        let output = Command::new("git")
            .arg("-C")
            .arg(&repo.path)
            .args(["diff", "--name-only", "--no-renames", "--relative", "-z"])
            .arg(&range)
            .arg("--")
            .output()
            .map_err(|e| Failure {
                code: 2,
                message: format!("cannot run git in {}: {e}", repo.name),
            })?;
        if !output.status.success() {
            let why = String::from_utf8_lossy(&output.stderr);
            return Err(Failure {
                code: 2,
                message: format!(
                    "git diff {range} failed in repository {}: {}",
                    repo.name,
                    why.lines().next().unwrap_or("no message").trim()
                ),
            });
        }
        for path in output.stdout.split(|&b| b == 0).filter(|p| !p.is_empty()) {
            out.push((
                repo.name.clone(),
                String::from_utf8_lossy(path).into_owned(),
            ));
        }
    }
    Ok(out)
}

/// Places listed files in their repositories.
pub fn locate_all(analysis: &Analysis, files: &[String]) -> Result<Vec<(String, String)>, Failure> {
    files.iter().map(|f| locate(analysis, f)).collect()
}

/// The packages and services `path` of `repository` belongs to.
fn owners(analysis: &Analysis, repository: &str, path: &str) -> Vec<String> {
    let Some(facts) = analysis.facts.iter().find(|f| f.repository == repository) else {
        return Vec::new();
    };
    let mut declared: BTreeSet<String> = BTreeSet::new();
    let mut deepest: Option<(usize, BTreeSet<String>)> = None;
    for decl in &facts.services {
        if decl.source.path == path {
            declared.insert(service_id(repository, &decl.name));
        }
        for owned in &decl.owned_paths {
            let owned = owned.trim_end_matches('/');
            let inside = owned.is_empty()
                || path == owned
                || path
                    .strip_prefix(owned)
                    .is_some_and(|rest| rest.starts_with('/'));
            if !inside {
                continue;
            }
            let depth = if owned.is_empty() {
                0
            } else {
                owned.split('/').count()
            };
            match &mut deepest {
                Some((d, set)) if *d == depth => {
                    set.insert(service_id(repository, &decl.name));
                }
                Some((d, _)) if *d > depth => {}
                _ => {
                    deepest = Some((depth, BTreeSet::from([service_id(repository, &decl.name)])));
                }
            }
        }
    }
    // A workspace's own configuration (lockfile, task runner, package manager settings) changes
    // every package under it, as Turborepo's global dependencies do.
    let file_name = path.rsplit('/').next().unwrap_or(path);
    if declared.is_empty() && deepest.is_none() && WORKSPACE_FILES.contains(&file_name) {
        let dir = path.rsplit_once('/').map_or("", |(dir, _)| dir);
        for decl in &facts.services {
            if decl.kind == ServiceKind::Package
                && decl.owned_paths.iter().any(|owned| {
                    dir.is_empty()
                        || owned == dir
                        || owned
                            .strip_prefix(dir)
                            .is_some_and(|rest| rest.starts_with('/'))
                })
            {
                declared.insert(service_id(repository, &decl.name));
            }
        }
    }
    let known: BTreeSet<&str> = analysis
        .model
        .services
        .iter()
        .map(|s| s.id.as_str())
        .collect();
    declared
        .into_iter()
        .chain(deepest.map(|(_, set)| set).unwrap_or_default())
        .filter(|id| known.contains(id.as_str()))
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect()
}

/// What the changed files touch and, through the service graph (every edge kind), what depends
/// on them; repositories through the repository graph.
pub fn impact(analysis: &Analysis, files: Vec<(String, String)>) -> Impact {
    let mut changed_services: BTreeSet<String> = BTreeSet::new();
    let mut changed_repos: BTreeSet<String> = BTreeSet::new();
    let mut listed = Vec::new();
    for (repository, path) in files {
        let owners = owners(analysis, &repository, &path);
        changed_services.extend(owners.iter().cloned());
        changed_repos.insert(repository.clone());
        listed.push(ChangedFile {
            repository,
            path,
            owners,
        });
    }
    listed.sort();
    listed.dedup();
    let services = Digraph::services(&analysis.model);
    let refs: Vec<&str> = changed_services.iter().map(String::as_str).collect();
    let affected_services: BTreeSet<String> = services
        .affected(&refs)
        .into_iter()
        .map(str::to_string)
        .collect();
    let repo_of = |id: &str| {
        analysis
            .model
            .services
            .iter()
            .find(|s| s.id == id)
            .map(|s| s.repository.clone())
    };
    let repo_refs: Vec<&str> = changed_repos.iter().map(String::as_str).collect();
    let mut affected_repos: BTreeSet<String> = analysis
        .repo_graph
        .affected(&repo_refs)
        .into_iter()
        .map(str::to_string)
        .collect();
    affected_repos.extend(affected_services.iter().filter_map(|id| repo_of(id)));
    affected_repos.retain(|r| !changed_repos.contains(r));
    let is_package = |id: &String| {
        analysis
            .model
            .services
            .iter()
            .any(|s| &s.id == id && s.kind == ServiceKind::Package)
    };
    let split = |ids: &BTreeSet<String>| -> (Vec<String>, Vec<String>) {
        ids.iter().cloned().partition(|id| is_package(id))
    };
    let (changed_packages, changed_other) = split(&changed_services);
    let (affected_packages, affected_other) = split(&affected_services);
    Impact {
        files: listed,
        changed: Sets {
            packages: changed_packages,
            services: changed_other,
            repositories: changed_repos.into_iter().collect(),
        },
        affected: Sets {
            packages: affected_packages,
            services: affected_other,
            repositories: affected_repos.into_iter().collect(),
        },
    }
}

/// The table output of an impact.
pub fn table(impact: &Impact) -> String {
    let mut out = format!("{} changed files\n", impact.files.len());
    for f in &impact.files {
        out.push_str(&format!(
            "  {}/{}{}\n",
            f.repository,
            f.path,
            if f.owners.is_empty() {
                String::new()
            } else {
                format!("  ({})", f.owners.join(", "))
            }
        ));
    }
    for (title, sets) in [("Changed", &impact.changed), ("Affected", &impact.affected)] {
        for (what, list) in [
            ("packages", &sets.packages),
            ("services", &sets.services),
            ("repositories", &sets.repositories),
        ] {
            out.push_str(&format!("{title} {what} ({}):", list.len()));
            if list.is_empty() {
                out.push_str(" none\n");
            } else {
                out.push('\n');
                for item in list {
                    out.push_str(&format!("  {item}\n"));
                }
            }
        }
    }
    out
}
