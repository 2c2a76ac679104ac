//! Docker-provider routes across compose projects: a Traefik watches every container of its
//! Docker host, so containers with `traefik.*` labels in other compose projects (other
//! repositories of the fleet) are its upstreams when it can reach them on a shared network.

use crate::index::ServiceIdx;
use foldhash::HashMap;
use switchyard_model::{
    EndpointKind, Location, Mechanism, Reference, Repository, Scope, Service, Target,
};

/// Whether an image is Traefik (`traefik:v3`, `docker.io/library/traefik`).
fn is_traefik_image(image: &str) -> bool {
    let last = image.rsplit('/').next().unwrap_or(image);
    let name = last.split([':', '@']).next().unwrap_or(last);
    name.eq_ignore_ascii_case("traefik")
}

/// Where a service asks Traefik's docker provider to route to it.
fn traefik_labels(service: &Service) -> Option<&Location> {
    service.endpoints.iter().find_map(|e| match &e.kind {
        EndpointKind::ProxyLabels { provider } if provider == "traefik" => Some(&e.location),
        _ => None,
    })
}

/// The compose project a service is declared in, if any.
fn compose_projects(service: &Service) -> impl Iterator<Item = &str> {
    service.scopes.iter().filter_map(|s| match s {
        Scope::Compose { project } => Some(project.as_str()),
        _ => None,
    })
}

/// One reference per `(proxy, labelled service)` pair across compose projects: same host,
/// a shared external network. Pairs inside one compose project are `extract`'s.
pub(crate) fn routes(
    services: &[Service],
    repositories: &HashMap<&str, &Repository>,
) -> Vec<(ServiceIdx, ServiceIdx, Reference)> {
    let host_of = |s: &Service| {
        repositories
            .get(s.repository.as_str())
            .map_or("local", |r| r.host.as_str())
    };
    let proxies: Vec<ServiceIdx> = services
        .iter()
        .enumerate()
        .filter(|(_, s)| s.image.as_deref().is_some_and(is_traefik_image))
        .filter(|(_, s)| compose_projects(s).next().is_some())
        .map(|(i, _)| i)
        .collect();
    let mut out = Vec::new();
    for (target, service) in services.iter().enumerate() {
        let Some(location) = traefik_labels(service) else {
            continue;
        };
        for &proxy in &proxies {
            let p = &services[proxy];
            if proxy == target || host_of(p) != host_of(service) {
                continue;
            }
            let same_project = p.repository == service.repository
                && compose_projects(p).any(|a| compose_projects(service).any(|b| a == b));
            let shared_network = p.networks.iter().any(|n| {
                n.external_name.as_ref().is_some_and(|name| {
                    service
                        .networks
                        .iter()
                        .any(|m| m.external_name.as_ref() == Some(name))
                })
            });
            if same_project || !shared_network {
                continue;
            }
            out.push((
                proxy,
                target,
                Reference {
                    from: Some(p.name.clone()),
                    target: Target::ServiceName {
                        name: service.name.clone(),
                    },
                    mechanism: Mechanism::Label,
                    key: Some("traefik".to_string()),
                    location: location.clone(),
                    scope: Scope::Host,
                },
            ));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use crate::link;
    use switchyard_model::*;

    fn repo(name: &str, host: &str) -> Repository {
        Repository {
            name: name.into(),
            path: name.into(),
            host: host.into(),
            environment: "default".into(),
        }
    }

    fn on(network: &str) -> NetworkAttachment {
        NetworkAttachment {
            name: network.into(),
            external_name: Some(network.into()),
            aliases: Vec::new(),
            location: Location::file("x", "docker-compose.yml"),
        }
    }

    fn service(repo: &str, name: &str, image: &str, networks: &[&str]) -> ServiceDecl {
        let mut decl = ServiceDecl::new(
            name,
            ServiceKind::Compose,
            Scope::Compose {
                project: "docker-compose.yml".into(),
            },
            Location::file(repo, "docker-compose.yml"),
        );
        decl.image = Some(image.into());
        decl.networks = networks.iter().map(|n| on(n)).collect();
        decl
    }

    fn labelled(mut decl: ServiceDecl, repo: &str) -> ServiceDecl {
        decl.endpoints.push(Endpoint {
            kind: EndpointKind::ProxyLabels {
                provider: "traefik".into(),
            },
            location: Location::new(repo, "docker-compose.yml", 12, 7, ByteSpan::new(200, 230)),
        });
        decl
    }

    fn facts(repo: &str, services: Vec<ServiceDecl>) -> RepoFacts {
        RepoFacts {
            repository: repo.into(),
            services,
            ..Default::default()
        }
    }

    /// A proxy stack and two app stacks: `wiki` joins the proxy's network, `notes` does not.
    fn fleet(app_host: &str) -> FleetModel {
        let proxy = facts(
            "proxy",
            vec![service(
                "proxy",
                "traefik",
                "traefik:v3.1",
                &["web", "default"],
            )],
        );
        let wiki = facts(
            "wiki",
            vec![
                labelled(service("wiki", "wiki", "wikijs:2", &["web"]), "wiki"),
                service("wiki", "db", "postgres:16", &[]),
            ],
        );
        let notes = facts(
            "notes",
            vec![labelled(
                service("notes", "notes", "memos:1", &["notes-internal"]),
                "notes",
            )],
        );
        link(
            &[
                repo("proxy", "box"),
                repo("wiki", app_host),
                repo("notes", "box"),
            ],
            &[proxy, wiki, notes],
        )
    }

    #[test]
    fn traefik_routes_to_labelled_containers_of_other_projects_on_a_shared_network() {
        let model = fleet("box");
        let edge = model
            .edges
            .iter()
            .find(|e| e.from == "proxy/traefik" && e.to == "wiki/wiki")
            .expect("proxy -> wiki");
        assert_eq!(edge.mechanisms, vec![Mechanism::Label]);
        assert_eq!(edge.evidence[0].to_string(), "wiki/docker-compose.yml:12:7");
        // No shared network: Traefik sees the labels but cannot reach the container.
        assert!(!model.edges.iter().any(|e| e.to == "notes/notes"));
        // Unlabelled services are not routed.
        assert!(!model.edges.iter().any(|e| e.to == "wiki/db"));
    }

    #[test]
    fn a_traefik_on_another_host_does_not_see_the_labels() {
        let model = fleet("other-box");
        assert!(!model.edges.iter().any(|e| e.to == "wiki/wiki"));
    }
}
