//! Helm charts: a template under a chart's `templates/` is rendered with the chart's default
//! `values.yaml` by a small Go-template evaluator of our own ([`parse`], [`eval`], [`funcs`]),
//! and the rendered text is read like any manifest. Every rendered line remembers the template
//! line it came from, so facts point at the template (text from `include` at the include call).
//!
//! Only `values.yaml` is used: `values-*.yaml` variants are not rendered. `.Release.Name` is the
//! chart's name, `.Release.Namespace` is `default`. A failed action (unknown function,
//! `required` value missing) loses only the YAML document it sits in, with a
//! `TemplateNotRendered` diagnostic at its template line.

pub mod eval;
pub mod funcs;
pub mod parse;
pub mod value;

use crate::source::{RepoFiles, SourceFile, file_name};
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use switchyard_model::{ByteSpan, Diagnostic, DiagnosticCode, Location};
use value::Value;

/// One chart: its root context and the parsed templates (with every `define`).
#[derive(Debug, Default)]
pub struct Chart {
    pub dir: String,
    pub root: Value,
    pub defines: HashMap<String, Vec<parse::Node>>,
    parsed: HashMap<String, Result<Vec<parse::Node>, parse::SyntaxError>>,
}

/// Loaded charts by directory.
pub type Charts = HashMap<String, Arc<Chart>>;

/// A rendered template: text, line map and the problems met.
#[derive(Debug, Clone)]
pub struct Rendered {
    pub text: String,
    /// Per rendered line (0-based): the template's 1-based line.
    pub lines: Vec<u32>,
    pub diagnostics: Vec<Diagnostic>,
}

/// The chart directory of a template path: the parent of the nearest `templates/` ancestor
/// that sits beside a `Chart.yaml`.
pub fn chart_dir(path: &str, repo: &RepoFiles) -> Option<String> {
    let parts: Vec<&str> = path.split('/').collect();
    let dirs = parts.len().saturating_sub(1);
    (0..dirs).rev().find_map(|i| {
        if parts.get(i) != Some(&"templates") {
            return None;
        }
        let dir = parts.get(..i).unwrap_or(&[]).join("/");
        repo.get(&join(&dir, "Chart.yaml")).map(|_| dir)
    })
}

fn join(dir: &str, name: &str) -> String {
    if dir.is_empty() {
        name.to_string()
    } else {
        format!("{dir}/{name}")
    }
}

fn first_doc(file: Option<&SourceFile>) -> Value {
    file.and_then(|f| {
        crate::yaml::parse_stream(&f.text)
            .nodes()
            .next()
            .map(Value::from_yaml)
    })
    .unwrap_or_else(|| Value::Map(BTreeMap::new()))
}

fn capitalized(v: &Value) -> Value {
    let Value::Map(m) = v else {
        return Value::Map(BTreeMap::new());
    };
    Value::Map(
        m.iter()
            .map(|(k, v)| {
                let mut chars = k.chars();
                let key = chars
                    .next()
                    .map(|c| c.to_uppercase().chain(chars).collect())
                    .unwrap_or_default();
                (key, v.clone())
            })
            .collect(),
    )
}

fn map(entries: &[(&str, Value)]) -> Value {
    Value::Map(
        entries
            .iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect(),
    )
}

impl Chart {
    /// Reads the chart at `dir`: `Chart.yaml`, `values.yaml` and every file under `templates/`.
    pub fn load(dir: &str, repo: &RepoFiles) -> Chart {
        let meta = first_doc(repo.get(&join(dir, "Chart.yaml")));
        let values = first_doc(repo.get(&join(dir, "values.yaml")));
        let name = meta.field("name").render();
        let name = if name.is_empty() {
            file_name(dir).to_string()
        } else {
            name
        };
        let kube = map(&[
            ("Version", Value::Str("v1.30.0".into())),
            ("GitVersion", Value::Str("v1.30.0".into())),
            ("Major", Value::Str("1".into())),
            ("Minor", Value::Str("30".into())),
        ]);
        let root = map(&[
            ("Values", values),
            ("Chart", capitalized(&meta)),
            (
                "Release",
                map(&[
                    ("Name", Value::Str(name)),
                    ("Namespace", Value::Str("default".into())),
                    ("Service", Value::Str("Helm".into())),
                    ("IsInstall", Value::Bool(true)),
                    ("IsUpgrade", Value::Bool(false)),
                    ("Revision", Value::Int(1)),
                ]),
            ),
            ("Capabilities", map(&[("KubeVersion", kube)])),
            (
                "Template",
                map(&[("BasePath", Value::Str(join(dir, "templates")))]),
            ),
        ]);
        let prefix = join(dir, "templates/");
        let mut paths: Vec<&SourceFile> = repo
            .files()
            .iter()
            .filter(|f| {
                f.path.starts_with(&prefix) && chart_dir(&f.path, repo).as_deref() == Some(dir)
            })
            .collect();
        paths.sort_by(|a, b| a.path.cmp(&b.path));
        let mut chart = Chart {
            dir: dir.to_string(),
            root,
            ..Chart::default()
        };
        for f in paths {
            let parsed = parse::parse(&f.text);
            if let Ok(p) = &parsed {
                for (k, v) in &p.defines {
                    chart.defines.insert(k.clone(), v.clone());
                }
            }
            chart.parsed.insert(f.path.clone(), parsed.map(|p| p.body));
        }
        chart
    }
}

/// Whether a chart file is a template that renders to manifests (not `_*.tpl`, `NOTES.txt`
/// or a `templates/tests/` hook).
pub fn renders(path: &str, chart_dir: &str) -> bool {
    let name = file_name(path);
    let in_tests = path
        .strip_prefix(&join(chart_dir, "templates/"))
        .is_some_and(|rest| rest.starts_with("tests/"));
    (name.ends_with(".yaml") || name.ends_with(".yml")) && !name.starts_with('_') && !in_tests
}

fn diagnostic_at(file: &SourceFile, line: u32, message: String) -> Diagnostic {
    let start = file.line_start(line).unwrap_or(0);
    let line_text = file.text.get(start..).unwrap_or("");
    let line_text = line_text.split('\n').next().unwrap_or("");
    let col = line_text.find("{{").unwrap_or(0);
    Diagnostic::new(
        DiagnosticCode::TemplateNotRendered,
        message,
        file.location(start + col, start + line_text.len()),
    )
}

/// Renders one chart template with the chart's default values. `None` for a file that renders
/// to nothing this tool reads (tests, partials); `Err` when the template does not parse.
/// `charts` keeps the charts already loaded by the caller (one load per chart and pass).
pub fn render(
    file: &SourceFile,
    repo: &RepoFiles,
    charts: &mut Charts,
) -> Option<Result<Rendered, Diagnostic>> {
    let dir = chart_dir(&file.path, repo)?;
    if !renders(&file.path, &dir) {
        return None;
    }
    let chart = Arc::clone(
        charts
            .entry(dir.clone())
            .or_insert_with(|| Arc::new(Chart::load(&dir, repo))),
    );
    let parsed;
    let body = match chart.parsed.get(&file.path) {
        Some(b) => b,
        None => {
            // Not among the repository's files (a test harness): parse it now.
            parsed = parse::parse(&file.text).map(|p| p.body);
            &parsed
        }
    };
    let body = match body {
        Ok(b) => b,
        Err(e) => {
            return Some(Err(diagnostic_at(
                file,
                e.line,
                format!(
                    "Helm template could not be read: {}; skipped (render with `helm template` first)",
                    e.message
                ),
            )));
        }
    };
    let env = eval::Env::new(&chart.defines, chart.root.clone());
    let out = eval::render(&env, body, &env.root);
    let mut lines: Vec<String> = out.text.split('\n').map(str::to_string).collect();
    let mut diagnostics = Vec::new();
    for (at, e) in &out.errors {
        blank_document(&mut lines, *at);
        diagnostics.push(diagnostic_at(
            file,
            e.line,
            format!(
                "Helm template not rendered with the chart's values.yaml: {}; this document skipped",
                e.message
            ),
        ));
    }
    Some(Ok(Rendered {
        text: lines.join("\n"),
        lines: out.lines,
        diagnostics,
    }))
}

/// Empties the YAML document (between `---` lines) holding rendered line `at`, keeping the
/// line count so the line map stays true.
fn blank_document(lines: &mut [String], at: usize) {
    let is_sep = |i: &usize| lines.get(*i).is_some_and(|l| l.starts_with("---"));
    let at = at.min(lines.len().saturating_sub(1));
    let start = (0..=at).rev().find(is_sep).map(|i| i + 1).unwrap_or(0);
    let end = (at + 1..lines.len()).find(is_sep).unwrap_or(lines.len());
    for line in lines.iter_mut().take(end).skip(start) {
        line.clear();
    }
}

/// Moves a location in the rendered text to the template: the template line that produced it,
/// and the same token on that line when it is written there, else the line's text.
pub fn remap(loc: &mut Location, rendered: &SourceFile, template: &SourceFile, lines: &[u32]) {
    if loc.path != template.path {
        return;
    }
    let idx = (loc.line as usize).saturating_sub(1);
    let tline = lines.get(idx).or(lines.last()).copied().unwrap_or(1);
    let Some(start) = template.line_start(tline) else {
        *loc = template.file_location();
        return;
    };
    let line_text = template.text.get(start..).unwrap_or("");
    let line_text = line_text
        .split('\n')
        .next()
        .unwrap_or("")
        .trim_end_matches('\r');
    let token = rendered
        .text
        .get(loc.span.start..loc.span.end)
        .filter(|t| !t.trim().is_empty() && !t.contains('\n'));
    let (s, e) = match token.and_then(|t| line_text.find(t).map(|i| (i, i + t.len()))) {
        Some(found) => found,
        None => {
            let trimmed = line_text.trim_start();
            (line_text.len() - trimmed.len(), line_text.len())
        }
    };
    let (line, column) = template.line_col(start + s);
    loc.line = line;
    loc.column = column;
    loc.span = ByteSpan::new(start + s, start + e);
}

/// Whether a path may hold chart helpers (`templates/_helpers.tpl`): read so `include` works.
pub fn is_helper(path: &str) -> bool {
    file_name(path).ends_with(".tpl")
        && (path.starts_with("templates/") || path.contains("/templates/"))
}

#[cfg(test)]
mod tests;
