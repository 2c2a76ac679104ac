//! Plain-text tables for the terminal (no colour, so `NO_COLOR` and pipes need nothing special).

use crate::report::{Loc, Report};
use crate::terminal::cell;
use comfy_table::{
    Cell, ColumnConstraint, ContentArrangement, Table, Width, presets::UTF8_FULL_CONDENSED,
};
use switchyard_graph::Phase;

/// Most rows shown for long lists (unresolved references, diagnostics) in table output.
const LIST_LIMIT: usize = 25;

/// Width of a table when stdout is not a terminal and `COLUMNS` is not set.
const PIPE_WIDTH: u16 = 120;

/// How wide tables may be: `COLUMNS` when it is a positive number (as `ls` does, it wins over
/// the terminal), else the width of the terminal stdout is, else [`PIPE_WIDTH`].
pub fn width() -> u16 {
    width_from(
        std::env::var("COLUMNS").ok().as_deref(),
        terminal_size::terminal_size_of(std::io::stdout()).map(|(w, _)| w.0),
    )
}

fn width_from(columns: Option<&str>, terminal: Option<u16>) -> u16 {
    columns
        .and_then(|c| c.trim().parse::<u16>().ok())
        .filter(|&w| w > 0)
        .or(terminal.filter(|&w| w > 0))
        .unwrap_or(PIPE_WIDTH)
}

/// A table with the house style, as wide as [`width`] allows.
pub(crate) fn table(headers: &[&str]) -> Table {
    let mut t = Table::new();
    t.load_preset(UTF8_FULL_CONDENSED)
        .set_content_arrangement(ContentArrangement::Dynamic)
        .set_header(headers.iter().map(Cell::new))
        .set_width(width());
    t
}

/// Keeps every one of `locations` (the `path:line:col`s or ids shown in column `column`) whole:
/// the column is at least as wide as the longest of them (other columns wrap instead; when even
/// that does not fit, the table grows past the width rather than split a location someone wants
/// to copy or click).
pub fn keep_whole<'a>(t: &mut Table, column: usize, locations: impl IntoIterator<Item = &'a str>) {
    let longest = locations.into_iter().map(unicode_width).max().unwrap_or(0);
    if longest == 0 {
        return;
    }
    // Content plus the one-space padding on each side.
    let wanted = u16::try_from(longest + 2).unwrap_or(u16::MAX);
    if let Some(c) = t.column_mut(column) {
        c.set_constraint(ColumnConstraint::LowerBoundary(Width::Fixed(wanted)));
    }
}

/// The `path:line:col` words inside free text (a message that names where something is), with
/// the brackets and punctuation around them trimmed.
pub fn locations_in(text: &str) -> impl Iterator<Item = &str> {
    text.split_whitespace()
        .map(|w| w.trim_matches(|c: char| "()[]{},;\"'`".contains(c)))
        .filter(|w| {
            let mut parts = w.rsplitn(3, ':');
            let (col, line) = (parts.next(), parts.next());
            let file = parts.next();
            file.is_some_and(|f| f.contains('/') || f.contains('.'))
                && [col, line].iter().all(|p| {
                    p.is_some_and(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
                })
        })
}

/// Whether a table whose column holding locations must be `longest` wide still leaves about
/// a dozen columns to each of its `others` columns at [`width`]; when not, callers print a list
/// instead (a table of one-letter columns helps nobody).
pub fn fits(longest: usize, others: usize) -> bool {
    let borders = 3 * (others + 1) + 1;
    usize::from(width()) >= longest + 2 + others * 12 + borders
}

/// `text` as lines of at most `width` columns after `indent` (continuation lines two columns
/// deeper), broken at spaces only: a word longer than a line (a long path:line:col) gets a line
/// of its own, whole.
pub fn wrap_words(text: &str, width: usize, indent: &str) -> String {
    let continued = format!("{indent}  ");
    let mut out = String::new();
    let mut line = String::new();
    let mut prefix = indent;
    for word in text.split_whitespace() {
        let room = width.saturating_sub(prefix.chars().count()).max(20);
        if !line.is_empty() && line.chars().count() + 1 + word.chars().count() > room {
            out.push_str(prefix);
            out.push_str(&line);
            out.push('\n');
            line.clear();
            prefix = &continued;
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    if !line.is_empty() {
        out.push_str(prefix);
        out.push_str(&line);
        out.push('\n');
    }
    out
}

/// Display width of a location: characters (file names with wide characters are rare enough
/// that counting them as one column each only makes the column a little narrow).
fn unicode_width(text: &str) -> usize {
    text.chars().count()
}

fn evidence(locs: &[Loc]) -> String {
    let mut lines: Vec<String> = locs.iter().take(3).map(|l| l.to_string()).collect();
    if locs.len() > 3 {
        lines.push(format!("(+{} more)", locs.len() - 3));
    }
    lines.join("\n")
}

/// The `analyze` summary.
pub fn analysis(report: &Report) -> String {
    let s = &report.summary;
    let mut out = format!(
        "Fleet: {} repositories, {} services, {} edges ({} cross-repository), {} cycles, {} phases, {} unresolved references, {} diagnostics\n",
        s.repositories,
        s.services,
        s.edges,
        s.cross_repository_edges,
        s.cycles,
        s.phases,
        s.unresolved,
        s.diagnostics
    );

    let mut repos = table(&["repository", "services", "depends on", "diagnostics"]);
    let mut deps_of: std::collections::HashMap<&str, Vec<&str>> = Default::default();
    for e in &report.repository_edges {
        deps_of.entry(&e.from).or_default().push(&e.to);
    }
    for r in &report.repositories {
        let deps = deps_of.remove(r.name.as_str()).unwrap_or_default();
        let names: Vec<String> = r
            .services
            .iter()
            .map(|id| cell(id.split_once('/').map_or(id.as_str(), |(_, n)| n)))
            .collect();
        let deps: Vec<String> = deps.iter().map(|d| cell(d)).collect();
        repos.add_row(vec![
            cell(&r.name),
            names.join(", "),
            deps.join(", "),
            r.diagnostics.to_string(),
        ]);
    }
    out.push_str(&format!("\nRepositories\n{repos}\n"));

    if report.repositories.iter().any(|r| !r.variants.is_empty()) {
        let mut variants = table(&["repository", "variant (--variant NAME)", "services"]);
        for r in &report.repositories {
            for v in &r.variants {
                variants.add_row(vec![cell(&r.name), cell(&v.name), v.services.to_string()]);
            }
        }
        out.push_str(&format!(
            "\nVariants (alternative deployments; never merged, never in conflict)\n{variants}\n"
        ));
    }

    let longest_evidence = report
        .edges
        .iter()
        .flat_map(|e| e.evidence.iter().take(3))
        .map(|l| unicode_width(&l.to_string()))
        .max()
        .unwrap_or(0);
    if !report.edges.is_empty() && !fits(longest_evidence, 5) {
        // Too narrow for a table: one edge per line, its evidence below it, each whole.
        out.push_str("\nDependencies\n");
        for e in &report.edges {
            let kind = if e.telemetry {
                format!("{} (telemetry)", e.kind.as_str())
            } else {
                e.kind.as_str().to_string()
            };
            out.push_str(&wrap_words(
                &format!(
                    "{} -> {} ({kind}, {} confidence, {})",
                    cell(&e.from),
                    cell(&e.to),
                    e.confidence.as_str(),
                    cell(&e.mechanism)
                ),
                usize::from(width()),
                "  ",
            ));
            for line in evidence(&e.evidence).lines() {
                out.push_str(&format!("      {line}\n"));
            }
        }
    } else if !report.edges.is_empty() {
        let mut edges = table(&["from", "to", "kind", "confidence", "mechanism", "evidence"]);
        let mut shown: Vec<String> = Vec::new();
        for e in &report.edges {
            let kind = if e.telemetry {
                format!("{} (telemetry)", e.kind.as_str())
            } else {
                e.kind.as_str().to_string()
            };
            edges.add_row(vec![
                cell(&e.from),
                cell(&e.to),
                kind,
                e.confidence.as_str().to_string(),
                if e.sections.is_empty() {
                    cell(&e.mechanism)
                } else {
                    cell(&format!("{} ({})", e.mechanism, e.sections.join(", ")))
                },
                evidence(&e.evidence),
            ]);
            shown.extend(e.evidence.iter().take(3).map(|l| l.to_string()));
        }
        keep_whole(&mut edges, 5, shown.iter().map(String::as_str));
        out.push_str(&format!("\nDependencies\n{edges}\n"));
    }

    let cut: Vec<(String, String)> = report
        .cycle_cut
        .iter()
        .map(|e| (e.from.clone(), e.to.clone()))
        .collect();
    out.push_str(&format!(
        "\n{}",
        phases(&report.phases, &report.cycles, &cut)
    ));

    if !report.unresolved.is_empty() {
        let mut t = table(&["service", "reference", "reason", "location"]);
        for u in report.unresolved.iter().take(LIST_LIMIT) {
            t.add_row(vec![
                cell(&format!(
                    "{}/{}",
                    u.repository,
                    u.service.as_deref().unwrap_or("-")
                )),
                cell(&u.reference),
                serde_json::to_value(u.reason)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_string))
                    .unwrap_or_default(),
                u.location.to_string(),
            ]);
        }
        let shown: Vec<String> = report
            .unresolved
            .iter()
            .take(LIST_LIMIT)
            .map(|u| u.location.to_string())
            .collect();
        keep_whole(&mut t, 3, shown.iter().map(String::as_str));
        out.push_str(&format!("\nUnresolved references\n{t}\n"));
        if report.unresolved.len() > LIST_LIMIT {
            out.push_str(&format!(
                "… {} more (see --format json)\n",
                report.unresolved.len() - LIST_LIMIT
            ));
        }
    }
    if !report.diagnostics.is_empty() {
        let mut t = table(&["location", "code", "message"]);
        for d in report.diagnostics.iter().take(LIST_LIMIT) {
            t.add_row(vec![
                d.location.to_string(),
                serde_json::to_value(d.code)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_string))
                    .unwrap_or_default(),
                cell(&d.message),
            ]);
        }
        let shown: Vec<String> = report
            .diagnostics
            .iter()
            .take(LIST_LIMIT)
            .map(|d| d.location.to_string())
            .collect();
        keep_whole(&mut t, 0, shown.iter().map(String::as_str));
        out.push_str(&format!("\nDiagnostics\n{t}\n"));
        if report.diagnostics.len() > LIST_LIMIT {
            out.push_str(&format!(
                "… {} more (see --format json)\n",
                report.diagnostics.len() - LIST_LIMIT
            ));
        }
    }
    out
}

/// The deployment phases, with cycles and the smallest set of edges to cut called out first.
pub fn phases(phases: &[Phase], cycles: &[Vec<String>], cut: &[(String, String)]) -> String {
    let mut out = String::new();
    if !cycles.is_empty() {
        out.push_str("Dependency cycles (members share a phase until one edge is removed)\n");
        for c in cycles {
            let members: Vec<String> = c.iter().map(|m| cell(m)).collect();
            out.push_str(&format!("  {}\n", members.join(" -> ")));
        }
        let cut: Vec<String> = cut
            .iter()
            .map(|(a, b)| format!("{} -> {}", cell(a), cell(b)))
            .collect();
        out.push_str(&format!("Smallest cut: {}\n\n", cut.join(", ")));
    }
    let mut t = table(&["phase", "repositories", "parallel"]);
    for p in phases {
        t.add_row(vec![
            p.phase.to_string(),
            p.members
                .iter()
                .map(|m| cell(m))
                .collect::<Vec<_>>()
                .join(", "),
            if p.parallel { "yes" } else { "no" }.to_string(),
        ]);
    }
    out.push_str(&format!("Deployment phases\n{t}\n"));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_win_then_the_terminal_then_a_default() {
        assert_eq!(width_from(Some("80"), Some(200)), 80);
        assert_eq!(width_from(Some(" 100 "), None), 100);
        assert_eq!(width_from(Some("0"), Some(90)), 90);
        assert_eq!(width_from(Some("wide"), Some(90)), 90);
        assert_eq!(width_from(None, Some(90)), 90);
        assert_eq!(width_from(None, None), PIPE_WIDTH);
        assert_eq!(width_from(Some(""), None), PIPE_WIDTH);
    }

    /// A narrow table wraps names and mechanisms but never a location.
    #[test]
    fn locations_stay_whole_in_a_narrow_table() {
        let mut t = Table::new();
        t.load_preset(UTF8_FULL_CONDENSED)
            .set_content_arrangement(ContentArrangement::Dynamic)
            .set_header(["from", "evidence"])
            .set_width(40);
        let loc = "monitoring/grafana/provisioning/datasources/prometheus.yml:7:10";
        t.add_row(vec!["monitoring/grafana-with-a-long-name", loc]);
        keep_whole(&mut t, 1, [loc]);
        let text = t.to_string();
        assert!(text.contains(loc), "{text}");
    }

    #[test]
    fn words_wrap_at_spaces_only() {
        let text = wrap_words(
            "used by a/web at monitoring/grafana/provisioning/datasources/prometheus.yml:7:10 and more",
            30,
            "  ",
        );
        assert_eq!(
            text,
            "  used by a/web at\n    monitoring/grafana/provisioning/datasources/prometheus.yml:7:10\n    and more\n"
        );
    }

    #[test]
    fn locations_in_messages_are_found() {
        let found: Vec<&str> = locations_in(
            "used by media/qb (media/docker-compose.yml:37:10) and x (a.yml:3:4); port 80:80 http://x:1:2",
        )
        .collect();
        assert_eq!(
            found,
            [
                "media/docker-compose.yml:37:10",
                "a.yml:3:4",
                "http://x:1:2"
            ]
        );
    }
}
