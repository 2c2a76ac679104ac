//! The CORS allow-list: exact origins, `*` patterns (`https://*.example.com`,
//! `http://localhost:*`) and `^…$` regular expressions as in seed 000. Credentials are
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

/// `^…` is a regular expression; otherwise `*` stands for one or more of `[A-Za-z0-9.-]`
/// (labels of a host name, or a port) and everything else is literal.
fn compile(pattern: &str) -> Result<Regex, ConfigError> {
    let source = if pattern.starts_with('^') {
        pattern.to_string()
    } else {
        let parts: Vec<String> = pattern.split('*').map(regex::escape).collect();
        format!("^{}$", parts.join("[A-Za-z0-9.-]+"))
    };
    Regex::new(&source).map_err(|e| {
        ConfigError::Invalid(format!("cors origin pattern `{pattern}` is invalid: {e}"))
    })
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
        assert!(l.allows("https://a.b.example.com"));
        assert!(!l.allows("https://example.com"));
        assert!(!l.allows("https://evil.com/.example.com"));
        assert!(!l.allows("https://app.example.com.evil.net"));
        assert!(l.allows("http://127.0.0.1:5173"));
        assert!(l.allows("https://codejoin.com"));
        assert!(l.allows("http://staging.codejoin.com"));
        assert!(!l.allows("https://codejoin.com.attacker.io"));
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
