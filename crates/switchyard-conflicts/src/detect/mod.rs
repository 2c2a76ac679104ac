//! Conflict detectors, one file per kind, all listed in [`detectors`].
//!
//! Conflicts are computed per host and environment of the repositories (`switchyard.toml`):
//! ports, volumes, networks, container names, env drift and URLs per `(host, environment)`;
//! domains per environment (DNS is shared by every host of an environment). [`detect`] builds
//! one [`FleetIndex`] and shares it between detectors; output is sorted and deterministic.

pub mod container_names;
pub mod cors;
pub mod dangling_package;
pub mod domains;
pub mod env_drift;
mod federation_remotes;
pub mod index;
pub mod networks;
pub mod ports;
mod reach;
mod semver;
pub mod shared_versions;
pub mod unreachable_url;
pub mod volumes;
pub mod websocket;

use crate::{Conflict, ConflictKind, FleetInput};
use index::FleetIndex;
use rayon::prelude::*;

/// Finds one kind of conflict. Pure: reads the input, returns conflicts sorted by id.
pub trait Detector: Send + Sync {
    fn kind(&self) -> ConflictKind;

    /// Finds conflicts in an indexed fleet; [`detect`] shares one index between detectors.
    fn detect_in(&self, fleet: &FleetIndex<'_>) -> Vec<Conflict>;

    fn detect(&self, input: FleetInput<'_>) -> Vec<Conflict> {
        self.detect_in(&FleetIndex::new(input))
    }
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
    // One index for all detectors; they are independent, so they run in parallel and the
    // result is sorted into a fixed order.
    let fleet = FleetIndex::new(input);
    let mut out: Vec<Conflict> = detectors()
        .into_par_iter()
        .filter(|d| kinds.is_empty() || kinds.contains(&d.kind()))
        .flat_map_iter(|d| d.detect_in(&fleet))
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
mod loopback_tests;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_detector_per_kind_in_order() {
        let kinds: Vec<ConflictKind> = detectors().iter().map(|d| d.kind()).collect();
        assert_eq!(kinds, ConflictKind::ALL.to_vec());
    }
}
