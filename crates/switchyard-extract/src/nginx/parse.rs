//! A small nginx configuration reader: tokens (words, quoted strings, `;`, `{`, `}`, comments)
//! with byte spans, and the directive tree they form. No evaluation, no `include` following.

/// What a token is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Kind {
    /// A bare word or a quoted string (its `text` unescaped, its span with the quotes).
    Word,
    Semicolon,
    Open,
    Close,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Token {
    pub kind: Kind,
    pub text: String,
    pub start: usize,
    pub end: usize,
}

/// One directive: `name args… ;` or `name args… { children }`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Directive {
    pub name: Token,
    pub args: Vec<Token>,
    pub block: Option<Vec<Directive>>,
}

/// Why a configuration could not be read, at a byte range.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct ParseError {
    pub message: String,
    pub start: usize,
    pub end: usize,
}

/// Deepest block nesting read; deeper input is an error rather than a stack overflow.
const MAX_DEPTH: usize = 64;

fn error(message: impl Into<String>, start: usize, end: usize) -> ParseError {
    ParseError {
        message: message.into(),
        start,
        end,
    }
}

/// Splits a configuration into tokens. `#` starts a comment only at the start of a token;
/// `${var}` stays inside its word.
pub(super) fn tokenize(text: &str) -> Result<Vec<Token>, ParseError> {
    let bytes = text.as_bytes();
    let mut tokens = Vec::new();
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        let single = match b {
            b';' => Some(Kind::Semicolon),
            b'{' => Some(Kind::Open),
            b'}' => Some(Kind::Close),
            _ => None,
        };
        if let Some(kind) = single {
            tokens.push(Token {
                kind,
                text: char::from(b).to_string(),
                start: i,
                end: i + 1,
            });
            i += 1;
        } else if b.is_ascii_whitespace() {
            i += 1;
        } else if b == b'#' {
            while bytes.get(i).is_some_and(|&c| c != b'\n') {
                i += 1;
            }
        } else if b == b'"' || b == b'\'' {
            let (token, next) = quoted(bytes, i, b)?;
            tokens.push(token);
            i = next;
        } else {
            let start = i;
            let mut in_var = false;
            while let Some(&c) = bytes.get(i) {
                if in_var {
                    in_var = c != b'}';
                } else if c == b'{' && i > start && bytes.get(i - 1) == Some(&b'$') {
                    in_var = true;
                } else if c.is_ascii_whitespace() || matches!(c, b';' | b'{' | b'}') {
                    break;
                }
                i += 1;
            }
            tokens.push(Token {
                kind: Kind::Word,
                text: String::from_utf8_lossy(bytes.get(start..i).unwrap_or(&[])).into_owned(),
                start,
                end: i,
            });
        }
    }
    Ok(tokens)
}

/// Reads a quoted string starting at `start`; returns the token and the offset after it.
fn quoted(bytes: &[u8], start: usize, quote: u8) -> Result<(Token, usize), ParseError> {
    let mut value = Vec::new();
    let mut i = start + 1;
    loop {
        match bytes.get(i) {
            None => return Err(error("unterminated quoted string", start, start + 1)),
            Some(&b'\\') => {
                let escaped = bytes.get(i + 1).copied();
                match escaped {
                    Some(b'n') => value.push(b'\n'),
                    Some(b't') => value.push(b'\t'),
                    Some(b'r') => value.push(b'\r'),
                    Some(c @ (b'"' | b'\'' | b'\\')) => value.push(c),
                    // nginx keeps unknown escapes (regexes need `\d`).
                    Some(c) => value.extend([b'\\', c]),
                    None => return Err(error("unterminated quoted string", start, start + 1)),
                }
                i += 2;
            }
            Some(&c) if c == quote => {
                let token = Token {
                    kind: Kind::Word,
                    text: String::from_utf8_lossy(&value).into_owned(),
                    start,
                    end: i + 1,
                };
                return Ok((token, i + 1));
            }
            Some(&c) => {
                value.push(c);
                i += 1;
            }
        }
    }
}

/// Parses a whole configuration into its top-level directives.
pub(super) fn parse(text: &str) -> Result<Vec<Directive>, ParseError> {
    let tokens = tokenize(text)?;
    let mut pos = 0;
    block(&tokens, &mut pos, None, 0)
}

fn block(
    tokens: &[Token],
    pos: &mut usize,
    open: Option<&Token>,
    depth: usize,
) -> Result<Vec<Directive>, ParseError> {
    let mut directives = Vec::new();
    let mut words: Vec<Token> = Vec::new();
    loop {
        let Some(token) = tokens.get(*pos) else {
            if let Some(first) = words.first() {
                return Err(unterminated(first));
            }
            if let Some(open) = open {
                return Err(error(
                    "unbalanced braces: this `{` is never closed",
                    open.start,
                    open.end,
                ));
            }
            return Ok(directives);
        };
        *pos += 1;
        match token.kind {
            Kind::Word => words.push(token.clone()),
            Kind::Semicolon => {
                let mut parts = std::mem::take(&mut words).into_iter();
                // A stray `;` is accepted, as harmless.
                if let Some(name) = parts.next() {
                    directives.push(Directive {
                        name,
                        args: parts.collect(),
                        block: None,
                    });
                }
            }
            Kind::Open => {
                let mut parts = std::mem::take(&mut words).into_iter();
                let Some(name) = parts.next() else {
                    return Err(error("`{` without a directive", token.start, token.end));
                };
                if depth >= MAX_DEPTH {
                    return Err(error("blocks nested too deeply", token.start, token.end));
                }
                let children = block(tokens, pos, Some(token), depth + 1)?;
                directives.push(Directive {
                    name,
                    args: parts.collect(),
                    block: Some(children),
                });
            }
            Kind::Close => {
                if let Some(first) = words.first() {
                    return Err(unterminated(first));
                }
                if open.is_none() {
                    return Err(error(
                        "unbalanced braces: `}` without a matching `{`",
                        token.start,
                        token.end,
                    ));
                }
                return Ok(directives);
            }
        }
    }
}

fn unterminated(first: &Token) -> ParseError {
    error(
        format!("missing `;` after directive `{}`", first.text),
        first.start,
        first.end,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(text: &str) -> Vec<(Kind, String, usize, usize)> {
        tokenize(text)
            .unwrap()
            .into_iter()
            .map(|t| (t.kind, t.text, t.start, t.end))
            .collect()
    }

    #[test]
    fn tokens_with_spans() {
        let got = words("listen 80; # port\nroot \"/var/w w\";");
        assert_eq!(
            got,
            vec![
                (Kind::Word, "listen".into(), 0, 6),
                (Kind::Word, "80".into(), 7, 9),
                (Kind::Semicolon, ";".into(), 9, 10),
                (Kind::Word, "root".into(), 18, 22),
                (Kind::Word, "/var/w w".into(), 23, 33),
                (Kind::Semicolon, ";".into(), 33, 34),
            ]
        );
    }

    #[test]
    fn escapes_variables_and_hashes_inside_words() {
        let got = words(r#"add_header X 'it\'s' a#b ${host}x;"#);
        let texts: Vec<&str> = got.iter().map(|t| t.1.as_str()).collect();
        assert_eq!(
            texts,
            vec!["add_header", "X", "it's", "a#b", "${host}x", ";"]
        );
    }

    #[test]
    fn directive_tree() {
        let tree = parse("http { server { listen 80; location / { } } }").unwrap();
        assert_eq!(tree.len(), 1);
        let server = &tree[0].block.as_ref().unwrap()[0];
        assert_eq!(server.name.text, "server");
        let children = server.block.as_ref().unwrap();
        assert_eq!(children[0].args[0].text, "80");
        assert_eq!(children[1].args[0].text, "/");
        assert_eq!(children[1].block.as_deref(), Some(&[][..]));
    }

    #[test]
    fn errors_have_positions() {
        let e = parse("server {\n  listen 80;\n").unwrap_err();
        assert_eq!((e.start, e.message.contains("never closed")), (7, true));
        let e = parse("server { listen 80 }").unwrap_err();
        assert_eq!(
            (e.start, e.message.as_str()),
            (9, "missing `;` after directive `listen`")
        );
        let e = parse("}").unwrap_err();
        assert!(e.message.contains("without a matching"));
        let e = parse("root \"/x;").unwrap_err();
        assert_eq!(e.start, 5);
        let e = parse("pid x").unwrap_err();
        assert_eq!(e.start, 0);
        let deep = "a {".repeat(100) + &"}".repeat(100);
        assert!(parse(&deep).unwrap_err().message.contains("too deeply"));
    }
}
