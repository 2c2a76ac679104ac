//! Go `text/template` syntax as Helm charts use it: the text is cut into literal text and
//! `{{ }}` actions (with `{{-`/`-}}` trimming and `{{/* */}}` comments), actions are read into
//! pipelines, and `if`/`with`/`range`/`define` blocks are nested into a tree. Every node keeps
//! the 1-based line of the template it came from.

use std::collections::HashMap;

/// A syntax error, at a 1-based template line.
#[derive(Debug, Clone, PartialEq)]
pub struct SyntaxError {
    pub line: u32,
    pub message: String,
}

fn err<T>(line: u32, message: impl Into<String>) -> Result<T, SyntaxError> {
    Err(SyntaxError {
        line,
        message: message.into(),
    })
}

/// One node of a parsed template.
#[derive(Debug, Clone, PartialEq)]
pub enum Node {
    /// Literal text starting at `line`.
    Text { text: String, line: u32 },
    /// `{{ pipeline }}`: prints the value unless the pipeline declares a variable.
    Action { pipe: Pipe, line: u32 },
    /// `if`/`else if`/`else`.
    If {
        branches: Vec<(Pipe, Vec<Node>)>,
        otherwise: Vec<Node>,
        line: u32,
    },
    With {
        pipe: Pipe,
        body: Vec<Node>,
        otherwise: Vec<Node>,
        line: u32,
    },
    Range {
        pipe: Pipe,
        body: Vec<Node>,
        otherwise: Vec<Node>,
        line: u32,
    },
    /// `{{ template "name" pipeline }}`.
    Template {
        name: String,
        pipe: Option<Pipe>,
        line: u32,
    },
}

/// `[$a, $b :=] cmd | cmd …`
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Pipe {
    pub vars: Vec<String>,
    /// `:=` (declare) versus `=` (assign); meaningful only with `vars`.
    pub declare: bool,
    pub cmds: Vec<Vec<Operand>>,
}

/// One operand of a command.
#[derive(Debug, Clone, PartialEq)]
pub enum Operand {
    Str(String),
    Int(i64),
    Float(f64),
    Bool(bool),
    Nil,
    /// `.` followed by fields: `.` is `[]`, `.Values.x` is `["Values", "x"]`.
    Dot(Vec<String>),
    /// `$name.field…` (`$` alone is the root).
    Var(String, Vec<String>),
    /// A function name.
    Func(String),
    /// `( pipeline ).field…`
    Sub(Box<Pipe>, Vec<String>),
}

/// A parsed template file: its body and the `define`d templates it holds.
#[derive(Debug, Clone, Default)]
pub struct Parsed {
    pub body: Vec<Node>,
    pub defines: HashMap<String, Vec<Node>>,
}

/// Raw piece of a template: text or the inside of an action.
#[derive(Debug)]
enum Piece {
    Text(String, u32),
    Action(String, u32),
}

fn line_at(text: &str, offset: usize) -> u32 {
    let upto = text.get(..offset).unwrap_or(text);
    upto.bytes().filter(|b| *b == b'\n').count() as u32 + 1
}

/// End (exclusive, past `}}`) of the action whose inside starts at `from`, skipping quoted
/// strings and comments.
fn action_end(text: &str, from: usize) -> Option<(usize, usize)> {
    let bytes = text.as_bytes();
    let mut i = from;
    while i < bytes.len() {
        match bytes.get(i)? {
            b'"' => {
                i += 1;
                while i < bytes.len() && bytes.get(i) != Some(&b'"') {
                    if bytes.get(i) == Some(&b'\\') {
                        i += 1;
                    }
                    if bytes.get(i) == Some(&b'\n') {
                        return None;
                    }
                    i += 1;
                }
            }
            b'`' => {
                i += 1;
                while i < bytes.len() && bytes.get(i) != Some(&b'`') {
                    i += 1;
                }
            }
            b'\'' => {
                i += 1;
                while i < bytes.len() && bytes.get(i) != Some(&b'\'') {
                    if bytes.get(i) == Some(&b'\\') {
                        i += 1;
                    }
                    i += 1;
                }
            }
            b'/' if bytes.get(i + 1) == Some(&b'*') => {
                let close = text.get(i + 2..)?.find("*/")?;
                i += 2 + close + 1;
            }
            b'}' if bytes.get(i + 1) == Some(&b'}') => return Some((i, i + 2)),
            _ => {}
        }
        i += 1;
    }
    None
}

/// Line numbers of increasing offsets, counted once.
struct Lines<'a> {
    text: &'a str,
    offset: usize,
    line: u32,
}

impl Lines<'_> {
    fn at(&mut self, offset: usize) -> u32 {
        if offset < self.offset {
            return line_at(self.text, offset);
        }
        let seen = self.text.get(self.offset..offset).unwrap_or("");
        self.line += seen.bytes().filter(|b| *b == b'\n').count() as u32;
        self.offset = offset;
        self.line
    }
}

fn split(text: &str) -> Result<Vec<Piece>, SyntaxError> {
    let mut lines = Lines {
        text,
        offset: 0,
        line: 1,
    };
    let mut line_at = |_: &str, offset: usize| lines.at(offset);
    let mut pieces = Vec::new();
    let mut pos = 0;
    let mut trim_next = false;
    while pos <= text.len() {
        let rest = text.get(pos..).unwrap_or("");
        let Some(open) = rest.find("{{") else {
            let mut t = rest;
            if trim_next {
                t = t.trim_start();
            }
            if !t.is_empty() {
                pieces.push(Piece::Text(
                    t.to_string(),
                    line_at(text, text.len() - t.len()),
                ));
            }
            break;
        };
        let open = pos + open;
        let inner_start = open + 2;
        let trim_left = text
            .get(inner_start..)
            .is_some_and(|s| s.starts_with("- ") || s.starts_with("-\n") || s.starts_with("-\t"));
        let mut chunk = text.get(pos..open).unwrap_or("");
        let mut chunk_start = pos;
        if trim_next {
            let trimmed = chunk.trim_start();
            chunk_start += chunk.len() - trimmed.len();
            chunk = trimmed;
        }
        if trim_left {
            chunk = chunk.trim_end();
        }
        if !chunk.is_empty() {
            pieces.push(Piece::Text(chunk.to_string(), line_at(text, chunk_start)));
        }
        let line = line_at(text, open);
        let body_start = if trim_left {
            inner_start + 1
        } else {
            inner_start
        };
        let Some((close, after)) = action_end(text, body_start) else {
            return err(line, "unclosed action `{{`");
        };
        let mut body = text.get(body_start..close).unwrap_or("");
        trim_next = false;
        if let Some(before) = body.strip_suffix('-')
            && (before.is_empty() || before.ends_with(char::is_whitespace))
        {
            trim_next = true;
            body = before;
        }
        let body = body.trim();
        if !(body.starts_with("/*") && body.ends_with("*/")) {
            pieces.push(Piece::Action(body.to_string(), line));
        }
        pos = after;
    }
    Ok(pieces)
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Str(String),
    Int(i64),
    Float(f64),
    /// `.a.b` (empty for `.`).
    Field(Vec<String>),
    Var(String, Vec<String>),
    Ident(String),
    Open,
    /// `)` with the fields that follow it.
    Close(Vec<String>),
    Pipe,
    Declare,
    Assign,
    Comma,
}

fn fields(chars: &[char], i: &mut usize) -> Vec<String> {
    let mut out = Vec::new();
    while chars.get(*i) == Some(&'.') {
        let start = *i + 1;
        let mut j = start;
        while chars
            .get(j)
            .is_some_and(|c| c.is_alphanumeric() || *c == '_')
        {
            j += 1;
        }
        if j == start {
            break;
        }
        out.push(chars.get(start..j).unwrap_or(&[]).iter().collect());
        *i = j;
    }
    out
}

fn tokens(body: &str, line: u32) -> Result<Vec<Tok>, SyntaxError> {
    let chars: Vec<char> = body.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while let Some(&c) = chars.get(i) {
        match c {
            c if c.is_whitespace() => i += 1,
            '(' => {
                out.push(Tok::Open);
                i += 1;
            }
            ')' => {
                i += 1;
                out.push(Tok::Close(fields(&chars, &mut i)));
            }
            '|' => {
                out.push(Tok::Pipe);
                i += 1;
            }
            ',' => {
                out.push(Tok::Comma);
                i += 1;
            }
            ':' if chars.get(i + 1) == Some(&'=') => {
                out.push(Tok::Declare);
                i += 2;
            }
            '=' => {
                out.push(Tok::Assign);
                i += 1;
            }
            '"' => {
                let mut s = String::new();
                i += 1;
                loop {
                    match chars.get(i) {
                        None => return err(line, "unterminated string"),
                        Some('"') => break,
                        Some('\\') => {
                            i += 1;
                            match chars.get(i) {
                                Some('n') => s.push('\n'),
                                Some('t') => s.push('\t'),
                                Some('r') => s.push('\r'),
                                Some(&other) => s.push(other),
                                None => return err(line, "unterminated string"),
                            }
                        }
                        Some(&other) => s.push(other),
                    }
                    i += 1;
                }
                i += 1;
                out.push(Tok::Str(s));
            }
            '`' => {
                let start = i + 1;
                let mut j = start;
                while chars.get(j).is_some_and(|c| *c != '`') {
                    j += 1;
                }
                if j >= chars.len() {
                    return err(line, "unterminated raw string");
                }
                out.push(Tok::Str(
                    chars.get(start..j).unwrap_or(&[]).iter().collect(),
                ));
                i = j + 1;
            }
            '\'' => {
                let ch = chars.get(i + 1).copied().unwrap_or('\0');
                out.push(Tok::Int(ch as i64));
                i += 3;
            }
            '.' => {
                let fs = fields(&chars, &mut i);
                if fs.is_empty() {
                    i += 1;
                }
                out.push(Tok::Field(fs));
            }
            '$' => {
                let start = i;
                i += 1;
                while chars
                    .get(i)
                    .is_some_and(|c| c.is_alphanumeric() || *c == '_')
                {
                    i += 1;
                }
                let name: String = chars.get(start..i).unwrap_or(&[]).iter().collect();
                out.push(Tok::Var(name, fields(&chars, &mut i)));
            }
            c if c.is_ascii_digit()
                || ((c == '-' || c == '+')
                    && chars.get(i + 1).is_some_and(|d| d.is_ascii_digit())) =>
            {
                let start = i;
                i += 1;
                while chars
                    .get(i)
                    .is_some_and(|c| c.is_ascii_alphanumeric() || *c == '.' || *c == '_')
                {
                    i += 1;
                }
                let s: String = chars.get(start..i).unwrap_or(&[]).iter().collect();
                let s = s.replace('_', "");
                if let Ok(n) = s.parse::<i64>() {
                    out.push(Tok::Int(n));
                } else if let Some(hex) = s.strip_prefix("0x")
                    && let Ok(n) = i64::from_str_radix(hex, 16)
                {
                    out.push(Tok::Int(n));
                } else if let Ok(f) = s.parse::<f64>() {
                    out.push(Tok::Float(f));
                } else {
                    return err(line, format!("bad number `{s}`"));
                }
            }
            c if c.is_alphabetic() || c == '_' => {
                let start = i;
                while chars
                    .get(i)
                    .is_some_and(|c| c.is_alphanumeric() || *c == '_')
                {
                    i += 1;
                }
                out.push(Tok::Ident(
                    chars.get(start..i).unwrap_or(&[]).iter().collect(),
                ));
            }
            other => return err(line, format!("unexpected `{other}` in action")),
        }
    }
    Ok(out)
}

struct PipeParser<'a> {
    toks: &'a [Tok],
    pos: usize,
    line: u32,
    depth: usize,
}

impl PipeParser<'_> {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.pos)
    }

    fn pipe(&mut self, nested: bool) -> Result<Pipe, SyntaxError> {
        let mut pipe = Pipe::default();
        // Variable declaration: `$a :=`, `$a, $b :=`, `$a =`.
        let mut look = self.pos;
        let mut vars = Vec::new();
        while let Some(Tok::Var(name, fs)) = self.toks.get(look) {
            if !fs.is_empty() {
                break;
            }
            vars.push(name.clone());
            look += 1;
            match self.toks.get(look) {
                Some(Tok::Comma) => look += 1,
                Some(Tok::Declare) | Some(Tok::Assign) => {
                    pipe.declare = self.toks.get(look) == Some(&Tok::Declare);
                    pipe.vars = std::mem::take(&mut vars);
                    self.pos = look + 1;
                    break;
                }
                _ => break,
            }
        }
        loop {
            let mut cmd = Vec::new();
            loop {
                match self.peek() {
                    None => break,
                    Some(Tok::Pipe) => break,
                    Some(Tok::Close(_)) if nested => break,
                    _ => cmd.push(self.operand()?),
                }
            }
            if cmd.is_empty() {
                return err(self.line, "missing command in pipeline");
            }
            pipe.cmds.push(cmd);
            if self.peek() == Some(&Tok::Pipe) {
                self.pos += 1;
                continue;
            }
            break;
        }
        Ok(pipe)
    }

    fn operand(&mut self) -> Result<Operand, SyntaxError> {
        let Some(tok) = self.toks.get(self.pos).cloned() else {
            return err(self.line, "missing operand");
        };
        self.pos += 1;
        Ok(match tok {
            Tok::Str(s) => Operand::Str(s),
            Tok::Int(n) => Operand::Int(n),
            Tok::Float(f) => Operand::Float(f),
            Tok::Field(fs) => Operand::Dot(fs),
            Tok::Var(name, fs) => Operand::Var(name, fs),
            Tok::Ident(name) => match name.as_str() {
                "true" => Operand::Bool(true),
                "false" => Operand::Bool(false),
                "nil" => Operand::Nil,
                _ => Operand::Func(name),
            },
            Tok::Open => {
                if self.depth >= MAX_NESTING {
                    return err(self.line, "parentheses nested too deep");
                }
                self.depth += 1;
                let inner = self.pipe(true)?;
                self.depth -= 1;
                let Some(Tok::Close(fs)) = self.toks.get(self.pos).cloned() else {
                    return err(self.line, "unclosed `(`");
                };
                self.pos += 1;
                Operand::Sub(Box::new(inner), fs)
            }
            other => return err(self.line, format!("unexpected {other:?}")),
        })
    }
}

/// Parses a pipeline from the text of an action.
pub fn parse_pipe(body: &str, line: u32) -> Result<Pipe, SyntaxError> {
    let toks = tokens(body, line)?;
    let mut p = PipeParser {
        toks: &toks,
        pos: 0,
        line,
        depth: 0,
    };
    let pipe = p.pipe(false)?;
    if p.pos < toks.len() {
        return err(line, "unexpected `)`");
    }
    Ok(pipe)
}

/// Keyword of an action and the rest of its text.
fn keyword(body: &str) -> (&str, &str) {
    let end = body
        .find(|c: char| !(c.is_alphanumeric() || c == '_'))
        .unwrap_or(body.len());
    let word = body.get(..end).unwrap_or("");
    match word {
        "if" | "else" | "end" | "range" | "with" | "define" | "template" | "block" | "break"
        | "continue" => (word, body.get(end..).unwrap_or("").trim()),
        _ => ("", body),
    }
}

fn name_and_rest(rest: &str, line: u32) -> Result<(String, &str), SyntaxError> {
    let toks_end = rest
        .char_indices()
        .skip(1)
        .find(|(_, c)| *c == '"' || *c == '`')
        .map(|(i, _)| i + 1)
        .unwrap_or(0);
    match tokens(rest.get(..toks_end).unwrap_or(""), line)?.first() {
        Some(Tok::Str(s)) => Ok((s.clone(), rest.get(toks_end..).unwrap_or("").trim())),
        _ => err(line, "template name must be a string"),
    }
}

/// What ended a list of nodes.
enum Stop {
    Eof,
    End,
    Else(String, u32),
}

/// Blocks or parentheses nested deeper than this are refused (hostile input, stack safety).
const MAX_NESTING: usize = 100;

struct TreeParser {
    pieces: std::vec::IntoIter<Piece>,
    defines: HashMap<String, Vec<Node>>,
    depth: usize,
}

impl TreeParser {
    fn list(&mut self) -> Result<(Vec<Node>, Stop), SyntaxError> {
        self.depth += 1;
        let result = self.list_inner();
        self.depth -= 1;
        result
    }

    fn list_inner(&mut self) -> Result<(Vec<Node>, Stop), SyntaxError> {
        if self.depth > MAX_NESTING {
            return err(0, "blocks nested too deep");
        }
        let mut nodes = Vec::new();
        while let Some(piece) = self.pieces.next() {
            let (body, line) = match piece {
                Piece::Text(text, line) => {
                    nodes.push(Node::Text { text, line });
                    continue;
                }
                Piece::Action(body, line) => (body, line),
            };
            let (kw, rest) = keyword(&body);
            match kw {
                "" => {
                    if body.is_empty() {
                        return err(line, "empty action");
                    }
                    nodes.push(Node::Action {
                        pipe: parse_pipe(rest, line)?,
                        line,
                    });
                }
                "end" => return Ok((nodes, Stop::End)),
                "else" => return Ok((nodes, Stop::Else(rest.to_string(), line))),
                "if" => nodes.push(self.if_chain(rest, line)?),
                "with" | "range" => {
                    let pipe = parse_pipe(rest, line)?;
                    let (body, otherwise) = self.body_else(line)?;
                    nodes.push(if kw == "with" {
                        Node::With {
                            pipe,
                            body,
                            otherwise,
                            line,
                        }
                    } else {
                        Node::Range {
                            pipe,
                            body,
                            otherwise,
                            line,
                        }
                    });
                }
                "define" | "block" => {
                    let (name, rest) = name_and_rest(rest, line)?;
                    let (body, stop) = self.list()?;
                    if !matches!(stop, Stop::End) {
                        return err(line, format!("`{kw} \"{name}\"` has no `end`"));
                    }
                    if kw == "block" {
                        let pipe = if rest.is_empty() {
                            None
                        } else {
                            Some(parse_pipe(rest, line)?)
                        };
                        nodes.push(Node::Template {
                            name: name.clone(),
                            pipe,
                            line,
                        });
                        self.defines.entry(name).or_insert(body);
                    } else {
                        self.defines.insert(name, body);
                    }
                }
                "template" => {
                    let (name, rest) = name_and_rest(rest, line)?;
                    let pipe = if rest.is_empty() {
                        None
                    } else {
                        Some(parse_pipe(rest, line)?)
                    };
                    nodes.push(Node::Template { name, pipe, line });
                }
                other => return err(line, format!("`{other}` is not supported")),
            }
        }
        Ok((nodes, Stop::Eof))
    }

    /// The body of a `with`/`range` and its optional `else` part.
    fn body_else(&mut self, line: u32) -> Result<(Vec<Node>, Vec<Node>), SyntaxError> {
        let (body, stop) = self.list()?;
        match stop {
            Stop::End => Ok((body, Vec::new())),
            Stop::Else(rest, else_line) if rest.is_empty() => {
                let (otherwise, stop) = self.list()?;
                if !matches!(stop, Stop::End) {
                    return err(else_line, "`else` without `end`");
                }
                Ok((body, otherwise))
            }
            Stop::Else(_, else_line) => err(else_line, "only `else` may follow here"),
            Stop::Eof => err(line, "block without `end`"),
        }
    }

    fn if_chain(&mut self, cond: &str, line: u32) -> Result<Node, SyntaxError> {
        let mut branches = vec![(parse_pipe(cond, line)?, Vec::new())];
        loop {
            let (body, stop) = self.list()?;
            if let Some(last) = branches.last_mut() {
                last.1 = body;
            }
            match stop {
                Stop::End => {
                    return Ok(Node::If {
                        branches,
                        otherwise: Vec::new(),
                        line,
                    });
                }
                Stop::Eof => return err(line, "`if` without `end`"),
                Stop::Else(rest, else_line) => {
                    if rest.is_empty() {
                        let (otherwise, stop) = self.list()?;
                        if !matches!(stop, Stop::End) {
                            return err(else_line, "`else` without `end`");
                        }
                        return Ok(Node::If {
                            branches,
                            otherwise,
                            line,
                        });
                    }
                    let Some(cond) = rest.strip_prefix("if") else {
                        return err(else_line, format!("`else {rest}` is not supported"));
                    };
                    branches.push((parse_pipe(cond.trim(), else_line)?, Vec::new()));
                }
            }
        }
    }
}

/// Parses a whole template file.
pub fn parse(text: &str) -> Result<Parsed, SyntaxError> {
    let pieces = split(text)?;
    let mut parser = TreeParser {
        pieces: pieces.into_iter(),
        defines: HashMap::new(),
        depth: 0,
    };
    let (body, stop) = parser.list()?;
    match stop {
        Stop::Eof => Ok(Parsed {
            body,
            defines: parser.defines,
        }),
        Stop::End => err(line_of_stop(text), "unexpected `end`"),
        Stop::Else(_, line) => err(line, "unexpected `else`"),
    }
}

fn line_of_stop(text: &str) -> u32 {
    text.find("end").map(|i| line_at(text, i)).unwrap_or(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_text_and_actions_with_trimming() {
        let p = parse("a: 1\n  {{- .Values.x -}}  \nb").unwrap();
        assert_eq!(p.body.len(), 3);
        assert_eq!(
            p.body[0],
            Node::Text {
                text: "a: 1".into(),
                line: 1
            }
        );
        assert!(matches!(&p.body[1], Node::Action { line: 2, .. }));
        assert_eq!(
            p.body[2],
            Node::Text {
                text: "b".into(),
                line: 3
            }
        );
    }

    #[test]
    fn comments_vanish() {
        let p = parse("{{/* a }} comment */}}x{{- /* trimmed */ -}}\n y").unwrap();
        assert_eq!(
            p.body,
            vec![
                Node::Text {
                    text: "x".into(),
                    line: 1
                },
                Node::Text {
                    text: "y".into(),
                    line: 2
                }
            ]
        );
    }

    #[test]
    fn pipelines_and_declarations() {
        let pipe = parse_pipe("$a, $b := .Values.x | default \"y\" | quote", 1).unwrap();
        assert_eq!(pipe.vars, vec!["$a", "$b"]);
        assert!(pipe.declare);
        assert_eq!(pipe.cmds.len(), 3);
        assert_eq!(
            pipe.cmds[0],
            vec![Operand::Dot(vec!["Values".into(), "x".into()])]
        );
        let sub = parse_pipe("(include \"x\" .).a -1 2.5", 1).unwrap();
        assert!(matches!(&sub.cmds[0][0], Operand::Sub(_, f) if f == &["a".to_string()]));
        assert_eq!(sub.cmds[0][1], Operand::Int(-1));
        assert_eq!(sub.cmds[0][2], Operand::Float(2.5));
    }

    #[test]
    fn blocks_nest_and_defines_are_collected() {
        let text = "{{ define \"n\" }}N{{ end }}{{ if .a }}A{{ else if .b }}B{{ else }}C{{ end }}{{ range $i, $v := .l }}{{ $v }}{{ else }}none{{ end }}";
        let p = parse(text).unwrap();
        assert!(p.defines.contains_key("n"));
        assert!(
            matches!(&p.body[0], Node::If { branches, otherwise, .. } if branches.len() == 2 && otherwise.len() == 1)
        );
        assert!(
            matches!(&p.body[1], Node::Range { pipe, otherwise, .. } if pipe.vars.len() == 2 && otherwise.len() == 1)
        );
    }

    #[test]
    fn syntax_errors_have_lines() {
        assert_eq!(parse("a\n{{ if .x }}\nb").unwrap_err().line, 2);
        assert_eq!(parse("a\n\n{{ .x ").unwrap_err().line, 3);
        assert!(parse("{{ end }}").is_err());
        assert!(parse("{{ \"open }}").is_err());
        assert!(parse("{{ .a | }}").is_err());
        assert!(parse("{{ (.a }}").is_err());
        assert!(parse(&"{{ if 1 }}".repeat(100_000)).is_err());
        assert!(parse(&format!("{{{{ {} }}}}", "(".repeat(100_000))).is_err());
    }
}
