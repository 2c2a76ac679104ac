//! Turns the objects of one manifest file into facts, using the repository index for what
//! other files say about them (Services selecting a workload, Ingress hosts, ConfigMap values).

use super::index::{Backend, RepoIndex};
use super::model::{EnvSource, Workload};
use crate::emit::{record_address, record_env};
use std::collections::BTreeMap;
use switchyard_model::{
    Alias, AliasKind, Endpoint, EndpointKind, Location, Mechanism, Reference, RepoFacts, Scope,
    ServiceDecl, ServiceKind, Target,
};

fn scope(namespace: &str) -> Scope {
    Scope::Kubernetes {
        namespace: namespace.to_string(),
    }
}

/// Adds an endpoint unless the declaration already serves exactly that.
fn add_endpoint(decl: &mut ServiceDecl, kind: &EndpointKind, location: &Location) {
    if !decl.endpoints.iter().any(|e| &e.kind == kind) {
        decl.endpoints.push(Endpoint {
            kind: kind.clone(),
            location: location.clone(),
        });
    }
}

/// Domain endpoints of every route whose backend resolves to `wanted`.
fn add_routes(decl: &mut ServiceDecl, index: &RepoIndex, wanted: impl Fn(&Backend) -> bool) {
    for (route, backend) in index.routes.iter().zip(&index.backends) {
        if wanted(backend) {
            let kind = EndpointKind::Domain {
                host: route.host.clone(),
                path: route.url_path.clone(),
            };
            add_endpoint(decl, &kind, &route.host_location);
        }
    }
}

/// Emits the facts of the manifest file at `path`.
pub(super) fn emit_file(path: &str, index: &RepoIndex, out: &mut RepoFacts) {
    let here: Vec<usize> = (0..index.workloads.len())
        .filter(|&i| index.workloads.get(i).is_some_and(|w| w.path == path))
        .collect();
    for &i in &here {
        let Some(w) = index.workloads.get(i) else {
            continue;
        };
        let mut decl = ServiceDecl::new(
            &w.name,
            ServiceKind::Kubernetes,
            scope(&w.namespace),
            w.name_location.clone(),
        );
        decl.image = w.image.clone();
        for (kind, loc) in &w.ports {
            add_endpoint(&mut decl, kind, loc);
        }
        for (s, selected) in index.services.iter().zip(&index.selected) {
            if !selected.contains(&i) {
                continue;
            }
            if s.name != w.name
                && !decl
                    .aliases
                    .iter()
                    .any(|a| a.name == s.name && a.kind == AliasKind::KubernetesService)
            {
                decl.aliases.push(Alias {
                    name: s.name.clone(),
                    kind: AliasKind::KubernetesService,
                    location: s.name_location.clone(),
                });
            }
            for (kind, loc) in &s.ports {
                add_endpoint(&mut decl, kind, loc);
            }
        }
        add_routes(
            &mut decl,
            index,
            |b| matches!(b, Backend::Workloads(ws) if ws.contains(&i)),
        );
        // The file's loose values belong to its workload when there is only one.
        if here.len() == 1 {
            decl.owned_paths.push(path.to_string());
        }
        // Files a ConfigMap is generated from are read by the workloads that mount the
        // ConfigMap or import it whole (`envFrom`); one key (`configMapKeyRef`) is not the file.
        for name in imported_config_maps(w) {
            for file in index
                .config_map(&w.namespace, name, &w.path)
                .map_or(&[][..], |cm| &cm.files)
            {
                if !decl.owned_paths.contains(file) {
                    decl.owned_paths.push(file.clone());
                }
            }
        }
        out.services.push(decl);
        emit_workload_values(w, index, out);
    }

    for (si, s) in index.services.iter().enumerate() {
        let unmatched = index.selected.get(si).is_none_or(Vec::is_empty);
        if s.path != path || !unmatched {
            continue;
        }
        let mut decl = ServiceDecl::new(
            &s.name,
            ServiceKind::KubernetesService,
            scope(&s.namespace),
            s.name_location.clone(),
        );
        for (kind, loc) in &s.ports {
            add_endpoint(&mut decl, kind, loc);
        }
        add_routes(&mut decl, index, |b| *b == Backend::Service(si));
        out.services.push(decl);
        if let Some((host, loc)) = &s.external_name {
            // A DNS name by definition, so recorded even without a port or scheme.
            out.references.push(Reference {
                from: Some(s.name.clone()),
                target: Target::Address { text: host.clone() },
                mechanism: Mechanism::Url,
                key: Some("externalName".to_string()),
                location: loc.clone(),
                scope: scope(&s.namespace),
            });
        }
    }

    // Routes of this file to Services the repository does not declare: one decl per name.
    let mut missing: BTreeMap<(&str, &str), ServiceDecl> = BTreeMap::new();
    for (route, backend) in index.routes.iter().zip(&index.backends) {
        if route.path != path || *backend != Backend::Missing {
            continue;
        }
        let decl = missing
            .entry((route.namespace.as_str(), route.service.as_str()))
            .or_insert_with(|| {
                ServiceDecl::new(
                    &route.service,
                    ServiceKind::KubernetesService,
                    scope(&route.namespace),
                    route.service_location.clone(),
                )
            });
        let kind = EndpointKind::Domain {
            host: route.host.clone(),
            path: route.url_path.clone(),
        };
        add_endpoint(decl, &kind, &route.host_location);
    }
    out.services.extend(missing.into_values());

    // ConfigMaps no workload reads: their addresses are loose, attributed later.
    for (cm, used) in index.config_maps.iter().zip(&index.config_map_used) {
        if cm.path != path || *used {
            continue;
        }
        for entry in &cm.data {
            record_data_entry(out, None, &scope(&cm.namespace), entry);
        }
    }
}

fn record_data_entry(
    out: &mut RepoFacts,
    from: Option<&str>,
    scope: &Scope,
    entry: &super::model::DataEntry,
) {
    if !entry.settings.is_empty() {
        for found in &entry.settings {
            out.references.push(Reference {
                from: from.map(str::to_string),
                scope: scope.clone(),
                ..found.clone()
            });
        }
    } else if entry.value.trim_end().contains('\n') {
        for (url, loc) in &entry.urls {
            record_address(
                out,
                from,
                scope,
                &entry.key,
                url,
                loc.clone(),
                Mechanism::Url,
            );
        }
    } else {
        record_address(
            out,
            from,
            scope,
            &entry.key,
            &entry.value,
            entry.location.clone(),
            Mechanism::Url,
        );
    }
}

/// ConfigMaps a workload mounts as volumes or imports whole with `envFrom`.
fn imported_config_maps(w: &Workload) -> impl Iterator<Item = &str> {
    let env_from = w.env.iter().filter_map(|e| match e {
        EnvSource::ConfigMap { config_map, .. } => Some(config_map.as_str()),
        _ => None,
    });
    w.mounted_config_maps
        .iter()
        .map(String::as_str)
        .chain(env_from)
}

/// Whether the ConfigMap is imported whole (`envFrom`) by several workloads: an address book,
/// where each consumer gets every service's address whether it calls it or not.
fn is_address_book(index: &RepoIndex, namespace: &str, config_map: &str) -> bool {
    let mut importers: Vec<&str> = index
        .workloads
        .iter()
        .filter(|w| w.namespace == namespace)
        .filter(|w| {
            w.env
                .iter()
                .any(|e| matches!(e, EnvSource::ConfigMap { config_map: c, .. } if c == config_map))
        })
        .map(|w| w.name.as_str())
        .collect();
    importers.sort_unstable();
    importers.dedup();
    importers.len() >= 2
}

/// Whether the workload's own manifest uses the variable: `$(KEY)` in its command, args or an
/// env value (Kubernetes expands those), or a `configMapKeyRef` naming it.
fn reads_variable(w: &Workload, key: &str) -> bool {
    // Command tokens lose a closing parenthesis at their end: `$(KEY` followed by a non-name
    // character or the end of the token.
    let opening = format!("$({key}");
    let expands = |text: &str| {
        text.match_indices(&opening).any(|(i, _)| {
            text[i + opening.len()..]
                .chars()
                .next()
                .is_none_or(|c| !(c.is_ascii_alphanumeric() || c == '_'))
        })
    };
    w.commands.iter().any(|(t, _)| expands(t))
        || w.env.iter().any(|e| match e {
            EnvSource::Value { value, .. } => expands(value),
            EnvSource::ConfigMapKey { config_key, .. } => config_key == key,
            EnvSource::ConfigMap { .. } => false,
        })
}

/// Env values (literal, from ConfigMaps), command-line addresses and mounted ConfigMap URLs.
fn emit_workload_values(w: &Workload, index: &RepoIndex, out: &mut RepoFacts) {
    let scope = scope(&w.namespace);
    let from = Some(w.name.as_str());
    for env in &w.env {
        match env {
            EnvSource::Value {
                key,
                value,
                location,
            } => record_env(
                out,
                from,
                &scope,
                key,
                value,
                location.clone(),
                Mechanism::Env,
            ),
            EnvSource::ConfigMapKey {
                key,
                config_map,
                config_key,
            } => {
                let entry = index
                    .config_map(&w.namespace, config_map, &w.path)
                    .and_then(|cm| cm.data.iter().find(|d| &d.key == config_key));
                if let Some(entry) = entry {
                    let loc = entry.location.clone();
                    record_env(out, from, &scope, key, &entry.value, loc, Mechanism::Env);
                }
            }
            EnvSource::ConfigMap { config_map, prefix } => {
                let Some(cm) = index.config_map(&w.namespace, config_map, &w.path) else {
                    continue;
                };
                let book = is_address_book(index, &w.namespace, config_map);
                for entry in &cm.data {
                    let key = format!("{prefix}{}", entry.key);
                    let loc = entry.location.clone();
                    let mechanism = if book && !reads_variable(w, &key) {
                        Mechanism::EnvFrom
                    } else {
                        Mechanism::Env
                    };
                    record_env(out, from, &scope, &key, &entry.value, loc, mechanism);
                }
            }
        }
    }
    for (token, loc) in &w.commands {
        record_address(
            out,
            from,
            &scope,
            "command",
            token,
            loc.clone(),
            Mechanism::Command,
        );
    }
    let mut mounted: Vec<&str> = w.mounted_config_maps.iter().map(String::as_str).collect();
    mounted.sort_unstable();
    mounted.dedup();
    for name in mounted {
        if let Some(cm) = index.config_map(&w.namespace, name, &w.path) {
            for entry in &cm.data {
                record_data_entry(out, from, &scope, entry);
            }
        }
    }
}
