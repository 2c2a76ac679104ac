//! Plain-text tables for the terminal (no colour, so `NO_COLOR` and pipes need nothing special).

use crate::report::{Loc, Report};
use crate::terminal::cell;
use comfy_table::{Cell, ContentArrangement, Table, presets::UTF8_FULL_CONDENSED};
use switchyard_graph::Phase;

/// Most rows shown for long lists (unresolved references, diagnostics) in table output.
const LIST_LIMIT: usize = 25;

pub(crate) fn table(headers: &[&str]) -> Table {
    let mut t = Table::new();
    t.load_preset(UTF8_FULL_CONDENSED)
        .set_content_arrangement(ContentArrangement::Dynamic)
        .set_header(headers.iter().map(Cell::new));
    if let Ok(width) = std::env::var("COLUMNS").unwrap_or_default().parse::<u16>() {
        t.set_width(width);
    } else {
        t.set_width(120);
    }
    t
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

    if !report.edges.is_empty() {
        let mut edges = table(&["from", "to", "kind", "confidence", "mechanism", "evidence"]);
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
        }
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
