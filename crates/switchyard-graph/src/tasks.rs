//! The task graph a monorepo's task runner builds (Turborepo `turbo.json`, Nx `nx.json` /
//! `project.json`): one node per `package#task` reachable from a task run in every package, an
//! edge for each `dependsOn` entry — `^build` to `build` of the package's dependencies, `test` to
//! the package's own `test`, `web#build` to that package's task — and the `dependsOn` entries
//! naming a task nothing defines.

use crate::Digraph;
use serde::Serialize;
use std::collections::{BTreeSet, HashMap, VecDeque};
use switchyard_model::{Location, TaskDecl};

/// The task graph of one repository.
#[derive(Debug, Clone)]
pub struct TaskGraph {
    /// Nodes are `package#task`.
    pub graph: Digraph,
    pub missing: Vec<MissingTask>,
}

/// A `dependsOn` entry naming a task no configuration defines (Turborepo refuses to run).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MissingTask {
    /// The task whose `dependsOn` it is (`build`, or `web#build`).
    pub task: String,
    /// The entry as written (`^compile`).
    pub depends_on: String,
    pub location: Location,
}

/// Task definitions by package (`None`: every package) and task name.
struct Definitions<'a> {
    by_key: HashMap<(Option<&'a str>, &'a str), &'a TaskDecl>,
    names: BTreeSet<&'a str>,
}

impl<'a> Definitions<'a> {
    fn new(tasks: &'a [TaskDecl]) -> Self {
        let mut by_key = HashMap::new();
        let mut names = BTreeSet::new();
        for t in tasks.iter().filter(|t| !t.task.is_empty()) {
            by_key.insert((t.package.as_deref(), t.task.as_str()), t);
            names.insert(t.task.as_str());
        }
        Definitions { by_key, names }
    }

    /// The definition a package's task runs with: the package's own, else the workspace's.
    /// A package definition without `dependsOn` inherits the workspace's (`extends: ["//"]`).
    fn of(&self, package: &str, task: &str) -> Option<&'a TaskDecl> {
        let own = self.by_key.get(&(Some(package), task)).copied();
        let shared = self.by_key.get(&(None, task)).copied();
        match (own, shared) {
            (Some(own), Some(shared)) if own.depends_on.is_empty() => Some(shared),
            (own, shared) => own.or(shared),
        }
    }
}

/// The task graph of running `task` in every package of `packages` (package names, build edges)
/// with the definitions `tasks` of one repository. Nx `implicitDependencies` add package edges.
pub fn task_graph(packages: &Digraph, tasks: &[TaskDecl], task: &str) -> TaskGraph {
    let defs = Definitions::new(tasks);
    let mut deps = packages.clone();
    for t in tasks {
        if let Some(from) = &t.package {
            for to in t
                .implicit_dependencies
                .iter()
                .filter(|n| !n.starts_with('!'))
            {
                if packages.contains(to) {
                    deps.add_edge(from, to);
                }
            }
        }
    }
    let mut graph = Digraph::default();
    let mut queue: VecDeque<(String, String)> = VecDeque::new();
    for p in packages.nodes() {
        if defs.of(p, task).is_some() {
            graph.add_node(&node(p, task));
            queue.push_back((p.clone(), task.to_string()));
        }
    }
    let mut seen: BTreeSet<(String, String)> = queue.iter().cloned().collect();
    while let Some((p, t)) = queue.pop_front() {
        let Some(def) = defs.of(&p, &t) else {
            continue;
        };
        for d in &def.depends_on {
            let targets: Vec<(String, String)> = if let Some(up) = d.target.strip_prefix('^') {
                deps.dependencies(&p)
                    .into_iter()
                    .map(|q| (q.to_string(), up.to_string()))
                    .collect()
            } else if let Some((pkg, name)) = d.target.split_once('#') {
                vec![(pkg.to_string(), name.to_string())]
            } else {
                vec![(p.clone(), d.target.clone())]
            };
            for (q, name) in targets {
                if defs.of(&q, &name).is_none() {
                    continue;
                }
                graph.add_edge(&node(&p, &t), &node(&q, &name));
                if seen.insert((q.clone(), name.clone())) {
                    queue.push_back((q, name));
                }
            }
        }
    }
    TaskGraph {
        graph,
        missing: missing_tasks(tasks),
    }
}

/// `dependsOn` entries of any definition that name a task nothing defines.
pub fn missing_tasks(tasks: &[TaskDecl]) -> Vec<MissingTask> {
    let defs = Definitions::new(tasks);
    let mut out = Vec::new();
    for t in tasks {
        for d in &t.depends_on {
            let name = d.target.trim_start_matches('^');
            let name = name.split_once('#').map_or(name, |(_, task)| task);
            if !defs.names.contains(name) {
                out.push(MissingTask {
                    task: match &t.package {
                        Some(p) => node(p, &t.task),
                        None => t.task.clone(),
                    },
                    depends_on: d.target.clone(),
                    location: d.location.clone(),
                });
            }
        }
    }
    out
}

fn node(package: &str, task: &str) -> String {
    format!("{package}#{task}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use switchyard_model::TaskDependency;

    fn decl(package: Option<&str>, task: &str, depends_on: &[&str]) -> TaskDecl {
        TaskDecl {
            runner: "turbo".into(),
            package: package.map(str::to_string),
            workspace: String::new(),
            task: task.into(),
            depends_on: depends_on
                .iter()
                .map(|d| TaskDependency {
                    target: d.to_string(),
                    location: Location::file("mono", "turbo.json"),
                })
                .collect(),
            implicit_dependencies: Vec::new(),
            location: Location::file("mono", "turbo.json"),
        }
    }

    #[test]
    fn caret_same_package_and_named_package_tasks() {
        let packages = Digraph::from_edges(["web", "ui", "cfg"], [("web", "ui"), ("ui", "cfg")]);
        let tasks = [
            decl(None, "build", &["^build", "codegen"]),
            decl(None, "codegen", &[]),
            decl(Some("web"), "build", &["^build", "cfg#lint"]),
            decl(None, "lint", &["^compile"]),
        ];
        let g = task_graph(&packages, &tasks, "build");
        let phases: Vec<Vec<String>> = g.graph.phases().into_iter().map(|p| p.members).collect();
        assert_eq!(
            phases,
            [
                vec!["cfg#codegen", "cfg#lint", "ui#codegen"],
                vec!["cfg#build"],
                vec!["ui#build"],
                vec!["web#build"],
            ]
        );
        assert_eq!(g.missing.len(), 1);
        assert_eq!(g.missing[0].task, "lint");
        assert_eq!(g.missing[0].depends_on, "^compile");
    }
}
