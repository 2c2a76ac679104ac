//! Graph algorithms on the fleet model, shared by the CLI and the server: repository and service
//! graphs, transitive dependencies, cycles (as paths, from strongly connected components) with a
//! smallest set of edges to cut, deployment phases, affected repositories, and exports (DOT,
//! Mermaid, JSON Graph Format, GraphML, and a Backstage catalog).
//!
//! Edges point from the dependent to its dependency (`web → api`: web calls api), so a
//! deployment deploys dependencies first.
//!
//! ```
//! use switchyard_graph::Digraph;
//! let g = Digraph::from_edges(["db", "api", "web"], [("api", "db"), ("web", "api")]);
//! let phases = g.phases();
//! assert_eq!(phases[0].members, ["db"]);
//! assert_eq!(phases[2].members, ["web"]);
//! assert!(g.cycles().is_empty());
//! ```

pub mod backstage;
mod cycles;
pub mod export;
pub mod packages;
pub mod tasks;
pub mod variant;

use serde::Serialize;
use std::collections::{BTreeSet, HashMap, VecDeque};
use switchyard_model::FleetModel;

/// A directed graph over named nodes.
#[derive(Debug, Clone, Default)]
pub struct Digraph {
    nodes: Vec<String>,
    index: HashMap<String, usize>,
    /// `out[a]` = nodes `a` depends on.
    out: Vec<BTreeSet<usize>>,
    /// `inc[b]` = nodes depending on `b`.
    inc: Vec<BTreeSet<usize>>,
}

/// A deployment phase: members that can be deployed together once earlier phases are done.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Phase {
    /// 1-based.
    pub phase: usize,
    #[serde(rename = "repositories")]
    pub members: Vec<String>,
    pub parallel: bool,
}

impl Digraph {
    /// Builds a graph; edges naming unknown nodes add those nodes.
    pub fn from_edges<N, E, S>(nodes: N, edges: E) -> Self
    where
        N: IntoIterator<Item = S>,
        E: IntoIterator<Item = (S, S)>,
        S: AsRef<str>,
    {
        let mut g = Digraph::default();
        for n in nodes {
            g.add_node(n.as_ref());
        }
        for (a, b) in edges {
            g.add_edge(a.as_ref(), b.as_ref());
        }
        g
    }

    /// The repository graph of a model: an edge `a → b` when a service of `a` depends on a
    /// service of `b` (`a ≠ b`).
    pub fn repositories(model: &FleetModel) -> Self {
        let repo_of: HashMap<&str, &str> = model
            .services
            .iter()
            .map(|s| (s.id.as_str(), s.repository.as_str()))
            .collect();
        let mut g = Digraph::default();
        for r in &model.repositories {
            g.add_node(&r.name);
        }
        for e in &model.edges {
            if let (Some(a), Some(b)) = (repo_of.get(e.from.as_str()), repo_of.get(e.to.as_str()))
                && a != b
            {
                g.add_edge(a, b);
            }
        }
        g
    }

    /// The service graph of a model, nodes named by service id.
    pub fn services(model: &FleetModel) -> Self {
        Self::from_edges(
            model.services.iter().map(|s| s.id.as_str()),
            model.edges.iter().map(|e| (e.from.as_str(), e.to.as_str())),
        )
    }

    pub fn add_node(&mut self, name: &str) -> usize {
        if let Some(&i) = self.index.get(name) {
            return i;
        }
        let i = self.nodes.len();
        self.nodes.push(name.to_string());
        self.index.insert(name.to_string(), i);
        self.out.push(BTreeSet::new());
        self.inc.push(BTreeSet::new());
        i
    }

    pub fn add_edge(&mut self, from: &str, to: &str) {
        let a = self.add_node(from);
        let b = self.add_node(to);
        self.out[a].insert(b);
        self.inc[b].insert(a);
    }

    pub fn nodes(&self) -> &[String] {
        &self.nodes
    }

    pub fn contains(&self, name: &str) -> bool {
        self.index.contains_key(name)
    }

    /// All edges `(from, to)` in node order.
    pub fn edges(&self) -> Vec<(&str, &str)> {
        self.out
            .iter()
            .enumerate()
            .flat_map(|(a, outs)| {
                outs.iter()
                    .map(move |&b| (self.nodes[a].as_str(), self.nodes[b].as_str()))
            })
            .collect()
    }

    /// The subgraph on the nodes of `keep` (in `keep` order; unknown names skipped) with the
    /// edges among them. Dependencies outside `keep` are treated as already in place.
    pub fn induced<S: AsRef<str>>(&self, keep: &[S]) -> Digraph {
        let kept: Vec<&str> = keep
            .iter()
            .map(AsRef::as_ref)
            .filter(|n| self.contains(n))
            .collect();
        let edges: Vec<(&str, &str)> = self
            .edges()
            .into_iter()
            .filter(|(a, b)| kept.contains(a) && kept.contains(b))
            .collect();
        Digraph::from_edges(kept.iter().copied(), edges)
    }

    /// Direct dependencies of a node.
    pub fn dependencies(&self, name: &str) -> Vec<&str> {
        self.index
            .get(name)
            .map(|&i| {
                self.out[i]
                    .iter()
                    .map(|&j| self.nodes[j].as_str())
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Transitive dependencies of `name` up to `max_depth` hops (None = unlimited), in
    /// breadth-first order, without `name` itself.
    pub fn transitive(&self, name: &str, max_depth: Option<usize>) -> Vec<&str> {
        self.reach(name, max_depth, &self.out)
    }

    /// Everything that depends on any of `changed`, directly or transitively (reverse
    /// dependencies), sorted; `changed` themselves are not included.
    pub fn affected(&self, changed: &[&str]) -> Vec<&str> {
        let mut seen: BTreeSet<&str> = BTreeSet::new();
        for c in changed {
            seen.extend(self.reach(c, None, &self.inc));
        }
        seen.into_iter().filter(|n| !changed.contains(n)).collect()
    }

    fn reach<'a>(
        &'a self,
        name: &str,
        max_depth: Option<usize>,
        adj: &[BTreeSet<usize>],
    ) -> Vec<&'a str> {
        let Some(&start) = self.index.get(name) else {
            return Vec::new();
        };
        let mut seen = vec![false; self.nodes.len()];
        seen[start] = true;
        let mut queue = VecDeque::from([(start, 0usize)]);
        let mut out = Vec::new();
        while let Some((n, depth)) = queue.pop_front() {
            if max_depth.is_some_and(|m| depth >= m) {
                continue;
            }
            for &next in &adj[n] {
                if !seen[next] {
                    seen[next] = true;
                    out.push(self.nodes[next].as_str());
                    queue.push_back((next, depth + 1));
                }
            }
        }
        out
    }

    /// Deployment phases by longest-path layering: a node's phase is one more than the latest
    /// phase among its dependencies, so every node sits in the earliest phase it can. Members of
    /// one cycle share a phase (the cycle is reported by [`Digraph::cycles`]).
    pub fn phases(&self) -> Vec<Phase> {
        let components = self.components();
        let mut comp_of = vec![0usize; self.nodes.len()];
        for (c, members) in components.iter().enumerate() {
            for &m in members {
                comp_of[m] = c;
            }
        }
        // Tarjan yields components in reverse topological order: dependencies first.
        let mut layer = vec![0usize; components.len()];
        for (c, members) in components.iter().enumerate() {
            let deps = members
                .iter()
                .flat_map(|&m| self.out[m].iter())
                .map(|&d| comp_of[d])
                .filter(|&d| d != c);
            layer[c] = deps.map(|d| layer[d] + 1).max().unwrap_or(0);
        }
        let depth = layer.iter().copied().max().map_or(0, |m| m + 1);
        let mut phases: Vec<Phase> = (0..depth)
            .map(|i| Phase {
                phase: i + 1,
                members: Vec::new(),
                parallel: false,
            })
            .collect();
        for (c, members) in components.iter().enumerate() {
            for &m in members {
                phases[layer[c]].members.push(self.nodes[m].clone());
            }
        }
        for p in &mut phases {
            p.members.sort();
            p.parallel = p.members.len() > 1;
        }
        phases
    }

    /// Strongly connected components, dependencies before dependents.
    fn components(&self) -> Vec<Vec<usize>> {
        let mut g = petgraph::graph::DiGraph::<(), ()>::with_capacity(self.nodes.len(), 0);
        let ids: Vec<_> = (0..self.nodes.len()).map(|_| g.add_node(())).collect();
        for (a, outs) in self.out.iter().enumerate() {
            for &b in outs {
                g.add_edge(ids[a], ids[b], ());
            }
        }
        petgraph::algo::tarjan_scc(&g)
            .into_iter()
            .map(|c| {
                let mut v: Vec<usize> = c.into_iter().map(|n| n.index()).collect();
                v.sort_unstable();
                v
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn induced_keeps_only_edges_among_the_kept() {
        let g = Digraph::from_edges(["a", "b", "c"], [("a", "b"), ("b", "c"), ("a", "c")]);
        let sub = g.induced(&["a", "c", "zzz"]);
        assert_eq!(sub.nodes(), ["a", "c"]);
        assert_eq!(sub.edges(), vec![("a", "c")]);
        assert_eq!(g.induced(&["b"]).edges(), Vec::<(&str, &str)>::new());
    }

    use super::*;

    #[test]
    fn phases_are_earliest_layers() {
        let g = Digraph::from_edges(
            ["a", "b", "c", "d", "e"],
            [("c", "a"), ("c", "b"), ("d", "c"), ("e", "a")],
        );
        let p = g.phases();
        assert_eq!(p.len(), 3);
        assert_eq!(p[0].members, ["a", "b"]);
        assert!(p[0].parallel);
        assert_eq!(p[1].members, ["c", "e"]);
        assert_eq!(p[2].members, ["d"]);
        assert!(!p[2].parallel);
    }

    #[test]
    fn transitive_and_affected() {
        let g = Digraph::from_edges(["a", "b", "c", "d"], [("b", "a"), ("c", "b"), ("d", "c")]);
        assert_eq!(g.transitive("d", None), ["c", "b", "a"]);
        assert_eq!(g.transitive("d", Some(1)), ["c"]);
        assert_eq!(g.affected(&["a"]), ["b", "c", "d"]);
        assert_eq!(g.affected(&["c"]), ["d"]);
        assert!(g.affected(&["zz"]).is_empty());
    }

    #[test]
    fn cycle_members_share_a_phase() {
        let g = Digraph::from_edges(["a", "b", "c"], [("a", "b"), ("b", "a"), ("c", "a")]);
        let p = g.phases();
        assert_eq!(p[0].members, ["a", "b"]);
        assert_eq!(p[1].members, ["c"]);
    }
}
