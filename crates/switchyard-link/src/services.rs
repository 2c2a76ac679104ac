//! Merges a repository's service declarations into services: declarations with one name in one
//! repository (compose, swarm, k8s variants of one app) are one service with several sources,
//! which keeps the names of the repository's [`Variant`]s that declare it.

use std::collections::{BTreeMap, BTreeSet};
use switchyard_model::{
    Location, RepoFacts, Scope, Service, ServiceDecl, ServiceKind, Variant, service_id,
};

/// Services of one repository, in declaration order of their first declaration.
pub fn merge_services(facts: &RepoFacts) -> Vec<Service> {
    let mut order: Vec<String> = Vec::new();
    let mut groups: BTreeMap<&str, Vec<&ServiceDecl>> = BTreeMap::new();
    for decl in &facts.services {
        if !groups.contains_key(decl.name.as_str()) {
            order.push(decl.name.clone());
        }
        groups.entry(&decl.name).or_default().push(decl);
    }
    // A reference from a name nobody declared (e.g. an nginx server) still needs a node.
    let mut implicit: BTreeSet<&str> = BTreeSet::new();
    for r in &facts.references {
        if let Some(from) = &r.from
            && !groups.contains_key(from.as_str())
        {
            implicit.insert(from);
        }
    }
    let mut services: Vec<Service> = order
        .iter()
        .filter_map(|name| groups.get(name.as_str()))
        .map(|decls| {
            let mut service = merge(&facts.repository, decls);
            service.variants = decl_variants(&facts.variants, decls);
            service
        })
        .collect();
    for name in implicit {
        let location = facts
            .references
            .iter()
            .find(|r| r.from.as_deref() == Some(name))
            .map(|r| r.location.clone())
            .unwrap_or_default();
        let decl = ServiceDecl::new(
            name,
            ServiceKind::Application,
            switchyard_model::Scope::Host,
            location,
        );
        services.push(merge(&facts.repository, &[&decl]));
    }
    services
}

/// The variants holding a fact declared at `location` in `scope`: a compose project's own
/// variant, else every variant whose files hold the location's file. Sorted.
pub fn variants_of(variants: &[Variant], scope: &Scope, location: &Location) -> Vec<String> {
    if let Scope::Compose { project } = scope
        && let Some(own) = variants.iter().find(|v| &v.name == project)
    {
        return vec![own.name.clone()];
    }
    let mut names: Vec<String> = variants
        .iter()
        .filter(|v| v.holds(&location.path))
        .map(|v| v.name.clone())
        .collect();
    names.sort();
    names
}

fn decl_variants(variants: &[Variant], decls: &[&ServiceDecl]) -> Vec<String> {
    let mut names: BTreeSet<String> = BTreeSet::new();
    for decl in decls {
        names.extend(variants_of(variants, &decl.scope, &decl.source));
    }
    names.into_iter().collect()
}

/// The profiles that start a merged service: every declaration's when each has some, else none
/// (a declaration without profiles always starts).
fn profiles(decls: &[&ServiceDecl]) -> Vec<String> {
    if decls.iter().any(|d| d.profiles.is_empty()) {
        return Vec::new();
    }
    let names: BTreeSet<String> = decls.iter().flat_map(|d| d.profiles.clone()).collect();
    names.into_iter().collect()
}

fn merge(repository: &str, decls: &[&ServiceDecl]) -> Service {
    let first = decls
        .iter()
        .min_by_key(|d| d.kind)
        .copied()
        .unwrap_or(decls[0]);
    let mut service = Service {
        id: service_id(repository, &first.name),
        repository: repository.to_string(),
        name: first.name.clone(),
        kind: first.kind,
        source: first.source.clone(),
        sources: Vec::new(),
        scopes: Vec::new(),
        aliases: Vec::new(),
        endpoints: Vec::new(),
        networks: Vec::new(),
        image: None,
        test_harness: decls.iter().all(|d| d.test_harness),
        variants: Vec::new(),
        profiles: profiles(decls),
    };
    for decl in decls {
        if !service.sources.contains(&decl.source) {
            service.sources.push(decl.source.clone());
        }
        if !service.scopes.contains(&decl.scope) {
            service.scopes.push(decl.scope.clone());
        }
        for alias in &decl.aliases {
            if !service
                .aliases
                .iter()
                .any(|a| a.name == alias.name && a.kind == alias.kind)
            {
                service.aliases.push(alias.clone());
            }
        }
        for endpoint in &decl.endpoints {
            if !service.endpoints.contains(endpoint) {
                service.endpoints.push(endpoint.clone());
            }
        }
        for network in &decl.networks {
            if !service.networks.contains(network) {
                service.networks.push(network.clone());
            }
        }
        if service.image.is_none() {
            service.image = decl.image.clone();
        }
    }
    service
}
