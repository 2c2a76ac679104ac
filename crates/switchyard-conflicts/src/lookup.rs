//! Indexes over one fleet's model and facts, each built on first use and then shared by every
//! detector and strategy that reads the same [`FleetInput`]: the questions proposals ask once per
//! occurrence ("which host is this repository on", "which ports are used there", "which
//! references reached this service") are then lookups instead of scans of the whole fleet.

use crate::FleetInput;
use crate::strategies::port_reassignment::loopback_mentions;
use std::collections::{HashMap, HashSet};
use std::sync::OnceLock;
use switchyard_model::{Location, Reference, RepoFacts, Service, Target, UnresolvedReason};

/// `(repository, path, span start, span end)`: where a fact sits, without line and column.
type Place = (String, String, usize, usize);

fn place(location: &Location) -> Place {
    (
        location.repository.clone(),
        location.path.clone(),
        location.span.start,
        location.span.end,
    )
}

/// Lazily built indexes of one `(model, facts)` pair. Use one `Lookup` per pair: it does not
/// notice when it is handed another fleet.
#[derive(Default)]
pub struct Lookup {
    /// Repository name → index in `model.repositories`.
    repositories: OnceLock<HashMap<String, usize>>,
    /// Repository name → index in `facts`.
    facts: OnceLock<HashMap<String, usize>>,
    /// Repository name → indexes in `model.services`, in model order.
    services: OnceLock<HashMap<String, Vec<usize>>>,
    /// Host → ports published or listened on there, plus every NodePort (open on every host).
    used_ports: OnceLock<UsedPorts>,
    /// Service id → indexes in `model.edges` of the edges that reach it.
    edges_to: OnceLock<HashMap<String, Vec<usize>>>,
    /// Where an address reference sits → `(facts index, reference index)`.
    references_at: OnceLock<HashMap<Place, Vec<(usize, usize)>>>,
    /// `(place, reference text)` of every reference the linker found ambiguous.
    ambiguous: OnceLock<HashSet<(Place, String)>>,
    /// Host → address references there that name a port on loopback or the Docker host:
    /// `(facts index, reference index, the ports)`.
    loopback: OnceLock<HashMap<String, Vec<LoopbackReference>>>,
}

type LoopbackReference = (usize, usize, Vec<u16>);

#[derive(Default)]
struct UsedPorts {
    by_host: HashMap<String, HashSet<u16>>,
    node_ports: HashSet<u16>,
}

impl<'m> FleetInput<'m> {
    /// A repository's position in `model.repositories` (its first, if listed twice).
    pub fn repository_index(&self, repository: &str) -> Option<usize> {
        let model = self.model;
        let index = self.lookup.repositories.get_or_init(|| {
            let mut map = HashMap::new();
            for (i, r) in model.repositories.iter().enumerate() {
                map.entry(r.name.clone()).or_insert(i);
            }
            map
        });
        index.get(repository).copied()
    }

    /// The host a repository deploys to (`local` when it is not listed).
    pub fn host_of(&self, repository: &str) -> &'m str {
        let model = self.model;
        self.repository_index(repository)
            .map_or("local", |i| model.repositories[i].host.as_str())
    }

    /// Repository name → index in `facts`.
    fn facts_index(&self) -> &'m HashMap<String, usize> {
        let facts = self.facts;
        self.lookup.facts.get_or_init(|| {
            let mut map = HashMap::new();
            for (i, f) in facts.iter().enumerate() {
                map.entry(f.repository.clone()).or_insert(i);
            }
            map
        })
    }

    /// A repository's facts.
    pub fn facts_of(&self, repository: &str) -> Option<&'m RepoFacts> {
        let facts = self.facts;
        self.facts_index().get(repository).map(|&i| &*facts[i])
    }

    /// A repository's services, in model order.
    pub fn services_of(&self, repository: &str) -> impl Iterator<Item = &'m Service> + use<'m> {
        let model = self.model;
        let index = self.lookup.services.get_or_init(|| {
            let mut map: HashMap<String, Vec<usize>> = HashMap::new();
            for (i, s) in model.services.iter().enumerate() {
                map.entry(s.repository.clone()).or_default().push(i);
            }
            map
        });
        let list: &'m [usize] = index.get(repository).map_or(&[], Vec::as_slice);
        list.iter().map(move |&i| &model.services[i])
    }

    /// Ports in use on a host: published host ports, host processes, and NodePorts (every node).
    pub fn used_ports(&self, host: &str) -> HashSet<u16> {
        let used = self.lookup.used_ports.get_or_init(|| {
            let mut used = UsedPorts::default();
            for s in &self.model.services {
                let host = self.host_of(&s.repository);
                for e in &s.endpoints {
                    use switchyard_model::EndpointKind;
                    match &e.kind {
                        EndpointKind::HostPort { start, end, .. } => {
                            used.by_host
                                .entry(host.to_string())
                                .or_default()
                                .extend(*start..=(*end).max(*start));
                        }
                        EndpointKind::HostProcessPort { port } => {
                            used.by_host
                                .entry(host.to_string())
                                .or_default()
                                .insert(*port);
                        }
                        EndpointKind::NodePort { port, .. } => {
                            used.node_ports.insert(*port);
                        }
                        _ => {}
                    }
                }
            }
            used
        });
        let mut ports = used.by_host.get(host).cloned().unwrap_or_default();
        ports.extend(&used.node_ports);
        ports
    }

    /// Address references on `host` that name a port on loopback or the Docker host, with the
    /// ports they name, in fleet order.
    pub(crate) fn loopback_references(
        &self,
        host: &str,
    ) -> impl Iterator<Item = (&'m RepoFacts, &'m Reference, &'m [u16])> + use<'m> {
        let facts = self.facts;
        let index = self.lookup.loopback.get_or_init(|| {
            let mut map: HashMap<String, Vec<LoopbackReference>> = HashMap::new();
            for (f, repo) in facts.iter().enumerate() {
                let host = self.host_of(&repo.repository);
                for (r, reference) in repo.references.iter().enumerate() {
                    let Target::Address { text } = &reference.target else {
                        continue;
                    };
                    let whole = switchyard_model::ByteSpan::new(0, text.len());
                    let mut ports: Vec<u16> = loopback_mentions(text, whole, 0, u16::MAX)
                        .into_iter()
                        .map(|m| m.port)
                        .collect();
                    if !ports.is_empty() {
                        ports.sort_unstable();
                        ports.dedup();
                        map.entry(host.to_string()).or_default().push((f, r, ports));
                    }
                }
            }
            map
        });
        let list: &'m [LoopbackReference] = index.get(host).map_or(&[], Vec::as_slice);
        list.iter()
            .map(move |(f, r, ports)| (&*facts[*f], &facts[*f].references[*r], ports.as_slice()))
    }

    /// Address references that reach `target`: those the linker resolved to it (an edge to it
    /// lists the reference's location) and, when `target`'s repository is not among
    /// `kept_repositories`, those of its own repository the linker found ambiguous (the other
    /// candidate was the kept one). Only references whose text `mentions` accepts; never the
    /// target's own. In fleet order, each with whether it was resolved to `target`.
    pub fn references_to(
        &self,
        target: &Service,
        kept_repositories: &[&str],
        mentions: impl Fn(&str) -> bool,
    ) -> Vec<(&'m Reference, bool)> {
        let (model, facts) = (self.model, self.facts);
        let edges_to = self.lookup.edges_to.get_or_init(|| {
            let mut map: HashMap<String, Vec<usize>> = HashMap::new();
            for (i, e) in model.edges.iter().enumerate() {
                map.entry(e.to.clone()).or_default().push(i);
            }
            map
        });
        let references_at = self.lookup.references_at.get_or_init(|| {
            let mut map: HashMap<Place, Vec<(usize, usize)>> = HashMap::new();
            for (f, repo) in facts.iter().enumerate() {
                for (r, reference) in repo.references.iter().enumerate() {
                    if matches!(reference.target, Target::Address { .. }) {
                        map.entry(place(&reference.location))
                            .or_default()
                            .push((f, r));
                    }
                }
            }
            map
        });
        let is_candidate = |repo: &RepoFacts, reference: &Reference| -> bool {
            let Target::Address { text } = &reference.target else {
                return false;
            };
            let Some(from) = &reference.from else {
                return false;
            };
            mentions(text) && !(repo.repository == target.repository && *from == target.name)
        };
        // (facts index, reference index) → resolved to the target.
        let mut found: HashMap<(usize, usize), bool> = HashMap::new();
        for &e in edges_to.get(&target.id).map_or(&[][..], Vec::as_slice) {
            let edge = &model.edges[e];
            for location in &edge.evidence {
                for &(f, r) in references_at.get(&place(location)).into_iter().flatten() {
                    let (repo, reference) = (&*facts[f], &facts[f].references[r]);
                    let from_id = reference
                        .from
                        .as_ref()
                        .map(|from| switchyard_model::service_id(&repo.repository, from));
                    if reference.location == *location
                        && from_id.as_deref() == Some(edge.from.as_str())
                        && is_candidate(repo, reference)
                    {
                        found.insert((f, r), true);
                    }
                }
            }
        }
        if !kept_repositories.contains(&target.repository.as_str()) {
            let ambiguous = self.lookup.ambiguous.get_or_init(|| {
                model
                    .unresolved
                    .iter()
                    .filter(|u| u.reason == UnresolvedReason::Ambiguous)
                    .map(|u| (place(&u.location), u.reference.clone()))
                    .collect()
            });
            if let Some(&f) = self.facts_index().get(&target.repository) {
                for (r, reference) in facts[f].references.iter().enumerate() {
                    let Target::Address { text } = &reference.target else {
                        continue;
                    };
                    let key = (place(&reference.location), text.clone());
                    if ambiguous.contains(&key) && is_candidate(&facts[f], reference) {
                        found.entry((f, r)).or_insert(false);
                    }
                }
            }
        }
        let mut out: Vec<((usize, usize), bool)> = found.into_iter().collect();
        out.sort_unstable_by_key(|&(at, _)| at);
        out.into_iter()
            .map(|((f, r), resolved)| (&facts[f].references[r], resolved))
            .collect()
    }
}
