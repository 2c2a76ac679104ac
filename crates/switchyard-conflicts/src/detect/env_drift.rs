//! `env_drift`: one key with different values in repositories of one host and environment, for
//! keys that must agree (URLs/DSNs, keys of shared config repositories, or a configured list).

use super::Detector;
use super::index::{FleetIndex, and_list, finish};
use crate::{Conflict, ConflictKind, Occurrence, Severity};
use foldhash::{HashMap, HashMapExt, HashSet};
use std::collections::{BTreeMap, BTreeSet};
use switchyard_link::address;
use switchyard_model::redact::is_secret_key;
use switchyard_model::{Conventions, EnvEntry, Location, ServiceKind, Target};

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
pub(crate) fn glob(pattern: &str, text: &str) -> bool {
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

/// Whether a value is concrete enough to compare (not empty, not an unresolved `${VAR}`), and
/// meant to be: not a template's, not a secret (secrets differ per deployment on purpose).
pub(crate) fn comparable(e: &EnvEntry) -> bool {
    let d = e.display.trim();
    !d.is_empty() && !d.contains("${") && !is_template(&e.location.path) && !is_secret_key(&e.key)
}

/// Paths of a configuration repository's shared config.
fn is_shared_config_path(path: &str) -> bool {
    ["config/", "environments/", "env/"]
        .iter()
        .any(|dir| path.starts_with(dir) || path.contains(&format!("/{dir}")))
}

/// Whether a file is a dotenv file (`.env`, `.env.staging`, `web.env`).
fn is_dotenv(path: &str) -> bool {
    let name = path.rsplit('/').next().unwrap_or(path).to_ascii_lowercase();
    name.starts_with(".env") || name.ends_with(".env")
}

/// Whether a file is a template (`.env.example`, `config.sample.json`): documentation of the
/// keys, not a deployment.
/// A word of the file name (split at `.`, `-`, `_`) is `example`, `sample`, `template`,
/// `tmpl`, `tpl` or `dist`: `.env.example`, `config.sample.json`, `values-template.yaml`.
pub(crate) fn is_template(path: &str) -> bool {
    let name = path.rsplit('/').next().unwrap_or(path).to_ascii_lowercase();
    name.split(['.', '-', '_']).any(|word| {
        matches!(
            word,
            "example" | "sample" | "template" | "tmpl" | "tpl" | "dist"
        )
    })
}

/// The environment an environment word names (`prod` → `production`), or `None`.
pub(crate) fn environment_word(word: &str) -> Option<&'static str> {
    Some(match word.to_ascii_lowercase().as_str() {
        "dev" | "develop" | "development" => "development",
        "stage" | "staging" | "stg" => "staging",
        "prod" | "production" | "prd" | "live" => "production",
        "test" | "testing" => "test",
        "qa" => "qa",
        "uat" => "uat",
        "preview" => "preview",
        "local" => "local",
        "sandbox" => "sandbox",
        _ => return None,
    })
}

/// The environment a name stands for: the name itself or one of its parts (`shop-staging`).
pub(crate) fn environment_of_name(name: &str) -> Option<&'static str> {
    environment_word(name).or_else(|| name.split(['-', '_', '.']).find_map(environment_word))
}

/// The environment a file is for, by its name (`.env.staging`, `staging.json`,
/// `values-staging.yaml`, `docker-compose.prod.yml`) or else its nearest folder named after one
/// (`overlays/staging/`, `environments/prod/`).
pub(crate) fn file_environment(path: &str) -> Option<&'static str> {
    let mut parts = path.rsplit('/');
    let name = parts.next().unwrap_or(path).to_ascii_lowercase();
    let by_name = if let Some(rest) = name.strip_prefix(".env.") {
        rest.split('.').find_map(environment_word)
    } else {
        let stem = name
            .rsplit_once('.')
            .map_or(name.as_str(), |(stem, _)| stem);
        stem.split(['-', '_', '.']).find_map(environment_word)
    };
    by_name.or_else(|| parts.find_map(environment_word))
}

/// Where an entry is deployed, seen from a place whose environment is `place_env`: `None` when
/// it belongs to another environment (and is not compared here), else its label (`Some(None)`:
/// unlabelled, compared with every environment's files).
fn placed_label(
    fleet: &FleetIndex<'_>,
    repo: &str,
    e: &EnvEntry,
    place_env: Option<&'static str>,
) -> Option<Option<&'static str>> {
    let label = file_environment(&e.location.path).or_else(|| {
        // A Kubernetes namespace named after an environment (`shop-staging`).
        let service = fleet.service(repo, e.service.as_deref()?)?;
        service.scopes.iter().find_map(|s| match s {
            switchyard_model::Scope::Kubernetes { namespace } => environment_of_name(namespace),
            _ => None,
        })
    });
    match (place_env, label) {
        (Some(place), Some(l)) if l != place => None,
        (Some(place), _) => Some(Some(place)),
        (None, l) => Some(l),
    }
}

/// A comparable env entry of a repository with the environment its file is for.
#[derive(Clone, Copy)]
pub(crate) struct Labelled<'a> {
    pub repo: &'a str,
    pub e: &'a EnvEntry,
    pub label: Option<&'static str>,
}

impl EnvDriftDetector {
    fn ignores(&self, key: &str, conventions: &Conventions) -> bool {
        self.config.ignores(key) || conventions.ignore.iter().any(|p| glob(p, key))
    }

    /// Whether the values of `key` (in these repositories) must agree at all in one place.
    /// Keys named by `[conventions]` are compared fleet-wide instead.
    fn must_agree(
        &self,
        key: &str,
        list: &[Labelled<'_>],
        shared: &BTreeSet<&str>,
        config: &ConfigRepos<'_>,
        conventions: &Conventions,
    ) -> bool {
        let repos: BTreeSet<&str> = list.iter().map(|l| l.repo).collect();
        if repos.len() < 2 || self.ignores(key, conventions) || is_convention(key, conventions) {
            return false;
        }
        match self.config.lists(key) {
            Some(listed) => listed,
            None => {
                shared.contains(key)
                    || config.keys.contains(key)
                    || list.iter().any(|l| looks_like_url(&l.e.display))
            }
        }
    }
}

impl EnvDriftDetector {
    /// A shared configuration repository's files for environments other than the place's own
    /// (`environments/staging.env` where the repositories run as `development`) against the
    /// consumers' files for the same environment (`.env.staging`): both say what that
    /// environment gets, wherever the checkouts are. Only keys the configuration repository
    /// defines for that environment are compared.
    #[allow(clippy::too_many_arguments)]
    fn other_environments(
        &self,
        fleet: &FleetIndex<'_>,
        local: &LocalValues<'_, '_>,
        repos: &[&str],
        place: &Place<'_>,
        place_env: &'static str,
        config: &ConfigRepos<'_>,
        conventions: &Conventions,
    ) -> Vec<Conflict> {
        // (environment, key) the configuration repositories define for other environments
        let mut defined: BTreeSet<(&'static str, &str)> = BTreeSet::new();
        for facts in fleet.facts_of(repos) {
            if !config.repos.contains(facts.repository.as_str()) {
                continue;
            }
            for e in facts.env.iter().filter(|e| comparable(e)) {
                if let Some(l) = file_environment(&e.location.path).filter(|l| *l != place_env) {
                    defined.insert((l, e.key.as_str()));
                }
            }
        }
        if defined.is_empty() {
            return Vec::new();
        }
        let mut by_key: BTreeMap<(&'static str, &str), Vec<Labelled<'_>>> = BTreeMap::new();
        for facts in fleet.facts_of(repos) {
            let repo = facts.repository.as_str();
            for e in facts.env.iter().filter(|e| comparable(e)) {
                let Some(l) = file_environment(&e.location.path) else {
                    continue;
                };
                if defined.contains(&(l, e.key.as_str())) {
                    by_key
                        .entry((l, e.key.as_str()))
                        .or_default()
                        .push(Labelled {
                            repo,
                            e,
                            label: Some(l),
                        });
                }
            }
        }
        let shared = BTreeSet::new();
        let keys: HashSet<&str> = by_key.keys().map(|(_, k)| *k).collect();
        let reach = local.reach_all(repos, &keys);
        let mut out = Vec::new();
        for ((_, key), list) in by_key {
            if !self.must_agree(key, &list, &shared, config, conventions) {
                continue;
            }
            let list: Vec<Labelled<'_>> =
                list.into_iter().filter(|l| !reach.of(l.e).local).collect();
            out.extend(compare_key(place, key, &list, &reach, config));
        }
        out
    }
}

/// Whether `[conventions]` names the key (it is then compared fleet-wide).
fn is_convention(key: &str, conventions: &Conventions) -> bool {
    conventions.agree.iter().any(|p| glob(p, key))
        || conventions.values.iter().any(|v| glob(&v.key, key))
}

impl Detector for EnvDriftDetector {
    fn kind(&self) -> ConflictKind {
        ConflictKind::EnvDrift
    }

    fn detect_in(&self, fleet: &FleetIndex<'_>) -> Vec<Conflict> {
        let conventions = &fleet.input.model.conventions;
        let local = LocalValues::build(fleet);
        let mut out = Vec::new();
        for (&(host, env), repos) in fleet.by_place() {
            let place_env = environment_of_name(env);
            let shared = shared_config_keys(fleet, repos);
            let config = ConfigRepos::build(fleet, repos);
            // key → entries of every repository
            let mut by_key: HashMap<&str, Vec<Labelled<'_>>> = HashMap::new();
            for facts in fleet.facts_of(repos) {
                let repo = facts.repository.as_str();
                for e in facts.env.iter().filter(|e| comparable(e)) {
                    if let Some(label) = placed_label(fleet, repo, e, place_env) {
                        by_key
                            .entry(e.key.as_str())
                            .or_default()
                            .push(Labelled { repo, e, label });
                    }
                }
            }
            let mut keys: Vec<(&str, Vec<Labelled<'_>>)> = by_key
                .into_iter()
                .filter(|(key, list)| self.must_agree(key, list, &shared, &config, conventions))
                .collect();
            keys.sort_by(|a, b| a.0.cmp(b.0));
            let checked: HashSet<&str> = keys.iter().map(|(key, _)| *key).collect();
            let reach = local.reach_all(repos, &checked);
            let place = Place {
                host,
                env,
                scope: format!("on host {host}"),
                labelled: place_env.is_none(),
            };
            for (key, list) in keys {
                // A URL to the repository's own service (its own database) differs per
                // repository on purpose.
                let list: Vec<Labelled<'_>> =
                    list.into_iter().filter(|l| !reach.of(l.e).local).collect();
                out.extend(compare_key(&place, key, &list, &reach, &config));
            }
            out.extend(shared::volume_owner_drift(
                fleet,
                host,
                env,
                repos,
                conventions,
            ));
            if let Some(place_env) = place_env {
                out.extend(self.other_environments(
                    fleet,
                    &local,
                    repos,
                    &Place {
                        host,
                        env,
                        scope: format!("on host {host}"),
                        labelled: true,
                    },
                    place_env,
                    &config,
                    conventions,
                ));
            }
            let databases = shared::database_drift(fleet, host, env, repos, conventions);
            // A DSN drift that names the database the server lacks says more than the same
            // values compared as URLs.
            let named: HashSet<&Location> = databases
                .iter()
                .filter(|c| c.resource.ends_with(":name"))
                .flat_map(|c| c.occurrences.iter().map(|o| &o.location))
                .collect();
            out.retain(|c| {
                named.is_empty()
                    || !(c.resource.starts_with("env:")
                        && c.host == host
                        && c.environment == env
                        && c.occurrences.iter().all(|o| named.contains(&o.location)))
            });
            out.extend(databases);
        }
        out.extend(shared::convention_drift(fleet, conventions));
        finish(out)
    }
}

/// Where values are compared, for ids and messages.
pub(crate) struct Place<'p> {
    pub host: &'p str,
    pub env: &'p str,
    /// `on host local`, `in environment staging`.
    pub scope: String,
    /// Whether files for different environments are compared apart (the place itself names no
    /// environment).
    pub labelled: bool,
}

/// Drift of one key: per environment label when files name one (`.env.staging` with
/// `environments/staging.json`), else across all of them.
pub(crate) fn compare_key(
    place: &Place<'_>,
    key: &str,
    list: &[Labelled<'_>],
    reach: &Reaches<'_>,
    config: &ConfigRepos<'_>,
) -> Vec<Conflict> {
    let per_repo = |label: Option<&str>| {
        let mut m: BTreeMap<&str, Vec<&EnvEntry>> = BTreeMap::new();
        for l in list.iter().filter(|l| label.is_none() || l.label == label) {
            m.entry(l.repo).or_default().push(l.e);
        }
        m
    };
    if place.labelled {
        let labels: BTreeSet<&str> = list.iter().filter_map(|l| l.label).collect();
        let found: Vec<Conflict> = labels
            .into_iter()
            .filter_map(|label| {
                let per_repo = per_repo(Some(label));
                (per_repo.len() >= 2)
                    .then(|| drift(place, key, &per_repo, reach, Some(label), config))
                    .flatten()
            })
            .collect();
        if !found.is_empty() {
            return found;
        }
    }
    drift(place, key, &per_repo(None), reach, None, config)
        .into_iter()
        .collect()
}

/// Configuration repositories of a place: repositories that deploy nothing themselves (no
/// compose or Kubernetes service) and are named as configuration (`*-config`, `settings`) or
/// hold only config files (no `.env` of their own); and the keys their per-environment or
/// `config/` files define.
pub(crate) struct ConfigRepos<'a> {
    pub repos: BTreeSet<&'a str>,
    pub keys: BTreeSet<&'a str>,
}

impl<'a> ConfigRepos<'a> {
    fn build(fleet: &FleetIndex<'a>, repos: &[&'a str]) -> Self {
        let mut out = Self {
            repos: BTreeSet::new(),
            keys: BTreeSet::new(),
        };
        for facts in fleet.facts_of(repos) {
            let name = facts.repository.as_str();
            if fleet
                .services_of(std::slice::from_ref(&name))
                .any(|s| s.kind != ServiceKind::Application)
            {
                continue;
            }
            let named = name.to_ascii_lowercase().split(['-', '_', '.']).any(|w| {
                matches!(
                    w,
                    "config" | "configs" | "configuration" | "settings" | "env"
                )
            });
            // Per-environment dotenv files (`environments/staging.env`, `config/.env.staging`)
            // are config files like JSON or YAML ones; a `.env` of its own is not.
            let only_config_files = facts.env.iter().all(|e| {
                !is_dotenv(&e.location.path)
                    || is_shared_config_path(&e.location.path)
                        && file_environment(&e.location.path).is_some()
            }) && facts.services.is_empty();
            if !(named || only_config_files) {
                continue;
            }
            let mut any = false;
            for e in facts.env.iter().filter(|e| comparable(e)) {
                if file_environment(&e.location.path).is_some()
                    || is_shared_config_path(&e.location.path)
                {
                    out.keys.insert(e.key.as_str());
                    any = true;
                }
            }
            if any {
                out.repos.insert(name);
            }
        }
        out
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
pub(crate) struct Reaches<'a> {
    by_entry: HashMap<usize, Reach<'a>>,
}

fn entry_id(e: &EnvEntry) -> usize {
    std::ptr::from_ref(e) as usize
}

impl<'a> Reaches<'a> {
    /// No entry reaches anything (fleet-wide comparisons that do not resolve addresses).
    pub(crate) fn none() -> Self {
        Self {
            by_entry: HashMap::new(),
        }
    }

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

/// Distinct values of `entries` (by hash) with where each is first seen, for messages:
/// "`1000` in a/compose.yaml:12:7, `1001` in b/compose.yaml:9:7".
pub(crate) fn values_text(entries: &[(&str, &EnvEntry)]) -> String {
    let mut seen: BTreeSet<&str> = BTreeSet::new();
    let mut parts: Vec<String> = Vec::new();
    for (_, e) in entries {
        if seen.insert(e.value_hash.as_str()) {
            parts.push(format!("{} in {}", e.display, e.location));
        }
    }
    and_list(&parts)
}

fn drift(
    place: &Place<'_>,
    key: &str,
    per_repo: &BTreeMap<&str, Vec<&EnvEntry>>,
    reach: &Reaches<'_>,
    label: Option<&str>,
    config: &ConfigRepos<'_>,
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
    let mut pairs: Vec<(&str, &EnvEntry)> = Vec::new();
    for repo in &drifting {
        for e in per_repo.get(repo).into_iter().flatten() {
            pairs.push((repo, e));
        }
    }
    let occurrences: Vec<Occurrence> = pairs
        .iter()
        .map(|(repo, e)| Occurrence {
            repository: repo.to_string(),
            service: e.service.clone(),
            location: e.location.clone(),
            detail: format!("{key}={}", e.display),
        })
        .collect();
    let repos: Vec<&str> = drifting.iter().copied().collect();
    let files = label.map_or(String::new(), |l| format!(" in their {l} files"));
    let mut message = format!(
        "{key} has {} different values across {}{files} {}",
        distinct.len(),
        and_list(&repos),
        place.scope
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
    message.push_str(&format!(": {}", values_text(&pairs)));
    // A configuration repository's value is the reference the others follow.
    let configs: Vec<&str> = repos
        .iter()
        .copied()
        .filter(|r| config.repos.contains(r))
        .collect();
    match configs.as_slice() {
        [owner] if repos.len() > configs.len() => {
            let value = per_repo
                .get(owner)
                .and_then(|list| list.first())
                .map_or("", |e| e.display.as_str());
            message.push_str(&format!(
                "; set it to the shared configuration's value ({value} in {owner})"
            ));
        }
        _ => message.push_str("; make them agree"),
    }
    let resource = match label {
        Some(l) => format!("env:{key}@{l}"),
        None => format!("env:{key}"),
    };
    Some(Conflict::new(
        ConflictKind::EnvDrift,
        severity,
        place.host,
        place.env,
        resource,
        occurrences,
        message,
    ))
}

#[path = "env_drift_shared.rs"]
mod shared;

#[cfg(test)]
#[path = "env_drift_tests.rs"]
mod tests;
