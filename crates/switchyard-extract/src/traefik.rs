//! Traefik: router rule parsing (`Host(…) && PathPrefix(…)`), docker-label helpers shared by the
//! compose and other extractors, and the extractor for Traefik dynamic file-provider configs.

use crate::emit;
use crate::extractor::{Extractor, Handled};
use crate::source::{RepoFiles, SourceFile, file_name};
use crate::yaml::{self, Node};
use serde::Deserialize;
use std::collections::BTreeMap;
use switchyard_model::{Mechanism, RepoFacts, Scope};

/// Most `(host, path)` pairs one rule may expand to; `||`/`&&` combinations multiply.
const MAX_PAIRS: usize = 256;

/// The `(host, optional path)` pairs a Traefik v2/v3 router rule routes, e.g.
/// ``Host(`a.example.com`) && PathPrefix(`/api`)`` → `[("a.example.com", Some("/api"))]`.
/// `HostRegexp` and other matchers constrain nothing we can name; alternatives without a host
/// (``Path(`/`)`` alone) yield nothing.
///
/// ```
/// use switchyard_extract::traefik::parse_rule;
/// let pairs = parse_rule("Host(`a.io`, `b.io`) && PathPrefix(`/api`)");
/// assert_eq!(pairs, vec![("a.io".to_string(), Some("/api".to_string())),
///                        ("b.io".to_string(), Some("/api".to_string()))]);
/// ```
pub fn parse_rule(rule: &str) -> Vec<(String, Option<String>)> {
    let tokens = tokenize(rule);
    let mut parser = RuleParser { tokens, pos: 0 };
    let clauses = parser.or_expr(0);
    let mut out: Vec<(String, Option<String>)> = Vec::new();
    for clause in clauses {
        if let Some(host) = clause.host {
            let pair = (host, clause.path);
            if !out.contains(&pair) {
                out.push(pair);
            }
        }
    }
    out
}

/// The `(host, path)` pairs of a Traefik v1 rule: `Host:a.io,b.io;PathPrefix:/api`.
pub fn parse_v1_rule(rule: &str) -> Vec<(String, Option<String>)> {
    let mut hosts = Vec::new();
    let mut paths = Vec::new();
    for part in rule.split(';') {
        let Some((matcher, args)) = part.split_once(':') else {
            continue;
        };
        let args = args.split(',').map(str::trim).filter(|a| !a.is_empty());
        match matcher.trim().to_ascii_lowercase().as_str() {
            "host" => hosts.extend(args.map(str::to_string)),
            "path" | "pathprefix" | "pathstrip" | "pathprefixstrip" => {
                paths.extend(args.map(str::to_string))
            }
            _ => {}
        }
    }
    let mut out = Vec::new();
    for host in hosts {
        if paths.is_empty() {
            out.push((host, None));
        } else {
            for path in &paths {
                out.push((host.clone(), Some(path.clone())));
            }
        }
    }
    out.truncate(MAX_PAIRS);
    out
}

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Ident(String),
    Str(String),
    Open,
    Close,
    Comma,
    And,
    Or,
    Not,
}

fn tokenize(rule: &str) -> Vec<Token> {
    let mut tokens = Vec::new();
    let mut chars = rule.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        match c {
            '(' => tokens.push(Token::Open),
            ')' => tokens.push(Token::Close),
            ',' => tokens.push(Token::Comma),
            '!' => tokens.push(Token::Not),
            '&' | '|' => {
                if chars.peek().map(|(_, n)| *n) == Some(c) {
                    chars.next();
                }
                tokens.push(if c == '&' { Token::And } else { Token::Or });
            }
            '`' | '"' | '\'' => {
                let start = i + c.len_utf8();
                let mut end = rule.len();
                for (j, n) in chars.by_ref() {
                    if n == c {
                        end = j;
                        break;
                    }
                }
                tokens.push(Token::Str(rule.get(start..end).unwrap_or("").to_string()));
            }
            c if c.is_alphanumeric() || c == '_' => {
                let mut end = i + c.len_utf8();
                while let Some((j, n)) = chars.peek().copied() {
                    if n.is_alphanumeric() || n == '_' {
                        end = j + n.len_utf8();
                        chars.next();
                    } else {
                        break;
                    }
                }
                tokens.push(Token::Ident(rule[i..end].to_string()));
            }
            _ => {}
        }
    }
    tokens
}

#[derive(Debug, Clone, Default)]
struct Clause {
    host: Option<String>,
    path: Option<String>,
}

struct RuleParser {
    tokens: Vec<Token>,
    pos: usize,
}

/// Nesting deeper than this ends parsing (defends against `((((…` input).
const MAX_RULE_DEPTH: usize = 32;

impl RuleParser {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.pos)
    }

    fn or_expr(&mut self, depth: usize) -> Vec<Clause> {
        let mut clauses = self.and_expr(depth);
        while self.peek() == Some(&Token::Or) {
            self.pos += 1;
            clauses.extend(self.and_expr(depth));
            clauses.truncate(MAX_PAIRS);
        }
        clauses
    }

    fn and_expr(&mut self, depth: usize) -> Vec<Clause> {
        let mut clauses = self.unary(depth);
        while self.peek() == Some(&Token::And) {
            self.pos += 1;
            let right = self.unary(depth);
            let mut combined = Vec::new();
            for l in &clauses {
                for r in &right {
                    if combined.len() >= MAX_PAIRS {
                        break;
                    }
                    combined.push(Clause {
                        host: l.host.clone().or_else(|| r.host.clone()),
                        path: l.path.clone().or_else(|| r.path.clone()),
                    });
                }
            }
            clauses = combined;
        }
        clauses
    }

    fn unary(&mut self, depth: usize) -> Vec<Clause> {
        if depth > MAX_RULE_DEPTH {
            self.pos = self.tokens.len();
            return vec![Clause::default()];
        }
        match self.peek().cloned() {
            Some(Token::Not) => {
                self.pos += 1;
                // A negated matcher narrows nothing we record.
                self.unary(depth + 1);
                vec![Clause::default()]
            }
            Some(Token::Open) => {
                self.pos += 1;
                let inner = self.or_expr(depth + 1);
                if self.peek() == Some(&Token::Close) {
                    self.pos += 1;
                }
                inner
            }
            Some(Token::Ident(name)) => {
                self.pos += 1;
                let args = self.args();
                matcher(&name, args)
            }
            Some(_) => {
                self.pos += 1;
                vec![Clause::default()]
            }
            None => vec![Clause::default()],
        }
    }

    /// `( "a" , "b" )` after a matcher name.
    fn args(&mut self) -> Vec<String> {
        let mut args = Vec::new();
        if self.peek() != Some(&Token::Open) {
            return args;
        }
        self.pos += 1;
        while let Some(token) = self.peek().cloned() {
            self.pos += 1;
            match token {
                Token::Str(s) => args.push(s),
                Token::Close => break,
                _ => {}
            }
        }
        args
    }
}

fn matcher(name: &str, args: Vec<String>) -> Vec<Clause> {
    let lower = name.to_ascii_lowercase();
    let clauses: Vec<Clause> = match lower.as_str() {
        "host" | "hostheader" | "hostsni" => args
            .into_iter()
            .map(|a| a.trim().to_ascii_lowercase())
            .filter(|a| !a.is_empty() && a != "*")
            .map(|host| Clause {
                host: Some(host),
                path: None,
            })
            .collect(),
        "path" | "pathprefix" => args
            .into_iter()
            .map(|path| Clause {
                host: None,
                path: Some(path),
            })
            .collect(),
        _ => Vec::new(),
    };
    if clauses.is_empty() {
        vec![Clause::default()]
    } else {
        clauses
    }
}

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
    /// `traefik.enable=true|false`.
    Enable(bool),
    /// Any other `traefik.*` label.
    Other,
}

/// True for a label key Traefik's docker provider reads.
pub fn is_traefik_label(key: &str) -> bool {
    key.len() > 8 && key[..8].eq_ignore_ascii_case("traefik.")
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

fn has_config_extension(name: &str) -> bool {
    [".yml", ".yaml", ".toml"].iter().any(|e| name.ends_with(e))
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
        if file.path.ends_with(".toml") {
            return extract_toml(file, out);
        }
        // Not ours unless it parses and has routing sections: a static config or another YAML
        // under `traefik/` is left to later extractors.
        let Ok(docs) = yaml::parse_documents(&file.text) else {
            return Handled::NotMine;
        };
        let dynamic: Vec<&Node> = docs
            .iter()
            .filter(|d| {
                ["http", "tcp", "udp"]
                    .iter()
                    .any(|k| is_routing_section(d.get(k)))
            })
            .collect();
        if dynamic.is_empty() {
            return Handled::NotMine;
        }
        for doc in dynamic {
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

fn is_routing_section(section: Option<&Node>) -> bool {
    section.is_some_and(|s| s.get("routers").is_some() || s.get("services").is_some())
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
    fn rule_forms() {
        let cases: &[(&str, &[(&str, Option<&str>)])] = &[
            ("Host(`a.example.com`)", &[("a.example.com", None)]),
            (
                "Host(`a.example.com`) && PathPrefix(`/api`)",
                &[("a.example.com", Some("/api"))],
            ),
            (
                "PathPrefix(`/api`) && Host(`A.example.com`)",
                &[("a.example.com", Some("/api"))],
            ),
            (
                "Host(`a.io`) || Host(`b.io`)",
                &[("a.io", None), ("b.io", None)],
            ),
            ("Host(`a.io`,`b.io`)", &[("a.io", None), ("b.io", None)]),
            (
                "(Host(`a.io`) || Host(`b.io`)) && Path(`/x`)",
                &[("a.io", Some("/x")), ("b.io", Some("/x"))],
            ),
            ("HostRegexp(`{sub:[a-z]+}.io`)", &[]),
            ("Path(`/`)", &[]),
            ("Host(\"dq.io\") && !Path(`/admin`)", &[("dq.io", None)]),
            ("Host(`a.io`) && Headers(`X`, `y`)", &[("a.io", None)]),
            ("HostSNI(`*`)", &[]),
            ("HostSNI(`db.io`)", &[("db.io", None)]),
            ("Host(`a.io`", &[("a.io", None)]),
            ("&& || ((", &[]),
            ("", &[]),
        ];
        for (rule, expected) in cases {
            assert_eq!(parse_rule(rule), pairs(expected), "rule {rule:?}");
        }
    }

    #[test]
    fn hostile_rules_are_bounded() {
        let deep = "(".repeat(10_000) + "Host(`a`)";
        assert!(parse_rule(&deep).len() <= 1);
        let wide = (0..50)
            .map(|i| format!("(Host(`h{i}`) || Host(`g{i}`))"))
            .collect::<Vec<_>>()
            .join(" && ");
        assert!(parse_rule(&wide).len() <= MAX_PAIRS);
    }

    #[test]
    fn v1_rules() {
        assert_eq!(
            parse_v1_rule("Host:a.io,b.io;PathPrefix:/api"),
            pairs(&[("a.io", Some("/api")), ("b.io", Some("/api"))])
        );
        assert_eq!(parse_v1_rule("Host:x.io"), pairs(&[("x.io", None)]));
    }

    #[test]
    fn labels() {
        assert_eq!(classify_label("com.example", "x"), None);
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
}
