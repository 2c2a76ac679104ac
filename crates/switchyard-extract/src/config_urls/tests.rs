use super::*;
use switchyard_model::{DiagnosticCode, Reference, Target};

fn extract(path: &str, text: &str) -> RepoFacts {
    let file = SourceFile::new("r", path, text);
    let mut out = RepoFacts::default();
    assert!(
        ConfigUrlsExtractor.accepts(path),
        "{path} should be accepted"
    );
    assert_eq!(
        ConfigUrlsExtractor.extract(&file, &RepoFiles::new("r"), &mut out),
        Handled::Yes
    );
    out
}

fn texts(out: &RepoFacts) -> Vec<String> {
    out.references
        .iter()
        .map(|r| match &r.target {
            Target::Address { text } => text.clone(),
            other => format!("{other:?}"),
        })
        .collect()
}

fn keyed<'a>(out: &'a RepoFacts, key: &str) -> &'a Reference {
    out.references
        .iter()
        .find(|r| r.key.as_deref() == Some(key))
        .unwrap_or_else(|| panic!("no reference under {key}: {:?}", out.references))
}

/// The shared corpus, or `None` (with a message) when it is not checked out here.
fn corpus_file(rel: &str) -> Option<String> {
    let candidates = [
        format!(
            "{}/../../../shared/corpus/{rel}",
            env!("CARGO_MANIFEST_DIR")
        ),
        format!("/work/shared/corpus/{rel}"),
    ];
    for path in &candidates {
        if let Ok(text) = std::fs::read_to_string(path) {
            return Some(text);
        }
    }
    eprintln!("skipping: corpus file {rel} not found");
    None
}

#[test]
fn accepted_and_denied_names() {
    for path in [
        "config.json",
        "src/config.yml",
        "settings.yaml",
        "api/appsettings.Development.json",
        "backend/config/default.json",
        "configs/prod.yaml",
        "grafana/provisioning/datasources/ds.yaml",
        "prometheus/prometheus.yml",
        "grafana/datasource.yml",
        "grafana/datasources/all.yaml",
        "app.config.json",
        "environments/production.json",
    ] {
        assert!(is_config_file(path), "{path}");
    }
    for path in [
        "package.json",
        "config/package.json",
        "tsconfig.json",
        "config/tsconfig.build.json",
        "package-lock.json",
        "config/.eslintrc.json",
        ".vscode/settings.json",
        "pnpm-lock.yaml",
        "src/data.json",
        "config/README.md",
        "prometheus.json",
        "config.toml",
        "node_modules/x/config.json",
        "otel/collector.json",
        "src/otherwise.yaml",
        ".github/workflows/loki.yml",
    ] {
        assert!(!is_config_file(path), "{path}");
    }
}

#[test]
fn server_configs_by_name_or_folder() {
    for path in [
        "otel-collector-config.yaml",
        "observability/otel/otel.yml",
        "deploy/envoy/front-proxy.yaml",
        "kong.yml",
        "loki/local-config.yaml",
        "monitoring/tempo.yaml",
    ] {
        assert!(is_config_file(path), "{path}");
    }
    // Read like any config file: the collector's exporters are its upstreams, its receivers'
    // listen addresses are not.
    let text = "receivers:\n  otlp:\n    protocols:\n      grpc:\n        endpoint: 0.0.0.0:4317\nexporters:\n  otlp/traces:\n    endpoint: traces-store:4317\n  loki:\n    endpoint: http://logs:3100/loki/api/v1/push\n";
    let out = extract("otel-collector-config.yaml", text);
    assert_eq!(
        texts(&out),
        ["traces-store:4317", "http://logs:3100/loki/api/v1/push"]
    );
}

#[test]
fn key_paths_and_locations() {
    let text = "{\n  \"test\": {\"db\": {\"host\": \"mongo\", \"port\": 27017}},\n  \"api\": {\"baseUrl\": \"http://api:8080/v1\"},\n  \"name\": \"web\"\n}\n";
    let out = extract("config.json", text);
    assert_eq!(texts(&out), ["mongo", "http://api:8080/v1"]);
    let host = keyed(&out, "test.db.host");
    assert_eq!(host.location.to_string(), "r/config.json:2:28");
    assert_eq!(host.mechanism, Mechanism::Url);
    assert_eq!(host.scope, Scope::Host);
    assert!(host.from.is_none());
    let api = keyed(&out, "api.baseUrl");
    assert_eq!(
        &text[api.location.span.start..api.location.span.end],
        "http://api:8080/v1"
    );
}

#[test]
fn arrays_use_parent_key_and_cors_lists_are_skipped() {
    let text = "server:\n  cors:\n    origins:\n      - http://localhost:3000\n  allowedOrigins: [\"https://app.example.com\"]\nupstreams:\n  - http://users:8080\n  - name: orders\n    url: http://orders:8081\nbrokers: [kafka1:9092, kafka2:9092]\n";
    let out = extract("config/app.yaml", text);
    assert_eq!(
        texts(&out),
        [
            "http://users:8080",
            "http://orders:8081",
            "kafka1:9092",
            "kafka2:9092"
        ]
    );
    assert_eq!(keyed(&out, "upstreams[1].url").location.line, 9);
    assert_eq!(keyed(&out, "brokers[1]").location.column, 24);
}

#[test]
fn secrets_in_urls_are_redacted() {
    let out = extract(
        "appsettings.json",
        r#"{"ConnectionStrings": {"Db": "postgres://app:s3cret@db:5432/app"}, "ApiKey": "s3cret"}"#,
    );
    assert_eq!(out.references.len(), 1);
    assert!(!format!("{out:?}").contains("s3cret"));
}

#[test]
fn ado_connection_strings_keep_host_and_hide_password() {
    let text = "{\n  // JSONC comments are allowed in appsettings\n  \"ConnectionStrings\": {\n    \"Default\": \"Server=sqlserver,1433;Database=app;User Id=sa;Password=Pa55word!;\"\n  }\n}\n";
    let out = extract("src/Api/appsettings.Development.json", text);
    assert_eq!(
        texts(&out),
        ["Server=sqlserver,1433;Database=app;User Id=sa;Password=***;"]
    );
    assert!(!format!("{out:?}").contains("Pa55word"));
    assert_eq!(
        keyed(&out, "ConnectionStrings.Default")
            .location
            .to_string(),
        "r/src/Api/appsettings.Development.json:4:17"
    );
}

#[test]
fn non_address_values_are_ignored() {
    let out = extract(
        "settings.yml",
        "debug: true\nport: 8080\nname: api\ntimeout: 10s\nlog: { level: info }\nempty:\n",
    );
    assert!(out.references.is_empty(), "{:?}", out.references);
}

#[test]
fn malformed_files_are_diagnostics() {
    let out = extract(
        "config.json",
        "{\n  \"a\": \"http://x:1\",\n  \"b\": [1, 2\n}\n",
    );
    assert!(out.references.is_empty());
    assert_eq!(out.diagnostics.len(), 1);
    assert_eq!(out.diagnostics[0].code, DiagnosticCode::ParseError);
    assert_eq!(out.diagnostics[0].location.path, "config.json");

    let out = extract("config.yml", "a: [1, 2\nb: 3\n");
    assert_eq!(out.diagnostics[0].code, DiagnosticCode::ParseError);
}

#[test]
fn multi_document_yaml() {
    let out = extract("config/app.yml", "url: http://a:1\n---\nurl: http://b:2\n");
    assert_eq!(texts(&out), ["http://a:1", "http://b:2"]);
    assert_eq!(out.references[1].location.line, 3);
}

#[test]
fn corpus_prometheus_scrapes_itself() {
    let rel = "awesome-compose-prometheus-grafana/prometheus-grafana/prometheus/prometheus.yml";
    let Some(text) = corpus_file(rel) else { return };
    let out = extract("prometheus/prometheus.yml", &text);
    assert_eq!(texts(&out), ["localhost:9090"]);
    let target = keyed(&out, "scrape_configs[0].static_configs[0].targets[0]");
    assert_eq!(
        target.location.to_string(),
        "r/prometheus/prometheus.yml:21:7"
    );
    assert!(out.diagnostics.is_empty());
}

#[test]
fn corpus_grafana_datasource() {
    let rel = "awesome-compose-prometheus-grafana/prometheus-grafana/grafana/datasource.yml";
    let Some(text) = corpus_file(rel) else { return };
    let out = extract("grafana/datasource.yml", &text);
    assert_eq!(texts(&out), ["http://prometheus:9090"]);
    let url = keyed(&out, "datasources[0].url");
    assert_eq!(url.location.to_string(), "r/grafana/datasource.yml:6:8");
}

#[test]
fn corpus_express_config_json() {
    let rel =
        "awesome-compose-react-express-mongodb/react-express-mongodb/backend/config/config.json";
    let Some(text) = corpus_file(rel) else { return };
    let out = extract("backend/config/config.json", &text);
    assert_eq!(
        texts(&out),
        [
            "mongodb://mongo:27017/TodoAppTest",
            "mongodb://mongo:27017/TodoApp"
        ]
    );
    let dev = keyed(&out, "development.MONGODB_URI");
    assert_eq!(
        dev.location.to_string(),
        "r/backend/config/config.json:8:21"
    );
}

mod properties {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn arbitrary_files_never_panic(text in any::<String>(), json: bool) {
            let path = if json { "config.json" } else { "config.yml" };
            let file = SourceFile::new("r", path, text);
            let mut out = RepoFacts::default();
            ConfigUrlsExtractor.extract(&file, &RepoFiles::new("r"), &mut out);
            for r in &out.references {
                prop_assert!(r.location.span.end <= file.text.len());
            }
        }
    }
}

#[test]
fn prometheus_targets_without_a_port_and_dns_sd_names() {
    let text = "scrape_configs:\n  - job_name: exporters\n    static_configs:\n      - targets: [node-exporter, 'cadvisor:8080']\n  - job_name: swarm\n    dns_sd_configs:\n      - names: ['tasks.api']\n        type: A\n        port: 9100\n    relabel_configs:\n      - source_labels: [__address__]\n        target_label: instance\n";
    let out = extract("prometheus/prometheus.yml", text);
    assert_eq!(texts(&out), ["node-exporter", "cadvisor:8080", "tasks.api"]);
    assert_eq!(
        keyed(&out, "scrape_configs[1].dns_sd_configs[0].names[0]")
            .location
            .to_string(),
        "r/prometheus/prometheus.yml:7:18"
    );
}

#[test]
fn per_environment_files_record_their_values_as_env() {
    let out = extract(
        "environments/staging.json",
        "{\n  \"API_URL\": \"https://api-staging.example.com\",\n  \"api\": {\"timeout\": 30},\n  \"JWT_SECRET\": \"hunter2\",\n  \"origins\": [\"https://a.example.com\"]\n}\n",
    );
    let env: Vec<(&str, &str, u32)> = out
        .env
        .iter()
        .map(|e| (e.key.as_str(), e.display.as_str(), e.location.line))
        .collect();
    assert_eq!(
        env,
        [
            ("API_URL", "https://api-staging.example.com", 2),
            ("api.timeout", "30", 3),
            ("JWT_SECRET", "***", 4),
        ]
    );
    assert!(!format!("{out:?}").contains("hunter2"));
    // Other config files record addresses only.
    assert!(
        extract("config/settings.json", "{\"API_URL\": \"http://a:1\"}")
            .env
            .is_empty()
    );
    for (path, yes) in [
        ("environments/production.yaml", true),
        ("config/config.prod.json", true),
        ("appsettings.Staging.json", true),
        ("config/default.json", false),
        ("config/products.json", false),
    ] {
        assert_eq!(is_per_environment_file(path), yes, "{path}");
    }
}

#[test]
fn cors_allow_lists_are_env_entries() {
    let json = r#"{
  "cors": { "origin": ["http://localhost:5173", "https://app.example.com"], "credentials": true },
  "socket": { "origin": "https://ws.example.com" }
}"#;
    let out = extract("config/default.json", json);
    let env: Vec<String> = out
        .env
        .iter()
        .map(|e| format!("{}={} @ {}", e.key, e.display, e.location))
        .collect();
    assert_eq!(
        env,
        ["cors.origin=http://localhost:5173,https://app.example.com @ r/config/default.json:2:23"]
    );
    // An allow-list names callers: never a reference.
    assert!(texts(&out).is_empty(), "{:?}", texts(&out));
    let yaml = "CORS_ORIGINS: http://localhost:3000 https://a.example.com\nsecurity:\n  allowed-origins:\n    - https://b.example.com\n  cors:\n    origin: true\n";
    let out = extract("config/settings.yaml", yaml);
    let env: Vec<(&str, &str)> = out
        .env
        .iter()
        .map(|e| (e.key.as_str(), e.display.as_str()))
        .collect();
    assert_eq!(
        env,
        [
            (
                "CORS_ORIGINS",
                "http://localhost:3000 https://a.example.com"
            ),
            ("security.allowed-origins", "https://b.example.com"),
        ]
    );
}
