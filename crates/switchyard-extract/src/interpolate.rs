//! Compose-style `${VAR}` interpolation over an explicit variable map (never the process
//! environment, so analysis stays deterministic). Pure: text in, value and problems out.

use std::collections::HashMap;

/// Something wrong with one `$` expression. `offset` is the byte offset of its `$` in the input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InterpolationProblem {
    /// `${VAR}` / `$VAR` with no value and no default: it becomes the empty string.
    Unset { name: String, offset: usize },
    /// `${VAR:?message}` or `${VAR?message}` with the variable missing.
    Required {
        name: String,
        message: String,
        offset: usize,
    },
    /// `${` without its closing `}` or with an invalid name; the text is kept as written.
    Malformed { offset: usize },
}

impl InterpolationProblem {
    pub fn offset(&self) -> usize {
        match self {
            Self::Unset { offset, .. }
            | Self::Required { offset, .. }
            | Self::Malformed { offset } => *offset,
        }
    }

    /// The variable name, when the problem is about one.
    pub fn name(&self) -> Option<&str> {
        match self {
            Self::Unset { name, .. } | Self::Required { name, .. } => Some(name),
            Self::Malformed { .. } => None,
        }
    }

    /// A message for the person reading the diagnostic.
    pub fn message(&self) -> String {
        match self {
            Self::Unset { name, .. } => {
                format!(
                    "variable {name} is not set and has no default; it defaults to an empty string"
                )
            }
            Self::Required { name, message, .. } if message.is_empty() => {
                format!("required variable {name} is not set")
            }
            Self::Required { name, message, .. } => {
                format!("required variable {name} is not set: {message}")
            }
            Self::Malformed { .. } => "invalid interpolation: `${` without a closing `}`".into(),
        }
    }
}

/// The interpolated text and what went wrong on the way.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Interpolated {
    pub value: String,
    pub problems: Vec<InterpolationProblem>,
}

/// Interpolates `text` with `vars`: `$$` → `$`, `$VAR`, `${VAR}`, `${VAR:-d}`, `${VAR-d}`,
/// `${VAR:?e}`, `${VAR?e}`, `${VAR:+a}`, `${VAR+a}`; defaults may nest (`${A:-${B:-x}}`).
///
/// ```
/// use std::collections::HashMap;
/// use switchyard_extract::interpolate::interpolate;
/// let vars = HashMap::from([("PORT".to_string(), "8080".to_string())]);
/// assert_eq!(interpolate("${PORT:-80}:80", &vars).value, "8080:80");
/// assert_eq!(interpolate("${HOST:-db}", &vars).value, "db");
/// ```
pub fn interpolate(text: &str, vars: &HashMap<String, String>) -> Interpolated {
    let mut out = Interpolated::default();
    interpolate_into(text, 0, vars, &mut out, 0);
    out
}

/// Nesting deeper than this is left as written (defends against pathological input).
const MAX_DEPTH: usize = 16;

fn is_name_start(b: u8) -> bool {
    b.is_ascii_alphabetic() || b == b'_'
}

fn is_name_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

fn interpolate_into(
    text: &str,
    base: usize,
    vars: &HashMap<String, String>,
    out: &mut Interpolated,
    depth: usize,
) {
    let bytes = text.as_bytes();
    let mut i = 0;
    let mut literal_start = 0;
    while i < bytes.len() {
        if bytes[i] != b'$' {
            i += 1;
            continue;
        }
        out.value.push_str(&text[literal_start..i]);
        let next = bytes.get(i + 1).copied();
        match next {
            Some(b'$') => {
                out.value.push('$');
                i += 2;
            }
            Some(b'{') => {
                let Some(close) = matching_brace(bytes, i + 2) else {
                    out.problems
                        .push(InterpolationProblem::Malformed { offset: base + i });
                    out.value.push_str(&text[i..]);
                    return;
                };
                let inner = &text[i + 2..close];
                braced(inner, base + i, base + i + 2, vars, out, depth);
                i = close + 1;
            }
            Some(b) if is_name_start(b) => {
                let mut end = i + 1;
                while end < bytes.len() && is_name_char(bytes[end]) {
                    end += 1;
                }
                let name = &text[i + 1..end];
                match vars.get(name) {
                    Some(v) => out.value.push_str(v),
                    None => out.problems.push(InterpolationProblem::Unset {
                        name: name.to_string(),
                        offset: base + i,
                    }),
                }
                i = end;
            }
            _ => {
                // A lone `$` (end of text, `$1`, `$ `) stays as written.
                out.value.push('$');
                i += 1;
            }
        }
        literal_start = i;
    }
    out.value.push_str(&text[literal_start..]);
}

/// The index of the `}` closing a `${` whose content starts at `from`, counting nested `${…}`.
fn matching_brace(bytes: &[u8], from: usize) -> Option<usize> {
    let mut depth = 0usize;
    let mut i = from;
    while i < bytes.len() {
        match bytes[i] {
            b'$' if bytes.get(i + 1) == Some(&b'$') => i += 1,
            b'$' if bytes.get(i + 1) == Some(&b'{') => {
                depth += 1;
                i += 1;
            }
            b'}' if depth == 0 => return Some(i),
            b'}' => depth -= 1,
            _ => {}
        }
        i += 1;
    }
    None
}

/// Evaluates the inside of `${…}`; `dollar` is the offset of its `$`, `inner_base` of `inner`.
fn braced(
    inner: &str,
    dollar: usize,
    inner_base: usize,
    vars: &HashMap<String, String>,
    out: &mut Interpolated,
    depth: usize,
) {
    let bytes = inner.as_bytes();
    let name_end = bytes
        .iter()
        .position(|b| !is_name_char(*b))
        .unwrap_or(bytes.len());
    let name = &inner[..name_end];
    if name.is_empty() || !bytes.first().copied().is_some_and(is_name_start) {
        out.problems
            .push(InterpolationProblem::Malformed { offset: dollar });
        out.value.push_str("${");
        out.value.push_str(inner);
        out.value.push('}');
        return;
    }
    let rest = &inner[name_end..];
    let value = vars.get(name);
    let (op, arg_offset) =
        if rest.starts_with(":-") || rest.starts_with(":?") || rest.starts_with(":+") {
            (&rest[..2], name_end + 2)
        } else if rest.starts_with('-') || rest.starts_with('?') || rest.starts_with('+') {
            (&rest[..1], name_end + 1)
        } else if rest.is_empty() {
            ("", name_end)
        } else {
            out.problems
                .push(InterpolationProblem::Malformed { offset: dollar });
            out.value.push_str("${");
            out.value.push_str(inner);
            out.value.push('}');
            return;
        };
    let arg = &inner[arg_offset..];
    let arg_base = inner_base + arg_offset;
    let set_nonempty = value.is_some_and(|v| !v.is_empty());
    let expand_arg = |out: &mut Interpolated| {
        if depth >= MAX_DEPTH {
            out.value.push_str(arg);
        } else {
            interpolate_into(arg, arg_base, vars, out, depth + 1);
        }
    };
    match op {
        "" => match value {
            Some(v) => out.value.push_str(v),
            None => out.problems.push(InterpolationProblem::Unset {
                name: name.to_string(),
                offset: dollar,
            }),
        },
        ":-" | "-" => {
            let use_value = if op == ":-" {
                set_nonempty
            } else {
                value.is_some()
            };
            match value {
                Some(v) if use_value => out.value.push_str(v),
                _ => expand_arg(out),
            }
        }
        ":?" | "?" => {
            let ok = if op == ":?" {
                set_nonempty
            } else {
                value.is_some()
            };
            match value {
                Some(v) if ok => out.value.push_str(v),
                _ => {
                    // The message may itself hold `${…}`; evaluate it for the text only.
                    let mut message = Interpolated::default();
                    interpolate_into(arg, arg_base, vars, &mut message, MAX_DEPTH);
                    out.problems.push(InterpolationProblem::Required {
                        name: name.to_string(),
                        message: message.value,
                        offset: dollar,
                    });
                }
            }
        }
        _ => {
            // `:+` / `+`: the alternative when set (and non-empty for `:+`), else nothing.
            let use_alt = if op == ":+" {
                set_nonempty
            } else {
                value.is_some()
            };
            if use_alt {
                expand_arg(out);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn forms_table() {
        let v = vars(&[("SET", "val"), ("EMPTY", "")]);
        let cases: &[(&str, &str)] = &[
            ("plain text", "plain text"),
            ("${SET}", "val"),
            ("$SET/x", "val/x"),
            ("a${SET}b", "avalb"),
            ("${SET:-d}", "val"),
            ("${EMPTY:-d}", "d"),
            ("${EMPTY-d}", ""),
            ("${MISSING-d}", "d"),
            ("${MISSING:-d}", "d"),
            ("${SET:+alt}", "alt"),
            ("${EMPTY:+alt}", ""),
            ("${EMPTY+alt}", "alt"),
            ("${MISSING+alt}", ""),
            ("$$SET", "$SET"),
            ("$${SET}", "${SET}"),
            ("cost $5", "cost $5"),
            ("end $", "end $"),
            ("${MISSING:-${SET:-x}}", "val"),
            ("${MISSING:-${OTHER:-x}}", "x"),
            ("${MISSING:-http://h:${SET}/p}", "http://h:val/p"),
            ("${MISSING:-a}}", "a}"),
        ];
        for (input, expected) in cases {
            let got = interpolate(input, &v);
            assert_eq!(&got.value, expected, "input {input:?}");
            assert!(
                got.problems.is_empty(),
                "input {input:?}: {:?}",
                got.problems
            );
        }
    }

    #[test]
    fn unset_without_default_is_empty_and_reported_at_dollar() {
        let got = interpolate("x=${NOPE} y=$ALSO", &HashMap::new());
        assert_eq!(got.value, "x= y=");
        assert_eq!(
            got.problems,
            vec![
                InterpolationProblem::Unset {
                    name: "NOPE".into(),
                    offset: 2
                },
                InterpolationProblem::Unset {
                    name: "ALSO".into(),
                    offset: 12
                },
            ]
        );
    }

    #[test]
    fn required_reports_message() {
        let got = interpolate("${DB:?set DB first}", &HashMap::new());
        assert_eq!(got.value, "");
        assert_eq!(
            got.problems,
            vec![InterpolationProblem::Required {
                name: "DB".into(),
                message: "set DB first".into(),
                offset: 0
            }]
        );
        assert!(got.problems[0].message().contains("set DB first"));
        let empty = vars(&[("DB", "")]);
        assert_eq!(interpolate("${DB?x}", &empty).problems, vec![]);
        assert_eq!(interpolate("${DB:?x}", &empty).problems.len(), 1);
    }

    #[test]
    fn nested_default_problem_offsets_are_absolute() {
        let got = interpolate("ab${A:-${B}}", &HashMap::new());
        assert_eq!(got.value, "ab");
        assert_eq!(
            got.problems,
            vec![InterpolationProblem::Unset {
                name: "B".into(),
                offset: 7
            }]
        );
    }

    #[test]
    fn malformed_kept_as_written() {
        let got = interpolate("a ${UNCLOSED", &HashMap::new());
        assert_eq!(got.value, "a ${UNCLOSED");
        assert_eq!(
            got.problems,
            vec![InterpolationProblem::Malformed { offset: 2 }]
        );
        let got = interpolate("${1BAD}", &HashMap::new());
        assert_eq!(got.value, "${1BAD}");
        assert_eq!(got.problems.len(), 1);
        let got = interpolate("${A B}", &HashMap::new());
        assert_eq!(got.problems.len(), 1);
    }

    #[test]
    fn deep_nesting_does_not_overflow() {
        let mut text = String::new();
        for _ in 0..200 {
            text.push_str("${A:-");
        }
        text.push('x');
        for _ in 0..200 {
            text.push('}');
        }
        let got = interpolate(&text, &HashMap::new());
        assert!(!got.value.is_empty());
    }
}
