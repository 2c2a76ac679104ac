//! `repository-specific-override`: instead of editing a repository's compose file, write a new
//! `docker-compose.override.yml` beside it that sets the key to the fleet's value for the service.

use super::common::{Files, resolution};
use super::value_standardization::winning_value;
use super::{FileSource, Strategy};
use crate::detect::index::and_list;
use crate::{Conflict, Edit, FleetInput, Resolution};
use std::collections::BTreeMap;
use switchyard_extract::source::{file_name, join_repo_path, parent_dir};
use switchyard_model::{ByteSpan, Scope};

#[derive(Debug, Clone, Copy, Default)]
pub struct RepositorySpecificOverride;

/// The override file compose reads automatically beside `project` (`compose.yaml` →
/// `compose.override.yaml`), or `None` for names compose does not pair with an override.
fn override_path(project: &str) -> Option<String> {
    let name = file_name(project);
    let (stem, ext) = name
        .strip_suffix(".yml")
        .map(|s| (s, "yml"))
        .or_else(|| name.strip_suffix(".yaml").map(|s| (s, "yaml")))?;
    if stem != "docker-compose" && stem != "compose" {
        return None;
    }
    join_repo_path(parent_dir(project), &format!("{stem}.override.{ext}"))
}

/// A YAML double-quoted scalar for a compose value (`$` doubled so compose does not
/// interpolate it).
fn yaml_quoted(value: &str) -> Option<String> {
    if value.chars().any(char::is_control) {
        return None;
    }
    let escaped = value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('$', "$$");
    Some(format!("\"{escaped}\""))
}

fn plain_key(key: &str) -> bool {
    key.chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_.-".contains(c))
}

impl Strategy for RepositorySpecificOverride {
    fn name(&self) -> &'static str {
        "repository-specific-override"
    }

    fn propose(
        &self,
        conflict: &Conflict,
        input: FleetInput<'_>,
        files: &dyn FileSource,
    ) -> Option<Resolution> {
        let files = Files::new(files);
        let winner = winning_value(conflict, input, &files)?;
        if !plain_key(&winner.key) {
            return None;
        }
        let value = yaml_quoted(&winner.text)?;
        // (repository, override path) → services to set the key for.
        let mut overrides: BTreeMap<(String, String), Vec<String>> = BTreeMap::new();
        for (occurrence, _) in &winner.losers {
            let Some(service) = &occurrence.service else {
                continue;
            };
            let project = input.facts_of(&occurrence.repository).and_then(|f| {
                f.services
                    .iter()
                    .filter(|d| d.name == *service)
                    .find_map(|d| match &d.scope {
                        Scope::Compose { project } => Some(project.clone()),
                        _ => None,
                    })
            });
            let Some(path) = project.as_deref().and_then(override_path) else {
                continue;
            };
            // An existing override is the repository's own: do not rewrite it.
            let other_ext = path
                .strip_suffix(".yml")
                .map(|p| format!("{p}.yaml"))
                .or_else(|| path.strip_suffix(".yaml").map(|p| format!("{p}.yml")));
            let exists = files.read(&occurrence.repository, &path).is_some()
                || other_ext.is_some_and(|p| files.read(&occurrence.repository, &p).is_some());
            if exists {
                continue;
            }
            let list = overrides
                .entry((occurrence.repository.clone(), path))
                .or_default();
            if !list.contains(service) {
                list.push(service.clone());
            }
        }
        if overrides.is_empty() {
            return None;
        }
        let mut edits = Vec::new();
        let mut created = Vec::new();
        for ((repository, path), services) in overrides {
            let mut text = format!(
                "# Written by `switchyard resolve` ({}): {} follows the value the fleet\n\
                 # agrees on, without changing this repository's own compose file.\nservices:\n",
                self.name(),
                winner.key
            );
            for service in &services {
                let name = if plain_key(service) {
                    service.clone()
                } else {
                    yaml_quoted(service)?
                };
                text.push_str(&format!(
                    "  {name}:\n    environment:\n      {}: {value}\n",
                    winner.key
                ));
            }
            created.push(format!("{repository}/{path}"));
            // A new file: the empty span 0..0 with nothing expected (see `patch`).
            edits.push(Edit {
                repository,
                path,
                span: ByteSpan::new(0, 0),
                expected: String::new(),
                replacement: text,
            });
        }
        let description = format!(
            "Create {} setting {} to the value {} uses ({}).",
            and_list(&created),
            winner.key,
            and_list(&winner.repositories),
            winner.display
        );
        Some(resolution(
            conflict,
            self.name(),
            0.5,
            false,
            description,
            edits,
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::strategies::testkit::{TestFleet, env_conflict};

    const GAMMA: &str = "services:\n  worker:\n    image: g\n    environment:\n      - AUTH_URL=http://auth.internal:9001 # old\n";

    fn fleet(gamma_file: &str) -> TestFleet {
        TestFleet::new()
            .repo(
                "alpha",
                &[(".env", "AUTH_URL=http://auth.internal:9000?a=$x\n")],
            )
            .repo(
                "beta",
                &[("config/.env", "AUTH_URL=http://auth.internal:9000?a=$x\n")],
            )
            .repo("gamma", &[(gamma_file, GAMMA)])
    }

    #[test]
    fn writes_an_override_file_and_leaves_the_compose_file() {
        let fleet = fleet("docker-compose.yml");
        let an = fleet.analyze();
        let conflict = env_conflict(&an, "AUTH_URL");
        let res = RepositorySpecificOverride
            .propose(&conflict, an.input(), &fleet)
            .unwrap();
        assert!(!res.automatic);
        assert_eq!(res.edits.len(), 1);
        assert_eq!(res.edits[0].path, "docker-compose.override.yml");
        let after = fleet.apply(&res);
        assert_eq!(after.text("gamma", "docker-compose.yml"), GAMMA);
        let created = after.text("gamma", "docker-compose.override.yml");
        assert!(
            created.ends_with(
                "services:\n  worker:\n    environment:\n      AUTH_URL: \"http://auth.internal:9000?a=$$x\"\n"
            ),
            "{created}"
        );
        // Compose merges the override: the worker now uses the fleet's value.
        let re = after.analyze();
        let hashes: std::collections::BTreeSet<&str> = re
            .facts
            .iter()
            .flat_map(|f| &f.env)
            .filter(|e| e.key == "AUTH_URL")
            .map(|e| e.value_hash.as_str())
            .collect();
        assert_eq!(hashes.len(), 1, "{:?}", re.facts[2].env);
    }

    #[test]
    fn needs_a_compose_file_with_a_free_override_name() {
        // compose does not read an override beside docker-compose.prod.yml.
        let fleet = fleet("docker-compose.prod.yml");
        let an = fleet.analyze();
        let conflict = env_conflict(&an, "AUTH_URL");
        assert!(
            RepositorySpecificOverride
                .propose(&conflict, an.input(), &fleet)
                .is_none()
        );
        // An override the repository already has is never rewritten.
        let fleet = fleet_with_override();
        let an = fleet.analyze();
        let conflict = env_conflict(&an, "AUTH_URL");
        assert!(
            RepositorySpecificOverride
                .propose(&conflict, an.input(), &fleet)
                .is_none()
        );
        assert_eq!(
            override_path("deploy/compose.yaml").as_deref(),
            Some("deploy/compose.override.yaml")
        );
    }

    fn fleet_with_override() -> TestFleet {
        let mut f = fleet("docker-compose.yml");
        f.repos[2].1.insert(
            "docker-compose.override.yaml".into(),
            "services:\n  worker:\n    image: g2\n".into(),
        );
        f
    }
}
