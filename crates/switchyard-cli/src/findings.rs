//! Findings (conflicts and dependency cycles) as one line each per location, for editors and
//! CI: `--format compact` (`repo/path:line:col: severity: message`, the grep/compiler
//! convention) and `--format github` (GitHub Actions workflow commands, which annotate the
//! files of a pull request). Also the cycles of an analysis as findings with evidence, and
//! `analyze --format compact` (diagnostics, unresolved references, cycles).

use crate::inputs::Analysis;
use crate::terminal::escape;
use std::collections::HashMap;
use switchyard_conflicts::sarif::{CYCLE_RULE, CycleFinding, describe};
use switchyard_conflicts::{Conflict, Severity};
use switchyard_model::Location;

/// The repository cycles of an analysis, each with the first evidence of every edge on it.
pub fn cycles(analysis: &Analysis) -> Vec<CycleFinding> {
    let cycles = analysis.repo_graph.cycles();
    if cycles.is_empty() {
        return Vec::new();
    }
    let repository_of: HashMap<&str, &str> = analysis
        .model
        .services
        .iter()
        .map(|s| (s.id.as_str(), s.repository.as_str()))
        .collect();
    let cut: Vec<(String, String)> = analysis.repo_graph.cut_set();
    cycles
        .into_iter()
        .map(|members| {
            let mut evidence = Vec::new();
            for pair in members.windows(2) {
                let (a, b) = (pair[0].as_str(), pair[1].as_str());
                let edge = analysis.model.edges.iter().find(|e| {
                    repository_of.get(e.from.as_str()) == Some(&a)
                        && repository_of.get(e.to.as_str()) == Some(&b)
                });
                if let Some(e) = edge
                    && let Some(l) = e.evidence.first()
                {
                    let mechanisms: Vec<&str> = e.mechanisms.iter().map(|m| m.as_str()).collect();
                    evidence.push((
                        l.clone(),
                        format!("{} -> {} ({})", e.from, e.to, mechanisms.join("+")),
                    ));
                }
            }
            let on_cycle =
                |(a, b): &&(String, String)| members.windows(2).any(|p| p[0] == *a && p[1] == *b);
            let cut = cut
                .iter()
                .filter(on_cycle)
                .map(|(a, b)| format!("{a} -> {b}"))
                .collect();
            CycleFinding {
                between: "repositories".into(),
                members,
                evidence,
                cut,
            }
        })
        .collect()
}

/// Compiler-style severity word.
fn compact_level(s: Severity) -> &'static str {
    match s {
        Severity::High => "error",
        Severity::Medium => "warning",
        Severity::Low => "note",
    }
}

/// `repo/path:line:col`, or `repo/path` for a whole file; escaped so one location is one line.
fn position(l: &Location) -> String {
    let file = format!("{}/{}", escape(&l.repository), escape(&l.path));
    if l.line >= 1 {
        format!("{file}:{}:{}", l.line, l.column.max(1))
    } else {
        file
    }
}

/// `--format compact`: one line per location of every finding.
pub fn compact(conflicts: &[Conflict], cycles: &[CycleFinding]) -> String {
    let mut out = String::new();
    for c in conflicts {
        for o in &c.occurrences {
            out.push_str(&format!(
                "{}: {}: {} ({}) [{} {}]\n",
                position(&o.location),
                compact_level(c.severity),
                escape(&c.message),
                escape(&o.detail),
                c.kind.as_str(),
                escape(&c.id),
            ));
        }
    }
    for cycle in cycles {
        let message = cycle.message();
        if cycle.evidence.is_empty() {
            out.push_str(&format!(
                "{}: error: {} [{CYCLE_RULE}]\n",
                escape(&cycle.members.first().cloned().unwrap_or_default()),
                escape(&message)
            ));
        }
        for (l, detail) in &cycle.evidence {
            out.push_str(&format!(
                "{}: error: {} ({}) [{CYCLE_RULE}]\n",
                position(l),
                escape(&message),
                escape(detail)
            ));
        }
    }
    out
}

/// `analyze --format compact`: each diagnostic (`warning`), unresolved reference (`note`) and
/// cycle edge (`error`) as one located line.
pub fn analysis_compact(report: &crate::report::Report, cycles: &[CycleFinding]) -> String {
    let position = |l: &crate::report::Loc| {
        let file = format!("{}/{}", escape(&l.repository), escape(&l.path));
        if l.line >= 1 {
            format!("{file}:{}:{}", l.line, l.column.max(1))
        } else {
            file
        }
    };
    let name = |v: serde_json::Result<serde_json::Value>| {
        v.ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default()
    };
    let mut out = String::new();
    for d in &report.diagnostics {
        out.push_str(&format!(
            "{}: warning: {} [{}]\n",
            position(&d.location),
            escape(&d.message),
            name(serde_json::to_value(d.code))
        ));
    }
    for u in &report.unresolved {
        out.push_str(&format!(
            "{}: note: {} of {}/{} resolves to no service of the fleet ({}) [unresolved]\n",
            position(&u.location),
            escape(&u.reference),
            escape(&u.repository),
            escape(u.service.as_deref().unwrap_or("-")),
            name(serde_json::to_value(u.reason))
        ));
    }
    out.push_str(&compact(&[], cycles));
    out
}

/// A workflow command's message: `%`, CR and LF escaped as GitHub's runner expects.
fn github_data(text: &str) -> String {
    escape(text)
        .replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// A workflow command's property value: also `:` and `,`.
fn github_property(text: &str) -> String {
    github_data(text).replace(':', "%3A").replace(',', "%2C")
}

fn github_line(level: &str, l: &Location, title: &str, message: &str) -> String {
    let mut props = format!(
        "file={}",
        github_property(&format!("{}/{}", l.repository, l.path))
    );
    if l.line >= 1 {
        props.push_str(&format!(",line={},col={}", l.line, l.column.max(1)));
    }
    props.push_str(&format!(",title={}", github_property(title)));
    format!("::{level} {props}::{}\n", github_data(message))
}

/// `--format github`: one `::error`/`::warning`/`::notice` workflow command per location, with
/// the file relative to the fleet root (check the repositories out into `<root>/<name>`).
pub fn github(conflicts: &[Conflict], cycles: &[CycleFinding]) -> String {
    let mut out = String::new();
    for c in conflicts {
        let level = match c.severity {
            Severity::High => "error",
            Severity::Medium => "warning",
            Severity::Low => "notice",
        };
        let title = format!("switchyard {}: {}", c.kind.as_str(), describe(c.kind).0);
        for o in &c.occurrences {
            out.push_str(&github_line(
                level,
                &o.location,
                &title,
                &format!("{} ({}) [{}]", c.message, o.detail, c.id),
            ));
        }
    }
    for cycle in cycles {
        let title = format!("switchyard {CYCLE_RULE}");
        if cycle.evidence.is_empty() {
            out.push_str(&format!(
                "::error title={}::{}\n",
                github_property(&title),
                github_data(&cycle.message())
            ));
        }
        for (l, detail) in &cycle.evidence {
            out.push_str(&github_line(
                "error",
                l,
                &title,
                &format!("{} ({detail})", cycle.message()),
            ));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use switchyard_conflicts::{ConflictKind, Occurrence};
    use switchyard_model::ByteSpan;

    fn conflict() -> Conflict {
        Conflict::new(
            ConflictKind::Port,
            Severity::High,
            "local",
            "default",
            "port:8080/tcp".into(),
            vec![
                Occurrence {
                    repository: "a".into(),
                    service: Some("web".into()),
                    location: Location::new("a", "docker-compose.yml", 5, 9, ByteSpan::default()),
                    detail: "0.0.0.0:8080->80/tcp".into(),
                },
                Occurrence {
                    repository: "b".into(),
                    service: None,
                    location: Location::new("b", "deploy/x, y.yml", 0, 0, ByteSpan::default()),
                    detail: "8080".into(),
                },
            ],
            "host port 8080/tcp is used by a/web and b\nweb".into(),
        )
    }

    #[test]
    fn compact_lines_follow_the_compiler_convention() {
        let c = conflict();
        let text = compact(std::slice::from_ref(&c), &[]);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 2);
        assert!(
            lines[0].starts_with("a/docker-compose.yml:5:9: error: host port 8080/tcp"),
            "{}",
            lines[0]
        );
        assert!(
            lines[0].ends_with(&format!("[port {}]", c.id)),
            "{}",
            lines[0]
        );
        // A whole-file location has no line; a line break in a message stays on one line.
        assert!(
            lines[1].starts_with("b/deploy/x, y.yml: error: "),
            "{}",
            lines[1]
        );
        assert!(lines[1].contains("b\\nweb"), "{}", lines[1]);
    }

    #[test]
    fn github_commands_escape_properties_and_data() {
        let text = github(&[conflict()], &[]);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 2, "{text}");
        assert!(
            lines[0].starts_with(
                "::error file=a/docker-compose.yml,line=5,col=9,title=switchyard port%3A Host port published twice::host port"
            ),
            "{}",
            lines[0]
        );
        assert!(
            lines[1].starts_with("::error file=b/deploy/x%2C y.yml,title="),
            "{}",
            lines[1]
        );
    }
}
