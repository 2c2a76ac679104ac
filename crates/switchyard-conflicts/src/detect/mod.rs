//! Conflict detectors, one file per kind, all listed in [`detectors`].

pub mod container_names;
pub mod cors;
pub mod dangling_package;
pub mod domains;
pub mod env_drift;
mod index;
pub mod networks;
pub mod ports;
mod reach;
mod semver;
pub mod shared_versions;
pub mod unreachable_url;
pub mod volumes;
pub mod websocket;

use crate::{Conflict, ConflictKind, FleetInput};
use rayon::prelude::*;

/// Finds one kind of conflict. Pure: reads the input, returns conflicts sorted by id.
pub trait Detector: Send + Sync {
    fn kind(&self) -> ConflictKind;
    fn detect(&self, input: FleetInput<'_>) -> Vec<Conflict>;
}

/// Every detector, in the order of [`ConflictKind::ALL`].
pub fn detectors() -> Vec<Box<dyn Detector>> {
    vec![
        Box::new(ports::PortDetector),
        Box::new(domains::DomainDetector),
        Box::new(volumes::VolumeDetector),
        Box::new(networks::NetworkDetector),
        Box::new(container_names::ContainerNameDetector),
        Box::new(env_drift::EnvDriftDetector::default()),
        Box::new(unreachable_url::UnreachableUrlDetector),
        Box::new(cors::CorsDetector),
        Box::new(websocket::WebsocketDetector),
        Box::new(shared_versions::SharedVersionDetector),
        Box::new(dangling_package::DanglingPackageDetector),
    ]
}

/// Runs the detectors of the given kinds (all when `kinds` is empty); conflicts sorted by
/// severity (high first), then kind, then id.
pub fn detect(input: FleetInput<'_>, kinds: &[ConflictKind]) -> Vec<Conflict> {
    // Detectors are independent: run them in parallel, then merge in a fixed order.
    let mut out: Vec<Conflict> = detectors()
        .into_par_iter()
        .filter(|d| kinds.is_empty() || kinds.contains(&d.kind()))
        .flat_map_iter(|d| d.detect(input))
        .collect();
    out.sort_by(|a, b| {
        b.severity
            .cmp(&a.severity)
            .then(a.kind.cmp(&b.kind))
            .then(a.id.cmp(&b.id))
    });
    out
}

#[cfg(test)]
mod corpus_tests;
#[cfg(test)]
mod fixtures_tests;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_detector_per_kind_in_order() {
        let kinds: Vec<ConflictKind> = detectors().iter().map(|d| d.kind()).collect();
        assert_eq!(kinds, ConflictKind::ALL.to_vec());
    }
}
