//! `resource-name-prefixing`: the first repository keeps a contested `container_name` or host
//! bind path; every other one is prefixed with `<repo>-`, and references by that name follow.

use super::common::{Files, dns_label, find_token, host_char, in_order, resolution, service};
use super::namespace_separation::resource_at;
use super::subdomain_separation::rename_in_span;
use super::{FileSource, Strategy};
use crate::{Conflict, ConflictKind, FleetInput, Resolution};
use std::collections::BTreeSet;
use switchyard_model::{AliasKind, ByteSpan, ResourceKind};

#[derive(Debug, Clone, Copy, Default)]
pub struct ResourceNamePrefixing;

/// `/srv/data` → `/srv/<label>-data` (the last path component gets the prefix).
fn prefixed_path(path: &str, label: &str) -> Option<String> {
    let trimmed = path.trim_end_matches('/');
    let (dir, last) = trimmed.rsplit_once('/')?;
    if last.is_empty() || last == "." || last == ".." {
        return None;
    }
    Some(format!("{dir}/{label}-{last}"))
}

impl Strategy for ResourceNamePrefixing {
    fn name(&self) -> &'static str {
        "resource-name-prefixing"
    }

    fn propose(
        &self,
        conflict: &Conflict,
        input: FleetInput<'_>,
        files: &dyn FileSource,
    ) -> Option<Resolution> {
        if !matches!(
            conflict.kind,
            ConflictKind::ContainerName | ConflictKind::Volume
        ) {
            return None;
        }
        let files = Files::new(files);
        let ordered = in_order(conflict);
        let kept = ordered.first()?.repository.clone();
        let mut edits = Vec::new();
        let mut renamed = BTreeSet::new();
        let mut references = BTreeSet::new();
        for occurrence in ordered.iter().filter(|o| o.repository != kept) {
            let resource = resource_at(input, occurrence)?;
            let location = &resource.location;
            let current = files.text_at(location)?;
            let label = dns_label(&occurrence.repository);
            let new = match resource.kind {
                ResourceKind::ContainerName if current == resource.identifier => {
                    format!("{label}-{current}")
                }
                // Named volumes are renamed by their declaration (namespace-separation).
                ResourceKind::BindMount if current.starts_with('/') => {
                    prefixed_path(&current, &label)?
                }
                _ => return None,
            };
            edits.push(files.edit(
                &location.repository,
                &location.path,
                location.span,
                new.as_str(),
            )?);
            renamed.insert(format!("{} → {new}", resource.identifier));
            if resource.kind != ResourceKind::ContainerName {
                continue;
            }
            // Callers that reach the service only by this name must use the new one.
            let Some(svc) = resource
                .service
                .as_deref()
                .and_then(|name| service(input, &occurrence.repository, name))
            else {
                continue;
            };
            let other_name = svc.name.eq_ignore_ascii_case(&current)
                || svc.aliases.iter().any(|a| {
                    a.kind != AliasKind::ContainerName && a.name.eq_ignore_ascii_case(&current)
                });
            if other_name {
                continue;
            }
            let refs = input.references_to(svc, &[kept.as_str()], |t| {
                !find_token(t, ByteSpan::new(0, t.len()), &current, host_char).is_empty()
            });
            for (r, _) in refs {
                let e = rename_in_span(&files, &r.location, &current, &new)?;
                if !e.is_empty() {
                    references.insert(r.location.to_string());
                }
                edits.extend(e);
            }
        }
        if edits.is_empty() {
            return None;
        }
        let container = conflict.kind == ConflictKind::ContainerName;
        let mut description = format!(
            "Keep {} for {kept}; rename {}",
            conflict.resource,
            renamed.into_iter().collect::<Vec<_>>().join(", ")
        );
        if !references.is_empty() {
            description.push_str(&format!(
                "; update {}",
                references.into_iter().collect::<Vec<_>>().join(", ")
            ));
        }
        if !container {
            description.push_str(" (the data at the old path is not moved)");
        }
        description.push('.');
        // A container name is only a label; a bind path holds data, so a person decides.
        let (confidence, automatic) = if container { (0.8, true) } else { (0.6, false) };
        Some(resolution(
            conflict,
            self.name(),
            confidence,
            automatic,
            description,
            edits,
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::strategies::testkit::{TestFleet, changed_lines, resource_conflict};

    const ALPHA: &str = "services:\n  db:\n    image: postgres\n    container_name: postgres # fixed\n    volumes:\n      - /srv/pgdata:/var/lib/postgresql/data\n";
    const BETA: &str = "services:\n  database:\n    image: postgres\n    container_name: \"postgres\"\n    volumes:\n      - /srv/pgdata:/var/lib/postgresql/data\n  app:\n    image: app\n    environment:\n      DB_HOST: postgres\n      DATABASE_URL: postgres://app@postgres:5432/app\n";

    fn fleet() -> TestFleet {
        TestFleet::new()
            .repo("alpha", &[("docker-compose.yml", ALPHA)])
            .repo("beta", &[("docker-compose.yml", BETA)])
    }

    #[test]
    fn prefixes_container_names_and_their_callers() {
        let fleet = fleet();
        let an = fleet.analyze();
        let conflict = resource_conflict(&an, ResourceKind::ContainerName, "postgres");
        assert_eq!(conflict.repositories, ["alpha", "beta"]);
        let res = ResourceNamePrefixing
            .propose(&conflict, an.input(), &fleet)
            .unwrap();
        assert!(res.automatic);
        assert!((res.confidence - 0.8).abs() < 1e-6);
        let after = fleet.apply(&res);
        assert_eq!(after.text("alpha", "docker-compose.yml"), ALPHA);
        assert_eq!(
            changed_lines(BETA, &after.text("beta", "docker-compose.yml")),
            [
                (
                    "    container_name: \"postgres\"".into(),
                    "    container_name: \"beta-postgres\"".into()
                ),
                (
                    "      DB_HOST: postgres".into(),
                    "      DB_HOST: beta-postgres".into()
                ),
                (
                    "      DATABASE_URL: postgres://app@postgres:5432/app".into(),
                    "      DATABASE_URL: postgres://app@beta-postgres:5432/app".into()
                ),
            ]
        );
        let re = after.analyze();
        assert_eq!(
            resource_conflict(&re, ResourceKind::ContainerName, "postgres").repositories,
            ["alpha"]
        );
        assert!(
            re.model
                .edges
                .iter()
                .any(|e| e.from == "beta/app" && e.to == "beta/database")
        );
    }

    #[test]
    fn prefixes_host_bind_paths_for_review() {
        let fleet = fleet();
        let an = fleet.analyze();
        let conflict = resource_conflict(&an, ResourceKind::BindMount, "/srv/pgdata");
        assert_eq!(conflict.repositories, ["alpha", "beta"]);
        let res = ResourceNamePrefixing
            .propose(&conflict, an.input(), &fleet)
            .unwrap();
        assert!(!res.automatic);
        let after = fleet.apply(&res);
        assert_eq!(
            changed_lines(BETA, &after.text("beta", "docker-compose.yml")),
            [(
                "      - /srv/pgdata:/var/lib/postgresql/data".into(),
                "      - /srv/beta-pgdata:/var/lib/postgresql/data".into()
            )]
        );
        let re = after.analyze();
        let still = resource_conflict(&re, ResourceKind::BindMount, "/srv/pgdata");
        assert_eq!(still.repositories, ["alpha"]);
        assert_eq!(prefixed_path("/", "x"), None);
        assert_eq!(prefixed_path("/srv/a/", "x").as_deref(), Some("/srv/x-a"));
        assert_eq!(prefixed_path("/data", "x").as_deref(), Some("/x-data"));
    }
}
