//! Whitespace that libyaml accepts and saphyr refuses: lines of a flow collection or of a quoted
//! scalar indented less than the block around them (`test: [` … `]` closing at the key's
//! column) or with tabs, a tab right after `:` (`key:<TAB>value`), a comment right after a
//! closing quote (`"5432"# port`). We insert spaces there
//! and parse again; such blanks are not part of any value, so the tree is the one libyaml
//! builds, and spans still map back to the file.

use saphyr_parser::{Event, Parser};
use std::collections::BTreeMap;

/// Spaces to insert before lines of one slice of the file, by the line's byte offset there.
#[derive(Debug, Default)]
pub(super) struct Padding {
    spaces: BTreeMap<usize, usize>,
}

impl Padding {
    pub(super) fn is_empty(&self) -> bool {
        self.spaces.is_empty()
    }

    /// The padded text and, for each of its chars (plus one past the end), the byte offset
    /// in `original` it comes from; inserted spaces map to their line's start.
    pub(super) fn apply(&self, original: &str) -> (String, Vec<usize>) {
        let mut text = String::with_capacity(original.len() + self.spaces.values().sum::<usize>());
        let mut map = Vec::with_capacity(original.len() + 1);
        for (byte, c) in original.char_indices() {
            if let Some(&n) = self.spaces.get(&byte) {
                text.extend(std::iter::repeat_n(' ', n));
                map.extend(std::iter::repeat_n(byte, n));
            }
            text.push(c);
            map.push(byte);
        }
        map.push(original.len());
        (text, map)
    }

    fn add(&mut self, line: usize, n: usize) {
        *self.spaces.entry(line).or_default() += n;
    }
}

/// For a saphyr error at byte `offset` of `padded` (the text as last parsed), the padding that
/// lets libyaml-accepted text through: adds it to `padding` (in `original` offsets, via `map`)
/// and returns true, or returns false when the error is not such an indentation error.
pub(super) fn fix_indentation(
    padded: &str,
    map: &[usize],
    offset: usize,
    message: &str,
    padding: &mut Padding,
) -> bool {
    let wanted: Vec<(usize, usize)> = match message {
        "invalid indentation in quoted scalar" => quoted_lines(padded, offset),
        "invalid indentation"
        | "invalid indentation in flow construct"
        | "tabs disallowed within this context (block indentation)"
        | "tab cannot be used as indentation" => indent_lines(padded, offset),
        "':' must be followed by a valid YAML whitespace" => {
            space_after_colon(padded, offset).into_iter().collect()
        }
        "comments must be separated from other tokens by whitespace" => {
            space_before_comment(padded, offset).into_iter().collect()
        }
        _ => Vec::new(),
    };
    let mut changed = false;
    for (line, n) in wanted {
        let char_index = padded[..line].chars().count();
        if let Some(&original) = map.get(char_index)
            && n > 0
        {
            padding.add(original, n);
            changed = true;
        }
    }
    changed
}

/// Column (in chars) of byte `offset` and the first non-blank column of its line.
fn columns(text: &str, offset: usize) -> (usize, usize) {
    let start = line_start(text, offset);
    let line = &text[start..];
    let blanks = line.chars().take_while(|c| *c == ' ' || *c == '\t').count();
    (text[start..offset].chars().count(), blanks)
}

fn line_start(text: &str, offset: usize) -> usize {
    text[..offset].rfind('\n').map_or(0, |i| i + 1)
}

/// The continuation lines of the quoted scalar starting at `offset`, each with the spaces that
/// bring it to the opening quote's column.
fn quoted_lines(text: &str, offset: usize) -> Vec<(usize, usize)> {
    let Some(end) = super::build::quoted_end(text, offset) else {
        return Vec::new();
    };
    let (quote_col, _) = columns(text, offset);
    let mut out = Vec::new();
    let mut pos = offset;
    while let Some(i) = text[pos..end].find('\n') {
        let line = pos + i + 1;
        let (_, blanks) = columns(text, line);
        let content = text[line..].chars().nth(blanks);
        if content.is_some_and(|c| c != '\n' && c != '\r') && blanks < quote_col {
            out.push((line, quote_col - blanks));
        }
        pos = line;
    }
    out
}

/// The line of `offset` with the spaces that bring it to the column of the flow collection or
/// quoted scalar open before it, and, in a flow collection, the following lines up to the one
/// that closes it (so a long list is fixed in one pass). Empty when neither is open there: then
/// it is a block indentation error, which libyaml refuses too.
fn indent_lines(text: &str, offset: usize) -> Vec<(usize, usize)> {
    let line = line_start(text, offset);
    let Some((column, brackets)) = open_column(&text[..line]) else {
        return Vec::new();
    };
    let mut out: Vec<(usize, usize)> = missing_indent(text, line, column)
        .map(|n| (line, n))
        .into_iter()
        .collect();
    if out.is_empty() || brackets == 0 {
        return out;
    }
    let Some(close) = flow_end(text, line, brackets) else {
        return out;
    };
    let mut pos = line_end(text, line);
    while pos <= close && pos < text.len() {
        if let Some(n) = missing_indent(text, pos, column) {
            out.push((pos, n));
        }
        pos = line_end(text, pos);
    }
    out
}

/// Spaces the line starting at `line` lacks to reach `column`; `None` for blank lines without
/// a tab (saphyr minds tabs on blank lines too).
fn missing_indent(text: &str, line: usize, column: usize) -> Option<usize> {
    let rest = &text[line..];
    let spaces = rest.chars().take_while(|c| *c == ' ').count();
    let blanks = rest.chars().take_while(|c| *c == ' ' || *c == '\t').count();
    let content = rest.chars().nth(blanks);
    if matches!(content, None | Some('\n' | '\r')) && blanks == spaces {
        return None;
    }
    // Tabs after the spaces count as one column each for saphyr, as for libyaml.
    let have = if blanks > spaces { spaces } else { blanks };
    (have < column).then(|| column - have)
}

/// The byte offset of the bracket closing the `depth` flow collections open at `from`, skipping
/// quoted scalars and comments.
fn flow_end(text: &str, from: usize, mut depth: usize) -> Option<usize> {
    let bytes = text.as_bytes();
    let mut i = from;
    // Whether the previous byte lets a quoted scalar or a comment start here.
    let mut token_start = true;
    while let Some(&b) = bytes.get(i) {
        match b {
            b'"' | b'\'' if token_start => {
                i = super::build::quoted_end(text, i)?;
                token_start = false;
                continue;
            }
            b'#' if i == 0 || matches!(bytes[i - 1], b' ' | b'\t' | b'\n' | b'\r') => {
                i = line_end(text, i);
                token_start = true;
                continue;
            }
            b'[' | b'{' => depth += 1,
            b']' | b'}' => {
                depth = depth.checked_sub(1)?;
                if depth == 0 {
                    return Some(i);
                }
            }
            _ => {}
        }
        token_start = matches!(b, b' ' | b'\t' | b'\n' | b'\r' | b'[' | b'{' | b',' | b':');
        i += 1;
    }
    None
}

fn line_end(text: &str, offset: usize) -> usize {
    text[offset..]
        .find('\n')
        .map_or(text.len(), |i| offset + i + 1)
}

/// `key:<TAB>value`: a space inserted after the colon, before the tabs ending at `offset`.
fn space_after_colon(text: &str, offset: usize) -> Option<(usize, usize)> {
    let before = text[..offset].trim_end_matches([' ', '\t']);
    let blanks = &text[before.len()..offset];
    (before.ends_with(':') && blanks.starts_with('\t')).then_some((before.len(), 1))
}

/// `"5432"# note`: libyaml takes the `#` after a quoted scalar or a flow indicator as a comment;
/// a space inserted before it says so to saphyr.
fn space_before_comment(text: &str, offset: usize) -> Option<(usize, usize)> {
    let line = &text[offset..line_end(text, offset)];
    let hash = offset + line.find('#')?;
    let before = text[..hash].chars().next_back()?;
    matches!(before, '"' | '\'' | ']' | '}' | ',').then_some((hash, 1))
}

/// Parses `prefix` (the text before the failing line) and returns the column that line's
/// content must reach when `prefix` ends inside a quoted scalar (its quote's column) or a flow
/// collection (the widest column of the open ones), with the number of flow brackets open;
/// `None` in block context.
fn open_column(prefix: &str) -> Option<(usize, usize)> {
    // (is flow, opened by a bracket, column) of each open collection.
    let mut open: Vec<(bool, bool, usize)> = Vec::new();
    // `key:<TAB>` would stop this parse before the part that matters; a space after the colon
    // only moves later columns of that line right, which only widens the padding.
    let prefix = prefix.replace(":\t", ": \t");
    let prefix = prefix.as_str();
    let chars: Vec<char> = prefix.chars().collect();
    for item in Parser::new_from_str(prefix) {
        let (event, span) = match item {
            Ok(ok) => ok,
            Err(e) if e.info().starts_with("while scanning a quoted scalar") => {
                return Some((e.marker().col(), 0));
            }
            Err(_) => break,
        };
        match event {
            Event::SequenceStart(..) | Event::MappingStart(..) => {
                let c = chars.get(span.start.index()).copied();
                let in_flow = open.last().is_some_and(|(flow, ..)| *flow);
                let bracket = matches!(c, Some('[' | '{'));
                open.push((in_flow || bracket, bracket, span.start.col()));
            }
            Event::SequenceEnd | Event::MappingEnd => {
                open.pop();
            }
            _ => {}
        }
    }
    if !open.last().is_some_and(|(flow, ..)| *flow) {
        return None;
    }
    // The outermost flow collection sits right of the block indentation; an inner one may not
    // (`[` alone at column 0), so the widest column of the open ones is safe.
    let flows = open.iter().filter(|(flow, ..)| *flow);
    let column = flows.clone().map(|(_, _, col)| *col).max()?;
    let brackets = flows.filter(|(_, bracket, _)| *bracket).count();
    Some((column, brackets))
}

#[cfg(test)]
mod tests {
    use crate::yaml::{Node, parse};

    fn strings(node: &Node) -> Vec<&str> {
        node.as_seq()
            .unwrap()
            .iter()
            .filter_map(Node::as_str)
            .collect()
    }

    #[test]
    fn flow_sequence_closing_at_the_key_column() {
        let text = "svc:\n  check: [\n      \"CMD\",\n      # why\n      \"curl -f x\",\n  ]\n  every: 5s\n";
        let doc = parse(text).unwrap().unwrap();
        let svc = doc.get("svc").unwrap();
        assert_eq!(strings(svc.get("check").unwrap()), ["CMD", "curl -f x"]);
        assert_eq!(svc.get("every").unwrap().as_str(), Some("5s"));
        // Spans still point into the file as written.
        let curl = &svc.get("check").unwrap().as_seq().unwrap()[1];
        assert_eq!(&text[curl.start..curl.end], "\"curl -f x\"");
    }

    #[test]
    fn flow_content_left_of_the_block_indentation() {
        let doc = parse("a:\n  b: [\n 1,\n2, {\nc: d\n}\n]\n")
            .unwrap()
            .unwrap();
        let b = doc.get("a").unwrap().get("b").unwrap().as_seq().unwrap();
        assert_eq!(b.len(), 3);
        assert_eq!(b[2].get("c").unwrap().as_str(), Some("d"));
        let tabbed = parse("a: [\n\t1,\n\t2\n]\n").unwrap().unwrap();
        assert_eq!(strings(tabbed.get("a").unwrap()), ["1", "2"]);
    }

    #[test]
    fn quoted_scalar_continued_left_of_its_key() {
        let doc = parse("a:\n  b: \"one\ntwo\"\n  c: 'x\n\ty'\n")
            .unwrap()
            .unwrap();
        let a = doc.get("a").unwrap();
        assert_eq!(a.get("b").unwrap().as_str(), Some("one two"));
        assert_eq!(a.get("c").unwrap().as_str(), Some("x y"));
    }

    #[test]
    fn tab_after_a_colon_separates_key_and_value() {
        let text = "key:\t\tvalue\nother:\t2\n";
        let doc = parse(text).unwrap().unwrap();
        let v = doc.get("key").unwrap();
        assert_eq!(v.as_str(), Some("value"));
        assert_eq!(&text[v.start..v.end], "value");
        assert_eq!(doc.get("other").unwrap().as_str(), Some("2"));
    }

    #[test]
    fn block_indentation_errors_stay_errors() {
        assert!(parse("a:\n  b: 1\n c: 2\n").is_err());
        assert!(parse("a:\n\t- x\n").is_err());
        assert!(parse("a: |\n  x\n b: 1\n").is_err());
    }

    #[test]
    fn a_long_flow_list_at_column_zero() {
        let mut text = String::from("a:\n  b: [\n");
        for i in 0..500 {
            text.push_str(&format!("\"item{i}\",\n"));
        }
        text.push_str("]\n  c: 1\n");
        let doc = parse(&text).unwrap().unwrap();
        let a = doc.get("a").unwrap();
        assert_eq!(a.get("b").unwrap().as_seq().unwrap().len(), 500);
        assert_eq!(a.get("c").unwrap().as_str(), Some("1"));
    }

    #[test]
    fn inner_flow_opened_left_of_the_block() {
        let doc = parse("x: {\n      k: [\n[\n  # note\nyes,],\n    ], j: 2}\n")
            .unwrap()
            .unwrap();
        let x = doc.get("x").unwrap();
        assert_eq!(x.get("k").unwrap().as_seq().unwrap().len(), 1);
        assert_eq!(x.get("j").unwrap().as_str(), Some("2"));
    }

    #[test]
    fn tab_lines_inside_a_quoted_scalar_after_key_tab() {
        let doc = parse("a:\t'one\n\t\n  \n two'\nb:\t3\n").unwrap().unwrap();
        assert_eq!(doc.get("a").unwrap().as_str(), Some("one\n\ntwo"));
        assert_eq!(doc.get("b").unwrap().as_str(), Some("3"));
    }

    #[test]
    fn comment_right_after_a_closing_quote() {
        let text = "env:\n  PORT: \"5432\"# the default\n  LIST: [\"a\"#one\n  ]\n";
        let doc = parse(text).unwrap().unwrap();
        let env = doc.get("env").unwrap();
        assert_eq!(env.get("PORT").unwrap().as_str(), Some("5432"));
        assert_eq!(strings(env.get("LIST").unwrap()), ["a"]);
        // Inside a plain scalar `#` is text, as everywhere.
        let plain = parse("color: x#fff\n").unwrap().unwrap();
        assert_eq!(plain.get("color").unwrap().as_str(), Some("x#fff"));
    }
}
