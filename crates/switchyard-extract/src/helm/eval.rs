//! Evaluates a parsed template against a context value, keeping for every rendered line the
//! template line that produced it. A failed action in the top-level template is recorded (with
//! its rendered line) and rendering goes on, so the caller can drop only the document it broke;
//! inside `include`/`template`/`tpl` a failure fails the calling action.

use super::funcs;
use super::parse::{Node, Operand, Pipe};
use super::value::Value;
use std::collections::HashMap;

/// Nested `include`s deeper than this fail (recursive defines).
const MAX_DEPTH: usize = 64;
/// Rendered text longer than this fails (runaway `range`/`include`).
const MAX_OUTPUT: usize = 4 << 20;

/// A failed evaluation: the template line of the action and what failed.
#[derive(Debug, Clone, PartialEq)]
pub struct EvalError {
    pub line: u32,
    pub message: String,
}

/// Rendered text with its line map and the failures met.
#[derive(Debug, Clone, Default)]
pub struct Output {
    pub text: String,
    /// Per rendered line (0-based index): the 1-based template line it came from.
    pub lines: Vec<u32>,
    /// Failed actions: rendered line index where they would have printed, and the error.
    pub errors: Vec<(usize, EvalError)>,
    at_line_start: bool,
    blank: bool,
    newlines: usize,
    /// Whether failures are recorded (top level) or returned (inside `include`).
    record: bool,
}

impl Output {
    fn new(record: bool) -> Self {
        Output {
            at_line_start: true,
            record,
            ..Output::default()
        }
    }

    /// Appends `s`, produced at template `line`; literal text (`advance`) moves down the
    /// template with its own newlines.
    fn push(&mut self, s: &str, mut line: u32, advance: bool) -> Result<(), String> {
        if self.text.len() + s.len() > MAX_OUTPUT {
            return Err("rendered output too large".to_string());
        }
        for c in s.chars() {
            if self.at_line_start {
                self.lines.push(line);
                self.blank = true;
                self.at_line_start = false;
            }
            if self.blank && !c.is_whitespace() {
                if let Some(last) = self.lines.last_mut() {
                    *last = line;
                }
                self.blank = false;
            }
            self.text.push(c);
            if c == '\n' {
                self.newlines += 1;
                self.at_line_start = true;
                if advance {
                    line += 1;
                }
            }
        }
        Ok(())
    }

    fn current_line(&self) -> usize {
        self.newlines
    }
}

/// Evaluation steps (nodes and commands) one render may take (runaway nested `range`s).
const MAX_STEPS: u64 = 2_000_000;

/// What rendering needs besides the nodes: the chart's named templates and the root context.
pub struct Env<'a> {
    pub defines: &'a HashMap<String, Vec<Node>>,
    pub root: Value,
    steps: std::cell::Cell<u64>,
}

impl<'a> Env<'a> {
    pub fn new(defines: &'a HashMap<String, Vec<Node>>, root: Value) -> Self {
        Env {
            defines,
            root,
            steps: std::cell::Cell::new(0),
        }
    }

    fn step(&self) -> Result<(), String> {
        let n = self.steps.get() + 1;
        self.steps.set(n);
        if n > MAX_STEPS {
            Err("template takes too many steps".to_string())
        } else {
            Ok(())
        }
    }
}

struct Frame<'e, 'a> {
    env: &'e Env<'a>,
    vars: Vec<(String, Value)>,
    depth: usize,
}

/// Renders a template body with `.` = `dot`, recording failures.
pub fn render(env: &Env<'_>, body: &[Node], dot: &Value) -> Output {
    let mut frame = Frame {
        env,
        vars: vec![("$".to_string(), env.root.clone())],
        depth: 0,
    };
    let mut out = Output::new(true);
    if let Err(e) = frame.list(body, dot, &mut out) {
        let at = out.current_line();
        out.errors.push((at, e));
    }
    out
}

impl Frame<'_, '_> {
    fn fail(&self, out: &mut Output, line: u32, message: String) -> Result<(), EvalError> {
        let e = EvalError { line, message };
        if out.record {
            let at = out.current_line();
            out.errors.push((at, e));
            Ok(())
        } else {
            Err(e)
        }
    }

    fn list(&mut self, nodes: &[Node], dot: &Value, out: &mut Output) -> Result<(), EvalError> {
        for node in nodes {
            self.node(node, dot, out)?;
        }
        Ok(())
    }

    /// Runs `body` in its own variable scope.
    fn scoped(&mut self, nodes: &[Node], dot: &Value, out: &mut Output) -> Result<(), EvalError> {
        let mark = self.vars.len();
        let result = self.list(nodes, dot, out);
        self.vars.truncate(mark);
        result
    }

    fn node(&mut self, node: &Node, dot: &Value, out: &mut Output) -> Result<(), EvalError> {
        if let Err(message) = self.env.step() {
            // Past the budget every node fails: stop here whatever the mode.
            return Err(EvalError { line: 0, message });
        }
        match node {
            Node::Text { text, line } => out.push(text, *line, true).map_err(|message| EvalError {
                line: *line,
                message,
            }),
            Node::Action { pipe, line } => match self.pipe_decl(pipe, dot) {
                Ok(Some(v)) => {
                    let text = v.render();
                    out.push(&text, *line, false).map_err(|message| EvalError {
                        line: *line,
                        message,
                    })
                }
                Ok(None) => Ok(()),
                Err(m) => self.fail(out, *line, m),
            },
            Node::If {
                branches,
                otherwise,
                line,
            } => {
                for (cond, body) in branches {
                    match self.pipe_value(cond, dot) {
                        Ok(v) if v.truthy() => return self.scoped(body, dot, out),
                        Ok(_) => {}
                        Err(m) => return self.fail(out, *line, m),
                    }
                }
                self.scoped(otherwise, dot, out)
            }
            Node::With {
                pipe,
                body,
                otherwise,
                line,
            } => {
                let mark = self.vars.len();
                let result = match self.pipe_decl_value(pipe, dot) {
                    Ok(v) if v.truthy() => self.list(body, &v, out),
                    Ok(_) => self.list(otherwise, dot, out),
                    Err(m) => self.fail(out, *line, m),
                };
                self.vars.truncate(mark);
                result
            }
            Node::Range {
                pipe,
                body,
                otherwise,
                line,
            } => self.range(pipe, body, otherwise, *line, dot, out),
            Node::Template { name, pipe, line } => {
                let arg = match pipe {
                    Some(p) => match self.pipe_value(p, dot) {
                        Ok(v) => v,
                        Err(m) => return self.fail(out, *line, m),
                    },
                    None => Value::Null,
                };
                match self.include(name, &arg) {
                    Ok(text) => out.push(&text, *line, false).map_err(|message| EvalError {
                        line: *line,
                        message,
                    }),
                    Err(m) => self.fail(out, *line, m),
                }
            }
        }
    }

    fn range(
        &mut self,
        pipe: &Pipe,
        body: &[Node],
        otherwise: &[Node],
        line: u32,
        dot: &Value,
        out: &mut Output,
    ) -> Result<(), EvalError> {
        let plain = Pipe {
            vars: Vec::new(),
            declare: false,
            cmds: pipe.cmds.clone(),
        };
        let over = match self.pipe_value(&plain, dot) {
            Ok(v) => v,
            Err(m) => return self.fail(out, line, m),
        };
        let items: Vec<(Value, Value)> = match over {
            Value::List(l) => l
                .into_iter()
                .enumerate()
                .map(|(i, v)| (Value::Int(i as i64), v))
                .collect(),
            Value::Map(m) => m.into_iter().map(|(k, v)| (Value::Str(k), v)).collect(),
            Value::Int(n) => (0..n.clamp(0, 100_000))
                .map(|i| (Value::Int(i), Value::Int(i)))
                .collect(),
            Value::Null => Vec::new(),
            other => {
                return self.fail(
                    out,
                    line,
                    format!("range can't iterate over a {}", other.type_name()),
                );
            }
        };
        if items.is_empty() {
            return self.scoped(otherwise, dot, out);
        }
        for (key, value) in items {
            if let Err(message) = self.env.step() {
                return Err(EvalError { line, message });
            }
            let mark = self.vars.len();
            match pipe.vars.as_slice() {
                [] => {}
                [v] => self.vars.push((v.clone(), value.clone())),
                [k, v, ..] => {
                    self.vars.push((k.clone(), key));
                    self.vars.push((v.clone(), value.clone()));
                }
            }
            let result = self.list(body, &value, out);
            self.vars.truncate(mark);
            result?;
        }
        Ok(())
    }

    /// Evaluates a pipeline; with declared variables, binds them and prints nothing.
    fn pipe_decl(&mut self, pipe: &Pipe, dot: &Value) -> Result<Option<Value>, String> {
        let v = self.pipe_value(pipe, dot)?;
        if pipe.vars.is_empty() {
            return Ok(Some(v));
        }
        self.bind(pipe, v)?;
        Ok(None)
    }

    /// Evaluates a pipeline, binding its variables, and returns the value (for `with`).
    fn pipe_decl_value(&mut self, pipe: &Pipe, dot: &Value) -> Result<Value, String> {
        let v = self.pipe_value(pipe, dot)?;
        if !pipe.vars.is_empty() {
            self.bind(pipe, v.clone())?;
        }
        Ok(v)
    }

    fn bind(&mut self, pipe: &Pipe, v: Value) -> Result<(), String> {
        for name in &pipe.vars {
            if pipe.declare {
                self.vars.push((name.clone(), v.clone()));
            } else {
                let slot = self
                    .vars
                    .iter_mut()
                    .rev()
                    .find(|(n, _)| n == name)
                    .ok_or_else(|| format!("undefined variable `{name}`"))?;
                slot.1 = v.clone();
            }
        }
        Ok(())
    }

    fn pipe_value(&mut self, pipe: &Pipe, dot: &Value) -> Result<Value, String> {
        let mut piped: Option<Value> = None;
        for cmd in &pipe.cmds {
            piped = Some(self.command(cmd, dot, piped)?);
        }
        Ok(piped.unwrap_or_default())
    }

    fn command(
        &mut self,
        cmd: &[Operand],
        dot: &Value,
        piped: Option<Value>,
    ) -> Result<Value, String> {
        self.env.step()?;
        let Some((first, rest)) = cmd.split_first() else {
            return Err("empty command".to_string());
        };
        if let Some(v) = self.method(first, rest, dot)? {
            return Ok(v);
        }
        let Operand::Func(name) = first else {
            if !rest.is_empty() || piped.is_some() {
                return Err("can't give an argument to a non-function".to_string());
            }
            return self.operand(first, dot);
        };
        // `and`/`or` stop at the first deciding argument, as in Go.
        if matches!(name.as_str(), "and" | "or") && piped.is_none() {
            let mut last = Value::Null;
            for arg in rest {
                last = self.operand(arg, dot)?;
                if last.truthy() == (name == "or") {
                    return Ok(last);
                }
            }
            return Ok(last);
        }
        let mut args = Vec::with_capacity(rest.len() + 1);
        for arg in rest {
            args.push(self.operand(arg, dot)?);
        }
        if let Some(p) = piped {
            args.push(p);
        }
        self.call(name, args)
    }

    /// The methods of Helm's built-in objects that charts call: `.Capabilities.APIVersions.Has`
    /// (true for the built-in API groups, false for custom resources) and `.Files.Get`
    /// (files are not read: empty).
    fn method(
        &mut self,
        first: &Operand,
        rest: &[Operand],
        dot: &Value,
    ) -> Result<Option<Value>, String> {
        let fields = match first {
            Operand::Dot(f) | Operand::Var(_, f) => f,
            _ => return Ok(None),
        };
        let tail: Vec<&str> = fields.iter().rev().take(2).map(String::as_str).collect();
        match tail.as_slice() {
            ["Has", "APIVersions"] => {
                let arg = match rest.first() {
                    Some(op) => self.operand(op, dot)?.render(),
                    None => String::new(),
                };
                let group = arg.split('/').next().unwrap_or("");
                let builtin = arg.matches('/').count() <= 2
                    && (!group.contains('.') || group.ends_with(".k8s.io"));
                Ok(Some(Value::Bool(builtin)))
            }
            ["Get" | "Glob" | "AsConfig" | "AsSecrets", "Files"] => {
                Ok(Some(Value::Str(String::new())))
            }
            _ => Ok(None),
        }
    }

    fn call(&mut self, name: &str, args: Vec<Value>) -> Result<Value, String> {
        match name {
            "include" => {
                let [Value::Str(template), ctx] = args.as_slice() else {
                    return Err("include takes a name and a context".to_string());
                };
                self.include(template, ctx).map(Value::Str)
            }
            "tpl" => {
                let [Value::Str(text), ctx] = args.as_slice() else {
                    return Err("tpl takes a string and a context".to_string());
                };
                let parsed =
                    super::parse::parse(text).map_err(|e| format!("tpl: {}", e.message))?;
                self.nested(&parsed.body, ctx).map(Value::Str)
            }
            _ => funcs::call(name, args),
        }
    }

    fn include(&mut self, name: &str, ctx: &Value) -> Result<String, String> {
        let body = self
            .env
            .defines
            .get(name)
            .ok_or_else(|| format!("no template named \"{name}\""))?;
        self.nested(body, ctx)
            .map_err(|m| format!("in \"{name}\": {m}"))
    }

    fn nested(&mut self, body: &[Node], ctx: &Value) -> Result<String, String> {
        if self.depth >= MAX_DEPTH {
            return Err("templates nest too deep".to_string());
        }
        let mut inner = Frame {
            env: self.env,
            vars: vec![("$".to_string(), ctx.clone())],
            depth: self.depth + 1,
        };
        let mut out = Output::new(false);
        inner.list(body, ctx, &mut out).map_err(|e| e.message)?;
        Ok(out.text)
    }

    fn operand(&mut self, op: &Operand, dot: &Value) -> Result<Value, String> {
        Ok(match op {
            Operand::Str(s) => Value::Str(s.clone()),
            Operand::Int(n) => Value::Int(*n),
            Operand::Float(f) => Value::Float(*f),
            Operand::Bool(b) => Value::Bool(*b),
            Operand::Nil => Value::Null,
            Operand::Dot(fields) => walk(dot, fields),
            Operand::Var(name, fields) => {
                let v = self
                    .vars
                    .iter()
                    .rev()
                    .find(|(n, _)| n == name)
                    .map(|(_, v)| v)
                    .ok_or_else(|| format!("undefined variable `{name}`"))?;
                walk(v, fields)
            }
            Operand::Func(name) => self.call(name, Vec::new())?,
            Operand::Sub(pipe, fields) => {
                let v = self.pipe_value(pipe, dot)?;
                walk(&v, fields)
            }
        })
    }
}

fn walk(v: &Value, fields: &[String]) -> Value {
    let mut cur = v.clone();
    for f in fields {
        cur = cur.field(f);
    }
    cur
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::helm::parse::parse;
    use crate::yaml;

    fn ctx(values: &str) -> Value {
        let values = Value::from_yaml(&yaml::parse(values).unwrap().unwrap());
        let mut root = std::collections::BTreeMap::new();
        root.insert("Values".to_string(), values);
        let mut release = std::collections::BTreeMap::new();
        release.insert("Name".to_string(), Value::Str("rel".into()));
        root.insert("Release".to_string(), Value::Map(release));
        Value::Map(root)
    }

    fn run(template: &str, values: &str) -> Output {
        let parsed = parse(template).unwrap();
        let env = Env::new(&parsed.defines, ctx(values));
        render(&env, &parsed.body, &env.root)
    }

    fn text(template: &str, values: &str) -> String {
        let out = run(template, values);
        assert!(out.errors.is_empty(), "{:?}", out.errors);
        out.text
    }

    #[test]
    fn values_and_trimming() {
        assert_eq!(text("a: {{ .Values.x }}\n", "x: 1"), "a: 1\n");
        assert_eq!(
            text(
                "a:\n  {{- if .Values.on }}\n  b: 1\n  {{- end }}\n",
                "on: true"
            ),
            "a:\n  b: 1\n"
        );
        assert_eq!(
            text(
                "a:\n  {{- if .Values.on }}\n  b: 1\n  {{- end }}\n",
                "on: false"
            ),
            "a:\n"
        );
        assert_eq!(text("{{ .Values.missing.deep }}", "x: 1"), "");
        assert_eq!(
            text("{{ .Release.Name }}-{{ $.Values.x }}", "x: y"),
            "rel-y"
        );
    }

    #[test]
    fn else_if_chains() {
        let t = "{{ if eq .Values.k \"a\" }}A{{ else if eq .Values.k \"b\" }}B{{ else }}C{{ end }}";
        assert_eq!(text(t, "k: a"), "A");
        assert_eq!(text(t, "k: b"), "B");
        assert_eq!(text(t, "k: c"), "C");
    }

    #[test]
    fn with_and_range() {
        assert_eq!(
            text(
                "{{ with .Values.img }}{{ .repo }}:{{ .tag }}{{ else }}none{{ end }}",
                "img: {repo: r, tag: t}"
            ),
            "r:t"
        );
        assert_eq!(
            text("{{ with .Values.img }}x{{ else }}none{{ end }}", "a: 1"),
            "none"
        );
        assert_eq!(
            text("{{ range .Values.l }}[{{ . }}]{{ end }}", "l: [a, b]"),
            "[a][b]"
        );
        assert_eq!(
            text(
                "{{ range $i, $v := .Values.l }}{{ $i }}={{ $v }};{{ end }}",
                "l: [a, b]"
            ),
            "0=a;1=b;"
        );
        assert_eq!(
            text(
                "{{ range $k, $v := .Values.m }}{{ $k }}={{ $v }};{{ end }}",
                "m: {b: 2, a: 1}"
            ),
            "a=1;b=2;"
        );
        assert_eq!(
            text("{{ range .Values.none }}x{{ else }}empty{{ end }}", "a: 1"),
            "empty"
        );
        assert!(
            !run("{{ range .Values.s }}x{{ end }}", "s: str")
                .errors
                .is_empty()
        );
    }

    #[test]
    fn variables_declare_and_assign() {
        assert_eq!(
            text("{{ $x := .Values.a }}{{ $x = \"z\" }}{{ $x }}", "a: 1"),
            "z"
        );
        assert_eq!(
            text(
                "{{ range .Values.l }}{{ $.Values.p }}{{ . }}{{ end }}",
                "l: [1]\np: '>'"
            ),
            ">1"
        );
        assert!(!run("{{ $nope }}", "a: 1").errors.is_empty());
    }

    #[test]
    fn include_and_template_use_defines() {
        let t = "{{- define \"name\" -}}{{ .Release.Name }}-app{{- end -}}\nname: {{ include \"name\" . }}\n{{ template \"name\" . }}";
        assert_eq!(text(t, "a: 1"), "name: rel-app\nrel-app");
        let out = run("a: {{ include \"missing\" . }}\n", "a: 1");
        assert_eq!(out.errors.len(), 1);
        assert!(out.errors[0].1.message.contains("missing"));
        let looped = run(
            "{{ define \"l\" }}{{ include \"l\" . }}{{ end }}{{ include \"l\" . }}",
            "a: 1",
        );
        assert!(looped.errors[0].1.message.contains("too deep"));
        let runaway = run(
            "{{ range 100000 }}{{ range 100000 }}{{ end }}{{ end }}x",
            "a: 1",
        );
        assert!(runaway.errors[0].1.message.contains("too many steps"));
    }

    #[test]
    fn and_or_short_circuit() {
        assert_eq!(
            text(
                "{{ if and .Values.a (required \"x\" .Values.b) }}y{{ else }}n{{ end }}",
                "a: false"
            ),
            "n"
        );
        assert_eq!(text("{{ or .Values.a \"d\" }}", "a: ''"), "d");
    }

    #[test]
    fn line_map_points_at_template_lines() {
        let out = run(
            "a: 1\n{{- if true }}\nb: {{ .Values.x }}\n{{- end }}\nc: |\n  {{- include \"m\" . | nindent 2 }}\n{{ define \"m\" }}x\ny{{ end }}",
            "x: 2",
        );
        assert_eq!(out.text, "a: 1\nb: 2\nc: |\n  x\n  y\n");
        assert_eq!(out.lines, vec![1, 3, 5, 6, 6]);
    }

    #[test]
    fn failures_are_recorded_with_their_rendered_line() {
        let out = run(
            "a: 1\n---\nb: {{ required \"b is required\" .Values.b }}\n",
            "x: 1",
        );
        assert_eq!(out.errors.len(), 1);
        assert_eq!(out.errors[0].0, 2);
        assert_eq!(out.errors[0].1.line, 3);
        assert!(out.errors[0].1.message.contains("b is required"));
        let unknown = run("{{ frobnicate 1 }}", "x: 1");
        assert!(unknown.errors[0].1.message.contains("frobnicate"));
    }
}
