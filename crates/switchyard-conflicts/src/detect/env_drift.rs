//! `env_drift`: one key with different values in repositories of one host and environment, for
//! keys that must agree (URLs/DSNs, keys of shared config repositories, or a configured list).

use super::Detector;
use super::index::{FleetIndex, and_list, finish};
use crate::{Conflict, ConflictKind, Occurrence, Severity};
use foldhash::{HashMap, HashMapExt, HashSet};
use std::collections::{BTreeMap, BTreeSet};
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

impl EnvDriftDetector {
    /// Whether the values of `key` (in these repositories) must agree at all.
    fn must_agree(
        &self,
        key: &str,
        per_repo: &HashMap<&str, Vec<&EnvEntry>>,
        shared: &BTreeSet<&str>,
    ) -> bool {
        if per_repo.len() < 2 || self.config.ignores(key) {
            return false;
        }
        match self.config.lists(key) {
            Some(listed) => listed,
            None => {
                shared.contains(key)
                    || per_repo
                        .values()
                        .flatten()
                        .any(|e| looks_like_url(&e.display))
            }
        }
    }
}

impl Detector for EnvDriftDetector {
    fn kind(&self) -> ConflictKind {
        ConflictKind::EnvDrift
    }

    fn detect_in(&self, fleet: &FleetIndex<'_>) -> Vec<Conflict> {
        let local = LocalValues::build(fleet);
        let mut out = Vec::new();
        for (&(host, env), repos) in fleet.by_place() {
            let shared = shared_config_keys(fleet, repos);
            // key → repository → entries
            let mut by_key: HashMap<&str, HashMap<&str, Vec<&EnvEntry>>> = HashMap::new();
            for facts in fleet.facts_of(repos) {
                for e in facts.env.iter().filter(|e| comparable(e)) {
                    by_key
                        .entry(e.key.as_str())
                        .or_default()
                        .entry(facts.repository.as_str())
                        .or_default()
                        .push(e);
                }
            }
            let mut keys: Vec<(&str, HashMap<&str, Vec<&EnvEntry>>)> = by_key
                .into_iter()
                .filter(|(key, per_repo)| self.must_agree(key, per_repo, &shared))
                .collect();
            keys.sort_by(|a, b| a.0.cmp(b.0));
            let checked: HashSet<&str> = keys.iter().map(|(key, _)| *key).collect();
            let reach = local.reach_all(repos, &checked);
            for (key, per_repo) in keys {
                // A URL to the repository's own service (its own database) differs per
                // repository on purpose.
                let per_repo: BTreeMap<&str, Vec<&EnvEntry>> = per_repo
                    .into_iter()
                    .map(|(repo, list)| {
                        let kept: Vec<&EnvEntry> =
                            list.into_iter().filter(|e| !reach.of(e).local).collect();
                        (repo, kept)
                    })
                    .filter(|(_, list)| !list.is_empty())
                    .collect();
                if let Some(c) = drift(host, env, key, &per_repo, &reach) {
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

/// Env values whose addresses all point into their own repository (or at the service itself),
/// and the services a value resolves to.
struct LocalValues<'f, 'a> {
    fleet: &'f FleetIndex<'a>,
    /// Locations of references that did not resolve.
    unresolved: HashSet<&'a Location>,
}

impl<'f, 'a> LocalValues<'f, 'a> {
    fn build(fleet: &'f FleetIndex<'a>) -> Self {
        Self {
            fleet,
            unresolved: fleet
                .input
                .model
                .unresolved
                .iter()
                .map(|u| &u.location)
                .collect(),
        }
    }

    /// Where an entry's value leads: the services it resolves to, and whether every address in
    /// it points into its own repository (or at the service itself).
    fn reach(&self, repo: &str, e: &EnvEntry) -> Reach<'a> {
        let Some(from) = e
            .service
            .as_deref()
            .and_then(|s| self.fleet.service(repo, s))
        else {
            return Reach::default();
        };
        let targets = self.fleet.targets_at(from, &e.location);
        let addressed = self
            .fleet
            .references_at(repo, Some(&from.name), &e.location)
            .any(|r| matches!(r.target, Target::Address { .. }));
        // An address that became neither an edge nor an unresolved reference points at the
        // service itself.
        let local = addressed
            && !self.unresolved.contains(&e.location)
            && targets.iter().all(|t| t.repository == repo);
        Reach {
            local,
            targets: targets.iter().map(|t| t.id.as_str()).collect(),
        }
    }

    /// [`Self::reach`] of every comparable entry of `keys` in `repos`, computed repository by
    /// repository: one repository's facts, services and edges stay in cache while its entries
    /// are resolved (key by key they would be fetched from all over the fleet).
    fn reach_all(&self, repos: &[&str], keys: &HashSet<&str>) -> Reaches<'a> {
        let mut by_entry = HashMap::new();
        for facts in self.fleet.facts_of(repos) {
            for e in facts.env.iter().filter(|e| comparable(e)) {
                if keys.contains(e.key.as_str()) {
                    by_entry.insert(entry_id(e), self.reach(&facts.repository, e));
                }
            }
        }
        Reaches { by_entry }
    }
}

/// Where one env entry's value leads (see [`LocalValues::reach`]).
#[derive(Default)]
struct Reach<'a> {
    local: bool,
    targets: BTreeSet<&'a str>,
}

/// [`Reach`] by entry (its address: entries are borrowed from the facts for the whole run).
struct Reaches<'a> {
    by_entry: HashMap<usize, Reach<'a>>,
}

fn entry_id(e: &EnvEntry) -> usize {
    std::ptr::from_ref(e) as usize
}

impl<'a> Reaches<'a> {
    fn of(&self, e: &EnvEntry) -> &Reach<'a> {
        static NOWHERE: Reach<'static> = Reach {
            local: false,
            targets: BTreeSet::new(),
        };
        self.by_entry.get(&entry_id(e)).unwrap_or(&NOWHERE)
    }
}

/// Repositories that share no value with some other repository: a repository with dev and
/// prod values agrees as long as one of them matches. Repositories with the same set of values
/// are compared once, so a key in thousands of repositories stays cheap.
fn drifting_repositories<'a>(per_repo: &BTreeMap<&'a str, Vec<&EnvEntry>>) -> BTreeSet<&'a str> {
    let mut signatures: BTreeMap<BTreeSet<&str>, Vec<&'a str>> = BTreeMap::new();
    for (repo, list) in per_repo {
        let set = list.iter().map(|e| e.value_hash.as_str()).collect();
        signatures.entry(set).or_default().push(repo);
    }
    let k = signatures.len();
    if k < 2 {
        return BTreeSet::new();
    }
    let sigs: Vec<(&BTreeSet<&str>, &Vec<&'a str>)> = signatures.iter().collect();
    // value → signatures holding it
    let mut holders: HashMap<&str, Vec<usize>> = HashMap::new();
    for (i, (set, _)) in sigs.iter().enumerate() {
        for h in set.iter() {
            holders.entry(h).or_default().push(i);
        }
    }
    let mut out = BTreeSet::new();
    for (set, repos) in &sigs {
        let lists: Vec<&Vec<usize>> = set.iter().filter_map(|h| holders.get(h)).collect();
        // A value every signature holds: this one agrees with everybody.
        if lists.iter().any(|l| l.len() == k) {
            continue;
        }
        let meeting: HashSet<usize> = lists.into_iter().flatten().copied().collect();
        if meeting.len() < k {
            out.extend(repos.iter().copied());
        }
    }
    out
}

/// Whether every value names the same `host:port` set (stops at the first difference).
fn same_addresses(entries: &[&EnvEntry]) -> bool {
    let mut first: Option<BTreeSet<String>> = None;
    for e in entries {
        let a = addresses(&e.display);
        match &first {
            None => first = Some(a),
            Some(f) if *f != a => return false,
            Some(_) => {}
        }
    }
    true
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
    reach: &Reaches<'_>,
) -> Option<Conflict> {
    let drifting = drifting_repositories(per_repo);
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
    let resolved: Vec<&BTreeSet<&str>> = drifting
        .iter()
        .flat_map(|repo| {
            per_repo
                .get(repo)
                .into_iter()
                .flatten()
                .map(|e| &reach.of(e).targets)
        })
        .collect();
    let same_service = resolved.iter().all(|r| r.len() == 1)
        && resolved.iter().collect::<BTreeSet<_>>().len() == 1;
    let same_server = is_url && (same_service || same_addresses(&entries));
    // Every value reaches a service, just not the same one: possibly deliberate (a migration,
    // one instance per team), worth a look but not a broken deployment.
    let all_resolve = resolved.iter().all(|r| !r.is_empty());
    let severity = if same_server {
        // One server, different database, user or password: often deliberate.
        Severity::Low
    } else if is_url && !all_resolve {
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
    } else if is_url && all_resolve {
        let targets: BTreeSet<&str> = resolved.iter().copied().flatten().copied().collect();
        message.push_str(&format!(
            " (each reaches a service: {} different ones)",
            targets.len()
        ));
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
