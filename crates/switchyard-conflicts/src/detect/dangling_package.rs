//! `dangling_package`: a `workspace:*` dependency (high) or an internal-scope / local-path
//! dependency (medium: it may come from a private registry) that no package of the fleet provides.

use super::Detector;
use super::index::{FleetIndex, and_list, finish};
use crate::{Conflict, ConflictKind, Occurrence, Severity};
use std::collections::{BTreeMap, BTreeSet};
use switchyard_model::{EndpointKind, Mechanism, Target};

pub struct DanglingPackageDetector;

impl Detector for DanglingPackageDetector {
    fn kind(&self) -> ConflictKind {
        ConflictKind::DanglingPackage
    }

    fn detect_in(&self, fleet: &FleetIndex<'_>) -> Vec<Conflict> {
        let provided: BTreeSet<&str> = fleet
            .input
            .model
            .services
            .iter()
            .flat_map(|s| &s.endpoints)
            .filter_map(|e| match &e.kind {
                EndpointKind::Package { name, .. } => Some(name.as_str()),
                _ => None,
            })
            .collect();
        // (host, env, package) → (any `workspace:` spec, occurrences)
        let mut groups: BTreeMap<(&str, &str, &str), (bool, Vec<Occurrence>)> = BTreeMap::new();
        for facts in fleet.input.facts {
            // The extractor keeps only internal dependencies: `workspace:`/`file:`/`link:` specs
            // and names in the workspace's own scopes.
            for r in &facts.references {
                let Target::Package { name, spec } = &r.target else {
                    continue;
                };
                if r.mechanism != Mechanism::Workspace || provided.contains(name.as_str()) {
                    continue;
                }
                let (host, env) = fleet.place(&facts.repository);
                let entry = groups.entry((host, env, name.as_str())).or_default();
                entry.0 |= spec.starts_with("workspace:");
                entry.1.push(Occurrence {
                    repository: facts.repository.clone(),
                    service: r.from.clone(),
                    location: r.location.clone(),
                    detail: format!("{name}@{spec}"),
                });
            }
        }
        let out = groups
            .into_iter()
            .map(|((host, env, name), (workspace, occurrences))| {
                let mut who: Vec<String> = occurrences
                    .iter()
                    .map(|o| match &o.service {
                        Some(s) => format!("{}/{s}", o.repository),
                        None => o.repository.clone(),
                    })
                    .collect();
                who.sort();
                who.dedup();
                let (severity, why) = if workspace {
                    (
                        Severity::High,
                        "no workspace of the fleet provides it, so install fails",
                    )
                } else {
                    (
                        Severity::Medium,
                        "no package of the fleet provides it; it must come from a registry",
                    )
                };
                Conflict::new(
                    ConflictKind::DanglingPackage,
                    severity,
                    host,
                    env,
                    format!("package:{name}"),
                    occurrences,
                    format!("{} depends on {name}, but {why}", and_list(&who)),
                )
            })
            .collect();
        finish(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detect::index::testing::*;
    use switchyard_model::{Reference, Scope};

    fn dependency(repo: &str, name: &str, spec: &str, line: u32) -> Reference {
        Reference {
            from: Some("@acme/web".into()),
            target: Target::Package {
                name: name.into(),
                spec: spec.into(),
            },
            mechanism: Mechanism::Workspace,
            key: Some(format!("dependencies.{name}")),
            location: loc(repo, "apps/web/package.json", line),
            scope: Scope::Host,
        }
    }

    fn fixture(refs: Vec<Reference>) -> Fixture {
        let mut fx = Fixture::default();
        fx.model.repositories = vec![repo("mono", "local", "default")];
        fx.model.services = vec![service(
            "mono",
            "@acme/ui",
            vec![Scope::Host],
            vec![EndpointKind::Package {
                name: "@acme/ui".into(),
                version: Some("1.0.0".into()),
            }],
        )];
        fx.facts_mut("mono").references = refs;
        fx
    }

    #[test]
    fn workspace_dependency_nobody_provides() {
        let fx = fixture(vec![
            dependency("mono", "@acme/ui", "workspace:*", 5),
            dependency("mono", "@acme/utils", "workspace:^", 6),
        ]);
        let c = DanglingPackageDetector.detect(fx.input());
        assert_eq!(c.len(), 1);
        assert_eq!(c[0].resource, "package:@acme/utils");
        assert_eq!(c[0].severity, Severity::High);
        assert_eq!(c[0].occurrences[0].detail, "@acme/utils@workspace:^");
        assert_eq!(
            c[0].occurrences[0].location.to_string(),
            "mono/apps/web/package.json:6:5"
        );
        assert!(
            c[0].message
                .contains("mono/@acme/web depends on @acme/utils")
        );
    }

    #[test]
    fn internal_scope_without_workspace_spec_is_medium() {
        let fx = fixture(vec![dependency("mono", "@acme/icons", "^2.0.0", 7)]);
        let c = DanglingPackageDetector.detect(fx.input());
        assert_eq!((c.len(), c[0].severity), (1, Severity::Medium));
    }

    #[test]
    fn provided_packages_are_fine() {
        let fx = fixture(vec![dependency("mono", "@acme/ui", "^1.0.0", 5)]);
        assert!(DanglingPackageDetector.detect(fx.input()).is_empty());
    }
}
