//! Tests of the nginx extractor over whole configuration files.

use super::*;

fn run(files: &[(&str, &str)]) -> (RepoFacts, Vec<Handled>) {
    let mut repo = RepoFiles::new("r");
    for (path, text) in files {
        repo.add_text(*path, *text);
    }
    let mut out = RepoFacts::default();
    let handled = repo
        .files()
        .iter()
        .map(|f| {
            if NginxExtractor.accepts(&f.path) {
                NginxExtractor.extract(f, &repo, &mut out)
            } else {
                Handled::NotMine
            }
        })
        .collect();
    (out, handled)
}

fn at(loc: &Location) -> (u32, u32) {
    (loc.line, loc.column)
}

/// `(from, key, address, (line, column))` of a reference.
type Ref<'a> = (Option<&'a str>, &'a str, &'a str, (u32, u32));

fn refs(facts: &RepoFacts) -> Vec<Ref<'_>> {
    facts
        .references
        .iter()
        .map(|r| match &r.target {
            Target::Address { text } => (
                r.from.as_deref(),
                r.key.as_deref().unwrap_or(""),
                text.as_str(),
                at(&r.location),
            ),
            other => panic!("unexpected target {other:?}"),
        })
        .collect()
}

fn endpoints(decl: &ServiceDecl) -> Vec<(EndpointKind, (u32, u32))> {
    decl.endpoints
        .iter()
        .map(|e| (e.kind.clone(), at(&e.location)))
        .collect()
}

fn domain(host: &str) -> EndpointKind {
    EndpointKind::Domain {
        host: host.into(),
        path: None,
    }
}

const SITE: &str = r#"# Main site
upstream backend {
    server api1:3000 weight=5;
    server api2:3000 backup;  # standby
    server unix:/run/api.sock;
}

server {
    listen 80;
    listen [::]:80;
    listen 127.0.0.1:8443 ssl;
    server_name _ shop.example.com *.shop.example.com ~^www\d+\.example\.com$;
    include /etc/nginx/snippets/*.conf;
    add_header X-Note "a ; { } # not a comment";

    location /api/ {
        proxy_pass http://backend;
    }
    location /auth {
        proxy_pass http://auth:9000/login;
    }
    location ~ \.php$ {
        fastcgi_pass php;
    }
    location /ws { proxy_pass http://$host; }
}
"#;

#[test]
fn server_names_listen_and_upstreams() {
    let (facts, handled) = run(&[("nginx/conf.d/site.conf", SITE)]);
    assert_eq!(handled, vec![Handled::Yes]);
    assert!(facts.diagnostics.is_empty(), "{:#?}", facts.diagnostics);
    assert_eq!(facts.services.len(), 1);
    let shop = &facts.services[0];
    assert_eq!(shop.name, "shop.example.com");
    assert_eq!(shop.kind, ServiceKind::Nginx);
    assert_eq!(shop.scope, Scope::Host);
    assert_eq!(at(&shop.source), (12, 19));
    assert_eq!(shop.owned_paths, vec!["nginx/conf.d/site.conf".to_string()]);
    assert_eq!(
        endpoints(shop),
        vec![
            (domain("shop.example.com"), (12, 19)),
            (domain("*.shop.example.com"), (12, 36)),
            (EndpointKind::HostProcessPort { port: 80 }, (9, 12)),
            (EndpointKind::HostProcessPort { port: 8443 }, (11, 12)),
        ]
    );
    assert_eq!(
        refs(&facts),
        vec![
            // The upstream's servers, at their own lines; the unix socket is skipped.
            (
                Some("shop.example.com"),
                "proxy_pass",
                "http://api1:3000",
                (3, 12)
            ),
            (
                Some("shop.example.com"),
                "proxy_pass",
                "http://api2:3000",
                (4, 12)
            ),
            (
                Some("shop.example.com"),
                "proxy_pass",
                "http://auth:9000/login",
                (20, 20)
            ),
            (Some("shop.example.com"), "fastcgi_pass", "php", (23, 22)),
            // `http://$host` is skipped.
        ]
    );
    assert!(
        facts
            .references
            .iter()
            .all(|r| r.mechanism == Mechanism::ProxyPass)
    );
}

#[test]
fn upstream_in_another_file_and_set_variables() {
    let upstreams = "upstream api_pool {\n  server api:8080;\n}\n";
    let site = "\
server {
  listen 8080;
  set $svc http://orders:7000;
  location / { proxy_pass http://api_pool/v1; }
  location /orders { proxy_pass $svc; }
  location /grpc { grpc_pass grpc://rpc:50051; }
}
";
    let (facts, _) = run(&[
        ("deploy/nginx/upstreams.conf", upstreams),
        ("deploy/nginx/site.conf", site),
    ]);
    assert_eq!(facts.services.len(), 1);
    let s = &facts.services[0];
    assert_eq!(s.name, "nginx-8080");
    assert_eq!(at(&s.source), (2, 10));
    let got = refs(&facts);
    assert_eq!(
        got,
        vec![
            (Some("nginx-8080"), "proxy_pass", "http://api:8080", (2, 10)),
            (
                Some("nginx-8080"),
                "proxy_pass",
                "http://orders:7000",
                (5, 33)
            ),
            (Some("nginx-8080"), "grpc_pass", "grpc://rpc:50051", (6, 30)),
        ]
    );
    assert_eq!(
        facts.references[0].location.path,
        "deploy/nginx/upstreams.conf"
    );
}

#[test]
fn servers_with_one_name_merge_and_fallback_names() {
    let text = "\
http {
  server { listen 80; server_name app.example.com; return 301 https://$host$request_uri; }
  server { listen 443 ssl; server_name app.example.com; location / { proxy_pass http://web:3000; } }
  server { root /srv; }
}
";
    let (facts, _) = run(&[("nginx.conf", text)]);
    let names: Vec<&str> = facts.services.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, vec!["app.example.com", "nginx"]);
    let app = &facts.services[0];
    assert_eq!(
        endpoints(app),
        vec![
            (domain("app.example.com"), (2, 35)),
            (EndpointKind::HostProcessPort { port: 80 }, (2, 19)),
            (EndpointKind::HostProcessPort { port: 443 }, (3, 19)),
        ]
    );
    assert_eq!(at(&facts.services[1].source), (4, 3));
    assert_eq!(refs(&facts).len(), 1);
}

#[test]
fn unbalanced_file_is_a_diagnostic() {
    let text = "server {\n  listen 80;\n  location / {\n    proxy_pass http://a:1;\n}\n";
    let (facts, handled) = run(&[("nginx/default.conf", text)]);
    assert_eq!(handled, vec![Handled::Yes]);
    assert!(facts.services.is_empty());
    assert_eq!(facts.diagnostics.len(), 1);
    let d = &facts.diagnostics[0];
    assert_eq!(d.code, DiagnosticCode::ParseError);
    assert_eq!(at(&d.location), (1, 8));
    assert!(d.message.contains("never closed"));

    let missing = "server {\n  listen 80\n}\n";
    let (facts, _) = run(&[("sites-enabled/a.conf", missing)]);
    assert_eq!(at(&facts.diagnostics[0].location), (2, 3));
}

#[test]
fn other_conf_files_are_not_mine() {
    let logstash = "input {\n  beats { port => 5044 }\n}\n";
    let supervisor = "[program:app]\ncommand=/app\n";
    let plain = "setting value;\n";
    let (facts, handled) = run(&[
        ("logstash/conf.d/pipeline.conf", logstash),
        ("supervisor/conf.d/app.conf", supervisor),
        ("conf.d/other.conf", plain),
    ]);
    assert_eq!(handled, vec![Handled::NotMine; 3]);
    assert_eq!(facts, RepoFacts::default());
}

#[test]
fn accepted_paths() {
    for path in [
        "nginx.conf",
        "deploy/nginx.conf",
        "nginx/default.conf",
        "docker/nginx-proxy/site.conf",
        "etc/conf.d/app.conf",
        "sites-available/shop",
        "nginx/templates/default.conf.template",
        "proxy/site.nginx",
    ] {
        let expect = path != "sites-available/shop";
        assert_eq!(NginxExtractor.accepts(path), expect, "{path}");
    }
    assert!(!NginxExtractor.accepts("app.conf"));
    assert!(!NginxExtractor.accepts("nginx/notes.txt"));
}

#[test]
fn snippet_outside_a_server_is_loose() {
    let snippet = "location /api { proxy_pass http://api:8080; }\n";
    let (facts, handled) = run(&[("nginx/snippets/api.conf", snippet)]);
    assert_eq!(handled, vec![Handled::Yes]);
    assert!(facts.services.is_empty());
    assert_eq!(
        refs(&facts),
        vec![(None, "proxy_pass", "http://api:8080", (1, 28))]
    );
}

#[test]
fn listen_ports_and_targets() {
    assert_eq!(listen_port("80"), Some(80));
    assert_eq!(listen_port("127.0.0.1:8080"), Some(8080));
    assert_eq!(listen_port("[::]:443"), Some(443));
    assert_eq!(listen_port("*:8000"), Some(8000));
    assert_eq!(listen_port("localhost"), Some(80));
    assert_eq!(listen_port("unix:/run/nginx.sock"), None);
    assert_eq!(listen_port("${PORT}"), None);
    let none = HashMap::new();
    assert_eq!(pass_target("http://$upstream_host", &none), None);
    assert_eq!(pass_target("http://unix:/tmp/x.sock:/", &none), None);
    let t = pass_target("http://backend/x", &none).unwrap();
    assert_eq!(t.upstream.as_deref(), Some("backend"));
    let t = pass_target("http://b:1$request_uri", &none).unwrap();
    assert_eq!((t.text.as_str(), t.upstream), ("http://b:1", None));
    assert_eq!(pass_target("http://api-$env:1", &none), None);
    let sets = HashMap::from([("h".to_string(), "api".to_string())]);
    assert_eq!(substitute("http://${h}:1/$uri", &sets), "http://api:1/$uri");
    assert_eq!(file_stem("api.conf.template"), "api");
}

proptest::proptest! {
    /// Any text is read or reported, never a panic, and every location lies inside the file.
    #[test]
    fn never_panics(text in "[a-z_ :$/{};#\"'\\\\\\n0-9.é\\[\\]]{0,120}") {
        let (facts, _) = run(&[("nginx/a.conf", &text)]);
        for d in &facts.diagnostics {
            proptest::prop_assert!(d.location.span.end <= text.len());
        }
        for r in &facts.references {
            proptest::prop_assert!(r.location.span.end <= text.len());
        }
    }

    #[test]
    fn never_panics_on_fragments(parts in proptest::collection::vec(proptest::sample::select(vec![
        "server {", "}", "listen 80;", "listen [::]:", "server_name a.com _;", "location / {",
        "proxy_pass http://up;", "upstream up {", "server b:1;", "set $x http://c:2;",
        "proxy_pass $x;", "\"q\\\"", "# c\n", "fastcgi_pass unix:/x;", "${", "é",
    ]), 0..16)) {
        let text = parts.join(" ");
        let _ = run(&[("nginx.conf", &text)]);
    }
}
