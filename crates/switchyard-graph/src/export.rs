//! Exports of a fleet graph: Graphviz DOT, Mermaid, a JSON adjacency document, JSON Graph
//! Format (v2) and GraphML, for other tools.

use crate::Digraph;
use std::collections::HashMap;
use switchyard_model::{EdgeKind, FleetModel};

/// A DOT string literal. Control characters in a name (a folder name can hold any) are written
/// as visible escapes, never raw, so they cannot break the document or reach a terminal.
fn dot_quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c if c.is_control() => out.push_str(&format!("\\\\u{{{:x}}}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A Mermaid label: quotes and control characters as entity codes.
fn mermaid_label(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '"' => out.push_str("#quot;"),
            c if c.is_control() => out.push_str(&format!("#{};", c as u32)),
            c => out.push(c),
        }
    }
    out
}

/// The kind of each edge of a graph: service edges as linked, repository edges as the strongest
/// kind of the service edges between the two repositories (a call wins; telemetry only when every
/// call between them is telemetry).
pub fn edge_kinds(model: &FleetModel, repositories: bool) -> EdgeKinds {
    let repo_of: HashMap<&str, &str> = model
        .services
        .iter()
        .map(|s| (s.id.as_str(), s.repository.as_str()))
        .collect();
    let mut kinds: EdgeKinds = HashMap::new();
    for e in &model.edges {
        let key = if repositories {
            match (repo_of.get(e.from.as_str()), repo_of.get(e.to.as_str())) {
                (Some(a), Some(b)) if a != b => (a.to_string(), b.to_string()),
                _ => continue,
            }
        } else {
            (e.from.clone(), e.to.clone())
        };
        kinds
            .entry(key)
            .and_modify(|(kind, telemetry)| {
                let rank = |k: EdgeKind| match k {
                    EdgeKind::Call => 0,
                    EdgeKind::Browser => 1,
                    EdgeKind::Build => 2,
                    EdgeKind::Startup => 3,
                    EdgeKind::Peer => 4,
                };
                if e.kind == EdgeKind::Call {
                    *telemetry = if *kind == EdgeKind::Call {
                        *telemetry && e.telemetry
                    } else {
                        e.telemetry
                    };
                }
                if rank(e.kind) < rank(*kind) {
                    *kind = e.kind;
                }
            })
            .or_insert((e.kind, e.telemetry));
    }
    kinds
}

/// `(from, to)` → the edge's kind and telemetry tag.
pub type EdgeKinds = HashMap<(String, String), (EdgeKind, bool)>;

/// `(from, to)` → every `repo/path:line:col` the edge was seen at, sorted, without repeats.
pub type EdgeEvidence = HashMap<(String, String), Vec<String>>;

/// The evidence of each edge of the service graph, or of the repository graph (the evidence
/// of every service edge between the two repositories).
pub fn edge_evidence(model: &FleetModel, repositories: bool) -> EdgeEvidence {
    let repo_of: HashMap<&str, &str> = model
        .services
        .iter()
        .map(|s| (s.id.as_str(), s.repository.as_str()))
        .collect();
    let mut out: EdgeEvidence = HashMap::new();
    for e in &model.edges {
        let key = if repositories {
            match (repo_of.get(e.from.as_str()), repo_of.get(e.to.as_str())) {
                (Some(a), Some(b)) if a != b => (a.to_string(), b.to_string()),
                _ => continue,
            }
        } else {
            (e.from.clone(), e.to.clone())
        };
        let list = out.entry(key).or_default();
        list.extend(
            e.evidence
                .iter()
                .map(|l| format!("{}/{}:{}:{}", l.repository, l.path, l.line, l.column)),
        );
    }
    for list in out.values_mut() {
        list.sort();
        list.dedup();
    }
    out
}

/// JSON Graph Format, version 2 (`{"graph": {"directed": true, "nodes": {id: …}, "edges": […]}}`):
/// nodes keyed by id, each edge with its kind as `relation` and its evidence in `metadata`.
pub fn jgf(
    g: &Digraph,
    label: &str,
    kinds: &EdgeKinds,
    evidence: &EdgeEvidence,
) -> serde_json::Value {
    let nodes: serde_json::Map<String, serde_json::Value> = g
        .nodes()
        .iter()
        .map(|n| (n.clone(), serde_json::json!({ "label": n })))
        .collect();
    let edges: Vec<serde_json::Value> = g
        .edges()
        .iter()
        .map(|(a, b)| {
            let key = (a.to_string(), b.to_string());
            let (kind, telemetry) = kinds.get(&key).copied().unwrap_or_default();
            serde_json::json!({
                "source": a,
                "target": b,
                "relation": kind.as_str(),
                "directed": true,
                "metadata": {
                    "telemetry": telemetry,
                    "evidence": evidence.get(&key).cloned().unwrap_or_default(),
                },
            })
        })
        .collect();
    serde_json::json!({
        "graph": {
            "id": label,
            "label": label,
            "type": "switchyard dependency graph",
            "directed": true,
            "metadata": { "edgesPointFrom": "dependent", "edgesPointTo": "dependency" },
            "nodes": nodes,
            "edges": edges,
        }
    })
}

/// Text for XML content and attribute values, redacted (a name or path holding a password
/// shows `***`). Characters XML 1.0 cannot hold (most control characters) become visible
/// `\u{…}` escapes.
fn xml_text(s: &str) -> String {
    let s = switchyard_model::redact::redact_output_line(s);
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' | '\n' => out.push_str(&format!("&#{};", c as u32)),
            c if c.is_control() => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
            c => out.push(c),
        }
    }
    out
}

/// GraphML: one directed graph, node ids as given, edges with `kind`, `telemetry` and
/// `evidence` (locations separated by spaces) data keys. Every text from the fleet in it is
/// already redacted; its markup (`<data key="kind">`) must not pass through a line redactor,
/// which would take `key="…"` for a secret.
pub fn graphml(g: &Digraph, label: &str, kinds: &EdgeKinds, evidence: &EdgeEvidence) -> String {
    let mut out = String::from(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
         <graphml xmlns=\"http://graphml.graphdrawing.org/xmlns\" \
         xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" \
         xsi:schemaLocation=\"http://graphml.graphdrawing.org/xmlns http://graphml.graphdrawing.org/xmlns/1.0/graphml.xsd\">\n\
         \x20 <key id=\"label\" for=\"node\" attr.name=\"label\" attr.type=\"string\"/>\n\
         \x20 <key id=\"kind\" for=\"edge\" attr.name=\"kind\" attr.type=\"string\"/>\n\
         \x20 <key id=\"telemetry\" for=\"edge\" attr.name=\"telemetry\" attr.type=\"boolean\"><default>false</default></key>\n\
         \x20 <key id=\"evidence\" for=\"edge\" attr.name=\"evidence\" attr.type=\"string\"/>\n",
    );
    out.push_str(&format!(
        "  <graph id=\"{}\" edgedefault=\"directed\">\n",
        xml_text(label)
    ));
    for n in g.nodes() {
        let n = xml_text(n);
        out.push_str(&format!(
            "    <node id=\"{n}\"><data key=\"label\">{n}</data></node>\n"
        ));
    }
    for (i, (a, b)) in g.edges().iter().enumerate() {
        let key = (a.to_string(), b.to_string());
        let (kind, telemetry) = kinds.get(&key).copied().unwrap_or_default();
        let seen = evidence.get(&key).map(|e| e.join(" ")).unwrap_or_default();
        out.push_str(&format!(
            "    <edge id=\"e{i}\" source=\"{}\" target=\"{}\"><data key=\"kind\">{}</data><data key=\"telemetry\">{telemetry}</data><data key=\"evidence\">{}</data></edge>\n",
            xml_text(a),
            xml_text(b),
            kind.as_str(),
            xml_text(&seen)
        ));
    }
    out.push_str("  </graph>\n</graphml>\n");
    out
}

fn kind_of<'k>(kinds: Option<&'k EdgeKinds>, a: &str, b: &str) -> Option<&'k (EdgeKind, bool)> {
    kinds?.get(&(a.to_string(), b.to_string()))
}

/// Graphviz DOT; edges point from dependent to dependency.
pub fn dot(g: &Digraph, name: &str) -> String {
    dot_with_kinds(g, name, None)
}

/// [`dot`] with each edge labelled by its kind: start-up order dashed, build dotted, browser
/// calls blue, telemetry grey.
pub fn dot_with_kinds(g: &Digraph, name: &str, kinds: Option<&EdgeKinds>) -> String {
    let mut out = format!(
        "digraph {} {{\n  rankdir=LR;\n  node [shape=box];\n",
        dot_quote(name)
    );
    for n in g.nodes() {
        out.push_str(&format!("  {};\n", dot_quote(n)));
    }
    for (a, b) in g.edges() {
        let attrs = match kind_of(kinds, a, b) {
            None => String::new(),
            Some((kind, telemetry)) => {
                let style = match kind {
                    EdgeKind::Call if *telemetry => ", color=gray",
                    EdgeKind::Call => "",
                    EdgeKind::Startup => ", style=dashed",
                    EdgeKind::Build => ", style=dotted",
                    EdgeKind::Browser => ", color=blue",
                    EdgeKind::Peer => ", style=dotted, color=gray",
                };
                let label = if *telemetry {
                    "call (telemetry)"
                } else {
                    kind.as_str()
                };
                format!(" [label=\"{label}\"{style}]")
            }
        };
        out.push_str(&format!("  {} -> {}{attrs};\n", dot_quote(a), dot_quote(b)));
    }
    out.push_str("}\n");
    out
}

/// Mermaid `graph LR`; node ids are made safe, labels keep the real names.
pub fn mermaid(g: &Digraph) -> String {
    mermaid_with_kinds(g, None)
}

/// [`mermaid`] with each edge labelled by its kind; start-up order is a dotted arrow.
pub fn mermaid_with_kinds(g: &Digraph, kinds: Option<&EdgeKinds>) -> String {
    let id = |i: usize| format!("n{i}");
    let pos: std::collections::HashMap<&str, usize> = g
        .nodes()
        .iter()
        .enumerate()
        .map(|(i, n)| (n.as_str(), i))
        .collect();
    let mut out = String::from("graph LR\n");
    for (i, n) in g.nodes().iter().enumerate() {
        out.push_str(&format!("  {}[\"{}\"]\n", id(i), mermaid_label(n)));
    }
    for (a, b) in g.edges() {
        if let (Some(&x), Some(&y)) = (pos.get(a), pos.get(b)) {
            let arrow = match kind_of(kinds, a, b) {
                None => "-->".to_string(),
                Some((EdgeKind::Startup, _)) => "-.->|startup|".to_string(),
                Some((EdgeKind::Call, true)) => "-->|telemetry|".to_string(),
                Some((kind, _)) => format!("-->|{}|", kind.as_str()),
            };
            out.push_str(&format!("  {} {arrow} {}\n", id(x), id(y)));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dot_and_mermaid() {
        let g = Digraph::from_edges(["web", "api \"v2\""], [("web", "api \"v2\"")]);
        let d = dot(&g, "fleet");
        assert!(d.contains("\"web\" -> \"api \\\"v2\\\"\";"), "{d}");
        let m = mermaid(&g);
        assert!(m.contains("n0 --> n1"), "{m}");
        assert!(m.contains("n1[\"api #quot;v2#quot;\"]"), "{m}");
    }

    #[test]
    fn edges_show_their_kind() {
        let g = Digraph::from_edges(["web", "db", "ui"], [("web", "db"), ("ui", "web")]);
        let mut kinds = EdgeKinds::new();
        kinds.insert(("web".into(), "db".into()), (EdgeKind::Startup, false));
        kinds.insert(("ui".into(), "web".into()), (EdgeKind::Browser, false));
        let d = dot_with_kinds(&g, "fleet", Some(&kinds));
        assert!(
            d.contains("\"web\" -> \"db\" [label=\"startup\", style=dashed];"),
            "{d}"
        );
        assert!(
            d.contains("\"ui\" -> \"web\" [label=\"browser\", color=blue];"),
            "{d}"
        );
        let m = mermaid_with_kinds(&g, Some(&kinds));
        assert!(m.contains("n0 -.->|startup| n1"), "{m}");
        assert!(m.contains("n2 -->|browser| n0"), "{m}");
    }

    #[test]
    fn control_characters_in_names_stay_escaped() {
        let g = Digraph::from_edges(["web\n\u{1b}[2J"], []);
        let d = dot(&g, "fleet");
        assert!(d.contains("\"web\\n\\\\u{1b}[2J\";"), "{d}");
        assert_eq!(d.lines().count(), 5, "{d}");
        let m = mermaid(&g);
        assert!(m.contains("n0[\"web#10;#27;[2J\"]"), "{m}");
    }

    #[test]
    fn jgf_and_graphml_carry_kinds_and_evidence() {
        let g = Digraph::from_edges(["a", "b<&>"], [("a", "b<&>")]);
        let mut kinds = EdgeKinds::new();
        kinds.insert(("a".into(), "b<&>".into()), (EdgeKind::Startup, false));
        let mut evidence = EdgeEvidence::new();
        evidence.insert(
            ("a".into(), "b<&>".into()),
            vec!["a/docker-compose.yml:3:5".into(), "a/.env:1:1".into()],
        );
        let j = jgf(&g, "fleet", &kinds, &evidence);
        assert_eq!(j["graph"]["directed"], true);
        assert_eq!(j["graph"]["nodes"]["b<&>"]["label"], "b<&>");
        assert_eq!(j["graph"]["edges"][0]["relation"], "startup");
        assert_eq!(
            j["graph"]["edges"][0]["metadata"]["evidence"][0],
            "a/docker-compose.yml:3:5"
        );
        let x = graphml(&g, "fleet", &kinds, &evidence);
        assert!(x.contains(r#"<node id="b&lt;&amp;&gt;">"#), "{x}");
        assert!(
            x.contains(r#"<edge id="e0" source="a" target="b&lt;&amp;&gt;"><data key="kind">startup</data>"#),
            "{x}"
        );
        assert!(x.contains("a/docker-compose.yml:3:5 a/.env:1:1"), "{x}");
        assert!(x.ends_with("</graphml>\n"));
    }
}
