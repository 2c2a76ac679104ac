//! Helpers every extractor uses to record environment values and address references the same
//! way: redacted display, hashed value, and a reference only for values that look like an address.

use switchyard_model::redact::{is_secret_key, redact_passwords, redact_value};
use switchyard_model::{EnvEntry, Location, Mechanism, Reference, RepoFacts, Scope, Target};

/// Key words (last `_`-separated word of an env key, or a config key) whose values name a host.
const HOST_KEY_WORDS: &[&str] = &[
    "HOST",
    "HOSTS",
    "HOSTNAME",
    "URL",
    "URLS",
    "URI",
    "URIS",
    "ADDR",
    "ADDRESS",
    "ENDPOINT",
    "ENDPOINTS",
    "SERVER",
    "SERVERS",
    "BROKER",
    "BROKERS",
    "DSN",
    "CONNECTION",
    "CONNECTIONSTRING",
    "UPSTREAM",
    "BACKEND",
    "TARGET",
    "TARGETS",
    "BOOTSTRAP",
    "DNS",
    "NAMESERVER",
    "NAMESERVERS",
    "UPSTREAMS",
];

/// Keys whose values list *callers* (CORS allow-lists), never services this one calls.
/// (Redirect URIs are recorded: the linker keeps them as client registrations.)
fn is_origin_key(key: &str) -> bool {
    let k = key.to_ascii_uppercase();
    k.contains("ORIGIN") || k.contains("CORS") || k.contains("ALLOWED_HOSTS")
}

/// The last alphanumeric word of a key, uppercased: `REACT_APP_API_URL` → `URL`, `apiUrl` → `URL`.
pub fn key_last_word(key: &str) -> String {
    let mut last = String::new();
    let mut prev_lower = false;
    for c in key.chars() {
        if !c.is_ascii_alphanumeric() {
            prev_lower = false;
            last.push(' ');
            continue;
        }
        if c.is_ascii_uppercase() && prev_lower {
            last.push(' ');
        }
        prev_lower = c.is_ascii_lowercase() || c.is_ascii_digit();
        last.push(c.to_ascii_uppercase());
    }
    last.split_whitespace().last().unwrap_or("").to_string()
}

/// True when `host:port` shape: a host-ish token, a colon, digits.
fn looks_like_host_port(value: &str) -> bool {
    let Some((host, port)) = value.rsplit_once(':') else {
        return false;
    };
    !host.is_empty()
        && host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-' || c == '_')
        && host.chars().any(|c| c.is_ascii_alphabetic() || c == '.')
        && !port.is_empty()
        && port.len() <= 5
        && port.chars().all(|c| c.is_ascii_digit())
}

/// `kafka-1:9092,kafka-2:9092`, or StackExchange.Redis' `cache:6379,password=…,ssl=False`: a
/// comma list starting with `host:port` whose other items are hosts or options.
fn is_host_list(value: &str) -> bool {
    let mut items = value.split(',').map(str::trim);
    items.next().is_some_and(looks_like_host_port)
        && value.contains(',')
        && items.all(|i| looks_like_host_port(i) || (i.contains('=') && !i.starts_with('=')))
}

/// Whether a value under `key` should be treated as an address to resolve.
pub fn is_address_candidate(key: &str, value: &str) -> bool {
    let value = value.trim();
    if value.is_empty() || value.len() > 2048 || is_origin_key(key) {
        return false;
    }
    // Flags and listen-on-all addresses are never something a service calls.
    const NOT_ADDRESSES: [&str; 12] = [
        "true", "false", "yes", "no", "on", "off", "null", "none", "0.0.0.0", "::", "[::]", "*",
    ];
    if NOT_ADDRESSES.contains(&value.to_ascii_lowercase().as_str()) {
        return false;
    }
    // `0.0.0.0:4317`, `[::]:8080`: where a server listens, on every interface.
    if value.starts_with("0.0.0.0:") || value.starts_with("[::]:") {
        return false;
    }
    if value.contains("://") {
        return true;
    }
    if is_secret_key(key) {
        return false;
    }
    let lower = value.to_ascii_lowercase();
    if lower.starts_with("server=") || lower.starts_with("host=") || lower.contains(";server=") {
        return true;
    }
    if looks_like_host_port(value) || is_host_list(value) {
        return true;
    }
    let word = key_last_word(key);
    HOST_KEY_WORDS.contains(&word.as_str())
        && !value.contains(char::is_whitespace)
        && value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || ".-_:,;#/[]".contains(c))
}

/// `host=db port=5432 dbname=app`: several `key=value` words, one of them naming the host.
fn is_keyword_value_string(value: &str) -> bool {
    let words: Vec<&str> = value.split_whitespace().collect();
    words.len() > 1
        && words.iter().all(|w| w.contains('=') && !w.starts_with('='))
        && words.iter().any(|w| {
            let key = w.split('=').next().unwrap_or("").to_ascii_lowercase();
            key == "host" || key == "hostaddr"
        })
}

/// Splits a list value (`a:9092,b:9092`) into its address parts; a single value stays whole.
fn address_parts(value: &str) -> Vec<&str> {
    if value.contains("://") && !value.contains(',') {
        return vec![value.trim()];
    }
    if value.contains(';') && value.contains('=') {
        // ADO-style connection strings (`Server=db;Database=x`) are one reference.
        return vec![value.trim()];
    }
    if is_keyword_value_string(value) {
        // libpq keyword/value strings (`host=db port=5432 dbname=app`) too.
        return vec![value.trim()];
    }
    value
        .split([',', ' ', ';'])
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .collect()
}

/// Records one `key=value` of a service's (or a loose file's) environment: an [`EnvEntry`] with
/// the redacted display and the value's hash, and an address [`Reference`] per address in it.
#[allow(clippy::too_many_arguments)]
pub fn record_env(
    out: &mut RepoFacts,
    service: Option<&str>,
    scope: &Scope,
    key: &str,
    value: &str,
    location: Location,
    mechanism: Mechanism,
) {
    out.env.push(EnvEntry {
        service: service.map(str::to_string),
        key: key.to_string(),
        display: redact_value(key, value),
        value_hash: blake3::hash(value.as_bytes()).to_hex().to_string(),
        location: location.clone(),
    });
    record_address(out, service, scope, key, value, location, mechanism);
}

/// Records an env entry without looking for addresses in it: a setting such as the host a dev
/// server binds (`HOST=127.0.0.1`), which names where the service listens, not what it calls.
pub fn record_setting(
    out: &mut RepoFacts,
    service: Option<&str>,
    key: &str,
    value: &str,
    location: Location,
) {
    out.env.push(EnvEntry {
        service: service.map(str::to_string),
        key: key.to_string(),
        display: redact_value(key, value),
        value_hash: blake3::hash(value.as_bytes()).to_hex().to_string(),
        location,
    });
}

/// Records address references found in `value` (without an env entry), e.g. for a URL inside
/// a config file or a command line argument.
#[allow(clippy::too_many_arguments)]
pub fn record_address(
    out: &mut RepoFacts,
    service: Option<&str>,
    scope: &Scope,
    key: &str,
    value: &str,
    location: Location,
    mechanism: Mechanism,
) {
    if !is_address_candidate(key, value) {
        return;
    }
    for part in address_parts(value) {
        if !part.contains("://") && !is_address_candidate(key, part) {
            continue;
        }
        out.references.push(Reference {
            from: service.map(str::to_string),
            target: Target::Address {
                text: redact_passwords(part),
            },
            mechanism,
            key: Some(key.to_string()),
            location: location.clone(),
            scope: scope.clone(),
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn candidates() {
        assert!(is_address_candidate("REDIS_HOST", "redis"));
        assert!(is_address_candidate("DATABASE_URL", "postgres://u:p@db/x"));
        assert!(is_address_candidate("ANYTHING", "api:8080"));
        assert!(is_address_candidate("apiUrl", "http://localhost:3001"));
        assert!(is_address_candidate(
            "ConnectionString",
            "Server=db;Database=x"
        ));
        assert!(!is_address_candidate(
            "CORS_ORIGINS",
            "http://localhost:3000"
        ));
        assert!(!is_address_candidate("NODE_ENV", "production"));
        assert!(!is_address_candidate("DEBUG", "true"));
        assert!(!is_address_candidate("REV_SERVER", "true"));
        assert!(!is_address_candidate("BIND_HOST", "0.0.0.0"));
        assert!(!is_address_candidate("endpoint", "0.0.0.0:4317"));
        assert!(!is_address_candidate("listen", "[::]:8080"));
        assert!(!is_address_candidate("DB_PASSWORD", "db"));
        assert!(!is_address_candidate("TIME", "12:30"));
    }

    #[test]
    fn dns_lists_split_on_semicolons() {
        let mut facts = RepoFacts::default();
        record_env(
            &mut facts,
            Some("pihole"),
            &Scope::Host,
            "PIHOLE_DNS_",
            "172.20.0.2#5054;1.1.1.1",
            Location::file("r", "compose.yaml"),
            Mechanism::Env,
        );
        let texts: Vec<_> = facts
            .references
            .iter()
            .map(|r| match &r.target {
                Target::Address { text } => text.as_str(),
                _ => "",
            })
            .collect();
        assert_eq!(texts, ["172.20.0.2#5054", "1.1.1.1"]);
    }

    #[test]
    fn last_word() {
        assert_eq!(key_last_word("REACT_APP_API_URL"), "URL");
        assert_eq!(key_last_word("apiUrl"), "URL");
        assert_eq!(key_last_word("spring.datasource.url"), "URL");
    }

    #[test]
    fn lists_split_into_references() {
        let mut facts = RepoFacts::default();
        record_env(
            &mut facts,
            Some("etl"),
            &Scope::Host,
            "KAFKA_BROKERS",
            "kafka1:9092,kafka2:9092",
            Location::file("r", ".env"),
            Mechanism::Env,
        );
        assert_eq!(facts.references.len(), 2);
        assert_eq!(facts.env.len(), 1);
    }

    #[test]
    fn redis_option_strings_keep_only_the_hosts() {
        let mut facts = RepoFacts::default();
        record_env(
            &mut facts,
            Some("api"),
            &Scope::Host,
            "ConnectionStrings__Cache",
            "cache-a:6379,cache-b:6380,password=hunter2,ssl=False,abortConnect=False",
            Location::file("r", "appsettings.json"),
            Mechanism::Env,
        );
        let texts: Vec<String> = facts
            .references
            .iter()
            .map(|r| match &r.target {
                Target::Address { text } => text.clone(),
                other => format!("{other:?}"),
            })
            .collect();
        assert_eq!(texts, ["cache-a:6379", "cache-b:6380"]);
        assert!(!format!("{:?}", facts.references).contains("hunter2"));
    }

    #[test]
    fn secrets_never_stored() {
        let mut facts = RepoFacts::default();
        record_env(
            &mut facts,
            None,
            &Scope::Host,
            "DATABASE_URL",
            "postgres://app:hunter2@db:5432/app",
            Location::file("r", ".env"),
            Mechanism::Env,
        );
        let dump = format!("{facts:?}");
        assert!(!dump.contains("hunter2"));
        assert_eq!(facts.references.len(), 1);
    }

    #[test]
    fn libpq_keyword_strings_are_one_reference_without_the_password() {
        let mut facts = RepoFacts::default();
        record_env(
            &mut facts,
            Some("worker"),
            &Scope::Host,
            "PG_CONN",
            "host=pg-main port=5433 dbname=jobs user=jobs password=hunter2 sslmode=disable",
            Location::file("r", ".env"),
            Mechanism::Env,
        );
        assert_eq!(facts.references.len(), 1);
        assert!(!format!("{facts:?}").contains("hunter2"));
        // Words that are not all `key=value` still split as a list.
        assert!(!is_keyword_value_string("host=a host=b and more"));
        assert!(!is_keyword_value_string("port=1 user=x"));
    }
}
