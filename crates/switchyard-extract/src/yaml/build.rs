//! Builds spanned trees from `saphyr-parser` events, one document at a time: a document that
//! cannot be read becomes an error in its slot and parsing resumes at the next `---` or `...`.

use super::lenient::{self, Padding};
use super::resolve::Scalar;
use super::{MAX_NODES, Node, Stream, Value, YamlError, YamlWarning};
use saphyr_parser::{Event, Parser, ScalarStyle, Span, Tag};
use std::borrow::Cow;
use std::collections::HashMap;

/// Bytes parsed again for padded lines before a slice's error is final: each padded line costs
/// a parse of the slice, so a long flow list written at column 0 in a small file is read, and
/// a large file gives up after a few dozen lines.
const RETRY_BUDGET_BYTES: usize = 64 << 20;

/// Maps saphyr's character offsets (in the slice being parsed) to byte offsets in the file.
struct Offsets {
    /// `None` when the text is ASCII (char index == byte index).
    char_to_byte: Option<Vec<usize>>,
    base: usize,
    len: usize,
}

impl Offsets {
    fn new(text: &str, base: usize) -> Self {
        let char_to_byte = (!text.is_ascii()).then(|| Self::char_map(text));
        Self {
            char_to_byte,
            base,
            len: text.len(),
        }
    }

    /// Offsets for a padded text whose char `i` comes from byte `map[i]` of the slice.
    fn mapped(map: Vec<usize>, base: usize) -> Self {
        let len = map.last().copied().unwrap_or_default();
        Self {
            char_to_byte: Some(map),
            base,
            len,
        }
    }

    /// The byte offset of each char of `text`, and its length at the end.
    fn char_map(text: &str) -> Vec<usize> {
        let mut v: Vec<usize> = text.char_indices().map(|(b, _)| b).collect();
        v.push(text.len());
        v
    }

    fn byte(&self, char_index: usize) -> usize {
        self.base
            + match &self.char_to_byte {
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
        tag: Option<String>,
    },
    Map {
        entries: Vec<(Node, Node)>,
        pending_key: Option<Node>,
        start: usize,
        anchor: usize,
        tag: Option<String>,
    },
}

struct Builder<'t> {
    text: &'t str,
    stack: Vec<Frame>,
    anchors: HashMap<usize, Node>,
    /// The root of the document being read.
    root: Option<Node>,
    /// Set when the document being read cannot be built; its remaining events are skipped.
    failed: Option<YamlError>,
    /// Byte offset where the document being read starts.
    doc_start: usize,
    /// Nodes of the file so far (after alias expansion), against [`MAX_NODES`].
    nodes: usize,
    /// `nodes` when the document being read started: a document that fails gives its back.
    nodes_at_doc_start: usize,
    in_document: bool,
    stream: Stream,
}

/// Parses every document of `text`, isolating errors per document.
pub(super) fn parse_stream(text: &str) -> Stream {
    let mut builder = Builder {
        text,
        stack: Vec::new(),
        anchors: HashMap::new(),
        root: None,
        failed: None,
        doc_start: 0,
        nodes: 0,
        nodes_at_doc_start: 0,
        in_document: false,
        stream: Stream::default(),
    };
    let mut base = 0;
    let mut padding = Padding::default();
    let mut retried_bytes = 0usize;
    while let Some(slice) = text.get(base..) {
        let padded = (!padding.is_empty()).then(|| padding.apply(slice));
        let (parsed, offsets) = match &padded {
            Some((parsed, map)) => (parsed.as_str(), Offsets::mapped(map.clone(), base)),
            None => (slice, Offsets::new(slice, base)),
        };
        let checkpoint = builder.checkpoint();
        let mut syntax_error = None;
        for item in Parser::new_from_str(parsed) {
            match item {
                Ok((ev, span)) => builder.on_event(ev, span, &offsets),
                Err(e) => {
                    syntax_error = Some((e.info().to_string(), e.marker().index()));
                    break;
                }
            }
        }
        let Some((message, char_index)) = syntax_error else {
            break;
        };
        // Indentation libyaml accepts: pad the lines and read this slice again.
        if retried_bytes < RETRY_BUDGET_BYTES {
            let map = match &padded {
                Some((_, map)) => map.clone(),
                None => Offsets::char_map(slice),
            };
            let at = parsed
                .char_indices()
                .nth(char_index)
                .map_or(parsed.len(), |(b, _)| b);
            if lenient::fix_indentation(parsed, &map, at, &message, &mut padding) {
                retried_bytes = retried_bytes.saturating_add(slice.len().max(1024));
                builder.rollback(checkpoint);
                continue;
            }
        }
        let error = YamlError::Syntax {
            message,
            offset: offsets.byte(char_index),
        };
        padding = Padding::default();
        retried_bytes = 0;
        let offset = error.offset();
        // Resume at the first document marker on or after the error's line, but never at or
        // before the marker that opened the broken document.
        let floor = base.max(builder.doc_start);
        builder.end_document(Some(error));
        let mut from = line_start(text, offset);
        let next = loop {
            match next_document_marker(text, from) {
                Some(n) if n <= floor => from = line_end(text, n),
                other => break other,
            }
        };
        match next {
            Some(n) => base = n,
            None => break,
        }
    }
    builder.stream
}

/// What [`Builder::rollback`] restores: the stream as it was before a slice was parsed.
struct Checkpoint {
    documents: usize,
    warnings: usize,
    nodes: usize,
}

impl Builder<'_> {
    fn checkpoint(&self) -> Checkpoint {
        Checkpoint {
            documents: self.stream.documents.len(),
            warnings: self.stream.warnings.len(),
            nodes: self.nodes,
        }
    }

    /// Forgets what was read since `checkpoint`, to read the same slice again.
    fn rollback(&mut self, checkpoint: Checkpoint) {
        self.stream.documents.truncate(checkpoint.documents);
        self.stream.warnings.truncate(checkpoint.warnings);
        self.nodes = checkpoint.nodes;
        self.stack.clear();
        self.anchors.clear();
        self.root = None;
        self.failed = None;
        self.in_document = false;
    }

    fn on_event(&mut self, ev: Event<'_>, span: Span, offsets: &Offsets) {
        let start = offsets.byte(span.start.index());
        let end = offsets.byte(span.end.index());
        match ev {
            Event::DocumentStart(_) => self.start_document(start),
            Event::DocumentEnd => {
                if self.in_document {
                    self.end_document(None);
                }
            }
            Event::StreamStart | Event::StreamEnd | Event::Nothing => {}
            ev if self.failed.is_some() => drop(ev),
            ev => {
                if !self.in_document {
                    self.start_document(start);
                }
                if let Err(e) = self.on_node_event(ev, start, end) {
                    self.stack.clear();
                    self.failed = Some(e);
                }
            }
        }
    }

    fn start_document(&mut self, start: usize) {
        self.stack.clear();
        self.anchors.clear();
        self.root = None;
        self.failed = None;
        self.nodes_at_doc_start = self.nodes;
        self.doc_start = start;
        self.in_document = true;
    }

    /// Closes the document being read, as `error` when one is given.
    fn end_document(&mut self, error: Option<YamlError>) {
        let result = match error.or_else(|| self.failed.take()) {
            Some(e) => {
                self.nodes = self.nodes_at_doc_start;
                Err(e)
            }
            None => Ok(self.root.take().unwrap_or_else(|| Node {
                value: Value::Scalar {
                    text: String::new(),
                    plain: true,
                },
                tag: None,
                start: self.doc_start,
                end: self.doc_start,
            })),
        };
        self.stream.documents.push(result);
        self.stack.clear();
        self.anchors.clear();
        self.root = None;
        self.failed = None;
        self.in_document = false;
    }

    fn push_node(&mut self, node: Node, anchor: usize) -> Result<(), YamlError> {
        if anchor > 0 {
            self.anchors.insert(anchor, node.clone());
        }
        match self.stack.last_mut() {
            None => self.root = Some(node),
            Some(Frame::Seq { items, .. }) => items.push(node),
            Some(Frame::Map {
                entries,
                pending_key,
                ..
            }) => match pending_key.take() {
                None => {
                    if !matches!(node.value, Value::Scalar { .. }) {
                        // PyYAML ("found unhashable key"), kubectl and compose refuse these.
                        return Err(YamlError::Syntax {
                            message: "a mapping key is itself a mapping or a sequence".into(),
                            offset: node.start,
                        });
                    }
                    *pending_key = Some(node);
                }
                Some(key) => entries.push((key, node)),
            },
        }
        Ok(())
    }

    fn on_node_event(&mut self, ev: Event<'_>, start: usize, end: usize) -> Result<(), YamlError> {
        match ev {
            Event::Scalar(text, style, anchor, tag) => {
                self.count(1, start)?;
                // saphyr's span of a quoted scalar can run on over trailing blanks and a
                // comment; the closing quote is where the value ends.
                let end = match style {
                    ScalarStyle::DoubleQuoted | ScalarStyle::SingleQuoted => {
                        quoted_end(self.text, start).unwrap_or(end)
                    }
                    _ => end,
                };
                let mut text = text.into_owned();
                // A block scalar whose last line ends the file without a line break: saphyr
                // gives that line a break, libyaml does not (`|` over `fi<EOF>` is "…fi").
                if matches!(style, ScalarStyle::Literal | ScalarStyle::Folded)
                    && end >= self.text.len()
                    && !self.text.ends_with(['\n', '\r'])
                    && text.ends_with('\n')
                    && last_line_is_content(self.text, start)
                {
                    text.pop();
                }
                let node = Node {
                    value: Value::Scalar {
                        text,
                        plain: style == ScalarStyle::Plain,
                    },
                    tag: tag_string(tag),
                    start,
                    end,
                };
                self.push_node(node, anchor)
            }
            Event::Alias(id) => {
                let node = self.anchors.get(&id).cloned().ok_or(YamlError::Syntax {
                    message: "alias to an unknown anchor".into(),
                    offset: start,
                })?;
                self.count(node.size(), start)?;
                self.push_node(node, 0)
            }
            Event::SequenceStart(anchor, tag) => {
                self.count(1, start)?;
                self.stack.push(Frame::Seq {
                    items: Vec::new(),
                    start,
                    anchor,
                    tag: tag_string(tag),
                });
                Ok(())
            }
            Event::MappingStart(anchor, tag) => {
                self.count(1, start)?;
                self.stack.push(Frame::Map {
                    entries: Vec::new(),
                    pending_key: None,
                    start,
                    anchor,
                    tag: tag_string(tag),
                });
                Ok(())
            }
            Event::SequenceEnd | Event::MappingEnd => {
                let (node, anchor) = match self.stack.pop() {
                    Some(Frame::Seq {
                        items,
                        start: s,
                        anchor,
                        tag,
                    }) => (
                        Node {
                            value: Value::Seq(items),
                            tag,
                            start: s,
                            end,
                        },
                        anchor,
                    ),
                    Some(Frame::Map {
                        entries,
                        start: s,
                        anchor,
                        tag,
                        ..
                    }) => (
                        Node {
                            value: Value::Map(self.finish_map(entries)?),
                            tag,
                            start: s,
                            end,
                        },
                        anchor,
                    ),
                    None => return Ok(()),
                };
                self.push_node(node, anchor)
            }
            _ => Ok(()),
        }
    }

    fn count(&mut self, n: usize, offset: usize) -> Result<(), YamlError> {
        self.nodes = self.nodes.saturating_add(n);
        if self.nodes > MAX_NODES {
            Err(YamlError::Budget { offset })
        } else {
            Ok(())
        }
    }

    /// Applies merge keys and settles duplicate keys as PyYAML does: the last one wins (with
    /// a warning, so the lost value is not dropped silently).
    fn finish_map(&mut self, entries: Vec<(Node, Node)>) -> Result<Vec<(Node, Node)>, YamlError> {
        let mut own: Vec<(Node, Node)> = Vec::with_capacity(entries.len());
        let mut index: HashMap<String, usize> = HashMap::new();
        // One list of maps per `<<` key, in key order.
        let mut merges = Vec::new();
        for (k, v) in entries {
            if is_merge_key(&k) {
                merges.push(merge_sources(v)?);
                continue;
            }
            let key = key_identity(&k);
            if let Some(&i) = index.get(&key) {
                let (earlier, _) = &own[i];
                self.stream.warnings.push(YamlWarning {
                    message: format!(
                        "duplicate key `{}` (first at byte {}): the later value is used, as PyYAML and Docker Compose v1 do",
                        k.as_str().unwrap_or_default(),
                        earlier.start
                    ),
                    offset: k.start,
                });
                own[i] = (k, v);
            } else {
                index.insert(key, own.len());
                own.push((k, v));
            }
        }
        // Explicit keys win over merged ones; earlier maps in a merge list win over later ones,
        // a later `<<` key over an earlier one (PyYAML's `flatten_mapping`).
        for source in merges.into_iter().rev().flatten() {
            for (k, v) in source {
                if let std::collections::hash_map::Entry::Vacant(slot) =
                    index.entry(key_identity(&k))
                {
                    slot.insert(own.len());
                    own.push((k, v));
                }
            }
        }
        Ok(own)
    }
}

/// The maps a `<<` value merges in: a map or a list of maps (anything else is an error, as in
/// PyYAML).
fn merge_sources(value: Node) -> Result<Vec<Vec<(Node, Node)>>, YamlError> {
    let offset = value.start;
    let refuse = || YamlError::Syntax {
        message: "`<<` expects a mapping or a list of mappings to merge".into(),
        offset,
    };
    match value.value {
        Value::Map(m) => Ok(vec![m]),
        Value::Seq(items) => items
            .into_iter()
            .map(|item| match item.value {
                Value::Map(m) => Ok(m),
                _ => Err(refuse()),
            })
            .collect(),
        Value::Scalar { .. } => Err(refuse()),
    }
}

/// What makes two keys the same key: their resolved value (`1`, `0x1` and `01` are one key in
/// PyYAML, `"1"` is another).
fn key_identity(key: &Node) -> String {
    match key.scalar() {
        Some(Scalar::Str(s)) => format!("s:{s}"),
        Some(Scalar::Int(i)) => format!("i:{i}"),
        Some(Scalar::Float(f)) if f.fract() == 0.0 && f.abs() < 1e15 => format!("i:{f}"),
        Some(Scalar::Float(f)) => format!("f:{f}"),
        Some(Scalar::Bool(b)) => format!("b:{b}"),
        Some(Scalar::Null) => "n:".into(),
        Some(Scalar::Timestamp(t)) => format!("t:{t}"),
        None => format!("@{}", key.start),
    }
}

fn is_merge_key(node: &Node) -> bool {
    node.tag.is_none() && matches!(&node.value, Value::Scalar { text, plain: true } if text == "<<")
}

fn tag_string(tag: Option<Cow<'_, Tag>>) -> Option<String> {
    tag.map(|t| format!("{}{}", t.handle, t.suffix))
}

/// The byte offset just after the closing quote of the quoted scalar starting at `start`.
pub(super) fn quoted_end(text: &str, start: usize) -> Option<usize> {
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

/// Whether the file's last line (which has no line break) belongs to the content of the block
/// scalar whose content starts at `content`: it has text, or blanks up to the content's indentation.
fn last_line_is_content(text: &str, content: usize) -> bool {
    let indent = |line: &str| line.len() - line.trim_start_matches(' ').len();
    let last = &text[line_start(text, text.len())..];
    if !last.trim().is_empty() {
        return true;
    }
    let body = text.get(line_start(text, content)..).unwrap_or_default();
    let content_indent = body
        .lines()
        .find(|l| !l.trim().is_empty())
        .map_or(usize::MAX, indent);
    indent(last) >= content_indent
}

fn line_start(text: &str, offset: usize) -> usize {
    let offset = offset.min(text.len());
    text.as_bytes()[..offset]
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |i| i + 1)
}

fn line_end(text: &str, offset: usize) -> usize {
    let offset = offset.min(text.len());
    text.as_bytes()[offset..]
        .iter()
        .position(|&b| b == b'\n')
        .map_or(text.len(), |i| offset + i + 1)
}

/// The start of the first line at or after `from` (a line start) that is a document marker:
/// `---` or `...` at column 0, followed by a blank or the end of the line.
fn next_document_marker(text: &str, from: usize) -> Option<usize> {
    let mut pos = from;
    while pos < text.len() {
        let line = &text.as_bytes()[pos..];
        if (line.starts_with(b"---") || line.starts_with(b"..."))
            && matches!(line.get(3), None | Some(b' ' | b'\t' | b'\r' | b'\n'))
        {
            return Some(pos);
        }
        pos = line_end(text, pos);
    }
    None
}
