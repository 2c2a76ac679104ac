//! YAML 1.1 scalar resolution, as PyYAML's `SafeLoader` (and libyaml-based tools) reads scalars:
//! `yes`/`on` are booleans, `0555` is octal, `2222:22` is a base-60 integer, `1_000` is 1000.

use regex::Regex;
use std::sync::OnceLock;

/// The YAML 1.1 core tags' prefix (`!!int` is `tag:yaml.org,2002:int`).
pub const CORE_TAG_PREFIX: &str = "tag:yaml.org,2002:";

/// A scalar's value as a YAML 1.1 loader reads it.
#[derive(Debug, Clone, PartialEq)]
pub enum Scalar<'a> {
    Null,
    Bool(bool),
    /// Integers beyond `i128` (never seen in deployment files) stay [`Scalar::Str`].
    Int(i128),
    Float(f64),
    /// A date or date-time, in Python's `isoformat()` form (`2001-12-14T21:59:43.100000-05:00`).
    Timestamp(String),
    Str(&'a str),
}

struct Patterns {
    int: Regex,
    float: Regex,
    timestamp: Regex,
}

/// PyYAML's implicit resolvers (`resolver.py`) and its timestamp constructor's pattern.
fn patterns() -> &'static Patterns {
    static P: OnceLock<Patterns> = OnceLock::new();
    P.get_or_init(|| {
        let compile = |re: &str| Regex::new(re).unwrap_or_else(|e| panic!("bad pattern {re}: {e}"));
        Patterns {
            int: compile(
                r"^(?:[-+]?0b[0-1_]+|[-+]?0[0-7_]+|[-+]?(?:0|[1-9][0-9_]*)|[-+]?0x[0-9a-fA-F_]+|[-+]?[1-9][0-9_]*(?::[0-5]?[0-9])+)$",
            ),
            float: compile(
                r"^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+][0-9]+)?|\.[0-9][0-9_]*(?:[eE][-+][0-9]+)?|[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+\.[0-9_]*|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$",
            ),
            timestamp: compile(
                r"^(?P<year>[0-9]{4})-(?P<month>[0-9]{1,2})-(?P<day>[0-9]{1,2})(?:(?:[Tt]|[ \t]+)(?P<hour>[0-9]{1,2}):(?P<minute>[0-9]{2}):(?P<second>[0-9]{2})(?:\.(?P<fraction>[0-9]*))?(?:[ \t]*(?P<tz>Z|(?P<tz_sign>[-+])(?P<tz_hour>[0-9]{1,2})(?::(?P<tz_minute>[0-9]{2}))?))?)?$",
            ),
        }
    })
}

/// Resolves a scalar. `plain` is false for quoted and block scalars; `tag` is the full tag
/// (`tag:yaml.org,2002:str`, `!reset`) when one was written.
///
/// Local tags (`!reset`, `!override`) do not change the value: compose reads the node as if
/// untagged. A core tag forces its type (`!!str 8080` is a string); a value that does not fit
/// the forced type stays a string.
pub fn resolve<'a>(text: &'a str, plain: bool, tag: Option<&str>) -> Scalar<'a> {
    match tag.and_then(|t| t.strip_prefix(CORE_TAG_PREFIX)) {
        Some("str") => Scalar::Str(text),
        Some("null") => Scalar::Null,
        Some("bool") => bool_value(text).map_or(Scalar::Str(text), Scalar::Bool),
        Some("int") => int_value(text).map_or(Scalar::Str(text), Scalar::Int),
        Some("float") => float_value(text).map_or(Scalar::Str(text), Scalar::Float),
        Some("timestamp") => timestamp_value(text).map_or(Scalar::Str(text), Scalar::Timestamp),
        Some(_) => Scalar::Str(text),
        // PyYAML resolves a scalar tagged `!` alone as if it were plain, quoted or not.
        None if tag == Some("!") => implicit(text),
        None if !plain => Scalar::Str(text),
        None => implicit(text),
    }
}

/// What an untagged plain scalar means (PyYAML's implicit resolvers, in their order).
fn implicit(text: &str) -> Scalar<'_> {
    if matches!(text, "" | "~" | "null" | "Null" | "NULL") {
        return Scalar::Null;
    }
    let Some(first) = text.chars().next() else {
        return Scalar::Null;
    };
    if "yYnNtTfFoO".contains(first) {
        return bool_value(text).map_or(Scalar::Str(text), Scalar::Bool);
    }
    if !"-+0123456789.".contains(first) {
        return Scalar::Str(text);
    }
    let p = patterns();
    if p.float.is_match(text) {
        return float_value(text).map_or(Scalar::Str(text), Scalar::Float);
    }
    if p.int.is_match(text) {
        return int_value(text).map_or(Scalar::Str(text), Scalar::Int);
    }
    if p.timestamp.is_match(text) && is_timestamp_shape(text) {
        return timestamp_value(text).map_or(Scalar::Str(text), Scalar::Timestamp);
    }
    Scalar::Str(text)
}

fn bool_value(text: &str) -> Option<bool> {
    match text {
        "yes" | "Yes" | "YES" | "true" | "True" | "TRUE" | "on" | "On" | "ON" => Some(true),
        "no" | "No" | "NO" | "false" | "False" | "FALSE" | "off" | "Off" | "OFF" => Some(false),
        _ => None,
    }
}

/// PyYAML's `construct_yaml_int`: underscores dropped, `0b`, `0x`, leading-`0` octal, base 60.
fn int_value(text: &str) -> Option<i128> {
    let cleaned: String = text.chars().filter(|&c| c != '_').collect();
    let (negative, digits) = split_sign(&cleaned);
    let magnitude: i128 = if digits == "0" {
        0
    } else if let Some(bin) = digits.strip_prefix("0b") {
        i128::from_str_radix(bin, 2).ok()?
    } else if let Some(hex) = digits.strip_prefix("0x") {
        i128::from_str_radix(hex, 16).ok()?
    } else if digits.starts_with('0') {
        i128::from_str_radix(digits, 8).ok()?
    } else if digits.contains(':') {
        sexagesimal(digits)?
    } else {
        digits.parse().ok()?
    };
    Some(if negative { -magnitude } else { magnitude })
}

/// PyYAML's `construct_yaml_float`, base-60 floats included.
fn float_value(text: &str) -> Option<f64> {
    let cleaned: String = text
        .chars()
        .filter(|&c| c != '_')
        .collect::<String>()
        .to_ascii_lowercase();
    let (negative, digits) = split_sign(&cleaned);
    let sign = if negative { -1.0 } else { 1.0 };
    let magnitude = if digits == ".inf" {
        f64::INFINITY
    } else if digits == ".nan" {
        f64::NAN
    } else if digits.contains(':') {
        let mut value = 0.0;
        for part in digits.split(':') {
            value = value * 60.0 + part.parse::<f64>().ok()?;
        }
        value
    } else {
        digits.parse::<f64>().ok()?
    };
    Some(sign * magnitude)
}

fn split_sign(text: &str) -> (bool, &str) {
    match text.as_bytes().first() {
        Some(b'-') => (true, &text[1..]),
        Some(b'+') => (false, &text[1..]),
        _ => (false, text),
    }
}

fn sexagesimal(digits: &str) -> Option<i128> {
    digits.split(':').try_fold(0i128, |acc, part| {
        acc.checked_mul(60)?.checked_add(part.parse::<i128>().ok()?)
    })
}

/// The implicit timestamp resolver accepts a bare date only as `YYYY-MM-DD` (two-digit month
/// and day); the longer form with a time allows one-digit fields.
fn is_timestamp_shape(text: &str) -> bool {
    let b = text.as_bytes();
    let date_only = b.len() == 10 && b[4] == b'-' && b[7] == b'-';
    date_only || text.len() > 10
}

/// PyYAML's `construct_yaml_timestamp`, written as Python's `isoformat()` writes the result.
/// `None` for an impossible date or time (PyYAML refuses the document there).
fn timestamp_value(text: &str) -> Option<String> {
    let caps = patterns().timestamp.captures(text)?;
    let num = |name: &str| -> Option<u32> { caps.name(name)?.as_str().parse().ok() };
    let (year, month, day) = (num("year")?, num("month")?, num("day")?);
    if !(1..=12).contains(&month) || day == 0 || day > days_in_month(year, month) || year == 0 {
        return None;
    }
    let date = format!("{year:04}-{month:02}-{day:02}");
    let Some(hour) = num("hour") else {
        return Some(date);
    };
    let (minute, second) = (num("minute")?, num("second")?);
    if hour > 23 || minute > 59 || second > 59 {
        return None;
    }
    let mut out = format!("{date}T{hour:02}:{minute:02}:{second:02}");
    if let Some(fraction) = caps.name("fraction").map(|m| m.as_str()) {
        let mut micro: String = fraction.chars().take(6).collect();
        while micro.len() < 6 {
            micro.push('0');
        }
        if micro != "000000" {
            out.push('.');
            out.push_str(&micro);
        }
    }
    if let Some(sign) = caps.name("tz_sign").map(|m| m.as_str()) {
        let minutes = num("tz_hour")? * 60 + num("tz_minute").unwrap_or(0);
        if minutes >= 24 * 60 {
            return None;
        }
        let sign = if sign == "-" && minutes > 0 { '-' } else { '+' };
        out.push_str(&format!("{sign}{:02}:{:02}", minutes / 60, minutes % 60));
    } else if caps.name("tz").is_some() {
        out.push_str("+00:00");
    }
    Some(out)
}

fn days_in_month(year: u32, month: u32) -> u32 {
    match month {
        2 if year.is_multiple_of(4) && (!year.is_multiple_of(100) || year.is_multiple_of(400)) => {
            29
        }
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plain(text: &str) -> Scalar<'_> {
        resolve(text, true, None)
    }

    #[test]
    fn yaml11_booleans_and_nulls() {
        assert_eq!(plain("yes"), Scalar::Bool(true));
        assert_eq!(plain("Off"), Scalar::Bool(false));
        assert_eq!(plain("oN"), Scalar::Str("oN"));
        assert_eq!(plain("y"), Scalar::Str("y"));
        assert_eq!(plain("~"), Scalar::Null);
        assert_eq!(plain(""), Scalar::Null);
        assert_eq!(resolve("yes", false, None), Scalar::Str("yes"));
    }

    #[test]
    fn yaml11_integers() {
        assert_eq!(plain("0755"), Scalar::Int(493));
        assert_eq!(plain("0o755"), Scalar::Str("0o755"));
        assert_eq!(plain("08"), Scalar::Str("08"));
        assert_eq!(plain("0x_1f"), Scalar::Int(31));
        assert_eq!(plain("-0b101"), Scalar::Int(-5));
        assert_eq!(plain("1_000"), Scalar::Int(1000));
        assert_eq!(plain("2222:22"), Scalar::Int(133_342));
        assert_eq!(plain("1:60"), Scalar::Str("1:60"));
        assert_eq!(plain("0_"), Scalar::Int(0));
    }

    #[test]
    fn yaml11_floats() {
        assert_eq!(plain("1."), Scalar::Float(1.0));
        assert_eq!(plain("1.5E+3"), Scalar::Float(1500.0));
        assert_eq!(plain("1e3"), Scalar::Str("1e3"));
        assert_eq!(plain("1.0e3"), Scalar::Str("1.0e3"));
        assert_eq!(plain("1_0:30.5"), Scalar::Float(630.5));
        assert_eq!(plain("-.INF"), Scalar::Float(f64::NEG_INFINITY));
        assert!(matches!(plain(".NaN"), Scalar::Float(f) if f.is_nan()));
    }

    #[test]
    fn yaml11_timestamps() {
        assert_eq!(plain("2024-02-29"), Scalar::Timestamp("2024-02-29".into()));
        assert_eq!(plain("2024-2-29"), Scalar::Str("2024-2-29"));
        assert_eq!(plain("2023-02-29"), Scalar::Str("2023-02-29"));
        assert_eq!(
            plain("2001-1-2 3:04:05.1234567 -5"),
            Scalar::Timestamp("2001-01-02T03:04:05.123456-05:00".into())
        );
        assert_eq!(
            plain("2001-01-02t03:04:05Z"),
            Scalar::Timestamp("2001-01-02T03:04:05+00:00".into())
        );
    }

    #[test]
    fn tags_force_or_keep_types() {
        assert_eq!(
            resolve("8080", true, Some("tag:yaml.org,2002:str")),
            Scalar::Str("8080")
        );
        assert_eq!(
            resolve("12", false, Some("tag:yaml.org,2002:int")),
            Scalar::Int(12)
        );
        assert_eq!(resolve("8080", true, Some("!reset")), Scalar::Int(8080));
        assert_eq!(resolve("8080", false, Some("!")), Scalar::Int(8080));
        assert_eq!(resolve("8080", false, Some("!reset")), Scalar::Str("8080"));
    }
}
