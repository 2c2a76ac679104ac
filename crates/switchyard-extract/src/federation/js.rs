//! Reads JavaScript values from tokens: object properties, strings, arrays, the object a
//! call or arrow function returns, and `const` declarations, with bracket matching.

use super::scan::{self, Kind, Token};
use switchyard_model::ByteSpan;

/// Half-open token range `[start, end)`.
pub type Range = (usize, usize);

/// A property of an object literal.
pub struct Prop {
    pub key: String,
    pub key_token: Token,
    pub value: Range,
}

pub struct Js<'a> {
    pub src: &'a str,
    pub toks: Vec<Token>,
    /// For each opening bracket token, the index of its matching closing token.
    pub close: Vec<Option<usize>>,
}

impl<'a> Js<'a> {
    pub fn new(src: &'a str) -> Self {
        let toks = scan::tokenize(src);
        let mut close = vec![None; toks.len()];
        let mut stack: Vec<(usize, u8)> = Vec::new();
        for (i, t) in toks.iter().enumerate() {
            if t.kind != Kind::Punct {
                continue;
            }
            let expected = match t.text(src) {
                open @ ("(" | "[" | "{") => {
                    stack.push((i, open.as_bytes().first().copied().unwrap_or(0)));
                    continue;
                }
                ")" => b'(',
                "]" => b'[',
                "}" => b'{',
                _ => continue,
            };
            // Tolerate unbalanced code: unwind to the matching opener if there is one.
            if let Some(pos) = stack.iter().rposition(|(_, b)| *b == expected) {
                let (open, _) = stack[pos];
                stack.truncate(pos);
                close[open] = Some(i);
            }
        }
        Self { src, toks, close }
    }

    pub fn tok(&self, i: usize) -> Option<&Token> {
        self.toks.get(i)
    }

    pub fn is(&self, i: usize, text: &str) -> bool {
        self.tok(i).is_some_and(|t| t.is(self.src, text))
    }

    pub fn text(&self, i: usize) -> &'a str {
        self.tok(i).map_or("", |t| t.text(self.src))
    }

    pub fn span(&self, token: &Token) -> ByteSpan {
        let (s, e) = token.content_span();
        ByteSpan::new(s, e)
    }

    /// The value range of `const|let|var NAME = value` declared before token `before`.
    pub fn resolve_ident(&self, name: &str, before: usize) -> Option<Range> {
        (1..before.min(self.toks.len())).rev().find_map(|i| {
            let decl = matches!(self.text(i - 1), "const" | "let" | "var");
            if !(decl && self.is(i, name)) {
                return None;
            }
            // Skip a TypeScript annotation up to `=`.
            let eq = (i + 1..self.toks.len().min(i + 16)).find(|&j| self.is(j, "="))?;
            Some((eq + 1, self.value_end(eq + 1, self.toks.len())))
        })
    }

    /// The object a single identifier argument names (`new ModuleFederationPlugin(mfConfig)`).
    pub fn resolve_ident_object(&self, start: usize, end: usize) -> Option<usize> {
        let t = self.tok(start)?;
        if t.kind != Kind::Ident || !(self.is(end, ")") || self.is(end, ",")) || end != start + 1 {
            return None;
        }
        let range = self.resolve_ident(t.text(self.src), start)?;
        self.object_in(range)
    }

    /// The value a lone identifier was declared with (`remotes` in `{ remotes }`), else `value`.
    pub fn deref(&self, value: Range) -> Range {
        if value.1 == value.0 + 1
            && self.tok(value.0).is_some_and(|t| t.kind == Kind::Ident)
            && let Some(range) = self.resolve_ident(self.text(value.0), value.0)
            && range.1 > range.0
        {
            return range;
        }
        value
    }

    /// The properties of the object literal opening at token `open`.
    pub fn object_props(&self, open: usize) -> Vec<Prop> {
        let mut props = Vec::new();
        let Some(close) = self.close.get(open).copied().flatten() else {
            return props;
        };
        let mut i = open + 1;
        while i < close {
            let end = self.value_end(i, close);
            let Some(t) = self.tok(i).copied() else { break };
            let key = match t.kind {
                Kind::Ident | Kind::Num => Some(t.text(self.src).to_string()),
                Kind::Str => Some(scan::string_value(self.src, &t)),
                _ => None, // spread `...x`, computed `[k]`
            };
            if let Some(key) = key {
                if self.is(i + 1, ":") {
                    props.push(Prop {
                        key,
                        key_token: t,
                        value: (i + 2, end),
                    });
                } else if end == i + 1 && t.kind == Kind::Ident {
                    // Shorthand `{ remotes }`: the value is the identifier itself.
                    props.push(Prop {
                        key,
                        key_token: t,
                        value: (i, end),
                    });
                }
            }
            i = end + 1;
        }
        props
    }

    /// Index of the `,` ending a value that starts at `i` (or `limit`), skipping nested groups.
    pub fn value_end(&self, mut i: usize, limit: usize) -> usize {
        while i < limit {
            let Some(t) = self.tok(i) else { return limit };
            if t.kind == Kind::Punct {
                match t.text(self.src) {
                    "," | ";" => return i,
                    ")" | "]" | "}" => return i,
                    _ => {}
                }
            }
            i = match self.close.get(i).copied().flatten() {
                Some(c) => c + 1,
                None => i + 1,
            };
        }
        limit
    }

    /// A string value: a single string or template token (optionally `as const`).
    /// Returns the text, its content span and whether it has unresolved `${…}` parts.
    pub fn string_in(&self, value: Range) -> Option<(String, ByteSpan, bool)> {
        let t = self.tok(value.0)?;
        if value.1 != value.0 + 1 && !self.is(value.0 + 1, "as") {
            return None;
        }
        match t.kind {
            Kind::Str => Some((scan::string_value(self.src, t), self.span(t), false)),
            Kind::Template => {
                let (text, unresolved) = scan::template_value(self.src, t);
                Some((text, self.span(t), unresolved))
            }
            _ => None,
        }
    }

    pub fn bool_in(&self, value: Range) -> Option<bool> {
        if value.1 != value.0 + 1 {
            return None;
        }
        match self.text(value.0) {
            "true" => Some(true),
            "false" => Some(false),
            _ => None,
        }
    }

    /// The object literal a value evaluates to: `{…}`, `share({…})`, `() => ({…})`,
    /// `(isServer) => { return {…} }`, or a `const` holding one.
    pub fn object_in(&self, value: Range) -> Option<usize> {
        let (start, end) = value;
        if start >= end {
            return None;
        }
        if self.is(start, "{") && self.close.get(start).copied().flatten() == Some(end - 1) {
            return Some(start);
        }
        if end == start + 1 {
            let name = self.text(start);
            let range = self.resolve_ident(name, start)?;
            return if self.is(range.0, "{") {
                Some(range.0)
            } else {
                None
            };
        }
        // A wrapping call: `share({…})`, `defineConfig({…})`.
        if self.tok(start).is_some_and(|t| t.kind == Kind::Ident)
            && self.is(start + 1, "(")
            && self.is(start + 2, "{")
        {
            return Some(start + 2);
        }
        if let Some(arrow) = (start..end).find(|&i| self.is(i, "=>")) {
            if self.is(arrow + 1, "(") && self.is(arrow + 2, "{") {
                return Some(arrow + 2);
            }
            if self.is(arrow + 1, "{") {
                return self.returned_object(arrow + 1);
            }
            return None;
        }
        if self.is(start, "function")
            && let Some(body) = (start..end).find(|&i| self.is(i, "{"))
        {
            return self.returned_object(body);
        }
        None
    }

    /// The object in `return {…}` / `return ({…})` inside the block opening at `body`.
    pub fn returned_object(&self, body: usize) -> Option<usize> {
        let close = self.close.get(body).copied().flatten()?;
        let ret = (body..close).find(|&i| self.is(i, "return"))?;
        if self.is(ret + 1, "{") {
            Some(ret + 1)
        } else if self.is(ret + 1, "(") && self.is(ret + 2, "{") {
            Some(ret + 2)
        } else {
            None
        }
    }

    /// The element ranges of an array literal value.
    pub fn array_in(&self, value: Range) -> Option<Vec<Range>> {
        let (start, end) = value;
        if !self.is(start, "[") || self.close.get(start).copied().flatten() != Some(end - 1) {
            return None;
        }
        let close = end - 1;
        let mut items = Vec::new();
        let mut i = start + 1;
        while i < close {
            let item_end = self.value_end(i, close);
            if item_end > i {
                items.push((i, item_end));
            }
            i = item_end + 1;
        }
        Some(items)
    }

    /// The source text of a value range, trimmed.
    pub fn source(&self, value: Range) -> String {
        match (
            self.tok(value.0),
            value.1.checked_sub(1).and_then(|i| self.tok(i)),
        ) {
            (Some(first), Some(last)) => self
                .src
                .get(first.start..last.end)
                .unwrap_or("")
                .trim()
                .to_string(),
            _ => String::new(),
        }
    }
}
