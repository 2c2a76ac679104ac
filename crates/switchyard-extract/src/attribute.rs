//! Gives loose facts an owner. A reference or env value read from a file outside any service
//! declaration (`.env`, `config/*.json`, `package.json`) belongs to the service that owns the
//! file (mounts it, reads it as `env_file`, or builds from a directory containing it); else to
//! the repository's only service; else to an application service named after the repository.
//! Also derives listening ports of host processes from `PORT`-style env values.

use crate::source::{RepoFiles, file_name, parent_dir};
use switchyard_model::{
    Endpoint, EndpointKind, Location, RepoFacts, Scope, ServiceDecl, ServiceKind,
};

/// Env keys whose numeric value is the port a process listens on.
const PORT_KEYS: [&str; 5] = [
    "PORT",
    "HTTP_PORT",
    "SERVER_PORT",
    "APP_PORT",
    "LISTEN_PORT",
];

/// The owner of a file, if any service claims it.
fn owner_of(services: &[ServiceDecl], path: &str) -> Option<String> {
    let mut best: Option<(usize, &str)> = None;
    for service in services {
        for owned in &service.owned_paths {
            let owned = owned.trim_end_matches('/');
            let matches = owned == path
                || owned.is_empty()
                || owned == "."
                || path.starts_with(&format!("{owned}/"));
            if matches {
                let weight = if owned == path {
                    usize::MAX
                } else {
                    owned.len() + 1
                };
                if best.is_none_or(|(w, _)| weight > w) {
                    best = Some((weight, &service.name));
                }
            }
        }
    }
    best.map(|(_, name)| name.to_string())
}

/// Whether `path` is an interpolation `.env` that sits beside a compose file: its values reach
/// services only through `${VAR}` in the compose file, which records them there.
fn is_compose_interpolation_env(path: &str, files: &RepoFiles) -> bool {
    let name = file_name(path);
    if name != ".env" {
        return false;
    }
    let dir = parent_dir(path);
    files
        .files()
        .iter()
        .any(|f| parent_dir(&f.path) == dir && crate::compose::is_compose_file_name(f.file_name()))
}

/// An nginx `server {}` whose config file is mounted into (or built into) a container is that
/// container: its references, domains and listen ports (container ports there) move to it.
fn fold_nginx_into_containers(facts: &mut RepoFacts) {
    let containers: Vec<ServiceDecl> = facts
        .services
        .iter()
        .filter(|s| s.kind != ServiceKind::Nginx)
        .cloned()
        .collect();
    let mut renamed: Vec<(String, String)> = Vec::new();
    let mut moved: Vec<(String, Vec<Endpoint>)> = Vec::new();
    facts.services.retain(|s| {
        if s.kind != ServiceKind::Nginx {
            return true;
        }
        let Some(owner) = owner_of(&containers, &s.source.path) else {
            return true;
        };
        let endpoints = s
            .endpoints
            .iter()
            .map(|e| match e.kind {
                EndpointKind::HostProcessPort { port } => Endpoint {
                    kind: EndpointKind::ContainerPort {
                        port,
                        protocol: Default::default(),
                    },
                    location: e.location.clone(),
                },
                _ => e.clone(),
            })
            .collect();
        renamed.push((s.name.clone(), owner.clone()));
        moved.push((owner, endpoints));
        false
    });
    for (owner, endpoints) in moved {
        if let Some(service) = facts.services.iter_mut().find(|s| s.name == owner) {
            for e in endpoints {
                if !service.endpoints.contains(&e) {
                    service.endpoints.push(e);
                }
            }
        }
    }
    for r in &mut facts.references {
        if let Some((_, owner)) = renamed.iter().find(|(n, _)| r.from.as_deref() == Some(n)) {
            r.from = Some(owner.clone());
        }
    }
}

/// Attributes loose references and env entries, and derives host-process ports.
pub fn attribute(facts: &mut RepoFacts, files: &RepoFiles) {
    fold_nginx_into_containers(facts);
    let repo = facts.repository.clone();
    let single_runtime_service = {
        let mut runtime = facts
            .services
            .iter()
            .filter(|s| s.kind != ServiceKind::Package)
            .map(|s| s.name.clone());
        match (runtime.next(), runtime.next()) {
            (Some(only), None) => Some(only),
            _ => None,
        }
    };
    let mut application_needed: Option<Location> = None;
    let mut owner_for = |path: &str, location: &Location| -> Option<String> {
        // The `.env` beside a compose file feeds `${VAR}` interpolation, even when a service
        // builds from that folder; only an explicit `env_file`/mount of it makes it a service's.
        if is_compose_interpolation_env(path, files)
            && !facts
                .services
                .iter()
                .any(|s| s.owned_paths.iter().any(|p| p == path))
        {
            return None;
        }
        if let Some(owner) = owner_of(&facts.services, path) {
            return Some(owner);
        }
        if let Some(only) = &single_runtime_service {
            return Some(only.clone());
        }
        application_needed.get_or_insert_with(|| location.clone());
        Some(repo.clone())
    };

    let mut references = std::mem::take(&mut facts.references);
    references.retain_mut(|r| {
        if r.from.is_some() {
            return true;
        }
        match owner_for(&r.location.path, &r.location) {
            Some(owner) => {
                r.from = Some(owner);
                true
            }
            None => false,
        }
    });
    let mut env = std::mem::take(&mut facts.env);
    for entry in env.iter_mut().filter(|e| e.service.is_none()) {
        entry.service = owner_for(&entry.location.path, &entry.location);
    }
    let mut shared = std::mem::take(&mut facts.shared);
    for dep in shared.iter_mut().filter(|d| d.service.is_none()) {
        dep.service = owner_for(&dep.location.path, &dep.location);
    }

    if let Some(location) = application_needed
        && !facts.services.iter().any(|s| s.name == repo)
    {
        let mut app = ServiceDecl::new(
            repo.clone(),
            ServiceKind::Application,
            Scope::Host,
            location,
        );
        app.owned_paths.push(String::new());
        facts.services.push(app);
    }

    // PORT=3001 in a host process's env is where it listens; in a container it is the
    // container port.
    for entry in &env {
        let Some(owner) = &entry.service else {
            continue;
        };
        if !PORT_KEYS.contains(&entry.key.to_ascii_uppercase().as_str()) {
            continue;
        }
        let Ok(port) = entry.display.trim().parse::<u16>() else {
            continue;
        };
        if let Some(service) = facts.services.iter_mut().find(|s| &s.name == owner) {
            let kind = match service.scope {
                Scope::Host => EndpointKind::HostProcessPort { port },
                _ => EndpointKind::ContainerPort {
                    port,
                    protocol: Default::default(),
                },
            };
            if !service.endpoints.iter().any(|e| e.kind == kind) {
                service.endpoints.push(Endpoint {
                    kind,
                    location: entry.location.clone(),
                });
            }
        }
    }
    facts.references = references;
    facts.env = env;
    facts.shared = shared;
}

#[cfg(test)]
mod tests {
    use super::*;
    use switchyard_model::{Mechanism, Reference, Target};

    fn service(name: &str, owned: &[&str]) -> ServiceDecl {
        let mut s = ServiceDecl::new(
            name,
            ServiceKind::Compose,
            Scope::Compose {
                project: "compose.yaml".into(),
            },
            Location::file("r", "compose.yaml"),
        );
        s.owned_paths = owned.iter().map(|p| p.to_string()).collect();
        s
    }

    fn loose(path: &str) -> Reference {
        Reference {
            from: None,
            target: Target::Address {
                text: "http://backend:3000".into(),
            },
            mechanism: Mechanism::Url,
            key: Some("proxy".into()),
            location: Location::file("r", path),
            scope: Scope::Host,
        }
    }

    #[test]
    fn longest_owned_prefix_wins() {
        let mut facts = RepoFacts {
            repository: "r".into(),
            services: vec![service("all", &["."]), service("frontend", &["frontend"])],
            references: vec![loose("frontend/package.json"), loose("other/x.json")],
            ..Default::default()
        };
        attribute(&mut facts, &RepoFiles::new("r"));
        assert_eq!(facts.references[0].from.as_deref(), Some("frontend"));
        assert_eq!(facts.references[1].from.as_deref(), Some("all"));
    }

    #[test]
    fn nginx_in_a_container_is_that_container() {
        let mut nginx = ServiceDecl::new(
            "app.home.lan",
            ServiceKind::Nginx,
            Scope::Host,
            Location::file("r", "nginx/conf.d/app.conf"),
        );
        nginx.endpoints.push(Endpoint {
            kind: EndpointKind::HostProcessPort { port: 80 },
            location: Location::file("r", "nginx/conf.d/app.conf"),
        });
        let mut r = loose("nginx/conf.d/app.conf");
        r.from = Some("app.home.lan".into());
        let mut facts = RepoFacts {
            repository: "r".into(),
            services: vec![service("proxy", &["nginx/conf.d"]), nginx],
            references: vec![r],
            ..Default::default()
        };
        attribute(&mut facts, &RepoFiles::new("r"));
        assert_eq!(facts.services.len(), 1);
        assert_eq!(facts.references[0].from.as_deref(), Some("proxy"));
        assert!(matches!(
            facts.services[0].endpoints[0].kind,
            EndpointKind::ContainerPort { port: 80, .. }
        ));
    }

    #[test]
    fn interpolation_env_is_nobodys_even_beside_a_build_context() {
        let mut files = RepoFiles::new("r");
        files.add_text("docker-compose.yml", "services: {}\n");
        files.add_text(".env", "API_URL=http://api:8080\n");
        let mut facts = RepoFacts {
            repository: "r".into(),
            services: vec![service("app", &["."])],
            references: vec![loose(".env")],
            ..Default::default()
        };
        attribute(&mut facts, &files);
        assert!(facts.references.is_empty(), "{:?}", facts.references);

        // Read as an `env_file`, the same file is the service's.
        let mut facts = RepoFacts {
            repository: "r".into(),
            services: vec![service("app", &[".", ".env"])],
            references: vec![loose(".env")],
            ..Default::default()
        };
        attribute(&mut facts, &files);
        assert_eq!(facts.references[0].from.as_deref(), Some("app"));
    }

    #[test]
    fn application_service_for_plain_repos() {
        let mut facts = RepoFacts {
            repository: "backend".into(),
            references: vec![loose(".env")],
            ..Default::default()
        };
        attribute(&mut facts, &RepoFiles::new("backend"));
        assert_eq!(facts.services.len(), 1);
        assert_eq!(facts.services[0].kind, ServiceKind::Application);
        assert_eq!(facts.references[0].from.as_deref(), Some("backend"));
    }
}
