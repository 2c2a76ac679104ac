use super::*;
use crate::detect::index::testing::*;
use switchyard_model::{Edge, Endpoint, Reference, Scope, Target};

fn env(repo: &str, service: &str, key: &str, value: &str) -> EnvEntry {
    EnvEntry {
        service: Some(service.into()),
        key: key.into(),
        display: value.into(),
        value_hash: String::new(),
        location: loc(repo, ".env", 4),
    }
}

/// Frontend repo `web` (dev server on 3000 from package.json) calling backend repo `api`.
fn fixture(key: &str, cors: Option<&str>) -> Fixture {
    let mut fx = Fixture::default();
    fx.model.repositories = vec![repo("web", "local", "dev"), repo("api", "local", "dev")];
    let mut front = service("web", "web", vec![Scope::Host], vec![]);
    front.endpoints.push(Endpoint {
        kind: EndpointKind::HostProcessPort { port: 3000 },
        location: loc("web", "package.json", 6),
    });
    let back = service(
        "api",
        "api",
        vec![Scope::Host],
        vec![EndpointKind::HostProcessPort { port: 8080 }],
    );
    fx.model.services = vec![front, back];
    let l = loc("web", ".env", 1);
    fx.facts_mut("web").references.push(Reference {
        from: Some("web".into()),
        target: Target::Address {
            text: "http://localhost:8080".into(),
        },
        mechanism: Mechanism::Env,
        key: Some(key.into()),
        location: l.clone(),
        scope: Scope::Host,
    });
    fx.model.edges.push(Edge {
        from: "web/web".into(),
        to: "api/api".into(),
        mechanisms: vec![Mechanism::Env],
        evidence: vec![l],
        ..Edge::new("", "")
    });
    if let Some(value) = cors {
        fx.facts_mut("api")
            .env
            .push(env("api", "api", "CORS_ORIGINS", value));
    }
    fx
}

fn run(fx: &Fixture) -> Vec<Conflict> {
    CorsDetector.detect(fx.input())
}

#[test]
fn parses_allow_lists() {
    assert_eq!(allow_list("true"), None);
    assert_eq!(allow_list("3600"), None);
    assert_eq!(allow_list("***"), None);
    assert_eq!(allow_list("*"), Some(vec![Allowed::Any]));
    assert_eq!(
        allow_list("[\"http://localhost:3000\", \"https://*.example.com\"]"),
        Some(vec![
            Allowed::Origin {
                host: "localhost".into(),
                port: Some(3000)
            },
            Allowed::Suffix("example.com".into()),
        ])
    );
    assert!(!is_cors_key("CORS_ALLOW_METHODS"));
    assert!(is_cors_key("ALLOWED_ORIGINS"));
}

#[test]
fn missing_dev_origin() {
    let fx = fixture(
        "REACT_APP_API_URL",
        Some("http://localhost:3001,https://app.example.com"),
    );
    let c = run(&fx);
    assert_eq!(c.len(), 1, "{c:#?}");
    assert_eq!(c[0].resource, "cors:api/api:http://localhost:3000");
    assert_eq!(c[0].severity, Severity::Medium);
    assert_eq!(c[0].repositories, vec!["api", "web"]);
    let details: Vec<&str> = c[0].occurrences.iter().map(|o| o.detail.as_str()).collect();
    assert!(
        details.contains(&"origin http://localhost:3000"),
        "{details:?}"
    );
    assert!(details.contains(&"REACT_APP_API_URL=http://localhost:8080"));
    assert!(details.contains(&"CORS_ORIGINS=http://localhost:3001,https://app.example.com"));
    assert!(
        c[0].message
            .contains("web/web calls api/api from http://localhost:3000")
    );
}

#[test]
fn allowed_or_unchecked() {
    // Listed (127.0.0.1 and localhost are the same machine), or everything allowed.
    for list in [
        "http://localhost:3000",
        "http://127.0.0.1:3000/",
        "*",
        "/localhost/",
    ] {
        assert!(
            run(&fixture("REACT_APP_API_URL", Some(list))).is_empty(),
            "{list}"
        );
    }
    // No allow-list: nothing to check.
    assert!(run(&fixture("REACT_APP_API_URL", None)).is_empty());
    // A dev-proxy target is called by the dev server, not the page.
    assert!(run(&fixture("proxy", Some("http://localhost:3001"))).is_empty());
}

#[test]
fn server_to_server_calls_need_no_cors() {
    let mut fx = fixture("API_URL", Some("http://localhost:3001"));
    // The same caller without a dev-server port and with a non-browser key is a backend.
    fx.model.services[0].endpoints.clear();
    fx.model.services[0]
        .endpoints
        .push(switchyard_model::Endpoint {
            kind: EndpointKind::HostPort {
                host_ip: None,
                start: 3000,
                end: 3000,
                container_port: Some(3000),
                protocol: switchyard_model::Protocol::Tcp,
            },
            location: loc("web", "docker-compose.yml", 9),
        });
    assert!(run(&fx).is_empty());
    // With a browser key it is a page again.
    let fx = fixture("VITE_API_URL", Some("http://localhost:3001"));
    assert_eq!(run(&fx).len(), 1);
}

#[test]
fn production_domain_origin() {
    let mut fx = fixture("NEXT_PUBLIC_API", Some("https://www.example.com"));
    fx.model.services[0].endpoints.push(Endpoint {
        kind: EndpointKind::Domain {
            host: "app.example.com".into(),
            path: None,
        },
        location: loc("web", "k8s/ingress.yaml", 12),
    });
    let c = run(&fx);
    // The production list is not expected to allow the dev server; the domain is missing.
    assert_eq!(c.len(), 1, "{c:#?}");
    assert_eq!(c[0].resource, "cors:api/api:https://app.example.com");
    fx.facts_mut("api").env[0].display = "https://*.example.com".into();
    assert!(run(&fx).is_empty());
}
