//! The layers every request passes: correlation id and request metrics, the browser checks
//! (Host, Origin, JSON bodies), CORS, per-client rate limit, bearer-token auth. Body size is
//! limited by axum's `DefaultBodyLimit`.

pub mod auth;
pub mod browser;
pub mod correlation;
pub mod cors;
pub mod rate_limit;

/// The request id of the call (`X-Correlation-ID`), in the request extensions.
#[derive(Debug, Clone)]
pub struct RequestId(pub String);
