//! Who a reference belongs to. Usually the service its repository names; a file of a
//! configuration repository (Spring Cloud Config: `<application>.yml`) names an application
//! that other repositories declare and that fetches its configuration from a config server.

use crate::index::ServiceIdx;
use foldhash::{HashMap, HashSet};
use switchyard_model::{Reference, RepoFacts, Scope, Service, ServiceKind};

/// Property keys whose value is the config server an application fetches from.
const CONFIG_FETCH_KEYS: [&str; 2] = ["spring.config.import", "spring.cloud.config.uri"];

/// Whether a reference says its service fetches configuration from a config server.
fn fetches_config(reference: &Reference) -> bool {
    reference
        .key
        .as_deref()
        .is_some_and(|k| CONFIG_FETCH_KEYS.iter().any(|p| k.starts_with(p)))
}

/// Finds the services references belong to.
pub(crate) struct Owners<'a> {
    by_name: HashMap<(&'a str, &'a str), ServiceIdx>,
    /// Names that no declaration of their repository gives (only references use them) but
    /// services of other repositories have, with those of them that fetch configuration from a
    /// config server (none: nobody reads the file).
    foreign: HashMap<(&'a str, &'a str), Vec<ServiceIdx>>,
}

impl<'a> Owners<'a> {
    pub(crate) fn new(services: &'a [Service], facts: &[&'a RepoFacts]) -> Self {
        let by_name: HashMap<(&str, &str), ServiceIdx> = services
            .iter()
            .enumerate()
            .map(|(i, s)| ((s.repository.as_str(), s.name.as_str()), i))
            .collect();
        let config_clients: HashSet<ServiceIdx> = facts
            .iter()
            .flat_map(|f| {
                f.references
                    .iter()
                    .filter(|r| fetches_config(r))
                    .filter_map(|r| by_name.get(&(f.repository.as_str(), r.from.as_deref()?)))
            })
            .copied()
            .collect();
        let mut foreign: HashMap<(&str, &str), Vec<ServiceIdx>> = HashMap::default();
        for f in facts {
            let declared: HashSet<&str> = f.services.iter().map(|d| d.name.as_str()).collect();
            for r in &f.references {
                let Some(name) = r.from.as_deref() else {
                    continue;
                };
                let key = (f.repository.as_str(), name);
                if r.scope != Scope::Host || declared.contains(name) || foreign.contains_key(&key) {
                    continue;
                }
                let named: Vec<ServiceIdx> = services
                    .iter()
                    .enumerate()
                    .filter(|(_, s)| {
                        s.repository != f.repository
                            && s.kind != ServiceKind::Application
                            && (s.name.eq_ignore_ascii_case(name)
                                || s.aliases.iter().any(|a| a.name.eq_ignore_ascii_case(name)))
                    })
                    .map(|(i, _)| i)
                    .collect();
                if named.is_empty() {
                    continue;
                }
                // Named after services that fetch no remote configuration: nobody reads it.
                let mut owners: Vec<ServiceIdx> = named
                    .into_iter()
                    .filter(|i| config_clients.contains(i))
                    .collect();
                owners.sort_unstable();
                foreign.insert(key, owners);
            }
        }
        Self { by_name, foreign }
    }

    /// The services `reference` (found in `repository`, from `name`) belongs to: the config
    /// clients of other repositories a loose file names (a configuration repository's
    /// `<application>.yml`), else the service of that name in the repository.
    pub(crate) fn of(
        &self,
        repository: &str,
        name: &str,
        reference: &Reference,
    ) -> Vec<ServiceIdx> {
        if reference.scope == Scope::Host
            && let Some(owners) = self.foreign.get(&(repository, name))
        {
            return owners.clone();
        }
        self.by_name
            .get(&(repository, name))
            .copied()
            .into_iter()
            .collect()
    }

    /// Whether a service exists only as the name of references that all belong to services of
    /// other repositories (it is not a service of its own).
    pub(crate) fn is_claimed(&self, service: &Service) -> bool {
        self.foreign
            .contains_key(&(service.repository.as_str(), service.name.as_str()))
            && service.kind == ServiceKind::Application
    }
}

#[cfg(test)]
mod tests {
    use crate::link;
    use switchyard_model::*;

    fn repo(name: &str) -> Repository {
        Repository {
            name: name.into(),
            path: name.into(),
            host: "local".into(),
            environment: "default".into(),
        }
    }

    fn service(name: &str) -> ServiceDecl {
        ServiceDecl::new(
            name,
            ServiceKind::Compose,
            Scope::Compose {
                project: "docker-compose.yml".into(),
            },
            Location::file("app", "docker-compose.yml"),
        )
    }

    fn url(repo: &str, path: &str, from: &str, key: &str, text: &str) -> Reference {
        Reference {
            from: Some(from.into()),
            target: Target::Address { text: text.into() },
            mechanism: Mechanism::Url,
            key: Some(key.into()),
            location: Location::new(repo, path, 4, 7, ByteSpan::new(40, 60)),
            scope: Scope::Host,
        }
    }

    /// A code repository whose `orders` fetches its configuration from a config server and
    /// whose `reports` does not, and a configuration repository naming both.
    fn fleet() -> FleetModel {
        let app = RepoFacts {
            repository: "app".into(),
            services: ["orders", "reports", "traces", "config"]
                .map(service)
                .to_vec(),
            references: vec![url(
                "app",
                "orders/src/main/resources/application.yml",
                "orders",
                "spring.config.import",
                "http://config:8888",
            )],
            ..Default::default()
        };
        let config = RepoFacts {
            repository: "settings".into(),
            references: vec![
                url(
                    "settings",
                    "orders.yml",
                    "orders",
                    "management.zipkin.tracing.endpoint",
                    "http://traces:9411/api/v2/spans",
                ),
                url(
                    "settings",
                    "reports.yml",
                    "reports",
                    "management.zipkin.tracing.endpoint",
                    "http://traces:9411/api/v2/spans",
                ),
            ],
            ..Default::default()
        };
        link(&[repo("app"), repo("settings")], &[app, config])
    }

    #[test]
    fn a_config_repository_file_belongs_to_the_config_client_it_is_named_after() {
        let model = fleet();
        let pairs: Vec<(&str, &str)> = model
            .edges
            .iter()
            .map(|e| (e.from.as_str(), e.to.as_str()))
            .collect();
        assert!(
            pairs.contains(&("app/orders", "app/traces")),
            "{pairs:?} {:?}",
            model.unresolved
        );
        let edge = model
            .edges
            .iter()
            .find(|e| e.to == "app/traces")
            .expect("edge");
        // The evidence is the configuration repository's file.
        assert_eq!(edge.evidence[0].repository, "settings");
        assert_eq!(edge.evidence[0].path, "orders.yml");
        // The configuration repository's file name is not a service of its own.
        assert!(!model.services.iter().any(|s| s.id == "settings/orders"));
    }

    #[test]
    fn an_application_that_fetches_no_remote_config_does_not_read_the_repository() {
        let model = fleet();
        assert!(!model.edges.iter().any(|e| e.from.ends_with("/reports")));
        assert!(!model.services.iter().any(|s| s.id == "settings/reports"));
    }
}
