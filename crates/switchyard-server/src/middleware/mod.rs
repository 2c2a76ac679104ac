//! The layers every request passes: correlation id and request metrics, the browser checks
//! (Host, Origin, JSON bodies), CORS, per-client rate limit, bearer-token auth, and the redaction
//! of every JSON answer. Body size is limited by axum's `DefaultBodyLimit`.

pub mod auth;
pub mod browser;
pub mod correlation;
pub mod cors;
pub mod rate_limit;
pub mod redact;

/// The request id of the call (`X-Correlation-ID`), in the request extensions.
#[derive(Debug, Clone)]
pub struct RequestId(pub String);
