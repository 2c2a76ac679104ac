use super::*;
use crate::detect::index::testing::*;
use switchyard_model::{Edge, Mechanism, Reference, Scope, Unresolved, UnresolvedReason};

fn entry(repo: &str, key: &str, value: &str, line: u32) -> EnvEntry {
    EnvEntry {
        service: Some("app".into()),
        key: key.into(),
        display: value.into(),
        value_hash: blake3::hash(value.as_bytes()).to_hex().to_string(),
        location: loc(repo, ".env", line),
    }
}

fn fixture(entries: Vec<EnvEntry>) -> Fixture {
    let mut fx = Fixture::default();
    fx.model.repositories = vec![
        repo("a", "local", "default"),
        repo("b", "local", "default"),
        repo("c", "local", "default"),
    ];
    for e in entries {
        let r = e.location.repository.clone();
        fx.facts_mut(&r).env.push(e);
    }
    fx
}

fn run(fx: &Fixture) -> Vec<Conflict> {
    EnvDriftDetector::default().detect(fx.input())
}

#[test]
fn globs() {
    assert!(glob("PORT", "port"));
    assert!(!glob("PORT", "PORTS"));
    assert!(glob("*SELF*", "API_SELF_URL"));
    assert!(glob("*_URL", "AUTH_URL"));
    assert!(!glob("*_URL", "AUTH_URI"));
    assert!(glob("A*B*C", "AxxBxxC"));
    assert!(!glob("AB*BC", "ABC"));
}

#[test]
fn url_drift_is_high_and_redacted() {
    let fx = fixture(vec![
        entry("a", "AUTH_URL", "http://auth:4000", 1),
        entry("b", "AUTH_URL", "http://auth:4001", 2),
    ]);
    let c = run(&fx);
    assert_eq!(c.len(), 1);
    assert_eq!(c[0].resource, "env:AUTH_URL");
    assert_eq!(c[0].severity, Severity::High);
    assert_eq!(c[0].repositories, vec!["a", "b"]);
    assert_eq!(c[0].occurrences[0].detail, "AUTH_URL=http://auth:4000");
    assert_eq!(c[0].occurrences[1].location.to_string(), "b/.env:2:5");
    assert!(c[0].message.contains("2 different values across a and b"));
}

#[test]
fn same_values_or_one_repository_are_fine() {
    let fx = fixture(vec![
        entry("a", "AUTH_URL", "http://auth:4000", 1),
        entry("b", "AUTH_URL", "http://auth:4000", 2),
        entry("c", "OTHER_URL", "http://x:1", 3),
    ]);
    assert!(run(&fx).is_empty());
    // A repository with a dev and a prod value agrees when one of them matches.
    let fx = fixture(vec![
        entry("a", "AUTH_URL", "http://auth:4000", 1),
        entry("a", "AUTH_URL", "https://auth.example.com", 2),
        entry("b", "AUTH_URL", "https://auth.example.com", 3),
    ]);
    assert!(run(&fx).is_empty());
}

#[test]
fn non_url_keys_need_shared_config_or_a_list() {
    let fx = fixture(vec![
        entry("a", "LOG_LEVEL", "debug", 1),
        entry("b", "LOG_LEVEL", "info", 2),
    ]);
    assert!(run(&fx).is_empty());
    let listed = EnvDriftDetector::new(EnvDriftConfig {
        keys: Some(vec!["log_*".into()]),
        ignore: Vec::new(),
    });
    let c = listed.detect(fx.input());
    assert_eq!((c.len(), c[0].severity), (1, Severity::Medium));

    // Two configuration repositories defining one key under `config/`.
    let mut fx = fixture(vec![
        entry("a", "FEATURE_FLAGS", "x,y", 1),
        entry("b", "FEATURE_FLAGS", "x", 2),
    ]);
    for f in &mut fx.facts {
        for e in &mut std::sync::Arc::make_mut(f).env {
            e.location.path = "config/shared.env".into();
        }
    }
    assert_eq!(run(&fx).len(), 1);
    // … but not when one of them is a compose deployment rather than a config repository.
    fx.model.services.push(service(
        "b",
        "web",
        vec![compose_scope("docker-compose.yml")],
        vec![],
    ));
    assert!(run(&fx).is_empty());
}

#[test]
fn ignored_keys() {
    for key in [
        "PORT",
        "NODE_ENV",
        "API_SELF_URL",
        "PUBLIC_URL",
        "CORS_ORIGINS",
    ] {
        let fx = fixture(vec![
            entry("a", key, "http://a:1", 1),
            entry("b", key, "http://b:2", 2),
        ]);
        assert!(run(&fx).is_empty(), "{key}");
    }
}

#[test]
fn other_hosts_and_environments_do_not_drift() {
    let mut fx = fixture(vec![
        entry("a", "AUTH_URL", "http://auth:4000", 1),
        entry("b", "AUTH_URL", "http://auth:4001", 2),
    ]);
    fx.model.repositories[1].host = "nas".into();
    assert!(run(&fx).is_empty());
}

#[test]
fn own_database_urls_differ_on_purpose() {
    let mut fx = fixture(vec![
        entry("a", "DATABASE_URL", "postgres://app:***@db:5432/a", 1),
        entry("b", "DATABASE_URL", "postgres://app:***@db:5432/b", 2),
    ]);
    // Both resolve to a `db` service of their own repository.
    for r in ["a", "b"] {
        let l = fx.facts_mut(r).env[0].location.clone();
        let text = fx.facts_mut(r).env[0].display.clone();
        fx.facts_mut(r).references.push(Reference {
            from: Some("app".into()),
            target: Target::Address { text },
            mechanism: Mechanism::Env,
            key: Some("DATABASE_URL".into()),
            location: l.clone(),
            scope: Scope::Host,
        });
        fx.model
            .services
            .push(service(r, "app", vec![Scope::Host], vec![]));
        fx.model
            .services
            .push(service(r, "db", vec![Scope::Host], vec![]));
        fx.model.edges.push(Edge {
            from: format!("{r}/app"),
            to: format!("{r}/db"),
            mechanisms: vec![Mechanism::Env],
            evidence: vec![l],
            ..Edge::new("", "")
        });
    }
    assert!(run(&fx).is_empty());
    // When one of them points elsewhere (unresolved), the values drift, on one server: low.
    fx.model.edges.pop();
    let l = fx.facts_mut("b").env[0].location.clone();
    fx.model.unresolved.push(Unresolved {
        repository: "b".into(),
        service: Some("app".into()),
        reference: "postgres://app:***@db:5432/b".into(),
        mechanism: Mechanism::Env,
        reason: UnresolvedReason::NoProvider,
        location: l,
    });
    let c = run(&fx);
    assert!(c.is_empty(), "a's own-db value is not compared: {c:#?}");
}

#[test]
fn same_server_different_database_is_low() {
    let fx = fixture(vec![
        entry("a", "DATABASE_URL", "postgres://app:***@pg:5432/orders", 1),
        entry("b", "DATABASE_URL", "postgres://app:***@pg:5432/users", 2),
    ]);
    let c = run(&fx);
    assert_eq!((c.len(), c[0].severity), (1, Severity::Low));
    assert!(c[0].message.contains("same server"));
}

#[test]
fn two_names_of_one_server_are_low() {
    let mut fx = fixture(vec![
        entry("a", "DATABASE_URL", "postgres://a:***@localhost:5432/a", 1),
        entry(
            "b",
            "DATABASE_URL",
            "postgres://b:***@host.docker.internal:5432/b",
            2,
        ),
    ]);
    fx.model
        .services
        .push(service("c", "postgres", vec![Scope::Host], vec![]));
    for r in ["a", "b"] {
        let l = fx.facts_mut(r).env[0].location.clone();
        let text = fx.facts_mut(r).env[0].display.clone();
        fx.facts_mut(r).references.push(Reference {
            from: Some("app".into()),
            target: Target::Address { text },
            mechanism: Mechanism::Env,
            key: Some("DATABASE_URL".into()),
            location: l.clone(),
            scope: Scope::Host,
        });
        fx.model
            .services
            .push(service(r, "app", vec![Scope::Host], vec![]));
        fx.model.edges.push(Edge {
            from: format!("{r}/app"),
            to: "c/postgres".into(),
            mechanisms: vec![Mechanism::Env],
            evidence: vec![l],
            ..Edge::new("", "")
        });
    }
    let c = run(&fx);
    assert_eq!((c.len(), c[0].severity), (1, Severity::Low), "{c:#?}");
    // Two different services that both answer: worth a look (medium), not broken.
    fx.model
        .services
        .push(service("c", "postgres-2", vec![Scope::Host], vec![]));
    fx.model.edges[1].to = "c/postgres-2".into();
    let c = run(&fx);
    assert_eq!(c[0].severity, Severity::Medium);
    assert!(
        c[0].message.contains("2 different ones"),
        "{}",
        c[0].message
    );
    // One of them reaching nothing is high.
    fx.model.edges.pop();
    let l = fx.facts_mut("b").env[0].location.clone();
    fx.model.unresolved.push(Unresolved {
        repository: "b".into(),
        service: Some("app".into()),
        reference: "postgres://b:***@host.docker.internal:5432/b".into(),
        mechanism: Mechanism::Env,
        reason: UnresolvedReason::NoProvider,
        location: l,
    });
    assert_eq!(run(&fx)[0].severity, Severity::High);
}

#[test]
fn who_drifts() {
    let e = |repo: &str, v: &str| entry(repo, "K", v, 1);
    let (a1, b1, b2, c2, d3) = (
        e("a", "1"),
        e("b", "1"),
        e("b", "2"),
        e("c", "2"),
        e("d", "3"),
    );
    let mut per_repo: BTreeMap<&str, Vec<&EnvEntry>> = BTreeMap::new();
    per_repo.insert("a", vec![&a1]);
    per_repo.insert("b", vec![&b1, &b2]);
    per_repo.insert("c", vec![&c2]);
    // b agrees with a (1) and with c (2); a and c share nothing.
    let got: Vec<&str> = drifting_repositories(&per_repo).into_iter().collect();
    assert_eq!(got, vec!["a", "c"]);
    per_repo.insert("d", vec![&d3]);
    let got: Vec<&str> = drifting_repositories(&per_repo).into_iter().collect();
    assert_eq!(got, vec!["a", "b", "c", "d"]);
    let mut same: BTreeMap<&str, Vec<&EnvEntry>> = BTreeMap::new();
    same.insert("a", vec![&a1]);
    same.insert("b", vec![&b1]);
    assert!(drifting_repositories(&same).is_empty());
}

fn at(repo: &str, path: &str, key: &str, value: &str, line: u32) -> EnvEntry {
    let mut e = entry(repo, key, value, line);
    e.location = loc(repo, path, line);
    e
}

#[test]
fn environments_of_files() {
    for (path, env) in [
        (".env.staging", Some("staging")),
        ("web/.env.production.local", Some("production")),
        ("environments/staging.json", Some("staging")),
        ("helm/values-prod.yaml", Some("production")),
        ("k8s/overlays/staging/kustomization.yaml", Some("staging")),
        ("docker-compose.dev.yml", Some("development")),
        (".env", None),
        ("config/default.json", None),
        (".env.docker", None),
    ] {
        assert_eq!(file_environment(path), env, "{path}");
    }
    assert_eq!(environment_of_name("shop-staging"), Some("staging"));
    for t in [
        ".env.example",
        "config/.env.sample",
        "x/.env.template",
        "config.example.json",
        "example.env",
        "values-template.yaml",
        "settings_tmpl.json",
        "traefik/dynamic/anubis.yml.dist",
    ] {
        assert!(is_template(t), "{t}");
    }
    for t in [
        ".env.production",
        "examples/app/.env",
        "distributed.env",
        "templates/deployment.yaml",
    ] {
        assert!(!is_template(t), "{t}");
    }
}

#[test]
fn templates_and_secrets_are_not_drift() {
    let mut fx = fixture(vec![
        at("a", ".env.example", "AUTH_URL", "http://localhost:4000", 1),
        entry("b", "AUTH_URL", "http://auth:4000", 2),
    ]);
    assert!(run(&fx).is_empty());
    // Secrets differ per deployment on purpose, even when listed.
    fx = fixture(vec![
        entry("a", "JWT_SECRET", "***", 1),
        entry("b", "JWT_SECRET", "***", 2),
    ]);
    fx.facts_mut("b").env[0].value_hash = "other".into();
    let listed = EnvDriftDetector::new(EnvDriftConfig {
        keys: Some(vec!["*".into()]),
        ignore: Vec::new(),
    });
    assert!(listed.detect(fx.input()).is_empty());
}

/// `cfg` is a shared configuration repository with one file per environment; `a` consumes it.
fn config_fleet(a_production: &str) -> Fixture {
    let mut fx = fixture(vec![
        at(
            "cfg",
            "environments/staging.json",
            "API_URL",
            "https://api-staging.example.com",
            2,
        ),
        at(
            "cfg",
            "environments/production.json",
            "API_URL",
            "https://api.example.com",
            2,
        ),
        at(
            "cfg",
            "environments/production.json",
            "FEATURE_CHAT",
            "on",
            3,
        ),
        at(
            "a",
            ".env.staging",
            "API_URL",
            "https://api-staging.example.com",
            1,
        ),
        at("a", ".env.production", "API_URL", a_production, 1),
        at("a", ".env.production", "FEATURE_CHAT", "off", 2),
        at(
            "a",
            ".env.development",
            "API_URL",
            "http://localhost:3000",
            1,
        ),
        at("a", ".env.example", "FEATURE_CHAT", "maybe", 1),
    ]);
    fx.model.repositories.push(repo("cfg", "local", "default"));
    fx
}

#[test]
fn shared_config_per_environment_files_against_consumers() {
    let mut c = run(&config_fleet("https://api.example.org"));
    c.sort_by(|a, b| a.resource.cmp(&b.resource));
    let ids: Vec<&str> = c.iter().map(|c| c.resource.as_str()).collect();
    assert_eq!(
        ids,
        ["env:API_URL@production", "env:FEATURE_CHAT@production"],
        "{c:#?}"
    );
    let url = &c[0];
    assert_eq!(url.repositories, vec!["a", "cfg"]);
    assert!(
        url.message.contains("in their production files")
            && url
                .message
                .contains("https://api.example.org in a/.env.production:1:5")
            && url.message.contains(
                "set it to the shared configuration's value (https://api.example.com in cfg)"
            ),
        "{}",
        url.message
    );
    // The consumer's staging and development files do not count against production.
    assert_eq!(url.occurrences.len(), 2);
    // Agreeing per environment: nothing, although a's development value is its own.
    let c = run(&config_fleet("https://api.example.com"));
    assert_eq!(c.len(), 1, "{c:#?}");
    assert_eq!(c[0].resource, "env:FEATURE_CHAT@production");
}

#[test]
fn a_place_named_after_an_environment_compares_only_its_files() {
    let mut fx = config_fleet("https://api.example.com");
    for r in &mut fx.model.repositories {
        r.environment = "staging".into();
    }
    // Staging files (and unlabelled ones) are staging's: they agree. The configuration
    // repository's production file is still compared with the consumer's production file.
    let c = run(&fx);
    assert_eq!(c.len(), 1, "{c:#?}");
    assert_eq!(c[0].resource, "env:FEATURE_CHAT@production");
    fx.facts_mut("a").env[2].display = "on".into();
    fx.facts_mut("a").env[2].value_hash = blake3::hash(b"on").to_hex().to_string();
    assert!(run(&fx).is_empty(), "{:#?}", run(&fx));
    fx.facts_mut("a").env[0].display = "https://old.example.com".into();
    fx.facts_mut("a").env[0].value_hash = "old".into();
    let c = run(&fx);
    assert_eq!(c.len(), 1, "{c:#?}");
    assert_eq!(c[0].resource, "env:API_URL");
}

fn writer(repo: &str, service_name: &str, path: &str, ro: bool) -> switchyard_model::ResourceUse {
    switchyard_model::ResourceUse {
        service: Some(service_name.into()),
        kind: switchyard_model::ResourceKind::BindMount,
        identifier: path.into(),
        read_only: ro,
        external: false,
        settings: Default::default(),
        location: loc(repo, "compose.yaml", 20),
    }
}

fn homelab(books_puid: &str, books_ro: bool, books_umask: &str) -> Fixture {
    let mut fx = Fixture::default();
    fx.model.repositories = vec![
        repo("media", "nas", "default"),
        repo("books", "nas", "default"),
    ];
    for (r, s, puid, umask, ro) in [
        ("media", "sonarr", "1000", "022", false),
        ("books", "calibre", books_puid, books_umask, books_ro),
    ] {
        fx.model
            .services
            .push(service(r, s, vec![compose_scope("compose.yaml")], vec![]));
        let f = fx.facts_mut(r);
        f.resources.push(writer(r, s, "/srv/data", ro));
        for (key, value, line) in [
            ("PUID", puid, 12),
            ("PGID", "1000", 13),
            ("UMASK", umask, 14),
        ] {
            let mut e = at(r, "compose.yaml", key, value, line);
            e.service = Some(s.into());
            f.env.push(e);
        }
    }
    fx
}

#[test]
fn writers_of_one_volume_agree_on_owner_and_umask() {
    let c = run(&homelab("1001", false, "0022"));
    assert_eq!(c.len(), 1, "{c:#?}");
    assert_eq!(
        (c[0].resource.as_str(), c[0].severity),
        ("env:PUID:/srv/data", Severity::Medium)
    );
    assert_eq!(
        c[0].message,
        "PUID differs between repositories that write /srv/data on host nas: 1001 in \
         books/compose.yaml:12:5 and 1000 in media/compose.yaml:12:5; files one writes belong \
         to an id the other cannot change; make them agree"
    );
    // A read-only reader, or equal values (umask 022 = 0022), are fine.
    assert!(run(&homelab("1001", true, "0022")).is_empty());
    assert!(run(&homelab("1000", false, "22")).is_empty());
    let c = run(&homelab("1000", false, "002"));
    assert_eq!(c[0].resource, "env:UMASK:/srv/data");
}

fn db_fleet(b_name: &str, b_host: &str) -> Fixture {
    let mut fx = Fixture::default();
    fx.model.repositories = vec![
        repo("a", "local", "default"),
        repo("b", "local", "default"),
        repo("c", "local", "default"),
    ];
    let mut pg = service("c", "postgres", vec![compose_scope("compose.yaml")], vec![]);
    pg.image = Some("postgres:16".into());
    fx.model.services.push(pg);
    for (r, s, name, host) in [("a", "api", "shop", "pg"), ("b", "worker", b_name, b_host)] {
        fx.model
            .services
            .push(service(r, s, vec![compose_scope("compose.yaml")], vec![]));
        let mut evidence = Vec::new();
        for (key, value, line) in [
            ("DB_HOST", host, 3),
            ("DB_NAME", name, 4),
            ("DB_PASSWORD", "***", 5),
        ] {
            let mut e = at(r, ".env", key, value, line);
            e.service = Some(s.into());
            if key == "DB_HOST" && host == "pg" {
                evidence.push(e.location.clone());
            }
            fx.facts_mut(r).env.push(e);
        }
        evidence.push(loc(r, ".env", 99));
        fx.model.edges.push(Edge {
            from: format!("{r}/{s}"),
            to: "c/postgres".into(),
            mechanisms: vec![Mechanism::Env],
            evidence,
            ..Edge::new("", "")
        });
    }
    fx.facts_mut("b").env[2].value_hash = "another password".into();
    fx
}

#[test]
fn services_of_one_database_agree_on_its_name_and_host() {
    assert!(run(&db_fleet("shop", "pg")).is_empty());
    let c = run(&db_fleet("shop_prod", "pg"));
    assert_eq!(c.len(), 1, "{c:#?}");
    assert_eq!(
        (c[0].resource.as_str(), c[0].severity),
        ("database:c/postgres:name", Severity::Low)
    );
    assert!(
        c[0].message.starts_with(
            "the database name differs between repositories that use c/postgres on host local: \
             shop in a/.env:4:5 and shop_prod in b/.env:4:5"
        ),
        "{}",
        c[0].message
    );
    // A host value that does not reach the server the other reaches.
    let c = run(&db_fleet("shop", "10.0.0.9"));
    assert_eq!(c.len(), 1, "{c:#?}");
    assert_eq!(
        (c[0].resource.as_str(), c[0].severity),
        ("database:c/postgres:host", Severity::Medium)
    );
    assert!(!format!("{c:?}").contains("another password"));
}

#[test]
fn conventions_of_the_fleet() {
    let mut fx = fixture(vec![
        entry("a", "TZ", "UTC", 1),
        entry("b", "TZ", "Europe/Berlin", 1),
        at("c", ".env.example", "TZ", "America/New_York", 1),
        entry("a", "PUID", "1000", 2),
        entry("b", "PUID", "1001", 2),
        entry("a", "AUTH_URL", "http://auth:4000", 3),
        entry("b", "AUTH_URL", "http://auth:4001", 3),
    ]);
    fx.model.repositories[1].host = "nas".into();
    fx.model.repositories[0].host = "nas".into();
    fx.model.conventions = switchyard_model::Conventions {
        agree: vec!["puid".into()],
        ignore: vec!["AUTH_*".into()],
        values: vec![switchyard_model::ConventionValue {
            key: "TZ".into(),
            value: "Europe/Berlin".into(),
            line: 7,
        }],
    };
    fx.model.repositories[1].host = "pi".into();
    let c = run(&fx);
    let got: Vec<(&str, &str, Vec<String>)> = c
        .iter()
        .map(|c| (c.resource.as_str(), c.host.as_str(), c.repositories.clone()))
        .collect();
    assert_eq!(
        got,
        [
            (
                "convention:PUID",
                "nas,pi",
                vec!["a".to_string(), "b".to_string()]
            ),
            ("convention:TZ", "nas", vec!["a".to_string()]),
        ],
        "{c:#?}"
    );
    let tz = c
        .iter()
        .find(|c| c.resource == "convention:TZ")
        .map(|c| c.message.clone());
    assert_eq!(
        tz.as_deref(),
        Some(
            "TZ must be Europe/Berlin (switchyard.toml:7 [conventions.values]) but is UTC in \
             a/.env:1:5; set it to Europe/Berlin"
        )
    );
    // A secret convention is never printed.
    fx.model.conventions.values[0] = switchyard_model::ConventionValue {
        key: "API_TOKEN".into(),
        value: "hunter2".into(),
        line: 8,
    };
    fx.facts_mut("a")
        .env
        .push(entry("a", "API_TOKEN", "***", 9));
    let c = run(&fx);
    assert!(!format!("{c:?}").contains("hunter2"));
    assert!(c.iter().any(|c| c.resource == "convention:API_TOKEN"));
}

/// `c/postgres` (creating `create`, when given) with clients `a/api` and `b/worker` whose
/// `DATABASE_URL`s name `shop` and `b_db`; `b_server` is the server b's DSN reaches.
fn dsn_fleet(create: Option<&str>, b_db: &str, b_server: &str) -> Fixture {
    let mut fx = Fixture::default();
    fx.model.repositories = vec![
        repo("a", "local", "default"),
        repo("b", "local", "default"),
        repo("c", "local", "default"),
    ];
    for name in ["postgres", "postgres2"] {
        let mut pg = service("c", name, vec![compose_scope("compose.yaml")], vec![]);
        pg.image = Some("postgres:16".into());
        fx.model.services.push(pg);
    }
    if let Some(db) = create {
        let mut e = at("c", "compose.yaml", "POSTGRES_DB", db, 21);
        e.service = Some("postgres".into());
        fx.facts_mut("c").env.push(e);
    }
    for (r, s, db, server) in [
        ("a", "api", "shop", "postgres"),
        ("b", "worker", b_db, b_server),
    ] {
        fx.model
            .services
            .push(service(r, s, vec![compose_scope("compose.yaml")], vec![]));
        let mut e = at(
            r,
            "compose.yaml",
            "DATABASE_URL",
            &format!("postgres://shop:***@{server}:5432/{db}?sslmode=disable"),
            7,
        );
        e.service = Some(s.into());
        fx.model.edges.push(Edge {
            from: format!("{r}/{s}"),
            to: format!("c/{server}"),
            mechanisms: vec![Mechanism::Env],
            evidence: vec![e.location.clone()],
            ..Edge::new("", "")
        });
        fx.facts_mut(r).env.push(e);
    }
    fx
}

#[test]
fn database_names_in_dsns() {
    assert_eq!(
        shared::dsn_database("postgres://u:***@db:5432/shop?sslmode=disable").as_deref(),
        Some("shop")
    );
    assert_eq!(
        shared::dsn_database("postgresql+psycopg2://u@db/shop").as_deref(),
        Some("shop")
    );
    assert_eq!(
        shared::dsn_database("mongodb://db:27017/orders").as_deref(),
        Some("orders")
    );
    assert_eq!(shared::dsn_database("postgres://db:5432"), None);
    assert_eq!(shared::dsn_database("postgres://db:5432/${DB}"), None);
    assert_eq!(shared::dsn_database("https://api.example.com/shop"), None);
    assert_eq!(shared::dsn_database("redis://cache:6379/0"), None);
}

#[test]
fn dsns_naming_a_database_the_server_does_not_create() {
    let c = run(&dsn_fleet(Some("shop"), "shop_jobs", "postgres"));
    assert_eq!(c.len(), 1, "{c:#?}");
    assert_eq!(
        (c[0].resource.as_str(), c[0].severity),
        ("database:c/postgres:name", Severity::Medium)
    );
    assert_eq!(c[0].repositories, vec!["a", "b", "c"]);
    let places: Vec<String> = c[0]
        .occurrences
        .iter()
        .map(|o| o.location.to_string())
        .collect();
    assert_eq!(
        places,
        [
            "a/compose.yaml:7:5",
            "b/compose.yaml:7:5",
            "c/compose.yaml:21:5"
        ]
    );
    assert!(
        c[0].message.contains(
            "shop in a/compose.yaml:7:5 and shop_jobs in b/compose.yaml:7:5; c/postgres creates \
             only shop (POSTGRES_DB at c/compose.yaml:21:5), so DATABASE_URL of b/worker \
             (b/compose.yaml:7:5) uses a database that does not exist (the server refuses \
             the connection unless its migrations create it"
        ) && c[0]
            .message
            .contains("Point DATABASE_URL of b/worker (b/compose.yaml:7:5) at shop")
            && c[0].message.contains("create shop_jobs on c/postgres"),
        "{}",
        c[0].message
    );
    assert!(!c[0].message.contains("***"), "{}", c[0].message);
}

/// The database findings of a run (two DSNs with different paths are also a low `env:` drift
/// of the URLs when neither is the client's own server; that is not what these tests are about).
fn database_findings(fx: &Fixture) -> Vec<Conflict> {
    run(fx)
        .into_iter()
        .filter(|c| c.resource.starts_with("database:"))
        .collect()
}

#[test]
fn dsn_look_alikes_stay_quiet() {
    // One database for both.
    assert!(run(&dsn_fleet(Some("shop"), "shop", "postgres")).is_empty());
    // What the server creates is unknown: no guess.
    assert!(database_findings(&dsn_fleet(None, "shop_jobs", "postgres")).is_empty());
    // The maintenance database every Postgres server has.
    assert!(database_findings(&dsn_fleet(Some("shop"), "postgres", "postgres")).is_empty());
    // Init scripts may create more databases.
    let mut fx = dsn_fleet(Some("shop"), "shop_jobs", "postgres");
    let mut init = writer("c", "postgres", "c/initdb", true);
    init.location = loc("c", "compose.yaml", 24);
    fx.facts_mut("c").resources.push(init);
    assert!(database_findings(&fx).is_empty());
    // Clients of two different servers.
    assert!(database_findings(&dsn_fleet(Some("shop"), "shop_jobs", "postgres2")).is_empty());
}

/// A configuration repository's per-environment dotenv files and a consumer's `.env.<env>`,
/// on a laptop whose repositories run as `development`.
fn dotenv_config_fleet(consumer_staging: &str) -> Fixture {
    let mut fx = fixture(vec![
        at(
            "cfg",
            "environments/staging.env",
            "API_URL",
            "https://api.staging.example.com",
            2,
        ),
        at(
            "cfg",
            "environments/production.env",
            "API_URL",
            "https://api.example.com",
            1,
        ),
        at("a", ".env.staging", "API_URL", consumer_staging, 2),
        at(
            "a",
            ".env.production",
            "API_URL",
            "https://api.example.com",
            1,
        ),
        // A template documents keys, deploys nothing.
        at(
            "a",
            ".env.staging.example",
            "API_URL",
            "https://your-api.example",
            1,
        ),
        // A key the configuration repository does not define for staging.
        at(
            "a",
            ".env.staging",
            "SENTRY_URL",
            "https://a.sentry.example",
            3,
        ),
        at(
            "b",
            ".env.staging",
            "SENTRY_URL",
            "https://b.sentry.example",
            3,
        ),
    ]);
    fx.model
        .repositories
        .push(repo("cfg", "laptop", "development"));
    for r in &mut fx.model.repositories {
        r.host = "laptop".into();
        r.environment = "development".into();
    }
    fx
}

#[test]
fn configuration_dotenv_files_of_other_environments_against_consumers() {
    let c = run(&dotenv_config_fleet("https://old-staging.onrender.com"));
    assert_eq!(c.len(), 1, "{c:#?}");
    assert_eq!(c[0].resource, "env:API_URL@staging");
    assert_eq!(c[0].repositories, vec!["a", "cfg"]);
    let places: Vec<String> = c[0]
        .occurrences
        .iter()
        .map(|o| o.location.to_string())
        .collect();
    assert_eq!(
        places,
        ["a/.env.staging:2:5", "cfg/environments/staging.env:2:5"]
    );
    assert!(
        c[0].message.contains("in their staging files on host laptop")
            && c[0].message.contains(
                "set it to the shared configuration's value (https://api.staging.example.com in cfg)"
            ),
        "{}",
        c[0].message
    );
    // Agreeing: nothing (production agrees too; the template and SENTRY_URL are not compared).
    assert!(run(&dotenv_config_fleet("https://api.staging.example.com")).is_empty());
}
