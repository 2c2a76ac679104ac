//! Template values: what `.Values` and the functions work on, read from YAML like Helm does,
//! printed like Go prints them, and written back as YAML (`toYaml`) or JSON (`toJson`).

use crate::yaml::{Node, Value as YamlValue};
use std::collections::BTreeMap;

/// A value during rendering. Maps are ordered by key, as Go templates iterate them.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum Value {
    #[default]
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    List(Vec<Value>),
    Map(BTreeMap<String, Value>),
}

impl Value {
    /// Go's truth: false, 0, nil and empty strings/lists/maps are false.
    pub fn truthy(&self) -> bool {
        match self {
            Value::Null => false,
            Value::Bool(b) => *b,
            Value::Int(n) => *n != 0,
            Value::Float(f) => *f != 0.0,
            Value::Str(s) => !s.is_empty(),
            Value::List(l) => !l.is_empty(),
            Value::Map(m) => !m.is_empty(),
        }
    }

    /// A field of a map (`nil` for anything else or a missing key).
    pub fn field(&self, name: &str) -> Value {
        match self {
            Value::Map(m) => m.get(name).cloned().unwrap_or_default(),
            _ => Value::Null,
        }
    }

    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Value::Int(n) => Some(*n as f64),
            Value::Float(f) => Some(*f),
            _ => None,
        }
    }

    /// How the template prints a value (`{{ .x }}`); `nil` prints nothing, as in Helm.
    pub fn render(&self) -> String {
        match self {
            Value::Null => String::new(),
            other => other.go_format(),
        }
    }

    /// Go's `%v`.
    pub fn go_format(&self) -> String {
        match self {
            Value::Null => "<nil>".to_string(),
            Value::Bool(b) => b.to_string(),
            Value::Int(n) => n.to_string(),
            Value::Float(f) => format_float(*f),
            Value::Str(s) => s.clone(),
            Value::List(l) => {
                let items: Vec<String> = l.iter().map(Value::go_format).collect();
                format!("[{}]", items.join(" "))
            }
            Value::Map(m) => {
                let items: Vec<String> = m
                    .iter()
                    .map(|(k, v)| format!("{k}:{}", v.go_format()))
                    .collect();
                format!("map[{}]", items.join(" "))
            }
        }
    }

    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Null => "nil",
            Value::Bool(_) => "bool",
            Value::Int(_) => "int64",
            Value::Float(_) => "float64",
            Value::Str(_) => "string",
            Value::List(_) => "slice",
            Value::Map(_) => "map",
        }
    }

    /// Reads a YAML node the way Helm reads `values.yaml`: plain scalars are typed.
    pub fn from_yaml(node: &Node) -> Value {
        match &node.value {
            YamlValue::Scalar { text, plain } => {
                if !*plain {
                    return Value::Str(text.clone());
                }
                scalar(text)
            }
            YamlValue::Seq(items) => Value::List(items.iter().map(Value::from_yaml).collect()),
            YamlValue::Map(entries) => Value::Map(
                entries
                    .iter()
                    .filter_map(|(k, v)| Some((k.as_str()?.to_string(), Value::from_yaml(v))))
                    .collect(),
            ),
        }
    }

    pub fn to_json(&self) -> serde_json::Value {
        match self {
            Value::Null => serde_json::Value::Null,
            Value::Bool(b) => (*b).into(),
            Value::Int(n) => (*n).into(),
            Value::Float(f) => serde_json::Number::from_f64(*f)
                .map(serde_json::Value::Number)
                .unwrap_or(serde_json::Value::Null),
            Value::Str(s) => s.clone().into(),
            Value::List(l) => l.iter().map(Value::to_json).collect(),
            Value::Map(m) => m.iter().map(|(k, v)| (k.clone(), v.to_json())).collect(),
        }
    }

    pub fn from_json(value: &serde_json::Value) -> Value {
        match value {
            serde_json::Value::Null => Value::Null,
            serde_json::Value::Bool(b) => Value::Bool(*b),
            serde_json::Value::Number(n) => n
                .as_i64()
                .map(Value::Int)
                .unwrap_or_else(|| Value::Float(n.as_f64().unwrap_or(0.0))),
            serde_json::Value::String(s) => Value::Str(s.clone()),
            serde_json::Value::Array(a) => Value::List(a.iter().map(Value::from_json).collect()),
            serde_json::Value::Object(o) => Value::Map(
                o.iter()
                    .map(|(k, v)| (k.clone(), Value::from_json(v)))
                    .collect(),
            ),
        }
    }

    /// Block YAML like Helm's `toYaml` (keys sorted, no trailing newline).
    pub fn to_yaml(&self) -> String {
        let mut out = String::new();
        yaml_block(self, 0, &mut out);
        while out.ends_with('\n') {
            out.pop();
        }
        out
    }
}

fn format_float(f: f64) -> String {
    if f.fract() == 0.0 && f.abs() < 1e21 {
        format!("{f:.0}")
    } else {
        f.to_string()
    }
}

/// Types a plain YAML scalar (YAML 1.1/1.2 core forms that Helm's parser accepts).
fn scalar(text: &str) -> Value {
    match text {
        "" | "~" | "null" | "Null" | "NULL" => return Value::Null,
        "true" | "True" | "TRUE" => return Value::Bool(true),
        "false" | "False" | "FALSE" => return Value::Bool(false),
        _ => {}
    }
    if let Ok(n) = text.parse::<i64>() {
        return Value::Int(n);
    }
    let numeric = text
        .chars()
        .all(|c| c.is_ascii_digit() || matches!(c, '.' | 'e' | 'E' | '+' | '-'))
        && text.chars().any(|c| c.is_ascii_digit());
    if numeric && let Ok(f) = text.parse::<f64>() {
        return Value::Float(f);
    }
    Value::Str(text.to_string())
}

/// Whether a string must be quoted to stay a string in YAML.
fn needs_quotes(s: &str) -> bool {
    if s.is_empty() || scalar(s) != Value::Str(s.to_string()) {
        return true;
    }
    let lower = s.to_ascii_lowercase();
    if matches!(lower.as_str(), "yes" | "no" | "on" | "off" | "y" | "n") {
        return true;
    }
    let first = s.chars().next().unwrap_or(' ');
    s != s.trim()
        || "-?:,[]{}#&*!|>'\"%@`".contains(first)
        || s.contains(": ")
        || s.contains(" #")
        || s.ends_with(':')
        || s.contains('\n')
        || s.contains('\t')
        || s.chars().any(char::is_control)
}

fn yaml_scalar(v: &Value) -> String {
    match v {
        Value::Null => "null".to_string(),
        Value::Str(s) if needs_quotes(s) => {
            serde_json::to_string(s).unwrap_or_else(|_| "\"\"".to_string())
        }
        Value::Str(s) => s.clone(),
        Value::List(_) => "[]".to_string(),
        Value::Map(_) => "{}".to_string(),
        other => other.go_format(),
    }
}

fn is_block(v: &Value) -> bool {
    match v {
        Value::List(l) => !l.is_empty(),
        Value::Map(m) => !m.is_empty(),
        _ => false,
    }
}

fn yaml_block(v: &Value, indent: usize, out: &mut String) {
    let pad = " ".repeat(indent);
    match v {
        Value::Map(m) if !m.is_empty() => {
            for (k, val) in m {
                let key = yaml_scalar(&Value::Str(k.clone()));
                if is_block(val) {
                    out.push_str(&format!("{pad}{key}:\n"));
                    let child = if matches!(val, Value::List(_)) {
                        indent
                    } else {
                        indent + 2
                    };
                    yaml_block(val, child, out);
                } else {
                    out.push_str(&format!("{pad}{key}: {}\n", yaml_scalar(val)));
                }
            }
        }
        Value::List(l) if !l.is_empty() => {
            for item in l {
                if is_block(item) {
                    let mut inner = String::new();
                    yaml_block(item, indent + 2, &mut inner);
                    // The first line of the item goes after `- `.
                    let inner = inner.get(indent + 2..).unwrap_or("").to_string();
                    out.push_str(&format!("{pad}- {inner}"));
                } else {
                    out.push_str(&format!("{pad}- {}\n", yaml_scalar(item)));
                }
            }
        }
        other => {
            out.push_str(&format!("{pad}{}\n", yaml_scalar(other)));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::yaml::parse;

    fn v(text: &str) -> Value {
        Value::from_yaml(&parse(text).unwrap().unwrap())
    }

    #[test]
    fn values_are_typed_like_helm() {
        let values = v("a: 1\nb: \"1\"\nc: true\nd: ~\ne: 1.5\nf: text\n");
        assert_eq!(values.field("a"), Value::Int(1));
        assert_eq!(values.field("b"), Value::Str("1".into()));
        assert_eq!(values.field("c"), Value::Bool(true));
        assert_eq!(values.field("d"), Value::Null);
        assert_eq!(values.field("e"), Value::Float(1.5));
        assert_eq!(values.field("missing"), Value::Null);
        assert_eq!(values.field("a").field("x"), Value::Null);
    }

    #[test]
    fn printing_follows_go() {
        assert_eq!(Value::Null.render(), "");
        assert_eq!(Value::Float(8080.0).render(), "8080");
        assert_eq!(v("[a, 1]").render(), "[a 1]");
        assert_eq!(v("{b: 1, a: x}").render(), "map[a:x b:1]");
    }

    #[test]
    fn to_yaml_round_trips() {
        let text = "limits:\n  cpu: 100m\n  memory: \"128\"\nlist:\n- a\n- name: x\n  port: 80\nempty: {}\nflag: \"true\"\n";
        let value = v(text);
        let yaml = value.to_yaml();
        assert_eq!(v(&yaml), value, "{yaml}");
        assert!(
            yaml.starts_with("empty: {}\nflag: \"true\"\nlimits:\n  cpu: 100m"),
            "{yaml}"
        );
        assert!(yaml.contains("list:\n- a\n- name: x\n  port: 80"), "{yaml}");
        assert_eq!(Value::Str("a: b".into()).to_yaml(), "\"a: b\"");
    }
}
