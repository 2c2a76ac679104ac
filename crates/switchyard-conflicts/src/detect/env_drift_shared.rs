//! Env drift between repositories that share a resource — containers writing one volume (the
//! user, group and umask they write with), services of one database (its name, user and host)
//! — and against the fleet-wide `[conventions]` of `switchyard.toml`.

use super::super::index::FleetIndex;
use super::super::volumes::shared_identity;
use super::{
    Labelled, Place, Reaches, comparable, compare_key, environment_of_name, file_environment, glob,
    is_template, values_text,
};
use crate::{Conflict, ConflictKind, Occurrence, Severity};
use std::collections::{BTreeMap, BTreeSet};
use switchyard_model::redact::{is_secret_key, redact_value};
use switchyard_model::{Conventions, EnvEntry, Service};

/// Keys naming the user, group and file mode a container writes with (linuxserver.io images'
/// `PUID`/`PGID`/`UMASK`, and the common spellings of the same).
const OWNER_KEYS: [&str; 10] = [
    "PUID",
    "PGID",
    "UID",
    "GID",
    "USER_ID",
    "GROUP_ID",
    "USER_UID",
    "USER_GID",
    "UMASK",
    "UMASK_SET",
];

/// A value as the container reads it: umasks as octal numbers (`022` = `0022`), the rest trimmed.
fn normalized(key: &str, display: &str) -> String {
    let v = display.trim().trim_matches(['"', '\'']);
    if key.to_ascii_uppercase().starts_with("UMASK")
        && let Ok(n) = u32::from_str_radix(v, 8)
    {
        return format!("{n:03o}");
    }
    v.to_string()
}

/// The env entries of one service of a repository for `key` (its compose `environment:`).
fn service_entries<'a>(
    fleet: &FleetIndex<'a>,
    repo: &str,
    service: &str,
    key: &str,
) -> Vec<&'a EnvEntry> {
    fleet
        .facts(repo)
        .map(|f| f.env.as_slice())
        .unwrap_or_default()
        .iter()
        .filter(|e| e.key == key && e.service.as_deref() == Some(service) && comparable(e))
        .collect()
}

/// One finding over the entries of a shared resource: `shared` says what they share (for the
/// message), `why` what goes wrong when they differ.
#[allow(clippy::too_many_arguments)]
fn finding(
    host: &str,
    env: &str,
    resource: String,
    severity: Severity,
    subject: &str,
    entries: &[(&str, &EnvEntry)],
    shared: &str,
    why: &str,
) -> Conflict {
    let occurrences: Vec<Occurrence> = entries
        .iter()
        .map(|(repo, e)| Occurrence {
            repository: repo.to_string(),
            service: e.service.clone(),
            location: e.location.clone(),
            detail: format!("{}={}", e.key, e.display),
        })
        .collect();
    let message = format!(
        "{subject} differs between repositories that {shared} on host {host}: {}; {why}",
        values_text(entries)
    );
    Conflict::new(
        ConflictKind::EnvDrift,
        severity,
        host,
        env,
        resource,
        occurrences,
        message,
    )
}

/// Containers of two or more repositories writing one volume or host path with different
/// `PUID`/`PGID`/`UMASK`: files one writes the other cannot change.
pub(super) fn volume_owner_drift(
    fleet: &FleetIndex<'_>,
    host: &str,
    env: &str,
    repos: &[&str],
    conventions: &Conventions,
) -> Vec<Conflict> {
    // identity → writers (repository, service)
    let mut writers: BTreeMap<String, BTreeSet<(&str, &str)>> = BTreeMap::new();
    for facts in fleet.facts_of(repos) {
        for r in facts.resources.iter().filter(|r| !r.read_only) {
            let Some(service) = r.service.as_deref() else {
                continue;
            };
            if fleet
                .service(&facts.repository, service)
                .is_none_or(|s| s.test_harness)
            {
                continue;
            }
            if let Some(id) = shared_identity(r) {
                writers
                    .entry(id)
                    .or_default()
                    .insert((facts.repository.as_str(), service));
            }
        }
    }
    let mut out = Vec::new();
    for (identity, ws) in writers {
        if ws.iter().map(|(r, _)| r).collect::<BTreeSet<_>>().len() < 2 {
            continue;
        }
        for key in OWNER_KEYS {
            if conventions.agree.iter().any(|p| glob(p, key))
                || conventions.ignore.iter().any(|p| glob(p, key))
            {
                continue;
            }
            let entries: Vec<(&str, &EnvEntry)> = ws
                .iter()
                .flat_map(|(repo, service)| {
                    service_entries(fleet, repo, service, key)
                        .into_iter()
                        .map(move |e| (*repo, e))
                })
                .collect();
            let values: BTreeSet<String> = entries
                .iter()
                .map(|(_, e)| normalized(key, &e.display))
                .collect();
            let repos_with: BTreeSet<&str> = entries.iter().map(|(r, _)| *r).collect();
            if values.len() < 2 || repos_with.len() < 2 {
                continue;
            }
            let why = if key.starts_with("UMASK") {
                "files one creates may not be writable by the other; make them agree"
            } else {
                "files one writes belong to an id the other cannot change; make them agree"
            };
            out.push(finding(
                host,
                env,
                format!("env:{key}:{identity}"),
                Severity::Medium,
                key,
                &entries,
                &format!("write {identity}"),
                why,
            ));
        }
    }
    out
}

/// Image or service names of database servers.
const DATABASE_WORDS: [&str; 12] = [
    "postgres",
    "postgresql",
    "postgis",
    "timescaledb",
    "mysql",
    "mariadb",
    "mongo",
    "mongodb",
    "percona",
    "cockroachdb",
    "mssql",
    "sqlserver",
];

fn is_database(s: &Service) -> bool {
    let words = |t: &str| {
        t.to_ascii_lowercase()
            .split(['/', ':', '-', '_', '.', '@'])
            .any(|w| DATABASE_WORDS.contains(&w))
    };
    s.image.as_deref().is_some_and(words) || words(&s.name)
}

/// What a database key names, or `None`: `DB_HOST`/`PGHOST` → host, `POSTGRES_DB`/`DB_NAME`
/// → name, `DB_USER`/`MYSQL_USER` → user.
fn database_role(key: &str) -> Option<&'static str> {
    let upper = key.to_ascii_uppercase();
    match upper.as_str() {
        "PGHOST" => return Some("host"),
        "PGDATABASE" => return Some("name"),
        "PGUSER" => return Some("user"),
        _ => {}
    }
    let words: Vec<&str> = upper.split('_').filter(|w| !w.is_empty()).collect();
    let (first, last) = (words.first()?, words.last()?);
    if words.len() < 2
        || !matches!(
            *first,
            "DB" | "DATABASE"
                | "POSTGRES"
                | "POSTGRESQL"
                | "PG"
                | "MYSQL"
                | "MARIADB"
                | "MONGO"
                | "MONGODB"
        )
    {
        return None;
    }
    match *last {
        "HOST" | "HOSTNAME" | "SERVER" => Some("host"),
        "NAME" | "DB" | "DATABASE" | "DBNAME" => Some("name"),
        "USER" | "USERNAME" => Some("user"),
        _ => None,
    }
}

/// Services of two or more repositories that reach one database server with a different
/// database name, user or host.
pub(super) fn database_drift(
    fleet: &FleetIndex<'_>,
    host: &str,
    env: &str,
    repos: &[&str],
    conventions: &Conventions,
) -> Vec<Conflict> {
    // database service id → its clients
    let mut clients: BTreeMap<&str, Vec<&Service>> = BTreeMap::new();
    for s in fleet.services_of(repos).filter(|s| !s.test_harness) {
        let mut seen = BTreeSet::new();
        for e in fleet.edges_from(s) {
            if let Some(db) = fleet.service_by_id(&e.to)
                && is_database(db)
                && seen.insert(db.id.as_str())
            {
                clients.entry(db.id.as_str()).or_default().push(s);
            }
        }
    }
    let mut out = Vec::new();
    for (db, list) in clients {
        if list
            .iter()
            .map(|s| &s.repository)
            .collect::<BTreeSet<_>>()
            .len()
            < 2
        {
            continue;
        }
        for role in ["host", "name", "user"] {
            let mut entries: Vec<(&str, &EnvEntry)> = Vec::new();
            let mut elsewhere = false;
            for s in &list {
                let Some(facts) = fleet.facts(&s.repository) else {
                    continue;
                };
                for e in facts.env.iter().filter(|e| {
                    e.service.as_deref() == Some(s.name.as_str())
                        && comparable(e)
                        && database_role(&e.key) == Some(role)
                        && !conventions.ignore.iter().any(|p| glob(p, &e.key))
                }) {
                    if role == "host"
                        && !fleet.targets_at(s, &e.location).iter().any(|t| t.id == db)
                    {
                        elsewhere = true;
                    }
                    entries.push((s.repository.as_str(), e));
                }
            }
            // Two names of the server itself (`db`, `postgres`) that both reach it agree.
            if role == "host" && !elsewhere {
                continue;
            }
            let values: BTreeSet<&str> = entries.iter().map(|(_, e)| e.display.trim()).collect();
            let repos_with: BTreeSet<&str> = entries.iter().map(|(r, _)| *r).collect();
            if values.len() < 2 || repos_with.len() < 2 {
                continue;
            }
            let (severity, why) = match role {
                "host" => (
                    Severity::Medium,
                    "one of them talks to another server; make them agree".to_string(),
                ),
                _ => (
                    Severity::Low,
                    "if they share one database make them agree; if each has its own on that \
                     server, add the keys to `[conventions] ignore`"
                        .to_string(),
                ),
            };
            out.push(finding(
                host,
                env,
                format!("database:{db}:{role}"),
                severity,
                &format!("the database {role}"),
                &entries,
                &format!("use {db}"),
                &why,
            ));
        }
    }
    out
}

/// `[conventions]`: `values` every repository must use, and `agree` keys compared across every
/// host of an environment.
pub(super) fn convention_drift(fleet: &FleetIndex<'_>, conventions: &Conventions) -> Vec<Conflict> {
    if conventions.is_empty() {
        return Vec::new();
    }
    let mut out = Vec::new();
    for (&env, repos) in fleet.by_environment() {
        // Every concrete entry of the environment (templates and unresolved values aside).
        let entries: Vec<(&str, &EnvEntry)> = fleet
            .facts_of(repos)
            .flat_map(|f| f.env.iter().map(move |e| (f.repository.as_str(), e)))
            .filter(|(_, e)| {
                let d = e.display.trim();
                !d.is_empty() && !d.contains("${") && !is_template(&e.location.path)
            })
            .collect();
        for v in &conventions.values {
            let expected_hash = blake3::hash(v.value.as_bytes()).to_hex().to_string();
            let secret = is_secret_key(&v.key);
            let wrong: Vec<(&str, &EnvEntry)> = entries
                .iter()
                .filter(|(_, e)| glob(&v.key, &e.key))
                .filter(|(_, e)| {
                    e.value_hash != expected_hash
                        && (secret
                            || is_secret_key(&e.key)
                            || normalized(&e.key, &e.display) != normalized(&e.key, &v.value))
                })
                .copied()
                .collect();
            if wrong.is_empty() {
                continue;
            }
            let expected = redact_value(&v.key, &v.value);
            let occurrences: Vec<Occurrence> = wrong
                .iter()
                .map(|(repo, e)| Occurrence {
                    repository: repo.to_string(),
                    service: e.service.clone(),
                    location: e.location.clone(),
                    detail: format!("{}={}", e.key, e.display),
                })
                .collect();
            let hosts = hosts_of(fleet, &wrong);
            out.push(Conflict::new(
                ConflictKind::EnvDrift,
                Severity::Medium,
                &hosts,
                env,
                format!("convention:{}", v.key),
                occurrences,
                format!(
                    "{} must be {expected} (switchyard.toml:{} [conventions.values]) but is {}; \
                     set it to {expected}",
                    v.key,
                    v.line,
                    values_text(&wrong)
                ),
            ));
        }
        if conventions.agree.is_empty() {
            continue;
        }
        let place_env = environment_of_name(env);
        let mut by_key: BTreeMap<&str, Vec<Labelled<'_>>> = BTreeMap::new();
        for (repo, e) in &entries {
            if !conventions.agree.iter().any(|p| glob(p, &e.key))
                || conventions.ignore.iter().any(|p| glob(p, &e.key))
                || is_secret_key(&e.key)
            {
                continue;
            }
            let label = file_environment(&e.location.path);
            if let (Some(place), Some(l)) = (place_env, label)
                && place != l
            {
                continue;
            }
            by_key.entry(&e.key).or_default().push(Labelled {
                repo,
                e,
                label: place_env.or(label),
            });
        }
        let config = super::ConfigRepos {
            repos: BTreeSet::new(),
            keys: BTreeSet::new(),
        };
        for (key, list) in by_key {
            let pairs: Vec<(&str, &EnvEntry)> = list.iter().map(|l| (l.repo, l.e)).collect();
            let hosts = hosts_of(fleet, &pairs);
            let place = Place {
                host: &hosts,
                env,
                scope: format!("in environment {env} (switchyard.toml [conventions] agree)"),
                labelled: place_env.is_none(),
            };
            for mut c in compare_key(&place, key, &list, &Reaches::none(), &config) {
                c.severity = Severity::Medium;
                c.resource = c.resource.replacen("env:", "convention:", 1);
                c.id = crate::conflict_id(
                    c.kind,
                    &c.host,
                    &c.environment,
                    &c.resource,
                    &c.repositories,
                );
                out.push(c);
            }
        }
    }
    out
}

/// The hosts of the repositories of some entries, joined by `,`.
fn hosts_of(fleet: &FleetIndex<'_>, entries: &[(&str, &EnvEntry)]) -> String {
    let hosts: BTreeSet<&str> = entries.iter().map(|(r, _)| fleet.place(r).0).collect();
    hosts.into_iter().collect::<Vec<_>>().join(",")
}
