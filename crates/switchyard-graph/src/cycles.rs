//! Cycles as readable paths (one shortest cycle per strongly connected component, through its
//! first member) and a smallest set of edges whose removal makes the graph acyclic: exact for
//! components with few edges, Eades–Lin–Smyth ordering beyond that.

use crate::Digraph;
use std::collections::{BTreeSet, VecDeque};

/// Components up to this many internal edges get an exact minimum cut.
const EXACT_CUT_MAX_EDGES: usize = 14;

impl Digraph {
    /// One cycle per cyclic component, as a path that starts and ends at the same node:
    /// `["a", "b", "a"]`. Empty when the graph is acyclic.
    pub fn cycles(&self) -> Vec<Vec<String>> {
        let mut out = Vec::new();
        for comp in self.components() {
            let cyclic = comp.len() > 1 || self.out[comp[0]].contains(&comp[0]);
            if !cyclic {
                continue;
            }
            let members: BTreeSet<usize> = comp.iter().copied().collect();
            if let Some(path) = self.shortest_cycle_through(comp[0], &members) {
                out.push(path.into_iter().map(|i| self.nodes[i].clone()).collect());
            }
        }
        out.sort();
        out
    }

    fn shortest_cycle_through(
        &self,
        start: usize,
        members: &BTreeSet<usize>,
    ) -> Option<Vec<usize>> {
        let mut prev = vec![usize::MAX; self.nodes.len()];
        let mut queue = VecDeque::from([start]);
        let mut seen = vec![false; self.nodes.len()];
        while let Some(n) = queue.pop_front() {
            for &next in &self.out[n] {
                if next == start {
                    // Walk back from `n` to `start`, then read the path forwards.
                    let mut back = Vec::new();
                    let mut cur = n;
                    while cur != start {
                        back.push(cur);
                        cur = prev[cur];
                    }
                    back.reverse();
                    let mut path = vec![start];
                    path.extend(back);
                    path.push(start);
                    return Some(path);
                }
                if members.contains(&next) && !seen[next] {
                    seen[next] = true;
                    prev[next] = n;
                    queue.push_back(next);
                }
            }
        }
        None
    }

    /// A smallest set of edges `(from, to)` whose removal leaves no cycle.
    pub fn cut_set(&self) -> Vec<(String, String)> {
        let mut cut = Vec::new();
        for comp in self.components() {
            let members: BTreeSet<usize> = comp.iter().copied().collect();
            let edges: Vec<(usize, usize)> = comp
                .iter()
                .flat_map(|&a| {
                    self.out[a]
                        .iter()
                        .filter(|b| members.contains(b))
                        .map(move |&b| (a, b))
                })
                .collect();
            if edges.is_empty() {
                continue;
            }
            let chosen = if edges.len() <= EXACT_CUT_MAX_EDGES {
                exact_cut(&comp, &edges)
            } else {
                greedy_cut(&comp, &edges)
            };
            cut.extend(
                chosen
                    .into_iter()
                    .map(|(a, b)| (self.nodes[a].clone(), self.nodes[b].clone())),
            );
        }
        cut.sort();
        cut
    }
}

fn is_acyclic(nodes: &[usize], edges: &[(usize, usize)], removed: &[bool]) -> bool {
    let mut indegree: std::collections::HashMap<usize, usize> =
        nodes.iter().map(|&n| (n, 0)).collect();
    for (i, &(_, b)) in edges.iter().enumerate() {
        if !removed[i] {
            *indegree.entry(b).or_default() += 1;
        }
    }
    let mut ready: Vec<usize> = indegree
        .iter()
        .filter(|(_, d)| **d == 0)
        .map(|(n, _)| *n)
        .collect();
    let mut done = 0;
    while let Some(n) = ready.pop() {
        done += 1;
        for (i, &(a, b)) in edges.iter().enumerate() {
            if a == n && !removed[i] {
                let d = indegree.entry(b).or_default();
                *d -= 1;
                if *d == 0 {
                    ready.push(b);
                }
            }
        }
    }
    done == nodes.len()
}

/// Tries every edge subset by increasing size; first acyclic one is a minimum cut.
fn exact_cut(nodes: &[usize], edges: &[(usize, usize)]) -> Vec<(usize, usize)> {
    let n = edges.len();
    for k in 1..=n {
        let mut idx: Vec<usize> = (0..k).collect();
        loop {
            let mut removed = vec![false; n];
            for &i in &idx {
                removed[i] = true;
            }
            if is_acyclic(nodes, edges, &removed) {
                return idx.iter().map(|&i| edges[i]).collect();
            }
            // next combination
            let mut i = k;
            while i > 0 && idx[i - 1] == n - k + i - 1 {
                i -= 1;
            }
            if i == 0 {
                break;
            }
            idx[i - 1] += 1;
            for j in i..k {
                idx[j] = idx[j - 1] + 1;
            }
        }
    }
    edges.to_vec()
}

/// Eades–Lin–Smyth: order nodes (sinks to the end, sources to the front, else the node with
/// the largest out−in degree), then cut every edge pointing backwards in that order.
fn greedy_cut(nodes: &[usize], edges: &[(usize, usize)]) -> Vec<(usize, usize)> {
    let mut remaining: BTreeSet<usize> = nodes.iter().copied().collect();
    let mut front = Vec::new();
    let mut back = Vec::new();
    let degree = |n: usize, remaining: &BTreeSet<usize>, outgoing: bool| {
        edges
            .iter()
            .filter(|&&(a, b)| {
                remaining.contains(&a)
                    && remaining.contains(&b)
                    && if outgoing { a == n } else { b == n }
            })
            .count()
    };
    while !remaining.is_empty() {
        if let Some(&sink) = remaining
            .iter()
            .find(|&&n| degree(n, &remaining, true) == 0)
        {
            remaining.remove(&sink);
            back.push(sink);
            continue;
        }
        if let Some(&source) = remaining
            .iter()
            .find(|&&n| degree(n, &remaining, false) == 0)
        {
            remaining.remove(&source);
            front.push(source);
            continue;
        }
        let best = remaining.iter().copied().max_by_key(|&n| {
            degree(n, &remaining, true) as i64 - degree(n, &remaining, false) as i64
        });
        if let Some(best) = best {
            remaining.remove(&best);
            front.push(best);
        }
    }
    back.reverse();
    front.extend(back);
    let pos: std::collections::HashMap<usize, usize> =
        front.iter().enumerate().map(|(i, &n)| (n, i)).collect();
    edges
        .iter()
        .copied()
        .filter(|(a, b)| pos.get(a) >= pos.get(b))
        .collect()
}

#[cfg(test)]
mod tests {
    use crate::Digraph;
    use proptest::prelude::*;

    #[test]
    fn cycle_path_and_cut() {
        let g = Digraph::from_edges(
            ["a", "b", "c", "d"],
            [("a", "b"), ("b", "c"), ("c", "a"), ("d", "a")],
        );
        assert_eq!(g.cycles(), vec![vec!["a", "b", "c", "a"]]);
        assert_eq!(g.cut_set().len(), 1);
    }

    #[test]
    fn self_loop_is_a_cycle() {
        let g = Digraph::from_edges(["a"], [("a", "a")]);
        assert_eq!(g.cycles(), vec![vec!["a", "a"]]);
        assert_eq!(g.cut_set(), vec![("a".to_string(), "a".to_string())]);
    }

    #[test]
    fn two_cycles_sharing_an_edge_need_one_cut() {
        let g = Digraph::from_edges(
            ["a", "b", "c"],
            [("a", "b"), ("b", "a"), ("b", "c"), ("c", "a")],
        );
        // a→b is in both cycles (a b a) and (a b c a).
        assert_eq!(g.cut_set(), vec![("a".to_string(), "b".to_string())]);
    }

    /// Reference cycle check: DFS with colours.
    fn has_cycle(n: usize, edges: &[(usize, usize)]) -> bool {
        fn visit(v: usize, adj: &[Vec<usize>], colour: &mut [u8]) -> bool {
            colour[v] = 1;
            for &w in &adj[v] {
                if colour[w] == 1 || (colour[w] == 0 && visit(w, adj, colour)) {
                    return true;
                }
            }
            colour[v] = 2;
            false
        }
        let mut adj = vec![Vec::new(); n];
        for &(a, b) in edges {
            adj[a].push(b);
        }
        let mut colour = vec![0u8; n];
        (0..n).any(|v| colour[v] == 0 && visit(v, &adj, &mut colour))
    }

    fn graph(n: usize, edges: &[(usize, usize)]) -> Digraph {
        let names: Vec<String> = (0..n).map(|i| format!("n{i:02}")).collect();
        Digraph::from_edges(
            names.clone(),
            edges
                .iter()
                .map(|&(a, b)| (names[a].clone(), names[b].clone())),
        )
    }

    proptest! {
        #[test]
        fn phases_respect_edges_and_cycles_iff_cyclic(
            n in 1usize..12,
            raw in proptest::collection::vec((0usize..12, 0usize..12), 0..30),
        ) {
            let edges: Vec<(usize, usize)> = raw.into_iter().map(|(a, b)| (a % n, b % n)).collect();
            let g = graph(n, &edges);
            let cyclic = has_cycle(n, &edges);
            prop_assert_eq!(!g.cycles().is_empty(), cyclic);
            let phase_of = |name: &str| g.phases().iter().find(|p| p.members.iter().any(|m| m == name)).map(|p| p.phase);
            let total: usize = g.phases().iter().map(|p| p.members.len()).sum();
            prop_assert_eq!(total, n);
            if !cyclic {
                for (a, b) in g.edges() {
                    prop_assert!(phase_of(a) > phase_of(b), "{} must deploy after {}", a, b);
                }
            }
            // Removing the cut leaves an acyclic graph.
            let cut = g.cut_set();
            let kept: Vec<(usize, usize)> = edges.iter().copied().filter(|&(a, b)| {
                !cut.contains(&(format!("n{a:02}"), format!("n{b:02}")))
            }).collect();
            prop_assert!(!has_cycle(n, &kept));
        }
    }
}
