//! `shared_dependency_version`: a Module Federation `shared` dependency whose required version
//! ranges in a host and one of its remotes no single version satisfies. Versions come from
//! `requiredVersion`, or from package.json (`requiredVersion: deps.react`, or none written, when
//! webpack reads the app's package.json); the finding points at the line that sets each.
//! Singletons are high (one copy is loaded for both: the other side runs against a version it
//! was not built for, or fails with `strictVersion`); other shared modules are low (each side
//! loads its own copy).

use super::Detector;
use super::index::{FleetIndex, and_list, finish};
use super::semver::Range;
use crate::{Conflict, ConflictKind, Occurrence, Severity};
use std::collections::BTreeMap;
use switchyard_model::{Edge, Location, Mechanism, Service, SharedDependency};

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

/// One pair of disagreeing ranges: the remote, its range and the host's `remotes` entry.
struct Clash<'a> {
    remote: &'a Service,
    dep: &'a SharedDependency,
    range: &'a str,
    entry: Option<&'a Location>,
}

impl Detector for SharedVersionDetector {
    fn kind(&self) -> ConflictKind {
        ConflictKind::SharedDependencyVersion
    }

    fn detect_in(&self, fleet: &FleetIndex<'_>) -> Vec<Conflict> {
        // (host service, dependency) → (host's dependency and range, clashing remotes)
        type Found<'a> = (Option<(&'a SharedDependency, &'a str)>, Vec<Clash<'a>>);
        let mut groups: BTreeMap<(&str, &str), Found<'_>> = BTreeMap::new();
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
                    if dep.name != mine.name || my_range.intersects(range) {
                        continue;
                    }
                    let entry = groups
                        .entry((host.id.as_str(), mine.name.as_str()))
                        .or_default();
                    entry.0 = Some((mine, my_text));
                    entry.1.push(Clash {
                        remote,
                        dep,
                        range: text,
                        entry: remotes_entry(fleet, host, edge),
                    });
                }
            }
        }
        let out = groups
            .into_iter()
            .filter_map(|((host_id, name), (mine, clashes))| {
                let host = fleet.service_by_id(host_id)?;
                let (mine, my_text) = mine?;
                Some(conflict(fleet, host, name, mine, my_text, clashes))
            })
            .collect();
        finish(out)
    }
}

/// The host's `remotes` entry behind a federation edge (its first federation evidence).
fn remotes_entry<'a>(
    fleet: &FleetIndex<'a>,
    host: &Service,
    edge: &'a Edge,
) -> Option<&'a Location> {
    edge.evidence.iter().find(|l| {
        fleet
            .references_at(&host.repository, Some(&host.name), l)
            .any(|r| r.mechanism == Mechanism::Federation)
    })
}

fn conflict(
    fleet: &FleetIndex<'_>,
    host: &Service,
    name: &str,
    mine: &SharedDependency,
    my_text: &str,
    mut clashes: Vec<Clash<'_>>,
) -> Conflict {
    clashes.sort_by(|a, b| (&a.remote.id, a.range).cmp(&(&b.remote.id, b.range)));
    clashes.dedup_by(|a, b| a.remote.id == b.remote.id && a.range == b.range);
    let singleton = mine.singleton || clashes.iter().any(|c| c.dep.singleton);
    let mut occurrences = vec![occurrence(host, mine, my_text)];
    let mut theirs = Vec::new();
    for c in &clashes {
        occurrences.push(occurrence(c.remote, c.dep, c.range));
        let loaded = c
            .entry
            .map(|l| format!(", loaded by {l}"))
            .unwrap_or_default();
        theirs.push(format!(
            "{} by {} ({}{loaded})",
            c.range,
            c.remote.id,
            written_at(c.dep)
        ));
    }
    let remote_names: Vec<&str> = clashes.iter().map(|c| c.remote.id.as_str()).collect();
    let (severity, what, consequence) = if singleton {
        (
            Severity::High,
            "singleton",
            "one copy is loaded for both sides and one of them runs against a version it was \
             not built for (\"Unsatisfied version\" at runtime, an error with strictVersion)",
        )
    } else {
        (
            Severity::Low,
            "shared (not singleton)",
            "each side loads its own copy (two downloads, two instances of any state it keeps)",
        )
    };
    let (machine, env) = fleet.place(&host.repository);
    Conflict::new(
        ConflictKind::SharedDependencyVersion,
        severity,
        machine,
        env,
        format!("shared:{name}@{}", host.id),
        occurrences,
        format!(
            "{what} {name} is required as {my_text} by {} ({}) but as {}; no single version \
             satisfies both: {consequence}. Change {name} in {} to a range within {my_text} \
             (or the host's to one they accept)",
            host.id,
            written_at(mine),
            and_list(&theirs),
            and_list(&remote_names),
        ),
    )
}

/// Where a dependency's range is written: the config, or the package.json line it was read from.
fn written_at(dep: &SharedDependency) -> String {
    match &dep.version_location {
        Some(l) => format!("{l}, shared at {}", dep.location),
        None => dep.location.to_string(),
    }
}

fn occurrence(service: &Service, dep: &SharedDependency, range: &str) -> Occurrence {
    let (location, detail) = match &dep.version_location {
        Some(l) => (
            l.clone(),
            format!(
                "{}@{range} (package.json, shared at {})",
                dep.name, dep.location
            ),
        ),
        None => (dep.location.clone(), format!("{}@{range}", dep.name)),
    };
    Occurrence {
        repository: service.repository.clone(),
        service: Some(service.name.clone()),
        location,
        detail,
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
            version_location: None,
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
        assert_eq!(c[0].severity, Severity::High);
        assert_eq!(c[0].repositories, vec!["cart", "shell"]);
        assert_eq!(c[0].occurrences[0].detail, "react@^17.0.2");
        assert_eq!(
            c[0].occurrences[1].location.to_string(),
            "shell/webpack.config.js:12:5"
        );
        assert!(
            c[0].message.contains(
                "singleton react is required as ^18.2.0 by shell/shell (shell/webpack.config.js:12:5) \
                 but as ^17.0.2 by cart/cart (cart/webpack.config.js:12:5)"
            ) && c[0].message.contains("Change react in cart/cart to a range within ^18.2.0"),
            "{}",
            c[0].message
        );
    }

    #[test]
    fn versions_read_from_package_json_point_at_its_line() {
        let mut fx = fixture(Some("^18.2.0"), Some("^17.0.2"), true);
        let cart = fx.facts_mut("cart");
        cart.shared[0].version_location = Some(loc("cart", "package.json", 7));
        let c = run(&fx);
        assert_eq!(c.len(), 1);
        let theirs = &c[0].occurrences[0];
        assert_eq!(theirs.location.to_string(), "cart/package.json:7:5");
        assert_eq!(
            theirs.detail,
            "react@^17.0.2 (package.json, shared at cart/webpack.config.js:12:5)"
        );
        assert!(
            c[0].message.contains(
                "^17.0.2 by cart/cart (cart/package.json:7:5, shared at cart/webpack.config.js:12:5"
            ),
            "{}",
            c[0].message
        );
    }

    #[test]
    fn compatible_unknown_or_not_singleton() {
        assert!(run(&fixture(Some("^18.2.0"), Some("^18.3.1"), true)).is_empty());
        assert!(run(&fixture(Some("^18.2.0"), Some("^18.0.0"), true)).is_empty());
        assert!(run(&fixture(Some("^18.2.0"), None, true)).is_empty());
        assert!(run(&fixture(Some("^18.2.0"), Some("workspace:*"), true)).is_empty());
        // Not a singleton: overlapping ranges are fine, disjoint ones load two copies (low).
        assert!(run(&fixture(Some("^4.17.0"), Some("^4.0.0"), false)).is_empty());
        let c = run(&fixture(Some("^18.2.0"), Some("^17.0.2"), false));
        assert_eq!(c.len(), 1);
        assert_eq!(c[0].severity, Severity::Low);
        assert!(c[0].message.starts_with("shared (not singleton) react"));
    }

    #[test]
    fn only_federation_edges() {
        let mut fx = fixture(Some("^18.2.0"), Some("^17.0.2"), true);
        fx.model.edges[0].mechanisms = vec![Mechanism::Env];
        assert!(run(&fx).is_empty());
    }
}
