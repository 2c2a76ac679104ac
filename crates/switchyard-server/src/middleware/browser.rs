//! Defences against web pages in the user's own browser, which can reach a loopback server
//! without any token: a page may send "simple" cross-site requests without a preflight, and by
//! DNS rebinding (its own host name re-pointed at 127.0.0.1) read the answers. Three checks run
//! before any handler:
//!
//! - **Host**: must name the bound address (any IP literal when bound to `0.0.0.0`/`::`),
//!   `localhost`, or a host of `[server] allowed_hosts` (`"*"` allows any) → `421
//!   MISDIRECTED_REQUEST` otherwise. A rebinding page's requests carry its own host name.
//! - **Origin**: when present it must be the server's own origin (same scheme-less host as
//!   `Host`) or allowed by `[server.cors]` → `403 FORBIDDEN` otherwise.
//! - **Content type**: a POST/PUT/PATCH/DELETE with a body must be `application/json` (or
//!   `application/*+json`) → `415 UNSUPPORTED_MEDIA_TYPE` otherwise; a page can only send JSON
//!   cross-site after a preflight. The signed GitHub webhook and the Socket.IO transport (whose
//!   polling POSTs are `text/plain` and change nothing) are exempt.

use std::net::IpAddr;
use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::cors::OriginList;
use crate::error::ApiError;

/// What the checks need, built once with the router.
#[derive(Debug, Clone)]
pub struct BrowserGuard {
    bind: IpAddr,
    /// Lower-case host names without port; `*` allows every host.
    allowed_hosts: Arc<Vec<String>>,
    origins: OriginList,
}

impl BrowserGuard {
    pub fn new(bind: IpAddr, allowed_hosts: &[String], origins: OriginList) -> Self {
        BrowserGuard {
            bind,
            allowed_hosts: Arc::new(
                allowed_hosts
                    .iter()
                    .map(|h| normalize_host(h).to_string())
                    .collect(),
            ),
            origins,
        }
    }

    /// Whether a `Host` header value names this server.
    pub fn host_allowed(&self, host: &str) -> bool {
        let name = host_name(host);
        if name.is_empty() {
            return false;
        }
        if name == "localhost" || self.allowed_hosts.iter().any(|h| h == "*" || *h == name) {
            return true;
        }
        let literal = name.trim_start_matches('[').trim_end_matches(']');
        match literal.parse::<IpAddr>() {
            // A rebinding page always uses a DNS name; an IP literal is the address itself.
            Ok(ip) => {
                ip == self.bind
                    || self.bind.is_unspecified()
                    || (self.bind.is_loopback() && ip.is_loopback())
            }
            Err(_) => false,
        }
    }

    /// Whether a request with this `Origin` (and `Host`) may be served.
    pub fn origin_allowed(&self, origin: &str, host: Option<&str>) -> bool {
        if self.origins.allows(origin) {
            return true;
        }
        // Same origin: the page was served by this server under the (checked) Host.
        host.is_some_and(|host| {
            ["http://", "https://"].iter().any(|scheme| {
                origin
                    .strip_prefix(scheme)
                    .is_some_and(|rest| rest.eq_ignore_ascii_case(host))
            })
        })
    }
}

/// `Host` without its port, lower case, without a trailing dot; IPv6 literals keep brackets.
fn host_name(host: &str) -> String {
    let host = host.trim();
    let name = if host.starts_with('[') {
        match host.find(']') {
            Some(end) => &host[..=end],
            None => host,
        }
    } else {
        match host.rsplit_once(':') {
            Some((name, port)) if port.bytes().all(|b| b.is_ascii_digit()) => name,
            _ => host,
        }
    };
    normalize_host(name)
}

fn normalize_host(name: &str) -> String {
    name.trim().trim_end_matches('.').to_ascii_lowercase()
}

/// Requests that must carry JSON: a state-changing method with a body.
fn needs_json(method: &Method, headers: &HeaderMap, path: &str) -> bool {
    let changes = matches!(
        *method,
        Method::POST | Method::PUT | Method::PATCH | Method::DELETE
    );
    let has_body = headers.contains_key(header::TRANSFER_ENCODING)
        || headers
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.trim() != "0");
    let exempt = path == "/api/webhooks/github" || path.starts_with("/socket.io/");
    changes && has_body && !exempt
}

fn is_json(headers: &HeaderMap) -> bool {
    let Some(value) = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
    else {
        return false;
    };
    let essence = value
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    essence == "application/json"
        || essence
            .strip_prefix("application/")
            .is_some_and(|subtype| subtype.ends_with("+json"))
}

pub async fn layer(State(guard): State<BrowserGuard>, request: Request, next: Next) -> Response {
    let headers = request.headers();
    let host = headers
        .get(header::HOST)
        .map(|v| v.to_str().unwrap_or(""))
        .or_else(|| request.uri().authority().map(|a| a.as_str()));
    if let Some(host) = host
        && !guard.host_allowed(host)
    {
        let shown: String = host.chars().take(200).collect();
        return ApiError::new(
            StatusCode::MISDIRECTED_REQUEST,
            "MISDIRECTED_REQUEST",
            format!(
                "Host `{shown}` does not name this server; add it to [server] allowed_hosts \
                 if it is a name of this server"
            ),
        )
        .with_details(json!({ "host": shown }))
        .into_response();
    }
    if let Some(origin) = headers.get(header::ORIGIN) {
        let origin = origin.to_str().unwrap_or("");
        if !guard.origin_allowed(origin, host) {
            let shown: String = origin.chars().take(200).collect();
            return ApiError::forbidden(format!(
                "cross-origin request from `{shown}` refused; allow the origin in [server.cors]"
            ))
            .with_details(json!({ "origin": shown }))
            .into_response();
        }
    }
    if needs_json(request.method(), headers, request.uri().path()) && !is_json(headers) {
        let given = headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(|v| v.chars().take(200).collect::<String>());
        return ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "UNSUPPORTED_MEDIA_TYPE",
            "request bodies must be JSON (Content-Type: application/json)",
        )
        .with_details(json!({ "contentType": given }))
        .into_response();
    }
    next.run(request).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::CorsConfig;

    fn guard(bind: &str, hosts: &[&str], origins: &[&str]) -> BrowserGuard {
        let cors = CorsConfig {
            origins: origins.iter().map(|s| s.to_string()).collect(),
            origin_patterns: vec![],
        };
        let list = match OriginList::new(&cors) {
            Ok(list) => list,
            Err(e) => panic!("{e}"),
        };
        let hosts: Vec<String> = hosts.iter().map(|s| s.to_string()).collect();
        match bind.parse() {
            Ok(ip) => BrowserGuard::new(ip, &hosts, list),
            Err(e) => panic!("{e}"),
        }
    }

    #[test]
    fn hosts_naming_the_server() {
        let g = guard("127.0.0.1", &["Switchyard.Internal"], &[]);
        for host in [
            "127.0.0.1:7700",
            "127.0.0.1",
            "localhost:7700",
            "LOCALHOST",
            "localhost.:7700",
            "switchyard.internal:7700",
            "[::1]:7700",
        ] {
            assert!(g.host_allowed(host), "{host}");
        }
        for host in [
            "evil.example",
            "evil.example:7700",
            "localhost.evil.example",
            "127.0.0.1.nip.io:7700",
            "10.0.0.1:7700",
            "",
            ":7700",
        ] {
            assert!(!g.host_allowed(host), "{host}");
        }
        let any_address = guard("0.0.0.0", &[], &[]);
        assert!(any_address.host_allowed("192.168.1.20:7700"));
        assert!(!any_address.host_allowed("rebind.evil.example:7700"));
        assert!(guard("127.0.0.1", &["*"], &[]).host_allowed("anything.example"));
    }

    #[test]
    fn origins_same_or_listed() {
        let g = guard("127.0.0.1", &[], &["https://app.example.com"]);
        assert!(g.origin_allowed("http://127.0.0.1:7700", Some("127.0.0.1:7700")));
        assert!(g.origin_allowed("http://localhost:7700", Some("localhost:7700")));
        assert!(g.origin_allowed("https://app.example.com", Some("127.0.0.1:7700")));
        assert!(!g.origin_allowed("https://evil.example", Some("127.0.0.1:7700")));
        assert!(!g.origin_allowed("http://127.0.0.1:7701", Some("127.0.0.1:7700")));
        assert!(!g.origin_allowed("null", Some("127.0.0.1:7700")));
        assert!(!g.origin_allowed("http://127.0.0.1:7700", None));
    }

    #[test]
    fn json_content_types() {
        let mut headers = HeaderMap::new();
        assert!(!is_json(&headers));
        for (value, ok) in [
            ("application/json", true),
            ("Application/JSON; charset=utf-8", true),
            ("application/merge-patch+json", true),
            ("text/plain", false),
            ("text/plain; application/json", false),
            ("application/x-www-form-urlencoded", false),
            ("multipart/form-data; boundary=x", false),
        ] {
            headers.insert(header::CONTENT_TYPE, value.parse().expect("header value"));
            assert_eq!(is_json(&headers), ok, "{value}");
        }
    }
}
