//! `cors_missing_origin`: a browser frontend (dev server port or domain) calls a backend whose
//! CORS allow-list (`CORS_ORIGINS`, `ALLOWED_ORIGINS`, `cors.origin`…) does not include the
//! frontend's origin, in the same environment.
//!
//! Both sides are inferred per environment: a frontend's origins come from its dev server
//! (`http://localhost:<port>`: scripts, bundler configs, `angular.json`; `vite preview`), its
//! published ports and the domains routed to it (nginx, Traefik, Ingress), and the URL it is
//! deployed at (`homepage`, `PUBLIC_URL`). A backend's allow-lists come from its env (`.env`,
//! compose, Kubernetes) and config files. The environment of each value is read from its file
//! (`.env.staging`, `config/production.json`, `overlays/prod/`), its repository's
//! `switchyard.toml` environment or its Kubernetes namespace (`shop-staging`); values of two different environments are never compared, and
//! templates (`.env.example`) are never read as settings.

use super::Detector;
use super::env_drift::is_template;
use super::index::{DEFAULT_ENVIRONMENT, FleetIndex, and_list, finish};
use super::reach::{address_text, ambiguous_calls, is_websocket};
use crate::{Conflict, ConflictKind, Occurrence, Severity};
use std::collections::{BTreeMap, HashMap};
use switchyard_link::address::{self, is_loopback};
use switchyard_model::{
    EndpointKind, EnvEntry, Location, Mechanism, Reference, Scope, Service, ServiceKind,
};

pub struct CorsDetector;

/// Env prefixes a bundler exposes to browser code: values under them are called from the page.
const BROWSER_PREFIXES: [&str; 12] = [
    "REACT_APP_",
    "VITE_",
    "NEXT_PUBLIC_",
    "VUE_APP_",
    "NG_APP_",
    "NX_PUBLIC_",
    "PUBLIC_",
    "EXPO_PUBLIC_",
    "GATSBY_",
    "NUXT_PUBLIC_",
    "STORYBOOK_",
    "SNOWPACK_PUBLIC_",
];

/// Dev servers that expose only prefixed env keys to the page (`VITE_*`, `REACT_APP_*`…): an
/// unprefixed key of their apps is read by build tooling or server code, never the browser.
const PREFIX_ONLY_SERVERS: [&str; 11] = [
    "vite",
    "react-scripts",
    "craco",
    "react-app-rewired",
    "next",
    "nuxt",
    "nuxi",
    "astro",
    "vue-cli-service",
    "expo",
    "gatsby",
];

/// One entry of an allow-list.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Allowed {
    /// `*`, or a pattern we cannot judge (a regex): allows everything.
    Any,
    Origin {
        host: String,
        port: Option<u16>,
    },
    /// `https://*.example.com`: any subdomain.
    Suffix(String),
}

/// A page origin of a frontend.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum Origin {
    /// `http://HOST:PORT` on the developer's machine: a dev server or a published container
    /// port. The host is the one the dev server binds (`server.host: '127.0.0.1'`), else
    /// `localhost`, which people open. Browsers treat `localhost` and `127.0.0.1` as different
    /// origins.
    Local { host: String, port: u16 },
    /// A deployed domain; `secure` unless the app's own URL says `http://`.
    Domain { host: String, secure: bool },
}

impl Origin {
    fn text(&self) -> String {
        match self {
            Origin::Local { host, port } => format!("http://{host}:{port}"),
            Origin::Domain { host, secure } => {
                format!("{}://{host}", if *secure { "https" } else { "http" })
            }
        }
    }

    fn allowed_by(&self, entry: &Allowed) -> bool {
        match (self, entry) {
            (_, Allowed::Any) => true,
            (Origin::Local { host: h, port: p }, Allowed::Origin { host, port }) => {
                bare_host(host) == bare_host(h) && *port == Some(*p)
            }
            (Origin::Domain { host: d, .. }, Allowed::Origin { host, .. }) => host == d,
            (Origin::Domain { host: d, .. }, Allowed::Suffix(s)) => d.ends_with(&format!(".{s}")),
            (Origin::Local { .. }, Allowed::Suffix(_)) => false,
        }
    }

    /// Whether a call to `text` stays on this origin (a dev-server proxy path, an nginx
    /// `location /api` of the same domain): the same origin needs no CORS.
    fn same_origin_as(&self, text: &str) -> bool {
        let Some(a) = address::parse(text).into_iter().next() else {
            return false;
        };
        match self {
            Origin::Local { port, .. } => is_loopback(&a.host) && a.port == Some(*port),
            Origin::Domain { host, .. } => a.host.eq_ignore_ascii_case(host),
        }
    }
}

/// `localhost` at a port.
fn localhost(port: u16) -> Origin {
    Origin::Local {
        host: "localhost".to_string(),
        port,
    }
}

/// A host without the brackets of an IPv6 literal: `[::1]` → `::1`.
fn bare_host(host: &str) -> &str {
    host.trim_start_matches('[').trim_end_matches(']')
}

/// The host of the page a dev server bound to `bind` serves, as the browser's address bar
/// shows it: every interface (`0.0.0.0`, `::`, vite's `host: true`) is opened as `localhost`;
/// webpack's `local-ip` names are not known here, so `localhost` too.
fn page_host(bind: &str) -> String {
    let b = bind.trim().trim_matches(['"', '\'']).to_ascii_lowercase();
    match bare_host(&b) {
        "" | "0.0.0.0" | "::" | "*" | "true" | "localhost" | "local-ip" | "local-ipv4"
        | "local-ipv6" => "localhost".to_string(),
        h if h.contains(':') => format!("[{h}]"),
        h if h.contains(['$', '{', ' ', '/']) => "localhost".to_string(),
        h => h.to_string(),
    }
}

/// The environment a value belongs to: named by its file (`.env.staging`,
/// `config/production.json`, `overlays/prod/…`) or its repository, or none (applies to all).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Stage {
    Any,
    Named(&'static str),
    /// A template (`.env.example`): documents settings, sets none.
    Template,
}

impl Stage {
    fn fits(self, other: Stage) -> bool {
        match (self, other) {
            (Stage::Template, _) | (_, Stage::Template) => false,
            (Stage::Any, _) | (_, Stage::Any) => true,
            (a, b) => a == b,
        }
    }

    /// The more specific of two fitting stages.
    fn and(self, other: Stage) -> Stage {
        if self == Stage::Any { other } else { self }
    }
}

/// The environment a word names: `prod` and `production` are one.
fn stage_word(word: &str) -> Option<&'static str> {
    Some(match word {
        "dev" | "develop" | "development" => "development",
        "stage" | "staging" => "staging",
        "prod" | "production" | "live" => "production",
        "test" | "testing" => "test",
        "qa" => "qa",
        "uat" => "uat",
        _ => return None,
    })
}

/// The stage of a repo path: a template by its file name, else the first environment word of
/// the file name, then of its folders from the nearest; `repo` when none names one.
fn stage_of(path: &str, repo: Stage) -> Stage {
    let lower = path.to_ascii_lowercase();
    let mut parts = lower.rsplit('/');
    let name = parts.next().unwrap_or("");
    let words = |s: &str| -> Vec<String> {
        s.split(['.', '_', '-'])
            .filter(|w| !w.is_empty())
            .map(str::to_string)
            .collect()
    };
    if is_template(name) {
        return Stage::Template;
    }
    let name_words = words(name);
    name_words
        .iter()
        .chain(parts.flat_map(words).collect::<Vec<_>>().iter())
        .find_map(|w| stage_word(w))
        .map_or(repo, Stage::Named)
}

/// Parses an allow-list value; `None` when the value is not a list of origins (`true`, `3600`).
fn allow_list(display: &str) -> Option<Vec<Allowed>> {
    if display.contains("***") {
        return None;
    }
    let mut out = Vec::new();
    for token in display
        .split([',', ';', ' ', '\t', '\n', '[', ']', '"', '\''])
        .map(str::trim)
        .filter(|t| !t.is_empty())
    {
        let token = token.trim_end_matches('/');
        if token == "*" {
            out.push(Allowed::Any);
        } else if token.starts_with('/') || token.starts_with('^') || token.contains('\\') {
            // A regular expression: we cannot tell what it allows.
            out.push(Allowed::Any);
        } else if let Some(rest) = token
            .split_once("://")
            .map_or(Some(token), |(_, r)| Some(r))
            .and_then(|r| r.strip_prefix("*."))
        {
            out.push(Allowed::Suffix(
                rest.split([':', '/'])
                    .next()
                    .unwrap_or("")
                    .to_ascii_lowercase(),
            ));
        } else if (token.contains("://") || token.contains(['.', ':']))
            && let Some(a) = address::parse(token).into_iter().next()
        {
            out.push(Allowed::Origin {
                host: a.host.to_ascii_lowercase(),
                port: a.port,
            });
        }
    }
    (!out.is_empty()).then_some(out)
}

fn is_cors_key(key: &str) -> bool {
    let k = key.to_ascii_uppercase();
    (k.contains("CORS") || k.contains("ORIGIN"))
        && !["METHOD", "HEADER", "CREDENTIAL", "AGE", "EXPOSE", "ENABLE"]
            .iter()
            .any(|w| k.contains(w))
}

fn is_browser_key(key: &str) -> bool {
    let k = key.to_ascii_uppercase();
    BROWSER_PREFIXES.iter().any(|p| k.starts_with(p))
}

/// A port a dev server listens on, declared in a bundler or Angular/Nx config.
fn is_dev_server_config(location: &Location) -> bool {
    let name = location.path.rsplit('/').next().unwrap_or("");
    name.contains(".config.") || name == "angular.json" || name == "project.json"
}

/// A value of `package.json` (a script's port, `homepage`).
fn is_package_script(location: &Location) -> bool {
    location.path.rsplit('/').next() == Some("package.json")
}

/// One page origin of a frontend, where it was inferred and in which environment.
#[derive(Debug, Clone)]
struct PageOrigin<'a> {
    origin: Origin,
    stage: Stage,
    location: &'a Location,
    /// How the origin was inferred (`dev server`, `vite preview`, `homepage`…).
    how: &'static str,
    /// Where the dev server's host is set, when it is (`server.host`, `--host`).
    bound_at: Option<&'a Location>,
}

impl PageOrigin<'_> {
    /// Whether the occurrence's detail says how (the dev server and domains speak for
    /// themselves at their location).
    fn says_how(&self) -> bool {
        matches!(self.how, "vite preview" | "homepage" | "PUBLIC_URL")
    }
}

/// What the fleet says about one frontend: its page origins and how its bundler exposes env.
struct Frontend<'a> {
    origins: Vec<PageOrigin<'a>>,
    /// It runs a frontend dev server or bundler: its URL config values are called by the page.
    browser_app: bool,
    /// Only prefixed env keys reach the page (vite, CRA, Next…).
    prefix_only: bool,
}

fn frontend<'a>(fleet: &FleetIndex<'a>, front: &'a Service, repo_stage: Stage) -> Frontend<'a> {
    let mut origins: Vec<PageOrigin<'a>> = Vec::new();
    let mut push = |origin: Origin,
                    stage: Stage,
                    location: &'a Location,
                    how,
                    bound_at: Option<&'a Location>| {
        if stage != Stage::Template && !origins.iter().any(|o| o.origin == origin) {
            origins.push(PageOrigin {
                origin,
                stage,
                location,
                how,
                bound_at,
            });
        }
    };
    let mut server: Option<&str> = None;
    let mut has_scripts_server = false;
    let binds = dev_server_hosts(fleet, front);
    for e in &front.endpoints {
        match &e.kind {
            EndpointKind::HostProcessPort { port } => {
                let dev = is_dev_server_config(&e.location) || is_package_script(&e.location);
                let bound = if dev {
                    bind_for(&binds, &e.location)
                } else {
                    None
                };
                // A dev server runs in development, unless the repository is said to be
                // checked out for one environment (`switchyard.toml`).
                let (stage, how) = if dev {
                    let dev_stage = match repo_stage {
                        Stage::Named(_) => repo_stage,
                        _ => Stage::Named("development"),
                    };
                    (dev_stage, "dev server")
                } else {
                    (stage_of(&e.location.path, repo_stage), "listen port")
                };
                let origin = match bound {
                    Some(b) => Origin::Local {
                        host: page_host(&b.display),
                        port: *port,
                    },
                    None => localhost(*port),
                };
                push(origin, stage, &e.location, how, bound.map(|b| &b.location));
            }
            EndpointKind::HostPort { start, .. } => push(
                localhost(*start),
                stage_of(&e.location.path, repo_stage),
                &e.location,
                "published port",
                None,
            ),
            EndpointKind::Domain { host, .. } if !host.starts_with('*') && host != "_" => push(
                Origin::Domain {
                    host: host.trim_end_matches('.').to_ascii_lowercase(),
                    secure: true,
                },
                stage_of(&e.location.path, repo_stage),
                &e.location,
                "domain",
                None,
            ),
            _ => {}
        }
    }
    for e in own_env(fleet, front) {
        let key = e.key.as_str();
        if let Some(name) = key.strip_prefix("scripts.")
            && !name.is_empty()
            && is_package_script(&e.location)
        {
            has_scripts_server = true;
            server = server.or(Some(e.display.as_str()));
            continue;
        }
        match key {
            "PREVIEW_PORT" => {
                if let Ok(port) = e.display.trim().parse::<u16>() {
                    // `vite preview` serves the production build.
                    push(
                        localhost(port),
                        Stage::Named("production"),
                        &e.location,
                        "vite preview",
                        None,
                    );
                }
            }
            "PUBLIC_URL" => {
                let Some(a) = address::parse(&e.display).into_iter().next() else {
                    continue;
                };
                if is_loopback(&a.host) || !e.display.contains("://") {
                    continue;
                }
                // package.json `homepage` (recorded as `PUBLIC_URL`): the production build's.
                let homepage = is_package_script(&e.location);
                let stage = if homepage {
                    Stage::Named("production")
                } else {
                    stage_of(&e.location.path, repo_stage)
                };
                push(
                    Origin::Domain {
                        host: a.host.to_ascii_lowercase(),
                        secure: !e.display.trim().starts_with("http://"),
                    },
                    stage,
                    &e.location,
                    if homepage { "homepage" } else { "PUBLIC_URL" },
                    None,
                );
            }
            _ => {}
        }
    }
    origins.sort_by(|a, b| a.origin.cmp(&b.origin));
    let bundler_config = front.endpoints.iter().any(|e| {
        matches!(e.kind, EndpointKind::HostProcessPort { .. }) && is_dev_server_config(&e.location)
    });
    let federation = front.kind == ServiceKind::Federation;
    Frontend {
        origins,
        browser_app: federation || bundler_config || has_scripts_server,
        prefix_only: !federation
            && !bundler_config
            && server.is_some_and(|s| PREFIX_ONLY_SERVERS.contains(&s)),
    }
}

/// The hosts a frontend's dev servers bind (`HOST` settings read from a bundler config,
/// `angular.json` or a package.json script), in that order of weight: a script's `--host`
/// overrides the config file, as the command line does.
fn dev_server_hosts<'a>(fleet: &FleetIndex<'a>, front: &'a Service) -> Vec<&'a EnvEntry> {
    // Create React App's dev server binds `HOST` from the environment and its dev `.env` files.
    let reads_env = own_env(fleet, front).any(|e| {
        e.key.starts_with("scripts.")
            && is_package_script(&e.location)
            && HOST_ENV_SERVERS.contains(&e.display.as_str())
    });
    let rank = |e: &EnvEntry| {
        if is_package_script(&e.location) {
            0
        } else if is_dev_env_file(&e.location) {
            1
        } else {
            2
        }
    };
    let mut hosts: Vec<&'a EnvEntry> = own_env(fleet, front)
        .filter(|e| e.key == "HOST")
        .filter(|e| {
            is_dev_server_config(&e.location)
                || is_package_script(&e.location)
                || (reads_env && is_dev_env_file(&e.location))
        })
        .collect();
    hosts.sort_by_key(|e| rank(e));
    hosts
}

/// Dev servers that bind the `HOST` of their environment (`.env`, `HOST=… react-scripts start`).
const HOST_ENV_SERVERS: [&str; 3] = ["react-scripts", "craco", "react-app-rewired"];

/// An `.env` file a dev server reads: `.env`, `.env.local`, `.env.development[.local]`.
fn is_dev_env_file(location: &Location) -> bool {
    matches!(
        location.path.rsplit('/').next(),
        Some(".env" | ".env.local" | ".env.development" | ".env.development.local")
    )
}

/// The host binding that applies to a dev-server port written at `port_at`: a script's, else
/// one of the same folder's config (the port's own file first).
fn bind_for<'a>(binds: &[&'a EnvEntry], port_at: &Location) -> Option<&'a EnvEntry> {
    let dir = |l: &Location| l.path.rsplit_once('/').map_or("", |(d, _)| d).to_string();
    binds
        .iter()
        .copied()
        .filter(|b| dir(&b.location) == dir(port_at))
        .find(|b| is_package_script(&b.location) || b.location.path == port_at.path)
        .or_else(|| {
            binds
                .iter()
                .copied()
                .find(|b| dir(&b.location) == dir(port_at))
        })
}

/// The env entries of a service (its repository's entries attributed to it).
fn own_env<'a>(fleet: &FleetIndex<'a>, service: &'a Service) -> impl Iterator<Item = &'a EnvEntry> {
    fleet
        .facts(&service.repository)
        .map(|f| f.env.as_slice())
        .unwrap_or_default()
        .iter()
        .filter(move |e| e.service.as_deref() == Some(service.name.as_str()))
}

/// The environment a service runs in when its files do not say: its repository's
/// `switchyard.toml` environment, else its one Kubernetes namespace (`shop-staging`).
fn service_stage(fleet: &FleetIndex<'_>, service: &Service) -> Stage {
    let (_, env) = fleet.place(&service.repository);
    if let Some(stage) = stage_word(&env.to_ascii_lowercase()) {
        return Stage::Named(stage);
    }
    let mut namespaces = service.scopes.iter().map(|s| match s {
        Scope::Kubernetes { namespace } => Some(namespace.to_ascii_lowercase()),
        _ => None,
    });
    match (namespaces.next(), namespaces.next()) {
        (Some(Some(namespace)), None) => namespace
            .split(['-', '_', '.'])
            .find_map(stage_word)
            .map_or(Stage::Any, Stage::Named),
        _ => Stage::Any,
    }
}

/// One allow-list of a backend.
struct AllowList<'a> {
    entry: &'a EnvEntry,
    items: Vec<Allowed>,
    stage: Stage,
}

impl AllowList<'_> {
    fn has_local(&self) -> bool {
        self.items
            .iter()
            .any(|a| matches!(a, Allowed::Origin { host, .. } if is_loopback(host)))
    }

    fn has_domain(&self) -> bool {
        self.items.iter().any(|a| match a {
            Allowed::Origin { host, .. } => !is_loopback(host),
            Allowed::Suffix(_) => true,
            Allowed::Any => false,
        })
    }

    /// `repo/path:line`, where the fix goes.
    fn place(&self) -> String {
        let l = &self.entry.location;
        format!("{}/{}:{}", l.repository, l.path, l.line)
    }
}

impl Detector for CorsDetector {
    fn kind(&self) -> ConflictKind {
        ConflictKind::CorsMissingOrigin
    }

    fn detect_in(&self, fleet: &FleetIndex<'_>) -> Vec<Conflict> {
        let backends = allow_lists(fleet);
        if backends.is_empty() {
            return Vec::new();
        }
        let mut groups: BTreeMap<Key<'_>, Group> = BTreeMap::new();
        // (caller, backend, where the calls are written): the edges, and calls two services
        // answer to (one host port published twice) of which only one holds an allow-list.
        let mut links: Vec<(&Service, &Service, Vec<&Location>)> = Vec::new();
        for edge in &fleet.input.model.edges {
            if let (Some(front), Some(back)) = (
                fleet.service_by_id(&edge.from),
                fleet.service_by_id(&edge.to),
            ) {
                links.push((front, back, edge.evidence.iter().collect()));
            }
        }
        for call in ambiguous_calls(fleet) {
            let mut holders = call
                .candidates
                .iter()
                .filter(|c| backends.contains_key(c.id.as_str()));
            if let (Some(back), None) = (holders.next(), holders.next()) {
                links.push((call.from, back, vec![&call.reference.location]));
            }
        }
        for (front, back, evidence) in links {
            let Some(lists) = backends.get(back.id.as_str()) else {
                continue;
            };
            let (host, env) = fleet.place(&front.repository);
            let (_, back_env) = fleet.place(&back.repository);
            // Repositories of two environments (`switchyard.toml`) never talk to each other.
            if env != back_env && env != DEFAULT_ENVIRONMENT && back_env != DEFAULT_ENVIRONMENT {
                continue;
            }
            let front_stage = service_stage(fleet, front);
            let app = frontend(fleet, front, front_stage);
            // References the page makes: browser keys or a frontend's URLs, not proxies nor
            // WebSockets (browsers apply no CORS to those).
            let calls: Vec<(&Reference, Stage)> = evidence
                .iter()
                .flat_map(|l| fleet.references_at(&front.repository, Some(&front.name), l))
                .filter(|r| matches!(r.mechanism, Mechanism::Env | Mechanism::Url))
                .filter(|r| {
                    r.key
                        .as_deref()
                        .is_none_or(|k| !k.eq_ignore_ascii_case("proxy"))
                })
                .filter(|r| !is_websocket(r.key.as_deref(), address_text(r).unwrap_or("")))
                .filter(|r| match r.key.as_deref() {
                    Some(k) if is_browser_key(k) => true,
                    _ if r.mechanism == Mechanism::Env => app.browser_app && !app.prefix_only,
                    _ => app.browser_app,
                })
                .map(|r| (r, stage_of(&r.location.path, front_stage)))
                .filter(|(_, stage)| *stage != Stage::Template)
                .collect();
            if calls.is_empty() {
                continue;
            }
            let back_stage = service_stage(fleet, back);
            let has_local = app
                .origins
                .iter()
                .any(|o| matches!(o.origin, Origin::Local { .. }));
            let has_domain = app
                .origins
                .iter()
                .any(|o| matches!(o.origin, Origin::Domain { .. }));
            for page in &app.origins {
                // The calls this origin's page makes: same environment, another origin.
                let page_calls: Vec<&(&Reference, Stage)> = calls
                    .iter()
                    .filter(|(r, stage)| {
                        page.stage.fits(*stage)
                            && !page.origin.same_origin_as(address_text(r).unwrap_or(""))
                    })
                    .collect();
                // `.env.production` overrides `.env` for its keys in a production build.
                let page_calls: Vec<&(&Reference, Stage)> = page_calls
                    .iter()
                    .filter(|(r, stage)| {
                        *stage != Stage::Any
                            || !page_calls
                                .iter()
                                .any(|(o, s)| *s != Stage::Any && o.key == r.key)
                    })
                    .copied()
                    .collect();
                if page_calls.is_empty() {
                    continue;
                }
                // The allow-lists in force there.
                let in_force: Vec<&AllowList<'_>> = lists
                    .iter()
                    .filter(|l| {
                        let stage = if l.stage == Stage::Any {
                            back_stage
                        } else {
                            l.stage
                        };
                        page_calls
                            .iter()
                            .any(|(_, s)| stage.fits(page.stage.and(*s)))
                    })
                    .collect();
                if in_force.is_empty() {
                    continue;
                }
                // A production list is not expected to allow the dev server, nor a dev list
                // the production domain — unless the frontend has only that kind of origin.
                let checked = match page.origin {
                    Origin::Local { .. } => in_force.iter().any(|l| l.has_local()) || !has_domain,
                    Origin::Domain { .. } => in_force.iter().any(|l| l.has_domain()) || !has_local,
                };
                if !checked
                    || in_force
                        .iter()
                        .any(|l| l.items.iter().any(|a| page.origin.allowed_by(a)))
                {
                    continue;
                }
                // The lists to extend: those of the origin's kind (local or deployed) if any.
                let of_kind: Vec<&AllowList<'_>> = in_force
                    .iter()
                    .filter(|l| match page.origin {
                        Origin::Local { .. } => l.has_local(),
                        Origin::Domain { .. } => l.has_domain(),
                    })
                    .copied()
                    .collect();
                let to_extend = if of_kind.is_empty() {
                    in_force
                } else {
                    of_kind
                };
                let group = groups
                    .entry((host, env, back.id.as_str(), page.origin.clone()))
                    .or_default();
                group.fronts.push(front.id.clone());
                if group.origin_at.is_none() {
                    let l = page.location;
                    let at = format!("{}/{}:{}", l.repository, l.path, l.line);
                    group.origin_at = Some(format!("{}, {at}", page.how));
                }
                group.preview_only &= page.how == "vite preview";
                let detail = if page.says_how() {
                    format!("origin {} ({})", page.origin.text(), page.how)
                } else {
                    format!("origin {}", page.origin.text())
                };
                group.occurrences.push(Occurrence {
                    repository: front.repository.clone(),
                    service: Some(front.name.clone()),
                    location: page.location.clone(),
                    detail,
                });
                for (r, _) in &page_calls {
                    group.occurrences.push(Occurrence {
                        repository: front.repository.clone(),
                        service: Some(front.name.clone()),
                        location: r.location.clone(),
                        detail: format!(
                            "{}={}",
                            r.key.as_deref().unwrap_or("url"),
                            address_text(r).unwrap_or("")
                        ),
                    });
                }
                if let Some(at) = page.bound_at
                    && at != page.location
                {
                    group.occurrences.push(Occurrence {
                        repository: front.repository.clone(),
                        service: Some(front.name.clone()),
                        location: at.clone(),
                        detail: format!("dev server host {}", page.origin.text()),
                    });
                }
                for l in &to_extend {
                    if let Origin::Local {
                        host: page_host,
                        port: p,
                    } = &page.origin
                        && group.loopback_alias.is_none()
                        && let Some(Allowed::Origin { host, .. }) = l.items.iter().find(|a| {
                            matches!(a, Allowed::Origin { host, port }
                                if bare_host(host) != bare_host(page_host)
                                    && is_loopback(host)
                                    && is_loopback(bare_host(page_host))
                                    && *port == Some(*p))
                        })
                    {
                        group.loopback_alias = Some((host.clone(), page_host.clone()));
                    }
                    if !group.lists.contains(&(l.entry.key.clone(), l.place())) {
                        group.lists.push((l.entry.key.clone(), l.place()));
                    }
                    group.occurrences.push(Occurrence {
                        repository: back.repository.clone(),
                        service: Some(back.name.clone()),
                        location: l.entry.location.clone(),
                        detail: format!("{}={}", l.entry.key, l.entry.display),
                    });
                }
            }
        }
        let out = groups
            .into_iter()
            .map(|((host, env, back, origin), group)| group.conflict(host, env, back, &origin))
            .collect();
        finish(out)
    }
}

/// (host, environment, backend id, origin).
type Key<'a> = (&'a str, &'a str, &'a str, Origin);

/// The findings for one origin missing from one backend's allow-lists.
struct Group {
    fronts: Vec<String>,
    occurrences: Vec<Occurrence>,
    /// `(key, repo/path:line)` of the allow-lists to extend.
    lists: Vec<(String, String)>,
    /// Only a `vite preview` origin is missing: a look at the build, not the daily dev loop.
    preview_only: bool,
    /// Another loopback name is listed at the page's port (`127.0.0.1` for a page opened at
    /// `localhost`, or the other way round): `(listed, page host)`.
    loopback_alias: Option<(String, String)>,
    /// How and where the origin was inferred (`vite preview, web/vite.config.ts:4`).
    origin_at: Option<String>,
}

impl Default for Group {
    fn default() -> Self {
        Self {
            fronts: Vec::new(),
            occurrences: Vec::new(),
            lists: Vec::new(),
            preview_only: true,
            loopback_alias: None,
            origin_at: None,
        }
    }
}

impl Group {
    fn conflict(mut self, host: &str, env: &str, back: &str, origin: &Origin) -> Conflict {
        self.fronts.sort();
        self.fronts.dedup();
        self.lists.sort();
        let origin_text = origin.text();
        let fix = self
            .lists
            .iter()
            .map(|(key, place)| format!("add {origin_text} to {key} in {place}"))
            .collect::<Vec<_>>()
            .join(" or ");
        let at = self
            .origin_at
            .as_deref()
            .map(|a| format!(" ({a})"))
            .unwrap_or_default();
        let alias = match &self.loopback_alias {
            Some((listed, page)) => {
                format!(" ({listed} is listed, but {page} and {listed} are different origins)")
            }
            None => String::new(),
        };
        Conflict::new(
            ConflictKind::CorsMissingOrigin,
            if self.preview_only {
                Severity::Low
            } else {
                Severity::Medium
            },
            host,
            env,
            format!("cors:{back}:{origin_text}"),
            self.occurrences,
            format!(
                "{} calls {back} from {origin_text}{at}, which {back}'s CORS allow-list does not include{alias}; browsers will block the responses: {fix}",
                and_list(&self.fronts),
            ),
        )
    }
}

/// Each backend's CORS allow-lists (its own env and config values under CORS/ORIGIN keys), by
/// service id; templates are left out.
fn allow_lists<'a>(fleet: &FleetIndex<'a>) -> HashMap<&'a str, Vec<AllowList<'a>>> {
    let mut out: HashMap<&'a str, Vec<AllowList<'a>>> = HashMap::new();
    for facts in fleet.input.facts {
        for e in &facts.env {
            let Some(service) = e.service.as_deref() else {
                continue;
            };
            if !is_cors_key(&e.key) {
                continue;
            }
            let stage = stage_of(&e.location.path, Stage::Any);
            if stage == Stage::Template {
                continue;
            }
            let (Some(items), Some(back)) = (
                allow_list(&e.display),
                fleet.service(&facts.repository, service),
            ) else {
                continue;
            };
            out.entry(back.id.as_str()).or_default().push(AllowList {
                entry: e,
                items,
                stage,
            });
        }
    }
    out
}

#[cfg(test)]
#[path = "cors_tests.rs"]
mod tests;
