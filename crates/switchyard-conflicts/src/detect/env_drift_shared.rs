//! Env drift between repositories that share a resource — containers writing one volume (the
//! user, group and umask they write with), services of one database (its name, user and host)
//! — and against the fleet-wide `[conventions]` of `switchyard.toml`.

use super::super::index::{FleetIndex, and_list};
use super::super::volumes::shared_identity;
use super::{
    Labelled, Place, Reaches, comparable, compare_key, environment_of_name, file_environment, glob,
    is_template, values_text,
};
use crate::{Conflict, ConflictKind, Occurrence, Severity};
use std::collections::{BTreeMap, BTreeSet};
use switchyard_link::address;
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
        let before = out.len();
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
        // Database names written in DSNs (`postgres://…@db:5432/shop`), when the keys did not
        // already say it.
        let named = out[before..]
            .iter()
            .any(|c| c.resource == format!("database:{db}:name"));
        if !named
            && let Some(server) = fleet.service_by_id(db)
            && let Some(c) = dsn_name_drift(fleet, host, env, server, &list, conventions)
        {
            out.push(c);
        }
    }
    out
}

/// The database a DSN names (`postgres://u:p@db:5432/shop?sslmode=disable` → `shop`), for the
/// schemes of the database servers whose creation variables are known; `None` for other URLs,
/// no path or an unresolved `${…}`.
pub(super) fn dsn_database(display: &str) -> Option<String> {
    let a = address::parse(display).into_iter().next()?;
    let scheme = a.scheme?.to_ascii_lowercase();
    let base = scheme.split(['+', ':']).next().unwrap_or("");
    if !matches!(
        base,
        "postgres" | "postgresql" | "postgis" | "mysql" | "mariadb" | "mongodb"
    ) {
        return None;
    }
    let path = a.path?;
    let name = path
        .trim_start_matches('/')
        .split(['/', '?', '#'])
        .next()
        .unwrap_or("");
    (!name.is_empty() && !name.contains(['$', '{', '*'])).then(|| name.to_string())
}

/// Env keys with which the official database images create a database at first start.
const CREATE_KEYS: [&str; 4] = [
    "POSTGRES_DB",
    "MYSQL_DATABASE",
    "MARIADB_DATABASE",
    "MONGO_INITDB_DATABASE",
];

/// The databases a server container is known to create (its `POSTGRES_DB`, `MYSQL_DATABASE`,
/// `MARIADB_DATABASE`, `MONGO_INITDB_DATABASE`), with where each is set, plus the databases
/// every server of its kind has (`postgres`, `mysql`, `admin`…). `None` when that is not known:
/// no such key, a `${…}` value, or init scripts mounted (they may create more).
fn created_databases<'a>(
    fleet: &FleetIndex<'a>,
    server: &Service,
) -> Option<(Vec<&'a EnvEntry>, BTreeSet<String>)> {
    let facts = fleet.facts(&server.repository)?;
    let init_scripts = facts.resources.iter().any(|r| {
        r.service.as_deref() == Some(server.name.as_str()) && {
            let id = r.identifier.to_ascii_lowercase();
            let last = id.trim_end_matches('/').rsplit('/').next().unwrap_or("");
            last.contains("init")
                || [".sql", ".sql.gz", ".sh", ".js"]
                    .iter()
                    .any(|ext| last.ends_with(ext))
        }
    });
    if init_scripts {
        return None;
    }
    let own: Vec<&EnvEntry> = facts
        .env
        .iter()
        .filter(|e| e.service.as_deref() == Some(server.name.as_str()))
        .collect();
    let create: Vec<&EnvEntry> = own
        .iter()
        .copied()
        .filter(|e| CREATE_KEYS.contains(&e.key.to_ascii_uppercase().as_str()))
        .collect();
    if create.is_empty()
        || create
            .iter()
            .any(|e| e.display.contains("${") || e.display.trim().is_empty())
    {
        return None;
    }
    let mut names: BTreeSet<String> = create
        .iter()
        .map(|e| e.display.trim().trim_matches(['"', '\'']).to_string())
        .collect();
    // The maintenance databases every server has.
    names.extend(
        ["postgres", "template1", "mysql", "admin", "local", "config"]
            .iter()
            .map(|s| s.to_string()),
    );
    Some((create, names))
}

/// Clients of one database server in two or more repositories whose DSNs name different
/// databases, at least one of which the server does not create: that client connects to a
/// database that does not exist (or, if its migrations create it, writes where the others do
/// not read). Quiet when what the server creates is unknown.
fn dsn_name_drift(
    fleet: &FleetIndex<'_>,
    host: &str,
    env: &str,
    server: &Service,
    clients: &[&Service],
    conventions: &Conventions,
) -> Option<Conflict> {
    // (repository, entry, database name) of every DSN that reaches the server.
    let mut uses: Vec<(&str, &EnvEntry, String)> = Vec::new();
    for s in clients {
        let Some(facts) = fleet.facts(&s.repository) else {
            continue;
        };
        for e in facts.env.iter().filter(|e| {
            e.service.as_deref() == Some(s.name.as_str())
                && comparable(e)
                && !conventions.ignore.iter().any(|p| glob(p, &e.key))
        }) {
            let Some(name) = dsn_database(&e.display) else {
                continue;
            };
            if fleet
                .targets_at(s, &e.location)
                .iter()
                .any(|t| t.id == server.id)
            {
                uses.push((s.repository.as_str(), e, name));
            }
        }
    }
    let names: BTreeSet<&str> = uses.iter().map(|(_, _, n)| n.as_str()).collect();
    let repos: BTreeSet<&str> = uses.iter().map(|(r, _, _)| *r).collect();
    if names.len() < 2 || repos.len() < 2 {
        return None;
    }
    let (create, created) = created_databases(fleet, server)?;
    let missing: Vec<&(&str, &EnvEntry, String)> = uses
        .iter()
        .filter(|(_, _, n)| !created.contains(n))
        .collect();
    if missing.is_empty() {
        return None;
    }
    let created_text = and_list(
        &create
            .iter()
            .map(|e| format!("{} ({} at {})", e.display.trim(), e.key, e.location))
            .collect::<Vec<_>>(),
    );
    let mut occurrences: Vec<Occurrence> = uses
        .iter()
        .map(|(repo, e, name)| Occurrence {
            repository: repo.to_string(),
            service: e.service.clone(),
            location: e.location.clone(),
            detail: format!("{} names database {name}", e.key),
        })
        .collect();
    occurrences.extend(create.iter().map(|e| Occurrence {
        repository: server.repository.clone(),
        service: Some(server.name.clone()),
        location: e.location.clone(),
        detail: format!(
            "{}={} creates database {}",
            e.key,
            e.display.trim(),
            e.display.trim()
        ),
    }));
    let used: Vec<String> = names
        .iter()
        .map(|n| {
            let at: Vec<String> = uses
                .iter()
                .filter(|(_, _, m)| m == n)
                .map(|(_, e, _)| format!("{}", e.location))
                .collect();
            format!("{n} in {}", and_list(&at))
        })
        .collect();
    let wrong: BTreeSet<String> = missing
        .iter()
        .map(|(repo, e, _)| {
            format!(
                "{} of {repo}/{} ({})",
                e.key,
                e.service.as_deref().unwrap_or(""),
                e.location
            )
        })
        .collect();
    let wrong: Vec<String> = wrong.into_iter().collect();
    let missing_names: BTreeSet<&str> = missing.iter().map(|(_, _, n)| n.as_str()).collect();
    let missing_names: Vec<&str> = missing_names.into_iter().collect();
    let first_created = create
        .first()
        .map(|e| e.display.trim().to_string())
        .unwrap_or_default();
    // MongoDB creates a database on its first write; the others refuse the connection.
    let mongo = create
        .iter()
        .any(|e| e.key.eq_ignore_ascii_case("MONGO_INITDB_DATABASE"));
    let consequence = if mongo {
        "a database nobody else reads (MongoDB creates it empty on the first write, so the data \
         is split)"
    } else {
        "a database that does not exist (the server refuses the connection unless its \
         migrations create it, and then it writes where the others do not read)"
    };
    let message = format!(
        "the database name in the DSNs of repositories that use {} differs on host {host}: {}; \
         {} creates only {created_text}, so {} {} {consequence}. Point {} at {first_created}, or \
         create {} on {} (an init script in /docker-entrypoint-initdb.d)",
        server.id,
        and_list(&used),
        server.id,
        and_list(&wrong),
        if wrong.len() == 1 { "uses" } else { "use" },
        and_list(&wrong),
        and_list(&missing_names),
        server.id,
    );
    Some(Conflict::new(
        ConflictKind::EnvDrift,
        Severity::Medium,
        host,
        env,
        format!("database:{}:name", server.id),
        occurrences,
        message,
    ))
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
