//! `namespace-separation`: the first repository keeps a shared network or named volume; every
//! other one gets its own, named `<repo>-<name>` by the `name:` of its compose declaration.

use super::common::{Files, content_span, dns_label, in_order, resolution};
use super::{FileSource, Strategy};
use crate::{Conflict, ConflictKind, Edit, FleetInput, Occurrence, Resolution};
use std::collections::BTreeSet;
use switchyard_extract::yaml::{self, Node};
use switchyard_model::{ByteSpan, Location, ResourceKind, ResourceUse};

#[derive(Debug, Clone, Copy, Default)]
pub struct NamespaceSeparation;

/// The resource recorded at an occurrence's location.
pub(crate) fn resource_at<'m>(
    input: FleetInput<'m>,
    occurrence: &Occurrence,
) -> Option<&'m ResourceUse> {
    input
        .facts_of(&occurrence.repository)?
        .resources
        .iter()
        .find(|r| {
            r.location.path == occurrence.location.path
                && r.location.span == occurrence.location.span
        })
}

/// The edit that names a top-level compose declaration (`networks:`/`volumes:` entry) `name`:
/// its `name:` (or `external.name:`) value is replaced, or a `name:` entry is added first.
fn name_declaration(
    files: &Files<'_>,
    location: &Location,
    value: &Node,
    text: &str,
    name: &str,
) -> Option<Edit> {
    let (repo, path) = (&location.repository, &location.path);
    let named = value
        .get("name")
        .or_else(|| value.get("external").and_then(|e| e.get("name")));
    if let Some(node) = named {
        node.as_str()?;
        return files.edit(repo, path, content_span(text, node), name);
    }
    let (first_key, _) = value.as_map()?.first()?;
    let at = first_key.start;
    let flow = text.get(value.start..)?.starts_with('{');
    let insertion = if flow {
        format!("name: {name}, ")
    } else {
        let line_start = text.get(..at)?.rfind('\n').map_or(0, |i| i + 1);
        let indent = text.get(line_start..at)?;
        if !indent.chars().all(|c| c == ' ') {
            return None;
        }
        format!("name: {name}\n{indent}")
    };
    files.edit(repo, path, ByteSpan::new(at, at), insertion)
}

/// The declaration of a network (located at its key) or named volume (located at a mount's
/// source, declared in the same file).
fn declaration_edit(files: &Files<'_>, resource: &ResourceUse, new_name: &str) -> Option<Edit> {
    let location = &resource.location;
    let text = files.read(&location.repository, &location.path)?;
    let root = yaml::parse(&text).ok()??;
    let (section, key) = match resource.kind {
        ResourceKind::Network => ("networks", None),
        ResourceKind::Volume => (
            "volumes",
            Some(
                text.get(location.span.start..location.span.end)?
                    .to_string(),
            ),
        ),
        _ => return None,
    };
    let decls = root.get(section)?;
    // A volume with a fixed `name:` is located at that name, inside its declaration.
    let fixed_name_here = |value: &yaml::Node| {
        value
            .get("name")
            .is_some_and(|n| content_span(&text, n) == location.span)
    };
    let (_, _, value) = decls.entries().find(|(k, key_node, value)| match &key {
        Some(name) => k == name || fixed_name_here(value),
        None => content_span(&text, key_node) == location.span,
    })?;
    name_declaration(files, location, value, &text, new_name)
}

impl Strategy for NamespaceSeparation {
    fn name(&self) -> &'static str {
        "namespace-separation"
    }

    fn propose(
        &self,
        conflict: &Conflict,
        input: FleetInput<'_>,
        files: &dyn FileSource,
    ) -> Option<Resolution> {
        if !matches!(conflict.kind, ConflictKind::Network | ConflictKind::Volume) {
            return None;
        }
        let files = Files::new(files);
        let ordered = in_order(conflict);
        let kept = ordered.first()?.repository.clone();
        let mut edits = Vec::new();
        let mut named = BTreeSet::new();
        for occurrence in ordered.iter().filter(|o| o.repository != kept) {
            let resource = resource_at(input, occurrence)?;
            let new_name = format!(
                "{}-{}",
                dns_label(&occurrence.repository),
                resource.identifier
            );
            edits.push(declaration_edit(&files, resource, &new_name)?);
            named.insert(format!("{} uses {new_name}", occurrence.repository));
        }
        if edits.is_empty() {
            return None;
        }
        let description = format!(
            "Keep {} for {kept}; {} (create it before deploying if it is external; data or \
             peers on the shared one are not moved).",
            conflict.resource,
            named.into_iter().collect::<Vec<_>>().join(", ")
        );
        Some(resolution(
            conflict,
            self.name(),
            0.6,
            false,
            description,
            edits,
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::strategies::testkit::{TestFleet, changed_lines, resource_conflict};

    const ALPHA: &str = "services:\n  app:\n    image: a\n    networks: [shared]\n    volumes:\n      - media:/srv\nnetworks:\n  shared:\n    external: true\nvolumes:\n  media:\n    external: true\n";
    const BETA: &str = "services:\n  app:\n    image: b\n    networks: [shared]\n    volumes:\n      - media:/data:ro\n      - cache:/cache\nnetworks:\n  shared:\n    driver: overlay # swarm\n    name: shared\nvolumes:\n  media: {external: true}\n  cache:\n";

    fn fleet() -> TestFleet {
        TestFleet::new()
            .repo("alpha", &[("docker-compose.yml", ALPHA)])
            .repo("beta", &[("docker-compose.yml", BETA)])
    }

    #[test]
    fn gives_the_later_repository_its_own_network() {
        let fleet = fleet();
        let an = fleet.analyze();
        let conflict = resource_conflict(&an, ResourceKind::Network, "shared");
        assert_eq!(conflict.repositories, ["alpha", "beta"]);
        let res = NamespaceSeparation
            .propose(&conflict, an.input(), &fleet)
            .unwrap();
        let after = fleet.apply(&res);
        assert_eq!(after.text("alpha", "docker-compose.yml"), ALPHA);
        assert_eq!(
            changed_lines(BETA, &after.text("beta", "docker-compose.yml")),
            [("    name: shared".into(), "    name: beta-shared".into())]
        );
        let re = after.analyze();
        assert_eq!(
            resource_conflict(&re, ResourceKind::Network, "shared").repositories,
            ["alpha"]
        );
        assert_eq!(
            resource_conflict(&re, ResourceKind::Network, "beta-shared").repositories,
            ["beta"]
        );
    }

    #[test]
    fn names_volumes_in_block_and_flow_declarations() {
        let fleet = fleet();
        let an = fleet.analyze();
        let conflict = resource_conflict(&an, ResourceKind::Volume, "media");
        assert_eq!(conflict.repositories, ["alpha", "beta"]);
        let res = NamespaceSeparation
            .propose(&conflict, an.input(), &fleet)
            .unwrap();
        let after = fleet.apply(&res);
        assert_eq!(
            changed_lines(BETA, &after.text("beta", "docker-compose.yml")),
            [(
                "  media: {external: true}".into(),
                "  media: {name: beta-media, external: true}".into()
            )]
        );
        // alpha first, beta second: flip the order to exercise the block form.
        let flipped = TestFleet::new()
            .repo("alpha", &[("docker-compose.yml", BETA)])
            .repo("beta", &[("docker-compose.yml", ALPHA)]);
        let an = flipped.analyze();
        let conflict = resource_conflict(&an, ResourceKind::Volume, "media");
        let res = NamespaceSeparation
            .propose(&conflict, an.input(), &flipped)
            .unwrap();
        let after = flipped.apply(&res);
        assert_eq!(
            after.text("beta", "docker-compose.yml"),
            ALPHA.replace(
                "  media:\n    external: true\n",
                "  media:\n    name: beta-media\n    external: true\n"
            )
        );
        let re = after.analyze();
        assert_eq!(
            resource_conflict(&re, ResourceKind::Volume, "media").repositories,
            ["alpha"]
        );
        assert_eq!(
            resource_conflict(&re, ResourceKind::Volume, "beta-media").repositories,
            ["beta"]
        );
    }

    #[test]
    fn refuses_other_kinds_and_bare_declarations() {
        let fleet = TestFleet::new()
            .repo("a", &[("compose.yaml", "services:\n  x:\n    image: x\n    volumes: [\"cache:/c\"]\nvolumes:\n  cache:\n")])
            .repo("b", &[("compose.yaml", "services:\n  x:\n    image: x\n    volumes: [\"cache:/c\"]\nvolumes:\n  cache:\n")]);
        let an = fleet.analyze();
        let conflict = resource_conflict(&an, ResourceKind::Volume, "cache");
        assert_eq!(conflict.repositories.len(), 2);
        assert!(
            NamespaceSeparation
                .propose(&conflict, an.input(), &fleet)
                .is_none()
        );
        let mut other = conflict.clone();
        other.kind = ConflictKind::ContainerName;
        assert!(
            NamespaceSeparation
                .propose(&other, an.input(), &fleet)
                .is_none()
        );
    }
}
