//! Secret redaction shared by every output path.
//!
//! Values of secret-looking keys are replaced whole; passwords inside URLs and DSNs and
//! `Password=` parts of ADO-style connection strings are replaced in place, keeping host and port.

/// The text that replaces a secret.
pub const REDACTED: &str = "***";

const SECRET_WORDS: [&str; 7] = [
    "KEY",
    "SECRET",
    "TOKEN",
    "PASSWORD",
    "PASSWD",
    "CREDENTIAL",
    "PWD",
];

/// True when a key names a secret (`API_KEY`, `db_password`, `authToken`…).
///
/// ```
/// use switchyard_model::redact::is_secret_key;
/// assert!(is_secret_key("JWT_SECRET"));
/// assert!(is_secret_key("apiKey"));
/// assert!(!is_secret_key("DATABASE_URL"));
/// assert!(!is_secret_key("MONKEY_HOST"));
/// ```
pub fn is_secret_key(key: &str) -> bool {
    // Every secret word contains one of these: most keys are rejected without splitting them.
    let bytes = key.as_bytes();
    let at = |i: usize, part: &[u8]| {
        bytes
            .get(i..i + part.len())
            .is_some_and(|w| w.eq_ignore_ascii_case(part))
    };
    // One pass: only a position whose letter starts a part is compared.
    let maybe = (0..bytes.len()).any(|i| match bytes[i].to_ascii_lowercase() {
        b'k' => at(i, b"key"),
        b's' => at(i, b"secret"),
        b't' => at(i, b"token"),
        b'p' => at(i, b"pass") || at(i, b"pwd"),
        b'c' => at(i, b"credential"),
        _ => false,
    });
    if !maybe {
        return false;
    }
    // Whole words, so `MONKEY` does not match `KEY`.
    let words = key_words(key);
    words.iter().any(|w| {
        SECRET_WORDS.contains(&w.as_str())
            || w.ends_with("PASSWORD")
            || w.ends_with("SECRET")
            || w.ends_with("TOKEN")
            || w.starts_with("CREDENTIAL")
            || w == "APIKEY"
            || w == "PASS"
    })
}

/// The words of a key, upper-cased: split at anything not alphanumeric and where a lower-case
/// letter or digit meets an upper-case one (`dbPassword` → `DB`, `PASSWORD`; `OTEL_ENDPOINT` →
/// `OTEL`, `ENDPOINT`).
///
/// ```
/// use switchyard_model::redact::key_words;
/// assert_eq!(key_words("jaegerAgent-host"), ["JAEGER", "AGENT", "HOST"]);
/// ```
pub fn key_words(key: &str) -> Vec<String> {
    let mut words: Vec<String> = Vec::new();
    let mut current = String::new();
    let mut prev_lower = false;
    for c in key.chars() {
        if !c.is_ascii_alphanumeric() {
            if !current.is_empty() {
                words.push(std::mem::take(&mut current));
            }
            prev_lower = false;
            continue;
        }
        if c.is_ascii_uppercase() && prev_lower && !current.is_empty() {
            words.push(std::mem::take(&mut current));
        }
        prev_lower = c.is_ascii_lowercase() || c.is_ascii_digit();
        current.push(c.to_ascii_uppercase());
    }
    if !current.is_empty() {
        words.push(current);
    }
    words
}

/// Redacts every secret that can sit inside one value or line of text: the password of every
/// `scheme://user:password@host`, the value of a secret-looking key in `;`-separated connection
/// strings (`Password=`, `Pwd=`), in libpq keyword strings and query strings (`password=…`,
/// `?access_token=…`), and the credential after `Bearer`/`Basic`.
///
/// ```
/// use switchyard_model::redact::redact_passwords;
/// assert_eq!(redact_passwords("postgres://app:s3cret@db:5432/app"), "postgres://app:***@db:5432/app");
/// assert_eq!(redact_passwords("Server=db;User Id=sa;Password=x;"), "Server=db;User Id=sa;Password=***;");
/// assert_eq!(redact_passwords("host=db port=5432 password=s3cret"), "host=db port=5432 password=***");
/// assert_eq!(redact_passwords("Bearer eyJhbGciOi.x"), "Bearer ***");
/// assert_eq!(redact_passwords("http://api:8080/x"), "http://api:8080/x");
/// ```
pub fn redact_passwords(text: &str) -> String {
    let out = redact_url_passwords(text);
    let out = redact_connection_string_password(&out);
    let out = redact_key_value_pairs(&out);
    redact_auth_schemes(&out)
}

fn redact_url_passwords(text: &str) -> String {
    // No `@`, no user information, no password.
    if !text.contains("://") || !text.contains('@') {
        return text.to_string();
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(pos) = rest.find("://") {
        let (head, tail) = rest.split_at(pos + 3);
        out.push_str(head);
        // The authority ends at the first '/', '?', '#', whitespace, or a quote or backslash
        // (the end of a quoted string), so a redaction never crosses a JSON string's edge.
        let auth_end = tail
            .find(|c: char| matches!(c, '/' | '?' | '#' | '"' | '\'' | '\\') || c.is_whitespace())
            .unwrap_or(tail.len());
        let authority = &tail[..auth_end];
        match authority.rfind('@') {
            Some(at) => {
                let userinfo = &authority[..at];
                match userinfo.find(':') {
                    Some(colon) => {
                        out.push_str(&userinfo[..colon]);
                        out.push(':');
                        out.push_str(REDACTED);
                    }
                    None => out.push_str(userinfo),
                }
                out.push_str(&authority[at..]);
            }
            None => out.push_str(authority),
        }
        rest = &tail[auth_end..];
    }
    out.push_str(rest);
    out
}

fn redact_connection_string_password(text: &str) -> String {
    if !text.contains(';') || !text.contains('=') {
        return text.to_string();
    }
    text.split(';')
        .map(|part| match part.split_once('=') {
            Some((k, v)) if is_connection_key(k) && is_secret_key(k.trim()) && !v.is_empty() => {
                // The value ends with the part, or at a quote or backslash closing the string
                // the connection string sits in.
                let end = v.find(['"', '\\']).unwrap_or(v.len());
                if end == 0 || &v[..end] == REDACTED {
                    part.to_string()
                } else {
                    format!("{k}={REDACTED}{}", &v[end..])
                }
            }
            _ => part.to_string(),
        })
        .collect::<Vec<_>>()
        .join(";")
}

/// A key of a `;`-separated connection string (`Password`, `User Id`), not a run of prose that
/// happens to end before an `=`.
fn is_connection_key(key: &str) -> bool {
    let key = key.trim();
    !key.is_empty()
        && key.len() <= 40
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, ' ' | '_' | '-' | '.'))
}

/// Whether a JSON member's value is hidden: its name is secret-looking, and it is not the bare
/// `key`/`keys` that names something (a config key, a cache key) rather than holding one.
fn is_secret_member(name: &str) -> bool {
    !name.eq_ignore_ascii_case("key") && !name.eq_ignore_ascii_case("keys") && is_secret_key(name)
}

/// `key=value` pairs separated by whitespace, `&`, `?`, `,` or `;` (libpq keyword strings, query
/// strings, command-line flags): the value of a secret-looking key, quoted or not, is replaced.
fn redact_key_value_pairs(text: &str) -> String {
    if !text.contains('=') {
        return text.to_string();
    }
    let bytes = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut copied = 0;
    let mut search = 0;
    while let Some(rel) = text[search..].find('=') {
        let eq = search + rel;
        search = eq + 1;
        // The key starts after the last character that cannot be part of it (which may be
        // several bytes long).
        let key_start = text[..eq]
            .char_indices()
            .rev()
            .find(|&(_, c)| !(c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.')))
            .map_or(0, |(i, c)| i + c.len_utf8());
        let key = &text[key_start..eq];
        let boundary = key_start == 0
            || matches!(
                bytes[key_start - 1],
                b' ' | b'\t' | b'&' | b'?' | b',' | b';' | b'"' | b'\'' | b'(' | b'{' | b'['
            );
        if key.is_empty() || !boundary || !is_secret_key(key.trim_start_matches('-')) {
            continue;
        }
        let value_start = eq + 1;
        let value_end = match bytes.get(value_start) {
            Some(&q @ (b'"' | b'\'')) => text[value_start + 1..]
                .find(q as char)
                .map_or(text.len(), |i| value_start + 1 + i + 1),
            Some(_) => text[value_start..]
                .find(|c: char| {
                    c.is_whitespace() || matches!(c, '&' | ',' | ';' | '"' | '\'' | ')' | '\\')
                })
                .map_or(text.len(), |i| value_start + i),
            None => continue,
        };
        let value = &text[value_start..value_end];
        if value.is_empty() || value == REDACTED || value.trim_matches(['"', '\'']) == REDACTED {
            continue;
        }
        out.push_str(&text[copied..value_start]);
        match value.chars().next() {
            Some(q @ ('"' | '\'')) if value.len() >= 2 && value.ends_with(q) => {
                out.push(q);
                out.push_str(REDACTED);
                out.push(q);
            }
            _ => out.push_str(REDACTED),
        }
        copied = value_end;
        search = value_end.max(search);
    }
    out.push_str(&text[copied..]);
    out
}

/// The credential after an HTTP authorization scheme (`Bearer abc.def`, `Basic dXNlcjpw`).
/// Short or all-lowercase words are prose ("Bearer token"), not credentials.
fn redact_auth_schemes(text: &str) -> String {
    const SCHEMES: [&str; 2] = ["bearer", "basic"];
    let lower = text.to_ascii_lowercase();
    if !SCHEMES.iter().any(|s| lower.contains(s)) {
        return text.to_string();
    }
    let mut out = String::with_capacity(text.len());
    let mut copied = 0;
    for scheme in SCHEMES {
        let mut from = 0;
        while let Some(rel) = lower[from..].find(scheme) {
            let at = from + rel;
            from = at + scheme.len();
            let before_ok = at == 0 || !lower.as_bytes()[at - 1].is_ascii_alphanumeric();
            let after = &text[from..];
            let gap = after.len() - after.trim_start_matches([' ', '\t']).len();
            if !before_ok || gap == 0 || at < copied {
                continue;
            }
            let cred_start = from + gap;
            let cred_len = text[cred_start..]
                .find(|c: char| {
                    !(c.is_ascii_alphanumeric()
                        || matches!(c, '-' | '.' | '_' | '~' | '+' | '/' | '='))
                })
                .unwrap_or(text.len() - cred_start);
            let cred = &text[cred_start..cred_start + cred_len];
            let prose = cred.len() < 8 || cred.chars().all(|c| c.is_ascii_lowercase());
            if prose {
                continue;
            }
            out.push_str(&text[copied..cred_start]);
            out.push_str(REDACTED);
            copied = cred_start + cred_len;
        }
    }
    if copied == 0 {
        return text.to_string();
    }
    out.push_str(&text[copied..]);
    out
}

/// One line of program output (a table row, a pretty-printed JSON member, a DOT or Mermaid
/// statement) as safe to print: a JSON member `"key": "value"` under a secret-looking key has its
/// string hidden, and everything [`redact_passwords`] finds is hidden. A redaction never crosses
/// a quote or a backslash, so JSON stays valid.
///
/// ```
/// use switchyard_model::redact::redact_output_line;
/// assert_eq!(redact_output_line(r#"  "apiToken": "abc","#), r#"  "apiToken": "***","#);
/// assert_eq!(redact_output_line(r#"  "url": "redis://:pw@r:6379""#), r#"  "url": "redis://:***@r:6379""#);
/// assert_eq!(redact_output_line("│ api │ web │"), "│ api │ web │");
/// ```
pub fn redact_output_line(line: &str) -> std::borrow::Cow<'_, str> {
    use std::borrow::Cow;
    if let Some(hidden) = redact_json_member(line) {
        return Cow::Owned(hidden);
    }
    if !may_hold_secret(line) {
        return Cow::Borrowed(line);
    }
    let out = redact_passwords(line);
    if out == line {
        Cow::Borrowed(line)
    } else {
        Cow::Owned(out)
    }
}

/// A one-pass test over a line's bytes: true when the line can be written exactly as it is —
/// every byte printable ASCII or a tab (nothing a terminal would interpret), and
/// [`redact_output_line`] would return it unchanged because no rule can apply (no `=`, no `@`,
/// no `Bearer`/`Basic`, no JSON member under a secret-looking key). Output writers copy such
/// lines without decoding them.
///
/// ```
/// use switchyard_model::redact::output_line_is_plain;
/// assert!(output_line_is_plain(b"\t\"from\": \"api\","));
/// assert!(!output_line_is_plain(br#"    "token": "abc","#));
/// assert!(!output_line_is_plain(b"redis://:pw@cache:6379"));
/// assert!(!output_line_is_plain(b"Authorization: BEARER abcdefgh123"));
/// assert!(!output_line_is_plain("caf\u{e9}".as_bytes()));
/// assert!(!output_line_is_plain(b"bell\x07"));
/// ```
pub fn output_line_is_plain(line: &[u8]) -> bool {
    scan_output_line(line, true)
}

/// The scan behind [`output_line_is_plain`]; `printable: false` leaves out the byte check
/// (tests use it on lines with box-drawing characters).
fn scan_output_line(line: &[u8], printable: bool) -> bool {
    for (i, &b) in line.iter().enumerate() {
        match b {
            _ if printable && !(b == b'\t' || (0x20..0x7f).contains(&b)) => return false,
            b'=' | b'@' => return false,
            b'b' | b'B' => {
                let rest = &line[i + 1..];
                let starts = |word: &[u8]| {
                    rest.len() >= word.len() && rest[..word.len()].eq_ignore_ascii_case(word)
                };
                if starts(b"earer") || starts(b"asic") {
                    return false;
                }
            }
            _ => {}
        }
    }
    let trimmed = line.trim_ascii_start();
    match trimmed.strip_prefix(b"\"") {
        None => true,
        Some(body) => match body.iter().position(|&b| b == b'"' || b == b'\\') {
            // An escaped key is unusual: let the full redactor decide.
            Some(end) if body[end] == b'\\' => false,
            Some(end) => std::str::from_utf8(&body[..end]).is_ok_and(|key| !is_secret_member(key)),
            None => true,
        },
    }
}

/// A cheap test: could [`redact_passwords`] change this text at all?
fn may_hold_secret(text: &str) -> bool {
    text.contains('=')
        || text.contains("://")
        || ["earer", "EARER", "asic", "ASIC"]
            .iter()
            .any(|w| text.contains(w))
}

/// `"key": "value"` (one pretty-printed JSON member) with a secret-looking key: the line with the
/// string's content hidden.
fn redact_json_member(line: &str) -> Option<String> {
    let trimmed = line.trim_start();
    let key_body = trimmed.strip_prefix('"')?;
    let key_end = json_string_end(key_body)?;
    let key = &key_body[..key_end];
    if !is_secret_member(key) {
        return None;
    }
    let rest = key_body[key_end + 1..].strip_prefix(':')?.trim_start();
    let value_body = rest.strip_prefix('"')?;
    let value_end = json_string_end(value_body)?;
    let value = &value_body[..value_end];
    if value.is_empty() || value == REDACTED {
        return None;
    }
    let head = line.len() - value_body.len();
    Some(format!(
        "{}{REDACTED}{}",
        &line[..head],
        &value_body[value_end..]
    ))
}

/// Byte offset of the closing quote of a JSON string whose opening quote was just consumed.
fn json_string_end(body: &str) -> Option<usize> {
    let bytes = body.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => i += 2,
            b'"' => return Some(i),
            _ => i += 1,
        }
    }
    None
}

/// The printable form of `value` stored under `key`.
///
/// ```
/// use switchyard_model::redact::redact_value;
/// assert_eq!(redact_value("DB_PASSWORD", "hunter2"), "***");
/// assert_eq!(redact_value("DATABASE_URL", "mysql://root:pw@db/app"), "mysql://root:***@db/app");
/// ```
pub fn redact_value(key: &str, value: &str) -> String {
    if is_secret_key(key) && !value.is_empty() {
        REDACTED.to_string()
    } else {
        redact_passwords(value)
    }
}

/// Header directives of proxies (nginx, Caddy-like) whose second word names a header and whose
/// rest is that header's value.
const HEADER_DIRECTIVES: [&str; 5] = [
    "proxy_set_header",
    "add_header",
    "grpc_set_header",
    "more_set_headers",
    "fastcgi_param",
];

fn is_secret_header(name: &str) -> bool {
    let name = name.trim_matches(['"', '\'']);
    [
        "authorization",
        "proxy-authorization",
        "cookie",
        "set-cookie",
    ]
    .iter()
    .any(|h| name.eq_ignore_ascii_case(h))
        || is_secret_key(name)
}

/// One line of a config file as safe to print: the value of a secret-looking `KEY=value`,
/// `key: value` or `"key": "value"` (also after `- ` and `export `), of a secret header set by a
/// proxy directive, and every secret [`redact_passwords`] finds.
///
/// ```
/// use switchyard_model::redact::redact_line;
/// assert_eq!(redact_line("  - JWT_SECRET=hunter2"), "  - JWT_SECRET=***");
/// assert_eq!(redact_line("    \"apiKey\": \"abc\","), "    \"apiKey\": \"***\",");
/// assert_eq!(redact_line("proxy_set_header X-Api-Key abc123;"), "proxy_set_header X-Api-Key ***;");
/// assert_eq!(redact_line("LOG_LEVEL=info"), "LOG_LEVEL=info");
/// ```
pub fn redact_line(line: &str) -> String {
    let (line, newline) = match line.strip_suffix('\n') {
        Some(l) => match l.strip_suffix('\r') {
            Some(l) => (l, "\r\n"),
            None => (l, "\n"),
        },
        None => (line, ""),
    };
    let trimmed = line.trim_start();
    let indent = &line[..line.len() - trimmed.len()];
    if let Some(out) = redact_header_directive(trimmed) {
        return format!("{indent}{out}{newline}");
    }
    let body = trimmed
        .strip_prefix("- ")
        .or_else(|| trimmed.strip_prefix("export "))
        .unwrap_or(trimmed);
    let prefix = &trimmed[..trimmed.len() - body.len()];
    if let Some(at) = body.find(['=', ':']) {
        let key = body[..at].trim().trim_matches(['"', '\'']);
        let value = body[at + 1..].trim();
        let is_key = !key.is_empty() && !key.contains(char::is_whitespace);
        if is_key && is_secret_key(key) && !value.is_empty() && !value.starts_with('#') {
            let sep = &body[at..=at];
            let space = if sep == ":" { " " } else { "" };
            let hidden = match value.chars().next() {
                Some(q @ ('"' | '\'')) => match value[1..].find(q) {
                    Some(close) => format!("{q}{REDACTED}{q}{}", &value[close + 2..]),
                    None => REDACTED.to_string(),
                },
                _ => REDACTED.to_string(),
            };
            return format!(
                "{indent}{prefix}{}{sep}{space}{hidden}{newline}",
                &body[..at]
            );
        }
    }
    format!("{}{newline}", redact_passwords(line))
}

fn redact_header_directive(trimmed: &str) -> Option<String> {
    let mut words = trimmed.splitn(3, [' ', '\t']);
    let directive = words.next()?;
    if !HEADER_DIRECTIVES.contains(&directive) {
        return None;
    }
    let name = words.next()?;
    let value = words.next()?.trim_start();
    if !is_secret_header(name) || value.is_empty() {
        return None;
    }
    let end = value.rfind(';').unwrap_or(value.len());
    let (v, rest) = value.split_at(end);
    let quoted = v.starts_with('"') && v.ends_with('"') && v.len() >= 2;
    let hidden = if quoted {
        format!("\"{REDACTED}\"")
    } else {
        REDACTED.to_string()
    };
    Some(format!("{directive} {name} {hidden}{rest}"))
}

/// Many lines of text (a config file, a message) as safe to print: [`redact_line`] on each line,
/// and the body of PEM private-key blocks hidden.
///
/// ```
/// use switchyard_model::redact::redact_text;
/// let text = "A=1\nDB_PASSWORD=x\n-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----\n";
/// assert_eq!(redact_text(text), "A=1\nDB_PASSWORD=***\n-----BEGIN PRIVATE KEY-----\n***\n-----END PRIVATE KEY-----\n");
/// ```
pub fn redact_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut in_key = false;
    for line in text.split_inclusive('\n') {
        if line.contains("-----BEGIN") && line.contains("PRIVATE KEY") {
            in_key = true;
            out.push_str(line);
        } else if in_key && line.contains("-----END") {
            in_key = false;
            out.push_str(line);
        } else if in_key {
            out.push_str(REDACTED);
            if line.ends_with('\n') {
                out.push('\n');
            }
        } else {
            out.push_str(&redact_line(line));
        }
    }
    out
}

/// A unified diff as safe to print: every body line (context, added, removed) through
/// [`redact_line`], headers kept, so context lines of an `.env` file never leak a secret.
///
/// ```
/// use switchyard_model::redact::redact_diff;
/// let diff = "--- a/api/.env\n+++ b/api/.env\n@@ -1,2 +1,2 @@\n API_TOKEN=abc\n-PORT=1\n+PORT=2\n";
/// assert_eq!(redact_diff(diff), "--- a/api/.env\n+++ b/api/.env\n@@ -1,2 +1,2 @@\n API_TOKEN=***\n-PORT=1\n+PORT=2\n");
/// ```
pub fn redact_diff(diff: &str) -> String {
    let mut out = String::with_capacity(diff.len());
    for line in diff.split_inclusive('\n') {
        let is_body =
            !line.starts_with("---") && !line.starts_with("+++") && !line.starts_with("@@");
        match line.chars().next() {
            Some(mark @ (' ' | '+' | '-')) if is_body => {
                out.push(mark);
                out.push_str(&redact_line(&line[1..]));
            }
            _ => out.push_str(line),
        }
    }
    out
}

/// A JSON value as safe to print: the value of a member with a secret-looking name hidden
/// (strings, arrays and objects; `null`, booleans and numbers such as counts kept; a member named
/// just `key` names a key rather than holding one), every string through [`redact_passwords`],
/// nested objects and arrays alike.
///
/// ```
/// use serde_json::json;
/// use switchyard_model::redact::redact_json;
/// let v = json!({"apiKey": "abc", "key": "API_KEY", "url": "redis://:pw@r:6379", "secretKeys": 1});
/// assert_eq!(
///     redact_json("", &v),
///     json!({"apiKey": "***", "key": "API_KEY", "url": "redis://:***@r:6379", "secretKeys": 1})
/// );
/// ```
pub fn redact_json(key: &str, value: &serde_json::Value) -> serde_json::Value {
    let mut out = value.clone();
    redact_json_in_place(key, &mut out);
    out
}

/// [`redact_json`] without a copy; true when anything was hidden.
pub fn redact_json_in_place(key: &str, value: &mut serde_json::Value) -> bool {
    use serde_json::Value;
    if is_secret_member(key) {
        return match value {
            Value::Null | Value::Bool(_) | Value::Number(_) => false,
            Value::String(s) if s == REDACTED => false,
            _ => {
                *value = Value::String(REDACTED.into());
                true
            }
        };
    }
    match value {
        Value::String(s) => {
            if !may_hold_secret(s) {
                return false;
            }
            let safe = redact_passwords(s);
            let changed = safe != *s;
            if changed {
                *s = safe;
            }
            changed
        }
        Value::Array(items) => items
            .iter_mut()
            .fold(false, |changed, v| redact_json_in_place("", v) | changed),
        Value::Object(map) => map.iter_mut().fold(false, |changed, (k, v)| {
            redact_json_in_place(k, v) | changed
        }),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_keys() {
        for k in [
            "API_KEY",
            "api-key",
            "SECRET",
            "CLIENT_SECRET",
            "GITHUB_TOKEN",
            "accessToken",
            "MYSQL_ROOT_PASSWORD",
            "DB_PASSWD",
            "AWS_CREDENTIALS",
            "apikey",
            "REDIS_PASS",
        ] {
            assert!(is_secret_key(k), "{k} should be secret");
        }
        for k in [
            "DATABASE_URL",
            "PORT",
            "KEYCLOAK_HOST_NAME",
            "TOKENIZER_URL_BASE",
        ] {
            // KEYCLOAK and TOKENIZER are whole words that merely start with a secret word.
            assert!(!is_secret_key(k), "{k} should not be secret");
        }
    }

    #[test]
    fn redacts_every_url_in_text() {
        let s = "a=redis://:pw@r:6379 b=amqp://u:p@mq/";
        assert_eq!(
            redact_passwords(s),
            "a=redis://:***@r:6379 b=amqp://u:***@mq/"
        );
    }

    #[test]
    fn keeps_user_without_password() {
        assert_eq!(redact_passwords("ssh://git@host/x"), "ssh://git@host/x");
    }

    #[test]
    fn libpq_and_query_strings() {
        assert_eq!(
            redact_passwords("host=db user=app password='a b' dbname=x"),
            "host=db user=app password='***' dbname=x"
        );
        assert_eq!(
            redact_passwords("https://api/x?access_token=abc123&page=2"),
            "https://api/x?access_token=***&page=2"
        );
        assert_eq!(redact_passwords("--db-password=abc"), "--db-password=***");
        // A key that merely ends in a secret-looking word part stays.
        assert_eq!(
            redact_passwords("monkey=1 keyboard=2"),
            "monkey=1 keyboard=2"
        );
        assert_eq!(redact_passwords("password=***"), "password=***");
        // Prose before a `;` is no connection-string key.
        let prose = "(same server; database, user or password differ) NTFY_URL=https://ntfy.sh/a";
        assert_eq!(redact_passwords(prose), prose);
    }

    #[test]
    fn authorization_credentials() {
        assert_eq!(
            redact_passwords("Authorization: Bearer eyJhbGc.eyJzdWIi.sig"),
            "Authorization: Bearer ***"
        );
        assert_eq!(redact_passwords("basic dXNlcjpwYXNz"), "basic ***");
        // Prose is kept.
        assert_eq!(
            redact_passwords("a Bearer token is needed"),
            "a Bearer token is needed"
        );
    }

    #[test]
    fn lines_of_every_config_shape() {
        for (line, want) in [
            ("DB_PASSWORD=x\n", "DB_PASSWORD=***\n"),
            ("export API_KEY=\"abc\"\r\n", "export API_KEY=\"***\"\r\n"),
            (
                "      MYSQL_ROOT_PASSWORD: root",
                "      MYSQL_ROOT_PASSWORD: ***",
            ),
            ("  secret: 'abc' # note", "  secret: '***' # note"),
            (
                "proxy_set_header Authorization \"Bearer abcdef123456\";",
                "proxy_set_header Authorization \"***\";",
            ),
            (
                "  DATABASE_URL: postgres://u:pw@db/app",
                "  DATABASE_URL: postgres://u:***@db/app",
            ),
            ("PASSWORD=", "PASSWORD="),
            ("# the API_KEY: see docs", "# the API_KEY: see docs"),
        ] {
            assert_eq!(redact_line(line), want, "{line}");
        }
    }

    /// Every redactor on every string of up to four pieces, multi-byte characters next to every
    /// separator: no panic (a byte index inside a character once took the server down).
    #[test]
    fn no_input_makes_a_redactor_panic() {
        const PIECES: [&str; 14] = [
            "\u{80}", "é", "€", "=", "password", "://", "@", ":", ";", "Bearer ", "\"", "\\", " ",
            "x",
        ];
        let n = PIECES.len();
        for code in 0..n * n * n * n {
            let mut text = String::new();
            let mut rest = code;
            for _ in 0..4 {
                text.push_str(PIECES[rest % n]);
                rest /= n;
            }
            let _ = redact_passwords(&text);
            let _ = redact_line(&text);
            let out = redact_output_line(&text);
            // The fast path never lets through a line the full redactor would change.
            if scan_output_line(text.as_bytes(), false) {
                assert_eq!(out, text, "a clean line was changed");
            }
            let _ = redact_text(&text);
            let _ = redact_diff(&format!(" {text}\n+{text}"));
            let _ = redact_json("", &serde_json::Value::String(text.clone()));
        }
    }

    #[test]
    fn clean_output_lines() {
        let clean = [
            r#"  "from": "api","#,
            r#"  "kind": "call","#,
            "│ api │ web │ call │ high │",
            r#"  "keys": "a b","#,
            "",
            "\"unterminated",
        ];
        for line in clean {
            assert!(scan_output_line(line.as_bytes(), false), "{line}");
            assert_eq!(redact_output_line(line), line);
        }
        let dirty = [
            r#"  "apiToken": "abc","#,
            r#"  "db\"Password": "abc","#,
            "postgres://u:p@db/x",
            "host=db password=x",
            "Authorization: bAsIc dXNlcjpwYXNzd29yZA",
        ];
        for line in dirty {
            assert!(!scan_output_line(line.as_bytes(), false), "{line}");
        }
    }
}
