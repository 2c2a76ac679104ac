use super::*;
use switchyard_model::Target;

/// Extracts `path` from a repository holding `files` (path, text), all of them accepted.
fn extract_in(files: &[(&str, &str)], path: &str) -> (Handled, RepoFacts) {
    let mut repo = RepoFiles::new("r");
    for (p, t) in files {
        repo.add_text(*p, *t);
    }
    let file = repo.get(path).expect("file in repo").clone();
    let mut out = RepoFacts::default();
    assert!(SpringExtractor.accepts(path));
    let handled = SpringExtractor.extract(&file, &repo, &mut out);
    (handled, out)
}

/// `(from, address text, key)` of every reference.
fn refs(out: &RepoFacts) -> Vec<(Option<String>, String, String)> {
    out.references
        .iter()
        .map(|r| {
            let text = match &r.target {
                Target::Address { text } => text.clone(),
                other => format!("{other:?}"),
            };
            (r.from.clone(), text, r.key.clone().unwrap_or_default())
        })
        .collect()
}

const GATEWAY: &str = "\
spring:
  application:
    name: edge-gateway
  config:
    import: optional:configserver:${CONFIG_URI:http://localhost:8888}
  cloud:
    gateway:
      routes:
        - id: orders
          uri: lb://orders-api
          predicates:
            - Path=/api/orders/**
          filters:
            - name: CircuitBreaker
              args:
                fallbackUri: forward:/fallback
---
spring:
  config:
    activate:
      on-profile: compose
    import: configserver:http://settings:8888
";

#[test]
fn gateway_routes_and_config_server_belong_to_the_named_application() {
    let (handled, out) = extract_in(
        &[("gateway/src/main/resources/application.yml", GATEWAY)],
        "gateway/src/main/resources/application.yml",
    );
    assert_eq!(handled, Handled::Yes);
    let found = refs(&out);
    let owner = Some("edge-gateway".to_string());
    assert!(found.contains(&(
        owner.clone(),
        "lb://orders-api".into(),
        "spring.cloud.gateway.routes[0].uri".into()
    )));
    // The placeholder's default is the address; `optional:configserver:` is not.
    assert!(found.contains(&(
        owner.clone(),
        "http://localhost:8888".into(),
        "spring.config.import".into()
    )));
    assert!(found.contains(&(
        owner.clone(),
        "http://settings:8888".into(),
        "spring.config.import".into()
    )));
    // A `forward:` fallback is the gateway itself, not an address.
    assert!(!found.iter().any(|(_, t, _)| t.contains("forward")));
    // Evidence points at the value.
    let route = out
        .references
        .iter()
        .find(|r| r.key.as_deref() == Some("spring.cloud.gateway.routes[0].uri"))
        .expect("route");
    assert_eq!((route.location.line, route.location.column), (10, 16));
}

const SHARED: &str = "\
spring:
  jpa:
    open-in-view: false
management:
  tracing:
    sampling:
      probability: 1
---
spring:
  config:
    activate:
      on-profile: compose
management:
  zipkin:
    tracing:
      endpoint: http://traces:9411/api/v2/spans
";

const ORDERS: &str = "\
server:
  port: 8081
---
spring:
  config:
    activate:
      on-profile: compose
  datasource:
    url: jdbc:postgresql://orders-db:5432/orders?sslmode=disable
eureka:
  client:
    serviceUrl:
      defaultZone: http://registry:8761/eureka/
";

const ORDERS_STAGING: &str = "\
spring:
  rabbitmq:
    addresses: amqp://mq-staging:5672
";

const REGISTRY: &str = "\
server:
  port: 8761
eureka:
  instance:
    hostname: localhost
  client:
    serviceUrl:
      defaultZone: http://${eureka.instance.hostname}:${server.port}/eureka/
";

fn config_repository() -> Vec<(&'static str, &'static str)> {
    vec![
        ("application.yml", SHARED),
        ("orders-api.yml", ORDERS),
        ("orders-api-staging.yml", ORDERS_STAGING),
        ("registry.yml", REGISTRY),
        ("README.md", "spring cloud config"),
    ]
}

#[test]
fn config_repository_files_belong_to_the_application_they_are_named_after() {
    let (_, out) = extract_in(&config_repository(), "orders-api.yml");
    let found = refs(&out);
    let owner = Some("orders-api".to_string());
    assert!(found.contains(&(
        owner.clone(),
        "jdbc:postgresql://orders-db:5432/orders?sslmode=disable".into(),
        "spring.datasource.url".into()
    )));
    assert!(found.contains(&(
        owner,
        "http://registry:8761/eureka/".into(),
        "eureka.client.serviceUrl.defaultZone".into()
    )));
    // A profile file belongs to its application, not to `orders-api-staging`.
    let (_, out) = extract_in(&config_repository(), "orders-api-staging.yml");
    assert_eq!(
        refs(&out),
        vec![(
            Some("orders-api".to_string()),
            "amqp://mq-staging:5672".into(),
            "spring.rabbitmq.addresses".into()
        )]
    );
}

#[test]
fn shared_application_file_of_a_config_repository_is_read_by_every_application() {
    let (_, out) = extract_in(&config_repository(), "application.yml");
    let mut owners: Vec<Option<String>> = refs(&out)
        .into_iter()
        .filter(|(_, t, _)| t == "http://traces:9411/api/v2/spans")
        .map(|(o, _, _)| o)
        .collect();
    owners.sort();
    assert_eq!(
        owners,
        vec![Some("orders-api".to_string()), Some("registry".to_string())]
    );
}

#[test]
fn placeholders_resolve_from_the_file_or_their_default() {
    let (_, out) = extract_in(&config_repository(), "registry.yml");
    // `eureka.instance.hostname` is the registry's own name, not a call.
    assert_eq!(
        refs(&out),
        vec![(
            Some("registry".to_string()),
            "http://localhost:8761/eureka/".into(),
            "eureka.client.serviceUrl.defaultZone".into()
        )]
    );
    let props: HashMap<&str, &str> = [("a.host", "db"), ("loop", "${loop}")].into();
    assert_eq!(
        resolve_placeholders("${a.host}:${PORT:5432}", &props).as_deref(),
        Some("db:5432")
    );
    assert_eq!(resolve_placeholders("${UNSET}", &props), None);
    assert_eq!(resolve_placeholders("${loop}", &props), None);
    assert_eq!(resolve_placeholders("${unclosed", &props), None);
    assert_eq!(
        resolve_placeholders("${A:${B:http://x:1}}", &props).as_deref(),
        Some("http://x:1")
    );
}

#[test]
fn application_yml_without_a_name_is_left_to_attribution() {
    let text = "spring:\n  redis:\n    host: cache\n";
    let (_, out) = extract_in(
        &[("svc/src/main/resources/application.yml", text)],
        "svc/src/main/resources/application.yml",
    );
    assert_eq!(
        refs(&out),
        vec![(None, "cache".into(), "spring.redis.host".into())]
    );
}

#[test]
fn other_yaml_is_not_spring() {
    for (path, text) in [
        ("ci.yml", "stages: [build]\nbuild:\n  script: make\n"),
        // `management` is Spring's only in Spring Boot's own file names.
        ("values.yml", "management:\n  url: http://admin:80\n"),
        ("mkdocs.yml", "site_name: spring notes\n"),
    ] {
        let (handled, out) = extract_in(&[(path, text)], path);
        assert_eq!(handled, Handled::NotMine, "{path}");
        assert!(out.references.is_empty());
    }
}

#[test]
fn broken_yaml_is_a_diagnostic_not_a_panic() {
    let text = "spring:\n  application:\n    name: x\n  cloud: [unclosed\n";
    let (handled, out) = extract_in(&[("application.yml", text)], "application.yml");
    assert_eq!(handled, Handled::NotMine);
    assert!(out.references.is_empty());
}
