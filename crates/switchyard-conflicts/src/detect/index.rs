//! Lookups every detector shares: repositories by host and environment, services and facts by
//! repository, and which two services may clash at all (not one app's variants).

use super::reach::Call;
use crate::{Conflict, FleetInput};
use foldhash::{HashMap, HashMapExt};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::OnceLock;
use switchyard_model::{Edge, Location, Reference, RepoFacts, Repository, Scope, Service};

/// Where a repository deploys when `switchyard.toml` does not say.
pub const DEFAULT_HOST: &str = "local";
pub const DEFAULT_ENVIRONMENT: &str = "default";

/// Directory names that mean "a variant of the same deployment" (`deploy/prod/compose.yml`).
const VARIANT_DIRS: [&str; 18] = [
    "dev",
    "development",
    "prod",
    "production",
    "staging",
    "stage",
    "test",
    "tests",
    "local",
    "ci",
    "e2e",
    "qa",
    "deploy",
    "deployment",
    "docker",
    "compose",
    "env",
    "environments",
];

/// The fleet as detectors read it: built once per run and shared by every detector.
pub struct FleetIndex<'a> {
    pub input: FleetInput<'a>,
    repos: HashMap<&'a str, &'a Repository>,
    services: HashMap<&'a str, &'a Service>,
    by_name: HashMap<(&'a str, &'a str), &'a Service>,
    /// Services of each repository, in model order.
    by_repo: HashMap<&'a str, Vec<&'a Service>>,
    facts: HashMap<&'a str, &'a RepoFacts>,
    /// Edges by the id of the service they start at.
    edges_from: HashMap<&'a str, Vec<&'a Edge>>,
    places: BTreeMap<(&'a str, &'a str), Vec<&'a str>>,
    environments: BTreeMap<&'a str, Vec<&'a str>>,
    calls: OnceLock<Vec<Call<'a>>>,
}

impl<'a> FleetIndex<'a> {
    pub fn new(input: FleetInput<'a>) -> Self {
        let mut by_repo: HashMap<&'a str, Vec<&'a Service>> = HashMap::new();
        for s in &input.model.services {
            by_repo.entry(s.repository.as_str()).or_default().push(s);
        }
        let mut edges_from: HashMap<&'a str, Vec<&'a Edge>> = HashMap::new();
        for e in &input.model.edges {
            edges_from.entry(e.from.as_str()).or_default().push(e);
        }
        let repos: HashMap<&'a str, &'a Repository> = input
            .model
            .repositories
            .iter()
            .map(|r| (r.name.as_str(), r))
            .collect();
        // Every repository the fleet knows: declared, or only seen in facts and services.
        let mut names: BTreeSet<&'a str> = repos.keys().copied().collect();
        names.extend(input.facts.iter().map(|f| f.repository.as_str()));
        names.extend(by_repo.keys().copied());
        let mut places: BTreeMap<(&'a str, &'a str), Vec<&'a str>> = BTreeMap::new();
        let mut environments: BTreeMap<&'a str, Vec<&'a str>> = BTreeMap::new();
        for name in names {
            let place = place_of(&repos, name);
            places.entry(place).or_default().push(name);
            environments.entry(place.1).or_default().push(name);
        }
        Self {
            input,
            services: input
                .model
                .services
                .iter()
                .map(|s| (s.id.as_str(), s))
                .collect(),
            by_name: input
                .model
                .services
                .iter()
                .map(|s| ((s.repository.as_str(), s.name.as_str()), s))
                .collect(),
            facts: input
                .facts
                .iter()
                .map(|f| (f.repository.as_str(), &**f))
                .collect(),
            repos,
            by_repo,
            edges_from,
            places,
            environments,
            calls: OnceLock::new(),
        }
    }

    /// `(host, environment)` of a repository.
    pub fn place(&self, repository: &str) -> (&'a str, &'a str) {
        place_of(&self.repos, repository)
    }

    /// Repositories grouped by `(host, environment)`, both sorted.
    pub fn by_place(&self) -> &BTreeMap<(&'a str, &'a str), Vec<&'a str>> {
        &self.places
    }

    /// Repositories grouped by environment, sorted.
    pub fn by_environment(&self) -> &BTreeMap<&'a str, Vec<&'a str>> {
        &self.environments
    }

    pub fn service(&self, repository: &str, name: &str) -> Option<&'a Service> {
        self.by_name.get(&(repository, name)).copied()
    }

    pub fn service_by_id(&self, id: &str) -> Option<&'a Service> {
        self.services.get(id).copied()
    }

    /// Services of the given repositories, repository by repository, in model order.
    pub fn services_of<'s>(
        &'s self,
        repositories: &'s [&str],
    ) -> impl Iterator<Item = &'a Service> + 's {
        repositories
            .iter()
            .filter_map(|r| self.by_repo.get(r))
            .flatten()
            .copied()
    }

    pub fn facts(&self, repository: &str) -> Option<&'a RepoFacts> {
        self.facts.get(repository).copied()
    }

    /// Facts of the given repositories, in the order given.
    pub fn facts_of<'s>(
        &'s self,
        repositories: &'s [&str],
    ) -> impl Iterator<Item = &'a RepoFacts> + 's {
        repositories
            .iter()
            .filter_map(|r| self.facts.get(r).copied())
    }

    /// Edges starting at a service.
    pub fn edges_from(&self, service: &Service) -> &[&'a Edge] {
        self.edges_from
            .get(service.id.as_str())
            .map_or(&[], Vec::as_slice)
    }

    /// References of a repository written at `location` (by `from`, when given).
    pub fn references_at<'s>(
        &'s self,
        repository: &str,
        from: Option<&'s str>,
        location: &'s Location,
    ) -> impl Iterator<Item = &'a Reference> + 's {
        self.facts(repository)
            .map(|f| f.references.as_slice())
            .unwrap_or_default()
            .iter()
            .filter(move |r| {
                same_place(&r.location, location) && (from.is_none() || r.from.as_deref() == from)
            })
    }

    /// Services a reference of `from` written at `location` resolved to.
    pub fn targets_at(&self, from: &Service, location: &Location) -> Vec<&'a Service> {
        self.edges_from(from)
            .iter()
            .filter(|e| e.evidence.iter().any(|l| same_place(l, location)))
            .filter_map(|e| self.service_by_id(&e.to))
            .collect()
    }

    /// Every address reference that became an edge, with its target (computed once).
    pub fn calls(&self) -> &[Call<'a>] {
        self.calls.get_or_init(|| super::reach::calls(self))
    }
}

/// `a == b`, comparing the cheap fields first (this runs for every reference of a fleet).
pub fn same_place(a: &Location, b: &Location) -> bool {
    a.span == b.span
        && a.line == b.line
        && a.column == b.column
        && a.path == b.path
        && a.repository == b.repository
}

fn place_of<'a>(repos: &HashMap<&'a str, &'a Repository>, repository: &str) -> (&'a str, &'a str) {
    repos
        .get(repository)
        .map_or((DEFAULT_HOST, DEFAULT_ENVIRONMENT), |r| {
            (r.host.as_str(), r.environment.as_str())
        })
}

/// The directory of a compose project, with variant folders (`prod`, `deploy`…) stripped, so
/// `deploy/prod/compose.yml` and `compose.yml` are one deployment but `app1/` and `app2/` are not.
fn deployment_dir(project: &str) -> String {
    let mut parts: Vec<&str> = project.split('/').collect();
    parts.pop();
    while parts
        .last()
        .is_some_and(|p| p.is_empty() || VARIANT_DIRS.contains(&p.to_ascii_lowercase().as_str()))
    {
        parts.pop();
    }
    parts.join("/")
}

/// Whether two compose files (or any repo paths) belong to one deployment of one repository:
/// the same directory once variant folders are stripped.
pub fn same_deployment(path_a: &str, path_b: &str) -> bool {
    deployment_dir(path_a) == deployment_dir(path_b)
}

/// Compose deployment directories of a service (empty for non-compose services).
fn compose_dirs(service: &Service) -> BTreeSet<String> {
    service
        .scopes
        .iter()
        .filter_map(|s| match s {
            Scope::Compose { project } => Some(deployment_dir(project)),
            _ => None,
        })
        .collect()
}

/// Whether two services can run at the same time and so contend for a resource: services of
/// different repositories, or of one repository's compose projects in different directories.
/// One service never clashes with itself, and a repository's compose/k8s/swarm variants of one
/// app are alternatives, not neighbours.
pub fn may_clash(a: &Service, b: &Service) -> bool {
    if a.id == b.id {
        return false;
    }
    if a.repository != b.repository {
        return true;
    }
    // Two alternative deployments of the repository (see `Service::variants`) never run
    // together, whatever their directories.
    if !a.variants.is_empty()
        && !b.variants.is_empty()
        && !a.variants.iter().any(|v| b.variants.contains(v))
    {
        return false;
    }
    // Compose profiles: two services that each start only under profiles the other has none of
    // run together only when the user enables both sets, which the file's authors meant as
    // alternatives (`--profile default` or `--profile admin`).
    if !a.profiles.is_empty()
        && !b.profiles.is_empty()
        && !a.profiles.iter().any(|p| b.profiles.contains(p))
    {
        return false;
    }
    let (da, db) = (compose_dirs(a), compose_dirs(b));
    !da.is_empty() && !db.is_empty() && da.is_disjoint(&db)
}

/// Sorts conflicts by id and each conflict's occurrences by place, for stable output.
pub fn finish(mut conflicts: Vec<Conflict>) -> Vec<Conflict> {
    for c in &mut conflicts {
        c.occurrences.sort_by(|a, b| {
            (&a.repository, &a.location, &a.service, &a.detail).cmp(&(
                &b.repository,
                &b.location,
                &b.service,
                &b.detail,
            ))
        });
        c.occurrences.dedup();
    }
    conflicts.sort_by(|a, b| a.id.cmp(&b.id));
    conflicts.dedup_by(|a, b| a.id == b.id);
    conflicts
}

/// Most names a message lists before `and N more`.
const LIST_LIMIT: usize = 6;

/// Human list: `a`, `a and b`, `a, b and c`; long lists end with `and N more`.
pub fn and_list<S: AsRef<str>>(items: &[S]) -> String {
    if items.len() > LIST_LIMIT {
        let shown: Vec<&str> = items[..LIST_LIMIT - 1].iter().map(|s| s.as_ref()).collect();
        return format!(
            "{} and {} more",
            shown.join(", "),
            items.len() - shown.len()
        );
    }
    match items {
        [] => String::new(),
        [one] => one.as_ref().to_string(),
        [init @ .., last] => format!(
            "{} and {}",
            init.iter()
                .map(|s| s.as_ref())
                .collect::<Vec<_>>()
                .join(", "),
            last.as_ref()
        ),
    }
}

#[cfg(test)]
pub(crate) mod testing {
    //! Builders for hand-made fleets in detector tests.

    use crate::FleetInput;
    use switchyard_model::*;

    pub fn loc(repo: &str, path: &str, line: u32) -> Location {
        Location::new(
            repo,
            path,
            line,
            5,
            ByteSpan::new(line as usize * 10, line as usize * 10 + 4),
        )
    }

    pub fn repo(name: &str, host: &str, env: &str) -> Repository {
        Repository {
            name: name.into(),
            path: name.into(),
            host: host.into(),
            environment: env.into(),
        }
    }

    pub fn compose_scope(project: &str) -> Scope {
        Scope::Compose {
            project: project.into(),
        }
    }

    pub fn service(
        repo: &str,
        name: &str,
        scopes: Vec<Scope>,
        endpoints: Vec<EndpointKind>,
    ) -> Service {
        let kind = match scopes.first() {
            Some(Scope::Compose { .. }) => ServiceKind::Compose,
            Some(Scope::Kubernetes { .. }) => ServiceKind::Kubernetes,
            _ => ServiceKind::Application,
        };
        Service {
            id: service_id(repo, name),
            repository: repo.into(),
            name: name.into(),
            kind,
            source: loc(repo, "docker-compose.yml", 1),
            sources: vec![loc(repo, "docker-compose.yml", 1)],
            scopes,
            aliases: Vec::new(),
            endpoints: endpoints
                .into_iter()
                .enumerate()
                .map(|(i, kind)| Endpoint {
                    kind,
                    location: loc(repo, "docker-compose.yml", 10 + i as u32),
                })
                .collect(),
            networks: Vec::new(),
            image: None,
            test_harness: false,
            variants: Vec::new(),
            profiles: Vec::new(),
        }
    }

    pub fn host_port(ip: Option<&str>, start: u16, end: u16) -> EndpointKind {
        EndpointKind::HostPort {
            host_ip: ip.map(str::to_string),
            start,
            end,
            container_port: Some(80),
            protocol: Protocol::Tcp,
        }
    }

    pub fn facts(repo: &str) -> RepoFacts {
        RepoFacts {
            repository: repo.into(),
            ..Default::default()
        }
    }

    /// A model and facts kept together so tests can borrow a [`FleetInput`].
    #[derive(Default)]
    pub struct Fixture {
        pub model: FleetModel,
        pub facts: Vec<std::sync::Arc<RepoFacts>>,
    }

    impl Fixture {
        pub fn input(&self) -> FleetInput<'_> {
            FleetInput {
                model: &self.model,
                facts: &self.facts,
                // Fixtures change between runs: a fresh index each time (leaked, tests only).
                lookup: Box::leak(Box::default()),
            }
        }

        pub fn facts_mut(&mut self, repo: &str) -> &mut RepoFacts {
            let i = match self.facts.iter().position(|f| f.repository == repo) {
                Some(i) => i,
                None => {
                    self.facts.push(std::sync::Arc::new(facts(repo)));
                    self.facts.len() - 1
                }
            };
            std::sync::Arc::make_mut(&mut self.facts[i])
        }
    }
}

#[cfg(test)]
mod tests {
    use super::testing::*;
    use super::*;

    #[test]
    fn services_of_disjoint_compose_profiles_never_clash() {
        let with_profiles = |name: &str, project: &str, profiles: &[&str]| Service {
            profiles: profiles.iter().map(|p| p.to_string()).collect(),
            ..service("r", name, vec![compose_scope(project)], vec![])
        };
        let aio = with_profiles("aio", "a/docker-compose.yml", &["default"]);
        let admin = with_profiles("admin", "b/docker-compose.yml", &["admin", "app"]);
        assert!(!may_clash(&aio, &admin));
        // A shared profile starts both; a service without profiles always starts.
        let app = with_profiles("app", "c/docker-compose.yml", &["app"]);
        assert!(may_clash(&admin, &app));
        let always = with_profiles("db", "d/docker-compose.yml", &[]);
        assert!(may_clash(&aio, &always));
        // Profiles are per project: another repository's may clash.
        let other = Service {
            profiles: vec!["admin".into()],
            ..service(
                "s",
                "x",
                vec![compose_scope("x/docker-compose.yml")],
                vec![],
            )
        };
        assert!(may_clash(&aio, &other));
    }

    #[test]
    fn services_of_two_variants_never_clash_but_of_one_variant_may() {
        let in_variants = |name: &str, project: &str, variants: &[&str]| Service {
            variants: variants.iter().map(|v| v.to_string()).collect(),
            ..service("r", name, vec![compose_scope(project)], vec![])
        };
        // Different folders, which alone would let them clash, but alternatives of each other.
        let web = in_variants("web", "app/docker-compose.yml", &["app/docker-compose.yml"]);
        let alt = in_variants(
            "web-alt",
            "alt/docker-compose.yml",
            &["alt/docker-compose.yml"],
        );
        assert!(!may_clash(&web, &alt));
        // Two folders deployed together in one variant still may.
        let api = in_variants("api", "api/docker-compose.yml", &["app/docker-compose.yml"]);
        assert!(may_clash(&web, &api));
        // Another repository's variant is another deployment: it may clash.
        let other = Service {
            variants: vec!["alt/docker-compose.yml".into()],
            ..service(
                "s",
                "web",
                vec![compose_scope("alt/docker-compose.yml")],
                vec![],
            )
        };
        assert!(may_clash(&web, &other));
    }

    #[test]
    fn variants_of_one_repository_do_not_clash() {
        let a = service(
            "r",
            "web",
            vec![compose_scope("docker-compose.yml")],
            vec![],
        );
        let b = service(
            "r",
            "web-prod",
            vec![compose_scope("deploy/prod/docker-compose.yml")],
            vec![],
        );
        let k = service(
            "r",
            "web-k8s",
            vec![Scope::Kubernetes {
                namespace: "default".into(),
            }],
            vec![],
        );
        assert!(!may_clash(&a, &b));
        assert!(!may_clash(&a, &k));
        assert!(!may_clash(&a, &a));
        let other_app = service(
            "r",
            "api",
            vec![compose_scope("app2/docker-compose.yml")],
            vec![],
        );
        assert!(may_clash(&a, &other_app));
        let other_repo = service(
            "s",
            "web",
            vec![compose_scope("docker-compose.yml")],
            vec![],
        );
        assert!(may_clash(&a, &other_repo));
    }

    #[test]
    fn lists_read_well() {
        assert_eq!(and_list(&["a"]), "a");
        assert_eq!(and_list(&["a", "b", "c"]), "a, b and c");
        let many: Vec<String> = (1..=9).map(|i| i.to_string()).collect();
        assert_eq!(and_list(&many), "1, 2, 3, 4, 5 and 4 more");
    }
}
