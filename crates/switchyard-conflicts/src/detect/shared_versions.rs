//! `shared_dependency_version`: a Module Federation `shared` singleton (react…) whose
//! `requiredVersion` ranges in a host and one of its remotes no single version satisfies.

use super::Detector;
use super::index::{FleetIndex, and_list, finish};
use super::semver::Range;
use crate::{Conflict, ConflictKind, Occurrence, Severity};
use std::collections::BTreeMap;
use switchyard_model::{Mechanism, Service, SharedDependency};

pub struct SharedVersionDetector;

/// Shared dependencies of a service that have a readable range.
fn ranged<'a>(
    fleet: &FleetIndex<'a>,
    service: &Service,
) -> Vec<(&'a SharedDependency, &'a str, Range)> {
    let Some(facts) = fleet.facts(&service.repository) else {
        return Vec::new();
    };
    facts
        .shared
        .iter()
        .filter(|d| d.service.as_deref() == Some(service.name.as_str()))
        .filter_map(|d| {
            let text = d.required_version.as_deref()?;
            Range::parse(text).map(|r| (d, text, r))
        })
        .collect()
}

impl Detector for SharedVersionDetector {
    fn kind(&self) -> ConflictKind {
        ConflictKind::SharedDependencyVersion
    }

    fn detect_in(&self, fleet: &FleetIndex<'_>) -> Vec<Conflict> {
        // (host service, dependency) → (host's range, remotes with theirs, occurrences)
        type Found = (String, Vec<String>, Vec<Occurrence>);
        let mut groups: BTreeMap<(&str, &str), Found> = BTreeMap::new();
        for edge in &fleet.input.model.edges {
            if !edge.mechanisms.contains(&Mechanism::Federation) {
                continue;
            }
            let (Some(host), Some(remote)) = (
                fleet.service_by_id(&edge.from),
                fleet.service_by_id(&edge.to),
            ) else {
                continue;
            };
            let theirs = ranged(fleet, remote);
            for (mine, my_text, my_range) in ranged(fleet, host) {
                for (dep, text, range) in &theirs {
                    // Only singletons must be one copy; other shared modules may be loaded twice.
                    if dep.name != mine.name
                        || !(mine.singleton || dep.singleton)
                        || my_range.intersects(range)
                    {
                        continue;
                    }
                    let entry = groups
                        .entry((host.id.as_str(), mine.name.as_str()))
                        .or_default();
                    entry.0 = my_text.to_string();
                    entry.1.push(format!("{text} by {}", remote.id));
                    entry.2.push(occurrence(host, mine, my_text));
                    entry.2.push(occurrence(remote, dep, text));
                }
            }
        }
        let out = groups
            .into_iter()
            .filter_map(|((host_id, name), (mine, mut remotes, occurrences))| {
                let host = fleet.service_by_id(host_id)?;
                let (machine, env) = fleet.place(&host.repository);
                remotes.sort();
                remotes.dedup();
                Some(Conflict::new(
                    ConflictKind::SharedDependencyVersion,
                    Severity::Medium,
                    machine,
                    env,
                    format!("shared:{name}@{host_id}"),
                    occurrences,
                    format!(
                        "singleton {name} is required as {mine} by {host_id} but as {}; no single version satisfies both, so one side loads a second copy or fails",
                        and_list(&remotes)
                    ),
                ))
            })
            .collect();
        finish(out)
    }
}

fn occurrence(service: &Service, dep: &SharedDependency, range: &str) -> Occurrence {
    Occurrence {
        repository: service.repository.clone(),
        service: Some(service.name.clone()),
        location: dep.location.clone(),
        detail: format!("{}@{range}", dep.name),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detect::index::testing::*;
    use switchyard_model::{Edge, Scope};

    fn dep(repo: &str, service: &str, version: Option<&str>, singleton: bool) -> SharedDependency {
        SharedDependency {
            service: Some(service.into()),
            name: "react".into(),
            singleton,
            required_version: version.map(str::to_string),
            location: loc(repo, "webpack.config.js", 12),
        }
    }

    fn fixture(host: Option<&str>, remote: Option<&str>, singleton: bool) -> Fixture {
        let mut fx = Fixture::default();
        fx.model.repositories = vec![repo("shell", "local", "dev"), repo("cart", "local", "dev")];
        fx.model.services = vec![
            service("shell", "shell", vec![Scope::Host], vec![]),
            service("cart", "cart", vec![Scope::Host], vec![]),
        ];
        fx.model.edges.push(Edge {
            from: "shell/shell".into(),
            to: "cart/cart".into(),
            mechanisms: vec![Mechanism::Federation],
            evidence: vec![loc("shell", "webpack.config.js", 8)],
            ..Edge::new("", "")
        });
        fx.facts_mut("shell")
            .shared
            .push(dep("shell", "shell", host, singleton));
        fx.facts_mut("cart")
            .shared
            .push(dep("cart", "cart", remote, singleton));
        fx
    }

    fn run(fx: &Fixture) -> Vec<Conflict> {
        SharedVersionDetector.detect(fx.input())
    }

    #[test]
    fn incompatible_singletons() {
        let c = run(&fixture(Some("^18.2.0"), Some("^17.0.2"), true));
        assert_eq!(c.len(), 1);
        assert_eq!(c[0].resource, "shared:react@shell/shell");
        assert_eq!(c[0].severity, Severity::Medium);
        assert_eq!(c[0].repositories, vec!["cart", "shell"]);
        assert_eq!(c[0].occurrences[0].detail, "react@^17.0.2");
        assert_eq!(
            c[0].occurrences[1].location.to_string(),
            "shell/webpack.config.js:12:5"
        );
        assert!(
            c[0].message
                .contains("as ^18.2.0 by shell/shell but as ^17.0.2 by cart/cart"),
            "{}",
            c[0].message
        );
    }

    #[test]
    fn compatible_unknown_or_not_singleton() {
        assert!(run(&fixture(Some("^18.2.0"), Some("^18.0.0"), true)).is_empty());
        assert!(run(&fixture(Some("^18.2.0"), None, true)).is_empty());
        assert!(run(&fixture(Some("^18.2.0"), Some("workspace:*"), true)).is_empty());
        assert!(run(&fixture(Some("^18.2.0"), Some("^17.0.2"), false)).is_empty());
    }

    #[test]
    fn only_federation_edges() {
        let mut fx = fixture(Some("^18.2.0"), Some("^17.0.2"), true);
        fx.model.edges[0].mechanisms = vec![Mechanism::Env];
        assert!(run(&fx).is_empty());
    }
}
