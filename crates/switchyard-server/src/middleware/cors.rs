//! The CORS allow-list: exact origins, `*` patterns (`https://*.example.com`,
//! `http://localhost:*`) and `^…$` regular expressions as in seed 000. The same list decides
//! which cross-origin requests are served at all (see `middleware::browser`). Credentials are
//! allowed, and only ever for an origin on the list; other origins get no CORS headers.

use std::time::Duration;

use axum::http::{HeaderName, HeaderValue, Method, header};
use regex::Regex;
use tower_http::cors::{AllowOrigin, CorsLayer};

use crate::config::{ConfigError, CorsConfig};

/// A compiled allow-list.
#[derive(Debug, Clone)]
pub struct OriginList {
    exact: Vec<String>,
    patterns: Vec<Regex>,
}

impl OriginList {
    pub fn new(config: &CorsConfig) -> Result<Self, ConfigError> {
        let patterns = config
            .origin_patterns
            .iter()
            .map(|p| compile(p))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(OriginList {
            exact: config
                .origins
                .iter()
                .map(|o| o.trim_end_matches('/').to_string())
                .collect(),
            patterns,
        })
    }

    pub fn is_empty(&self) -> bool {
        self.exact.is_empty() && self.patterns.is_empty()
    }

    pub fn allows(&self, origin: &str) -> bool {
        self.exact.iter().any(|o| o == origin) || self.patterns.iter().any(|p| p.is_match(origin))
    }
}

/// `^…` is a regular expression, anchored at both ends whatever it says. Otherwise the pattern
/// is `scheme://host[:port]`, literal except for `*`: in the port it stands for digits only
/// (`http://localhost:*`), in the host for part or all of one DNS label (`https://*.example.com`
/// matches `app.example.com`, not `a.b.example.com` nor `example.com`). So `http://localhost:*`
/// never matches `http://localhost:3000.evil.example` or `http://localhost:evil`.
fn compile(pattern: &str) -> Result<Regex, ConfigError> {
    let invalid = |why: &str| {
        ConfigError::Invalid(format!("cors origin pattern `{pattern}` is invalid: {why}"))
    };
    let source = if pattern.starts_with('^') {
        format!("^(?:{pattern})$")
    } else {
        let (scheme, authority) = pattern
            .split_once("://")
            .ok_or_else(|| invalid("expected scheme://host[:port]"))?;
        if scheme.contains('*') {
            return Err(invalid(
                "`*` may stand for a host label or a port, not the scheme",
            ));
        }
        if authority.contains(['/', '?', '#', '@']) {
            return Err(invalid("an origin has no path, query, fragment or user"));
        }
        // The port separator is the last `:` outside an IPv6 literal's brackets.
        let host_end = match authority.rfind(']') {
            Some(bracket) => authority[bracket..].find(':').map(|i| bracket + i),
            None => authority.rfind(':'),
        };
        let (host, port) = match host_end {
            Some(colon) => (&authority[..colon], Some(&authority[colon + 1..])),
            None => (authority, None),
        };
        if host.is_empty() {
            return Err(invalid("no host"));
        }
        let wild = |part: &str, star: &str| {
            part.split('*')
                .map(regex::escape)
                .collect::<Vec<_>>()
                .join(star)
        };
        let mut source = format!(
            "^{}://{}",
            regex::escape(scheme),
            wild(host, "[A-Za-z0-9-]+")
        );
        if let Some(port) = port {
            if !port.chars().all(|c| c == '*' || c.is_ascii_digit()) || port.is_empty() {
                return Err(invalid("a port is digits or `*`"));
            }
            source.push(':');
            source.push_str(&wild(port, "[0-9]+"));
        }
        source.push('$');
        source
    };
    Regex::new(&source).map_err(|e| invalid(&e.to_string()))
}

/// tower-http sends `Access-Control-Allow-Credentials: true` on every answer once credentials
/// are enabled, also to origins it did not allow. Harmless for browsers, but the API promises
/// credentials only for listed origins, so the outermost layer removes it where no
/// `Access-Control-Allow-Origin` was granted.
pub fn strip_stray_credentials(headers: &mut axum::http::HeaderMap) {
    if !headers.contains_key(header::ACCESS_CONTROL_ALLOW_ORIGIN) {
        headers.remove(header::ACCESS_CONTROL_ALLOW_CREDENTIALS);
    }
}

pub fn validate_patterns(config: &CorsConfig) -> Result<(), ConfigError> {
    OriginList::new(config).map(|_| ())
}

/// The layer for `list`; `None` when nothing is listed (same-origin only).
pub fn layer(list: OriginList) -> Option<CorsLayer> {
    if list.is_empty() {
        return None;
    }
    Some(
        CorsLayer::new()
            .allow_origin(AllowOrigin::predicate(move |origin: &HeaderValue, _| {
                origin.to_str().is_ok_and(|o| list.allows(o))
            }))
            .allow_methods([Method::GET, Method::POST, Method::DELETE, Method::OPTIONS])
            .allow_headers([
                header::AUTHORIZATION,
                header::CONTENT_TYPE,
                HeaderName::from_static("x-correlation-id"),
            ])
            .expose_headers([
                HeaderName::from_static("x-correlation-id"),
                header::RETRY_AFTER,
            ])
            .allow_credentials(true)
            .max_age(Duration::from_secs(600)),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn list(origins: &[&str], patterns: &[&str]) -> OriginList {
        let config = CorsConfig {
            origins: origins.iter().map(|s| s.to_string()).collect(),
            origin_patterns: patterns.iter().map(|s| s.to_string()).collect(),
        };
        match OriginList::new(&config) {
            Ok(list) => list,
            Err(e) => panic!("{e}"),
        }
    }

    #[test]
    fn exact_glob_and_regex_origins() {
        let l = list(
            &["http://localhost:3000", "https://your-frontend.vercel.app/"],
            &[
                "https://*.example.com",
                "http://127.0.0.1:*",
                r"^https?://([a-zA-Z0-9-]+\.)*codejoin\.com$",
            ],
        );
        assert!(l.allows("http://localhost:3000"));
        assert!(l.allows("https://your-frontend.vercel.app"));
        assert!(!l.allows("http://localhost:3001"));
        assert!(l.allows("https://app.example.com"));
        assert!(!l.allows("https://a.b.example.com"), "one label only");
        assert!(!l.allows("https://example.com"));
        assert!(!l.allows("https://evil.com/.example.com"));
        assert!(!l.allows("https://app.example.com.evil.net"));
        assert!(l.allows("http://127.0.0.1:5173"));
        assert!(l.allows("https://codejoin.com"));
        assert!(l.allows("http://staging.codejoin.com"));
        assert!(!l.allows("https://codejoin.com.attacker.io"));
    }

    #[test]
    fn a_port_star_matches_digits_only() {
        let l = list(&[], &["http://localhost:*"]);
        assert!(l.allows("http://localhost:3000"));
        assert!(l.allows("http://localhost:5173"));
        assert!(!l.allows("http://localhost:3000.evil.example"));
        assert!(!l.allows("http://localhost:evil"));
        assert!(!l.allows("http://localhost:"));
        assert!(!l.allows("http://localhost"));
        assert!(!l.allows("http://localhost:3000/"));
        assert!(!l.allows("http://localhost.evil.example:3000"));
        assert!(!l.allows("https://localhost:3000"), "the scheme is literal");
        assert!(!l.allows("xhttp://localhost:3000"), "anchored at the start");
        let l = list(&[], &["http://[::1]:*"]);
        assert!(l.allows("http://[::1]:8080"));
        assert!(!l.allows("http://[::1]:80.evil"));
    }

    #[test]
    fn a_host_star_matches_one_label() {
        let l = list(
            &[],
            &["https://*.example.com", "https://app-*.example.org:8443"],
        );
        assert!(l.allows("https://app.example.com"));
        assert!(l.allows("https://my-app2.example.com"));
        assert!(!l.allows("https://a.b.example.com"));
        assert!(!l.allows("https://.example.com"));
        assert!(!l.allows("https://example.com"));
        assert!(!l.allows("https://evil.example.com.attacker.io"));
        assert!(!l.allows("https://evil.com/.example.com"));
        assert!(!l.allows("https://evil:1.example.com"));
        assert!(!l.allows("https://app.example.com:443"));
        assert!(l.allows("https://app-blue.example.org:8443"));
        assert!(!l.allows("https://app-.example.org:8443"));
        assert!(!l.allows("https://app-x.y.example.org:8443"));
    }

    #[test]
    fn regular_expressions_are_anchored_at_both_ends() {
        let l = list(&[], &[r"^https://a\.example\.com|https://b\.example\.com"]);
        assert!(l.allows("https://a.example.com"));
        assert!(l.allows("https://b.example.com"));
        assert!(!l.allows("https://a.example.com.evil.net"));
        assert!(!l.allows("https://evil.net/https://b.example.com"));
    }

    #[test]
    fn malformed_patterns_are_config_errors() {
        for pattern in [
            "localhost:*",
            "http*://localhost:3000",
            "http://localhost:3*x",
            "http://*.example.com/path",
            "http://:*",
        ] {
            let config = CorsConfig {
                origins: vec![],
                origin_patterns: vec![pattern.into()],
            };
            assert!(validate_patterns(&config).is_err(), "{pattern}");
        }
    }

    #[test]
    fn bad_regex_is_a_config_error() {
        let config = CorsConfig {
            origins: vec![],
            origin_patterns: vec!["^(unclosed$".into()],
        };
        assert!(validate_patterns(&config).is_err());
    }
}
