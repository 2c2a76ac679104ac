//! JSON (and JSONC) read through the spanned YAML tree, so JSON values keep their byte spans.
//! JSON is YAML 1.2 flow syntax; the rare JSON that saphyr rejects falls back to serde_json.

use crate::source::SourceFile;
use crate::yaml::{self, Node, Value, YamlError};
use std::borrow::Cow;
use switchyard_model::{Diagnostic, DiagnosticCode};

/// Rewrites JSON text so saphyr reads it as YAML, keeping every byte offset: `//` and `/* */`
/// comments (JSONC: `tsconfig`, `appsettings.json`) and tabs outside strings become spaces, and a
/// UTF-16 surrogate pair escape (`\ud83d\ude00`, which YAML rejects) becomes the 12-byte
/// `\U0001F600\` + escaped line break, which YAML decodes to the same character (only with
/// `rewrite_surrogates`: the serde_json fallback needs the JSON spelling).
pub fn prepare_for_yaml(text: &str, rewrite_surrogates: bool) -> Cow<'_, str> {
    if !text.contains(['/', '\t', '\\']) {
        return Cow::Borrowed(text);
    }
    let bytes = text.as_bytes();
    let mut out: Vec<u8> = bytes.to_vec();
    let mut changed = false;
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'"' => {
                i += 1;
                while i < bytes.len() && bytes[i] != b'"' {
                    if bytes[i] != b'\\' {
                        i += 1;
                        continue;
                    }
                    if let Some(replacement) =
                        surrogate_pair_replacement(bytes, i).filter(|_| rewrite_surrogates)
                    {
                        out[i..i + 12].copy_from_slice(&replacement);
                        changed = true;
                        i += 12;
                    } else {
                        i += 2;
                    }
                }
                i += 1;
            }
            b'\t' => {
                out[i] = b' ';
                changed = true;
                i += 1;
            }
            b'/' if bytes.get(i + 1) == Some(&b'/') => {
                while i < bytes.len() && bytes[i] != b'\n' {
                    out[i] = b' ';
                    i += 1;
                }
                changed = true;
            }
            b'/' if bytes.get(i + 1) == Some(&b'*') => {
                let end = text
                    .get(i + 2..)
                    .and_then(|rest| rest.find("*/"))
                    .map_or(bytes.len(), |p| i + 2 + p + 2);
                for b in out.iter_mut().take(end).skip(i) {
                    if *b != b'\n' {
                        *b = b' ';
                    }
                }
                changed = true;
                i = end;
            }
            _ => i += 1,
        }
    }
    if !changed {
        return Cow::Borrowed(text);
    }
    // Whole characters (comments) or ASCII escapes were replaced by ASCII: still UTF-8.
    match String::from_utf8(out) {
        Ok(s) => Cow::Owned(s),
        Err(_) => Cow::Borrowed(text),
    }
}

/// For `\uD8xx\uDCxx` at `i`, the same-length YAML spelling of the character; `None` when
/// the escape is not a surrogate pair, or when the escaped line break would eat whitespace
/// that follows it.
fn surrogate_pair_replacement(bytes: &[u8], i: usize) -> Option<[u8; 12]> {
    let escape = bytes.get(i..i + 12)?;
    let hex = |b: &[u8]| u32::from_str_radix(std::str::from_utf8(b).ok()?, 16).ok();
    if escape[1] != b'u' || escape[6] != b'\\' || escape[7] != b'u' {
        return None;
    }
    let high = hex(&escape[2..6])?;
    let low = hex(&escape[8..12])?;
    if !(0xD800..0xDC00).contains(&high) || !(0xDC00..0xE000).contains(&low) {
        return None;
    }
    if matches!(bytes.get(i + 12), Some(b' ' | b'\t')) {
        return None;
    }
    let code = 0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00);
    let spelled = format!("\\U{code:08X}\\\n");
    spelled.as_bytes().try_into().ok()
}

/// Parses a JSON file into a spanned [`Node`] tree; `Ok(None)` for an empty file.
///
/// When saphyr rejects a text that serde_json accepts, the tree is built from serde_json and
/// every node points at the start of the file (facts are kept, with an imprecise location).
pub fn parse_json(file: &SourceFile) -> Result<Option<Node>, Diagnostic> {
    let text = prepare_for_yaml(&file.text, true);
    match yaml::parse(&text) {
        Ok(node) => Ok(node),
        Err(YamlError::Budget { .. }) => Err(YamlError::Budget { offset: 0 }.diagnostic(file)),
        Err(YamlError::Syntax { .. }) => {
            match serde_json::from_str::<serde_json::Value>(&prepare_for_yaml(&file.text, false)) {
                Ok(value) => Ok(Some(from_serde(&value))),
                Err(e) => {
                    let offset = file
                        .line_start(u32::try_from(e.line()).unwrap_or(u32::MAX))
                        .map_or(0, |start| start + e.column().saturating_sub(1));
                    let offset = floor_char_boundary(&file.text, offset);
                    Err(Diagnostic::new(
                        DiagnosticCode::ParseError,
                        format!("invalid JSON: {e}"),
                        file.location(offset, offset),
                    ))
                }
            }
        }
    }
}

fn floor_char_boundary(text: &str, mut offset: usize) -> usize {
    offset = offset.min(text.len());
    while offset > 0 && !text.is_char_boundary(offset) {
        offset -= 1;
    }
    offset
}

/// A node tree from a serde_json value; every span is `[0, 0)` (the file's start).
fn from_serde(value: &serde_json::Value) -> Node {
    let value = match value {
        serde_json::Value::Null => Value::Scalar {
            text: "null".into(),
            plain: true,
        },
        serde_json::Value::Bool(b) => Value::Scalar {
            text: b.to_string(),
            plain: true,
        },
        serde_json::Value::Number(n) => Value::Scalar {
            text: n.to_string(),
            plain: true,
        },
        serde_json::Value::String(s) => Value::Scalar {
            text: s.clone(),
            plain: false,
        },
        serde_json::Value::Array(items) => Value::Seq(items.iter().map(from_serde).collect()),
        serde_json::Value::Object(map) => Value::Map(
            map.iter()
                .map(|(k, v)| {
                    let key = Node {
                        value: Value::Scalar {
                            text: k.clone(),
                            plain: false,
                        },
                        tag: None,
                        start: 0,
                        end: 0,
                    };
                    (key, from_serde(v))
                })
                .collect(),
        ),
    };
    Node {
        value,
        tag: None,
        start: 0,
        end: 0,
    }
}

/// The location of a scalar's content (inside the quotes) in `file`.
pub fn value_location(node: &Node, file: &SourceFile) -> switchyard_model::Location {
    let (start, end) = node.content_span(file);
    file.location(start, end)
}

/// The location of `[from, to)` bytes of a string scalar's *decoded* text, when the source
/// holds that text verbatim between the quotes (no escapes); else the whole value's location.
pub fn sub_location(
    node: &Node,
    file: &SourceFile,
    from: usize,
    to: usize,
) -> switchyard_model::Location {
    let (start, end) = node.content_span(file);
    let verbatim = node
        .as_str()
        .is_some_and(|decoded| file.text.get(start..end) == Some(decoded));
    if verbatim && to <= end - start && from <= to {
        file.location(start + from, start + to)
    } else {
        file.location(start, end)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> (SourceFile, Result<Option<Node>, Diagnostic>) {
        let file = SourceFile::new("r", "config.json", text);
        let parsed = parse_json(&file);
        (file, parsed)
    }

    #[test]
    fn nested_objects_and_arrays_keep_spans() {
        let text = "{\n  \"a\": {\"b\": [1, \"two\", {\"c\": \"http://x:1\"}]},\n  \"d\":true\n}\n";
        let (file, parsed) = parse(text);
        let root = parsed.unwrap().unwrap();
        let c = &root.get("a").unwrap().get("b").unwrap().as_seq().unwrap()[2];
        let c = c.get("c").unwrap();
        assert_eq!(c.as_str(), Some("http://x:1"));
        assert_eq!(value_location(c, &file).to_string(), "r/config.json:2:32");
        assert_eq!(root.get("d").unwrap().as_bool(), Some(true));
        let two = &root.get("a").unwrap().get("b").unwrap().as_seq().unwrap()[1];
        assert_eq!(&text[two.start..two.end], "\"two\"");
    }

    #[test]
    fn escapes_and_unicode() {
        let text = r#"{"k\"ey": "a\"b\\c\/d\u00e9\n", "ü": "naïve ✓", "emoji": "\ud83d\ude00"}"#;
        let (file, parsed) = parse(text);
        let root = parsed.unwrap().unwrap();
        assert_eq!(root.get("k\"ey").unwrap().as_str(), Some("a\"b\\c/dé\n"));
        let naive = root.get("ü").unwrap();
        assert_eq!(naive.as_str(), Some("naïve ✓"));
        assert_eq!(&text[naive.start..naive.end], "\"naïve ✓\"");
        // Line/column count characters, not bytes.
        assert_eq!(value_location(naive, &file).column, 39);
        let emoji = root.get("emoji").unwrap();
        assert_eq!(emoji.as_str(), Some("😀"));
        assert_eq!(&text[emoji.start..emoji.end], r#""\ud83d\ude00""#);
    }

    #[test]
    fn surrogate_pairs_keep_following_text() {
        let text = r#"{"a": "x\ud83d\ude00y", "b": "\ud83d\ude00 z", "c": "\\ud83d\\ude00"}"#;
        let (_, parsed) = parse(text);
        let root = parsed.unwrap().unwrap();
        assert_eq!(root.get("a").unwrap().as_str(), Some("x😀y"));
        // A space after the pair would be eaten by the escaped line break: serde_json reads it.
        assert_eq!(root.get("b").unwrap().as_str(), Some("😀 z"));
        // Escaped backslashes do not start an escape.
        assert_eq!(root.get("c").unwrap().as_str(), Some(r"\ud83d\ude00"));
    }

    #[test]
    fn tab_after_colon() {
        let text = "{\"a\":\t\"http://h:1\"}";
        let (file, parsed) = parse(text);
        let a = parsed.unwrap().unwrap();
        let a = a.get("a").unwrap();
        assert_eq!(value_location(a, &file).column, 8);
    }

    #[test]
    fn compact_json_without_spaces() {
        let text = r#"{"a":"b","n":{"url":"http://h:2"},"l":[1,2]}"#;
        let (_, parsed) = parse(text);
        let root = parsed.unwrap().unwrap();
        assert_eq!(root.get("a").unwrap().as_str(), Some("b"));
        let url = root.get("n").unwrap().get("url").unwrap();
        assert_eq!(&text[url.start..url.end], "\"http://h:2\"");
        assert_eq!(root.get("l").unwrap().as_seq().unwrap().len(), 2);
    }

    #[test]
    fn tabs_and_comments() {
        let text =
            "{\n\t// the API\n\t\"api\": \"http://api:80\", /* block\n comment */ \"x\": 1\n}";
        let (file, parsed) = parse(text);
        let root = parsed.unwrap().unwrap();
        let api = root.get("api").unwrap();
        assert_eq!(value_location(api, &file).to_string(), "r/config.json:3:10");
        assert_eq!(root.get("x").unwrap().as_str(), Some("1"));
    }

    #[test]
    fn comment_markers_inside_strings_are_kept() {
        let text = r#"{"u": "http://a/*b*/", "v": "x\"//y"}"#;
        let (_, parsed) = parse(text);
        let root = parsed.unwrap().unwrap();
        assert_eq!(root.get("u").unwrap().as_str(), Some("http://a/*b*/"));
        assert_eq!(root.get("v").unwrap().as_str(), Some("x\"//y"));
    }

    #[test]
    fn malformed_json_is_a_located_parse_error() {
        let (_, parsed) = parse("{\n  \"a\": 1,\n  \"b\" 2\n}\n");
        let d = parsed.unwrap_err();
        assert_eq!(d.code, DiagnosticCode::ParseError);
        assert_eq!(d.location.line, 3);
    }

    #[test]
    fn empty_file_is_none() {
        assert!(parse("").1.unwrap().is_none());
        assert!(parse("  \n").1.unwrap().is_none());
    }

    #[test]
    fn sub_location_maps_into_verbatim_strings_only() {
        let text = r#"{"s": "vite --port 5174", "e": "a\tvite --port 5174"}"#;
        let (file, parsed) = parse(text);
        let root = parsed.unwrap().unwrap();
        let s = root.get("s").unwrap();
        let loc = sub_location(s, &file, 12, 16);
        assert_eq!(&text[loc.span.start..loc.span.end], "5174");
        let e = root.get("e").unwrap();
        let loc = sub_location(e, &file, 14, 18);
        assert_eq!(&text[loc.span.start..loc.span.end], "a\\tvite --port 5174");
    }
}

#[cfg(test)]
mod properties {
    use super::*;
    use proptest::prelude::*;

    fn json_value() -> impl Strategy<Value = serde_json::Value> {
        let leaf = prop_oneof![
            Just(serde_json::Value::Null),
            any::<bool>().prop_map(serde_json::Value::Bool),
            any::<i64>().prop_map(|n| serde_json::Value::Number(n.into())),
            any::<String>().prop_map(serde_json::Value::String),
            "[a-z:/@.]{0,12}".prop_map(serde_json::Value::String),
        ];
        leaf.prop_recursive(4, 48, 6, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..6).prop_map(serde_json::Value::Array),
                prop::collection::btree_map(any::<String>(), inner, 0..6)
                    .prop_map(|m| serde_json::Value::Object(m.into_iter().collect())),
            ]
        })
    }

    /// Escapes every non-ASCII character as `\uXXXX` (surrogate pairs beyond the BMP), the way
    /// some JSON writers do; only inside strings, which is the only place they can occur.
    fn ascii_escaped(json: &str) -> String {
        let mut out = String::new();
        for c in json.chars() {
            if c.is_ascii() {
                out.push(c);
            } else {
                let mut units = [0u16; 2];
                for unit in c.encode_utf16(&mut units) {
                    out.push_str(&format!("\\u{unit:04x}"));
                }
            }
        }
        out
    }

    fn to_serde(node: &Node) -> serde_json::Value {
        match &node.value {
            Value::Scalar { text, plain: false } => serde_json::Value::String(text.clone()),
            Value::Scalar { text, plain: true } => match text.as_str() {
                "null" => serde_json::Value::Null,
                "true" => serde_json::Value::Bool(true),
                "false" => serde_json::Value::Bool(false),
                n => serde_json::from_str(n).unwrap_or(serde_json::Value::String(n.into())),
            },
            Value::Seq(items) => serde_json::Value::Array(items.iter().map(to_serde).collect()),
            Value::Map(entries) => serde_json::Value::Object(
                entries
                    .iter()
                    .map(|(k, v)| (k.as_str().unwrap_or("").to_string(), to_serde(v)))
                    .collect(),
            ),
        }
    }

    /// Every spanned string node's source text decodes (as JSON) to the node's value.
    fn check_spans(node: &Node, text: &str) {
        match &node.value {
            Value::Scalar {
                text: value,
                plain: false,
            } if node.end > node.start => {
                let raw = &text[node.start..node.end];
                assert_eq!(
                    serde_json::from_str::<String>(raw).ok().as_ref(),
                    Some(value)
                );
            }
            Value::Seq(items) => items.iter().for_each(|i| check_spans(i, text)),
            Value::Map(entries) => entries.iter().for_each(|(k, v)| {
                check_spans(k, text);
                check_spans(v, text);
            }),
            _ => {}
        }
    }

    proptest! {
        #[test]
        fn json_reads_back_exactly(inner in json_value(), pretty: bool, escape: bool) {
            // A document that is only `null` reads as empty; configs are objects anyway.
            let value = serde_json::json!({ "v": inner });
            let mut text = if pretty {
                serde_json::to_string_pretty(&value).unwrap()
            } else {
                serde_json::to_string(&value).unwrap()
            };
            if escape {
                text = ascii_escaped(&text);
            }
            let file = SourceFile::new("r", "config.json", text.clone());
            let node = parse_json(&file).unwrap().unwrap();
            // Only a surrogate pair escape followed by a space needs the serde_json fallback.
            prop_assert!(node.end > 0 || (escape && text.contains(" ")), "fallback used for {}", text);
            prop_assert_eq!(to_serde(&node), value);
            check_spans(&node, &text);
        }

        #[test]
        fn arbitrary_text_never_panics(text in any::<String>()) {
            let prepared = prepare_for_yaml(&text, true);
            prop_assert_eq!(prepared.len(), text.len());
            let file = SourceFile::new("r", "config.json", text);
            let _ = parse_json(&file);
        }
    }
}
