//! Package level of the CLI: build phases of each repository's workspace packages, package
//! cycles (for `plan` and `check`), package names as targets (`@repo/ui`, `repo/@repo/ui`).

use crate::Failure;
use crate::inputs::Analysis;
use switchyard_conflicts::sarif::CycleFinding;
use switchyard_graph::Digraph;
use switchyard_graph::packages::{self, PackageCycle, PackageGraph, PackagePhases};
use switchyard_model::{FleetModel, ServiceKind};

/// What `plan` and `check` need to know about packages.
pub struct PackageLevel {
    pub graphs: Vec<PackageGraph>,
    pub cycles: Vec<PackageCycle>,
    /// `(repo/from, repo/to)` edges whose removal breaks every package cycle.
    pub cut: Vec<(String, String)>,
}

impl PackageLevel {
    pub fn of(model: &FleetModel) -> Self {
        let graphs = packages::package_graphs(model);
        let cycles = packages::package_cycles(model, &graphs);
        let cut = packages::package_cut(&graphs);
        PackageLevel {
            graphs,
            cycles,
            cut,
        }
    }

    pub fn phases(&self) -> Vec<PackagePhases> {
        packages::package_phases(&self.graphs)
    }

    /// One line per cycle: `package cycle in threadly: @repo/a -> @repo/b -> @repo/a (at …)`.
    pub fn cycle_lines(&self) -> Vec<String> {
        self.cycles
            .iter()
            .map(|c| {
                format!(
                    "package cycle in {}: {} (declared at {})",
                    c.repository,
                    c.path.join(" -> "),
                    c.evidence
                        .iter()
                        .map(ToString::to_string)
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            })
            .collect()
    }

    /// The package cycles as findings (SARIF, compact, github), like repository cycles: each
    /// edge's dependency entry as evidence, and the cut edges on the cycle.
    pub fn cycle_findings(&self) -> Vec<CycleFinding> {
        self.cycles
            .iter()
            .map(|c| {
                let evidence = c
                    .path
                    .windows(2)
                    .zip(&c.evidence)
                    .map(|(pair, l)| (l.clone(), format!("{} -> {}", pair[0], pair[1])))
                    .collect();
                let qualified = |p: &str| format!("{}/{p}", c.repository);
                let cut = self
                    .cut
                    .iter()
                    .filter(|(a, b)| {
                        c.path
                            .windows(2)
                            .any(|p| qualified(&p[0]) == *a && qualified(&p[1]) == *b)
                    })
                    .map(|(a, b)| format!("{a} -> {b}"))
                    .collect();
                CycleFinding {
                    between: format!("packages of {}", c.repository),
                    members: c.path.clone(),
                    evidence,
                    cut,
                }
            })
            .collect()
    }

    /// The `plan --level package` table.
    pub fn table(&self) -> String {
        let mut out = String::new();
        if !self.cycles.is_empty() {
            out.push_str("Package cycles (members share a phase until one edge is removed)\n");
            for line in self.cycle_lines() {
                out.push_str(&format!("  {line}\n"));
            }
            let cut: Vec<String> = self
                .cut
                .iter()
                .map(|(a, b)| format!("{a} -> {b}"))
                .collect();
            out.push_str(&format!("Smallest cut: {}\n\n", cut.join(", ")));
        }
        for repo in self.phases() {
            let mut t = crate::table::table(&["phase", "packages", "parallel"]);
            for p in &repo.phases {
                t.add_row(vec![
                    p.phase.to_string(),
                    p.packages.join(", "),
                    if p.parallel { "yes" } else { "no" }.to_string(),
                ]);
            }
            out.push_str(&format!("Build phases of {}\n{t}\n", repo.repository));
        }
        if self.graphs.is_empty() {
            out.push_str("No repository of the fleet has workspace packages.\n");
        }
        out
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::json!({
            "level": "package",
            "repositories": self.phases(),
            "cycles": self.cycles,
            "cycleCut": self.cut,
        })
    }
}

/// The fleet's package graph: nodes are package service ids (`repo/@scope/name`), edges the
/// build edges between packages (within and across repositories).
pub fn package_digraph(model: &FleetModel) -> Digraph {
    Digraph::from_edges(
        model
            .services
            .iter()
            .filter(|s| s.kind == ServiceKind::Package)
            .map(|s| s.id.as_str()),
        model
            .edges
            .iter()
            .filter(|e| packages::is_package_build_edge(e))
            .map(|e| (e.from.as_str(), e.to.as_str())),
    )
}

/// The node of `graph` a user's name means: the node itself (`repo/@repo/ui`, a repository), or
/// a package or service name that one repository declares (`@repo/ui`). Unknown or ambiguous
/// names are exit-2 errors.
pub fn resolve(
    graph: &Digraph,
    model: &FleetModel,
    name: &str,
    what: &str,
) -> Result<String, Failure> {
    if graph.contains(name) {
        return Ok(name.to_string());
    }
    let candidates: Vec<&str> = model
        .services
        .iter()
        .filter(|s| s.name == name && graph.contains(&s.id))
        .map(|s| s.id.as_str())
        .collect();
    match candidates.as_slice() {
        [one] => Ok(one.to_string()),
        [] => Err(Failure {
            code: 2,
            message: format!(
                "unknown {what}: {name} (known: {})",
                graph
                    .nodes()
                    .iter()
                    .take(20)
                    .cloned()
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        }),
        many => Err(Failure {
            code: 2,
            message: format!(
                "{name} names more than one {what}: {}; write it as repository/name",
                many.join(", ")
            ),
        }),
    }
}

/// Whether a name means a package: a scoped name (`@repo/ui`, `repo/@repo/ui`) or the name or id
/// of a package some repository declares (`deps` and `affected` then read it at package level).
pub fn names_a_package(model: &FleetModel, name: &str) -> bool {
    name.starts_with('@')
        || name.contains("/@")
        || model
            .services
            .iter()
            .any(|s| s.kind == ServiceKind::Package && (s.id == name || s.name == name))
}

/// The level a command reads a target at, given `--level` and the analysis.
pub fn graph_for(analysis: &Analysis, level: crate::Level) -> Digraph {
    match level {
        crate::Level::Repository => analysis.repo_graph.clone(),
        crate::Level::Service => Digraph::services(&analysis.model),
        crate::Level::Package => package_digraph(&analysis.model),
    }
}

/// `plan --level package --task T`: each repository's task graph for running `T` in every
/// package, as the repository's runner would order it, with tasks depending on missing ones.
pub struct TaskPlan {
    pub repositories: Vec<(String, switchyard_graph::tasks::TaskGraph)>,
}

impl TaskPlan {
    pub fn of(analysis: &Analysis, levels: &PackageLevel, task: &str) -> Result<Self, Failure> {
        let mut repositories = Vec::new();
        for g in &levels.graphs {
            let Some(facts) = analysis.facts.iter().find(|f| f.repository == g.repository) else {
                continue;
            };
            if facts.tasks.is_empty() {
                continue;
            }
            let graph = switchyard_graph::tasks::task_graph(&g.graph, &facts.tasks, task);
            repositories.push((g.repository.clone(), graph));
        }
        if repositories.iter().all(|(_, g)| g.graph.nodes().is_empty()) {
            return Err(Failure {
                code: 2,
                message: format!(
                    "no turbo.json, nx.json or project.json of the fleet defines the task {task}"
                ),
            });
        }
        Ok(TaskPlan { repositories })
    }

    pub fn missing_lines(&self) -> Vec<String> {
        self.repositories
            .iter()
            .flat_map(|(repo, g)| {
                g.missing.iter().map(move |m| {
                    format!(
                        "task {} in {repo} depends on the missing task {} (at {})",
                        m.task, m.depends_on, m.location
                    )
                })
            })
            .collect()
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::json!({
            "level": "task",
            "repositories": self.repositories.iter().map(|(repo, g)| serde_json::json!({
                "repository": repo,
                "phases": g.graph.phases().into_iter().map(packages::PackagePhase::from).map(|p| serde_json::json!({
                    "phase": p.phase, "tasks": p.packages, "parallel": p.parallel,
                })).collect::<Vec<_>>(),
                "cycles": g.graph.cycles(),
                "missing": g.missing,
            })).collect::<Vec<_>>(),
        })
    }

    pub fn table(&self) -> String {
        let mut out = String::new();
        for line in self.missing_lines() {
            out.push_str(&format!("{line}\n"));
        }
        for (repo, g) in &self.repositories {
            for c in g.graph.cycles() {
                out.push_str(&format!("task cycle in {repo}: {}\n", c.join(" -> ")));
            }
            let mut t = crate::table::table(&["phase", "tasks", "parallel"]);
            for p in g.graph.phases() {
                t.add_row(vec![
                    p.phase.to_string(),
                    p.members.join(", "),
                    if p.parallel { "yes" } else { "no" }.to_string(),
                ]);
            }
            out.push_str(&format!("Task phases of {repo}\n{t}\n"));
        }
        out
    }

    /// Whether the runner would refuse: a missing task or a task cycle.
    pub fn fails(&self) -> bool {
        self.repositories
            .iter()
            .any(|(_, g)| !g.missing.is_empty() || !g.graph.cycles().is_empty())
    }
}

/// Tasks depending on a missing task, in every repository (for `check`).
pub fn missing_task_lines(analysis: &Analysis) -> Vec<String> {
    analysis
        .facts
        .iter()
        .flat_map(|f| {
            switchyard_graph::tasks::missing_tasks(&f.tasks)
                .into_iter()
                .map(move |m| {
                    format!(
                        "task {} in {} depends on the missing task {} (at {})",
                        m.task, f.repository, m.depends_on, m.location
                    )
                })
        })
        .collect()
}
