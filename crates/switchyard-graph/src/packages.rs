//! The package graph inside each repository: its workspace packages and the build edges between
//! them (`dependencies`, `devDependencies`, `optionalDependencies`; a peer dependency orders
//! nothing). Its phases are Turborepo's `^build` levels; its cycles are refused by Turborepo.

use crate::{Digraph, Phase};
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};
use switchyard_model::{EdgeKind, FleetModel, Location, Mechanism, ServiceKind};

/// One repository's packages, named by package name (`@repo/ui`).
#[derive(Debug, Clone)]
pub struct PackageGraph {
    pub repository: String,
    pub graph: Digraph,
}

/// One dependency cycle between packages of a repository: the path, and the places each of its
/// edges is declared.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PackageCycle {
    pub repository: String,
    /// Package names, first = last: `["@repo/a", "@repo/b", "@repo/a"]`.
    pub path: Vec<String>,
    /// The dependency entries of the path's edges, in path order.
    pub evidence: Vec<Location>,
}

/// The phases of one repository's packages.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PackagePhases {
    pub repository: String,
    pub phases: Vec<PackagePhase>,
}

/// Packages that can build together once earlier phases are built.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PackagePhase {
    /// 1-based.
    pub phase: usize,
    pub packages: Vec<String>,
    pub parallel: bool,
}

impl From<Phase> for PackagePhase {
    fn from(p: Phase) -> Self {
        PackagePhase {
            phase: p.phase,
            packages: p.members,
            parallel: p.parallel,
        }
    }
}

/// Whether an edge orders builds between packages: a package dependency declared in a section
/// other than `peerDependencies` (older models without sections: a build edge).
pub fn is_package_build_edge(edge: &switchyard_model::Edge) -> bool {
    let package = edge
        .mechanisms
        .iter()
        .any(|m| matches!(m, Mechanism::Workspace | Mechanism::Registry));
    if !package {
        return false;
    }
    if edge.sections.is_empty() {
        return edge.kind == EdgeKind::Build;
    }
    edge.sections.iter().any(|s| s != "peerDependencies")
}

/// The package graph of every repository that has workspace packages, in fleet order.
pub fn package_graphs(model: &FleetModel) -> Vec<PackageGraph> {
    let mut by_repo: BTreeMap<&str, Digraph> = BTreeMap::new();
    let mut name_of: HashMap<&str, (&str, &str)> = HashMap::new();
    for s in &model.services {
        if s.kind == ServiceKind::Package {
            by_repo
                .entry(s.repository.as_str())
                .or_default()
                .add_node(&s.name);
            name_of.insert(s.id.as_str(), (s.repository.as_str(), s.name.as_str()));
        }
    }
    for e in &model.edges {
        if !is_package_build_edge(e) {
            continue;
        }
        if let (Some((ra, a)), Some((rb, b))) =
            (name_of.get(e.from.as_str()), name_of.get(e.to.as_str()))
            && ra == rb
            && let Some(g) = by_repo.get_mut(ra)
        {
            g.add_edge(a, b);
        }
    }
    model
        .repositories
        .iter()
        .filter_map(|r| {
            by_repo.remove(r.name.as_str()).map(|graph| PackageGraph {
                repository: r.name.clone(),
                graph,
            })
        })
        .collect()
}

/// Every package cycle of the fleet, with the evidence of its edges, by repository then path.
pub fn package_cycles(model: &FleetModel, graphs: &[PackageGraph]) -> Vec<PackageCycle> {
    let evidence: HashMap<(&str, &str), &[Location]> = model
        .edges
        .iter()
        .filter(|e| is_package_build_edge(e))
        .map(|e| ((e.from.as_str(), e.to.as_str()), e.evidence.as_slice()))
        .collect();
    let mut out = Vec::new();
    for g in graphs {
        for path in g.graph.cycles() {
            let mut locations = Vec::new();
            for pair in path.windows(2) {
                let from = switchyard_model::service_id(&g.repository, &pair[0]);
                let to = switchyard_model::service_id(&g.repository, &pair[1]);
                if let Some(found) = evidence.get(&(from.as_str(), to.as_str())) {
                    locations.extend(found.iter().cloned());
                }
            }
            out.push(PackageCycle {
                repository: g.repository.clone(),
                path,
                evidence: locations,
            });
        }
    }
    out
}

/// A smallest set of package edges `(repo/from, repo/to)` whose removal breaks every package
/// cycle.
pub fn package_cut(graphs: &[PackageGraph]) -> Vec<(String, String)> {
    graphs
        .iter()
        .flat_map(|g| {
            g.graph.cut_set().into_iter().map(|(a, b)| {
                (
                    switchyard_model::service_id(&g.repository, &a),
                    switchyard_model::service_id(&g.repository, &b),
                )
            })
        })
        .collect()
}

/// Build phases of each repository's packages (longest-path layers over build edges).
pub fn package_phases(graphs: &[PackageGraph]) -> Vec<PackagePhases> {
    graphs
        .iter()
        .map(|g| PackagePhases {
            repository: g.repository.clone(),
            phases: g
                .graph
                .phases()
                .into_iter()
                .map(PackagePhase::from)
                .collect(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use switchyard_model::{Edge, Repository, Scope, Service};

    fn package(repo: &str, name: &str) -> Service {
        let source = Location::file(repo, "package.json");
        Service {
            id: switchyard_model::service_id(repo, name),
            repository: repo.into(),
            name: name.into(),
            kind: ServiceKind::Package,
            source: source.clone(),
            sources: vec![source],
            scopes: vec![Scope::Host],
            aliases: Vec::new(),
            endpoints: Vec::new(),
            networks: Vec::new(),
            image: None,
            test_harness: false,
            variants: Vec::new(),
            profiles: Vec::new(),
        }
    }

    fn dependency(from: &str, to: &str, section: &str, line: u32) -> Edge {
        Edge {
            mechanisms: vec![Mechanism::Workspace],
            kind: if section == "peerDependencies" {
                EdgeKind::Peer
            } else {
                EdgeKind::Build
            },
            sections: vec![section.into()],
            evidence: vec![Location {
                line,
                ..Location::file("mono", "packages/x/package.json")
            }],
            ..Edge::new(from, to)
        }
    }

    fn model() -> FleetModel {
        let repo = |name: &str| Repository {
            name: name.into(),
            path: name.into(),
            host: "local".into(),
            environment: "default".into(),
        };
        FleetModel {
            repositories: vec![repo("mono"), repo("other")],
            services: vec![
                package("mono", "@r/a"),
                package("mono", "@r/b"),
                package("mono", "@r/c"),
                package("mono", "@r/d"),
                package("other", "lib"),
            ],
            edges: vec![
                dependency("mono/@r/a", "mono/@r/b", "dependencies", 4),
                dependency("mono/@r/b", "mono/@r/a", "devDependencies", 9),
                dependency("mono/@r/c", "mono/@r/a", "dependencies", 5),
                dependency("mono/@r/d", "mono/@r/c", "peerDependencies", 6),
                dependency("mono/@r/d", "other/lib", "dependencies", 7),
            ],
            ..Default::default()
        }
    }

    #[test]
    fn cycles_phases_and_cut_inside_each_repository() {
        let model = model();
        let graphs = package_graphs(&model);
        assert_eq!(graphs.len(), 2);
        let cycles = package_cycles(&model, &graphs);
        assert_eq!(cycles.len(), 1);
        assert_eq!(cycles[0].path, ["@r/a", "@r/b", "@r/a"]);
        let lines: Vec<u32> = cycles[0].evidence.iter().map(|l| l.line).collect();
        assert_eq!(lines, [4, 9]);
        assert_eq!(package_cut(&graphs).len(), 1);
        let phases = package_phases(&graphs);
        // The peer dependency d → c orders nothing; d's dependency on another repository's
        // package is not a package edge of `mono`.
        assert_eq!(phases[0].phases[0].packages, ["@r/a", "@r/b", "@r/d"]);
        assert_eq!(phases[0].phases[1].packages, ["@r/c"]);
        assert_eq!(phases[1].phases[0].packages, ["lib"]);
    }
}
