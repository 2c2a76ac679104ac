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
use switchyard_model::{
    Edge, EndpointKind, Location, Mechanism, Service, SharedDependency, Target,
};

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

/// Per (host service, dependency): the host's dependency and range, and the clashing remotes.
type Found<'a> = (Option<(&'a SharedDependency, &'a str)>, Vec<Clash<'a>>);

impl Detector for SharedVersionDetector {
    fn kind(&self) -> ConflictKind {
        ConflictKind::SharedDependencyVersion
    }

    fn detect_in(&self, fleet: &FleetIndex<'_>) -> Vec<Conflict> {
        let mut groups: BTreeMap<(&str, &str), Found<'_>> = BTreeMap::new();
        // host → the remotes it loads (with the `remotes` entry), for clashes between siblings
        let mut loaded: BTreeMap<&str, Vec<(&Service, Option<&Location>)>> = BTreeMap::new();
        for edge in &fleet.input.model.edges {
            if !edge.mechanisms.contains(&Mechanism::Federation) {
                continue;
            }
            let (Some(host), Some(target)) = (
                fleet.service_by_id(&edge.from),
                fleet.service_by_id(&edge.to),
            ) else {
                continue;
            };
            let remote = participant(fleet, host, edge, target);
            if remote.id == host.id {
                continue;
            }
            let list = loaded.entry(host.id.as_str()).or_default();
            if !list.iter().any(|(r, _)| r.id == remote.id) {
                list.push((remote, remotes_entry(fleet, host, edge)));
            }
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
        let mut out: Vec<Conflict> = Vec::new();
        for (host_id, remotes) in &loaded {
            let Some(host) = fleet.service_by_id(host_id) else {
                continue;
            };
            out.extend(sibling_clashes(fleet, host, remotes, &groups));
        }
        out.extend(
            groups
                .into_iter()
                .filter_map(|((host_id, name), (mine, clashes))| {
                    let host = fleet.service_by_id(host_id)?;
                    let (mine, my_text) = mine?;
                    Some(conflict(fleet, host, name, mine, my_text, clashes))
                }),
        );
        finish(out)
    }
}

/// The app a federation edge loads: the target itself when it is built as a federation
/// container or shares anything, else the app of the target's repository built as the container
/// the `remotes` entry names (a compose service serving the built remote stands for the
/// webpack app whose `shared` it was built with).
fn participant<'a>(
    fleet: &FleetIndex<'a>,
    host: &Service,
    edge: &Edge,
    target: &'a Service,
) -> &'a Service {
    let is_container = |s: &Service| {
        s.endpoints
            .iter()
            .any(|e| matches!(e.kind, EndpointKind::FederationContainer { .. }))
    };
    if is_container(target) || !ranged(fleet, target).is_empty() {
        return target;
    }
    let names: Vec<&str> = edge
        .evidence
        .iter()
        .flat_map(|l| fleet.references_at(&host.repository, Some(&host.name), l))
        .filter_map(|r| match &r.target {
            Target::FederationRemote { name, .. } if r.mechanism == Mechanism::Federation => {
                Some(name.as_str())
            }
            _ => None,
        })
        .collect();
    let repo = [target.repository.as_str()];
    let built: Vec<&'a Service> = fleet
        .services_of(&repo)
        .filter(|s| {
            s.endpoints.iter().any(|e| {
                matches!(&e.kind, EndpointKind::FederationContainer { name } if names.contains(&name.as_str()))
            })
        })
        .collect();
    match built.as_slice() {
        [one] => one,
        _ => target,
    }
}

/// Singletons that two remotes of one host share with ranges no version satisfies, when the
/// host itself does not already clash with them (that finding names the host's range): one
/// share scope serves the page, so one of the remotes runs against a version it was not built
/// for.
fn sibling_clashes(
    fleet: &FleetIndex<'_>,
    host: &Service,
    remotes: &[(&Service, Option<&Location>)],
    host_clashes: &BTreeMap<(&str, &str), Found<'_>>,
) -> Vec<Conflict> {
    // dependency → (remote, entry, dependency, range text, range)
    type Sharer<'a> = (
        &'a Service,
        Option<&'a Location>,
        &'a SharedDependency,
        &'a str,
        Range,
    );
    let mut by_name: BTreeMap<&str, Vec<Sharer<'_>>> = BTreeMap::new();
    for (remote, entry) in remotes {
        for (dep, text, range) in ranged(fleet, remote) {
            if dep.singleton {
                by_name
                    .entry(dep.name.as_str())
                    .or_default()
                    .push((remote, *entry, dep, text, range));
            }
        }
    }
    let mut out = Vec::new();
    for (name, list) in by_name {
        if host_clashes.contains_key(&(host.id.as_str(), name)) {
            continue;
        }
        // The first pair of remotes whose ranges do not meet.
        let pair = list.iter().enumerate().find_map(|(i, a)| {
            list[i + 1..]
                .iter()
                .find(|b| a.0.id != b.0.id && !a.4.intersects(&b.4))
                .map(|b| (a, b))
        });
        let Some((a, b)) = pair else {
            continue;
        };
        let side = |s: &Sharer<'_>| {
            let loaded = s.1.map(|l| format!(", loaded by {l}")).unwrap_or_default();
            format!("{} by {} ({}{loaded})", s.3, s.0.id, written_at(s.2))
        };
        let mut occurrences = vec![occurrence(a.0, a.2, a.3), occurrence(b.0, b.2, b.3)];
        occurrences.extend([a.1, b.1].into_iter().flatten().map(|l| Occurrence {
            repository: host.repository.clone(),
            service: Some(host.name.clone()),
            location: l.clone(),
            detail: format!("loads a remote sharing {name}"),
        }));
        let (machine, env) = fleet.place(&host.repository);
        out.push(Conflict::new(
            ConflictKind::SharedDependencyVersion,
            Severity::High,
            machine,
            env,
            format!("shared:{name}@{}", host.id),
            occurrences,
            format!(
                "singleton {name} is required as {} but as {}, two remotes that {} loads into \
                 one page; no single version satisfies both: one copy is loaded for the page and \
                 one of them runs against a version it was not built for (\"Unsatisfied \
                 version\" at runtime, an error with strictVersion). Make {} and {} require \
                 ranges that meet (one major)",
                side(a),
                side(b),
                host.id,
                a.0.id,
                b.0.id,
            ),
        ));
    }
    out
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
    use switchyard_model::{Edge, Reference, Scope};

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

    /// A host `shell` (sharing no `cache` itself unless `host`) loading remotes `cart` and
    /// `catalog` that share the singleton `cache` with ranges `cart_range` and `catalog_range`.
    fn siblings(
        host: Option<&str>,
        cart_range: &str,
        catalog_range: &str,
        singleton: bool,
    ) -> Fixture {
        let mut fx = Fixture::default();
        fx.model.repositories = vec![
            repo("shell", "local", "dev"),
            repo("cart", "local", "dev"),
            repo("catalog", "local", "dev"),
        ];
        fx.model.services = vec![
            service("shell", "shell", vec![Scope::Host], vec![]),
            service("cart", "cart", vec![Scope::Host], vec![]),
            service("catalog", "catalog", vec![Scope::Host], vec![]),
        ];
        for (i, (remote, range)) in [("cart", cart_range), ("catalog", catalog_range)]
            .into_iter()
            .enumerate()
        {
            fx.model.edges.push(Edge {
                from: "shell/shell".into(),
                to: format!("{remote}/{remote}"),
                mechanisms: vec![Mechanism::Federation],
                evidence: vec![loc("shell", "webpack.config.js", 8 + i as u32)],
                ..Edge::new("", "")
            });
            fx.facts_mut("shell").references.push(Reference {
                from: Some("shell".into()),
                target: Target::FederationRemote {
                    name: remote.into(),
                    url: Some(format!("http://localhost:300{i}/remoteEntry.js")),
                },
                mechanism: Mechanism::Federation,
                key: Some(format!("remotes.{remote}")),
                location: loc("shell", "webpack.config.js", 8 + i as u32),
                scope: Scope::Host,
            });
            let mut d = dep(remote, remote, Some(range), singleton);
            d.name = "cache".into();
            fx.facts_mut(remote).shared.push(d);
        }
        if let Some(range) = host {
            let mut d = dep("shell", "shell", Some(range), singleton);
            d.name = "cache".into();
            fx.facts_mut("shell").shared.push(d);
        }
        fx
    }

    #[test]
    fn sibling_remotes_sharing_one_singleton() {
        let c = run(&siblings(None, "^2.0.0", "^1.4.0", true));
        assert_eq!(c.len(), 1, "{c:#?}");
        assert_eq!(c[0].resource, "shared:cache@shell/shell");
        assert_eq!(c[0].severity, Severity::High);
        assert_eq!(c[0].repositories, vec!["cart", "catalog", "shell"]);
        assert!(
            c[0].message.starts_with(
                "singleton cache is required as ^2.0.0 by cart/cart (cart/webpack.config.js:12:5, \
                 loaded by shell/webpack.config.js:8:5) but as ^1.4.0 by catalog/catalog"
            ) && c[0]
                .message
                .contains("two remotes that shell/shell loads into one page"),
            "{}",
            c[0].message
        );
        // The host sharing it too and clashing with one of them: the host's finding says it.
        let c = run(&siblings(Some("^2.0.0"), "^2.0.0", "^1.4.0", true));
        assert_eq!(c.len(), 1, "{c:#?}");
        assert!(c[0].message.contains("required as ^2.0.0 by shell/shell"));
    }

    #[test]
    fn sibling_look_alikes() {
        // Overlapping ranges, and non-singletons (each remote loads its own copy).
        assert!(run(&siblings(None, "^2.0.0", "^2.1.0", true)).is_empty());
        assert!(run(&siblings(None, "^2.0.0", "^1.4.0", false)).is_empty());
    }

    #[test]
    fn a_served_build_stands_for_the_app_built_as_the_named_container() {
        // shell's entry `cart@…` reached the compose service that serves the built remote;
        // the shared ranges are the webpack app's, built as container `cart`.
        let mut fx = fixture(Some("^18.2.0"), Some("^17.0.2"), true);
        fx.model.services[1] = service("cart", "web", vec![Scope::Host], vec![]);
        fx.model.edges[0].to = "cart/web".into();
        let mut app = service("cart", "cart", vec![Scope::Host], vec![]);
        app.endpoints.push(switchyard_model::Endpoint {
            kind: switchyard_model::EndpointKind::FederationContainer {
                name: "cart".into(),
            },
            location: loc("cart", "webpack.config.js", 3),
        });
        fx.model.services.push(app);
        fx.facts_mut("shell").references.push(Reference {
            from: Some("shell".into()),
            target: Target::FederationRemote {
                name: "cart".into(),
                url: Some("http://localhost:3001/remoteEntry.js".into()),
            },
            mechanism: Mechanism::Federation,
            key: Some("remotes.cart".into()),
            location: loc("shell", "webpack.config.js", 8),
            scope: Scope::Host,
        });
        let c = run(&fx);
        assert_eq!(c.len(), 1, "{c:#?}");
        assert!(
            c[0].message.contains("but as ^17.0.2 by cart/cart"),
            "{}",
            c[0].message
        );
    }

    #[test]
    fn only_federation_edges() {
        let mut fx = fixture(Some("^18.2.0"), Some("^17.0.2"), true);
        fx.model.edges[0].mechanisms = vec![Mechanism::Env];
        assert!(run(&fx).is_empty());
    }
}
