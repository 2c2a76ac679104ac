//! Service-level extraction tests: ports, environment, references, networks, resources and
//! Traefik labels, with exact values and locations.

use super::tests::*;
use super::*;
use switchyard_model::{EndpointKind, Protocol};

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
fn self_references_are_dropped() {
    let text = "services:\n  logstash:\n    image: logstash\n    container_name: log\n    environment:\n      discovery.seed_hosts: logstash\n      SELF_URL: http://log:9600\n      LISTEN_ADDRESS: 0.0.0.0\n      ES_HOST: elasticsearch\n    command: --advertise logstash:5044 --local http://localhost:9600 --es http://elasticsearch:9200\n";
    let facts = run(&[("compose.yaml", text)]);
    assert_eq!(
        refs(&facts, Mechanism::Env),
        pairs(&[("logstash", "elasticsearch")])
    );
    assert_eq!(
        refs(&facts, Mechanism::Command),
        pairs(&[("logstash", "http://elasticsearch:9200")])
    );
    // The env values themselves are still recorded.
    assert_eq!(facts.env.len(), 4);
}

#[test]
fn interpolated_values_are_located_at_their_text() {
    let text = "services:\n  app:\n    image: app\n    environment:\n      - API_URL=http://${API_HOST:-api}:3000\n    labels:\n      - traefik.http.routers.a.rule=Host(`${DOMAIN:-a.io}`)\n";
    let facts = run(&[("compose.yaml", text)]);
    let api = env(&facts, "app", "API_URL");
    assert_eq!(api.display, "http://api:3000");
    assert_eq!((api.location.line, api.location.column), (5, 17));
    assert_eq!(
        &text[api.location.span.start..api.location.span.end],
        "http://${API_HOST:-api}:3000"
    );
    let domain = &service(&facts, "app").endpoints[0];
    assert_eq!(
        domain.kind,
        EndpointKind::Domain {
            host: "a.io".into(),
            path: None
        }
    );
    assert_eq!((domain.location.line, domain.location.column), (7, 37));
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
fn network_mode_service_is_a_dependency() {
    let text = "services:\n  vpn:\n    image: vpn\n  torrent:\n    image: t\n    network_mode: \"service:vpn\"\n";
    let facts = run(&[("compose.yaml", text)]);
    assert_eq!(
        refs(&facts, Mechanism::DependsOn),
        pairs(&[("torrent", "vpn")])
    );
    let r = &facts.references[0];
    assert_eq!((r.location.line, r.location.column), (6, 28));
    assert!(service(&facts, "torrent").networks.is_empty());
}

#[test]
fn command_addresses_and_healthcheck_skipped() {
    let text = "services:\n  app:\n    image: app\n    command: [\"--broker=kafka:9092\", \"--listen=0.0.0.0:8080\", \"--advertise PLAINTEXT://broker:29092,OUTSIDE://0.0.0.0:9092\"]\n    entrypoint: node server.js --upstream http://api:3000/v1\n    healthcheck:\n      test: [\"CMD\", \"curl\", \"-f\", \"http://other:9999\"]\n";
    let facts = run(&[("compose.yaml", text)]);
    assert_eq!(
        refs(&facts, Mechanism::Command),
        pairs(&[
            ("app", "http://api:3000/v1"),
            ("app", "kafka:9092"),
            ("app", "PLAINTEXT://broker:29092"),
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
    // A fixed `name:` is the volume's evidence (where `external: true` would go), not the mount.
    let volume = &facts.resources[0];
    assert_eq!((volume.location.line, volume.location.column), (33, 11));
    // A fixed name is recorded (another project giving it gets the same volume); an external
    // volume's name is not one this project owns.
    assert_eq!(
        volume.settings.get("name").map(String::as_str),
        Some("prod_data")
    );
    assert!(!facts.resources[4].settings.contains_key("name"));
    assert_eq!(
        volume.location.span.end - volume.location.span.start,
        "prod_data".len()
    );
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
fn traefik_label_routers_with_their_entry_points() {
    let text = "services:\n  api:\n    image: api\n    labels:\n      - traefik.http.routers.api.rule=Host(`api.example.com`)\n      - traefik.http.routers.api.entrypoints=web, websecure\n      - traefik.http.routers.api.service=api-svc\n      - traefik.http.routers.admin.rule=Host(`admin.example.com`)\n  hidden:\n    image: h\n    labels:\n      traefik.enable: \"false\"\n      traefik.http.routers.h.rule: Host(`h.example.com`)\n";
    let facts = run(&[("compose.yaml", text)]);
    type Route<'a> = (&'a str, &'a str, Vec<String>, Option<&'a str>, u32);
    let routes: Vec<Route<'_>> = facts
        .proxy_routes
        .iter()
        .map(|r| {
            (
                r.service.as_deref().unwrap_or(""),
                r.router.as_str(),
                r.domains.iter().map(|(h, _)| h.clone()).collect(),
                r.target.as_deref(),
                r.location.line,
            )
        })
        .collect();
    // `hidden` (traefik.enable=false) routes nothing.
    assert_eq!(
        routes,
        vec![
            (
                "api",
                "api",
                vec!["api.example.com".to_string()],
                Some("api-svc"),
                5
            ),
            (
                "api",
                "admin",
                vec!["admin.example.com".to_string()],
                None,
                8
            ),
        ]
    );
    assert_eq!(facts.proxy_routes[0].entrypoints, ["web", "websecure"]);
    assert!(facts.proxy_routes[1].entrypoints.is_empty());
    assert!(
        facts
            .proxy_routes
            .iter()
            .all(|r| r.provider == switchyard_model::RouteProvider::Labels && r.backend.is_none())
    );
}

#[test]
fn labels_without_a_proxy_make_no_references() {
    let text = "services:\n  api:\n    image: api\n    labels:\n      traefik.http.routers.api.rule: Host(`a.io`)\n";
    let facts = run(&[("compose.yaml", text)]);
    assert!(refs(&facts, Mechanism::Label).is_empty());
    // The domain, and the labels a Traefik of another project on the host reads.
    let api = service(&facts, "api");
    assert_eq!(api.endpoints.len(), 2);
    let labels = api
        .endpoints
        .iter()
        .find(|e| matches!(e.kind, EndpointKind::ProxyLabels { .. }))
        .expect("labels endpoint");
    assert_eq!(
        labels.kind,
        EndpointKind::ProxyLabels {
            provider: "traefik".into()
        }
    );
    assert_eq!((labels.location.line, labels.location.column), (5, 7));
}

#[test]
fn disabled_labels_and_extends_bases_are_not_routed() {
    let text = "services:\n  hidden:\n    image: h\n    labels:\n      traefik.enable: \"false\"\n      traefik.http.routers.h.rule: Host(`h.example.com`)\n  built:\n    build: ./app\n    labels:\n      traefik.http.services.app.loadbalancer.server.port: \"8080\"\n";
    let bases = "services:\n  with-proxy:\n    networks: [proxy]\n    labels:\n      traefik.http.routers.b.rule: Host(`b.example.com`)\n";
    let stack = "services:\n  app:\n    extends:\n      file: ./compose.features.yml\n      service: with-proxy\n    image: app\n";
    // An override file without `image` (combined with `-f`) still describes a container.
    let overlay = "services:\n  web:\n    labels:\n      traefik.http.routers.w.rule: Host(`w.example.com`)\n";
    let facts = run(&[
        ("compose.yaml", text),
        ("stack/compose.features.yml", bases),
        ("stack/docker-compose.yml", stack),
        ("overlays/compose.proxy.yaml", overlay),
    ]);
    let routed = |name: &str| {
        facts.services.iter().filter(|s| s.name == name).any(|s| {
            s.endpoints
                .iter()
                .any(|e| matches!(e.kind, EndpointKind::ProxyLabels { .. }))
        })
    };
    assert!(!routed("hidden"));
    assert!(routed("built"));
    assert!(routed("web"));
    // The service that extends the base runs and carries its labels.
    assert!(routed("app"));
    // No image and no build in a file of `extends` bases: no container runs it.
    assert!(!routed("with-proxy"));
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
