//! Resolution strategies, one file per strategy, all listed in [`strategies`].

mod common;
pub mod namespace_separation;
pub mod path_based_routing;
pub mod port_based_separation;
pub mod port_reassignment;
pub mod repository_specific_override;
pub mod resource_name_prefixing;
pub mod route_removal;
#[cfg(test)]
mod seed_tests;
pub mod service_consolidation;
pub mod subdomain_separation;
#[cfg(test)]
pub(crate) mod testkit;
pub mod value_standardization;

use crate::{Conflict, FleetInput, Resolution};
use std::sync::Arc;

pub use namespace_separation::NamespaceSeparation;
pub use path_based_routing::PathBasedRouting;
pub use port_based_separation::PortBasedSeparation;
pub use port_reassignment::{PortRange, PortReassignment};
pub use repository_specific_override::RepositorySpecificOverride;
pub use resource_name_prefixing::ResourceNamePrefixing;
pub use route_removal::RouteRemoval;
pub use service_consolidation::ServiceConsolidation;
pub use subdomain_separation::SubdomainSeparation;
pub use value_standardization::ValueStandardization;

/// Reads a repository file's current text (the caller does the I/O).
pub trait FileSource {
    /// A file's text, shared: a fleet-wide conflict reads the same files in several
    /// strategies, and copying each text per read was a measurable part of `conflicts`.
    fn read(&self, repository: &str, path: &str) -> Option<Arc<str>>;
}

/// Proposes a resolution for conflicts it understands.
pub trait Strategy: Send + Sync {
    fn name(&self) -> &'static str;
    fn propose(
        &self,
        conflict: &Conflict,
        input: FleetInput<'_>,
        files: &dyn FileSource,
    ) -> Option<Resolution>;
}

/// Every strategy.
pub fn strategies() -> Vec<Box<dyn Strategy>> {
    vec![
        Box::new(PortReassignment::default()),
        Box::new(RouteRemoval),
        Box::new(SubdomainSeparation),
        Box::new(PathBasedRouting),
        Box::new(PortBasedSeparation::default()),
        Box::new(NamespaceSeparation),
        Box::new(ResourceNamePrefixing),
        Box::new(ServiceConsolidation),
        Box::new(ValueStandardization),
        Box::new(RepositorySpecificOverride),
    ]
}

/// Every strategy's proposal for `conflict`, best first: automatic ones, then by confidence.
pub fn ranked_proposals(
    conflict: &Conflict,
    input: FleetInput<'_>,
    files: &dyn FileSource,
) -> Vec<Resolution> {
    let mut out: Vec<Resolution> = strategies()
        .iter()
        .filter_map(|s| s.propose(conflict, input, files))
        .collect();
    out.sort_by(|a, b| {
        b.automatic
            .cmp(&a.automatic)
            .then(b.confidence.total_cmp(&a.confidence))
    });
    out
}
