//! `X-Correlation-ID`: echoed when the client sent a sane one, generated otherwise; put into
//! every error body as `requestId`; and each request counted in the HTTP metrics. Errors that
//! axum or a layer answered in plain text (405, a bad path segment, ...) are rewritten into the
//! API's JSON error model, so every 4xx/5xx body is JSON.

use std::time::Instant;

use axum::body::Body;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::RequestId;
use crate::error::{ApiError, ErrorMarker};
use crate::state::AppState;

pub const HEADER: &str = "x-correlation-id";

/// Visible ASCII without spaces, at most 128 bytes: anything else is replaced, so a header
/// can't smuggle text into logs.
fn acceptable(id: &str) -> bool {
    !id.is_empty() && id.len() <= 128 && id.bytes().all(|b| b.is_ascii_graphic())
}

pub async fn layer(State(state): State<AppState>, mut request: Request, next: Next) -> Response {
    let started = Instant::now();
    let id = request
        .headers()
        .get(HEADER)
        .and_then(|v| v.to_str().ok())
        .filter(|v| acceptable(v))
        .map(str::to_string)
        .unwrap_or_else(|| {
            format!(
                "req_{}",
                ulid::Ulid::from_datetime(state.now().to_system_time())
            )
        });
    let method = request.method().as_str().to_string();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_string());
    request.extensions_mut().insert(RequestId(id.clone()));
    let mut response = next.run(request).await;
    let marker = response.extensions_mut().remove::<ErrorMarker>();
    let error = match marker {
        Some(ErrorMarker(error)) => Some(error),
        None if needs_json(&response) => Some(plain_error(&mut response).await),
        None => None,
    };
    if let Some(error) = error {
        let headers = response.headers().clone();
        let status = response.status();
        response = (status, axum::Json(error.body_at(&id, state.now()))).into_response();
        for (name, value) in headers.iter() {
            if name != header::CONTENT_LENGTH && name != header::CONTENT_TYPE {
                response.headers_mut().insert(name.clone(), value.clone());
            }
        }
    }
    super::cors::strip_stray_credentials(response.headers_mut());
    if let Ok(value) = HeaderValue::from_str(&id) {
        response.headers_mut().insert(HEADER, value);
    }
    let route = route.unwrap_or_else(|| "unmatched".to_string());
    state.monitor.record_http(
        &method,
        &route,
        response.status().as_u16(),
        started.elapsed().as_secs_f64(),
    );
    response
}

/// An error status whose body is not JSON (axum's own answers and rejections).
fn needs_json(response: &Response) -> bool {
    let status = response.status();
    let is_json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    (status.is_client_error() || status.is_server_error()) && !is_json
}

/// The API error for a plain-text error answer: the code from the status, the text (if any) as
/// the message. The body is taken out of `response`.
async fn plain_error(response: &mut Response) -> ApiError {
    let status = response.status();
    let body = std::mem::take(response.body_mut());
    let text = axum::body::to_bytes(body, 16 * 1024)
        .await
        .map(|bytes| String::from_utf8_lossy(&bytes).trim().to_string())
        .unwrap_or_default();
    let message = if text.is_empty() {
        status.canonical_reason().unwrap_or("error").to_lowercase()
    } else {
        text.chars().take(500).collect()
    };
    ApiError::new(status, code_for(status), message)
}

fn code_for(status: StatusCode) -> &'static str {
    match status.as_u16() {
        400 | 422 => "VALIDATION_ERROR",
        401 => "UNAUTHORIZED",
        403 => "FORBIDDEN",
        404 => "NOT_FOUND",
        405 => "METHOD_NOT_ALLOWED",
        408 => "REQUEST_TIMEOUT",
        413 => "PAYLOAD_TOO_LARGE",
        414 => "URI_TOO_LONG",
        415 => "UNSUPPORTED_MEDIA_TYPE",
        421 => "MISDIRECTED_REQUEST",
        431 => "HEADERS_TOO_LARGE",
        429 => "RATE_LIMITED",
        500..=599 => "INTERNAL",
        _ => "BAD_REQUEST",
    }
}

/// Unmatched routes: a JSON 404 like every other error.
pub async fn not_found(request: Request<Body>) -> Response {
    crate::error::ApiError::not_found(format!("no route for {}", request.uri().path()))
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::acceptable;

    #[test]
    fn correlation_ids_are_checked() {
        assert!(acceptable("abc-123_x"));
        assert!(!acceptable(""));
        assert!(!acceptable("has space"));
        assert!(!acceptable("line\nbreak"));
        assert!(!acceptable(&"x".repeat(129)));
    }
}
