//! The chart renderer over our fixture chart (`fixtures/helm/shop`), through the whole
//! extraction: services, endpoints, env and references located in the templates.

use crate::source::RepoFiles;
use crate::{Registry, extract_files};
use switchyard_model::{DiagnosticCode, RepoFacts};

const CHART: [(&str, &str); 9] = [
    (
        "Chart.yaml",
        include_str!("../../fixtures/helm/shop/Chart.yaml"),
    ),
    (
        "values.yaml",
        include_str!("../../fixtures/helm/shop/values.yaml"),
    ),
    (
        "templates/_helpers.tpl",
        include_str!("../../fixtures/helm/shop/templates/_helpers.tpl"),
    ),
    (
        "templates/api.yaml",
        include_str!("../../fixtures/helm/shop/templates/api.yaml"),
    ),
    (
        "templates/worker.yaml",
        include_str!("../../fixtures/helm/shop/templates/worker.yaml"),
    ),
    (
        "templates/ingress.yaml",
        include_str!("../../fixtures/helm/shop/templates/ingress.yaml"),
    ),
    (
        "templates/broken.yaml",
        include_str!("../../fixtures/helm/shop/templates/broken.yaml"),
    ),
    (
        "templates/NOTES.txt",
        include_str!("../../fixtures/helm/shop/templates/NOTES.txt"),
    ),
    (
        "templates/tests/test-connection.yaml",
        include_str!("../../fixtures/helm/shop/templates/tests/test-connection.yaml"),
    ),
];

fn extract(prefix: &str, extra: &[(&str, &str)]) -> RepoFacts {
    let mut repo = RepoFiles::new("shop");
    for (path, text) in CHART.iter().chain(extra) {
        let registry = Registry::default();
        let path = format!("{prefix}{path}");
        if registry.accepts(&path) {
            repo.add_text(path, *text);
        }
    }
    extract_files(repo, &Registry::default())
}

fn line_of(facts: &RepoFacts, key: &str) -> (String, u32) {
    let e = facts
        .env
        .iter()
        .find(|e| e.key == key)
        .unwrap_or_else(|| panic!("no env {key}: {:#?}", facts.env));
    (e.location.path.clone(), e.location.line)
}

#[test]
fn chart_templates_become_services_located_in_the_templates() {
    let facts = extract("deploy/chart/", &[]);
    let names: Vec<&str> = facts.services.iter().map(|s| s.name.as_str()).collect();
    // fullname = Release.Name (the chart's name) + Chart.Name, from `_helpers.tpl`.
    assert_eq!(names, vec!["shop-shop-api", "shop-shop-worker", "legacy"]);
    let api = &facts.services[0];
    assert_eq!(
        api.image.as_deref(),
        Some("registry.example/shop-api:1.4.2")
    );
    assert_eq!(api.source.path, "deploy/chart/templates/api.yaml");
    assert_eq!(api.source.line, 4);
    let port = &api.endpoints[0];
    assert_eq!((port.location.line, port.location.column), (21, 13));
    // The Ingress host, with the Service's port from another template of the chart.
    assert!(
        api.endpoints
            .iter()
            .any(|e| e.location.path.ends_with("ingress.yaml") && e.location.line == 9)
    );
    // A payments Deployment behind `if .Values.payments.enabled` (false) is not rendered.
    assert!(!names.contains(&"payments"));
}

#[test]
fn env_from_values_points_at_the_template_line() {
    let facts = extract("", &[]);
    // Every `range` iteration comes from the `value:` line of the template.
    assert_eq!(
        line_of(&facts, "DATABASE_HOST"),
        ("templates/api.yaml".into(), 25)
    );
    assert_eq!(
        line_of(&facts, "QUEUE_URL"),
        ("templates/worker.yaml".into(), 20)
    );
    let api_url = facts
        .references
        .iter()
        .find(|r| r.key.as_deref() == Some("API_URL"))
        .expect("API_URL reference");
    assert_eq!(api_url.location.line, 22);
    // Users open file:line and find the key's template there.
    let template = CHART
        .iter()
        .find(|(p, _)| *p == "templates/worker.yaml")
        .map(|(_, t)| *t)
        .unwrap_or("");
    let line = template.lines().nth(21).unwrap_or("");
    let col = api_url.location.column as usize;
    assert!(
        line.get(col - 1..).unwrap_or("").starts_with("value:"),
        "{line}"
    );
}

#[test]
fn secret_values_stay_redacted() {
    let facts = extract("", &[]);
    let password = facts
        .env
        .iter()
        .find(|e| e.key == "DB_PASSWORD")
        .expect("DB_PASSWORD");
    assert!(
        !password.display.contains("hunter2"),
        "{}",
        password.display
    );
    let json = serde_json::to_string(&facts).unwrap_or_default();
    assert!(!json.contains("hunter2"));
}

#[test]
fn a_failed_function_loses_only_its_document() {
    let facts = extract("", &[]);
    let diags: Vec<_> = facts
        .diagnostics
        .iter()
        .filter(|d| d.code == DiagnosticCode::TemplateNotRendered)
        .collect();
    assert_eq!(diags.len(), 1, "{diags:#?}");
    assert_eq!(diags[0].location.path, "templates/broken.yaml");
    assert_eq!((diags[0].location.line, diags[0].location.column), (6, 13));
    assert!(
        diags[0].message.contains("sha512sum"),
        "{}",
        diags[0].message
    );
    // The next document of the same template is read.
    assert!(facts.services.iter().any(|s| s.name == "legacy"));
}

#[test]
fn test_hooks_and_notes_are_not_rendered() {
    let facts = extract("", &[]);
    assert!(facts.services.iter().all(|s| !s.name.ends_with("-test")));
    assert!(
        facts
            .diagnostics
            .iter()
            .all(|d| !d.location.path.contains("tests/"))
    );
}

#[test]
fn missing_required_value_and_syntax_errors_are_diagnostics() {
    let facts = extract(
        "",
        &[
            (
                "values.yaml",
                "worker:\n  enabled: true\napi: {port: 80}\npayments: {}\ningress: {}\n",
            ),
            (
                "templates/bad.yaml",
                "apiVersion: v1\nkind: Service\nmetadata:\n  name: {{ if }}\n",
            ),
        ],
    );
    let messages: Vec<(&str, u32, &str)> = facts
        .diagnostics
        .iter()
        .map(|d| {
            (
                d.location.path.as_str(),
                d.location.line,
                d.message.as_str(),
            )
        })
        .collect();
    assert!(
        messages
            .iter()
            .any(|(p, l, m)| *p == "templates/worker.yaml"
                && *l == 20
                && m.contains("worker.queue is required")),
        "{messages:#?}"
    );
    assert!(
        messages
            .iter()
            .any(|(p, l, _)| *p == "templates/bad.yaml" && *l == 4),
        "{messages:#?}"
    );
    assert!(!facts.services.iter().any(|s| s.name == "shop-shop-worker"));
    assert!(facts.services.iter().any(|s| s.name == "shop-shop-api"));
}

#[test]
fn templates_outside_a_chart_are_still_reported() {
    let mut repo = RepoFiles::new("r");
    repo.add_text(
        "k8s/templates/deploy.yaml",
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {{ .Values.name }}\n",
    );
    let facts = extract_files(repo, &Registry::default());
    assert!(facts.services.is_empty());
    assert_eq!(facts.diagnostics.len(), 1);
    assert!(facts.diagnostics[0].message.contains("helm template"));
}

proptest::proptest! {
    /// Any mix of template fragments renders or fails with diagnostics, never a panic, and
    /// every location stays inside its file.
    #[test]
    fn never_panics_on_fragments(parts in proptest::collection::vec(proptest::sample::select(vec![
        "apiVersion: v1\n", "kind: Service\n", "metadata:\n  name: {{ .Values.name }}\n",
        "{{- if .Values.on }}\n", "{{ else }}", "{{- end }}\n", "{{ range $i, $v := .Values.l }}",
        "{{ with .Values.m }}", "{{ include \"shop.fullname\" . }}", "{{ toYaml .Values | nindent 2 }}",
        "{{ $x := 1 }}", "{{ $x }}", "{{ (", ")}}", "}}", "{{", "{{/* c", "*/}}", "\"", "`",
        "---\n", "spec:\n  ports: [{port: {{ .Values.port | int }}}]\n", "{{ required \"r\" .x }}",
        "{{ define \"d\" }}", "{{ template \"d\" . }}", "{{ printf \"%d %s %\" 1 }}", "é\n",
        "{{ index .Values.l 5 }}", "{{ .Values.l | first | quote }}", "{{ 'a' }}", "{{ -1 }}",
    ]), 0..14)) {
        let text: String = parts.concat();
        let values = "name: api\non: true\nl: [a, b]\nm: {k: v}\nport: \"80\"\n";
        let mut repo = RepoFiles::new("r");
        repo.add_text("c/Chart.yaml", "apiVersion: v2\nname: c\n");
        repo.add_text("c/values.yaml", values);
        repo.add_text("c/templates/_helpers.tpl", "{{ define \"shop.fullname\" }}{{ .Release.Name }}{{ end }}");
        repo.add_text("c/templates/t.yaml", text.clone());
        let facts = extract_files(repo, &Registry::default());
        for s in &facts.services {
            proptest::prop_assert!(s.source.span.end <= text.len());
            for e in &s.endpoints {
                proptest::prop_assert!(e.location.span.end <= text.len());
            }
        }
        for d in &facts.diagnostics {
            proptest::prop_assert!(d.location.span.end <= text.len().max(1) + 64);
        }
    }
}
