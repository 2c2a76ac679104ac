//! `env_drift`: one key with different values in repositories of one host and environment, for
//! keys that must agree (URLs/DSNs, keys of shared config repositories, or a configured list).

use super::Detector;
use super::index::{FleetIndex, and_list, finish};
use crate::{Conflict, ConflictKind, FleetInput, Occurrence, Severity};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use switchyard_link::address;
use switchyard_model::{EnvEntry, Location, ServiceKind, Target};

/// Which keys must agree across repositories. Patterns are case-insensitive; `*` matches any
/// run of characters (`*_URL`, `*SELF*`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnvDriftConfig {
    /// Only these keys; `None` = keys whose values are URLs/DSNs or that ≥2 shared config
    /// repositories define.
    pub keys: Option<Vec<String>>,
    /// Never these keys: values that differ per service on purpose.
    pub ignore: Vec<String>,
}

impl Default for EnvDriftConfig {
    fn default() -> Self {
        Self {
            keys: None,
            ignore: [
                "PORT",
                "NODE_ENV",
                "HOST",
                "HOSTNAME",
                "*SELF*",
                "*PUBLIC_URL*",
                "*BASE_PATH*",
                "*CORS*",
                "*ORIGIN*",
                "*REDIRECT*",
                "*CALLBACK*",
            ]
            .map(str::to_string)
            .to_vec(),
        }
    }
}

impl EnvDriftConfig {
    fn ignores(&self, key: &str) -> bool {
        self.ignore.iter().any(|p| glob(p, key))
    }

    fn lists(&self, key: &str) -> Option<bool> {
        self.keys
            .as_ref()
            .map(|keys| keys.iter().any(|p| glob(p, key)))
    }
}

/// Case-insensitive match with `*` wildcards.
fn glob(pattern: &str, text: &str) -> bool {
    let p = pattern.to_ascii_uppercase();
    let t = text.to_ascii_uppercase();
    let parts: Vec<&str> = p.split('*').collect();
    if parts.len() == 1 {
        return p == t;
    }
    let (first, last) = (parts[0], parts[parts.len() - 1]);
    if !t.starts_with(first) || !t[first.len()..].ends_with(last) {
        return false;
    }
    let mut rest = &t[first.len()..t.len() - last.len()];
    for part in &parts[1..parts.len() - 1] {
        match rest.find(part) {
            Some(i) => rest = &rest[i + part.len()..],
            None => return false,
        }
    }
    true
}

#[derive(Default)]
pub struct EnvDriftDetector {
    pub config: EnvDriftConfig,
}

impl EnvDriftDetector {
    pub fn new(config: EnvDriftConfig) -> Self {
        Self { config }
    }
}

fn looks_like_url(display: &str) -> bool {
    display.contains("://")
}

/// Whether a value is concrete enough to compare (not empty, not an unresolved `${VAR}`).
fn comparable(e: &EnvEntry) -> bool {
    let d = e.display.trim();
    !d.is_empty() && !d.contains("${")
}

/// Paths of a configuration repository's shared config.
fn is_shared_config_path(path: &str) -> bool {
    ["config/", "environments/", "env/"]
        .iter()
        .any(|dir| path.starts_with(dir) || path.contains(&format!("/{dir}")))
}

impl Detector for EnvDriftDetector {
    fn kind(&self) -> ConflictKind {
        ConflictKind::EnvDrift
    }

    fn detect(&self, input: FleetInput<'_>) -> Vec<Conflict> {
        let fleet = FleetIndex::new(input);
        let local = LocalValues::build(&fleet);
        let mut out = Vec::new();
        for ((host, env), repos) in fleet.by_place() {
            let shared = shared_config_keys(&fleet, &repos);
            // key → repository → entries
            let mut by_key: BTreeMap<&str, BTreeMap<&str, Vec<&EnvEntry>>> = BTreeMap::new();
            for facts in fleet.facts_of(&repos) {
                for e in facts.env.iter().filter(|e| comparable(e)) {
                    by_key
                        .entry(e.key.as_str())
                        .or_default()
                        .entry(facts.repository.as_str())
                        .or_default()
                        .push(e);
                }
            }
            for (key, per_repo) in by_key {
                if per_repo.len() < 2 || self.config.ignores(key) {
                    continue;
                }
                let must_agree = match self.config.lists(key) {
                    Some(listed) => listed,
                    None => {
                        shared.contains(key)
                            || per_repo
                                .values()
                                .flatten()
                                .any(|e| looks_like_url(&e.display))
                    }
                };
                if !must_agree {
                    continue;
                }
                // A URL to the repository's own service (its own database) differs per
                // repository on purpose.
                let per_repo: BTreeMap<&str, Vec<&EnvEntry>> = per_repo
                    .into_iter()
                    .map(|(repo, list)| {
                        let kept: Vec<&EnvEntry> = list
                            .into_iter()
                            .filter(|e| !local.is_local(repo, e))
                            .collect();
                        (repo, kept)
                    })
                    .filter(|(_, list)| !list.is_empty())
                    .collect();
                if let Some(c) = drift(host, env, key, &per_repo, &local) {
                    out.push(c);
                }
            }
        }
        finish(out)
    }
}

/// Keys that at least two configuration repositories (only application services, env files
/// under `config/` or `environments/`) define.
fn shared_config_keys<'a>(fleet: &FleetIndex<'a>, repos: &[&str]) -> BTreeSet<&'a str> {
    let mut count: HashMap<&'a str, BTreeSet<&'a str>> = HashMap::new();
    for facts in fleet.facts_of(repos) {
        let only_application = fleet
            .services_of(&[facts.repository.as_str()])
            .all(|s| s.kind == ServiceKind::Application);
        if !only_application {
            continue;
        }
        for e in &facts.env {
            if is_shared_config_path(&e.location.path) {
                count
                    .entry(e.key.as_str())
                    .or_default()
                    .insert(facts.repository.as_str());
            }
        }
    }
    count
        .into_iter()
        .filter(|(_, repos)| repos.len() >= 2)
        .map(|(k, _)| k)
        .collect()
}

/// Env values whose addresses all point into their own repository (or at the service itself).
struct LocalValues<'a> {
    /// Evidence location → (repository, service id) of the targets of edges from there.
    targets: HashMap<&'a Location, BTreeSet<(&'a str, &'a str)>>,
    /// Locations of references that did not resolve.
    unresolved: BTreeSet<&'a Location>,
    /// (repository, location) of address references.
    addressed: BTreeSet<(&'a str, &'a Location)>,
}

impl<'a> LocalValues<'a> {
    fn build(fleet: &FleetIndex<'a>) -> Self {
        let mut targets: HashMap<&'a Location, BTreeSet<(&'a str, &'a str)>> = HashMap::new();
        for edge in &fleet.input.model.edges {
            let Some(to) = fleet.service_by_id(&edge.to) else {
                continue;
            };
            for loc in &edge.evidence {
                targets
                    .entry(loc)
                    .or_default()
                    .insert((&to.repository, &to.id));
            }
        }
        let unresolved = fleet
            .input
            .model
            .unresolved
            .iter()
            .map(|u| &u.location)
            .collect();
        let addressed = fleet
            .input
            .facts
            .iter()
            .flat_map(|f| {
                f.references
                    .iter()
                    .filter(|r| matches!(r.target, Target::Address { .. }))
                    .map(move |r| (f.repository.as_str(), &r.location))
            })
            .collect();
        Self {
            targets,
            unresolved,
            addressed,
        }
    }

    /// The services an entry's value resolves to (empty when it does not resolve).
    fn resolved(&self, e: &EnvEntry) -> BTreeSet<&'a str> {
        self.targets
            .get(&e.location)
            .map(|t| t.iter().map(|(_, id)| *id).collect())
            .unwrap_or_default()
    }

    fn is_local(&self, repo: &str, e: &EnvEntry) -> bool {
        if !self.addressed.contains(&(repo, &e.location)) || self.unresolved.contains(&e.location) {
            return false;
        }
        match self.targets.get(&e.location) {
            Some(targets) => targets.iter().all(|(r, _)| *r == repo),
            // An address that became neither an edge nor an unresolved reference points at
            // the service itself.
            None => true,
        }
    }
}

/// The addresses a URL value points at (`host:port`), ignoring paths and credentials.
fn addresses(display: &str) -> BTreeSet<String> {
    address::parse(display)
        .into_iter()
        .map(|a| {
            format!(
                "{}:{}",
                a.host,
                a.port.map_or(String::new(), |p| p.to_string())
            )
        })
        .collect()
}

fn drift(
    host: &str,
    env: &str,
    key: &str,
    per_repo: &BTreeMap<&str, Vec<&EnvEntry>>,
    local: &LocalValues<'_>,
) -> Option<Conflict> {
    let hashes: BTreeMap<&str, BTreeSet<&str>> = per_repo
        .iter()
        .map(|(repo, list)| (*repo, list.iter().map(|e| e.value_hash.as_str()).collect()))
        .collect();
    // Repositories that share no value with some other repository: a repository with dev and
    // prod values agrees as long as one of them matches.
    let drifting: BTreeSet<&str> = hashes
        .iter()
        .filter(|(repo, mine)| {
            hashes
                .iter()
                .any(|(other, theirs)| other != *repo && mine.is_disjoint(theirs))
        })
        .map(|(repo, _)| *repo)
        .collect();
    if drifting.len() < 2 {
        return None;
    }
    let entries: Vec<&EnvEntry> = drifting
        .iter()
        .filter_map(|r| per_repo.get(r))
        .flatten()
        .copied()
        .collect();
    let distinct: BTreeSet<&str> = entries.iter().map(|e| e.value_hash.as_str()).collect();
    let is_url = entries.iter().any(|e| looks_like_url(&e.display));
    // One server: every value resolves to the same service (`localhost:5432` and
    // `host.docker.internal:5432` both reach the host's postgres), or names the same host:port.
    let resolved: Vec<BTreeSet<&str>> = entries.iter().map(|e| local.resolved(e)).collect();
    let same_service = resolved.iter().all(|r| r.len() == 1)
        && resolved.iter().collect::<BTreeSet<_>>().len() == 1;
    let addresses: BTreeSet<BTreeSet<String>> =
        entries.iter().map(|e| addresses(&e.display)).collect();
    let same_server = is_url && (same_service || addresses.len() == 1);
    let severity = if same_server {
        // One server, different database, user or password: often deliberate.
        Severity::Low
    } else if is_url {
        Severity::High
    } else {
        Severity::Medium
    };
    let occurrences: Vec<Occurrence> = drifting
        .iter()
        .flat_map(|repo| {
            per_repo
                .get(repo)
                .into_iter()
                .flatten()
                .map(move |e| Occurrence {
                    repository: repo.to_string(),
                    service: e.service.clone(),
                    location: e.location.clone(),
                    detail: format!("{key}={}", e.display),
                })
        })
        .collect();
    let repos: Vec<&str> = drifting.into_iter().collect();
    let mut message = format!(
        "{key} has {} different values across {} on host {host}",
        distinct.len(),
        and_list(&repos)
    );
    if same_server {
        message.push_str(" (same server; database, user or password differ)");
    }
    Some(Conflict::new(
        ConflictKind::EnvDrift,
        severity,
        host,
        env,
        format!("env:{key}"),
        occurrences,
        message,
    ))
}

#[cfg(test)]
#[path = "env_drift_tests.rs"]
mod tests;
