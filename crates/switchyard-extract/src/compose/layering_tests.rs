//! Which files join a base project: `COMPOSE_FILE`, overlays found by content, standalone files.

use super::tests::{names, run};
use switchyard_model::{Mechanism, RepoFacts, Scope, Target};

const BASE: &str = "\
services:
  chat:
    image: example/chat:2
    networks: [backplane]
  gateway:
    image: example/gateway:2
    depends_on: [chat]
    networks: [backplane]
networks:
  backplane:
";

fn project_of<'a>(facts: &'a RepoFacts, service: &str) -> &'a str {
    match &facts
        .services
        .iter()
        .find(|s| s.name == service)
        .unwrap_or_else(|| panic!("no service {service}"))
        .scope
    {
        Scope::Compose { project } => project,
        other => panic!("{other:?}"),
    }
}

fn depends_on<'a>(facts: &'a RepoFacts, from: &str) -> Vec<&'a str> {
    facts
        .references
        .iter()
        .filter(|r| r.mechanism == Mechanism::DependsOn && r.from.as_deref() == Some(from))
        .filter_map(|r| match &r.target {
            Target::ServiceName { name } => Some(name.as_str()),
            _ => None,
        })
        .collect()
}

#[test]
fn an_optional_component_file_using_base_services_joins_the_base_project() {
    // `docker compose -f docker-compose.yml -f recorder.yml`: the recorder needs `chat`.
    let recorder = "\
services:
  recorder:
    image: example/recorder:1
    depends_on: [chat]
    networks:
      backplane:
";
    let facts = run(&[("docker-compose.yml", BASE), ("recorder.yml", recorder)]);
    assert_eq!(project_of(&facts, "recorder"), "docker-compose.yml");
    assert_eq!(depends_on(&facts, "recorder"), ["chat"]);
    // Read once, as part of the base project.
    assert_eq!(names(&facts), ["chat", "gateway", "recorder"]);
}

#[test]
fn an_overlay_in_a_subfolder_completes_base_services_and_resolves_paths_from_the_base() {
    let overlay = "\
services:
  gateway:
    environment:
      CHAT_URL: http://chat:8080
    volumes:
      - ./conf/gateway.toml:/etc/gateway.toml:ro
  cache:
    image: redis:7
";
    let facts = run(&[
        ("compose.yaml", BASE),
        ("overrides/compose.cache.yaml", overlay),
    ]);
    assert_eq!(project_of(&facts, "cache"), "compose.yaml");
    let gateway = facts.services.iter().find(|s| s.name == "gateway").unwrap();
    assert!(
        gateway
            .owned_paths
            .contains(&"conf/gateway.toml".to_string()),
        "{:?}",
        gateway.owned_paths
    );
    assert_eq!(names(&facts), ["chat", "gateway", "cache"]);
}

#[test]
fn a_complete_application_beside_the_base_stays_its_own_project() {
    let standalone = "\
services:
  proxy:
    image: traefik:v3
    ports: [\"80:80\"]
";
    let facts = run(&[("compose.yaml", BASE), ("compose.proxy.yaml", standalone)]);
    assert_eq!(project_of(&facts, "proxy"), "compose.proxy.yaml");
    assert_eq!(project_of(&facts, "chat"), "compose.yaml");
}

#[test]
fn a_yaml_file_that_is_not_compose_is_left_to_other_extractors() {
    // Prometheus' own config has no `services:` map; an unrelated `services:` list neither.
    let facts = run(&[
        ("docker-compose.yml", BASE),
        ("prometheus.yml", "scrape_configs:\n  - job_name: chat\n"),
        ("catalog.yml", "services:\n  - chat\n  - gateway\n"),
    ]);
    assert_eq!(names(&facts), ["chat", "gateway"]);
}

#[test]
fn compose_file_in_the_env_names_the_layering() {
    let env = "COMPOSE_PATH_SEPARATOR=;\nCOMPOSE_FILE=deploy/base.yml;deploy/extra.yml\n";
    let base = "services:\n  api:\n    image: example/api:1\n";
    // Complete on its own, yet layered because COMPOSE_FILE says so.
    let extra = "services:\n  worker:\n    image: example/worker:1\n";
    let facts = run(&[
        (".env", env),
        ("deploy/base.yml", base),
        ("deploy/extra.yml", extra),
    ]);
    assert_eq!(project_of(&facts, "api"), "deploy/base.yml");
    assert_eq!(project_of(&facts, "worker"), "deploy/base.yml");
}

#[test]
fn compose_file_default_inside_the_env_is_used() {
    let env = "COMPOSE_FILE=\"${COMPOSE_FILE:-compose.yaml:compose.extra.yaml}\"\n";
    let extra = "services:\n  worker:\n    image: example/worker:1\n";
    let facts = run(&[
        (".env", env),
        ("compose.yaml", BASE),
        ("compose.extra.yaml", extra),
    ]);
    assert_eq!(project_of(&facts, "worker"), "compose.yaml");
}

#[test]
fn an_overlay_for_a_base_in_another_folder_does_not_join_an_unrelated_base() {
    // `app/compose.web.yaml` needs `db`, which the nearest base (`app/compose.yaml`) lacks and
    // no base above declares: it stays a project of its own (with an unresolved reference).
    let app_base = "services:\n  web:\n    image: example/web:1\n";
    let overlay = "services:\n  worker:\n    image: example/worker:1\n    depends_on: [db]\n";
    let facts = run(&[
        ("compose.yaml", BASE),
        ("app/compose.yaml", app_base),
        ("app/compose.web.yaml", overlay),
    ]);
    assert_eq!(project_of(&facts, "worker"), "app/compose.web.yaml");
}

#[test]
fn a_file_read_through_extends_is_not_an_overlay() {
    // `defaults.yml` holds partial services other files extend: compose reads it by reference.
    let base = "\
services:
  app:
    extends:
      file: defaults.yml
      service: hardened
    image: example/app:1
";
    let defaults = "services:\n  hardened:\n    read_only: true\n    networks: [edge]\n";
    let facts = run(&[("compose.yaml", base), ("defaults.yml", defaults)]);
    assert_eq!(names(&facts), ["app"]);
}

#[test]
fn an_overlay_may_complete_a_service_the_base_includes() {
    let base = "include:\n  - web/compose.yaml\nservices:\n  db:\n    image: postgres:16\n";
    let web = "services:\n  web:\n    image: example/web:1\n";
    let tracing =
        "services:\n  web:\n    environment:\n      OTEL_ENDPOINT: http://collector:4317\n";
    let facts = run(&[
        ("compose.yaml", base),
        ("web/compose.yaml", web),
        ("compose.tracing.yaml", tracing),
    ]);
    let projects: Vec<&str> = ["db", "web"]
        .iter()
        .map(|s| project_of(&facts, s))
        .collect();
    assert_eq!(projects, ["compose.yaml", "compose.yaml"]);
    assert_eq!(names(&facts), ["db", "web"]);
}

#[test]
fn a_compose_named_library_of_extends_fragments_is_no_project() {
    // `compose.features.yml` holds settings services pick with `extends`; compose runs none of
    // its entries, so they are no services (`traefik` here is a label set, not a proxy).
    let base = "\
services:
  app:
    extends:
      file: ./compose.features.yml
      service: ${APP_VARIANT:-traefik}
    image: example/app:1
";
    let features = "\
services:
  plain: {}
  traefik:
    networks: [traefik]
    labels:
      traefik.enable: \"true\"
";
    let facts = run(&[("compose.yaml", base), ("compose.features.yml", features)]);
    assert_eq!(names(&facts), ["app"]);
}
