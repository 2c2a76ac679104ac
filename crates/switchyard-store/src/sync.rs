//! What `switchyard resources sync` registers for the resources a fleet uses: one registration per
//! `type:identifier`, capacity 1, except networks shared on purpose (external), which many may use.
//! Also which repository uses what ([`fleet_uses`]), shared by the CLI's sync and the server's
//! deployment claims.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::json;
use switchyard_model::{EndpointKind, RepoFacts, ResourceKind, Service};

use crate::rules::validate_identifier;
use crate::types::{Registration, ResourceType};

/// Capacity given to a shared network: "as many as want it", but still a finite number so usage
/// and availability stay meaningful.
pub const SHARED_CAPACITY: u32 = 1_000_000;

/// One use of a resource found in the fleet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResourceUse {
    pub resource_type: ResourceType,
    pub identifier: String,
    /// Declared as shared on purpose (an external network).
    pub shared: bool,
}

impl ResourceUse {
    pub fn new(resource_type: ResourceType, identifier: impl Into<String>, shared: bool) -> Self {
        ResourceUse {
            resource_type,
            identifier: identifier.into(),
            shared,
        }
    }
}

/// A resource use attributed to the repository whose files declare it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct RepositoryUse {
    pub repository: String,
    pub resource_type: ResourceType,
    pub identifier: String,
    pub shared: bool,
}

impl RepositoryUse {
    pub fn resource_use(&self) -> ResourceUse {
        ResourceUse::new(self.resource_type, self.identifier.clone(), self.shared)
    }
}

/// The ledger resources an analysed fleet uses, per repository, sorted and each once: host
/// ports (every port of a range), node ports and host-process ports, exact domains (wildcards
/// name no single resource), external volumes, and external networks (shared on purpose).
/// Container-internal ports and project-local volumes/networks are private to a repository,
/// so nobody else can collide with them and they are left out.
pub fn fleet_uses<F: std::borrow::Borrow<RepoFacts>>(
    services: &[Service],
    facts: &[F],
) -> Vec<RepositoryUse> {
    let mut uses: BTreeSet<RepositoryUse> = BTreeSet::new();
    let mut add = |repository: &str, resource_type, identifier: String, shared| {
        uses.insert(RepositoryUse {
            repository: repository.to_string(),
            resource_type,
            identifier,
            shared,
        });
    };
    for service in services {
        let repo = service.repository.as_str();
        for endpoint in &service.endpoints {
            match &endpoint.kind {
                EndpointKind::HostPort { start, end, .. } => {
                    for port in *start..=(*end).max(*start) {
                        add(repo, ResourceType::Port, port.to_string(), false);
                    }
                }
                EndpointKind::NodePort { port, .. } | EndpointKind::HostProcessPort { port } => {
                    add(repo, ResourceType::Port, port.to_string(), false);
                }
                EndpointKind::Domain { host, .. } if !host.starts_with('*') => {
                    add(repo, ResourceType::Domain, host.clone(), false);
                }
                _ => {}
            }
        }
    }
    for repo_facts in facts.iter().map(std::borrow::Borrow::borrow) {
        let repo = repo_facts.repository.as_str();
        for resource in &repo_facts.resources {
            match resource.kind {
                ResourceKind::Volume if resource.external => {
                    add(
                        repo,
                        ResourceType::Volume,
                        resource.identifier.clone(),
                        false,
                    );
                }
                ResourceKind::Network if resource.external => {
                    add(
                        repo,
                        ResourceType::Network,
                        resource.identifier.clone(),
                        true,
                    );
                }
                _ => {}
            }
        }
    }
    uses.into_iter().collect()
}

/// A use that cannot become a registration.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Rejected {
    #[serde(rename = "type")]
    pub resource_type: ResourceType,
    pub identifier: String,
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct SyncPlan {
    /// Sorted by resource id, one per id.
    pub registrations: Vec<Registration>,
    pub rejected: Vec<Rejected>,
}

/// Plans the registrations for `uses`.
///
/// - Every distinct `type:identifier` is registered once, capacity 1.
/// - A network is shared when any use declares it shared (one repository creates it, the others
///   join it as external): capacity [`SHARED_CAPACITY`], metadata `{"shared": true}`. Other
///   networks get `{"shared": false}`, so a network that stops being shared loses the mark.
/// - Only networks can be shared; the flag is ignored for other types, whose metadata is left
///   as stored (`None`).
/// - Identifiers the ledger would refuse (empty, whitespace, too long) are listed in `rejected`.
pub fn plan(uses: &[ResourceUse]) -> SyncPlan {
    let mut shared_by_id: BTreeMap<(ResourceType, &str), bool> = BTreeMap::new();
    let mut rejected: BTreeMap<(ResourceType, &str), String> = BTreeMap::new();
    for use_ in uses {
        let key = (use_.resource_type, use_.identifier.as_str());
        if let Err(error) = validate_identifier(&use_.identifier) {
            rejected.entry(key).or_insert_with(|| error.to_string());
            continue;
        }
        *shared_by_id.entry(key).or_insert(false) |= use_.shared;
    }
    let mut registrations: Vec<Registration> = shared_by_id
        .into_iter()
        .map(|((resource_type, identifier), shared)| {
            let registration = Registration::new(resource_type, identifier);
            match resource_type {
                ResourceType::Network if shared => registration
                    .with_capacity(SHARED_CAPACITY)
                    .with_metadata(json!({ "shared": true })),
                ResourceType::Network => registration.with_metadata(json!({ "shared": false })),
                _ => registration,
            }
        })
        .collect();
    // The map orders by enum then identifier; the ledger lists by the id string.
    registrations.sort_by_key(|r| format!("{}:{}", r.resource_type, r.identifier));
    SyncPlan {
        registrations,
        rejected: rejected
            .into_iter()
            .map(|((resource_type, identifier), reason)| Rejected {
                resource_type,
                identifier: identifier.to_string(),
                reason,
            })
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ResourceType::*;

    fn ids(plan: &SyncPlan) -> Vec<String> {
        plan.registrations
            .iter()
            .map(|r| format!("{}:{}", r.resource_type, r.identifier))
            .collect()
    }

    #[test]
    fn one_registration_per_id_with_capacity_one() {
        let plan = plan(&[
            ResourceUse::new(Port, "8080", false),
            ResourceUse::new(Volume, "pgdata", false),
            ResourceUse::new(Port, "8080", false),
            ResourceUse::new(Domain, "api.example.com", false),
        ]);
        assert_eq!(
            ids(&plan),
            ["domain:api.example.com", "port:8080", "volume:pgdata"]
        );
        assert!(plan.registrations.iter().all(|r| r.capacity == 1));
        assert!(plan.registrations.iter().all(|r| r.metadata.is_none()));
        assert!(plan.rejected.is_empty());
    }

    #[test]
    fn shared_networks_get_large_capacity_and_the_mark() {
        let plan = plan(&[
            // Created by one repository, joined as external by another.
            ResourceUse::new(Network, "edge", false),
            ResourceUse::new(Network, "edge", true),
            ResourceUse::new(Network, "backend", false),
        ]);
        let edge = plan
            .registrations
            .iter()
            .find(|r| r.identifier == "edge")
            .unwrap();
        assert_eq!(edge.capacity, SHARED_CAPACITY);
        assert_eq!(edge.metadata, Some(json!({ "shared": true })));
        let backend = plan
            .registrations
            .iter()
            .find(|r| r.identifier == "backend")
            .unwrap();
        assert_eq!(backend.capacity, 1);
        assert_eq!(backend.metadata, Some(json!({ "shared": false })));
    }

    #[test]
    fn shared_flag_only_applies_to_networks() {
        let plan = plan(&[ResourceUse::new(Volume, "media", true)]);
        assert_eq!(plan.registrations[0].capacity, 1);
        assert_eq!(plan.registrations[0].metadata, None);
    }

    #[test]
    fn bad_identifiers_are_rejected_not_dropped() {
        let plan = plan(&[
            ResourceUse::new(Port, "", false),
            ResourceUse::new(Volume, "my volume", false),
            ResourceUse::new(Port, "443", false),
        ]);
        assert_eq!(ids(&plan), ["port:443"]);
        assert_eq!(plan.rejected.len(), 2);
        assert!(plan.rejected.iter().any(|r| r.identifier == "my volume"));
    }

    fn location(repo: &str) -> switchyard_model::Location {
        switchyard_model::Location::new(
            repo,
            "compose.yml",
            1,
            1,
            switchyard_model::ByteSpan::new(0, 1),
        )
    }

    #[test]
    fn fleet_uses_are_attributed_to_their_repository() {
        let endpoint = |kind| switchyard_model::Endpoint {
            kind,
            location: location("web"),
        };
        let service = Service {
            id: "web/web".into(),
            repository: "web".into(),
            name: "web".into(),
            kind: switchyard_model::ServiceKind::Compose,
            source: location("web"),
            sources: Vec::new(),
            scopes: Vec::new(),
            aliases: Vec::new(),
            endpoints: vec![
                endpoint(EndpointKind::HostPort {
                    host_ip: None,
                    start: 8080,
                    end: 8081,
                    container_port: None,
                    protocol: Default::default(),
                }),
                endpoint(EndpointKind::ContainerPort {
                    port: 80,
                    protocol: Default::default(),
                }),
                endpoint(EndpointKind::Domain {
                    host: "*.example.com".into(),
                    path: None,
                }),
                endpoint(EndpointKind::Domain {
                    host: "web.example.com".into(),
                    path: None,
                }),
            ],
            networks: Vec::new(),
            image: None,
            test_harness: false,
            variants: Vec::new(),
            profiles: Vec::new(),
        };
        let resource = |kind, identifier: &str, external| switchyard_model::ResourceUse {
            service: None,
            kind,
            identifier: identifier.into(),
            read_only: false,
            external,
            settings: Default::default(),
            location: location("db"),
        };
        let facts = RepoFacts {
            repository: "db".into(),
            resources: vec![
                resource(ResourceKind::Network, "edge", true),
                resource(ResourceKind::Network, "private", false),
                resource(ResourceKind::Volume, "media", true),
                resource(ResourceKind::Volume, "scratch", false),
            ],
            ..Default::default()
        };
        let uses: Vec<String> = fleet_uses(&[service], &[facts])
            .iter()
            .map(|u| {
                format!(
                    "{} {}:{} {}",
                    u.repository, u.resource_type, u.identifier, u.shared
                )
            })
            .collect();
        assert_eq!(
            uses,
            [
                "db volume:media false",
                "db network:edge true",
                "web port:8080 false",
                "web port:8081 false",
                "web domain:web.example.com false",
            ]
        );
    }

    #[test]
    fn output_is_sorted_by_id_string() {
        let plan = plan(&[
            ResourceUse::new(Volume, "a", false),
            ResourceUse::new(Certificate, "z", false),
            ResourceUse::new(Port, "80", false),
        ]);
        assert_eq!(ids(&plan), ["certificate:z", "port:80", "volume:a"]);
    }
}
