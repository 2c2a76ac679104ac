//! Project-level extraction tests (overrides, includes, extends, interpolation, broken input)
//! and the helpers the service-level tests share.

use super::*;
use switchyard_model::{EndpointKind, Protocol, ServiceDecl};

pub(super) fn run(files: &[(&str, &str)]) -> RepoFacts {
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

pub(super) fn service<'a>(facts: &'a RepoFacts, name: &str) -> &'a ServiceDecl {
    facts
        .services
        .iter()
        .find(|s| s.name == name)
        .unwrap_or_else(|| panic!("no service {name} in {:?}", names(facts)))
}

pub(super) fn names(facts: &RepoFacts) -> Vec<&str> {
    facts.services.iter().map(|s| s.name.as_str()).collect()
}

/// `(host_ip, start, end, container_port, protocol)` of a service's published ports.
pub(super) type HostPortRow<'a> = (Option<&'a str>, u16, u16, Option<u16>, Protocol);

pub(super) fn host_ports(s: &ServiceDecl) -> Vec<HostPortRow<'_>> {
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

pub(super) fn container_ports(s: &ServiceDecl) -> Vec<u16> {
    s.endpoints
        .iter()
        .filter_map(|e| match &e.kind {
            EndpointKind::ContainerPort { port, .. } => Some(*port),
            _ => None,
        })
        .collect()
}

pub(super) fn env<'a>(
    facts: &'a RepoFacts,
    service: &str,
    key: &str,
) -> &'a switchyard_model::EnvEntry {
    facts
        .env
        .iter()
        .find(|e| e.service.as_deref() == Some(service) && e.key == key)
        .unwrap_or_else(|| panic!("no env {key} for {service}"))
}

pub(super) fn refs(facts: &RepoFacts, mechanism: Mechanism) -> Vec<(String, String)> {
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

pub(super) fn codes(facts: &RepoFacts) -> Vec<DiagnosticCode> {
    facts.diagnostics.iter().map(|d| d.code).collect()
}

pub(super) fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
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

/// A homelab pattern: every stack extends a pseudo-service of a shared features file chosen by
/// a variable (`${COMPOSE_VARIANT:-default}`), set in the stack's `.env` or left to its default.
#[test]
fn extends_names_are_interpolated() {
    let stack = "services:\n  app:\n    image: app\n    extends:\n      file: ${FEATURES:-compose.features.yml}\n      service: \"${COMPOSE_VARIANT:-default}\"\n  other:\n    image: other\n    extends:\n      file: compose.features.yml\n      service: ${UNSET_VARIANT:-default}\n";
    let features = "services:\n  default:\n    labels:\n      traefik.enable: \"true\"\n  proxied:\n    networks: [proxy]\n    environment:\n      FROM: proxied\n";
    let facts = run(&[
        ("docker-compose.yml", stack),
        ("compose.features.yml", features),
        (".env", "COMPOSE_VARIANT=proxied\n"),
    ]);
    assert_eq!(env(&facts, "app", "FROM").display, "proxied");
    assert!(
        service(&facts, "app")
            .networks
            .iter()
            .any(|n| n.name == "proxy"),
        "app inherits the variant's network"
    );
    assert!(
        !facts
            .diagnostics
            .iter()
            .any(|d| d.message.contains("extended")),
        "{:?}",
        facts.diagnostics
    );
}

#[test]
fn a_file_of_extended_templates_is_not_a_project() {
    // A homelab stack picks one template per deployment with `COMPOSE_VARIANT`; the templates
    // file is never run on its own.
    let stack = "services:\n  git:\n    image: forge/git:1\n    extends:\n      file: ./compose.features.yml\n      service: \"${COMPOSE_VARIANT:-default}\"\n";
    let features = "services:\n  default: {}\n  proxied:\n    networks: [proxy]\n  proxied_db:\n    networks: [proxy, databases]\n";
    let facts = run(&[
        ("forge/docker-compose.yml", stack),
        ("forge/compose.features.yml", features),
    ]);
    assert_eq!(names(&facts), ["git"]);
    // Named through a variable with a default, the same.
    let stack = stack.replace(
        "./compose.features.yml",
        "${FEATURES:-compose.features.yml}",
    );
    let facts = run(&[
        ("forge/docker-compose.yml", &stack),
        ("forge/compose.features.yml", features),
    ]);
    assert_eq!(names(&facts), ["git"]);
}

#[test]
fn an_extended_default_compose_file_is_still_a_project() {
    // `docker-compose.prod.yml` builds on the services of the file `docker compose up` runs.
    let base = "services:\n  web:\n    image: shop/web\n  db:\n    image: postgres:16\n";
    let prod = "services:\n  web:\n    extends:\n      file: docker-compose.yml\n      service: web\n    restart: always\n";
    let facts = run(&[
        ("docker-compose.yml", base),
        ("docker-compose.prod.yml", prod),
    ]);
    assert_eq!(names(&facts), ["web", "db", "web"]);
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
fn whole_repository_through_the_registry() {
    let mut repo = RepoFiles::new("shop");
    repo.add_text(
        "compose.yaml",
        "services:\n  api:\n    build: ./api\n    env_file: api/.env.production\n    environment:\n      TAG: ${TAG}\n  proxy:\n    image: nginx\n",
    );
    repo.add_text(".env", "TAG=7\nUNUSED_URL=http://nowhere:1\n");
    repo.add_text("api/.env.production", "PAYMENTS_URL=http://payments:8080\n");
    repo.add_text("api/.env.example", "PAYMENTS_URL=http://example:1\n");
    let facts = crate::extract_files(repo, &crate::Registry::default());
    assert!(facts.diagnostics.is_empty(), "{:?}", facts.diagnostics);
    let payments: Vec<_> = facts
        .env
        .iter()
        .filter(|e| e.key == "PAYMENTS_URL")
        .map(|e| (e.service.as_deref(), e.location.path.as_str()))
        .collect();
    // Recorded once by compose (env_file) and once, attributed by ownership, for the example.
    assert_eq!(
        payments,
        vec![
            (Some("api"), "api/.env.production"),
            (Some("api"), "api/.env.example")
        ]
    );
    assert_eq!(env(&facts, "api", "TAG").display, "7");
    // The interpolation `.env` gives no references to anyone.
    assert!(!facts.references.iter().any(|r| r.location.path == ".env"));
}

mod fuzz {
    use super::*;
    use proptest::prelude::*;

    /// Compose-looking lines, so random input reaches deep into the extractor.
    fn fragment() -> impl Strategy<Value = String> {
        prop_oneof![
            Just("services:\n".to_string()),
            Just("  web:\n".to_string()),
            Just("    ports: [\"8080:80\", \"x:y\", 70000]\n".to_string()),
            Just("    environment: [\"A=${B:-${C}}\", D]\n".to_string()),
            Just("    labels: {traefik.http.routers.a.rule: \"Host(`a`) && (\"}\n".to_string()),
            Just("    extends: web\n".to_string()),
            Just("    volumes: [\"./a:/b:ro\", {type: bind}]\n".to_string()),
            Just("    networks: {n: {aliases: [x], ipv4_address: 1.2.3.4}}\n".to_string()),
            Just("    env_file: [.env, {path: x.env, required: false}]\n".to_string()),
            Just("include: [compose.yaml]\n".to_string()),
            Just("x: &a {k: v}\ny: {<<: *a}\n".to_string()),
            "[ -~\n]{0,40}",
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn extractor_never_panics(parts in proptest::collection::vec(fragment(), 0..12)) {
            let text: String = parts.concat();
            let facts = run(&[("compose.yaml", &text), (".env", "B=1\n"), ("x.env", &text)]);
            prop_assert!(facts.services.len() < 100);
        }

        #[test]
        fn text_parsers_never_panic(text in "\\PC{0,60}") {
            let _ = crate::dotenv::parse_dotenv(&text);
            let _ = crate::interpolate::interpolate(&text, &Default::default());
            let _ = crate::traefik::parse_rule(&text);
            let _ = crate::traefik::parse_v1_rule(&text);
            let _ = super::super::ports::parse_short(&text);
            let _ = super::super::volumes::parse_short(&text);
            let _ = super::super::args::tokens(&text);
            let _ = super::super::args::addresses(&text);
        }
    }
}

#[test]
fn env_values_use_variables_set_above_them_but_not_in_single_quotes() {
    let env = "\
DB_HOST=pg.internal
DB_URL=postgres://${DB_HOST}:${DB_PORT:-5432}/app
LITERAL='${DB_HOST}'
";
    let compose = "\
services:
  api:
    image: example/api:1
    environment:
      DATABASE_URL: ${DB_URL}
      RAW: ${LITERAL}
";
    let facts = run(&[(".env", env), ("compose.yaml", compose)]);
    let display = |key: &str| {
        facts
            .env
            .iter()
            .find(|e| e.key == key)
            .map(|e| e.display.clone())
            .unwrap_or_default()
    };
    assert_eq!(display("DATABASE_URL"), "postgres://pg.internal:5432/app");
    assert_eq!(display("RAW"), "${DB_HOST}");
}

#[test]
fn compose_files_with_other_names_are_known_by_their_content() {
    use super::is_compose_by_content;
    // Run with `docker compose -f pwd.yml`: the specification's keys and a service with an image.
    let standalone = "version: \"3\"\nservices:\n  web:\n    image: nginx:1.27\n    ports:\n      - \"8080:80\"\nvolumes:\n  data:\nx-common: &common\n  restart: always\n";
    assert!(is_compose_by_content(standalone));
    assert!(is_compose_by_content(
        "services:\n  api:\n    build: ./api\n"
    ));
    // A GitLab CI pipeline: `services:` is a list of images beside keys compose does not have.
    assert!(!is_compose_by_content(
        "image: rust:1.94\nservices:\n  - postgres:16\ntest:\n  script: cargo test\n"
    ));
    // A GitHub Actions workflow declares services under a job, not at the top.
    assert!(!is_compose_by_content(
        "on: push\njobs:\n  test:\n    services:\n      db:\n        image: postgres:16\n"
    ));
    // A Kubernetes object, and a config that merely has a `services:` map of settings.
    assert!(!is_compose_by_content(
        "apiVersion: v1\nkind: ConfigMap\nservices:\n  web:\n    image: x\n"
    ));
    assert!(!is_compose_by_content(
        "services:\n  api:\n    url: http://api:8080\n    timeout: 5\n"
    ));
    assert!(!is_compose_by_content("not: [valid"));
}

#[test]
fn a_compose_file_with_another_name_is_a_project_of_its_own() {
    let text = "services:\n  app:\n    image: example/app:1\n    environment:\n      DB_HOST: db\n  db:\n    image: postgres:16\n";
    let facts = run(&[("pwd.yml", text)]);
    let names: Vec<&str> = facts.services.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["app", "db"]);
    assert!(
        facts
            .services
            .iter()
            .all(|s| matches!(&s.scope, Scope::Compose { project } if project == "pwd.yml")),
        "{:?}",
        facts.services
    );
}

#[test]
fn profiles_are_recorded_sorted() {
    let facts = run(&[(
        "docker-compose.yml",
        "services:\n  aio:\n    image: a\n    profiles: [default, all]\n  db:\n    image: postgres\n",
    )]);
    assert_eq!(service(&facts, "aio").profiles, vec!["all", "default"]);
    assert!(service(&facts, "db").profiles.is_empty());
}

#[test]
fn an_env_template_stands_for_a_missing_dotenv() {
    let compose = "services:\n  web:\n    image: w\n    ports: [\"${HTTP_PORT}:80\"]\n";
    let facts = run(&[
        ("docker-compose.yml", compose),
        ("env.example", "HTTP_PORT=8000\n"),
    ]);
    assert_eq!(
        host_ports(service(&facts, "web")),
        vec![(None, 8000, 8000, Some(80), Protocol::Tcp)]
    );
    // A real `.env` wins over the template.
    let facts = run(&[
        ("docker-compose.yml", compose),
        ("env.example", "HTTP_PORT=8000\n"),
        (".env", "HTTP_PORT=9000\n"),
    ]);
    assert_eq!(
        host_ports(service(&facts, "web")),
        vec![(None, 9000, 9000, Some(80), Protocol::Tcp)]
    );
}
