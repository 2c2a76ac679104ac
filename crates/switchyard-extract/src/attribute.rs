//! Gives loose facts an owner. A reference or env value read from a file outside any service
//! declaration (`.env`, `config/*.json`, `package.json`) belongs to the service that owns the
//! file (mounts it, reads it as `env_file`, or builds from a directory containing it); else to
//! the repository's only service; else to an application service named after the repository.
//! Also derives listening ports of host processes from `PORT`-style env values.

use crate::config_urls::is_server_config;
use crate::scripts::is_shell_script;
use crate::source::{RepoFiles, join_repo_path, parent_dir};
use std::collections::HashMap;
use switchyard_model::{
    Endpoint, EndpointKind, Location, Mechanism, RepoFacts, ResourceKind, Scope, ServiceDecl,
    ServiceKind,
};

/// Env keys whose numeric value is the port a process listens on.
const PORT_KEYS: [&str; 5] = [
    "PORT",
    "HTTP_PORT",
    "SERVER_PORT",
    "APP_PORT",
    "LISTEN_PORT",
];

/// The services that claim a file by their longest owned path (its own path beats a folder of
/// it). Several when each names the file itself (a script two CronJobs mount is both of
/// theirs); of services sharing a folder (one build context) the first keeps today's answer.
fn owners_of(services: &[ServiceDecl], path: &str) -> Vec<String> {
    let mut best: Option<usize> = None;
    let mut owners: Vec<String> = Vec::new();
    for service in services {
        let weight = service
            .owned_paths
            .iter()
            .filter_map(|owned| {
                let owned = owned.trim_end_matches('/');
                if owned == path {
                    Some(usize::MAX)
                } else if owned.is_empty() || owned == "." {
                    Some(1)
                } else if path.starts_with(&format!("{owned}/")) {
                    Some(owned.len() + 1)
                } else {
                    None
                }
            })
            .max();
        let Some(weight) = weight else {
            continue;
        };
        if best.is_none_or(|w| weight > w) {
            best = Some(weight);
            owners.clear();
        }
        if best == Some(weight) && !owners.contains(&service.name) {
            owners.push(service.name.clone());
        }
    }
    if best != Some(usize::MAX) {
        owners.truncate(1);
    }
    owners
}

/// The first owner of a file, if any service claims it.
fn owner_of(services: &[ServiceDecl], path: &str) -> Option<String> {
    owners_of(services, path).into_iter().next()
}

/// The services that mount `path` into their containers: the file itself is one of their owned
/// paths (a file mount, a generated ConfigMap), or it lies in a folder they bind-mount. A build
/// context does not count: it holds the sources, scripts and tooling of the whole project.
fn mounters_of(facts: &RepoFacts, path: &str) -> Vec<String> {
    let under = |dir: &str| {
        // Host paths (`/:/host`, `~/x`, `C:\x`) lie outside the repository.
        if dir.starts_with(['/', '~', '\\']) || dir.get(1..2) == Some(":") {
            return false;
        }
        let dir = dir.trim_end_matches('/');
        dir == path || dir == "." || dir.is_empty() || path.starts_with(&format!("{dir}/"))
    };
    let mut out: Vec<String> = Vec::new();
    for s in &facts.services {
        let exact = s.owned_paths.iter().any(|p| p == path);
        let bind = facts.resources.iter().any(|r| {
            r.service.as_deref() == Some(s.name.as_str())
                && r.kind == ResourceKind::BindMount
                && under(&r.identifier)
        });
        if (exact || bind) && !out.contains(&s.name) {
            out.push(s.name.clone());
        }
    }
    out
}

/// Whether `service` owns a folder (not the repository root) that holds `path`.
fn builds_from_a_folder_of(services: &[ServiceDecl], service: &str, path: &str) -> bool {
    services.iter().filter(|s| s.name == service).any(|s| {
        s.owned_paths.iter().any(|owned| {
            let owned = owned.trim_end_matches('/');
            !owned.is_empty() && owned != "." && path.starts_with(&format!("{owned}/"))
        })
    })
}

/// Whether `path` is the interpolation `.env` (or the template standing for it) of a compose
/// file beside it: its values reach
/// services only through `${VAR}` in the compose file, which records them there.
fn is_compose_interpolation_env(path: &str, files: &RepoFiles) -> bool {
    let dir = parent_dir(path);
    crate::compose::interpolation_env(files, dir).is_some_and(|env| env.path == path)
        && files.files().iter().any(|f| {
            parent_dir(&f.path) == dir && crate::compose::is_compose_file_name(f.file_name())
        })
}

/// The `${NAME}` placeholders of a config template, in order, each once.
fn placeholders(text: &str) -> Vec<&str> {
    let mut names: Vec<&str> = Vec::new();
    for (i, _) in text.match_indices("${") {
        let rest = &text[i + 2..];
        let end = rest
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(rest.len());
        let name = &rest[..end];
        let closed = rest[end..].starts_with('}');
        let valid = !name.is_empty() && !name.starts_with(|c: char| c.is_ascii_digit());
        if closed && valid && !names.contains(&name) {
            names.push(name);
        }
    }
    names
}

/// The one container whose environment sets every `${NAME}` placeholder of an nginx config
/// template. nginx cannot expand variables of the environment itself: a config written with
/// them is rendered by `envsubst` at container start (the official image's `templates/`
/// mechanism, or an entrypoint script), from the environment of the container that runs it.
fn renderer_of(facts: &RepoFacts, containers: &[ServiceDecl], text: &str) -> Option<String> {
    let names = placeholders(text);
    if names.is_empty() {
        return None;
    }
    let mut renderers: Vec<&str> = containers
        .iter()
        .map(|c| c.name.as_str())
        .filter(|container| {
            names.iter().all(|name| {
                facts
                    .env
                    .iter()
                    .any(|e| e.service.as_deref() == Some(*container) && e.key == *name)
            })
        })
        .collect();
    renderers.sort_unstable();
    renderers.dedup();
    match renderers.as_slice() {
        [one] => Some(one.to_string()),
        _ => None,
    }
}

/// An nginx `server {}` whose config file is mounted into (or built into) a container, or
/// rendered from a container's environment, is that container: its references, domains and
/// listen ports (container ports there) move to it.
fn fold_nginx_into_containers(facts: &mut RepoFacts, files: &RepoFiles) {
    let containers: Vec<ServiceDecl> = facts
        .services
        .iter()
        .filter(|s| s.kind != ServiceKind::Nginx)
        .cloned()
        .collect();
    let rendered: HashMap<String, String> = facts
        .services
        .iter()
        .filter(|s| s.kind == ServiceKind::Nginx && owner_of(&containers, &s.source.path).is_none())
        .filter_map(|s| {
            let text = &files.get(&s.source.path)?.text;
            Some((
                s.source.path.clone(),
                renderer_of(facts, &containers, text)?,
            ))
        })
        .collect();
    let mut renamed: Vec<(String, String)> = Vec::new();
    let mut moved: Vec<(String, Vec<Endpoint>)> = Vec::new();
    facts.services.retain(|s| {
        if s.kind != ServiceKind::Nginx {
            return true;
        }
        let owner =
            owner_of(&containers, &s.source.path).or_else(|| rendered.get(&s.source.path).cloned());
        let Some(owner) = owner else {
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
    // The server runs inside the container, so its addresses are the container's: `localhost`
    // there is that container, bare names resolve in its compose project or namespace.
    for r in &mut facts.references {
        if let Some((_, owner)) = renamed.iter().find(|(n, _)| r.from.as_deref() == Some(n)) {
            if let Some(container) = containers.iter().find(|c| &c.name == owner) {
                r.scope = container.scope.clone();
            }
            r.from = Some(owner.clone());
        }
    }
}

/// Attributes loose references and env entries, and derives host-process ports.
pub fn attribute(facts: &mut RepoFacts, files: &RepoFiles) {
    fold_nginx_into_containers(facts, files);
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
    let loose_references = std::mem::take(&mut facts.references);
    let loose_env = std::mem::take(&mut facts.env);
    let loose_shared = std::mem::take(&mut facts.shared);
    let loose_routes = std::mem::take(&mut facts.proxy_routes);
    let mut application_needed: Option<Location> = None;
    let facts_ref: &RepoFacts = facts;
    let mut owners_for = |path: &str, location: &Location| -> Vec<String> {
        // A script is run by whoever mounts it; one nobody mounts is tooling, no service's.
        if is_shell_script(path) {
            return mounters_of(facts_ref, path);
        }
        // The `.env` beside a compose file feeds `${VAR}` interpolation, even when a service
        // builds from that folder; only an explicit `env_file`/mount of it makes it a service's.
        // A template standing in for a missing `.env` is read where that `.env` would be, but
        // only a single reader makes it a service's own: one `.env` every service reads whole
        // is an address book of the project, and a template's addresses say even less about
        // who calls whom.
        if is_compose_interpolation_env(path, files) {
            let own = |p: &String| p == path;
            if facts_ref
                .services
                .iter()
                .any(|s| s.owned_paths.iter().any(own))
            {
                return owners_of(&facts_ref.services, path);
            }
            let stands_for = join_repo_path(parent_dir(path), ".env");
            let mut readers: Vec<&str> = facts_ref
                .services
                .iter()
                .filter(|s| {
                    stands_for
                        .as_ref()
                        .is_some_and(|e| s.owned_paths.contains(e))
                })
                .map(|s| s.name.as_str())
                .collect();
            readers.dedup();
            return match readers.as_slice() {
                [one] => vec![one.to_string()],
                _ => Vec::new(),
            };
        }
        // A server's config (an OpenTelemetry collector's, Envoy's, Loki's) is read by the
        // server it is mounted into, or built into from a folder of its own; the repository's
        // root build context or only service says nothing about who runs that server.
        if is_server_config(path) {
            let mounters = mounters_of(facts_ref, path);
            if !mounters.is_empty() {
                return mounters;
            }
            let by_folder = owners_of(&facts_ref.services, path)
                .into_iter()
                .filter(|o| builds_from_a_folder_of(&facts_ref.services, o, path))
                .collect::<Vec<_>>();
            if !by_folder.is_empty() {
                return by_folder;
            }
            application_needed.get_or_insert_with(|| location.clone());
            return vec![repo.clone()];
        }
        let owners = owners_of(&facts_ref.services, path);
        if !owners.is_empty() {
            return owners;
        }
        if let Some(only) = &single_runtime_service {
            return vec![only.clone()];
        }
        application_needed.get_or_insert_with(|| location.clone());
        vec![repo.clone()]
    };

    let mut references = Vec::new();
    for r in loose_references {
        if r.from.is_some() {
            references.push(r);
            continue;
        }
        // An application's registry dependencies are its builder's (the service building from
        // its folder, or the repository's only service); with neither they are nobody's: most
        // name public packages and would only make a node for the repository.
        if r.mechanism == Mechanism::Registry {
            let mut owners = owners_of(&facts_ref.services, &r.location.path);
            if owners.is_empty() {
                owners.extend(single_runtime_service.clone());
            }
            for owner in owners {
                let mut owned = r.clone();
                owned.from = Some(owner);
                references.push(owned);
            }
            continue;
        }
        let owners = owners_for(&r.location.path, &r.location);
        // An env file several services read whole (`env_file: shared.env`) is an address
        // book: each gets every address in it, whether it calls that service or not.
        let book = owners.len() > 1 && r.mechanism == Mechanism::Env;
        for owner in owners {
            let mut owned = r.clone();
            owned.from = Some(owner);
            if book {
                owned.mechanism = Mechanism::EnvFrom;
            }
            references.push(owned);
        }
    }
    let env = spread(
        loose_env,
        |e| &mut e.service,
        |e| &e.location,
        &mut owners_for,
    );
    let shared = spread(
        loose_shared,
        |d| &mut d.service,
        |d| &d.location,
        &mut owners_for,
    );
    // A file-provider router belongs to the proxy reading the file, as the server URLs of the
    // same file do.
    let proxy_routes = spread(
        loose_routes,
        |r| &mut r.service,
        |r| &r.location,
        &mut owners_for,
    );

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

    let loose_sockets = std::mem::take(&mut facts.sockets);
    facts.sockets = attribute_sockets(loose_sockets, facts, single_runtime_service.as_deref());

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
    facts.proxy_routes = proxy_routes;
}

/// Socket facts (libraries, paths, upgrading locations) belong to the services that own their
/// file, else to the only runtime service, else to the repository's application service when
/// there is one. They never create that application: a library alone is no service.
fn attribute_sockets(
    sockets: Vec<switchyard_model::SocketFact>,
    facts: &RepoFacts,
    single_runtime_service: Option<&str>,
) -> Vec<switchyard_model::SocketFact> {
    let application = facts
        .services
        .iter()
        .any(|s| s.name == facts.repository)
        .then_some(facts.repository.as_str());
    let mut out = Vec::with_capacity(sockets.len());
    for fact in sockets {
        if fact.service.is_some() {
            out.push(fact);
            continue;
        }
        let mut owners = owners_of(&facts.services, &fact.location.path);
        if owners.is_empty() {
            owners.extend(single_runtime_service.or(application).map(str::to_string));
        }
        if owners.is_empty() {
            out.push(fact);
            continue;
        }
        for owner in owners {
            let mut owned = fact.clone();
            owned.service = Some(owner);
            out.push(owned);
        }
    }
    out
}

/// Items without a service, one copy per owner of the file they sit in (`owners_for`); an item
/// nobody owns stays as it is.
fn spread<T: Clone>(
    items: Vec<T>,
    service: impl Fn(&mut T) -> &mut Option<String>,
    location: impl Fn(&T) -> &Location,
    owners_for: &mut impl FnMut(&str, &Location) -> Vec<String>,
) -> Vec<T> {
    let mut out = Vec::with_capacity(items.len());
    for mut item in items {
        if service(&mut item).is_some() {
            out.push(item);
            continue;
        }
        let at = location(&item);
        let owners = owners_for(&at.path, at);
        if owners.is_empty() {
            out.push(item);
            continue;
        }
        for owner in owners {
            let mut owned = item.clone();
            *service(&mut owned) = Some(owner);
            out.push(owned);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use switchyard_model::{Reference, Target};

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
    fn placeholders_are_envsubst_variables() {
        assert_eq!(
            placeholders("server ${BACKEND}; x ${A_1} ${BACKEND} $host ${1X} ${open"),
            vec!["BACKEND", "A_1"]
        );
    }

    #[test]
    fn an_nginx_template_belongs_to_the_container_whose_environment_renders_it() {
        let path = "resources/nginx/nginx-template.conf";
        let mut files = RepoFiles::new("r");
        files.add_text(
            path,
            "upstream b { server ${BACKEND}; }\nserver { listen 8080; client_max_body_size ${BODY}; }\n",
        );
        let nginx = || {
            let mut nginx = ServiceDecl::new(
                "nginx-8080",
                ServiceKind::Nginx,
                Scope::Host,
                Location::file("r", path),
            );
            nginx.endpoints.push(Endpoint {
                kind: EndpointKind::HostProcessPort { port: 8080 },
                location: Location::file("r", path),
            });
            nginx
        };
        let env = |service: &str, key: &str| switchyard_model::EnvEntry {
            service: Some(service.into()),
            key: key.into(),
            display: "x".into(),
            value_hash: String::new(),
            location: Location::file("r", "compose.yaml"),
        };
        let mut facts = RepoFacts {
            repository: "r".into(),
            services: vec![service("frontend", &[]), service("backend", &[]), nginx()],
            env: vec![
                env("frontend", "BACKEND"),
                env("frontend", "BODY"),
                env("backend", "BODY"),
            ],
            ..Default::default()
        };
        attribute(&mut facts, &files);
        assert_eq!(facts.services.len(), 2, "{:?}", facts.services);
        let frontend = &facts.services[0];
        assert!(matches!(
            frontend.endpoints[0].kind,
            EndpointKind::ContainerPort { port: 8080, .. }
        ));

        // Look-alike: two containers set every variable, so the renderer is unknown and the
        // server stays a host process.
        let mut facts = RepoFacts {
            repository: "r".into(),
            services: vec![service("frontend", &[]), service("backend", &[]), nginx()],
            env: vec![
                env("frontend", "BACKEND"),
                env("frontend", "BODY"),
                env("backend", "BACKEND"),
                env("backend", "BODY"),
            ],
            ..Default::default()
        };
        attribute(&mut facts, &files);
        assert_eq!(facts.services.len(), 3);
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

    #[test]
    fn a_file_two_services_mount_is_both_of_theirs() {
        let mut facts = RepoFacts {
            repository: "r".into(),
            services: vec![
                service("report-daily", &["jobs/report.yaml"]),
                service("report-weekly", &["config/report.json"]),
                service("report-monthly", &["config/report.json"]),
            ],
            references: vec![loose("config/report.json")],
            ..Default::default()
        };
        attribute(&mut facts, &RepoFiles::new("r"));
        let from: Vec<_> = facts.references.iter().map(|r| r.from.as_deref()).collect();
        assert_eq!(from, [Some("report-weekly"), Some("report-monthly")]);

        // Two services building from one folder do not both read every file in it.
        let mut facts = RepoFacts {
            repository: "r".into(),
            services: vec![service("web", &["."]), service("worker", &["."])],
            references: vec![loose("config/app.json")],
            ..Default::default()
        };
        attribute(&mut facts, &RepoFiles::new("r"));
        assert_eq!(facts.references.len(), 1);
    }

    #[test]
    fn a_script_is_only_its_mounters() {
        let bind = |service: &str, dir: &str| switchyard_model::ResourceUse {
            service: Some(service.into()),
            kind: ResourceKind::BindMount,
            identifier: dir.into(),
            read_only: true,
            external: false,
            settings: Default::default(),
            location: Location::file("r", "compose.yaml"),
        };
        let mut facts = RepoFacts {
            repository: "r".into(),
            // `app` builds from the whole repository; `backup` bind-mounts `ops/backup`.
            services: vec![service("app", &["."]), service("backup", &["ops/backup"])],
            // `node-exporter`-style `/:/host` mounts the host, not the repository.
            resources: vec![bind("backup", "ops/backup"), bind("app", "/")],
            references: vec![
                loose("ops/backup/run.sh"),
                loose("scripts/release.sh"),
                loose("config/app.json"),
            ],
            ..Default::default()
        };
        attribute(&mut facts, &RepoFiles::new("r"));
        let owned: Vec<_> = facts
            .references
            .iter()
            .map(|r| (r.location.path.as_str(), r.from.as_deref()))
            .collect();
        assert_eq!(
            owned,
            [
                ("ops/backup/run.sh", Some("backup")),
                ("config/app.json", Some("app"))
            ]
        );
    }

    #[test]
    fn an_env_file_read_by_several_services_is_an_address_book() {
        let mut shared = loose("deploy/common.env");
        shared.mechanism = Mechanism::Env;
        let mut own = loose("deploy/billing.env");
        own.mechanism = Mechanism::Env;
        let mut facts = RepoFacts {
            repository: "r".into(),
            services: vec![
                service("billing", &["deploy/common.env", "deploy/billing.env"]),
                service("mailer", &["deploy/common.env"]),
            ],
            references: vec![shared, own],
            ..Default::default()
        };
        attribute(&mut facts, &RepoFiles::new("r"));
        let got: Vec<_> = facts
            .references
            .iter()
            .map(|r| (r.location.path.as_str(), r.from.as_deref(), r.mechanism))
            .collect();
        assert_eq!(
            got,
            [
                ("deploy/common.env", Some("billing"), Mechanism::EnvFrom),
                ("deploy/common.env", Some("mailer"), Mechanism::EnvFrom),
                ("deploy/billing.env", Some("billing"), Mechanism::Env),
            ]
        );
    }

    #[test]
    fn a_server_config_is_its_servers_or_the_repositorys() {
        let bind = |service: &str, path: &str| switchyard_model::ResourceUse {
            service: Some(service.into()),
            kind: ResourceKind::BindMount,
            identifier: path.into(),
            read_only: true,
            external: false,
            settings: Default::default(),
            location: Location::file("r", "compose.yaml"),
        };
        // Mounted: the collector's.
        let mut facts = RepoFacts {
            repository: "r".into(),
            services: vec![
                service("api", &["."]),
                service("collector", &["otel-collector.yaml"]),
            ],
            resources: vec![bind("collector", "otel-collector.yaml")],
            references: vec![loose("otel-collector.yaml")],
            ..Default::default()
        };
        attribute(&mut facts, &RepoFiles::new("r"));
        assert_eq!(facts.references[0].from.as_deref(), Some("collector"));

        // Not mounted, only the root build context of `api` holds it: not api's calls.
        let mut facts = RepoFacts {
            repository: "shop".into(),
            services: vec![service("api", &["."])],
            references: vec![loose("deploy/otel-collector.yaml")],
            ..Default::default()
        };
        attribute(&mut facts, &RepoFiles::new("shop"));
        assert_eq!(facts.references[0].from.as_deref(), Some("shop"));
        assert!(facts.services.iter().any(|s| s.name == "shop"));

        // Built from a folder of its own (`build: ./envoy`): the proxy's.
        let mut facts = RepoFacts {
            repository: "r".into(),
            services: vec![service("api", &["."]), service("edge", &["envoy"])],
            references: vec![loose("envoy/envoy.yaml")],
            ..Default::default()
        };
        attribute(&mut facts, &RepoFiles::new("r"));
        assert_eq!(facts.references[0].from.as_deref(), Some("edge"));
    }
}
