//! nginx: each `server {}` becomes a service with its domains and listen ports, and every
//! `proxy_pass`-like target (expanded through `upstream {}` blocks) becomes a reference.
//!
//! `include` is not followed (the included file is read on its own when it is in the repo).

mod parse;
mod upgrade;

use crate::emit::record_address;
use crate::extractor::{Extractor, Handled};
use crate::source::{RepoFiles, SourceFile, file_name, parent_dir};
use parse::{Directive, Token};
use std::collections::HashMap;
use switchyard_model::{
    Diagnostic, DiagnosticCode, Endpoint, EndpointKind, Location, Mechanism, Reference, RepoFacts,
    Scope, ServiceDecl, ServiceKind, Target,
};

pub struct NginxExtractor;

/// Directories whose `*.conf` files are nginx configuration.
const CONF_DIRS: [&str; 6] = [
    "conf.d",
    "sites-available",
    "sites-enabled",
    "templates",
    "http.d",
    "snippets",
];

/// Directives that route requests to another process.
const PASS_DIRECTIVES: [&str; 5] = [
    "proxy_pass",
    "fastcgi_pass",
    "grpc_pass",
    "uwsgi_pass",
    "scgi_pass",
];

/// Directives only nginx has; a parsed file with none of them is someone else's `.conf`.
const NGINX_DIRECTIVES: [&str; 12] = [
    "http",
    "server",
    "events",
    "location",
    "upstream",
    "stream",
    "listen",
    "server_name",
    "worker_processes",
    "proxy_pass",
    "fastcgi_pass",
    "error_page",
];

/// A path component naming nginx itself (`nginx/`, `nginx-proxy/`, `sites-enabled/`).
fn nginx_dir(path: &str) -> bool {
    parent_dir(path)
        .split('/')
        .any(|d| d.contains("nginx") || d.starts_with("sites-"))
}

/// Names that are nginx configuration whatever their directory.
fn nginx_name(name: &str) -> bool {
    name == "nginx.conf" || name == "nginx.conf.template" || name.ends_with(".nginx")
}

fn accepts_path(path: &str) -> bool {
    let name = file_name(path);
    if nginx_name(name) {
        return true;
    }
    let conf = name.ends_with(".conf") || name.ends_with(".conf.template");
    conf && (nginx_dir(path) || parent_dir(path).split('/').any(|d| CONF_DIRS.contains(&d)))
}

impl Extractor for NginxExtractor {
    fn name(&self) -> &'static str {
        "nginx"
    }

    fn accepts(&self, path: &str) -> bool {
        accepts_path(path)
    }

    fn extract(&self, file: &SourceFile, repo: &RepoFiles, out: &mut RepoFacts) -> Handled {
        let tree = match parse::parse(&file.text) {
            Ok(tree) => tree,
            Err(e) => {
                // `conf.d/*.conf` is also supervisor, logstash, mysql…: only claim nginx.
                let nginx = nginx_name(file.file_name())
                    || nginx_dir(&file.path)
                    || ["server_name", "proxy_pass", "upstream ", "worker_processes"]
                        .iter()
                        .any(|w| file.text.contains(w));
                if !nginx {
                    return Handled::NotMine;
                }
                out.diagnostics.push(Diagnostic::new(
                    DiagnosticCode::ParseError,
                    format!("invalid nginx configuration: {}", e.message),
                    file.location(e.start, e.end),
                ));
                return Handled::Yes;
            }
        };
        if !any_directive(&tree, &|d| NGINX_DIRECTIVES.contains(&d.name.text.as_str())) {
            return Handled::NotMine;
        }
        let mut reader = Reader {
            file,
            upstreams: Upstreams::new(&tree, file, repo),
            services: Vec::new(),
            out,
        };
        reader.directives(&tree);
        upgrade::record(&tree, file, reader.out);
        let services = std::mem::take(&mut reader.services);
        out.services.extend(services);
        Handled::Yes
    }
}

fn any_directive(tree: &[Directive], pred: &dyn Fn(&Directive) -> bool) -> bool {
    tree.iter()
        .any(|d| pred(d) || d.block.as_deref().is_some_and(|b| any_directive(b, pred)))
}

/// An upstream's servers: address text and where it is written.
type Servers = Vec<(String, Location)>;

/// `upstream NAME {}` blocks of this file, then (read on first need) of the repo's other
/// nginx files, since `conf.d/upstreams.conf` is often separate from the sites using it.
struct Upstreams<'a> {
    local: HashMap<String, Servers>,
    others: Option<HashMap<String, Servers>>,
    file: &'a SourceFile,
    repo: &'a RepoFiles,
}

impl<'a> Upstreams<'a> {
    fn new(tree: &[Directive], file: &'a SourceFile, repo: &'a RepoFiles) -> Self {
        let mut local = HashMap::new();
        collect_upstreams(tree, file, &mut local);
        Self {
            local,
            others: None,
            file,
            repo,
        }
    }

    fn find(&mut self, name: &str) -> Option<&Servers> {
        if self.local.contains_key(name) {
            return self.local.get(name);
        }
        let (file, repo) = (self.file, self.repo);
        let others = self.others.get_or_insert_with(|| {
            let mut map = HashMap::new();
            for other in repo.files() {
                if other.path != file.path
                    && accepts_path(&other.path)
                    && let Ok(tree) = parse::parse(&other.text)
                {
                    collect_upstreams(&tree, other, &mut map);
                }
            }
            map
        });
        others.get(name)
    }
}

fn collect_upstreams(tree: &[Directive], file: &SourceFile, into: &mut HashMap<String, Servers>) {
    for d in tree {
        let Some(block) = &d.block else {
            continue;
        };
        match (d.name.text.as_str(), d.args.first()) {
            ("upstream", Some(name)) => {
                let servers = block
                    .iter()
                    .filter(|s| s.name.text == "server" && s.block.is_none())
                    .filter_map(|s| s.args.first())
                    .map(|a| (a.text.clone(), file.location(a.start, a.end)))
                    .collect();
                into.entry(name.text.clone()).or_insert(servers);
            }
            _ => collect_upstreams(block, file, into),
        }
    }
}

struct Reader<'a, 'o> {
    file: &'a SourceFile,
    upstreams: Upstreams<'a>,
    /// Servers of this file; servers with the same name (80 and 443) become one service.
    services: Vec<ServiceDecl>,
    out: &'o mut RepoFacts,
}

impl Reader<'_, '_> {
    fn location(&self, token: &Token) -> Location {
        self.file.location(token.start, token.end)
    }

    /// Walks blocks outside servers; pass directives there (snippets included into a server
    /// elsewhere) are loose references.
    fn directives(&mut self, tree: &[Directive]) {
        for d in tree {
            match (d.name.text.as_str(), &d.block) {
                ("server", Some(block)) => self.server(d, block),
                ("upstream", _) => {}
                (_, Some(block)) => self.directives(block),
                (name, None) if PASS_DIRECTIVES.contains(&name) => {
                    self.pass(None, d, &HashMap::new());
                }
                _ => {}
            }
        }
    }

    fn server(&mut self, server: &Directive, block: &[Directive]) {
        let mut domains = Vec::new();
        let mut ports = Vec::new();
        for d in block {
            match d.name.text.as_str() {
                "server_name" => domains.extend(d.args.iter().filter(|a| is_domain(&a.text))),
                "listen" => ports.extend(
                    d.args
                        .first()
                        .and_then(|a| Some((listen_port(&a.text)?, a))),
                ),
                _ => {}
            }
        }
        let (name, source) = if let Some(first) = domains.iter().find(|a| a.text != "localhost") {
            (first.text.clone(), self.location(first))
        } else if let Some((port, token)) = ports.first() {
            (format!("nginx-{port}"), self.location(token))
        } else {
            (
                file_stem(self.file.file_name()),
                self.location(&server.name),
            )
        };
        let mut decl = ServiceDecl::new(&name, ServiceKind::Nginx, Scope::Host, source);
        decl.owned_paths.push(self.file.path.clone());
        for token in domains.iter().filter(|a| a.text != "localhost") {
            let kind = EndpointKind::Domain {
                host: token.text.clone(),
                path: None,
            };
            add_endpoint(&mut decl, kind, self.location(token));
        }
        for (port, token) in &ports {
            let kind = EndpointKind::HostProcessPort { port: *port };
            add_endpoint(&mut decl, kind, self.location(token));
        }
        match self.services.iter_mut().find(|s| s.name == name) {
            Some(existing) => {
                for e in decl.endpoints {
                    add_endpoint(existing, e.kind, e.location);
                }
            }
            None => self.services.push(decl),
        }
        let mut sets = HashMap::new();
        collect_sets(block, &mut sets);
        self.passes(&name, block, &sets);
    }

    fn passes(&mut self, from: &str, block: &[Directive], sets: &HashMap<String, String>) {
        for d in block {
            if let Some(children) = &d.block {
                self.passes(from, children, sets);
            } else if PASS_DIRECTIVES.contains(&d.name.text.as_str()) {
                self.pass(Some(from), d, sets);
            }
        }
    }

    /// Records one `proxy_pass`-like target, or the servers of the upstream it names.
    fn pass(&mut self, from: Option<&str>, d: &Directive, sets: &HashMap<String, String>) {
        let Some(arg) = d.args.first() else {
            return;
        };
        let Some(target) = pass_target(&arg.text, sets) else {
            return;
        };
        let key = d.name.text.as_str();
        if let Some(upstream) = &target.upstream
            && let Some(servers) = self.upstreams.find(upstream).cloned()
        {
            for (address, location) in servers {
                if address.starts_with("unix:") || address.contains('$') {
                    continue;
                }
                let text = match &target.scheme {
                    Some(scheme) => format!("{scheme}://{address}"),
                    None => address,
                };
                record_pass(self.out, from, key, &text, location);
            }
            return;
        }
        let location = self.location(arg);
        record_pass(self.out, from, key, &target.text, location);
    }
}

fn add_endpoint(decl: &mut ServiceDecl, kind: EndpointKind, location: Location) {
    if !decl.endpoints.iter().any(|e| e.kind == kind) {
        decl.endpoints.push(Endpoint { kind, location });
    }
}

/// Records an address; a bare host (`fastcgi_pass php;`) is one by the directive's meaning,
/// so it is kept even though it has neither scheme nor port.
fn record_pass(out: &mut RepoFacts, from: Option<&str>, key: &str, text: &str, loc: Location) {
    let before = out.references.len();
    record_address(
        out,
        from,
        &Scope::Host,
        key,
        text,
        loc.clone(),
        Mechanism::ProxyPass,
    );
    let bare_host = !text.is_empty()
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'));
    if out.references.len() == before && bare_host {
        out.references.push(Reference {
            from: from.map(str::to_string),
            target: Target::Address {
                text: text.to_string(),
            },
            mechanism: Mechanism::ProxyPass,
            key: Some(key.to_string()),
            location: loc,
            scope: Scope::Host,
        });
    }
}

/// A server name that is a domain: not the catch-all `_`, not a regex, not a variable.
fn is_domain(name: &str) -> bool {
    !name.is_empty() && name != "_" && !name.starts_with('~') && !name.contains('$')
}

/// The port of a `listen` address: `80`, `127.0.0.1:8080`, `[::]:80`, `*:80`, `localhost`
/// (port 80). Unix sockets and variables have none.
fn listen_port(arg: &str) -> Option<u16> {
    if arg.starts_with("unix:") || arg.contains('$') {
        return None;
    }
    let port = if let Some(rest) = arg.strip_prefix('[') {
        match rest.split_once(']')?.1.strip_prefix(':') {
            Some(port) => port,
            None => return Some(80),
        }
    } else if let Some((_, port)) = arg.rsplit_once(':') {
        port
    } else if arg.chars().all(|c| c.is_ascii_digit()) {
        arg
    } else {
        return Some(80);
    };
    port.parse().ok().filter(|p| *p > 0)
}

/// `set $name value;` anywhere in a server, to resolve `proxy_pass $name` (the usual trick to
/// make nginx resolve Docker DNS at request time).
fn collect_sets(block: &[Directive], into: &mut HashMap<String, String>) {
    for d in block {
        if let Some(children) = &d.block {
            collect_sets(children, into);
        } else if d.name.text == "set"
            && let (Some(var), Some(value)) = (d.args.first(), d.args.get(1))
            && let Some(name) = var.text.strip_prefix('$')
        {
            into.entry(name.to_string()).or_insert(value.text.clone());
        }
    }
}

/// Replaces `$name` and `${name}` defined by `set`; others are left as they are.
fn substitute(text: &str, sets: &HashMap<String, String>) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(i) = rest.find('$') {
        out.push_str(rest.get(..i).unwrap_or(""));
        let after = rest.get(i + 1..).unwrap_or("");
        let (name, consumed) = match after.strip_prefix('{') {
            Some(inner) => match inner.find('}') {
                Some(end) => (inner.get(..end).unwrap_or(""), end + 2),
                None => ("", 0),
            },
            None => {
                let end = after
                    .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                    .unwrap_or(after.len());
                (after.get(..end).unwrap_or(""), end)
            }
        };
        match sets.get(name) {
            Some(value) if !name.is_empty() => out.push_str(value),
            _ => {
                out.push('$');
                out.push_str(after.get(..consumed).unwrap_or(""));
            }
        }
        rest = after.get(consumed..).unwrap_or("");
    }
    out.push_str(rest);
    out
}

/// What a pass directive points at.
#[derive(Debug, PartialEq)]
struct PassTarget {
    /// The target, variables from `set` substituted, cut before any runtime variable.
    text: String,
    scheme: Option<String>,
    /// The host when it may name an `upstream` (no port given).
    upstream: Option<String>,
}

fn pass_target(arg: &str, sets: &HashMap<String, String>) -> Option<PassTarget> {
    let text = substitute(arg, sets);
    let (scheme, rest) = match text.split_once("://") {
        Some((s, r)) => (Some(s.to_string()), r),
        None => (None, text.as_str()),
    };
    let mut authority = rest.split('/').next().unwrap_or("");
    if let Some((head, _)) = authority.split_once('$') {
        // `http://api:8080$request_uri`: a variable after a complete `host:port` is the URI.
        let complete = head.rsplit_once(':').is_some_and(|(h, p)| {
            !h.is_empty() && !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit())
        });
        if !complete {
            return None;
        }
        authority = head;
    }
    if authority.is_empty() || authority.starts_with("unix:") {
        return None;
    }
    let has_port = match authority.strip_prefix('[') {
        Some(v6) => v6.contains("]:"),
        None => authority.contains(':'),
    };
    let upstream = (!has_port).then(|| authority.to_string());
    // Runtime variables left in the URI are not part of the address.
    let text = text.split('$').next().unwrap_or("").to_string();
    Some(PassTarget {
        text,
        scheme,
        upstream,
    })
}

/// `default.conf` → `default`, `api.conf.template` → `api`, `site.nginx` → `site`.
fn file_stem(name: &str) -> String {
    let name = name.strip_suffix(".template").unwrap_or(name);
    let name = name
        .strip_suffix(".conf")
        .or_else(|| name.strip_suffix(".nginx"))
        .unwrap_or(name);
    name.to_string()
}

#[cfg(test)]
mod tests;
