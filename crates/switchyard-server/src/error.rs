//! The API error model: `{ success:false, error:CODE, message, details, requestId, timestamp }`
//! with the HTTP status API.md gives for each code. Bad input is always a 4xx, never a 500.

use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use switchyard_store::{StoreError, Timestamp};

/// An error answer. `request_id` is filled by the correlation middleware when the handler does
/// not know it.
#[derive(Debug, Clone)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    pub details: Value,
    /// Seconds for `Retry-After` (429 only).
    pub retry_after: Option<u64>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            code,
            message: message.into(),
            details: json!({}),
            retry_after: None,
        }
    }

    pub fn with_details(mut self, details: Value) -> Self {
        self.details = details;
        self
    }

    pub fn validation(message: impl Into<String>) -> Self {
        ApiError::new(StatusCode::BAD_REQUEST, "VALIDATION_ERROR", message)
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        ApiError::new(StatusCode::NOT_FOUND, "NOT_FOUND", message)
    }

    pub fn unknown_repositories(names: &[String]) -> Self {
        ApiError::not_found(format!("unknown repositories: {}", names.join(", ")))
            .with_details(json!({ "unknownRepositories": names }))
    }

    pub fn internal(message: impl Into<String>) -> Self {
        ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "INTERNAL", message)
    }

    pub fn unauthorized(message: impl Into<String>) -> Self {
        ApiError::new(StatusCode::UNAUTHORIZED, "UNAUTHORIZED", message)
    }

    pub fn forbidden(message: impl Into<String>) -> Self {
        ApiError::new(StatusCode::FORBIDDEN, "FORBIDDEN", message)
    }

    /// The limit itself is in the server's configuration (`[server] body_limit_bytes`).
    pub fn payload_too_large() -> Self {
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "PAYLOAD_TOO_LARGE",
            "request body is larger than the server accepts",
        )
    }

    pub fn rate_limited(retry_after: u64) -> Self {
        let mut error = ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "RATE_LIMITED",
            format!("too many requests; retry in {retry_after} s"),
        )
        .with_details(json!({ "retryAfterSeconds": retry_after }));
        error.retry_after = Some(retry_after);
        error
    }

    /// The JSON body, with the request id of the call, timestamped by the system clock.
    pub fn body(&self, request_id: &str) -> Value {
        self.body_at(request_id, Timestamp::now_utc())
    }

    /// The JSON body timestamped `at` (the server's clock, which tests replace).
    pub fn body_at(&self, request_id: &str, at: Timestamp) -> Value {
        json!({
            "success": false,
            "error": self.code,
            "message": self.message,
            "details": self.details,
            "requestId": request_id,
            "timestamp": at.to_rfc3339(),
        })
    }
}

/// Carried in the response extensions so the correlation middleware can rewrite the body with
/// the request id.
#[derive(Debug, Clone)]
pub struct ErrorMarker(pub ApiError);

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut response = (self.status, axum::Json(self.body(""))).into_response();
        if let Some(seconds) = self.retry_after
            && let Ok(value) = HeaderValue::from_str(&seconds.to_string())
        {
            response.headers_mut().insert("retry-after", value);
        }
        response.extensions_mut().insert(ErrorMarker(self));
        response
    }
}

impl From<StoreError> for ApiError {
    fn from(error: StoreError) -> Self {
        let status =
            StatusCode::from_u16(error.http_status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        ApiError {
            status,
            code: error.code(),
            message: error.to_string(),
            details: error.details(),
            retry_after: None,
        }
    }
}

pub type ApiResult<T> = Result<T, ApiError>;
