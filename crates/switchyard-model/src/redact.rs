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
    // Split camelCase and snake/kebab case into words so `MONKEY` does not match `KEY`.
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

/// Redacts the password of every `scheme://user:password@host` in `text`, and the value of
/// `Password=`/`Pwd=` in `;`-separated connection strings.
///
/// ```
/// use switchyard_model::redact::redact_passwords;
/// assert_eq!(redact_passwords("postgres://app:s3cret@db:5432/app"), "postgres://app:***@db:5432/app");
/// assert_eq!(redact_passwords("Server=db;User Id=sa;Password=x;"), "Server=db;User Id=sa;Password=***;");
/// assert_eq!(redact_passwords("http://api:8080/x"), "http://api:8080/x");
/// ```
pub fn redact_passwords(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(pos) = rest.find("://") {
        let (head, tail) = rest.split_at(pos + 3);
        out.push_str(head);
        // The authority ends at the first '/', '?', '#', or whitespace.
        let auth_end = tail
            .find(|c: char| c == '/' || c == '?' || c == '#' || c.is_whitespace())
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
    redact_connection_string_password(&out)
}

fn redact_connection_string_password(text: &str) -> String {
    if !text.contains(';') || !text.contains('=') {
        return text.to_string();
    }
    text.split(';')
        .map(|part| match part.split_once('=') {
            Some((k, _)) if is_secret_key(k.trim()) => format!("{k}={REDACTED}"),
            _ => part.to_string(),
        })
        .collect::<Vec<_>>()
        .join(";")
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
}
