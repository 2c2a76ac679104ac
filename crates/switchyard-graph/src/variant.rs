//! One variant's view of the fleet: a repository that holds several alternative deployments
//! (see `switchyard_model::Variant`) shows only the chosen one; other repositories are unchanged.

use std::collections::{BTreeMap, BTreeSet, HashSet};
use switchyard_model::FleetModel;

/// The variants of each repository that has several, by repository name, each with the number
/// of services it declares.
pub fn variants_by_repository(model: &FleetModel) -> BTreeMap<String, BTreeMap<String, usize>> {
    let mut out: BTreeMap<String, BTreeMap<String, usize>> = BTreeMap::new();
    for service in &model.services {
        for variant in &service.variants {
            *out.entry(service.repository.clone())
                .or_default()
                .entry(variant.clone())
                .or_default() += 1;
        }
    }
    out
}

/// A variant selector matched no repository's variant.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("no repository has a variant {selector:?}{}", known_list(.known))]
pub struct UnknownVariant {
    pub selector: String,
    /// Every `repository:variant` of the fleet.
    pub known: Vec<String>,
}

fn known_list(known: &[String]) -> String {
    if known.is_empty() {
        " (no repository holds alternative deployments)".into()
    } else {
        format!("; variants: {}", known.join(", "))
    }
}

/// Narrows `model` to one variant. `selector` is `NAME` (that variant in every repository that
/// has it) or `REPOSITORY:NAME` (only there). In a chosen repository, the services of other
/// variants and the edges seen only in them go; services no variant declares (a host nginx, a
/// package) stay. Edges stay when both ends stay.
pub fn select_variant(model: &FleetModel, selector: &str) -> Result<FleetModel, UnknownVariant> {
    let variants = variants_by_repository(model);
    let (only_repo, name) = match selector.split_once(':') {
        Some((repo, name)) if variants.contains_key(repo) => (Some(repo), name),
        _ => (None, selector),
    };
    let chosen: HashSet<&str> = variants
        .iter()
        .filter(|(repo, names)| {
            only_repo.is_none_or(|r| r == repo.as_str()) && names.contains_key(name)
        })
        .map(|(repo, _)| repo.as_str())
        .collect();
    if chosen.is_empty() {
        return Err(UnknownVariant {
            selector: selector.to_string(),
            known: variants
                .iter()
                .flat_map(|(repo, names)| names.keys().map(move |n| format!("{repo}:{n}")))
                .collect(),
        });
    }
    let in_view = |repository: &str, of: &[String]| {
        !chosen.contains(repository) || of.is_empty() || of.iter().any(|v| v == name)
    };
    let mut view = model.clone();
    view.services
        .retain(|s| in_view(&s.repository, &s.variants));
    let kept: BTreeSet<&str> = view.services.iter().map(|s| s.id.as_str()).collect();
    view.edges = model
        .edges
        .iter()
        .filter(|e| kept.contains(e.from.as_str()) && kept.contains(e.to.as_str()))
        .filter(|e| {
            let repository = e.from.split_once('/').map_or(e.from.as_str(), |(r, _)| r);
            in_view(repository, &e.variants)
        })
        .cloned()
        .collect();
    Ok(view)
}

#[cfg(test)]
mod tests {
    use super::*;
    use switchyard_model::{Edge, Location, Service, ServiceKind, service_id};

    fn service(repo: &str, name: &str, variants: &[&str]) -> Service {
        Service {
            id: service_id(repo, name),
            repository: repo.into(),
            name: name.into(),
            kind: ServiceKind::Compose,
            source: Location::file(repo, "docker-compose.yml"),
            sources: Vec::new(),
            scopes: Vec::new(),
            aliases: Vec::new(),
            endpoints: Vec::new(),
            networks: Vec::new(),
            image: None,
            test_harness: false,
            variants: variants.iter().map(|v| v.to_string()).collect(),
            profiles: Vec::new(),
        }
    }

    fn edge(from: &str, to: &str, variants: &[&str]) -> Edge {
        Edge {
            variants: variants.iter().map(|v| v.to_string()).collect(),
            ..Edge::new(from, to)
        }
    }

    /// `shop` runs api+db with compose and api+db+cache in `k8s`; `billing` has one deployment.
    fn fleet() -> FleetModel {
        FleetModel {
            services: vec![
                service("shop", "api", &["docker-compose.yml", "k8s"]),
                service("shop", "db", &["docker-compose.yml", "k8s"]),
                service("shop", "cache", &["k8s"]),
                service("shop", "edge-nginx", &[]),
                service("billing", "invoices", &[]),
            ],
            edges: vec![
                edge("shop/api", "shop/db", &["docker-compose.yml", "k8s"]),
                edge("shop/api", "shop/cache", &["k8s"]),
                // Seen only in the compose file, although both ends exist in k8s too.
                edge("shop/api", "shop/db", &["docker-compose.yml"]),
                edge("shop/edge-nginx", "shop/api", &[]),
                edge("billing/invoices", "shop/api", &[]),
            ],
            ..FleetModel::default()
        }
    }

    fn pairs(model: &FleetModel) -> Vec<(String, String, usize)> {
        model
            .edges
            .iter()
            .map(|e| (e.from.clone(), e.to.clone(), e.variants.len()))
            .collect()
    }

    #[test]
    fn a_variant_keeps_its_services_shared_ones_and_other_repositories() {
        let view = select_variant(&fleet(), "docker-compose.yml").unwrap();
        let ids: Vec<&str> = view.services.iter().map(|s| s.id.as_str()).collect();
        assert_eq!(
            ids,
            ["shop/api", "shop/db", "shop/edge-nginx", "billing/invoices"]
        );
        assert_eq!(view.edges.len(), 4);
        let view = select_variant(&fleet(), "shop:k8s").unwrap();
        assert!(view.services.iter().any(|s| s.id == "shop/cache"));
        // The compose-only edge is not part of the k8s deployment.
        assert!(!pairs(&view).contains(&("shop/api".into(), "shop/db".into(), 1)));
        assert_eq!(view.edges.len(), 4);
    }

    #[test]
    fn an_unknown_variant_is_an_error_that_lists_the_known_ones() {
        let err = select_variant(&fleet(), "helm").unwrap_err();
        assert_eq!(err.known, ["shop:docker-compose.yml", "shop:k8s"]);
        assert!(err.to_string().contains("shop:k8s"), "{err}");
        // A repository without variants cannot be chosen.
        assert!(select_variant(&fleet(), "billing:k8s").is_err());
    }

    #[test]
    fn variants_are_listed_per_repository_with_their_service_counts() {
        let list = variants_by_repository(&fleet());
        assert_eq!(list.len(), 1);
        assert_eq!(list["shop"]["k8s"], 3);
        assert_eq!(list["shop"]["docker-compose.yml"], 2);
    }
}
