//! Scope rules of the linker, one test per rule.

use crate::link;
use switchyard_model::*;

fn repo(name: &str, host: &str) -> Repository {
    Repository {
        name: name.into(),
        path: name.into(),
        host: host.into(),
        environment: "default".into(),
    }
}

fn compose(project: &str) -> Scope {
    Scope::Compose {
        project: project.into(),
    }
}

fn decl(repo: &str, name: &str, scope: Scope) -> ServiceDecl {
    ServiceDecl::new(
        name,
        ServiceKind::Compose,
        scope,
        Location::file(repo, "docker-compose.yml"),
    )
}

fn address(repo: &str, from: &str, text: &str, scope: Scope) -> Reference {
    Reference {
        from: Some(from.into()),
        target: Target::Address { text: text.into() },
        mechanism: Mechanism::Env,
        key: Some("URL".into()),
        location: Location::new(repo, ".env", 3, 9, ByteSpan::new(20, 30)),
        scope,
    }
}

fn host_port(port: u16) -> Endpoint {
    Endpoint {
        kind: EndpointKind::HostPort {
            host_ip: None,
            start: port,
            end: port,
            container_port: Some(80),
            protocol: Protocol::Tcp,
        },
        location: Location::file("x", "docker-compose.yml"),
    }
}

fn facts(repo: &str, services: Vec<ServiceDecl>, references: Vec<Reference>) -> RepoFacts {
    RepoFacts {
        repository: repo.into(),
        services,
        references,
        ..Default::default()
    }
}

fn edges(model: &FleetModel) -> Vec<(&str, &str)> {
    model
        .edges
        .iter()
        .map(|e| (e.from.as_str(), e.to.as_str()))
        .collect()
}

#[test]
fn compose_names_do_not_cross_repositories() {
    let a = facts(
        "a",
        vec![decl("a", "web", compose("docker-compose.yml"))],
        vec![address(
            "a",
            "web",
            "http://db:5432",
            compose("docker-compose.yml"),
        )],
    );
    let b = facts(
        "b",
        vec![decl("b", "db", compose("docker-compose.yml"))],
        vec![],
    );
    let model = link(&[repo("a", "local"), repo("b", "local")], &[a, b]);
    assert!(model.edges.is_empty());
    assert_eq!(model.unresolved.len(), 1);
    assert_eq!(model.unresolved[0].reason, UnresolvedReason::NoProvider);
    assert_eq!(model.unresolved[0].location.to_string(), "a/.env:3:9");
}

#[test]
fn localhost_port_resolves_to_the_publisher_on_the_same_host_only() {
    let mut api = decl("b", "api", compose("docker-compose.yml"));
    api.endpoints.push(host_port(8080));
    let mut far = decl("c", "api2", compose("docker-compose.yml"));
    far.endpoints.push(host_port(9090));
    let a = facts(
        "a",
        vec![decl("a", "web", Scope::Host)],
        vec![
            address("a", "web", "http://localhost:8080/v1", Scope::Host),
            address("a", "web", "http://host.docker.internal:9090", Scope::Host),
        ],
    );
    let model = link(
        &[repo("a", "nas"), repo("b", "nas"), repo("c", "pi")],
        &[
            a,
            facts("b", vec![api], vec![]),
            facts("c", vec![far], vec![]),
        ],
    );
    assert_eq!(edges(&model), [("a/web", "b/api")]);
    assert_eq!(
        model.unresolved.len(),
        1,
        "port 9090 is published on another host"
    );
}

/// A sidecar-style fleet: `auth-proxy` publishes port 80, and `pages` says
/// `CONTENTSERVICE_ENDPOINT_URL: http://localhost` in its compose `environment`. Inside the pages
/// container that is pages itself, not the proxy; the same address in a browser variable, in a
/// loose `.env` a host process may read, or behind `host.docker.internal` does reach the host's
/// published port.
#[test]
fn localhost_inside_a_container_is_the_container() {
    let project = compose("docker-compose.yml");
    let mut proxy = decl("m", "auth-proxy", project.clone());
    proxy.endpoints.push(host_port(80));
    let in_container = |key: &str, text: &str| Reference {
        key: Some(key.into()),
        ..address("m", "pages", text, project.clone())
    };
    // Like every compose service without `network_mode`, pages is on the project's default
    // network (with `network_mode: host` it would have none, and reach the host's ports).
    let mut pages = decl("m", "pages", project.clone());
    pages.networks.push(NetworkAttachment {
        name: "default".into(),
        external_name: None,
        aliases: Vec::new(),
        location: Location::file("m", "docker-compose.yml"),
    });
    let model = link(
        &[repo("m", "nas")],
        &[facts(
            "m",
            vec![proxy, pages],
            vec![in_container(
                "CONTENTSERVICE_ENDPOINT_URL",
                "http://localhost",
            )],
        )],
    );
    assert!(edges(&model).is_empty(), "{:?}", edges(&model));
    assert_eq!(
        model.unresolved[0].reason,
        UnresolvedReason::ContainerLoopback
    );

    for reference in [
        in_container("VITE_CONTENT_URL", "http://localhost:80"),
        in_container("CONTENT_URL", "http://host.docker.internal:80"),
        address("m", "pages", "http://localhost:80", Scope::Host),
    ] {
        let mut proxy = decl("m", "auth-proxy", project.clone());
        proxy.endpoints.push(host_port(80));
        let text = format!("{:?}", reference.target);
        let model = link(
            &[repo("m", "nas")],
            &[facts(
                "m",
                vec![proxy, decl("m", "pages", project.clone())],
                vec![reference],
            )],
        );
        assert_eq!(edges(&model), [("m/pages", "m/auth-proxy")], "{text}");
    }
}

#[test]
fn external_network_names_cross_projects_on_one_host() {
    let net = |repo: &str| NetworkAttachment {
        name: "proxy".into(),
        external_name: Some("proxy".into()),
        aliases: vec![],
        location: Location::file(repo, "docker-compose.yml"),
    };
    let mut web = decl("a", "web", compose("docker-compose.yml"));
    web.networks.push(net("a"));
    let mut auth = decl("b", "auth", compose("docker-compose.yml"));
    auth.networks.push(net("b"));
    let a = facts(
        "a",
        vec![web],
        vec![address(
            "a",
            "web",
            "http://auth:9000",
            compose("docker-compose.yml"),
        )],
    );
    let model = link(
        &[repo("a", "local"), repo("b", "local")],
        &[a, facts("b", vec![auth], vec![])],
    );
    assert_eq!(edges(&model), [("a/web", "b/auth")]);
}

#[test]
fn kubernetes_names_resolve_in_their_namespace() {
    let k8s = |ns: &str| Scope::Kubernetes {
        namespace: ns.into(),
    };
    let mut api = decl("b", "api", k8s("prod"));
    api.kind = ServiceKind::Kubernetes;
    let mut web = decl("a", "web", k8s("prod"));
    web.kind = ServiceKind::Kubernetes;
    let mut other = decl("a", "job", k8s("batch"));
    other.kind = ServiceKind::Kubernetes;
    let a = facts(
        "a",
        vec![web, other],
        vec![
            address("a", "web", "http://api:8080", k8s("prod")),
            address("a", "job", "http://api:8080", k8s("batch")),
            address(
                "a",
                "job",
                "http://api.prod.svc.cluster.local:8080",
                k8s("batch"),
            ),
        ],
    );
    let model = link(
        &[repo("a", "local"), repo("b", "local")],
        &[a, facts("b", vec![api], vec![])],
    );
    assert_eq!(edges(&model), [("a/job", "b/api"), ("a/web", "b/api")]);
    assert_eq!(
        model.unresolved.len(),
        1,
        "bare `api` from namespace batch does not resolve"
    );
}

#[test]
fn domains_self_references_and_internet_hosts() {
    let mut api = decl("b", "api", Scope::Host);
    api.endpoints.push(Endpoint {
        kind: EndpointKind::Domain {
            host: "api.home.lan".into(),
            path: None,
        },
        location: Location::file("b", "nginx.conf"),
    });
    api.endpoints.push(Endpoint {
        kind: EndpointKind::HostProcessPort { port: 3001 },
        location: Location::file("b", ".env"),
    });
    let a = facts(
        "a",
        vec![decl("a", "web", Scope::Host)],
        vec![
            address("a", "web", "https://API.home.lan/v1", Scope::Host),
            address("a", "web", "https://api.github.com", Scope::Host),
            address("a", "web", "http://missing.home.lan", Scope::Host),
        ],
    );
    let b = facts(
        "b",
        vec![api],
        vec![address(
            "b",
            "api",
            "http://localhost:3001/health",
            Scope::Host,
        )],
    );
    let model = link(&[repo("a", "local"), repo("b", "local")], &[a, b]);
    assert_eq!(edges(&model), [("a/web", "b/api")]);
    let reasons: Vec<_> = model
        .unresolved
        .iter()
        .map(|u| (u.reference.as_str(), u.reason))
        .collect();
    assert_eq!(
        reasons,
        [
            ("https://api.github.com", UnresolvedReason::External),
            ("http://missing.home.lan", UnresolvedReason::NoProvider)
        ]
    );
}

#[test]
fn test_harness_depends_on_only_counts_for_harness_services() {
    let main = compose("docker-compose.yml");
    let test = compose("result/docker-compose.test.yml");
    let mut sut = decl("v", "sut", test.clone());
    sut.test_harness = true;
    let mut vote_test = decl("v", "vote", test.clone());
    vote_test.test_harness = true;
    let depends = |from: &str, to: &str, scope: &Scope| Reference {
        from: Some(from.into()),
        target: Target::ServiceName { name: to.into() },
        mechanism: Mechanism::DependsOn,
        key: None,
        location: Location::file("v", "x.yml"),
        scope: scope.clone(),
    };
    let v = facts(
        "v",
        vec![
            decl("v", "vote", main.clone()),
            decl("v", "db", main.clone()),
            decl("v", "redis", main.clone()),
            sut,
            vote_test,
        ],
        vec![
            depends("vote", "redis", &main),
            depends("sut", "vote", &test),
            depends("vote", "db", &test),
        ],
    );
    let model = link(&[repo("v", "local")], &[v]);
    assert_eq!(edges(&model), [("v/sut", "v/vote"), ("v/vote", "v/redis")]);
}

#[test]
fn two_publishers_are_ambiguous_not_a_guess() {
    let mut x = decl("b", "x", compose("docker-compose.yml"));
    x.endpoints.push(host_port(8080));
    let mut y = decl("c", "y", compose("docker-compose.yml"));
    y.endpoints.push(host_port(8080));
    let a = facts(
        "a",
        vec![decl("a", "web", Scope::Host)],
        vec![address("a", "web", "localhost:8080", Scope::Host)],
    );
    let model = link(
        &[repo("a", "local"), repo("b", "local"), repo("c", "local")],
        &[a, facts("b", vec![x], vec![]), facts("c", vec![y], vec![])],
    );
    assert!(model.edges.is_empty());
    assert_eq!(model.unresolved[0].reason, UnresolvedReason::Ambiguous);
}

/// The homelab shape of seed 001: an edge proxy serves `git.home.lan` and proxies it to gitea,
/// whose `GITEA__server__ROOT_URL` is that public URL. Gitea does not call the proxy (an edge
/// back would make a false cycle); a client naming the same URL does call it; CORS origins are
/// never calls.
#[test]
fn own_public_urls_and_allow_lists_are_not_calls() {
    let edge_project = compose("docker-compose.yml");
    let mut proxy = decl("edge", "proxy", edge_project.clone());
    proxy.endpoints.push(Endpoint {
        kind: EndpointKind::Domain {
            host: "git.home.lan".into(),
            path: None,
        },
        location: Location::file("edge", "nginx/git.conf"),
    });
    let mut upstream = address("edge", "proxy", "http://gitea:3000", edge_project.clone());
    upstream.mechanism = Mechanism::ProxyPass;
    let mut gitea = decl("git", "gitea", compose("docker-compose.yml"));
    gitea.aliases.push(Alias {
        name: "gitea".into(),
        kind: AliasKind::ContainerName,
        location: Location::file("git", "docker-compose.yml"),
    });
    gitea.networks.push(NetworkAttachment {
        name: "proxy".into(),
        external_name: Some("proxy".into()),
        aliases: Vec::new(),
        location: Location::file("git", "docker-compose.yml"),
    });
    let mut proxy_net = proxy.clone();
    proxy_net.networks = gitea.networks.clone();
    let keyed = |repo: &str, from: &str, key: &str, text: &str| Reference {
        key: Some(key.into()),
        ..address(repo, from, text, Scope::Host)
    };
    let model = link(
        &[repo("edge", "nas"), repo("git", "nas"), repo("ci", "nas")],
        &[
            facts("edge", vec![proxy_net], vec![upstream]),
            facts(
                "git",
                vec![gitea],
                vec![
                    keyed(
                        "git",
                        "gitea",
                        "GITEA__server__ROOT_URL",
                        "https://git.home.lan/",
                    ),
                    keyed(
                        "git",
                        "gitea",
                        "CORS_ALLOWED_ORIGINS",
                        "https://git.home.lan",
                    ),
                ],
            ),
            facts(
                "ci",
                vec![decl("ci", "runner", Scope::Host)],
                vec![keyed(
                    "ci",
                    "runner",
                    "GITEA_INSTANCE_URL",
                    "https://git.home.lan",
                )],
            ),
        ],
    );
    assert_eq!(
        edges(&model),
        [("ci/runner", "edge/proxy"), ("edge/proxy", "git/gitea")]
    );
    let reasons: Vec<_> = model.unresolved.iter().map(|u| u.reason).collect();
    assert_eq!(
        reasons,
        [UnresolvedReason::AllowList, UnresolvedReason::SelfUrl]
    );
}

/// An app with a dev compose project and a Kubernetes tree: `api` calls `db` in both, and only
/// the Kubernetes variant runs a `cache`.
fn app_with_two_variants() -> RepoFacts {
    let k8s = Scope::Kubernetes {
        namespace: "shop".into(),
    };
    let manifest = |name: &str| Location::file("app", format!("k8s/{name}.yaml"));
    let mut services = vec![
        decl("app", "api", compose("docker-compose.yml")),
        decl("app", "db", compose("docker-compose.yml")),
    ];
    for name in ["api", "db", "cache"] {
        services.push(ServiceDecl::new(
            name,
            ServiceKind::Kubernetes,
            k8s.clone(),
            manifest(name),
        ));
    }
    let in_manifest = |text: &str| Reference {
        location: Location::new("app", "k8s/api.yaml", 20, 11, ByteSpan::new(400, 420)),
        ..address("app", "api", text, k8s.clone())
    };
    let references = vec![
        Reference {
            location: Location::new("app", "docker-compose.yml", 6, 9, ByteSpan::new(80, 110)),
            ..address(
                "app",
                "api",
                "postgres://db:5432/shop",
                compose("docker-compose.yml"),
            )
        },
        in_manifest("postgres://db:5432/shop"),
        in_manifest("redis://cache:6379"),
    ];
    let mut facts = facts("app", services, references);
    facts.variants = vec![
        Variant {
            name: "docker-compose.yml".into(),
            files: vec!["docker-compose.yml".into()],
        },
        Variant {
            name: "k8s".into(),
            files: vec!["k8s/".into()],
        },
    ];
    facts
}

#[test]
fn services_and_edges_carry_the_variants_they_were_seen_in() {
    let model = link(&[repo("app", "local")], &[app_with_two_variants()]);
    let service = |id: &str| model.services.iter().find(|s| s.id == id).unwrap();
    assert_eq!(service("app/api").variants, ["docker-compose.yml", "k8s"]);
    assert_eq!(service("app/cache").variants, ["k8s"]);
    let edge = |to: &str| {
        model
            .edges
            .iter()
            .find(|e| e.from == "app/api" && e.to == to)
            .unwrap()
    };
    // Seen in the compose file and in the manifest: one edge, in both variants.
    assert_eq!(edge("app/db").variants, ["docker-compose.yml", "k8s"]);
    assert_eq!(edge("app/cache").variants, ["k8s"]);
}

#[test]
fn a_repository_with_one_deployment_has_no_variants_on_its_edges() {
    let mut facts = app_with_two_variants();
    facts.variants.clear();
    let model = link(&[repo("app", "local")], &[facts]);
    assert!(model.services.iter().all(|s| s.variants.is_empty()));
    assert!(model.edges.iter().all(|e| e.variants.is_empty()));
}

#[test]
fn evidence_in_a_shared_file_belongs_to_the_variants_both_ends_are_in() {
    let mut facts = app_with_two_variants();
    // An nginx config both variants mount: read under no variant's files.
    facts.references = vec![Reference {
        location: Location::new("app", "nginx/default.conf", 4, 5, ByteSpan::new(40, 60)),
        ..address("app", "api", "http://cache:6379", Scope::Host)
    }];
    let model = link(&[repo("app", "local")], &[facts]);
    let edge = model.edges.iter().find(|e| e.to == "app/cache").unwrap();
    assert_eq!(edge.variants, ["k8s"]);
}

#[test]
fn client_registrations_in_an_identity_provider_are_unresolved_with_their_reason() {
    // A Keycloak realm mounted into `keycloak` registers the `shop` client: its redirect and
    // home URLs are where the browser goes; only `adminUrl` is called by Keycloak.
    let scope = compose("compose.yaml");
    let keyed = |key: &str, text: &str| Reference {
        key: Some(key.into()),
        mechanism: Mechanism::Url,
        ..address("idp", "keycloak", text, scope.clone())
    };
    let model = link(
        &[repo("idp", "h")],
        &[facts(
            "idp",
            vec![
                decl("idp", "keycloak", scope.clone()),
                decl("idp", "shop", scope.clone()),
            ],
            vec![
                keyed(
                    "clients[0].redirectUris[0]",
                    "http://shop:3000/auth/callback",
                ),
                keyed("clients[0].rootUrl", "http://shop:3000"),
                keyed("clients[0].adminUrl", "http://shop:3000/admin"),
            ],
        )],
    );
    assert_eq!(edges(&model), [("idp/keycloak", "idp/shop")]);
    assert_eq!(
        model.edges[0].evidence.len(),
        1,
        "{:?}",
        model.edges[0].evidence
    );
    let reasons: Vec<_> = model.unresolved.iter().map(|u| u.reason).collect();
    assert_eq!(
        reasons,
        [
            UnresolvedReason::ClientRegistration,
            UnresolvedReason::ClientRegistration
        ]
    );
}

#[test]
fn an_address_book_entry_is_a_low_confidence_edge() {
    let scope = compose("compose.yaml");
    let imported = Reference {
        mechanism: Mechanism::EnvFrom,
        key: Some("ORDERS_URL".into()),
        ..address("r", "billing", "http://orders:8080", scope.clone())
    };
    let model = link(
        &[repo("r", "h")],
        &[facts(
            "r",
            vec![
                decl("r", "billing", scope.clone()),
                decl("r", "orders", scope.clone()),
            ],
            vec![imported],
        )],
    );
    assert_eq!(edges(&model), [("r/billing", "r/orders")]);
    assert_eq!(model.edges[0].confidence, Confidence::Low);
}

#[test]
fn a_registry_dependency_on_a_package_another_repository_publishes_is_a_build_edge() {
    let mut lib = ServiceDecl::new(
        "@acme/ui",
        ServiceKind::Package,
        Scope::Host,
        Location::file("ui", "package.json"),
    );
    lib.endpoints.push(Endpoint {
        kind: EndpointKind::Package {
            name: "@acme/ui".into(),
            version: Some("1.4.0".into()),
        },
        location: Location::file("ui", "package.json"),
    });
    let dependency = |name: &str| Reference {
        from: Some("web".into()),
        target: Target::Package {
            name: name.into(),
            spec: "^1.2.0".into(),
        },
        mechanism: Mechanism::Registry,
        key: Some(format!("dependencies.{name}")),
        location: Location::file("web", "package.json"),
        scope: Scope::Host,
    };
    let web = facts(
        "web",
        vec![decl("web", "web", compose("web"))],
        vec![dependency("@acme/ui"), dependency("react")],
    );
    let model = link(
        &[repo("ui", "local"), repo("web", "local")],
        &[facts("ui", vec![lib], vec![]), web],
    );
    assert_eq!(edges(&model), [("web/web", "ui/@acme/ui")]);
    assert_eq!(model.edges[0].kind, EdgeKind::Build);
    // A public package nobody in the fleet publishes is neither an edge nor unresolved.
    assert!(model.unresolved.is_empty());
}

#[test]
fn a_peer_dependency_is_a_peer_edge_and_each_package_edge_lists_its_sections() {
    let package = |name: &str| {
        let mut decl = ServiceDecl::new(
            name,
            ServiceKind::Package,
            Scope::Host,
            Location::file("mono", format!("packages/{name}/package.json")),
        );
        decl.endpoints.push(Endpoint {
            kind: EndpointKind::Package {
                name: name.into(),
                version: Some("1.0.0".into()),
            },
            location: decl.source.clone(),
        });
        decl
    };
    let dependency = |from: &str, name: &str, section: &str, line: u32| Reference {
        from: Some(from.into()),
        target: Target::Package {
            name: name.into(),
            spec: "workspace:*".into(),
        },
        mechanism: Mechanism::Workspace,
        key: Some(format!("{section}.{name}")),
        location: Location {
            line,
            ..Location::file("mono", format!("packages/{from}/package.json"))
        },
        scope: Scope::Host,
    };
    let model = link(
        &[repo("mono", "local")],
        &[facts(
            "mono",
            vec![
                package("app"),
                package("ui"),
                package("react"),
                package("cfg"),
            ],
            vec![
                dependency("ui", "react", "peerDependencies", 3),
                dependency("app", "ui", "dependencies", 3),
                dependency("app", "ui", "peerDependencies", 7),
                dependency("app", "cfg", "devDependencies", 4),
            ],
        )],
    );
    let view: Vec<(&str, &str, EdgeKind, Vec<String>)> = model
        .edges
        .iter()
        .map(|e| (e.from.as_str(), e.to.as_str(), e.kind, e.sections.clone()))
        .collect();
    let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
    assert_eq!(
        view,
        [
            (
                "mono/app",
                "mono/cfg",
                EdgeKind::Build,
                s(&["devDependencies"])
            ),
            (
                "mono/app",
                "mono/ui",
                EdgeKind::Build,
                s(&["dependencies", "peerDependencies"])
            ),
            (
                "mono/ui",
                "mono/react",
                EdgeKind::Peer,
                s(&["peerDependencies"])
            ),
        ]
    );
}
