//! Extraction tests over small compose projects: services, ports, merges, includes, extends,
//! interpolation, locations, Traefik labels and broken input.

use super::*;
use switchyard_model::{EndpointKind, Protocol, ServiceDecl};

fn run(files: &[(&str, &str)]) -> RepoFacts {
    let mut repo = RepoFiles::new("r");
    for (path, text) in files {
        repo.add_text(*path, *text);
    }
    let mut out = RepoFacts::default();
    for file in repo.files() {
        if ComposeExtractor.accepts(&file.path) {
            ComposeExtractor.extract(file, &repo, &mut out);
        }
    }
    out
}

fn service<'a>(facts: &'a RepoFacts, name: &str) -> &'a ServiceDecl {
    facts
        .services
        .iter()
        .find(|s| s.name == name)
        .unwrap_or_else(|| panic!("no service {name} in {:?}", names(facts)))
}

fn names(facts: &RepoFacts) -> Vec<&str> {
    facts.services.iter().map(|s| s.name.as_str()).collect()
}

fn host_ports(s: &ServiceDecl) -> Vec<(Option<&str>, u16, u16, Option<u16>, Protocol)> {
    s.endpoints
        .iter()
        .filter_map(|e| match &e.kind {
            EndpointKind::HostPort {
                host_ip,
                start,
                end,
                container_port,
                protocol,
            } => Some((host_ip.as_deref(), *start, *end, *container_port, *protocol)),
            _ => None,
        })
        .collect()
}

fn container_ports(s: &ServiceDecl) -> Vec<u16> {
    s.endpoints
        .iter()
        .filter_map(|e| match &e.kind {
            EndpointKind::ContainerPort { port, .. } => Some(*port),
            _ => None,
        })
        .collect()
}

fn env<'a>(facts: &'a RepoFacts, service: &str, key: &str) -> &'a switchyard_model::EnvEntry {
    facts
        .env
        .iter()
        .find(|e| e.service.as_deref() == Some(service) && e.key == key)
        .unwrap_or_else(|| panic!("no env {key} for {service}"))
}

fn refs(facts: &RepoFacts, mechanism: Mechanism) -> Vec<(String, String)> {
    facts
        .references
        .iter()
        .filter(|r| r.mechanism == mechanism)
        .map(|r| {
            let target = match &r.target {
                Target::ServiceName { name } => name.clone(),
                Target::Address { text } => text.clone(),
                other => format!("{other:?}"),
            };
            (r.from.clone().unwrap_or_default(), target)
        })
        .collect()
}

fn codes(facts: &RepoFacts) -> Vec<DiagnosticCode> {
    facts.diagnostics.iter().map(|d| d.code).collect()
}

fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect()
}

#[test]
fn file_names() {
    for yes in [
        "docker-compose.yml",
        "docker-compose.override.yaml",
        "compose.yaml",
        "compose-dev.yml",
        "docker-stack.yml",
        "docker-stack.prod.yaml",
        "docker-compose_test.yml",
    ] {
        assert!(is_compose_file_name(yes), "{yes}");
    }
    for no in [
        "composer.yml",
        "compose.json",
        "docker-compose.yml.bak",
        "stack.yml",
    ] {
        assert!(!is_compose_file_name(no), "{no}");
    }
    for yes in [
        "docker-compose.test.yml",
        "docker-compose-test.yml",
        "compose.ci.yaml",
        "docker-compose.e2e.yml",
        "test.compose.yml",
    ] {
        assert!(is_test_harness_name(yes), "{yes}");
    }
    for no in [
        "docker-compose.yml",
        "docker-compose.testing-db.yml",
        "compose.latest.yml",
    ] {
        assert!(!is_test_harness_name(no), "{no}");
    }
}

#[test]
fn port_forms_and_locations() {
    let text = "services:\n  web:\n    image: nginx:1.25\n    ports:\n      - \"8080:80\"\n      - 127.0.0.1:9229:9229\n      - \"8000-8001:90-91/udp\"\n      - \"[::1]:5353:53/udp\"\n      - 3000\n      - target: 443\n        published: \"8443\"\n        host_ip: 0.0.0.0\n        protocol: tcp\n      - target: 6000\n        published: 7000-7001\n      - target: 9000\n    expose:\n      - 5000\n      - \"5001/udp\"\n";
    let facts = run(&[("app/docker-compose.yml", text)]);
    assert!(facts.diagnostics.is_empty(), "{:?}", facts.diagnostics);
    let web = service(&facts, "web");
    assert_eq!(web.image.as_deref(), Some("nginx:1.25"));
    use Protocol::*;
    assert_eq!(
        host_ports(web),
        vec![
            (None, 8080, 8080, Some(80), Tcp),
            (Some("127.0.0.1"), 9229, 9229, Some(9229), Tcp),
            (None, 8000, 8001, Some(90), Udp),
            (Some("::1"), 5353, 5353, Some(53), Udp),
            (Some("0.0.0.0"), 8443, 8443, Some(443), Tcp),
            (None, 7000, 7001, Some(6000), Tcp),
        ]
    );
    assert_eq!(
        container_ports(web),
        vec![80, 9229, 90, 91, 53, 3000, 443, 6000, 9000, 5000, 5001]
    );
    // The host port's own digits are located, so a patch can change exactly them.
    let loc = |kind: &EndpointKind| {
        web.endpoints
            .iter()
            .find(|e| &e.kind == kind)
            .map(|e| e.location.clone())
            .unwrap()
    };
    let first = loc(&EndpointKind::HostPort {
        host_ip: None,
        start: 8080,
        end: 8080,
        container_port: Some(80),
        protocol: Tcp,
    });
    assert_eq!((first.line, first.column), (5, 10));
    assert_eq!(&text[first.span.start..first.span.end], "8080");
    let second = loc(&EndpointKind::HostPort {
        host_ip: Some("127.0.0.1".into()),
        start: 9229,
        end: 9229,
        container_port: Some(9229),
        protocol: Tcp,
    });
    assert_eq!((second.line, second.column), (6, 19));
    let long = loc(&EndpointKind::HostPort {
        host_ip: Some("0.0.0.0".into()),
        start: 8443,
        end: 8443,
        container_port: Some(443),
        protocol: Tcp,
    });
    assert_eq!((long.line, long.column), (11, 21));
    assert_eq!(web.source.to_string(), "r/app/docker-compose.yml:2:3");
    assert_eq!(
        web.scope,
        Scope::Compose {
            project: "app/docker-compose.yml".into()
        }
    );
}

#[test]
fn bad_port_in_one_service_keeps_the_rest() {
    let text = "services:\n  a:\n    image: x\n    ports: [\"80:http\", \"81:81\"]\n  b:\n    image: y\n    ports:\n      - \"70000:80\"\n      - target: 80\n        protocol: quic\n  c:\n    image: z\n    ports: [\"9000:9000\"]\n";
    let facts = run(&[("compose.yaml", text)]);
    assert_eq!(names(&facts), vec!["a", "b", "c"]);
    assert_eq!(
        codes(&facts),
        vec![
            DiagnosticCode::InvalidValue,
            DiagnosticCode::InvalidValue,
            DiagnosticCode::InvalidValue
        ]
    );
    assert_eq!(facts.diagnostics[0].location.line, 4);
    assert_eq!(facts.diagnostics[1].location.line, 8);
    assert_eq!(host_ports(service(&facts, "a")).len(), 1);
    assert_eq!(host_ports(service(&facts, "c"))[0].1, 9000);
}

#[test]
fn anchors_and_merge_keys() {
    let text = "x-common: &common\n  image: base:1\n  environment:\n    LOG_LEVEL: info\n    API_URL: http://api:3000\n  depends_on: [db]\nservices:\n  worker:\n    <<: *common\n    image: worker:2\n  db:\n    image: postgres\n";
    let facts = run(&[("compose.yaml", text)]);
    assert_eq!(names(&facts), vec!["worker", "db"]);
    let worker = service(&facts, "worker");
    assert_eq!(worker.image.as_deref(), Some("worker:2"));
    let api = env(&facts, "worker", "API_URL");
    // Merged keys point at the anchor they came from.
    assert_eq!((api.location.line, api.location.column), (5, 14));
    assert_eq!(
        refs(&facts, Mechanism::DependsOn),
        pairs(&[("worker", "db")])
    );
    assert_eq!(
        refs(&facts, Mechanism::Env),
        pairs(&[("worker", "http://api:3000")])
    );
}

#[test]
fn override_merges_into_base() {
    let base = "services:\n  web:\n    image: web:1\n    ports: [\"8080:80\"]\n    environment:\n      MODE: prod\n      KEEP: yes\n";
    let over = "services:\n  web:\n    ports: [\"9229:9229\"]\n    environment:\n      MODE: dev\n      EXTRA: \"1\"\n  debug:\n    image: busybox\n";
    let facts = run(&[
        ("docker-compose.yml", base),
        ("docker-compose.override.yml", over),
    ]);
    assert_eq!(names(&facts), vec!["web", "debug"]);
    let web = service(&facts, "web");
    assert_eq!(
        host_ports(web).iter().map(|p| p.1).collect::<Vec<_>>(),
        vec![8080, 9229]
    );
    assert_eq!(env(&facts, "web", "MODE").display, "dev");
    assert_eq!(
        env(&facts, "web", "MODE").location.path,
        "docker-compose.override.yml"
    );
    assert_eq!(env(&facts, "web", "KEEP").display, "yes");
    assert_eq!(env(&facts, "web", "EXTRA").display, "1");
    assert_eq!(facts.env.len(), 3);
    for s in &facts.services {
        assert_eq!(
            s.scope,
            Scope::Compose {
                project: "docker-compose.yml".into()
            }
        );
    }
    assert_eq!(
        service(&facts, "debug").source.path,
        "docker-compose.override.yml"
    );
}

#[test]
fn override_without_base_is_standalone() {
    let over = "services:\n  web:\n    image: web:1\n";
    let facts = run(&[("compose.override.yaml", over)]);
    assert_eq!(names(&facts), vec!["web"]);
    assert_eq!(
        facts.services[0].scope,
        Scope::Compose {
            project: "compose.override.yaml".into()
        }
    );
}

#[test]
fn includes_join_the_project() {
    let base = "include:\n  - infra/compose.db.yaml\n  - path: ./missing.yml\n  - path:\n      - cache/compose.yaml\nservices:\n  api:\n    image: api\n    depends_on: [db, cache]\n";
    let db = "services:\n  db:\n    image: postgres\n    volumes:\n      - ./init.sql:/docker-entrypoint-initdb.d/init.sql\n";
    let cache = "services:\n  cache:\n    image: redis\n";
    let facts = run(&[
        ("compose.yaml", base),
        ("infra/compose.db.yaml", db),
        ("cache/compose.yaml", cache),
    ]);
    assert_eq!(names(&facts), vec!["api", "db", "cache"]);
    let scope = Scope::Compose {
        project: "compose.yaml".into(),
    };
    assert!(facts.services.iter().all(|s| s.scope == scope));
    // Relative paths of an included file resolve against its own directory.
    assert_eq!(service(&facts, "db").owned_paths, vec!["infra/init.sql"]);
    assert_eq!(codes(&facts), vec![DiagnosticCode::MissingFile]);
    assert_eq!(facts.diagnostics[0].location.line, 3);
}

#[test]
fn extends_merges_under_the_service() {
    let base = "services:\n  base:\n    image: app:1\n    environment:\n      A: from-base\n      B: from-base\n  web:\n    extends: base\n    environment:\n      B: from-web\n  worker:\n    extends:\n      file: common/services.yml\n      service: job\n  loop1:\n    extends: loop2\n  loop2:\n    extends: loop1\n  ghost:\n    extends:\n      service: nowhere\n  far:\n    extends:\n      file: nope.yml\n      service: x\n";
    let common = "services:\n  job:\n    image: job:3\n    build: ./job\n";
    let facts = run(&[
        ("docker-compose.yml", base),
        ("common/services.yml", common),
    ]);
    assert_eq!(env(&facts, "web", "A").display, "from-base");
    assert_eq!(env(&facts, "web", "B").display, "from-web");
    assert_eq!(service(&facts, "web").image.as_deref(), Some("app:1"));
    let worker = service(&facts, "worker");
    assert_eq!(worker.image.as_deref(), Some("job:3"));
    assert_eq!(worker.owned_paths, vec!["common/job"]);
    assert!(names(&facts).contains(&"loop1"));
    let mut c = codes(&facts);
    c.sort();
    assert_eq!(
        c,
        vec![
            DiagnosticCode::MissingFile,
            DiagnosticCode::MissingFile,
            DiagnosticCode::InvalidValue,
            DiagnosticCode::InvalidValue
        ]
    );
}

#[test]
fn interpolation_uses_project_env() {
    let compose = "services:\n  web:\n    image: \"web:${TAG:-latest}\"\n    ports:\n      - \"${WEB_PORT:-8080}:80\"\n    environment:\n      API_URL: http://${API_HOST}:${API_PORT:-3000}\n      MISSING: ${NOPE}\n      AGAIN: ${NOPE}\n      NEEDED: ${MUST:?set MUST}\n      COST: $$5\n";
    let dotenv = "TAG=2.1\nAPI_HOST=api\n";
    let facts = run(&[("svc/compose.yaml", compose), ("svc/.env", dotenv)]);
    let web = service(&facts, "web");
    assert_eq!(web.image.as_deref(), Some("web:2.1"));
    assert_eq!(host_ports(web)[0].1, 8080);
    assert_eq!(env(&facts, "web", "API_URL").display, "http://api:3000");
    assert_eq!(env(&facts, "web", "MISSING").display, "");
    assert_eq!(env(&facts, "web", "COST").display, "$5");
    assert_eq!(
        refs(&facts, Mechanism::Env),
        pairs(&[("web", "http://api:3000")])
    );
    // One diagnostic per unset variable per file, located at its `${`.
    let unset: Vec<_> = facts
        .diagnostics
        .iter()
        .filter(|d| d.code == DiagnosticCode::UnsetVariable)
        .collect();
    assert_eq!(unset.len(), 2, "{unset:?}");
    assert_eq!((unset[0].location.line, unset[0].location.column), (8, 16));
    assert!(unset[0].message.contains("NOPE"));
    assert!(unset[1].message.contains("set MUST"));
    // The process environment is never read.
    assert!(std::env::var("NOPE").is_err());
}

#[test]
fn environment_locations() {
    let text = "services:\n  app:\n    image: app\n    environment:\n      - DB_HOST=db\n      - \"REDIS_URL=redis://cache:6379\"\n      - EMPTY=\n      - FROM_DOTENV\n      - NOT_SET\n  other:\n    image: o\n    environment:\n      PORT: 8080\n      DEBUG: true\n      NOTHING:\n      URL: 'http://app:8080/x'\n";
    let facts = run(&[
        ("compose.yaml", text),
        (".env", "FROM_DOTENV=dotenv-value\n"),
    ]);
    let loc = |s: &str, k: &str| {
        let e = env(&facts, s, k);
        (
            e.location.line,
            e.location.column,
            e.location.span.end - e.location.span.start,
        )
    };
    assert_eq!(loc("app", "DB_HOST"), (5, 17, 2));
    assert_eq!(loc("app", "REDIS_URL"), (6, 20, 18));
    assert_eq!(loc("app", "EMPTY"), (7, 15, 0));
    assert_eq!(env(&facts, "app", "FROM_DOTENV").display, "dotenv-value");
    assert!(
        !facts
            .env
            .iter()
            .any(|e| e.key == "NOT_SET" || e.key == "NOTHING")
    );
    assert_eq!(loc("other", "PORT"), (13, 13, 4));
    assert_eq!(env(&facts, "other", "DEBUG").display, "true");
    assert_eq!(loc("other", "URL"), (16, 13, 17));
    assert_eq!(
        refs(&facts, Mechanism::Env),
        pairs(&[
            ("app", "db"),
            ("app", "redis://cache:6379"),
            ("other", "http://app:8080/x")
        ])
    );
    let r = &facts.references[0];
    assert_eq!(r.key.as_deref(), Some("DB_HOST"));
    assert_eq!((r.location.line, r.location.column), (5, 17));
}

#[test]
fn env_file_is_read_under_the_service() {
    let compose = "services:\n  api:\n    image: api\n    env_file:\n      - ./config/api.env\n      - path: ./optional.env\n        required: false\n      - ./missing.env\n    environment:\n      OVERRIDDEN: compose\n  worker:\n    image: w\n    env_file: config/api.env\n";
    let api_env = "DATABASE_URL=postgres://u:secret@db:5432/app\nOVERRIDDEN=file\nbad line\n";
    let facts = run(&[("compose.yaml", compose), ("config/api.env", api_env)]);
    let db = env(&facts, "api", "DATABASE_URL");
    assert_eq!(db.location.path, "config/api.env");
    assert_eq!((db.location.line, db.location.column), (1, 14));
    assert_eq!(env(&facts, "api", "OVERRIDDEN").display, "compose");
    assert_eq!(env(&facts, "worker", "OVERRIDDEN").display, "file");
    assert!(!format!("{facts:?}").contains("secret@"));
    assert_eq!(
        service(&facts, "api").owned_paths,
        vec!["config/api.env", "optional.env", "missing.env"]
    );
    assert_eq!(
        codes(&facts),
        vec![DiagnosticCode::InvalidValue, DiagnosticCode::MissingFile]
    );
    assert_eq!(facts.diagnostics[0].location.path, "config/api.env");
    assert_eq!(facts.diagnostics[0].location.line, 3);
    assert_eq!(facts.diagnostics[1].location.line, 8);
    // The dotenv extractor leaves this file to compose.
    let mut repo = RepoFiles::new("r");
    repo.add_text("compose.yaml", compose);
    repo.add_text("config/api.env", api_env);
    repo.add_text("other/.env", "A=1\n");
    assert!(is_env_file_of_compose(&repo, "config/api.env"));
    assert!(!is_env_file_of_compose(&repo, "other/.env"));
}

#[test]
fn service_name_references() {
    let text = "services:\n  web:\n    image: w\n    depends_on:\n      db:\n        condition: service_healthy\n      cache:\n        condition: service_started\n    links:\n      - db:database\n      - cache\n    volumes_from:\n      - data:ro\n      - container:outside\n  db:\n    image: postgres\n  cache:\n    image: redis\n  data:\n    image: busybox\n";
    let facts = run(&[("compose.yaml", text)]);
    assert_eq!(
        refs(&facts, Mechanism::DependsOn),
        pairs(&[("web", "db"), ("web", "cache")])
    );
    assert_eq!(
        refs(&facts, Mechanism::Link),
        pairs(&[("web", "db"), ("web", "cache")])
    );
    assert_eq!(
        refs(&facts, Mechanism::VolumesFrom),
        pairs(&[("web", "data")])
    );
    let depends = &facts.references[0];
    assert_eq!((depends.location.line, depends.location.column), (5, 7));
    let link = facts
        .references
        .iter()
        .find(|r| r.mechanism == Mechanism::Link)
        .unwrap();
    assert_eq!((link.location.line, link.location.column), (10, 9));
    assert_eq!(link.location.span.end - link.location.span.start, 2);
    let db = service(&facts, "db");
    assert_eq!(db.aliases.len(), 1);
    assert_eq!(db.aliases[0].name, "database");
    assert_eq!(db.aliases[0].kind, AliasKind::LinkAlias);
    assert_eq!(db.aliases[0].location.line, 10);
}

#[test]
fn command_addresses_and_healthcheck_skipped() {
    let text = "services:\n  app:\n    image: app\n    command: [\"--broker=kafka:9092\", \"--listen=0.0.0.0:8080\", \"--advertise PLAINTEXT://app:29092,OUTSIDE://0.0.0.0:9092\"]\n    entrypoint: node server.js --upstream http://api:3000/v1\n    healthcheck:\n      test: [\"CMD\", \"curl\", \"-f\", \"http://other:9999\"]\n";
    let facts = run(&[("compose.yaml", text)]);
    assert_eq!(
        refs(&facts, Mechanism::Command),
        pairs(&[
            ("app", "http://api:3000/v1"),
            ("app", "kafka:9092"),
            ("app", "PLAINTEXT://app:29092"),
        ])
    );
    let upstream = &facts.references[0];
    assert_eq!((upstream.location.line, upstream.location.column), (5, 43));
    let kafka = &facts.references[1];
    assert_eq!((kafka.location.line, kafka.location.column), (4, 25));
    assert_eq!(kafka.key.as_deref(), Some("command"));
}

#[test]
fn networks_aliases_and_resources() {
    let text = "services:\n  api:\n    image: api\n    container_name: api-1\n    hostname: api.local\n    networks:\n      backend:\n        aliases: [api-internal]\n        ipv4_address: 172.28.0.10\n      shared: {}\n    volumes:\n      - data:/data\n      - ./conf/app.yml:/etc/app.yml:ro\n      - /var/run/docker.sock:/var/run/docker.sock\n      - /anonymous\n      - type: bind\n        source: ./static\n        target: /static\n        read_only: true\n      - type: volume\n        source: logs\n        target: /logs\n      - type: tmpfs\n        target: /tmp\n  worker:\n    image: w\n    build: .\n  host:\n    image: h\n    network_mode: host\nvolumes:\n  data:\n    name: prod_data\n  logs:\n    external: true\nnetworks:\n  backend:\n    driver: bridge\n    ipam:\n      config:\n        - subnet: 172.28.0.0/16\n        - subnet: 10.1.0.0/24\n  shared:\n    external: true\n    name: proxy_net\n";
    let facts = run(&[("deploy/compose.yaml", text)]);
    let api = service(&facts, "api");
    let aliases: Vec<(&str, AliasKind)> = api
        .aliases
        .iter()
        .map(|a| (a.name.as_str(), a.kind))
        .collect();
    assert_eq!(
        aliases,
        vec![
            ("api-1", AliasKind::ContainerName),
            ("api.local", AliasKind::Hostname),
            ("api-internal", AliasKind::NetworkAlias),
            ("172.28.0.10", AliasKind::IpAddress),
        ]
    );
    let nets: Vec<(&str, Option<&str>)> = api
        .networks
        .iter()
        .map(|n| (n.name.as_str(), n.external_name.as_deref()))
        .collect();
    assert_eq!(nets, vec![("backend", None), ("shared", Some("proxy_net"))]);
    assert_eq!(api.networks[0].aliases, vec!["api-internal"]);
    assert_eq!(api.networks[0].location.line, 7);
    assert_eq!(
        api.owned_paths,
        vec!["deploy/conf/app.yml", "deploy/static"]
    );
    let worker = service(&facts, "worker");
    assert_eq!(worker.networks[0].name, "default");
    assert_eq!(worker.owned_paths, vec!["deploy"]);
    assert!(service(&facts, "host").networks.is_empty());
    let res: Vec<(ResourceKind, &str, bool, bool)> = facts
        .resources
        .iter()
        .map(|r| (r.kind, r.identifier.as_str(), r.read_only, r.external))
        .collect();
    assert_eq!(
        res,
        vec![
            (ResourceKind::Volume, "prod_data", false, false),
            (ResourceKind::BindMount, "deploy/conf/app.yml", true, false),
            (
                ResourceKind::BindMount,
                "/var/run/docker.sock",
                false,
                false
            ),
            (ResourceKind::BindMount, "deploy/static", true, false),
            (ResourceKind::Volume, "logs", false, true),
            (ResourceKind::ContainerName, "api-1", false, false),
            (ResourceKind::Network, "backend", false, false),
            (ResourceKind::Network, "proxy_net", false, true),
        ]
    );
    let volume = &facts.resources[0];
    assert_eq!((volume.location.line, volume.location.column), (12, 9));
    assert_eq!(volume.location.span.end - volume.location.span.start, 4);
    let backend = &facts.resources[6];
    assert_eq!(
        backend.settings.get("driver").map(String::as_str),
        Some("bridge")
    );
    assert_eq!(
        backend.settings.get("subnet").map(String::as_str),
        Some("10.1.0.0/24,172.28.0.0/16")
    );
}

#[test]
fn traefik_labels_route_from_the_proxy() {
    let text = "services:\n  proxy:\n    image: traefik:v2.10\n    command: --providers.docker\n    ports: [\"80:80\"]\n  api:\n    image: api\n    labels:\n      - \"traefik.enable=true\"\n      - \"traefik.http.routers.api.rule=Host(`api.example.com`) && PathPrefix(`/v1`)\"\n      - \"traefik.http.services.api.loadbalancer.server.port=3000\"\n  web:\n    image: web\n    deploy:\n      labels:\n        traefik.http.routers.web.rule: Host(`www.example.com`)\n  hidden:\n    image: h\n    labels:\n      traefik.enable: \"false\"\n      traefik.http.routers.h.rule: Host(`h.example.com`)\n  plain:\n    image: p\n";
    let facts = run(&[("compose.yaml", text)]);
    assert_eq!(
        refs(&facts, Mechanism::Label),
        pairs(&[("proxy", "api"), ("proxy", "web")])
    );
    let label = &facts.references[0];
    assert_eq!((label.location.line, label.location.column), (10, 10));
    assert_eq!(label.key.as_deref(), Some("traefik.http.routers.api.rule"));
    let api = service(&facts, "api");
    let domain = api
        .endpoints
        .iter()
        .find(|e| matches!(e.kind, EndpointKind::Domain { .. }))
        .unwrap();
    assert_eq!(
        domain.kind,
        EndpointKind::Domain {
            host: "api.example.com".into(),
            path: Some("/v1".into())
        }
    );
    assert_eq!((domain.location.line, domain.location.column), (10, 40));
    assert_eq!(container_ports(api), vec![3000]);
    let web = service(&facts, "web");
    assert!(web.endpoints.iter().any(|e| e.kind
        == EndpointKind::Domain {
            host: "www.example.com".into(),
            path: None
        }));
}

#[test]
fn labels_without_a_proxy_make_no_references() {
    let text = "services:\n  api:\n    image: api\n    labels:\n      traefik.http.routers.api.rule: Host(`a.io`)\n";
    let facts = run(&[("compose.yaml", text)]);
    assert!(refs(&facts, Mechanism::Label).is_empty());
    assert_eq!(service(&facts, "api").endpoints.len(), 1);
}

#[test]
fn test_harness_flag() {
    let text = "services:\n  sut:\n    build: ./tests\n";
    let facts = run(&[
        ("result/docker-compose.test.yml", text),
        ("docker-compose.yml", text),
    ]);
    let flags: Vec<(bool, &str)> = facts
        .services
        .iter()
        .map(|s| (s.test_harness, s.source.path.as_str()))
        .collect();
    assert_eq!(
        flags,
        vec![
            (true, "result/docker-compose.test.yml"),
            (false, "docker-compose.yml")
        ]
    );
}

#[test]
fn broken_files_become_diagnostics() {
    let facts = run(&[
        (
            "a/compose.yaml",
            "services:\n  web:\n    image: [unclosed\n",
        ),
        ("b/compose.yaml", "- just\n- a list\n"),
        ("c/compose.yaml", "services: [web]\n"),
        (
            "d/compose.yaml",
            "services:\n  web: 5\n  ok:\n    image: fine\n",
        ),
        ("e/compose.yaml", ""),
        (
            "f/compose.yaml",
            "services:\n  web:\n    image: x\n    environment: 7\n    ports: {a: b}\n    networks: 3\n    volumes: [{type: bind}]\n",
        ),
    ]);
    assert_eq!(
        codes(&facts),
        vec![
            DiagnosticCode::ParseError,
            DiagnosticCode::InvalidValue,
            DiagnosticCode::InvalidValue,
            DiagnosticCode::InvalidValue,
            DiagnosticCode::InvalidValue,
        ]
    );
    assert_eq!(facts.diagnostics[0].location.path, "a/compose.yaml");
    assert_eq!(names(&facts), vec!["ok", "web"]);
}

#[test]
fn kubernetes_named_compose_is_not_mine() {
    let mut repo = RepoFiles::new("r");
    repo.add_text(
        "compose.yaml",
        "apiVersion: v1\nkind: Service\nmetadata:\n  name: x\n",
    );
    let mut out = RepoFacts::default();
    let file = repo.get("compose.yaml").unwrap();
    assert_eq!(
        ComposeExtractor.extract(file, &repo, &mut out),
        Handled::NotMine
    );
}

#[test]
fn version_one_files() {
    let text = "web:\n  image: web\n  links: [db]\ndb:\n  image: postgres\n";
    let facts = run(&[("docker-compose.yml", text)]);
    assert_eq!(names(&facts), vec!["web", "db"]);
    assert_eq!(refs(&facts, Mechanism::Link), pairs(&[("web", "db")]));
}

#[test]
fn secrets_and_configs_files_are_owned() {
    let text = "services:\n  db:\n    image: mariadb\n    secrets: [db-password]\n    configs:\n      - source: my_cnf\n        target: /etc/my.cnf\nsecrets:\n  db-password:\n    file: db/password.txt\nconfigs:\n  my_cnf:\n    file: ./db/my.cnf\n";
    let facts = run(&[("stack/docker-stack.yml", text)]);
    assert_eq!(
        service(&facts, "db").owned_paths,
        vec!["stack/db/password.txt", "stack/db/my.cnf"]
    );
}
