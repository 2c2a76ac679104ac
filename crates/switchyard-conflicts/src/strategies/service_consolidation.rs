//! `service-consolidation`: a manual suggestion, never a patch — one repository owns the
//! contested resource and the others consume it from there.

use super::common::{in_order, resolution};
use super::{FileSource, Strategy};
use crate::{Conflict, ConflictKind, FleetInput, Resolution};

#[derive(Debug, Clone, Copy, Default)]
pub struct ServiceConsolidation;

impl Strategy for ServiceConsolidation {
    fn name(&self) -> &'static str {
        "service-consolidation"
    }

    fn propose(
        &self,
        conflict: &Conflict,
        _input: FleetInput<'_>,
        _files: &dyn FileSource,
    ) -> Option<Resolution> {
        if conflict.repositories.len() < 2 {
            return None;
        }
        let owner = in_order(conflict).first()?.repository.clone();
        let others: Vec<&str> = conflict
            .repositories
            .iter()
            .filter(|r| **r != owner)
            .map(String::as_str)
            .collect();
        let others = others.join(", ");
        let resource = &conflict.resource;
        let how = match conflict.kind {
            ConflictKind::Port | ConflictKind::Domain | ConflictKind::ContainerName => format!(
                "run the service behind {resource} once, from {owner}, and have {others} call it \
                 there instead of starting their own"
            ),
            ConflictKind::Volume | ConflictKind::Network => format!(
                "declare {resource} in {owner} only, and have {others} attach to it as an \
                 external resource with the same settings"
            ),
            ConflictKind::EnvDrift => format!(
                "keep {resource} in one shared configuration owned by {owner}, and have {others} \
                 read it from there instead of carrying a copy"
            ),
            _ => format!("make {owner} the owner of {resource} and have {others} depend on it"),
        };
        let description = format!(
            "Consolidate: {how}. This changes how the repositories are deployed, so it is left \
             to a person; no files are changed."
        );
        Some(resolution(
            conflict,
            self.name(),
            0.3,
            false,
            description,
            Vec::new(),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::strategies::testkit::{TestFleet, port_conflict};

    #[test]
    fn suggests_an_owner_without_edits() {
        let compose = "services:\n  redis:\n    image: redis\n    ports: [\"6379:6379\"]\n";
        let fleet = TestFleet::new()
            .repo("shop", &[("compose.yaml", compose)])
            .repo("blog", &[("compose.yaml", compose)]);
        let an = fleet.analyze();
        let conflict = port_conflict(&an, 6379);
        let res = ServiceConsolidation
            .propose(&conflict, an.input(), &fleet)
            .unwrap();
        assert!(res.edits.is_empty());
        assert!(!res.automatic);
        assert!((res.confidence - 0.3).abs() < 1e-6);
        assert!(
            res.description
                .contains("once, from blog, and have shop call it"),
            "{}",
            res.description
        );
        let mut single = conflict.clone();
        single.repositories.truncate(1);
        assert!(
            ServiceConsolidation
                .propose(&single, an.input(), &fleet)
                .is_none()
        );
    }
}
