//! A small JavaScript/TypeScript tokenizer: identifiers, strings, template literals, numbers and
//! punctuation with byte spans; comments and regular expressions are skipped, so text inside them
//! never looks like code. Not a parser: [`super::parse`] matches patterns over these tokens.

/// What a token is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Ident,
    /// `'…'` or `"…"`; the span includes the quotes.
    Str,
    /// `` `…` ``, possibly with `${…}` parts; the span includes the backticks.
    Template,
    Num,
    /// One punctuation character, or `...`, `=>`, `||`, `??`, `&&`.
    Punct,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Token {
    pub kind: Kind,
    pub start: usize,
    pub end: usize,
}

impl Token {
    pub fn text<'a>(&self, src: &'a str) -> &'a str {
        src.get(self.start..self.end).unwrap_or("")
    }

    pub fn is(&self, src: &str, text: &str) -> bool {
        self.text(src) == text
    }

    /// The byte span of a string's content (inside the quotes or backticks).
    pub fn content_span(&self) -> (usize, usize) {
        match self.kind {
            Kind::Str | Kind::Template if self.end >= self.start + 2 => {
                (self.start + 1, self.end - 1)
            }
            _ => (self.start, self.end),
        }
    }
}

/// Keywords after which a `/` starts a regular expression rather than a division.
const REGEX_AFTER_WORDS: [&str; 11] = [
    "return", "typeof", "case", "do", "else", "in", "of", "new", "delete", "void", "throw",
];

/// Tokenizes `src`. Never fails: unterminated strings or comments end at the end of the text.
pub fn tokenize(src: &str) -> Vec<Token> {
    let bytes = src.as_bytes();
    let mut tokens: Vec<Token> = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        let start = i;
        let kind = match b {
            b' ' | b'\t' | b'\n' | b'\r' => {
                i += 1;
                continue;
            }
            b'/' if bytes.get(i + 1) == Some(&b'/') => {
                i = skip_line(bytes, i);
                continue;
            }
            b'/' if bytes.get(i + 1) == Some(&b'*') => {
                i = skip_block_comment(src, i);
                continue;
            }
            b'/' if regex_allowed(src, tokens.last()) => {
                if let Some(end) = skip_regex(bytes, i) {
                    i = end;
                    continue;
                }
                i += 1;
                Kind::Punct
            }
            b'\'' | b'"' => {
                i = skip_string(bytes, i);
                Kind::Str
            }
            b'`' => {
                i = skip_template(src, i, 0);
                Kind::Template
            }
            b'0'..=b'9' => {
                i = skip_number(bytes, i);
                Kind::Num
            }
            b'.' if bytes.get(i + 1).is_some_and(u8::is_ascii_digit) => {
                i = skip_number(bytes, i);
                Kind::Num
            }
            _ if is_ident_byte(b) => {
                while i < bytes.len() && (is_ident_byte(bytes[i]) || bytes[i].is_ascii_digit()) {
                    i += 1;
                }
                Kind::Ident
            }
            _ => {
                let rest = src.get(i..).unwrap_or("");
                let len = ["...", "=>", "||", "??", "&&"]
                    .iter()
                    .find(|op| rest.starts_with(**op))
                    .map_or_else(
                        || rest.chars().next().map_or(1, char::len_utf8),
                        |op| op.len(),
                    );
                i += len;
                Kind::Punct
            }
        };
        tokens.push(Token {
            kind,
            start,
            end: i.min(bytes.len()),
        });
    }
    tokens
}

fn is_ident_byte(b: u8) -> bool {
    b.is_ascii_alphabetic() || b == b'_' || b == b'$' || b >= 0x80
}

fn skip_line(bytes: &[u8], mut i: usize) -> usize {
    while i < bytes.len() && bytes[i] != b'\n' {
        i += 1;
    }
    i
}

fn skip_block_comment(src: &str, i: usize) -> usize {
    src.get(i + 2..)
        .and_then(|rest| rest.find("*/"))
        .map_or(src.len(), |p| i + 2 + p + 2)
}

/// End (exclusive) of a `'…'`/`"…"` string starting at `i`; a newline ends a broken string.
fn skip_string(bytes: &[u8], i: usize) -> usize {
    let quote = bytes[i];
    let mut j = i + 1;
    while j < bytes.len() {
        match bytes[j] {
            b'\\' => j += 2,
            b'\n' => return j,
            c if c == quote => return j + 1,
            _ => j += 1,
        }
    }
    bytes.len()
}

/// Deepest nesting of templates inside `${…}` followed; deeper text ends the token (no config
/// nests templates, and unbounded recursion would overflow the stack on hostile input).
const MAX_TEMPLATE_DEPTH: usize = 32;

/// End (exclusive) of a template literal starting at `i`, skipping nested `${…}` expressions.
fn skip_template(src: &str, i: usize, depth: usize) -> usize {
    let bytes = src.as_bytes();
    if depth > MAX_TEMPLATE_DEPTH {
        return bytes.len();
    }
    let mut j = i + 1;
    while j < bytes.len() {
        match bytes[j] {
            b'\\' => j += 2,
            b'`' => return j + 1,
            b'$' if bytes.get(j + 1) == Some(&b'{') => j = skip_braced(src, j + 1, depth + 1),
            _ => j += 1,
        }
    }
    bytes.len()
}

/// End (exclusive) of the `{…}` group opening at `i`, aware of strings, templates and comments.
pub fn skip_braced(src: &str, i: usize, depth: usize) -> usize {
    let bytes = src.as_bytes();
    let mut open = 0usize;
    let mut j = i;
    while j < bytes.len() {
        match bytes[j] {
            b'{' => {
                open += 1;
                j += 1;
            }
            b'}' => {
                open = open.saturating_sub(1);
                j += 1;
                if open == 0 {
                    return j;
                }
            }
            b'\'' | b'"' => j = skip_string(bytes, j),
            b'`' => j = skip_template(src, j, depth),
            b'/' if bytes.get(j + 1) == Some(&b'/') => j = skip_line(bytes, j),
            b'/' if bytes.get(j + 1) == Some(&b'*') => j = skip_block_comment(src, j),
            _ => j += 1,
        }
    }
    bytes.len()
}

fn skip_number(bytes: &[u8], start: usize) -> usize {
    let hex = bytes
        .get(start + 1)
        .is_some_and(|b| matches!(b, b'x' | b'X'));
    let mut i = start;
    while let Some(&b) = bytes.get(i) {
        let exponent_sign = matches!(b, b'+' | b'-')
            && !hex
            && i > start
            && matches!(bytes.get(i - 1), Some(b'e' | b'E'));
        if b.is_ascii_alphanumeric() || b == b'.' || b == b'_' || exponent_sign {
            i += 1;
        } else {
            break;
        }
    }
    i
}

/// Whether a `/` after `prev` starts a regular expression (JavaScript's classic heuristic).
fn regex_allowed(src: &str, prev: Option<&Token>) -> bool {
    match prev {
        None => true,
        Some(t) => match t.kind {
            Kind::Ident => REGEX_AFTER_WORDS.contains(&t.text(src)),
            Kind::Str | Kind::Template | Kind::Num => false,
            Kind::Punct => !matches!(t.text(src), ")" | "]"),
        },
    }
}

/// End (exclusive) of a regular expression literal at `i`, or `None` when it is not one.
fn skip_regex(bytes: &[u8], i: usize) -> Option<usize> {
    let mut j = i + 1;
    let mut in_class = false;
    while j < bytes.len() {
        match bytes[j] {
            b'\\' => j += 2,
            b'\n' => return None,
            b'[' => {
                in_class = true;
                j += 1;
            }
            b']' => {
                in_class = false;
                j += 1;
            }
            b'/' if !in_class => {
                j += 1;
                while j < bytes.len() && bytes[j].is_ascii_alphabetic() {
                    j += 1;
                }
                return Some(j);
            }
            _ => j += 1,
        }
    }
    None
}

/// The value of a `'…'`/`"…"` string token, escapes decoded (the common ones).
pub fn string_value(src: &str, token: &Token) -> String {
    let (start, end) = token.content_span();
    unescape(src.get(start..end).unwrap_or(""))
}

fn unescape(raw: &str) -> String {
    if !raw.contains('\\') {
        return raw.to_string();
    }
    let mut out = String::with_capacity(raw.len());
    let mut chars = raw.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n') => out.push('\n'),
            Some('t') => out.push('\t'),
            Some('r') => out.push('\r'),
            Some('0') => out.push('\0'),
            Some('u') => {
                let hex: String = chars.by_ref().take(4).collect();
                match u32::from_str_radix(&hex, 16).ok().and_then(char::from_u32) {
                    Some(ch) => out.push(ch),
                    None => out.push_str(&hex),
                }
            }
            Some('\n') | None => {}
            Some(other) => out.push(other),
        }
    }
    out
}

/// A template literal's text: literal parts decoded, each `${expr}` kept as written (trimmed)
/// so the value reads as unresolved. The bool is true when it has such parts.
pub fn template_value(src: &str, token: &Token) -> (String, bool) {
    let (start, end) = token.content_span();
    let raw = src.get(start..end).unwrap_or("");
    let bytes = raw.as_bytes();
    let mut out = String::new();
    let mut literal_start = 0;
    let mut unresolved = false;
    let mut j = 0;
    while j < bytes.len() {
        match bytes[j] {
            b'\\' => j += 2,
            b'$' if bytes.get(j + 1) == Some(&b'{') => {
                out.push_str(&unescape(raw.get(literal_start..j).unwrap_or("")));
                let close = skip_braced(raw, j + 1, 0);
                let expr = raw.get(j + 2..close.saturating_sub(1)).unwrap_or("").trim();
                out.push_str("${");
                out.push_str(expr);
                out.push('}');
                unresolved = true;
                j = close;
                literal_start = close;
            }
            _ => j += 1,
        }
    }
    out.push_str(&unescape(
        raw.get(literal_start.min(raw.len())..).unwrap_or(""),
    ));
    (out, unresolved)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(src: &str) -> Vec<&str> {
        tokenize(src).iter().map(|t| t.text(src)).collect()
    }

    #[test]
    fn comments_are_skipped() {
        let src = "a // ModuleFederationPlugin({\n/* remotes: { x: 'y' } */ b";
        assert_eq!(texts(src), ["a", "b"]);
    }

    #[test]
    fn strings_and_templates_are_single_tokens() {
        let src = r#"x('a\'b // no', "c", `d${ {e: '}'} }f`, 3.5e-2)"#;
        let toks = tokenize(src);
        let kinds: Vec<Kind> = toks.iter().map(|t| t.kind).collect();
        assert_eq!(
            kinds,
            [
                Kind::Ident,
                Kind::Punct,
                Kind::Str,
                Kind::Punct,
                Kind::Str,
                Kind::Punct,
                Kind::Template,
                Kind::Punct,
                Kind::Num,
                Kind::Punct
            ]
        );
        assert_eq!(string_value(src, &toks[2]), "a'b // no");
        assert_eq!(toks[8].text(src), "3.5e-2");
    }

    #[test]
    fn regex_literals_are_skipped() {
        let src = "test: /\\.(js|ts)x?$/, exclude: /node_modules\\/'/, x = a / b / c";
        let t = texts(src);
        assert_eq!(t[..6], ["test", ":", ",", "exclude", ":", ","]);
        assert_eq!(t[6..], ["x", "=", "a", "/", "b", "/", "c"]);
    }

    #[test]
    fn templates_keep_unresolved_parts() {
        let src = "`app@${process.env.URL || 'http://x'}/remoteEntry.js`";
        let toks = tokenize(src);
        assert_eq!(toks.len(), 1);
        let (value, unresolved) = template_value(src, &toks[0]);
        assert_eq!(value, "app@${process.env.URL || 'http://x'}/remoteEntry.js");
        assert!(unresolved);
    }

    #[test]
    fn deeply_nested_templates_do_not_overflow() {
        let src = "`${".repeat(200_000);
        let toks = tokenize(&src);
        assert_eq!(toks.len(), 1);
        let _ = template_value(&src, &toks[0]);
    }

    #[test]
    fn unterminated_input_does_not_panic() {
        for src in ["'abc", "`a${", "/* x", "a = /x", "\"\\", "`\\", "é'"] {
            let _ = tokenize(src);
        }
    }
}
