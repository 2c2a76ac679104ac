//! `cors_missing_origin`: a browser frontend (dev server port or domain) calls a backend whose
//! CORS allow-list (`CORS_ORIGINS`, `ALLOWED_ORIGINS`…) does not include the frontend's origin.

use super::Detector;
use super::index::{FleetIndex, and_list, finish};
use super::reach::address_text;
use crate::{Conflict, ConflictKind, Occurrence, Severity};
use std::collections::{BTreeMap, HashMap};
use switchyard_link::address::{self, is_loopback};
use switchyard_model::{EndpointKind, EnvEntry, Location, Mechanism, Service, ServiceKind};

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
    /// `http://localhost:PORT`: a dev server or a published container port.
    Local(u16),
    Domain(String),
}

impl Origin {
    fn text(&self) -> String {
        match self {
            Origin::Local(p) => format!("http://localhost:{p}"),
            Origin::Domain(d) => format!("https://{d}"),
        }
    }

    fn allowed_by(&self, entry: &Allowed) -> bool {
        match (self, entry) {
            (_, Allowed::Any) => true,
            (Origin::Local(p), Allowed::Origin { host, port }) => {
                is_loopback(host) && *port == Some(*p)
            }
            (Origin::Domain(d), Allowed::Origin { host, .. }) => host == d,
            (Origin::Domain(d), Allowed::Suffix(s)) => d.ends_with(&format!(".{s}")),
            (Origin::Local(_), Allowed::Suffix(_)) => false,
        }
    }
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
                host: a.host,
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

/// A port a dev server listens on: declared in `package.json` scripts or a bundler config.
fn is_dev_server(location: &Location) -> bool {
    let name = location.path.rsplit('/').next().unwrap_or("");
    name == "package.json" || name.contains(".config.") || name == "angular.json"
}

fn origins(frontend: &Service) -> Vec<(Origin, &Location)> {
    let mut out: Vec<(Origin, &Location)> = Vec::new();
    for e in &frontend.endpoints {
        let origin = match &e.kind {
            EndpointKind::HostProcessPort { port } => Origin::Local(*port),
            EndpointKind::HostPort { start, .. } => Origin::Local(*start),
            EndpointKind::Domain { host, .. } if !host.starts_with('*') && host != "_" => {
                Origin::Domain(host.trim_end_matches('.').to_ascii_lowercase())
            }
            _ => continue,
        };
        if !out.iter().any(|(o, _)| *o == origin) {
            out.push((origin, &e.location));
        }
    }
    out.sort();
    out
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
        // (host, env, backend, origin) → occurrences
        type Key<'a> = (&'a str, &'a str, &'a str, Origin);
        let mut groups: BTreeMap<Key<'_>, (Vec<String>, Vec<Occurrence>)> = BTreeMap::new();
        for edge in &fleet.input.model.edges {
            let (Some(front), Some(back)) = (
                fleet.service_by_id(&edge.from),
                fleet.service_by_id(&edge.to),
            ) else {
                continue;
            };
            let Some(lists) = backends.get(back.id.as_str()) else {
                continue;
            };
            // References the page makes: browser keys or a dev-server app's URLs, not proxies.
            let calls: Vec<_> = edge
                .evidence
                .iter()
                .flat_map(|l| fleet.references_at(&front.repository, Some(&front.name), l))
                .filter(|r| matches!(r.mechanism, Mechanism::Env | Mechanism::Url))
                .filter(|r| {
                    r.key
                        .as_deref()
                        .is_none_or(|k| !k.eq_ignore_ascii_case("proxy"))
                })
                .collect();
            let browser_app = matches!(front.kind, ServiceKind::Federation | ServiceKind::Package)
                || front.endpoints.iter().any(|e| {
                    matches!(e.kind, EndpointKind::HostProcessPort { .. })
                        && is_dev_server(&e.location)
                });
            let calls: Vec<_> = calls
                .into_iter()
                .filter(|r| browser_app || r.key.as_deref().is_some_and(is_browser_key))
                .collect();
            if calls.is_empty() {
                continue;
            }
            let allowed: Vec<&Allowed> = lists.iter().flat_map(|(_, l)| l).collect();
            let page_origins = origins(front);
            let has_local = page_origins
                .iter()
                .any(|(o, _)| matches!(o, Origin::Local(_)));
            let has_domain = page_origins
                .iter()
                .any(|(o, _)| matches!(o, Origin::Domain(_)));
            let list_local = allowed
                .iter()
                .any(|a| matches!(a, Allowed::Origin { host, .. } if is_loopback(host)));
            let list_domain = allowed.iter().any(|a| match a {
                Allowed::Origin { host, .. } => !is_loopback(host),
                Allowed::Suffix(_) => true,
                Allowed::Any => false,
            });
            let (host, env) = fleet.place(&front.repository);
            for (origin, origin_loc) in page_origins {
                // A production list is not expected to allow the dev server, nor a dev list
                // the production domain — unless the frontend has only that kind of origin.
                let checked = match origin {
                    Origin::Local(_) => list_local || !has_domain,
                    Origin::Domain(_) => list_domain || !has_local,
                };
                if !checked || allowed.iter().any(|a| origin.allowed_by(a)) {
                    continue;
                }
                let entry = groups
                    .entry((host, env, back.id.as_str(), origin.clone()))
                    .or_default();
                entry.0.push(front.id.clone());
                entry.1.push(Occurrence {
                    repository: front.repository.clone(),
                    service: Some(front.name.clone()),
                    location: origin_loc.clone(),
                    detail: format!("origin {}", origin.text()),
                });
                for r in &calls {
                    entry.1.push(Occurrence {
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
                for (e, _) in lists {
                    entry.1.push(Occurrence {
                        repository: back.repository.clone(),
                        service: Some(back.name.clone()),
                        location: e.location.clone(),
                        detail: format!("{}={}", e.key, e.display),
                    });
                }
            }
        }
        let out = groups
            .into_iter()
            .map(|((host, env, back, origin), (mut fronts, occurrences))| {
                fronts.sort();
                fronts.dedup();
                Conflict::new(
                    ConflictKind::CorsMissingOrigin,
                    Severity::Medium,
                    host,
                    env,
                    format!("cors:{back}:{}", origin.text()),
                    occurrences,
                    format!(
                        "{} calls {back} from {}, which {back}'s CORS allow-list does not include; browsers will block the responses",
                        and_list(&fronts),
                        origin.text()
                    ),
                )
            })
            .collect();
        finish(out)
    }
}

/// Each backend's CORS allow-list entries (its own env values under CORS/ORIGIN keys), by
/// service id.
fn allow_lists<'a>(fleet: &FleetIndex<'a>) -> HashMap<&'a str, Vec<(&'a EnvEntry, Vec<Allowed>)>> {
    let mut out: HashMap<&'a str, Vec<(&'a EnvEntry, Vec<Allowed>)>> = HashMap::new();
    for facts in fleet.input.facts {
        for e in &facts.env {
            let Some(service) = e.service.as_deref() else {
                continue;
            };
            if !is_cors_key(&e.key) {
                continue;
            }
            let (Some(list), Some(back)) = (
                allow_list(&e.display),
                fleet.service(&facts.repository, service),
            ) else {
                continue;
            };
            out.entry(back.id.as_str()).or_default().push((e, list));
        }
    }
    out
}

#[cfg(test)]
#[path = "cors_tests.rs"]
mod tests;
