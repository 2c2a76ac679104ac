//! The Go template built-ins and the Sprig/Helm functions common charts use. Anything else is
//! an error naming the function, so only the document that calls it is lost.

use super::value::Value;
use std::collections::BTreeMap;

type R = Result<Value, String>;

fn s(v: &Value) -> String {
    v.render()
}

fn arity(name: &str, args: &[Value], n: usize) -> Result<(), String> {
    if args.len() == n {
        Ok(())
    } else {
        Err(format!(
            "`{name}` takes {n} argument(s), got {}",
            args.len()
        ))
    }
}

fn int_of(v: &Value) -> Result<i64, String> {
    match v {
        Value::Int(n) => Ok(*n),
        Value::Float(f) => Ok(*f as i64),
        Value::Bool(b) => Ok(i64::from(*b)),
        Value::Null => Ok(0),
        Value::Str(t) => Ok(t
            .trim()
            .parse::<i64>()
            .ok()
            .or_else(|| t.trim().parse::<f64>().ok().map(|f| f as i64))
            .unwrap_or(0)),
        other => Err(format!("cannot convert {} to int", other.type_name())),
    }
}

/// Go's `eq` (numbers compare by value whatever their width).
fn equal(a: &Value, b: &Value) -> bool {
    match (a.as_f64(), b.as_f64()) {
        (Some(x), Some(y)) => x == y,
        _ => a == b,
    }
}

fn compare(name: &str, a: &Value, b: &Value) -> Result<std::cmp::Ordering, String> {
    match (a, b) {
        (Value::Str(x), Value::Str(y)) => Ok(x.cmp(y)),
        _ => match (a.as_f64(), b.as_f64()) {
            (Some(x), Some(y)) => x
                .partial_cmp(&y)
                .ok_or_else(|| format!("`{name}`: incomparable numbers")),
            _ => Err(format!(
                "`{name}`: incompatible types {} and {}",
                a.type_name(),
                b.type_name()
            )),
        },
    }
}

fn indent(text: &str, n: usize) -> String {
    let pad = " ".repeat(n);
    text.split('\n')
        .map(|l| format!("{pad}{l}"))
        .collect::<Vec<_>>()
        .join("\n")
}

fn title(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut start = true;
    for c in text.chars() {
        if start && c.is_alphabetic() {
            out.extend(c.to_uppercase());
        } else {
            out.push(c);
        }
        start = c.is_whitespace() || c == '-' || c == '_';
    }
    out
}

fn b64enc(bytes: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let b = [
            chunk.first().copied().unwrap_or(0),
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                let idx = ((n >> (18 - 6 * i)) & 63) as usize;
                out.push(char::from(A.get(idx).copied().unwrap_or(b'A')));
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// Go's `printf` for the verbs charts use: `%s %d %v %q %t %f %%`.
fn printf(format: &str, args: &[Value]) -> String {
    let mut out = String::new();
    let mut args = args.iter();
    let mut chars = format.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        // Skip flags and width (`%-10s`, `%.2f`).
        let mut spec = String::new();
        while let Some(&f) = chars.peek() {
            if f.is_ascii_digit() || matches!(f, '-' | '+' | '.' | ' ' | '#') {
                spec.push(f);
                chars.next();
            } else {
                break;
            }
        }
        let Some(verb) = chars.next() else {
            out.push_str("%!(NOVERB)");
            break;
        };
        if verb == '%' {
            out.push('%');
            continue;
        }
        let Some(arg) = args.next() else {
            out.push_str(&format!("%!{verb}(MISSING)"));
            continue;
        };
        match verb {
            'd' => match arg {
                Value::Int(_) | Value::Float(_) => {
                    out.push_str(&int_of(arg).unwrap_or(0).to_string())
                }
                other => out.push_str(&format!("%!d({})", other.go_format())),
            },
            'q' => out.push_str(&serde_json::to_string(&arg.go_format()).unwrap_or_default()),
            'f' => {
                let precision = spec
                    .split('.')
                    .nth(1)
                    .and_then(|p| p.parse::<usize>().ok())
                    .unwrap_or(6);
                out.push_str(&format!("{:.*}", precision, arg.as_f64().unwrap_or(0.0)));
            }
            _ => out.push_str(&arg.go_format()),
        }
    }
    out
}

fn list_of(name: &str, v: &Value) -> Result<Vec<Value>, String> {
    match v {
        Value::List(l) => Ok(l.clone()),
        Value::Null => Ok(Vec::new()),
        other => Err(format!("`{name}` needs a list, got {}", other.type_name())),
    }
}

/// Calls a function by name.
pub fn call(name: &str, args: Vec<Value>) -> R {
    let a = args.as_slice();
    let one = || -> Result<&Value, String> {
        arity(name, a, 1)?;
        a.first().ok_or_else(|| name.to_string())
    };
    let two = || -> Result<(&Value, &Value), String> {
        arity(name, a, 2)?;
        match a {
            [x, y] => Ok((x, y)),
            _ => Err(name.to_string()),
        }
    };
    let str1 = |f: fn(&str) -> String| -> R { Ok(Value::Str(f(&s(one()?)))) };
    match name {
        "default" => {
            let (d, v) = match a {
                [d] => (d, &Value::Null),
                [d, v] => (d, v),
                _ => return Err("`default` takes 1 or 2 arguments".to_string()),
            };
            Ok(if v.truthy() { v.clone() } else { d.clone() })
        }
        "quote" => Ok(Value::Str(
            a.iter()
                .map(|v| serde_json::to_string(&s(v)).unwrap_or_default())
                .collect::<Vec<_>>()
                .join(" "),
        )),
        "squote" => Ok(Value::Str(
            a.iter()
                .map(|v| format!("'{}'", s(v)))
                .collect::<Vec<_>>()
                .join(" "),
        )),
        "upper" => str1(|t| t.to_uppercase()),
        "lower" => str1(|t| t.to_lowercase()),
        "title" => str1(title),
        "trim" => str1(|t| t.trim().to_string()),
        "nospace" => str1(|t| t.chars().filter(|c| !c.is_whitespace()).collect()),
        "b64enc" => str1(|t| b64enc(t.as_bytes())),
        "toString" => str1(str::to_string),
        "toYaml" => Ok(Value::Str(one()?.to_yaml())),
        "toJson" | "toRawJson" | "mustToJson" => Ok(Value::Str(
            serde_json::to_string(&one()?.to_json()).map_err(|e| e.to_string())?,
        )),
        "fromJson" => Ok(serde_json::from_str::<serde_json::Value>(&s(one()?))
            .map(|j| Value::from_json(&j))
            .unwrap_or_default()),
        "trimSuffix" => {
            let (suffix, t) = two()?;
            let (suffix, t) = (s(suffix), s(t));
            Ok(Value::Str(
                t.strip_suffix(&suffix).unwrap_or(&t).to_string(),
            ))
        }
        "trimPrefix" => {
            let (prefix, t) = two()?;
            let (prefix, t) = (s(prefix), s(t));
            Ok(Value::Str(
                t.strip_prefix(&prefix).unwrap_or(&t).to_string(),
            ))
        }
        "trimAll" => {
            let (cut, t) = two()?;
            let cut: Vec<char> = s(cut).chars().collect();
            Ok(Value::Str(s(t).trim_matches(cut.as_slice()).to_string()))
        }
        "trunc" => {
            let (n, t) = two()?;
            let n = int_of(n)?;
            let t = s(t);
            let count = t.chars().count() as i64;
            Ok(Value::Str(if n >= 0 {
                t.chars().take(n as usize).collect()
            } else {
                t.chars().skip((count + n).max(0) as usize).collect()
            }))
        }
        "replace" => match a {
            [old, new, t] => Ok(Value::Str(s(t).replace(&s(old), &s(new)))),
            _ => Err("`replace` takes 3 arguments".to_string()),
        },
        "printf" => match a.split_first() {
            Some((format, rest)) => Ok(Value::Str(printf(&s(format), rest))),
            None => Err("`printf` needs a format".to_string()),
        },
        "print" => Ok(Value::Str(
            a.iter().map(Value::go_format).collect::<Vec<_>>().join(""),
        )),
        "println" => Ok(Value::Str(format!(
            "{}\n",
            a.iter().map(Value::go_format).collect::<Vec<_>>().join(" ")
        ))),
        "cat" => Ok(Value::Str(
            a.iter()
                .filter(|v| **v != Value::Null)
                .map(Value::go_format)
                .collect::<Vec<_>>()
                .join(" "),
        )),
        "indent" | "nindent" => {
            let (n, t) = two()?;
            let text = indent(&s(t), int_of(n)?.clamp(0, 1000) as usize);
            Ok(Value::Str(if name == "nindent" {
                format!("\n{text}")
            } else {
                text
            }))
        }
        "int" | "int64" | "atoi" => Ok(Value::Int(int_of(one()?)?)),
        "float64" => Ok(Value::Float(match one()? {
            Value::Str(t) => t.trim().parse().unwrap_or(0.0),
            v => v.as_f64().unwrap_or(0.0),
        })),
        "add" | "sub" | "mul" | "div" | "mod" | "max" | "min" => {
            let mut nums = a.iter().map(int_of);
            let mut acc = nums.next().transpose()?.unwrap_or(0);
            for n in nums {
                let n = n?;
                acc = match name {
                    "add" => acc.saturating_add(n),
                    "sub" => acc.saturating_sub(n),
                    "mul" => acc.saturating_mul(n),
                    "div" | "mod" if n == 0 => return Err(format!("`{name}` by zero")),
                    "div" => acc / n,
                    "mod" => acc % n,
                    "max" => acc.max(n),
                    _ => acc.min(n),
                };
            }
            Ok(Value::Int(acc))
        }
        "add1" => Ok(Value::Int(int_of(one()?)?.saturating_add(1))),
        "eq" => match a.split_first() {
            Some((first, rest)) if !rest.is_empty() => {
                Ok(Value::Bool(rest.iter().any(|v| equal(first, v))))
            }
            _ => Err("`eq` takes at least 2 arguments".to_string()),
        },
        "ne" => {
            let (x, y) = two()?;
            Ok(Value::Bool(!equal(x, y)))
        }
        "lt" | "le" | "gt" | "ge" => {
            let (x, y) = two()?;
            let o = compare(name, x, y)?;
            Ok(Value::Bool(match name {
                "lt" => o.is_lt(),
                "le" => o.is_le(),
                "gt" => o.is_gt(),
                _ => o.is_ge(),
            }))
        }
        "and" => Ok(a
            .iter()
            .find(|v| !v.truthy())
            .or(a.last())
            .cloned()
            .unwrap_or_default()),
        "or" => Ok(a
            .iter()
            .find(|v| v.truthy())
            .or(a.last())
            .cloned()
            .unwrap_or_default()),
        "not" => Ok(Value::Bool(!one()?.truthy())),
        "empty" => Ok(Value::Bool(!one()?.truthy())),
        "hasKey" => {
            let (m, k) = two()?;
            Ok(Value::Bool(match m {
                Value::Map(m) => m.contains_key(&s(k)),
                _ => false,
            }))
        }
        "required" => {
            let (message, v) = two()?;
            match v {
                Value::Null => Err(format!("`required`: {}", s(message))),
                Value::Str(t) if t.is_empty() => Err(format!("`required`: {}", s(message))),
                v => Ok(v.clone()),
            }
        }
        "fail" => Err(format!("`fail`: {}", a.first().map(s).unwrap_or_default())),
        "list" | "tuple" => Ok(Value::List(a.to_vec())),
        "dict" => {
            let mut m = BTreeMap::new();
            for pair in a.chunks(2) {
                let key = pair.first().map(s).unwrap_or_default();
                m.insert(key, pair.get(1).cloned().unwrap_or_default());
            }
            Ok(Value::Map(m))
        }
        "get" => {
            let (m, k) = two()?;
            Ok(match m.field(&s(k)) {
                Value::Null => Value::Str(String::new()),
                v => v,
            })
        }
        "index" => {
            let Some((mut cur, keys)) = a.split_first().map(|(c, k)| (c.clone(), k)) else {
                return Err("`index` needs a collection".to_string());
            };
            for k in keys {
                cur = match (&cur, k) {
                    (Value::List(l), k) => {
                        let i = int_of(k)?;
                        l.get(usize::try_from(i).map_err(|_| "index out of range".to_string())?)
                            .cloned()
                            .ok_or_else(|| format!("index {i} out of range"))?
                    }
                    (Value::Map(m), k) => m.get(&s(k)).cloned().unwrap_or_default(),
                    (Value::Null, _) => Value::Null,
                    (other, _) => return Err(format!("can't index {}", other.type_name())),
                };
            }
            Ok(cur)
        }
        "contains" => {
            let (needle, hay) = two()?;
            Ok(Value::Bool(s(hay).contains(&s(needle))))
        }
        "hasPrefix" => {
            let (p, t) = two()?;
            Ok(Value::Bool(s(t).starts_with(&s(p))))
        }
        "hasSuffix" => {
            let (p, t) = two()?;
            Ok(Value::Bool(s(t).ends_with(&s(p))))
        }
        "join" => {
            let (sep, l) = two()?;
            let items = match l {
                Value::List(l) => l.iter().map(s).collect::<Vec<_>>(),
                other => vec![s(other)],
            };
            Ok(Value::Str(items.join(&s(sep))))
        }
        "splitList" => {
            let (sep, t) = two()?;
            Ok(Value::List(
                s(t).split(&s(sep))
                    .map(|p| Value::Str(p.to_string()))
                    .collect(),
            ))
        }
        "ternary" => match a {
            [yes, no, cond] => Ok(if cond.truthy() { yes } else { no }.clone()),
            _ => Err("`ternary` takes 3 arguments".to_string()),
        },
        "coalesce" => Ok(a.iter().find(|v| v.truthy()).cloned().unwrap_or_default()),
        "len" => Ok(Value::Int(match one()? {
            Value::Str(t) => t.len() as i64,
            Value::List(l) => l.len() as i64,
            Value::Map(m) => m.len() as i64,
            Value::Null => 0,
            other => return Err(format!("len of {}", other.type_name())),
        })),
        "first" => Ok(list_of(name, one()?)?.first().cloned().unwrap_or_default()),
        "last" => Ok(list_of(name, one()?)?.last().cloned().unwrap_or_default()),
        "has" => {
            let (needle, l) = two()?;
            Ok(Value::Bool(
                list_of(name, l)?.iter().any(|v| equal(v, needle)),
            ))
        }
        "keys" => {
            let mut out = Vec::new();
            for m in a {
                if let Value::Map(m) = m {
                    out.extend(m.keys().map(|k| Value::Str(k.clone())));
                }
            }
            out.sort_by_key(Value::render);
            Ok(Value::List(out))
        }
        "kindIs" => {
            let (kind, v) = two()?;
            Ok(Value::Bool(s(kind) == kind_of(v)))
        }
        "kindOf" => Ok(Value::Str(kind_of(one()?).to_string())),
        "typeOf" => Ok(Value::Str(one()?.type_name().to_string())),
        "merge" | "mergeOverwrite" => {
            let mut out = BTreeMap::new();
            let overwrite = name == "mergeOverwrite";
            for v in a {
                if let Value::Map(m) = v {
                    for (k, v) in m {
                        if overwrite || !out.contains_key(k) {
                            out.insert(k.clone(), v.clone());
                        }
                    }
                }
            }
            Ok(Value::Map(out))
        }
        "semverCompare" => Ok(Value::Bool(true)),
        "lookup" => Ok(Value::Map(BTreeMap::new())),
        other => Err(format!("unknown function `{other}`")),
    }
}

fn kind_of(v: &Value) -> &'static str {
    match v {
        Value::Null => "invalid",
        Value::Bool(_) => "bool",
        Value::Int(_) => "int64",
        Value::Float(_) => "float64",
        Value::Str(_) => "string",
        Value::List(_) => "slice",
        Value::Map(_) => "map",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn st(t: &str) -> Value {
        Value::Str(t.to_string())
    }

    fn c(name: &str, args: &[Value]) -> Value {
        call(name, args.to_vec()).unwrap()
    }

    #[test]
    fn strings() {
        assert_eq!(c("quote", &[st("a\"b")]), st("\"a\\\"b\""));
        assert_eq!(c("squote", &[st("a")]), st("'a'"));
        assert_eq!(c("upper", &[st("ab")]), st("AB"));
        assert_eq!(c("title", &[st("hello world")]), st("Hello World"));
        assert_eq!(c("trunc", &[Value::Int(3), st("abcdef")]), st("abc"));
        assert_eq!(c("trimSuffix", &[st("-"), st("ab-")]), st("ab"));
        assert_eq!(c("trimPrefix", &[st("v"), st("v1")]), st("1"));
        assert_eq!(c("replace", &[st("."), st("-"), st("a.b")]), st("a-b"));
        assert_eq!(c("b64enc", &[st("password")]), st("cGFzc3dvcmQ="));
        assert_eq!(c("b64enc", &[st("ab")]), st("YWI="));
        assert_eq!(c("nindent", &[Value::Int(2), st("a\nb")]), st("\n  a\n  b"));
        assert_eq!(c("indent", &[Value::Int(1), st("a")]), st(" a"));
        assert_eq!(
            c(
                "printf",
                &[st("%s-%d:%v%%"), st("a"), Value::Int(3), Value::Bool(true)]
            ),
            st("a-3:true%")
        );
        assert_eq!(
            c(
                "join",
                &[st(","), Value::List(vec![st("a"), Value::Int(1)])]
            ),
            st("a,1")
        );
        assert_eq!(c("contains", &[st("b"), st("abc")]), Value::Bool(true));
    }

    #[test]
    fn logic_and_defaults() {
        assert_eq!(c("default", &[st("d"), Value::Null]), st("d"));
        assert_eq!(c("default", &[st("d"), st("v")]), st("v"));
        assert_eq!(
            c("eq", &[Value::Int(1), Value::Float(1.0)]),
            Value::Bool(true)
        );
        assert_eq!(c("eq", &[st("a"), st("b"), st("a")]), Value::Bool(true));
        assert_eq!(c("ne", &[st("a"), st("b")]), Value::Bool(true));
        assert_eq!(c("lt", &[Value::Int(1), Value::Int(2)]), Value::Bool(true));
        assert!(call("lt", vec![st("a"), Value::Int(2)]).is_err());
        assert_eq!(
            c("ternary", &[st("y"), st("n"), Value::Bool(false)]),
            st("n")
        );
        assert_eq!(c("coalesce", &[Value::Null, st(""), st("x")]), st("x"));
        assert_eq!(c("empty", &[Value::List(vec![])]), Value::Bool(true));
        assert_eq!(c("not", &[Value::Int(0)]), Value::Bool(true));
    }

    #[test]
    fn collections() {
        let d = c("dict", &[st("a"), Value::Int(1)]);
        assert_eq!(c("hasKey", &[d.clone(), st("a")]), Value::Bool(true));
        assert_eq!(c("get", &[d.clone(), st("a")]), Value::Int(1));
        assert_eq!(c("get", &[d.clone(), st("z")]), st(""));
        assert_eq!(c("len", &[c("list", &[st("a"), st("b")])]), Value::Int(2));
        assert_eq!(c("index", &[d, st("a")]), Value::Int(1));
        assert_eq!(
            c("toJson", &[c("dict", &[st("k"), st("v")])]),
            st("{\"k\":\"v\"}")
        );
        assert_eq!(c("toYaml", &[c("dict", &[st("k"), st("v")])]), st("k: v"));
    }

    #[test]
    fn failures_name_the_function() {
        assert!(
            call("required", vec![st("need x"), Value::Null])
                .unwrap_err()
                .contains("need x")
        );
        assert_eq!(c("required", &[st("m"), st("v")]), st("v"));
        assert!(
            call("randAlphaNum", vec![Value::Int(3)])
                .unwrap_err()
                .contains("randAlphaNum")
        );
        assert!(call("quote", vec![]).is_ok());
        assert!(call("upper", vec![]).is_err());
        assert!(call("div", vec![Value::Int(1), Value::Int(0)]).is_err());
    }
}
