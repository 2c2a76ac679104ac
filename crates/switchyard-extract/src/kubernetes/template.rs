//! Recognises unrendered Helm/Go templates so they are reported instead of misread: a templated
//! manifest yields one `TemplateNotRendered` diagnostic at its first `{{` and no facts.

use crate::source::{RepoFiles, SourceFile};
use crate::yaml::{Node, Value};
use switchyard_model::{Diagnostic, DiagnosticCode};

/// Byte offset of the first `{{` that a `}}` follows.
pub(super) fn first_marker(text: &str) -> Option<usize> {
    let start = text.find("{{")?;
    text.get(start + 2..)?.contains("}}").then_some(start)
}

/// Whether `path` sits under a `templates/` directory of a Helm chart (a dir with `Chart.yaml`).
pub(super) fn in_chart_templates(path: &str, repo: &RepoFiles) -> bool {
    let parts: Vec<&str> = path.split('/').collect();
    let dirs = parts.len().saturating_sub(1);
    (0..dirs).any(|i| {
        parts.get(i) == Some(&"templates") && {
            let chart_dir = parts.get(..i).unwrap_or(&[]).join("/");
            let chart = if chart_dir.is_empty() {
                "Chart.yaml".to_string()
            } else {
                format!("{chart_dir}/Chart.yaml")
            };
            repo.get(&chart).is_some()
        }
    })
}

/// The diagnostic for a templated file, at the first `{{`.
pub(super) fn diagnostic(file: &SourceFile, marker: usize) -> Diagnostic {
    Diagnostic::new(
        DiagnosticCode::TemplateNotRendered,
        "Helm/Go template not rendered; skipped (render with `helm template` first)",
        file.location(marker, (marker + 2).min(file.text.len())),
    )
}

/// Whether a document that parsed still carries template markers where they matter: in any
/// key, or in a value of an object this extractor reads. ConfigMap/Secret data and annotations
/// legitimately hold Go templates (alert texts, dashboards), so they are not counted.
pub(super) fn is_templated(doc: &Node) -> bool {
    let kind = doc.get("kind").and_then(Node::as_str).unwrap_or("");
    if !super::load::is_read_kind(kind) {
        return has_complex_key(doc);
    }
    let config = matches!(kind, "ConfigMap" | "Secret");
    walk(doc, config, true)
}

fn has_marker(text: &str) -> bool {
    first_marker(text).is_some()
}

fn walk(node: &Node, config: bool, top: bool) -> bool {
    match &node.value {
        Value::Scalar { text, .. } => has_marker(text),
        Value::Seq(items) => items.iter().any(|i| walk(i, config, false)),
        Value::Map(entries) => entries.iter().any(|(k, v)| {
            let Some(key) = k.as_str() else {
                // `{{ .Values.x }}` unquoted parses as a flow map used as a key.
                return true;
            };
            if has_marker(key) {
                return true;
            }
            let content = key == "annotations"
                || (config && top && matches!(key, "data" | "stringData" | "binaryData"));
            !content && walk(v, config, false)
        }),
    }
}

fn has_complex_key(node: &Node) -> bool {
    match &node.value {
        Value::Scalar { .. } => false,
        Value::Seq(items) => items.iter().any(has_complex_key),
        Value::Map(entries) => entries
            .iter()
            .any(|(k, v)| k.as_str().is_none() || has_complex_key(v)),
    }
}

/// Whether text that did not parse still looks like a manifest: `apiVersion:` and `kind:` at
/// line starts.
pub(super) fn looks_like_manifest(text: &str) -> bool {
    let starts = |prefix: &str| {
        text.lines().any(|l| {
            let l = l.trim_start();
            l.strip_prefix("- ").unwrap_or(l).starts_with(prefix)
        })
    };
    starts("apiVersion:") && starts("kind:")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::extractor::{Extractor, Handled};
    use crate::kubernetes::KubernetesExtractor;
    use crate::kubernetes::tests::{at, run};
    use crate::yaml::parse;
    use switchyard_model::RepoFacts;

    #[test]
    fn markers() {
        assert_eq!(first_marker("a: 1\nb: {{ .Values.x }}\n"), Some(8));
        assert_eq!(first_marker("a: {{ open"), None);
        assert_eq!(first_marker("plain"), None);
    }

    #[test]
    fn chart_templates_need_a_chart() {
        let mut repo = RepoFiles::new("r");
        repo.add_text("charts/api/Chart.yaml", "apiVersion: v2\nname: api\n");
        assert!(in_chart_templates(
            "charts/api/templates/deploy.yaml",
            &repo
        ));
        assert!(in_chart_templates(
            "charts/api/templates/tests/t.yaml",
            &repo
        ));
        assert!(!in_chart_templates("other/templates/deploy.yaml", &repo));
        assert!(!in_chart_templates("charts/api/values.yaml", &repo));
    }

    #[test]
    fn markers_in_configmap_data_and_annotations_are_content() {
        let cm = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: alerts\n  annotations:\n    a: \"{{ x }}\"\ndata:\n  rule: \"{{ $labels.instance }} down\"\n";
        assert!(!is_templated(&parse(cm).unwrap().unwrap()));
        let deploy =
            "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: \"{{ .Release.Name }}\"\n";
        assert!(is_templated(&parse(deploy).unwrap().unwrap()));
        let crd = "apiVersion: monitoring.coreos.com/v1\nkind: PrometheusRule\nspec:\n  summary: \"{{ $value }}\"\n";
        assert!(!is_templated(&parse(crd).unwrap().unwrap()));
    }

    #[test]
    fn manifest_shape() {
        assert!(looks_like_manifest(
            "apiVersion: v1\nkind: Service\nmetadata: [\n"
        ));
        assert!(!looks_like_manifest("name: x\nkind: y\n"));
    }

    #[test]
    fn helm_template_is_reported_not_guessed() {
        let text = "\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ include \"app.fullname\" . }}
  labels:
    {{- include \"app.labels\" . | nindent 4 }}
spec:
  replicas: {{ .Values.replicaCount }}
";
        let (facts, handled) = run(&[("deploy.yaml", text)]);
        assert_eq!(handled, vec![Handled::Yes]);
        assert!(facts.services.is_empty());
        assert_eq!(facts.diagnostics.len(), 1);
        let d = &facts.diagnostics[0];
        assert_eq!(d.code, DiagnosticCode::TemplateNotRendered);
        assert_eq!(at(&d.location), (4, 9));
        assert!(d.message.contains("helm template"));
    }

    #[test]
    fn chart_templates_are_rendered_with_the_chart_values() {
        let text = "\
apiVersion: v1
kind: Service
metadata:
  name: \"{{ .Release.Name }}-api\"
spec:
  ports: [{port: 80}]
";
        let files = [
            (
                "chart/Chart.yaml",
                "apiVersion: v2\nname: api\nversion: 1.0.0\n",
            ),
            ("chart/values.yaml", "image: api\nkind: nope\n"),
            ("chart/templates/svc.yaml", text),
        ];
        let (facts, handled) = run(&files);
        assert_eq!(
            handled,
            vec![Handled::NotMine, Handled::NotMine, Handled::Yes]
        );
        // Rendered with the chart's values (`.Release.Name` is the chart's name), located in
        // the template.
        assert_eq!(facts.services.len(), 1);
        assert_eq!(facts.services[0].name, "api-api");
        assert_eq!(facts.services[0].source.path, "chart/templates/svc.yaml");
        assert_eq!(at(&facts.services[0].source), (4, 3));
        assert!(facts.diagnostics.is_empty(), "{:?}", facts.diagnostics);
    }

    #[test]
    fn non_manifest_yaml_is_not_mine() {
        let workflow =
            "name: ci\non: push\njobs:\n  build:\n    runs-on: ${{ matrix.os }}\n    kind: x\n";
        let config = "database:\n  url: postgres://db:5432/app\n";
        let broken = "kind: [\nfoo\n";
        let (facts, handled) = run(&[
            (".github/workflows/ci.yml", workflow),
            ("config/app.yaml", config),
            ("broken.yaml", broken),
            ("docker-compose.yml", "services: {}\n"),
        ]);
        assert_eq!(handled, vec![Handled::NotMine; 4]);
        assert_eq!(facts, RepoFacts::default());
        assert!(!KubernetesExtractor.accepts("compose.yaml"));
        assert!(!KubernetesExtractor.accepts("package.json"));
        assert!(KubernetesExtractor.accepts("deploy/k8s/api.yml"));
    }

    #[test]
    fn broken_manifest_is_a_parse_error() {
        let text = "apiVersion: v1\nkind: Service\nmetadata:\n  name: [x\n";
        let (facts, handled) = run(&[("svc.yaml", text)]);
        assert_eq!(handled, vec![Handled::Yes]);
        assert_eq!(facts.diagnostics.len(), 1);
        assert_eq!(facts.diagnostics[0].code, DiagnosticCode::ParseError);
        assert!(facts.services.is_empty());
    }

    proptest::proptest! {
        /// Any mix of manifest fragments is read or rejected, never a panic.
        #[test]
        fn never_panics_on_fragments(parts in proptest::collection::vec(proptest::sample::select(vec![
            "apiVersion: v1\n", "kind: Service\n", "kind: Deployment\n", "kind: Ingress\n",
            "metadata:\n  name: a\n", "spec:\n", "  selector: {app: a}\n", "  ports: [{port: 99999}]\n",
            "  template:\n    metadata: {labels: {app: a}}\n    spec: {containers: [{image: x, ports: [{containerPort: 80}]}]}\n",
            "  rules: [{host: a.com, http: {paths: [{backend: {serviceName: a}}]}}]\n",
            "---\n", "{{ .Values.x }}\n", "  - [\n", "é: \"\\u00e9\"\n", "items:\n  - kind: Pod\n",
        ]), 0..12)) {
            let text: String = parts.concat();
            let other = "apiVersion: v1\nkind: Service\nmetadata: {name: a}\nspec: {selector: {app: a}}\n";
            let (facts, _) = run(&[("k/a.yaml", &text), ("k/b.yaml", other)]);
            let len = |path: &str| if path == "k/a.yaml" { text.len() } else { other.len() };
            for s in &facts.services {
                proptest::prop_assert!(s.source.span.end <= len(&s.source.path));
                for e in &s.endpoints {
                    proptest::prop_assert!(e.location.span.end <= len(&e.location.path));
                }
            }
        }
    }
}
