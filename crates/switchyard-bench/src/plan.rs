//! The fleet plan: every cross-repository decision (ports, domains, references, the cycle) made
//! up front, so each repository can then be rendered on its own, in any order, on any thread.

use crate::rng::Rng;
use std::collections::HashMap;

/// What `gen` was asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Options {
    pub repos: usize,
    pub seed: u64,
    pub services_per_repo: usize,
    pub cycle: bool,
}

/// First published host port; the scheme stays below [`PORT_BASE`] + [`PORT_SPAN`] < 65535.
pub const PORT_BASE: u32 = 20_000;
/// Number of host ports the scheme cycles through before wrapping.
pub const PORT_SPAN: u32 = 45_000;
/// Share of repositories that deliberately publish a host port another repository already uses.
pub const DUPLICATE_PORT_RATE: f64 = 0.01;

/// The role of a service; decides image, container port and what it talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Api,
    Db,
    Cache,
    Worker,
    Web,
    Admin,
    Search,
    Queue,
    Mailer,
    Metrics,
    Scheduler,
    /// Beyond the named roles: `svc-N`, a generic HTTP service.
    Generic(usize),
}

impl Kind {
    /// The service kinds of every repository for `count` services, in declaration order.
    pub fn roster(count: usize) -> Vec<Kind> {
        const NAMED: [Kind; 11] = [
            Kind::Api,
            Kind::Db,
            Kind::Cache,
            Kind::Worker,
            Kind::Web,
            Kind::Admin,
            Kind::Search,
            Kind::Queue,
            Kind::Mailer,
            Kind::Metrics,
            Kind::Scheduler,
        ];
        (0..count)
            .map(|i| NAMED.get(i).copied().unwrap_or(Kind::Generic(i)))
            .collect()
    }

    pub fn name(self) -> String {
        match self {
            Kind::Api => "api".into(),
            Kind::Db => "db".into(),
            Kind::Cache => "cache".into(),
            Kind::Worker => "worker".into(),
            Kind::Web => "web".into(),
            Kind::Admin => "admin".into(),
            Kind::Search => "search".into(),
            Kind::Queue => "queue".into(),
            Kind::Mailer => "mailer".into(),
            Kind::Metrics => "metrics".into(),
            Kind::Scheduler => "scheduler".into(),
            Kind::Generic(i) => format!("svc-{i}"),
        }
    }

    /// Port the container listens on; `None` for background processes.
    pub fn container_port(self, nginx: bool) -> Option<u16> {
        match self {
            Kind::Api | Kind::Generic(_) => Some(8080),
            Kind::Db => Some(5432),
            Kind::Cache => Some(6379),
            Kind::Web if nginx => Some(80),
            Kind::Web | Kind::Admin => Some(3000),
            Kind::Search => Some(9200),
            Kind::Queue => Some(15672),
            Kind::Mailer => Some(8025),
            Kind::Metrics => Some(9090),
            Kind::Worker | Kind::Scheduler => None,
        }
    }

    /// Whether the kind gets a slot in the host port scheme.
    fn has_slot(self) -> bool {
        !matches!(self, Kind::Worker | Kind::Scheduler)
    }
}

/// One service of a repository.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServicePlan {
    pub kind: Kind,
    pub name: String,
    pub container_port: Option<u16>,
    /// Host port published in compose `ports:`, if any.
    pub host_port: Option<u16>,
}

/// Where a cross-repository reference points.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// `http://localhost:<port>`: the published api port of `repo`.
    Port { repo: usize, port: u16 },
    /// `https://repo-NNNNN.fleet.test/`: a domain `repo` serves by Ingress or nginx.
    Domain { repo: usize },
}

impl Target {
    pub fn repo(self) -> usize {
        match self {
            Target::Port { repo, .. } | Target::Domain { repo } => repo,
        }
    }
}

/// One reference from a repository to another one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CrossRef {
    /// Lowercase label: the `.env` key is `LABEL_URL`, the settings key is `label`.
    pub label: String,
    pub target: Target,
    /// Written into `config/settings.json` instead of `.env`.
    pub in_settings: bool,
}

/// Everything needed to render one repository.
#[derive(Debug, Clone, PartialEq)]
pub struct RepoPlan {
    pub index: usize,
    pub name: String,
    pub services: Vec<ServicePlan>,
    pub k8s: bool,
    pub ingress: bool,
    pub nginx: bool,
    pub settings: bool,
    pub package_json: bool,
    /// `x-common: &common` anchors and `<<:` merges in the compose file.
    pub anchors: bool,
    /// Seed of the repository's own stream for cosmetic choices while rendering.
    pub style: u64,
    pub refs: Vec<CrossRef>,
}

impl RepoPlan {
    /// The domain this repository serves, if it has an Ingress or nginx.
    pub fn domain(&self) -> Option<String> {
        (self.ingress || self.nginx).then(|| domain_of(self.index))
    }

    pub fn service(&self, kind: Kind) -> Option<&ServicePlan> {
        self.services.iter().find(|s| s.kind == kind)
    }

    pub fn api_port(&self) -> Option<u16> {
        self.service(Kind::Api).and_then(|s| s.host_port)
    }
}

/// The whole fleet.
#[derive(Debug, Clone, PartialEq)]
pub struct FleetPlan {
    pub options: Options,
    pub repos: Vec<RepoPlan>,
    /// `(from, to)` of the back-reference added by `--cycle`.
    pub cycle: Option<(usize, usize)>,
}

pub fn repo_name(index: usize) -> String {
    format!("repo-{index:05}")
}

pub fn domain_of(index: usize) -> String {
    format!("repo-{index:05}.fleet.test")
}

/// Host port of slot `slot` of repository `repo` when each repository owns `stride` slots.
/// Unique while `repos * stride <= PORT_SPAN` (11,250 repositories at the default 4 slots).
pub fn port_for(repo: usize, stride: usize, slot: usize) -> u16 {
    let linear = (repo as u64) * (stride as u64) + slot as u64;
    (PORT_BASE as u64 + linear % PORT_SPAN as u64) as u16
}

/// Labels of additional references, after the first `upstream` and `auth`.
const LABELS: [&str; 10] = [
    "billing", "users", "events", "search", "notify", "catalog", "orders", "ledger", "media",
    "profile",
];

pub fn plan(options: &Options) -> FleetPlan {
    let roster = Kind::roster(options.services_per_repo);
    let stride = roster.iter().filter(|k| k.has_slot()).count().max(1);
    let mut repos: Vec<RepoPlan> = (0..options.repos)
        .map(|i| plan_repo(options.seed, i, &roster, stride))
        .collect();

    // Cross-repository decisions draw from one stream, in repository order.
    let mut rng = Rng::stream(options.seed, u64::MAX);
    add_duplicate_ports(&mut repos, &mut rng);
    let mut uses: HashMap<u16, u32> = HashMap::new();
    for port in repos
        .iter()
        .flat_map(|r| r.services.iter().filter_map(|s| s.host_port))
    {
        *uses.entry(port).or_default() += 1;
    }
    let unique = |port: u16| uses.get(&port) == Some(&1);
    add_references(&mut repos, &mut rng, &unique);
    let cycle = if options.cycle {
        add_back_reference(&mut repos, &unique)
    } else {
        None
    };
    FleetPlan {
        options: options.clone(),
        repos,
        cycle,
    }
}

fn plan_repo(seed: u64, index: usize, roster: &[Kind], stride: usize) -> RepoPlan {
    let mut rng = Rng::stream(seed, index as u64);
    let k8s = rng.chance(1.0 / 3.0);
    let ingress = k8s && rng.chance(0.5);
    let has_web = roster.contains(&Kind::Web);
    let nginx = has_web && rng.chance(0.15);
    let settings = rng.chance(0.25);
    let package_json = rng.chance(0.2);
    let anchors = rng.chance(0.3);
    let publish_db = rng.chance(0.5);
    let publish_cache = rng.chance(0.4);
    let mut slot = 0;
    let services = roster
        .iter()
        .map(|&kind| {
            let host_port = if kind.has_slot() {
                let port = port_for(index, stride, slot);
                slot += 1;
                let published = match kind {
                    Kind::Db => publish_db,
                    Kind::Cache => publish_cache,
                    _ => true,
                };
                published.then_some(port)
            } else {
                None
            };
            ServicePlan {
                kind,
                name: kind.name(),
                container_port: kind.container_port(nginx),
                host_port,
            }
        })
        .collect();
    RepoPlan {
        index,
        name: repo_name(index),
        services,
        k8s,
        ingress,
        nginx,
        settings,
        package_json,
        anchors,
        style: rng.next_u64(),
        refs: Vec::new(),
    }
}

/// About 1% of repositories publish a non-api port equal to one an earlier repository publishes:
/// the host port conflicts a detector must find. Api ports stay unique so references stay exact.
fn add_duplicate_ports(repos: &mut [RepoPlan], rng: &mut Rng) {
    for i in 1..repos.len() {
        if !rng.chance(DUPLICATE_PORT_RATE) {
            continue;
        }
        let donor = rng.below(i as u64) as usize;
        let taken = repos.get(donor).and_then(|d| {
            d.services
                .iter()
                .find(|s| s.kind != Kind::Api && s.host_port.is_some())
                .and_then(|s| s.host_port)
        });
        let Some(port) = taken else { continue };
        if let Some(service) = repos.get_mut(i).and_then(|r| {
            r.services
                .iter_mut()
                .find(|s| s.kind != Kind::Api && s.container_port.is_some())
        }) {
            service.host_port = Some(port);
        }
    }
}

/// Two to four references per repository, to earlier repositories only (a DAG), skewed so that
/// a few early repositories become hubs.
fn add_references(repos: &mut [RepoPlan], rng: &mut Rng, unique: &dyn Fn(u16) -> bool) {
    let mut domains: Vec<usize> = Vec::new();
    for i in 0..repos.len() {
        let mut refs = Vec::new();
        if i > 0 {
            let wanted = rng.range(2, 4) as usize;
            let mut extra_labels = LABELS.iter();
            let mut attempts = 0;
            while refs.len() < wanted && attempts < wanted * 8 {
                attempts += 1;
                let by_domain = !domains.is_empty() && rng.chance(0.4);
                let target = if by_domain {
                    let repo = domains
                        .get(rng.skewed_below(domains.len()))
                        .copied()
                        .unwrap_or(0);
                    Target::Domain { repo }
                } else {
                    let repo = rng.skewed_below(i);
                    match repos.get(repo).and_then(RepoPlan::api_port) {
                        Some(port) if unique(port) => Target::Port { repo, port },
                        _ => continue,
                    }
                };
                let first_of_kind = !refs.iter().any(|r: &CrossRef| {
                    matches!(
                        (r.target, target),
                        (Target::Domain { .. }, Target::Domain { .. })
                            | (Target::Port { .. }, Target::Port { .. })
                    )
                });
                let label = match (first_of_kind, target) {
                    (true, Target::Port { .. }) => "upstream",
                    (true, Target::Domain { .. }) => "auth",
                    _ => extra_labels.next().copied().unwrap_or("extra"),
                };
                refs.push(CrossRef {
                    label: label.to_string(),
                    target,
                    in_settings: false,
                });
            }
        }
        let Some(repo) = repos.get_mut(i) else { break };
        if repo.settings
            && let Some(last) = refs.last_mut()
        {
            last.in_settings = true;
        }
        repo.refs = refs;
        if repo.domain().is_some() {
            domains.push(i);
        }
    }
}

/// `--cycle`: the target of the last repository's first reference calls that repository back.
fn add_back_reference(
    repos: &mut [RepoPlan],
    unique: &dyn Fn(u16) -> bool,
) -> Option<(usize, usize)> {
    let (last, port, target) = repos.iter().rev().find_map(|r| {
        let port = r.api_port().filter(|&p| unique(p))?;
        Some((r.index, port, r.refs.first()?.target.repo()))
    })?;
    let from = repos.get_mut(target)?;
    from.refs.push(CrossRef {
        label: "callback".into(),
        target: Target::Port { repo: last, port },
        in_settings: false,
    });
    Some((target, last))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn options(repos: usize) -> Options {
        Options {
            repos,
            seed: 1,
            services_per_repo: 5,
            cycle: false,
        }
    }

    #[test]
    fn port_scheme_is_unique_for_ten_thousand_repos_and_in_range() {
        let mut seen = std::collections::HashSet::new();
        for repo in 0..10_000 {
            for slot in 0..4 {
                let port = port_for(repo, 4, slot);
                assert!((20_000..65_000).contains(&port), "{port}");
                assert!(seen.insert(port), "repo {repo} slot {slot} reuses {port}");
            }
        }
        // Wrapping keeps ports in range instead of overflowing.
        assert_eq!(port_for(11_250, 4, 0), 20_000);
    }

    #[test]
    fn api_ports_are_never_duplicated_and_about_one_percent_of_repos_duplicate_another() {
        let fleet = plan(&options(10_000));
        let mut uses: HashMap<u16, Vec<usize>> = HashMap::new();
        for r in &fleet.repos {
            for port in r.services.iter().filter_map(|s| s.host_port) {
                uses.entry(port).or_default().push(r.index);
            }
        }
        for r in &fleet.repos {
            let api = r.api_port().unwrap();
            assert_eq!(uses[&api], vec![r.index], "{}", r.name);
        }
        let duplicated = uses.values().filter(|v| v.len() > 1).count();
        assert!((50..=200).contains(&duplicated), "{duplicated}");
    }

    #[test]
    fn references_point_to_earlier_repositories_with_two_to_four_each() {
        let fleet = plan(&options(2_000));
        assert!(fleet.repos[0].refs.is_empty());
        for r in &fleet.repos[1..] {
            assert!(
                (2..=4).contains(&r.refs.len()),
                "{}: {}",
                r.name,
                r.refs.len()
            );
            for x in &r.refs {
                assert!(x.target.repo() < r.index);
                if let Target::Domain { repo } = x.target {
                    assert!(fleet.repos[repo].domain().is_some());
                }
            }
            let labels: std::collections::HashSet<_> = r.refs.iter().map(|x| &x.label).collect();
            assert_eq!(
                labels.len(),
                r.refs.len(),
                "labels must be unique in {}",
                r.name
            );
        }
        assert_eq!(fleet.cycle, None);
    }

    #[test]
    fn cycle_adds_exactly_one_back_reference() {
        let fleet = plan(&Options {
            cycle: true,
            ..options(300)
        });
        let (from, to) = fleet.cycle.unwrap();
        assert!(from < to);
        let backs: Vec<_> = fleet
            .repos
            .iter()
            .flat_map(|r| r.refs.iter().map(move |x| (r.index, x.target.repo())))
            .filter(|(f, t)| t > f)
            .collect();
        assert_eq!(backs, vec![(from, to)]);
        assert_eq!(fleet.repos[to].refs[0].target.repo(), from);
    }

    #[test]
    fn roster_names_and_small_fleets() {
        let names: Vec<_> = Kind::roster(7).into_iter().map(Kind::name).collect();
        assert_eq!(
            names,
            ["api", "db", "cache", "worker", "web", "admin", "search"]
        );
        assert_eq!(Kind::roster(13)[12].name(), "svc-12");
        let one = plan(&Options {
            services_per_repo: 1,
            cycle: true,
            ..options(1)
        });
        assert_eq!(one.repos.len(), 1);
        assert_eq!(one.cycle, None);
        assert_eq!(plan(&options(0)).repos.len(), 0);
    }
}
