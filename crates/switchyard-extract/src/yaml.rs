//! A YAML tree with byte spans, built from `saphyr-parser` events.
//!
//! Aliases are expanded under a node budget (an alias bomb becomes an error, not an OOM), and
//! `<<` merge keys are applied, so extractors see plain maps whose nodes still point at their
//! source bytes (a merged key points at the anchor it came from).

use crate::source::SourceFile;
use saphyr_parser::{Event, Parser, ScalarStyle, Span};
use std::collections::HashMap;
use switchyard_model::{Diagnostic, DiagnosticCode, Location};

/// Most nodes one file may expand to (after aliases).
pub const MAX_NODES: usize = 200_000;

/// One YAML node with its byte span in the file.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    pub value: Value,
    /// Byte offsets `[start, end)`; for quoted scalars the quotes are included.
    pub start: usize,
    pub end: usize,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// A scalar. `plain` is false for quoted and block scalars (so `"8080"` stays a string).
    Scalar {
        text: String,
        plain: bool,
    },
    Seq(Vec<Node>),
    Map(Vec<(Node, Node)>),
}

/// Why a YAML text could not be loaded.
#[derive(Debug, Clone, PartialEq)]
pub enum YamlError {
    Syntax {
        message: String,
        offset: usize,
    },
    /// Alias expansion or size went over [`MAX_NODES`].
    Budget {
        offset: usize,
    },
}

impl YamlError {
    /// The diagnostic for this error in `file`.
    pub fn diagnostic(&self, file: &SourceFile) -> Diagnostic {
        match self {
            YamlError::Syntax { message, offset } => Diagnostic::new(
                DiagnosticCode::ParseError,
                format!("invalid YAML: {message}"),
                file.location(*offset, *offset),
            ),
            YamlError::Budget { offset } => Diagnostic::new(
                DiagnosticCode::YamlBudgetExceeded,
                format!("YAML expands to more than {MAX_NODES} nodes (alias bomb?); file skipped"),
                file.location(*offset, *offset),
            ),
        }
    }
}

impl Node {
    /// The scalar text, for any scalar (quoted or plain).
    pub fn as_str(&self) -> Option<&str> {
        match &self.value {
            Value::Scalar { text, .. } => Some(text),
            _ => None,
        }
    }

    /// True for `null`, `~` and an empty plain scalar.
    pub fn is_null(&self) -> bool {
        matches!(&self.value, Value::Scalar { text, plain: true } if matches!(text.as_str(), "" | "~" | "null" | "Null" | "NULL"))
    }

    /// A plain `true`/`false` scalar (YAML 1.2 core schema, plus `yes`/`no` as compose allows).
    pub fn as_bool(&self) -> Option<bool> {
        match &self.value {
            Value::Scalar { text, .. } => match text.to_ascii_lowercase().as_str() {
                "true" | "yes" | "on" => Some(true),
                "false" | "no" | "off" => Some(false),
                _ => None,
            },
            _ => None,
        }
    }

    pub fn as_u64(&self) -> Option<u64> {
        self.as_str()?.trim().parse().ok()
    }

    pub fn as_seq(&self) -> Option<&[Node]> {
        match &self.value {
            Value::Seq(items) => Some(items),
            _ => None,
        }
    }

    pub fn as_map(&self) -> Option<&[(Node, Node)]> {
        match &self.value {
            Value::Map(entries) => Some(entries),
            _ => None,
        }
    }

    /// The value under a scalar key of a map.
    pub fn get(&self, key: &str) -> Option<&Node> {
        self.get_entry(key).map(|(_, v)| v)
    }

    /// The key node and value node under a scalar key of a map.
    pub fn get_entry(&self, key: &str) -> Option<(&Node, &Node)> {
        self.as_map()?
            .iter()
            .find(|(k, _)| k.as_str() == Some(key))
            .map(|(k, v)| (k, v))
    }

    /// Iterates `(key text, key node, value node)` over a map's scalar keys.
    pub fn entries(&self) -> impl Iterator<Item = (&str, &Node, &Node)> {
        self.as_map()
            .unwrap_or(&[])
            .iter()
            .filter_map(|(k, v)| Some((k.as_str()?, k, v)))
    }

    /// The location of this node in `file`.
    pub fn location(&self, file: &SourceFile) -> Location {
        file.location(self.start, self.end)
    }

    /// The span of the scalar's content, without surrounding quotes.
    pub fn content_span(&self, file: &SourceFile) -> (usize, usize) {
        let bytes = file.text.as_bytes();
        if self.end > self.start + 1 {
            let first = bytes.get(self.start).copied();
            let last = bytes.get(self.end - 1).copied();
            if matches!(first, Some(b'"') | Some(b'\'')) && first == last {
                return (self.start + 1, self.end - 1);
            }
        }
        (self.start, self.end)
    }

    /// Number of nodes in this subtree.
    fn size(&self) -> usize {
        match &self.value {
            Value::Scalar { .. } => 1,
            Value::Seq(items) => 1 + items.iter().map(Node::size).sum::<usize>(),
            Value::Map(entries) => {
                1 + entries
                    .iter()
                    .map(|(k, v)| k.size() + v.size())
                    .sum::<usize>()
            }
        }
    }
}

/// Maps saphyr's character offsets to byte offsets.
struct Offsets {
    /// `None` when the text is ASCII (char index == byte index).
    char_to_byte: Option<Vec<usize>>,
    len: usize,
}

impl Offsets {
    fn new(text: &str) -> Self {
        let char_to_byte = if text.is_ascii() {
            None
        } else {
            let mut v: Vec<usize> = text.char_indices().map(|(b, _)| b).collect();
            v.push(text.len());
            Some(v)
        };
        Self {
            char_to_byte,
            len: text.len(),
        }
    }

    fn byte(&self, char_index: usize) -> usize {
        match &self.char_to_byte {
            None => char_index.min(self.len),
            Some(v) => v.get(char_index).copied().unwrap_or(self.len),
        }
    }
}

enum Frame {
    Seq {
        items: Vec<Node>,
        start: usize,
        anchor: usize,
    },
    Map {
        entries: Vec<(Node, Node)>,
        pending_key: Option<Node>,
        start: usize,
        anchor: usize,
    },
}

struct Builder<'t> {
    text: &'t str,
    offsets: Offsets,
    stack: Vec<Frame>,
    anchors: HashMap<usize, Node>,
    docs: Vec<Node>,
    nodes: usize,
}

impl Builder<'_> {
    fn push_node(&mut self, node: Node, anchor: usize) {
        if anchor > 0 {
            self.anchors.insert(anchor, node.clone());
        }
        match self.stack.last_mut() {
            None => self.docs.push(node),
            Some(Frame::Seq { items, .. }) => items.push(node),
            Some(Frame::Map {
                entries,
                pending_key,
                ..
            }) => match pending_key.take() {
                None => *pending_key = Some(node),
                Some(key) => entries.push((key, node)),
            },
        }
    }

    fn on_event(&mut self, ev: Event<'_>, span: Span) -> Result<(), YamlError> {
        let start = self.offsets.byte(span.start.index());
        let end = self.offsets.byte(span.end.index());
        match ev {
            Event::Scalar(text, style, anchor, _tag) => {
                self.count(1, start)?;
                // saphyr's span of a quoted scalar can run on over trailing blanks and a
                // comment; the closing quote is where the value ends.
                let end = match style {
                    ScalarStyle::DoubleQuoted | ScalarStyle::SingleQuoted => {
                        quoted_end(self.text, start).unwrap_or(end)
                    }
                    _ => end,
                };
                let node = Node {
                    value: Value::Scalar {
                        text: text.into_owned(),
                        plain: style == ScalarStyle::Plain,
                    },
                    start,
                    end,
                };
                self.push_node(node, anchor);
            }
            Event::Alias(id) => {
                let node = self.anchors.get(&id).cloned().ok_or(YamlError::Syntax {
                    message: "alias to an unknown anchor".into(),
                    offset: start,
                })?;
                self.count(node.size(), start)?;
                self.push_node(node, 0);
            }
            Event::SequenceStart(anchor, _) => {
                self.count(1, start)?;
                self.stack.push(Frame::Seq {
                    items: Vec::new(),
                    start,
                    anchor,
                });
            }
            Event::MappingStart(anchor, _) => {
                self.count(1, start)?;
                self.stack.push(Frame::Map {
                    entries: Vec::new(),
                    pending_key: None,
                    start,
                    anchor,
                });
            }
            Event::SequenceEnd | Event::MappingEnd => {
                let (node, anchor) = match self.stack.pop() {
                    Some(Frame::Seq {
                        items,
                        start: s,
                        anchor,
                    }) => (
                        Node {
                            value: Value::Seq(items),
                            start: s,
                            end,
                        },
                        anchor,
                    ),
                    Some(Frame::Map {
                        entries,
                        start: s,
                        anchor,
                        ..
                    }) => (
                        Node {
                            value: Value::Map(apply_merges(entries)),
                            start: s,
                            end,
                        },
                        anchor,
                    ),
                    None => return Ok(()),
                };
                self.push_node(node, anchor);
            }
            Event::DocumentStart(_) => self.anchors.clear(),
            Event::StreamStart | Event::StreamEnd | Event::DocumentEnd | Event::Nothing => {}
        }
        Ok(())
    }

    fn count(&mut self, n: usize, offset: usize) -> Result<(), YamlError> {
        self.nodes = self.nodes.saturating_add(n);
        if self.nodes > MAX_NODES {
            Err(YamlError::Budget { offset })
        } else {
            Ok(())
        }
    }
}

/// The byte offset just after the closing quote of the quoted scalar starting at `start`.
fn quoted_end(text: &str, start: usize) -> Option<usize> {
    let bytes = text.as_bytes();
    let quote = *bytes.get(start)?;
    if quote != b'"' && quote != b'\'' {
        return None;
    }
    let mut i = start + 1;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' if quote == b'"' => i += 2,
            b'\'' if quote == b'\'' && bytes.get(i + 1) == Some(&b'\'') => i += 2,
            b if b == quote => return Some(i + 1),
            _ => i += 1,
        }
    }
    None
}

/// Applies `<<: *anchor` and `<<: [*a, *b]`: merged keys come after explicit ones and never
/// override them; earlier maps in a merge list win over later ones.
fn apply_merges(entries: Vec<(Node, Node)>) -> Vec<(Node, Node)> {
    if !entries.iter().any(|(k, _)| is_merge_key(k)) {
        return entries;
    }
    let mut own = Vec::with_capacity(entries.len());
    let mut merged_sources = Vec::new();
    for (k, v) in entries {
        if is_merge_key(&k) {
            match v.value {
                Value::Map(m) => merged_sources.push(m),
                Value::Seq(items) => {
                    for item in items {
                        if let Value::Map(m) = item.value {
                            merged_sources.push(m);
                        }
                    }
                }
                Value::Scalar { .. } => {}
            }
        } else {
            own.push((k, v));
        }
    }
    for source in merged_sources {
        for (k, v) in source {
            let exists = own
                .iter()
                .any(|(ok, _)| ok.as_str().is_some() && ok.as_str() == k.as_str());
            if !exists {
                own.push((k, v));
            }
        }
    }
    own
}

fn is_merge_key(node: &Node) -> bool {
    matches!(&node.value, Value::Scalar { text, plain: true } if text == "<<")
}

/// Parses every document of a YAML stream. Empty documents are skipped.
pub fn parse_documents(text: &str) -> Result<Vec<Node>, YamlError> {
    let mut builder = Builder {
        text,
        offsets: Offsets::new(text),
        stack: Vec::new(),
        anchors: HashMap::new(),
        docs: Vec::new(),
        nodes: 0,
    };
    for item in Parser::new_from_str(text) {
        match item {
            Ok((ev, span)) => builder.on_event(ev, span)?,
            Err(e) => {
                return Err(YamlError::Syntax {
                    message: e.info().to_string(),
                    offset: builder.offsets.byte(e.marker().index()),
                });
            }
        }
    }
    Ok(builder.docs.into_iter().filter(|d| !d.is_null()).collect())
}

/// Parses a single-document YAML text (the first document when there are several).
pub fn parse(text: &str) -> Result<Option<Node>, YamlError> {
    Ok(parse_documents(text)?.into_iter().next())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spans_point_at_source() {
        let text = "services:\n  web:\n    image: \"nginx:1\"\n";
        let doc = parse(text).unwrap().unwrap();
        let image = doc
            .get("services")
            .unwrap()
            .get("web")
            .unwrap()
            .get("image")
            .unwrap();
        assert_eq!(image.as_str(), Some("nginx:1"));
        assert_eq!(&text[image.start..image.end], "\"nginx:1\"");
        let f = SourceFile::new("r", "c.yml", text);
        assert_eq!(image.location(&f).to_string(), "r/c.yml:3:12");
        let (s, e) = image.content_span(&f);
        assert_eq!(&text[s..e], "nginx:1");
    }

    #[test]
    fn quoted_scalars_end_at_their_closing_quote() {
        let text = "ports:\n  - \"8080:80\"   # public\n  - 'it''s'  # x\n  - \"a\\\"b\" # y\n";
        let doc = parse(text).unwrap().unwrap();
        let spans: Vec<&str> = doc
            .get("ports")
            .unwrap()
            .as_seq()
            .unwrap()
            .iter()
            .map(|n| &text[n.start..n.end])
            .collect();
        assert_eq!(spans, ["\"8080:80\"", "'it''s'", "\"a\\\"b\""]);
    }

    #[test]
    fn merge_keys_and_aliases() {
        let text = "x: &base\n  a: 1\n  b: 2\ny:\n  <<: *base\n  b: 3\n";
        let doc = parse(text).unwrap().unwrap();
        let y = doc.get("y").unwrap();
        assert_eq!(y.get("a").unwrap().as_str(), Some("1"));
        assert_eq!(y.get("b").unwrap().as_str(), Some("3"));
        assert!(y.get("<<").is_none());
    }

    #[test]
    fn alias_bomb_is_an_error() {
        let mut text = String::from("a: &a [x, x, x, x, x, x, x, x, x, x]\n");
        let mut prev = 'a';
        for name in ['b', 'c', 'd', 'e', 'f', 'g', 'h', 'i'] {
            text.push_str(&format!(
                "{name}: &{name} [*{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}]\n"
            ));
            prev = name;
        }
        assert!(matches!(parse(&text), Err(YamlError::Budget { .. })));
    }

    #[test]
    fn syntax_error_has_offset() {
        let text = "a: [1, 2\nb: 3\n";
        match parse(text) {
            Err(YamlError::Syntax { offset, .. }) => assert!(offset > 0),
            other => panic!("expected syntax error, got {other:?}"),
        }
    }

    #[test]
    fn multi_document_and_non_ascii() {
        let text = "# é\n---\nkind: A\n---\n---\nkind: B\n";
        let docs = parse_documents(text).unwrap();
        assert_eq!(docs.len(), 2);
        let b = docs[1].get("kind").unwrap();
        assert_eq!(&text[b.start..b.end], "B");
    }
}
