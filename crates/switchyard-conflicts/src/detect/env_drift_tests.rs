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
