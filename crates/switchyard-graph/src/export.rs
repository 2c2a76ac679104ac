//! Exports of a fleet graph: Graphviz DOT, Mermaid and a JSON adjacency document.

use crate::Digraph;

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

/// Graphviz DOT; edges point from dependent to dependency.
pub fn dot(g: &Digraph, name: &str) -> String {
    let mut out = format!(
        "digraph {} {{\n  rankdir=LR;\n  node [shape=box];\n",
        dot_quote(name)
    );
    for n in g.nodes() {
        out.push_str(&format!("  {};\n", dot_quote(n)));
    }
    for (a, b) in g.edges() {
        out.push_str(&format!("  {} -> {};\n", dot_quote(a), dot_quote(b)));
    }
    out.push_str("}\n");
    out
}

/// Mermaid `graph LR`; node ids are made safe, labels keep the real names.
pub fn mermaid(g: &Digraph) -> String {
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
            out.push_str(&format!("  {} --> {}\n", id(x), id(y)));
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
    fn control_characters_in_names_stay_escaped() {
        let g = Digraph::from_edges(["web\n\u{1b}[2J"], []);
        let d = dot(&g, "fleet");
        assert!(d.contains("\"web\\n\\\\u{1b}[2J\";"), "{d}");
        assert_eq!(d.lines().count(), 5, "{d}");
        let m = mermaid(&g);
        assert!(m.contains("n0[\"web#10;#27;[2J\"]"), "{m}");
    }
}
