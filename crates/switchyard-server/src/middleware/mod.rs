//! The layers every request passes: correlation id and request metrics, bearer-token auth,
//! per-client rate limit, CORS. Body size is limited by axum's `DefaultBodyLimit`.

pub mod auth;
pub mod correlation;
pub mod cors;
pub mod rate_limit;

/// The request id of the call (`X-Correlation-ID`), in the request extensions.
#[derive(Debug, Clone)]
pub struct RequestId(pub String);
