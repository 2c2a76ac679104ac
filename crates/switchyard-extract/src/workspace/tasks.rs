//! Task definitions of monorepo task runners: `turbo.json` (`tasks`, or `pipeline` before
//! Turborepo 2; a package's own `turbo.json` extends the root's), Nx `nx.json`
//! (`targetDefaults`) and `project.json` (`targets`, `implicitDependencies`).

use crate::config_urls::json::{self, parse_json};
use crate::source::{RepoFiles, SourceFile};
use crate::yaml::Node;
use switchyard_model::{RepoFacts, TaskDecl, TaskDependency};

/// Reads a `turbo.json`: at a workspace root its tasks are every package's (and `pkg#task` keys
/// one package's); in a package folder they are that package's.
pub fn read_turbo(file: &SourceFile, repo: &RepoFiles, out: &mut RepoFacts) {
    let doc = match parse_json(file) {
        Ok(Some(doc)) => doc,
        Ok(None) => return,
        Err(diagnostic) => {
            out.diagnostics.push(diagnostic);
            return;
        }
    };
    let dir = file.dir();
    let (workspace, package) = owner(repo, dir);
    let Some(tasks) = doc.get("tasks").or_else(|| doc.get("pipeline")) else {
        return;
    };
    for (name, key, task) in tasks.entries() {
        let (package, name) = match (&package, name.split_once('#')) {
            (None, Some((pkg, task))) if !pkg.is_empty() => (Some(pkg.to_string()), task),
            // `//#task`: a task of the root package itself.
            (None, Some((_, task))) => (Some("//".to_string()), task),
            _ => (package.clone(), name),
        };
        out.tasks.push(TaskDecl {
            runner: "turbo".into(),
            package,
            workspace: workspace.clone(),
            task: name.to_string(),
            depends_on: depends_on(task.get("dependsOn"), file),
            implicit_dependencies: Vec::new(),
            location: json::value_location(key, file),
        });
    }
}

/// Reads an `nx.json`: `targetDefaults` are every project's.
pub fn read_nx(file: &SourceFile, repo: &RepoFiles, out: &mut RepoFacts) {
    let doc = match parse_json(file) {
        Ok(Some(doc)) => doc,
        Ok(None) => return,
        Err(diagnostic) => {
            out.diagnostics.push(diagnostic);
            return;
        }
    };
    let (workspace, _) = owner(repo, file.dir());
    let Some(defaults) = doc.get("targetDefaults") else {
        return;
    };
    for (name, key, target) in defaults.entries() {
        out.tasks.push(TaskDecl {
            runner: "nx".into(),
            package: None,
            workspace: workspace.clone(),
            task: name.to_string(),
            depends_on: depends_on(target.get("dependsOn"), file),
            implicit_dependencies: Vec::new(),
            location: json::value_location(key, file),
        });
    }
}

/// Reads the `targets` and `implicitDependencies` of an Nx `project.json`.
pub fn read_project(doc: &Node, file: &SourceFile, repo: &RepoFiles, out: &mut RepoFacts) {
    let dir = file.dir();
    let (workspace, package) = owner(repo, dir);
    let Some(package) = doc
        .get("name")
        .and_then(Node::as_str)
        .map(str::to_string)
        .or(package)
    else {
        return;
    };
    let implicit: Vec<String> = doc
        .get("implicitDependencies")
        .and_then(Node::as_seq)
        .unwrap_or(&[])
        .iter()
        .filter_map(|n| n.as_str().map(str::to_string))
        .collect();
    let mut any = false;
    if let Some(targets) = doc.get("targets") {
        for (name, key, target) in targets.entries() {
            any = true;
            out.tasks.push(TaskDecl {
                runner: "nx".into(),
                package: Some(package.clone()),
                workspace: workspace.clone(),
                task: name.to_string(),
                depends_on: depends_on(target.get("dependsOn"), file),
                implicit_dependencies: implicit.clone(),
                location: json::value_location(key, file),
            });
        }
    }
    if !any && !implicit.is_empty() {
        // Only implicit dependencies: recorded on a task-less declaration.
        out.tasks.push(TaskDecl {
            runner: "nx".into(),
            package: Some(package),
            workspace,
            task: String::new(),
            depends_on: Vec::new(),
            implicit_dependencies: implicit,
            location: file.location(0, 0),
        });
    }
}

/// The workspace root holding `dir`, and the package of `dir` when `dir` is a member.
fn owner(repo: &RepoFiles, dir: &str) -> (String, Option<String>) {
    match super::find_workspace(repo, dir, None) {
        Some(w) if w.root == dir => (w.root, None),
        Some(w) => {
            let package = w
                .has_member(dir)
                .then(|| super::package_name_in(repo, dir))
                .flatten();
            (w.root, package)
        }
        None => (dir.to_string(), None),
    }
}

/// `dependsOn` as written: strings (`^build`, `test`, `web#build`), or Nx objects
/// (`{"target": "build", "projects": "dependencies"}` or `"dependencies": true` → `^build`;
/// `"projects": "self"` → `build`).
fn depends_on(node: Option<&Node>, file: &SourceFile) -> Vec<TaskDependency> {
    let Some(list) = node.and_then(Node::as_seq) else {
        return Vec::new();
    };
    list.iter()
        .filter_map(|entry| {
            let target = if let Some(text) = entry.as_str() {
                text.trim().to_string()
            } else {
                let target = entry.get("target")?.as_str()?;
                let upstream = entry.get("dependencies").and_then(Node::as_bool) == Some(true)
                    || entry.get("projects").and_then(Node::as_str) == Some("dependencies");
                if upstream {
                    format!("^{target}")
                } else {
                    target.to_string()
                }
            };
            // `$TURBO_DEFAULT$`-like inputs and environment entries (`$VAR`, Turborepo 1) are
            // not tasks.
            (!target.is_empty() && !target.starts_with('$')).then(|| TaskDependency {
                target,
                location: json::value_location(entry, file),
            })
        })
        .collect()
}
