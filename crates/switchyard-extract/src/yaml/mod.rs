//! A YAML tree with byte spans, built from `saphyr-parser` events, read the way the tools that
//! deploy these files read them (PyYAML/libyaml, so Docker Compose and kubectl).
//!
//! Aliases are expanded under a node budget (an alias bomb becomes an error, not an OOM), and
//! `<<` merge keys are applied, so extractors see plain maps whose nodes still point at their
//! source bytes (a merged key points at the anchor it came from). A duplicate key keeps its last
//! value (with a warning). Scalars keep their text; [`Node::scalar`] resolves them as YAML 1.1
//! does. A document that cannot be read is an error in its own slot of a [`Stream`]; the
//! documents around it are still read.
//!
//! `tests/yaml_differential.rs` holds this to PyYAML with libyaml on every corpus file. Where
//! libyaml is more lenient than saphyr (flow collections and quoted scalars indented left of
//! their block, tabs there and after `key:`), `lenient` pads the text and parses again. Where
//! PyYAML refuses what the Go readers behind `docker compose` and `kubectl` accept, we accept:
//! unknown `!tags`, a plain `=`, a redefined anchor, an impossible date (`2023-02-29` stays a
//! string), a tab after `- ` or before a top-level key.

mod build;
mod lenient;
pub mod resolve;

use crate::source::SourceFile;
pub use resolve::Scalar;
use switchyard_model::{Diagnostic, DiagnosticCode, Location};

/// Most nodes one file may expand to (after aliases).
pub const MAX_NODES: usize = 200_000;

/// One YAML node with its byte span in the file.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    pub value: Value,
    /// The tag written on the node, in full: `tag:yaml.org,2002:str` for `!!str`, `!reset`.
    pub tag: Option<String>,
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
    /// The byte offset the error points at.
    pub fn offset(&self) -> usize {
        match self {
            YamlError::Syntax { offset, .. } | YamlError::Budget { offset } => *offset,
        }
    }

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
                format!(
                    "YAML expands to more than {MAX_NODES} nodes (alias bomb?); document skipped"
                ),
                file.location(*offset, *offset),
            ),
        }
    }
}

/// Something the reader settled on its own that a person may want to know (a duplicate key).
#[derive(Debug, Clone, PartialEq)]
pub struct YamlWarning {
    pub message: String,
    pub offset: usize,
}

impl YamlWarning {
    pub fn diagnostic(&self, file: &SourceFile) -> Diagnostic {
        Diagnostic::new(
            DiagnosticCode::InvalidValue,
            self.message.clone(),
            file.location(self.offset, self.offset),
        )
    }
}

/// Every document of a YAML text, each read on its own.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Stream {
    /// One entry per document, empty documents included (as a null scalar), in file order.
    pub documents: Vec<Result<Node, YamlError>>,
    pub warnings: Vec<YamlWarning>,
}

impl Stream {
    /// The documents that could be read, empty ones left out.
    pub fn nodes(&self) -> impl Iterator<Item = &Node> {
        self.documents
            .iter()
            .filter_map(|d| d.as_ref().ok())
            .filter(|d| !d.is_null())
    }

    /// The errors, one per document that could not be read.
    pub fn errors(&self) -> impl Iterator<Item = &YamlError> {
        self.documents.iter().filter_map(|d| d.as_ref().err())
    }

    /// A diagnostic for each unreadable document and each warning.
    pub fn diagnostics(&self, file: &SourceFile) -> Vec<Diagnostic> {
        let several = self.documents.len() > 1;
        let mut out: Vec<Diagnostic> = self
            .errors()
            .map(|e| {
                let mut d = e.diagnostic(file);
                if several {
                    d.message
                        .push_str("; only this document is skipped, the others are read");
                }
                d
            })
            .collect();
        out.extend(self.warnings.iter().map(|w| w.diagnostic(file)));
        out
    }
}

impl Node {
    /// A scalar's value as YAML 1.1 (PyYAML's `SafeLoader`) resolves it: `yes` is true,
    /// `0555` is 365, `"0555"` is a string. `None` for maps and sequences.
    pub fn scalar(&self) -> Option<Scalar<'_>> {
        match &self.value {
            Value::Scalar { text, plain } => {
                Some(resolve::resolve(text, *plain, self.tag.as_deref()))
            }
            _ => None,
        }
    }

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

/// Parses every document of a YAML text; an unreadable document is an error in its slot.
pub fn parse_stream(text: &str) -> Stream {
    build::parse_stream(text)
}

/// Parses every document of a YAML stream. Empty documents are skipped; the first unreadable
/// document makes it an error (use [`parse_stream`] to keep the others).
pub fn parse_documents(text: &str) -> Result<Vec<Node>, YamlError> {
    let stream = parse_stream(text);
    if let Some(e) = stream.errors().next() {
        return Err(e.clone());
    }
    Ok(stream.nodes().cloned().collect())
}

/// Parses a single-document YAML text (the first non-empty document when there are several).
pub fn parse(text: &str) -> Result<Option<Node>, YamlError> {
    Ok(parse_with_warnings(text)?.0)
}

/// [`parse`], with the warnings the caller should report: duplicate keys, and documents after
/// the first (which a single-document reader leaves unread).
pub fn parse_with_warnings(text: &str) -> Result<(Option<Node>, Vec<YamlWarning>), YamlError> {
    let stream = parse_stream(text);
    if let Some(e) = stream.errors().next() {
        return Err(e.clone());
    }
    let mut documents = stream.nodes();
    let first = documents.next().cloned();
    let mut warnings = stream.warnings.clone();
    let rest: Vec<&Node> = documents.collect();
    if let Some(second) = rest.first() {
        warnings.push(YamlWarning {
            message: format!(
                "{} more YAML document(s) after the first are not read (a single-document file)",
                rest.len()
            ),
            offset: second.start,
        });
    }
    Ok((first, warnings))
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

    #[test]
    fn duplicate_keys_keep_the_last_value_with_a_warning() {
        let text = "env:\n  MODE: dev\n  PORT: 1\n  MODE: prod\n";
        let stream = parse_stream(text);
        let env = stream.nodes().next().unwrap().get("env").unwrap();
        assert_eq!(env.as_map().unwrap().len(), 2);
        assert_eq!(env.get("MODE").unwrap().as_str(), Some("prod"));
        assert_eq!(stream.warnings.len(), 1);
        assert!(stream.warnings[0].message.contains("MODE"));
        // `1` and `0x1` are the same key once resolved; `"1"` is another.
        let doc = parse("1: a\n\"1\": b\n0x1: c\n").unwrap().unwrap();
        assert_eq!(doc.as_map().unwrap().len(), 2);
    }

    #[test]
    fn a_broken_document_loses_only_itself() {
        let text = "kind: A\n---\nkind: [B\nname: x\n---\nkind: C\n...\n---\nkind: D\n";
        let stream = parse_stream(text);
        let kinds: Vec<Option<&str>> = stream
            .documents
            .iter()
            .map(|d| d.as_ref().ok().and_then(|n| n.get("kind")?.as_str()))
            .collect();
        assert_eq!(kinds, [Some("A"), None, Some("C"), Some("D")]);
        let f = SourceFile::new("r", "k.yaml", text);
        let diagnostics = stream.diagnostics(&f);
        assert_eq!(diagnostics.len(), 1);
        assert!(diagnostics[0].message.contains("only this document"));
        assert!(parse_documents(text).is_err());
    }

    #[test]
    fn an_alias_bomb_loses_only_its_document() {
        let mut text = String::from("kind: A\n---\na: &a [x, x, x, x, x, x, x, x, x, x]\n");
        let mut prev = 'a';
        for name in ['b', 'c', 'd', 'e', 'f', 'g', 'h', 'i'] {
            text.push_str(&format!("{name}: &{name} [*{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}]\n"));
            prev = name;
        }
        text.push_str("---\nkind: C\n");
        let stream = parse_stream(&text);
        assert_eq!(stream.documents.len(), 3);
        assert!(matches!(stream.documents[1], Err(YamlError::Budget { .. })));
        assert_eq!(stream.nodes().count(), 2);
    }

    #[test]
    fn empty_documents_keep_their_slot() {
        let stream = parse_stream("---\n---\na: 1\n");
        assert_eq!(stream.documents.len(), 2);
        assert!(stream.documents[0].as_ref().unwrap().is_null());
        assert_eq!(parse_stream("# only a comment\n").documents.len(), 0);
    }

    #[test]
    fn merging_a_scalar_or_keying_by_a_map_is_an_error() {
        assert!(parse("a: &x 1\nb:\n  <<: *x\n").is_err());
        assert!(parse("? [a, b]\n: c\n").is_err());
        assert!(parse("{a: 1}: c\n").is_err());
        // Quoted `<<` is an ordinary key.
        let doc = parse("'<<': 1\n").unwrap().unwrap();
        assert_eq!(doc.get("<<").unwrap().as_str(), Some("1"));
    }

    #[test]
    fn scalars_resolve_as_yaml_1_1_and_keep_their_tags() {
        let doc = parse("mode: 0555\nport: !!str 8080\nx: !reset null\nok: on\n")
            .unwrap()
            .unwrap();
        assert_eq!(doc.get("mode").unwrap().scalar(), Some(Scalar::Int(365)));
        assert_eq!(doc.get("port").unwrap().scalar(), Some(Scalar::Str("8080")));
        let x = doc.get("x").unwrap();
        assert_eq!(x.tag.as_deref(), Some("!reset"));
        assert_eq!(x.scalar(), Some(Scalar::Null));
        assert_eq!(doc.get("ok").unwrap().scalar(), Some(Scalar::Bool(true)));
    }

    #[test]
    fn a_block_scalar_ending_the_file_without_a_line_break_has_no_final_break() {
        let value = |text: &str| {
            parse(text)
                .unwrap()
                .unwrap()
                .get("a")
                .unwrap()
                .as_str()
                .map(String::from)
        };
        assert_eq!(
            value("a: |\n  set -e\n  echo ok").as_deref(),
            Some("set -e\necho ok")
        );
        assert_eq!(value("a: >+\n  one\n\n  two").as_deref(), Some("one\ntwo"));
        // Indentation-only last line: the break before it is the last one.
        assert_eq!(value("a: |\n  x\n  ").as_deref(), Some("x\n"));
        // A less indented blank last line is not content.
        assert_eq!(value("a: |\n  x\n\n  y\n ").as_deref(), Some("x\n\ny\n"));
        assert_eq!(value("a: |\n  x\n").as_deref(), Some("x\n"));
    }

    #[test]
    fn merge_priority_follows_pyyaml() {
        let text = "a: &a {p: 1, q: 2}\nb: &b {q: 3, r: 4}\nlist:\n  <<: [*a, *b]\n  p: 0\ntwo_keys:\n  <<: *a\n  <<: *b\n";
        let doc = parse(text).unwrap().unwrap();
        let list = doc.get("list").unwrap();
        assert_eq!(list.get("p").unwrap().as_str(), Some("0"));
        assert_eq!(list.get("q").unwrap().as_str(), Some("2"));
        assert_eq!(list.get("r").unwrap().as_str(), Some("4"));
        let two = doc.get("two_keys").unwrap();
        assert_eq!(two.get("q").unwrap().as_str(), Some("3"));
    }

    #[test]
    fn malformed_flow_stays_an_error_at_its_line() {
        let text = "services:\n  web:\n    image: [nginx\n  db: {\n";
        let Err(e) = parse(text) else {
            panic!("unclosed flow collections must not be read")
        };
        let f = SourceFile::new("r", "c.yml", text);
        assert!(e.diagnostic(&f).location.line >= 3);
    }

    #[test]
    fn a_single_document_reader_is_told_about_the_other_documents() {
        let (first, warnings) = parse_with_warnings("a: 1\n---\nb: 2\n---\n").unwrap();
        assert_eq!(first.unwrap().get("a").unwrap().as_str(), Some("1"));
        assert_eq!(warnings.len(), 1);
        assert!(warnings[0].message.starts_with("1 more YAML document"));
        let (_, none) = parse_with_warnings("---\na: 1\n---\n").unwrap();
        assert!(none.is_empty());
    }
}
