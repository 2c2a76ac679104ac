//! Bearer tokens with scopes. GET needs `read`, other methods `write`, housekeeping `admin`.
//! Tokens are compared in constant time (SHA-256 digests, so not even the length shows); with
//! no tokens configured every call is allowed (the server then only listens on loopback unless
//! `--insecure`).

use axum::extract::{Request, State};
use axum::http::Method;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::config::{Scope, TokenConfig};
use crate::error::ApiError;
use crate::state::AppState;

/// Routes open to everyone: load-balancer health, the webhook (it has its own HMAC), and the
/// static pages that hold no fleet data (the dashboard's files and the OpenAPI document).
fn is_public(path: &str) -> bool {
    matches!(
        path,
        "/health" | "/api/webhooks/github" | "/" | "/api/openapi.json"
    ) || path.starts_with("/dashboard/")
}

fn required_scope(method: &Method, path: &str) -> Scope {
    if path == "/api/coordination/cleanup" || path == "/api/config-sync/force-delete" {
        Scope::Admin
    } else if path.starts_with("/socket.io/")
        || method == Method::GET
        || method == Method::HEAD
        || method == Method::OPTIONS
    {
        Scope::Read
    } else {
        Scope::Write
    }
}

/// The token of the request: `Authorization: Bearer …`, or `token=` / `access_token=` in the
/// query for WebSocket and Socket.IO clients that cannot set headers. Socket.IO only receives
/// events (its polling transport POSTs, but never changes anything), so it needs `read`.
fn presented(request: &Request) -> Option<String> {
    if let Some(header) = request.headers().get(axum::http::header::AUTHORIZATION) {
        let text = header.to_str().ok()?;
        let (scheme, token) = text.split_once(' ')?;
        return scheme
            .eq_ignore_ascii_case("bearer")
            .then(|| token.trim().to_string());
    }
    request.uri().query().and_then(|q| {
        q.split('&')
            .find_map(|pair| {
                pair.strip_prefix("access_token=")
                    .or_else(|| pair.strip_prefix("token="))
            })
            .and_then(|raw| crate::input::percent_decode(raw).ok())
    })
}

/// The scopes of `token`. Every configured token is compared, digest against digest (equal
/// lengths, constant time), so timing says neither which token matched nor how long it is.
pub fn scopes_of<'a>(tokens: &'a [TokenConfig], token: &str) -> Option<&'a [Scope]> {
    let presented = Sha256::digest(token.as_bytes());
    let mut found = None;
    for candidate in tokens {
        let expected = Sha256::digest(candidate.token.as_bytes());
        if bool::from(expected[..].ct_eq(&presented[..])) {
            found = Some(candidate.scopes.as_slice());
        }
    }
    found
}

pub async fn layer(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let tokens = &state.config.tokens;
    let path = request.uri().path();
    if tokens.is_empty() || is_public(path) || request.method() == Method::OPTIONS {
        return next.run(request).await;
    }
    let need = required_scope(request.method(), path);
    let Some(token) = presented(&request) else {
        return ApiError::unauthorized("missing bearer token (Authorization: Bearer <token>)")
            .into_response();
    };
    let Some(scopes) = scopes_of(tokens, &token) else {
        return ApiError::unauthorized("unknown token").into_response();
    };
    if !scopes.iter().any(|s| *s >= need) {
        return ApiError::forbidden(format!("this call needs the `{need:?}` scope").to_lowercase())
            .into_response();
    }
    next.run(request).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_by_method_and_path() {
        assert_eq!(
            required_scope(&Method::GET, "/api/coordination/resources"),
            Scope::Read
        );
        assert_eq!(
            required_scope(&Method::POST, "/api/coordination/resources/register"),
            Scope::Write
        );
        assert_eq!(
            required_scope(&Method::DELETE, "/api/coordination/resources/port:1"),
            Scope::Write
        );
        assert_eq!(
            required_scope(&Method::POST, "/api/coordination/cleanup"),
            Scope::Admin
        );
        assert_eq!(
            required_scope(&Method::POST, "/api/config-sync/force-delete"),
            Scope::Admin
        );
        assert_eq!(
            required_scope(&Method::POST, "/socket.io/?EIO=4&transport=polling"),
            Scope::Read
        );
        assert_eq!(
            required_scope(&Method::GET, "/api/coordination/events"),
            Scope::Read
        );
    }

    #[test]
    fn only_health_webhook_and_static_pages_are_public() {
        for path in [
            "/health",
            "/api/webhooks/github",
            "/",
            "/api/openapi.json",
            "/dashboard/app.js",
        ] {
            assert!(is_public(path), "{path}");
        }
        for path in [
            "/metrics",
            "/api/coordination/health",
            "/api/coordination/health/detailed",
            "/api/openapi.json/x",
            "/healthz",
            "/dashboardx",
        ] {
            assert!(!is_public(path), "{path}");
        }
    }

    #[test]
    fn the_token_comes_from_the_header_or_the_decoded_query() {
        let request = |uri: &str, header: Option<&str>| {
            let mut builder = Request::builder().uri(uri);
            if let Some(value) = header {
                builder = builder.header("authorization", value);
            }
            builder
                .body(axum::body::Body::empty())
                .unwrap_or_else(|e| panic!("{e}"))
        };
        let token = |uri, header| presented(&request(uri, header));
        assert_eq!(token("/x", Some("Bearer abc")), Some("abc".into()));
        assert_eq!(token("/x", Some("bearer  abc ")), Some("abc".into()));
        assert_eq!(token("/x", Some("Basic abc")), None);
        assert_eq!(
            token("/x?a=1&access_token=a%2Bb%3D", None),
            Some("a+b=".into())
        );
        assert_eq!(token("/x?access_token=%zz", None), None);
        assert_eq!(token("/x", None), None);
    }

    #[test]
    fn tokens_match_exactly() {
        let tokens = vec![TokenConfig {
            token: "0123456789abcdef".into(),
            scopes: vec![Scope::Read],
            name: None,
        }];
        assert_eq!(
            scopes_of(&tokens, "0123456789abcdef"),
            Some(&[Scope::Read][..])
        );
        assert_eq!(scopes_of(&tokens, "0123456789abcde"), None);
        assert_eq!(scopes_of(&tokens, "0123456789abcdef0"), None);
    }
}
