//! One-shot init jobs: completion waits and addresses handed over through a shared volume.

use super::tests::run;
use switchyard_model::{Mechanism, RepoFacts, Target};

/// `(from, mechanism, target)` of every reference, sorted.
fn refs(facts: &RepoFacts) -> Vec<(String, Mechanism, String)> {
    let mut refs: Vec<(String, Mechanism, String)> = facts
        .references
        .iter()
        .map(|r| {
            let target = match &r.target {
                Target::ServiceName { name } => name.clone(),
                Target::Address { text } => text.clone(),
                other => format!("{other:?}"),
            };
            (r.from.clone().unwrap_or_default(), r.mechanism, target)
        })
        .collect();
    refs.sort();
    refs
}

fn has(facts: &RepoFacts, from: &str, mechanism: Mechanism, target: &str) -> bool {
    refs(facts)
        .iter()
        .any(|(f, m, t)| f == from && *m == mechanism && t == target)
}

/// A settings writer: it stores the cache address in the shared `state` volume and exits;
/// `app` and `worker` wait for it and read the file, `admin` reads nothing it wrote.
const HAND_OVER: &str = "\
services:
  settings:
    image: example/app:3
    command: [\"app\", \"write-settings\"]
    environment:
      CACHE_URL: redis://cache:6379/0
    depends_on:
      cache:
        condition: service_healthy
    volumes:
      - state:/srv/state
  app:
    image: example/app:3
    depends_on:
      settings:
        condition: service_completed_successfully
    volumes:
      - state:/srv/state
  worker:
    image: example/app:3
    depends_on:
      settings:
        condition: service_completed_successfully
    volumes:
      - state:/srv/state:ro
  admin:
    image: example/admin:1
    depends_on:
      settings:
        condition: service_completed_successfully
  cache:
    image: redis:7
volumes:
  state:
";

#[test]
fn waiting_for_a_job_to_complete_is_no_reference_to_it() {
    let facts = run(&[("compose.yaml", HAND_OVER)]);
    for service in ["app", "worker", "admin"] {
        assert!(
            !has(&facts, service, Mechanism::DependsOn, "settings"),
            "{service}: {:?}",
            refs(&facts)
        );
    }
}

#[test]
fn addresses_a_job_writes_into_a_shared_volume_belong_to_its_readers() {
    let facts = run(&[("compose.yaml", HAND_OVER)]);
    let url = "redis://cache:6379/0";
    assert!(
        has(&facts, "app", Mechanism::Env, url),
        "{:?}",
        refs(&facts)
    );
    assert!(has(&facts, "worker", Mechanism::Env, url));
    // It mounts nothing the job wrote.
    assert!(!has(&facts, "admin", Mechanism::Env, url));
    // The job only wrote the address down and waited for the cache to be up.
    assert!(!has(&facts, "settings", Mechanism::Env, url));
    assert!(!has(&facts, "settings", Mechanism::DependsOn, "cache"));
    // Evidence: where the job was given the address.
    let moved = facts
        .references
        .iter()
        .find(|r| r.from.as_deref() == Some("app") && r.mechanism == Mechanism::Env)
        .expect("moved reference");
    assert_eq!(moved.location.line, 6);
}

#[test]
fn a_migration_job_sharing_no_volume_keeps_its_own_connection() {
    let text = "\
services:
  migrate:
    image: example/app:3
    command: [\"app\", \"migrate\"]
    environment:
      DATABASE_URL: postgres://db:5432/app
    depends_on: [db]
  app:
    image: example/app:3
    environment:
      DATABASE_URL: postgres://db:5432/app
    depends_on:
      migrate:
        condition: service_completed_successfully
      db:
        condition: service_healthy
  db:
    image: postgres:16
";
    let facts = run(&[("compose.yaml", text)]);
    let url = "postgres://db:5432/app";
    assert!(has(&facts, "migrate", Mechanism::Env, url));
    assert!(has(&facts, "migrate", Mechanism::DependsOn, "db"));
    assert!(has(&facts, "app", Mechanism::DependsOn, "db"));
    assert!(!has(&facts, "app", Mechanism::DependsOn, "migrate"));
}

#[test]
fn a_job_others_only_start_after_is_an_ordinary_dependency() {
    // `service_started`: the service runs alongside and may be called.
    let text = "\
services:
  api:
    image: example/api:1
    depends_on:
      search:
        condition: service_started
    volumes:
      - index:/index
  search:
    image: example/search:1
    environment:
      PEER: api:8080
    volumes:
      - index:/index
volumes:
  index:
";
    let facts = run(&[("compose.yaml", text)]);
    assert!(has(&facts, "api", Mechanism::DependsOn, "search"));
    assert!(has(&facts, "search", Mechanism::Env, "api:8080"));
    assert!(!has(&facts, "api", Mechanism::Env, "api:8080"));
}
