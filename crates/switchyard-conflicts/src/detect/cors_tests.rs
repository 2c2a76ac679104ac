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
    assert!(
        c[0].message
            .ends_with("add http://localhost:3000 to CORS_ORIGINS in api/.env:4"),
        "{}",
        c[0].message
    );
}

#[test]
fn localhost_and_127_0_0_1_are_different_origins() {
    let c = run(&fixture(
        "REACT_APP_API_URL",
        Some("http://127.0.0.1:3000/"),
    ));
    assert_eq!(c.len(), 1, "{c:#?}");
    assert!(
        c[0].message
            .contains("localhost and 127.0.0.1 are different origins"),
        "{}",
        c[0].message
    );
}

#[test]
fn allowed_or_unchecked() {
    // Listed (127.0.0.1 and localhost are the same machine), or everything allowed.
    for list in [
        "http://localhost:3000",
        "http://localhost:3000/",
        "[\"http://localhost:3000\"]",
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

#[test]
fn environments_are_matched_by_file() {
    for (path, stage) in [
        (".env", Stage::Any),
        (".env.local", Stage::Any),
        (".env.staging", Stage::Named("staging")),
        (".env.production.local", Stage::Named("production")),
        ("config/production.json", Stage::Named("production")),
        (
            "k8s/overlays/prod/configmap.yaml",
            Stage::Named("production"),
        ),
        ("docker-compose.dev.yml", Stage::Named("development")),
        (".env.example", Stage::Template),
        ("config/settings.sample.yaml", Stage::Template),
    ] {
        assert_eq!(stage_of(path, Stage::Any), stage, "{path}");
    }
    assert_eq!(
        stage_of(".env", Stage::Named("staging")),
        Stage::Named("staging")
    );
    assert!(Stage::Named("staging").fits(Stage::Any));
    assert!(!Stage::Named("staging").fits(Stage::Named("production")));
    assert!(!Stage::Template.fits(Stage::Any));

    // A staging frontend is not checked against the production allow-list.
    let mut fx = fixture("REACT_APP_API_URL", Some("http://localhost:3001"));
    fx.facts_mut("api").env[0].location = loc("api", ".env.production", 2);
    assert!(run(&fx).is_empty());
    fx.facts_mut("api").env[0].location = loc("api", ".env.development", 2);
    assert_eq!(run(&fx).len(), 1);
    // Nor against a template.
    fx.facts_mut("api").env[0].location = loc("api", ".env.example", 2);
    assert!(run(&fx).is_empty());
}

#[test]
fn repositories_of_two_environments_are_not_compared() {
    let mut fx = fixture("REACT_APP_API_URL", Some("http://localhost:3001"));
    fx.model.repositories[1].environment = "staging".into();
    assert!(run(&fx).is_empty());
    fx.model.repositories[1].environment = "dev".into();
    assert_eq!(run(&fx).len(), 1);
}

#[test]
fn kubernetes_namespaces_name_environments() {
    // The backend runs in `shop-production`: its (file-less) list is production's, which the
    // dev server is not checked against.
    let mut fx = fixture("REACT_APP_API_URL", Some("http://localhost:3001"));
    for r in &mut fx.model.repositories {
        r.environment = "default".into();
    }
    fx.model.services[1].scopes = vec![Scope::Kubernetes {
        namespace: "shop-production".into(),
    }];
    assert!(run(&fx).is_empty());
    fx.model.services[1].scopes = vec![Scope::Kubernetes {
        namespace: "shop-dev".into(),
    }];
    assert_eq!(run(&fx).len(), 1);
}

#[test]
fn same_origin_calls_need_no_cors() {
    assert!(
        Origin::Domain {
            host: "app.example.com".into(),
            secure: true
        }
        .same_origin_as("https://app.example.com/api")
    );
    assert!(!localhost(3000).same_origin_as("http://localhost:8080"));
    assert!(localhost(3000).same_origin_as("http://localhost:3000/api"));
}

/// The fixture fleet of `fixtures/cors/`, read from disk as the CLI would.
fn fixture_fleet() -> Vec<Conflict> {
    use switchyard_extract::source::RepoFiles;
    use switchyard_extract::{Registry, extract_files};
    fn add(files: &mut RepoFiles, root: &std::path::Path, dir: &std::path::Path) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        let mut entries: Vec<_> = entries.flatten().map(|e| e.path()).collect();
        entries.sort();
        for path in entries {
            if path.is_dir() {
                add(files, root, &path);
            } else if let (Ok(text), Ok(rel)) =
                (std::fs::read_to_string(&path), path.strip_prefix(root))
            {
                files.add_text(rel.to_string_lossy().replace('\\', "/"), text);
            }
        }
    }
    let base = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/cors");
    let names = ["admin", "api", "portal", "shop", "web-vite", "worker"];
    let registry = Registry::default();
    let repositories: Vec<switchyard_model::Repository> =
        names.iter().map(|n| repo(n, "local", "default")).collect();
    let facts: Vec<switchyard_model::RepoFacts> = names
        .iter()
        .map(|n| {
            let mut files = RepoFiles::new(*n);
            add(&mut files, &base.join(n), &base.join(n));
            extract_files(files, &registry)
        })
        .collect();
    let model = switchyard_link::link(&repositories, &facts);
    let facts: Vec<_> = facts.into_iter().map(std::sync::Arc::new).collect();
    crate::detect::detect(
        crate::FleetInput {
            model: &model,
            facts: &facts,
            lookup: &crate::Lookup::default(),
        },
        &[],
    )
}

#[test]
fn fixture_fleet_findings() {
    let all = fixture_fleet();
    let cors: Vec<&Conflict> = all
        .iter()
        .filter(|c| c.kind == ConflictKind::CorsMissingOrigin)
        .collect();
    let mut text = String::new();
    for c in &cors {
        text.push_str(&format!(
            "{} [{:?}]\n  {}\n",
            c.resource, c.severity, c.message
        ));
        for o in &c.occurrences {
            text.push_str(&format!("  - {} {}\n", o.location, o.detail));
        }
    }
    let resources: Vec<&str> = cors.iter().map(|c| c.resource.as_str()).collect();
    assert_eq!(
        resources,
        [
            "cors:api/api:https://shop.example.com",
            "cors:api/api:http://localhost:5173",
            "cors:api/api:http://localhost:4300",
        ],
        "{text}"
    );
    // Look-alikes: the staging admin app (listed in its environment), the same-origin portal,
    // the server-side worker, the shop's dev server (listed) and the `.env.example` `*`.
    assert!(!text.contains("admin"), "{text}");
    assert!(!text.contains("portal"), "{text}");
    assert!(!text.contains("worker"), "{text}");
    assert!(!text.contains(".env.example"), "{text}");
    insta::assert_snapshot!(text);
}

/// The fixture with the dev server bound to `host` (`HOST` read from `file`).
fn bound(file: &str, host: &str, cors: &str) -> Fixture {
    let mut fx = fixture("REACT_APP_API_URL", Some(cors));
    let mut entry = env("web", "web", "HOST", host);
    entry.location = loc("web", file, 7);
    fx.facts_mut("web").env.push(entry);
    fx
}

#[test]
fn a_dev_server_bound_to_127_0_0_1_is_opened_there() {
    let c = run(&bound(
        "vite.config.ts",
        "127.0.0.1",
        "http://localhost:3000",
    ));
    assert_eq!(c.len(), 1, "{c:#?}");
    assert_eq!(c[0].resource, "cors:api/api:http://127.0.0.1:3000");
    assert!(
        c[0].message.contains(
            "web/web calls api/api from http://127.0.0.1:3000 (dev server, web/package.json:6)"
        ),
        "{}",
        c[0].message
    );
    assert!(
        c[0].message
            .contains("(localhost is listed, but 127.0.0.1 and localhost are different origins)"),
        "{}",
        c[0].message
    );
    let places: Vec<(String, &str)> = c[0]
        .occurrences
        .iter()
        .map(|o| (o.location.to_string(), o.detail.as_str()))
        .collect();
    assert!(
        places.contains(&(
            "web/vite.config.ts:7:5".to_string(),
            "dev server host http://127.0.0.1:3000"
        )),
        "{places:?}"
    );
    // A script's `--host` in package.json says the same.
    let c = run(&bound("package.json", "127.0.0.1", "http://localhost:3000"));
    assert_eq!(c[0].resource, "cors:api/api:http://127.0.0.1:3000");
}

#[test]
fn every_interface_or_localhost_is_opened_at_localhost() {
    for host in ["0.0.0.0", "localhost", "::", "true"] {
        assert!(
            run(&bound("vite.config.ts", host, "http://localhost:3000")).is_empty(),
            "{host}"
        );
    }
    // The origin the server binds, listed.
    assert!(
        run(&bound(
            "vite.config.ts",
            "127.0.0.1",
            "http://127.0.0.1:3000"
        ))
        .is_empty()
    );
    // A `HOST` of the app's own `.env` is not a dev server setting (vite does not read it).
    assert!(run(&bound(".env", "127.0.0.1", "http://localhost:3000")).is_empty());
}

#[test]
fn page_hosts() {
    assert_eq!(page_host("0.0.0.0"), "localhost");
    assert_eq!(page_host("'127.0.0.1'"), "127.0.0.1");
    assert_eq!(page_host("::1"), "[::1]");
    assert_eq!(page_host("Dev.Example.Test"), "dev.example.test");
    assert_eq!(page_host("local-ip"), "localhost");
}

/// The fixture's call left ambiguous: `api/api` and `other/api2` both listen on 8080.
fn ambiguous(other_cors: Option<&str>) -> Fixture {
    let mut fx = fixture("REACT_APP_API_URL", Some("http://localhost:3001"));
    fx.model.repositories.push(repo("other", "local", "dev"));
    fx.model.services.push(service(
        "other",
        "api2",
        vec![Scope::Host],
        vec![EndpointKind::HostProcessPort { port: 8080 }],
    ));
    fx.model.edges.clear();
    fx.model.unresolved.push(switchyard_model::Unresolved {
        repository: "web".into(),
        service: Some("web".into()),
        reference: "http://localhost:8080".into(),
        mechanism: Mechanism::Env,
        reason: switchyard_model::UnresolvedReason::Ambiguous,
        location: loc("web", ".env", 1),
    });
    if let Some(value) = other_cors {
        fx.facts_mut("other")
            .env
            .push(env("other", "api2", "CORS_ORIGINS", value));
    }
    fx
}

#[test]
fn an_ambiguous_call_is_judged_against_the_only_backend_with_an_allow_list() {
    let c = run(&ambiguous(None));
    assert_eq!(c.len(), 1, "{c:#?}");
    assert_eq!(c[0].resource, "cors:api/api:http://localhost:3000");
    // Both hold an allow-list: which one the call reaches is not known.
    assert!(run(&ambiguous(Some("http://localhost:3001"))).is_empty());
}

#[test]
fn create_react_app_binds_the_host_of_its_env_file() {
    let mut fx = bound(".env", "127.0.0.1", "http://localhost:3000");
    fx.facts_mut("web")
        .env
        .push(env("web", "web", "scripts.start", "react-scripts"));
    if let Some(e) = fx.facts_mut("web").env.last_mut() {
        e.location = loc("web", "package.json", 6);
    }
    let c = run(&fx);
    assert_eq!(c.len(), 1, "{c:#?}");
    assert_eq!(c[0].resource, "cors:api/api:http://127.0.0.1:3000");
    // Vite does not read `HOST` from `.env`.
    if let Some(e) = fx.facts_mut("web").env.last_mut() {
        e.display = "vite".into();
    }
    assert!(run(&fx).is_empty());
}
