//! Traefik: docker-label helpers shared by the compose and other extractors, the extractor for
//! Traefik dynamic file-provider configs, and (in `rule`) router rule parsing.

use crate::emit;
use crate::extractor::{Extractor, Handled};
use crate::source::{RepoFiles, SourceFile, file_name};
use crate::yaml::{self, Node};

mod rule;
pub use rule::{parse_rule, parse_v1_rule};
use serde::Deserialize;
use std::collections::BTreeMap;
use switchyard_model::{Mechanism, ProxyRoute, RepoFacts, RouteProvider, Scope};

/// What one `traefik.*` docker label says, for the parts Switchyard uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TraefikLabel {
    /// A router rule (v2/v3 `traefik.http.routers.R.rule`, v1 `traefik[.S].frontend.rule`)
    /// with the `(host, path)` pairs it routes.
    Rule {
        router: String,
        domains: Vec<(String, Option<String>)>,
    },
    /// The container port Traefik forwards to (`…loadbalancer.server.port`, v1 `traefik.port`).
    ServicePort { port: u16 },
    /// The entry points a router listens on (`traefik.http.routers.R.entrypoints=web,websecure`).
    EntryPoints { router: String, names: Vec<String> },
    /// The service a router sends requests to (`traefik.http.routers.R.service=S`).
    Service { router: String, service: String },
    /// `traefik.enable=true|false`.
    Enable(bool),
    /// Any other `traefik.*` label.
    Other,
}

/// True for a label key Traefik's docker provider reads.
pub fn is_traefik_label(key: &str) -> bool {
    key.len() > 8
        && key
            .get(..8)
            .is_some_and(|p| p.eq_ignore_ascii_case("traefik."))
}

/// Classifies a `traefik.*` label; `None` for labels that are not Traefik's.
pub fn classify_label(key: &str, value: &str) -> Option<TraefikLabel> {
    if !is_traefik_label(key) {
        return None;
    }
    let lower = key.to_ascii_lowercase();
    let parts: Vec<&str> = lower.split('.').collect();
    let label = match parts.as_slice() {
        ["traefik", "enable"] => TraefikLabel::Enable(value.trim().eq_ignore_ascii_case("true")),
        ["traefik", "http" | "tcp", "routers", router, "rule"] => TraefikLabel::Rule {
            router: router.to_string(),
            domains: parse_rule(value),
        },
        ["traefik", "http" | "tcp", "routers", router, "entrypoints"] => {
            TraefikLabel::EntryPoints {
                router: router.to_string(),
                names: split_names(value),
            }
        }
        ["traefik", "http" | "tcp", "routers", router, "service"] => TraefikLabel::Service {
            router: router.to_string(),
            service: value.trim().to_string(),
        },
        ["traefik", "frontend", "rule"] => TraefikLabel::Rule {
            router: String::new(),
            domains: parse_v1_rule(value),
        },
        ["traefik", router, "frontend", "rule"] => TraefikLabel::Rule {
            router: router.to_string(),
            domains: parse_v1_rule(value),
        },
        [
            "traefik",
            "http" | "tcp" | "udp",
            "services",
            _,
            "loadbalancer",
            "server",
            "port",
        ]
        | ["traefik", "port"]
        | ["traefik", _, "port"] => match value.trim().parse::<u16>() {
            Ok(port) if port > 0 => TraefikLabel::ServicePort { port },
            _ => TraefikLabel::Other,
        },
        _ => TraefikLabel::Other,
    };
    Some(label)
}

/// Whether a docker image is Traefik (`traefik:2.6`, `docker.io/library/traefik`).
pub fn is_traefik_image(image: &str) -> bool {
    let last = image.rsplit('/').next().unwrap_or(image);
    last.to_ascii_lowercase().starts_with("traefik")
}

/// Whether command-line arguments enable Traefik's docker (or swarm) provider.
pub fn enables_docker_provider(args: &str) -> bool {
    args.contains("--providers.docker") || args.contains("--providers.swarm")
}

/// Reads Traefik dynamic configuration files (file provider): every load-balancer server URL
/// (`http.services.S.loadBalancer.servers[].url`, tcp/udp `address`) becomes a loose reference.
pub struct TraefikFileExtractor;

/// Suffixes of committed templates that are copied into place on deployment
/// (`anubis.yml.dist` → `anubis.yml`): the routes they hold are the deployed ones.
const TEMPLATE_SUFFIXES: [&str; 4] = [".dist", ".example", ".sample", ".template"];

/// The file name without a template suffix.
fn deployed_name(name: &str) -> &str {
    TEMPLATE_SUFFIXES
        .iter()
        .find_map(|s| name.strip_suffix(s))
        .unwrap_or(name)
}

fn has_config_extension(name: &str) -> bool {
    [".yml", ".yaml", ".toml"]
        .iter()
        .any(|e| deployed_name(name).ends_with(e))
}

impl Extractor for TraefikFileExtractor {
    fn name(&self) -> &'static str {
        "traefik"
    }

    fn accepts(&self, path: &str) -> bool {
        let name = file_name(path);
        if !has_config_extension(name) {
            return false;
        }
        name.to_ascii_lowercase().starts_with("traefik")
            || path
                .split('/')
                .rev()
                .skip(1)
                .any(|dir| dir == "traefik" || dir == "dynamic")
    }

    fn extract(&self, file: &SourceFile, _repo: &RepoFiles, out: &mut RepoFacts) -> Handled {
        if deployed_name(&file.path).ends_with(".toml") {
            return extract_toml(file, out);
        }
        // Not ours unless it parses and has routing sections: a static config or another YAML
        // under `traefik/` is left to later extractors.
        // A broken document loses only itself (with a diagnostic) when the others route.
        let stream = yaml::parse_stream(&file.text);
        let dynamic: Vec<&Node> = stream
            .nodes()
            .filter(|d| {
                ["http", "tcp", "udp"]
                    .iter()
                    .any(|k| is_routing_section(d.get(k)))
            })
            .collect();
        if dynamic.is_empty() {
            return Handled::NotMine;
        }
        out.diagnostics.extend(stream.diagnostics(file));
        for doc in &dynamic {
            record_routers(doc, &dynamic, file, out);
        }
        for doc in dynamic {
            record_forward_auth(doc, file, out);
            for (protocol, key) in [("http", "url"), ("tcp", "address"), ("udp", "address")] {
                let Some(services) = doc.get(protocol).and_then(|s| s.get("services")) else {
                    continue;
                };
                for (_, _, service) in services.entries() {
                    let Some(servers) = load_balancer(service).and_then(|lb| lb.get("servers"))
                    else {
                        continue;
                    };
                    for server in servers.as_seq().unwrap_or(&[]) {
                        let Some(node) = server.get(key) else {
                            continue;
                        };
                        let Some(value) = node.as_str() else { continue };
                        let (start, end) = node.content_span(file);
                        emit::record_address(
                            out,
                            None,
                            &Scope::Host,
                            key,
                            value,
                            file.location(start, end),
                            Mechanism::Url,
                        );
                    }
                }
            }
        }
        Handled::Yes
    }
}

/// The value of `key` in a mapping, matched case-insensitively (Traefik's file provider does
/// not care how `entryPoints` or `loadBalancer` are written).
fn get_any_case<'n>(node: &'n Node, key: &str) -> Option<&'n Node> {
    node.entries()
        .find(|(k, _, _)| k.eq_ignore_ascii_case(key))
        .map(|(_, _, v)| v)
}

/// `http.routers.R` of a dynamic config: each router with a `Host()` rule becomes a
/// [`ProxyRoute`] of the proxy reading the file, with its entry points and the first server
/// URL of its service (looked up in every document of the file).
fn record_routers(doc: &Node, docs: &[&Node], file: &SourceFile, out: &mut RepoFacts) {
    let Some(routers) = doc.get("http").and_then(|h| h.get("routers")) else {
        return;
    };
    for (name, _, router) in routers.entries() {
        let Some(rule) = get_any_case(router, "rule") else {
            continue;
        };
        let Some(text) = rule.as_str() else { continue };
        let domains = parse_rule(text);
        if domains.is_empty() {
            continue;
        }
        let entrypoints = get_any_case(router, "entryPoints")
            .map(|e| match e.as_seq() {
                Some(list) => list
                    .iter()
                    .filter_map(|n| n.as_str().map(str::to_string))
                    .collect(),
                None => e.as_str().map(split_names).unwrap_or_default(),
            })
            .unwrap_or_default();
        let target = get_any_case(router, "service")
            .and_then(|s| s.as_str())
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty());
        let backend = target.as_deref().and_then(|t| {
            docs.iter().find_map(|d| {
                let service = d.get("http")?.get("services")?.get(t)?;
                let server = load_balancer(service)?.get("servers")?.as_seq()?.first()?;
                let url = server.get("url")?;
                url.as_str()?;
                let (start, end) = url.content_span(file);
                Some(file.location(start, end))
            })
        });
        let (start, end) = rule.content_span(file);
        out.proxy_routes.push(ProxyRoute {
            service: None,
            provider: RouteProvider::File,
            router: name.to_string(),
            domains,
            entrypoints,
            target,
            backend,
            location: file.location(start, end),
        });
    }
}

/// `web,websecure` → `["web", "websecure"]`.
pub fn split_names(text: &str) -> Vec<String> {
    text.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

fn is_routing_section(section: Option<&Node>) -> bool {
    section.is_some_and(|s| {
        s.get("routers").is_some() || s.get("services").is_some() || s.get("middlewares").is_some()
    })
}

/// `http.middlewares.M.forwardAuth.address`: Traefik asks that service about every request
/// the middleware guards, a call from the proxy.
fn record_forward_auth(doc: &Node, file: &SourceFile, out: &mut RepoFacts) {
    let Some(middlewares) = doc.get("http").and_then(|h| h.get("middlewares")) else {
        return;
    };
    for (_, _, middleware) in middlewares.entries() {
        let Some(forward_auth) = middleware
            .entries()
            .find(|(k, _, _)| k.eq_ignore_ascii_case("forwardauth"))
            .map(|(_, _, v)| v)
        else {
            continue;
        };
        let Some(node) = forward_auth.get("address") else {
            continue;
        };
        let Some(value) = node.as_str() else { continue };
        let (start, end) = node.content_span(file);
        emit::record_address(
            out,
            None,
            &Scope::Host,
            "address",
            value,
            file.location(start, end),
            Mechanism::Url,
        );
    }
}

/// `loadBalancer` (any case) of a dynamic-config service.
fn load_balancer(service: &Node) -> Option<&Node> {
    service
        .entries()
        .find(|(k, _, _)| k.eq_ignore_ascii_case("loadbalancer"))
        .map(|(_, _, v)| v)
}

#[derive(Deserialize, Default)]
struct TomlDynamic {
    #[serde(default)]
    http: Option<TomlSection>,
    #[serde(default)]
    tcp: Option<TomlSection>,
    #[serde(default)]
    udp: Option<TomlSection>,
}

#[derive(Deserialize, Default)]
struct TomlSection {
    #[serde(default)]
    routers: Option<toml::Value>,
    #[serde(default)]
    services: BTreeMap<String, TomlService>,
}

#[derive(Deserialize, Default)]
struct TomlService {
    #[serde(default, alias = "loadbalancer", rename = "loadBalancer")]
    load_balancer: Option<TomlLoadBalancer>,
}

#[derive(Deserialize, Default)]
struct TomlLoadBalancer {
    #[serde(default)]
    servers: Vec<TomlServer>,
}

#[derive(Deserialize, Default)]
struct TomlServer {
    #[serde(default)]
    url: Option<toml::Spanned<String>>,
    #[serde(default)]
    address: Option<toml::Spanned<String>>,
}

fn extract_toml(file: &SourceFile, out: &mut RepoFacts) -> Handled {
    // A TOML that does not have this shape (static config, something else) is not ours.
    let Ok(config) = toml::from_str::<TomlDynamic>(&file.text) else {
        return Handled::NotMine;
    };
    let sections = [
        ("url", config.http),
        ("address", config.tcp),
        ("address", config.udp),
    ];
    if !sections.iter().any(|(_, s)| {
        s.as_ref()
            .is_some_and(|s| s.routers.is_some() || !s.services.is_empty())
    }) {
        return Handled::NotMine;
    }
    if let Some(http) = &sections[0].1 {
        record_toml_routers(http, file, out);
    }
    for (key, section) in sections {
        let Some(section) = section else { continue };
        for service in section.services.values() {
            let Some(lb) = &service.load_balancer else {
                continue;
            };
            for server in &lb.servers {
                let spanned = if key == "url" {
                    &server.url
                } else {
                    &server.address
                };
                let Some(value) = spanned else { continue };
                let span = value.span();
                // The span covers the quoted string; point at its content.
                let (start, end) = if span.end > span.start + 1 {
                    (span.start + 1, span.end - 1)
                } else {
                    (span.start, span.end)
                };
                emit::record_address(
                    out,
                    None,
                    &Scope::Host,
                    key,
                    value.get_ref(),
                    file.location(start, end),
                    Mechanism::Url,
                );
            }
        }
    }
    Handled::Yes
}

/// `[http.routers.R]` of a TOML dynamic config, as [`record_routers`] does for YAML. TOML
/// values carry no place here: the rule is found in the text after the router's table.
fn record_toml_routers(http: &TomlSection, file: &SourceFile, out: &mut RepoFacts) {
    let Some(toml::Value::Table(routers)) = &http.routers else {
        return;
    };
    for (name, router) in routers {
        let toml::Value::Table(router) = router else {
            continue;
        };
        let field = |key: &str| {
            router
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(key))
                .map(|(_, v)| v)
        };
        let Some(rule) = field("rule").and_then(|r| r.as_str()) else {
            continue;
        };
        let domains = parse_rule(rule);
        if domains.is_empty() {
            continue;
        }
        let entrypoints = match field("entryPoints") {
            Some(toml::Value::Array(list)) => list
                .iter()
                .filter_map(|v| v.as_str().map(str::to_string))
                .collect(),
            Some(toml::Value::String(s)) => split_names(s),
            _ => Vec::new(),
        };
        let target = field("service")
            .and_then(|s| s.as_str())
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty());
        let backend = target.as_deref().and_then(|t| {
            let lb = http.services.get(t)?.load_balancer.as_ref()?;
            let url = lb.servers.first()?.url.as_ref()?;
            let span = url.span();
            Some(if span.end > span.start + 1 {
                file.location(span.start + 1, span.end - 1)
            } else {
                file.location(span.start, span.end)
            })
        });
        // The rule's text after the router's table header (or anywhere, for inline tables).
        let header = file
            .text
            .find(&format!("routers.{name}]"))
            .or_else(|| file.text.find(&format!("routers.\"{name}\"]")))
            .unwrap_or(0);
        let at = file
            .text
            .get(header..)
            .and_then(|t| t.find(rule))
            .map(|i| header + i)
            .or_else(|| file.text.find(rule));
        let Some(at) = at else { continue };
        out.proxy_routes.push(ProxyRoute {
            service: None,
            provider: RouteProvider::File,
            router: name.clone(),
            domains,
            entrypoints,
            target,
            backend,
            location: file.location(at, at + rule.len()),
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use switchyard_model::Target;

    fn pairs(list: &[(&str, Option<&str>)]) -> Vec<(String, Option<String>)> {
        list.iter()
            .map(|(h, p)| (h.to_string(), p.map(str::to_string)))
            .collect()
    }

    #[test]
    fn labels() {
        assert_eq!(classify_label("com.example", "x"), None);
        assert_eq!(classify_label("traefikéé.x", "x"), None);
        assert_eq!(
            classify_label("traefik.enable", "true"),
            Some(TraefikLabel::Enable(true))
        );
        assert_eq!(
            classify_label("traefik.http.services.go.loadBalancer.server.port", "80"),
            Some(TraefikLabel::ServicePort { port: 80 })
        );
        assert_eq!(
            classify_label("traefik.port", "8080"),
            Some(TraefikLabel::ServicePort { port: 8080 })
        );
        assert_eq!(
            classify_label("traefik.http.routers.web.rule", "Host(`w.io`)"),
            Some(TraefikLabel::Rule {
                router: "web".into(),
                domains: pairs(&[("w.io", None)])
            })
        );
        assert_eq!(
            classify_label("traefik.frontend.rule", "Host:old.io"),
            Some(TraefikLabel::Rule {
                router: String::new(),
                domains: pairs(&[("old.io", None)])
            })
        );
        assert_eq!(
            classify_label("traefik.http.routers.web.tls", "true"),
            Some(TraefikLabel::Other)
        );
        assert!(is_traefik_image("traefik:v2.10"));
        assert!(is_traefik_image("docker.io/library/traefik"));
        assert!(!is_traefik_image("nginx"));
        assert!(enables_docker_provider(
            "--api.insecure=true --providers.docker"
        ));
    }

    #[test]
    fn accepts_names() {
        let e = TraefikFileExtractor;
        assert!(e.accepts("traefik.yml"));
        assert!(e.accepts("proxy/traefik-dynamic.yaml"));
        assert!(e.accepts("traefik/routes.yml"));
        assert!(e.accepts("config/dynamic/app.toml"));
        assert!(!e.accepts("traefik/README.md"));
        assert!(!e.accepts("app/config.yml"));
        assert!(!e.accepts("dynamic.yml"));
    }

    #[test]
    fn dynamic_yaml_server_urls() {
        let text = "http:\n  routers:\n    api:\n      rule: Host(`api.example.com`)\n      service: api\n  services:\n    api:\n      loadBalancer:\n        servers:\n          - url: \"http://backend:8080\"\n          - url: http://backend2:8080\ntcp:\n  services:\n    db:\n      loadBalancer:\n        servers:\n          - address: postgres:5432\n";
        let mut repo = RepoFiles::new("r");
        repo.add_text("traefik/dynamic.yml", text);
        let file = repo.get("traefik/dynamic.yml").unwrap().clone();
        let mut out = RepoFacts::default();
        assert_eq!(
            TraefikFileExtractor.extract(&file, &repo, &mut out),
            Handled::Yes
        );
        let targets: Vec<String> = out
            .references
            .iter()
            .map(|r| match &r.target {
                Target::Address { text } => text.clone(),
                other => format!("{other:?}"),
            })
            .collect();
        assert_eq!(
            targets,
            vec![
                "http://backend:8080",
                "http://backend2:8080",
                "postgres:5432"
            ]
        );
        assert_eq!(
            out.references[0].location.to_string(),
            "r/traefik/dynamic.yml:10:19"
        );
        assert_eq!(out.references[0].mechanism, Mechanism::Url);
        assert_eq!(out.references[0].from, None);
    }

    #[test]
    fn committed_templates_are_the_deployed_config() {
        let e = TraefikFileExtractor;
        assert!(e.accepts("config/dynamic/auth.yml.dist"));
        assert!(e.accepts("traefik/routes.toml.example"));
        assert!(!e.accepts("traefik/.env.dist"));
        assert!(!e.accepts("config/dynamic/notes.txt.sample"));
    }

    #[test]
    fn forward_auth_middlewares_are_calls_of_the_proxy() {
        let text = "http:\n  middlewares:\n    lan-only:\n      ipAllowList:\n        sourceRange: [\"10.0.0.0/8\"]\n    sso:\n      forwardAuth:\n        address: \"http://sso-portal:9091/api/verify\"\n        trustForwardHeader: true\n";
        let mut repo = RepoFiles::new("r");
        repo.add_text("config/dynamic/sso.yml.dist", text);
        let file = repo.get("config/dynamic/sso.yml.dist").unwrap().clone();
        let mut out = RepoFacts::default();
        assert_eq!(
            TraefikFileExtractor.extract(&file, &repo, &mut out),
            Handled::Yes
        );
        assert_eq!(out.references.len(), 1);
        let r = &out.references[0];
        assert_eq!(
            r.target,
            Target::Address {
                text: "http://sso-portal:9091/api/verify".into()
            }
        );
        assert_eq!(r.location.to_string(), "r/config/dynamic/sso.yml.dist:8:19");
    }

    #[test]
    fn static_config_is_not_mine() {
        let mut repo = RepoFiles::new("r");
        repo.add_text(
            "traefik.yml",
            "entryPoints:\n  web:\n    address: \":80\"\nproviders:\n  docker: {}\n",
        );
        let file = repo.get("traefik.yml").unwrap().clone();
        let mut out = RepoFacts::default();
        assert_eq!(
            TraefikFileExtractor.extract(&file, &repo, &mut out),
            Handled::NotMine
        );
        repo.add_text("bad/traefik.yml", "http: [");
        let file = repo.get("bad/traefik.yml").unwrap().clone();
        assert_eq!(
            TraefikFileExtractor.extract(&file, &repo, &mut out),
            Handled::NotMine
        );
        assert!(out.references.is_empty());
    }

    #[test]
    fn dynamic_toml_server_urls() {
        let text = "[http.routers.api]\nrule = \"Host(`api.io`)\"\nservice = \"api\"\n\n[[http.services.api.loadBalancer.servers]]\nurl = \"http://backend:8080\"\n";
        let mut repo = RepoFiles::new("r");
        repo.add_text("dynamic/conf.toml", text);
        let file = repo.get("dynamic/conf.toml").unwrap().clone();
        let mut out = RepoFacts::default();
        assert_eq!(
            TraefikFileExtractor.extract(&file, &repo, &mut out),
            Handled::Yes
        );
        assert_eq!(out.references.len(), 1);
        assert_eq!(
            out.references[0].location.to_string(),
            "r/dynamic/conf.toml:6:8"
        );
        let static_toml = "[entryPoints.web]\naddress = \":80\"\n";
        repo.add_text("traefik.toml", static_toml);
        let file = repo.get("traefik.toml").unwrap().clone();
        assert_eq!(
            TraefikFileExtractor.extract(&file, &repo, &mut out),
            Handled::NotMine
        );
    }

    fn routes(path: &str, text: &str) -> Vec<ProxyRoute> {
        let mut repo = RepoFiles::new("r");
        repo.add_text(path, text);
        let file = repo.get(path).unwrap().clone();
        let mut out = RepoFacts::default();
        assert_eq!(
            TraefikFileExtractor.extract(&file, &repo, &mut out),
            Handled::Yes
        );
        out.proxy_routes
    }

    #[test]
    fn dynamic_yaml_routers() {
        let text = "http:\n  routers:\n    status:\n      rule: \"Host(`status.home.arpa`)\"\n      entryPoints: [websecure]\n      service: kuma\n    api:\n      rule: Host(`a.io`) && PathPrefix(`/api`)\n      entrypoints: web\n      service: api@internal\n    pathonly:\n      rule: PathPrefix(`/x`)\n      service: kuma\n  services:\n    kuma:\n      loadBalancer:\n        servers:\n          - url: \"http://uptime-kuma:3001\"\n";
        let routes = routes("traefik/dynamic/status.yml", text);
        assert_eq!(routes.len(), 2, "a rule without Host() routes no name");
        let status = &routes[0];
        assert_eq!(status.provider, RouteProvider::File);
        assert_eq!(status.service, None);
        assert_eq!(status.router, "status");
        assert_eq!(status.domains, pairs(&[("status.home.arpa", None)]));
        assert_eq!(status.entrypoints, ["websecure"]);
        assert_eq!(status.target.as_deref(), Some("kuma"));
        assert_eq!(
            status.location.to_string(),
            "r/traefik/dynamic/status.yml:4:14"
        );
        assert_eq!(
            status.backend.as_ref().map(ToString::to_string).as_deref(),
            Some("r/traefik/dynamic/status.yml:18:19")
        );
        let api = &routes[1];
        assert_eq!(api.domains, pairs(&[("a.io", Some("/api"))]));
        assert_eq!(api.entrypoints, ["web"]);
        // `api@internal` is Traefik's own service: no server URL.
        assert_eq!(api.backend, None);
    }

    #[test]
    fn dynamic_toml_routers() {
        let text = "[http.routers.api]\nrule = \"Host(`api.io`)\"\nentryPoints = [\"websecure\"]\nservice = \"api\"\n\n[[http.services.api.loadBalancer.servers]]\nurl = \"http://backend:8080\"\n";
        let routes = routes("dynamic/conf.toml", text);
        assert_eq!(routes.len(), 1);
        assert_eq!(routes[0].domains, pairs(&[("api.io", None)]));
        assert_eq!(routes[0].entrypoints, ["websecure"]);
        assert_eq!(routes[0].location.to_string(), "r/dynamic/conf.toml:2:9");
        assert_eq!(
            routes[0]
                .backend
                .as_ref()
                .map(ToString::to_string)
                .as_deref(),
            Some("r/dynamic/conf.toml:7:8")
        );
    }

    #[test]
    fn router_labels() {
        assert_eq!(
            classify_label("traefik.http.routers.web.entrypoints", "web, websecure"),
            Some(TraefikLabel::EntryPoints {
                router: "web".into(),
                names: vec!["web".into(), "websecure".into()]
            })
        );
        assert_eq!(
            classify_label("traefik.http.routers.Web.service", " site "),
            Some(TraefikLabel::Service {
                router: "web".into(),
                service: "site".into()
            })
        );
    }
}
